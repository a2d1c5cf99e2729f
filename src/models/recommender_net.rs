//! The deep "RecommenderNet" of notebook 004 (part 2): user and movie embeddings, concatenated,
//! through a stack of ReLU layers to `sigmoid · 4 + 1`, a rating in [1, 5].
//!
//! The notebook keeps its hidden layers in a plain Python list, so PyTorch never registers them:
//! the optimizer never updates them (they keep their initial values), `net.eval()` leaves their
//! dropout on, and `net.to(device)` would not move them. [`HiddenLayers::Unregistered`]
//! reproduces that (the layers live in a store the optimizer never sees, their dropout ignores
//! the evaluation flag; they do move to the chosen device, see the port's notes);
//! [`HiddenLayers::Registered`] is the corrected model.

use crate::optim::{Adam, Optimizer};
use crate::rng::dropout;
use crate::train;
use anyhow::{bail, Result};
use tch::{nn, nn::Init, nn::Module, Device, Kind, Reduction, Tensor};

use super::layers::{lookup_for, TorchLinear};

/// The network's shape and dropout rates (the notebook's `RecommenderNet(...)` arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct RecommenderNetConfig {
    /// Embedding size of users and of movies.
    pub n_factors: i64,
    /// Dropout on the concatenated embeddings.
    pub embedding_dropout: f64,
    /// Units of each hidden layer.
    pub hidden: Vec<i64>,
    /// Dropout after each hidden layer's ReLU (none when 0).
    pub dropout_rate: f64,
}

impl Default for RecommenderNetConfig {
    /// The notebook's `RecommenderNet(n_users, n_movies, hidden=[128, 256, 128])`.
    fn default() -> Self {
        RecommenderNetConfig {
            n_factors: 50,
            embedding_dropout: 0.02,
            hidden: vec![128, 256, 128],
            dropout_rate: 0.2,
        }
    }
}

/// Whether the hidden layers are part of the model the optimizer trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiddenLayers {
    /// Faithful: never trained, dropout always on (the notebook's plain-list bug).
    Unregistered,
    /// Corrected: trained with the rest, dropout off at evaluation.
    Registered,
}

/// The RecommenderNet. Its trainable variables are in [`RecommenderNet::vs`] (what
/// `net.parameters()` gives in the notebook); unregistered hidden layers are in a second store.
pub struct RecommenderNet {
    /// The registered variables: embeddings, output layer, and the hidden layers when registered.
    pub vs: nn::VarStore,
    /// The unregistered hidden layers (empty when registered); never given to an optimizer.
    pub unregistered_vs: nn::VarStore,
    users: Tensor,
    movies: Tensor,
    hidden: Vec<TorchLinear>,
    fc: TorchLinear,
    config: RecommenderNetConfig,
    hidden_layers: HiddenLayers,
    /// Sparse embedding gradients on every device and build, for an optimizer that updates only
    /// the batch's rows (the network sets it from its optimizer); `false`: as `layers::lookup`.
    pub sparse_lookups: bool,
}

