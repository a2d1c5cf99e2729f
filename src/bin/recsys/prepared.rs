//! The data side of the application commands: which ratings, how they are binarized and split
//! (train, an optional validation part, test), and the id maps. Everything here is recorded in a
//! checkpoint's sidecar, so that `evaluate`, `recommend` and `similar` rebuild exactly the split
//! the model was trained on (and check it through the data fingerprints).
//!
//! String ids (`u196`) arrive encoded by the table reader; [`IdNames`] holds their
//! dictionaries, so every output prints the original strings.

use std::collections::{HashMap, HashSet};

use anyhow::{bail, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::args::RatingsArgs;
pub use crate::names::{share_ids, IdNames};
use recsys::data::fingerprint::{fingerprint_table, Fingerprint};
use recsys::data::{ColumnRef, Dataset, RatingsSource};
use recsys::prep::split::kfold::kfold_split_indices;
use recsys::prep::split::random::{draw_hash_seed, random_split_indices, user_in_test};
use recsys::prep::split::stratified::{split_by_rows, stratified_split};
use recsys::prep::split::time::{last_n_split, time_split_at, TimeSplitter};
use recsys::prep::split::validation::{carve_validation, ValidationSplit};
use recsys::prep::{binarize, f64_values, i64_values, keep_known, IdMap};
use recsys::runtime::context::Context;
use recsys::say;

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

    /// The given test table of `split` (`--test-file`, read with this spec's format), if any.
    pub fn load_test(&self, ctx: &Context, split: &SplitSpec) -> Result<Option<DataFrame>> {
        let Some(file) = &split.test_file else {
            return Ok(None);
        };
        let spec = DataSpec {
            data: file.clone(),
            ..self.clone()
        };
        spec.load(ctx)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("--test-file {file}: {e:#}"))
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
    /// Per user, a random --test-fraction of their interactions (Microsoft Recommenders'
    /// stratified split: round((1 - fraction) * count), half to even, to train).
    Stratified,
    /// K-fold cross-validation: fold --fold of --folds (0-based) of a seeded permutation is test.
    Kfold,
}

/// The split and its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSpec {
    pub kind: SplitKind,
    pub test_fraction: f64,
    pub time_threshold: Option<i64>,
    pub last_n: usize,
    /// K-fold: the number of folds (written only when not the default 5).
    #[serde(default = "default_folds", skip_serializing_if = "is_default_folds")]
    pub folds: usize,
    /// K-fold: the test fold, 0-based (written only when not 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub fold: usize,
    /// A given test file: used as is (`kind` then only says how validation is carved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_file: Option<String>,
    /// The share of train carved out for validation, by the same kind of split as the test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_fraction: Option<f64>,
}

fn default_folds() -> usize {
    5
}

fn is_default_folds(folds: &usize) -> bool {
    *folds == default_folds()
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl SplitSpec {
    /// Check the parameters before any data is read: one clear error naming the flag.
    pub fn check(&self) -> Result<()> {
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            bail!(
                "--test-fraction must be strictly between 0 and 1, got {}",
                self.test_fraction
            );
        }
        if let Some(f) = self.validation_fraction {
            if !(f > 0.0 && f < 1.0) {
                bail!("--validation-fraction must be strictly between 0 and 1, got {f}");
            }
        }
        if self.kind == SplitKind::Kfold {
            if self.folds < 2 {
                bail!("--folds must be at least 2, got {}", self.folds);
            }
            if self.fold >= self.folds {
                bail!(
                    "--fold {} is out of range: with --folds {} it must be 0 to {}",
                    self.fold,
                    self.folds,
                    self.folds - 1
                );
            }
        }
        if let Some(file) = &self.test_file {
            if Dataset::from_name(file).is_none() && !std::path::Path::new(file).is_file() {
                bail!("--test-file {file}: no such file");
            }
        }
        Ok(())
    }

    /// How the split is named in output, e.g. `Random`, `Kfold (fold 0 of 5)`.
    pub fn describe(&self) -> String {
        match (&self.test_file, self.kind) {
            (Some(f), _) => format!("test file {f}"),
            (None, SplitKind::Kfold) => format!("Kfold (fold {} of {})", self.fold, self.folds),
            (None, kind) => format!("{kind:?}"),
        }
    }

    /// How validation is carved from train for this split.
    fn validation_kind(&self) -> ValidationSplit {
        match self.kind {
            SplitKind::Random | SplitKind::Kfold => ValidationSplit::Random,
            SplitKind::Time => ValidationSplit::Time,
            SplitKind::LastN => ValidationSplit::LastN(self.last_n),
            SplitKind::User => ValidationSplit::User,
            SplitKind::Stratified => ValidationSplit::Stratified,
        }
    }
}

/// Ratings, binarized when implicit, split, with the model's id maps (fitted on train).
pub struct Prepared {
    /// The whole ratings table as loaded (with a given test file, both files).
    pub ratings: DataFrame,
    pub train: DataFrame,
    /// Carved from train with `--validation-fraction` (not in `train`).
    pub validation: Option<DataFrame>,
    pub test: DataFrame,
    pub users: IdMap,
    pub items: IdMap,
    pub fingerprints: Fingerprints,
    /// String id dictionaries; `None` for integer ids.
    pub names: Option<IdNames>,
    /// Rows of a given test file dropped for a user or item not in train.
    pub dropped_test: usize,
}

impl Prepared {
    /// The original ids, as text (integer ids print as themselves).
    pub fn names(&self) -> IdNames {
        self.names.clone().unwrap_or_default()
    }
}

