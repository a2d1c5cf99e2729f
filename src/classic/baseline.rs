//! The two simplest rating predictors, as Surprise 1.1 defines them: [`GlobalMean`] (the mean
//! of the train ratings for every pair) and [`BaselineOnly`] (the mean plus a user bias and an
//! item bias, `r̂ = μ + b_u + b_i`, fitted by Surprise's default alternating least squares).
//!
//! [`GlobalMean`] is also what every other predictor here stands on: it knows the rating scale
//! (the min and max train rating, which predictions are clipped to), which users and items
//! have train ratings ("known", in Surprise's words), and checks the indices asked for.

use anyhow::{bail, Result};

use super::{RatingPredictor, TrainSet};

/// The mean train rating, the rating scale and who is known: Surprise's fallback prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalMean {
    /// Mean of the train ratings, `μ`.
    pub mean: f64,
    /// Lowest train rating: predictions are clipped to `[min, max]`.
    pub min: f64,
    /// Highest train rating.
    pub max: f64,
    /// Train ratings per user (a user with none is unknown, as in Surprise).
    pub user_counts: Vec<usize>,
    /// Train ratings per item.
    pub item_counts: Vec<usize>,
}

impl GlobalMean {
    /// The mean, scale and counts of `train`; an empty train set is an error.
    pub fn fit(train: &TrainSet) -> Result<GlobalMean> {
        if train.is_empty() {
            bail!("the train set has no ratings");
        }
        let mut user_counts = vec![0; train.n_users as usize];
        let mut item_counts = vec![0; train.n_items as usize];
        let (mut sum, mut min, mut max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
        for row in 0..train.len() {
            let r = f64::from(train.values[row]);
            sum += r;
            min = min.min(r);
            max = max.max(r);
            user_counts[train.users[row] as usize] += 1;
            item_counts[train.items[row] as usize] += 1;
        }
        Ok(GlobalMean {
            mean: sum / train.len() as f64,
            min,
            max,
            user_counts,
            item_counts,
        })
    }

    /// Whether user `u` has train ratings (false outside the index range).
    pub fn knows_user(&self, u: i64) -> bool {
        usize::try_from(u).is_ok_and(|u| self.user_counts.get(u).is_some_and(|&n| n > 0))
    }

    /// Whether item `i` has train ratings (false outside the index range).
    pub fn knows_item(&self, i: i64) -> bool {
        usize::try_from(i).is_ok_and(|i| self.item_counts.get(i).is_some_and(|&n| n > 0))
    }

    /// An estimate clipped into the rating scale, as Surprise's `predict(clip=True)`.
    pub fn clip(&self, estimate: f64) -> f64 {
        estimate.max(self.min).min(self.max)
    }

    /// Each pair's `estimate(u, i)` (model indices, `None` for a user or item without train
    /// ratings), clipped into the rating scale; the indices checked first.
    pub fn predict_with(
        &self,
        users: &[i64],
        items: &[i64],
        estimate: impl Fn(Option<usize>, Option<usize>) -> f64,
    ) -> Result<Vec<f64>> {
        self.check(users, items)?;
        Ok(users
            .iter()
            .zip(items)
            .map(|(&u, &i)| {
                let u = self.knows_user(u).then_some(u as usize);
                let i = self.knows_item(i).then_some(i as usize);
                self.clip(estimate(u, i))
            })
            .collect())
    }

    /// Check that `users` and `items` pair up and lie inside the model's index ranges; the
    /// error names the first index outside.
    pub fn check(&self, users: &[i64], items: &[i64]) -> Result<()> {
        if users.len() != items.len() {
            bail!(
                "{} users but {} items asked for: they must pair up",
                users.len(),
                items.len()
            );
        }
        let n_users = self.user_counts.len() as i64;
        let n_items = self.item_counts.len() as i64;
        if let Some(u) = users.iter().find(|&&u| !(0..n_users).contains(&u)) {
            bail!("user index {u} is outside the model's 0..{n_users}");
        }
        if let Some(i) = items.iter().find(|&&i| !(0..n_items).contains(&i)) {
            bail!("item index {i} is outside the model's 0..{n_items}");
        }
        Ok(())
    }
}

impl RatingPredictor for GlobalMean {
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        self.check(users, items)?;
        Ok(vec![self.mean; users.len()])
    }
}

/// Settings of [`BaselineOnly`]: Surprise's `bsl_options` for `method='als'`, its default.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineConfig {
    /// Alternations of (all item biases, then all user biases); Surprise: 10.
    #[serde(rename = "epochs", alias = "n_epochs")]
    pub n_epochs: usize,
    /// Regularization of the user biases; Surprise: 15.
    pub reg_u: f64,
    /// Regularization of the item biases; Surprise: 10.
    pub reg_i: f64,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            n_epochs: 10,
            reg_u: 15.0,
            reg_i: 10.0,
        }
    }
}

/// Surprise's `BaselineOnly`: `r̂ = μ + b_u + b_i`, the bias of an unknown user or item 0.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineOnly {
    /// The mean, the scale and who is known.
    pub base: GlobalMean,
    /// User biases `b_u`.
    pub user_bias: Vec<f64>,
    /// Item biases `b_i`.
    pub item_bias: Vec<f64>,
}

