//! Lazy optimizers for embedding tables: a step costs in proportion to the rows a batch
//! touched, not to the table.
//!
//! With a sparse gradient (an embedding looked up with [`crate::models::layers::lookup`] while
//! [`crate::models::layers::set_sparse_lookups`] is on), only the rows in the batch are read and
//! written, moments included:
//!
//! - [`SparseRule::Adam`] is `torch.optim.SparseAdam` (lazy Adam): the moments of a row move
//!   only on the steps that touch it, and the bias correction counts every step of the table;
//! - [`SparseRule::Adagrad`] is `torch.optim.Adagrad` on sparse rows (`lr_decay` 0, initial
//!   accumulator 0, eps 1e-10).
//!
//! Both follow PyTorch's arithmetic operation by operation, so their numbers are PyTorch's
//! (tested against numbers printed by `torch.optim.SparseAdam` and `Adagrad`). A dense gradient
//! (a linear layer's, or any parameter on a path that makes dense gradients) takes the same
//! rule on every row, which for Adam is `torch.optim.Adam`'s formula written PyTorch's
//! SparseAdam way. `weight_decay` adds `weight_decay * row` to the gradient of the rows touched
//! (PyTorch's sparse optimizers have no weight decay).

use anyhow::{bail, Result};
use tch::{nn, COptimizer, Tensor};

use super::Optimizer;

/// The update applied to each touched row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SparseRule {
    /// Lazy Adam with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8.
    Adam,
    /// Adagrad, eps 1e-10.
    Adagrad,
}

/// One parameter with its state: Adam's two moments (Adagrad: the sum of squares in `second`).
struct Slot {
    param: Tensor,
    first: Tensor,
    second: Tensor,
    steps: i32,
}

/// A lazy optimizer over the trainable variables of a store (see the module notes).
pub struct SparseOptimizer {
    rule: SparseRule,
    slots: Vec<Slot>,
    lr: f64,
    weight_decay: f64,
    /// libtorch's optimizer, only to drop gradients (`zero_grad` sets them to none).
    grads: COptimizer,
}

impl std::fmt::Debug for SparseOptimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("SparseOptimizer")
            .field("rule", &self.rule)
            .field("lr", &self.lr)
            .field("weight_decay", &self.weight_decay)
            .finish()
    }
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const ADAM_EPS: f64 = 1e-8;
const ADAGRAD_EPS: f64 = 1e-10;

