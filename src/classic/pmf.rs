//! Probabilistic matrix factorization (Salakhutdinov & Mnih, "Probabilistic Matrix
//! Factorization", NIPS 2008), as Cornac 3's `PMF` (`cornac/models/pmf/recom_pmf.py` and
//! `cython/pmf.pyx`) fits it: user factors `U` and item factors `V`, no biases, Gaussian
//! priors on both (the L2 penalty `λ`), trained by SGD with RMSProp step sizes, one train
//! rating at a time in train-row order, the same order every epoch.
//!
//! The non-linear variant (Cornac's default) squashes the dot product with a sigmoid and fits
//! the ratings rescaled into `[0, 1]`, `r' = (r − min) / (max − min)`; the linear one fits
//! `Uᵤ·Vᵢ = r` directly. For each rating, with `s = Uᵤ·Vᵢ`:
//!
//! ```text
//! non-linear: g = σ(s), e = (r' − g) g (1 − g)      linear: e = r − s
//! for each factor f:   ∇ = e V[i,f] − λ U[u,f]
//!                      c_u[u,f] = γ c_u[u,f] + (1 − γ) ∇²;   U[u,f] += lr ∇ / (√c_u[u,f] + 1e-8)
//! then for each f:     ∇ = e U[u,f] − λ V[i,f]   (with the user's factors just updated)
//!                      c_v[i,f] = γ c_v[i,f] + (1 − γ) ∇²;   V[i,f] += lr ∇ / (√c_v[i,f] + 1e-8)
//! ```
//!
//! The prediction is `min + σ(Uᵤ·Vᵢ) (max − min)` (non-linear) or `Uᵤ·Vᵢ` (linear), clipped
//! into `[min, max]`; an unknown user or item gets the train mean. The arithmetic follows
//! Cornac's compiled Cython to the bit: `f64` factors, the learning rate, `λ` and `γ` rounded
//! to `f32` (Cython's `float` arguments), and the training sigmoid in `f32`, clipped to 0 and
//! 1 beyond ±6 (`sigmoid_f32`). With
//! [`numpy_seed`](crate::classic::pmf::PmfConfig::numpy_seed) the initial factors are numpy's
//! `RandomState(seed).normal(0, 0.001)` draws, as Cornac's `PMF(seed=…)` makes them, and a fit
//! equals Cornac's (factors to 1e-15 after 100 epochs on ml-100k, `tests/comparisons.rs`);
//! without it they come from libtorch's generator (`tch::manual_seed` makes a fit
//! reproducible).

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::baseline::GlobalMean;
use super::{RatingPredictor, TrainSet};
use crate::rng::Mt19937;

/// Which PMF: Cornac's `variant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PmfVariant {
    /// The Gaussian mean is `σ(Uᵤ·Vᵢ)` on ratings rescaled into `[0, 1]` (Cornac's default).
    #[serde(alias = "non_linear")]
    NonLinear,
    /// The Gaussian mean is `Uᵤ·Vᵢ` on the raw ratings.
    Linear,
}

/// Settings of [`Pmf`]; the defaults are Cornac 3's `PMF()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PmfConfig {
    /// Length of the user and item factors; Cornac: 5 (its `k`).
    #[serde(rename = "factors", alias = "k")]
    pub k: usize,
    /// Passes over the train ratings; Cornac: 100 (its `max_iter`).
    #[serde(rename = "epochs", alias = "max_iter")]
    pub max_iter: usize,
    /// RMSProp's learning rate; Cornac: 0.001 (its `learning_rate`).
    #[serde(rename = "lr", alias = "learning_rate")]
    pub learning_rate: f64,
    /// RMSProp's decay of the squared gradients; Cornac: 0.9.
    pub gamma: f64,
    /// L2 penalty of the factors (the Gaussian priors); Cornac: 0.001 (its `lambda_reg`).
    #[serde(rename = "regularization", alias = "lambda_reg")]
    pub lambda_reg: f64,
    /// Non-linear (Cornac's default) or linear.
    pub variant: PmfVariant,
    /// Standard deviation of the factors' normal initialization around 0; Cornac: 0.001.
    pub init_std: f64,
    /// Draw the initial factors from numpy's `RandomState(numpy_seed)`, as Cornac's
    /// `PMF(seed=numpy_seed)` does (users, then items); `None`: from libtorch's generator.
    pub numpy_seed: Option<u32>,
}

impl Default for PmfConfig {
    fn default() -> Self {
        PmfConfig {
            k: 5,
            max_iter: 100,
            learning_rate: 0.001,
            gamma: 0.9,
            lambda_reg: 0.001,
            variant: PmfVariant::NonLinear,
            init_std: 0.001,
            numpy_seed: None,
        }
    }
}