impl RecommenderNet {
    /// Build the network as the notebook does, drawing every initial value on the CPU
    /// generator in PyTorch's order (embeddings N(0, 1), each hidden `nn.Linear`, the output
    /// layer; then `_init`: embeddings uniform ±0.05, xavier-uniform weights, biases 0.01),
    /// then move all of it, unregistered layers included, to `device`.
    pub fn new(
        n_users: i64,
        n_movies: i64,
        config: &RecommenderNetConfig,
        hidden_layers: HiddenLayers,
        device: Device,
    ) -> Result<RecommenderNet> {
        if n_users < 1 || n_movies < 1 {
            bail!("RecommenderNet: need at least one user and one movie ({n_users}, {n_movies})");
        }
        let Some(&n_last) = config.hidden.last() else {
            bail!("RecommenderNet: at least one hidden layer is needed (`hidden[-1]`)");
        };
        let mut vs = nn::VarStore::new(Device::Cpu);
        let mut unregistered_vs = nn::VarStore::new(Device::Cpu);
        let k = config.n_factors;
        let normal = Init::Randn {
            mean: 0.0,
            stdev: 1.0,
        };
        let mut users = vs.root().var("users", &[n_users, k], normal);
        let mut movies = vs.root().var("movies", &[n_movies, k], normal);
        let hidden_store = match hidden_layers {
            HiddenLayers::Registered => &vs,
            HiddenLayers::Unregistered => &unregistered_vs,
        };
        let mut n_in = 2 * k;
        let mut hidden = Vec::with_capacity(config.hidden.len());
        for (i, &n_out) in config.hidden.iter().enumerate() {
            hidden.push(TorchLinear::new(
                &(hidden_store.root() / format!("hidden{i}")),
                n_in,
                n_out,
            ));
            n_in = n_out;
        }
        let mut fc = TorchLinear::new(&(vs.root() / "fc"), n_last, 1);
        tch::no_grad(|| {
            let _ = users.uniform_(-0.05, 0.05);
            let _ = movies.uniform_(-0.05, 0.05);
        });
        for layer in hidden.iter_mut() {
            layer.reinit_xavier(0.01);
        }
        fc.reinit_xavier(0.01);
        if hidden_layers == HiddenLayers::Unregistered {
            // Never optimized, so their own gradients are never needed (the gradients that flow
            // through them to the embeddings are unaffected).
            unregistered_vs.freeze();
        }
        vs.set_device(device);
        unregistered_vs.set_device(device);
        Ok(RecommenderNet {
            vs,
            unregistered_vs,
            users,
            movies,
            hidden,
            fc,
            config: config.clone(),
            hidden_layers,
            sparse_lookups: false,
        })
    }

    /// Whether the hidden layers are trained.
    pub fn hidden_layers(&self) -> HiddenLayers {
        self.hidden_layers
    }

    /// The hidden layers' weights and biases (shallow handles), for inspection.
    pub fn hidden_parameters(&self) -> Vec<Tensor> {
        self.hidden
            .iter()
            .flat_map(|d| [d.weight.shallow_clone(), d.bias.shallow_clone()])
            .collect()
    }

    /// Predicted ratings in [1, 5], shape `[batch, 1]`, for user and movie indices (0-based).
    /// `train` switches dropout on; unregistered hidden layers keep theirs on regardless, as
    /// `net.eval()` never reaches them in the notebook.
    pub fn forward_t(&self, users: &Tensor, movies: &Tensor, train: bool) -> Tensor {
        let u = lookup_for(&self.users, users, self.sparse_lookups);
        let m = lookup_for(&self.movies, movies, self.sparse_lookups);
        let mut x = dropout(
            &Tensor::cat(&[u, m], 1),
            self.config.embedding_dropout,
            train,
        );
        let hidden_train = train || self.hidden_layers == HiddenLayers::Unregistered;
        for layer in &self.hidden {
            x = layer.forward(&x).relu();
            if self.config.dropout_rate > 0.0 {
                x = dropout(&x, self.config.dropout_rate, hidden_train);
            }
        }
        self.fc.forward(&x).sigmoid() * 4.0 + 1.0
    }

    /// The movie embeddings, `[n_movies, n_factors]`.
    pub fn movie_embeddings(&self) -> &Tensor {
        &self.movies
    }

    /// `optim.Adam(net.parameters(), lr)`: Adam over the registered variables only.
    pub fn adam(&self, lr: f64) -> Result<Adam> {
        Adam::new(&self.vs, lr)
    }
}

impl super::PairScorer for RecommenderNet {
    /// Predicted ratings `[n]`, dropout off (but for unregistered hidden layers, whose dropout
    /// stays on, as in the notebook).
    fn score(&self, users: &Tensor, items: &Tensor) -> Tensor {
        self.forward_t(users, items, false).squeeze_dim(1)
    }
}

/// One batch of (user index, movie index, rating), views into tensors already on the device.
#[derive(Debug)]
pub struct RatingBatch {
    pub users: Tensor,
    pub movies: Tensor,
    /// Ratings as float32.
    pub ratings: Tensor,
}

/// Consecutive batches in the given (file) order. The three columns are copied to the device
/// once; each batch is a view into them, so no step copies data.
#[derive(Debug)]
pub struct RatingBatches {
    pub batches: Vec<RatingBatch>,
    /// Number of ratings over all batches.
    pub n_ratings: i64,
}

