//! Reading recommendation lists made elsewhere, and their ground truth, for
//! `recsys evaluate --recs`; they are scored by [`crate::eval::metrics::ranking_metrics`]
//! (RePlay's definitions).
//!
//! Files are CSV with a header naming `user_id` and `item_id`. The rules:
//! - **Order.** A recommendations file may add one column that orders each user's list:
//!   `rating` or `score` (higher is better) or `rank` (lower is better). Equal values keep file
//!   order; without such a column each user's rows count in file order, best first. A header
//!   naming more than one of them is refused, unless they are `score` and `rank` and agree
//!   (every user's scores fall as the ranks rise, as `recsys recommend --all-users` writes
//!   them): `rank` orders those.
//! - **String ids.** Ids that are not integers (`u196`) are matched as text across the files:
//!   each becomes [`text_id`], a 64-bit hash of its text, in the lists and the truth.
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

use crate::data::table::{key_values, ITEM_KEY, USER_KEY};
use crate::data::{quoted, read_ratings_file, ColumnRef, RatingsFormat};
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
    let header_fields = csv_fields(text.lines().next().unwrap_or(""));
    let header: Vec<&str> = header_fields.iter().map(String::as_str).collect();
    let mut order: Vec<(&str, bool)> = ORDER_COLUMNS
        .into_iter()
        .filter(|(c, _)| header.contains(c))
        .collect();
    if order == [("score", true), ("rank", false)] && score_and_rank_agree(&text, &header) {
        order.remove(0);
    }
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
    let users = ids(&df, "user_id", USER_KEY)?;
    let items = ids(&df, "item_id", ITEM_KEY)?;
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

/// Whether each user's rows, ordered by `rank`, have falling (non-increasing) `score`s.
/// The fields of one CSV line (RFC 4180 quoting: a field in quotes may hold commas, and `""`
/// stands for one quote), each trimmed.
pub fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![];
    let (mut field, mut quoted, mut chars) = (String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field).trim().to_string()),
            (c, _) => field.push(c),
        }
    }
    fields.push(field.trim().to_string());
    fields
}

fn score_and_rank_agree(text: &str, header: &[&str]) -> bool {
    let at = |name: &str| header.iter().position(|h| *h == name);
    let (Some(u), Some(s), Some(r)) = (at("user_id"), at("score"), at("rank")) else {
        return false;
    };
    let mut rows: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f = csv_fields(line);
        let (Some(user), Some(score), Some(rank)) = (f.get(u), f.get(s), f.get(r)) else {
            return false;
        };
        let (Ok(score), Ok(rank)) = (score.parse::<f64>(), rank.parse::<f64>()) else {
            return false;
        };
        rows.entry(user.clone()).or_default().push((rank, score));
    }
    rows.values_mut().all(|v| {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v.windows(2).all(|w| w[0].1 >= w[1].1)
    })
}

/// Read `user_id,item_id` rows as each user's set of relevant items (a repeated pair counts
/// once; any other column is ignored).
pub fn read_truth(path: &Path) -> Result<Truth> {
    let df = read_ratings_file(path, &pairs_format(None))?;
    let mut truth: Truth = HashMap::new();
    for (u, i) in ids(&df, "user_id", USER_KEY)?
        .into_iter()
        .zip(ids(&df, "item_id", ITEM_KEY)?)
    {
        truth.entry(u).or_default().insert(i);
    }
    Ok(truth)
}

/// The distinct items of a `user_id,item_id` file (the train set, for Coverage).
pub fn read_items(path: &Path) -> Result<HashSet<i64>> {
    let df = read_ratings_file(path, &pairs_format(None))?;
    Ok(ids(&df, "item_id", ITEM_KEY)?.into_iter().collect())
}

