//! Every metric of the project, on plain slices: the per-list ranking metrics, their averages
//! over users ([`mean_over_users`], [`ranking_metrics`]), coverage, RMSE and MAE, and the
//! ranking of candidates itself ([`top_k`], [`top_k_excluding`], [`average_rank`]). Shared by
//! every notebook, the protocols of [`crate::eval::protocol`] and the CLI.
//!
//! Ranking metrics take one user's recommendation list (best first) and the set of that user's
//! relevant items, with binary relevance. Formulas, with `hits@k` the relevant items among the
//! first `k` recommended and `rel` the relevant set:
//! - Recall@k = hits@k / min(k, |rel|) (notebook 000's definition, [`recall_at_k`]); RePlay's
//!   Recall@k = hits@k / |rel| ([`replay_recall_at_k`])
//! - Precision@k = hits@k / k
//! - HitRate@k = 1 if hits@k > 0 else 0
//! - NDCG@k = DCG / IDCG, DCG = Σ over hits at rank r (1-based) of 1/log2(r+1), IDCG the same
//!   sum over ranks 1..=min(k, |rel|) (RePlay's definition)
//! - MRR@k = 1 / rank of the first hit in the top k, 0 without one
//! - MAP@k = Σ over hits at rank r of precision@r, divided by min(k, |rel|) (RePlay's,
//!   [`map_at_k`]); ranx and trec_eval divide by |rel| ([`map_rel_at_k`]); [`MapDenominator`]
//!   names the two
//! - Coverage@k = distinct items in all top-k lists that appear in train / distinct train items
//!   (RePlay 0.22's; [`coverage_in_train_at_k`], [`coverage_at_k`] when every recommended item is
//!   a train item)
//!
//! [`mean_over_users`] averages a per-user metric over the users of the ground truth: a user
//! with no recommendations scores 0, as in RePlay. [`ranking_metrics`] computes all of them at
//! once ([`RankingMetrics`]).

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use anyhow::{bail, Result};

/// Per-user recommendation lists, best first.
pub type Lists = HashMap<i64, Vec<i64>>;
/// Per-user relevant sets.
pub type Truth = HashMap<i64, HashSet<i64>>;

fn hits<T: Eq + Hash>(ranked: &[T], relevant: &HashSet<T>, k: usize) -> usize {
    ranked
        .iter()
        .take(k)
        .filter(|i| relevant.contains(i))
        .count()
}

/// hits@k / min(k, |relevant|); 0 when nothing is relevant.
pub fn recall_at_k<T: Eq + Hash>(ranked: &[T], relevant: &HashSet<T>, k: usize) -> f64 {
    let denom = k.min(relevant.len());
    if denom == 0 {
        return 0.0;
    }
    hits(ranked, relevant, k) as f64 / denom as f64
}

/// hits@k / |relevant| (RePlay's Recall); 0 when nothing is relevant.
pub fn replay_recall_at_k<T: Eq + Hash>(ranked: &[T], relevant: &HashSet<T>, k: usize) -> f64 {
    if relevant.is_empty() {
        return 0.0;
    }
    hits(ranked, relevant, k) as f64 / relevant.len() as f64
}

/// hits@k / k.
pub fn precision_at_k<T: Eq + Hash>(ranked: &[T], relevant: &HashSet<T>, k: usize) -> f64 {
    if k == 0 {
        return 0.0;
    }
    hits(ranked, relevant, k) as f64 / k as f64
}

/// 1 when any of the first k is relevant.
pub fn hit_rate_at_k<T: Eq + Hash>(ranked: &[T], relevant: &HashSet<T>, k: usize) -> f64 {
    f64::from(u8::from(hits(ranked, relevant, k) > 0))
}

/// Binary-relevance NDCG@k with the ideal DCG over min(k, |relevant|) positions.
pub fn ndcg_at_k<T: Eq + Hash>(ranked: &[T], relevant: &HashSet<T>, k: usize) -> f64 {
    let ideal: f64 = (1..=k.min(relevant.len()))
        .map(|r| 1.0 / (r as f64 + 1.0).log2())
        .sum();
    if ideal == 0.0 {
        return 0.0;
    }
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .filter(|(_, i)| relevant.contains(i))
        .map(|(r, _)| 1.0 / (r as f64 + 2.0).log2())
        .sum();
    dcg / ideal
}

