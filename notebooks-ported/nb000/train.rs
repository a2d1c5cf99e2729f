//! Notebook 000's `train_fn` and its evaluation cell.

use std::time::Instant;

use anyhow::Result;
use recsys::eval::sampled::{SampledCandidates, SampledMetrics};
use recsys::models::mf::{self, PairScorer};
use recsys::optim::Adam;
use recsys::{runtime::progress, say};
use tch::{nn, Device, Kind, Tensor};

use super::outcome::{TrainLog, TrainingData};
use super::{Args, Mode, KS};
use crate::notebooks::transcript::{aside, Out};

/// The width of the notebook's tqdm lines: 119 columns, so 79 blocks at 804 steps per epoch.
pub const TQDM_NCOLS: usize = 119;

/// The notebook's `train_fn`: Adam and BCE-with-logits over shuffled batches, one progress bar
/// per epoch (on a terminal; elsewhere tqdm's last line, as the notebook shows it). Batches are
/// slices of a per-epoch `randperm` shuffle of tensors already on the device; step losses stay
/// on the device and are read once per epoch.
#[allow(clippy::too_many_arguments)]
pub fn train_fn(
    out: &Out,
    model: &dyn PairScorer,
    vs: &nn::VarStore,
    args: &Args,
    n_epochs: usize,
    data: &TrainingData,
    mode: Mode,
    label: &str,
) -> Result<TrainLog> {
    let mut optimizer = Adam::new(vs, args.lr)?;
    let batches = data.batches(args.batch_size);
    let started = Instant::now();
    let mut all_steps: Vec<f64> = Vec::new();
    let (mut printed, mut epoch_means, mut running_means) = (vec![], vec![], vec![]);
    for epoch in 1..=n_epochs {
        say!(out, "Running epoch {epoch}");
        let epoch_started = Instant::now();
        let bar = progress::epoch_bar(batches as u64, label);
        let step_losses = mf::bce_epoch(
            model,
            &mut optimizer,
            (&data.users, &data.items, &data.targets),
            args.batch_size,
            || bar.inc(1),
        )?;
        let losses: Vec<f64> =
            Vec::try_from(step_losses.to_kind(Kind::Double).to_device(Device::Cpu))?;
        let epoch_mean = losses.iter().sum::<f64>() / losses.len().max(1) as f64;
        all_steps.extend(losses);
        let running = all_steps.iter().sum::<f64>() / all_steps.len().max(1) as f64;
        bar.finish_with_message(format!("loss {epoch_mean:.4}"));
        out.tqdm_done(batches as u64, epoch_started.elapsed(), Some(TQDM_NCOLS));
        epoch_means.push(epoch_mean);
        running_means.push(running);
        match mode {
            Mode::Faithful => {
                printed.push(running);
                say!(out, "Avg loss after epoch {epoch}, is equal to {running}");
            }
            Mode::Corrected => {
                printed.push(epoch_mean);
                say!(out, "Mean loss of epoch {epoch} = {epoch_mean}");
            }
        }
    }
    if mode == Mode::Faithful && n_epochs > 1 {
        aside!(
            out,
            "note (faithful): the \"avg loss after epoch\" is the mean over all steps so far \
             (epoch_loss is never reset in the notebook); the last epoch alone averaged {}",
            epoch_means.last().copied().unwrap_or(f64::NAN)
        );
    }
    let wall_s = started.elapsed().as_secs_f64();
    let steps = all_steps.len();
    Ok(TrainLog {
        printed,
        epoch_means,
        running_means,
        steps,
        wall_s,
        steps_per_s: steps as f64 / wall_s.max(1e-9),
    })
}

/// Score every candidate pair in one forward pass and print Recall@k as the notebook does
/// (NDCG@k and HitRate@k after it).
pub fn evaluate(
    out: &Out,
    model: &dyn PairScorer,
    candidates: &SampledCandidates,
    pairs: &(Tensor, Tensor),
) -> Result<SampledMetrics> {
    let scores = tch::no_grad(|| model.score(&pairs.0, &pairs.1));
    let scores: Vec<f32> = Vec::try_from(scores.to_kind(Kind::Float).to_device(Device::Cpu))?;
    let metrics = candidates.evaluate(&scores, &KS)?;
    for (k, r) in metrics.ks.iter().zip(&metrics.recall) {
        say!(out, "Recall@{k} = {r}");
    }
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.4}"))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    aside!(
        out,
        "  NDCG@5/10/30 = {}, HitRate@5/10/30 = {}",
        fmt(&metrics.ndcg),
        fmt(&metrics.hit_rate)
    );
    Ok(metrics)
}
