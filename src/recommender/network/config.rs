//! What a network is: its kind, the feedback it learns from, how its negatives are drawn, its
//! optimizer, and one typed configuration ([`NetworkConfig`]) whose defaults are written once,
//! per kind, in [`NetworkConfig::defaults`].

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::models::sequence::Representation;
use crate::runtime::memory::{ensure_fits, tensor_bytes};

/// Which network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetKind {
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

impl NetKind {
    /// Every network, in the registry's order.
    pub const ALL: [NetKind; 9] = [
        NetKind::Mf,
        NetKind::Neumf,
        NetKind::Bilinear,
        NetKind::TwoTower,
        NetKind::Mlp,
        NetKind::Pooling,
        NetKind::Cbow,
        NetKind::Gru,
        NetKind::Lstm,
    ];

    /// The registry's name.
    pub fn name(self) -> &'static str {
        match self {
            NetKind::Mf => "mf",
            NetKind::Neumf => "neumf",
            NetKind::Bilinear => "bilinear",
            NetKind::TwoTower => "two-tower",
            NetKind::Mlp => "mlp",
            NetKind::Pooling => "pooling",
            NetKind::Cbow => "cbow",
            NetKind::Gru => "gru",
            NetKind::Lstm => "lstm",
        }
    }

    /// The sequence representation, for the next-item models.
    pub fn representation(self) -> Option<Representation> {
        match self {
            NetKind::Pooling => Some(Representation::Pooling),
            NetKind::Cbow => Some(Representation::Cbow),
            NetKind::Gru => Some(Representation::Gru),
            NetKind::Lstm => Some(Representation::Lstm),
            _ => None,
        }
    }

    /// Whether this is a next-item sequence model.
    pub fn is_sequence(self) -> bool {
        self.representation().is_some()
    }

    /// The feedback a model is trained on by default.
    pub fn default_feedback(self) -> Feedback {
        match self {
            NetKind::Bilinear | NetKind::Mlp => Feedback::Explicit,
            _ => Feedback::Implicit,
        }
    }

    /// Whether `feedback` is a setting of this kind (some learn from one kind only).
    fn chooses_feedback(self) -> bool {
        matches!(self, NetKind::Mf | NetKind::Neumf | NetKind::Bilinear)
    }

    /// Default Adam learning rate. bilinear's 3e-3 (with its weight decay 1e-4) is the best of a
    /// small grid on ml-100k (docs/experiment.md): RMSE 0.929 against BaselineOnly's 0.944 on
    /// the same split, where 1e-2 without decay overfits to 1.14.
    pub fn default_lr(self) -> f64 {
        match self {
            NetKind::Mlp | NetKind::Cbow | NetKind::Gru | NetKind::Lstm => 2e-3,
            NetKind::Bilinear => 3e-3,
            _ => 1e-2,
        }
    }
}

/// Explicit ratings (regression) or implicit positives (ranking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Feedback {
    /// Predict the rating; MSE loss; evaluated by RMSE and MAE.
    Explicit,
    /// Ratings above the threshold are positives; BCE against sampled negatives (sequence
    /// models: their own next-item loss); evaluated by ranking metrics.
    Implicit,
}

/// How training negatives are drawn for implicit pair models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sampling {
    /// Items uniformly at random (they may be positives of the user).
    Uniform,
    /// Items in proportion to their number of train positives.
    Popularity,
}

/// The optimizer of the pair models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// Dense Adam (libtorch's, as the notebooks): every step updates every row of every table.
    Adam,
    /// Lazy Adam (torch.optim.SparseAdam): a step updates only the rows of the batch.
    SparseAdam,
    /// Adagrad on the rows of the batch.
    Adagrad,
}

impl OptimizerKind {
    /// The setting's name.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Adam => "adam",
            OptimizerKind::SparseAdam => "sparse-adam",
            OptimizerKind::Adagrad => "adagrad",
        }
    }

    /// Whether a step costs in proportion to the batch: the lookups then leave sparse
    /// gradients (the network's `sparse` lookups follow from this choice).
    pub fn is_sparse(self) -> bool {
        self != OptimizerKind::Adam
    }

    /// The default learning rate of this optimizer for `kind`: the kind's Adam rate for dense
    /// Adam, twice it for lazy Adam (a row moves only on the steps that touch it), 0.3 for
    /// Adagrad (the rates measured best for mf on ml-100k, docs/scale.md).
    pub fn default_lr(self, kind: NetKind) -> f64 {
        match self {
            OptimizerKind::Adam => kind.default_lr(),
            OptimizerKind::SparseAdam => 2.0 * kind.default_lr(),
            OptimizerKind::Adagrad => 0.3,
        }
    }
}

