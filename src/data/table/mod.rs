//! Reading delimited ratings text into a polars DataFrame with the canonical columns
//! `user_id` (i64), `item_id` (i64), `rating` (f64) and `timestamp` (i64).
//!
//! String ids: when the first row's user (or item) is not an integer (`u196`), that column is
//! read as text and encoded once: code `c` is the `c`-th of its distinct strings in sorted order
//! ([`StringIds`]), and the text stays beside it in a `user_key` (`item_key`) column, so outputs
//! can map codes back. Files with integer ids get exactly the four canonical columns.
//!
//! polars does the parsing. When it fails, or leaves a required cell empty, [`locate_bad_line`]
//! walks the text once more to name the first offending line, so errors read like
//! `u.data line 17: expected 4 fields, found 3`.

use std::io::Cursor;

use anyhow::{anyhow, bail, Result};
use polars::prelude::*;

use crate::data::excerpt::{excerpt, quoted};

/// The canonical ratings columns, in order.
pub const RATINGS_COLUMNS: [&str; 4] = ["user_id", "item_id", "rating", "timestamp"];

/// Where one canonical column comes from in the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRef {
    /// By header name.
    Name(String),
    /// By 0-based position.
    Index(usize),
}

impl std::str::FromStr for ColumnRef {
    type Err = std::convert::Infallible;
    /// A plain number is a 0-based position, anything else a header name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.parse::<usize>() {
            Ok(i) => ColumnRef::Index(i),
            Err(_) => ColumnRef::Name(s.to_string()),
        })
    }
}

/// String ids: their dictionary and key columns.
pub mod string_ids;

pub use string_ids::{key_values, StringIds, ITEM_KEY, USER_KEY};

/// How a ratings file is laid out.
#[derive(Debug, Clone)]
pub struct RatingsFormat {
    /// Field separator, e.g. `b','` or `b'\t'`.
    pub separator: u8,
    /// Whether the first line holds column names.
    pub has_header: bool,
    /// Exact number of fields every line must have; `None` accepts any count that covers the
    /// mapped columns.
    pub n_fields: Option<usize>,
    pub user: ColumnRef,
    pub item: ColumnRef,
    /// Without a rating column (implicit feedback), `rating` is filled with 1.0.
    pub rating: Option<ColumnRef>,
    /// Without a timestamp column, `timestamp` is filled with 0.
    pub timestamp: Option<ColumnRef>,
}

impl RatingsFormat {
    /// ml-100k's `u.data`: tab-separated user, item, rating, timestamp, no header.
    pub fn ml100k() -> Self {
        Self::positional(b'\t', 4)
    }

    /// MovieLens `ratings.csv` (ml-latest-small, ml-25m, ml-32m): userId,movieId,rating,timestamp.
    pub fn movielens_csv() -> Self {
        RatingsFormat {
            separator: b',',
            has_header: true,
            n_fields: Some(4),
            user: ColumnRef::Name("userId".into()),
            item: ColumnRef::Name("movieId".into()),
            rating: Some(ColumnRef::Name("rating".into())),
            timestamp: Some(ColumnRef::Name("timestamp".into())),
        }
    }

    /// Four positional columns (user, item, rating, timestamp), no header.
    pub fn positional(separator: u8, n_fields: usize) -> Self {
        RatingsFormat {
            separator,
            has_header: false,
            n_fields: Some(n_fields),
            user: ColumnRef::Index(0),
            item: ColumnRef::Index(1),
            rating: Some(ColumnRef::Index(2)),
            timestamp: Some(ColumnRef::Index(3)),
        }
    }
}

/// What a column must parse as.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Integer,
    Number,
    /// A string id (any non-empty text).
    Key,
}

/// The largest rating magnitude read: beyond it a model's squared errors overflow 32-bit
/// floats (a training that "diverges" for no fault of its learning rate).
pub const MAX_RATING: f64 = 1e9;

/// The UTF-8 byte-order mark some editors put before the first header name.
const BOM: char = '\u{feff}';

/// The first data line of `text`, if any: its 1-based line number and its fields.
fn first_row(text: &str, fmt: &RatingsFormat) -> Option<(usize, Vec<String>)> {
    text.lines()
        .enumerate()
        .skip(usize::from(fmt.has_header))
        .find(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, split_line(l.trim_end_matches('\r'), fmt.separator)))
}

