//! The networks behind the [`Recommender`] interface: build one from its [`NetworkConfig`],
//! train it with [`crate::train::pairs`], score every item for a chunk of users (or of
//! histories, for the sequence models), and read its item embeddings.
//!
//! | name      | library model                                   | feedback            |
//! |-----------|-------------------------------------------------|---------------------|
//! | mf        | `models::mf::MatrixFactorization` (`p_u · q_i`) | implicit or explicit|
//! | neumf     | `models::neumf::NeuMF` (GMF + MLP)              | implicit or explicit|
//! | bilinear  | `models::explicit::BilinearNet` (with biases)   | explicit or implicit|
//! | two-tower | `models::two_tower::BaseTwoHead`                | implicit            |
//! | mlp       | `models::recommender_net::RecommenderNet`, all layers trained | explicit |
//! | pooling, cbow, gru, lstm | `models::sequence::ImplicitSequenceModel` | implicit (next item) |
//!
//! Implicit pair models output a logit trained with binary cross-entropy against sampled
//! negatives; explicit ones output a rating trained with mean squared error.

use anyhow::{bail, Result};
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};

use super::{cosine_to, Query, Recommender, Sizes, Task};
use crate::models::explicit::BilinearNet;
use crate::models::mf::MatrixFactorization;
use crate::models::neumf::{NeuMF, NeuMFConfig};
use crate::models::recommender_net::{HiddenLayers, RecommenderNet, RecommenderNetConfig};
use crate::models::sequence::{ImplicitSequenceModel, SequenceConfig};
use crate::models::two_tower::BaseTwoHead;
use crate::models::PairScorer;
use crate::prep::sequence::PADDING;

mod config;
mod optimizer;
pub use config::{Feedback, NetKind, NetworkConfig, OptimizerKind, Sampling};

/// (user, item) pairs a pair model scores at once in [`Network::score_rows`]: 2^14, whose
/// activations take tens of megabytes (NeuMF's MLP input, 8 × factors floats a pair: 16 MB at
/// factors 32). Measured in docs/scale.md ("Network scoring in blocks"): 2^18 pairs held 0.5 GB
/// more at the peak for no gain in time.
pub const PAIR_BLOCK: i64 = 1 << 14;

/// Users per block of [`Network::score_rows`] for `n_items` items: [`PAIR_BLOCK`] pairs, at
/// least one user.
pub fn pair_block_users(n_items: i64) -> i64 {
    (PAIR_BLOCK / n_items.max(1)).max(1)
}

/// The network of a built model, with the store of its variables.
enum Net {
    /// A pair model with its own variables.
    Pair { vs: nn::VarStore, net: PairNet },
    /// RecommenderNet (it owns its variables).
    Mlp(RecommenderNet),
    /// A next-item sequence model (it owns its variables and its optimizer).
    Seq(ImplicitSequenceModel),
}

/// The pair models that keep their variables in a store of ours.
enum PairNet {
    Mf(MatrixFactorization),
    NeuMf(NeuMF),
    Bilinear(BilinearNet),
    TwoTower(BaseTwoHead),
}

impl Net {
    /// Sparse embedding gradients (for the lazy optimizers) or as the build leaves them.
    fn set_sparse_lookups(&mut self, on: bool) {
        match self {
            Net::Pair { net, .. } => match net {
                PairNet::Mf(m) => m.sparse_lookups = on,
                PairNet::NeuMf(m) => m.sparse_lookups = on,
                PairNet::Bilinear(m) => m.sparse_lookups = on,
                PairNet::TwoTower(m) => {
                    m.user_tower.sparse_lookups = on;
                    m.item_tower.sparse_lookups = on;
                }
            },
            Net::Mlp(m) => m.sparse_lookups = on,
            Net::Seq(_) => {}
        }
    }
}

impl PairNet {
    fn scorer(&self) -> &dyn PairScorer {
        match self {
            PairNet::Mf(m) => m,
            PairNet::NeuMf(m) => m,
            PairNet::Bilinear(m) => m,
            PairNet::TwoTower(m) => m,
        }
    }

    /// The item embeddings `[n_items, d]` (NeuMF: GMF and MLP side by side).
    fn item_embeddings(&self) -> Tensor {
        match self {
            PairNet::Mf(m) => m.items.ws.shallow_clone(),
            PairNet::NeuMf(m) => m.item_embeddings(),
            PairNet::Bilinear(m) => m.item_embeddings.shallow_clone(),
            PairNet::TwoTower(m) => m.item_tower.emb.ws.shallow_clone(),
        }
    }
}

/// A built network with its variables, its kind and its (resolved) configuration.
pub struct Network {
    pub kind: NetKind,
    pub config: NetworkConfig,
    pub sizes: Sizes,
    net: Net,
    device: Device,
}

