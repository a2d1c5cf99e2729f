//! Reading recommendation lists made elsewhere, and their ground truth, for
//! `recsys evaluate --recs`; they are scored by [`crate::eval::metrics::ranking_metrics`]
//! (RePlay's definitions).
//!
//! Files are CSV with a header naming `user_id` and `item_id`. The rules:
//! - **Order.** A recommendations file may add one column that orders each user's list:
//!   `rating` or `score` (higher is better) or `rank` (lower is better). Equal values keep file
//!   order; without such a column each user's rows count in file order, best first. A header
//!   naming more than one of them is refused.
//! - **Scores.** An ordering value must be a finite number: NaN or ±inf is refused with the
//!   file and line, never ranked.
//! - **Duplicates.** A user's item listed again is dropped, keeping its best-ranked row (RePlay
//!   up to 0.17 did the same; 0.18 and later only warn and count it again, which inflates the
//!   metrics); the list is then cut at k. [`Recommendations::duplicates`] counts the dropped
//!   rows. In the ground truth, a repeated pair counts once: the relevant items are a set.
//! - **Coverage.** Only recommended items that appear in the train file count
//!   ([`read_items`]; RePlay 0.22's Coverage).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{bail, Result};

use crate::data::{read_ratings_file, ColumnRef, RatingsFormat};
use crate::eval::metrics::{Lists, Truth};
use crate::prep::{f64_values, i64_values};

/// The columns that may order a recommendations file, with whether higher is better.
const ORDER_COLUMNS: [(&str, bool); 3] = [("rating", true), ("score", true), ("rank", false)];

/// The lists of a recommendations file.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendations {
    /// Each user's items, best first, each item once.
    pub lists: Lists,
    /// Rows dropped because the user's item was already listed higher.
    pub duplicates: usize,
    /// The first dropped row: (file line, user, item).
    pub first_duplicate: Option<(usize, i64, i64)>,
}

/// Read `user_id,item_id[,rating|score|rank]` rows: each user's items, best first, each once
/// (the rules are in the module docs).
pub fn read_recommendations(path: &Path) -> Result<Recommendations> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let header: Vec<&str> = text
        .lines()
        .next()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .collect();
    let order: Vec<(&str, bool)> = ORDER_COLUMNS
        .into_iter()
        .filter(|(c, _)| header.contains(c))
        .collect();
    if order.len() > 1 {
        bail!(
            "{} line 1: the header names {}; keep one column that orders the lists \
             (rating or score: higher is better; rank: lower is better)",
            path.display(),
            order
                .iter()
                .map(|(c, _)| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(" and ")
        );
    }
    let order = order.first().copied();
    if let Some((name, _)) = order {
        let col = header.iter().position(|h| *h == name).unwrap_or(0);
        check_finite(path, &text, name, col)?;
    }
    let df = read_ratings_file(path, &pairs_format(order.map(|o| o.0)))?;
    let users: Vec<i64> = i64_values(&df, "user_id")?.collect();
    let items: Vec<i64> = i64_values(&df, "item_id")?.collect();
    let values: Vec<f64> = f64_values(&df, "rating")?.collect();
    let mut rows: HashMap<i64, Vec<(f64, usize, i64)>> = HashMap::new();
    for (row, ((u, i), s)) in users.into_iter().zip(items).zip(values).enumerate() {
        rows.entry(u).or_default().push((s, row, i));
    }
    let mut out = Recommendations {
        lists: Lists::new(),
        duplicates: 0,
        first_duplicate: None,
    };
    // users in increasing id, so the first duplicate named is the same on every run
    let mut users: Vec<i64> = rows.keys().copied().collect();
    users.sort_unstable();
    for u in users {
        let mut v = rows.remove(&u).unwrap_or_default();
        match order {
            // best first; equal values keep file order
            Some((_, true)) => v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))),
            Some((_, false)) => v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))),
            None => {}
        }
        let mut seen = HashSet::new();
        let mut list = Vec::with_capacity(v.len());
        for (_, row, item) in v {
            if seen.insert(item) {
                list.push(item);
            } else {
                out.duplicates += 1;
                // the header is line 1, and the reader refuses blank lines
                let line = row + 2;
                if out.first_duplicate.is_none_or(|(l, _, _)| line < l) {
                    out.first_duplicate = Some((line, u, item));
                }
            }
        }
        out.lists.insert(u, list);
    }
    Ok(out)
}

