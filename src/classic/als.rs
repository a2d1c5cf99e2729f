//! Implicit ALS (Hu, Koren & Volinsky, "Collaborative Filtering for Implicit Feedback
//! Datasets", 2008): user factors `X` and item factors `Y` minimising
//! `Σ_ui c_ui (p_ui − x_u·y_i)² + λ(|X|² + |Y|²)`, with preference `p_ui = 1` for a train pair
//! (else 0) and confidence `c_ui = 1 + α r_ui` (else 1).
//!
//! Each half step solves, for every user, `(YᵀC_uY + λI) x_u = YᵀC_u p_u`, using
//! `YᵀC_uY = YᵀY + Yᵀ(C_u − I)Y`: `YᵀY` is computed once per half step, and the second term
//! touches only the user's own items. The systems are solved by conjugate gradient, as
//! implicit does, warm-started from the current factors, in a plain Rust loop over the rows (a
//! CG step costs `O(nnz_u f + f²)`); `cg_steps ≥ factors` solves them exactly, up to rounding.
//! The rows of a half step are independent, so they are split over `--threads` threads
//! ([`crate::classic::sparse::par_rows`]), with the same result at any thread count.
//!
//! The loop calls no libtorch operation: between two of libtorch's parallel (OpenMP) operations
//! its idle worker threads spin, and on a busy machine they took the Rust loop's CPU, making the
//! fit 4x slower (docs/classic.md).

use anyhow::{bail, Result};
use tch::Tensor;

use crate::classic::dense::select_rows;
use crate::classic::sparse::{par_rows, threads, Csr};
use crate::classic::vector::{axpy, dot, mat_vec};
use crate::classic::{Ranker, TrainSet};

/// Settings of implicit ALS. The defaults are implicit 0.7's with `regularization` and `alpha`
/// tuned on ml-100k (docs/classic.md); [`Config::implicit`] is implicit's own.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Latent dimension (default 100).
    pub factors: usize,
    /// λ, the L2 penalty on both factor matrices (default 100; implicit's 0.01).
    pub regularization: f64,
    /// α in the confidence `1 + α r` (default 20; implicit's 1).
    pub alpha: f64,
    /// Alternations, each a user then an item half step (default 15).
    #[serde(rename = "epochs", alias = "iterations")]
    pub iterations: usize,
    /// Conjugate-gradient steps per half step (default 3, implicit's).
    pub cg_steps: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            regularization: 100.0,
            alpha: 20.0,
            ..Config::implicit()
        }
    }
}

impl Config {
    /// implicit 0.7's defaults: 100 factors, λ 0.01, α 1, 15 iterations, 3 CG steps.
    pub fn implicit() -> Config {
        Config {
            factors: 100,
            regularization: 0.01,
            alpha: 1.0,
            iterations: 15,
            cg_steps: 3,
        }
    }

    fn check(&self) -> Result<()> {
        if self.factors == 0 {
            bail!("ALS: factors must be at least 1, got {}", self.factors);
        }
        if !self.regularization.is_finite() || self.regularization < 0.0 {
            bail!(
                "ALS: regularization must be finite and >= 0, got {}",
                self.regularization
            );
        }
        if !self.alpha.is_finite() || self.alpha < 0.0 {
            bail!("ALS: alpha must be finite and >= 0, got {}", self.alpha);
        }
        if self.cg_steps == 0 {
            bail!("ALS: cg_steps must be at least 1, got 0");
        }
        Ok(())
    }
}

/// One side of the train pairs, for solving that side's factors: row `r`'s columns (the fixed
/// side) are `pairs.row(r)`, each with `c − 1 = α r_ui`.
struct Side {
    pairs: Csr,
}

impl Side {
    /// `by_user` with its values times α (the user side), or its transpose (the item side).
    fn new(by_user: &Csr, transpose: bool, alpha: f64) -> Side {
        let mut pairs = if transpose {
            by_user.transpose()
        } else {
            by_user.clone()
        };
        for v in &mut pairs.values {
            *v = (f64::from(*v) * alpha) as f32;
        }
        Side { pairs }
    }
}

/// `YᵀY + λI` of the `f`-column row-major `y`, row-major.
fn gram(y: &[f32], f: usize, reg: f64) -> Vec<f32> {
    let mut g = vec![0f32; f * f];
    for y_i in y.chunks_exact(f) {
        for (g_a, &y_ia) in g.chunks_exact_mut(f).zip(y_i) {
            axpy(y_ia, y_i, g_a);
        }
    }
    for a in 0..f {
        g[a * f + a] += reg as f32;
    }
    g
}

