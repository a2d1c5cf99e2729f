//! Funk-SVD: biased matrix factorization trained by stochastic gradient descent, one rating at
//! a time, as Surprise 1.1's `SVD` (`matrix_factorization.pyx`) does it.
//!
//! `r̂_ui = μ + b_u + b_i + q_iᵀ p_u`. For each train rating, with `e = r_ui − r̂_ui`:
//!
//! ```text
//! b_u += lr (e − reg b_u)         b_i += lr (e − reg b_i)
//! p_u += lr (e q_i − reg p_u)     q_i += lr (e p_u − reg q_i)   (both from the old p_u, q_i)
//! ```
//!
//! A plain loop over `f64` vectors, like Surprise's Cython. The factors start from
//! `normal(init_mean, init_std)` and the visiting order is drawn each epoch, both from
//! libtorch's generator, so `tch::manual_seed` makes a fit reproducible; with `numpy_seed`
//! the factors come from numpy's `RandomState(numpy_seed)` instead, as Surprise draws them. Surprise does not
//! shuffle: it visits the ratings user by user (its `all_ratings()`), in the same order every
//! epoch. [`SgdOrder::ByUser`] is that order and the default (it is also 1.5–2.4x faster, the
//! rows of a user being adjacent in memory); [`SgdOrder::Shuffled`] draws a fresh permutation
//! each epoch, as textbook SGD does, with the same RMSE on ml-100k.

use anyhow::{bail, Result};
use tch::{Device, Kind, Tensor};

use super::baseline::GlobalMean;
use super::svd_pp::normal_init;
use super::{RatingPredictor, TrainSet};
use crate::rng::numpy::RandomState;

/// The order in which one epoch visits the train ratings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SgdOrder {
    /// A fresh random permutation each epoch (libtorch's `randperm`).
    Shuffled,
    /// Surprise's order, the same every epoch: users in order of their first train row, each
    /// user's ratings in train-row order.
    ByUser,
}

/// Settings of [`FunkSvd`]; the defaults are Surprise's `SVD()`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunkSvdConfig {
    /// Length of `p_u` and `q_i`; Surprise: 100.
    #[serde(rename = "factors", alias = "n_factors")]
    pub n_factors: usize,
    /// Passes over the train ratings; Surprise: 20.
    #[serde(rename = "epochs", alias = "n_epochs")]
    pub n_epochs: usize,
    /// Learning rate of every parameter (Surprise's `lr_all`): 0.005.
    pub lr: f64,
    /// Regularization of every parameter (Surprise's `reg_all`): 0.02.
    #[serde(rename = "regularization", alias = "reg")]
    pub reg: f64,
    /// Mean of the factors' normal initialization; Surprise: 0.
    pub init_mean: f64,
    /// Standard deviation of the factors' normal initialization; Surprise: 0.1.
    pub init_std: f64,
    /// Whether to learn `μ + b_u + b_i` (Surprise's `biased`, default true); unbiased is
    /// plain `q_iᵀ p_u`, with μ only as the fallback.
    pub biased: bool,
    /// Visiting order; default [`SgdOrder::ByUser`], Surprise's.
    pub order: SgdOrder,
    /// Draw the factors from numpy's `RandomState(numpy_seed)`, users then items, as
    /// Surprise's `SVD(random_state=numpy_seed)` does, instead of libtorch's generator. With
    /// [`SgdOrder::ByUser`] the fit is then Surprise's to the last bit.
    #[serde(default)]
    pub numpy_seed: Option<u32>,
}

impl Default for FunkSvdConfig {
    fn default() -> Self {
        FunkSvdConfig {
            n_factors: 100,
            n_epochs: 20,
            lr: 0.005,
            reg: 0.02,
            init_mean: 0.0,
            init_std: 0.1,
            biased: true,
            order: SgdOrder::ByUser,
            numpy_seed: None,
        }
    }
}

/// Biases and factors of a fitted matrix factorization, Surprise's `SVD` or `NMF`, and their
/// shared estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Factorization {
    /// The mean, the scale and who is known.
    pub base: GlobalMean,
    /// Whether the biases are part of the estimate.
    pub biased: bool,
    /// Factors per user and per item.
    pub n_factors: usize,
    /// User biases `b_u` (zero when not biased).
    pub user_bias: Vec<f64>,
    /// Item biases `b_i` (zero when not biased).
    pub item_bias: Vec<f64>,
    /// User factors, row-major `[n_users, n_factors]`.
    pub user_factors: Vec<f64>,
    /// Item factors, row-major `[n_items, n_factors]`.
    pub item_factors: Vec<f64>,
}

/// A fitted Funk-SVD (Surprise's `SVD`).
#[derive(Debug, Clone, PartialEq)]
pub struct FunkSvd {
    /// Its biases and factors.
    pub factors: Factorization,
}

