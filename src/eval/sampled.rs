//! The sampled-candidates protocol (notebook 000): each test user's test positives ranked
//! among a fixed number of sampled negative items.
//!
//! Implicit data holds only positives (a user interacted with an item); the training negatives
//! are [`crate::train::negatives`]. Evaluation ranks, for each test
//! user, that user's test positives among a fixed number of sampled negative items
//! ([`sample_test_negatives`], [`SampledCandidates`], [`SampledCandidates::ranked`]), and
//! averages notebook 000's metrics over users at several cutoffs
//! ([`SampledCandidates::evaluate`]); the CLI averages RePlay's at one cutoff instead
//! ([`crate::eval::protocol::sampled_ranking`]).
//!
//! Two ways to draw the negatives, the same distribution (each user's negatives uniform over
//! the ordered subsets of the pool, without replacement):
//! - [`sample_test_negatives`] (notebook 000, [`SampledCandidates::sample`]): one `randperm`
//!   over the user's whole pool on libtorch's generator, so a PyTorch script making the same
//!   calls in the same order after `torch.manual_seed` draws the same negatives; O(items) a user.
//! - [`sample_negatives_by_rejection`] (the command line's protocol,
//!   [`SampledCandidates::sample_uniform`]): uniform item draws from a Mersenne Twister seeded
//!   by the run's seed, an item drawn again or excluded drawn anew; O(negatives) a user, the
//!   same negatives for the same seed, but not the notebook's draws.

use std::collections::{HashMap, HashSet};

use anyhow::{bail, Result};
use tch::{Device, Kind, Tensor};

use crate::eval::metrics;
use crate::rng::Mt19937;
use crate::runtime::progress::Progress;

/// Which items a test user's negatives may be drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum NegativePool {
    /// Every train item except the user's test positives (notebook 000: the negatives may
    /// include items the user liked in train).
    NotTestPositive,
    /// Every train item the user never interacted with, in train or test (corrected).
    NeverInteracted,
}

/// For each user, `n_negatives` distinct items drawn without replacement from `0..n_items`
/// minus `excluded[user]`.
///
/// The pool is the item indices in increasing order; one `randperm(pool size)` on the CPU
/// generator per user, in the order of `excluded`, picks its first `n_negatives` entries.
/// Fails when a user's pool holds fewer than `n_negatives` items.
pub fn sample_test_negatives(
    n_items: i64,
    excluded: &[HashSet<i64>],
    n_negatives: usize,
) -> Result<Vec<Vec<i64>>> {
    excluded
        .iter()
        .enumerate()
        .map(|(u, skip)| {
            let pool: Vec<i64> = (0..n_items).filter(|i| !skip.contains(i)).collect();
            if pool.len() < n_negatives {
                bail!(
                    "test user #{u}: only {} candidate negatives, {n_negatives} requested",
                    pool.len()
                );
            }
            let perm = Tensor::randperm(pool.len() as i64, (Kind::Int64, Device::Cpu));
            let picks: Vec<i64> = Vec::try_from(perm.narrow(0, 0, n_negatives as i64))?;
            Ok(picks.into_iter().map(|p| pool[p as usize]).collect())
        })
        .collect()
}

/// A uniform draw from `0..n` (`n > 0`): Lemire's multiply-and-shift of a 32-bit word, with the
/// rejection that removes its bias.
fn below(mt: &mut Mt19937, n: u32) -> u32 {
    let mut wide = u64::from(mt.next_u32()) * u64::from(n);
    if (wide as u32) < n {
        let threshold = n.wrapping_neg() % n;
        while (wide as u32) < threshold {
            wide = u64::from(mt.next_u32()) * u64::from(n);
        }
    }
    (wide >> 32) as u32
}

