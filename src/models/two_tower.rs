//! The two-tower (DSSM-style) model of notebook 003, its training data with uniform negatives,
//! and top-k retrieval from the extracted embedding matrices.
//!
//! Each tower is an embedding table ([`SimpleTower`]); [`BaseTwoHead`] scores a (user, item)
//! pair by the dot product of their embeddings. Training rows are built by [`TowerTrain`]: for
//! each interaction its user, the positive item followed by `num_negatives` items drawn
//! uniformly (they may hit the positive or another seen item, as in the notebook), and labels
//! `1, 0, ..., 0`; the loss is binary cross-entropy with logits over all of them.

use super::layers::lookup_for;
use crate::optim::{Adam, Optimizer};
use crate::train;
use anyhow::{bail, Result};
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};

use crate::eval::metrics::top_k;

/// One tower: an embedding table of `num_embeddings` rows (N(0, 1) init, like PyTorch).
/// Features could be added here; notebook 003 uses ids only.
#[derive(Debug)]
pub struct SimpleTower {
    /// The embedding table, `[num_embeddings, emb_dim]`.
    pub emb: nn::Embedding,
    /// Sparse embedding gradients on every device and build, for an optimizer that updates only
    /// the batch's rows (the network sets it from its optimizer); `false`: as `layers::lookup`.
    pub sparse_lookups: bool,
}

impl SimpleTower {
    /// A tower under `path` (its weight is `path/emb/weight`).
    pub fn new(path: &nn::Path, num_embeddings: i64, emb_dim: i64) -> SimpleTower {
        let emb = nn::embedding(path / "emb", num_embeddings, emb_dim, Default::default());
        SimpleTower {
            emb,
            sparse_lookups: false,
        }
    }

    /// The embeddings of `ids` (any shape of i64 indices), with a trailing `emb_dim` axis.
    pub fn forward(&self, ids: &Tensor) -> Tensor {
        lookup_for(&self.emb.ws, ids, self.sparse_lookups)
    }

    /// Number of rows of the table.
    pub fn num_embeddings(&self) -> i64 {
        self.emb.ws.size()[0]
    }
}

/// Two towers (users, items) whose dot product is the relevance score.
#[derive(Debug)]
pub struct BaseTwoHead {
    /// Embedding dimension shared by both towers.
    pub emb_dim: i64,
    /// User tower: `Embedding(n_users, emb_dim)`.
    pub user_tower: SimpleTower,
    /// Item tower: `Embedding(n_items, emb_dim)`.
    pub item_tower: SimpleTower,
}

impl BaseTwoHead {
    /// The model; the user table is created (drawn) before the item table, as in the notebook.
    pub fn new(path: &nn::Path, n_users: i64, n_items: i64, emb_dim: i64) -> BaseTwoHead {
        let user_tower = SimpleTower::new(&(path / "user_tower"), n_users, emb_dim);
        let item_tower = SimpleTower::new(&(path / "item_tower"), n_items, emb_dim);
        BaseTwoHead {
            emb_dim,
            user_tower,
            item_tower,
        }
    }

    /// Logits `[batch, m]` for users `[batch]` (or `[batch, 1]`) and items `[batch, m]`.
    pub fn forward(&self, user_ids: &Tensor, item_ids: &Tensor) -> Tensor {
        let user_emb = self.infer_users(&user_ids.reshape([-1, 1])); // (batch, 1, dim)
        let item_emb = self.infer_items(item_ids); // (batch, m, dim)
        (user_emb * item_emb).sum_dim_intlist(-1, false, Kind::Float)
    }

    /// User embeddings of `user_ids`.
    pub fn infer_users(&self, user_ids: &Tensor) -> Tensor {
        self.user_tower.forward(user_ids)
    }

    /// Item embeddings of `item_ids`.
    pub fn infer_items(&self, item_ids: &Tensor) -> Tensor {
        self.item_tower.forward(item_ids)
    }

    /// The user embedding matrix `[n_users, emb_dim]`, detached.
    pub fn user_embeddings(&self) -> Tensor {
        self.user_tower.emb.ws.detach()
    }

    /// The item embedding matrix `[n_items, emb_dim]`, detached.
    pub fn item_embeddings(&self) -> Tensor {
        self.item_tower.emb.ws.detach()
    }

    /// `Embedding(751, 16)`-style description of both towers.
    pub fn describe(&self) -> String {
        format!(
            "BaseTwoHead(user_tower: SimpleTower(Embedding({}, {d})), item_tower: SimpleTower(Embedding({}, {d})))",
            self.user_tower.num_embeddings(),
            self.item_tower.num_embeddings(),
            d = self.emb_dim
        )
    }
}