/// Read `user_id,item_id` rows as each user's set of relevant items (a repeated pair counts
/// once; any other column is ignored).
pub fn read_truth(path: &Path) -> Result<Truth> {
    let df = read_ratings_file(path, &pairs_format(None))?;
    let mut truth: Truth = HashMap::new();
    for (u, i) in i64_values(&df, "user_id")?.zip(i64_values(&df, "item_id")?) {
        truth.entry(u).or_default().insert(i);
    }
    Ok(truth)
}

/// The distinct items of a `user_id,item_id` file (the train set, for Coverage).
pub fn read_items(path: &Path) -> Result<HashSet<i64>> {
    let df = read_ratings_file(path, &pairs_format(None))?;
    let items = i64_values(&df, "item_id")?.collect();
    Ok(items)
}

fn pairs_format(order: Option<&str>) -> RatingsFormat {
    RatingsFormat {
        separator: b',',
        has_header: true,
        n_fields: None,
        user: ColumnRef::Name("user_id".into()),
        item: ColumnRef::Name("item_id".into()),
        rating: order.map(|s| ColumnRef::Name(s.into())),
        timestamp: None,
    }
}

/// Refuses the first data line whose field `col` (the ordering column `name`) is not a finite
/// number, naming the file and line.
fn check_finite(path: &Path, text: &str, name: &str, col: usize) -> Result<()> {
    for (i, line) in text.split('\n').enumerate().skip(1) {
        let Some(field) = line.split(',').nth(col).map(str::trim) else {
            continue;
        };
        if field.parse::<f64>().is_ok_and(|v| !v.is_finite()) {
            bail!(
                "{} line {}: {name} {field:?} is not a finite number; \
                 a list can only be ordered by finite values",
                path.display(),
                i + 1
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("recs.csv");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn duplicates_keep_the_best_ranked_row() {
        let (_d, p) = write("user_id,item_id,score\n1,10,0.1\n1,11,0.5\n1,10,0.9\n1,10,0.2\n");
        let r = read_recommendations(&p).unwrap();
        assert_eq!(r.lists[&1], vec![10, 11]);
        assert_eq!(r.duplicates, 2);
        assert_eq!(r.first_duplicate, Some((2, 1, 10)));
        let (_d, p) = write("user_id,item_id\n1,10\n1,11\n1,10\n1,12\n");
        let r = read_recommendations(&p).unwrap();
        assert_eq!((r.lists[&1].clone(), r.duplicates), (vec![10, 11, 12], 1));
        assert_eq!(r.first_duplicate, Some((4, 1, 10)));
    }

    #[test]
    fn rank_orders_ascending() {
        let (_d, p) = write("user_id,item_id,rank\n1,10,3\n1,11,1\n1,12,2\n1,13,1\n");
        let r = read_recommendations(&p).unwrap();
        assert_eq!(r.lists[&1], vec![11, 13, 12, 10]);
        let (_d, p) = write("user_id,item_id,score,rank\n1,10,0.5,1\n");
        let e = read_recommendations(&p).unwrap_err().to_string();
        assert!(
            e.contains("line 1: the header names 'score' and 'rank'"),
            "{e}"
        );
    }

    #[test]
    fn non_finite_scores_are_refused() {
        for bad in ["NaN", "inf", "-inf"] {
            let (_d, p) = write(&format!("user_id,item_id,score\n1,10,0.5\n1,11,{bad}\n"));
            let e = read_recommendations(&p).unwrap_err().to_string();
            assert!(
                e.contains(&format!(
                    "recs.csv line 3: score \"{bad}\" is not a finite number"
                )),
                "{e}"
            );
        }
    }
}
