//! Ratings tables written back as CSV with their original ids (`user_id,item_id,rating,timestamp`),
//! so that another library can read the exact split recsys used.

use std::fmt::Write as _;

use anyhow::Result;
use polars::prelude::DataFrame;

use crate::prep::by_user::rows;
use crate::prep::names::IdNames;

/// A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180).
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// `df`'s rows as CSV with a header, in row order, ids as the data has them (`names`' strings
/// for string ids). Ratings print in Rust's shortest round-trip form (`4`, `3.5`).
pub fn ratings_csv(df: &DataFrame, names: &IdNames) -> Result<String> {
    let mut out = String::from("user_id,item_id,rating,timestamp\n");
    for (u, i, r, t) in rows(df)? {
        let _ = writeln!(
            out,
            "{},{},{r},{t}",
            csv_field(&names.user(u)),
            csv_field(&names.item(i))
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_and_quotes_are_quoted() {
        assert_eq!(csv_field("u1"), "u1");
        assert_eq!(csv_field("Smith, 1"), "\"Smith, 1\"");
        assert_eq!(csv_field("Film \"718\""), "\"Film \"\"718\"\"\"");
    }
}
