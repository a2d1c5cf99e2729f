//! Explicit-feedback factorization (notebook 002, part 1).
//!
//! - [`ExplicitFactorizationModel`]: Spotlight's model of the same name. Its network
//!   ([`BilinearNet`]) predicts `rating(u, i) = <p_u, q_i> + b_u + b_i`, with embeddings
//!   initialised from a normal distribution of standard deviation `1 / dim` (Spotlight's
//!   `ScaledEmbedding`: `normal_(0, 1.0 / embedding_dim)`) and biases initialised to 0. It is
//!   trained with mean squared error and Adam (`weight_decay = l2`), reshuffling the training
//!   interactions every epoch. Spotlight's defaults: dim 32, batch 256, lr 1e-2, l2 0.
//! - [`CollaborativeFilteringModel`]: the notebook's exercise, which takes `x = [users, items]`
//!   as an `[n, 2]` tensor like the notebook's `X_train`. Same bilinear form plus a global bias
//!   that starts at the mean training rating, so the factors only model deviations from it.
//!
//! Both train with [`regression_epoch`]: one pass over shuffled interactions in minibatches.

use super::layers::lookup_for;
use crate::optim::{Adam, Optimizer};
use crate::train;
use anyhow::Result;
use tch::nn;
use tch::{Device, Kind, Tensor};

/// An embedding table initialised like Spotlight's `ScaledEmbedding`: N(0, (1/dim)^2).
pub fn scaled_embedding(path: &nn::Path, name: &str, rows: i64, dim: i64) -> Tensor {
    path.var(
        name,
        &[rows, dim],
        nn::Init::Randn {
            mean: 0.0,
            stdev: 1.0 / dim as f64,
        },
    )
}

/// `<p_u, q_i> + b_u + b_i` over the users and items of a batch: Spotlight's `BilinearNet`.
#[derive(Debug)]
pub struct BilinearNet {
    /// `[num_users, dim]`.
    pub user_embeddings: Tensor,
    /// `[num_items, dim]`.
    pub item_embeddings: Tensor,
    /// `[num_users, 1]`, initialised to 0.
    pub user_biases: Tensor,
    /// `[num_items, 1]`, initialised to 0.
    pub item_biases: Tensor,
    /// Sparse embedding gradients on every device and build, for an optimizer that updates only
    /// the batch's rows (the network sets it from its optimizer); `false`: as `layers::lookup`.
    pub sparse_lookups: bool,
}

impl BilinearNet {
    /// Variables in Spotlight's order: user embeddings, item embeddings (the two random draws),
    /// then the zero biases.
    pub fn new(path: &nn::Path, num_users: i64, num_items: i64, dim: i64) -> BilinearNet {
        BilinearNet {
            user_embeddings: scaled_embedding(path, "user_embeddings", num_users, dim),
            item_embeddings: scaled_embedding(path, "item_embeddings", num_items, dim),
            user_biases: path.zeros("user_biases", &[num_users, 1]),
            item_biases: path.zeros("item_biases", &[num_items, 1]),
            sparse_lookups: false,
        }
    }

    /// Predicted ratings `[batch]` for int64 `users` and `items` `[batch]`.
    pub fn forward(&self, users: &Tensor, items: &Tensor) -> Tensor {
        let s = self.sparse_lookups;
        let p = lookup_for(&self.user_embeddings, users, s);
        let q = lookup_for(&self.item_embeddings, items, s);
        let dot = (p * q).sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
        dot + lookup_for(&self.user_biases, users, s).squeeze_dim(1)
            + lookup_for(&self.item_biases, items, s).squeeze_dim(1)
    }
}

impl super::PairScorer for BilinearNet {
    fn score(&self, users: &Tensor, items: &Tensor) -> Tensor {
        self.forward(users, items)
    }

    /// The users' rows times the item table, plus both biases.
    fn score_grid(&self, users: &Tensor, _block_users: i64) -> Option<Tensor> {
        let rows = self.user_embeddings.index_select(0, users);
        let dots = rows.matmul(&self.item_embeddings.tr());
        Some(dots + self.user_biases.index_select(0, users) + self.item_biases.tr())
    }
}

/// Hyper-parameters of [`ExplicitFactorizationModel`], defaulting to Spotlight's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExplicitConfig {
    /// Embedding size (Spotlight: 32).
    pub embedding_dim: i64,
    /// Epochs (Spotlight: 10; the notebook uses 3).
    pub n_iter: usize,
    /// Minibatch size (Spotlight: 256).
    pub batch_size: i64,
    /// Adam learning rate (Spotlight: 1e-2).
    pub learning_rate: f64,
    /// Adam weight decay, coupled L2 (Spotlight: 0).
    pub l2: f64,
}

impl Default for ExplicitConfig {
    fn default() -> Self {
        ExplicitConfig {
            embedding_dim: 32,
            n_iter: 10,
            batch_size: 256,
            learning_rate: 1e-2,
            l2: 0.0,
        }
    }
}

/// Spotlight's `ExplicitFactorizationModel` with the regression (MSE) loss.
pub struct ExplicitFactorizationModel {
    /// Holds the network's variables.
    pub vs: nn::VarStore,
    /// The network.
    pub net: BilinearNet,
    /// Its hyper-parameters.
    pub config: ExplicitConfig,
    optimizer: Adam,
}

