//! Surprise 1.1's data handling, replayed: the raw ratings of a `u.data`-style file in file
//! order (`Dataset.load_from_file` with `Reader("ml-100k")`), the folds of
//! `KFold(n_splits, random_state=seed)`, each train set with Surprise's inner ids, and the
//! errors as `surprise.accuracy` computes them (`np.mean`, numpy's pairwise sum).
//!
//! Surprise numbers users and items in the order they first appear in the train ratings; its
//! `all_ratings()` visits users in that order, each user's ratings in train order, and every
//! algorithm's loops follow it. A [`SurpriseFold`]'s [`TrainSet`] is built in those inner ids,
//! its rows in the train ratings' order, so the models of [`crate::classic`] see the same
//! numbering and (through [`super::funk_svd::by_user_order`]) the same visiting order.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::TrainSet;
use crate::rng::numpy::RandomState;

/// One rating as Surprise's reader returns it: raw user id, raw item id, rating.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRating {
    /// The user's id as written in the file.
    pub user: String,
    /// The item's id as written in the file.
    pub item: String,
    /// The rating (`float(r)`).
    pub rating: f64,
}

/// Read a tab-separated `user item rating timestamp` file (ml-100k's `u.data`), in file order.
pub fn read_raw_ratings(path: &Path) -> Result<Vec<RawRating>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read ratings file {}", path.display()))?;
    parse_raw_ratings(&text, path)
}

/// The ratings of `text`, a tab-separated `user item rating timestamp` file named `path`.
pub fn parse_raw_ratings(text: &str, path: &Path) -> Result<Vec<RawRating>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() < 3 {
            bail!(
                "{}:{}: expected `user<TAB>item<TAB>rating[<TAB>timestamp]`",
                path.display(),
                n + 1
            );
        }
        let rating: f64 = fields[2].trim().parse().map_err(|_| {
            anyhow::anyhow!(
                "{}:{}: rating {:?} is not a number",
                path.display(),
                n + 1,
                fields[2]
            )
        })?;
        out.push(RawRating {
            user: fields[0].trim().to_string(),
            item: fields[1].trim().to_string(),
            rating,
        });
    }
    if out.is_empty() {
        bail!("{}: no ratings", path.display());
    }
    Ok(out)
}

/// One fold of Surprise's `KFold`: the train set in Surprise's inner ids and the test ratings
/// in test order, with the inner ids of their user and item (`None`: unknown in train).
#[derive(Debug, Clone)]
pub struct SurpriseFold {
    /// Train ratings, indices = Surprise's inner ids, rows in train order.
    pub train: TrainSet,
    /// Test ratings: (inner user, inner item, rating), unknown ids as `None`.
    pub test: Vec<(Option<usize>, Option<usize>, f64)>,
}

impl SurpriseFold {
    /// `Dataset.construct_trainset` and `construct_testset` over these raw ratings.
    pub fn build(train: &[&RawRating], test: &[&RawRating]) -> Result<SurpriseFold> {
        let mut users: HashMap<&str, usize> = HashMap::new();
        let mut items: HashMap<&str, usize> = HashMap::new();
        let (mut us, mut is, mut vs) = (Vec::new(), Vec::new(), Vec::new());
        for r in train {
            let next = users.len();
            us.push(*users.entry(r.user.as_str()).or_insert(next) as i64);
            let next = items.len();
            is.push(*items.entry(r.item.as_str()).or_insert(next) as i64);
            vs.push(r.rating as f32);
            if f64::from(r.rating as f32) != r.rating {
                bail!(
                    "rating {} has no exact f32 value; the replay needs it",
                    r.rating
                );
            }
        }
        let train = TrainSet::new(users.len() as i64, items.len() as i64, us, is, vs)?;
        let test = test
            .iter()
            .map(|r| {
                (
                    users.get(r.user.as_str()).copied(),
                    items.get(r.item.as_str()).copied(),
                    r.rating,
                )
            })
            .collect();
        Ok(SurpriseFold { train, test })
    }
}

/// `KFold(n_splits, random_state=seed).split(data)`: `arange(n)` shuffled by
/// `RandomState(seed)`, cut into `n_splits` runs (the first `n % n_splits` one longer); each
/// run in turn is the test set, the rest (before it, then after it) the train set.
pub fn kfold(ratings: &[RawRating], n_splits: usize, seed: u32) -> Result<Vec<SurpriseFold>> {
    if n_splits < 2 || n_splits > ratings.len() {
        bail!(
            "KFold needs 2 <= n_splits <= {} ratings (got {n_splits})",
            ratings.len()
        );
    }
    let indices = RandomState::new(seed).permutation(ratings.len());
    let mut stop = 0;
    let mut folds = Vec::with_capacity(n_splits);
    for fold in 0..n_splits {
        let start = stop;
        stop += indices.len() / n_splits;
        if fold < indices.len() % n_splits {
            stop += 1;
        }
        let train: Vec<&RawRating> = indices[..start]
            .iter()
            .chain(&indices[stop..])
            .map(|&j| &ratings[j])
            .collect();
        let test: Vec<&RawRating> = indices[start..stop].iter().map(|&j| &ratings[j]).collect();
        folds.push(SurpriseFold::build(&train, &test)?);
    }
    Ok(folds)
}

