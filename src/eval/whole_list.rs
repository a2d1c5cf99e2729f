//! Cornac's whole-list metrics ([`crate::eval::auc`]) from the score rows a full-ranking
//! evaluation already computes, a chunk of users at a time: the caller's scorer hands each
//! chunk's `[users, n_items]` scores here before ranking them, so AUC and MAP over the whole
//! list cost one pass over the rows and no second scoring.
//!
//! A test user's candidates are Cornac's (`cornac/eval_methods/base_method.py`,
//! `ranking_eval`): the positives are the user's relevant test items, the negatives every item
//! the model knows that is neither a train item of the user (the history, which the full
//! protocol never recommends) nor a test positive. With a relevance threshold the train items
//! rated at or below it are not in the history (binarized away), so they are negatives, as in
//! Cornac.
//!
//! Per user the work is `O(n_items · log |positives|)`: the positives are sorted once and each
//! negative is placed among them by binary search, which gives both the pairs it loses (AUC)
//! and, summed from the top, the negatives scored at least as high as each positive (AP).
//! The values equal [`crate::eval::auc::auc`] and [`crate::eval::auc::average_precision`]
//! on the same candidates (ties as there: a tie counts against the positive).

use anyhow::{bail, Result};
use tch::{Kind, Tensor};

use crate::eval::protocol::TestUser;

/// One test user's whole-list metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WholeList {
    /// The user's original id.
    pub user: i64,
    /// Cornac's AUC (ties count 0); `None` when the user has no negative (every item is a
    /// train or test item of the user).
    pub auc: Option<f64>,
    /// Cornac's average precision over the whole list of candidates.
    pub average_precision: f64,
}

/// The whole-list metrics of each user of `chunk` from `scores`, `[chunk.len(), n_items]` (any
/// float kind, any device). Fails on a score row of the wrong size, an item index out of
/// range or a score that is not finite.
pub fn whole_list_chunk(
    scores: &Tensor,
    chunk: &[TestUser],
    n_items: usize,
) -> Result<Vec<WholeList>> {
    let values: Vec<f32> = Vec::try_from(scores.to_kind(Kind::Float).reshape([-1]))?;
    if values.len() != chunk.len() * n_items {
        bail!(
            "the model scored {} values for {} users of {n_items} items",
            values.len(),
            chunk.len()
        );
    }
    let mut excluded = vec![false; n_items];
    chunk
        .iter()
        .zip(values.chunks(n_items.max(1)))
        .map(|(case, row)| whole_list_user(row, case, &mut excluded))
        .collect()
}

/// One user's whole-list metrics from the user's score row. `excluded` is scratch space of
/// `row.len()` falses, left all false.
pub fn whole_list_user(row: &[f32], case: &TestUser, excluded: &mut [bool]) -> Result<WholeList> {
    if case.relevant.is_empty() {
        bail!("user {} has no relevant item to score", case.user);
    }
    let index = |i: i64| -> Result<usize> {
        match usize::try_from(i).ok().filter(|&i| i < row.len()) {
            Some(i) => Ok(i),
            None => bail!("item {i} is outside the {} scored items", row.len()),
        }
    };
    if let Some(s) = row.iter().find(|s| !s.is_finite()) {
        bail!("a score of user {} is not finite ({s})", case.user);
    }
    let mut positives = Vec::with_capacity(case.relevant.len());
    let mut marked = Vec::with_capacity(case.relevant.len() + case.history.len());
    for (n, &i) in case.relevant.iter().chain(&case.history).enumerate() {
        let i = index(i)?;
        if !excluded[i] {
            excluded[i] = true;
            marked.push(i);
            if n < case.relevant.len() {
                positives.push(row[i] as f64);
            }
        }
    }
    positives.sort_by(f64::total_cmp);
    let p = positives.len();
    // below[m]: negatives with exactly m positives scored at or below them.
    let mut below = vec![0usize; p + 1];
    let (mut wins, mut negatives) = (0usize, 0usize);
    for (j, &s) in row.iter().enumerate() {
        if excluded[j] {
            continue;
        }
        let m = positives.partition_point(|&x| x <= s as f64);
        wins += p - m;
        below[m] += 1;
        negatives += 1;
    }
    for i in marked {
        excluded[i] = false;
    }
    // at_least[j]: negatives scored at least as high as the j-th positive (ascending), those
    // with more than j positives at or below them.
    let mut at_least = vec![0usize; p];
    let mut running = below[p];
    for j in (0..p).rev() {
        at_least[j] = running;
        running += below[j];
    }
    let total: f64 = positives
        .iter()
        .zip(&at_least)
        .map(|(&s, &n)| {
            let positives_above = p - positives.partition_point(|&x| x < s);
            positives_above as f64 / (positives_above + n) as f64
        })
        .sum();
    Ok(WholeList {
        user: case.user,
        auc: (negatives > 0).then(|| wins as f64 / (p as f64 * negatives as f64)),
        average_precision: total / p as f64,
    })
}

