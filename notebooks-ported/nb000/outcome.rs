//! What notebook 000's port produces, typed: the data's fingerprint, each training run's
//! losses and each model's evaluations, per mode; `compare` reads them for the twin.

use recsys::eval::sampled::SampledMetrics;
use serde::Serialize;
use tch::Tensor;

use super::Mode;

/// The settings a run used, as `--json` reports them.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub epochs: usize,
    pub sampled_epochs: usize,
    pub batch_size: i64,
    pub lr: f64,
    pub factors: i64,
    pub utc_offset: String,
    pub split_date: String,
    pub neumf_layers: usize,
    pub threads: i32,
    pub device: String,
}

/// The port's typed outcome: its settings, one [`Outcome`] per mode run, and its wall time.
#[derive(Debug, Clone, Serialize)]
pub struct Details {
    pub settings: Settings,
    pub modes: Vec<Outcome>,
    pub wall_s: f64,
}

/// The deterministic numbers the notebook prints about its data.
#[derive(Debug, Clone, Serialize)]
pub struct DataFingerprint {
    pub ratings_shape: (usize, usize),
    pub interactions_shape: (usize, usize),
    pub interaction_users: usize,
    pub interaction_items: usize,
    pub days: usize,
    pub split_at: String,
    pub train_rows: usize,
    pub test_rows: usize,
    pub train_max_datetime: String,
    pub test_min_datetime: String,
    pub n_users: i64,
    pub n_items: i64,
    pub test_rows_kept: usize,
    pub test_users: usize,
    pub batches_unsampled: i64,
    pub batches_sampled: i64,
}

/// One training run: the losses it printed, and its speed.
#[derive(Debug, Clone, Serialize)]
pub struct TrainLog {
    /// What the notebook prints after each epoch: the running mean over all steps so far
    /// (faithful) or the mean of the epoch (corrected).
    pub printed: Vec<f64>,
    /// Mean loss of each epoch.
    pub epoch_means: Vec<f64>,
    /// Running mean over all steps so far, after each epoch.
    pub running_means: Vec<f64>,
    pub steps: usize,
    pub wall_s: f64,
    pub steps_per_s: f64,
}

/// A model's three evaluations, as in the notebook.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRuns {
    pub untrained: SampledMetrics,
    pub unsampled_training: TrainLog,
    pub trained_unsampled: SampledMetrics,
    pub sampled_training: TrainLog,
    pub trained_sampled: SampledMetrics,
}

/// Everything one mode produced.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub mode: Mode,
    pub seed: u64,
    pub data: DataFingerprint,
    pub mf: ModelRuns,
    pub neumf: Option<ModelRuns>,
    pub plots: Vec<String>,
    /// Every line the mode printed, in order (for the tests; not in the JSON report).
    #[serde(skip)]
    pub transcript: Vec<String>,
}

/// Training pairs with 0/1 targets, kept on the device for the whole run.
pub struct TrainingData {
    pub users: Tensor,
    pub items: Tensor,
    pub targets: Tensor,
}

impl TrainingData {
    pub fn len(&self) -> i64 {
        self.users.size()[0]
    }

    /// Batches per epoch (the last one may be short, like DataLoader's).
    pub fn batches(&self, batch_size: i64) -> i64 {
        (self.len() + batch_size - 1) / batch_size
    }
}
