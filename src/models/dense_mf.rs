//! Factorizing the dense user × item rating matrix (notebook 004, part 1).
//!
//! The ratings become a dense `n_users × n_items` matrix with −1 where a user has not rated an
//! item, and an `exist` mask (1 where rated). Two factor tensors `U: k × n_users` and
//! `V: k × n_items` (uniform [0, 1) like `torch.rand`) give the estimate `Uᵀ V`; the loss is the
//! mean over **all** cells of `((r − r̂) · exist)²`, trained by plain SGD.
//!
//! The notebook never calls `zero_grad`, so its gradients accumulate over all epochs:
//! [`GradientMode::Accumulate`] reproduces that, [`GradientMode::ZeroEachStep`] is the fix.

use anyhow::{bail, Result};
use polars::prelude::DataFrame;
use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

use crate::prep::{f64_values, i64_values};

/// The dense rating matrix and its mask, both `i64` tensors of shape `[n_users, n_items]`.
#[derive(Debug)]
pub struct RatingMatrix {
    /// Ratings, −1 where missing (row `u − 1` is user `u`, column `i − 1` is item `i`).
    pub ratings: Tensor,
    /// 1 where the user rated the item, else 0.
    pub exist: Tensor,
    pub n_users: i64,
    pub n_items: i64,
}

/// Build the dense matrix from a ratings table with columns `user_id`, `item_id`, `rating`
/// (1-based ids, as in MovieLens), like the notebook's `ratings_mat.csv`: one row per user id
/// 1..=max(user_id), one column per item id 1..=max(item_id), −1 where missing.
///
/// Ratings must be whole numbers (the notebook's matrix is an integer table); ids must be ≥ 1
/// and each (user, item) pair must appear once.
pub fn rating_matrix(ratings: &DataFrame) -> Result<RatingMatrix> {
    let users: Vec<i64> = i64_values(ratings, "user_id")?.collect();
    let items: Vec<i64> = i64_values(ratings, "item_id")?.collect();
    let values: Vec<f64> = f64_values(ratings, "rating")?.collect();
    if users.is_empty() {
        bail!("rating matrix: the ratings table is empty");
    }
    let n_users = *users.iter().max().expect("non-empty");
    let n_items = *items.iter().max().expect("non-empty");
    if let Some(row) = users.iter().zip(&items).position(|(&u, &i)| u < 1 || i < 1) {
        bail!(
            "rating matrix: row {row} has user {} item {}; ids must be 1-based",
            users[row],
            items[row]
        );
    }
    let mut cells = vec![-1i64; (n_users * n_items) as usize];
    for (row, ((&u, &i), &r)) in users.iter().zip(&items).zip(&values).enumerate() {
        if r.fract() != 0.0 || r < 0.0 {
            bail!("rating matrix: row {row} has rating {r}; expected a whole number ≥ 0");
        }
        let cell = &mut cells[((u - 1) * n_items + (i - 1)) as usize];
        if *cell != -1 {
            bail!("rating matrix: user {u} rated item {i} twice (second time at row {row})");
        }
        *cell = r as i64;
    }
    let ratings = Tensor::from_slice(&cells).view([n_users, n_items]);
    let exist = ratings.ne(-1).to_kind(Kind::Int64);
    Ok(RatingMatrix {
        ratings,
        exist,
        n_users,
        n_items,
    })
}

