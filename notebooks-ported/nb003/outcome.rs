//! What notebook 003's port produces, typed: the preprocessing's sizes, each mode's losses and
//! metrics, the popularity baseline; `compare` reads them for the twin.

use std::collections::BTreeMap;

use serde::Serialize;

use super::cells::ScoreSummary;
use super::study::Sizes;
use super::NegativesOver;

/// NDCG@k, HitRate@k and Coverage@k.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub ndcg: f64,
    pub hit_rate: f64,
    pub coverage: f64,
}

/// One mode's training and evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct ModeRun {
    pub train_loss: Vec<f64>,
    pub test_loss: Vec<f64>,
    /// The last epoch's train and test loss (the curves' ends, as scalars for `scripts/seeds.py`).
    pub final_train_loss: f64,
    pub final_test_loss: f64,
    pub metrics: Metrics,
    /// The training loader's negatives lie in `0..negative_range`.
    pub negative_range: i64,
    /// The score matrix beside the notebook's printed one.
    pub scores: ScoreSummary,
    pub wall_s: f64,
    pub steps_per_s: f64,
}

/// The settings a run used.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub batch_size: usize,
    pub lr: f64,
    pub epochs: usize,
    pub negatives: i64,
    pub negatives_over: NegativesOver,
    pub emb_dim: i64,
    pub k: usize,
    pub seed: u64,
}

/// The port's typed outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Details {
    pub sizes: Sizes,
    pub settings: Settings,
    /// By mode: `faithful`, `corrected`.
    pub modes: BTreeMap<String, ModeRun>,
    pub popularity: Metrics,
    /// Every line the run printed, in order (for the tests; not in the JSON report).
    #[serde(skip)]
    pub transcript: Vec<String>,
}
