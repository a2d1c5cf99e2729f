//! The optimizers `recsys train` offers the pair models (`--optimizer`), their defaults, and
//! how a model builds one.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use super::{AppModel, ModelKind};
use recsys::optim::sparse::{SparseOptimizer, SparseRule};
use recsys::optim::{Adam, Optimizer};

/// The optimizer of the pair models (`--optimizer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
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
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Adam => "adam",
            OptimizerKind::SparseAdam => "sparse-adam",
            OptimizerKind::Adagrad => "adagrad",
        }
    }

    /// Whether a step costs in proportion to the batch (sparse embedding gradients).
    pub fn is_sparse(self) -> bool {
        self != OptimizerKind::Adam
    }

    /// The default of `model`: lazy Adam for mf (all embedding tables; measured no worse than
    /// dense Adam on ml-100k, see docs/scale.md), dense Adam for the others.
    pub fn default_for(model: ModelKind) -> OptimizerKind {
        match model {
            ModelKind::Mf => OptimizerKind::SparseAdam,
            _ => OptimizerKind::Adam,
        }
    }

    /// The default learning rate of this optimizer for `model`: the model's Adam rate for
    /// dense Adam, twice it for lazy Adam (a row moves only on the steps that touch it), 0.3
    /// for Adagrad (the rates measured best for mf on ml-100k, docs/scale.md).
    pub fn default_lr(self, model: ModelKind) -> f64 {
        match self {
            OptimizerKind::Adam => model.default_lr(),
            OptimizerKind::SparseAdam => 2.0 * model.default_lr(),
            OptimizerKind::Adagrad => 0.3,
        }
    }
}

impl AppModel {
    /// The optimizer `kind` over the pair models' variables (the sequence models have their
    /// own). The lazy ones ([`OptimizerKind::is_sparse`]) cost in proportion to the batch when
    /// the lookups leave sparse gradients: train under
    /// [`recsys::models::layers::SparseLookups::set`].
    pub fn optimizer(
        &self,
        kind: OptimizerKind,
        lr: f64,
        weight_decay: f64,
    ) -> Result<Box<dyn Optimizer>> {
        if self.is_sequence() {
            bail!("a sequence model trains with its own optimizer");
        }
        let vs = self.var_store();
        Ok(match kind {
            OptimizerKind::Adam => Box::new(Adam::with_weight_decay(vs, lr, weight_decay)?),
            OptimizerKind::SparseAdam => Box::new(SparseOptimizer::new(
                vs,
                SparseRule::Adam,
                lr,
                weight_decay,
            )?),
            OptimizerKind::Adagrad => Box::new(SparseOptimizer::new(
                vs,
                SparseRule::Adagrad,
                lr,
                weight_decay,
            )?),
        })
    }
}
