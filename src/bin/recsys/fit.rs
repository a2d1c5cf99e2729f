//! The training loop of the pair models (mf, neumf, bilinear, two-tower, mlp), shared by
//! `recsys train` and `recsys experiment`: minibatches of train pairs, each positive with
//! `negatives` items drawn afresh every epoch (implicit feedback, BCE), or the ratings (explicit
//! feedback, MSE), one optimizer step per batch.

use std::time::Instant;

use anyhow::Result;
use tch::{Device, Kind, Tensor};

use crate::zoo::{AppModel, Feedback, OptimizerKind, Sampling};
use recsys::models::layers::SparseLookups;
use recsys::runtime::progress::Progress;
use recsys::train;

/// How a pair model is trained.
#[derive(Debug, Clone)]
pub struct PairTraining {
    pub optimizer: OptimizerKind,
    pub lr: f64,
    pub weight_decay: f64,
    pub epochs: usize,
    pub batch: i64,
    /// Implicit feedback: negatives per positive, drawn each epoch.
    pub negatives: i64,
    pub sampling: Sampling,
}

/// The train pairs in model indices, with their ratings (explicit feedback's targets).
pub struct PairData<'a> {
    pub users: &'a [i64],
    pub items: &'a [i64],
    pub ratings: &'a [f32],
}

/// Train `model` on `data`. After each epoch, `after_epoch(epoch, mean loss, its progress bar,
/// its start)` runs: the caller prints, checks the weights, or stops with an error.
pub fn fit_pairs(
    model: &AppModel,
    data: &PairData,
    t: &PairTraining,
    mut after_epoch: impl FnMut(usize, f64, &Progress, Instant) -> Result<()>,
) -> Result<()> {
    let device = model.device();
    let feedback = model.config.feedback;
    let n_items = model.config.n_items;
    let _sparse = SparseLookups::set(t.optimizer.is_sparse());
    let mut opt = model.optimizer(t.optimizer, t.lr, t.weight_decay)?;
    let n = data.users.len() as i64;
    let u_all = Tensor::from_slice(data.users).to_device(device);
    let i_all = Tensor::from_slice(data.items).to_device(device);
    let r_all = Tensor::from_slice(data.ratings).to_device(device);
    let popularity = (t.sampling == Sampling::Popularity).then(|| {
        let mut counts = vec![0f32; n_items as usize];
        for &i in data.items {
            counts[i as usize] += 1.0;
        }
        Tensor::from_slice(&counts)
    });
    let n_batches = (n + t.batch - 1) / t.batch;
    for epoch in 0..t.epochs {
        let started = Instant::now();
        let bar = Progress::new(
            n_batches as u64,
            &format!("epoch {}/{}", epoch + 1, t.epochs),
            "steps",
        );
        let perm = train::shuffled_on_cpu(n, device);
        let negs = (feedback == Feedback::Implicit).then(|| {
            let m = n * t.negatives;
            let draws = match &popularity {
                Some(p) => p.multinomial(m, true),
                None => Tensor::randint(n_items, [m], (Kind::Int64, Device::Cpu)),
            };
            draws.view([n, t.negatives]).to_device(device)
        });
        // The candidates' labels, [positive, negatives...] = [1, 0, ...], made once.
        let labels = negs.as_ref().map(|negs| {
            let labels = Tensor::zeros([t.batch.min(n), negs.size()[1] + 1], (Kind::Float, device));
            let _ = labels.narrow(1, 0, 1).fill_(1.0);
            labels
        });
        let epoch_losses = train::epoch(
            opt.as_mut(),
            train::ranges(n, t.batch),
            |(start, len)| {
                let idx = perm.narrow(0, start, len);
                let u = u_all.index_select(0, &idx);
                let i = i_all.index_select(0, &idx);
                match (&negs, &labels) {
                    (Some(negs), Some(labels)) => {
                        let cand = Tensor::cat(&[i.unsqueeze(1), negs.narrow(0, start, len)], 1);
                        let uu = u.unsqueeze(1).expand_as(&cand);
                        model.pair_loss(
                            &uu.reshape([-1]),
                            &cand.reshape([-1]),
                            &labels.narrow(0, 0, len).reshape([-1]),
                        )
                    }
                    _ => model.pair_loss(&u, &i, &r_all.index_select(0, &idx)),
                }
            },
            |so_far| {
                bar.inc(1);
                if so_far.count() % 50 == 0 {
                    bar.set_message(format!(
                        "loss {:.4}",
                        so_far.total.double_value(&[]) / so_far.count() as f64
                    ));
                }
            },
        )?;
        after_epoch(epoch, epoch_losses.mean()?, &bar, started)?;
    }
    Ok(())
}
