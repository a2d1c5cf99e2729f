//! What every command shares: where tensors live, the seed, where output goes, and progress.

/// Temporaries in flight, removed on SIGINT and SIGTERM.
pub mod cleanup;
/// Device, seed, output directory, JSON mode, and atomic writes.
pub mod context;
/// `--device auto|cpu|cuda[:N]`, and what libtorch reports about itself.
pub mod device;
/// What `--force` may replace, no-clobber publishing, fresh output directories.
pub mod files;
/// The bounds of every count flag, checked as it is read.
pub mod limits;
/// Sizes before allocations: memory and disk space.
pub mod memory;
/// indicatif progress bars on stderr.
pub mod progress;