/// Train rows user by user, users in order of their first row, rows of a user in row order:
/// the order of Surprise's `Trainset.all_ratings()` for a train set built from these rows.
pub fn by_user_order(train: &TrainSet) -> Vec<usize> {
    let mut first_seen = vec![usize::MAX; train.n_users as usize];
    for (row, &u) in train.users.iter().enumerate() {
        let seen = &mut first_seen[u as usize];
        *seen = (*seen).min(row);
    }
    let mut rows: Vec<usize> = (0..train.len()).collect();
    rows.sort_by_key(|&row| first_seen[train.users[row] as usize]);
    rows
}

impl FunkSvd {
    /// Fit by SGD: factors drawn (users, then items), then `n_epochs` passes in `config.order`.
    pub fn fit(train: &TrainSet, config: &FunkSvdConfig) -> Result<FunkSvd> {
        let base = GlobalMean::fit(train)?;
        let sane = |x: f64| x.is_finite() && x >= 0.0;
        let finite_mean = config.init_mean.is_finite();
        if !(sane(config.lr) && sane(config.reg) && sane(config.init_std) && finite_mean) {
            bail!(
                "Funk-SVD needs finite lr, reg, init_std >= 0 and a finite init_mean (got lr {}, \
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
        let (mean, std) = (config.init_mean, config.init_std);
        let mut model = Factorization {
            user_factors: normal_init(numpy.as_mut(), n_users * k, mean, std)?,
            item_factors: normal_init(numpy.as_mut(), n_items * k, mean, std)?,
            user_bias: vec![0.0; n_users],
            item_bias: vec![0.0; n_items],
            biased: config.biased,
            n_factors: k,
            base,
        };
        let mu = if config.biased { model.base.mean } else { 0.0 };
        let by_user = by_user_order(train);
        let (lr, reg) = (config.lr, config.reg);
        for _ in 0..config.n_epochs {
            let shuffled: Vec<usize>;
            let order: &[usize] = match config.order {
                SgdOrder::ByUser => &by_user,
                SgdOrder::Shuffled => {
                    let perm = Tensor::randperm(train.len() as i64, (Kind::Int64, Device::Cpu));
                    shuffled = Vec::<i64>::try_from(&perm)?
                        .into_iter()
                        .map(|row| row as usize)
                        .collect();
                    &shuffled
                }
            };
            for &row in order {
                let (u, i) = (train.users[row] as usize, train.items[row] as usize);
                let r = f64::from(train.values[row]);
                let pu = &mut model.user_factors[u * k..(u + 1) * k];
                let qi = &mut model.item_factors[i * k..(i + 1) * k];
                let dot: f64 = pu.iter().zip(qi.iter()).map(|(p, q)| p * q).sum();
                let err = r - (mu + model.user_bias[u] + model.item_bias[i] + dot);
                if config.biased {
                    model.user_bias[u] += lr * (err - reg * model.user_bias[u]);
                    model.item_bias[i] += lr * (err - reg * model.item_bias[i]);
                }
                for (p, q) in pu.iter_mut().zip(qi.iter_mut()) {
                    let (puf, qif) = (*p, *q);
                    *p += lr * (err * qif - reg * puf);
                    *q += lr * (err * puf - reg * qif);
                }
            }
            if model
                .user_bias
                .iter()
                .chain(&model.item_bias)
                .any(|b| !b.is_finite())
            {
                bail!("Funk-SVD diverged (a bias is not finite); lower the learning rate {lr}");
            }
        }
        Ok(FunkSvd { factors: model })
    }
}

impl Factorization {
    /// `q_iᵀ p_u`.
    pub fn dot(&self, u: usize, i: usize) -> f64 {
        let k = self.n_factors;
        let pu = &self.user_factors[u * k..(u + 1) * k];
        let qi = &self.item_factors[i * k..(i + 1) * k];
        pu.iter().zip(qi).map(|(p, q)| p * q).sum()
    }
}

impl RatingPredictor for FunkSvd {
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        self.factors.predict(users, items)
    }
}

impl RatingPredictor for Factorization {
    /// Surprise's `SVD.estimate` (and `NMF.estimate`): μ, plus `b_u` if the user is known, plus `b_i` if the item
    /// is known, plus `q_iᵀ p_u` if both are; unbiased: `q_iᵀ p_u`, or μ when either is
    /// unknown. Clipped into the rating scale.
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        self.base.check(users, items)?;
        Ok(users
            .iter()
            .zip(items)
            .map(|(&u, &i)| {
                let (known_u, known_i) = (self.base.knows_user(u), self.base.knows_item(i));
                let (u, i) = (u as usize, i as usize);
                let estimate = if self.biased {
                    let mut est = self.base.mean;
                    if known_u {
                        est += self.user_bias[u];
                    }
                    if known_i {
                        est += self.item_bias[i];
                    }
                    if known_u && known_i {
                        est += self.dot(u, i);
                    }
                    est
                } else if known_u && known_i {
                    self.dot(u, i)
                } else {
                    self.base.mean
                };
                self.base.clip(estimate)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn one_epoch_by_hand() {
        // One user rates item 0 with 5, then item 1 with 1: μ = 3. Factors start at 0.5
        // (init_std 0), lr 0.1, reg 0.5, two factors (equal, so each acts as one).
        let train = TrainSet::new(1, 2, vec![0, 0], vec![0, 1], vec![5., 1.]).unwrap();
        let config = FunkSvdConfig {
            n_factors: 2,
            n_epochs: 1,
            lr: 0.1,
            reg: 0.5,
            init_mean: 0.5,
            init_std: 0.0,
            biased: true,
            order: SgdOrder::ByUser,
            numpy_seed: None,
        };
        let m = FunkSvd::fit(&train, &config).unwrap();
        // Row 1: dot 0.5, e = 5 − 3.5 = 1.5; b_u = b_i0 = 0.1·1.5 = 0.15;
        //        p = q0 = 0.5 + 0.1(1.5·0.5 − 0.5·0.5) = 0.55.
        // Row 2: dot 2·0.55·0.5 = 0.55, e = 1 − (3 + 0.15 + 0.55) = −2.7;
        //        b_u = 0.15 + 0.1(−2.7 − 0.5·0.15) = −0.1275; b_i1 = 0.1·(−2.7) = −0.27;
        //        p = 0.55 + 0.1(−2.7·0.5 − 0.5·0.55) = 0.3875;
        //        q1 = 0.5 + 0.1(−2.7·0.55 − 0.5·0.5) = 0.3265.
        assert!(close(m.factors.user_bias[0], -0.1275));
        assert!(close(m.factors.item_bias[0], 0.15) && close(m.factors.item_bias[1], -0.27));
        assert!(m.factors.user_factors.iter().all(|&p| close(p, 0.3875)));
        assert!(m.factors.item_factors[..2].iter().all(|&q| close(q, 0.55)));
        assert!(m.factors.item_factors[2..]
            .iter()
            .all(|&q| close(q, 0.3265)));
        let p = m.predict(&[0, 0], &[0, 1]).unwrap();
        // 3 − 0.1275 + 0.15 + 2·0.3875·0.55 = 3.44875; 3 − 0.1275 − 0.27 + 2·0.3875·0.3265.
        assert!(close(p[0], 3.44875), "{}", p[0]);
        assert!(close(p[1], 2.6025 + 2.0 * 0.3875 * 0.3265), "{}", p[1]);
    }

    #[test]
    fn surprise_visits_users_in_order_of_first_row() {
        let train = TrainSet::new(3, 1, vec![2, 0, 2, 1, 0], vec![0; 5], vec![1.; 5]).unwrap();
        assert_eq!(by_user_order(&train), vec![0, 2, 1, 4, 3]);
    }

    /// A small dense-ish set: 30 users × 20 items, rating = a rank-2 pattern rounded to 1..5.
    fn patterned() -> TrainSet {
        let (mut users, mut items, mut values) = (vec![], vec![], vec![]);
        for u in 0..30i64 {
            for i in 0..20i64 {
                if (u * 7 + i * 3) % 4 != 0 {
                    let r = 3.0 + 1.5 * ((u % 5) as f64 - 2.0) / 2.0 * ((i % 4) as f64 - 1.5) / 1.5;
                    users.push(u);
                    items.push(i);
                    values.push(r.round().clamp(1.0, 5.0) as f32);
                }
            }
        }
        TrainSet::new(31, 20, users, items, values).unwrap()
    }

    #[test]
    fn seeded_fits_repeat_and_learn_the_pattern() {
        let train = patterned();
        let config = FunkSvdConfig {
            n_factors: 8,
            n_epochs: 60,
            lr: 0.02,
            ..Default::default()
        };
        tch::manual_seed(3);
        let a = FunkSvd::fit(&train, &config).unwrap();
        tch::manual_seed(3);
        let b = FunkSvd::fit(&train, &config).unwrap();
        assert_eq!(a, b);
        let p = a.predict(&train.users, &train.items).unwrap();
        let rmse = |p: &[f64]| {
            let se: f64 = p
                .iter()
                .zip(&train.values)
                .map(|(p, &r)| (p - f64::from(r)).powi(2))
                .sum();
            (se / p.len() as f64).sqrt()
        };
        let mean = GlobalMean::fit(&train).unwrap();
        let flat = mean.predict(&train.users, &train.items).unwrap();
        assert!(
            rmse(&p) < 0.5 * rmse(&flat),
            "{} vs {}",
            rmse(&p),
            rmse(&flat)
        );
        // User 30 has no ratings: unknown, so μ + b_i only.
        let unknown = a.predict(&[30], &[4]).unwrap()[0];
        assert!(close(
            unknown,
            mean.clip(mean.mean + a.factors.item_bias[4])
        ));
    }

    #[test]
    fn factors_start_from_normal_0_01() {
        tch::manual_seed(0);
        let train = TrainSet::new(50, 50, vec![0], vec![0], vec![3.]).unwrap();
        let config = FunkSvdConfig {
            n_epochs: 0,
            ..Default::default()
        };
        let m = FunkSvd::fit(&train, &config).unwrap();
        let x = &m.factors.user_factors;
        assert_eq!(x.len(), 5000);
        let mean = x.iter().sum::<f64>() / 5000.0;
        let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4999.0).sqrt();
        assert!(
            mean.abs() < 0.005 && (sd - 0.1).abs() < 0.005,
            "{mean} {sd}"
        );
    }
}
