//! Training: what the models' minibatch loops share.

/// Learning-rate schedules that PyTorch has and tch does not.
pub mod schedule;
