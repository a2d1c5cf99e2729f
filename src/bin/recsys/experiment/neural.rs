//! The command line's neural pair models (mf, neumf, two-tower; bilinear, mlp) as experiment
//! contenders: built as `recsys train` builds them, trained by the same loop ([`fit_pairs`])
//! with train's defaults, and scored through the classic models' traits.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use tch::{Device, Tensor};

use super::contenders::Fitted;
use crate::fit::{fit_pairs, PairData, PairTraining};
use crate::zoo::{AppModel, ModelConfig, ModelKind, OptimizerKind, Query, Sampling};
use recsys::classic::{Ranker, RatingPredictor, TrainSet};

/// The settings a neural contender takes (`--set`, `--grid`).
pub const KEYS: &[&str] = &["dim", "epochs", "lr", "weight_decay", "negatives"];

/// A trained network of the zoo.
struct Neural(AppModel);

impl Ranker for Neural {
    fn scores(&self, users: &[i64]) -> Result<Tensor> {
        let queries: Vec<Query> = users.iter().map(|&u| Query::User(u)).collect();
        Ok(self.0.score_rows(&queries)?.to_device(Device::Cpu))
    }
}

impl RatingPredictor for Neural {
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        self.0.predict_ratings(users, items)
    }
}

/// Build and train `kind` on `train` with `settings` over train's defaults (dim 32, 10
/// epochs, the model's default optimizer and rate, 4 negatives, batch 256).
pub fn fit(
    kind: ModelKind,
    settings: &BTreeMap<String, f64>,
    train: &TrainSet,
    device: Device,
) -> Result<Fitted> {
    let whole = |key: &str, default: usize| -> Result<usize> {
        match settings.get(key) {
            None => Ok(default),
            Some(&v) if v >= 1.0 && v.fract() == 0.0 => Ok(v as usize),
            Some(v) => bail!("{}: {key} must be a whole number ≥ 1, got {v}", kind.name()),
        }
    };
    let optimizer = OptimizerKind::default_for(kind);
    let feedback = kind.default_feedback();
    let config = ModelConfig {
        kind,
        feedback,
        dim: whole("dim", 32)? as i64,
        layers: 3,
        hidden: vec![128, 256, 128],
        max_len: 20,
        n_users: train.n_users,
        n_items: train.n_items,
    };
    let training = PairTraining {
        optimizer,
        lr: settings
            .get("lr")
            .copied()
            .unwrap_or(optimizer.default_lr(kind)),
        weight_decay: settings
            .get("weight_decay")
            .copied()
            .unwrap_or(kind.default_weight_decay()),
        epochs: whole("epochs", 10)?,
        batch: 256,
        negatives: whole("negatives", 4)? as i64,
        sampling: Sampling::Uniform,
    };
    let model = AppModel::new(
        config,
        training.lr,
        training.weight_decay,
        training.batch,
        device,
    )?;
    let pairs = PairData {
        users: &train.users,
        items: &train.items,
        ratings: &train.values,
    };
    fit_pairs(&model, &pairs, &training, |epoch, loss, bar, _| {
        bar.finish();
        if !loss.is_finite() {
            bail!(
                "{}: the loss is {loss} at epoch {} (training diverged; lower lr)",
                kind.name(),
                epoch + 1
            );
        }
        Ok(())
    })?;
    let net = Neural(model);
    Ok(match kind.default_feedback() {
        crate::zoo::Feedback::Implicit => Fitted::Ranker(Box::new(net)),
        crate::zoo::Feedback::Explicit => Fitted::Rating(Box::new(net)),
    })
}
