//! The full-ranking and sampled protocols in bounded memory, for any scorer: users are scored
//! a chunk at a time and each user keeps only a top-k heap, so that 162k users × 59k items
//! (ML-25M, 38 GB of scores at once) evaluate in a few hundred megabytes.

use std::collections::HashSet;

use anyhow::{bail, Result};
use tch::{Kind, Tensor};

use crate::eval::metrics::{ensure_finite, ranking_metrics, Lists, RankingMetrics, Truth};
use crate::eval::protocol::TestUser;
use crate::eval::sampled::SampledCandidates;
use crate::runtime::progress::Progress;

/// Both ranking protocols' outcome, from [`rank_in_chunks`].
#[derive(Debug, Clone)]
pub struct Ranked {
    /// Each test user's top-k list under the full protocol.
    pub lists: Lists,
    /// The full protocol's metrics.
    pub full: RankingMetrics,
    /// The sampled protocol's negatives per user and metrics (when negatives were asked for).
    pub sampled: Option<(usize, RankingMetrics)>,
}

/// Users scored per chunk: at most about 2^24 scores (64 MB) at once, at least one user.
pub fn chunk_users(n_items: usize) -> usize {
    ((1usize << 24) / n_items.max(1)).clamp(1, 4096)
}

/// The full-ranking and sampled protocols of [`crate::eval::protocol`]
/// ([`crate::eval::protocol::full_ranking`], [`crate::eval::protocol::sampled_ranking`]: the
/// same numbers), in bounded memory: the sampled candidates are drawn first
/// ([`SampledCandidates::sample_uniform`] from `seed`: scoring draws nothing; none when
/// `n_negatives` is 0), then `score` gives the scores of every
/// item for a chunk of users ([`chunk_users`] of them), `[chunk, n_items]` as `f32` on the CPU,
/// and each chunk leaves only its top-k lists (history excluded) and the scores of its sampled
/// candidates. No `[users, items]` matrix is ever held.
pub fn rank_in_chunks(
    score: &mut dyn FnMut(&[TestUser]) -> Result<Tensor>,
    cases: &[TestUser],
    n_items: usize,
    k: usize,
    n_negatives: usize,
    seed: u64,
) -> Result<Ranked> {
    let min_pool = cases
        .iter()
        .map(|c| n_items.saturating_sub(c.relevant.iter().collect::<HashSet<_>>().len()))
        .min()
        .unwrap_or(0);
    let negatives = n_negatives.min(min_pool);
    let candidates = if n_negatives > 0 {
        // The draws are Rust's (O(negatives) a user); the generator is still seeded, so that
        // what libtorch draws after an evaluation does not depend on what ran before it.
        tch::manual_seed(seed as i64);
        Some(SampledCandidates::sample_uniform(
            cases.iter().map(|c| c.user).collect(),
            cases.iter().map(|c| c.relevant.clone()).collect(),
            n_items,
            negatives,
            seed,
        )?)
    } else {
        None
    };
    let mut lists = Lists::new();
    let mut pair_scores = Vec::new();
    let progress = Progress::new(cases.len() as u64, "ranking", "users");
    let per_chunk = chunk_users(n_items);
    let mut seen = vec![false; n_items];
    for (c, chunk) in cases.chunks(per_chunk).enumerate() {
        let scores: Vec<f32> = Vec::try_from(score(chunk)?.to_kind(Kind::Float).reshape([-1]))?;
        if scores.len() != chunk.len() * n_items {
            bail!(
                "the model scored {} values for {} users of {n_items} items",
                scores.len(),
                chunk.len()
            );
        }
        for (j, (case, row)) in chunk.iter().zip(scores.chunks(n_items)).enumerate() {
            ensure_finite(row)?;
            let top = top_k_unseen(row, &case.history, &mut seen, k);
            lists.insert(case.user, top.into_iter().map(|i| i as i64).collect());
            if let Some(candidates) = &candidates {
                let u = c * per_chunk + j;
                let (pos, neg) = (&candidates.positives[u], &candidates.negatives[u]);
                pair_scores.extend(pos.iter().chain(neg).map(|&i| row[i as usize]));
            }
        }
        progress.inc(chunk.len() as u64);
    }
    progress.finish();
    let truth: Truth = cases
        .iter()
        .map(|c| (c.user, c.relevant.iter().copied().collect()))
        .collect();
    let all_items: HashSet<i64> = (0..n_items as i64).collect();
    let full = ranking_metrics(&lists, &truth, k, Some(&all_items))?;
    let sampled = match &candidates {
        Some(candidates) => {
            let sampled_lists: Lists = cases
                .iter()
                .map(|c| c.user)
                .zip(candidates.ranked(&pair_scores, k)?)
                .collect();
            let m = ranking_metrics(&sampled_lists, &truth, k, Some(&all_items))?;
            Some((negatives, m))
        }
        None => None,
    };
    Ok(Ranked {
        lists,
        full,
        sampled,
    })
}

