//! The models, each a tch module with its own file.
//!
//! One scoring name across them: every model that scores (user, item) pairs implements
//! [`PairScorer::score`] (the sequence models score next items with
//! [`sequence::ImplicitSequenceModel::score_next`]).

use tch::Tensor;

/// A model that scores (user, item) pairs: one output per pair (a logit, or a rating).
///
/// Every pair model implements it, so the same training loop and the same evaluations serve
/// them all. Dropout, where a model has it, is off (evaluation mode).
pub trait PairScorer {
    /// Outputs for the pairs `(users[j], items[j])`; `users` and `items` are int64 tensors of
    /// the same length `n` holding model indices. Returns a float tensor of shape `[n]`.
    fn score(&self, users: &Tensor, items: &Tensor) -> Tensor;

    /// Outputs for every item (`0..n_items`) and each of `users` `[n]`, as `[n, n_items]`, by
    /// a path that computes the per-user and per-item parts once (a matrix product for the dot
    /// models, NeuMF's first layer split in two), at most `block_users` users' pairwise
    /// activations at a time; `None` for a model without one (then every pair goes through
    /// [`PairScorer::score`]). The same numbers as [`PairScorer::score`] on every pair, up to
    /// float rounding (the sums run in another order); tests/speed_paths.rs compares them. The
    /// notebook ports never call it.
    fn score_grid(&self, users: &Tensor, block_users: i64) -> Option<Tensor> {
        let _ = (users, block_users);
        None
    }
}

/// Layers initialised as PyTorch initialises them.
pub mod layers;

/// Notebook 004: factorizing the dense rating matrix.
pub mod dense_mf;
/// Notebook 002: explicit factorization with biases (Spotlight's ExplicitFactorizationModel).
pub mod explicit;
/// Notebook 000: matrix factorization (dot product of user and item embeddings).
pub mod mf;
/// Notebook 001: neighbourhood collaborative filtering and popularity.
pub mod neighbors;
/// Notebook 000: neural matrix factorization (GMF + MLP, He et al. 2017).
pub mod neumf;
/// Notebook 004: the deep RecommenderNet.
pub mod recommender_net;
/// Notebook 002: next-item sequence models (pooling, CBOW, GRU, LSTM).
pub mod sequence;
/// Notebook 003: two-tower (DSSM) model.
pub mod two_tower;