/// Fingerprints of the ratings and of both sides of the split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprints {
    pub ratings: Fingerprint,
    pub train: Fingerprint,
    pub test: Fingerprint,
    /// The validation part, when one is carved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Fingerprint>,
}

fn mask_split(df: &DataFrame, is_test: Vec<bool>) -> Result<(DataFrame, DataFrame)> {
    let mask: BooleanChunked = is_test.into_iter().collect();
    Ok((df.filter(&!&mask)?, df.filter(&mask)?))
}

fn binarized(df: &DataFrame, threshold: Option<f64>) -> Result<DataFrame> {
    match threshold {
        Some(t) => {
            let b = binarize(df, t)?;
            if b.height() == 0 {
                bail!("no rating is above the implicit threshold {t}; lower --threshold");
            }
            Ok(b)
        }
        None => Ok(df.clone()),
    }
}

/// Binarize (implicit, `threshold`) and split `ratings`, or use `given_test` (`--test-file`) as
/// test with its rows of users or items unknown to train dropped; then carve validation from
/// train when asked. Random draws (the random permutation or the hash seed) come first after the
/// caller seeds libtorch, so a seed reproduces the split.
pub fn prepare(
    ratings: DataFrame,
    given_test: Option<DataFrame>,
    threshold: Option<f64>,
    split: &SplitSpec,
) -> Result<Prepared> {
    split.check()?;
    let (ratings, given_test) = match given_test {
        Some(t) => {
            let (r, t) = share_ids(ratings, t)?;
            (r, Some(t))
        }
        None => (ratings, None),
    };
    let fp_ratings = fingerprint_table(&ratings)?;
    let df = binarized(&ratings, threshold)?;
    let ratings = match &given_test {
        Some(t) => {
            let mut both = ratings;
            both.vstack_mut(t)?;
            both
        }
        None => ratings,
    };
    let names = IdNames::of(&ratings)?;
    let mut dropped_test = 0;
    let (train, test) = match (&given_test, split.kind) {
        (Some(t), _) => {
            let t = match threshold {
                Some(th) => binarize(t, th)?,
                None => t.clone(),
            };
            let known = keep_known(&t, &df)?;
            dropped_test = t.height() - known.height();
            (df, known)
        }
        (None, SplitKind::Random) => {
            let (_, test_rows) = random_split_indices(df.height(), split.test_fraction);
            split_by_rows(&df, &test_rows)?
        }
        (None, SplitKind::Stratified) => stratified_split(&df, split.test_fraction)?,
        (None, SplitKind::Kfold) => {
            let (_, test_rows) = kfold_split_indices(df.height(), split.folds, split.fold)?;
            split_by_rows(&df, &test_rows)?
        }
        (None, SplitKind::Time) => match split.time_threshold {
            Some(t) => time_split_at(&df, t)?,
            None => TimeSplitter::new(split.test_fraction)?.split(&df)?,
        },
        (None, SplitKind::LastN) => last_n_split(&df, split.last_n)?,
        (None, SplitKind::User) => {
            let seed = draw_hash_seed();
            let is_test = i64_values(&df, "user_id")?
                .map(|u| user_in_test(u, seed, split.test_fraction))
                .collect();
            mask_split(&df, is_test)?
        }
    };
    if let (Some(file), 0) = (&split.test_file, test.height()) {
        bail!(
            "--test-file {file}: none of its {dropped_test} rows has both a user and an item \
             of train (are the ids written as in the data?)"
        );
    }
    if train.height() == 0 || test.height() == 0 {
        bail!(
            "the {} split left {} train and {} test interactions; change its parameters",
            split.describe(),
            train.height(),
            test.height()
        );
    }
    let (train, validation) = match split.validation_fraction {
        Some(f) => {
            let (train, validation) = carve_validation(&train, split.validation_kind(), f)?;
            if train.height() == 0 || validation.height() == 0 {
                bail!(
                    "--validation-fraction {f} left {} train and {} validation interactions; \
                     change it",
                    train.height(),
                    validation.height()
                );
            }
            (train, Some(validation))
        }
        None => (train, None),
    };
    let users = IdMap::fit_column(&train, "user_id")?;
    let items = IdMap::fit_column(&train, "item_id")?;
    let fingerprints = Fingerprints {
        ratings: fp_ratings,
        train: fingerprint_table(&train)?,
        test: fingerprint_table(&test)?,
        validation: validation.as_ref().map(fingerprint_table).transpose()?,
    };
    Ok(Prepared {
        ratings,
        train,
        validation,
        test,
        users,
        items,
        fingerprints,
        names,
        dropped_test,
    })
}

/// Print the split: sizes and fingerprints, the validation part, dropped test rows.
pub fn say_split(ctx: &Context, split: &SplitSpec, data: &Prepared) {
    say!(
        ctx,
        "split     {}: train {} ({} users, {} items), test {}",
        split.describe(),
        data.fingerprints.train,
        data.users.len(),
        data.items.len(),
        data.fingerprints.test
    );
    if let (Some(f), Some(v)) = (split.validation_fraction, &data.fingerprints.validation) {
        let how = match split.validation_kind() {
            ValidationSplit::LastN(n) => format!("each user's last {n} of train"),
            kind => format!("{f} of train, {kind:?} as the test"),
        };
        say!(ctx, "validation {how}: {v}");
    }
    if data.dropped_test > 0 {
        say!(
            ctx,
            "test      {} rows of {} dropped: their user or item is not in train",
            data.dropped_test,
            split.test_file.as_deref().unwrap_or("the test file")
        );
    }
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