impl SparseOptimizer {
    /// `rule` over every trainable variable of `vs` (create the model's variables first).
    pub fn new(
        vs: &nn::VarStore,
        rule: SparseRule,
        lr: f64,
        weight_decay: f64,
    ) -> Result<SparseOptimizer> {
        let mut grads = COptimizer::sgd(lr, 0.0, 0.0, 0.0, false)?;
        let mut slots = Vec::new();
        for param in vs.trainable_variables() {
            grads.add_parameters(&param, 0)?;
            let zeros = || param.zeros_like().detach();
            slots.push(Slot {
                first: zeros(),
                second: zeros(),
                param,
                steps: 0,
            });
        }
        Ok(SparseOptimizer {
            rule,
            slots,
            lr,
            weight_decay,
            grads,
        })
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// One update of each parameter that has a gradient.
    fn update(&mut self) -> Result<()> {
        let (rule, lr, wd) = (self.rule, self.lr, self.weight_decay);
        tch::no_grad(|| {
            for slot in &mut self.slots {
                let grad = slot.param.grad();
                if !grad.defined() {
                    continue;
                }
                // (rows, gradient rows): every row for a dense gradient.
                let (rows, mut values) = if grad.is_sparse() {
                    let g = grad.f_coalesce()?;
                    if g.sparse_dim() != 1 {
                        bail!("a sparse gradient must hold whole rows of its table");
                    }
                    (Some(g.f_indices()?.f_select(0, 0)?), g.f_values()?)
                } else {
                    (None, grad)
                };
                // A copy of the rows before this step (the tables change in place below).
                let old = |t: &Tensor| match &rows {
                    Some(r) => t.f_index_select(0, r),
                    None => Ok(t.copy()),
                };
                if wd != 0.0 {
                    values = values.f_add(&old(&slot.param)?.f_mul_scalar(wd)?)?;
                }
                slot.steps += 1;
                let delta = match rule {
                    SparseRule::Adam => {
                        let (m_old, v_old) = (old(&slot.first)?, old(&slot.second)?);
                        let m_upd = values.f_sub(&m_old)?.f_mul_scalar(1.0 - BETA1)?;
                        let v_upd = values
                            .f_square()?
                            .f_sub(&v_old)?
                            .f_mul_scalar(1.0 - BETA2)?;
                        // The new moments of the rows (PyTorch's `numer`, and `exp_avg_sq`'s).
                        let numer = m_upd.f_add(&m_old)?;
                        let v_new = v_upd.f_add(&v_old)?;
                        set_rows(&mut slot.first, rows.as_ref(), &numer)?;
                        set_rows(&mut slot.second, rows.as_ref(), &v_new)?;
                        let denom = v_new.f_sqrt()?.f_add_scalar(ADAM_EPS)?;
                        let bc1 = 1.0 - BETA1.powi(slot.steps);
                        let bc2 = 1.0 - BETA2.powi(slot.steps);
                        let step_size = lr * bc2.sqrt() / bc1;
                        numer.f_div(&denom)?.f_mul_scalar(-step_size)?
                    }
                    SparseRule::Adagrad => {
                        let sum = old(&slot.second)?.f_add(&values.f_square()?)?;
                        set_rows(&mut slot.second, rows.as_ref(), &sum)?;
                        let std = sum.f_sqrt()?.f_add_scalar(ADAGRAD_EPS)?;
                        values.f_div(&std)?.f_mul_scalar(-lr)?
                    }
                };
                let updated = old(&slot.param)?.f_add(&delta)?;
                set_rows(&mut slot.param, rows.as_ref(), &updated)?;
            }
            Ok(())
        })
    }
}

/// `table[rows] = values` (rows distinct: the coalesced gradient's), or `table = values` for
/// every row. The values are `old + update` computed as PyTorch's sparse `add_` computes them;
/// a copy is much cheaper than libtorch's `index_add_`, which sorts its index again.
fn set_rows(table: &mut Tensor, rows: Option<&Tensor>, values: &Tensor) -> Result<()> {
    match rows {
        Some(r) => {
            let _ = table.f_index_copy_(0, r, values)?;
        }
        None => {
            table.f_copy_(values)?;
        }
    }
    Ok(())
}

impl Optimizer for SparseOptimizer {
    fn zero_grad(&mut self) -> Result<()> {
        self.grads.zero_grad()?;
        Ok(())
    }

