//! Ratings data: the shipped MovieLens copies, downloaded GroupLens archives, and any ratings
//! file a user supplies. Loaders return polars DataFrames with the canonical columns
//! `user_id` (i64), `item_id` (i64), `rating` (f64), `timestamp` (i64, seconds).

pub mod checksum;
pub mod download;
pub mod excerpt;
pub mod fingerprint;
pub mod interactions;
pub mod movielens;
pub mod shipped;
pub mod source;
pub mod synth;
pub mod table;
pub mod time;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use polars::prelude::*;

pub use excerpt::{excerpt, quoted};
pub use source::Source;
pub use table::{ColumnRef, RatingsFormat, RATINGS_COLUMNS};
pub use time::format_utc;

impl std::str::FromStr for Dataset {
    type Err = anyhow::Error;

    fn from_str(name: &str) -> Result<Dataset> {
        Dataset::from_name(name).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown dataset {name:?}: expected one of {}",
                Dataset::NAMES.join(", ")
            )
        })
    }
}

impl std::fmt::Display for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The MovieLens releases this crate knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Dataset {
    /// 100,000 ratings (1998); shipped in data/ml-100k.
    Ml100k,
    /// 100,836 ratings (September 2018 release); shipped as data/ml-latest-small.zip.
    MlLatestSmall,
    /// 1,000,209 ratings (2003); downloaded.
    Ml1m,
    /// 25 million ratings (2019); downloaded.
    Ml25m,
    /// 32 million ratings (2023); downloaded.
    Ml32m,
}

impl Dataset {
    /// All of them, in size order.
    pub const ALL: [Dataset; 5] = [
        Dataset::Ml100k,
        Dataset::MlLatestSmall,
        Dataset::Ml1m,
        Dataset::Ml25m,
        Dataset::Ml32m,
    ];

