//! Co-clustering (George & Merugu 2005), as Surprise 1.1's `CoClustering` fits it.
//!
//! Users fall in `n_user_clusters` clusters and items in `n_item_clusters`; the estimate is
//!
//! ```text
//! r̂_ui = C̄_uc,ic + (μ_u − C̄_uc) + (μ_i − C̄_ic)
//! ```
//!
//! with `C̄` the mean train rating of a co-cluster, of a user cluster and of an item cluster
//! (the global mean for an empty one), `μ_u`, `μ_i` the user's and item's means. The clusters
//! start at random (`randint`) and each epoch moves every user, then every item, to the
//! cluster with the least squared error over its ratings (the first such cluster), with the
//! averages of the epoch's start. The starting clusters come from libtorch's generator, or
//! from numpy's `RandomState(numpy_seed)` (Surprise's `random_state`) when set. An unknown
//! user or item gets the global mean.

use anyhow::{bail, Result};
use tch::{Device, Kind, Tensor};

use super::baseline::GlobalMean;
use super::{RatingPredictor, TrainSet};
use crate::rng::numpy::RandomState;

/// Settings of [`CoClustering`]; the defaults are Surprise's `CoClustering()`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoClusteringConfig {
    /// User clusters; Surprise: 3.
    #[serde(rename = "user_clusters", alias = "n_cltr_u")]
    pub n_user_clusters: usize,
    /// Item clusters; Surprise: 3.
    #[serde(rename = "item_clusters", alias = "n_cltr_i")]
    pub n_item_clusters: usize,
    /// Reassignment passes; Surprise: 20.
    #[serde(rename = "epochs", alias = "n_epochs")]
    pub n_epochs: usize,
    /// Draw the starting clusters from numpy's `RandomState(numpy_seed)`.
    #[serde(default)]
    pub numpy_seed: Option<u32>,
}

impl Default for CoClusteringConfig {
    fn default() -> Self {
        CoClusteringConfig {
            n_user_clusters: 3,
            n_item_clusters: 3,
            n_epochs: 20,
            numpy_seed: None,
        }
    }
}

/// Mean ratings of the clusters and co-clusters.
#[derive(Debug, Clone, PartialEq)]
struct Averages {
    user: Vec<f64>,
    item: Vec<f64>,
    /// Row-major `[n_user_clusters, n_item_clusters]`.
    co: Vec<f64>,
}

/// A fitted co-clustering.
#[derive(Debug, Clone, PartialEq)]
pub struct CoClustering {
    /// The mean, the scale and who is known.
    pub base: GlobalMean,
    /// Each user's cluster.
    pub user_cluster: Vec<usize>,
    /// Each item's cluster.
    pub item_cluster: Vec<usize>,
    /// Each user's mean rating.
    pub user_mean: Vec<f64>,
    /// Each item's mean rating.
    pub item_mean: Vec<f64>,
    averages: Averages,
    n_item_clusters: usize,
}

/// Each user's (or item's) ratings: (the other side's index, the rating), in train order.
type Grouped = Vec<Vec<(usize, f64)>>;

/// The ratings of `train` grouped by user and by item, each in train order.
fn by_user_and_item(train: &TrainSet) -> (Grouped, Grouped) {
    let mut ur = vec![Vec::new(); train.n_users as usize];
    let mut ir = vec![Vec::new(); train.n_items as usize];
    for row in 0..train.len() {
        let (u, i) = (train.users[row] as usize, train.items[row] as usize);
        let r = f64::from(train.values[row]).trunc();
        ur[u].push((i, r));
        ir[i].push((u, r));
    }
    (ur, ir)
}

fn mean_of(ratings: &[(usize, f64)]) -> f64 {
    ratings.iter().map(|x| x.1).sum::<f64>() / ratings.len().max(1) as f64
}

