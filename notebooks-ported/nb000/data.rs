//! Notebook 000's data cells: read the ratings with their local dates, keep ratings above 3 as
//! interactions, count them per day, and split on the last day. The pure steps
//! ([`interactions`], [`split_ms`], [`split`]) are also what `recsys bench` times 000 on.

use anyhow::{Context as _, Result};
use polars::prelude::*;

use recsys::data::{time, Dataset};
use recsys::prep::{self, IdMap};
use recsys::{report::plot, say, Context};

use super::cells;
use super::{Args, Mode};
use crate::notebooks::transcript::{aside, Out};

/// The ratings with `datetime` (milliseconds, local time) and `date` columns, and the
/// interactions (ratings above 3).
///
/// datetime = fromtimestamp(timestamp / 1000) in local time. On the /1000 scale (faithful),
/// timestamp seconds become milliseconds since 1970; the corrected mode reads real seconds.
pub fn interactions(ctx: &Context, args: &Args, mode: Mode) -> Result<(DataFrame, DataFrame)> {
    let offset_ms = parse_utc_offset(&args.utc_offset)?;
    let ratings = Dataset::MlLatestSmall.ratings(&ctx.data)?;
    let to_ms = match mode {
        Mode::Faithful => 1,
        Mode::Corrected => 1000,
    };
    let ratings = ratings
        .lazy()
        .with_column(
            (col("timestamp") * lit(to_ms) + lit(offset_ms))
                .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
                .alias("datetime"),
        )
        .with_column(col("datetime").dt().date().alias("date"))
        .collect()?;
    let interactions = prep::binarize(&ratings, 3.0)?;
    Ok((ratings, interactions))
}

/// The split instant in the `datetime` column's milliseconds: `--split-date` at local midnight
/// on the notebook's /1000 scale; the corrected mode moves it to the same instant in real time.
pub fn split_ms(args: &Args, mode: Mode) -> Result<i64> {
    let offset_ms = parse_utc_offset(&args.utc_offset)?;
    let split_local_ms = parse_date(&args.split_date)? * 86_400_000;
    Ok(match mode {
        Mode::Faithful => split_local_ms,
        // The same instant in real time: undo the local offset, scale by 1000, redo it.
        Mode::Corrected => (split_local_ms - offset_ms) * 1000 + offset_ms,
    })
}

/// Train (before `split_ms`) and test (from it on).
pub fn split(interactions: &DataFrame, split_ms: i64) -> Result<(DataFrame, DataFrame)> {
    let split_at = lit(split_ms).cast(DataType::Datetime(TimeUnit::Milliseconds, None));
    let train = interactions
        .clone()
        .lazy()
        .filter(col("datetime").lt(split_at.clone()))
        .collect()?;
    let test = interactions
        .clone()
        .lazy()
        .filter(col("datetime").gt_eq(split_at))
        .collect()?;
    Ok((train, test))
}

/// What the data cells produced.
pub struct Split {
    pub ratings_shape: (usize, usize),
    pub interactions_shape: (usize, usize),
    pub interaction_users: usize,
    pub interaction_items: usize,
    /// Days with interactions.
    pub days: usize,
    /// The split instant, local time.
    pub split_text: String,
    pub train: DataFrame,
    pub test: DataFrame,
    pub train_max: String,
    pub test_min: String,
}

