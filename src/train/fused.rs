//! mf's epoch through the fused step of feature `fast` ([`FusedMfStep`]): the same batches,
//! the same negatives and the same update rule as the plain loop of [`crate::train::pairs`]
//! (`torch.optim.SparseAdam` on BCE), without libtorch's per-step work. It runs for `mf` with
//! implicit feedback and `--optimizer sparse-adam` (mf's default) on the CPU; every other
//! network, optimizer or device takes the plain loop, which stays and is what the fused step
//! is tested against (tests/fused_mf.rs).

use anyhow::{ensure, Result};
use tch::{Device, Tensor};

use crate::optim::fast::mf_step::{i64_slice, FusedMfStep};
use crate::recommender::network::{Feedback, NetKind, Network, OptimizerKind};
use crate::recommender::Recommender;
use crate::runtime::progress::Progress;

/// The fused step for `model` when it can take one (see the module notes), at `lr` with the
/// configuration's weight decay; `None` otherwise.
pub fn fused_mf_step(model: &Network, lr: f64) -> Result<Option<FusedMfStep>> {
    let t = &model.config;
    let eligible = model.kind == NetKind::Mf
        && t.feedback == Feedback::Implicit
        && t.optimizer == OptimizerKind::SparseAdam
        && model.device() == Device::Cpu;
    match model.mf_tables() {
        Some((users, items)) if eligible => {
            Ok(Some(FusedMfStep::new(users, items, lr, t.weight_decay)?))
        }
        _ => Ok(None),
    }
}

/// One epoch: batch `b` holds the positives `perm[b·batch..]` (rows of `users`, `items`), each
/// followed by its row of `negatives` `[n, k]` (by batch position, as the plain loop reads
/// them), labels 1 then `k` zeros. `bar` moves a step a batch and shows the running loss.
/// Returns the mean of the batches' losses.
pub fn fused_epoch(
    step: &mut FusedMfStep,
    perm: &Tensor,
    (users, items): (&Tensor, &Tensor),
    negatives: &Tensor,
    batch: i64,
    bar: &Progress,
) -> Result<f64> {
    let n = perm.numel();
    let k = negatives.size().get(1).copied().unwrap_or(0) as usize;
    ensure!(
        users.numel() == n && items.numel() == n && negatives.numel() == n * k,
        "{n} positives, {} users, {} items and {} negatives",
        users.numel(),
        items.numel(),
        negatives.numel()
    );
    // SAFETY: the epoch's own tensors, made by the caller and written by nobody while it runs.
    let (perm, users, items, negs) = unsafe {
        (
            i64_slice(perm)?,
            i64_slice(users)?,
            i64_slice(items)?,
            i64_slice(negatives)?,
        )
    };
    ensure!(
        perm.iter().all(|&r| (0..n as i64).contains(&r)),
        "the epoch's order is not a permutation of its rows"
    );
    let batch = batch.max(1) as usize;
    let (mut bu, mut bi, mut by) = (Vec::new(), Vec::new(), Vec::new());
    let (mut total, mut count) = (0.0, 0usize);
    for start in (0..n).step_by(batch) {
        bu.clear();
        bi.clear();
        by.clear();
        for r in start..(start + batch).min(n) {
            let row = perm[r] as usize;
            let u = users[row];
            bu.push(u);
            bi.push(items[row]);
            by.push(1.0);
            for &neg in &negs[r * k..(r + 1) * k] {
                bu.push(u);
                bi.push(neg);
                by.push(0.0);
            }
        }
        total += step.step(&bu, &bi, &by)?;
        count += 1;
        bar.inc(1);
        if count % 50 == 0 {
            bar.set_message(format!("loss {:.4}", total / count as f64));
        }
    }
    Ok(total / count.max(1) as f64)
}