/// `n` draws of `randint(high)`: numpy's when given, else libtorch's.
fn clusters(numpy: Option<&mut RandomState>, high: usize, n: usize) -> Result<Vec<usize>> {
    Ok(match numpy {
        Some(rs) => rs
            .randint_n(high as u64, n)
            .into_iter()
            .map(|c| c as usize)
            .collect(),
        None => {
            let t = Tensor::randint(high as i64, [n as i64], (Kind::Int64, Device::Cpu));
            Vec::<i64>::try_from(&t)?
                .into_iter()
                .map(|c| c as usize)
                .collect()
        }
    })
}

impl CoClustering {
    /// The mean ratings of the user clusters, the item clusters and the co-clusters
    /// (row-major `[user clusters, item clusters]`).
    pub fn averages(&self) -> (&[f64], &[f64], &[f64]) {
        let a = &self.averages;
        (&a.user, &a.item, &a.co)
    }

    /// A fitted co-clustering from its parts (a saved model), checked for consistency.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        base: GlobalMean,
        user_cluster: Vec<usize>,
        item_cluster: Vec<usize>,
        user_mean: Vec<f64>,
        item_mean: Vec<f64>,
        user_cluster_mean: Vec<f64>,
        item_cluster_mean: Vec<f64>,
        co_cluster_mean: Vec<f64>,
    ) -> Result<CoClustering> {
        let (nu, ni) = (base.user_counts.len(), base.item_counts.len());
        let (ncu, nci) = (user_cluster_mean.len(), item_cluster_mean.len());
        if user_cluster.len() != nu
            || user_mean.len() != nu
            || item_cluster.len() != ni
            || item_mean.len() != ni
            || co_cluster_mean.len() != ncu * nci
            || user_cluster.iter().any(|&c| c >= ncu)
            || item_cluster.iter().any(|&c| c >= nci)
        {
            bail!("the saved co-clustering does not match its {nu} users and {ni} items");
        }
        Ok(CoClustering {
            base,
            user_cluster,
            item_cluster,
            user_mean,
            item_mean,
            averages: Averages {
                user: user_cluster_mean,
                item: item_cluster_mean,
                co: co_cluster_mean,
            },
            n_item_clusters: nci,
        })
    }

    /// Fit as Surprise's `CoClustering.fit`.
    pub fn fit(train: &TrainSet, config: &CoClusteringConfig) -> Result<CoClustering> {
        let base = GlobalMean::fit(train)?;
        let (ncu, nci) = (config.n_user_clusters, config.n_item_clusters);
        if ncu == 0 || nci == 0 {
            bail!("co-clustering needs at least one user and one item cluster (got {ncu}, {nci})");
        }
        let mut numpy = config.numpy_seed.map(RandomState::new);
        let mut cu = clusters(numpy.as_mut(), ncu, train.n_users as usize)?;
        let mut ci = clusters(numpy.as_mut(), nci, train.n_items as usize)?;
        let (ur, ir) = by_user_and_item(train);
        let user_mean: Vec<f64> = ur.iter().map(|r| mean_of(r)).collect();
        let item_mean: Vec<f64> = ir.iter().map(|r| mean_of(r)).collect();
        let est = |a: &Averages, uc: usize, ic: usize, u: usize, i: usize| {
            a.co[uc * nci + ic] + user_mean[u] - a.user[uc] + item_mean[i] - a.item[ic]
        };
        for _ in 0..config.n_epochs {
            let a = averages(train, &base, &cu, &ci, ncu, nci);
            for (u, ratings) in ur.iter().enumerate() {
                let errors: Vec<f64> = (0..ncu)
                    .map(|uc| {
                        let mut e = 0.0;
                        for &(i, r) in ratings {
                            let d = r - est(&a, uc, ci[i], u, i);
                            e += d * d;
                        }
                        e
                    })
                    .collect();
                cu[u] = argmin(&errors);
            }
            for (i, ratings) in ir.iter().enumerate() {
                let errors: Vec<f64> = (0..nci)
                    .map(|ic| {
                        let mut e = 0.0;
                        for &(u, r) in ratings {
                            let d = r - est(&a, cu[u], ic, u, i);
                            e += d * d;
                        }
                        e
                    })
                    .collect();
                ci[i] = argmin(&errors);
            }
        }
        let averages = averages(train, &base, &cu, &ci, ncu, nci);
        Ok(CoClustering {
            base,
            user_cluster: cu,
            item_cluster: ci,
            user_mean,
            item_mean,
            averages,
            n_item_clusters: nci,
        })
    }

    /// Surprise's `CoClustering.estimate`, unclipped: the global mean unless both are known.
    pub fn estimate(&self, u: Option<usize>, i: Option<usize>) -> f64 {
        let (Some(u), Some(i)) = (u, i) else {
            return self.base.mean;
        };
        let (uc, ic) = (self.user_cluster[u], self.item_cluster[i]);
        let a = &self.averages;
        a.co[uc * self.n_item_clusters + ic] + self.user_mean[u] - a.user[uc] + self.item_mean[i]
            - a.item[ic]
    }
}