impl super::PairScorer for BaseTwoHead {
    /// The logit of each pair: the dot product of its user's and its item's embeddings.
    fn score(&self, users: &Tensor, items: &Tensor) -> Tensor {
        (self.infer_users(users) * self.infer_items(items)).sum_dim_intlist(-1, false, Kind::Float)
    }

    /// The users' tower outputs times every item's.
    fn score_grid(&self, users: &Tensor, _block_users: i64) -> Option<Tensor> {
        let items = Tensor::arange(
            self.item_tower.num_embeddings(),
            (Kind::Int64, users.device()),
        );
        Some(
            self.infer_users(users)
                .matmul(&self.infer_items(&items).tr()),
        )
    }
}

/// One batch: users `[b]`, items `[b, 1 + negatives]` (positive first), labels alike.
#[derive(Debug)]
pub struct TowerBatch {
    pub user_ids: Tensor,
    pub item_ids: Tensor,
    pub labels: Tensor,
}

/// The notebook's `TowerTrain` dataset: interactions (encoded user, item) on the device, with
/// `num_negatives` uniform negatives from `0..negative_range` drawn afresh every epoch.
#[derive(Debug)]
pub struct TowerTrain {
    users: Tensor,
    items: Tensor,
    /// Negatives per positive.
    pub num_negatives: i64,
    /// Negatives are drawn uniformly from item indices `0..negative_range`.
    pub negative_range: i64,
}

impl TowerTrain {
    /// Interactions as encoded ids. `negative_range` must be positive.
    pub fn new(
        users: &[i64],
        items: &[i64],
        num_negatives: i64,
        negative_range: i64,
        device: Device,
    ) -> Result<TowerTrain> {
        if users.len() != items.len() {
            bail!(
                "TowerTrain: {} users but {} items",
                users.len(),
                items.len()
            );
        }
        if users.is_empty() {
            bail!("TowerTrain: no interactions");
        }
        if negative_range < 1 || num_negatives < 0 {
            bail!("TowerTrain: negative range {negative_range} and {num_negatives} negatives");
        }
        Ok(TowerTrain {
            users: Tensor::from_slice(users).to(device),
            items: Tensor::from_slice(items).to(device),
            num_negatives,
            negative_range,
        })
    }

    /// Number of interactions.
    pub fn len(&self) -> usize {
        self.users.size()[0] as usize
    }

    /// Whether there are no interactions (never true for a built dataset).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of batches of `batch_size` in one pass (the last may be short).
    pub fn num_batches(&self, batch_size: usize) -> usize {
        self.len().div_ceil(batch_size)
    }

    /// One pass over the data in batches. Random draws, in this order: `randperm(n)` when
    /// `shuffle`, then `randint(0, negative_range, [n, num_negatives])` for the whole pass
    /// (row j of it goes with the j-th interaction visited).
    pub fn batches(&self, batch_size: usize, shuffle: bool) -> Vec<TowerBatch> {
        let n = self.len() as i64;
        let device = self.users.device();
        let (users, items) = if shuffle {
            let order = Tensor::randperm(n, (Kind::Int64, Device::Cpu)).to(device);
            (
                self.users.index_select(0, &order),
                self.items.index_select(0, &order),
            )
        } else {
            (self.users.shallow_clone(), self.items.shallow_clone())
        };
        let negatives = Tensor::randint_low(
            0,
            self.negative_range,
            [n, self.num_negatives],
            (Kind::Int64, Device::Cpu),
        )
        .to(device);
        let all_items = Tensor::cat(&[items.unsqueeze(1), negatives], 1);
        let labels = Tensor::zeros([n, 1 + self.num_negatives], (Kind::Float, device));
        let _ = labels.narrow(1, 0, 1).fill_(1.0);
        let b = batch_size.max(1) as i64;
        (0..n)
            .step_by(b as usize)
            .map(|start| {
                let len = b.min(n - start);
                TowerBatch {
                    user_ids: users.narrow(0, start, len),
                    item_ids: all_items.narrow(0, start, len),
                    labels: labels.narrow(0, start, len),
                }
            })
            .collect()
    }
}

/// Mean BCE-with-logits of the model on one batch.
pub fn batch_loss(model: &BaseTwoHead, batch: &TowerBatch) -> Tensor {
    model
        .forward(&batch.user_ids, &batch.item_ids)
        .binary_cross_entropy_with_logits::<Tensor>(&batch.labels, None, None, Reduction::Mean)
}