impl PmfConfig {
    fn check(&self) -> Result<()> {
        if self.k == 0 {
            bail!("PMF: k must be at least 1, got 0");
        }
        let finite_nonneg = |x: f64| x.is_finite() && x >= 0.0;
        if !(finite_nonneg(self.learning_rate) && self.learning_rate > 0.0) {
            bail!(
                "PMF: learning_rate must be finite and > 0, got {}",
                self.learning_rate
            );
        }
        if !finite_nonneg(self.lambda_reg) || !finite_nonneg(self.init_std) {
            bail!(
                "PMF: lambda_reg and init_std must be finite and >= 0, got {} and {}",
                self.lambda_reg,
                self.init_std
            );
        }
        if !(0.0..1.0).contains(&self.gamma) {
            bail!("PMF: gamma must be in [0, 1), got {}", self.gamma);
        }
        Ok(())
    }
}

/// numpy's legacy `RandomState` normal draws: MT19937 seeded by `init_genrand`, 53-bit
/// doubles from two words, and Marsaglia's polar method keeping the second value of each
/// pair for the next call (`legacy_gauss` in numpy's `distributions/legacy`).
struct NumpyNormal {
    mt: Mt19937,
    cached: Option<f64>,
}

impl NumpyNormal {
    fn new(seed: u32) -> NumpyNormal {
        NumpyNormal {
            mt: Mt19937::new(u64::from(seed)),
            cached: None,
        }
    }

