//! Cornac's `RatioSplit` (`cornac/eval_methods/ratio_split.py`), draw for draw: numpy's legacy
//! `RandomState(seed).permutation(n)` of the rows, the first `n - ceil(test_fraction · n)` of
//! the permutation to train and the last `ceil(test_fraction · n)` to test, each side in the
//! permutation's order (Cornac numbers users and items by first appearance in that order).
//!
//! numpy's legacy generator is MT19937 seeded by `init_genrand(seed)` (the seeding libtorch's
//! engine uses too, [`Mt19937::new`]); `permutation` shuffles `arange(n)` by Fisher–Yates from
//! the end, each swap partner drawn by `random_interval(i)`: 32-bit words masked to the
//! smallest all-ones mask covering `i`, redrawn while above `i` (numpy's
//! `random/src/distributions/distributions.c`).

use anyhow::{bail, Result};
use polars::prelude::*;

use crate::rng::Mt19937;

/// numpy's `RandomState(seed).permutation(n)` for a seed below 2^32.
pub fn numpy_permutation(n: usize, seed: u32) -> Vec<usize> {
    let mut mt = Mt19937::new(u64::from(seed));
    let mut x: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = random_interval(&mut mt, i as u64) as usize;
        x.swap(i, j);
    }
    x
}

/// numpy's `random_interval(max)` for `max` below 2^32: a uniform draw in `0..=max` by
/// rejection of masked 32-bit words.
fn random_interval(mt: &mut Mt19937, max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let mut mask = max;
    for shift in [1, 2, 4, 8, 16, 32] {
        mask |= mask >> shift;
    }
    loop {
        let value = u64::from(mt.next_u32()) & mask;
        if value <= max {
            return value;
        }
    }
}

/// The test size of `RatioSplit.validate_size` without validation: `ceil(test_fraction · n)`.
pub fn ratio_test_size(n: usize, test_fraction: f64) -> usize {
    (test_fraction * n as f64).ceil() as usize
}

/// Cornac's `RatioSplit(test_size=test_fraction, seed=seed)` of `ratings`, rows in the
/// permutation's order on each side. Fails when a side would be empty.
pub fn cornac_ratio_split(
    ratings: &DataFrame,
    test_fraction: f64,
    seed: u64,
) -> Result<(DataFrame, DataFrame)> {
    let Ok(seed) = u32::try_from(seed) else {
        bail!("--seed {seed}: Cornac's RatioSplit seeds numpy's RandomState, which takes a seed below 2^32");
    };
    let n = ratings.height();
    let test_size = ratio_test_size(n, test_fraction);
    if test_size == 0 || test_size >= n {
        bail!("the cornac-ratio split of {n} ratings at --test-fraction {test_fraction} leaves a side empty");
    }
    let perm = numpy_permutation(n, seed);
    let (train, test) = perm.split_at(n - test_size);
    let take = |rows: &[usize]| -> Result<DataFrame> {
        let idx = IdxCa::from_vec("row".into(), rows.iter().map(|&r| r as IdxSize).collect());
        Ok(ratings.take(&idx)?)
    };
    Ok((take(train)?, take(test)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_numpys() {
        // np.random.RandomState(123).permutation(10), and (0).permutation(7)
        assert_eq!(
            numpy_permutation(10, 123),
            vec![4, 0, 7, 5, 8, 3, 1, 6, 9, 2]
        );
        assert_eq!(numpy_permutation(7, 0), vec![6, 2, 1, 3, 0, 5, 4]);
        assert_eq!(ratio_test_size(100_000, 0.2), 20_000);
        assert_eq!(ratio_test_size(11, 0.2), 3);
    }
}
