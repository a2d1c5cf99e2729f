//! Surprise 1.1's `NMF`: non-negative matrix factorization of the ratings, `r̂_ui = q_iᵀ p_u`,
//! fitted by the regularized multiplicative updates of Luo et al. (2014), with Surprise's
//! defaults (15 factors, 50 epochs, reg 0.06, factors from `uniform(0, 1)`).
//!
//! Each epoch, with `r̂_ui` from the factors at the epoch's start:
//!
//! ```text
//! p_uf ← p_uf · Σ_{i ∈ I_u} q_if r_ui / (Σ_{i ∈ I_u} q_if r̂_ui + |I_u| reg_pu p_uf)
//! q_if ← q_if · Σ_{u ∈ U_i} p_uf r_ui / (Σ_{u ∈ U_i} p_uf r̂_ui + |U_i| reg_qi q_if)
//! ```
//!
//! The factors stay non-negative. With `biased`, `r̂_ui = μ + b_u + b_i + q_iᵀ p_u` and the
//! biases take one SGD step per rating (in Surprise's user-by-user order) as they go. Unbiased,
//! an unknown user or item gets the global mean. Clipped into the rating scale. The initial
//! factors come from libtorch's generator (users, then items), or from numpy's
//! `RandomState(numpy_seed)` as Surprise's `NMF(random_state=numpy_seed)` draws them.

use anyhow::{bail, Result};
use tch::{Device, Kind, Tensor};

use super::baseline::GlobalMean;
use super::funk_svd::{by_user_order, Factorization};
use super::{RatingPredictor, TrainSet};
use crate::rng::numpy::RandomState;

/// Settings of [`Nmf`]; the defaults are Surprise's `NMF()`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NmfConfig {
    /// Factors per user and item; Surprise: 15.
    #[serde(rename = "factors", alias = "n_factors")]
    pub n_factors: usize,
    /// Multiplicative updates; Surprise: 50.
    #[serde(rename = "epochs", alias = "n_epochs")]
    pub n_epochs: usize,
    /// Whether to add `μ + b_u + b_i` (Surprise's default: false).
    pub biased: bool,
    /// Regularization of the user factors; Surprise: 0.06.
    pub reg_pu: f64,
    /// Regularization of the item factors; Surprise: 0.06.
    pub reg_qi: f64,
    /// Regularization of the user biases (biased only); Surprise: 0.02.
    pub reg_bu: f64,
    /// Regularization of the item biases (biased only); Surprise: 0.02.
    pub reg_bi: f64,
    /// Learning rate of the user biases (biased only); Surprise: 0.005.
    pub lr_bu: f64,
    /// Learning rate of the item biases (biased only); Surprise: 0.005.
    pub lr_bi: f64,
    /// Lower end of the factors' uniform initialization, >= 0; Surprise: 0.
    pub init_low: f64,
    /// Upper end of the factors' uniform initialization; Surprise: 1.
    pub init_high: f64,
    /// Draw the factors from numpy's `RandomState(numpy_seed)`, users then items, as
    /// Surprise's `NMF(random_state=numpy_seed)` does, instead of libtorch's generator.
    #[serde(default)]
    pub numpy_seed: Option<u32>,
}

impl Default for NmfConfig {
    fn default() -> Self {
        NmfConfig {
            n_factors: 15,
            n_epochs: 50,
            biased: false,
            reg_pu: 0.06,
            reg_qi: 0.06,
            reg_bu: 0.02,
            reg_bi: 0.02,
            lr_bu: 0.005,
            lr_bi: 0.005,
            init_low: 0.0,
            init_high: 1.0,
            numpy_seed: None,
        }
    }
}

/// A fitted `NMF`: non-negative factors (and biases when biased).
#[derive(Debug, Clone, PartialEq)]
pub struct Nmf {
    /// Its biases and factors.
    pub factors: Factorization,
}

/// `n` draws from `uniform(low, high)`: numpy's `RandomState` when given, else libtorch's.
fn uniform_draws(
    numpy: Option<&mut RandomState>,
    n: usize,
    low: f64,
    high: f64,
) -> Result<Vec<f64>> {
    if let Some(rs) = numpy {
        return Ok(rs.uniform_n(low, high, n));
    }
    let t = Tensor::rand([n as i64], (Kind::Double, Device::Cpu)) * (high - low) + low;
    Ok(Vec::<f64>::try_from(&t)?)
}

/// `factors[x] *= num[x] / (denom[x] + count·reg·factors[x])` for every known row `x`, skipping
/// zero factors, as Surprise's update of `pu` (or `qi`).
fn multiplicative_update(
    factors: &mut [f64],
    num: &[f64],
    denom: &[f64],
    counts: &[usize],
    reg: f64,
    k: usize,
) {
    for (x, &count) in counts.iter().enumerate().filter(|(_, &c)| c > 0) {
        for f in x * k..(x + 1) * k {
            if factors[f] != 0.0 {
                let d = denom[f] + count as f64 * reg * factors[f];
                factors[f] *= num[f] / d;
            }
        }
    }
}

