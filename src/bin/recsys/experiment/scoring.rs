//! Scoring one fitted model on a split's test side: the ranking metrics at k and Cornac's
//! whole-list AUC and MAP from the same score rows (one scoring pass, a chunk of users at a
//! time), or the rating errors, global and averaged per user.

use std::collections::HashSet;

use anyhow::{bail, Result};
use polars::prelude::DataFrame;
use tch::Tensor;

use super::run::{PerUser, Plan};
use recsys::eval::metrics::{hit_rate_at_k, ndcg_at_k, precision_at_k, recall_at_k};
use recsys::eval::protocol::{held_out_users, RatingTest, TestUser};
use recsys::eval::ranking::rank_in_chunks;
use recsys::eval::user_errors::user_errors;
use recsys::eval::whole_list::{means, whole_list_chunk, WholeList};
use recsys::prep::by_user::{histories, item_sets, rows};
use recsys::prep::names::IdNames;
use recsys::prep::prepared::Prepared;
use recsys::recommender::evaluation::query;
use recsys::recommender::{Query, Recommender, Task};

/// A model's metrics on a test side (in the table's column order), its primary metric per
/// test user (by the user's original id), and every test user's numbers.
pub type Scored = (Vec<(String, f64)>, Vec<(i64, f64)>, PerUser);

/// The test side of one split, ready to score any model.
pub struct TestSide {
    /// The original ids, as text.
    names: IdNames,
    /// Original item id of each model index.
    item_ids: Vec<i64>,
    cases: Cases,
}

/// The test users or ratings of a [`TestSide`].
enum Cases {
    Ranking {
        cases: Vec<TestUser>,
    },
    Rating {
        test: RatingTest,
        /// Original user id of each model index.
        user_ids: Vec<i64>,
    },
}

impl TestSide {
    /// The test side of `data`'s test part for a model trained on its train part.
    pub fn new(data: &Prepared, task: Task) -> Result<TestSide> {
        Self::against(data, &data.train, &data.test, task)
    }

    /// The test side of `test` for a model trained on `train` (both in the id maps of `data`).
    pub fn against(
        data: &Prepared,
        train: &DataFrame,
        test: &DataFrame,
        task: Task,
    ) -> Result<TestSide> {
        let cases = match task {
            Task::Ranking | Task::NextItem => {
                let cases = held_out_users(
                    &histories(train)?,
                    &item_sets(test)?,
                    &data.users,
                    &data.items,
                );
                if cases.is_empty() {
                    bail!("no test user has a test item known in train: change the protocol");
                }
                Cases::Ranking { cases }
            }
            Task::Rating => {
                let t = RatingTest::new(
                    rows(test)?.into_iter().map(|(u, i, r, _)| (u, i, r)),
                    &data.users,
                    &data.items,
                );
                if t.is_empty() {
                    bail!("no test rating has a user and an item known in train");
                }
                Cases::Rating {
                    test: t,
                    user_ids: data.users.ids().to_vec(),
                }
            }
        };
        Ok(TestSide {
            names: data.names(),
            item_ids: data.items.ids().to_vec(),
            cases,
        })
    }

