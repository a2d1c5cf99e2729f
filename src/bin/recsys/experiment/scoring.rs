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
use recsys::prep::by_user::{item_sets, rows};
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
    /// The ranking protocol's test users (when the plan ranks).
    ranking: Option<Vec<TestUser>>,
    /// The rating protocol's test ratings, with the original user id of each model index
    /// (when the plan rates).
    rating: Option<(RatingTest, Vec<i64>)>,
}

impl TestSide {
    /// The test side of `data`'s test part for a model trained on its train part.
    pub fn new(data: &Prepared, plan: &Plan) -> Result<TestSide> {
        Self::against(data, &data.train, &data.test, plan)
    }

    /// The test side of `test` for a model trained on `train` (both in the id maps of `data`):
    /// a user's relevant items are the test ratings passing the relevance threshold, and the
    /// candidates exclude the train items passing it ([`Prepared::relevant`]); the rating
    /// protocol takes every test rating.
    pub fn against(
        data: &Prepared,
        train: &DataFrame,
        test: &DataFrame,
        plan: &Plan,
    ) -> Result<TestSide> {
        let ranking = if plan.ranks {
            let cases = held_out_users(
                &data.excluded(train)?,
                &item_sets(&data.relevant(test)?)?,
                &data.users,
                &data.items,
            );
            if cases.is_empty() {
                bail!("no test user has a relevant test item known in train: change the protocol");
            }
            Some(cases)
        } else {
            None
        };
        let rating = if plan.rates {
            let t = RatingTest::new(
                rows(test)?.into_iter().map(|(u, i, r, _)| (u, i, r)),
                &data.users,
                &data.items,
            );
            if t.is_empty() {
                bail!("no test rating has a user and an item known in train");
            }
            Some((t, data.users.ids().to_vec()))
        } else {
            None
        };
        Ok(TestSide {
            names: data.names(),
            item_ids: data.items.ids().to_vec(),
            ranking,
            rating,
        })
    }

    /// The test users of the ranking protocol, else the users with a test rating.
    pub fn users(&self) -> usize {
        match (&self.ranking, &self.rating) {
            (Some(cases), _) => cases.len(),
            (None, Some((t, _))) => t.users.iter().collect::<HashSet<_>>().len(),
            (None, None) => 0,
        }
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
        let mut scored: Scored = (vec![], vec![], PerUser::default());
        if let Some(cases) = &self.ranking {
            scored = self.ranked(model, cases, plan, sampled, seed)?;
        }
        if let Some((test, user_ids)) = &self.rating {
            let (metrics, per_user, rows) = if model.task() == Task::Rating {
                self.rated(model, test, user_ids)?
            } else {
                // a ranking model predicts no rating: its rating columns stay empty
                let names = ["RMSE", "MAE", "RMSE (per user)", "MAE (per user)"];
                let metrics = names.map(|n| (n.to_string(), f64::NAN)).to_vec();
                (metrics, vec![], PerUser::default())
            };
            scored.0.extend(metrics);
            if self.ranking.is_none() {
                scored.1 = per_user;
                scored.2 = rows;
            }
        }
        Ok(scored)
    }

    /// The ranking metrics of `model` over the test users `cases`.
    fn ranked(
        &self,
        model: &dyn Recommender,
        cases: &[TestUser],
        plan: &Plan,
        sampled: usize,
        seed: u64,
    ) -> Result<Scored> {
        let k = plan.k;
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

    /// The rating errors of `model` on `test`, global and per user.
    fn rated(
        &self,
        model: &dyn Recommender,
        test: &RatingTest,
        user_ids: &[i64],
    ) -> Result<Scored> {
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