    fn uniform(&mut self) -> f64 {
        let a = self.mt.next_u32() >> 5;
        let b = self.mt.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) / 9_007_199_254_740_992.0
    }

    fn gauss(&mut self) -> f64 {
        if let Some(g) = self.cached.take() {
            return g;
        }
        loop {
            let x1 = 2.0 * self.uniform() - 1.0;
            let x2 = 2.0 * self.uniform() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.cached = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// `n` draws of `normal(0, std)`.
    fn normal(&mut self, n: usize, std: f64) -> Vec<f64> {
        (0..n).map(|_| 0.0 + std * self.gauss()).collect()
    }
}

/// Cornac's training sigmoid (`cdef float sigmoid(float z)`), as its wheel's compiler built
/// it: `z` rounded to `f32`, 1 above 6, 0 below −6, else `1 / (1 + expf(−z))` with `expf`
/// in `f32` (GCC narrows `exp` of a float), the division in `f64`, the result rounded to
/// `f32` (disassembly of Cornac 3.0.1's `pmf.cpython-311-x86_64-linux-gnu.so`).
fn sigmoid_f32(s: f64) -> f64 {
    let z = s as f32;
    if z > 6.0 {
        1.0
    } else if z < -6.0 {
        0.0
    } else {
        f64::from((1.0 / (1.0 + f64::from((-z).exp()))) as f32)
    }
}

/// A fitted PMF.
#[derive(Debug, Clone, PartialEq)]
pub struct Pmf {
    /// The settings it was fitted with (the variant decides the prediction).
    pub config: PmfConfig,
    /// The train mean (the unknowns' prediction), the rating scale and who is known.
    pub base: GlobalMean,
    /// User factors `U`, row-major `[n_users, k]`.
    pub user_factors: Vec<f64>,
    /// Item factors `V`, row-major `[n_items, k]`.
    pub item_factors: Vec<f64>,
}

impl Pmf {
    /// Fit by RMSProp SGD over the train rows in order, `max_iter` times: the factors drawn
    /// first (users, then items; see [`PmfConfig::numpy_seed`]). Fails on bad settings, an
    /// empty train set, or factors that end non-finite.
    pub fn fit(train: &TrainSet, config: &PmfConfig) -> Result<Pmf> {
        config.check()?;
        let base = GlobalMean::fit(train)?;
        let k = config.k;
        let (n_users, n_items) = (train.n_users as usize, train.n_items as usize);
        let (mut u, mut v) = match config.numpy_seed {
            Some(seed) => {
                let mut rng = NumpyNormal::new(seed);
                let u = rng.normal(n_users * k, config.init_std);
                (u, rng.normal(n_items * k, config.init_std))
            }
            None => {
                let draw = |n: usize| -> Result<Vec<f64>> {
                    let t =
                        Tensor::randn([n as i64], (Kind::Double, Device::Cpu)) * config.init_std;
                    Ok(Vec::<f64>::try_from(&t)?)
                };
                (draw(n_users * k)?, draw(n_items * k)?)
            }
        };
        // Cython's `float` arguments.
        let f32_of = |x: f64| f64::from(x as f32);
        let (lr, reg, gamma) = (
            f32_of(config.learning_rate),
            f32_of(config.lambda_reg),
            f32_of(config.gamma),
        );
        let keep = f64::from(1.0f32 - config.gamma as f32);
        let non_linear = config.variant == PmfVariant::NonLinear;
        let (lo, hi) = if base.min == base.max {
            (0.0, base.max)
        } else {
            (base.min, base.max)
        };
        let targets: Vec<f64> = train
            .values
            .iter()
            .map(|&r| {
                let r = f64::from(r);
                if non_linear && (base.min, base.max) != (0.0, 1.0) {
                    f64::from(((r - lo) / (hi - lo)) as f32)
                } else {
                    r
                }
            })
            .collect();
        let mut cache_u = vec![0.0f64; n_users * k];
        let mut cache_v = vec![0.0f64; n_items * k];
        const EPS: f64 = 1e-8;
        for _ in 0..config.max_iter {
            for (row, &r) in targets.iter().enumerate() {
                let (uu, ii) = (train.users[row] as usize, train.items[row] as usize);
                let (us, is) = (uu * k..(uu + 1) * k, ii * k..(ii + 1) * k);
                let (pu, qi) = (&mut u[us.clone()], &mut v[is.clone()]);
                let mut s = 0.0;
                for f in 0..k {
                    s += pu[f] * qi[f];
                }
                let e = if non_linear {
                    let g = sigmoid_f32(s);
                    (r - g) * g * (1.0 - g)
                } else {
                    r - s
                };
                let cu = &mut cache_u[us];
                for f in 0..k {
                    let grad = e * qi[f] - reg * pu[f];
                    cu[f] = gamma * cu[f] + keep * (grad * grad);
                    pu[f] += lr * (grad / (cu[f].sqrt() + EPS));
                }
                let cv = &mut cache_v[is];
                for f in 0..k {
                    let grad = e * pu[f] - reg * qi[f];
                    cv[f] = gamma * cv[f] + keep * (grad * grad);
                    qi[f] += lr * (grad / (cv[f].sqrt() + EPS));
                }
            }
        }
        if !u.iter().chain(&v).all(|x| x.is_finite()) {
            bail!("PMF diverged (non-finite factors): lower learning_rate");
        }
        Ok(Pmf {
            config: config.clone(),
            base,
            user_factors: u,
            item_factors: v,
        })
    }

    /// The learned tensors, to save: `user_factors` `[n_users, k]` and `item_factors`
    /// `[n_items, k]` (`f64`), `rating_scale` `[mean, min, max]` (`f64`), and the train
    /// ratings per user and per item, `user_counts` and `item_counts` (`i64`; 0 = unknown).
    pub fn parts(&self) -> Vec<(&'static str, Tensor)> {
        let k = self.config.k as i64;
        let counts =
            |c: &[usize]| Tensor::from_slice(&c.iter().map(|&n| n as i64).collect::<Vec<_>>());
        vec![
            (
                "user_factors",
                Tensor::from_slice(&self.user_factors).view([-1, k]),
            ),
            (
                "item_factors",
                Tensor::from_slice(&self.item_factors).view([-1, k]),
            ),
            (
                "rating_scale",
                Tensor::from_slice(&[self.base.mean, self.base.min, self.base.max]),
            ),
            ("user_counts", counts(&self.base.user_counts)),
            ("item_counts", counts(&self.base.item_counts)),
        ]
    }

    /// Rebuild a fitted model from `config` and the tensors of [`Pmf::parts`] (in any order).
    /// Fails when one is missing or their shapes disagree with each other or with `config.k`.
    pub fn from_parts(config: PmfConfig, parts: &[(String, Tensor)]) -> Result<Pmf> {
        let get = |name: &str| -> Result<&Tensor> {
            match parts.iter().find(|(n, _)| n == name) {
                Some((_, t)) => Ok(t),
                None => bail!("PMF: the saved model has no tensor {name:?}"),
            }
        };
        let floats = |name: &str| -> Result<(Vec<i64>, Vec<f64>)> {
            let t = get(name)?;
            let values = Vec::<f64>::try_from(t.to_kind(Kind::Double).reshape([-1]))?;
            Ok((t.size(), values))
        };
        let counts = |name: &str| -> Result<Vec<usize>> {
            let t = get(name)?.to_kind(Kind::Int64).reshape([-1]);
            Vec::<i64>::try_from(&t)?
                .into_iter()
                .map(|c| usize::try_from(c).map_err(|_| anyhow::anyhow!("{name}: count {c} < 0")))
                .collect()
        };
        let (user_shape, user_factors) = floats("user_factors")?;
        let (item_shape, item_factors) = floats("item_factors")?;
        let (_, scale) = floats("rating_scale")?;
        let (user_counts, item_counts) = (counts("user_counts")?, counts("item_counts")?);
        let k = config.k as i64;
        let shaped = |shape: &[i64], rows: usize| shape == [rows as i64, k];
        if !shaped(&user_shape, user_counts.len()) || !shaped(&item_shape, item_counts.len()) {
            bail!(
                "PMF: factors {user_shape:?} and {item_shape:?} do not fit k = {k}, {} users and \
                 {} items",
                user_counts.len(),
                item_counts.len()
            );
        }
        let [mean, min, max] = scale[..] else {
            bail!("PMF: rating_scale holds {} values, not 3", scale.len());
        };
        Ok(Pmf {
            config,
            base: GlobalMean {
                mean,
                min,
                max,
                user_counts,
                item_counts,
            },
            user_factors,
            item_factors,
        })
    }
}

impl RatingPredictor for Pmf {
    /// Cornac's `PMF.rate`: `min + σ(Uᵤ·Vᵢ)(max − min)` (non-linear) or `Uᵤ·Vᵢ` (linear) for a
    /// known user and item, the train mean otherwise, clipped into `[min, max]`.
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        self.base.check(users, items)?;
        let k = self.config.k;
        Ok(users
            .iter()
            .zip(items)
            .map(|(&u, &i)| {
                if !(self.base.knows_user(u) && self.base.knows_item(i)) {
                    return self.base.clip(self.base.mean);
                }
                let (u, i) = (u as usize, i as usize);
                let pu = &self.user_factors[u * k..(u + 1) * k];
                let qi = &self.item_factors[i * k..(i + 1) * k];
                let s: f64 = pu.iter().zip(qi).map(|(p, q)| p * q).sum();
                let estimate = match self.config.variant {
                    PmfVariant::NonLinear => {
                        let g = 1.0 / (1.0 + (-s).exp());
                        g * (self.base.max - self.base.min) + self.base.min
                    }
                    PmfVariant::Linear => s,
                };
                self.base.clip(estimate)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    //! The fits equal to Cornac's are checked in `tests/comparisons.rs`.
    use super::*;

    /// Three users, four items.
    fn tiny() -> TrainSet {
        let rows = [
            (0, 0, 5.0),
            (0, 1, 3.0),
            (1, 0, 4.0),
            (1, 2, 1.0),
            (2, 1, 2.0),
            (2, 3, 5.0),
            (0, 3, 4.0),
        ];
        TrainSet::new(
            3,
            4,
            rows.iter().map(|r| r.0).collect(),
            rows.iter().map(|r| r.1).collect(),
            rows.iter().map(|r| r.2).collect(),
        )
        .unwrap()
    }

    #[test]
    fn parts_round_trip_and_unknowns() {
        tch::manual_seed(5);
        let mut train = tiny();
        train.n_users = 4; // user 3 has no train rating: unknown
        let config = PmfConfig {
            max_iter: 20,
            ..PmfConfig::default()
        };
        let m = Pmf::fit(&train, &config).unwrap();
        tch::manual_seed(5);
        assert_eq!(Pmf::fit(&train, &config).unwrap(), m);
        let parts: Vec<(String, Tensor)> = m
            .parts()
            .into_iter()
            .map(|(n, t)| (n.to_string(), t))
            .collect();
        let back = Pmf::from_parts(config.clone(), &parts).unwrap();
        assert_eq!(back, m);
        let mean = m.base.mean;
        assert_eq!(m.predict(&[3], &[0]).unwrap(), vec![mean]);
        assert!(m.predict(&[4], &[0]).is_err());
        let wrong_k = PmfConfig {
            k: 3,
            ..config.clone()
        };
        assert!(Pmf::from_parts(wrong_k, &parts).is_err());
        assert!(Pmf::from_parts(config, &parts[1..]).is_err());
    }

    #[test]
    fn config_defaults_and_checks() {
        let c: PmfConfig = serde_json::from_str(r#"{"k": 10, "variant": "linear"}"#).unwrap();
        assert_eq!((c.k, c.max_iter, c.variant), (10, 100, PmfVariant::Linear));
        assert_eq!(
            (c.learning_rate, c.lambda_reg, c.gamma),
            (0.001, 0.001, 0.9)
        );
        // the one name recsys uses, and Cornac's as an alias
        let c: PmfConfig = serde_json::from_str(r#"{"factors": 10}"#).unwrap();
        assert_eq!(c.k, 10);
        assert!(serde_json::from_str::<PmfConfig>(r#"{"n_factor": 10}"#).is_err());
        let c: PmfConfig = serde_json::from_str(r#"{"variant": "non_linear"}"#).unwrap();
        assert_eq!(c.variant, PmfVariant::NonLinear);
        for bad in [
            PmfConfig {
                k: 0,
                ..PmfConfig::default()
            },
            PmfConfig {
                learning_rate: 0.0,
                ..PmfConfig::default()
            },
            PmfConfig {
                gamma: 1.0,
                ..PmfConfig::default()
            },
            PmfConfig {
                lambda_reg: f64::NAN,
                ..PmfConfig::default()
            },
        ] {
            assert!(Pmf::fit(&tiny(), &bad).is_err(), "{bad:?}");
        }
    }
}