impl Network {
    /// Build a fresh network of `kind` for `sizes` with a resolved `config` (draws its initial
    /// weights from libtorch's generator).
    pub fn new(
        kind: NetKind,
        config: NetworkConfig,
        sizes: Sizes,
        device: Device,
    ) -> Result<Network> {
        config.check(kind)?;
        let (nu, ni, d) = (sizes.n_users, sizes.n_items, config.dim);
        let pair = |make: &dyn Fn(&nn::Path) -> PairNet| {
            let vs = nn::VarStore::new(device);
            let net = make(&vs.root());
            Net::Pair { vs, net }
        };
        let net = match kind {
            NetKind::Mf => pair(&|root| PairNet::Mf(MatrixFactorization::new(root, nu, ni, d))),
            NetKind::Neumf => {
                let c = NeuMFConfig {
                    factors: d,
                    mlp_layers: config.layers,
                    embedding_std: 0.01,
                };
                pair(&|root| PairNet::NeuMf(NeuMF::new(root, nu, ni, c)))
            }
            NetKind::Bilinear => pair(&|root| PairNet::Bilinear(BilinearNet::new(root, nu, ni, d))),
            NetKind::TwoTower => pair(&|root| PairNet::TwoTower(BaseTwoHead::new(root, nu, ni, d))),
            NetKind::Mlp => {
                let c = RecommenderNetConfig {
                    n_factors: d,
                    hidden: config.hidden.clone(),
                    ..Default::default()
                };
                Net::Mlp(RecommenderNet::new(
                    nu,
                    ni,
                    &c,
                    HiddenLayers::Registered,
                    device,
                )?)
            }
            NetKind::Pooling | NetKind::Cbow | NetKind::Gru | NetKind::Lstm => {
                let Some(representation) = kind.representation() else {
                    bail!("{} is not a sequence model", kind.name());
                };
                let c = SequenceConfig {
                    representation,
                    embedding_dim: d,
                    hidden_dim: d,
                    n_iter: 0,
                    batch_size: config.batch.unwrap_or(256),
                    learning_rate: config.lr.unwrap_or(kind.default_lr()),
                    l2: config.weight_decay,
                };
                Net::Seq(ImplicitSequenceModel::new(ni + 1, c, device)?)
            }
        };
        let mut net = net;
        net.set_sparse_lookups(config.optimizer.is_sparse());
        Ok(Network {
            kind,
            config,
            sizes,
            net,
            device,
        })
    }

    /// The variables.
    pub fn var_store(&self) -> &nn::VarStore {
        match &self.net {
            Net::Pair { vs, .. } => vs,
            Net::Mlp(m) => &m.vs,
            Net::Seq(m) => &m.vs,
        }
    }

