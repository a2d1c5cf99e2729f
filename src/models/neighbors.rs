//! Neighbourhood recommenders on sparse user-item interactions: popularity, cosine similarity,
//! user-based and item-based collaborative filtering ("Data Science from Scratch", chapter 23).
//!
//! Users and items are dense indices (`0..n_users`, `0..n_items`). Each user's items are kept
//! in the order they were given, because that order decides ties: like the notebook, every
//! ranking here is a *stable* sort by descending score, so equal scores keep the order in which
//! they were first met. Similarities are computed from an inverted index (only co-rated pairs
//! are touched), so the same code serves the 15-user toy data and MovieLens.
//!
//! With 0/1 interactions every dot product is an exact integer, and cosine similarity is
//! `dot / sqrt(|a| * |b|)`, computed exactly as the notebook's
//! `dot(v, w) / math.sqrt(dot(v, v) * dot(w, w))`, so the printed floats are identical.

use std::collections::HashMap;

use anyhow::{bail, Result};

/// Sparse user-item interactions with a value per pair (1.0 for implicit "interested").
#[derive(Debug, Clone)]
pub struct Interactions {
    n_items: usize,
    /// Per user: (item, value) in the order given.
    user_items: Vec<Vec<(usize, f64)>>,
    /// Per item: (user, value) in ascending user order.
    item_users: Vec<Vec<(usize, f64)>>,
    /// Squared norms of user rows and item columns.
    user_norm2: Vec<f64>,
    item_norm2: Vec<f64>,
}

/// Rank `(key, score)` pairs by descending score, keeping the given order among ties
/// (Python's `sorted(pairs, key=lambda p: p[-1], reverse=True)`).
pub fn rank_by_score<K>(pairs: &mut [(K, f64)]) {
    pairs.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
}

/// Cosine similarity of two dense vectors: `v.w / sqrt((v.v) * (w.w))`, 0 when either is zero.
pub fn cosine_similarity(v: &[f64], w: &[f64]) -> f64 {
    assert_eq!(
        v.len(),
        w.len(),
        "cosine_similarity of vectors of different lengths"
    );
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y);
    let denom = (dot(v, v) * dot(w, w)).sqrt();
    if denom == 0.0 {
        0.0
    } else {
        dot(v, w) / denom
    }
}

impl Interactions {
    /// Implicit interactions: `user_items[u]` lists the items user `u` is interested in (no
    /// repeats), each with value 1.
    pub fn from_user_lists(n_items: usize, user_items: &[Vec<usize>]) -> Result<Interactions> {
        let triples: Vec<(usize, usize, f64)> = user_items
            .iter()
            .enumerate()
            .flat_map(|(u, items)| items.iter().map(move |&i| (u, i, 1.0)))
            .collect();
        Interactions::from_triples(user_items.len(), n_items, &triples)
    }

    /// Interactions from `(user, item, value)` triples; each user's items keep the triples'
    /// order. A repeated (user, item) pair is an error.
    pub fn from_triples(
        n_users: usize,
        n_items: usize,
        triples: &[(usize, usize, f64)],
    ) -> Result<Interactions> {
        let mut user_items = vec![Vec::new(); n_users];
        let mut item_users = vec![Vec::new(); n_items];
        let mut seen = std::collections::HashSet::with_capacity(triples.len());
        for &(u, i, v) in triples {
            if u >= n_users || i >= n_items {
                bail!("interaction ({u}, {i}) outside {n_users} users x {n_items} items");
            }
            if !seen.insert((u, i)) {
                bail!("user {u} has item {i} twice");
            }
            user_items[u].push((i, v));
            item_users[i].push((u, v));
        }
        for users in &mut item_users {
            users.sort_by_key(|&(u, _)| u);
        }
        let norm2 = |rows: &Vec<Vec<(usize, f64)>>| -> Vec<f64> {
            rows.iter()
                .map(|r| r.iter().fold(0.0, |s, &(_, v)| s + v * v))
                .collect()
        };
        Ok(Interactions {
            n_items,
            user_norm2: norm2(&user_items),
            item_norm2: norm2(&item_users),
            user_items,
            item_users,
        })
    }