/// The half step: the factors of `side`'s rows (`x`, `[rows, f]` row-major, updated in place)
/// given the factors `y` of its columns, by `cg_steps` of conjugate gradient from the current
/// `x` on `(YᵀY + λI + Yᵀ(C − I)Y) x = YᵀC p`, one row at a time (implicit's
/// `least_squares_cg`).
fn solve_side(x: &mut [f32], y: &[f32], f: usize, side: &Side, reg: f64, cg_steps: usize) {
    let gram = gram(y, f, reg);
    let row = |i: u32| &y[i as usize * f..(i as usize + 1) * f];
    par_rows(x, f, threads(), |first, block| {
        let (mut r, mut p, mut ap) = (vec![0f32; f], vec![0f32; f], vec![0f32; f]);
        for (offset, xu) in block.chunks_exact_mut(f).enumerate() {
            let (cols, extra) = side.pairs.row(first + offset);
            let items = || cols.iter().zip(extra);
            // r = b − A x, with b = Σ c y_i and A x = (YᵀY + λI) x + Σ (c − 1)(y_i·x) y_i
            mat_vec(&gram, xu, &mut r);
            r.iter_mut().for_each(|v| *v = -*v);
            for (&i, &w) in items() {
                axpy(1.0 + w - w * dot(row(i), xu), row(i), &mut r);
            }
            p.copy_from_slice(&r);
            let mut rs = dot(&r, &r);
            for _ in 0..cg_steps {
                if rs < 1e-20 {
                    break;
                }
                mat_vec(&gram, &p, &mut ap);
                for (&i, &w) in items() {
                    axpy(w * dot(row(i), &p), row(i), &mut ap);
                }
                let step = rs / dot(&p, &ap);
                axpy(step, &p, xu);
                axpy(-step, &ap, &mut r);
                let rs_new = dot(&r, &r);
                let beta = rs_new / rs;
                p.iter_mut()
                    .zip(&r)
                    .for_each(|(pk, rk)| *pk = rk + beta * *pk);
                rs = rs_new;
            }
        }
    });
}

/// A fitted implicit-ALS model: scores are `x_u · y_i`.
#[derive(Debug)]
pub struct Als {
    /// `[n_users, factors]`.
    pub user_factors: Tensor,
    /// `[n_items, factors]`.
    pub item_factors: Tensor,
}

impl Als {
    /// Initialises both factor matrices uniformly in `[0, 0.01)` from libtorch's generator
    /// (users first, as implicit does), then alternates `iterations` times. Duplicate pairs are
    /// merged, their values summed.
    pub fn fit(train: &TrainSet, config: &Config) -> Result<Als> {
        config.check()?;
        let by_user = Csr::of_users(train, false);
        let users = Side::new(&by_user, false, config.alpha);
        let items = Side::new(&by_user, true, config.alpha);
        let f = config.factors;
        let init = |n| Tensor::rand([n, f as i64], tch::kind::FLOAT_CPU) * 0.01;
        let (x, y) = (init(train.n_users), init(train.n_items));
        let mut x = Vec::<f32>::try_from(x.flatten(0, -1))?;
        let mut y = Vec::<f32>::try_from(y.flatten(0, -1))?;
        let reg = config.regularization;
        for _ in 0..config.iterations {
            solve_side(&mut x, &y, f, &users, reg, config.cg_steps);
            solve_side(&mut y, &x, f, &items, reg, config.cg_steps);
        }
        if !x.iter().chain(&y).all(|v| v.is_finite()) {
            bail!("ALS diverged (non-finite factors): raise regularization or lower alpha");
        }
        Ok(Als {
            user_factors: Tensor::from_slice(&x).view([train.n_users, f as i64]),
            item_factors: Tensor::from_slice(&y).view([train.n_items, f as i64]),
        })
    }
}