/// 1 / rank of the first relevant item in the top k; 0 without one.
pub fn mrr_at_k<T: Eq + Hash>(ranked: &[T], relevant: &HashSet<T>, k: usize) -> f64 {
    ranked
        .iter()
        .take(k)
        .position(|i| relevant.contains(i))
        .map_or(0.0, |p| 1.0 / (p as f64 + 1.0))
}

/// Average precision at k, normalised by min(k, |relevant|) (RePlay's MAP).
pub fn map_at_k<T: Eq + Hash>(ranked: &[T], relevant: &HashSet<T>, k: usize) -> f64 {
    precision_sum(ranked, relevant, k) / k.min(relevant.len()).max(1) as f64
}

/// Average precision at k, normalised by |relevant| (ranx's and trec_eval's MAP): lower than
/// [`map_at_k`] for users with more than `k` relevant items.
pub fn map_rel_at_k<T: Eq + Hash>(ranked: &[T], relevant: &HashSet<T>, k: usize) -> f64 {
    precision_sum(ranked, relevant, k) / relevant.len().max(1) as f64
}

/// Σ over the hits in the top `k` at rank r of precision@r.
fn precision_sum<T: Eq + Hash>(ranked: &[T], relevant: &HashSet<T>, k: usize) -> f64 {
    let mut found = 0usize;
    let mut sum = 0.0;
    for (r, item) in ranked.iter().take(k).enumerate() {
        if relevant.contains(item) {
            found += 1;
            sum += found as f64 / (r as f64 + 1.0);
        }
    }
    sum
}

/// What MAP@k divides each user's sum of precisions at the hits by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MapDenominator {
    /// min(k, |relevant|): RePlay's MAP ([`map_at_k`]).
    #[default]
    MinKRel,
    /// |relevant|: ranx's and trec_eval's MAP ([`map_rel_at_k`]).
    Rel,
}

impl MapDenominator {
    /// How the definition is named in output, e.g. `RePlay: / min(k,|rel|)`.
    pub fn label(self) -> &'static str {
        match self {
            MapDenominator::MinKRel => "RePlay: / min(k,|rel|)",
            MapDenominator::Rel => "ranx: / |rel|",
        }
    }

    /// The MAP of `m` under this definition.
    pub fn of(self, m: &RankingMetrics) -> f64 {
        match self {
            MapDenominator::MinKRel => m.map,
            MapDenominator::Rel => m.map_rel,
        }
    }
}

impl std::str::FromStr for MapDenominator {
    type Err = anyhow::Error;
    /// `min-k-rel` or `rel`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "min-k-rel" => Ok(MapDenominator::MinKRel),
            "rel" => Ok(MapDenominator::Rel),
            _ => bail!("MAP denominator {s:?}: expected min-k-rel or rel"),
        }
    }
}

/// Distinct items among all top-k lists, over the number of train items: for lists that hold
/// train items only (see [`coverage_in_train_at_k`] otherwise).
pub fn coverage_at_k<'a, T: Eq + Hash + 'a>(
    lists: impl IntoIterator<Item = &'a [T]>,
    k: usize,
    n_train_items: usize,
) -> f64 {
    if n_train_items == 0 {
        return 0.0;
    }
    let distinct: HashSet<&T> = lists.into_iter().flat_map(|l| l.iter().take(k)).collect();
    distinct.len() as f64 / n_train_items as f64
}

/// Distinct items among all top-k lists that are in `train_items`, over the number of train
/// items (RePlay 0.22's Coverage: a recommended item absent from train does not count, so the
/// value never exceeds 1). 0 for an empty train set.
pub fn coverage_in_train_at_k<'a, T: Eq + Hash + 'a>(
    lists: impl IntoIterator<Item = &'a [T]>,
    k: usize,
    train_items: &HashSet<T>,
) -> f64 {
    if train_items.is_empty() {
        return 0.0;
    }
    let distinct: HashSet<&T> = lists
        .into_iter()
        .flat_map(|l| l.iter().take(k))
        .filter(|i| train_items.contains(i))
        .collect();
    distinct.len() as f64 / train_items.len() as f64
}

