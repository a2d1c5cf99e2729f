//! Sizes `recsys train` settles before allocating: the default batch, and whether the model and
//! an epoch's negatives fit in memory.

use anyhow::Result;

use super::TrainArgs;
use crate::zoo::{Feedback, ModelConfig, ModelKind};
use recsys::runtime::memory::{ensure_fits, tensor_bytes};

/// The largest batch [`default_batch`] picks.
const MAX_DEFAULT_BATCH: i64 = 4096;

/// `--batch`'s default: 256, or for a pair model on more than 256k train interactions about
/// 1000 steps an epoch (a power of two, at most [`MAX_DEFAULT_BATCH`]): on 25M ratings a step
/// of 256 costs little more than its fixed overhead (docs/scale.md).
pub fn default_batch(kind: ModelKind, n_train: u64) -> i64 {
    if kind.representation().is_some() {
        return 256;
    }
    let per_step = (n_train / 1000).max(1).next_power_of_two() as i64;
    per_step.clamp(256, MAX_DEFAULT_BATCH)
}

/// Refuse, with the size named, a model or negative draw larger than this machine's memory.
pub fn ensure_sizes(config: &ModelConfig, args: &TrainArgs, n_train: u64) -> Result<()> {
    ensure_fits(
        &format!("the {} model with --dim {}", config.kind.name(), config.dim),
        training_bytes(config, args.batch.unwrap_or(MAX_DEFAULT_BATCH)),
        "lower --dim (or --layers, --hidden, --max-len)",
    )?;
    if config.feedback == Feedback::Implicit && config.kind.representation().is_none() {
        // An epoch's draws (int64), then per batch the candidates, their users and labels, the
        // scores with their gradients, and both gathered embeddings forward and backward.
        let negatives = args.negatives as u64;
        let batch = n_train.min(args.batch.unwrap_or(MAX_DEFAULT_BATCH) as u64);
        let per_row = 8 + 8 + 4 + 8 + 16 * config.dim as u64;
        let bytes = tensor_bytes(&[n_train, negatives], 8).and_then(|draws| {
            let rows = negatives.checked_add(1)?.checked_mul(batch)?;
            draws.checked_add(rows.checked_mul(per_row)?)
        });
        ensure_fits(
            &format!("drawing {negatives} negatives for each of {n_train} train interactions"),
            bytes,
            "lower --negatives",
        )?;
    }
    Ok(())
}

/// About how many bytes training needs (weights, gradients and Adam's two moments, plus a
/// batch's activations), computed before anything is allocated; `None` when the count
/// overflows.
fn training_bytes(config: &ModelConfig, batch: i64) -> Option<u64> {
    let c = config;
    let (nu, ni) = (c.n_users as u64, c.n_items as u64 + 1);
    let d = u64::try_from(c.dim).ok()?;
    let b = u64::try_from(batch).ok()?;
    let tables = |width: u64| nu.checked_add(ni)?.checked_mul(width);
    let params = match c.kind {
        ModelKind::Neumf => {
            let shift = u32::try_from(c.layers.checked_sub(1)?).ok()?;
            let mlp = d.checked_shl(shift).filter(|m| m >> shift == d)?;
            let square = mlp.checked_mul(mlp)?.checked_mul(2)?;
            tables(d.checked_add(mlp)?)?.checked_add(square)?
        }
        ModelKind::Mlp => {
            let mut widths = vec![d.checked_mul(2)?];
            widths.extend(c.hidden.iter().map(|&h| h.max(0) as u64));
            let dense = widths
                .windows(2)
                .try_fold(0u64, |acc, w| acc.checked_add(w[0].checked_mul(w[1])?))?;
            tables(d)?.checked_add(dense)?
        }
        ModelKind::Pooling | ModelKind::Cbow | ModelKind::Gru | ModelKind::Lstm => {
            let recurrent = d.checked_mul(d)?.checked_mul(16)?;
            ni.checked_mul(d)?.checked_mul(2)?.checked_add(recurrent)?
        }
        ModelKind::TwoTower => tables(d)?.checked_add(d.checked_mul(d)?.checked_mul(4)?)?,
        _ => tables(d.checked_add(1)?)?,
    };
    let len = match c.kind.representation() {
        Some(_) => (c.max_len as u64).max(1),
        None => 1,
    };
    let activations = b.checked_mul(len)?.checked_mul(d)?.checked_mul(8)?;
    params
        .checked_mul(4)?
        .checked_add(activations)?
        .checked_mul(4)
}
