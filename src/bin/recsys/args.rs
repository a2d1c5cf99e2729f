//! Command-line argument groups shared by several commands.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use recsys::data::{ColumnRef, DataPaths, RatingsSource};
use recsys::prep::spec::{Cut, DataSpec, SplitKind, SplitSpec};
use recsys::runtime::context::Context;
use recsys::runtime::device::parse_device;

/// Flags every command takes.
#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Where tensors live: auto (CUDA when available, else CPU), cpu, cuda or cuda:N.
    #[arg(long, global = true, default_value = "auto", env = "RECSYS_DEVICE")]
    pub device: String,
    /// Seed for every random draw (libtorch's generator, and Python's for notebook 001).
    /// Without it each notebook uses its own default.
    #[arg(long, global = true)]
    pub seed: Option<u64>,
    /// Print one JSON object with the results on stdout; people's output goes to stderr.
    #[arg(long, global = true)]
    pub json: bool,
    /// Directory for plots, reports and other files.
    /// [default: a new directory recsys-out/<UTC date-time>, so runs never collide]
    #[arg(long, global = true)]
    pub out: Option<PathBuf>,
    /// Replace files that already exist in the output directory.
    #[arg(long, global = true)]
    pub force: bool,
    /// Cache directory for downloaded datasets [default: $RECSYS_DATA_DIR, else ~/.cache/recsys].
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// CPU threads for libtorch's intra-op work, set before the command starts: every model's
    /// tensor operations use them (the networks' training and scoring, and the classic models'
    /// tch operations: kNN similarities, EASE^R's inverse, ALS's solves, BPR's steps).
    /// 0 or absent: 1 thread (see docs/scale.md: on a shared 2-core machine two threads lose
    /// more than they gain). The notebooks and `bench` read the same flag, with their own default.
    #[arg(
        long,
        global = true,
        env = "RECSYS_THREADS",
        value_name = "N",
        value_parser = recsys::runtime::limits::THREADS.parser_i32()
    )]
    pub threads: Option<i32>,
}

impl GlobalArgs {
    /// The [`Context`] these flags describe.
    pub fn context(&self) -> Result<Context> {
        apply_threads(self.threads)?;
        Ok(Context {
            device: parse_device(&self.device)?,
            seed: self.seed,
            json: self.json,
            out_dir: self.out.clone().unwrap_or_else(fresh_out_dir),
            force: self.force,
            data: DataPaths::new(self.data_dir.clone())?,
        })
    }
}

/// The intra-op thread count used when `--threads` is 0 or absent: one (measured in
/// docs/scale.md, "Threads").
pub const DEFAULT_THREADS: i32 = 1;

/// Set libtorch's intra-op threads from `--threads` (0 or absent: [`DEFAULT_THREADS`]), before
/// any tensor work. Refuses a negative count.
fn apply_threads(threads: Option<i32>) -> Result<()> {
    let n = match threads {
        Some(n) if !(0..=recsys::runtime::limits::THREADS.most as i32).contains(&n) => {
            anyhow::bail!(
                "--threads must be 0 (the default) to {}, got {n}",
                recsys::runtime::limits::THREADS.most
            )
        }
        Some(0) | None => DEFAULT_THREADS,
        Some(n) => n,
    };
    if tch::get_num_threads() != n {
        tch::set_num_threads(n);
    }
    Ok(())
}

/// `recsys-out/YYYYMMDD-HHMMSS` for now (UTC), with `-2`, `-3`... if that is taken. It is
/// created here, by `create_dir` itself (so two runs started in the same second get two), and
/// removed at the end of the command if nothing went into it
/// ([`recsys::runtime::files::claim_fresh_dir`]). When it cannot be created the name is
/// returned as is, and the first write into it says why.
fn fresh_out_dir() -> PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let stamp: String = recsys::data::format_utc(now)
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | ':' => None,
            c => Some(c),
        })
        .collect();
    let base = PathBuf::from("recsys-out").join(&stamp);
    recsys::runtime::files::claim_fresh_dir(&base).unwrap_or(base)
}

/// A ratings table: a MovieLens name, or a CSV/TSV file with a column mapping.
#[derive(Args, Debug, Clone)]
pub struct RatingsArgs {
    /// ml-100k, ml-latest-small, ml-1m, ml-25m, ml-32m, or the path of a ratings file.
    pub data: String,
    /// Field separator of a ratings file: a character, or "tab" [default: tab for .tsv, .tab and
    /// .data files, else comma].
    #[arg(long)]
    pub sep: Option<String>,
    /// The ratings file has no header line.
    #[arg(long)]
    pub no_header: bool,
    /// User column: a header name or a 0-based position.
    #[arg(long, default_value = "0")]
    pub user_col: ColumnRef,
    /// Item column: a header name or a 0-based position.
    #[arg(long, default_value = "1")]
    pub item_col: ColumnRef,
    /// Rating column (a header name or a 0-based position), or "none" for implicit feedback
    /// (every rating becomes 1).
    #[arg(long, default_value = "2")]
    pub rating_col: String,
    /// Timestamp column (a header name or a 0-based position), or "none".
    #[arg(long, default_value = "3")]
    pub timestamp_col: String,
}

