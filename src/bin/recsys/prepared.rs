//! The data side of the application commands: which ratings, how they are binarized and split,
//! and the id maps. Everything here is recorded in a checkpoint's sidecar, so that `evaluate`,
//! `recommend` and `similar` rebuild exactly the split the model was trained on (and check it
//! through the data fingerprints).

use std::collections::{HashMap, HashSet};

use anyhow::{bail, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::args::RatingsArgs;
use recsys::data::fingerprint::{fingerprint_table, Fingerprint};
use recsys::data::{ColumnRef, Dataset, RatingsSource};
use recsys::prep::split::random::{draw_hash_seed, random_split_indices, user_in_test};
use recsys::prep::split::time::{last_n_split, time_split_at, TimeSplitter};
use recsys::prep::{binarize, f64_values, i64_values, IdMap};
use recsys::runtime::context::Context;

/// A ratings source as given on the command line (a serializable [`RatingsArgs`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSpec {
    pub data: String,
    pub sep: Option<String>,
    pub no_header: bool,
    pub user_col: String,
    pub item_col: String,
    pub rating_col: String,
    pub timestamp_col: String,
}

fn column_name(c: &ColumnRef) -> String {
    match c {
        ColumnRef::Name(s) => s.clone(),
        ColumnRef::Index(i) => i.to_string(),
    }
}

impl DataSpec {
    /// From the command line's ratings flags.
    pub fn from_args(a: &RatingsArgs) -> DataSpec {
        DataSpec {
            data: a.data.clone(),
            sep: a.sep.clone(),
            no_header: a.no_header,
            user_col: column_name(&a.user_col),
            item_col: column_name(&a.item_col),
            rating_col: a.rating_col.clone(),
            timestamp_col: a.timestamp_col.clone(),
        }
    }

    fn args(&self) -> RatingsArgs {
        RatingsArgs {
            data: self.data.clone(),
            sep: self.sep.clone(),
            no_header: self.no_header,
            user_col: self.user_col.parse().expect("infallible"),
            item_col: self.item_col.parse().expect("infallible"),
            rating_col: self.rating_col.clone(),
            timestamp_col: self.timestamp_col.clone(),
        }
    }

    /// The MovieLens release, when the data is one (for titles).
    pub fn dataset(&self) -> Option<Dataset> {
        Dataset::from_name(&self.data)
    }

    /// The canonical ratings table.
    pub fn load(&self, ctx: &Context) -> Result<DataFrame> {
        let source: RatingsSource = self.args().source()?;
        let df = source.load(&ctx.data)?;
        if df.height() == 0 {
            bail!("{}: no ratings", self.data);
        }
        Ok(df)
    }
}

/// How interactions are split into train and test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SplitKind {
    /// A random --test-fraction of the interactions (libtorch randperm).
    Random,
    /// Global time split: interactions at or after --time-threshold (unix seconds), else the
    /// latest --test-fraction of them.
    Time,
    /// Each user's last --last-n interactions (leave-one-out with 1).
    LastN,
    /// A --test-fraction of the users, with all their interactions (sequence models only).
    User,
}

/// The split and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSpec {
    pub kind: SplitKind,
    pub test_fraction: f64,
    pub time_threshold: Option<i64>,
    pub last_n: usize,
}

/// Ratings, binarized when implicit, split, with the model's id maps (fitted on train).
pub struct Prepared {
    /// The whole ratings table as loaded.
    pub ratings: DataFrame,
    pub train: DataFrame,
    pub test: DataFrame,
    pub users: IdMap,
    pub items: IdMap,
    pub fingerprints: Fingerprints,
}

/// Fingerprints of the ratings and of both sides of the split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprints {
    pub ratings: Fingerprint,
    pub train: Fingerprint,
    pub test: Fingerprint,
}

fn mask_split(df: &DataFrame, is_test: Vec<bool>) -> Result<(DataFrame, DataFrame)> {
    let mask: BooleanChunked = is_test.into_iter().collect();
    Ok((df.filter(&!&mask)?, df.filter(&mask)?))
}

/// Binarize (implicit, `threshold`) and split `ratings`. Random draws (the random permutation
/// or the hash seed) come first after the caller seeds libtorch, so a seed reproduces the split.
pub fn prepare(ratings: DataFrame, threshold: Option<f64>, split: &SplitSpec) -> Result<Prepared> {
    let fp_ratings = fingerprint_table(&ratings)?;
    let df = match threshold {
        Some(t) => {
            let b = binarize(&ratings, t)?;
            if b.height() == 0 {
                bail!("no rating is above the implicit threshold {t}; lower --threshold");
            }
            b
        }
        None => ratings.clone(),
    };
    if !(split.test_fraction > 0.0 && split.test_fraction < 1.0) {
        bail!(
            "--test-fraction must be strictly between 0 and 1, got {}",
            split.test_fraction
        );
    }
    let (train, test) = match split.kind {
        SplitKind::Random => {
            let (_, test_rows) = random_split_indices(df.height(), split.test_fraction);
            let mut is_test = vec![false; df.height()];
            for r in test_rows {
                is_test[r] = true;
            }
            mask_split(&df, is_test)?
        }
        SplitKind::Time => match split.time_threshold {
            Some(t) => time_split_at(&df, t)?,
            None => TimeSplitter::new(split.test_fraction)?.split(&df)?,
        },
        SplitKind::LastN => last_n_split(&df, split.last_n)?,
        SplitKind::User => {
            let seed = draw_hash_seed();
            let is_test = i64_values(&df, "user_id")?
                .map(|u| user_in_test(u, seed, split.test_fraction))
                .collect();
            mask_split(&df, is_test)?
        }
    };
    if train.height() == 0 || test.height() == 0 {
        bail!(
            "the {:?} split left {} train and {} test interactions; change its parameters",
            split.kind,
            train.height(),
            test.height()
        );
    }
    let users = IdMap::fit_column(&train, "user_id")?;
    let items = IdMap::fit_column(&train, "item_id")?;
    let fingerprints = Fingerprints {
        ratings: fp_ratings,
        train: fingerprint_table(&train)?,
        test: fingerprint_table(&test)?,
    };
    Ok(Prepared {
        ratings,
        train,
        test,
        users,
        items,
        fingerprints,
    })
}

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
