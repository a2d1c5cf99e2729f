//! What notebook 002's port produces, typed, per seed: part 1's explicit-feedback losses and
//! RMSEs, part 2's sequence models; `compare` reads them for the twin.

use serde::Serialize;

/// What one seed's run measured.
#[derive(Debug, Default, Clone, Serialize)]
pub struct SeedRun {
    pub seed: u64,
    pub part1: Option<Part1>,
    pub part2: Option<Part2>,
}

/// Part 1, explicit feedback.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Part1 {
    pub n_train: usize,
    pub n_test: usize,
    pub spotlight_losses: Vec<f64>,
    pub rmse: f64,
    pub rmse_tensor: f64,
    pub baseline_rmse: f64,
    pub fit_s: f64,
    pub cf_train_rmse: Vec<f64>,
    pub cf_test_rmse: Vec<f64>,
    pub cf_no_wd_train_rmse: Vec<f64>,
    pub cf_no_wd_test_rmse: Vec<f64>,
}

/// Part 2, implicit feedback: sequences.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Part2 {
    pub hash_seed: u32,
    pub train_users: usize,
    pub test_users: usize,
    pub train_sequences: usize,
    pub test_sequences: usize,
    pub lrap_pooling: f64,
    pub most_popular_item: i64,
    pub most_popular: f64,
    pub softmax_popularity: f64,
    pub models: Vec<ModelRun>,
}

/// One sequence model's training and MRR.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRun {
    pub model: String,
    pub mrr: f64,
    pub train_s: f64,
    pub losses: Vec<f64>,
}

/// The port's typed outcome: one run per seed.
#[derive(Debug, Clone, Serialize)]
pub struct Details {
    pub runs: Vec<SeedRun>,
    /// Every line the run printed, in order (for the tests; not in the JSON report).
    #[serde(skip)]
    pub transcript: Vec<String>,
}
