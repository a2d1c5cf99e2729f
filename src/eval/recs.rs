//! Reading recommendation lists made elsewhere, and their ground truth, for
//! `recsys evaluate --recs`; they are scored by [`crate::eval::metrics::ranking_metrics`]
//! (RePlay's definitions).
//!
//! Files are CSV with a header naming `user_id` and `item_id`; a recommendations file may add a
//! `rating` or `score` column (higher is better). Without one, each user's rows count in file
//! order, best first.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Result;

use crate::data::{read_ratings_file, ColumnRef, RatingsFormat};
use crate::eval::metrics::{Lists, Truth};
use crate::prep::{f64_values, i64_values};

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