/// An item of a top-k heap: its greater is the worse item (a lower score, or an equal score
/// and a higher index), so the heap's top is the worst kept.
#[derive(PartialEq)]
struct Kept(f32, usize);

impl Eq for Kept {}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Kept {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .0
            .partial_cmp(&self.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(self.1.cmp(&other.1))
    }
}

/// The `k` best items of a finite `row` outside `history`, best first (higher score, then lower
/// index): [`crate::eval::metrics::top_k_excluding`]'s list, in one pass over the row with a
/// heap of `k`, without copying it. `row` must be finite (a NaN would be passed over).
/// `seen` is an all-false scratch mask of the row's length, left all false.
fn top_k_unseen(row: &[f32], history: &[i64], seen: &mut [bool], k: usize) -> Vec<usize> {
    for &i in history {
        if let Some(s) = seen.get_mut(i as usize) {
            *s = true;
        }
    }
    let mut heap = std::collections::BinaryHeap::with_capacity(k.min(row.len()) + 1);
    // Once the heap is full, the worst kept score: an item scoring no more is worse than every
    // kept one (lower, or equal with a higher index, the row being read in index order), and is
    // passed over with one comparison, as nearly every item of a long row is.
    let mut floor = f32::NEG_INFINITY;
    for (i, &score) in row.iter().enumerate() {
        if score <= floor || seen[i] {
            continue;
        }
        let item = Kept(score, i);
        if heap.len() < k {
            heap.push(item);
        } else if heap.peek().is_some_and(|worst| item < *worst) {
            heap.pop();
            heap.push(item);
        }
        if heap.len() == k {
            floor = heap.peek().map_or(floor, |worst| worst.0);
        }
    }
    for &i in history {
        if let Some(s) = seen.get_mut(i as usize) {
            *s = false;
        }
    }
    heap.into_sorted_vec()
        .into_iter()
        .map(|kept| kept.1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::metrics::top_k_excluding;

    #[test]
    fn heap_top_k_is_the_library_top_k() {
        // Ties (1.0 three times, 0.0 and -0.0), excluded items, k beyond what is left.
        let row = [0.5f32, 1.0, -2.0, 1.0, 0.0, 3.0, -0.0, 1.0, 0.25];
        let mut seen = vec![false; row.len()];
        for history in [vec![], vec![5], vec![1, 5, 8], vec![0, 1, 2, 3, 4, 5, 6, 7]] {
            for k in [1, 2, 3, 4, 6, 9, 12] {
                let expect = top_k_excluding(&row, history.iter().map(|&i| i as usize), k);
                let got = top_k_unseen(&row, &history, &mut seen, k);
                assert_eq!(got, expect, "history {history:?}, k {k}");
                assert!(seen.iter().all(|s| !s));
            }
        }
        // A long row of many ties: the floor passes over equal scores only after the kept ones.
        let long: Vec<f32> = (0..300).map(|i| ((i * 7919) % 13) as f32 - 6.0).collect();
        let mut seen = vec![false; long.len()];
        for history in [vec![], vec![12, 25, 38, 299]] {
            for k in [1, 5, 17, 40] {
                let expect = top_k_excluding(&long, history.iter().map(|&i| i as usize), k);
                assert_eq!(top_k_unseen(&long, &history, &mut seen, k), expect, "k {k}");
            }
        }
        let mut seen = vec![false; row.len()];
        // By hand: 3.0 (5), then the 1.0s in index order.
        assert_eq!(top_k_unseen(&row, &[], &mut seen, 3), vec![5, 1, 3]);
    }
}
