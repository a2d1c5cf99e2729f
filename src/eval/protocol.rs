//! The evaluation protocols of `recsys evaluate --model`, each a named function: who is
//! evaluated on what ([`held_out_users`], [`next_item_users`], [`RatingTest`]), and how their
//! scores become metrics ([`full_ranking`], [`sampled_ranking`], [`RatingTest::metrics`]).
//!
//! - **rating prediction**: RMSE and MAE over the test ratings whose user and item the model
//!   knows.
//! - **full ranking**: every item the model knows is ranked for each test user, the items of
//!   the user's history excluded; the relevant set is the user's held-out items.
//! - **sampled** (notebook 000): each user's held-out items are ranked among `n_negatives`
//!   items drawn at random from the items that are not held out (they may be in the user's
//!   history); ties keep the held-out items first. It is much easier than the full protocol,
//!   so its numbers flatter the model (Krichene & Rendle, "On Sampled Metrics for Item
//!   Recommendation", 2020).
//!
//! Scoring is the caller's: a protocol takes, for each test user, the scores of all items.
//! Scores (and rating predictions) that are not finite are refused, not ranked: a diverged
//! model is reported as such ([`ensure_finite`]). Everything here is in model indices; the
//! metrics come from [`crate::eval::metrics`].

use std::collections::{HashMap, HashSet};

use anyhow::{bail, Result};

#[cfg(doc)]
use crate::eval::metrics::top_k_excluding;
use crate::eval::metrics::{ensure_finite, mae, rmse, RankingMetrics};
use crate::eval::ranking::{rank_in_chunks, Ranked};
#[cfg(doc)]
use crate::eval::sampled::NegativePool;
use crate::prep::IdMap;
use tch::Tensor;

/// One test user of a ranking protocol, in model indices.
#[derive(Debug, Clone, PartialEq)]
pub struct TestUser {
    /// The user's original id (the key of the per-user lists).
    pub user: i64,
    /// The model's index of the user, when the model knows the user.
    pub index: Option<i64>,
    /// The items the model may condition on (the train history, or the test history without its
    /// last item), in time order; the full protocol never recommends them.
    pub history: Vec<i64>,
    /// The held-out items: the relevant set.
    pub relevant: Vec<i64>,
}

/// The users of a held-out split, in increasing id: each test user the model knows, with a
/// train history (`train`: original item ids in time order) and at least one test item the
/// model knows (`test`). Their relevant items are those test items, in increasing index; their
/// history the train items the model knows.
pub fn held_out_users(
    train: &HashMap<i64, Vec<i64>>,
    test: &HashMap<i64, HashSet<i64>>,
    users: &IdMap,
    items: &IdMap,
) -> Vec<TestUser> {
    let mut ids: Vec<&i64> = test.keys().collect();
    ids.sort();
    let mut out = Vec::new();
    for u in ids {
        let (Some(index), Some(history)) = (users.index(*u), train.get(u)) else {
            continue;
        };
        let mut relevant = known(items, test[u].iter().copied());
        relevant.sort();
        if relevant.is_empty() {
            continue;
        }
        out.push(TestUser {
            user: *u,
            index: Some(index),
            history: known(items, history.iter().copied()),
            relevant,
        });
    }
    out
}

/// The next-item users of a user-based split, in increasing id: each test user whose test
/// history (`test`: original item ids in time order) holds at least two items the model knows.
/// The last of them is the one relevant item; the ones before it are the history.
pub fn next_item_users(
    test: &HashMap<i64, Vec<i64>>,
    users: &IdMap,
    items: &IdMap,
) -> Vec<TestUser> {
    let mut ids: Vec<&i64> = test.keys().collect();
    ids.sort();
    let mut out = Vec::new();
    for u in ids {
        let h = known(items, test[u].iter().copied());
        if h.len() < 2 {
            continue;
        }
        let (prefix, last) = h.split_at(h.len() - 1);
        out.push(TestUser {
            user: *u,
            index: users.index(*u),
            history: prefix.to_vec(),
            relevant: last.to_vec(),
        });
    }
    out
}

/// The model indices of the items of `ids` the model knows, in order.
fn known(items: &IdMap, ids: impl Iterator<Item = i64>) -> Vec<i64> {
    ids.filter_map(|i| items.index(i)).collect()
}

