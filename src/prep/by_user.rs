//! Views of a ratings table by user: its rows, each user's items in time order, each user's
//! item set, and a MovieLens release's titles.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use polars::prelude::*;

use crate::prep::spec::DataSpec;
use crate::prep::{f64_values, i64_values};
use crate::runtime::context::Context;

/// Rows of a table as (user id, item id, rating, timestamp).
pub fn rows(df: &DataFrame) -> Result<Vec<(i64, i64, f64, i64)>> {
    let u = i64_values(df, "user_id")?;
    let i = i64_values(df, "item_id")?;
    let r = f64_values(df, "rating")?;
    let t = i64_values(df, "timestamp")?;
    Ok(u.zip(i)
        .zip(r)
        .zip(t)
        .map(|(((u, i), r), t)| (u, i, r, t))
        .collect())
}

/// Each user's items (original ids) ordered by time (stable).
pub fn histories(df: &DataFrame) -> Result<HashMap<i64, Vec<i64>>> {
    let mut by_user: HashMap<i64, Vec<(i64, usize, i64)>> = HashMap::new();
    for (row, (u, i, _, t)) in rows(df)?.into_iter().enumerate() {
        by_user.entry(u).or_default().push((t, row, i));
    }
    Ok(by_user
        .into_iter()
        .map(|(u, mut v)| {
            v.sort();
            (u, v.into_iter().map(|x| x.2).collect())
        })
        .collect())
}

/// Each user's set of items (original ids).
pub fn item_sets(df: &DataFrame) -> Result<HashMap<i64, HashSet<i64>>> {
    let mut sets: HashMap<i64, HashSet<i64>> = HashMap::new();
    for (u, i) in i64_values(df, "user_id")?.zip(i64_values(df, "item_id")?) {
        sets.entry(u).or_default().insert(i);
    }
    Ok(sets)
}

/// Item titles of a MovieLens release (empty for other data, or when they cannot be read).
pub fn titles(ctx: &Context, spec: &DataSpec) -> HashMap<i64, String> {
    let Some(d) = spec.dataset() else {
        return HashMap::new();
    };
    let Ok(items) = d.items(&ctx.data) else {
        return HashMap::new();
    };
    let (Ok(ids), Ok(t)) = (i64_values(&items, "item_id"), items.column("title")) else {
        return HashMap::new();
    };
    let Ok(t) = t.str() else {
        return HashMap::new();
    };
    ids.zip(t.iter())
        .filter_map(|(id, title)| title.map(|s| (id, s.to_string())))
        .collect()
}