/// Fails unless every score is finite: a model whose scores hold NaN or ±inf (a diverged
/// training run) is reported as such rather than ranked, since NaN compares equal to
/// everything in a sort and would land anywhere in the lists, even first.
pub fn ensure_finite(scores: &[f32]) -> Result<()> {
    if let Some(s) = scores.iter().find(|s| !s.is_finite()) {
        bail!("the model's scores are not finite (NaN/inf; found {s}): training diverged?");
    }
    Ok(())
}

/// Mean of `metric(recs, relevant, k)` over the users in `truth`; users missing from `recs`
/// score 0. Returns 0 for an empty ground truth. The per-user values are summed in increasing
/// user order, so the mean is the same to the last bit on every run.
pub fn mean_over_users<U: Eq + Hash + Ord, T: Eq + Hash>(
    recs: &HashMap<U, Vec<T>>,
    truth: &HashMap<U, HashSet<T>>,
    k: usize,
    metric: fn(&[T], &HashSet<T>, usize) -> f64,
) -> f64 {
    if truth.is_empty() {
        return 0.0;
    }
    let mut users: Vec<(&U, &HashSet<T>)> = truth.iter().collect();
    users.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let total: f64 = users
        .into_iter()
        .map(|(u, rel)| recs.get(u).map_or(0.0, |r| metric(r, rel, k)))
        .sum();
    total / truth.len() as f64
}

/// The RePlay metrics of one evaluation at one cutoff, averaged over the users of the ground
/// truth.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct RankingMetrics {
    pub k: usize,
    pub users: usize,
    pub precision: f64,
    pub recall: f64,
    pub ndcg: f64,
    pub hit_rate: f64,
    pub mrr: f64,
    /// MAP@k divided by min(k, |rel|) (RePlay's).
    pub map: f64,
    /// MAP@k divided by |rel| (ranx's).
    pub map_rel: f64,
    /// Distinct recommended train items in the top k over train items
    /// ([`coverage_in_train_at_k`]); `None` without a train set.
    pub coverage: Option<f64>,
}

/// Score `recs` against `truth` at `k` (RePlay's definitions; Recall divides by |relevant|),
/// each metric by [`mean_over_users`]. Coverage is over `train_items` when given
/// ([`coverage_in_train_at_k`]). Fails for `k` = 0 or an empty ground truth.
pub fn ranking_metrics(
    recs: &Lists,
    truth: &Truth,
    k: usize,
    train_items: Option<&HashSet<i64>>,
) -> Result<RankingMetrics> {
    if k == 0 {
        bail!("k must be at least 1, got 0");
    }
    if truth.is_empty() {
        bail!("the ground truth is empty: no user to evaluate");
    }
    let mean = |m: fn(&[i64], &HashSet<i64>, usize) -> f64| mean_over_users(recs, truth, k, m);
    Ok(RankingMetrics {
        k,
        users: truth.len(),
        precision: mean(precision_at_k),
        recall: mean(replay_recall_at_k),
        ndcg: mean(ndcg_at_k),
        hit_rate: mean(hit_rate_at_k),
        mrr: mean(mrr_at_k),
        map: mean(map_at_k),
        map_rel: mean(map_rel_at_k),
        coverage: train_items
            .map(|t| coverage_in_train_at_k(recs.values().map(Vec::as_slice), k, t)),
    })
}

/// Root mean squared error; NaN for empty input.
pub fn rmse(predictions: &[f64], targets: &[f64]) -> f64 {
    assert_eq!(predictions.len(), targets.len(), "rmse: length mismatch");
    let sse: f64 = predictions
        .iter()
        .zip(targets)
        .map(|(p, t)| (p - t).powi(2))
        .sum();
    (sse / predictions.len() as f64).sqrt()
}

