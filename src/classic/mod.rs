//! Classic recommenders: the baselines and the well-tuned shallow models that a teacher sets
//! beside the neural ones (the field's lesson is that they are often hard to beat).
//!
//! Ranking (implicit feedback), behind [`Ranker`]: random, most popular, item-kNN and user-kNN,
//! EASE^R, implicit ALS and BPR-MF. Rating prediction (explicit feedback), behind
//! [`RatingPredictor`]: global mean, user and item biases (Surprise's `BaselineOnly`), biased
//! matrix factorization trained by SGD (Funk-SVD, Surprise's `SVD`), and the other predictors of
//! Surprise's table.
//!
//! Every model is fitted from a [`TrainSet`] in model indices (`0..n_users`, `0..n_items`);
//! the callers map original ids to indices and back ([`crate::prep::IdMap`]). Random draws come
//! from libtorch's generator, so `tch::manual_seed` makes a fit reproducible.

use anyhow::{bail, Result};
use tch::Tensor;

/// Training interactions in model indices, one value per row: the rating (explicit feedback)
/// or 1 (implicit feedback).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSet {
    /// Users are `0..n_users`.
    pub n_users: i64,
    /// Items are `0..n_items`.
    pub n_items: i64,
    /// User index of each row.
    pub users: Vec<i64>,
    /// Item index of each row.
    pub items: Vec<i64>,
    /// Rating, or 1 for implicit feedback, of each row.
    pub values: Vec<f32>,
}

impl TrainSet {
    /// Check that the three columns have the same length and every index is in range.
    pub fn new(
        n_users: i64,
        n_items: i64,
        users: Vec<i64>,
        items: Vec<i64>,
        values: Vec<f32>,
    ) -> Result<TrainSet> {
        if users.len() != items.len() || users.len() != values.len() {
            bail!(
                "train set columns differ in length: {} users, {} items, {} values",
                users.len(),
                items.len(),
                values.len()
            );
        }
        if let Some(u) = users.iter().find(|&&u| !(0..n_users).contains(&u)) {
            bail!("user index {u} is outside 0..{n_users}");
        }
        if let Some(i) = items.iter().find(|&&i| !(0..n_items).contains(&i)) {
            bail!("item index {i} is outside 0..{n_items}");
        }
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            bail!("train value {v} is not finite");
        }
        Ok(TrainSet {
            n_users,
            n_items,
            users,
            items,
            values,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// A model that ranks items for users (implicit feedback).
pub trait Ranker {
    /// Scores of every item for each of `users` (model indices): a float tensor
    /// `[users.len(), n_items]` on the CPU, higher is better. Seen items are not masked here;
    /// the evaluation protocol excludes them.
    fn scores(&self, users: &[i64]) -> Result<Tensor>;
}

/// A model that predicts ratings (explicit feedback).
pub trait RatingPredictor {
    /// The predicted rating of each pair `(users[j], items[j])` (model indices).
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>>;
}

/// Implicit ALS with conjugate-gradient solves, as implicit does them.
pub mod als;
/// Global mean and Surprise's `BaselineOnly` (user and item biases by ALS).
pub mod baseline;
/// BPR-MF trained by SGD on sampled triples.
pub mod bpr;
/// Surprise's `CoClustering`: user and item clusters and their mean ratings.
pub mod co_clustering;
/// What the ranking models share: the dense interaction matrix, its memory cap, user checks.
pub mod dense;
/// EASE^R, the closed-form item-item model.
pub mod ease;
/// Funk-SVD: biased matrix factorization by SGD, Surprise's `SVD`.
pub mod funk_svd;
/// Item-kNN and user-kNN with shrunk cosine similarity.
pub mod knn;
/// Surprise's `KNNWithMeans` and `KNNBaseline`: k-NN over deviations from means or baselines.
pub mod knn_centered;
/// Surprise's `NMF`: non-negative factorization by multiplicative updates.
pub mod nmf;
/// Surprise's `NormalPredictor`: random ratings from the train distribution.
pub mod normal;
/// PMF (Salakhutdinov & Mnih): factors by RMSProp SGD, as Cornac's `PMF`.
pub mod pmf;
/// The most-popular ranker.
pub mod popularity;
/// The random ranker.
pub mod random;
/// NDCG@10 of the ranking models on ml-100k: ignored tests that print docs/classic.md's tables.
#[cfg(test)]
mod ranking_quality;
/// Slope One: the user's mean plus the mean deviation between items.
pub mod slope_one;
/// Compressed sparse rows of the train pairs and the row-parallel loop of the rankers.
pub mod sparse;
/// Surprise's README table on ml-100k, replayed as its `benchmark.py` computes it.
pub mod surprise_benchmark;
/// Surprise's raw ratings, `KFold` folds, inner ids and error measures, replayed.
pub mod surprise_folds;
/// Surprise's `KNNBasic`: user-based k-NN with the MSD similarity.
pub mod surprise_knn;
/// SVD++: Funk-SVD plus the implicit feedback of the rated items.
pub mod svd_pp;
/// The f32 vector kernels of the plain-loop models (ALS, BPR).
pub mod vector;