/// The notebook's "Read the data" and "Split the data" cells, printing what they print and
/// plotting the interactions per day (its path pushed on `plots`).
pub fn read_and_split(
    out: &Out,
    args: &Args,
    mode: Mode,
    prefix: &str,
    plots: &mut Vec<String>,
) -> Result<Split> {
    let ctx = out.ctx;
    say!(out, "## Read the data");
    let (ratings, interactions) = interactions(ctx, args, mode)?;
    // ratings.head(), with the notebook's column names
    let head = cells::pandas_head(
        &ratings,
        &[
            ("user_id", "userId"),
            ("item_id", "movieId"),
            ("rating", "rating"),
            ("timestamp", "timestamp"),
        ],
        5,
    )?;
    say!(out, "{}", head.join("\n"));
    say!(out, "{:?}", (ratings.shape(), interactions.shape()));
    if mode == Mode::Faithful {
        aside!(
            out,
            "note (faithful): timestamps are divided by 1000 as in the notebook, so every date \
             falls in January 1970 (local time {}; --corrected reads real dates)",
            args.utc_offset
        );
    }
    let interaction_users = interactions.column("user_id")?.n_unique()?;
    let interaction_items = interactions.column("item_id")?.n_unique()?;
    say!(out, "{:?}", (interaction_users, interaction_items));

    say!(out, "## Split the data");
    // interactions per day first
    let per_day = interactions
        .clone()
        .lazy()
        .group_by([col("date")])
        .agg([len().cast(DataType::Int64).alias("n_obs")])
        .sort(["date"], Default::default())
        .with_column(col("date").dt().to_string("%Y-%m-%d").alias("day"))
        .collect()?;
    let days: Vec<String> = per_day
        .column("day")?
        .str()?
        .iter()
        .map(|d| d.unwrap_or_default().to_string())
        .collect();
    let counts: Vec<f64> = prep::i64_values(&per_day, "n_obs")?
        .map(|c| c as f64)
        .collect();
    aside!(
        out,
        "{} days with interactions, from {} to {}; the busiest has {}",
        days.len(),
        days.first().map_or("-", String::as_str),
        days.last().map_or("-", String::as_str),
        counts.iter().cloned().fold(0.0, f64::max)
    );
    let bars = ctx.write_output_with(&format!("{prefix}interactions-per-day.png"), |p| {
        plot::bar_chart(
            p,
            "Number of interactions in given day",
            &days,
            &counts,
            "n interactions",
        )
    })?;
    aside!(out, "plot: {}", bars.display());
    plots.push(bars.display().to_string());

    // The notebook's question on this split, whose answer it left TODO.
    aside!(
        out,
        "Question (answer TODO in the notebook): this split against a random split and \
         leave-one-out? Answered with measured numbers in docs/nb000.md, \"The split question\""
    );
    // Split on the last day: train before split_date, test from it on.
    let split_ms = split_ms(args, mode)?;
    let split_frame = df!("t" => [split_ms])?
        .lazy()
        .select([col("t")
            .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
            .dt()
            .to_string("%Y-%m-%d %H:%M:%S")])
        .collect()?;
    let split_text = split_frame
        .column("t")?
        .str()?
        .get(0)
        .unwrap_or_default()
        .to_string();
    let (train, test) = split(&interactions, split_ms)?;
    let train_max = datetime_text(&train, col("datetime").max())?;
    let test_min = datetime_text(&test, col("datetime").min())?;
    say!(
        out,
        "(Timestamp('{train_max}'),\n {},\n Timestamp('{test_min}'),\n {})",
        train.height(),
        test.height()
    );
    if mode == Mode::Corrected {
        aside!(
            out,
            "corrected: split at {split_text} local time, the instant \"{}\" stands for on the \
             notebook's /1000 scale (the real last day, {}, holds {} interaction(s))",
            args.split_date,
            days.last().map_or("-", String::as_str),
            counts.last().copied().unwrap_or(0.0)
        );
    }
    Ok(Split {
        ratings_shape: ratings.shape(),
        interactions_shape: interactions.shape(),
        interaction_users,
        interaction_items,
        days: days.len(),
        split_text,
        train,
        test,
        train_max,
        test_min,
    })
}

/// Test positives grouped by user, users in increasing original id (pandas' groupby order),
/// items in test-table order; both as model indices.
pub fn positives_by_user(
    test_valid: &DataFrame,
    user_ids: &IdMap,
    item_ids: &IdMap,
) -> Result<(Vec<i64>, Vec<Vec<i64>>)> {
    let sorted = test_valid.sort(
        ["user_id"],
        SortMultipleOptions::default().with_maintain_order(true),
    )?;
    let users = user_ids.encode_column(&sorted, "user_id")?;
    let items = item_ids.encode_column(&sorted, "item_id")?;
    let mut out_users: Vec<i64> = Vec::new();
    let mut out_items: Vec<Vec<i64>> = Vec::new();
    for (u, i) in users.into_iter().zip(items) {
        if out_users.last() != Some(&u) {
            out_users.push(u);
            out_items.push(Vec::new());
        }
        out_items.last_mut().expect("pushed above").push(i);
    }
    Ok((out_users, out_items))
}

/// One aggregated datetime of `df`, printed like pandas' Timestamp (microseconds).
fn datetime_text(df: &DataFrame, agg: Expr) -> Result<String> {
    let out = df
        .clone()
        .lazy()
        .select([agg.dt().to_string("%Y-%m-%d %H:%M:%S%.6f").alias("t")])
        .collect()?;
    Ok(out.column("t")?.str()?.get(0).unwrap_or("NaT").to_string())
}

/// `+HH:MM`, `-HH:MM`, `+HH`, `Z` or `UTC` to milliseconds east of UTC.
pub fn parse_utc_offset(text: &str) -> Result<i64> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Ok(0);
    }
    let bad = || anyhow::anyhow!("--utc-offset {text:?}: expected ±HH:MM (e.g. +01:00), Z or UTC");
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let h: i64 = h.parse().map_err(|_| bad())?;
    let m: i64 = m.parse().map_err(|_| bad())?;
    if h > 14 || m >= 60 {
        return Err(bad());
    }
    Ok(sign * (h * 3600 + m * 60) * 1000)
}

/// `YYYY-MM-DD` to days since 1970-01-01 ([`time::parse_date`]), for `--split-date`.
pub fn parse_date(text: &str) -> Result<i64> {
    time::parse_date(text).with_context(|| format!("--split-date {text:?}: expected YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::{parse_date, parse_utc_offset};

    #[test]
    fn parses_offsets_and_dates() {
        assert_eq!(parse_utc_offset("+01:00").unwrap(), 3_600_000);
        assert_eq!(parse_utc_offset("-05:30").unwrap(), -19_800_000);
        assert_eq!(parse_utc_offset("UTC").unwrap(), 0);
        assert!(parse_utc_offset("01:00").is_err());
        assert!(parse_utc_offset("+25:00").is_err());
        assert_eq!(parse_date("1970-01-18").unwrap(), 17);
        assert_eq!(parse_date("2016-06-06").unwrap(), 16958);
        assert!(parse_date("1970-13-01").is_err());
        assert!(parse_date("yesterday").is_err());
    }
}