/// Mean absolute error; NaN for empty input.
pub fn mae(predictions: &[f64], targets: &[f64]) -> f64 {
    assert_eq!(predictions.len(), targets.len(), "mae: length mismatch");
    let sae: f64 = predictions
        .iter()
        .zip(targets)
        .map(|(p, t)| (p - t).abs())
        .sum();
    sae / predictions.len() as f64
}

/// The 1-based rank of `scores[target]` when sorted in descending order, ties sharing their
/// average rank (scipy's `rankdata(-scores)`, which Spotlight's MRR uses).
pub fn average_rank(scores: &[f32], target: usize) -> f64 {
    let s = scores[target];
    let greater = scores.iter().filter(|&&x| x > s).count();
    let equal = scores.iter().filter(|&&x| x == s).count();
    greater as f64 + (equal as f64 + 1.0) / 2.0
}

/// Indices of the `k` largest scores, best first, without sorting all of them. Ties keep the
/// lower index first.
pub fn top_k(scores: &[f32], k: usize) -> Vec<usize> {
    let k = k.min(scores.len());
    if k == 0 {
        return Vec::new();
    }
    let better = |a: &usize, b: &usize| {
        scores[*b]
            .partial_cmp(&scores[*a])
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(b))
    };
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    if k < idx.len() {
        idx.select_nth_unstable_by(k - 1, better);
        idx.truncate(k);
    }
    idx.sort_unstable_by(better);
    idx
}