    /// The metrics of `model` (in the table's column order) and the per-user numbers; the
    /// sampled protocol's too when `sampled` negatives are asked for.
    pub fn score(
        &self,
        model: &dyn Recommender,
        plan: &Plan,
        sampled: usize,
        seed: u64,
    ) -> Result<Scored> {
        let k = plan.k;
        match &self.cases {
            Cases::Ranking { cases } => {
                let n_items = model.n_items() as usize;
                let mut whole: Vec<WholeList> = Vec::with_capacity(cases.len());
                // Each chunk's score rows feed the whole-list metrics, then the top-k ranking.
                let mut score = |chunk: &[TestUser]| -> Result<Tensor> {
                    let queries = chunk
                        .iter()
                        .map(|case| query(model, case))
                        .collect::<Result<Vec<Query>>>()?;
                    let scores = model.score(&queries)?;
                    whole.extend(whole_list_chunk(&scores, chunk, n_items)?);
                    Ok(scores)
                };
                let ranked = rank_in_chunks(&mut score, cases, n_items, k, sampled, seed)?;
                let (auc, map) = means(&whole);
                let mut names = ["NDCG", "Recall", "Precision", "HitRate"]
                    .map(|m| format!("{m}@{k}"))
                    .to_vec();
                names.extend(["AUC", "AP"].map(String::from));
                let rows: Vec<(String, Vec<f64>)> = cases
                    .iter()
                    .zip(&whole)
                    .map(|(c, w)| {
                        let rel: HashSet<i64> = c.relevant.iter().copied().collect();
                        let list = &ranked.lists[&c.user];
                        let values = vec![
                            ndcg_at_k(list, &rel, k),
                            recall_at_k(list, &rel, k),
                            precision_at_k(list, &rel, k),
                            hit_rate_at_k(list, &rel, k),
                            w.auc.unwrap_or(f64::NAN),
                            w.average_precision,
                        ];
                        (self.names.user(c.user), values)
                    })
                    .collect();
                let per_user = cases
                    .iter()
                    .zip(&rows)
                    .map(|(c, (_, v))| (c.user, v[0]))
                    .collect();
                let m = ranked.full;
                let mut out = vec![
                    (format!("NDCG@{k}"), m.ndcg),
                    (format!("Recall@{k}"), m.recall),
                    (format!("Precision@{k}"), m.precision),
                    (format!("MAP@{k}"), m.map),
                    (format!("MAP@{k} /rel"), m.map_rel),
                    ("MAP".into(), map),
                    ("AUC".into(), auc),
                    (format!("HitRate@{k}"), m.hit_rate),
                    (format!("MRR@{k}"), m.mrr),
                    (format!("Coverage@{k}"), m.coverage.unwrap_or(f64::NAN)),
                ];
                if !plan.map_rel {
                    out.retain(|(name, _)| !name.ends_with("/rel"));
                }
                if let Some((_, s)) = ranked.sampled {
                    out.push((format!("sampled NDCG@{k}"), s.ndcg));
                    out.push((format!("sampled HitRate@{k}"), s.hit_rate));
                }
                let lists = cases
                    .iter()
                    .map(|c| {
                        let items = ranked.lists[&c.user]
                            .iter()
                            .map(|&i| self.names.item(self.item_ids[i as usize]))
                            .collect();
                        (self.names.user(c.user), items)
                    })
                    .collect();
                let table = PerUser { names, rows, lists };
                Ok((out, per_user, table))
            }
            Cases::Rating { test, user_ids } => {
                let preds = model.predict(&test.users, &test.items)?;
                let m = test.metrics(&preds)?;
                let e = user_errors(&test.users, &preds, &test.targets)?;
                let mut counts = vec![0usize; user_ids.len()];
                for &u in &test.users {
                    counts[u as usize] += 1;
                }
                // the paired test's value: the user's mean squared error
                let per_user = e
                    .per_user
                    .iter()
                    .map(|(u, (rmse, _))| (user_ids[*u as usize], rmse * rmse))
                    .collect();
                let rows = e
                    .per_user
                    .iter()
                    .map(|(u, (rmse, mae))| {
                        let user = self.names.user(user_ids[*u as usize]);
                        (user, vec![*rmse, *mae, counts[*u as usize] as f64])
                    })
                    .collect();
                let names = ["RMSE", "MAE", "ratings"].map(String::from).to_vec();
                Ok((
                    vec![
                        ("RMSE".into(), m.rmse),
                        ("MAE".into(), m.mae),
                        ("RMSE (per user)".into(), e.user_rmse),
                        ("MAE (per user)".into(), e.user_mae),
                    ],
                    per_user,
                    PerUser {
                        names,
                        rows,
                        lists: vec![],
                    },
                ))
            }
        }
    }
}
