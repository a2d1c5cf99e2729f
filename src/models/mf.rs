//! Matrix factorization for implicit feedback (notebook 000): a user embedding and an item
//! embedding, scored by their dot product (a logit, trained with BCE-with-logits).

use anyhow::Result;
use tch::{nn, Reduction, Tensor};

use super::layers::lookup_for;
use crate::optim::Optimizer;
use crate::train;

pub use super::PairScorer;

/// `p_u · q_i`: user and item embeddings of `n_factors` each, initialised N(0, 1) like
/// PyTorch's `nn.Embedding` (users drawn first, then items).
#[derive(Debug)]
pub struct MatrixFactorization {
    /// User embeddings, `[n_users, n_factors]`.
    pub users: nn::Embedding,
    /// Item embeddings, `[n_items, n_factors]`.
    pub items: nn::Embedding,
    /// Sparse embedding gradients on every device and build, for an optimizer that updates only
    /// the batch's rows (the network sets it from its optimizer); `false`: as `layers::lookup`.
    pub sparse_lookups: bool,
}

impl MatrixFactorization {
    /// A model for users `0..n_users` and items `0..n_items`, with its variables under `vs`.
    pub fn new(vs: &nn::Path, n_users: i64, n_items: i64, n_factors: i64) -> MatrixFactorization {
        let config = nn::EmbeddingConfig::default();
        MatrixFactorization {
            users: nn::embedding(vs / "users", n_users, n_factors, config),
            items: nn::embedding(vs / "items", n_items, n_factors, config),
            sparse_lookups: false,
        }
    }
}

impl PairScorer for MatrixFactorization {
    fn score(&self, users: &Tensor, items: &Tensor) -> Tensor {
        let user_emb = lookup_for(&self.users.ws, users, self.sparse_lookups);
        let item_emb = lookup_for(&self.items.ws, items, self.sparse_lookups);
        (user_emb * item_emb).sum_dim_intlist(1, false, None)
    }

    /// The users' rows times the item table.
    fn score_grid(&self, users: &Tensor, _block_users: i64) -> Option<Tensor> {
        let rows = self.users.ws.index_select(0, users);
        Some(rows.matmul(&self.items.ws.tr()))
    }
}

/// One epoch of notebook 000's `train_fn` on `(users, items, targets)` (tensors on one device):
/// a `randperm(n)` shuffle drawn on that device, then for each contiguous batch of
/// `batch_size`, BCE-with-logits of `model`'s scores against the targets and one optimizer
/// step ([`train::epoch`]). `on_step` runs after each step (e.g. to move a progress bar).
/// Returns every step's loss, `[n_batches]`, left on the device.
pub fn bce_epoch(
    model: &dyn PairScorer,
    optimizer: &mut dyn Optimizer,
    (users, items, targets): (&Tensor, &Tensor, &Tensor),
    batch_size: i64,
    mut on_step: impl FnMut(),
) -> Result<Tensor> {
    let n = users.size()[0];
    let order = train::shuffled_on(n, users.device());
    let (users, items, targets) = (
        users.index_select(0, &order),
        items.index_select(0, &order),
        targets.index_select(0, &order),
    );
    let losses = train::epoch(
        optimizer,
        train::ranges(n, batch_size),
        |(start, len)| {
            let prediction =
                model.score(&users.narrow(0, start, len), &items.narrow(0, start, len));
            Ok(prediction.binary_cross_entropy_with_logits::<Tensor>(
                &targets.narrow(0, start, len),
                None,
                None,
                Reduction::Mean,
            ))
        },
        |_| on_step(),
    )?;
    Ok(losses.stacked())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn scores_are_dot_products() {
        tch::manual_seed(1);
        let vs = nn::VarStore::new(Device::Cpu);
        let mf = MatrixFactorization::new(&vs.root(), 4, 6, 3);
        let u = Tensor::from_slice(&[0i64, 3]);
        let i = Tensor::from_slice(&[5i64, 2]);
        let s = mf.score(&u, &i);
        assert_eq!(s.size(), vec![2]);
        let expect = (mf.users.ws.get(3) * mf.items.ws.get(2)).sum(Kind::Float);
        assert!((s.get(1) - expect).abs().double_value(&[]) < 1e-6);
    }
}