impl RatingBatches {
    /// Batches of `batch_size` (the last one shorter) over 0-based user and movie indices.
    pub fn new(
        users: &[i64],
        movies: &[i64],
        ratings: &[f32],
        batch_size: i64,
        device: Device,
    ) -> Result<RatingBatches> {
        let n = users.len();
        if movies.len() != n || ratings.len() != n {
            bail!(
                "rating batches: {n} users, {} movies, {} ratings",
                movies.len(),
                ratings.len()
            );
        }
        if batch_size < 1 {
            bail!("rating batches: batch size must be at least 1, got {batch_size}");
        }
        let n = n as i64;
        let to_device = |t: Tensor| t.to_device(device);
        let (u, m) = (
            to_device(Tensor::from_slice(users)),
            to_device(Tensor::from_slice(movies)),
        );
        let r = to_device(Tensor::from_slice(ratings));
        let batches = (0..n)
            .step_by(batch_size as usize)
            .map(|start| {
                let len = batch_size.min(n - start);
                RatingBatch {
                    users: u.narrow(0, start, len),
                    movies: m.narrow(0, start, len),
                    ratings: r.narrow(0, start, len),
                }
            })
            .collect();
        Ok(RatingBatches {
            batches,
            n_ratings: n,
        })
    }

    /// Number of batches.
    pub fn len(&self) -> usize {
        self.batches.len()
    }

    /// No batches at all.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }
}

/// What one training epoch leaves: device scalars, read when needed.
pub struct EpochLosses {
    /// The last batch's loss (what the notebook prints and steps the scheduler with).
    pub last: Tensor,
    /// Mean of the batch losses.
    pub mean: Tensor,
}

/// One epoch of the notebook's loop ([`train::epoch`]): for each batch in file order, predict,
/// `MSELoss(ratings, prediction)`, zero the gradients, backward, optimizer step. No host round
/// trip.
pub fn train_epoch(
    net: &RecommenderNet,
    optimizer: &mut dyn Optimizer,
    batches: &RatingBatches,
) -> Result<EpochLosses> {
    if batches.is_empty() {
        bail!("train_epoch: no batches")
    }
    let losses = train::epoch(
        optimizer,
        &batches.batches,
        |batch| {
            let out = net
                .forward_t(&batch.users, &batch.movies, true)
                .squeeze_dim(-1);
            Ok(batch.ratings.mse_loss(&out, Reduction::Mean))
        },
        |_| {},
    )?;
    let Some(last) = losses.last() else {
        bail!("train_epoch: no step")
    };
    Ok(EpochLosses {
        last: last.shallow_clone(),
        mean: losses.total / batches.len() as f64,
    })
}

/// The notebook's evaluation: average of the batch MSEs, and the share of predictions within
/// 0.5 of the rating ("accuracy"), both computed in float32 as PyTorch does.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Evaluation {
    pub average_loss: f64,
    pub accuracy: f64,
    pub n_ratings: i64,
}

/// Evaluate with dropout off (except where unregistered layers keep it), without gradients.
pub fn evaluate(net: &RecommenderNet, batches: &RatingBatches) -> Result<Evaluation> {
    let Some(first) = batches.batches.first() else {
        bail!("evaluate: no batches")
    };
    let device = first.ratings.device();
    tch::no_grad(|| {
        let mut total_loss = Tensor::zeros([], (Kind::Float, device));
        let mut total_correct = Tensor::zeros([], (Kind::Int64, device));
        for batch in &batches.batches {
            let out = net
                .forward_t(&batch.users, &batch.movies, false)
                .squeeze_dim(-1);
            total_loss += batch.ratings.mse_loss(&out, Reduction::Mean);
            total_correct += (&batch.ratings - &out).abs().lt(0.5).sum(Kind::Int64);
        }
        let average_loss = (total_loss / batches.len() as f64).double_value(&[]);
        let accuracy =
            (total_correct.to_kind(Kind::Float) / batches.n_ratings as f64).double_value(&[]);
        Ok(Evaluation {
            average_loss,
            accuracy,
            n_ratings: batches.n_ratings,
        })
    })
}

