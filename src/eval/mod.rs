//! Evaluation: every metric and protocol in one place.

/// Accuracy and ranking metrics on plain slices.
pub mod metrics;
/// Next-item metrics of sequence models (MRR, label ranking average precision).
pub mod next_item;
/// Principal component analysis of learned embeddings.
pub mod pca;
/// Scoring recommendation lists made elsewhere (`recsys evaluate --recs`).
pub mod recs;
/// Sampled-candidate evaluation of implicit models, and negative sampling.
pub mod sampled;