    /// Copy saved tensors into the variables: every variable must be there, with its shape.
    pub fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        let vars = self.var_store().variables();
        if state.len() != vars.len() {
            bail!(
                "the saved {} holds {} tensors where a {} with factors={} has {}",
                self.kind.name(),
                state.len(),
                self.kind.name(),
                self.config.dim,
                vars.len()
            );
        }
        tch::no_grad(|| -> Result<()> {
            for (name, saved) in state {
                let Some(var) = vars.get(name) else {
                    bail!(
                        "the saved tensor {name:?} is not a variable of {}",
                        self.kind.name()
                    );
                };
                if var.size() != saved.size() {
                    bail!(
                        "the saved tensor {name:?} has shape {:?} where {} with factors={} has {:?}",
                        saved.size(),
                        self.kind.name(),
                        self.config.dim,
                        var.size()
                    );
                }
                let mut var = var.shallow_clone();
                var.copy_(&saved.to_kind(var.kind()).to_device(self.device));
            }
            Ok(())
        })
    }

    /// Whether every weight, and the scores of a probe (`users`, `items`: up to a few hundred
    /// model indices; sequence models score a one-item history), are finite. A diverged run
    /// fails this: NaN or infinite weights, or finite ones so large that scores overflow.
    pub fn is_finite(&self, users: &Tensor, items: &Tensor) -> Result<bool> {
        let all_finite = |t: &Tensor| t.isfinite().all().int64_value(&[]) != 0;
        let weights = tch::no_grad(|| self.var_store().variables().values().all(all_finite));
        if !weights {
            return Ok(false);
        }
        if self.is_sequence() {
            let scores = self.score_all(&[Query::History(vec![0])])?;
            return Ok(scores.iter().flatten().all(|s| s.is_finite()));
        }
        tch::no_grad(|| Ok(all_finite(&self.score_pairs(users, items, false)?)))
    }

    /// Bytes of the weights as saved (float32 values, without the file's small header).
    pub fn weight_bytes(&self) -> u64 {
        self.var_store()
            .variables()
            .values()
            .map(|t| t.numel() as u64 * t.kind().elt_size_in_bytes() as u64)
            .sum()
    }

    /// Whether this is a next-item sequence model.
    pub fn is_sequence(&self) -> bool {
        matches!(self.net, Net::Seq(_))
    }

    /// Outputs for pairs of model indices: logits (implicit) or ratings (explicit), `[n]`.
    /// `train` switches dropout on (mlp).
    pub fn score_pairs(&self, users: &Tensor, items: &Tensor, train: bool) -> Result<Tensor> {
        Ok(match &self.net {
            Net::Pair { net, .. } => net.scorer().score(users, items),
            Net::Mlp(m) => m.forward_t(users, items, train).squeeze_dim(1),
            Net::Seq(_) => bail!("sequence models score histories, not pairs"),
        })
    }

    /// Predicted ratings (explicit models; logits for implicit ones) of the pairs
    /// `(users[j], items[j])` in model indices, in chunks, without gradients.
    pub fn predict_ratings(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        tch::no_grad(|| -> Result<Vec<f64>> {
            let mut out = Vec::with_capacity(users.len());
            for (u, i) in users.chunks(65536).zip(items.chunks(65536)) {
                let p = self.score_pairs(
                    &Tensor::from_slice(u).to_device(self.device),
                    &Tensor::from_slice(i).to_device(self.device),
                    false,
                )?;
                out.extend(Vec::<f64>::try_from(
                    p.to_kind(Kind::Double).to_device(Device::Cpu),
                )?);
            }
            Ok(out)
        })
    }

    /// One epoch of a sequence model over padded sequences `[n, L]` (item index + 1, 0 pads).
    pub fn fit_sequences(&mut self, sequences: &Tensor) -> Result<f64> {
        match &mut self.net {
            Net::Seq(m) => m.fit_epoch(sequences),
            _ => bail!("not a sequence model"),
        }
    }

    /// Mean training loss of a pair model on one batch: MSE against `targets` (explicit) or BCE
    /// with logits against 0/1 `targets` (implicit).
    pub fn pair_loss(&self, users: &Tensor, items: &Tensor, targets: &Tensor) -> Result<Tensor> {
        let out = self.score_pairs(users, items, true)?;
        Ok(match self.config.feedback {
            Feedback::Explicit => (out - targets).square().mean(Kind::Float),
            Feedback::Implicit => {
                out.binary_cross_entropy_with_logits::<Tensor>(targets, None, None, Reduction::Mean)
            }
        })
    }

    /// Scores of every item (model indices `0..n_items`) for each query, as rows on the CPU,
    /// without gradients. Users are scored in chunks ([`Network::score_rows`]).
    pub fn score_all(&self, queries: &[Query]) -> Result<Vec<Vec<f32>>> {
        let n_items = self.sizes.n_items as usize;
        let mut out = Vec::with_capacity(queries.len());
        for chunk in queries.chunks(128) {
            let flat: Vec<f32> = Vec::try_from(self.score_rows(chunk)?.reshape([-1]))?;
            out.extend(flat.chunks(n_items).map(<[f32]>::to_vec));
        }
        Ok(out)
    }

    /// Scores of every item for each of a chunk of queries, `[queries, n_items]` in `f32` on
    /// the CPU, without gradients. The pair models with a [`PairScorer::score_grid`] (mf,
    /// bilinear and two-tower by one matrix product, neumf with its first layer split into a
    /// per-user and a per-item part) score the chunk through it; the others score every
    /// (user, item) pair of the chunk ([`Network::score_pairs_in_blocks`]), [`pair_block_users`]
    /// users at a time (at most about [`PAIR_BLOCK`] pairs), so that the network's activations
    /// stay bounded however many queries come at once. Each pair's score
    /// does not depend on the block it is scored in (tests/speed_paths.rs checks a 1-user chunk
    /// against a many-user one, bit for bit, and the grid against the pairs within rounding).
    pub fn score_rows(&self, queries: &[Query]) -> Result<Tensor> {
        let n_items = self.sizes.n_items;
        let scores = tch::no_grad(|| -> Result<Tensor> {
            if let Net::Seq(m) = &self.net {
                let l = self.config.max_len;
                let mut rows = vec![PADDING; queries.len() * l];
                for (r, q) in queries.iter().enumerate() {
                    let Query::History(h) = q else {
                        bail!("a sequence model needs a history");
                    };
                    let h = &h[h.len().saturating_sub(l)..];
                    for (j, item) in h.iter().enumerate() {
                        rows[r * l + (l - h.len()) + j] = item + 1;
                    }
                }
                let prefixes = Tensor::from_slice(&rows)
                    .view([queries.len() as i64, l as i64])
                    .to_device(self.device);
                return Ok(m.score_next(&prefixes).narrow(1, 1, n_items));
            }
            let users: Vec<i64> = queries
                .iter()
                .map(|q| match q {
                    Query::User(u) => Ok(*u),
                    Query::History(_) => {
                        bail!("{} scores known users only", self.kind.name())
                    }
                })
                .collect::<Result<_>>()?;
            let grid = match &self.net {
                Net::Pair { net, .. } => {
                    let users = Tensor::from_slice(&users).to_device(self.device);
                    net.scorer().score_grid(&users, pair_block_users(n_items))
                }
                _ => None,
            };
            match grid {
                Some(grid) => Ok(grid),
                None => self.score_pairs_in_blocks(&users),
            }
        })?;
        Ok(scores.to_kind(Kind::Float).to_device(Device::Cpu))
    }

    /// Scores of every item for each of `users`, `[users, n_items]` in `f32` on the CPU: every
    /// (user, item) pair through the network ([`Network::score_pairs`]), [`pair_block_users`]
    /// users at a time. The plain path of [`Network::score_rows`], for the pair models without
    /// a [`PairScorer::score_grid`] and for checking those with one.
    pub fn score_pairs_in_blocks(&self, users: &[i64]) -> Result<Tensor> {
        let n_items = self.sizes.n_items;
        let b = users.len() as i64;
        let users = Tensor::from_slice(users).to_device(self.device);
        let per_block = pair_block_users(n_items);
        let items = Tensor::arange(n_items, (Kind::Int64, self.device)).unsqueeze(0);
        // One output, filled block by block: no long-lived allocation lands between the
        // blocks' transient ones (which would keep the heap from shrinking back).
        let out = Tensor::empty([b, n_items], (Kind::Float, Device::Cpu));
        let mut start = 0;
        tch::no_grad(|| -> Result<()> {
            while start < b {
                let n = per_block.min(b - start);
                let u = users
                    .narrow(0, start, n)
                    .unsqueeze(1)
                    .expand([n, n_items], false)
                    .reshape([-1]);
                let i = items.expand([n, n_items], false).reshape([-1]);
                let block = self.score_pairs(&u, &i, false)?.view([n, n_items]);
                out.narrow(0, start, n)
                    .copy_(&block.to_kind(Kind::Float).to_device(Device::Cpu));
                start += n;
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// mf's user and item tables (handles to the variables themselves), for a training step of
    /// its own ([`crate::train::pairs`]'s fused step); `None` for the other networks.
    pub fn mf_tables(&self) -> Option<(Tensor, Tensor)> {
        match &self.net {
            Net::Pair {
                net: PairNet::Mf(m),
                ..
            } => Some((m.users.ws.shallow_clone(), m.items.ws.shallow_clone())),
            _ => None,
        }
    }

    /// The item embeddings `[n_items, d]` (model indices), on the CPU. NeuMF concatenates its
    /// GMF and MLP item embeddings; the sequence models drop the padding row.
    pub fn item_embeddings(&self) -> Result<Tensor> {
        let table = match &self.net {
            Net::Pair { net, .. } => net.item_embeddings(),
            Net::Mlp(m) => m.movie_embeddings().shallow_clone(),
            Net::Seq(m) => m.item_embeddings().narrow(0, 1, self.sizes.n_items),
        };
        Ok(table.detach().to_device(Device::Cpu).to_kind(Kind::Float))
    }
}

impl Recommender for Network {
    fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn task(&self) -> Task {
        match (self.kind.is_sequence(), self.config.feedback) {
            (true, _) => Task::NextItem,
            (false, Feedback::Implicit) => Task::Ranking,
            (false, Feedback::Explicit) => Task::Rating,
        }
    }

    fn n_items(&self) -> i64 {
        self.sizes.n_items
    }

    fn score(&self, queries: &[Query]) -> Result<Tensor> {
        self.score_rows(queries)
    }

    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        if self.kind.is_sequence() {
            bail!(
                "{} scores next items after a history; it predicts no ratings",
                self.kind.name()
            );
        }
        self.predict_ratings(users, items)
    }

    fn item_similarity(&self, item: i64) -> Result<Option<Vec<f32>>> {
        Ok(Some(cosine_to(&self.item_embeddings()?, item)?))
    }

    fn state(&self) -> Vec<(String, Tensor)> {
        let mut vars: Vec<(String, Tensor)> = self
            .var_store()
            .variables()
            .into_iter()
            .map(|(n, t)| (n, t.detach().to_device(Device::Cpu)))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars
    }

    fn device(&self) -> Device {
        self.device
    }
}