/// How PyTorch prints an integer matrix (`print(t)`), e.g.
/// `tensor([[ 5,  3,  4,  ..., -1, -1, -1],` ... : above 1000 elements, only the first and
/// last 3 rows and columns are shown (a column ellipsis prints as `" ..."`, a row ellipsis as
/// `...`); every value is right-aligned to the widest shown value.
/// (Lines longer than PyTorch's 80-character line width are not wrapped here.)
pub fn torch_int_matrix_repr(t: &Tensor) -> String {
    let size = t.size();
    assert_eq!(size.len(), 2, "torch_int_matrix_repr takes a 2-d tensor");
    let (rows, cols) = (size[0], size[1]);
    let summarize = rows * cols > 1000;
    let edge = 3;
    let shown = |n: i64| -> Vec<Option<i64>> {
        if summarize && n > 2 * edge {
            (0..edge)
                .map(Some)
                .chain([None])
                .chain((n - edge..n).map(Some))
                .collect()
        } else {
            (0..n).map(Some).collect()
        }
    };
    let (row_ix, col_ix) = (shown(rows), shown(cols));
    let t = t.to_device(Device::Cpu).to_kind(Kind::Int64);
    let value = |r: i64, c: i64| t.int64_value(&[r, c]);
    let width = row_ix
        .iter()
        .flatten()
        .flat_map(|&r| col_ix.iter().flatten().map(move |&c| (r, c)))
        .map(|(r, c)| value(r, c).to_string().len())
        .max()
        .unwrap_or(1);
    let lines: Vec<String> = row_ix
        .iter()
        .map(|r| match r {
            None => "...".to_string(),
            Some(r) => {
                let cells: Vec<String> = col_ix
                    .iter()
                    .map(|c| match c {
                        None => " ...".to_string(),
                        Some(c) => format!("{:>width$}", value(*r, *c)),
                    })
                    .collect();
                format!("[{}]", cells.join(", "))
            }
        })
        .collect();
    format!("tensor([{}])", lines.join(",\n        "))
}

/// The notebook's `calc_loss`: mean over all cells of `(r·exist − r̂·exist)²`, with PyTorch's
/// type promotion (integer ratings and mask, float estimate: a float32 loss).
pub fn masked_mse(true_r: &Tensor, est_r: &Tensor, exist: &Tensor) -> Tensor {
    let true_exist = true_r * exist;
    let est_exist = est_r * exist;
    let diff = true_exist - est_exist;
    diff.square().mean(None)
}

/// Whether SGD zeroes the gradients before each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GradientMode {
    /// Faithful to the notebook: no `zero_grad`, each step uses the sum of all gradients so far.
    Accumulate,
    /// Corrected: gradients zeroed before every backward pass (plain SGD).
    ZeroEachStep,
}

/// Two trainable factor tensors, `user_factors: k × n_users` and `item_factors: k × n_items`,
/// with an SGD optimizer over them.
pub struct DenseMf {
    /// Keeps the variables and their device.
    pub vs: nn::VarStore,
    pub user_factors: Tensor,
    pub item_factors: Tensor,
    optimizer: nn::Optimizer,
}

impl DenseMf {
    /// The notebook's start: `torch.rand(k, n_users)` then `torch.rand(k, n_items)`, drawn on the
    /// CPU generator in that order (so seeds give the same factors as PyTorch), then moved to
    /// `device`; SGD with learning rate `lr`.
    pub fn new(
        n_factors: i64,
        n_users: i64,
        n_items: i64,
        lr: f64,
        device: Device,
    ) -> Result<DenseMf> {
        let users = Tensor::rand([n_factors, n_users], (Kind::Float, Device::Cpu));
        let items = Tensor::rand([n_factors, n_items], (Kind::Float, Device::Cpu));
        DenseMf::from_factors(&users, &items, lr, device)
    }

    /// Start from given factors (`k × n_users`, `k × n_items`), copied to `device`.
    pub fn from_factors(
        users: &Tensor,
        items: &Tensor,
        lr: f64,
        device: Device,
    ) -> Result<DenseMf> {
        let vs = nn::VarStore::new(device);
        let user_factors = vs.root().var_copy("user_factors", users);
        let item_factors = vs.root().var_copy("item_factors", items);
        let optimizer = nn::Sgd::default().build(&vs, lr)?;
        Ok(DenseMf {
            vs,
            user_factors,
            item_factors,
            optimizer,
        })
    }

    /// The estimated rating matrix `Uᵀ V` (`n_users × n_items`).
    pub fn estimate(&self) -> Tensor {
        self.user_factors.transpose(0, 1).matmul(&self.item_factors)
    }

    /// One epoch of the notebook's loop on the whole matrix: estimate, loss, backward, SGD step.
    /// Returns the loss before the step (a float32 scalar tensor on the device).
    pub fn sgd_step(&mut self, matrix: &RatingMatrix, mode: GradientMode) -> Tensor {
        if mode == GradientMode::ZeroEachStep {
            self.optimizer.zero_grad();
        }
        let loss = masked_mse(&matrix.ratings, &self.estimate(), &matrix.exist);
        loss.backward();
        self.optimizer.step();
        loss
    }
}

