//! BPR-MF (Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback", 2009):
//! user factors `w_u`, item factors `h_i` and item biases `b_i`, trained by SGD on triples
//! (user, liked item `i`, sampled item `j`) to raise `ln σ(x_uij)`, `x_uij = w_u·(h_i − h_j) +
//! b_i − b_j`, with an L2 penalty on every parameter a step touches.
//!
//! As implicit's Cython loop does, an epoch draws as many triples as there are train pairs: the
//! pair uniformly at random (with replacement), the negative uniformly among all items; a
//! negative the user liked is skipped. The draws come in bulk from libtorch's generator at the
//! start of each epoch, and the updates are a plain Rust loop over `f32` rows.

use anyhow::{bail, Result};
use tch::{Kind, Tensor};

use crate::classic::dense::select_rows;
use crate::classic::vector::{dot, two_rows};
use crate::classic::{Ranker, TrainSet};

/// Settings of BPR-MF. The defaults are implicit 0.7's with `learning_rate` and `iterations`
/// tuned on ml-100k (docs/classic.md); [`Config::implicit`] is implicit's own.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Latent dimension (default 100).
    pub factors: usize,
    /// SGD step size (default 0.05; implicit's 0.01).
    #[serde(rename = "lr", alias = "learning_rate")]
    pub learning_rate: f32,
    /// L2 penalty (default 0.01).
    pub regularization: f32,
    /// Epochs (default 200; implicit's 100).
    #[serde(rename = "epochs", alias = "iterations")]
    pub iterations: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            learning_rate: 0.05,
            iterations: 200,
            ..Config::implicit()
        }
    }
}

impl Config {
    /// implicit 0.7's defaults: 100 factors, learning rate 0.01, λ 0.01, 100 epochs.
    pub fn implicit() -> Config {
        Config {
            factors: 100,
            learning_rate: 0.01,
            regularization: 0.01,
            iterations: 100,
        }
    }

    fn check(&self) -> Result<()> {
        if self.factors == 0 {
            bail!("BPR: factors must be at least 1, got 0");
        }
        if !self.learning_rate.is_finite() || self.learning_rate <= 0.0 {
            bail!(
                "BPR: learning_rate must be finite and > 0, got {}",
                self.learning_rate
            );
        }
        if !self.regularization.is_finite() || self.regularization < 0.0 {
            bail!(
                "BPR: regularization must be finite and >= 0, got {}",
                self.regularization
            );
        }
        Ok(())
    }
}

/// A fitted BPR-MF model: scores are `w_u·h_i + b_i`.
#[derive(Debug)]
pub struct Bpr {
    /// `[n_users, factors]`.
    pub user_factors: Tensor,
    /// `[n_items, factors]`.
    pub item_factors: Tensor,
    /// `[n_items]`.
    pub item_biases: Tensor,
}

impl Bpr {
    /// Initialises the factors uniformly in `[−0.5, 0.5) / factors` from libtorch's generator
    /// (users, then items; biases 0), then runs `iterations` epochs. Fails when the factors
    /// end non-finite (a learning rate too large).
    pub fn fit(train: &TrainSet, config: &Config) -> Result<Bpr> {
        config.check()?;
        if train.is_empty() {
            bail!("BPR: the train set is empty");
        }
        let f = config.factors;
        let init = |n: i64| -> Result<Vec<f32>> {
            let t = (Tensor::rand([n, f as i64], tch::kind::FLOAT_CPU) - 0.5) / f as f64;
            Ok(Vec::try_from(t.flatten(0, -1))?)
        };
        let mut user = init(train.n_users)?;
        let mut item = init(train.n_items)?;
        let mut bias = vec![0f32; train.n_items as usize];
        let mut liked = vec![Vec::new(); train.n_users as usize];
        for (&u, &i) in train.users.iter().zip(&train.items) {
            liked[u as usize].push(i);
        }
        for l in &mut liked {
            l.sort_unstable();
            l.dedup();
        }
        let (lr, reg) = (config.learning_rate, config.regularization);
        let n = train.len() as i64;
        let mut wu = vec![0f32; f];
        for _ in 0..config.iterations {
            let picks = Vec::<i64>::try_from(Tensor::randint(n, [n], tch::kind::INT64_CPU))?;
            let negatives =
                Vec::<i64>::try_from(Tensor::randint(train.n_items, [n], tch::kind::INT64_CPU))?;
            for (&p, &j) in picks.iter().zip(&negatives) {
                let (u, i) = (train.users[p as usize] as usize, train.items[p as usize]);
                if liked[u].binary_search(&j).is_ok() {
                    continue;
                }
                let (i, j) = (i as usize, j as usize);
                wu.copy_from_slice(&user[u * f..(u + 1) * f]);
                let (hi, hj) = two_rows(&mut item, f, i, j);
                let x = dot(&wu, hi) - dot(&wu, hj) + bias[i] - bias[j];
                let z = 1.0 / (1.0 + x.exp());
                let w = &mut user[u * f..(u + 1) * f];
                for k in 0..f {
                    w[k] += lr * (z * (hi[k] - hj[k]) - reg * wu[k]);
                    hi[k] += lr * (z * wu[k] - reg * hi[k]);
                    hj[k] += lr * (-z * wu[k] - reg * hj[k]);
                }
                bias[i] += lr * (z - reg * bias[i]);
                bias[j] += lr * (-z - reg * bias[j]);
            }
        }
        if !user.iter().chain(&item).chain(&bias).all(|v| v.is_finite()) {
            bail!("BPR diverged (non-finite factors): lower learning_rate");
        }
        let matrix = |v: &[f32], rows: i64| Tensor::from_slice(v).view([rows, f as i64]);
        Ok(Bpr {
            user_factors: matrix(&user, train.n_users),
            item_factors: matrix(&item, train.n_items),
            item_biases: Tensor::from_slice(&bias),
        })
    }
}