/// Everything a network is built and trained with. `lr` and `batch` left `None` take the
/// defaults of the optimizer and of the train size ([`NetworkConfig::resolved`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// explicit (ratings, MSE) or implicit (positives, BCE against negatives).
    pub feedback: Feedback,
    /// Embedding size.
    #[serde(rename = "factors", alias = "dim")]
    pub dim: i64,
    /// neumf: MLP layers.
    #[serde(default = "default_layers")]
    pub layers: usize,
    /// mlp: hidden layer widths.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<i64>,
    /// Sequence models: items per training sequence (and history length when scoring).
    #[serde(default = "default_max_len")]
    pub max_len: usize,
    /// Passes over the training data.
    pub epochs: usize,
    /// Interactions (sequences) per minibatch; `None`: 256, or about 1000 steps an epoch on
    /// more than 256k train interactions (at most 4096).
    pub batch: Option<i64>,
    /// Pair models: adam, sparse-adam or adagrad.
    #[serde(default = "default_optimizer")]
    pub optimizer: OptimizerKind,
    /// Learning rate; `None`: the optimizer's default for the kind.
    pub lr: Option<f64>,
    /// L2 added to the gradient.
    pub weight_decay: f64,
    /// Implicit pair models: negatives per positive, drawn afresh each epoch.
    #[serde(default = "default_negatives")]
    pub negatives: i64,
    /// Implicit pair models: how negatives are drawn.
    #[serde(default = "default_sampling")]
    pub sampling: Sampling,
}

fn default_layers() -> usize {
    3
}
fn default_hidden() -> Vec<i64> {
    vec![128, 256, 128]
}
fn default_max_len() -> usize {
    20
}
fn default_optimizer() -> OptimizerKind {
    OptimizerKind::Adam
}
fn default_negatives() -> i64 {
    4
}
fn default_sampling() -> Sampling {
    Sampling::Uniform
}

/// The largest batch the default picks.
const MAX_DEFAULT_BATCH: i64 = 4096;

impl NetworkConfig {
    /// The defaults of `kind`: dim 32, 10 epochs, lazy Adam for mf and dense Adam for the other
    /// pair models, weight decay 1e-4 for bilinear, 4 uniform negatives.
    pub fn defaults(kind: NetKind) -> NetworkConfig {
        NetworkConfig {
            feedback: kind.default_feedback(),
            dim: 32,
            layers: default_layers(),
            hidden: default_hidden(),
            max_len: default_max_len(),
            epochs: 10,
            batch: None,
            optimizer: match kind {
                NetKind::Mf => OptimizerKind::SparseAdam,
                _ => OptimizerKind::Adam,
            },
            lr: None,
            weight_decay: if kind == NetKind::Bilinear { 1e-4 } else { 0.0 },
            negatives: default_negatives(),
            sampling: default_sampling(),
        }
    }

