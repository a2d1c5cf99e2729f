//! String ids (`u196`): a column of them is encoded once to integer codes, code `c` being the
//! `c`-th of the distinct strings in sorted order ([`StringIds`]), with the text kept beside the
//! codes in a `user_key` (`item_key`) column so outputs can map codes back.

use anyhow::{anyhow, Result};
use polars::prelude::*;

/// The column holding the original text of string user ids (absent for integer ids).
pub const USER_KEY: &str = "user_key";
/// The column holding the original text of string item ids (absent for integer ids).
pub const ITEM_KEY: &str = "item_key";

/// A dictionary of string ids: code `c` is the `c`-th of the distinct strings in sorted order.
/// It serializes as that sorted list.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct StringIds {
    keys: Vec<String>,
}

impl StringIds {
    /// The dictionary of `keys` (any order, repeats allowed).
    pub fn fit<S: AsRef<str>>(keys: impl IntoIterator<Item = S>) -> StringIds {
        let mut keys: Vec<String> = keys.into_iter().map(|k| k.as_ref().to_string()).collect();
        keys.sort_unstable();
        keys.dedup();
        StringIds { keys }
    }

    /// The dictionary of a table's key column (`USER_KEY` or `ITEM_KEY`), or `None` when the
    /// table has no such column (integer ids).
    pub fn of_column(df: &DataFrame, key_column: &str) -> Result<Option<StringIds>> {
        match df.column(key_column) {
            Ok(_) => Ok(Some(StringIds::fit(key_values(df, key_column)?))),
            Err(_) => Ok(None),
        }
    }

    /// The code of `key`.
    pub fn code(&self, key: &str) -> Option<i64> {
        self.keys
            .binary_search_by(|k| k.as_str().cmp(key))
            .ok()
            .map(|c| c as i64)
    }

    /// The string of `code`.
    pub fn key(&self, code: i64) -> Option<&str> {
        usize::try_from(code)
            .ok()
            .and_then(|c| self.keys.get(c))
            .map(String::as_str)
    }

    /// Number of distinct ids.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// `df` with `id_column` set to the codes of its `key_column` (every key must be known).
    pub fn encode(&self, df: &DataFrame, id_column: &str, key_column: &str) -> Result<DataFrame> {
        let codes: Vec<i64> = key_values(df, key_column)?
            .iter()
            .map(|k| {
                self.code(k).ok_or_else(|| {
                    anyhow!("id {} is not in the dictionary", crate::data::quoted(k))
                })
            })
            .collect::<Result<_>>()?;
        let mut out = df.clone();
        out.with_column(Column::new(id_column.into(), codes))?;
        Ok(out)
    }
}

/// The text values of a string column (`USER_KEY`, `ITEM_KEY`), nulls skipped.
pub fn key_values(df: &DataFrame, column: &str) -> Result<Vec<String>> {
    Ok(df
        .column(column)?
        .str()?
        .iter()
        .flatten()
        .map(String::from)
        .collect())
}

/// Replace each string id column named in `columns` (`user_id`, `item_id`) by its codes,
/// keeping the text in its key column.
pub(super) fn encode_keys(mut df: DataFrame, columns: &[&str]) -> Result<DataFrame> {
    for &name in columns {
        let key = if name == "user_id" {
            USER_KEY
        } else {
            ITEM_KEY
        };
        let text = df.column(name)?.clone().with_name(key.into());
        df.with_column(text)?;
        let ids = StringIds::fit(key_values(&df, key)?);
        df = ids.encode(&df, name, key)?;
    }
    Ok(df)
}

#[cfg(test)]
mod tests {
    use super::super::{parse_ratings, RatingsFormat, RATINGS_COLUMNS};
    use super::*;

    fn tsv() -> RatingsFormat {
        RatingsFormat::ml100k()
    }

    #[test]
    fn string_ids_are_encoded_in_sorted_order() {
        let text = "u2\tm9\t5\t1\nu10\tm9\t3\t2\nu2\t7\t4\t3\n";
        let df = parse_ratings(text.into(), &tsv(), "s.tsv").unwrap();
        let users: Vec<i64> = df
            .column("user_id")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        // sorted: "u10" < "u2"; items: "7" < "m9"
        assert_eq!(users, vec![1, 0, 1]);
        let items: Vec<i64> = df
            .column("item_id")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(items, vec![1, 1, 0]);
        let ids = StringIds::of_column(&df, USER_KEY).unwrap().unwrap();
        assert_eq!(
            (ids.key(1), ids.code("u10"), ids.len()),
            (Some("u2"), Some(0), 2)
        );
        // integer ids: the four canonical columns only
        let df = parse_ratings("1\t2\t5\t100\n".into(), &tsv(), "t").unwrap();
        assert_eq!(df.get_column_names(), RATINGS_COLUMNS);
        assert!(StringIds::of_column(&df, USER_KEY).unwrap().is_none());
        // an integer first row makes a later text id an error, named by its line
        let err = parse_ratings("1\t2\t5\t1\nx\t2\t5\t1\n".into(), &tsv(), "u").unwrap_err();
        assert!(
            err.to_string()
                .contains("u line 2: user_id \"x\" is not an integer"),
            "{err}"
        );
        let err = parse_ratings("a\t2\t5\t1\nb\t2\tx\t1\n".into(), &tsv(), "u").unwrap_err();
        assert!(
            err.to_string()
                .contains("u line 2: rating \"x\" is not a number"),
            "{err}"
        );
    }
}
