//! Evaluation: every metric and protocol in one place.
//!
//! The metrics, top-k and the averages over users live in [`metrics`] (notebook 002's
//! next-item ranks in [`next_item`]); the protocols that produce what they score in
//! [`protocol`] and [`sampled`].

/// Every metric on plain slices, top-k, and averages over users.
pub mod metrics;
/// Next-item metrics of sequence models (MRR, label ranking average precision).
pub mod next_item;
/// Principal component analysis of learned embeddings.
pub mod pca;
/// The protocols of `recsys evaluate --model`: full ranking, sampled, rating prediction.
pub mod protocol;
/// Reading recommendation lists made elsewhere (`recsys evaluate --recs`).
pub mod recs;
/// Sampled-candidate evaluation of implicit models, and negative sampling.
pub mod sampled;
