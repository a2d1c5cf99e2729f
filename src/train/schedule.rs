//! Learning-rate schedules that PyTorch has and tch does not.
//!
//! [`ReduceLrOnPlateau`] follows `torch.optim.lr_scheduler.ReduceLROnPlateau` step for step
//! (mode, relative/absolute threshold, patience, cooldown, `min_lr`, `eps`), and drives any
//! [`Optimizer`] through `set_lr`.

use crate::optim::Optimizer;

/// Whether a lower or a higher metric is better (`mode` in PyTorch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlateauMode {
    /// Lower is better (a loss): PyTorch's `'min'`.
    Min,
    /// Higher is better (an accuracy): PyTorch's `'max'`.
    Max,
}

/// How `threshold` compares a new metric with the best one (`threshold_mode` in PyTorch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdMode {
    /// Better means beyond `best * (1 ∓ threshold)`: PyTorch's default `'rel'`.
    Rel,
    /// Better means beyond `best ∓ threshold`: `'abs'`.
    Abs,
}

/// `ReduceLROnPlateau`: multiply the learning rate by `factor` once the metric has not improved
/// for more than `patience` consecutive steps.
///
/// Same semantics as PyTorch 2.x: the first step always improves on `best = ±inf`; a step is an
/// improvement only when it beats the best by the threshold; after a reduction the bad-step count
/// restarts and `cooldown` steps are ignored; a reduction smaller than `eps` is skipped; the
/// learning rate never goes below `min_lr`. A NaN metric counts as a bad step.
#[derive(Debug, Clone)]
pub struct ReduceLrOnPlateau {
    pub mode: PlateauMode,
    pub factor: f64,
    pub patience: usize,
    pub threshold: f64,
    pub threshold_mode: ThresholdMode,
    pub cooldown: usize,
    pub min_lr: f64,
    pub eps: f64,
    lr: f64,
    best: f64,
    num_bad_epochs: usize,
    cooldown_counter: usize,
    steps: usize,
}

impl ReduceLrOnPlateau {
    /// PyTorch's defaults (`threshold 1e-4` relative, `cooldown 0`, `min_lr 0`, `eps 1e-8`)
    /// for an optimizer whose learning rate is now `lr`.
    pub fn new(lr: f64, mode: PlateauMode, factor: f64, patience: usize) -> ReduceLrOnPlateau {
        assert!(
            factor < 1.0,
            "ReduceLrOnPlateau: factor should be < 1.0, got {factor}"
        );
        let best = match mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        ReduceLrOnPlateau {
            mode,
            factor,
            patience,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            lr,
            best,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            steps: 0,
        }
    }

    /// The learning rate the schedule has set.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// The best metric seen so far.
    pub fn best(&self) -> f64 {
        self.best
    }

    /// Consecutive steps without improvement.
    pub fn num_bad_epochs(&self) -> usize {
        self.num_bad_epochs
    }

    fn is_better(&self, current: f64) -> bool {
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => current < self.best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => current < self.best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => current > self.best * (1.0 + self.threshold),
            (PlateauMode::Max, ThresholdMode::Abs) => current > self.best + self.threshold,
        }
    }

    /// One step with this epoch's metric. Returns `Some(new_lr)` when the learning rate was
    /// reduced at this step, `None` otherwise.
    pub fn step(&mut self, metric: f64) -> Option<f64> {
        self.steps += 1;
        if self.is_better(metric) {
            self.best = metric;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.patience {
            self.num_bad_epochs = 0;
            self.cooldown_counter = self.cooldown;
            let new_lr = (self.lr * self.factor).max(self.min_lr);
            if self.lr - new_lr > self.eps {
                self.lr = new_lr;
                return Some(new_lr);
            }
        }
        None
    }

    /// [`ReduceLrOnPlateau::step`], then set the optimizer's learning rate when it changed.
    pub fn step_optimizer(
        &mut self,
        metric: f64,
        optimizer: &mut dyn Optimizer,
    ) -> anyhow::Result<Option<f64>> {
        let reduced = self.step(metric);
        if let Some(lr) = reduced {
            optimizer.set_lr(lr)?;
        }
        Ok(reduced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scripted losses; the expected learning rates were produced by PyTorch 2.11's
    /// `ReduceLROnPlateau(opt, 'min', factor=0.3, patience=2)` on the same sequence.
    #[test]
    fn reduces_after_patience_like_pytorch() {
        let losses = [
            1.0,
            0.9,
            0.95,
            0.9,
            0.91, // 3 bad steps after 0.9 -> reduce at step 5
            0.8,
            0.79995,
            0.8,
            0.8, // 0.79995 is not 1e-4 better than 0.8 -> reduce at step 9
            0.5,
            f64::NAN,
            0.6,
            0.7,
            0.4,
        ];
        let expected = [
            1e-3, 1e-3, 1e-3, 1e-3, 3e-4, 3e-4, 3e-4, 3e-4, 9e-5, 9e-5, 9e-5, 9e-5, 2.7e-5, 2.7e-5,
        ];
        let mut s = ReduceLrOnPlateau::new(1e-3, PlateauMode::Min, 0.3, 2);
        for (i, (&loss, &lr)) in losses.iter().zip(&expected).enumerate() {
            s.step(loss);
            assert!(
                (s.lr() - lr).abs() < 1e-12,
                "step {}: lr {} != {}",
                i + 1,
                s.lr(),
                lr
            );
        }
        assert_eq!(s.best(), 0.4);
    }

    #[test]
    fn respects_min_lr_eps_and_cooldown() {
        let mut s = ReduceLrOnPlateau::new(1.0, PlateauMode::Min, 0.5, 0);
        s.cooldown = 1;
        s.min_lr = 0.3;
        assert_eq!(s.step(1.0), None); // first step improves on +inf
        assert_eq!(s.step(1.0), Some(0.5));
        assert_eq!(s.step(1.0), None); // cooldown
        assert_eq!(s.step(1.0), Some(0.3)); // clamped at min_lr
        assert_eq!(s.step(1.0), None); // cooldown
        assert_eq!(s.step(1.0), None); // already at min_lr: no change
        assert_eq!(s.lr(), 0.3);
        let mut m = ReduceLrOnPlateau::new(1.0, PlateauMode::Max, 0.1, 0);
        assert_eq!(m.step(0.5), None);
        assert_eq!(m.step(0.4), Some(0.1));
    }
}
