//! Slope One (Lemire & Maclachlan 2005), as Surprise 1.1's `SlopeOne` (`slope_one.pyx`).
//!
//! The deviation of item `i` from item `j` is the mean of `r_ui − r_uj` over the users who
//! rated both. The estimate for `(u, i)` is the user's mean rating plus the mean deviation of
//! `i` from the items `u` rated that share a rater with `i` (`R_i(u)`):
//!
//! ```text
//! r̂_ui = μ_u + Σ_{j ∈ R_i(u)} dev(i, j) / |R_i(u)|
//! ```
//!
//! An unknown user or item gets the global mean. Deterministic. The deviations and counts are
//! dense `n_items²` matrices (22 MB for ml-100k's items), as Surprise's.

use anyhow::Result;

use super::baseline::GlobalMean;
use super::{RatingPredictor, TrainSet};

/// A fitted Slope One.
#[derive(Debug, Clone, PartialEq)]
pub struct SlopeOne {
    /// The mean, the scale and who is known.
    pub base: GlobalMean,
    /// Items.
    pub n_items: usize,
    /// Users who rated both items, row-major `[n_items, n_items]`.
    pub common: Vec<u32>,
    /// `dev(i, j)`, row-major `[n_items, n_items]`.
    pub deviation: Vec<f64>,
    /// Each user's rated items, in train order.
    pub rated: Vec<Vec<usize>>,
    /// Each user's mean rating.
    pub user_mean: Vec<f64>,
}

impl SlopeOne {
    /// Count the common raters and sum the rating differences of every item pair.
    pub fn fit(train: &TrainSet) -> Result<SlopeOne> {
        let base = GlobalMean::fit(train)?;
        let (n_users, n) = (train.n_users as usize, train.n_items as usize);
        let mut by_user: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n_users];
        for row in 0..train.len() {
            by_user[train.users[row] as usize]
                .push((train.items[row] as usize, f64::from(train.values[row])));
        }
        let mut common = vec![0u32; n * n];
        // Surprise sums integer differences of integer ratings (its `cdef int r_ui`): the sums
        // are exact whatever the order, and so is this one for ratings that are integers.
        let mut diff = vec![0.0f64; n * n];
        for ratings in &by_user {
            for &(i, ri) in ratings {
                for &(j, rj) in ratings {
                    common[i * n + j] += 1;
                    diff[i * n + j] += ri.trunc() - rj.trunc();
                }
            }
        }
        let mut deviation = vec![0.0; n * n];
        for i in 0..n {
            for j in i + 1..n {
                // Pairs without a common rater are never read (Surprise leaves them NaN).
                let c = common[i * n + j];
                let d = if c > 0 {
                    diff[i * n + j] / f64::from(c)
                } else {
                    0.0
                };
                deviation[i * n + j] = d;
                deviation[j * n + i] = -d;
            }
        }
        let user_mean = by_user
            .iter()
            .map(|r| r.iter().map(|x| x.1).sum::<f64>() / r.len().max(1) as f64)
            .collect();
        Ok(SlopeOne {
            base,
            n_items: n,
            common,
            deviation,
            rated: by_user
                .into_iter()
                .map(|r| r.into_iter().map(|x| x.0).collect())
                .collect(),
            user_mean,
        })
    }

    /// Surprise's `SlopeOne.estimate`, unclipped; `None` for an unknown user or item.
    pub fn estimate(&self, u: Option<usize>, i: Option<usize>) -> Option<f64> {
        let (u, i) = (u?, i?);
        let n = self.n_items;
        let mut est = self.user_mean[u];
        let mut sum = 0.0;
        let mut count = 0usize;
        for &j in &self.rated[u] {
            if self.common[i * n + j] > 0 {
                sum += self.deviation[i * n + j];
                count += 1;
            }
        }
        if count > 0 {
            est += sum / count as f64;
        }
        Some(est)
    }
}

impl RatingPredictor for SlopeOne {
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        let mean = self.base.mean;
        self.base
            .predict_with(users, items, |u, i| self.estimate(u, i).unwrap_or(mean))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deviations_and_estimate_by_hand() {
        // User 0 rates items 0, 1, 2 with 5, 3, 2; user 1 rates items 0, 1 with 3, 4;
        // user 2 rates item 1 with 2.
        let train = TrainSet::new(
            3,
            3,
            vec![0, 0, 0, 1, 1, 2],
            vec![0, 1, 2, 0, 1, 1],
            vec![5., 3., 2., 3., 4., 2.],
        )
        .unwrap();
        let m = SlopeOne::fit(&train).unwrap();
        // dev(0, 1) = ((5 − 3) + (3 − 4)) / 2 = 0.5; dev(2, 0) = 2 − 5 = −3.
        assert_eq!(m.deviation[1], 0.5);
        assert_eq!(m.deviation[3], -0.5);
        assert_eq!(m.deviation[2 * 3], -3.0);
        // User 1, item 2: R = {0, 1} (both share user 0 with item 2): μ_1 = 3.5,
        // dev(2, 0) = −3, dev(2, 1) = −1: 3.5 + (−4 / 2) = 1.5.
        assert_eq!(m.estimate(Some(1), Some(2)), Some(1.5));
        // User 2, item 0: R = {1}: 2 + dev(0, 1) = 2.5.
        assert_eq!(m.predict(&[2], &[0]).unwrap(), vec![2.5]);
        assert_eq!(m.estimate(None, Some(0)), None);
    }
}
