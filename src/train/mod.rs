//! Training: the one minibatch loop, the batch orders the notebooks draw, negative sampling,
//! and schedules.

/// The minibatch loop and the batch orders.
pub mod minibatch;
/// Uniform training negatives.
pub mod negatives;
/// Learning-rate schedules that PyTorch has and tch does not.
pub mod schedule;

pub use minibatch::{epoch, ranges, shuffled_on, shuffled_on_cpu, EpochLosses};
