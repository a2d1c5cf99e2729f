//! What notebook 004's port produces, typed: part 1's dense-MF losses, part 2's
//! RecommenderNet runs per mode; `compare` reads them for the twin.

use std::path::PathBuf;

use recsys::models::recommender_net::Evaluation;
use serde::Serialize;

/// Part 1, dense-matrix MF: the losses per epoch, the notebook's and with `zero_grad`.
#[derive(Debug, Clone, Serialize)]
pub struct Part1 {
    pub faithful_losses: Vec<f64>,
    pub corrected_losses: Vec<f64>,
    pub wall_s: f64,
    pub answer_ratings_csv: PathBuf,
    pub plot: PathBuf,
}

/// One RecommenderNet training run.
#[derive(Debug, Clone, Serialize)]
pub struct Training {
    pub last_batch_losses: Vec<f64>,
    pub mean_losses: Vec<f64>,
    pub lrs: Vec<f64>,
    pub wall_s: f64,
    pub steps_per_s: f64,
}

/// The notebook's model, evaluated on its training batches.
#[derive(Debug, Clone, Serialize)]
pub struct Faithful {
    pub training: Training,
    pub train_eval: Evaluation,
}

/// The corrected model, evaluated on its training batches and on the held-out ratings.
#[derive(Debug, Clone, Serialize)]
pub struct Corrected {
    pub training: Training,
    pub train_eval: Evaluation,
    pub holdout_eval: Option<Evaluation>,
}

/// Part 2: the modes that ran.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Part2 {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faithful: Option<Faithful>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected: Option<Corrected>,
}

/// The port's typed outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Details {
    pub device: String,
    pub seed: u64,
    pub threads: i32,
    pub part1: Part1,
    pub part2: Part2,
    /// Every line the run printed, in order (for the tests; not in the JSON report).
    #[serde(skip)]
    pub transcript: Vec<String>,
}
