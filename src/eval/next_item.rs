//! Next-item ranking metrics of notebook 002 (Spotlight's sequence evaluation): MRR with average
//! ranks for ties, and label ranking average precision (scikit-learn's definition), written
//! separately so the two can be checked against each other; and the popularity helpers of its
//! baselines.

use std::collections::HashMap;

use crate::eval::metrics::average_rank;

/// Reciprocal of the target's rank among `scores` (descending), ties sharing their average rank,
/// as Spotlight's `sequence_mrr_score` computes it with `scipy.stats.rankdata`.
pub fn reciprocal_rank(scores: &[f32], target: usize) -> f64 {
    1.0 / average_rank(scores, target)
}

/// Per-row reciprocal ranks of `targets` in row-major `scores` (`targets.len()` rows of
/// `n_items` scores each). MRR is their mean.
pub fn reciprocal_ranks(scores: &[f32], n_items: usize, targets: &[i64]) -> Vec<f64> {
    assert_eq!(
        scores.len(),
        n_items * targets.len(),
        "reciprocal_ranks: shape mismatch"
    );
    targets
        .iter()
        .enumerate()
        .map(|(i, &t)| reciprocal_rank(&scores[i * n_items..(i + 1) * n_items], t as usize))
        .collect()
}

/// Label ranking average precision, scikit-learn's `label_ranking_average_precision_score`:
/// for each sample and each relevant label `r`, the share of relevant labels among the labels
/// scored at least as high as `r`; averaged over the relevant labels, then over samples. A sample
/// with no relevant label, or with every label relevant, scores 1.
///
/// Ties count against the target (every label tied with `r` is "at least as high"), so with one
/// relevant label this is `1 / (worst rank among ties)`: equal to MRR when the target is not
/// tied, and lower when it is.
pub fn label_ranking_average_precision(
    scores: &[f64],
    n_labels: usize,
    relevant: &[Vec<usize>],
) -> f64 {
    assert_eq!(
        scores.len(),
        n_labels * relevant.len(),
        "lrap: shape mismatch"
    );
    if relevant.is_empty() {
        return 0.0;
    }
    let total: f64 = relevant
        .iter()
        .enumerate()
        .map(|(i, rel)| {
            let row = &scores[i * n_labels..(i + 1) * n_labels];
            if rel.is_empty() || rel.len() == n_labels {
                return 1.0;
            }
            let precisions: f64 = rel
                .iter()
                .map(|&r| {
                    let s = row[r];
                    let at_least = row.iter().filter(|&&x| x >= s).count();
                    let relevant_at_least = rel.iter().filter(|&&q| row[q] >= s).count();
                    relevant_at_least as f64 / at_least as f64
                })
                .sum();
            precisions / rel.len() as f64
        })
        .sum();
    total / relevant.len() as f64
}

/// The most common item in `items`, ties going to the one seen first (Python's
/// `Counter(items).most_common()[0][0]`). `None` for an empty slice.
pub fn most_common_item(items: &[i64]) -> Option<i64> {
    let mut counts: HashMap<i64, (usize, usize)> = HashMap::new(); // item -> (count, first seen)
    for (pos, &item) in items.iter().enumerate() {
        counts.entry(item).or_insert((0, pos)).0 += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1 .0.cmp(&b.1 .0).then(b.1 .1.cmp(&a.1 .1)))
        .map(|(item, _)| item)
}

/// How often each item id `0..num_items` occurs in `items`.
pub fn item_counts(items: &[i64], num_items: usize) -> Vec<f64> {
    let mut counts = vec![0.0; num_items];
    for &i in items {
        counts[i as usize] += 1.0;
    }
    counts
}

/// Softmax of a vector in f64 (max subtracted first, as scipy does).
pub fn softmax(values: &[f64]) -> Vec<f64> {
    let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = values.iter().map(|v| (v - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrr_and_lrap_with_ties() {
        // two samples of 4 items; sample 0's target (item 1) ties with item 2 for the top
        let scores = [0.1f32, 0.9, 0.9, 0.3, 0.5, 0.2, 0.8, 0.1];
        let rr = reciprocal_ranks(&scores, 4, &[1, 0]);
        assert_eq!(rr, vec![1.0 / 1.5, 0.5]);
        let s64: Vec<f64> = scores.iter().map(|&s| s as f64).collect();
        // LRAP counts the tie against the target: 1/2, and 1/2 for sample 1
        let lrap = label_ranking_average_precision(&s64, 4, &[vec![1], vec![0]]);
        assert!((lrap - 0.5).abs() < 1e-12);
        // without ties the two agree
        let untied = [0.1f32, 0.9, 0.7, 0.3];
        let rr = reciprocal_ranks(&untied, 4, &[2])[0];
        let l = label_ranking_average_precision(&[0.1, 0.9, 0.7, 0.3], 4, &[vec![2]]);
        assert_eq!((rr, l), (0.5, 0.5));
        // two relevant labels at ranks 1 and 3: (1/1 + 2/3) / 2
        let l = label_ranking_average_precision(&[0.9, 0.5, 0.7, 0.1], 4, &[vec![0, 1]]);
        assert!((l - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn popularity_helpers() {
        assert_eq!(most_common_item(&[3, 5, 5, 3, 7]), Some(3));
        assert_eq!(most_common_item(&[]), None);
        assert_eq!(item_counts(&[1, 1, 2], 4), vec![0.0, 2.0, 1.0, 0.0]);
        let p = softmax(&[0.0, 0.0, 2.0f64.ln()]);
        assert!((p[2] - 0.5).abs() < 1e-12 && (p[0] - 0.25).abs() < 1e-12);
    }
}