/// Mark the user and item columns whose first value is not an integer as string ids.
///
/// Ids are integers (within ±9223372036854775807) or text that is not a number (string ids,
/// `u196`). A first id written as a number that is not such an integer (`196.0`, `1e3`,
/// `9223372036854775808`) is refused, naming the value, its line and column, rather than
/// silently making every id of the column a string.
fn mark_keys(
    cols: &mut [(&'static str, usize, Kind)],
    first: Option<&(usize, Vec<String>)>,
    source: &str,
) -> Result<()> {
    let Some((line, fields)) = first else {
        return Ok(());
    };
    for c in cols.iter_mut().take(2) {
        let Some(v) = fields.get(c.1).map(|v| v.trim()) else {
            continue;
        };
        if v.is_empty() || v.parse::<i64>().is_ok() {
            continue;
        }
        let numeric = v
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
        if numeric && v.parse::<f64>().is_ok() {
            bail!(
                "{source} line {line}: {} {} (column {}) is a number but not an integer id \
                 within ±9223372036854775807; write ids as integers (196), or as text that is \
                 not a number for string ids (u196)",
                c.0,
                quoted(v),
                c.1
            );
        }
        c.2 = Kind::Key;
    }
    Ok(())
}

/// The canonical columns with their source positions, resolved against the header.
fn resolve_columns(
    fmt: &RatingsFormat,
    header: Option<&[String]>,
    source: &str,
) -> Result<Vec<(&'static str, usize, Kind)>> {
    let lookup = |c: &ColumnRef, what: &str| -> Result<usize> {
        match c {
            ColumnRef::Index(i) => Ok(*i),
            ColumnRef::Name(n) => {
                let header = header.ok_or_else(|| {
                    anyhow!(
                        "{source}: column '{}' named for {what}, but the file has no header",
                        excerpt(n)
                    )
                })?;
                header.iter().position(|h| h == n).ok_or_else(|| {
                    anyhow!(
                        "{source} line 1: no column '{}' for {what}; the header has {}",
                        excerpt(n),
                        excerpt(&header.join(", "))
                    )
                })
            }
        }
    };
    let mut cols = vec![
        ("user_id", lookup(&fmt.user, "user_id")?, Kind::Integer),
        ("item_id", lookup(&fmt.item, "item_id")?, Kind::Integer),
    ];
    if let Some(r) = &fmt.rating {
        cols.push(("rating", lookup(r, "rating")?, Kind::Number));
    }
    if let Some(t) = &fmt.timestamp {
        cols.push(("timestamp", lookup(t, "timestamp")?, Kind::Integer));
    }
    for (a, &(name_a, idx_a, _)) in cols.iter().enumerate() {
        if let Some(&(name_b, _, _)) = cols[a + 1..].iter().find(|c| c.1 == idx_a) {
            bail!(
                "{source}: {name_a} and {name_b} would both be read from column {idx_a}; \
                 give each its own column (--user-col, --item-col, --rating-col, --timestamp-col)"
            );
        }
    }
    Ok(cols)
}

/// The fields of one line, CSV-quoted fields (`"a,b"`, `"say ""hi"""`) unquoted.
fn split_line(line: &str, separator: u8) -> Vec<String> {
    let sep = separator as char;
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let field = fields.last_mut().expect("one field at least");
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == sep && !quoted => fields.push(String::new()),
            c => field.push(c),
        }
    }
    fields
}

/// `bytes` as UTF-8 text, or an error naming `source` and the line of the first bad byte.
pub fn utf8_text(bytes: Vec<u8>, source: &str) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let upto = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..upto].iter().filter(|&&b| b == b'\n').count() + 1;
        anyhow!(
            "{source} line {line}: not UTF-8 text (byte 0x{:02x}); save the file as UTF-8",
            e.as_bytes()[upto]
        )
    })
}

