//! Optimizers: one small [`Optimizer`] trait that every training loop of the crate takes.
//!
//! - The plain path is tch's own: `nn::Adam::default().build(&vs, lr)`, `nn::Sgd`, … (a
//!   `tch::nn::Optimizer` implements [`Optimizer`]).
//! - [`Adam`] is libtorch's Adam, exactly, with PyTorch's defaults. With the cargo feature
//!   `fast` (on by default) it is a fused CPU step, bit for bit libtorch's and several times
//!   faster on embedding tables ([`fast`]); without it, tch's `nn::Adam` itself.
//!
//! Sparse gradients: with `fast`, [`crate::models::layers::lookup`] leaves CPU embedding tables
//! a sparse gradient. Every [`Optimizer`] of this crate accepts one: [`Adam`] folds it into a
//! dense one with libtorch's own additions; the implementation for `tch::nn::Optimizer` makes
//! it dense before libtorch's step (libtorch's Adam refuses sparse gradients). Call the
//! optimizer through the trait (as the crate's loops do): tch's inherent
//! `nn::Optimizer::step` does not make the gradient dense.

use anyhow::Result;
use tch::{nn, Tensor};

#[cfg(feature = "fast")]
pub mod fast;
pub mod sparse;

#[cfg(feature = "fast")]
pub use fast::Adam;
#[cfg(not(feature = "fast"))]
pub use plain::Adam;

/// What a training loop needs of an optimizer.
pub trait Optimizer {
    /// Drop (or zero) every parameter's gradient.
    fn zero_grad(&mut self) -> Result<()>;

    /// One update of every parameter from its gradient.
    fn step(&mut self) -> Result<()>;

    /// Set the learning rate (for a schedule).
    fn set_lr(&mut self, lr: f64) -> Result<()>;

    /// `zero_grad`, `loss.backward()`, `step`: one training step.
    fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        self.zero_grad()?;
        loss.f_backward()?;
        self.step()
    }
}

impl Optimizer for Adam {
    fn zero_grad(&mut self) -> Result<()> {
        Adam::zero_grad(self)
    }

    fn step(&mut self) -> Result<()> {
        Adam::step(self)
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        Adam::set_lr(self, lr)
    }
}

/// tch's optimizers (`nn::Adam`, `nn::Sgd`, `nn::RmsProp`, … built with `OptimizerConfig`).
/// A sparse gradient is made dense before the step (see the module notes). tch's own methods
/// panic if libtorch raises, which only a broken model makes them do.
impl Optimizer for nn::Optimizer {
    fn zero_grad(&mut self) -> Result<()> {
        nn::Optimizer::zero_grad(self);
        Ok(())
    }

    fn step(&mut self) -> Result<()> {
        // Only the feature `fast` makes sparse gradients (see the module notes).
        if cfg!(feature = "fast") {
            densify_sparse_grads(&self.trainable_variables())?;
        }
        nn::Optimizer::step(self);
        Ok(())
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        nn::Optimizer::set_lr(self, lr);
        Ok(())
    }
}

/// Replaces every sparse gradient of `params` by its dense sum. Autograd does it: adding a
/// dense zero gradient to a sparse one leaves `zeros + sparse`, a dense tensor, as the grad.
fn densify_sparse_grads(params: &[Tensor]) -> Result<()> {
    for p in params {
        let grad = p.grad();
        if grad.defined() && grad.is_sparse() {
            let zero = tch::with_grad(|| (p * 0.0).sum(p.kind()));
            zero.f_backward()?;
        }
    }
    Ok(())
}

/// Which Adam step runs on the CPU: the fused loops of feature `fast` (and which of them), or
/// libtorch's own.
pub fn cpu_kernel() -> &'static str {
    #[cfg(feature = "fast")]
    {
        fast::cpu_kernel()
    }
    #[cfg(not(feature = "fast"))]
    {
        "libtorch's (built without feature `fast`)"
    }
}

/// What the run-time check of the fused Adam against libtorch's compared
/// (`fast::check_against_libtorch`, behind [`check_fused_adam`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SelfCheck {
    /// Optimizer steps taken by each side (both runs together).
    pub steps: usize,
    /// Weights compared at the end (both runs together).
    pub weights: usize,
    /// How many of them differ in any bit.
    pub differing: usize,
}

impl SelfCheck {
    /// Every weight came out with libtorch's bits.
    pub fn identical(&self) -> bool {
        self.differing == 0 && self.weights > 0
    }
}

/// The run-time check of the fused Adam against libtorch's on this machine
/// ([`fast::check_against_libtorch`]); `None` without feature `fast`, where [`Adam`] is
/// libtorch's own and there is nothing to check.
#[cfg(feature = "fast")]
pub fn check_fused_adam() -> Result<Option<SelfCheck>> {
    fast::check_against_libtorch().map(Some)
}

/// Without feature `fast`, [`Adam`] is libtorch's own: nothing to check.
#[cfg(not(feature = "fast"))]
pub fn check_fused_adam() -> Result<Option<SelfCheck>> {
    Ok(None)
}

/// Without feature `fast`: [`Adam`] is tch's `nn::Adam`, libtorch's own.
#[cfg(not(feature = "fast"))]
mod plain {
    use anyhow::Result;
    use tch::nn::{self, OptimizerConfig};
    use tch::Tensor;

    /// Adam (Kingma & Ba) with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, L2 weight
    /// decay added to the gradient (coupled, like `torch.optim.Adam`'s `weight_decay`).
    /// libtorch's `torch::optim::Adam`, through tch's `nn::Adam`.
    pub struct Adam {
        inner: nn::Optimizer,
        lr: f64,
    }

    impl std::fmt::Debug for Adam {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.debug_struct("Adam").field("lr", &self.lr).finish()
        }
    }

    impl Adam {
        /// Adam over every trainable variable of `vs` (create the model's variables first).
        pub fn new(vs: &nn::VarStore, lr: f64) -> Result<Adam> {
            Adam::with_weight_decay(vs, lr, 0.0)
        }

        /// Adam with L2 weight decay `weight_decay` (`torch.optim.Adam(..., weight_decay=...)`).
        pub fn with_weight_decay(vs: &nn::VarStore, lr: f64, weight_decay: f64) -> Result<Adam> {
            let inner = nn::Adam::default().wd(weight_decay).build(vs, lr)?;
            Ok(Adam { inner, lr })
        }

        /// The learning rate.
        pub fn lr(&self) -> f64 {
            self.lr
        }

        /// Whether the step is the fused CPU loops: never without feature `fast`.
        pub fn is_fused(&self) -> bool {
            false
        }

        /// Change the learning rate (for a scheduler).
        pub fn set_lr(&mut self, lr: f64) -> Result<()> {
            super::Optimizer::set_lr(&mut self.inner, lr)?;
            self.lr = lr;
            Ok(())
        }

        /// Drop every parameter's gradient (libtorch's `zero_grad`, set to none).
        pub fn zero_grad(&mut self) -> Result<()> {
            super::Optimizer::zero_grad(&mut self.inner)
        }

        /// `zero_grad`, `loss.backward()`, `step`.
        pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
            super::Optimizer::backward_step(&mut self.inner, loss)
        }

        /// One Adam update of every parameter that has a gradient.
        pub fn step(&mut self) -> Result<()> {
            super::Optimizer::step(&mut self.inner)
        }
    }
}

#[cfg(test)]
mod tests;
