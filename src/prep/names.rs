//! String ids on the command line's side: [`IdNames`], the dictionaries of a table's string
//! user and item ids (codes in the tables, the original strings in every output), and
//! [`share_ids`], which gives a train file and a given test file one dictionary.

use anyhow::Result;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::table::{key_values, StringIds, ITEM_KEY, USER_KEY};
use crate::prep::i64_values;

/// The dictionaries of string user and item ids (each `None` for integer ids): codes in the
/// tables, the original strings in every output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdNames {
    pub users: Option<StringIds>,
    pub items: Option<StringIds>,
}

impl IdNames {
    /// The dictionaries of a table read by the table reader (`None` for integer ids).
    pub fn of(df: &DataFrame) -> Result<Option<IdNames>> {
        let users = StringIds::of_column(df, USER_KEY)?;
        let items = StringIds::of_column(df, ITEM_KEY)?;
        Ok((users.is_some() || items.is_some()).then_some(IdNames { users, items }))
    }

    fn name(ids: &Option<StringIds>, code: i64) -> String {
        match ids {
            Some(d) => d.key(code).unwrap_or("?").to_string(),
            None => code.to_string(),
        }
    }

    /// A user's original id, as text.
    pub fn user(&self, code: i64) -> String {
        IdNames::name(&self.users, code)
    }

    /// An item's original id, as text.
    pub fn item(&self, code: i64) -> String {
        IdNames::name(&self.items, code)
    }

    /// The code of an item given as text: `None` when the data's ids are integers (the caller
    /// parses the number) or the string is not one of the data's ids.
    pub fn item_code(&self, text: &str) -> Option<i64> {
        self.items.as_ref().and_then(|d| d.code(text.trim()))
    }

    /// The code of a user given as text (`what` names the flag or file in errors): `None` for a
    /// string id the data does not have; an error for a non-integer when the ids are integers.
    pub fn user_code(&self, text: &str, what: &str) -> Result<Option<i64>> {
        let text = text.trim();
        match &self.users {
            Some(d) => Ok(d.code(text)),
            None => text.parse().map(Some).map_err(|_| {
                anyhow::anyhow!(
                    "{what}: user {} is not an integer id (the data's are)",
                    crate::data::quoted(text)
                )
            }),
        }
    }
}

/// Give `a` and `b` one dictionary for each string id column either has (an integer column
/// beside a string one is read as text), so the same id gets the same code in both.
pub fn share_ids(a: DataFrame, b: DataFrame) -> Result<(DataFrame, DataFrame)> {
    let (mut a, mut b) = (a, b);
    for (id, key) in [("user_id", USER_KEY), ("item_id", ITEM_KEY)] {
        if a.column(key).is_err() && b.column(key).is_err() {
            continue;
        }
        for df in [&mut a, &mut b] {
            if df.column(key).is_err() {
                let text: Vec<String> = i64_values(df, id)?.map(|v| v.to_string()).collect();
                df.with_column(Column::new(key.into(), text))?;
            }
        }
        let ids = StringIds::fit(key_values(&a, key)?.into_iter().chain(key_values(&b, key)?));
        a = ids.encode(&a, id, key)?;
        b = ids.encode(&b, id, key)?;
    }
    // one column order for both, so they stack
    let order: Vec<String> = a.get_column_names().iter().map(|n| n.to_string()).collect();
    let b = b.select(order)?;
    Ok((a, b))
}
