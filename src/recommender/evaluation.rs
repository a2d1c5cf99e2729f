//! Any [`Recommender`] on a held-out part of a run: rating models by RMSE and MAE on the
//! held-out ratings whose user and item they know; ranking models under the full-ranking and
//! the sampled protocols of [`crate::eval::protocol`], users scored a chunk at a time.
//!
//! A ranking model's history is train (and validation, when it ranks the test part): those
//! items are never recommended. Next-item models under the user-based split score each test
//! user from their test history without its last item, the only relevant one.

use anyhow::{bail, Context as _, Result};
use polars::prelude::DataFrame;
use tch::Tensor;

use super::{Query, Recommender, Task};
use crate::eval::metrics::RankingMetrics;
use crate::eval::protocol::{held_out_users, next_item_users, RatingMetrics, RatingTest, TestUser};
use crate::eval::ranking::{rank_in_chunks, Ranked};
use crate::prep::by_user::{histories, item_sets, rows};
use crate::prep::prepared::Prepared;
use crate::prep::spec::SplitKind;

/// The users a ranking model is scored on in `held_out` (the validation part when
/// `on_validation`, else test), with their history and relevant items.
pub fn ranking_cases(
    model: &dyn Recommender,
    data: &Prepared,
    held_out: &DataFrame,
    on_validation: bool,
    split: SplitKind,
) -> Result<Vec<TestUser>> {
    if model.task() == Task::NextItem && split == SplitKind::User {
        return Ok(next_item_users(
            &histories(held_out)?,
            &data.users,
            &data.items,
        ));
    }
    let mut seen = data.train.clone();
    if let Some(v) = data.validation.as_ref().filter(|_| !on_validation) {
        seen.vstack_mut(v)?;
    }
    Ok(held_out_users(
        &data.excluded(&seen)?,
        &item_sets(&data.relevant(held_out)?)?,
        &data.users,
        &data.items,
    ))
}

/// The held-out ratings of `held_out` whose user and item the model knows.
pub fn rating_cases(data: &Prepared, held_out: &DataFrame) -> Result<RatingTest> {
    Ok(RatingTest::new(
        rows(held_out)?.into_iter().map(|(u, i, r, _)| (u, i, r)),
        &data.users,
        &data.items,
    ))
}

/// What `model` scores a test user from: the history for next-item models, else the user.
pub fn query(model: &dyn Recommender, user: &TestUser) -> Result<Query> {
    if model.task() == Task::NextItem {
        return Ok(Query::History(user.history.clone()));
    }
    user.index
        .map(Query::User)
        .with_context(|| format!("user {} is not known to the model", user.user))
}

/// Both ranking protocols for `model` over `cases` ([`rank_in_chunks`]); no sampled protocol
/// when `n_negatives` is 0.
pub fn rank(
    model: &dyn Recommender,
    cases: &[TestUser],
    k: usize,
    n_negatives: usize,
    seed: u64,
) -> Result<Ranked> {
    let mut score = |chunk: &[TestUser]| -> Result<Tensor> {
        let queries = chunk
            .iter()
            .map(|case| query(model, case))
            .collect::<Result<Vec<Query>>>()?;
        model.score(&queries)
    };
    rank_in_chunks(
        &mut score,
        cases,
        model.n_items() as usize,
        k,
        n_negatives,
        seed,
    )
}

/// A model's numbers on the test part.
pub enum Evaluation {
    /// Rating prediction on the test ratings the model can predict.
    Rating {
        test: RatingTest,
        predictions: Vec<f64>,
        metrics: RatingMetrics,
        /// Test rows in all (with those of unknown users or items).
        test_rows: usize,
    },
    /// Ranking under the full protocol, and the sampled one when negatives were asked for.
    Ranking {
        cases: Vec<TestUser>,
        n_items: usize,
        full: RankingMetrics,
        sampled: Option<(usize, RankingMetrics)>,
    },
}

/// Score `model` on `data`'s test part: `k` is the lists' cut-off and `n_negatives` the sampled
/// protocol's candidates (drawn from `seed`).
pub fn evaluate(
    model: &dyn Recommender,
    data: &Prepared,
    split: SplitKind,
    k: usize,
    n_negatives: usize,
    seed: u64,
) -> Result<Evaluation> {
    if model.task() == Task::Rating {
        let test = rating_cases(data, &data.test)?;
        if test.is_empty() {
            bail!("no test rating has a user and an item known to the model");
        }
        let predictions = model.predict(&test.users, &test.items)?;
        let metrics = test.metrics(&predictions)?;
        return Ok(Evaluation::Rating {
            test,
            predictions,
            metrics,
            test_rows: data.test.height(),
        });
    }
    let cases = ranking_cases(model, data, &data.test, false, split)?;
    if cases.is_empty() {
        bail!("no test user has test items the model can rank (known user with known items)");
    }
    let ranked = rank(model, &cases, k, n_negatives, seed)?;
    Ok(Evaluation::Ranking {
        n_items: model.n_items() as usize,
        full: ranked.full,
        sampled: ranked.sampled,
        cases,
    })
}

/// The validation metric printed after each epoch: RMSE for rating models, else NDCG@k under
/// the full-ranking protocol (train items excluded).
pub struct ValidationCheck {
    ratings: Option<RatingTest>,
    cases: Vec<TestUser>,
    k: usize,
}

impl ValidationCheck {
    /// The check of `data`'s validation part for a model of `task`; `None` without one.
    pub fn new(task: Task, data: &Prepared, split: SplitKind, k: usize) -> Result<Option<Self>> {
        let Some(validation) = &data.validation else {
            return Ok(None);
        };
        if task == Task::Rating {
            let t = rating_cases(data, validation)?;
            if t.is_empty() {
                bail!("no validation rating has a user and an item known to the model; raise --validation-fraction");
            }
            return Ok(Some(ValidationCheck {
                ratings: Some(t),
                cases: vec![],
                k,
            }));
        }
        let cases = if task == Task::NextItem && split == SplitKind::User {
            next_item_users(&histories(validation)?, &data.users, &data.items)
        } else {
            held_out_users(
                &data.excluded(&data.train)?,
                &item_sets(&data.relevant(validation)?)?,
                &data.users,
                &data.items,
            )
        };
        if cases.is_empty() {
            bail!("no validation user has items the model can rank; raise --validation-fraction");
        }
        Ok(Some(ValidationCheck {
            ratings: None,
            cases,
            k,
        }))
    }

    /// The metric's name and value for `model` now, e.g. `("NDCG@10", 0.21)`.
    pub fn measure(&self, model: &dyn Recommender) -> Result<(String, f64)> {
        if let Some(t) = &self.ratings {
            let predictions = model.predict(&t.users, &t.items)?;
            return Ok(("RMSE".into(), t.metrics(&predictions)?.rmse));
        }
        let ranked = rank(model, &self.cases, self.k, 0, 0)?;
        Ok((format!("NDCG@{}", self.k), ranked.full.ndcg))
    }
}