    /// Number of users.
    pub fn n_users(&self) -> usize {
        self.user_items.len()
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.n_items
    }

    /// The items of `user`, in the order given.
    pub fn items_of(&self, user: usize) -> impl Iterator<Item = usize> + '_ {
        self.user_items[user].iter().map(|&(i, _)| i)
    }

    /// Whether `user` has `item`.
    pub fn has(&self, user: usize, item: usize) -> bool {
        self.user_items[user].iter().any(|&(i, _)| i == item)
    }

    /// Items by number of users, most popular first; ties in order of first appearance
    /// (users in order, each user's items in order), like `Counter(...).most_common()`.
    pub fn popularity(&self) -> Vec<(usize, usize)> {
        let mut order = Vec::new();
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for items in &self.user_items {
            for &(i, _) in items {
                let c = counts.entry(i).or_insert_with(|| {
                    order.push(i);
                    0
                });
                *c += 1;
            }
        }
        let mut ranked: Vec<(usize, usize)> = order.iter().map(|&i| (i, counts[&i])).collect();
        ranked.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        ranked
    }

    /// The `max_results` most popular items that `user_items` does not contain.
    pub fn most_popular_new(
        &self,
        user_items: &[usize],
        max_results: usize,
    ) -> Vec<(usize, usize)> {
        self.popularity()
            .into_iter()
            .filter(|(i, _)| !user_items.contains(i))
            .take(max_results)
            .collect()
    }

    /// Cosine similarity of `user` with every user (itself included), as a dense row.
    pub fn user_similarities(&self, user: usize) -> Vec<f64> {
        cosine_row(
            &self.user_items[user],
            &self.item_users,
            &self.user_norm2,
            user,
        )
    }

    /// Cosine similarity of `item` with every item (itself included), as a dense row.
    pub fn item_similarities(&self, item: usize) -> Vec<f64> {
        cosine_row(
            &self.item_users[item],
            &self.user_items,
            &self.item_norm2,
            item,
        )
    }

    /// Other users with positive similarity to `user`, most similar first.
    pub fn most_similar_users(&self, user: usize) -> Vec<(usize, f64)> {
        positive_others(self.user_similarities(user), user)
    }

    /// Other items with positive similarity to `item`, most similar first.
    pub fn most_similar_items(&self, item: usize) -> Vec<(usize, f64)> {
        positive_others(self.item_similarities(item), item)
    }

    /// User-based CF: every item of every similar user scores that user's similarity; items are
    /// ranked by total score (ties in order of first appearance). Unless
    /// `include_current_items`, the user's own items are left out.
    pub fn user_based_suggestions(
        &self,
        user: usize,
        include_current_items: bool,
    ) -> Vec<(usize, f64)> {
        let mut scores = OrderedScores::default();
        for (other, similarity) in self.most_similar_users(user) {
            for i in self.items_of(other) {
                scores.add(i, similarity);
            }
        }
        self.finish(scores, user, include_current_items)
    }

    /// Item-based CF: for each item of `user` (in item-index order), every similar item scores
    /// that similarity; items are ranked by total score (ties in order of first appearance).
    /// Unless `include_current_items`, the user's own items are left out.
    pub fn item_based_suggestions(
        &self,
        user: usize,
        include_current_items: bool,
    ) -> Vec<(usize, f64)> {
        let mut own: Vec<usize> = self.items_of(user).collect();
        own.sort_unstable();
        let mut scores = OrderedScores::default();
        for item in own {
            for (other, similarity) in self.most_similar_items(item) {
                scores.add(other, similarity);
            }
        }
        self.finish(scores, user, include_current_items)
    }

    fn finish(
        &self,
        scores: OrderedScores,
        user: usize,
        include_current_items: bool,
    ) -> Vec<(usize, f64)> {
        let mut ranked = scores.pairs;
        rank_by_score(&mut ranked);
        if !include_current_items {
            ranked.retain(|&(i, _)| !self.has(user, i));
        }
        ranked
    }
}

