//! The data side of every model run: which ratings, how they are binarized and split (train,
//! an optional validation part, test), and the id maps. Everything here is recorded in a
//! checkpoint's sidecar, so that `evaluate`, `recommend` and `similar` rebuild exactly the split
//! the model was trained on (and check it through the data fingerprints).
//!
//! String ids (`u196`) arrive encoded by the table reader; [`IdNames`] holds their
//! dictionaries, so every output prints the original strings.

use std::collections::HashMap;

use anyhow::{bail, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::fingerprint::{fingerprint_table, Fingerprint};
use crate::prep::by_user::histories;
pub use crate::prep::names::{share_ids, IdNames};
use crate::prep::spec::{Cut, SplitKind, SplitSpec};
use crate::prep::split::kfold::kfold_split_indices;
use crate::prep::split::random::{draw_hash_seed, random_split_indices, user_in_test};
use crate::prep::split::ratio::cornac_ratio_split;
use crate::prep::split::stratified::{split_by_rows, stratified_split};
use crate::prep::split::time::{last_n_split, time_split_at, TimeSplitter};
use crate::prep::split::validation::carve_validation;
use crate::prep::{f64_values, i64_values, keep_known, IdMap};

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
    /// What trains: the ratings `train` keeps ([`SplitSpec::cuts`]).
    pub train_cut: Cut,
    /// What is relevant: a test user's relevant items are the test ratings passing it, and the
    /// user's candidates exclude the training interactions passing it.
    pub relevance: Cut,
}

impl Prepared {
    /// Each user of `train` with the train items (original ids, in time order) that the ranked
    /// candidates exclude: those passing the relevance threshold. Every user of `train` is
    /// there, with an empty list when none of theirs passes (Cornac ranks such a user too).
    pub fn excluded(&self, train: &DataFrame) -> Result<HashMap<i64, Vec<i64>>> {
        let mut seen = histories(&self.relevant(train)?)?;
        for u in i64_values(train, "user_id")? {
            seen.entry(u).or_default();
        }
        Ok(seen)
    }

    /// The rows of `df` (a test part, or a train part for the candidates' exclusion) whose
    /// rating passes the relevance threshold.
    pub fn relevant(&self, df: &DataFrame) -> Result<DataFrame> {
        if self.relevance == self.train_cut {
            // one threshold for both: every kept row passes it
            return Ok(df.clone());
        }
        self.relevance.filter(df)
    }

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

/// The rows that pass `train` or `relevance` (what either side of the split can use): with one
/// threshold for both, the ratings above it (`--threshold`'s binarization).
pub fn passing_either(df: &DataFrame, train: Cut, relevance: Cut) -> Result<DataFrame> {
    if train == relevance {
        return train.filter(df);
    }
    if train == Cut::All || relevance == Cut::All {
        return Ok(df.clone());
    }
    let mask: BooleanChunked = f64_values(df, "rating")?
        .map(|r| train.keeps(r) || relevance.keeps(r))
        .collect();
    Ok(df.filter(&mask)?)
}

/// [`passing_either`], refusing thresholds that leave no rating.
fn kept(df: &DataFrame, train: Cut, relevance: Cut) -> Result<DataFrame> {
    let out = passing_either(df, train, relevance)?;
    if out.height() == 0 {
        bail!(
            "no rating passes the thresholds ({} train, {} relevant); lower them",
            train.describe(),
            relevance.describe()
        );
    }
    Ok(out)
}

/// Binarize (implicit, `threshold`; or the split's own train and relevance thresholds,
/// [`SplitSpec::cuts`]) and split `ratings`, or use `given_test` (`--test-file`) as
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
    let (train_cut, relevance) = split.cuts(threshold);
    let df = kept(&ratings, train_cut, relevance)?;
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
            let t = passing_either(t, train_cut, relevance)?;
            let known = keep_known(&t, &df)?;
            dropped_test = t.height() - known.height();
            (df, known)
        }
        (None, SplitKind::Random) => {
            let (_, test_rows) = random_split_indices(df.height(), split.test_fraction);
            split_by_rows(&df, &test_rows)?
        }
        (None, SplitKind::Stratified) => stratified_split(&df, split.test_fraction)?,
        (None, SplitKind::CornacRatio) => {
            let Some(seed) = split.seed else {
                bail!("the cornac-ratio split draws from numpy's RandomState and needs its seed");
            };
            cornac_ratio_split(&df, split.test_fraction, seed)?
        }
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
    let train = if train_cut == relevance {
        train
    } else {
        train_cut.filter(&train)?
    };
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
        train_cut,
        relevance,
    })
}
