//! Surprise 1.1's `KNNWithMeans` ("centered k-NN") and `KNNBaseline`: the k-NN of
//! [`super::surprise_knn`] (MSD similarity, the `k` most similar raters, ties in train order)
//! averaging deviations instead of ratings, from each neighbour's mean rating or from the
//! baseline `μ + b_v + b_i` ([`BaselineOnly`], fitted by ALS):
//!
//! ```text
//! means:     r̂_ui = μ_u + Σ sim(u, v) (r_vi − μ_v) / Σ sim(u, v)
//! baseline:  r̂_ui = b_ui + Σ sim(u, v) (r_vi − b_vi) / Σ sim(u, v)
//! ```
//!
//! over the neighbours with similarity > 0. With fewer than `min_k` of them the estimate is
//! `μ_u` (or `b_ui`). An unknown user or item gets the global mean (`KNNWithMeans`) or the
//! baseline with the unknown side's bias left out (`KNNBaseline`). With `user_based: false`
//! the roles of users and items swap.

use anyhow::Result;

use super::baseline::{BaselineConfig, BaselineOnly};
use super::surprise_knn::{KnnBasic, KnnBasicConfig};
use super::{RatingPredictor, TrainSet};

/// What the neighbours' ratings are centred on.
#[derive(Debug, Clone, PartialEq)]
pub enum Centre {
    /// Each user's (item's, when item-based) mean rating: `KNNWithMeans`.
    Means(Vec<f64>),
    /// The baseline `μ + b_u + b_i`: `KNNBaseline`.
    Baseline(BaselineOnly),
}

/// A fitted `KNNWithMeans` or `KNNBaseline`.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnCentered {
    /// The similarities and raters.
    pub knn: KnnBasic,
    /// The centring.
    pub centre: Centre,
}

impl KnnCentered {
    /// `KNNWithMeans`: similarities and each user's (item's) mean rating.
    pub fn fit_means(train: &TrainSet, config: &KnnBasicConfig) -> Result<KnnCentered> {
        let knn = KnnBasic::fit(train, config)?;
        let xs = if config.user_based {
            &train.users
        } else {
            &train.items
        };
        let (mut sum, mut count) = (vec![0.0; knn.n], vec![0usize; knn.n]);
        for (row, &x) in xs.iter().enumerate() {
            sum[x as usize] += f64::from(train.values[row]);
            count[x as usize] += 1;
        }
        // Surprise's `np.mean` per user: integer ratings sum exactly in any order.
        let means = sum
            .iter()
            .zip(&count)
            .map(|(s, &c)| if c > 0 { s / c as f64 } else { 0.0 })
            .collect();
        Ok(KnnCentered {
            knn,
            centre: Centre::Means(means),
        })
    }

    /// `KNNBaseline`: the baselines (Surprise's default ALS) and the similarities.
    pub fn fit_baseline(
        train: &TrainSet,
        config: &KnnBasicConfig,
        baseline: &BaselineConfig,
    ) -> Result<KnnCentered> {
        let bsl = BaselineOnly::fit(train, baseline)?;
        let knn = KnnBasic::fit(train, config)?;
        Ok(KnnCentered {
            knn,
            centre: Centre::Baseline(bsl),
        })
    }

    /// Surprise's `estimate`, unclipped, for inner ids (`None`: unknown).
    pub fn estimate(&self, u: Option<usize>, i: Option<usize>) -> f64 {
        let knn = &self.knn;
        let mu = knn.base.mean;
        let ub = knn.config.user_based;
        let mut est = match &self.centre {
            Centre::Means(_) => mu,
            Centre::Baseline(b) => {
                let mut est = mu;
                if let Some(u) = u {
                    est += b.user_bias[u];
                }
                if let Some(i) = i {
                    est += b.item_bias[i];
                }
                est
            }
        };
        let (Some(u), Some(i)) = (u, i) else {
            return est;
        };
        let (x, y) = if ub { (u, i) } else { (i, u) };
        // The baseline of a neighbour x2 for the same y: μ + b_x2 + b_y.
        let neighbour_centre = |x2: usize| match &self.centre {
            Centre::Means(m) => m[x2],
            Centre::Baseline(b) => {
                let (bx, by) = if ub {
                    (&b.user_bias, &b.item_bias)
                } else {
                    (&b.item_bias, &b.user_bias)
                };
                mu + bx[x2] + by[y]
            }
        };
        if let Centre::Means(m) = &self.centre {
            est = m[x];
        }
        let mut neighbours: Vec<(usize, f64, f64)> = knn.raters[y]
            .iter()
            .map(|&(x2, r)| (x2, knn.similarity[x * knn.n + x2], r))
            .collect();
        // Stable: equal similarities keep train order, as `heapq.nlargest`.
        neighbours.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (mut sum_sim, mut sum_ratings, mut actual_k) = (0.0, 0.0, 0);
        for &(x2, sim, r) in neighbours.iter().take(knn.config.k) {
            if sim > 0.0 {
                sum_sim += sim;
                sum_ratings += sim * (r - neighbour_centre(x2));
                actual_k += 1;
            }
        }
        if actual_k < knn.config.min_k {
            sum_ratings = 0.0;
        }
        if sum_sim != 0.0 {
            est += sum_ratings / sum_sim;
        }
        est
    }
}

impl RatingPredictor for KnnCentered {
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        self.knn
            .base
            .predict_with(users, items, |u, i| self.estimate(u, i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    /// User 0 rates (5, 3, -), user 1 (4, 1, 2), user 2 (1, -, 5).
    use crate::classic::surprise_knn::tests::tiny;

    #[test]
    fn means_centre_on_each_users_mean() {
        let m = KnnCentered::fit_means(&tiny(), &KnnBasicConfig::default()).unwrap();
        // User 0 (mean 4), item 2: raters 1 (r 2, mean 7/3, sim 1/3.5) and 2 (r 5, mean 3,
        // sim 1/17).
        let (s1, s2) = (1.0 / 3.5, 1.0 / 17.0);
        let expected = 4.0 + (s1 * (2.0 - 7.0 / 3.0) + s2 * (5.0 - 3.0)) / (s1 + s2);
        assert!((m.estimate(Some(0), Some(2)) - expected).abs() < 1e-12);
        // Unknown user 3: the global mean 3.
        assert_eq!(m.predict(&[3], &[0]).unwrap(), vec![3.0]);
    }

    #[test]
    fn baseline_centres_on_the_biases() {
        let train = tiny();
        let bsl_config = BaselineConfig::default();
        let m = KnnCentered::fit_baseline(&train, &KnnBasicConfig::default(), &bsl_config).unwrap();
        let b = BaselineOnly::fit(&train, &bsl_config).unwrap();
        let mu = 3.0;
        let bui = |u: usize, i: usize| mu + b.user_bias[u] + b.item_bias[i];
        let (s1, s2) = (1.0 / 3.5, 1.0 / 17.0);
        let expected = bui(0, 2) + (s1 * (2.0 - bui(1, 2)) + s2 * (5.0 - bui(2, 2))) / (s1 + s2);
        assert!((m.estimate(Some(0), Some(2)) - expected).abs() < 1e-12);
        // Unknown user: μ + b_i.
        assert_eq!(m.estimate(None, Some(1)), mu + b.item_bias[1]);
    }
}
