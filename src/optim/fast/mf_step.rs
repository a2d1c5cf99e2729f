//! One fused training step of matrix factorization on implicit feedback (feature `fast`): the
//! dot products, binary cross-entropy's gradient and lazy Adam on only the rows the batch
//! touched, in one pass over the batch and one over its rows, in Rust, on the model's own `f32`
//! tables.
//!
//! Why: at 25M ratings one mf epoch is about 3,200 steps of 20k (user, item) pairs, and the
//! plain step's fixed libtorch work (row copies of `index_select` and `cat`, the sort that
//! coalesces each sparse gradient, a dozen elementwise kernels of the update, each a pass over
//! the rows) is most of it (docs/scale.md).
//!
//! What it computes is the plain path's (`Network::pair_loss` on [`crate::models::mf`]'s
//! `p_u · q_i`, backward, [`crate::optim::sparse::SparseOptimizer`] with
//! [`crate::optim::sparse::SparseRule::Adam`], i.e. `torch.optim.SparseAdam`): the mean
//! `binary_cross_entropy_with_logits` over the batch's pairs, each pair's gradient
//! `(σ(x) − y) / n` spread to its user row (times `q_i`) and item row (times `p_u`), the rows'
//! gradients summed, `weight_decay · row` added, then SparseAdam's update of each touched row,
//! operation by operation in `f32` as [`crate::optim::sparse`] writes it, the step count shared
//! by the table. Not bit for bit: the sums run in another order (the dot products, a row's
//! gradient over the batch) and `exp`/`ln_1p` are Rust's, not ATen's vectorized ones; the
//! tests hold it to the plain path within float rounding over many steps.

use anyhow::{bail, ensure, Result};
use tch::{Device, Kind, Tensor};

use super::kernels::{check_f32, f32_slice_mut};
use crate::classic::vector::axpy;

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f32 = 1e-8;

/// Lazy Adam's state for one embedding table, with the batch's gradient rows.
struct TableRows {
    /// The table, `[rows, dim]`, contiguous `f32` on the CPU (a handle to the model's own).
    table: Tensor,
    rows: usize,
    /// First and second moments, `rows × dim`.
    m: Vec<f32>,
    v: Vec<f32>,
    /// For each row, its place among this batch's touched rows, or `u32::MAX`.
    slot: Vec<u32>,
    /// The rows this batch touched, in order of first touch.
    touched: Vec<u32>,
    /// Their summed gradients, `touched × dim`.
    grad: Vec<f32>,
}

impl TableRows {
    fn new(table: Tensor, what: &str) -> Result<TableRows> {
        let size = table.size();
        ensure!(
            size.len() == 2,
            "{what}: an embedding table is 2-d, not {size:?}"
        );
        let rows = size[0] as usize;
        check_f32(&table, table.numel(), || what.to_string())?;
        let n = table.numel();
        Ok(TableRows {
            table,
            rows,
            m: vec![0.0; n],
            v: vec![0.0; n],
            slot: vec![u32::MAX; rows],
            touched: Vec::new(),
            grad: Vec::new(),
        })
    }

    /// The gradient row of `row` in this batch, made (zero) at its first touch.
    #[inline(always)]
    fn grad_row(&mut self, row: usize, dim: usize) -> &mut [f32] {
        let mut s = self.slot[row];
        if s == u32::MAX {
            s = self.touched.len() as u32;
            self.slot[row] = s;
            self.touched.push(row as u32);
            self.grad.resize(self.grad.len() + dim, 0.0);
        }
        let s = s as usize * dim;
        &mut self.grad[s..s + dim]
    }

    /// SparseAdam on every touched row (`bc1`, `bc2` the bias corrections of this step), then
    /// the batch's rows forgotten.
    fn update(&mut self, dim: usize, lr: f64, weight_decay: f64, bc1: f64, bc2: f64) -> Result<()> {
        check_f32(&self.table, self.rows * dim, || "an mf table".into())?;
        // SAFETY: checked just above; nothing else reads or writes the model's table during a
        // training step (the assumption libtorch's own in-place optimizer step makes).
        let table = unsafe { f32_slice_mut(&mut self.table) };
        let step_size = (lr * bc2.sqrt() / bc1) as f32;
        let neg_step = -step_size;
        let h = AdamRow {
            one_b1: (1.0 - BETA1) as f32,
            one_b2: (1.0 - BETA2) as f32,
            wd: weight_decay as f32,
            neg_step,
        };
        let rows = (&self.touched[..], &self.grad[..]);
        let moments = (&mut self.m[..], &mut self.v[..]);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { adam_rows_avx2(table, moments, rows, dim, &h) };
        } else {
            adam_rows(table, moments, rows, dim, &h);
        }
        #[cfg(not(target_arch = "x86_64"))]
        adam_rows(table, moments, rows, dim, &h);
        for &row in &self.touched {
            self.slot[row as usize] = u32::MAX;
        }
        self.touched.clear();
        self.grad.clear();
        Ok(())
    }
}