/// numpy's pairwise summation of a contiguous float64 array (`DOUBLE_pairwise_sum`): eight
/// running sums over blocks of at most 128, halves (cut at a multiple of 8) above that.
pub fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for (k, rk) in r.iter_mut().enumerate() {
                *rk += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[i..] {
            res += x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        numpy_sum(&a[..n2]) + numpy_sum(&a[n2..])
    }
}

/// `np.mean` of a list of floats.
pub fn numpy_mean(a: &[f64]) -> f64 {
    numpy_sum(a) / a.len() as f64
}

/// `np.dot` of two float64 vectors as numpy's OpenBLAS computes it on x86-64 with AVX2
/// (its Haswell `ddot` kernel, the one it picks on Haswell and Zen cores): sixteen running
/// fused multiply-adds over the first `n & !15` elements, summed pairwise as the kernel's
/// vector registers fold, then the rest added one product at a time.
pub fn numpy_dot(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let n1 = n & !15;
    let mut dot = 0.0;
    if n1 > 0 {
        let mut acc = [0.0f64; 16];
        for j in 0..n1 {
            acc[j % 16] = x[j].mul_add(y[j], acc[j % 16]);
        }
        // Per 4-lane register: (a0 + a2, a1 + a3); then registers (0 + 1) + (2 + 3); then
        // the two lanes.
        let half = |r: usize| [acc[4 * r] + acc[4 * r + 2], acc[4 * r + 1] + acc[4 * r + 3]];
        let (r0, r1, r2, r3) = (half(0), half(1), half(2), half(3));
        let a = [r0[0] + r1[0], r0[1] + r1[1]];
        let b = [r2[0] + r3[0], r2[1] + r3[1]];
        dot = (a[0] + b[0]) + (a[1] + b[1]);
    }
    for j in n1..n {
        dot += y[j] * x[j];
    }
    dot
}

/// `x ** 2` as Python computes it: the C library's `pow(x, 2.0)`. The exponent is hidden
/// from the compiler, which would otherwise make `x * x` of it (the two can differ in the
/// last bit).
fn python_square(x: f64) -> f64 {
    x.powf(std::hint::black_box(2.0))
}

/// `surprise.accuracy.rmse` and `mae` of estimates against the true ratings.
pub fn rmse_mae(truth: &[f64], estimates: &[f64]) -> (f64, f64) {
    let sq: Vec<f64> = truth
        .iter()
        .zip(estimates)
        .map(|(t, e)| python_square(t - e))
        .collect();
    let abs: Vec<f64> = truth
        .iter()
        .zip(estimates)
        .map(|(t, e)| (t - e).abs())
        .collect();
    (numpy_mean(&sq).sqrt(), numpy_mean(&abs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_mean_equals_numpy() {
        let fixtures = include_str!("../rng/numpy_fixtures.txt");
        let mut lines = fixtures.lines();
        let header = lines
            .by_ref()
            .find(|l| l.starts_with("# mean of random_sample(n) seed 1"))
            .unwrap();
        let sizes: Vec<usize> = header
            .rsplit(" in ")
            .next()
            .unwrap()
            .split(' ')
            .map(|s| s.parse().unwrap())
            .collect();
        for (n, line) in sizes.iter().zip(lines) {
            let mut rs = RandomState::new(1);
            let a: Vec<f64> = (0..*n).map(|_| rs.random_sample()).collect();
            assert_eq!(numpy_mean(&a), line.parse::<f64>().unwrap(), "n {n}");
        }
    }

    #[test]
    fn numpy_dot_equals_numpy() {
        let fixtures = include_str!("../rng/numpy_fixtures.txt");
        let mut lines = fixtures.lines();
        lines
            .by_ref()
            .find(|l| l.starts_with("# dot of normal(0, 1, n) pairs seed 5"))
            .unwrap();
        let mut rs = RandomState::new(5);
        for n in [15, 20, 100, 37] {
            for _ in 0..5 {
                let x = rs.normal_n(0.0, 1.0, n);
                let y = rs.normal_n(0.0, 1.0, n);
                let theirs: f64 = lines.next().unwrap().parse().unwrap();
                assert_eq!(numpy_dot(&x, &y), theirs, "n {n}");
            }
        }
    }

    #[test]
    fn kfold_cuts_runs_and_numbers_ids_by_first_appearance() {
        let raw: Vec<RawRating> = (0..11)
            .map(|j| RawRating {
                user: format!("u{}", j % 3),
                item: format!("i{}", j % 4),
                rating: 1.0 + (j % 5) as f64,
            })
            .collect();
        let folds = kfold(&raw, 3, 0).unwrap();
        // 11 ratings in 3 folds: 4, 4, 3 test ratings.
        let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
        assert_eq!(sizes, vec![4, 4, 3]);
        for f in &folds {
            assert_eq!(f.train.len() + f.test.len(), 11);
            // Inner ids count up from 0 in order of first appearance.
            let mut seen = 0;
            for &u in &f.train.users {
                assert!(u <= seen);
                seen = seen.max(u + 1);
            }
        }
        assert!(kfold(&raw, 1, 0).is_err());
    }
}
