//! MovieLens loaders. Every ratings loader returns the canonical columns
//! `user_id`, `item_id`, `rating`, `timestamp` (see [`super::table`]).

use std::io::Cursor;

use anyhow::{Context as _, Result};
use polars::prelude::*;

use super::source::Source;
use super::table::{parse_ratings, RatingsFormat};

/// The 19 genre flags of ml-100k's `u.item`, in file order (from `u.genre`).
pub const ML100K_GENRES: [&str; 19] = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
];

/// ml-100k `u.data`: 100000 tab-separated ratings.
pub fn ml100k_ratings(src: &Source) -> Result<DataFrame> {
    let text = src.read_text("u.data", false)?;
    parse_ratings(text, &RatingsFormat::ml100k(), &src.describe("u.data"))
}

/// Read a headerless, pipe-separated ml-100k table as strings with the given column names.
fn read_pipe_table(src: &Source, member: &str, names: &[&str]) -> Result<DataFrame> {
    let text = src.read_text(member, true)?;
    let what = src.describe(member);
    if text.trim().is_empty() {
        anyhow::bail!("{what}: empty file");
    }
    if let Some((i, line)) = text
        .lines()
        .enumerate()
        .find(|(_, l)| !l.is_empty() && l.split('|').count() != names.len())
    {
        anyhow::bail!(
            "{what} line {}: expected {} fields, found {}",
            i + 1,
            names.len(),
            line.split('|').count()
        );
    }
    let schema: Schema = names
        .iter()
        .map(|n| Field::new((*n).into(), DataType::String))
        .collect();
    CsvReadOptions::default()
        .with_has_header(false)
        .with_schema(Some(Arc::new(schema)))
        .with_parse_options(
            CsvParseOptions::default()
                .with_separator(b'|')
                .with_quote_char(None),
        )
        .into_reader_with_file_handle(Cursor::new(text.into_bytes()))
        .finish()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("parsing {what}"))
}

/// ml-100k `u.item` (ISO-8859-1): `item_id`, `title`, `release_date`, `video_release_date`,
/// `imdb_url`, then the 19 genre flags as 0/1 i64 columns named as in [`ML100K_GENRES`].
pub fn ml100k_items(src: &Source) -> Result<DataFrame> {
    let mut names = vec![
        "item_id",
        "title",
        "release_date",
        "video_release_date",
        "imdb_url",
    ];
    names.extend(ML100K_GENRES);
    let df = read_pipe_table(src, "u.item", &names)?;
    let mut exprs = vec![col("item_id").strict_cast(DataType::Int64)];
    exprs.extend(["title", "release_date", "video_release_date", "imdb_url"].map(col));
    exprs.extend(ML100K_GENRES.map(|g| col(g).strict_cast(DataType::Int64)));
    df.lazy()
        .select(exprs)
        .collect()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("{}: a non-numeric id or genre flag", src.describe("u.item")))
}

/// ml-100k `u.user`: `user_id`, `age`, `gender`, `occupation`, `zip_code`.
pub fn ml100k_users(src: &Source) -> Result<DataFrame> {
    let df = read_pipe_table(
        src,
        "u.user",
        &["user_id", "age", "gender", "occupation", "zip_code"],
    )?;
    df.lazy()
        .with_columns([
            col("user_id").strict_cast(DataType::Int64),
            col("age").strict_cast(DataType::Int64),
        ])
        .collect()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("{}: a non-numeric id or age", src.describe("u.user")))
}

/// `ratings.csv` of ml-latest-small, ml-25m or ml-32m.
pub fn csv_ratings(src: &Source) -> Result<DataFrame> {
    let text = src.read_text("ratings.csv", false)?;
    parse_ratings(
        text,
        &RatingsFormat::movielens_csv(),
        &src.describe("ratings.csv"),
    )
}

/// `movies.csv`: `item_id`, `title`, `genres` (titles are quoted where they hold commas).
pub fn csv_movies(src: &Source) -> Result<DataFrame> {
    let what = src.describe("movies.csv");
    let bytes = src.read("movies.csv")?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        anyhow::bail!("{what}: empty file");
    }
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("parsing {what}"))?;
    df.lazy()
        .select([
            col("movieId").strict_cast(DataType::Int64).alias("item_id"),
            col("title"),
            col("genres"),
        ])
        .collect()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("{what}: expected columns movieId,title,genres with integer ids"))
}

/// ml-1m `ratings.dat`: `user::item::rating::timestamp`.
pub fn dat_ratings(src: &Source) -> Result<DataFrame> {
    let text = src.read_text("ratings.dat", false)?.replace("::", "\t");
    parse_ratings(text, &RatingsFormat::ml100k(), &src.describe("ratings.dat"))
}