impl RatingsArgs {
    /// The source these flags name, as a run records it.
    pub fn spec(&self) -> DataSpec {
        let column = |c: &ColumnRef| match c {
            ColumnRef::Name(s) => s.clone(),
            ColumnRef::Index(i) => i.to_string(),
        };
        DataSpec {
            data: self.data.clone(),
            sep: self.sep.clone(),
            no_header: self.no_header,
            user_col: column(&self.user_col),
            item_col: column(&self.item_col),
            rating_col: self.rating_col.clone(),
            timestamp_col: self.timestamp_col.clone(),
        }
    }

    /// Where the ratings come from.
    pub fn source(&self) -> Result<RatingsSource> {
        self.spec().source()
    }
}

/// How `recsys train` splits the ratings: the test part, and a validation part of train.
#[derive(Args, Debug, Clone)]
pub struct SplitArgs {
    /// How to split train and test.
    ///
    /// random: a random --test-fraction of the interactions; time: interactions at or after
    /// --time-threshold (unix seconds), else the latest --test-fraction; last-n: each user's
    /// last --last-n interactions (1 = leave-one-out); user: a --test-fraction of the users
    /// with all their interactions (sequence models only); stratified: per user, a random
    /// --test-fraction (Microsoft Recommenders' rounding); kfold: fold --fold of --folds;
    /// cornac-ratio: Cornac's RatioSplit and its semantics (every rating trains, test ratings
    /// >= 4 relevant; docs/experiment.md).
    #[arg(
        long = "split",
        value_name = "SPLIT",
        default_value = "random",
        value_parser = named::<SplitKind>(&SplitKind::NAMES)
    )]
    pub kind: SplitKind,
    /// Test share for the random, stratified, time and user splits.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Time split at this unix time (test: at or after it) instead of a fraction.
    #[arg(long)]
    pub time_threshold: Option<i64>,
    /// Per-user split: each user's last N interactions are test (1 = leave-one-out).
    #[arg(long, default_value_t = 1, value_parser = recsys::runtime::limits::LAST_N.parser())]
    pub last_n: usize,
    /// K-fold split: the number of folds.
    #[arg(long, default_value_t = 5, value_parser = recsys::runtime::limits::FOLDS.parser())]
    pub folds: usize,
    /// K-fold split: the test fold, 0 to --folds - 1.
    #[arg(long, default_value_t = 0, value_parser = recsys::runtime::limits::FOLD.parser())]
    pub fold: usize,
    /// Use this file (same format flags as the data) as test, as is; --split then only says how
    /// validation is carved. Test rows of users or items not in train are reported and dropped.
    #[arg(long)]
    pub test_file: Option<String>,
    /// Carve this share of train out for validation, by the same kind of split as the test, and
    /// print a validation metric after each epoch (RMSE, or NDCG@k).
    #[arg(long)]
    pub validation_fraction: Option<f64>,
    /// Ratings that become training interactions: strictly above this, or `none` for every
    /// rating (default: --threshold). docs/experiment.md, "Two thresholds".
    #[arg(long, value_name = "T|none")]
    pub train_threshold: Option<Cut>,
    /// Test ratings that count as relevant: strictly above this, or `none` (default:
    /// --threshold). A user's training items above it are excluded from the candidates;
    /// those below stay candidates.
    #[arg(long, value_name = "T|none")]
    pub relevance_threshold: Option<Cut>,
}

impl SplitArgs {
    /// The split these flags describe.
    pub fn spec(&self) -> SplitSpec {
        SplitSpec {
            kind: self.kind,
            test_fraction: self.test_fraction,
            time_threshold: self.time_threshold,
            last_n: self.last_n,
            folds: self.folds,
            fold: self.fold,
            test_file: self.test_file.clone(),
            validation_fraction: self.validation_fraction,
            train_threshold: self.train_threshold,
            relevance_threshold: self.relevance_threshold,
            seed: None,
        }
    }
}

/// A clap value parser for a library type named on the command line by one of `names` (the
/// library has no clap derives: it parses with `FromStr`).
pub fn named<T>(names: &'static [&'static str]) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
    T::Err: std::fmt::Debug,
{
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(names)
        .map(|s| s.parse::<T>().expect("clap admits only the listed names"))
}

/// The list length `-k` every command takes, from a flag or a file: within
/// [`recsys::runtime::limits::K`] (the flags are read through it too).
pub fn ensure_k(k: usize) -> Result<()> {
    recsys::runtime::limits::K.check("-k", k as u64)
}

/// Refuse a `--test-file` that holds the very ratings of the data: every test rating would be
/// a train rating too, excluded from its own ranking, and the metrics would be 0 for no
/// reason the output could show.
pub fn ensure_test_apart(
    data: &str,
    ratings: &polars::prelude::DataFrame,
    test: Option<&polars::prelude::DataFrame>,
    split: &SplitSpec,
) -> Result<()> {
    if let (Some(test), Some(file)) = (test, &split.test_file) {
        if test.height() > 0 && test.equals(ratings) {
            anyhow::bail!(
                "--test-file {}: it holds the same ratings as the data {} (the same file?); \
                 a test part must be held out of train",
                recsys::data::excerpt(file),
                recsys::data::excerpt(data)
            );
        }
    }
    Ok(())
}