/// Whether the file's `user_id` and `item_id` are string ids (their first row's value is not
/// an integer, the table reader's rule), with that first value.
pub fn id_kinds(path: &Path) -> Result<[(bool, String); 2]> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header_fields = csv_fields(lines.next().unwrap_or(""));
    let header: Vec<&str> = header_fields.iter().map(String::as_str).collect();
    let first_fields = csv_fields(lines.next().unwrap_or(""));
    let first: Vec<&str> = first_fields.iter().map(String::as_str).collect();
    let kind = |name: &str| {
        let value = header
            .iter()
            .position(|h| *h == name)
            .and_then(|i| first.get(i))
            .copied()
            .unwrap_or("");
        (
            !value.is_empty() && value.parse::<i64>().is_err(),
            value.to_string(),
        )
    };
    Ok([kind("user_id"), kind("item_id")])
}

/// Refuse files whose ids are not written alike (string ids in one, integers in another), which
/// would match nothing and score 0. `files` are (flag, path) pairs.
pub fn ensure_ids_alike(files: &[(&str, &Path)]) -> Result<()> {
    let kinds = files
        .iter()
        .map(|(flag, p)| Ok((*flag, *p, id_kinds(p)?)))
        .collect::<Result<Vec<_>>>()?;
    for (column, c) in ["user_id", "item_id"].into_iter().enumerate() {
        let (flag, p, k) = &kinds[0];
        if let Some((flag2, p2, k2)) = kinds[1..]
            .iter()
            .find(|(_, _, k2)| k2[column].0 != k[column].0)
        {
            let [(a, pa, ka), (b, pb, kb)] = if k[column].0 {
                [(flag, p, &k[column].1), (flag2, p2, &k2[column].1)]
            } else {
                [(flag2, p2, &k2[column].1), (flag, p, &k[column].1)]
            };
            bail!(
                "{a} {} has string {c}s ({}) but {b} {} integer ones ({}); write the ids alike in both",
                pa.display(),
                quoted(ka),
                pb.display(),
                quoted(kb)
            );
        }
    }
    Ok(())
}

/// The id of a string id: the first 8 bytes of the SHA-256 of its text, as a non-negative
/// integer, so the same text gets the same id in every file.
pub fn text_id(text: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let bytes: [u8; 8] = digest[..8].try_into().expect("8 bytes");
    (u64::from_le_bytes(bytes) >> 1) as i64
}

/// A table's ids in `column`: the integers, or [`text_id`] of the string ids kept in `key`.
fn ids(df: &polars::prelude::DataFrame, column: &str, key: &str) -> Result<Vec<i64>> {
    if df.column(key).is_ok() {
        return Ok(key_values(df, key)?.iter().map(|k| text_id(k)).collect());
    }
    Ok(i64_values(df, column)?.collect())
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
        let fields = csv_fields(line);
        let Some(field) = fields.get(col).map(String::as_str) else {
            continue;
        };
        if field.parse::<f64>().is_ok_and(|v| !v.is_finite()) {
            bail!(
                "{} line {}: {name} {} is not a finite number; \
                 a list can only be ordered by finite values",
                path.display(),
                i + 1,
                quoted(field)
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
        let (_d, p) = write("user_id,item_id,score,rank\n1,10,0.5,1\n1,11,0.7,2\n");
        let e = read_recommendations(&p).unwrap_err().to_string();
        assert!(
            e.contains("line 1: the header names 'score' and 'rank'"),
            "{e}"
        );
        // recommend --all-users writes score and rank that agree: rank orders
        let (_d, p) = write("user_id,item_id,score,rank\n1,10,0.4,2\n1,11,0.5,1\n");
        assert_eq!(read_recommendations(&p).unwrap().lists[&1], vec![11, 10]);
        // string ids match as text across files
        let (_d, p) = write("user_id,item_id\nu1,m10\nu1,m2\n");
        let (_t, t) = write("user_id,item_id\nu1,m2\nu0,m10\n");
        let (r, truth) = (read_recommendations(&p).unwrap(), read_truth(&t).unwrap());
        assert_eq!(r.lists[&text_id("u1")], vec![text_id("m10"), text_id("m2")]);
        assert!(truth[&text_id("u1")].contains(&text_id("m2")));
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
