//! How a pair network builds its optimizer.

use anyhow::{bail, Result};

use super::{Network, OptimizerKind};
use crate::optim::sparse::{SparseOptimizer, SparseRule};
use crate::optim::{Adam, Optimizer};

impl Network {
    /// The optimizer `kind` over the pair models' variables (the sequence models have their
    /// own). The lazy ones ([`OptimizerKind::is_sparse`]) cost in proportion to the batch when
    /// the lookups leave sparse gradients, which [`Network::new`] turns on from the
    /// configuration's optimizer.
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