/// One shuffled training pass ([`train::epoch`] over [`TowerTrain::batches`], which draws the
/// shuffle, then the negatives); returns the mean of the batch losses (the notebook's
/// `train_loss / len(dl_train)`). The loss is summed on the device and read once.
/// `on_step` is called after each step (e.g. to move a progress bar).
pub fn train_epoch(
    model: &BaseTwoHead,
    optimizer: &mut dyn Optimizer,
    data: &TowerTrain,
    batch_size: usize,
    mut on_step: impl FnMut(),
) -> Result<f64> {
    let batches = data.batches(batch_size, true);
    let losses = train::epoch(
        optimizer,
        &batches,
        |batch| Ok(batch_loss(model, batch)),
        |_| on_step(),
    )?;
    losses.mean()
}

/// Mean batch loss over one unshuffled pass, without gradients (fresh negatives are drawn).
pub fn eval_loss(model: &BaseTwoHead, data: &TowerTrain, batch_size: usize) -> Result<f64> {
    tch::no_grad(|| {
        let batches = data.batches(batch_size, false);
        let mut total = Tensor::zeros([], (Kind::Float, data.users.device()));
        for batch in &batches {
            total += batch_loss(model, batch);
        }
        Ok(f64::try_from(total)? / batches.len() as f64)
    })
}

/// An Adam optimizer over `vs` (PyTorch's defaults: betas 0.9/0.999, eps 1e-8, no decay).
pub fn adam(vs: &nn::VarStore, lr: f64) -> Result<Adam> {
    Adam::new(vs, lr)
}

/// Scores of every item for each user (`user_emb[users] @ item_emb.T`), computed from the
/// extracted matrices, and each user's top `k` as (item index, score), best first, chosen
/// without sorting all items ([`crate::eval::metrics::top_k`]; ties keep the lower index first).
pub fn recommend_top_k(
    user_emb: &Tensor,
    item_emb: &Tensor,
    users: &[i64],
    k: usize,
) -> Result<Vec<Vec<(i64, f32)>>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let n_items = item_emb.size()[0] as usize;
    let scores = tch::no_grad(|| {
        let ids = Tensor::from_slice(users).to(user_emb.device());
        user_emb
            .index_select(0, &ids)
            .matmul(&item_emb.tr())
            .to_kind(Kind::Float)
            .to(Device::Cpu)
    });
    let flat: Vec<f32> = Vec::<f32>::try_from(scores.flatten(0, -1))?;
    Ok(flat
        .chunks(n_items)
        .map(|row| {
            top_k(row, k)
                .into_iter()
                .map(|i| (i as i64, row[i]))
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_labels() {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let model = BaseTwoHead::new(&vs.root(), 4, 7, 16);
        let data = TowerTrain::new(&[0, 1, 2, 3, 0], &[6, 5, 4, 3, 2], 10, 7, Device::Cpu).unwrap();
        let batches = data.batches(2, true);
        assert_eq!(batches.len(), 3);
        assert_eq!(batches[2].item_ids.size(), vec![1, 11]);
        let labels = Vec::<f32>::try_from(batches[0].labels.get(0)).unwrap();
        assert_eq!(labels[0], 1.0);
        assert!(labels[1..].iter().all(|&l| l == 0.0));
        let logits = model.forward(&batches[0].user_ids, &batches[0].item_ids);
        assert_eq!(logits.size(), vec![2, 11]);
        // a logit is the dot product of the two extracted rows
        let u = i64::try_from(batches[0].user_ids.get(0)).unwrap();
        let i = i64::try_from(batches[0].item_ids.get(0).get(3)).unwrap();
        let dot =
            (model.user_embeddings().get(u) * model.item_embeddings().get(i)).sum(Kind::Float);
        assert!(
            (f64::try_from(dot).unwrap() - f64::try_from(logits.get(0).get(3)).unwrap()).abs()
                < 1e-5
        );
        assert!(TowerTrain::new(&[0], &[], 10, 7, Device::Cpu).is_err());
    }

    #[test]
    fn top_k_from_embeddings() {
        let users = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 1.0]).reshape([2, 2]);
        let items = Tensor::from_slice(&[3.0f32, 0.0, 1.0, 2.0, 2.0, 5.0]).reshape([3, 2]);
        let recs = recommend_top_k(&users, &items, &[1, 0], 2).unwrap();
        assert_eq!(recs[0].iter().map(|r| r.0).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(recs[1].iter().map(|r| r.0).collect::<Vec<_>>(), vec![0, 2]);
    }
}