/// Checks that there is one row of `n_items` finite scores per test user.
fn check_scores(cases: &[TestUser], scores: &[Vec<f32>], n_items: usize) -> Result<()> {
    if cases.is_empty() {
        bail!("no test user has test items the model can rank (known user with known items)");
    }
    if scores.len() != cases.len() {
        bail!("{} score rows for {} test users", scores.len(), cases.len());
    }
    if let Some(row) = scores.iter().find(|row| row.len() != n_items) {
        bail!("a score row holds {} items, not {n_items}", row.len());
    }
    scores.iter().try_for_each(|row| ensure_finite(row))
}

/// The full-ranking protocol: for each test user, all `n_items` items ranked by that user's
/// `scores` row, the history excluded ([`top_k_excluding`]), scored against the relevant
/// items at `k` with Coverage over `n_items`. It draws nothing.
pub fn full_ranking(
    cases: &[TestUser],
    scores: &[Vec<f32>],
    n_items: usize,
    k: usize,
) -> Result<RankingMetrics> {
    Ok(rank_rows(cases, scores, n_items, k, 0, 0)?.full)
}

/// The outcome of [`sampled_ranking`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SampledRanking {
    /// Negatives drawn per user (fewer than asked when a user's pool is smaller).
    pub negatives: usize,
    pub metrics: RankingMetrics,
}

/// The sampled protocol of notebook 000: draws `n_negatives` items per test user from `seed`
/// (at most as many as every user's pool allows; uniform without replacement,
/// [`crate::eval::sampled::sample_negatives_by_rejection`], not the notebook's own `randperm`
/// draws) from the items that are not relevant to the user
/// ([`NegativePool::NotTestPositive`]), ranks the
/// relevant items among them by the user's `scores` row
/// ([`crate::eval::sampled::SampledCandidates::ranked`]), and scores the lists at `k` with
/// Coverage over `n_items`.
pub fn sampled_ranking(
    cases: &[TestUser],
    scores: &[Vec<f32>],
    n_items: usize,
    k: usize,
    n_negatives: usize,
    seed: u64,
) -> Result<SampledRanking> {
    if n_negatives == 0 {
        bail!("the sampled protocol needs at least one negative per user");
    }
    let ranked = rank_rows(cases, scores, n_items, k, n_negatives, seed)?;
    let (negatives, metrics) = ranked.sampled.expect("negatives were asked for");
    Ok(SampledRanking { negatives, metrics })
}

/// [`rank_in_chunks`] over score rows already computed, one per test user.
fn rank_rows(
    cases: &[TestUser],
    scores: &[Vec<f32>],
    n_items: usize,
    k: usize,
    n_negatives: usize,
    seed: u64,
) -> Result<Ranked> {
    check_scores(cases, scores, n_items)?;
    let mut rows = scores.iter();
    let mut score = |chunk: &[TestUser]| -> Result<Tensor> {
        let flat: Vec<f32> = rows.by_ref().take(chunk.len()).flatten().copied().collect();
        Ok(Tensor::from_slice(&flat).view([chunk.len() as i64, n_items as i64]))
    };
    rank_in_chunks(&mut score, cases, n_items, k, n_negatives, seed)
}

/// The rating-prediction protocol: the test ratings whose user and item the model knows.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingTest {
    /// User indices, one per kept rating.
    pub users: Vec<i64>,
    /// Item indices, one per kept rating.
    pub items: Vec<i64>,
    /// The ratings.
    pub targets: Vec<f64>,
}

/// RMSE and MAE of a [`RatingTest`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RatingMetrics {
    pub rmse: f64,
    pub mae: f64,
}

impl RatingTest {
    /// Keeps the `(user, item, rating)` rows (original ids) whose user and item are known.
    pub fn new(
        rows: impl IntoIterator<Item = (i64, i64, f64)>,
        users: &IdMap,
        items: &IdMap,
    ) -> RatingTest {
        let mut t = RatingTest {
            users: Vec::new(),
            items: Vec::new(),
            targets: Vec::new(),
        };
        for (u, i, r) in rows {
            if let (Some(u), Some(i)) = (users.index(u), items.index(i)) {
                t.users.push(u);
                t.items.push(i);
                t.targets.push(r);
            }
        }
        t
    }