/// A random hold-out split of `n` rows: `torch.randperm(n)`, the first `⌊fraction·n⌋` rows of
/// the permutation held out. Both index lists are returned sorted, so each side keeps file order.
pub fn holdout_rows(n: i64, fraction: f64) -> Result<(Vec<i64>, Vec<i64>)> {
    if !(0.0..1.0).contains(&fraction) {
        bail!("hold-out fraction must be in [0, 1), got {fraction}");
    }
    let perm: Vec<i64> = Vec::try_from(&Tensor::randperm(n, (Kind::Int64, Device::Cpu)))?;
    let n_test = (fraction * n as f64) as usize;
    let mut test = perm[..n_test].to_vec();
    let mut train = perm[n_test..].to_vec();
    test.sort_unstable();
    train.sort_unstable();
    Ok((train, test))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy_batches() -> RatingBatches {
        let users = [0i64, 1, 2, 0, 1, 2];
        let movies = [0i64, 1, 2, 3, 0, 1];
        let ratings = [5.0f32, 3.0, 4.0, 1.0, 2.0, 5.0];
        RatingBatches::new(&users, &movies, &ratings, 4, Device::Cpu).unwrap()
    }

    fn snapshot(ts: &[Tensor]) -> Vec<Tensor> {
        ts.iter().map(|t| t.detach().copy()).collect()
    }

    fn changed(before: &[Tensor], after: &[Tensor]) -> bool {
        before.iter().zip(after).any(|(a, b)| !a.equal(b))
    }

    #[test]
    fn faithful_hidden_layers_stay_put_corrected_ones_train() {
        let cfg = RecommenderNetConfig {
            hidden: vec![8, 4],
            ..Default::default()
        };
        let batches = toy_batches();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches.batches[1].ratings.size(), vec![2]);
        for (mode, expect_change) in [
            (HiddenLayers::Unregistered, false),
            (HiddenLayers::Registered, true),
        ] {
            tch::manual_seed(1);
            let net = RecommenderNet::new(3, 4, &cfg, mode, Device::Cpu).unwrap();
            let mut opt = net.adam(1e-2).unwrap();
            let before = snapshot(&net.hidden_parameters());
            let emb_before = snapshot(&net.vs.trainable_variables());
            train_epoch(&net, &mut opt, &batches).unwrap();
            let after = net.hidden_parameters();
            assert_eq!(changed(&before, &after), expect_change, "{mode:?}");
            assert!(
                changed(&emb_before, &net.vs.trainable_variables()),
                "registered ones train"
            );
        }
    }

    #[test]
    fn output_is_a_rating_and_eval_dropout_depends_on_mode() {
        let cfg = RecommenderNetConfig {
            dropout_rate: 0.5,
            ..Default::default()
        };
        let users = Tensor::from_slice(&[0i64, 1, 2, 0]);
        let movies = Tensor::from_slice(&[0i64, 1, 2, 3]);
        tch::manual_seed(2);
        let faithful =
            RecommenderNet::new(3, 4, &cfg, HiddenLayers::Unregistered, Device::Cpu).unwrap();
        tch::manual_seed(2);
        let corrected =
            RecommenderNet::new(3, 4, &cfg, HiddenLayers::Registered, Device::Cpu).unwrap();
        let (a, b) = (
            faithful.forward_t(&users, &movies, false),
            faithful.forward_t(&users, &movies, false),
        );
        assert!(!a.equal(&b), "faithful eval keeps hidden dropout on");
        let (c, d) = (
            corrected.forward_t(&users, &movies, false),
            corrected.forward_t(&users, &movies, false),
        );
        assert!(c.equal(&d), "corrected eval is deterministic");
        let (lo, hi) = (c.min().double_value(&[]), c.max().double_value(&[]));
        assert!(lo >= 1.0 && hi <= 5.0);
        // Same seed, same draws: the two modes start from the same weights.
        let e = faithful.hidden_parameters();
        let f = corrected.hidden_parameters();
        assert!(e.iter().zip(&f).all(|(x, y)| x.equal(y)));
        assert_eq!(faithful.vs.trainable_variables().len(), 4);
        assert_eq!(corrected.vs.trainable_variables().len(), 4 + 2 * 3);
    }

    #[test]
    fn holdout_keeps_file_order_and_sizes() {
        tch::manual_seed(0);
        let (train, test) = holdout_rows(10, 0.2).unwrap();
        assert_eq!((train.len(), test.len()), (8, 2));
        assert!(train.windows(2).all(|w| w[0] < w[1]) && test.windows(2).all(|w| w[0] < w[1]));
        let mut all = [train, test].concat();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert!(holdout_rows(10, 1.5).is_err());
    }
}
