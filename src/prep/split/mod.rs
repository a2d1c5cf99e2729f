//! Train/test splits of ratings tables.

/// Random splits: by interaction, and by user (Spotlight's user-based split).
pub mod random;
/// Time-based splits: a global threshold, a fraction of the timeline, per-user last-n.
pub mod time;