impl Ranker for Als {
    fn scores(&self, users: &[i64]) -> Result<Tensor> {
        Ok(select_rows(&self.user_factors, users)?.matmul(&self.item_factors.tr()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    /// 6 users x 5 items with values (0: no interaction).
    const R: [[f32; 5]; 6] = [
        [2., 1., 0., 0., 1.],
        [0., 3., 1., 0., 0.],
        [1., 0., 2., 1., 0.],
        [0., 0., 1., 4., 1.],
        [1., 1., 1., 0., 0.],
        [0., 2., 0., 1., 3.],
    ];

    fn train() -> TrainSet {
        let (mut users, mut items, mut values) = (vec![], vec![], vec![]);
        for (u, row) in R.iter().enumerate() {
            for (i, &v) in row.iter().enumerate() {
                if v > 0.0 {
                    users.push(u as i64);
                    items.push(i as i64);
                    values.push(v);
                }
            }
        }
        TrainSet::new(6, 5, users, items, values).unwrap()
    }

    /// [`solve_side`] on tensors: the new factors of `x` given `fixed`.
    fn solve_tensor(
        x: &Tensor,
        fixed: &Tensor,
        side: &Side,
        reg: f64,
        steps: usize,
    ) -> Result<Tensor> {
        let mut v = Vec::<f32>::try_from(x.flatten(0, -1))?;
        let y = Vec::<f32>::try_from(fixed.flatten(0, -1))?;
        solve_side(&mut v, &y, x.size()[1] as usize, side, reg, steps);
        Ok(Tensor::from_slice(&v).view_as(x))
    }

    /// `(Yᵀ C_r Y + λI)⁻¹ Yᵀ C_r p_r` for every row `r` of `values` (`[rows, cols]`), in f64.
    fn dense_solve(values: &Tensor, fixed: &Tensor, alpha: f64, reg: f64) -> Tensor {
        let y = fixed.to_kind(Kind::Double);
        let f = y.size()[1];
        let rows: Vec<Tensor> = (0..values.size()[0])
            .map(|r| {
                let v = values.get(r).to_kind(Kind::Double);
                let c = &v * alpha + 1.0;
                let p = v.gt(0.0).to_kind(Kind::Double);
                let eye = Tensor::eye(f, (Kind::Double, tch::Device::Cpu));
                let lhs = y.tr().matmul(&(&y * c.unsqueeze(1))) + eye * reg;
                let rhs = y.tr().matmul(&(c * p).unsqueeze(1));
                Tensor::linalg_solve(&lhs, &rhs, true).squeeze_dim(1)
            })
            .collect();
        Tensor::stack(&rows, 0)
    }

    #[test]
    fn a_half_step_is_the_dense_normal_equation_solve() {
        let (alpha, reg) = (2.0, 0.1);
        let by_user = Csr::of_users(&train(), false);
        let r = Tensor::from_slice(&R.concat()).view([6, 5]);
        tch::manual_seed(3);
        let y = Tensor::rand([5, 3], tch::kind::FLOAT_CPU);
        let x = Tensor::rand([6, 3], tch::kind::FLOAT_CPU);
        // users given items, then items given users; 3 CG steps solve a 3 x 3 system
        let users = Side::new(&by_user, false, alpha);
        let got = solve_tensor(
            &Tensor::zeros([6, 3], tch::kind::FLOAT_CPU),
            &y,
            &users,
            reg,
            3,
        )
        .unwrap();
        let want = dense_solve(&r, &y, alpha, reg);
        let diff = f64::try_from((got.to_kind(Kind::Double) - &want).abs().max()).unwrap();
        assert!(diff < 1e-4, "users: {got} vs {want}");
        let items = Side::new(&by_user, true, alpha);
        let got = solve_tensor(&y, &x, &items, reg, 3).unwrap();
        let want = dense_solve(&r.tr(), &x, alpha, reg);
        let diff = f64::try_from((got.to_kind(Kind::Double) - &want).abs().max()).unwrap();
        assert!(diff < 1e-4, "items: {got} vs {want}");
        // one CG step is not yet the solution
        let one = solve_tensor(
            &Tensor::zeros([6, 3], tch::kind::FLOAT_CPU),
            &y,
            &users,
            reg,
            1,
        )
        .unwrap();
        let want = dense_solve(&r, &y, alpha, reg);
        assert!(f64::try_from((one.to_kind(Kind::Double) - want).abs().max()).unwrap() > 1e-3);
    }

    #[test]
    fn fit_is_reproducible_and_checks_its_settings() {
        let config = Config {
            factors: 3,
            iterations: 5,
            ..Config::default()
        };
        tch::manual_seed(5);
        let a = Als::fit(&train(), &config).unwrap();
        tch::manual_seed(5);
        let b = Als::fit(&train(), &config).unwrap();
        assert!(a.user_factors.equal(&b.user_factors));
        // the rows of a half step are independent: two threads give the same bits
        let threads = tch::get_num_threads();
        tch::set_num_threads(2);
        tch::manual_seed(5);
        let two = Als::fit(&train(), &config).unwrap();
        tch::set_num_threads(threads);
        assert!(a.user_factors.equal(&two.user_factors));
        assert!(a.item_factors.equal(&two.item_factors));
        assert_eq!(a.scores(&[0, 5]).unwrap().size(), [2, 5]);
        assert!(a.scores(&[6]).is_err());
        let bad = Config {
            alpha: -1.0,
            ..config
        };
        assert!(Als::fit(&train(), &bad)
            .unwrap_err()
            .to_string()
            .contains("alpha"));
    }
}