impl ExplicitFactorizationModel {
    /// A fresh model for id spaces of `num_users` and `num_items` (draws the embeddings).
    pub fn new(
        num_users: i64,
        num_items: i64,
        config: ExplicitConfig,
        device: Device,
    ) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        let net = BilinearNet::new(&vs.root(), num_users, num_items, config.embedding_dim);
        let optimizer = Adam::with_weight_decay(&vs, config.learning_rate, config.l2)?;
        Ok(ExplicitFactorizationModel {
            vs,
            net,
            config,
            optimizer,
        })
    }

    /// One epoch over `(users, items, ratings)` (tensors on the model's device); returns the
    /// mean minibatch MSE, as Spotlight's `epoch_loss`.
    pub fn fit_epoch(&mut self, users: &Tensor, items: &Tensor, ratings: &Tensor) -> Result<f64> {
        let net = &self.net;
        regression_epoch(
            &mut self.optimizer,
            users,
            items,
            ratings,
            self.config.batch_size,
            |u, i| net.forward(u, i),
        )
    }

    /// Train for `config.n_iter` epochs; returns the loss of each epoch.
    pub fn fit(&mut self, users: &Tensor, items: &Tensor, ratings: &Tensor) -> Result<Vec<f64>> {
        (0..self.config.n_iter)
            .map(|_| self.fit_epoch(users, items, ratings))
            .collect()
    }

    /// Predicted ratings for the pairs `(users[k], items[k])`, without gradients.
    pub fn predict(&self, users: &Tensor, items: &Tensor) -> Tensor {
        tch::no_grad(|| self.net.forward(users, items))
    }
}

/// One epoch of minibatch MSE regression: draws `randperm(n)` on the CPU generator to shuffle
/// (Spotlight's `shuffle`), then for each batch of `batch_size` rows computes
/// `mean((rating - predict(u, i))^2)`, and steps `optimizer` ([`train::epoch`]). Returns the
/// mean of the batch losses (read from the device once, at the end).
pub fn regression_epoch(
    optimizer: &mut dyn Optimizer,
    users: &Tensor,
    items: &Tensor,
    ratings: &Tensor,
    batch_size: i64,
    predict: impl Fn(&Tensor, &Tensor) -> Tensor,
) -> Result<f64> {
    let n = users.size()[0];
    let perm = train::shuffled_on_cpu(n, users.device());
    let losses = train::epoch(
        optimizer,
        train::ranges(n, batch_size),
        |(start, len)| {
            let idx = perm.narrow(0, start, len);
            let (u, i, r) = (
                users.index_select(0, &idx),
                items.index_select(0, &idx),
                ratings.index_select(0, &idx),
            );
            Ok((r - predict(&u, &i)).square().mean(Kind::Float))
        },
        |_| {},
    )?;
    losses.mean()
}

/// The notebook's exercise: a biased matrix factorization taking `x = [users, items]` (`[n, 2]`).
#[derive(Debug)]
pub struct CollaborativeFilteringModel {
    /// Factors and per-user/per-item biases.
    pub net: BilinearNet,
    /// Global offset `[1]`, initialised to the mean training rating.
    pub global_bias: Tensor,
}

impl CollaborativeFilteringModel {
    /// Embeddings of size `embedding_size` drawn as in [`BilinearNet::new`]; `mean_rating`
    /// starts the global bias.
    pub fn new(
        path: &nn::Path,
        nb_users: i64,
        nb_items: i64,
        embedding_size: i64,
        mean_rating: f64,
    ) -> CollaborativeFilteringModel {
        let net = BilinearNet::new(path, nb_users, nb_items, embedding_size);
        let global_bias = path.var("global_bias", &[1], nn::Init::Const(mean_rating));
        CollaborativeFilteringModel { net, global_bias }
    }

    /// Predicted ratings `[n]` for `x = [users, items]` of shape `[n, 2]` (int64).
    pub fn forward(&self, x: &Tensor) -> Tensor {
        self.predict_pairs(&x.select(1, 0), &x.select(1, 1))
    }

    /// Predicted ratings for separate user and item id tensors.
    pub fn predict_pairs(&self, users: &Tensor, items: &Tensor) -> Tensor {
        self.net.forward(users, items) + &self.global_bias
    }
}

impl super::PairScorer for CollaborativeFilteringModel {
    fn score(&self, users: &Tensor, items: &Tensor) -> Tensor {
        self.predict_pairs(users, items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prediction_is_dot_plus_biases() {
        tch::manual_seed(0);
        let model =
            ExplicitFactorizationModel::new(5, 7, ExplicitConfig::default(), Device::Cpu).unwrap();
        tch::no_grad(|| {
            let _ = model.net.user_biases.shallow_clone().fill_(0.5);
            let _ = model.net.item_biases.get(3).fill_(-0.25);
        });
        let (u, i) = (Tensor::from_slice(&[2i64]), Tensor::from_slice(&[3i64]));
        let got = model.predict(&u, &i).double_value(&[0]);
        let dot =
            (model.net.user_embeddings.get(2) * model.net.item_embeddings.get(3)).sum(Kind::Double);
        let want = dot.double_value(&[]) + 0.5 - 0.25;
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        // the scale of Spotlight's init: std 1/32
        let std = model.net.user_embeddings.std(true).double_value(&[]);
        assert!((std - 1.0 / 32.0).abs() < 0.01, "std {std}");
    }
}
