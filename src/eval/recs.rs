//! Scoring recommendation lists made elsewhere (`recsys evaluate --recs`), with RePlay's
//! definitions (see [`crate::eval::metrics`]).
//!
//! Files are CSV with a header naming `user_id` and `item_id`; a recommendations file may add a
//! `rating` or `score` column (higher is better). Without one, each user's rows count in file
//! order, best first.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{bail, Result};

use crate::data::{read_ratings_file, ColumnRef, RatingsFormat};
use crate::eval::metrics;
use crate::prep::{f64_values, i64_values};

/// Per-user lists.
pub type Lists = HashMap<i64, Vec<i64>>;
/// Per-user relevant sets.
pub type Truth = HashMap<i64, HashSet<i64>>;

/// Read `user_id,item_id[,rating|score]` rows: each user's items, best first.
pub fn read_recommendations(path: &Path) -> Result<Lists> {
    let header = first_line(path)?;
    let score = ["rating", "score"]
        .into_iter()
        .find(|c| header.iter().any(|h| h == c));
    let df = read_ratings_file(path, &pairs_format(score))?;
    let users: Vec<i64> = i64_values(&df, "user_id")?.collect();
    let items: Vec<i64> = i64_values(&df, "item_id")?.collect();
    let scores: Vec<f64> = f64_values(&df, "rating")?.collect();
    let mut rows: HashMap<i64, Vec<(f64, usize, i64)>> = HashMap::new();
    for (row, ((u, i), s)) in users.into_iter().zip(items).zip(scores).enumerate() {
        rows.entry(u).or_default().push((s, row, i));
    }
    Ok(rows
        .into_iter()
        .map(|(u, mut v)| {
            if score.is_some() {
                // best score first; equal scores keep file order
                v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            }
            (u, v.into_iter().map(|x| x.2).collect())
        })
        .collect())
}

/// Read `user_id,item_id` rows as each user's set of relevant items.
pub fn read_truth(path: &Path) -> Result<Truth> {
    let df = read_ratings_file(path, &pairs_format(None))?;
    let mut truth: Truth = HashMap::new();
    for (u, i) in i64_values(&df, "user_id")?.zip(i64_values(&df, "item_id")?) {
        truth.entry(u).or_default().insert(i);
    }
    Ok(truth)
}

/// Distinct items of a `user_id,item_id` file (the train set, for Coverage).
pub fn read_item_count(path: &Path) -> Result<usize> {
    let df = read_ratings_file(path, &pairs_format(None))?;
    let items: HashSet<i64> = i64_values(&df, "item_id")?.collect();
    Ok(items.len())
}

fn pairs_format(score: Option<&str>) -> RatingsFormat {
    RatingsFormat {
        separator: b',',
        has_header: true,
        n_fields: None,
        user: ColumnRef::Name("user_id".into()),
        item: ColumnRef::Name("item_id".into()),
        rating: score.map(|s| ColumnRef::Name(s.into())),
        timestamp: None,
    }
}

fn first_line(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    Ok(text
        .lines()
        .next()
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_string())
        .collect())
}

/// The metrics of one evaluation, averaged over the users of the ground truth.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct RankingMetrics {
    pub k: usize,
    pub users: usize,
    pub precision: f64,
    pub recall: f64,
    pub ndcg: f64,
    pub hit_rate: f64,
    pub mrr: f64,
    pub map: f64,
    /// Distinct recommended items in the top k over train items; `None` without a train set.
    pub coverage: Option<f64>,
}

/// Score `recs` against `truth` at `k` (RePlay's definitions; Recall divides by |relevant|).
pub fn ranking_metrics(
    recs: &Lists,
    truth: &Truth,
    k: usize,
    n_train_items: Option<usize>,
) -> Result<RankingMetrics> {
    if k == 0 {
        bail!("k must be at least 1, got 0");
    }
    if truth.is_empty() {
        bail!("the ground truth is empty: no user to evaluate");
    }
    let mean =
        |m: fn(&[i64], &HashSet<i64>, usize) -> f64| metrics::mean_over_users(recs, truth, k, m);
    Ok(RankingMetrics {
        k,
        users: truth.len(),
        precision: mean(metrics::precision_at_k),
        recall: mean(metrics::replay_recall_at_k),
        ndcg: mean(metrics::ndcg_at_k),
        hit_rate: mean(metrics::hit_rate_at_k),
        mrr: mean(metrics::mrr_at_k),
        map: mean(metrics::map_at_k),
        coverage: n_train_items
            .map(|n| metrics::coverage_at_k(recs.values().map(Vec::as_slice), k, n)),
    })
}
