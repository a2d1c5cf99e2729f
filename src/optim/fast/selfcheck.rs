//! The run-time check behind `recsys doctor`'s "bit-identical to libtorch's": the fused
//! [`Adam`] and libtorch's own Adam (tch's `nn::Adam`) train one small model side by side on
//! this machine, with this libtorch and whichever loops [`super::cpu_kernel`] picked, and every
//! weight is compared bit for bit.
//!
//! The model covers what the ports lean on: an embedding table looked up with
//! [`crate::models::layers::lookup`] (a sparse gradient for ours, libtorch's dense embedding
//! backward for the reference), a linear layer, weight decay and none, a change of learning
//! rate, and 900 steps in which most rows get no gradient, so their first moments decay into
//! subnormals (the kernels' integer route). No global generator is touched: the weights, ids
//! and targets come from a fixed xorshift.

use anyhow::Result;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

use super::Adam;
use crate::optim::SelfCheck;

/// Trains the small model with libtorch's Adam and with [`Adam`] (learning rate 0.01, then
/// 0.003) and counts the weights whose bits differ.
///
/// It runs on one libtorch thread (tensors this small run fastest without a pool to wake on
/// every kernel: well under a second, against several on a busy machine) and restores the
/// thread count after: call it where nothing else runs torch meanwhile, as `recsys doctor`.
pub fn check_against_libtorch() -> Result<SelfCheck> {
    let threads = tch::get_num_threads();
    tch::set_num_threads(1);
    let result = compare(1.0);
    tch::set_num_threads(threads);
    result
}

/// The comparison of [`check_against_libtorch`], on the current thread count, with our
/// learning rates multiplied by `lr_factor` (the tests set it a hair off 1 to see it fail).
pub(super) fn compare(lr_factor: f64) -> Result<SelfCheck> {
    let mut total = SelfCheck {
        steps: 0,
        weights: 0,
        differing: 0,
    };
    // Weight decay, all rows every step; then none, with rows left out for 900 steps.
    for (weight_decay, steps, rows_left_out) in [(1e-3, 60, None), (0.0, 1000, Some(20))] {
        let c = run(weight_decay, steps, rows_left_out, lr_factor)?;
        total.steps += c.steps;
        total.weights += c.weights;
        total.differing += c.differing;
    }
    Ok(total)
}

/// A fixed stream of pseudo-random numbers (xorshift64).
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// `n` values in [-1, 1).
    fn floats(&mut self, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
            .collect()
    }

    /// `n` ids below `below`.
    fn ids(&mut self, n: usize, below: i64) -> Tensor {
        let ids: Vec<i64> = (0..n)
            .map(|_| (self.next() % below as u64) as i64)
            .collect();
        Tensor::from_slice(&ids)
    }
}

/// One side-by-side run: a 400 × 8 table and an 8 → 1 linear layer, batches of 32.
fn run(
    weight_decay: f64,
    steps: usize,
    rows_left_out: Option<i64>,
    lr_factor: f64,
) -> Result<SelfCheck> {
    const ROWS: i64 = 400;
    const DIM: i64 = 8;
    const BATCH: usize = 32;
    let mut draws = Draws(0x9e37_79b9_7f4a_7c15);
    let table = Tensor::from_slice(&draws.floats((ROWS * DIM) as usize)).view([ROWS, DIM]);
    let weight = Tensor::from_slice(&draws.floats(DIM as usize)).view([1, DIM]) * 0.3;
    let bias = Tensor::from_slice(&[0.01f32]);
    let make = || -> Result<(nn::VarStore, Tensor, Tensor, Tensor)> {
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        let t = root.f_var_copy("table", &table)?;
        let w = root.f_var_copy("weight", &weight)?;
        let b = root.f_var_copy("bias", &bias)?;
        Ok((vs, t, w, b))
    };
    let (vs_a, table_a, w_a, b_a) = make()?;
    let (vs_b, table_b, w_b, b_b) = make()?;
    let mut reference = nn::Adam::default().wd(weight_decay).build(&vs_a, 0.01)?;
    let mut ours = Adam::with_weight_decay(&vs_b, 0.01 * lr_factor, weight_decay)?;
    for step in 0..steps {
        let rows = match rows_left_out {
            Some(kept) if (50..steps.saturating_sub(50)).contains(&step) => kept,
            _ => ROWS,
        };
        let ids = draws.ids(BATCH, rows);
        let y = Tensor::from_slice(&draws.floats(BATCH)).view([BATCH as i64, 1]);
        let dense = Tensor::embedding(&table_a, &ids, -1, false, false);
        let loss_a = (dense.linear(&w_a, Some(&b_a)) - &y)
            .square()
            .mean(Kind::Float);
        reference.zero_grad();
        loss_a.f_backward()?;
        reference.step();
        let sparse = crate::models::layers::lookup(&table_b, &ids);
        let loss_b = (sparse.linear(&w_b, Some(&b_b)) - &y)
            .square()
            .mean(Kind::Float);
        ours.backward_step(&loss_b)?;
        if step == steps / 3 {
            reference.set_lr(0.003);
            ours.set_lr(0.003 * lr_factor)?;
        }
    }
    let mut weights = 0;
    let mut differing = 0;
    for (a, b) in [(&table_a, &table_b), (&w_a, &w_b), (&b_a, &b_b)] {
        let bits = |t: &Tensor| -> Result<Vec<u32>> {
            let v = Vec::<f32>::try_from(t.detach().flatten(0, -1))?;
            Ok(v.into_iter().map(f32::to_bits).collect())
        };
        let (a, b) = (bits(a)?, bits(b)?);
        weights += a.len();
        differing += a.iter().zip(&b).filter(|(x, y)| x != y).count();
    }
    Ok(SelfCheck {
        steps,
        weights,
        differing,
    })
}
