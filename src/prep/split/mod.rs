//! Train/test splits of ratings tables, and validation parts carved from train.

/// K-fold cross-validation: a seeded permutation cut into k folds.
pub mod kfold;
/// Random splits: by interaction, and by user (Spotlight's user-based split).
pub mod random;
/// Cornac's `RatioSplit`: numpy's seeded permutation, the last ceil(fraction · n) as test.
pub mod ratio;
/// The per-user stratified ratio split (Microsoft Recommenders' `python_stratified_split`).
pub mod stratified;
/// Time-based splits: a global threshold, a fraction of the timeline, per-user last-n.
pub mod time;
/// A validation part carved from train by the same kind of split as the test.
pub mod validation;