/// Mean AUC (over the users with a negative) and mean average precision (Cornac's MAP, over
/// every user) of `users`; NaN for none.
pub fn means(users: &[WholeList]) -> (f64, f64) {
    let aucs: Vec<f64> = users.iter().filter_map(|u| u.auc).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let aps: Vec<f64> = users.iter().map(|u| u.average_precision).collect();
    (mean(&aucs), mean(&aps))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::auc::{auc, average_precision};

    /// A small deterministic generator (64-bit LCG), for test rows with and without ties.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    #[test]
    fn equals_the_reference_functions_on_the_same_candidates() {
        let mut g = Lcg(42);
        let n = 60;
        let mut excluded = vec![false; n];
        for round in 0..200 {
            // every other round, scores on a coarse grid: many ties
            let levels = if round % 2 == 0 { 1 << 20 } else { 7 };
            let row: Vec<f32> = (0..n)
                .map(|_| (g.next() % levels) as f32 / levels as f32)
                .collect();
            let mut items: Vec<i64> = (0..n as i64).collect();
            for i in (1..n).rev() {
                items.swap(i, g.next() as usize % (i + 1));
            }
            let n_pos = 1 + g.next() as usize % 8;
            let n_hist = g.next() as usize % 15;
            let case = TestUser {
                user: round,
                index: Some(round),
                history: items[n_pos..n_pos + n_hist].to_vec(),
                relevant: items[..n_pos].to_vec(),
            };
            let pos: Vec<usize> = case.relevant.iter().map(|&i| i as usize).collect();
            let neg: Vec<usize> = items[n_pos + n_hist..]
                .iter()
                .map(|&i| i as usize)
                .collect();
            let got = whole_list_user(&row, &case, &mut excluded).unwrap();
            assert!(excluded.iter().all(|e| !e), "scratch left clean");
            let want_auc = auc(&row, &pos, &neg).unwrap();
            let want_ap = average_precision(&row, &pos, &neg).unwrap();
            assert!(
                (got.auc.unwrap() - want_auc).abs() < 1e-12,
                "{got:?} {want_auc}"
            );
            assert!(
                (got.average_precision - want_ap).abs() < 1e-12,
                "{got:?} {want_ap}"
            );
        }
    }

    #[test]
    fn a_chunk_of_users_and_their_means() {
        // two users over 4 items; user 1 has every item as train or test: no negative
        let scores =
            Tensor::from_slice(&[0.9f32, 0.1, 0.5, 0.3, 0.2, 0.4, 0.6, 0.8]).reshape([2, 4]);
        let users = [
            TestUser {
                user: 10,
                index: Some(0),
                history: vec![2],
                relevant: vec![0, 3],
            },
            TestUser {
                user: 11,
                index: Some(1),
                history: vec![0, 1],
                relevant: vec![2, 3],
            },
        ];
        let got = whole_list_chunk(&scores, &users, 4).unwrap();
        // user 10: candidates 0 (0.9, +), 3 (0.3, +), 1 (0.1, -): AUC 1, AP 1
        assert_eq!(got[0].auc, Some(1.0));
        assert_eq!(got[0].average_precision, 1.0);
        assert_eq!(got[1].auc, None);
        assert_eq!(got[1].average_precision, 1.0);
        assert_eq!(means(&got), (1.0, 1.0));
        assert!(whole_list_chunk(&scores, &users, 3).is_err());
        let nan = Tensor::from_slice(&[f32::NAN, 0.0, 0.0, 0.0]).reshape([1, 4]);
        assert!(whole_list_chunk(&nan, &users[..1], 4).is_err());
    }
}
