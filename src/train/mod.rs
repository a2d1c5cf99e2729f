//! Training: the one minibatch loop, the batch orders the notebooks draw, and schedules.

/// The minibatch loop and the batch orders.
pub mod minibatch;
/// Learning-rate schedules that PyTorch has and tch does not.
pub mod schedule;

pub use minibatch::{epoch, ranges, shuffled_on, shuffled_on_cpu, EpochLosses};
