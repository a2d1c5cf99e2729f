//! The whole-list ranking metrics Cornac reports (`cornac/metrics/ranking.py`), for one user
//! at a time: the area under the ROC curve ([`auc`]) and the average precision over the whole
//! ranked list of candidates ([`average_precision`], whose mean over users is Cornac's MAP).
//! Neither has a cutoff: they score every candidate, where MAP@k
//! ([`crate::eval::metrics::map_at_k`]) looks at the first k only.
//!
//! A user's candidates are the positives (the relevant test items) and the negatives, disjoint
//! sets of indices into `scores`. Cornac's `ranking_eval` takes as negatives every train item
//! that is not a positive of the user in test, train or validation: a train item the user rated
//! below the relevance threshold is a candidate, ranked against the test positives.
//!
//! - AUC = the share of (positive, negative) pairs whose positive scores strictly higher
//!   (Cornac's: a tie counts 0); [`auc_ties_half`] counts a tie ½, as scikit-learn's
//!   `roc_auc_score` does. Without ties the two are equal.
//! - AP = the mean over positives `p` of `L_p / rank_p`, with `rank_p` the candidates scored at
//!   least as high as `p` and `L_p` the positives scored at least as high (scipy's
//!   `rankdata(method="max")`: a tie is resolved against the positive). Without ties this is
//!   `Σ_{hits at rank r} precision@r / |positives|` over the full list, ranx's and trec_eval's
//!   AP without a cutoff.
//!
//! The tests hold values from Cornac 3.0.1 and scikit-learn 1.9.1
//! (`scripts/reference-metrics.py`, section `auc-map`).

use anyhow::{bail, Result};

/// The scores of `indices`, as `f64`; fails on an index out of range or a non-finite score.
fn pick<S: Copy + Into<f64>>(scores: &[S], indices: &[usize], what: &str) -> Result<Vec<f64>> {
    indices
        .iter()
        .map(|&i| {
            let Some(&s) = scores.get(i) else {
                bail!(
                    "{what} item {i} is outside the {} scored items",
                    scores.len()
                );
            };
            let s: f64 = s.into();
            if !s.is_finite() {
                bail!("the score of {what} item {i} is not finite ({s})");
            }
            Ok(s)
        })
        .collect()
}

/// Scores sorted in increasing order.
fn sorted(mut xs: Vec<f64>) -> Vec<f64> {
    xs.sort_by(f64::total_cmp);
    xs
}

/// `(pairs the positive wins, pairs tied)` summed over positives, and the number of pairs.
fn pair_counts<S: Copy + Into<f64>>(
    scores: &[S],
    positives: &[usize],
    negatives: &[usize],
) -> Result<(f64, f64, f64)> {
    if positives.is_empty() || negatives.is_empty() {
        bail!(
            "AUC needs at least one positive and one negative ({} and {})",
            positives.len(),
            negatives.len()
        );
    }
    let pos = pick(scores, positives, "positive")?;
    let neg = sorted(pick(scores, negatives, "negative")?);
    let (mut wins, mut ties) = (0usize, 0usize);
    for s in pos {
        let below = neg.partition_point(|&x| x < s);
        let not_above = neg.partition_point(|&x| x <= s);
        wins += below;
        ties += not_above - below;
    }
    let pairs = positives.len() as f64 * negatives.len() as f64;
    Ok((wins as f64, ties as f64, pairs))
}

/// Cornac's per-user AUC: the share of (positive, negative) pairs in which the positive's
/// score is strictly higher (ties count 0). `positives` and `negatives` index `scores`. Fails
/// without a positive or a negative, for an index out of range or a score that is not finite.
pub fn auc<S: Copy + Into<f64>>(
    scores: &[S],
    positives: &[usize],
    negatives: &[usize],
) -> Result<f64> {
    let (wins, _, pairs) = pair_counts(scores, positives, negatives)?;
    Ok(wins / pairs)
}

/// [`auc`] with ties counted ½ (scikit-learn's `roc_auc_score` on the user's candidates).
pub fn auc_ties_half<S: Copy + Into<f64>>(
    scores: &[S],
    positives: &[usize],
    negatives: &[usize],
) -> Result<f64> {
    let (wins, ties, pairs) = pair_counts(scores, positives, negatives)?;
    Ok((wins + 0.5 * ties) / pairs)
}

