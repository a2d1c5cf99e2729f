//! One interface for every model, classic and network alike.
//!
//! A [`Recommender`] is a fitted model: it scores every item for a chunk of users (or of
//! histories, for the next-item models), predicts ratings where it is a rating model, may say
//! which items are alike, and hands over its learned tensors to be saved. The [`registry`] lists
//! each model once, with its task, its typed configuration and a line of help; it fits a model
//! from a [`TrainSet`] and rebuilds one from saved tensors. [`settings`] reads `key=value`
//! settings against those configurations, [`checkpoint`] writes and reads saved models, and
//! [`evaluation`] scores any model on a held-out part.
//!
//! The layout follows Spotlight's split of representation and estimator: the networks stay
//! tch modules in [`crate::models`], and the estimator that trains them (batches, negatives,
//! optimizer, divergence checks) is [`crate::train::pairs`].

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

pub use crate::classic::TrainSet;
use crate::prep::prepared::Prepared;
use crate::prep::{f64_values, i64_values};

/// Saved models: the state's tensors and a sidecar that rebuilds the data.
pub mod checkpoint;
/// The classic models behind the interface.
pub mod classic;
/// Scoring any model on a held-out part: both ranking protocols, or rating errors.
pub mod evaluation;
/// The networks behind the interface, built from one configuration.
pub mod network;
/// Every model, once: name, task, configuration and help.
pub mod registry;
/// `key=value` settings checked against the models' configurations.
pub mod settings;

/// What a model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Ranks items for a known user (implicit feedback); scored by ranking metrics.
    Ranking,
    /// Predicts a user's rating of an item (explicit feedback); scored by RMSE and MAE.
    Rating,
    /// Ranks the next item after a history of items (sequence models).
    NextItem,
}

impl Task {
    /// The name in tables and errors.
    pub fn name(self) -> &'static str {
        match self {
            Task::Ranking => "ranking",
            Task::Rating => "rating",
            Task::NextItem => "next-item",
        }
    }

    /// +1 when the primary metric is better higher (NDCG), -1 when lower (RMSE).
    pub fn sign(self) -> f64 {
        match self {
            Task::Ranking | Task::NextItem => 1.0,
            Task::Rating => -1.0,
        }
    }

    /// Whether the model learns from positives (ratings above a threshold) rather than values.
    pub fn is_implicit(self) -> bool {
        self != Task::Rating
    }
}

/// What to score items for.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// A known user (model index).
    User(i64),
    /// A history of item indices, oldest first (next-item models).
    History(Vec<i64>),
}

/// Users and items a model was fitted on (model indices `0..n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sizes {
    pub n_users: i64,
    pub n_items: i64,
}

/// A fitted model.
pub trait Recommender {
    /// The registry's name of the model (`ease`, `mf`, ...).
    fn name(&self) -> &'static str;

    /// What the model does (a network's feedback decides between ranking and rating).
    fn task(&self) -> Task;

    /// Items the model scores (`0..n_items`).
    fn n_items(&self) -> i64;

    /// Scores of every item for each query, `[queries, n_items]`, `f32` on the CPU, higher is
    /// better (a rating model's predicted ratings). Seen items are not masked here.
    fn score(&self, queries: &[Query]) -> Result<Tensor>;

    /// The predicted rating of each pair `(users[j], items[j])` (model indices). Ranking
    /// models have no ratings to give.
    fn predict(&self, _users: &[i64], _items: &[i64]) -> Result<Vec<f64>> {
        bail!("{} ranks items; it predicts no ratings", self.name())
    }

    /// How alike every item is to `item` (`[n_items]`, higher is closer), for the models
    /// that define it; `None` for the others.
    fn item_similarity(&self, _item: i64) -> Result<Option<Vec<f32>>> {
        Ok(None)
    }

    /// The learned tensors, by name, as a checkpoint saves them.
    fn state(&self) -> Vec<(String, Tensor)>;

    /// Where its tensors live.
    fn device(&self) -> Device {
        Device::Cpu
    }
}

/// Cosine similarity of every row of `vectors` `[n, d]` to row `item`.
pub fn cosine_to(vectors: &Tensor, item: i64) -> Result<Vec<f32>> {
    let v = vectors.to_device(Device::Cpu).to_kind(tch::Kind::Float);
    let norm = v
        .norm_scalaropt_dim(2, [1i64].as_slice(), true)
        .clamp_min(1e-12);
    let unit = &v / norm;
    Ok(Vec::try_from(unit.mv(&unit.get(item)))?)
}

/// The rows `train` of a run as a [`TrainSet`] in `data`'s id maps: the rating of each row for
/// a rating model, 1 for the others.
pub fn train_set(
    data: &Prepared,
    train: &polars::prelude::DataFrame,
    task: Task,
) -> Result<TrainSet> {
    let users = data.users.encode_column(train, "user_id")?;
    let items = data.items.encode_column(train, "item_id")?;
    let values = match task {
        Task::Rating => f64_values(train, "rating")?.map(|r| r as f32).collect(),
        _ => vec![1.0; users.len()],
    };
    let set = TrainSet::new(
        data.users.len() as i64,
        data.items.len() as i64,
        users,
        items,
        values,
    )?;
    Ok(set)
}

/// The timestamps of `train`'s rows (the next-item models order each user's items by them).
pub fn train_times(train: &polars::prelude::DataFrame) -> Result<Vec<i64>> {
    Ok(i64_values(train, "timestamp")?.collect())
}

#[cfg(test)]
mod tests;
