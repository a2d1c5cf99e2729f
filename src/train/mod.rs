//! Training: the one minibatch loop, the batch orders the notebooks draw, negative sampling,
//! and schedules.

/// The minibatch loop and the batch orders.
pub mod minibatch;
/// Uniform training negatives.
pub mod negatives;
/// Learning-rate schedules that PyTorch has and tch does not.
pub mod schedule;

/// mf's epoch through the fused step of feature `fast`.
#[cfg(feature = "fast")]
pub mod fused;
/// The estimator of the networks: builds and trains a network from its configuration.
pub mod pairs;

pub use minibatch::{epoch, ranges, shuffled_on, shuffled_on_cpu, EpochLosses};
