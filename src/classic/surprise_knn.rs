//! Surprise 1.1's `KNNBasic` with its defaults: user-based k-nearest-neighbour rating
//! prediction with the mean-squared-difference (MSD) similarity.
//!
//! Similarity of users `x` and `x'` over the items both rated (`I_xx'`, at least
//! `min_support` of them, else 0):
//!
//! ```text
//! msd(x, x') = Σ_{y ∈ I_xx'} (r_xy − r_x'y)² / |I_xx'|        sim = 1 / (msd + 1)
//! ```
//!
//! The estimate for `(u, i)` takes the `k` raters of `i` most similar to `u` (ties kept in
//! train-row order, as Python's stable `heapq.nlargest`), and averages their ratings weighted by
//! similarity over those with similarity > 0: `Σ sim·r / Σ sim`. With fewer than `min_k` such
//! neighbours, or an unknown user or item, the estimate is the global mean. Clipped into the
//! rating scale. With `user_based: false` the roles of users and items swap. The similarity
//! matrix is dense, `n² f64` (7 MB for ml-100k's users), as Surprise's.

use anyhow::{bail, Result};

use super::baseline::GlobalMean;
use super::{RatingPredictor, TrainSet};

/// Settings of [`KnnBasic`]; the defaults are Surprise's `KNNBasic()`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnnBasicConfig {
    /// Neighbours averaged at most; Surprise: 40.
    #[serde(rename = "neighbors", alias = "k")]
    pub k: usize,
    /// Neighbours needed (with similarity > 0), else the global mean; Surprise: 1.
    pub min_k: usize,
    /// Similar users (true, Surprise's default) or similar items (false).
    pub user_based: bool,
    /// Common ratings needed for a non-zero similarity; Surprise: 1.
    pub min_support: usize,
}

impl Default for KnnBasicConfig {
    fn default() -> Self {
        KnnBasicConfig {
            k: 40,
            min_k: 1,
            user_based: true,
            min_support: 1,
        }
    }
}

/// A fitted `KNNBasic`: the similarity matrix and each rated object's raters.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnBasic {
    /// The mean, the scale and who is known.
    pub base: GlobalMean,
    /// The settings it was fitted with.
    pub config: KnnBasicConfig,
    /// MSD similarity, row-major `[n, n]` over users (user-based) or items.
    pub similarity: Vec<f64>,
    /// Users (or items) compared.
    pub n: usize,
    /// For each item (or user, when item-based): its raters and their ratings, in row order.
    pub raters: Vec<Vec<(usize, f64)>>,
}

impl KnnBasic {
    /// Compute the MSD similarities of all pairs from their common ratings.
    pub fn fit(train: &TrainSet, config: &KnnBasicConfig) -> Result<KnnBasic> {
        let base = GlobalMean::fit(train)?;
        if config.k == 0 {
            bail!("k-NN needs k >= 1 (got k 0)");
        }
        let (xs, ys, n, n_y) = if config.user_based {
            (&train.users, &train.items, train.n_users, train.n_items)
        } else {
            (&train.items, &train.users, train.n_items, train.n_users)
        };
        let n = n as usize;
        let mut raters = vec![Vec::new(); n_y as usize];
        for row in 0..train.len() {
            raters[ys[row] as usize].push((xs[row] as usize, f64::from(train.values[row])));
        }
        let mut sq_diff = vec![0.0; n * n];
        let mut common = vec![0usize; n * n];
        for list in &raters {
            for (a, &(xa, ra)) in list.iter().enumerate() {
                for &(xb, rb) in &list[a + 1..] {
                    let cell = xa.min(xb) * n + xa.max(xb);
                    sq_diff[cell] += (ra - rb) * (ra - rb);
                    common[cell] += 1;
                }
            }
        }
        let mut similarity = vec![0.0; n * n];
        for a in 0..n {
            similarity[a * n + a] = 1.0;
            for b in a + 1..n {
                let cell = a * n + b;
                if common[cell] >= config.min_support.max(1) {
                    let s = 1.0 / (sq_diff[cell] / common[cell] as f64 + 1.0);
                    similarity[cell] = s;
                    similarity[b * n + a] = s;
                }
            }
        }
        Ok(KnnBasic {
            base,
            config: config.clone(),
            similarity,
            n,
            raters,
        })
    }

