//! What notebook 000's port runs after the notebook's own flow, marked as beyond it: Neural
//! Matrix Factorization (the notebook's `# TODO`), trained and evaluated as MF was, and the loss
//! plot of every training run side by side.

use std::path::PathBuf;

use anyhow::Result;
use tch::{nn, Tensor};

use recsys::eval::sampled::SampledCandidates;
use recsys::models::neumf::{NeuMF, NeuMFConfig};
use recsys::{report::plot, say};

use super::outcome::{ModelRuns, TrainingData};
use super::train::{evaluate, train_fn};
use super::{Args, Mode};
use crate::notebooks::transcript::Out;

/// The heading printed before anything the notebook did not run.
pub const HEADING: &str = "beyond the notebook: NeuMF (the notebook's TODO)";

/// The two training sets of the notebook: positives only, and with one sampled negative each.
pub struct TrainingSets<'a> {
    pub unsampled: &'a TrainingData,
    pub sampled: &'a TrainingData,
}

/// NeuMF, untrained, trained without sampling and with sampling (the MF run's negatives), each
/// evaluated on the notebook's candidates.
#[allow(clippy::too_many_arguments)]
pub fn neumf(
    out: &Out,
    args: &Args,
    mode: Mode,
    (n_users, n_items): (i64, i64),
    data: &TrainingSets,
    candidates: &SampledCandidates,
    pairs: &(Tensor, Tensor),
) -> Result<ModelRuns> {
    let device = out.ctx.device;
    let config = NeuMFConfig {
        factors: args.factors,
        mlp_layers: args.neumf_layers,
        embedding_std: 0.01,
    };
    say!(
        out,
        "NeuMF(factors={}, mlp_layers={}), untrained:",
        config.factors,
        config.mlp_layers
    );
    let vs = nn::VarStore::new(device);
    let model = NeuMF::new(&vs.root(), n_users, n_items, config);
    let untrained = evaluate(out, &model, candidates, pairs)?;
    say!(out, "NeuMF, training without sampling:");
    let vs = nn::VarStore::new(device);
    let model = NeuMF::new(&vs.root(), n_users, n_items, config);
    let unsampled_training = train_fn(
        out,
        &model,
        &vs,
        args,
        args.epochs,
        data.unsampled,
        mode,
        "NeuMF",
    )?;
    let trained_unsampled = evaluate(out, &model, candidates, pairs)?;
    say!(out, "NeuMF, training with sampling (the same negatives):");
    let vs = nn::VarStore::new(device);
    let model = NeuMF::new(&vs.root(), n_users, n_items, config);
    let sampled_training = train_fn(
        out,
        &model,
        &vs,
        args,
        args.sampled_epochs,
        data.sampled,
        mode,
        "NeuMF sampled",
    )?;
    let trained_sampled = evaluate(out, &model, candidates, pairs)?;
    Ok(ModelRuns {
        untrained,
        unsampled_training,
        trained_unsampled,
        sampled_training,
        trained_sampled,
    })
}

/// Every training run's printed loss per epoch in one plot, `<prefix>loss-per-epoch-all.png`
/// (the notebook's own plot, MF without sampling alone, is `<prefix>loss-per-epoch.png`).
pub fn all_losses_plot(
    out: &Out,
    prefix: &str,
    mode: Mode,
    mf: &ModelRuns,
    neumf: Option<&ModelRuns>,
) -> Result<PathBuf> {
    let mut series: Vec<(&str, &[f64])> = vec![
        ("MF without sampling", &mf.unsampled_training.printed),
        ("MF with sampling", &mf.sampled_training.printed),
    ];
    if let Some(n) = neumf {
        series.push(("NeuMF without sampling", &n.unsampled_training.printed));
        series.push(("NeuMF with sampling", &n.sampled_training.printed));
    }
    let path = out
        .ctx
        .write_output_with(&format!("{prefix}loss-per-epoch-all.png"), |p| {
            plot::line_chart(
                p,
                "Training loss, every run",
                "epoch",
                loss_name(mode),
                &series,
            )
        })?;
    say!(
        out,
        "plot (every run, beyond the notebook): {}",
        path.display()
    );
    Ok(path)
}

/// What the printed loss is in each mode, for the plots' axes.
pub fn loss_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Faithful => "avg loss after epoch (running mean)",
        Mode::Corrected => "mean loss of epoch",
    }
}
