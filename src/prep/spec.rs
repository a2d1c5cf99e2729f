//! What a run is made of, as it is recorded in a checkpoint's sidecar and an experiment's
//! configuration: the ratings source ([`DataSpec`]) and the train/test split ([`SplitSpec`]).

use anyhow::{bail, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{ColumnRef, Dataset, RatingsFormat, RatingsSource};
use crate::prep::split::validation::ValidationSplit;
use crate::runtime::context::Context;

/// A ratings source: a MovieLens name, or a ratings file with its column mapping, as the
/// command line gives it (and as a checkpoint records it).
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

impl DataSpec {
    /// A MovieLens release or a ratings file with the default layout (user, item, rating,
    /// timestamp in columns 0 to 3, a header line, the separator from the extension).
    pub fn new(data: &str) -> DataSpec {
        DataSpec {
            data: data.to_string(),
            sep: None,
            no_header: false,
            user_col: "0".into(),
            item_col: "1".into(),
            rating_col: "2".into(),
            timestamp_col: "3".into(),
        }
    }

    /// The MovieLens release, when the data is one (for titles).
    pub fn dataset(&self) -> Option<Dataset> {
        Dataset::from_name(&self.data)
    }

    /// Where the ratings come from, with the layout checked: a built-in dataset takes no layout
    /// flags; a file's separator is one character or "tab".
    pub fn source(&self) -> Result<RatingsSource> {
        let default = DataSpec::new(&self.data);
        if Dataset::from_name(&self.data).is_some() {
            let given: Vec<&str> = [
                (self.sep.is_some(), "--sep"),
                (self.no_header, "--no-header"),
                (self.user_col != default.user_col, "--user-col"),
                (self.item_col != default.item_col, "--item-col"),
                (self.rating_col != default.rating_col, "--rating-col"),
                (
                    self.timestamp_col != default.timestamp_col,
                    "--timestamp-col",
                ),
            ]
            .into_iter()
            .filter_map(|(set, flag)| set.then_some(flag))
            .collect();
            if !given.is_empty() {
                bail!(
                    "{} is a built-in dataset with its own layout; {} appl{} only to a ratings \
                     file (drop {})",
                    self.data,
                    given.join(", "),
                    if given.len() == 1 { "ies" } else { "y" },
                    if given.len() == 1 { "it" } else { "them" }
                );
            }
        }
        let separator = match self.sep.as_deref() {
            Some("tab") | Some("\\t") => b'\t',
            Some(s) if s.len() == 1 => s.as_bytes()[0],
            Some(s) => bail!("--sep {s:?}: expected one character or \"tab\""),
            None => {
                let ext = std::path::Path::new(&self.data)
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("");
                if matches!(ext, "tsv" | "tab" | "data") {
                    b'\t'
                } else {
                    b','
                }
            }
        };
        let column = |s: &str| -> ColumnRef { s.parse().expect("infallible") };
        let optional = |s: &str| -> Option<ColumnRef> { (s != "none").then(|| column(s)) };
        let format = RatingsFormat {
            separator,
            has_header: !self.no_header,
            n_fields: None,
            user: column(&self.user_col),
            item: column(&self.item_col),
            rating: optional(&self.rating_col),
            timestamp: optional(&self.timestamp_col),
        };
        Ok(RatingsSource::parse(&self.data, format))
    }

    /// The canonical ratings table.
    pub fn load(&self, ctx: &Context) -> Result<DataFrame> {
        let source = self.source()?;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Cornac's `RatioSplit` and its semantics: numpy's `RandomState(seed).permutation` of every
    /// rating, the last `ceil(test_fraction · n)` as test; training takes every train rating;
    /// test ratings at or above --relevance-threshold (4 by default) are relevant; a user's train
    /// items rated below it stay candidates (see [`SplitSpec::cuts`]).
    CornacRatio,
}

impl SplitKind {
    /// Every split, by its command-line name.
    pub const NAMES: [&'static str; 7] = [
        "random",
        "time",
        "last-n",
        "user",
        "stratified",
        "kfold",
        "cornac-ratio",
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            SplitKind::Random => "random",
            SplitKind::Time => "time",
            SplitKind::LastN => "last-n",
            SplitKind::User => "user",
            SplitKind::Stratified => "stratified",
            SplitKind::Kfold => "kfold",
            SplitKind::CornacRatio => "cornac-ratio",
        }
    }
}

impl std::str::FromStr for SplitKind {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<SplitKind> {
        Ok(match s {
            "random" => SplitKind::Random,
            "time" => SplitKind::Time,
            "last-n" => SplitKind::LastN,
            "user" => SplitKind::User,
            "stratified" => SplitKind::Stratified,
            "kfold" => SplitKind::Kfold,
            "cornac-ratio" => SplitKind::CornacRatio,
            other => bail!(
                "unknown split {other:?}; choose one of {}",
                SplitKind::NAMES.join(", ")
            ),
        })
    }
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
    /// `--train-threshold`: which ratings become training interactions (absent: `--threshold`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_threshold: Option<Cut>,
    /// `--relevance-threshold`: which test ratings are relevant (absent: `--threshold`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevance_threshold: Option<Cut>,
    /// The split's own seed, for the splits that draw outside libtorch (cornac-ratio: numpy's
    /// `RandomState(seed)`); the other splits draw from libtorch's seeded generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// Which ratings pass a threshold: every one, those strictly above a value (recsys'
/// `--threshold`), or those at or above it (Cornac's `rating_threshold`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cut {
    All,
    Above(f64),
    AtLeast(f64),
}

impl Cut {
    /// Whether a rating passes.
    pub fn keeps(self, rating: f64) -> bool {
        match self {
            Cut::All => true,
            Cut::Above(t) => rating > t,
            Cut::AtLeast(t) => rating >= t,
        }
    }

    /// How it reads in output: `every rating`, `ratings > 3`, `ratings >= 4`.
    pub fn describe(self) -> String {
        match self {
            Cut::All => "every rating".into(),
            Cut::Above(t) => format!("ratings > {t}"),
            Cut::AtLeast(t) => format!("ratings >= {t}"),
        }
    }

    /// The rows of `df` whose rating passes (the table itself for [`Cut::All`]).
    pub fn filter(self, df: &DataFrame) -> Result<DataFrame> {
        let rating = col("rating");
        let keep = match self {
            Cut::All => return Ok(df.clone()),
            Cut::Above(t) => rating.gt(lit(t)),
            Cut::AtLeast(t) => rating.gt_eq(lit(t)),
        };
        Ok(df.clone().lazy().filter(keep).collect()?)
    }
}

impl std::str::FromStr for Cut {
    type Err = anyhow::Error;
    /// A threshold flag's value: `none` (every rating) or a finite number (ratings strictly
    /// above it; `cornac-ratio` reads it as Cornac's `>=`).
    fn from_str(value: &str) -> Result<Cut> {
        if matches!(value, "none" | "all") {
            return Ok(Cut::All);
        }
        match value.parse::<f64>() {
            Ok(t) if t.is_finite() => Ok(Cut::Above(t)),
            _ => bail!("{value:?}: expected a number or \"none\" (every rating)"),
        }
    }
}

/// Cornac's `RatioSplit(rating_threshold=4.0)`: test ratings >= 4 are relevant.
pub const CORNAC_RELEVANCE: f64 = 4.0;

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
    /// A split of `kind` with `test_fraction` of the interactions as test, and the other
    /// parameters at the command line's defaults (leave-one-out, 5 folds, fold 0).
    pub fn new(kind: SplitKind, test_fraction: f64) -> SplitSpec {
        SplitSpec {
            kind,
            test_fraction,
            time_threshold: None,
            last_n: 1,
            folds: 5,
            fold: 0,
            test_file: None,
            validation_fraction: None,
            train_threshold: None,
            relevance_threshold: None,
            seed: None,
        }
    }

    /// This split with the run's seed recorded when it draws outside libtorch (cornac-ratio);
    /// the other splits are returned as they are.
    pub fn seeded(mut self, seed: u64) -> SplitSpec {
        if self.kind == SplitKind::CornacRatio {
            self.seed = Some(seed);
        }
        self
    }

    /// What trains and what is relevant, given the run's `--threshold` (`None`: every rating,
    /// the rating models' runs).
    ///
    /// - By default both are `--threshold`: ratings strictly above it are the training
    ///   interactions and the relevant test items; the rest is dropped before the split.
    /// - `--train-threshold` / `--relevance-threshold` set either apart. The split is then drawn
    ///   over the ratings that pass either one; train keeps those passing the train threshold,
    ///   and a test user's relevant items are the test ratings passing the relevance threshold.
    ///   A user's candidates exclude the training interactions that pass the relevance
    ///   threshold; the ones below it (trained on, but not relevant) stay candidates and count
    ///   as misses when recommended, and so do the test ratings below it.
    /// - `cornac-ratio` is Cornac's `RatioSplit` semantics: train on every train rating, test
    ///   ratings >= 4 relevant ([`CORNAC_RELEVANCE`]), both thresholds compared by `>=`.
    pub fn cuts(&self, threshold: Option<f64>) -> (Cut, Cut) {
        if self.kind == SplitKind::CornacRatio {
            let at_least = |c: Cut| match c {
                Cut::Above(t) => Cut::AtLeast(t),
                other => other,
            };
            return (
                at_least(self.train_threshold.unwrap_or(Cut::All)),
                at_least(
                    self.relevance_threshold
                        .unwrap_or(Cut::AtLeast(CORNAC_RELEVANCE)),
                ),
            );
        }
        let base = threshold.map(Cut::Above).unwrap_or(Cut::All);
        (
            self.train_threshold.unwrap_or(base),
            self.relevance_threshold.unwrap_or(base),
        )
    }

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
            (None, SplitKind::CornacRatio) => "Cornac RatioSplit".into(),
            (None, kind) => format!("{kind:?}"),
        }
    }

    /// How validation is carved from train for this split.
    pub fn validation_kind(&self) -> ValidationSplit {
        match self.kind {
            SplitKind::Random | SplitKind::Kfold | SplitKind::CornacRatio => {
                ValidationSplit::Random
            }
            SplitKind::Time => ValidationSplit::Time,
            SplitKind::LastN => ValidationSplit::LastN(self.last_n),
            SplitKind::User => ValidationSplit::User,
            SplitKind::Stratified => ValidationSplit::Stratified,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_follow_threshold_unless_set_apart() {
        let mut s = SplitSpec::new(SplitKind::Random, 0.2);
        assert_eq!(s.cuts(Some(3.0)), (Cut::Above(3.0), Cut::Above(3.0)));
        assert_eq!(s.cuts(None), (Cut::All, Cut::All));
        s.train_threshold = Some("none".parse().unwrap());
        assert_eq!(s.cuts(Some(3.0)), (Cut::All, Cut::Above(3.0)));
        // Cornac's semantics: every rating trains, ratings >= 4 are relevant; a given number
        // is compared as Cornac compares it
        let mut c = SplitSpec::new(SplitKind::CornacRatio, 0.2);
        assert_eq!(c.cuts(Some(3.0)), (Cut::All, Cut::AtLeast(4.0)));
        c.relevance_threshold = Some("3.5".parse().unwrap());
        assert_eq!(c.cuts(Some(3.0)), (Cut::All, Cut::AtLeast(3.5)));
        assert!(Cut::AtLeast(4.0).keeps(4.0) && !Cut::Above(4.0).keeps(4.0));
        assert!("lots".parse::<Cut>().is_err() && "inf".parse::<Cut>().is_err());
        assert_eq!(c.clone().seeded(7).seed, Some(7));
        assert_eq!(
            s.seeded(7).seed,
            None,
            "the other splits draw from libtorch"
        );
    }
}