/// Walk `text` line by line and describe the first line that breaks `fmt`, if any.
pub fn locate_bad_line(text: &str, fmt: &RatingsFormat, source: &str) -> Option<String> {
    let mut lines = text.split('\n').enumerate();
    let header: Option<Vec<String>> = if fmt.has_header {
        let (_, first) = lines.next()?;
        Some(split_line(first.trim_end_matches('\r'), fmt.separator))
    } else {
        None
    };
    let mut cols = match resolve_columns(fmt, header.as_deref(), source) {
        Ok(c) => c,
        Err(e) => return Some(e.to_string()),
    };
    if let Err(e) = mark_keys(&mut cols, first_row(text, fmt).as_ref(), source) {
        return Some(e.to_string());
    }
    let expected = fmt.n_fields.or(header.as_ref().map(Vec::len));
    let needed = cols.iter().map(|c| c.1 + 1).max().unwrap_or(0);
    let last_content = text.trim_end().lines().count();
    for (i, raw) in lines {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            if i < last_content {
                return Some(format!(
                    "{source} line {}: blank line; remove it (only the end of the file may have some)",
                    i + 1
                ));
            }
            continue;
        }
        let fields = split_line(line, fmt.separator);
        let lineno = i + 1;
        match expected {
            Some(n) if fields.len() != n => {
                return Some(format!(
                    "{source} line {lineno}: expected {n} fields, found {} (truncated or malformed line: {})",
                    fields.len(),
                    quoted(line)
                ))
            }
            _ if fields.len() < needed => {
                return Some(format!(
                    "{source} line {lineno}: expected at least {needed} fields, found {}",
                    fields.len()
                ))
            }
            _ => {}
        }
        for &(name, idx, kind) in &cols {
            if let Some(problem) = check_value(fields[idx].as_str(), kind) {
                return Some(format!(
                    "{source} line {lineno}: {name} {} {problem}",
                    quoted(&fields[idx])
                ));
            }
        }
    }
    None
}

/// What is wrong with one cell, if anything.
fn check_value(value: &str, kind: Kind) -> Option<&'static str> {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    match kind {
        Kind::Integer if value.parse::<i64>().is_ok() => None,
        Kind::Integer if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Some("is out of range (integers here must lie within ±9223372036854775807)")
        }
        Kind::Integer => {
            Some("is not an integer (string ids are read when the first row's is one)")
        }
        Kind::Key if value.trim().is_empty() => Some("is empty"),
        Kind::Key => None,
        Kind::Number => match value.parse::<f64>() {
            Ok(v) if v.is_finite() => None,
            Ok(_) => Some("is not a finite number (NaN, inf and overflowing values are refused)"),
            Err(_) => Some("is not a number"),
        },
    }
}

/// Refuse a ratings table (read from `source`, with a header line or not) holding a rating
/// beyond ±[`MAX_RATING`], naming it and its line: a model would train on it until its loss
/// overflowed, and the fault is the data's, not the learning rate's. (Lists of scores read by
/// `evaluate --recs` are not ratings and are not bounded.)
pub fn check_rating_range(df: &DataFrame, has_header: bool, source: &str) -> Result<()> {
    let ratings = df.column("rating")?.f64()?;
    let too_large = ratings
        .into_no_null_iter()
        .enumerate()
        .find(|(_, r)| r.abs() > MAX_RATING);
    if let Some((row, r)) = too_large {
        // blank lines are refused before the end of a file, so row i is line i + 1 (+ header)
        bail!(
            "{source} line {}: rating {r:e} is too large: ratings must lie within ±1e9 \
             (a model's squared errors would overflow)",
            row + 1 + usize::from(has_header)
        );
    }
    Ok(())
}

