//! The models, each a tch module with its own file.

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
