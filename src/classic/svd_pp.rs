//! SVD++ (Koren 2008): Funk-SVD plus the implicit feedback of which items a user rated, as
//! Surprise 1.1's `SVDpp` (`matrix_factorization.pyx`) fits and predicts it.
//!
//! `r̂_ui = μ + b_u + b_i + q_iᵀ (p_u + |I_u|^{-1/2} Σ_{j ∈ I_u} y_j)`. One SGD step per train
//! rating, users in Surprise's order (see [`super::funk_svd::by_user_order`]), with
//! `e = r_ui − r̂_ui` and `z = Σ_j y_j / √|I_u|` (each term divided, as the Cython loop does):
//!
//! ```text
//! b_u += lr (e − reg b_u)        b_i += lr (e − reg b_i)
//! p_u += lr (e q_i − reg p_u)    q_i += lr (e (p_u + z) − reg q_i)
//! y_j += lr (e q_i / √|I_u| − reg y_j)   for every j ∈ I_u   (all from the old p_u, q_i)
//! ```
//!
//! The factors start from `normal(init_mean, init_std)`: `p`, then `q`, then `y`, drawn by
//! libtorch's generator, or by numpy's `RandomState(seed)` when `numpy_seed` is set, which
//! makes the fit Surprise's `SVDpp(random_state=seed)` to the last bit. A fit costs
//! `Σ_u |I_u|²` factor updates per epoch (about a second per epoch on ml-100k).

use anyhow::{bail, Result};
use tch::{Device, Kind, Tensor};

use super::baseline::GlobalMean;
use super::funk_svd::by_user_order;
use super::{RatingPredictor, TrainSet};
use crate::rng::numpy::RandomState;

/// Settings of [`SvdPp`]; the defaults are Surprise's `SVDpp()`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SvdPpConfig {
    /// Length of `p_u`, `q_i` and `y_j`; Surprise: 20.
    #[serde(rename = "factors", alias = "n_factors")]
    pub n_factors: usize,
    /// Passes over the train ratings; Surprise: 20.
    #[serde(rename = "epochs", alias = "n_epochs")]
    pub n_epochs: usize,
    /// Learning rate of every parameter (`lr_all`): 0.007.
    pub lr: f64,
    /// Regularization of every parameter (`reg_all`): 0.02.
    #[serde(rename = "regularization", alias = "reg")]
    pub reg: f64,
    /// Mean of the factors' normal initialization; Surprise: 0.
    pub init_mean: f64,
    /// Standard deviation of the factors' normal initialization; Surprise: 0.1.
    pub init_std: f64,
    /// Draw the factors from numpy's `RandomState(numpy_seed)` (Surprise's `random_state`)
    /// instead of libtorch's generator.
    #[serde(default)]
    pub numpy_seed: Option<u32>,
}

impl Default for SvdPpConfig {
    fn default() -> Self {
        SvdPpConfig {
            n_factors: 20,
            n_epochs: 20,
            lr: 0.007,
            reg: 0.02,
            init_mean: 0.0,
            init_std: 0.1,
            numpy_seed: None,
        }
    }
}

/// A fitted SVD++.
#[derive(Debug, Clone, PartialEq)]
pub struct SvdPp {
    /// The mean, the scale and who is known.
    pub base: GlobalMean,
    /// Factors per vector.
    pub n_factors: usize,
    /// `b_u`.
    pub user_bias: Vec<f64>,
    /// `b_i`.
    pub item_bias: Vec<f64>,
    /// `p_u`, row-major `[n_users, n_factors]`.
    pub user_factors: Vec<f64>,
    /// `q_i`, row-major `[n_items, n_factors]`.
    pub item_factors: Vec<f64>,
    /// `y_j`, row-major `[n_items, n_factors]`.
    pub implicit_factors: Vec<f64>,
    /// Each user's rated items `I_u`, in train order.
    pub rated: Vec<Vec<usize>>,
}

/// `n` draws from `normal(mean, std)`: numpy's `RandomState` when given, else libtorch's.
pub(crate) fn normal_init(
    numpy: Option<&mut RandomState>,
    n: usize,
    mean: f64,
    std: f64,
) -> Result<Vec<f64>> {
    Ok(match numpy {
        Some(rs) => rs.normal_n(mean, std, n),
        None => {
            let t = Tensor::randn([n as i64], (Kind::Double, Device::Cpu)) * std + mean;
            Vec::<f64>::try_from(&t)?
        }
    })
}