impl BaselineOnly {
    /// Fit the biases by Surprise's `baseline_als`: starting from zero, each epoch sets every
    /// item bias to `Σ_u (r_ui − μ − b_u) / (reg_i + |U_i|)`, then every user bias to
    /// `Σ_i (r_ui − μ − b_i) / (reg_u + |I_u|)`.
    pub fn fit(train: &TrainSet, config: &BaselineConfig) -> Result<BaselineOnly> {
        let base = GlobalMean::fit(train)?;
        if !(config.reg_u >= 0.0 && config.reg_i >= 0.0) {
            bail!(
                "baseline regularization must be >= 0 (reg_u {}, reg_i {})",
                config.reg_u,
                config.reg_i
            );
        }
        let mu = base.mean;
        let mut user_bias = vec![0.0; train.n_users as usize];
        let mut item_bias = vec![0.0; train.n_items as usize];
        for _ in 0..config.n_epochs {
            let mut dev = vec![0.0; item_bias.len()];
            for row in 0..train.len() {
                let (u, i) = (train.users[row] as usize, train.items[row] as usize);
                dev[i] += f64::from(train.values[row]) - mu - user_bias[u];
            }
            for (i, b) in item_bias.iter_mut().enumerate() {
                *b = dev[i] / (config.reg_i + base.item_counts[i] as f64);
            }
            let mut dev = vec![0.0; user_bias.len()];
            for row in 0..train.len() {
                let (u, i) = (train.users[row] as usize, train.items[row] as usize);
                dev[u] += f64::from(train.values[row]) - mu - item_bias[i];
            }
            for (u, b) in user_bias.iter_mut().enumerate() {
                *b = dev[u] / (config.reg_u + base.user_counts[u] as f64);
            }
        }
        Ok(BaselineOnly {
            base,
            user_bias,
            item_bias,
        })
    }
}

impl RatingPredictor for BaselineOnly {
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        self.base.check(users, items)?;
        Ok(users
            .iter()
            .zip(items)
            .map(|(&u, &i)| {
                let estimate =
                    self.base.mean + self.user_bias[u as usize] + self.item_bias[i as usize];
                self.base.clip(estimate)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three users, two items: user 0 rates item 0 with 5 and item 1 with 3, user 1 rates
    /// item 0 with 4, user 2 rates item 1 with 1. μ = 13/4 = 3.25.
    fn tiny() -> TrainSet {
        TrainSet::new(
            4,
            3,
            vec![0, 0, 1, 2],
            vec![0, 1, 0, 1],
            vec![5., 3., 4., 1.],
        )
        .unwrap()
    }

    #[test]
    fn global_mean_scale_and_known() {
        let m = GlobalMean::fit(&tiny()).unwrap();
        assert_eq!((m.mean, m.min, m.max), (3.25, 1.0, 5.0));
        assert_eq!(m.user_counts, vec![2, 1, 1, 0]);
        assert_eq!(m.item_counts, vec![2, 2, 0]);
        assert!(m.knows_user(2) && !m.knows_user(3) && !m.knows_item(2));
        assert!(!m.knows_user(-1) && !m.knows_user(4) && !m.knows_item(99));
        assert_eq!(m.predict(&[3, 0], &[2, 1]).unwrap(), vec![3.25, 3.25]);
        assert_eq!((m.clip(7.0), m.clip(-1.0), m.clip(2.5)), (5.0, 1.0, 2.5));
    }

    #[test]
    fn unknown_indices_and_mismatched_lengths_are_errors() {
        let m = GlobalMean::fit(&tiny()).unwrap();
        let e = m.predict(&[4], &[0]).unwrap_err().to_string();
        assert!(e.contains("user index 4"), "{e}");
        let e = m.predict(&[0], &[-1]).unwrap_err().to_string();
        assert!(e.contains("item index -1"), "{e}");
        assert!(m.predict(&[0, 1], &[0]).is_err());
        let empty = TrainSet::new(1, 1, vec![], vec![], vec![]).unwrap();
        assert!(GlobalMean::fit(&empty).is_err());
    }

    #[test]
    fn baseline_als_one_epoch_by_hand() {
        let config = BaselineConfig {
            n_epochs: 1,
            reg_u: 1.0,
            reg_i: 2.0,
        };
        let b = BaselineOnly::fit(&tiny(), &config).unwrap();
        // Items first, user biases still 0: b_i0 = (1.75 + 0.75) / (2 + 2) = 0.625,
        // b_i1 = (-0.25 - 2.25) / 4 = -0.625, item 2 unrated: 0.
        assert_eq!(b.item_bias, vec![0.625, -0.625, 0.0]);
        // Then users: b_u0 = ((1.75 - 0.625) + (-0.25 + 0.625)) / (1 + 2) = 0.5,
        // b_u1 = (0.75 - 0.625) / 2 = 0.0625, b_u2 = (-2.25 + 0.625) / 2 = -0.8125.
        assert_eq!(b.user_bias, vec![0.5, 0.0625, -0.8125, 0.0]);
        let p = b.predict(&[0, 2, 3], &[0, 1, 2]).unwrap();
        // 3.25 + 0.5 + 0.625 = 4.375; 3.25 - 0.8125 - 0.625 = 1.8125; unknown pair: μ.
        assert_eq!(p, vec![4.375, 1.8125, 3.25]);
    }

    #[test]
    fn baseline_als_converges_to_the_normal_equations() {
        // At the fixed point of ALS each bias solves its own equation given the others.
        let train = tiny();
        let config = BaselineConfig {
            n_epochs: 200,
            ..Default::default()
        };
        let b = BaselineOnly::fit(&train, &config).unwrap();
        let mu = b.base.mean;
        for i in 0..2 {
            let (mut dev, mut n) = (0.0, 0.0);
            for row in (0..train.len()).filter(|&r| train.items[r] == i) {
                dev += f64::from(train.values[row]) - mu - b.user_bias[train.users[row] as usize];
                n += 1.0;
            }
            assert!((b.item_bias[i as usize] - dev / (10.0 + n)).abs() < 1e-12);
        }
    }
}
