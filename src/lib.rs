//! Recommender-system building blocks on libtorch (tch) and polars, one room per concept.
//!
//! The five notebook ports (`notebooks-ported/`) and the `recsys` command line
//! (`src/bin/recsys/`) sit above this library; it depends on neither.
//!
//! - [`data`]: ratings tables (shipped copies, downloads, user files), checksums, fingerprints.
//! - [`prep`]: binarization, id maps, row filters, train/test splits, sequences.
//! - [`models`]: the networks, one file each.
//! - [`classic`]: baselines and classic models (popularity, kNN, EASE, ALS, BPR, biases, SVD).
//! - [`recommender`]: one interface for every model, its registry, settings and checkpoints.
//! - [`train`]: learning-rate schedules and what a training loop shares.
//! - [`optim`]: the optimizers.
//! - [`eval`]: every metric and evaluation protocol.
//! - [`rng`]: the Mersenne Twister of libtorch and CPython, and fast dropout masks.
//! - [`report`]: a port's numbers beside the notebook's, and plots.
//! - [`runtime`]: what every command shares: device, seed, output, progress.

pub mod classic;
pub mod data;
pub mod eval;
pub mod models;
pub mod optim;
pub mod prep;
pub mod recommender;
pub mod report;
pub mod rng;
pub mod runtime;
pub mod train;

pub use runtime::context::Context;