    fn step(&mut self) -> Result<()> {
        self.update()
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        if !(lr.is_finite() && lr > 0.0) {
            bail!("the learning rate must be a positive finite number, got {lr}");
        }
        self.lr = lr;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::layers::lookup_with;
    use tch::{Device, Kind};

    /// A `[6, 2]` table `0.1 * (0..12)`, trained three steps on lookups of fixed ids against
    /// fixed targets with a squared loss; returns the table after each step.
    fn run(rule: SparseRule, sparse: bool, weight_decay: f64) -> Vec<Vec<f32>> {
        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs.root().var_copy(
            "w",
            &(Tensor::arange(12, (Kind::Float, Device::Cpu)) * 0.1).view([6, 2]),
        );
        let mut opt = SparseOptimizer::new(&vs, rule, 0.1, weight_decay).unwrap();
        let batches: [&[i64]; 3] = [&[0, 2, 2, 5], &[2, 3], &[5, 0, 0]];
        let mut out = Vec::new();
        for ids in batches {
            let ids = Tensor::from_slice(ids);
            let e = lookup_with(&w, &ids, sparse);
            let loss = (e - 1.0).square().sum(Kind::Float);
            opt.backward_step(&loss).unwrap();
            out.push(Vec::<f32>::try_from(w.detach().reshape([-1])).unwrap());
        }
        out
    }

    fn same(a: &[f32], b: &[f32]) -> bool {
        a == b
    }

    /// Printed by `torch.optim.SparseAdam(lr=0.1)` and `torch.optim.Adagrad(lr=0.1)` on
    /// `nn.Embedding(6, 2, sparse=True)` with the same table, ids and loss (torch 2.11, the
    /// project's venv; the script is in docs/scale.md, "Checking the sparse optimizers").
    const TORCH_SPARSE_ADAM: [[f32; 12]; 3] = [
        [
            0.09999998, 0.19999997, 0.2, 0.3, 0.5, 0.59999996, 0.6, 0.7, 0.8, 0.90000004, 1.0,
            1.0000002,
        ],
        [
            0.09999998, 0.19999997, 0.2, 0.3, 0.5904798, 0.6898575, 0.6744137, 0.77441365, 0.8,
            0.90000004, 1.0, 1.0000002,
        ],
        [
            0.18377338, 0.28387415, 0.2, 0.3, 0.5904798, 0.6898575, 0.6744137, 0.77441365, 0.8,
            0.90000004, 1.0, 0.9424782,
        ],
    ];
    const TORCH_ADAGRAD: [[f32; 12]; 3] = [
        [
            0.1, 0.2, 0.2, 0.3, 0.5, 0.6, 0.6, 0.7, 0.8, 0.90000004, 1.0, 1.0,
        ],
        [
            0.1, 0.2, 0.2, 0.3, 0.53846157, 0.6371391, 0.70000005, 0.8, 0.8, 0.90000004, 1.0, 1.0,
        ],
        [
            0.18741573, 0.28715757, 0.2, 0.3, 0.53846157, 0.6371391, 0.70000005, 0.8, 0.8,
            0.90000004, 1.0, 1.0,
        ],
    ];

    #[test]
    fn adagrad_matches_torch_adagrad() {
        let got = run(SparseRule::Adagrad, true, 0.0);
        for (step, (g, t)) in got.iter().zip(TORCH_ADAGRAD.iter()).enumerate() {
            assert!(same(g, t), "step {}: {g:?} vs torch {t:?}", step + 1);
        }
    }

    #[test]
    fn sparse_adam_matches_torch_sparse_adam() {
        let got = run(SparseRule::Adam, true, 0.0);
        for (step, (g, t)) in got.iter().zip(TORCH_SPARSE_ADAM.iter()).enumerate() {
            assert!(same(g, t), "step {}: {g:?} vs torch {t:?}", step + 1);
        }
    }

    #[test]
    fn untouched_rows_and_moments_stay() {
        let got = run(SparseRule::Adam, true, 0.0);
        // Row 1 is never looked up; row 4 neither.
        for s in &got {
            assert_eq!(&s[2..4], &[0.2f32, 0.3]);
            assert_eq!(&s[8..10], &[0.8f32, 0.90000004]);
        }
    }

    #[test]
    fn dense_gradients_take_the_same_rule_on_every_row() {
        // On the first step every row's moments start at zero, so a dense gradient (zero on
        // untouched rows) moves touched rows exactly as the sparse one, and untouched rows not
        // at all (0 / (0 + eps)).
        let sparse = run(SparseRule::Adam, true, 0.0);
        let dense = run(SparseRule::Adam, false, 0.0);
        assert!(same(&sparse[0], &dense[0]));
        // Adagrad keeps no per-step state but the sum of squares: dense and sparse agree on
        // every step.
        let sparse = run(SparseRule::Adagrad, true, 0.0);
        let dense = run(SparseRule::Adagrad, false, 0.0);
        for (s, d) in sparse.iter().zip(&dense) {
            assert!(same(s, d), "{s:?} vs {d:?}");
        }
    }

    #[test]
    fn adagrad_by_hand() {
        // Step 1, row 0 = (0, 0.1), looked up once: g = 2 (w - 1) = (-2, -1.8); the sum of
        // squares is g², so the step is -lr * g / |g| = +0.1 on each coordinate.
        let got = run(SparseRule::Adagrad, true, 0.0);
        assert!(same(&got[0][0..2], &[0.1, 0.2]), "{:?}", &got[0][0..2]);
    }
}
