//! Surprise 1.1.5's README table on ml-100k, replayed as its `examples/benchmark.py` computes
//! it: the same folds (`KFold(random_state=0)`, [`super::surprise_folds::kfold`]), the same
//! eleven algorithms with the same settings and random draws, the same arithmetic, the same
//! errors (`surprise.accuracy`), fold by fold.
//!
//! What the benchmark draws, and from where: `SVD`, `SVDpp`, `NMF` and `CoClustering` are made
//! with `random_state=0`, so each fit draws its starting point from a fresh
//! `RandomState(0)`; `NormalPredictor` draws its predictions from numpy's global generator,
//! seeded once by `np.random.seed(0)` and touched by nothing before it, so its five folds
//! continue one stream. Estimates are clipped into [1, 5]; an unknown user or item gets each
//! algorithm's fallback (the global mean, or the known side's bias). Inner products of the
//! estimates are numpy's `np.dot` ([`numpy_dot`]); the training loops are Surprise's Cython
//! loops, one float64 operation at a time in the same order.
//!
//! [`REFERENCE`] holds the numbers Surprise itself printed (`scripts/surprise-benchmark.py`).

use anyhow::{anyhow, bail, Result};

use super::baseline::{BaselineConfig, BaselineOnly};
use super::co_clustering::{CoClustering, CoClusteringConfig};
use super::funk_svd::{FunkSvd, FunkSvdConfig};
use super::knn_centered::KnnCentered;
use super::nmf::{Nmf, NmfConfig};
use super::normal::NormalPredictor;
use super::slope_one::SlopeOne;
use super::surprise_folds::{numpy_dot, numpy_mean, rmse_mae, SurpriseFold};
use super::surprise_knn::{KnnBasic, KnnBasicConfig};
use super::svd_pp::{SvdPp, SvdPpConfig};
use crate::rng::numpy::RandomState;

/// The rows of Surprise's README table, in its order.
pub const ROWS: [&str; 11] = [
    "SVD",
    "SVD++ (cache_ratings=False)",
    "SVD++ (cache_ratings=True)",
    "NMF",
    "Slope One",
    "k-NN",
    "Centered k-NN",
    "k-NN Baseline",
    "Co-Clustering",
    "Baseline",
    "Random",
];

/// Surprise's own numbers: `scripts/surprise-benchmark.py`'s JSON (each fold's RMSE and MAE
/// at full precision, and the command, Surprise and numpy versions that made them).
pub const REFERENCE: &str = include_str!("surprise_benchmark.json");

/// One row's errors: each fold's, and their means as `np.mean(out["test_rmse"])`.
#[derive(Debug, Clone, PartialEq)]
pub struct RowErrors {
    /// The row's name in Surprise's table.
    pub row: String,
    /// RMSE of each fold.
    pub rmse_folds: Vec<f64>,
    /// MAE of each fold.
    pub mae_folds: Vec<f64>,
    /// Mean RMSE over the folds.
    pub rmse: f64,
    /// Mean MAE over the folds.
    pub mae: f64,
}

impl RowErrors {
    fn new(row: &str, folds: &[(f64, f64)]) -> RowErrors {
        let rmse_folds: Vec<f64> = folds.iter().map(|f| f.0).collect();
        let mae_folds: Vec<f64> = folds.iter().map(|f| f.1).collect();
        RowErrors {
            row: row.to_string(),
            rmse: numpy_mean(&rmse_folds),
            mae: numpy_mean(&mae_folds),
            rmse_folds,
            mae_folds,
        }
    }
}

/// A float the reference stores as Python's `repr` string (parsed exactly: a JSON number
/// could lose its last bit in the reader).
pub fn float_of(x: &serde_json::Value) -> Result<f64> {
    x.as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("reference: {x} is not a float's repr string"))
}

