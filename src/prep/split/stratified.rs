//! The stratified ratio split of Microsoft Recommenders' `python_stratified_split`
//! (`recommenders/datasets/python_splitters.py`): per user (`filter_by="user"`,
//! [`stratified_split`]) or per item (`filter_by="item"`, [`stratified_split_by_item`], what
//! their benchmark notebook uses on MovieLens).
//!
//! Each user's (or item's) interactions are put in a random order (one `randperm` over all rows from
//! libtorch's CPU generator gives every row a random key; rows are sorted by user, then key),
//! and the first `round((1 - test_fraction) * count)` of them go to train, the rest to test.
//! The rounding is Python's `round` on the pandas column, which is NumPy's round half to even:
//! a user with 5 interactions and `test_fraction` 0.5 keeps `round(2.5) = 2` in train and gives 3
//! to test. So a user with few interactions can end up wholly in train (2 interactions at test
//! fraction 0.2: `round(1.6) = 2` train, 0 test), as in Microsoft's splitter; every user with
//! at least one interaction on each side of the rounding keeps both sides.

use anyhow::{bail, Result};
use polars::prelude::*;
use tch::{Device, Kind, Tensor};

use crate::prep::i64_values;

/// How many of a user's `count` interactions go to train: `round((1 - test_fraction) * count)`,
/// ties to even (NumPy's rounding, which Microsoft Recommenders' splitter uses).
pub fn stratified_train_count(count: usize, test_fraction: f64) -> usize {
    ((1.0 - test_fraction) * count as f64).round_ties_even() as usize
}

/// Row indices `(train, test)` of the per-user stratified split of rows whose users are
/// `users`; both lists ascending. Draws one `randperm(users.len())`.
pub fn stratified_split_indices(
    users: &[i64],
    test_fraction: f64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        bail!("stratified split: the test fraction must be strictly between 0 and 1, got {test_fraction}");
    }
    let keys: Vec<i64> = Vec::try_from(Tensor::randperm(
        users.len() as i64,
        (Kind::Int64, Device::Cpu),
    ))?;
    let mut order: Vec<usize> = (0..users.len()).collect();
    order.sort_unstable_by_key(|&r| (users[r], keys[r]));
    let mut is_test = vec![false; users.len()];
    for group in order.chunk_by(|&a, &b| users[a] == users[b]) {
        let n_train = stratified_train_count(group.len(), test_fraction);
        for &r in &group[n_train..] {
            is_test[r] = true;
        }
    }
    let (test, train): (Vec<usize>, Vec<usize>) = (0..users.len()).partition(|&r| is_test[r]);
    Ok((train, test))
}

/// The per-user stratified split of a ratings table: `(train, test)`, each in input order.
pub fn stratified_split(ratings: &DataFrame, test_fraction: f64) -> Result<(DataFrame, DataFrame)> {
    stratified_split_on(ratings, "user_id", test_fraction)
}

/// The per-item stratified split of a ratings table (`filter_by="item"`): each item's
/// interactions are shuffled and the first `round((1 - test_fraction) * count)` go to train,
/// with the same rounding as [`stratified_split`]. An item with a single interaction stays
/// in train at any `test_fraction` below 0.5; a user may end up with no train interaction (the
/// evaluation then drops the user, as Microsoft's evaluation, which only ranks for train
/// users, does). `(train, test)`, each in input order.
pub fn stratified_split_by_item(
    ratings: &DataFrame,
    test_fraction: f64,
) -> Result<(DataFrame, DataFrame)> {
    stratified_split_on(ratings, "item_id", test_fraction)
}

/// The stratified split grouped by the id column `by`.
fn stratified_split_on(
    ratings: &DataFrame,
    by: &str,
    test_fraction: f64,
) -> Result<(DataFrame, DataFrame)> {
    let groups: Vec<i64> = i64_values(ratings, by)?.collect();
    let (_, test) = stratified_split_indices(&groups, test_fraction)?;
    split_by_rows(ratings, &test)
}

