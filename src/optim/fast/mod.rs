//! Adam with a fused CPU step (feature `fast`): the same update as libtorch's
//! `torch::optim::Adam` (what tch's `nn::Adam` wraps), bit for bit, in one to three passes over
//! each parameter instead of about eight.
//!
//! Why: in the notebooks' embedding models the optimizer step is most of a training step on
//! the CPU. libtorch updates each parameter with separate kernels (`mul_`, `add_`, `mul_`,
//! `addcmul_`, `sqrt`, `div`, `add_`, `addcdiv_`), every one a full pass over the whole embedding
//! table. [`Adam`] does the same arithmetic, in the same order and with the same roundings
//! (ATen's vectorized `add` and `addcmul` are fused multiply-adds), element by element
//! ([`kernels`]).
//!
//! - Built over contiguous `f32` CPU parameters, the step is the fused loops; built over
//!   anything else (CUDA, other dtypes), it is libtorch's own Adam.
//! - Soundness: the fused step reads and writes parameters as `f32` slices, so before touching
//!   any memory, every step checks every parameter (device, dtype, contiguity, element count)
//!   and its gradient against what the optimizer was built for. A model converted or moved
//!   after the optimizer was built (`VarStore::half`, `set_kind`, `set_device`) gets an error
//!   from `step`, with nothing updated: its moments no longer fit, and libtorch's Adam, which has
//!   none, would silently restart them. Build the optimizer again after converting.
//! - `zero_grad` is libtorch's (gradients set to none), so a parameter that gets no gradient in
//!   a step is skipped by that step, as in PyTorch.
//! - A sparse gradient (from [`crate::models::layers::lookup`] on the CPU: the batch's rows, in
//!   batch order, not yet summed) is first folded into a dense one row by row in that order,
//!   starting from zeros: the very additions libtorch's dense embedding backward makes
//!   (`embedding_dense_backward_cpu`, `index_add_`), so the update is the same to the bit. It
//!   spares libtorch's per-row kernel calls and the zero-filling of a fresh table-sized gradient.

use anyhow::{ensure, Result};
use tch::{nn, COptimizer, Device, Kind, Tensor};

mod kernels;
pub mod mf_step;
#[cfg(target_arch = "x86_64")]
mod one_pass;
mod selfcheck;
#[cfg(test)]
mod tests;

pub use kernels::cpu_kernel;
use kernels::{check_f32, f32_slice, f32_slice_mut, fused_update, one_pass_available, Hyper};
pub use mf_step::FusedMfStep;
pub use selfcheck::check_against_libtorch;

/// Adam's moments for one parameter, created at its first step (as libtorch does), a buffer
/// for `sqrt(exp_avg_sq)`, computed in place (the three-pass step only; none when the one-pass
/// step runs), and one for sparse gradients made dense (all zeros between steps; empty until a
/// sparse gradient comes).
struct Moments {
    step: i32,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    sqrt_buf: Option<Tensor>,
    dense_grad: Vec<f32>,
}

/// Adam (Kingma & Ba) with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, L2 weight decay
/// added to the gradient (coupled, like `torch.optim.Adam`'s `weight_decay`).
pub struct Adam {
    params: Vec<Tensor>,
    /// Each parameter's element count when the optimizer was built.
    sizes: Vec<usize>,
    moments: Vec<Option<Moments>>,
    /// libtorch's Adam over the same parameters: it zeroes the gradients, and steps them when
    /// they were not all contiguous `f32` on the CPU when the optimizer was built.
    libtorch: COptimizer,
    fused: bool,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
}

impl std::fmt::Debug for Adam {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Adam")
            .field("params", &self.params.len())
            .field("fused", &self.fused)
            .field("lr", &self.lr)
            .field("weight_decay", &self.weight_decay)
            .finish()
    }
}

impl Adam {
    /// Adam over every trainable variable of `vs` (create the model's variables first).
    pub fn new(vs: &nn::VarStore, lr: f64) -> Result<Adam> {
        Adam::with_weight_decay(vs, lr, 0.0)
    }

    /// Adam with L2 weight decay `weight_decay` (`torch.optim.Adam(..., weight_decay=...)`).
    pub fn with_weight_decay(vs: &nn::VarStore, lr: f64, weight_decay: f64) -> Result<Adam> {
        let (beta1, beta2, eps) = (0.9, 0.999, 1e-8);
        let params = vs.trainable_variables();
        let mut libtorch = COptimizer::adam(lr, beta1, beta2, weight_decay, eps, false)?;
        for p in &params {
            libtorch.add_parameters(p, 0)?;
        }
        let fused = params
            .iter()
            .all(|p| p.device() == Device::Cpu && p.kind() == Kind::Float && p.is_contiguous());
        Ok(Adam {
            sizes: params.iter().map(Tensor::numel).collect(),
            moments: params.iter().map(|_| None).collect(),
            params,
            libtorch,
            fused,
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
        })
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Whether the step is the fused CPU loops (else libtorch's own Adam).
    pub fn is_fused(&self) -> bool {
        self.fused
    }

    /// Change the learning rate (for a scheduler).
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        self.libtorch.set_learning_rate(lr)?;
        self.lr = lr;
        Ok(())
    }

    /// Drop every parameter's gradient (libtorch's `zero_grad`, set to none).
    pub fn zero_grad(&mut self) -> Result<()> {
        self.libtorch.zero_grad()?;
        Ok(())
    }

    /// `zero_grad`, `loss.backward()`, `step`.
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        super::Optimizer::backward_step(self, loss)
    }