/// Surprise's rows as [`REFERENCE`] stores them.
pub fn reference() -> Result<Vec<RowErrors>> {
    let v: serde_json::Value = serde_json::from_str(REFERENCE)?;
    let rows = v["rows"]
        .as_array()
        .ok_or_else(|| anyhow!("reference: no rows"))?;
    let floats = |x: &serde_json::Value| -> Result<Vec<f64>> {
        x.as_array()
            .ok_or_else(|| anyhow!("reference: not a list"))?
            .iter()
            .map(float_of)
            .collect()
    };
    rows.iter()
        .map(|r| {
            Ok(RowErrors {
                row: r["row"].as_str().unwrap_or("").to_string(),
                rmse_folds: floats(&r["rmse_folds"])?,
                mae_folds: floats(&r["mae_folds"])?,
                rmse: float_of(&r["rmse"])?,
                mae: float_of(&r["mae"])?,
            })
        })
        .collect()
}

/// Clip into Surprise's rating scale [1, 5] (`min(5, est)`, then `max(1, est)`), in that
/// order, as Surprise does (`clamp` would also keep a NaN, which these two turn into 5).
#[allow(clippy::manual_clamp)]
fn clip(est: f64) -> f64 {
    est.min(5.0).max(1.0)
}

/// Each test rating's estimate by `estimate(u, i)` (inner ids, `None` unknown), clipped, and
/// the fold's RMSE and MAE.
fn score(
    fold: &SurpriseFold,
    estimate: impl Fn(Option<usize>, Option<usize>) -> f64,
) -> (f64, f64) {
    let truth: Vec<f64> = fold.test.iter().map(|t| t.2).collect();
    let est: Vec<f64> = fold.test.iter().map(|t| clip(estimate(t.0, t.1))).collect();
    rmse_mae(&truth, &est)
}

/// The RMSE and MAE of one fold of one row (every row but `Random`, see [`random_fold`]);
/// `epochs` overrides the epochs of the iterative ones (SVD, SVD++, NMF, Co-Clustering).
pub fn run_fold(row: &str, fold: &SurpriseFold, epochs: Option<usize>) -> Result<(f64, f64)> {
    let train = &fold.train;
    let knn = KnnBasicConfig::default();
    Ok(match row {
        "SVD" => {
            let d = FunkSvdConfig::default();
            let config = FunkSvdConfig {
                numpy_seed: Some(0),
                n_epochs: epochs.unwrap_or(d.n_epochs),
                ..d
            };
            let m = FunkSvd::fit(train, &config)?.factors;
            let k = m.n_factors;
            score(fold, |u, i| {
                let mut est = m.base.mean;
                if let Some(u) = u {
                    est += m.user_bias[u];
                }
                if let Some(i) = i {
                    est += m.item_bias[i];
                }
                if let (Some(u), Some(i)) = (u, i) {
                    let q = &m.item_factors[i * k..(i + 1) * k];
                    est += numpy_dot(q, &m.user_factors[u * k..(u + 1) * k]);
                }
                est
            })
        }
        "SVD++ (cache_ratings=False)" | "SVD++ (cache_ratings=True)" => {
            let d = SvdPpConfig::default();
            let config = SvdPpConfig {
                numpy_seed: Some(0),
                n_epochs: epochs.unwrap_or(d.n_epochs),
                ..d
            };
            let m = SvdPp::fit(train, &config)?;
            score(fold, |u, i| m.estimate(u, i, numpy_dot))
        }
        "NMF" => {
            let d = NmfConfig::default();
            let config = NmfConfig {
                numpy_seed: Some(0),
                n_epochs: epochs.unwrap_or(d.n_epochs),
                ..d
            };
            let m = Nmf::fit(train, &config)?.factors;
            let k = m.n_factors;
            score(fold, |u, i| match (u, i) {
                (Some(u), Some(i)) => numpy_dot(
                    &m.item_factors[i * k..(i + 1) * k],
                    &m.user_factors[u * k..(u + 1) * k],
                ),
                _ => m.base.mean,
            })
        }
        "Slope One" => {
            let m = SlopeOne::fit(train)?;
            score(fold, |u, i| m.estimate(u, i).unwrap_or(m.base.mean))
        }
        "k-NN" => {
            let m = KnnBasic::fit(train, &knn)?;
            score(fold, |u, i| match (u, i) {
                (Some(u), Some(i)) => m.estimate(u as i64, i as i64).unwrap_or(m.base.mean),
                _ => m.base.mean,
            })
        }
        "Centered k-NN" => {
            let m = KnnCentered::fit_means(train, &knn)?;
            score(fold, |u, i| m.estimate(u, i))
        }
        "k-NN Baseline" => {
            let m = KnnCentered::fit_baseline(train, &knn, &BaselineConfig::default())?;
            score(fold, |u, i| m.estimate(u, i))
        }
        "Co-Clustering" => {
            let d = CoClusteringConfig::default();
            let config = CoClusteringConfig {
                numpy_seed: Some(0),
                n_epochs: epochs.unwrap_or(d.n_epochs),
                ..d
            };
            let m = CoClustering::fit(train, &config)?;
            score(fold, |u, i| m.estimate(u, i))
        }
        "Baseline" => {
            let m = BaselineOnly::fit(train, &BaselineConfig::default())?;
            score(fold, |u, i| {
                let mut est = m.base.mean;
                if let Some(u) = u {
                    est += m.user_bias[u];
                }
                if let Some(i) = i {
                    est += m.item_bias[i];
                }
                est
            })
        }
        other => bail!("no Surprise row {other:?}; the rows: {}", ROWS.join(", ")),
    })
}

