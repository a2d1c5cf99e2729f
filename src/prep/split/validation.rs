//! A validation part carved from train, by the same kind of split as the test part, so settings
//! (epochs, learning rate, ...) are chosen on validation and test is looked at once.
//!
//! [`carve_validation`] splits a train table again: a random `fraction` of its rows, a per-user
//! stratified `fraction`, the latest `fraction` of its timeline, each user's last `n`, or a
//! `fraction` of its users, as [`ValidationSplit`] says.

use anyhow::{bail, Result};
use polars::prelude::*;

use super::random::{draw_hash_seed, random_split_indices, user_in_test};
use super::stratified::{split_by_rows, stratified_split};
use super::time::{last_n_split, TimeSplitter};
use crate::prep::i64_values;

/// How validation is carved from train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidationSplit {
    /// A random `fraction` of the train rows (one `randperm`).
    Random,
    /// Each user's stratified `fraction` ([`stratified_split`]).
    Stratified,
    /// The latest `fraction` of train's timeline (RePlay's `TimeSplitter`).
    Time,
    /// Each user's last `n` train interactions.
    LastN(usize),
    /// A `fraction` of the users, with all their train rows (Spotlight's user-based split).
    User,
}

/// `(train, validation)` carved from `train`. Random draws come from libtorch's CPU generator,
/// right after the test split's, so a seed reproduces both.
pub fn carve_validation(
    train: &DataFrame,
    kind: ValidationSplit,
    fraction: f64,
) -> Result<(DataFrame, DataFrame)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        bail!("the validation fraction must be strictly between 0 and 1, got {fraction}");
    }
    match kind {
        ValidationSplit::Random => {
            let (_, rows) = random_split_indices(train.height(), fraction);
            split_by_rows(train, &rows)
        }
        ValidationSplit::Stratified => stratified_split(train, fraction),
        ValidationSplit::Time => TimeSplitter::new(fraction)?.split(train),
        ValidationSplit::LastN(n) => last_n_split(train, n),
        ValidationSplit::User => {
            let seed = draw_hash_seed();
            let rows: Vec<usize> = i64_values(train, "user_id")?
                .enumerate()
                .filter(|&(_, u)| user_in_test(u, seed, fraction))
                .map(|(r, _)| r)
                .collect();
            split_by_rows(train, &rows)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(users: &[i64], times: &[i64]) -> DataFrame {
        let items: Vec<i64> = (0..users.len() as i64).collect();
        DataFrame::new_infer_height(vec![
            Column::new("user_id".into(), users),
            Column::new("item_id".into(), items),
            Column::new("timestamp".into(), times),
        ])
        .unwrap()
    }

    #[test]
    fn validation_is_carved_by_the_test_splits_kind() {
        tch::manual_seed(5);
        let users: Vec<i64> = (0..40).map(|r| r % 4).collect();
        let times: Vec<i64> = (0..40).collect();
        let df = table(&users, &times);
        let (tr, va) = carve_validation(&df, ValidationSplit::Random, 0.25).unwrap();
        assert_eq!(
            (tr.height(), va.height()),
            (30, 10),
            "int(0.75 * 40) = 30 train"
        );
        let (tr, va) = carve_validation(&df, ValidationSplit::LastN(2), 0.5).unwrap();
        assert_eq!((tr.height(), va.height()), (32, 8), "2 of each of 4 users");
        let (_, va) = carve_validation(&df, ValidationSplit::Time, 0.1).unwrap();
        let latest: Vec<i64> = i64_values(&va, "timestamp").unwrap().collect();
        assert_eq!(latest, vec![36, 37, 38, 39]);
        let (tr, va) = carve_validation(&df, ValidationSplit::Stratified, 0.2).unwrap();
        assert_eq!(
            (tr.height(), va.height()),
            (32, 8),
            "each user: round(0.8 * 10) = 8 train"
        );
        let (tr, va) = carve_validation(&df, ValidationSplit::User, 0.5).unwrap();
        assert_eq!(tr.height() + va.height(), 40);
        assert!(carve_validation(&df, ValidationSplit::Random, 0.0).is_err());
    }
}