/// The fused mf step over a user table and an item table (see the module notes).
pub struct FusedMfStep {
    users: TableRows,
    items: TableRows,
    dim: usize,
    lr: f64,
    weight_decay: f64,
    steps: i32,
}

impl std::fmt::Debug for FusedMfStep {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("FusedMfStep")
            .field("users", &self.users.rows)
            .field("items", &self.items.rows)
            .field("dim", &self.dim)
            .field("lr", &self.lr)
            .finish()
    }
}

/// `log(1 + e^x)` without overflow.
#[inline(always)]
fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// σ(x) without overflow.
#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `a · b` with eight partial sums (what lets the compiler use vector lanes).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// SparseAdam's constants for one step, in `f32` as the kernels of [`crate::optim::sparse`]
/// use them.
struct AdamRow {
    one_b1: f32,
    one_b2: f32,
    wd: f32,
    neg_step: f32,
}

/// SparseAdam on each touched row (`rows`: the rows and their summed gradients), operation by
/// operation as [`crate::optim::sparse`] writes it: `g += wd·p`; `m' = (g − m)·(1−β1) + m`;
/// `v' = (g² − v)·(1−β2) + v`; `p += (m' / (√v' + ε))·(−step)`.
#[inline(always)]
fn adam_rows(
    table: &mut [f32],
    (m, v): (&mut [f32], &mut [f32]),
    (touched, grad): (&[u32], &[f32]),
    dim: usize,
    h: &AdamRow,
) {
    for (s, &row) in touched.iter().enumerate() {
        let r = row as usize * dim;
        let g = &grad[s * dim..(s + 1) * dim];
        let p = &mut table[r..r + dim];
        let (m, v) = (&mut m[r..r + dim], &mut v[r..r + dim]);
        for k in 0..dim {
            let mut gk = g[k];
            if h.wd != 0.0 {
                gk += p[k] * h.wd;
            }
            let numer = (gk - m[k]) * h.one_b1 + m[k];
            let v_new = (gk * gk - v[k]) * h.one_b2 + v[k];
            m[k] = numer;
            v[k] = v_new;
            let denom = v_new.sqrt() + EPS;
            p[k] += (numer / denom) * h.neg_step;
        }
    }
}

/// [`adam_rows`] compiled for AVX2 (the same operations, eight lanes at a time: the same bits).
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn adam_rows_avx2(
    table: &mut [f32],
    moments: (&mut [f32], &mut [f32]),
    rows: (&[u32], &[f32]),
    dim: usize,
    h: &AdamRow,
) {
    adam_rows(table, moments, rows, dim, h)
}

/// The batch's pass: each pair's logit `p_u · q_i` and loss, and its gradient `(σ(x) − y)·scale`
/// added to its user's and its item's gradient rows. Returns the summed loss.
#[inline(always)]
fn gather(
    (p, q): (&[f32], &[f32]),
    (users, items, labels): (&[i64], &[i64], &[f32]),
    (user_rows, item_rows): (&mut TableRows, &mut TableRows),
    dim: usize,
    scale: f32,
) -> f64 {
    let mut loss = 0f64;
    for ((&u, &i), &y) in users.iter().zip(items).zip(labels) {
        let (u, i) = (u as usize, i as usize);
        let (pu, qi) = (&p[u * dim..(u + 1) * dim], &q[i * dim..(i + 1) * dim]);
        let x = dot(pu, qi);
        loss += f64::from(softplus(x) - x * y);
        let g = (sigmoid(x) - y) * scale;
        axpy(g, qi, user_rows.grad_row(u, dim));
        axpy(g, pu, item_rows.grad_row(i, dim));
    }
    loss
}