    /// Number of kept ratings.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether no rating was kept.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// RMSE and MAE of `predictions`, one per kept rating; fails when a prediction is not
    /// finite (a diverged model).
    pub fn metrics(&self, predictions: &[f64]) -> Result<RatingMetrics> {
        if predictions.len() != self.len() {
            bail!(
                "{} predictions for {} test ratings",
                predictions.len(),
                self.len()
            );
        }
        if let Some(p) = predictions.iter().find(|p| !p.is_finite()) {
            bail!(
                "the model's predictions are not finite (NaN/inf; found {p}): training diverged?"
            );
        }
        Ok(RatingMetrics {
            rmse: rmse(predictions, &self.targets),
            mae: mae(predictions, &self.targets),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[i64]) -> IdMap {
        IdMap::fit(v.iter().copied())
    }

    #[test]
    fn held_out_and_next_item_users() {
        let (users, items) = (ids(&[1, 2]), ids(&[10, 20, 30, 40]));
        let train: HashMap<i64, Vec<i64>> = [(1, vec![30, 99, 10]), (3, vec![10])].into();
        let test: HashMap<i64, HashSet<i64>> =
            [(1, [40, 20, 98].into()), (2, [10].into()), (3, [20].into())].into();
        let cases = held_out_users(&train, &test, &users, &items);
        // user 2 has no train history, user 3 is unknown
        assert_eq!(cases.len(), 1);
        let i = |id| items.index(id).unwrap();
        assert_eq!(cases[0].history, vec![i(30), i(10)]);
        let mut want = vec![i(40), i(20)];
        want.sort();
        assert_eq!(cases[0].relevant, want);
        let seqs: HashMap<i64, Vec<i64>> = [(5, vec![10, 99, 20, 30]), (1, vec![10])].into();
        let next = next_item_users(&seqs, &users, &items);
        assert_eq!(next.len(), 1);
        assert_eq!((next[0].user, next[0].index), (5, None));
        assert_eq!(
            (next[0].history.clone(), next[0].relevant.clone()),
            (vec![i(10), i(20)], vec![i(30)])
        );
    }

    #[test]
    fn full_ranking_excludes_the_history() {
        let cases = vec![TestUser {
            user: 7,
            index: Some(0),
            history: vec![0],
            relevant: vec![2],
        }];
        // item 0 scores best but is in the history: the top 1 is item 2
        let m = full_ranking(&cases, &[vec![0.9, 0.1, 0.5]], 3, 1).unwrap();
        assert_eq!(
            (m.hit_rate, m.precision, m.coverage),
            (1.0, 1.0, Some(1.0 / 3.0))
        );
        assert!(full_ranking(&cases, &[vec![0.9]], 3, 1).is_err());
        assert!(full_ranking(&[], &[], 3, 1).is_err());
    }

    #[test]
    fn non_finite_scores_are_refused_not_ranked() {
        let cases = vec![TestUser {
            user: 7,
            index: Some(0),
            history: vec![],
            relevant: vec![2],
        }];
        // a diverged model: NaN would compare equal to everything and could rank first
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let scores = [vec![0.1, bad, 0.5]];
            for e in [
                full_ranking(&cases, &scores, 3, 1).unwrap_err(),
                sampled_ranking(&cases, &scores, 3, 1, 2, 0).unwrap_err(),
            ] {
                assert!(e.to_string().contains("scores are not finite"), "{e}");
            }
        }
        let all_nan = [vec![f32::NAN; 3]];
        assert!(sampled_ranking(&cases, &all_nan, 3, 3, 2, 0).is_err());
        let t = RatingTest::new([(1, 10, 4.0)], &ids(&[1]), &ids(&[10]));
        let e = t.metrics(&[f64::NAN]).unwrap_err().to_string();
        assert!(e.contains("predictions are not finite"), "{e}");
    }

    #[test]
    fn sampled_ranking_draws_what_it_can() {
        let cases = vec![TestUser {
            user: 7,
            index: Some(0),
            history: vec![],
            relevant: vec![3],
        }];
        let s = sampled_ranking(&cases, &[vec![0.4, 0.3, 0.2, 0.1]], 4, 2, 100, 0).unwrap();
        // three items are not relevant; the relevant one scores worst of the four
        assert_eq!(s.negatives, 3);
        assert_eq!(s.metrics.hit_rate, 0.0);
        let again = sampled_ranking(&cases, &[vec![0.4, 0.3, 0.2, 0.1]], 4, 4, 2, 0).unwrap();
        assert_eq!((again.negatives, again.metrics.hit_rate), (2, 1.0));
    }

    #[test]
    fn rating_test_keeps_known_pairs() {
        let t = RatingTest::new(
            [(1, 10, 4.0), (2, 10, 3.0), (1, 20, 1.0)],
            &ids(&[1]),
            &ids(&[10, 20]),
        );
        assert_eq!(t.len(), 2);
        let m = t.metrics(&[3.0, 2.0]).unwrap();
        assert_eq!((m.rmse, m.mae), (1.0, 1.0));
        assert!(t.metrics(&[1.0]).is_err());
    }
}
