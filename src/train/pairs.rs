//! The estimator of the networks: builds a [`Network`] from its configuration and trains it,
//! pair models by minibatches of train pairs (each positive with `negatives` items drawn afresh
//! every epoch under implicit feedback, BCE; the ratings under explicit feedback, MSE), one
//! optimizer step per batch; sequence models by their own next-item loop. After every epoch the
//! loss and a probe of the weights are checked, so a diverged run stops with a clear error.

use std::time::Instant;

use anyhow::{bail, Result};
use tch::{Device, Kind, Tensor};

use crate::classic::TrainSet;
use crate::data::interactions::Interactions;
use crate::prep::sequence::to_sequences;
use crate::recommender::network::{Feedback, NetKind, Network, NetworkConfig, Sampling};
use crate::recommender::{Recommender, Sizes};
use crate::runtime::progress::Progress;
use crate::train;

/// What the estimator reports after each epoch (0-based), with the network as it stands.
pub struct EpochEnd<'a> {
    pub epoch: usize,
    pub epochs: usize,
    pub loss: f64,
    pub seconds: f64,
    pub model: &'a Network,
}

/// Build `kind` with `config` (resolved for the train size) and train it on `train`, whose
/// rows' `times` order each user's items for the sequence models. `on_epoch` runs after every
/// epoch (the caller prints, validates, or stops with an error). Returns the network and each
/// epoch's mean loss.
pub fn fit_network(
    kind: NetKind,
    config: &NetworkConfig,
    train: &TrainSet,
    times: Option<&[i64]>,
    device: Device,
    mut on_epoch: impl FnMut(&EpochEnd) -> Result<()>,
) -> Result<(Network, Vec<f64>)> {
    let config = config.resolved(kind, train.len() as u64);
    config.check(kind)?;
    let sizes = Sizes {
        n_users: train.n_users,
        n_items: train.n_items,
    };
    config.ensure_fits(kind, sizes.n_users, sizes.n_items, train.len() as u64)?;
    let mut model = Network::new(kind, config.clone(), sizes, device)?;
    let probe_len = train.len().min(256);
    let probe = (
        Tensor::from_slice(&train.users[..probe_len]).to_device(device),
        Tensor::from_slice(&train.items[..probe_len]).to_device(device),
    );
    let lr = config.lr.unwrap_or(0.0);
    let mut losses = Vec::new();
    let mut end = |model: &Network, epoch: usize, loss: f64, bar: &Progress, t: Instant| {
        bar.set_message(format!("loss {loss:.4}"));
        bar.finish();
        ensure_finite(model, &probe, loss, epoch, lr)?;
        losses.push(loss);
        on_epoch(&EpochEnd {
            epoch,
            epochs: config.epochs,
            loss,
            seconds: t.elapsed().as_secs_f64(),
            model,
        })
    };
    if kind.is_sequence() {
        let Some(times) = times else {
            bail!(
                "{} orders each user's items by time: it needs the train rows' timestamps",
                kind.name()
            );
        };
        let n = train.len();
        let inter = Interactions {
            user_ids: train.users.clone(),
            item_ids: train.items.iter().map(|i| i + 1).collect(),
            ratings: vec![1.0; n],
            timestamps: times.to_vec(),
            num_users: sizes.n_users,
            num_items: sizes.n_items + 1,
        };
        let tensor = to_sequences(&inter, config.max_len, config.max_len)?.tensor(device);
        for epoch in 0..config.epochs {
            let bar = Progress::new(
                1,
                &format!("epoch {}/{}", epoch + 1, config.epochs),
                "epochs",
            );
            let t = Instant::now();
            let loss = model.fit_sequences(&tensor)?;
            end(&model, epoch, loss, &bar, t)?;
        }
    } else {
        fit_pairs(&model, train, |epoch, loss, bar, t| {
            end(&model, epoch, loss, bar, t)
        })?;
    }
    Ok((model, losses))
}

/// Stop a diverged run: a loss, weight or score that is not finite would only save a model
/// that scores nothing. `probe` is a few train (user, item) pairs to score.
fn ensure_finite(
    model: &Network,
    probe: &(Tensor, Tensor),
    loss: f64,
    epoch: usize,
    lr: f64,
) -> Result<()> {
    let what = if !loss.is_finite() {
        format!("the mean loss of epoch {} is {loss}", epoch + 1)
    } else if !model.is_finite(&probe.0, &probe.1)? {
        format!(
            "after epoch {} the model's weights or scores are NaN or infinite",
            epoch + 1
        )
    } else {
        return Ok(());
    };
    bail!("training diverged: {what}; nothing was saved (lower the learning rate lr, now {lr})")
}

/// Train `model` on `data`. After each epoch, `after_epoch(epoch, mean loss, its progress bar,
/// its start)` runs: the caller prints, checks the weights, or stops with an error.
fn fit_pairs(
    model: &Network,
    data: &TrainSet,
    mut after_epoch: impl FnMut(usize, f64, &Progress, Instant) -> Result<()>,
) -> Result<()> {
    let device = model.device();
    let t = &model.config;
    let feedback = t.feedback;
    let n_items = model.sizes.n_items;
    let (lr, batch) = (t.lr.unwrap_or(0.0), t.batch.unwrap_or(256));
    // mf on the CPU with lazy Adam takes the fused step of feature `fast` (crate::train::fused);
    // everything else, libtorch's step through the optimizer.
    #[cfg(feature = "fast")]
    let mut fused = super::fused::fused_mf_step(model, lr)?;
    #[cfg(not(feature = "fast"))]
    let fused: Option<()> = None;
    let mut opt = match fused {
        Some(_) => None,
        None => Some(model.optimizer(t.optimizer, lr, t.weight_decay)?),
    };
    let n = data.users.len() as i64;
    let u_all = Tensor::from_slice(&data.users).to_device(device);
    let i_all = Tensor::from_slice(&data.items).to_device(device);
    let r_all = Tensor::from_slice(&data.values).to_device(device);
    let popularity = (t.sampling == Sampling::Popularity).then(|| {
        let mut counts = vec![0f32; n_items as usize];
        for &i in &data.items {
            counts[i as usize] += 1.0;
        }
        Tensor::from_slice(&counts)
    });
    let n_batches = (n + batch - 1) / batch;
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
            let labels = Tensor::zeros([batch.min(n), negs.size()[1] + 1], (Kind::Float, device));
            let _ = labels.narrow(1, 0, 1).fill_(1.0);
            labels
        });
        #[cfg(feature = "fast")]
        if let (Some(step), Some(negs)) = (fused.as_mut(), negs.as_ref()) {
            let loss = super::fused::fused_epoch(step, &perm, (&u_all, &i_all), negs, batch, &bar)?;
            after_epoch(epoch, loss, &bar, started)?;
            continue;
        }
        let Some(opt) = opt.as_mut() else {
            bail!("no optimizer for {}", model.kind.name());
        };
        let epoch_losses = train::epoch(
            opt.as_mut(),
            train::ranges(n, batch),
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