/// For each user, `n_negatives` distinct items drawn uniformly without replacement from
/// `0..n_items` minus `excluded[user]`: [`sample_test_negatives`]'s distribution, in
/// O(negatives) a user rather than O(items).
///
/// One [`Mt19937`] seeded with `seed` draws for the users in order. While the pool holds at
/// least twice `n_negatives` items, each negative is a uniform item drawn again until it is
/// neither excluded nor already picked (at most two draws a negative on average when the
/// excluded items are at most half of all); a smaller pool is shuffled instead (the first
/// `n_negatives` steps of a Fisher-Yates shuffle of the pool). Fails when a user's pool holds
/// fewer than `n_negatives` items. `progress` counts the users.
pub fn sample_negatives_by_rejection(
    n_items: usize,
    excluded: &[Vec<i64>],
    n_negatives: usize,
    seed: u64,
    progress: &Progress,
) -> Result<Vec<Vec<i64>>> {
    let Ok(n_items32) = u32::try_from(n_items) else {
        bail!("{n_items} items: the sampled protocol draws among at most 2^32 items");
    };
    let mut mt = Mt19937::new(seed);
    // Excluded or already picked, for the current user; cleared after each.
    let mut taken = vec![false; n_items];
    let mut out = Vec::with_capacity(excluded.len());
    for (u, skip) in excluded.iter().enumerate() {
        let mut n_skipped = 0;
        for &i in skip {
            if let Some(t) = usize::try_from(i).ok().and_then(|i| taken.get_mut(i)) {
                n_skipped += usize::from(!*t);
                *t = true;
            }
        }
        let pool = n_items - n_skipped;
        let mut picks = Vec::with_capacity(n_negatives.min(pool));
        if pool >= 2 * n_negatives {
            while picks.len() < n_negatives {
                let i = below(&mut mt, n_items32) as usize;
                if !taken[i] {
                    taken[i] = true;
                    picks.push(i as i64);
                }
            }
            for &i in &picks {
                taken[i as usize] = false;
            }
        } else if pool >= n_negatives {
            let mut items: Vec<i64> = (0..n_items as i64)
                .filter(|&i| !taken[i as usize])
                .collect();
            for j in 0..n_negatives {
                let r = j + below(&mut mt, (pool - j) as u32) as usize;
                items.swap(j, r);
            }
            items.truncate(n_negatives);
            picks = items;
        }
        for &i in skip {
            if let Some(t) = usize::try_from(i).ok().and_then(|i| taken.get_mut(i)) {
                *t = false;
            }
        }
        if picks.len() < n_negatives {
            bail!("test user #{u}: only {pool} candidate negatives, {n_negatives} requested");
        }
        out.push(picks);
        if u % 1024 == 1023 {
            progress.inc(1024);
        }
    }
    progress.inc(excluded.len() as u64 % 1024);
    progress.finish();
    Ok(out)
}

/// The evaluation candidates: for each test user, the test positives followed by the sampled
/// negatives (all as model indices).
#[derive(Debug, Clone, PartialEq)]
pub struct SampledCandidates {
    /// Test users, one entry per user: model indices for [`SampledCandidates::pairs`] and
    /// [`NegativePool::NeverInteracted`], otherwise any key the caller chooses.
    pub users: Vec<i64>,
    /// Each user's test positives, in test-table order.
    pub positives: Vec<Vec<i64>>,
    /// Each user's sampled negatives.
    pub negatives: Vec<Vec<i64>>,
}

/// Mean ranking metrics over the test users at each cutoff.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SampledMetrics {
    /// The cutoffs, e.g. `[5, 10, 30]`.
    pub ks: Vec<usize>,
    /// Recall@k (hits / min(k, positives)), one value per cutoff.
    pub recall: Vec<f64>,
    /// NDCG@k (binary relevance), one value per cutoff.
    pub ndcg: Vec<f64>,
    /// HitRate@k, one value per cutoff.
    pub hit_rate: Vec<f64>,
}

impl SampledMetrics {
    /// Recall at cutoff `k`, if it was computed.
    pub fn recall_at(&self, k: usize) -> Option<f64> {
        self.ks.iter().position(|&x| x == k).map(|i| self.recall[i])
    }
}