    /// The weighted average of the `k` nearest raters, or `None` (Surprise's
    /// `PredictionImpossible`) with fewer than `min_k` of them.
    pub fn estimate(&self, u: i64, i: i64) -> Option<f64> {
        if !(self.base.knows_user(u) && self.base.knows_item(i)) {
            return None;
        }
        let (x, y) = if self.config.user_based {
            (u as usize, i as usize)
        } else {
            (i as usize, u as usize)
        };
        let mut neighbours: Vec<(f64, f64)> = self.raters[y]
            .iter()
            .map(|&(x2, r)| (self.similarity[x * self.n + x2], r))
            .collect();
        neighbours.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (mut sum_sim, mut sum_ratings, mut actual_k) = (0.0, 0.0, 0);
        for &(sim, r) in neighbours.iter().take(self.config.k) {
            if sim > 0.0 {
                sum_sim += sim;
                sum_ratings += sim * r;
                actual_k += 1;
            }
        }
        (actual_k >= self.config.min_k && actual_k > 0).then(|| sum_ratings / sum_sim)
    }
}

impl RatingPredictor for KnnBasic {
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        self.base.check(users, items)?;
        Ok(users
            .iter()
            .zip(items)
            .map(|(&u, &i)| {
                self.base
                    .clip(self.estimate(u, i).unwrap_or(self.base.mean))
            })
            .collect())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Users 0, 1, 2 and items 0, 1, 2:
    /// user 0 rates (5, 3, -), user 1 (4, 1, 2), user 2 (1, -, 5).
    pub(crate) fn tiny() -> TrainSet {
        TrainSet::new(
            4,
            3,
            vec![0, 0, 1, 1, 1, 2, 2],
            vec![0, 1, 0, 1, 2, 0, 2],
            vec![5., 3., 4., 1., 2., 1., 5.],
        )
        .unwrap()
    }

    #[test]
    fn msd_similarities_by_hand() {
        let m = KnnBasic::fit(&tiny(), &KnnBasicConfig::default()).unwrap();
        let sim = |a: usize, b: usize| m.similarity[a * m.n + b];
        // Users 0, 1 share items 0, 1: msd = (1 + 4) / 2 = 2.5, sim = 1 / 3.5.
        assert_eq!(sim(0, 1), 1.0 / 3.5);
        // Users 0, 2 share item 0: msd = 16, sim = 1 / 17. Users 1, 2 share items 0 and 2:
        // msd = (9 + 9) / 2 = 9, sim = 0.1.
        assert_eq!(sim(2, 0), 1.0 / 17.0);
        assert_eq!((sim(1, 2), sim(2, 1), sim(1, 1)), (0.1, 0.1, 1.0));
    }

    #[test]
    fn weighted_average_of_the_nearest_raters() {
        let train = tiny();
        let m = KnnBasic::fit(&train, &KnnBasicConfig::default()).unwrap();
        // User 0, item 2: raters 1 (r 2, sim 1/3.5) and 2 (r 5, sim 1/17).
        let expected = (2.0 / 3.5 + 5.0 / 17.0) / (1.0 / 3.5 + 1.0 / 17.0);
        assert!((m.predict(&[0], &[2]).unwrap()[0] - expected).abs() < 1e-12);
        // k = 1 keeps only user 1: the estimate is its rating, 2.
        let one = KnnBasicConfig {
            k: 1,
            ..Default::default()
        };
        let m1 = KnnBasic::fit(&train, &one).unwrap();
        assert_eq!(m1.predict(&[0], &[2]).unwrap(), vec![2.0]);
        // min_k 3 cannot be met (two raters): the global mean 3.
        let three = KnnBasicConfig {
            min_k: 3,
            ..Default::default()
        };
        let m3 = KnnBasic::fit(&train, &three).unwrap();
        assert_eq!(m3.predict(&[0], &[2]).unwrap(), vec![3.0]);
        // Unknown user 3: the global mean.
        assert_eq!(m.predict(&[3], &[0]).unwrap(), vec![3.0]);
    }

    #[test]
    fn item_based_swaps_the_roles() {
        let config = KnnBasicConfig {
            user_based: false,
            ..Default::default()
        };
        let m = KnnBasic::fit(&tiny(), &config).unwrap();
        // Items 0 and 1 share users 0 and 1: msd = (4 + 9) / 2 = 6.5.
        assert_eq!(m.similarity[1], 1.0 / 7.5);
        // User 2, item 1: user 2 rated items 0 (r 1, sim 1/7.5) and 2 (r 5).
        // Items 1, 2 share user 1: msd 1, sim 0.5.
        let expected = (1.0 / 7.5 + 5.0 * 0.5) / (1.0 / 7.5 + 0.5);
        assert!((m.predict(&[2], &[1]).unwrap()[0] - expected).abs() < 1e-12);
    }
}