impl Nmf {
    /// Fit by `n_epochs` multiplicative updates from uniform factors.
    pub fn fit(train: &TrainSet, config: &NmfConfig) -> Result<Nmf> {
        let base = GlobalMean::fit(train)?;
        let (low, high) = (config.init_low, config.init_high);
        if !(low >= 0.0 && high >= low && high.is_finite()) {
            bail!(
                "NMF needs 0 <= init_low <= init_high (got {} and {})",
                config.init_low,
                config.init_high
            );
        }
        if train.values.iter().any(|&r| r < 0.0) {
            bail!("NMF needs non-negative ratings");
        }
        let k = config.n_factors;
        let (n_users, n_items) = (train.n_users as usize, train.n_items as usize);
        let mut numpy = config.numpy_seed.map(RandomState::new);
        let mut m = Factorization {
            user_factors: uniform_draws(numpy.as_mut(), n_users * k, low, high)?,
            item_factors: uniform_draws(numpy.as_mut(), n_items * k, low, high)?,
            user_bias: vec![0.0; n_users],
            item_bias: vec![0.0; n_items],
            biased: config.biased,
            n_factors: k,
            base,
        };
        let mu = if config.biased { m.base.mean } else { 0.0 };
        let order = by_user_order(train);
        for _ in 0..config.n_epochs {
            let (mut user_num, mut user_denom) = (vec![0.0; n_users * k], vec![0.0; n_users * k]);
            let (mut item_num, mut item_denom) = (vec![0.0; n_items * k], vec![0.0; n_items * k]);
            for &row in &order {
                let (u, i) = (train.users[row] as usize, train.items[row] as usize);
                let r = f64::from(train.values[row]);
                let est = mu + m.user_bias[u] + m.item_bias[i] + m.dot(u, i);
                if config.biased {
                    let err = r - est;
                    m.user_bias[u] += config.lr_bu * (err - config.reg_bu * m.user_bias[u]);
                    m.item_bias[i] += config.lr_bi * (err - config.reg_bi * m.item_bias[i]);
                }
                for f in 0..k {
                    let (qif, puf) = (m.item_factors[i * k + f], m.user_factors[u * k + f]);
                    user_num[u * k + f] += qif * r;
                    user_denom[u * k + f] += qif * est;
                    item_num[i * k + f] += puf * r;
                    item_denom[i * k + f] += puf * est;
                }
            }
            let (uc, ic) = (&m.base.user_counts, &m.base.item_counts);
            multiplicative_update(
                &mut m.user_factors,
                &user_num,
                &user_denom,
                uc,
                config.reg_pu,
                k,
            );
            multiplicative_update(
                &mut m.item_factors,
                &item_num,
                &item_denom,
                ic,
                config.reg_qi,
                k,
            );
        }
        if m.user_factors
            .iter()
            .chain(&m.item_factors)
            .any(|x| !x.is_finite())
        {
            bail!("NMF diverged (a factor is not finite)");
        }
        Ok(Nmf { factors: m })
    }
}

impl RatingPredictor for Nmf {
    /// Surprise's `NMF.estimate`, clipped: unbiased, `q_iᵀ p_u` for a known user and item,
    /// else the global mean; biased, as Funk-SVD's.
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        self.factors.predict(users, items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_update_by_hand() {
        // Users 0 and 1 rate item 0 with 2 and 4; one factor starting at 0.5.
        let train = TrainSet::new(3, 2, vec![0, 1], vec![0, 0], vec![2., 4.]).unwrap();
        let config = NmfConfig {
            n_factors: 1,
            n_epochs: 1,
            init_low: 0.5,
            init_high: 0.5,
            ..Default::default()
        };
        let m = Nmf::fit(&train, &config).unwrap();
        // r̂ = 0.25 for both. User 0: num 0.5·2 = 1, denom 0.5·0.25 + 1·0.06·0.5 = 0.155.
        // User 1: num 2, denom 0.155. Item 0: num 0.5·2 + 0.5·4 = 3,
        // denom 2·0.125 + 2·0.06·0.5 = 0.31. Unknown user 2 and item 1 keep 0.5.
        let expect = [0.5 * 1.0 / 0.155, 0.5 * 2.0 / 0.155, 0.5];
        for (got, want) in m.factors.user_factors.iter().zip(expect) {
            assert!((got - want).abs() < 1e-12, "{got} {want}");
        }
        assert!((m.factors.item_factors[0] - 0.5 * 3.0 / 0.31).abs() < 1e-12);
        assert_eq!(m.factors.item_factors[1], 0.5);
        // Known pairs clip into [2, 4]; an unknown user gets the global mean 3.
        assert_eq!(m.predict(&[0, 2], &[0, 0]).unwrap(), vec![4.0, 3.0]);
    }

    #[test]
    fn default_nmf_fits_a_pattern_with_non_negative_factors() {
        let (mut users, mut items, mut values) = (vec![], vec![], vec![]);
        for u in 0..20i64 {
            for i in 0..15i64 {
                if (u + 2 * i) % 3 != 0 {
                    users.push(u);
                    items.push(i);
                    values.push((1 + (u % 3) + (i % 3)) as f32);
                }
            }
        }
        let train = TrainSet::new(20, 15, users, items, values).unwrap();
        tch::manual_seed(2);
        let m = Nmf::fit(&train, &NmfConfig::default()).unwrap();
        let f = &m.factors;
        assert!(f
            .user_factors
            .iter()
            .chain(&f.item_factors)
            .all(|&x| x >= 0.0));
        let p = m.predict(&train.users, &train.items).unwrap();
        let rmse = (p
            .iter()
            .zip(&train.values)
            .map(|(p, &r)| (p - f64::from(r)).powi(2))
            .sum::<f64>()
            / p.len() as f64)
            .sqrt();
        // The ratings' own sd is about 1.15; the fit must explain most of it.
        assert!(rmse < 0.5, "{rmse}");
    }
}
