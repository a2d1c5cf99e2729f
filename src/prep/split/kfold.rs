//! K-fold cross-validation over interactions, as scikit-learn's `KFold(shuffle=True)` cuts them:
//! one seeded permutation of the rows (libtorch's `randperm`) cut into `k` consecutive folds, the
//! first `n % k` of them one row longer. Fold `i` is the test part of round `i` and the other
//! folds its train part, so across the `k` rounds every row is in exactly one test fold.

use anyhow::{bail, Result};
use tch::{Device, Kind, Tensor};

/// The `k` test folds of `n` rows (each ascending), from one `randperm(n)`.
pub fn kfold_folds(n: usize, k: usize) -> Result<Vec<Vec<usize>>> {
    if k < 2 {
        bail!("k-fold: at least 2 folds are needed, got {k}");
    }
    if k > n {
        bail!("k-fold: {k} folds need at least {k} rows, the data has {n}");
    }
    let perm: Vec<i64> = Vec::try_from(Tensor::randperm(n as i64, (Kind::Int64, Device::Cpu)))?;
    let mut folds = Vec::with_capacity(k);
    let mut start = 0;
    for i in 0..k {
        let len = n / k + usize::from(i < n % k);
        let mut fold: Vec<usize> = perm[start..start + len]
            .iter()
            .map(|&r| r as usize)
            .collect();
        fold.sort_unstable();
        folds.push(fold);
        start += len;
    }
    Ok(folds)
}

/// Row indices `(train, test)` of round `fold` (0-based) of a `k`-fold split of `n` rows.
pub fn kfold_split_indices(n: usize, k: usize, fold: usize) -> Result<(Vec<usize>, Vec<usize>)> {
    if fold >= k {
        bail!(
            "k-fold: fold {fold} is out of range for {k} folds (0 to {})",
            k - 1
        );
    }
    let mut folds = kfold_folds(n, k)?;
    let test = std::mem::take(&mut folds[fold]);
    let mut train: Vec<usize> = folds.into_iter().flatten().collect();
    train.sort_unstable();
    Ok((train, test))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_in_exactly_one_test_fold() {
        tch::manual_seed(3);
        let folds = kfold_folds(103, 5).unwrap();
        let sizes: Vec<usize> = folds.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![21, 21, 21, 20, 20], "103 = 3 * 21 + 2 * 20");
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        // the same seed gives the same folds, so the rounds of one seed partition the data
        for (fold, want) in folds.iter().enumerate() {
            tch::manual_seed(3);
            let (train, test) = kfold_split_indices(103, 5, fold).unwrap();
            assert_eq!(&test, want);
            assert_eq!(train.len() + test.len(), 103);
            assert!(train.iter().all(|r| !test.contains(r)));
        }
        assert!(kfold_split_indices(10, 5, 5).is_err());
        assert!(kfold_folds(10, 1).is_err());
        assert!(kfold_folds(3, 4).is_err());
    }
}
