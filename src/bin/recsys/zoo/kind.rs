//! What a model of the zoo is: its kind (the command-line name, default feedback and rate),
//! the feedback it learns from, how its negatives are drawn, and its sizes.

use anyhow::{anyhow, bail, Result};
use serde::{Deserialize, Serialize};

use recsys::models::sequence::Representation;

/// Which model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    Mf,
    Neumf,
    Bilinear,
    TwoTower,
    Mlp,
    Pooling,
    Cbow,
    Gru,
    Lstm,
}

impl ModelKind {
    /// Every model, in the order of the help text.
    pub const ALL: [ModelKind; 9] = [
        ModelKind::Mf,
        ModelKind::Neumf,
        ModelKind::Bilinear,
        ModelKind::TwoTower,
        ModelKind::Mlp,
        ModelKind::Pooling,
        ModelKind::Cbow,
        ModelKind::Gru,
        ModelKind::Lstm,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Mf => "mf",
            ModelKind::Neumf => "neumf",
            ModelKind::Bilinear => "bilinear",
            ModelKind::TwoTower => "two-tower",
            ModelKind::Mlp => "mlp",
            ModelKind::Pooling => "pooling",
            ModelKind::Cbow => "cbow",
            ModelKind::Gru => "gru",
            ModelKind::Lstm => "lstm",
        }
    }

    /// Parse a command-line name, with an error listing the known ones.
    pub fn parse(name: &str) -> Result<ModelKind> {
        ModelKind::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = ModelKind::ALL.iter().map(|m| m.name()).collect();
                anyhow!("unknown model {name:?}; choose one of {}", names.join(", "))
            })
    }

    /// The sequence representation, for the next-item models.
    pub fn representation(self) -> Option<Representation> {
        match self {
            ModelKind::Pooling => Some(Representation::Pooling),
            ModelKind::Cbow => Some(Representation::Cbow),
            ModelKind::Gru => Some(Representation::Gru),
            ModelKind::Lstm => Some(Representation::Lstm),
            _ => None,
        }
    }

    /// The feedback a model is trained on when `--feedback` is not given.
    pub fn default_feedback(self) -> Feedback {
        match self {
            ModelKind::Bilinear | ModelKind::Mlp => Feedback::Explicit,
            _ => Feedback::Implicit,
        }
    }

    /// Check that the model can learn from `feedback`.
    pub fn check_feedback(self, feedback: Feedback) -> Result<()> {
        match (self, feedback) {
            (ModelKind::Mlp, Feedback::Implicit) => bail!(
                "mlp (RecommenderNet) predicts a rating in [1, 5]; it trains on explicit feedback only"
            ),
            (ModelKind::TwoTower, Feedback::Explicit) => {
                bail!("two-tower trains on implicit feedback only (BCE with negatives)")
            }
            (m, Feedback::Explicit) if m.representation().is_some() => bail!(
                "{} is a next-item sequence model; it trains on implicit feedback only",
                m.name()
            ),
            _ => Ok(()),
        }
    }

    /// Default Adam learning rate. bilinear's 3e-3 (with [`ModelKind::default_weight_decay`]) is
    /// the best of a small grid on ml-100k (docs/experiment.md): RMSE 0.929 against
    /// BaselineOnly's 0.944 on the same split, where 1e-2 without decay overfits to 1.14.
    pub fn default_lr(self) -> f64 {
        match self {
            ModelKind::Mlp | ModelKind::Cbow | ModelKind::Gru | ModelKind::Lstm => 2e-3,
            ModelKind::Bilinear => 3e-3,
            _ => 1e-2,
        }
    }

    /// Default weight decay (L2 added to the gradient): 1e-4 for bilinear, else none.
    pub fn default_weight_decay(self) -> f64 {
        match self {
            ModelKind::Bilinear => 1e-4,
            _ => 0.0,
        }
    }
}

impl std::str::FromStr for ModelKind {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        ModelKind::parse(s)
    }
}

/// Explicit ratings (regression) or implicit positives (ranking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Feedback {
    /// Predict the rating; MSE loss; evaluated by RMSE and MAE.
    Explicit,
    /// Ratings above --threshold are positives; BCE against sampled negatives (sequence models:
    /// their own next-item loss); evaluated by ranking metrics.
    Implicit,
}

/// How training negatives are drawn for implicit pair models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Sampling {
    /// Items uniformly at random (they may be positives of the user).
    Uniform,
    /// Items in proportion to their number of train positives.
    Popularity,
}

/// Sizes of a model (everything needed to rebuild it before loading weights).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub kind: ModelKind,
    pub feedback: Feedback,
    /// Embedding size.
    pub dim: i64,
    /// NeuMF MLP layers.
    pub layers: usize,
    /// RecommenderNet hidden layer widths.
    pub hidden: Vec<i64>,
    /// Sequence length of the next-item models.
    pub max_len: usize,
    /// Users and items of the training data (model indices `0..n`).
    pub n_users: i64,
    pub n_items: i64,
}