/// [`top_k`] among the items not in `excluded` (indices into `scores`; out-of-range ones are
/// ignored): the excluded scores are set to -inf, and items scored -inf (or NaN) are left out,
/// so the list is shorter than `k` when fewer items remain.
pub fn top_k_excluding(
    scores: &[f32],
    excluded: impl IntoIterator<Item = usize>,
    k: usize,
) -> Vec<usize> {
    let mut masked = scores.to_vec();
    for i in excluded {
        if let Some(s) = masked.get_mut(i) {
            *s = f32::NEG_INFINITY;
        }
    }
    top_k(&masked, k)
        .into_iter()
        .filter(|&i| masked[i] > f32::NEG_INFINITY)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[i64]) -> HashSet<i64> {
        v.iter().copied().collect()
    }

    #[test]
    fn recall_divides_by_min_of_k_and_relevant() {
        let ranked = [1, 2, 3, 4, 5];
        assert_eq!(recall_at_k(&ranked, &set(&[2, 9]), 5), 0.5);
        assert_eq!(recall_at_k(&ranked, &set(&[1, 2, 3, 4, 5, 6, 7]), 2), 1.0);
        assert_eq!(recall_at_k(&ranked, &set(&[]), 5), 0.0);
        assert_eq!(
            replay_recall_at_k(&ranked, &set(&[1, 2, 3, 4, 5, 6, 7]), 2),
            2.0 / 7.0
        );
    }

    #[test]
    fn ndcg_by_hand() {
        // hits at ranks 1 and 3, two relevant: (1 + 1/2) / (1 + 1/log2 3)
        let v = ndcg_at_k(&[7, 8, 9], &set(&[7, 9]), 3);
        assert!((v - 1.5 / (1.0 + 1.0 / 3f64.log2())).abs() < 1e-12);
        // fewer relevant items than k: a single hit at rank 1 is perfect
        assert_eq!(ndcg_at_k(&[7, 8, 9], &set(&[7]), 3), 1.0);
        assert_eq!(ndcg_at_k(&[8, 9], &set(&[7]), 2), 0.0);
    }

    #[test]
    fn hit_rate_mrr_map_precision() {
        let ranked = [5, 6, 7, 8];
        assert_eq!(hit_rate_at_k(&ranked, &set(&[7]), 2), 0.0);
        assert_eq!(hit_rate_at_k(&ranked, &set(&[7]), 3), 1.0);
        assert_eq!(mrr_at_k(&ranked, &set(&[7, 8]), 4), 1.0 / 3.0);
        assert_eq!(precision_at_k(&ranked, &set(&[5, 8]), 4), 0.5);
        assert!((map_at_k(&ranked, &set(&[5, 7]), 4) - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        // 3 relevant, k = 2, hit at rank 1 only: RePlay 1/min(2,3) = 0.5, ranx 1/3
        let three = set(&[ranked[0], 100, 101]);
        assert_eq!(map_at_k(&ranked, &three, 2), 0.5);
        assert!((map_rel_at_k(&ranked, &three, 2) - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(map_rel_at_k(&ranked, &set(&[]), 2), 0.0);
    }

    #[test]
    fn users_without_recommendations_score_zero() {
        let recs: HashMap<i64, Vec<i64>> = [(1, vec![10, 11])].into();
        let truth: HashMap<i64, HashSet<i64>> = [(1, set(&[10])), (2, set(&[10]))].into();
        assert_eq!(mean_over_users(&recs, &truth, 2, hit_rate_at_k), 0.5);
        let lists = [vec![1, 2], vec![2, 3]];
        assert_eq!(coverage_at_k(lists.iter().map(Vec::as_slice), 2, 6), 0.5);
    }

    #[test]
    fn errors_and_ranks() {
        assert_eq!(rmse(&[1.0, 3.0], &[2.0, 1.0]), (2.5f64).sqrt());
        assert_eq!(mae(&[1.0, 3.0], &[2.0, 1.0]), 1.5);
        // scores 3, 5, 5, 1: target 1 ties with index 2 for ranks 1 and 2
        assert_eq!(average_rank(&[3.0, 5.0, 5.0, 1.0], 1), 1.5);
        assert_eq!(average_rank(&[3.0, 5.0, 5.0, 1.0], 0), 3.0);
        assert_eq!(top_k(&[0.1, 0.9, 0.5, 0.9], 3), vec![1, 3, 2]);
        assert_eq!(
            top_k_excluding(&[0.1, 0.9, 0.5, 0.9], [1, 9], 3),
            vec![3, 2, 0]
        );
        assert_eq!(top_k_excluding(&[0.1, 0.9, 0.5], [0, 1], 3), vec![2]);
    }

    #[test]
    fn ranking_metrics_average_every_metric() {
        let recs: Lists = [(1, vec![10, 11]), (2, vec![20, 21])].into();
        let truth: Truth = [(1, set(&[11])), (2, set(&[20, 22])), (3, set(&[10]))].into();
        let train: HashSet<i64> = (10..12).chain(20..26).collect();
        let m = ranking_metrics(&recs, &truth, 2, Some(&train)).unwrap();
        assert_eq!((m.users, m.hit_rate, m.mrr), (3, 2.0 / 3.0, 0.5));
        assert_eq!(m.recall, (1.0 + 0.5) / 3.0);
        assert_eq!(m.coverage, Some(0.5));
        assert!(ranking_metrics(&recs, &truth, 0, None).is_err());
        assert!(ranking_metrics(&recs, &Truth::new(), 2, None).is_err());
    }

    #[test]
    fn coverage_counts_only_train_items() {
        // four distinct recommended items, two of them absent from the four train items:
        // RePlay 0.22 counts 2 / 4, not 4 / 4 (and never more than 1)
        let lists = [vec![1, 2], vec![8, 9]];
        let train: HashSet<i64> = [1, 2, 3, 4].into();
        assert_eq!(
            coverage_in_train_at_k(lists.iter().map(Vec::as_slice), 2, &train),
            0.5
        );
        let outside = [vec![7, 8], vec![9, 1, 2]];
        assert_eq!(
            coverage_in_train_at_k(outside.iter().map(Vec::as_slice), 3, &train),
            0.5
        );
        assert_eq!(
            coverage_in_train_at_k(outside.iter().map(Vec::as_slice), 2, &train),
            0.25
        );
        assert_eq!(
            coverage_in_train_at_k(lists.iter().map(Vec::as_slice), 2, &HashSet::new()),
            0.0
        );
    }

    #[test]
    fn non_finite_scores_are_refused() {
        assert!(ensure_finite(&[0.1, -3.0, 1e30]).is_ok());
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let e = ensure_finite(&[0.1, bad]).unwrap_err().to_string();
            assert!(
                e.contains("the model's scores are not finite (NaN/inf"),
                "{e}"
            );
            assert!(e.contains("training diverged?"), "{e}");
        }
    }
}