impl SvdPp {
    /// Fit by SGD as Surprise's `SVDpp.sgd`.
    pub fn fit(train: &TrainSet, config: &SvdPpConfig) -> Result<SvdPp> {
        let base = GlobalMean::fit(train)?;
        let sane = |x: f64| x.is_finite() && x >= 0.0;
        if !(sane(config.lr)
            && sane(config.reg)
            && sane(config.init_std)
            && config.init_mean.is_finite())
        {
            bail!(
                "SVD++ needs finite lr, reg, init_std >= 0 and a finite init_mean (got lr {}, \
                 reg {}, init_std {}, init_mean {})",
                config.lr,
                config.reg,
                config.init_std,
                config.init_mean
            );
        }
        let k = config.n_factors;
        let (n_users, n_items) = (train.n_users as usize, train.n_items as usize);
        let mut numpy = config.numpy_seed.map(RandomState::new);
        let (m, s) = (config.init_mean, config.init_std);
        let mut pu = normal_init(numpy.as_mut(), n_users * k, m, s)?;
        let mut qi = normal_init(numpy.as_mut(), n_items * k, m, s)?;
        let mut yj = normal_init(numpy.as_mut(), n_items * k, m, s)?;
        let mut rated = vec![Vec::new(); n_users];
        for row in 0..train.len() {
            rated[train.users[row] as usize].push(train.items[row] as usize);
        }
        let (mut bu, mut bi) = (vec![0.0; n_users], vec![0.0; n_items]);
        let (lr, reg, mu) = (config.lr, config.reg, base.mean);
        let order = by_user_order(train);
        let mut implicit = vec![0.0; k];
        let mut step = vec![0.0; k];
        for _ in 0..config.n_epochs {
            for &row in &order {
                let (u, i) = (train.users[row] as usize, train.items[row] as usize);
                let r = f64::from(train.values[row]);
                let items = &rated[u];
                let sqrt_iu = (items.len() as f64).sqrt();
                implicit.fill(0.0);
                for &j in items {
                    for (z, y) in implicit.iter_mut().zip(&yj[j * k..(j + 1) * k]) {
                        *z += y / sqrt_iu;
                    }
                }
                let (p, q) = (&pu[u * k..(u + 1) * k], &qi[i * k..(i + 1) * k]);
                let mut dot = 0.0;
                for f in 0..k {
                    dot += q[f] * (p[f] + implicit[f]);
                }
                let err = r - (mu + bu[u] + bi[i] + dot);
                bu[u] += lr * (err - reg * bu[u]);
                bi[i] += lr * (err - reg * bi[i]);
                // The steps of y_j use the old q_i: keep e·q_if/√|I_u| before updating it.
                for f in 0..k {
                    let (puf, qif) = (pu[u * k + f], qi[i * k + f]);
                    pu[u * k + f] += lr * (err * qif - reg * puf);
                    qi[i * k + f] += lr * (err * (puf + implicit[f]) - reg * qif);
                    step[f] = err * qif / sqrt_iu;
                }
                // Each y_jf changes once per step, so the order of (j, f) does not matter.
                for &j in items {
                    for (y, st) in yj[j * k..(j + 1) * k].iter_mut().zip(step.iter()) {
                        *y += lr * (st - reg * *y);
                    }
                }
            }
            if bu.iter().chain(&bi).any(|b| !b.is_finite()) {
                bail!("SVD++ diverged (a bias is not finite); lower the learning rate {lr}");
            }
        }
        Ok(SvdPp {
            base,
            n_factors: k,
            user_bias: bu,
            item_bias: bi,
            user_factors: pu,
            item_factors: qi,
            implicit_factors: yj,
            rated,
        })
    }

    /// Surprise's `SVDpp.estimate`, unclipped: μ, plus `b_u` and `b_i` for a known user and
    /// item, plus `q_iᵀ (p_u + Σ y_j / √|I_u|)` when both are known (the sum taken first, then
    /// divided, as there). `dot` is the inner product to use (numpy's `np.dot` in the replay).
    pub fn estimate(
        &self,
        u: Option<usize>,
        i: Option<usize>,
        dot: fn(&[f64], &[f64]) -> f64,
    ) -> f64 {
        let k = self.n_factors;
        let mut est = self.base.mean;
        if let Some(u) = u {
            est += self.user_bias[u];
        }
        if let Some(i) = i {
            est += self.item_bias[i];
        }
        if let (Some(u), Some(i)) = (u, i) {
            let items = &self.rated[u];
            let mut sum = vec![0.0; k];
            for &j in items {
                for (s, y) in sum
                    .iter_mut()
                    .zip(&self.implicit_factors[j * k..(j + 1) * k])
                {
                    *s += y;
                }
            }
            let sqrt_iu = (items.len() as f64).sqrt();
            let v: Vec<f64> = sum
                .iter()
                .zip(&self.user_factors[u * k..(u + 1) * k])
                .map(|(s, p)| p + s / sqrt_iu)
                .collect();
            est += dot(&self.item_factors[i * k..(i + 1) * k], &v);
        }
        est
    }
}

/// The plain inner product, in index order.
pub fn plain_dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        s += x * y;
    }
    s
}

impl RatingPredictor for SvdPp {
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        self.base
            .predict_with(users, items, |u, i| self.estimate(u, i, plain_dot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_step_by_hand() {
        // One user, one item rated 5 (μ = 5); one factor, init_std 0 so every factor
        // starts at init_mean 0.5 (drawn by numpy's generator); lr 0.1, reg 0; one epoch.
        let config = SvdPpConfig {
            n_factors: 1,
            n_epochs: 1,
            lr: 0.1,
            reg: 0.0,
            init_mean: 0.5,
            init_std: 0.0,
            numpy_seed: Some(0),
        };
        let first = SvdPp::fit(
            &TrainSet::new(1, 1, vec![0], vec![0], vec![5.]).unwrap(),
            &config,
        )
        .unwrap();
        // One rating, μ = 5: z = 0.5, r̂ = 5 + 0.5 · 1 = 5.5, e = −0.5.
        let e = -0.5;
        assert_eq!(first.user_bias[0], 0.1 * e);
        assert_eq!(first.user_factors[0], 0.5 + 0.1 * (e * 0.5));
        assert_eq!(first.item_factors[0], 0.5 + 0.1 * (e * (0.5 + 0.5)));
        assert_eq!(first.implicit_factors[0], 0.5 + 0.1 * (e * 0.5 / 1.0));
    }
}