/// Parse ratings text into the canonical DataFrame. `source` names the file in errors.
pub fn parse_ratings(mut text: String, fmt: &RatingsFormat, source: &str) -> Result<DataFrame> {
    // a UTF-8 byte-order mark (as spreadsheet programs write) is not part of the first name
    if text.starts_with(BOM) {
        text.drain(..BOM.len_utf8());
    }
    let has_rows = text
        .lines()
        .skip(usize::from(fmt.has_header))
        .any(|l| !l.trim().is_empty());
    if !has_rows {
        bail!("{source}: empty file, no ratings in it");
    }
    let fail = |polars_msg: String| -> anyhow::Error {
        match locate_bad_line(&text, fmt, source) {
            Some(msg) => anyhow!(msg),
            None => anyhow!("{source}: {}", excerpt(&polars_msg)),
        }
    };
    let header = if fmt.has_header {
        let first = text.lines().next().unwrap_or("");
        Some(
            split_line(first.trim_end_matches('\r'), fmt.separator)
                .into_iter()
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>(),
        )
    } else {
        None
    };
    let mut cols = resolve_columns(fmt, header.as_deref(), source)?;
    mark_keys(&mut cols, first_row(&text, fmt).as_ref(), source)?;
    // Every column is read as text and cast strictly, so a stray value fails instead of becoming
    // null or changing the column's type.
    let raw = CsvReadOptions::default()
        .with_has_header(fmt.has_header)
        .with_infer_schema_length(Some(0))
        .with_parse_options(
            CsvParseOptions::default()
                .with_separator(fmt.separator)
                .with_quote_char(Some(b'"')),
        )
        .into_reader_with_file_handle(Cursor::new(text.as_bytes()))
        .finish()
        .map_err(|e| fail(e.to_string()))?;
    if let Some(n) = fmt.n_fields {
        if raw.width() != n {
            return Err(fail(format!("expected {n} fields, found {}", raw.width())));
        }
    }
    let names = raw.get_column_names_owned();
    let mut exprs = Vec::new();
    for &(name, idx, kind) in &cols {
        let src = names
            .get(idx)
            .ok_or_else(|| fail(format!("no column {idx} for {name}")))?;
        exprs.push(match kind {
            Kind::Integer => col(src.clone()).strict_cast(DataType::Int64).alias(name),
            Kind::Number => col(src.clone()).strict_cast(DataType::Float64).alias(name),
            Kind::Key => col(src.clone()).alias(name),
        });
    }
    if fmt.rating.is_none() {
        exprs.insert(2, lit(1.0f64).cast(DataType::Float64).alias("rating"));
    }
    if fmt.timestamp.is_none() {
        exprs.push(lit(0i64).cast(DataType::Int64).alias("timestamp"));
    }
    let df = raw
        .lazy()
        .select(exprs)
        .collect()
        .map_err(|e| fail(e.to_string()))?;
    if df.columns().iter().any(|c| c.null_count() > 0) {
        return Err(fail("a line has an empty field".into()));
    }
    if df
        .column("rating")?
        .f64()?
        .into_no_null_iter()
        .any(|r| !r.is_finite())
    {
        return Err(fail("a rating is not a finite number".into()));
    }

    let keys: Vec<&str> = cols
        .iter()
        .filter(|c| c.2 == Kind::Key)
        .map(|c| c.0)
        .collect();
    string_ids::encode_keys(df, &keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tsv() -> RatingsFormat {
        RatingsFormat::ml100k()
    }

    #[test]
    fn parses_good_text() {
        let df = parse_ratings("1\t2\t5\t100\n3\t4\t1\t200\n".into(), &tsv(), "t").unwrap();
        assert_eq!(df.height(), 2);
        assert_eq!(df.get_column_names(), RATINGS_COLUMNS);
        assert_eq!(
            df.column("rating").unwrap().f64().unwrap().get(0),
            Some(5.0)
        );
    }

    #[test]
    fn names_the_bad_line() {
        let err = parse_ratings("1\t2\t5\t100\n3\t4\t1\n".into(), &tsv(), "u.data").unwrap_err();
        assert!(
            err.to_string()
                .contains("u.data line 2: expected 4 fields, found 3"),
            "{err}"
        );
        let err = parse_ratings("1\t2\t5\t100\n3\t4\tx\t7\n".into(), &tsv(), "u.data").unwrap_err();
        assert!(
            err.to_string()
                .contains("u.data line 2: rating \"x\" is not a number"),
            "{err}"
        );
        let err = parse_ratings("\n".into(), &tsv(), "u.data").unwrap_err();
        assert!(err.to_string().contains("empty file"), "{err}");
    }

    #[test]
    fn maps_named_columns() {
        let fmt = RatingsFormat {
            separator: b';',
            has_header: true,
            n_fields: None,
            user: "who".parse().unwrap(),
            item: "what".parse().unwrap(),
            rating: Some("stars".parse().unwrap()),
            timestamp: None,
        };
        let df = parse_ratings("what;who;stars\n10;1;4.5\n".into(), &fmt, "x.csv").unwrap();
        assert_eq!(df.column("user_id").unwrap().i64().unwrap().get(0), Some(1));
        assert_eq!(
            df.column("item_id").unwrap().i64().unwrap().get(0),
            Some(10)
        );
        assert_eq!(
            df.column("timestamp").unwrap().i64().unwrap().get(0),
            Some(0)
        );
        let err = parse_ratings("a;b\n1;2\n".into(), &fmt, "x.csv").unwrap_err();
        assert!(err.to_string().contains("no column 'who'"), "{err}");
    }
}
