//! Preprocessing of ratings tables with polars: binarization, id encoding, and keeping only the
//! test rows whose user and item are known in train.

/// Each user's rows, items in time order and item sets; a release's titles.
pub mod by_user;
/// Ratings tables written back as CSV with their original ids.
pub mod export;
/// Row filters after RePlay's `MinCountFilter` and `LowRatingFilter`.
pub mod filters;
/// String user and item ids: their dictionaries, shared by a train and a test file.
pub mod names;
/// Ratings binarized and split, with the id maps and fingerprints of a run.
pub mod prepared;
/// Interactions to padded item sequences.
pub mod sequence;
/// What a run is made of: the ratings source and the split, as recorded.
pub mod spec;
/// Train/test splits.
pub mod split;

use std::collections::HashMap;

use anyhow::{anyhow, Result};
use polars::prelude::*;

/// Keep the rows with `rating > threshold` (notebook 000 binarizes with threshold 3).
pub fn binarize(ratings: &DataFrame, threshold: f64) -> Result<DataFrame> {
    Ok(ratings
        .clone()
        .lazy()
        .filter(col("rating").gt(lit(threshold)))
        .collect()?)
}

/// Keep the `test` rows whose `user_id` and `item_id` both occur in `train` (pandas' inner merge
/// on the train users, then on the train items; row order of `test` is kept).
pub fn keep_known(test: &DataFrame, train: &DataFrame) -> Result<DataFrame> {
    let users = train.column("user_id")?.as_materialized_series().unique()?;
    let items = train.column("item_id")?.as_materialized_series().unique()?;
    Ok(test
        .clone()
        .lazy()
        .filter(
            col("user_id")
                .is_in(lit(users).implode(false), false)
                .and(col("item_id").is_in(lit(items).implode(false), false)),
        )
        .collect()?)
}

/// A label encoder: original ids to dense indices `0..len`, and back.
///
/// Indices follow the order of first appearance, like `pandas.Series.unique()`, which is how
/// notebook 000 numbers its users and items.
///
/// It serializes as the list of original ids in index order, and rebuilds its lookup table
/// when deserialized.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "Vec<i64>", into = "Vec<i64>")]
pub struct IdMap {
    ids: Vec<i64>,
    index: HashMap<i64, i64>,
}

impl From<Vec<i64>> for IdMap {
    fn from(ids: Vec<i64>) -> IdMap {
        IdMap::fit(ids)
    }
}

impl From<IdMap> for Vec<i64> {
    fn from(map: IdMap) -> Vec<i64> {
        map.ids
    }
}

impl IdMap {
    /// Number each distinct id in order of first appearance.
    pub fn fit(ids: impl IntoIterator<Item = i64>) -> IdMap {
        let mut map = IdMap::default();
        for id in ids {
            if let std::collections::hash_map::Entry::Vacant(e) = map.index.entry(id) {
                e.insert(map.ids.len() as i64);
                map.ids.push(id);
            }
        }
        map
    }

    /// Number the distinct values of an i64 column in order of first appearance.
    pub fn fit_column(df: &DataFrame, column: &str) -> Result<IdMap> {
        Ok(IdMap::fit(i64_values(df, column)?))
    }

    /// Number of known ids.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no id is known.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The index of an original id.
    pub fn index(&self, id: i64) -> Option<i64> {
        self.index.get(&id).copied()
    }

    /// The original id at an index.
    pub fn id(&self, index: i64) -> Option<i64> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.ids.get(i))
            .copied()
    }

    /// The original ids, in index order.
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }

    /// Indices of an i64 column; an id not in the map is an error naming it.
    pub fn encode_column(&self, df: &DataFrame, column: &str) -> Result<Vec<i64>> {
        i64_values(df, column)?
            .map(|id| {
                self.index(id)
                    .ok_or_else(|| anyhow!("{column} {id} is not known to the encoder"))
            })
            .collect()
    }

    /// Add `name` holding the indices of `column` (rows with unknown ids are an error).
    pub fn with_encoded(&self, df: &DataFrame, column: &str, name: &str) -> Result<DataFrame> {
        let codes = self.encode_column(df, column)?;
        let mut out = df.clone();
        out.with_column(Column::new(name.into(), codes))?;
        Ok(out)
    }
}

/// The values of an i64 column without nulls.
pub fn i64_values<'a>(df: &'a DataFrame, column: &str) -> Result<impl Iterator<Item = i64> + 'a> {
    let ca = df.column(column)?.i64()?;
    if ca.null_count() > 0 {
        anyhow::bail!("column {column} has missing values");
    }
    Ok(ca.into_no_null_iter())
}

/// The values of an f64 column without nulls.
pub fn f64_values<'a>(df: &'a DataFrame, column: &str) -> Result<impl Iterator<Item = f64> + 'a> {
    let ca = df.column(column)?.f64()?;
    if ca.null_count() > 0 {
        anyhow::bail!("column {column} has missing values");
    }
    Ok(ca.into_no_null_iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(users: &[i64], items: &[i64], ratings: &[f64]) -> DataFrame {
        DataFrame::new_infer_height(vec![
            Column::new("user_id".into(), users),
            Column::new("item_id".into(), items),
            Column::new("rating".into(), ratings),
        ])
        .unwrap()
    }

    #[test]
    fn encodes_in_order_of_first_appearance() {
        let m = IdMap::fit([30, 10, 30, 20]);
        assert_eq!(m.ids(), &[30, 10, 20]);
        assert_eq!(m.index(10), Some(1));
        assert_eq!(m.id(2), Some(20));
        assert_eq!(m.index(99), None);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, "[30,10,20]");
        let back: IdMap = serde_json::from_str(&json).unwrap();
        assert_eq!(back.index(20), Some(2));
    }

    #[test]
    fn binarizes_and_keeps_known() {
        let df = table(&[1, 1, 2], &[5, 6, 5], &[4.0, 3.0, 5.0]);
        assert_eq!(binarize(&df, 3.0).unwrap().height(), 2);
        let train = table(&[1], &[5], &[4.0]);
        let kept = keep_known(&df, &train).unwrap();
        assert_eq!(
            kept.height(),
            1,
            "only (1, 5) has a train user and a train item"
        );
    }
}
