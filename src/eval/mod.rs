//! Evaluation: every metric and protocol in one place.
//!
//! The metrics, top-k and the averages over users live in [`metrics`] (notebook 002's
//! next-item ranks in [`next_item`]); the protocols that produce what they score in
//! [`protocol`] and [`sampled`], and [`ranking`] runs both in bounded memory for any scorer;
//! [`recs`] reads lists made elsewhere; [`pca`] is the principal components of learned
//! embeddings; [`stats`] compares models, and [`comparison`] makes those comparisons sound
//! (the test's unit, Holm's correction, Kendall's p-value, Friedman over datasets). [`auc`]
//! and [`user_errors`] are the metrics Cornac reports beside ours: AUC and MAP over the whole
//! list, RMSE and MAE averaged per user. Each file's own docs name its one job.

pub mod auc;
pub mod comparison;
pub mod metrics;
pub mod next_item;
pub mod pca;
pub mod protocol;
pub mod ranking;
pub mod recs;
pub mod sampled;
/// Mean, sd, confidence intervals, paired t and Wilcoxon tests, Kendall's tau-b.
pub mod stats;
pub mod user_errors;
pub mod whole_list;