    /// The GroupLens name, e.g. `ml-100k`; also the archive's top folder.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Ml100k => "ml-100k",
            Dataset::MlLatestSmall => "ml-latest-small",
            Dataset::Ml1m => "ml-1m",
            Dataset::Ml25m => "ml-25m",
            Dataset::Ml32m => "ml-32m",
        }
    }

    /// Parse a GroupLens name.
    pub fn from_name(name: &str) -> Option<Dataset> {
        Dataset::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Every GroupLens name, in size order (for command-line choices).
    pub const NAMES: [&'static str; 5] =
        ["ml-100k", "ml-latest-small", "ml-1m", "ml-25m", "ml-32m"];

    /// The archive's file name on files.grouplens.org.
    pub fn archive_name(self) -> String {
        format!("{}.zip", self.name())
    }

    /// Where this dataset's files are: the shipped copy if this release ships one, else the
    /// downloaded archive in the cache directory.
    pub fn source(self, paths: &DataPaths) -> Result<Source> {
        let shipped = &paths.shipped;
        match self {
            Dataset::Ml100k if shipped.join("ml-100k/u.data").exists() => Ok(Source::Dir {
                dir: shipped.join("ml-100k"),
                sums: Some(shipped.clone()),
            }),
            Dataset::MlLatestSmall if shipped.join("ml-latest-small.zip").exists() => {
                Ok(Source::Zip {
                    archive: shipped.join("ml-latest-small.zip"),
                    folder: self.name().into(),
                    sums: Some(shipped.clone()),
                })
            }
            _ => {
                let archive = paths.cache.join(self.archive_name());
                if !archive.exists() {
                    bail!(
                        "{} is not here: {} is missing; run `recsys data download {}` \
                         (or set --data-dir / RECSYS_DATA_DIR to where it is)",
                        self.name(),
                        archive.display(),
                        self.name()
                    );
                }
                download::verify_archive(self, &archive)?;
                Ok(Source::Zip {
                    archive,
                    folder: self.name().into(),
                    sums: None,
                })
            }
        }
    }

    /// The ratings table with the canonical columns.
    pub fn ratings(self, paths: &DataPaths) -> Result<DataFrame> {
        let src = self.source(paths)?;
        match self {
            Dataset::Ml100k => movielens::ml100k_ratings(&src),
            Dataset::Ml1m => movielens::dat_ratings(&src),
            _ => movielens::csv_ratings(&src),
        }
    }

    /// Item titles: `item_id`, `title` (and more columns where the release has them).
    pub fn items(self, paths: &DataPaths) -> Result<DataFrame> {
        let src = self.source(paths)?;
        match self {
            Dataset::Ml100k => movielens::ml100k_items(&src),
            Dataset::Ml1m => bail!("titles of ml-1m (movies.dat) are not supported yet"),
            _ => movielens::csv_movies(&src),
        }
    }
}

/// A ratings table named on the command line: a known dataset, or a file of the user's.
#[derive(Debug, Clone)]
pub enum RatingsSource {
    Known(Dataset),
    File {
        path: PathBuf,
        format: RatingsFormat,
    },
}

impl RatingsSource {
    /// A dataset name, or else a path to a ratings file read with `format`.
    pub fn parse(arg: &str, format: RatingsFormat) -> RatingsSource {
        match Dataset::from_name(arg) {
            Some(d) => RatingsSource::Known(d),
            None => RatingsSource::File {
                path: PathBuf::from(arg),
                format,
            },
        }
    }

    /// Load the canonical ratings table.
    pub fn load(&self, paths: &DataPaths) -> Result<DataFrame> {
        match self {
            RatingsSource::Known(d) => d.ratings(paths),
            RatingsSource::File { path, format } => {
                let df = read_ratings_file(path, format)?;
                let source = excerpt::path(path);
                table::check_rating_range(&df, format.has_header, &source)?;
                Ok(df)
            }
        }
    }
}

/// Read a user's ratings CSV/TSV with the given layout.
pub fn read_ratings_file(path: &Path, format: &RatingsFormat) -> Result<DataFrame> {
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
    let source = path.display().to_string();
    table::parse_ratings(table::utf8_text(bytes, &source)?, format, &source)
}

/// Where data lives.
#[derive(Debug, Clone)]
pub struct DataPaths {
    /// The project's shipped copies (`data/`), listed in its `SHA256SUMS`.
    pub shipped: PathBuf,
    /// Where downloaded archives go.
    pub cache: PathBuf,
}

impl DataPaths {
    /// The cache is `data_dir`, else `RECSYS_DATA_DIR`, else `$XDG_CACHE_HOME/recsys` or
    /// `~/.cache/recsys`; the shipped directory is found (or unpacked into the cache) by
    /// [`shipped::dir`].
    pub fn new(data_dir: Option<PathBuf>) -> Result<DataPaths> {
        let cache = data_dir
            .or_else(|| std::env::var_os("RECSYS_DATA_DIR").map(PathBuf::from))
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("recsys")))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/recsys")))
            .unwrap_or_else(|| PathBuf::from(".recsys-cache"));
        let shipped = shipped::dir(&cache)?;
        Ok(DataPaths { shipped, cache })
    }
}

/// Summary numbers of a ratings table, as `recsys data info` prints them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RatingsSummary {
    pub rows: usize,
    pub users: usize,
    pub items: usize,
    /// (rating value, count), ascending by value.
    pub histogram: Vec<(f64, usize)>,
    pub first_timestamp: i64,
    pub last_timestamp: i64,
}

/// Rows, distinct users and items, rating histogram and time range.
pub fn summarize(ratings: &DataFrame) -> Result<RatingsSummary> {
    let n_unique = |name: &str| -> Result<usize> { Ok(ratings.column(name)?.n_unique()?) };
    let hist = ratings
        .clone()
        .lazy()
        .group_by([col("rating")])
        .agg([len().alias("count")])
        .sort(["rating"], Default::default())
        .collect()?;
    let values = hist.column("rating")?.f64()?;
    let counts = hist.column("count")?.cast(&DataType::UInt64)?;
    let counts = counts.u64()?;
    let histogram = values
        .iter()
        .zip(counts.iter())
        .map(|(v, c)| (v.unwrap_or(f64::NAN), c.unwrap_or(0) as usize))
        .collect();
    let ts = ratings.column("timestamp")?.i64()?;
    Ok(RatingsSummary {
        rows: ratings.height(),
        users: n_unique("user_id")?,
        items: n_unique("item_id")?,
        histogram,
        first_timestamp: ts.min().unwrap_or(0),
        last_timestamp: ts.max().unwrap_or(0),
    })
}
