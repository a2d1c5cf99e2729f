//! Time-based splits of a ratings table (columns `user_id`, `item_id`, `timestamp`).
//!
//! - [`TimeSplitter`]: RePlay's `TimeSplitter` with a fractional threshold: the last
//!   `test_fraction` of the timeline goes to test, optionally without cold users/items.
//! - [`time_split_at`]: a global timestamp threshold (rows at or after it go to test).
//! - [`last_n_split`]: each user's last `n` interactions go to test (leave-one-out for n = 1).
//!
//! The two global splits return both parts sorted by timestamp (stable: ties keep the input
//! order), like RePlay's pandas implementation; [`last_n_split`] keeps the input order.

use std::collections::{HashMap, HashSet};

use anyhow::{bail, Result};
use polars::prelude::*;

use crate::prep::i64_values;

/// RePlay's `TimeSplitter(time_threshold=test_fraction, drop_cold_users, drop_cold_items)`.
///
/// The threshold is the timestamp at position `int(n * (1 - test_fraction))` of the sorted
/// timestamps; every row at or after it goes to test, so ties at the threshold all go to test
/// and the test part can hold more than `test_fraction` of the rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeSplitter {
    /// Share of the timeline for test, strictly between 0 and 1.
    pub test_fraction: f64,
    /// Drop test rows whose user has no train row.
    pub drop_cold_users: bool,
    /// Drop test rows whose item has no train row.
    pub drop_cold_items: bool,
}

impl TimeSplitter {
    /// A splitter that keeps cold users and items in test (RePlay's defaults).
    pub fn new(test_fraction: f64) -> Result<TimeSplitter> {
        if !(test_fraction > 0.0 && test_fraction < 1.0) {
            bail!("time split: the test fraction must be strictly between 0 and 1, got {test_fraction}");
        }
        Ok(TimeSplitter {
            test_fraction,
            drop_cold_users: false,
            drop_cold_items: false,
        })
    }

    /// The same splitter, dropping cold users and items from test (or not).
    pub fn drop_cold(self, users: bool, items: bool) -> TimeSplitter {
        TimeSplitter {
            drop_cold_users: users,
            drop_cold_items: items,
            ..self
        }
    }

    /// The timestamp from which rows go to test.
    pub fn threshold(&self, ratings: &DataFrame) -> Result<i64> {
        let timestamps: Vec<i64> = i64_values(ratings, "timestamp")?.collect();
        fraction_threshold(&timestamps, self.test_fraction)
    }

    /// `(train, test)`, both sorted by timestamp.
    pub fn split(&self, ratings: &DataFrame) -> Result<(DataFrame, DataFrame)> {
        let (train, test) = time_split_at(ratings, self.threshold(ratings)?)?;
        let test = drop_cold(&test, &train, self.drop_cold_users, self.drop_cold_items)?;
        Ok((train, test))
    }
}

/// The timestamp at sorted position `int(n * (1 - test_fraction))` (pandas' `iloc` on the
/// sorted column, as RePlay computes it).
pub fn fraction_threshold(timestamps: &[i64], test_fraction: f64) -> Result<i64> {
    if timestamps.is_empty() {
        bail!("time split: the ratings table is empty");
    }
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        bail!(
            "time split: the test fraction must be strictly between 0 and 1, got {test_fraction}"
        );
    }
    let position = (timestamps.len() as f64 * (1.0 - test_fraction)).floor() as usize;
    let position = position.min(timestamps.len() - 1);
    let mut sorted = timestamps.to_vec();
    let (_, nth, _) = sorted.select_nth_unstable(position);
    Ok(*nth)
}

/// Split at a global timestamp: rows with `timestamp < threshold` to train, the rest to test.
/// Both parts are sorted by timestamp (ties in input order).
pub fn time_split_at(ratings: &DataFrame, threshold: i64) -> Result<(DataFrame, DataFrame)> {
    let sorted = ratings.sort(
        ["timestamp"],
        SortMultipleOptions::default().with_maintain_order(true),
    )?;
    let is_test: BooleanChunked = i64_values(&sorted, "timestamp")?
        .map(|t| t >= threshold)
        .collect();
    let train = sorted.filter(&!&is_test)?;
    let test = sorted.filter(&is_test)?;
    Ok((train, test))
}