/// [`gather`] compiled for AVX2 (the same operations: the same bits).
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gather_avx2(
    tables: (&[f32], &[f32]),
    batch: (&[i64], &[i64], &[f32]),
    rows: (&mut TableRows, &mut TableRows),
    dim: usize,
    scale: f32,
) -> f64 {
    gather(tables, batch, rows, dim, scale)
}

impl FusedMfStep {
    /// The step over `users` `[n_users, dim]` and `items` `[n_items, dim]` (the model's own
    /// tables: contiguous `f32` on the CPU), SparseAdam at `lr` with `weight_decay`, moments
    /// from zero.
    pub fn new(users: Tensor, items: Tensor, lr: f64, weight_decay: f64) -> Result<FusedMfStep> {
        let (du, di) = (users.size(), items.size());
        ensure!(
            du.len() == 2 && di.len() == 2 && du[1] == di[1],
            "mf tables of shapes {du:?} and {di:?}"
        );
        Ok(FusedMfStep {
            dim: du[1] as usize,
            users: TableRows::new(users, "the user table")?,
            items: TableRows::new(items, "the item table")?,
            lr,
            weight_decay,
            steps: 0,
        })
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// One training step on the pairs `(users[j], items[j])` with labels 1 or 0: returns the
    /// batch's mean loss (before the update, as the plain step's loss tensor).
    pub fn step(&mut self, users: &[i64], items: &[i64], labels: &[f32]) -> Result<f64> {
        let n = users.len();
        ensure!(
            items.len() == n && labels.len() == n && n > 0,
            "{n} users, {} items and {} labels in one batch",
            items.len(),
            labels.len()
        );
        let dim = self.dim;
        check_f32(&self.users.table, self.users.rows * dim, || {
            "the user table".into()
        })?;
        check_f32(&self.items.table, self.items.rows * dim, || {
            "the item table".into()
        })?;
        // SAFETY: both checked just above, two distinct tables (built from two variables);
        // nothing else reads or writes them during a training step.
        let (p, q) = unsafe {
            (
                std::slice::from_raw_parts(
                    self.users.table.data_ptr() as *const f32,
                    self.users.rows * dim,
                ),
                std::slice::from_raw_parts(
                    self.items.table.data_ptr() as *const f32,
                    self.items.rows * dim,
                ),
            )
        };
        // Checked before any gradient is gathered, so a refused batch leaves nothing behind.
        let (n_users, n_items) = (self.users.rows as i64, self.items.rows as i64);
        if let Some((u, i)) = users
            .iter()
            .zip(items)
            .find(|(&u, &i)| !(0..n_users).contains(&u) || !(0..n_items).contains(&i))
        {
            bail!("pair ({u}, {i}) outside the tables ({n_users} users, {n_items} items)");
        }
        let scale = 1.0 / n as f32;
        let batch = (users, items, labels);
        let rows = (&mut self.users, &mut self.items);
        #[cfg(target_arch = "x86_64")]
        let loss = if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            unsafe { gather_avx2((p, q), batch, rows, dim, scale) }
        } else {
            gather((p, q), batch, rows, dim, scale)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let loss = gather((p, q), batch, rows, dim, scale);
        self.steps += 1;
        let bc1 = 1.0 - BETA1.powi(self.steps);
        let bc2 = 1.0 - BETA2.powi(self.steps);
        let (lr, wd) = (self.lr, self.weight_decay);
        self.users.update(dim, lr, wd, bc1, bc2)?;
        self.items.update(dim, lr, wd, bc1, bc2)?;
        Ok(loss / n as f64)
    }
}

/// The elements of a contiguous int64 CPU tensor (a batch's ids, an epoch's order), without
/// copying them.
///
/// # Safety
/// No handle to the tensor's storage writes it while the slice lives.
pub unsafe fn i64_slice(t: &Tensor) -> Result<&[i64]> {
    if !(t.device() == Device::Cpu && t.kind() == Kind::Int64 && t.is_contiguous()) {
        bail!(
            "expected a contiguous int64 CPU tensor, got {:?} {:?}",
            t.kind(),
            t.device()
        );
    }
    let n = t.numel();
    if n == 0 {
        return Ok(&[]);
    }
    // SAFETY: `n` contiguous i64 elements from a non-null `data_ptr` (checked above), not
    // written meanwhile (the caller's promise).
    Ok(unsafe { std::slice::from_raw_parts(t.data_ptr() as *const i64, n) })
}