    /// One Adam update of every parameter that has a gradient. Fails, updating nothing, when a
    /// parameter or a gradient is no longer what the fused step was built for (see the module
    /// notes).
    pub fn step(&mut self) -> Result<()> {
        if !self.fused {
            self.libtorch.step()?;
            return Ok(());
        }
        tch::no_grad(|| {
            // Check everything first: an error leaves every parameter as it was.
            let mut grads = Vec::with_capacity(self.params.len());
            for (i, p) in self.params.iter().enumerate() {
                check_f32(p, self.sizes[i], || format!("parameter {i}"))?;
                let grad = p.grad();
                grads.push(if !grad.defined() {
                    None
                } else if grad.is_sparse() {
                    Some(Grad::Sparse(SparseRows::of(&grad, p)?))
                } else {
                    let grad = grad.contiguous();
                    check_f32(&grad, self.sizes[i], || {
                        format!("the gradient of parameter {i}")
                    })?;
                    Some(Grad::Dense(grad))
                });
            }
            for ((p, moments), grad) in self.params.iter_mut().zip(&mut self.moments).zip(grads) {
                let Some(grad) = grad else { continue };
                let m = moments.get_or_insert_with(|| Moments {
                    step: 0,
                    exp_avg: p.zeros_like(),
                    exp_avg_sq: p.zeros_like(),
                    sqrt_buf: (!one_pass_available()).then(|| p.zeros_like()),
                    dense_grad: Vec::new(),
                });
                m.step += 1;
                let h = Hyper::new(
                    self.lr,
                    self.beta1,
                    self.beta2,
                    self.eps,
                    self.weight_decay,
                    m.step,
                );
                // SAFETY: `p` and the moments passed `check_f32` (the moments are the
                // optimizer's own tensors, made like `p`); no forward pass runs during the step
                // and no other handle to the moments exists.
                let (value, exp_avg, exp_avg_sq) = unsafe {
                    (
                        f32_slice_mut(p),
                        f32_slice_mut(&mut m.exp_avg),
                        f32_slice_mut(&mut m.exp_avg_sq),
                    )
                };
                match grad {
                    Grad::Sparse(rows) => {
                        let mut dense = std::mem::take(&mut m.dense_grad);
                        dense.resize(value.len(), 0.0);
                        rows.add_to(&mut dense);
                        let h = &h;
                        fused_update(value, &dense, exp_avg, exp_avg_sq, m.sqrt_buf.as_mut(), h)?;
                        rows.clear(&mut dense);
                        m.dense_grad = dense;
                    }
                    Grad::Dense(grad) => {
                        // SAFETY: checked above; a contiguous copy (or the gradient itself),
                        // which nothing writes during the step.
                        let grad = unsafe { f32_slice(&grad) };
                        fused_update(value, grad, exp_avg, exp_avg_sq, m.sqrt_buf.as_mut(), &h)?;
                    }
                }
            }
            Ok(())
        })
    }
}

/// A parameter's gradient, checked.
enum Grad {
    Dense(Tensor),
    Sparse(SparseRows),
}

/// A sparse COO gradient of a `[rows, width]` table as the embedding backward makes it: one
/// row index per batch row (repeats allowed, in batch order) and the matching gradient rows.
struct SparseRows {
    index: Vec<i64>,
    values: Tensor,
    width: usize,
}

impl SparseRows {
    /// The rows of `grad`, a sparse gradient of the 2-d parameter `p`, checked: int64 row
    /// indices within the table, contiguous `f32` CPU rows of its width.
    fn of(grad: &Tensor, p: &Tensor) -> Result<SparseRows> {
        let size = p.size();
        ensure!(
            size.len() == 2 && grad.sparse_dim() == 1 && grad.dense_dim() == 1,
            "Adam: a sparse gradient must hold rows of a 2-d table (shape {size:?})"
        );
        let index = grad.internal_indices();
        ensure!(
            index.kind() == Kind::Int64,
            "Adam: a sparse gradient's row indices must be int64"
        );
        let index = Vec::<i64>::try_from(index.flatten(0, -1))?;
        let values = grad.internal_values().contiguous();
        check_f32(&values, index.len() * size[1] as usize, || {
            "a sparse gradient's rows".into()
        })?;
        ensure!(
            index.iter().all(|&r| (0..size[0]).contains(&r)),
            "Adam: sparse gradient row out of range"
        );
        Ok(SparseRows {
            index,
            values,
            width: size[1] as usize,
        })
    }

    /// `dense[row] += values[j]` for each j in order: libtorch's dense embedding backward.
    fn add_to(&self, dense: &mut [f32]) {
        // SAFETY: `values` passed `check_f32` in `of`, and is the step's own contiguous handle.
        let values = unsafe { f32_slice(&self.values) };
        let w = self.width;
        for (&row, src) in self.index.iter().zip(values.chunks_exact(w.max(1))) {
            let dst = &mut dense[row as usize * w..(row as usize + 1) * w];
            for (d, s) in dst.iter_mut().zip(src) {
                *d += *s;
            }
        }
    }

    /// Zeroes again the rows [`SparseRows::add_to`] wrote.
    fn clear(&self, dense: &mut [f32]) {
        let w = self.width;
        for &row in &self.index {
            dense[row as usize * w..(row as usize + 1) * w].fill(0.0);
        }
    }
}