impl Ranker for Bpr {
    fn scores(&self, users: &[i64]) -> Result<Tensor> {
        let w = select_rows(&self.user_factors, users)?;
        Ok(
            (w.matmul(&self.item_factors.tr()) + self.item_biases.unsqueeze(0))
                .to_kind(Kind::Float),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 40 users and 40 items in two groups by parity; each user likes the items of its own
    /// group, a fifth of them held out for the test.
    fn planted() -> (TrainSet, Vec<(i64, i64)>) {
        let (mut users, mut items, mut test) = (vec![], vec![], vec![]);
        for u in 0..40i64 {
            for i in (u % 2..40).step_by(2) {
                if (u + i / 2) % 5 == 0 {
                    test.push((u, i));
                } else {
                    users.push(u);
                    items.push(i);
                }
            }
        }
        let n = users.len();
        (
            TrainSet::new(40, 40, users, items, vec![1.0; n]).unwrap(),
            test,
        )
    }

    /// The share of (held-out item, other group's item) pairs that the model orders right.
    fn auc(model: &Bpr, test: &[(i64, i64)]) -> f64 {
        let scores =
            Vec::<Vec<f32>>::try_from(model.scores(&(0..40).collect::<Vec<_>>()).unwrap()).unwrap();
        let (mut right, mut all) = (0usize, 0usize);
        for &(u, i) in test {
            for j in ((1 - u % 2)..40).step_by(2) {
                right +=
                    usize::from(scores[u as usize][i as usize] > scores[u as usize][j as usize]);
                all += 1;
            }
        }
        right as f64 / all as f64
    }

    #[test]
    fn training_ranks_the_planted_groups() {
        let (train, test) = planted();
        let config = Config {
            factors: 8,
            learning_rate: 0.05,
            iterations: 0,
            ..Config::default()
        };
        tch::manual_seed(11);
        let before = auc(&Bpr::fit(&train, &config).unwrap(), &test);
        tch::manual_seed(11);
        let trained = Bpr::fit(
            &train,
            &Config {
                iterations: 60,
                ..config.clone()
            },
        )
        .unwrap();
        let after = auc(&trained, &test);
        assert!(
            before < 0.7 && after > 0.9,
            "AUC before {before}, after {after}"
        );
        tch::manual_seed(11);
        let again = Bpr::fit(
            &train,
            &Config {
                iterations: 60,
                ..config
            },
        )
        .unwrap();
        assert!(again.item_factors.equal(&trained.item_factors));
        assert!(trained.scores(&[40]).is_err());
    }

    #[test]
    fn bad_settings_are_refused() {
        let (train, _) = planted();
        let huge = Config {
            factors: 4,
            learning_rate: 1e30,
            iterations: 3,
            ..Config::default()
        };
        let err = Bpr::fit(&train, &huge).unwrap_err().to_string();
        assert!(err.contains("diverged"), "{err}");
        let bad = Config {
            learning_rate: f32::NAN,
            ..Config::default()
        };
        assert!(Bpr::fit(&train, &bad)
            .unwrap_err()
            .to_string()
            .contains("learning_rate"));
    }
}