/// `(rows not in test_rows, rows in test_rows)` of `df`, each in input order.
pub fn split_by_rows(df: &DataFrame, test_rows: &[usize]) -> Result<(DataFrame, DataFrame)> {
    let mut is_test = vec![false; df.height()];
    for &r in test_rows {
        is_test[r] = true;
    }
    let mask: BooleanChunked = is_test.into_iter().collect();
    Ok((df.filter(&!&mask)?, df.filter(&mask)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn counts_round_half_to_even_like_numpy() {
        // (1 - f) * count, rounded as np.round: 2.5 -> 2, 3.5 -> 4, 1.6 -> 2, 0.5 -> 0
        assert_eq!(stratified_train_count(5, 0.5), 2);
        assert_eq!(stratified_train_count(7, 0.5), 4);
        assert_eq!(stratified_train_count(2, 0.2), 2);
        assert_eq!(stratified_train_count(1, 0.5), 0);
        assert_eq!(stratified_train_count(10, 0.2), 8);
        assert_eq!(stratified_train_count(4, 0.25), 3);
    }

    #[test]
    fn every_user_is_split_by_its_own_fraction() {
        tch::manual_seed(7);
        // user u has u + 1 interactions, u = 1..=9
        let users: Vec<i64> = (1..=9)
            .flat_map(|u| std::iter::repeat_n(u, u as usize + 1))
            .collect();
        let (train, test) = stratified_split_indices(&users, 0.5).unwrap();
        assert_eq!(train.len() + test.len(), users.len());
        let count = |rows: &[usize]| {
            let mut c: HashMap<i64, usize> = HashMap::new();
            for &r in rows {
                *c.entry(users[r]).or_default() += 1;
            }
            c
        };
        let (tr, te) = (count(&train), count(&test));
        for u in 1..=9i64 {
            let n = u as usize + 1;
            // by hand: n = 2..=10 at 0.5 -> train 1, 2 (1.5 -> 2), 2, 2 (2.5 -> 2), 3, 4 (3.5), 4, 4 (4.5), 5
            let want = [1, 2, 2, 2, 3, 4, 4, 4, 5][u as usize - 1];
            assert_eq!(tr[&u], want, "user {u} with {n}");
            assert_eq!(te[&u], n - want, "user {u} with {n}");
        }
        // another seed draws other rows, the same counts
        tch::manual_seed(8);
        let (train2, _) = stratified_split_indices(&users, 0.5).unwrap();
        assert_ne!(train, train2);
        assert_eq!(count(&train2), tr);
        assert!(stratified_split_indices(&users, 1.0).is_err());
    }

    #[test]
    fn every_item_is_split_by_its_own_fraction() {
        tch::manual_seed(3);
        // item i has 2 * i interactions from users 0..2i, i = 1..=6; users 100.. rate item 7 once
        let mut rows: Vec<(i64, i64)> = (1..=6i64)
            .flat_map(|i| (0..2 * i).map(move |u| (u, i)))
            .collect();
        rows.push((100, 7));
        let df = df!(
            "user_id" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "item_id" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "rating" => vec![4.0; rows.len()],
        )
        .unwrap();
        let (train, test) = stratified_split_by_item(&df, 0.25).unwrap();
        assert_eq!(train.height() + test.height(), df.height());
        let count = |d: &DataFrame| {
            let mut c: HashMap<i64, usize> = HashMap::new();
            for i in i64_values(d, "item_id").unwrap() {
                *c.entry(i).or_default() += 1;
            }
            c
        };
        let (tr, te) = (count(&train), count(&test));
        for i in 1..=6i64 {
            let n = 2 * i as usize;
            let want = stratified_train_count(n, 0.25);
            // by hand: 2 -> round(1.5) = 2, 4 -> 3, 6 -> round(4.5) = 4, 8 -> 6, 10 -> round(7.5) = 8, 12 -> 9
            assert_eq!(want, [2, 3, 4, 6, 8, 9][i as usize - 1]);
            assert_eq!(tr[&i], want, "item {i} with {n}");
            assert_eq!(
                te.get(&i).copied().unwrap_or(0),
                n - want,
                "item {i} with {n}"
            );
        }
        // a single interaction stays in train
        assert_eq!((tr[&7], te.get(&7)), (1, None));
        assert!(stratified_split_by_item(&df, 0.0).is_err());
    }
}