    /// The settings `kind` takes (the fields of its defaults that mean something for it).
    pub fn keys(kind: NetKind) -> Vec<&'static str> {
        let mut keys = vec![];
        if kind.chooses_feedback() {
            keys.push("feedback");
        }
        keys.extend(["factors", "epochs", "batch", "lr", "weight_decay"]);
        if !kind.is_sequence() {
            keys.push("optimizer");
        }
        if !kind.is_sequence() && kind != NetKind::Mlp {
            keys.extend(["negatives", "sampling"]);
        }
        match kind {
            NetKind::Neumf => keys.push("layers"),
            NetKind::Mlp => keys.push("hidden"),
            k if k.is_sequence() => keys.push("max_len"),
            _ => {}
        }
        keys
    }

    /// With `lr` and `batch` settled for `kind` on `n_train` train interactions.
    pub fn resolved(&self, kind: NetKind, n_train: u64) -> NetworkConfig {
        let batch = self.batch.unwrap_or_else(|| {
            if kind.is_sequence() {
                return 256;
            }
            let per_step = (n_train / 1000).max(1).next_power_of_two() as i64;
            per_step.clamp(256, MAX_DEFAULT_BATCH)
        });
        NetworkConfig {
            batch: Some(batch),
            lr: Some(self.lr.unwrap_or(self.optimizer.default_lr(kind))),
            ..self.clone()
        }
    }

    /// Check every value for `kind` before anything is built: one line naming the setting.
    pub fn check(&self, kind: NetKind) -> Result<()> {
        let name = kind.name();
        match (kind, self.feedback) {
            (NetKind::Mlp, Feedback::Implicit) => bail!(
                "mlp (RecommenderNet) predicts a rating in [1, 5]; it trains on explicit feedback only"
            ),
            (NetKind::TwoTower, Feedback::Explicit) => {
                bail!("two-tower trains on implicit feedback only (BCE with negatives)")
            }
            (k, Feedback::Explicit) if k.is_sequence() => bail!(
                "{name} is a next-item sequence model; it trains on implicit feedback only"
            ),
            _ => {}
        }
        if self.dim < 1 || self.dim > 1 << 16 {
            bail!("{name}: factors must be 1 to 65536, got {}", self.dim);
        }
        if self.epochs < 1 || self.epochs > 1_000_000 {
            bail!("{name}: epochs must be 1 to 1000000, got {}", self.epochs);
        }
        if let Some(b) = self.batch.filter(|b| !(1..=1 << 24).contains(b)) {
            bail!("{name}: batch must be 1 to 16777216, got {b}");
        }
        if let Some(lr) = self.lr.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
            bail!("{name}: lr must be a positive finite number, got {lr}");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            bail!(
                "{name}: weight_decay must be a finite number at least 0, got {}",
                self.weight_decay
            );
        }
        if kind.is_sequence() && self.optimizer != OptimizerKind::Adam {
            bail!("{name} is a sequence model and trains with its own dense Adam; optimizer is for the pair models");
        }
        if self.feedback == Feedback::Implicit
            && !kind.is_sequence()
            && !(1..=1000).contains(&self.negatives)
        {
            bail!(
                "{name}: negatives must be 1 to 1000, got {}",
                self.negatives
            );
        }
        match kind {
            NetKind::Mlp
                if self.hidden.is_empty() || self.hidden.iter().any(|&h| !(1..=1 << 16).contains(&h)) =>
            {
                bail!("mlp: hidden must list layer widths of 1 to 65536, got {:?}", self.hidden)
            }
            NetKind::Neumf if !(1..=8).contains(&self.layers) => {
                bail!("neumf: layers must be 1 to 8, got {}", self.layers)
            }
            k if k.is_sequence() && !(2..=4096).contains(&self.max_len) => bail!(
                "{name}: max_len must be 2 to 4096 (one item to predict from, one to predict), got {}",
                self.max_len
            ),
            _ => Ok(()),
        }
    }

    /// Refuse, with the size named, a model or an epoch's negatives larger than this
    /// machine's memory (on `n_users`, `n_items` and `n_train` train interactions).
    pub fn ensure_fits(
        &self,
        kind: NetKind,
        n_users: i64,
        n_items: i64,
        n_train: u64,
    ) -> Result<()> {
        let batch = self.batch.unwrap_or(MAX_DEFAULT_BATCH);
        ensure_fits(
            &format!("the {} model with {} factors", kind.name(), self.dim),
            self.training_bytes(kind, n_users, n_items, batch),
            "lower factors (or layers, hidden, max_len)",
        )?;
        if self.feedback == Feedback::Implicit && !kind.is_sequence() {
            // An epoch's draws (int64), then per batch the candidates, their users and labels,
            // the scores with their gradients, and both gathered embeddings forward and back.
            let negatives = self.negatives as u64;
            let batch = n_train.min(batch as u64);
            let per_row = 8 + 8 + 4 + 8 + 16 * self.dim as u64;
            let bytes = tensor_bytes(&[n_train, negatives], 8).and_then(|draws| {
                let rows = negatives.checked_add(1)?.checked_mul(batch)?;
                draws.checked_add(rows.checked_mul(per_row)?)
            });
            ensure_fits(
                &format!("drawing {negatives} negatives for each of {n_train} train interactions"),
                bytes,
                "lower negatives",
            )?;
        }
        Ok(())
    }

    /// About how many bytes training needs (weights, gradients and Adam's two moments, plus a
    /// batch's activations), computed before anything is allocated; `None` on overflow.
    fn training_bytes(&self, kind: NetKind, n_users: i64, n_items: i64, batch: i64) -> Option<u64> {
        let (nu, ni) = (n_users as u64, n_items as u64 + 1);
        let d = u64::try_from(self.dim).ok()?;
        let b = u64::try_from(batch).ok()?;
        let tables = |width: u64| nu.checked_add(ni)?.checked_mul(width);
        let params = match kind {
            NetKind::Neumf => {
                let shift = u32::try_from(self.layers.checked_sub(1)?).ok()?;
                let mlp = d.checked_shl(shift).filter(|m| m >> shift == d)?;
                let square = mlp.checked_mul(mlp)?.checked_mul(2)?;
                tables(d.checked_add(mlp)?)?.checked_add(square)?
            }
            NetKind::Mlp => {
                let mut widths = vec![d.checked_mul(2)?];
                widths.extend(self.hidden.iter().map(|&h| h.max(0) as u64));
                let dense = widths
                    .windows(2)
                    .try_fold(0u64, |acc, w| acc.checked_add(w[0].checked_mul(w[1])?))?;
                tables(d)?.checked_add(dense)?
            }
            k if k.is_sequence() => {
                let recurrent = d.checked_mul(d)?.checked_mul(16)?;
                ni.checked_mul(d)?.checked_mul(2)?.checked_add(recurrent)?
            }
            NetKind::TwoTower => tables(d)?.checked_add(d.checked_mul(d)?.checked_mul(4)?)?,
            _ => tables(d.checked_add(1)?)?,
        };
        let len = if kind.is_sequence() {
            (self.max_len as u64).max(1)
        } else {
            1
        };
        let activations = b.checked_mul(len)?.checked_mul(d)?.checked_mul(8)?;
        params
            .checked_mul(4)?
            .checked_add(activations)?
            .checked_mul(4)
    }
}