/// One list of positives per user.
fn ensure_paired(users: &[i64], positives: &[Vec<i64>]) -> Result<()> {
    if users.len() != positives.len() {
        bail!(
            "{} users but {} lists of positives",
            users.len(),
            positives.len()
        );
    }
    Ok(())
}

impl SampledCandidates {
    /// Candidates for `users` with their `positives`, negatives drawn with
    /// [`sample_test_negatives`] from the given `pool`. `train_positives` (user index to item
    /// indices) is only read for [`NegativePool::NeverInteracted`].
    pub fn sample(
        users: Vec<i64>,
        positives: Vec<Vec<i64>>,
        n_items: i64,
        n_negatives: usize,
        pool: NegativePool,
        train_positives: &HashMap<i64, HashSet<i64>>,
    ) -> Result<SampledCandidates> {
        ensure_paired(&users, &positives)?;
        let excluded: Vec<HashSet<i64>> = users
            .iter()
            .zip(&positives)
            .map(|(u, pos)| {
                let mut skip: HashSet<i64> = pos.iter().copied().collect();
                if pool == NegativePool::NeverInteracted {
                    if let Some(seen) = train_positives.get(u) {
                        skip.extend(seen);
                    }
                }
                skip
            })
            .collect();
        let negatives = sample_test_negatives(n_items, &excluded, n_negatives)?;
        Ok(SampledCandidates {
            users,
            positives,
            negatives,
        })
    }

    /// Candidates for `users` with their `positives`, the negatives drawn from every item but
    /// the user's positives by [`sample_negatives_by_rejection`] from `seed` (the command line's
    /// sampled protocol; [`SampledCandidates::sample`] replays notebook 000's draws instead).
    pub fn sample_uniform(
        users: Vec<i64>,
        positives: Vec<Vec<i64>>,
        n_items: usize,
        n_negatives: usize,
        seed: u64,
    ) -> Result<SampledCandidates> {
        ensure_paired(&users, &positives)?;
        let progress = Progress::new(users.len() as u64, "drawing negatives", "users");
        let negatives =
            sample_negatives_by_rejection(n_items, &positives, n_negatives, seed, &progress)?;
        Ok(SampledCandidates {
            users,
            positives,
            negatives,
        })
    }

    /// Number of test users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there is no test user.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// All candidate (user, item) pairs, user by user, positives before negatives: the input
    /// for one batched forward pass. Returns `(users, items)`.
    pub fn pairs(&self) -> (Vec<i64>, Vec<i64>) {
        let mut us = Vec::new();
        let mut is = Vec::new();
        for ((u, pos), neg) in self.users.iter().zip(&self.positives).zip(&self.negatives) {
            for i in pos.iter().chain(neg) {
                us.push(*u);
                is.push(*i);
            }
        }
        (us, is)
    }

    /// Each user's top `k` candidates (items), best first, ranked by `scores` (aligned with
    /// [`SampledCandidates::pairs`]) with [`metrics::top_k`]. Equal scores keep the candidate
    /// order, positives first, like Python's stable `sorted(..., reverse=True)` in notebook 000.
    /// Fails when a score is not finite ([`metrics::ensure_finite`]): a diverged model is
    /// reported, not ranked.
    pub fn ranked(&self, scores: &[f32], k: usize) -> Result<Vec<Vec<i64>>> {
        let total: usize = self
            .positives
            .iter()
            .chain(&self.negatives)
            .map(Vec::len)
            .sum();
        if scores.len() != total {
            bail!("{} scores for {total} candidate pairs", scores.len());
        }
        metrics::ensure_finite(scores)?;
        let mut offset = 0;
        Ok(self
            .positives
            .iter()
            .zip(&self.negatives)
            .map(|(pos, neg)| {
                let items: Vec<i64> = pos.iter().chain(neg).copied().collect();
                let user_scores = &scores[offset..offset + items.len()];
                offset += items.len();
                metrics::top_k(user_scores, k)
                    .into_iter()
                    .map(|r| items[r])
                    .collect()
            })
            .collect())
    }

