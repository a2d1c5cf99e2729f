//! What every command shares: where tensors live, the seed, where output goes, and progress.

/// Device, seed, output directory, JSON mode, and atomic writes.
pub mod context;
/// `--device auto|cpu|cuda[:N]`, and what libtorch reports about itself.
pub mod device;
/// indicatif progress bars on stderr.
pub mod progress;