/// Min–max rescale to `[lo, hi]`, in the tensor's own precision like the notebook's NumPy
/// float32 code `lo + (hi − lo) * (x − min) / (max − min)`, evaluated in the same order.
pub fn rescale_min_max(x: &Tensor, lo: f64, hi: f64) -> Tensor {
    let (max, min) = (x.max(), x.min());
    let range = &max - &min;
    ((x - &min) * (hi - lo)) / range + lo
}

/// A float matrix as pandas' `DataFrame.to_csv()` writes it, with rows labelled 1..=n_rows and
/// columns 1..=n_cols: a header `,1,2,...`, then `label,v1,v2,...`. Float32 values are written
/// in their shortest round-trip form with at least one decimal, like NumPy (`1.0`, `3.1234567`).
pub fn labelled_matrix_csv(x: &Tensor) -> Result<String> {
    let size = x.size();
    if size.len() != 2 {
        bail!("labelled_matrix_csv: expected a matrix, got shape {size:?}");
    }
    let (rows, cols) = (size[0] as usize, size[1] as usize);
    let flat = x
        .to_device(Device::Cpu)
        .to_kind(Kind::Float)
        .contiguous()
        .view([-1]);
    let values: Vec<f32> = Vec::<f32>::try_from(&flat)?;
    let mut out = String::with_capacity(rows * cols * 10);
    for c in 1..=cols {
        out.push(',');
        out.push_str(&c.to_string());
    }
    out.push('\n');
    for r in 0..rows {
        out.push_str(&(r + 1).to_string());
        for v in &values[r * cols..(r + 1) * cols] {
            out.push(',');
            out.push_str(&numpy_f32_str(*v));
        }
        out.push('\n');
    }
    Ok(out)
}

/// NumPy's `str(np.float32(v))` for the values a rating matrix holds: shortest round-trip
/// digits, `.0` added to whole numbers, exponent form below 1e-4 or from 1e16.
pub fn numpy_f32_str(v: f32) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // NumPy: mantissa digits, then e-05 / e+16 (at least two exponent digits).
        let s = format!("{v:e}");
        let (mant, exp) = s.split_once('e').expect("exponent form");
        let exp: i32 = exp.parse().expect("exponent");
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let s = format!("{v}");
    if s.contains('.') {
        round_half_even_tie(v, s)
    } else {
        format!("{s}.0")
    }
}