/// The RMSE and MAE of one fold of `NormalPredictor`, its draws from `global` (numpy's global
/// generator in the benchmark).
pub fn random_fold(fold: &SurpriseFold, global: &mut RandomState) -> Result<(f64, f64)> {
    let m = NormalPredictor::fit(&fold.train)?;
    let truth: Vec<f64> = fold.test.iter().map(|t| t.2).collect();
    let est = m.predict_numpy(global, fold.test.len());
    Ok(rmse_mae(&truth, &est))
}

/// Run `rows` (names of [`ROWS`]) on `folds` as the benchmark does, the folds of a row on
/// parallel threads (the `Random` row's in turn: they continue one generator). The two SVD++
/// rows are one computation: `cache_ratings` changes where Surprise reads `I_u` from, not
/// one float operation, so the second takes the first's errors when both are asked for.
pub fn run(folds: &[SurpriseFold], rows: &[&str]) -> Result<Vec<RowErrors>> {
    let mut out: Vec<RowErrors> = Vec::new();
    for &row in rows {
        if let Some(done) = out
            .iter()
            .find(|r| r.row.starts_with("SVD++") && row.starts_with("SVD++"))
        {
            out.push(RowErrors {
                row: row.to_string(),
                ..done.clone()
            });
            continue;
        }
        let errors: Vec<(f64, f64)> = if row == "Random" {
            // `np.random.seed(0)` at the benchmark's start; nothing before draws from it.
            let mut global = RandomState::new(0);
            folds
                .iter()
                .map(|fold| random_fold(fold, &mut global))
                .collect::<Result<_>>()?
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = folds
                    .iter()
                    .map(|fold| s.spawn(move || run_fold(row, fold, None)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .map_err(|_| anyhow!("{row}: a fold's thread panicked"))?
                    })
                    .collect::<Result<Vec<_>>>()
            })?
        };
        out.push(RowErrors::new(row, &errors));
    }
    Ok(out)
}

/// How a replayed row relates to Surprise's: `bit-equal` when every fold's RMSE and MAE are
/// the same floats, else the largest difference of the two means.
pub fn status(ours: &RowErrors, theirs: &RowErrors) -> String {
    let same = |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y);
    if same(&ours.rmse_folds, &theirs.rmse_folds) && same(&ours.mae_folds, &theirs.mae_folds) {
        return "bit-equal".to_string();
    }
    let diff = (ours.rmse - theirs.rmse)
        .abs()
        .max((ours.mae - theirs.mae).abs());
    if diff < 5e-5 {
        format!("same to 4 digits (differs by {diff:.1e})")
    } else {
        format!("differs by {diff:.1e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_has_every_row_in_order() {
        let r = reference().unwrap();
        let names: Vec<&str> = r.iter().map(|x| x.row.as_str()).collect();
        assert_eq!(names, ROWS);
        for row in &r {
            assert_eq!(row.rmse_folds.len(), 5);
            assert_eq!(numpy_mean(&row.rmse_folds), row.rmse, "{}", row.row);
        }
    }
}