/// Scores accumulated per key in order of first appearance (a Python `defaultdict(float)`).
#[derive(Default)]
struct OrderedScores {
    pairs: Vec<(usize, f64)>,
    slot: HashMap<usize, usize>,
}

impl OrderedScores {
    fn add(&mut self, key: usize, score: f64) {
        let pairs = &mut self.pairs;
        let at = *self.slot.entry(key).or_insert_with(|| {
            pairs.push((key, 0.0));
            pairs.len() - 1
        });
        self.pairs[at].1 += score;
    }
}

/// Cosine similarities of one row (`entries`: (column, value)) with every row of the same side,
/// through the other side's lists (`columns[c]`: (row, value)).
fn cosine_row(
    entries: &[(usize, f64)],
    columns: &[Vec<(usize, f64)>],
    norm2: &[f64],
    row: usize,
) -> Vec<f64> {
    let mut dots = vec![0.0; norm2.len()];
    for &(c, a) in entries {
        for &(other, b) in &columns[c] {
            dots[other] += a * b;
        }
    }
    dots.iter()
        .zip(norm2)
        .map(|(&dot, &n2)| {
            let denom = (norm2[row] * n2).sqrt();
            if denom == 0.0 {
                0.0
            } else {
                dot / denom
            }
        })
        .collect()
}

fn positive_others(similarities: Vec<f64>, me: usize) -> Vec<(usize, f64)> {
    let mut pairs: Vec<(usize, f64)> = similarities
        .into_iter()
        .enumerate()
        .filter(|&(id, s)| s > 0.0 && id != me)
        .collect();
    rank_by_score(&mut pairs);
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The four users of the notebook's worked example: 0 Python+DS, 1 ML+DS, 2 Python+AI, 3 ML+Python.
    fn example() -> Interactions {
        // items: 0 Python, 1 Data Science, 2 Machine Learning, 3 Artificial Intelligence
        Interactions::from_user_lists(4, &[vec![0, 1], vec![2, 1], vec![0, 3], vec![2, 0]]).unwrap()
    }

    #[test]
    fn cosine_of_sets() {
        let x = example();
        let row = x.user_similarities(0);
        assert_eq!(row, vec![1.0, 0.5, 0.5, 0.5]);
        assert_eq!(
            cosine_similarity(&[1.0, 1.0, 0.0, 0.0], &[1.0, 0.0, 0.0, 1.0]),
            0.5
        );
        assert_eq!(cosine_similarity(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        // Item similarities: Python (users 0, 2, 3) vs Data Science (users 0, 1).
        assert_eq!(x.item_similarities(0)[1], 1.0 / 6f64.sqrt());
    }

    #[test]
    fn rankings_are_stable() {
        let x = example();
        assert_eq!(x.most_similar_users(0), vec![(1, 0.5), (2, 0.5), (3, 0.5)]);
        // Machine Learning from users 1 and 3, AI from user 2; Python and DS are user 0's own.
        assert_eq!(x.user_based_suggestions(0, false), vec![(2, 1.0), (3, 0.5)]);
        let all = x.user_based_suggestions(0, true);
        assert_eq!(all.len(), 4);
        assert_eq!(all[0].0, 2, "{all:?}");
        // Popularity: Python 3, then DS and ML with 2 (DS first met before ML), AI 1.
        assert_eq!(x.popularity(), vec![(0, 3), (1, 2), (2, 2), (3, 1)]);
        assert_eq!(x.most_popular_new(&[0, 2], 5), vec![(1, 2), (3, 1)]);
    }

    #[test]
    fn item_based_filters_own_items_only_when_asked() {
        let x = example();
        let with = x.item_based_suggestions(0, true);
        let without = x.item_based_suggestions(0, false);
        assert!(with.iter().any(|&(i, _)| i == 0));
        assert!(without.iter().all(|&(i, _)| i != 0 && i != 1));
        assert_eq!(without.len(), 2);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(Interactions::from_user_lists(2, &[vec![0, 2]]).is_err());
        assert!(Interactions::from_user_lists(2, &[vec![1, 1]]).is_err());
    }
}