/// Cornac's average precision of one user over the whole list of candidates (positives and
/// negatives, disjoint): the mean over positives `p` of `L_p / rank_p`, `rank_p` the candidates
/// scoring at least as high as `p`, `L_p` the positives doing so. Its mean over users is
/// Cornac's MAP. Fails without a positive, for an index out of range or a score that is not
/// finite.
pub fn average_precision<S: Copy + Into<f64>>(
    scores: &[S],
    positives: &[usize],
    negatives: &[usize],
) -> Result<f64> {
    if positives.is_empty() {
        bail!("average precision needs at least one positive");
    }
    let pos = sorted(pick(scores, positives, "positive")?);
    let neg = sorted(pick(scores, negatives, "negative")?);
    let at_least = |xs: &[f64], s: f64| xs.len() - xs.partition_point(|&x| x < s);
    let total: f64 = pos
        .iter()
        .map(|&s| {
            let positives_above = at_least(&pos, s);
            positives_above as f64 / (positives_above + at_least(&neg, s)) as f64
        })
        .sum();
    Ok(total / positives.len() as f64)
}

/// The mean of per-user values (Cornac's average over the users with a test positive); NaN
/// for none.
pub fn mean_over_users(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[cfg(test)]
mod tests {
    //! Reference values: `scripts/reference-metrics.py auc-map` (Cornac 3.0.1's `AUC` and
    //! `MAP`, scikit-learn 1.9.1's `roc_auc_score`).
    use std::collections::HashSet;

    use super::*;
    use crate::eval::metrics::{map_rel_at_k, top_k};

    const SCORES: [f64; 12] = [
        0.9, 0.1, 0.75, 0.3, 0.6, 0.05, 0.8, 0.45, 0.2, 0.55, 0.35, 0.7,
    ];
    const TIED: [f64; 12] = [0.5, 0.2, 0.5, 0.3, 0.8, 0.2, 0.5, 0.3, 0.1, 0.8, 0.3, 0.5];
    const POS: [usize; 4] = [0, 3, 7, 10];
    const NEG: [usize; 8] = [1, 2, 4, 5, 6, 8, 9, 11];

    fn close(got: f64, want: f64) {
        assert!((got - want).abs() <= 1e-15, "got {got}, reference {want}");
    }

    #[test]
    fn auc_as_cornac_and_scikit_learn() {
        // Distinct scores: Cornac's AUC = roc_auc_score = 0.53125.
        close(auc(&SCORES, &POS, &NEG).unwrap(), 0.53125);
        close(auc_ties_half(&SCORES, &POS, &NEG).unwrap(), 0.53125);
        // Ties: Cornac counts them 0 (0.375), scikit-learn ½ (0.421875).
        close(auc(&TIED, &POS, &NEG).unwrap(), 0.375);
        close(auc_ties_half(&TIED, &POS, &NEG).unwrap(), 0.421875);
        // Candidates without items 5 and 8.
        let fewer = [1, 2, 4, 6, 9, 11];
        close(auc(&SCORES, &POS, &fewer).unwrap(), 0.375);
        // f32 scores work alike.
        let f32s: Vec<f32> = SCORES.iter().map(|&s| s as f32).collect();
        close(auc(&f32s, &POS, &NEG).unwrap(), 0.53125);
        assert!(auc(&SCORES, &[], &NEG).is_err());
        assert!(auc(&SCORES, &POS, &[]).is_err());
        assert!(auc(&SCORES, &[12], &NEG).is_err());
        assert!(auc(&[f64::NAN, 0.0], &[0], &[1]).is_err());
    }

    #[test]
    fn average_precision_as_cornac_map() {
        close(
            average_precision(&SCORES, &POS, &NEG).unwrap(),
            0.5262896825396826,
        );
        close(
            average_precision(&TIED, &POS, &NEG).unwrap(),
            0.37499999999999994,
        );
        close(
            average_precision(&SCORES, &POS, &[1, 2, 4, 6, 9, 11]).unwrap(),
            0.5262896825396826,
        );
        assert!(average_precision(&SCORES, &[], &NEG).is_err());
        // Without ties it is ranx's AP over the full ranked list of candidates.
        let candidates: Vec<f32> = SCORES.iter().map(|&s| s as f32).collect();
        let ranked = top_k(&candidates, candidates.len());
        let relevant: HashSet<usize> = POS.into_iter().collect();
        let ranx = map_rel_at_k(&ranked, &relevant, ranked.len());
        assert!((ranx - 0.5262896825396826).abs() < 1e-15, "{ranx}");
        close(mean_over_users(&[0.25, 0.5, 0.75]), 0.5);
    }
}