/// Drop the `test` rows whose user (when `users`) or item (when `items`) never occurs in `train`.
pub fn drop_cold(
    test: &DataFrame,
    train: &DataFrame,
    users: bool,
    items: bool,
) -> Result<DataFrame> {
    let known = |column: &str| -> Result<HashSet<i64>> { Ok(i64_values(train, column)?.collect()) };
    let mut mask = vec![true; test.height()];
    for (column, wanted) in [("user_id", users), ("item_id", items)] {
        if wanted {
            let set = known(column)?;
            for (keep, id) in mask.iter_mut().zip(i64_values(test, column)?) {
                *keep &= set.contains(&id);
            }
        }
    }
    let mask: BooleanChunked = mask.into_iter().collect();
    Ok(test.filter(&mask)?)
}

/// Each user's last `n` interactions (by timestamp; among equal timestamps the later row of the
/// input counts as later) go to test, the rest to train; both keep the input order. A user with
/// `n` or fewer interactions ends up entirely in test.
pub fn last_n_split(ratings: &DataFrame, n: usize) -> Result<(DataFrame, DataFrame)> {
    if n == 0 {
        bail!("last-n split: n must be at least 1");
    }
    let users: Vec<i64> = i64_values(ratings, "user_id")?.collect();
    let times: Vec<i64> = i64_values(ratings, "timestamp")?.collect();
    let mut rows_by_user: HashMap<i64, Vec<usize>> = HashMap::new();
    for (row, user) in users.iter().enumerate() {
        rows_by_user.entry(*user).or_default().push(row);
    }
    let mut is_test = vec![false; users.len()];
    for rows in rows_by_user.values_mut() {
        rows.sort_by_key(|&r| (times[r], r));
        for &r in rows.iter().rev().take(n) {
            is_test[r] = true;
        }
    }
    let is_test: BooleanChunked = is_test.into_iter().collect();
    Ok((ratings.filter(&!&is_test)?, ratings.filter(&is_test)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(users: &[i64], items: &[i64], times: &[i64]) -> DataFrame {
        DataFrame::new_infer_height(vec![
            Column::new("user_id".into(), users),
            Column::new("item_id".into(), items),
            Column::new("timestamp".into(), times),
        ])
        .unwrap()
    }

    #[test]
    fn ties_at_the_threshold_go_to_test() {
        // 10 rows, fraction 0.2: position int(10 * 0.8) = 8 of the sorted timestamps, which is
        // 7; three rows share it, so test gets 4 rows instead of 2.
        let times = [5, 7, 1, 7, 2, 3, 7, 4, 6, 9];
        let df = table(&[1; 10], &(0..10).collect::<Vec<_>>(), &times);
        let s = TimeSplitter::new(0.2).unwrap();
        assert_eq!(s.threshold(&df).unwrap(), 7);
        let (train, test) = s.split(&df).unwrap();
        assert_eq!((train.height(), test.height()), (6, 4));
        let test_items: Vec<i64> = i64_values(&test, "item_id").unwrap().collect();
        assert_eq!(
            test_items,
            vec![1, 3, 6, 9],
            "sorted by time, ties in input order"
        );
    }

    #[test]
    fn cold_users_and_items_are_dropped_from_test() {
        let df = table(&[1, 2, 1, 3, 1], &[10, 20, 30, 10, 20], &[1, 2, 3, 4, 5]);
        let (train, test) = time_split_at(&df, 3).unwrap();
        assert_eq!(train.height(), 2);
        assert_eq!(
            drop_cold(&test, &train, true, true).unwrap().height(),
            1,
            "only (1, 20)"
        );
        assert_eq!(drop_cold(&test, &train, true, false).unwrap().height(), 2);
        assert_eq!(drop_cold(&test, &train, false, true).unwrap().height(), 2);
        assert!(TimeSplitter::new(1.0).is_err());
        assert!(fraction_threshold(&[], 0.2).is_err());
    }

    #[test]
    fn last_n_takes_each_users_latest() {
        let df = table(&[1, 1, 2, 1, 2], &[1, 2, 3, 4, 5], &[3, 9, 4, 9, 1]);
        let (train, test) = last_n_split(&df, 1).unwrap();
        let test_items: Vec<i64> = i64_values(&test, "item_id").unwrap().collect();
        assert_eq!(
            test_items,
            vec![3, 4],
            "user 1's tie at 9 goes to the later row"
        );
        assert_eq!(train.height(), 3);
        assert!(last_n_split(&df, 0).is_err());
    }
}
