//! What notebook 001's port produces, typed: the SGD losses per epoch, the test loss, the
//! baseline, the PCA ends; `compare` reads them for the twin.

use serde::Serialize;

/// One epoch of SGD: the losses the bar shows and the passes' means.
#[derive(Debug, Clone, Serialize)]
pub struct EpochLoss {
    pub epoch: usize,
    pub learning_rate: f64,
    pub train_shown: f64,
    pub train_mean: f64,
    pub validation_shown: f64,
    pub validation_mean: f64,
}

/// The test pass: the bar's loss and the mean over all test ratings.
#[derive(Debug, Clone, Serialize)]
pub struct TestLoss {
    pub shown: f64,
    pub mean: f64,
}

/// The first two principal components of the movie vectors and the movies at both ends.
#[derive(Debug, Clone, Serialize)]
pub struct PcaEnds {
    pub components: Vec<Vec<f64>>,
    pub explained_variance_ratio: Vec<f64>,
    pub lowest: Vec<String>,
    pub highest: Vec<String>,
}

/// Wall times.
#[derive(Debug, Clone, Serialize)]
pub struct Timings {
    pub sgd_wall_s: f64,
    pub sgd_steps_per_s: f64,
    pub wall_s: f64,
}

/// What part 2 produced.
#[derive(Debug, Clone)]
pub struct Part2 {
    pub epochs: Vec<EpochLoss>,
    pub test: TestLoss,
    pub baseline_mse: f64,
    pub pca: PcaEnds,
    pub sgd_wall_s: f64,
    pub sgd_steps_per_s: f64,
}

/// The port's typed outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Details {
    pub epochs: Vec<EpochLoss>,
    pub test: TestLoss,
    pub baseline_mse: f64,
    pub prior_runs: usize,
    pub pca: PcaEnds,
    pub timings: Timings,
    pub id_order: String,
    /// Every line the run printed, in order (for the tests; not in the JSON report).
    #[serde(skip)]
    pub transcript: Vec<String>,
}
