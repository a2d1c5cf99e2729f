//! The one minibatch loop every model trains with, and the batch orders the notebooks use.
//!
//! [`epoch`] is the loop in plain sight: for each batch, in the order given, compute the loss,
//! then `zero_grad`, `backward`, `step`. The order is the caller's, drawn before the loop, so
//! each port keeps its PyTorch twin's random draws, in the same order:
//!
//! - notebook 000: `randperm(n)` on the data's device ([`shuffled_on`]), then contiguous
//!   batches of the shuffled tensors;
//! - notebook 002 (Spotlight's `shuffle`), the exercise and the `recsys train` command:
//!   `randperm(n)` on the CPU generator, then moved ([`shuffled_on_cpu`]), batches indexing it;
//! - notebook 003: a `DataLoader(shuffle=True)`, its batches built up front (with the
//!   negatives drawn after the shuffle);
//! - notebook 004: the rows in file order ([`ranges`] over them).

use anyhow::Result;
use tch::{Device, Kind, Tensor};

use crate::optim::Optimizer;

/// What one epoch leaves: its step losses, detached, on the device (read them when needed).
#[derive(Debug)]
pub struct EpochLosses {
    /// The step losses added one after the other, on the device, in `f32` (as the notebooks'
    /// `train_loss += loss`); a zero on the CPU for an empty epoch.
    pub total: Tensor,
    /// Each step's loss, in order.
    pub steps: Vec<Tensor>,
}

impl EpochLosses {
    /// Number of steps.
    pub fn count(&self) -> usize {
        self.steps.len()
    }

    /// The last step's loss, if any.
    pub fn last(&self) -> Option<&Tensor> {
        self.steps.last()
    }

    /// `total / steps`, read from the device once (0 for an empty epoch).
    pub fn mean(&self) -> Result<f64> {
        Ok(f64::try_from(&self.total)? / self.count().max(1) as f64)
    }

    /// The step losses as one tensor `[steps]` on the device (empty on the CPU if none).
    pub fn stacked(&self) -> Tensor {
        if self.steps.is_empty() {
            return Tensor::zeros([0], (Kind::Float, Device::Cpu));
        }
        Tensor::stack(&self.steps, 0)
    }
}

/// One epoch: for each of `batches` in order, `loss_of(batch)`, then one step of `optimizer`
/// on that loss; `on_step` runs after each step with the losses so far (e.g. to move a
/// progress bar).
pub fn epoch<B>(
    optimizer: &mut dyn Optimizer,
    batches: impl IntoIterator<Item = B>,
    mut loss_of: impl FnMut(B) -> Result<Tensor>,
    mut on_step: impl FnMut(&EpochLosses),
) -> Result<EpochLosses> {
    let mut losses = EpochLosses {
        total: Tensor::zeros([], (Kind::Float, Device::Cpu)),
        steps: Vec::new(),
    };
    for batch in batches {
        let loss = loss_of(batch)?;
        optimizer.backward_step(&loss)?;
        let loss = loss.detach();
        if losses.steps.is_empty() {
            losses.total = Tensor::zeros([], (loss.kind(), loss.device()));
        }
        losses.total += &loss;
        losses.steps.push(loss);
        on_step(&losses);
    }
    Ok(losses)
}

/// `(start, len)` of consecutive batches of `batch_size` over `n` rows, the last one shorter.
pub fn ranges(n: i64, batch_size: i64) -> impl Iterator<Item = (i64, i64)> {
    let b = batch_size.max(1);
    (0..n)
        .step_by(b as usize)
        .map(move |start| (start, b.min(n - start)))
}

/// `torch.randperm(n, device=device)`: a shuffle drawn by `device`'s generator.
pub fn shuffled_on(n: i64, device: Device) -> Tensor {
    Tensor::randperm(n, (Kind::Int64, device))
}

/// `torch.randperm(n)` drawn by the CPU generator, then moved to `device` (Spotlight's
/// `shuffle`, and a `DataLoader`'s).
pub fn shuffled_on_cpu(n: i64, device: Device) -> Tensor {
    Tensor::randperm(n, (Kind::Int64, Device::Cpu)).to_device(device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_row_once() {
        let r: Vec<_> = ranges(10, 4).collect();
        assert_eq!(r, vec![(0, 4), (4, 4), (8, 2)]);
        assert_eq!(ranges(0, 4).count(), 0);
    }
}
