//! The library's models behind one interface for the application commands: build, train one
//! epoch, score every item for a user (or a history, for the sequence models), and read the
//! item embeddings.
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

use anyhow::{anyhow, bail, Result};
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};

use recsys::models::explicit::BilinearNet;
use recsys::models::mf::MatrixFactorization;
use recsys::models::neumf::{NeuMF, NeuMFConfig};
use recsys::models::recommender_net::{HiddenLayers, RecommenderNet, RecommenderNetConfig};
use recsys::models::sequence::{ImplicitSequenceModel, SequenceConfig};
use recsys::models::two_tower::BaseTwoHead;
use recsys::models::PairScorer;

mod kind;
mod optimizer;
pub use kind::{Feedback, ModelConfig, ModelKind, Sampling};
pub use optimizer::OptimizerKind;
use recsys::prep::sequence::PADDING;

/// The first line of a libtorch error (its C++ stack frames dropped).
pub fn torch_message(e: &impl std::fmt::Display) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("").trim();
    first.to_string()
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

/// A built model with its variables.
pub struct AppModel {
    pub config: ModelConfig,
    net: Net,
    device: Device,
}

/// What to score items for.
#[derive(Debug, Clone)]
pub enum Query {
    /// A known user (model index).
    User(i64),
    /// A history of item indices, oldest first (sequence models).
    History(Vec<i64>),
}

impl AppModel {
    /// Build a fresh model (draws initial weights from libtorch's generator).
    pub fn new(
        config: ModelConfig,
        lr: f64,
        weight_decay: f64,
        batch: i64,
        device: Device,
    ) -> Result<AppModel> {
        if config.dim < 1 {
            bail!("--dim must be at least 1");
        }
        let (nu, ni, d) = (config.n_users, config.n_items, config.dim);
        let pair = |make: &dyn Fn(&nn::Path) -> PairNet| {
            let vs = nn::VarStore::new(device);
            let net = make(&vs.root());
            Net::Pair { vs, net }
        };
        let net = match config.kind {
            ModelKind::Mf => pair(&|root| PairNet::Mf(MatrixFactorization::new(root, nu, ni, d))),
            ModelKind::Neumf => {
                if config.layers < 1 {
                    bail!("--layers must be at least 1 for neumf");
                }
                let c = NeuMFConfig {
                    factors: d,
                    mlp_layers: config.layers,
                    embedding_std: 0.01,
                };
                pair(&|root| PairNet::NeuMf(NeuMF::new(root, nu, ni, c)))
            }
            ModelKind::Bilinear => {
                pair(&|root| PairNet::Bilinear(BilinearNet::new(root, nu, ni, d)))
            }
            ModelKind::TwoTower => {
                pair(&|root| PairNet::TwoTower(BaseTwoHead::new(root, nu, ni, d)))
            }
            ModelKind::Mlp => {
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
            ModelKind::Pooling | ModelKind::Cbow | ModelKind::Gru | ModelKind::Lstm => {
                let Some(representation) = config.kind.representation() else {
                    bail!("{} is not a sequence model", config.kind.name());
                };
                let c = SequenceConfig {
                    representation,
                    embedding_dim: d,
                    hidden_dim: d,
                    n_iter: 0,
                    batch_size: batch,
                    learning_rate: lr,
                    l2: weight_decay,
                };
                Net::Seq(ImplicitSequenceModel::new(ni + 1, c, device)?)
            }
        };
        Ok(AppModel {
            config,
            net,
            device,
        })
    }

    /// The variables (for saving and loading).
    pub fn var_store(&self) -> &nn::VarStore {
        match &self.net {
            Net::Pair { vs, .. } => vs,
            Net::Mlp(m) => &m.vs,
            Net::Seq(m) => &m.vs,
        }
    }

    fn var_store_mut(&mut self) -> &mut nn::VarStore {
        match &mut self.net {
            Net::Pair { vs, .. } => vs,
            Net::Mlp(m) => &mut m.vs,
            Net::Seq(m) => &mut m.vs,
        }
    }

    /// Load weights saved by [`AppModel::save`]; shapes must match the config.
    pub fn load(&mut self, path: &std::path::Path) -> Result<()> {
        let (kind, dim) = (self.config.kind.name(), self.config.dim);
        self.var_store_mut().load(path).map_err(|e| {
            anyhow!(
                "cannot load the weights in {} into a {kind} model of --dim {dim} as its \
                 model.json describes: {}",
                path.display(),
                torch_message(&e)
            )
        })
    }

    /// Save the weights (safetensors when `path` ends in `.safetensors`).
    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        self.var_store().save(path).map_err(|e| {
            anyhow!(
                "cannot save the weights to {}: {}",
                path.display(),
                torch_message(&e)
            )
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

    /// Where the model's tensors live.
    pub fn device(&self) -> Device {
        self.device
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

    /// Scores of every item (model indices `0..n_items`) for each query, `[queries, n_items]`
    /// on the CPU, without gradients. Users are scored in chunks ([`AppModel::score_rows`]).
    pub fn score_all(&self, queries: &[Query]) -> Result<Vec<Vec<f32>>> {
        let n_items = self.config.n_items as usize;
        let mut out = Vec::with_capacity(queries.len());
        for chunk in queries.chunks(128) {
            let flat: Vec<f32> = Vec::try_from(self.score_rows(chunk)?.reshape([-1]))?;
            out.extend(flat.chunks(n_items).map(<[f32]>::to_vec));
        }
        Ok(out)
    }

    /// Scores of every item for each of a chunk of queries, `[queries, n_items]` in `f32` on
    /// the CPU, without gradients. mf multiplies the users' rows by the item table; the other
    /// pair models score every (user, item) pair of the chunk.
    pub fn score_rows(&self, queries: &[Query]) -> Result<Tensor> {
        let n_items = self.config.n_items;
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
                        bail!("{} scores known users only", self.config.kind.name())
                    }
                })
                .collect::<Result<_>>()?;
            let b = users.len() as i64;
            let users = Tensor::from_slice(&users).to_device(self.device);
            if let Net::Pair {
                net: PairNet::Mf(mf),
                ..
            } = &self.net
            {
                let rows = mf.users.ws.index_select(0, &users);
                return Ok(rows.matmul(&mf.items.ws.tr()));
            }
            let u = users.unsqueeze(1).expand([b, n_items], false).reshape([-1]);
            let i = Tensor::arange(n_items, (Kind::Int64, self.device))
                .unsqueeze(0)
                .expand([b, n_items], false)
                .reshape([-1]);
            Ok(self.score_pairs(&u, &i, false)?.view([b, n_items]))
        })?;
        Ok(scores.to_kind(Kind::Float).to_device(Device::Cpu))
    }

    /// The item embeddings `[n_items, d]` (model indices), on the CPU. NeuMF concatenates its
    /// GMF and MLP item embeddings; the sequence models drop the padding row.
    pub fn item_embeddings(&self) -> Result<Tensor> {
        let table = match &self.net {
            Net::Pair { net, .. } => net.item_embeddings(),
            Net::Mlp(m) => m.movie_embeddings().shallow_clone(),
            Net::Seq(m) => m.item_embeddings().narrow(0, 1, self.config.n_items),
        };
        Ok(table.detach().to_device(Device::Cpu).to_kind(Kind::Float))
    }
}