/// `np.argmin`: the first index of the least value.
fn argmin(x: &[f64]) -> usize {
    let mut best = 0;
    for (j, &v) in x.iter().enumerate() {
        if v < x[best] {
            best = j;
        }
    }
    best
}

/// Mean rating of every user cluster, item cluster and co-cluster (integer sums and counts,
/// as Surprise keeps them; the global mean where empty).
fn averages(
    train: &TrainSet,
    base: &GlobalMean,
    cu: &[usize],
    ci: &[usize],
    ncu: usize,
    nci: usize,
) -> Averages {
    let (mut count_u, mut count_i, mut count_co) =
        (vec![0i64; ncu], vec![0i64; nci], vec![0i64; ncu * nci]);
    let (mut sum_u, mut sum_i, mut sum_co) =
        (vec![0i64; ncu], vec![0i64; nci], vec![0i64; ncu * nci]);
    for row in 0..train.len() {
        let (uc, ic) = (cu[train.users[row] as usize], ci[train.items[row] as usize]);
        let r = train.values[row].trunc() as i64;
        count_u[uc] += 1;
        count_i[ic] += 1;
        count_co[uc * nci + ic] += 1;
        sum_u[uc] += r;
        sum_i[ic] += r;
        sum_co[uc * nci + ic] += r;
    }
    let avg = |s: &[i64], c: &[i64]| -> Vec<f64> {
        s.iter()
            .zip(c)
            .map(|(&s, &c)| {
                if c > 0 {
                    s as f64 / c as f64
                } else {
                    base.mean
                }
            })
            .collect()
    };
    Averages {
        user: avg(&sum_u, &count_u),
        item: avg(&sum_i, &count_i),
        co: avg(&sum_co, &count_co),
    }
}

impl RatingPredictor for CoClustering {
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        self.base
            .predict_with(users, items, |u, i| self.estimate(u, i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cluster_each_is_the_biased_mean() {
        // With one cluster each, r̂ = μ + (μ_u − μ) + (μ_i − μ) = μ_u + μ_i − μ.
        let train = TrainSet::new(2, 2, vec![0, 0, 1], vec![0, 1, 0], vec![5., 3., 1.]).unwrap();
        let config = CoClusteringConfig {
            n_user_clusters: 1,
            n_item_clusters: 1,
            n_epochs: 3,
            numpy_seed: Some(0),
        };
        let m = CoClustering::fit(&train, &config).unwrap();
        // μ = 3, μ_0 = 4, μ_1 = 1, item means 3 and 3.
        assert_eq!(m.predict(&[1], &[1]).unwrap(), vec![1.0 + 3.0 - 3.0]);
        assert_eq!(m.estimate(Some(0), Some(0)), 4.0 + 3.0 - 3.0);
        assert_eq!(m.estimate(None, Some(0)), 3.0);
    }
}