/// Rust and NumPy both print the shortest digits that read back as `v`, but when `v` lies
/// exactly halfway between two such strings (4.17578125 → 4.1757812 or 4.1757813) NumPy takes
/// the even last digit and Rust the upper one. Return NumPy's choice.
fn round_half_even_tie(v: f32, shortest: String) -> String {
    let decimals = shortest.split_once('.').map_or(0, |(_, d)| d.len());
    let last_odd = shortest.bytes().last().is_some_and(|b| (b - b'0') % 2 == 1);
    if !last_odd {
        return shortest;
    }
    // The exact value of v (an f32 has at most ~150 decimals; 30 more than shown is plenty here).
    let exact = format!("{:.*}", decimals + 30, v as f64);
    let (head, tail) = exact.split_at(exact.len() - 30);
    if !(tail.starts_with('5') && tail[1..].bytes().all(|b| b == b'0')) {
        return shortest;
    }
    // A tie: the truncated string and the one above it are equally close; take the even one.
    let truncated = head.to_string();
    if truncated != shortest && truncated.parse::<f32>().ok() == Some(v) {
        truncated
    } else {
        shortest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_loss_on_a_hand_made_matrix() {
        // 2 × 3 ratings, two cells missing; the estimate is wrong by 1 on one rated cell and by
        // 2 on another, and wildly wrong on the missing cells (which must not count).
        let ratings = Tensor::from_slice(&[5i64, -1, 3, -1, 4, 1]).view([2, 3]);
        let exist = ratings.ne(-1).to_kind(Kind::Int64);
        let est = Tensor::from_slice(&[4.0f32, 100.0, 3.0, -7.0, 2.0, 1.0]).view([2, 3]);
        let loss = masked_mse(&ratings, &est, &exist);
        assert_eq!(loss.kind(), Kind::Float);
        // (1² + 0 + 0 + 0 + 2² + 0) / 6 cells
        assert!((loss.double_value(&[]) - 5.0 / 6.0).abs() < 1e-6);
    }

    /// One user, one item, one factor, u = v = 1, r = 3, lr 0.1:
    /// step 1 gradient −4 for both, u = v = 1.4; step 2 gradient −2·(3 − 1.96)·1.4 = −2.912.
    /// Zeroing: u = 1.4 + 0.2912; accumulating: u = 1.4 + 0.1·(4 + 2.912).
    #[test]
    fn faithful_accumulates_gradients_and_corrected_does_not() {
        let matrix = RatingMatrix {
            ratings: Tensor::from_slice(&[3i64]).view([1, 1]),
            exist: Tensor::from_slice(&[1i64]).view([1, 1]),
            n_users: 1,
            n_items: 1,
        };
        let one = Tensor::ones([1, 1], (Kind::Float, Device::Cpu));
        let run = |mode| {
            let mut mf = DenseMf::from_factors(&one, &one, 0.1, Device::Cpu).unwrap();
            let l1 = mf.sgd_step(&matrix, mode).double_value(&[]);
            let l2 = mf.sgd_step(&matrix, mode).double_value(&[]);
            (
                l1,
                l2,
                mf.user_factors.double_value(&[0, 0]),
                mf.item_factors.double_value(&[0, 0]),
            )
        };
        let (l1, l2, u, v) = run(GradientMode::ZeroEachStep);
        assert!((l1 - 4.0).abs() < 1e-6 && (l2 - 1.04 * 1.04).abs() < 1e-5);
        assert!(
            (u - 1.6912).abs() < 1e-5 && (v - 1.6912).abs() < 1e-5,
            "{u} {v}"
        );
        let (l1, l2, u, v) = run(GradientMode::Accumulate);
        assert!((l1 - 4.0).abs() < 1e-6 && (l2 - 1.04 * 1.04).abs() < 1e-5);
        assert!(
            (u - 2.0912).abs() < 1e-5 && (v - 2.0912).abs() < 1e-5,
            "{u} {v}"
        );
    }

    #[test]
    fn prints_like_torch() {
        let mut cells = vec![-1i64; 5 * 1682];
        cells[..3].copy_from_slice(&[5, 3, 4]);
        let t = Tensor::from_slice(&cells).view([5, 1682]);
        let text = torch_int_matrix_repr(&t);
        assert!(text.starts_with("tensor([[ 5,  3,  4,  ..., -1, -1, -1],\n        [-1, -1, -1,"));
        assert!(text.ends_with("-1, -1, -1]])"));
        let small = Tensor::from_slice(&[1i64, 22, 3, 4]).view([2, 2]);
        assert_eq!(
            torch_int_matrix_repr(&small),
            "tensor([[ 1, 22],\n        [ 3,  4]])"
        );
    }

    #[test]
    // The halfway values below are exact in f32; writing them in full is the point.
    #[allow(clippy::excessive_precision)]
    fn rescales_and_writes_like_pandas() {
        let x = Tensor::from_slice(&[-2.0f32, 0.0, 2.0, 6.0]).view([2, 2]);
        let r = rescale_min_max(&x, 1.0, 5.0);
        let csv = labelled_matrix_csv(&r).unwrap();
        assert_eq!(csv, ",1,2\n1,1.0,2.0\n2,3.0,5.0\n");
        assert_eq!(numpy_f32_str(3.1234567), "3.1234567");
        assert_eq!(numpy_f32_str(2.5e-5), "2.5e-05");
        // 4.17578125 is exactly halfway between 4.1757812 and 4.1757813: NumPy takes the even.
        assert_eq!(numpy_f32_str(4.175_781_25), "4.1757812");
        assert_eq!(numpy_f32_str(2.503_906_25), "2.5039062");
    }
}
