//! Interactions to padded item sequences (Spotlight's `Interactions.to_sequence`), and the
//! next-item ranking metrics of notebook 002: MRR with average ranks for ties, and label ranking
//! average precision (scikit-learn's definition), written separately so the two can be checked
//! against each other.
//!
//! Item id 0 is reserved for padding: real item ids start at 1 (MovieLens numbers items from 1).

use std::collections::HashMap;

use anyhow::{bail, Result};
use tch::{Device, Tensor};

use crate::interactions::Interactions;
use crate::metrics::average_rank;

/// The padding item id.
pub const PADDING: i64 = 0;

/// Fixed-length item sequences, one row per window of a user's history, left-padded with
/// [`PADDING`]. Spotlight's `SequenceInteractions`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequences {
    /// Row-major `len() x max_len` item ids.
    pub items: Vec<i64>,
    /// The user of each row.
    pub user_ids: Vec<i64>,
    /// Row length.
    pub max_len: usize,
    /// Size of the item id space, padding included (1683 for ml-100k).
    pub num_items: i64,
}

impl Sequences {
    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.user_ids.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.user_ids.is_empty()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[i64] {
        &self.items[i * self.max_len..(i + 1) * self.max_len]
    }

    /// The last item of every row (the next-item target in evaluation).
    pub fn last_items(&self) -> Vec<i64> {
        (0..self.len())
            .map(|i| self.row(i)[self.max_len - 1])
            .collect()
    }

    /// All rows as an int64 tensor `[len, max_len]` on `device`.
    pub fn tensor(&self, device: Device) -> Tensor {
        Tensor::from_slice(&self.items)
            .view([self.len() as i64, self.max_len as i64])
            .to_device(device)
    }
}

impl std::fmt::Display for Sequences {
    /// Spotlight's repr: `<Sequence interactions dataset (8249 sequences x 10 sequence length)>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<Sequence interactions dataset ({} sequences x {} sequence length)>",
            self.len(),
            self.max_len
        )
    }
}

/// Spotlight's `to_sequence(max_sequence_length, step_size)`.
///
/// Interactions are sorted by user, then timestamp (a stable sort: equal timestamps keep their
/// order). Each user's history is cut from its end into windows of at most `max_len` items,
/// moving back `step` items each time (`step = max_len` gives disjoint windows), most recent
/// window first. Windows shorter than `max_len` are left-padded with [`PADDING`]. A user with
/// `n` interactions gives `ceil(n / step)` rows. Errors if an item id is 0 (the padding value).
pub fn to_sequences(interactions: &Interactions, max_len: usize, step: usize) -> Result<Sequences> {
    if max_len == 0 || step == 0 {
        bail!("to_sequences: max_len and step must be positive (got {max_len}, {step})");
    }
    if interactions.item_ids.contains(&PADDING) {
        bail!("0 is used as an item id, conflicting with the sequence padding value");
    }
    let mut order: Vec<usize> = (0..interactions.len()).collect();
    order.sort_by_key(|&r| (interactions.user_ids[r], interactions.timestamps[r]));
    let mut items = Vec::new();
    let mut user_ids = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let user = interactions.user_ids[order[start]];
        let mut stop = start;
        while stop < order.len() && interactions.user_ids[order[stop]] == user {
            stop += 1;
        }
        let history: Vec<i64> = order[start..stop]
            .iter()
            .map(|&r| interactions.item_ids[r])
            .collect();
        // Spotlight's _sliding_window: for end in range(len, 0, -step): window [end-max_len, end)
        let mut end = history.len();
        while end > 0 {
            let window = &history[end.saturating_sub(max_len)..end];
            items.extend(std::iter::repeat_n(PADDING, max_len - window.len()));
            items.extend_from_slice(window);
            user_ids.push(user);
            end = end.saturating_sub(step);
        }
        start = stop;
    }
    Ok(Sequences {
        items,
        user_ids,
        max_len,
        num_items: interactions.num_items,
    })
}

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

    fn history(users: &[i64], items: &[i64], times: &[i64]) -> Interactions {
        Interactions {
            user_ids: users.to_vec(),
            item_ids: items.to_vec(),
            ratings: vec![1.0; users.len()],
            timestamps: times.to_vec(),
            num_users: 3,
            num_items: 20,
        }
    }

    #[test]
    fn windows_from_the_end_left_padded() {
        // user 2: items 1..=7 given out of time order; user 1: items 10, 11 (equal times keep order)
        let data = history(
            &[2, 1, 2, 2, 2, 1, 2, 2, 2],
            &[7, 10, 1, 2, 3, 11, 4, 5, 6],
            &[70, 5, 10, 20, 30, 5, 40, 50, 60],
        );
        let seqs = to_sequences(&data, 3, 3).unwrap();
        assert_eq!(seqs.user_ids, vec![1, 2, 2, 2]);
        assert_eq!(seqs.row(0), &[0, 10, 11]);
        assert_eq!(seqs.row(1), &[5, 6, 7]);
        assert_eq!(seqs.row(2), &[2, 3, 4]);
        assert_eq!(seqs.row(3), &[0, 0, 1]);
        assert_eq!(seqs.last_items(), vec![11, 7, 4, 1]);
        assert_eq!(
            seqs.to_string(),
            "<Sequence interactions dataset (4 sequences x 3 sequence length)>"
        );
        // overlapping windows with step 2
        let seqs = to_sequences(&data, 3, 2).unwrap();
        assert_eq!(seqs.items[3..], [5, 6, 7, 3, 4, 5, 1, 2, 3, 0, 0, 1]);
        assert!(to_sequences(&history(&[1], &[0], &[1]), 3, 3).is_err());
    }

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