    /// Rank each user's candidates ([`SampledCandidates::ranked`]) and average notebook 000's
    /// Recall@k (hits / min(k, positives)), NDCG@k and HitRate@k over the users (from
    /// [`crate::eval::metrics`]), at each cutoff in `ks`.
    pub fn evaluate(&self, scores: &[f32], ks: &[usize]) -> Result<SampledMetrics> {
        let k_max = ks.iter().copied().max().unwrap_or(0);
        let lists = self.ranked(scores, k_max)?;
        // Per-user values in user order, summed in that order (deterministic to the last bit).
        let n_metrics = 3 * ks.len();
        let mut sums = vec![0.0; n_metrics];
        for (ranked, pos) in lists.iter().zip(&self.positives) {
            let relevant: HashSet<i64> = pos.iter().copied().collect();
            for (j, &k) in ks.iter().enumerate() {
                sums[j] += metrics::recall_at_k(ranked, &relevant, k);
                sums[ks.len() + j] += metrics::ndcg_at_k(ranked, &relevant, k);
                sums[2 * ks.len() + j] += metrics::hit_rate_at_k(ranked, &relevant, k);
            }
        }
        let n = self.len().max(1) as f64;
        let mean: Vec<f64> = sums.iter().map(|s| s / n).collect();
        Ok(SampledMetrics {
            ks: ks.to_vec(),
            recall: mean[..ks.len()].to_vec(),
            ndcg: mean[ks.len()..2 * ks.len()].to_vec(),
            hit_rate: mean[2 * ks.len()..].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hand_made() -> SampledCandidates {
        SampledCandidates {
            users: vec![0, 1],
            positives: vec![vec![10, 11], vec![20]],
            negatives: vec![vec![12, 13, 14], vec![21, 22]],
        }
    }

    #[test]
    fn metrics_on_hand_made_candidates() {
        let c = hand_made();
        assert_eq!(c.pairs().0, vec![0, 0, 0, 0, 0, 1, 1, 1]);
        // user 0 (positives 10, 11) ranks 12, 10, 11, 13, 14; user 1 (positive 20) ranks 21, 22, 20.
        let scores = [0.9, 0.5, 0.95, 0.4, 0.1, 0.0, 0.3, 0.2];
        let m = c.evaluate(&scores, &[1, 2, 3]).unwrap();
        // recall@1: (0/1 + 0/1) / 2; @2: (1/2 + 0/1) / 2; @3: (2/2 + 1/1) / 2
        assert_eq!(m.recall, vec![0.0, 0.25, 1.0]);
        assert_eq!(m.hit_rate, vec![0.0, 0.5, 1.0]);
        let ndcg2_u0 = (1.0 / 3f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((m.ndcg[1] - ndcg2_u0 / 2.0).abs() < 1e-12);
        assert_eq!(m.recall_at(3), Some(1.0));
        assert_eq!(
            c.ranked(&scores, 2).unwrap(),
            vec![vec![12, 10], vec![21, 22]]
        );
        assert!(c.evaluate(&scores[..3], &[1]).is_err());
    }

    #[test]
    fn ties_rank_positives_first() {
        let c = hand_made();
        let m = c.evaluate(&[0.0; 8], &[1]).unwrap();
        assert_eq!(m.recall, vec![1.0]);
    }

    #[test]
    fn nan_scores_are_refused_not_ranked() {
        // all NaN used to tie everywhere, ranking the positives first: perfect metrics
        let c = hand_made();
        let e = c.evaluate(&[f32::NAN; 8], &[1]).unwrap_err().to_string();
        assert!(e.contains("scores are not finite"), "{e}");
        let mut one_inf = [0.0; 8];
        one_inf[3] = f32::INFINITY;
        assert!(c.ranked(&one_inf, 2).is_err());
    }

    #[test]
    fn test_negatives_avoid_the_excluded_items() {
        tch::manual_seed(3);
        let mut train = HashMap::new();
        train.insert(0, HashSet::from([1, 2, 3]));
        let pos = vec![vec![0, 4]];
        let faithful = SampledCandidates::sample(
            vec![0],
            pos.clone(),
            10,
            8,
            NegativePool::NotTestPositive,
            &train,
        )
        .unwrap();
        let neg = &faithful.negatives[0];
        assert_eq!(neg.len(), 8);
        assert_eq!(
            neg.iter().collect::<HashSet<_>>().len(),
            8,
            "without replacement"
        );
        assert!(neg.iter().all(|i| ![0, 4].contains(i)));
        let corrected = SampledCandidates::sample(
            vec![0],
            pos.clone(),
            10,
            5,
            NegativePool::NeverInteracted,
            &train,
        )
        .unwrap();
        let mut got = corrected.negatives[0].clone();
        got.sort();
        assert_eq!(got, vec![5, 6, 7, 8, 9]);
        let too_many =
            SampledCandidates::sample(vec![0], pos, 10, 6, NegativePool::NeverInteracted, &train);
        assert!(too_many.is_err());
    }

    fn quiet() -> Progress {
        Progress::new(0, "test", "users")
    }

    #[test]
    fn rejection_draws_are_seeded_distinct_and_outside_the_pool() {
        let excluded = vec![vec![0, 4, 4], vec![], vec![1, 2, 3, 5, 6]];
        let draw = |seed| sample_negatives_by_rejection(10, &excluded, 3, seed, &quiet()).unwrap();
        let a = draw(7);
        assert_eq!(a, draw(7), "the same seed draws the same negatives");
        assert_ne!(a, draw(8));
        for (neg, skip) in a.iter().zip(&excluded) {
            assert_eq!(neg.len(), 3);
            assert_eq!(neg.iter().collect::<HashSet<_>>().len(), 3, "{neg:?}");
            assert!(neg.iter().all(|i| (0..10).contains(i) && !skip.contains(i)));
        }
        // the third user's pool (0, 4, 7, 8, 9) is under twice 3: the shuffle path
        let e = sample_negatives_by_rejection(10, &excluded, 6, 0, &quiet()).unwrap_err();
        assert!(e.to_string().contains("test user #2: only 5"), "{e}");
        let all = sample_negatives_by_rejection(10, &excluded[2..], 5, 0, &quiet()).unwrap();
        let mut got = all[0].clone();
        got.sort();
        assert_eq!(got, vec![0, 4, 7, 8, 9]);
    }

    /// Both draws are uniform over the pool at every position: counts over many users at a
    /// fixed seed, against the expected count within 5 standard deviations.
    #[test]
    fn rejection_and_randperm_draw_the_same_distribution() {
        let users = 6000;
        for (n_negatives, skip) in [(2, vec![0, 4]), (5, vec![0, 4, 9])] {
            let excluded = vec![skip.clone(); users];
            let set: HashSet<i64> = skip.iter().copied().collect();
            tch::manual_seed(1);
            let replayed = sample_test_negatives(10, &vec![set; users], n_negatives).unwrap();
            let ours = sample_negatives_by_rejection(10, &excluded, n_negatives, 1, &quiet());
            let pool = 10 - skip.len();
            let expected = users as f64 / pool as f64;
            let sd = (expected * (1.0 - 1.0 / pool as f64)).sqrt();
            for draws in [replayed, ours.unwrap()] {
                for position in 0..n_negatives {
                    let mut counts = [0usize; 10];
                    draws.iter().for_each(|d| counts[d[position] as usize] += 1);
                    for item in (0..10).filter(|i| !skip.contains(i)) {
                        let z = (counts[item as usize] as f64 - expected) / sd;
                        assert!(z.abs() < 5.0, "item {item} at {position}: {counts:?}");
                    }
                }
            }
        }
    }
}
