//! What each model fits on in an experiment: the train part as each task trains on it
//! ([`TrainSets`]), and `--grid`'s choice on a validation part carved from train ([`tune`]).

use anyhow::Result;
use polars::prelude::DataFrame;
use serde_json::Value;

use super::contenders::Contender;
use super::run::Plan;
use super::scoring::TestSide;
use recsys::prep::prepared::Prepared;
use recsys::prep::split::validation::{carve_validation, ValidationSplit};
use recsys::recommender::{train_set, Task, TrainSet};
use recsys::runtime::context::Context;

/// The grid's best point for `c`, by the primary metric on a validation part carved at
/// random from the train part (the test part is never seen).
pub fn tune(
    ctx: &Context,
    plan: &Plan,
    c: &Contender,
    points: &[Value],
    data: &Prepared,
    seed: u64,
) -> Result<Value> {
    if points.len() <= 1 {
        return Ok(points
            .first()
            .cloned()
            .unwrap_or(Value::Object(Default::default())));
    }
    tch::manual_seed(seed as i64);
    let (fit_part, validation) = carve_validation(
        &data.train,
        ValidationSplit::Random,
        plan.validation_fraction,
    )?;
    let train = TrainSets::new(data, &fit_part, plan)?;
    let side = TestSide::against(data, &fit_part, &validation, plan)?;
    let mut best: Option<(f64, &Value)> = None;
    for point in points {
        tch::manual_seed(seed as i64);
        let fitted = c.fit(train.of(c)?, point, ctx.device)?;
        let (metrics, ..) = side.score(fitted.model.as_ref(), plan, 0, seed)?;
        let value = metrics[0].1 * plan.task.sign();
        if best.as_ref().is_none_or(|(b, _)| value > *b) {
            best = Some((value, point));
        }
    }
    Ok(best.map(|b| b.1.clone()).unwrap_or_default())
}

/// A split's train part as each task trains on it: ratings for the rating models, ones for the
/// ranking models (the same rows).
pub struct TrainSets {
    rating: Option<TrainSet>,
    ranking: Option<TrainSet>,
}

impl TrainSets {
    pub fn new(data: &Prepared, train: &DataFrame, plan: &Plan) -> Result<TrainSets> {
        let needs = |t: Task| plan.contenders.iter().any(|c| c.task().ok() == Some(t));
        Ok(TrainSets {
            rating: needs(Task::Rating)
                .then(|| train_set(data, train, Task::Rating))
                .transpose()?,
            ranking: needs(Task::Ranking)
                .then(|| train_set(data, train, Task::Ranking))
                .transpose()?,
        })
    }

    /// The train set `c` fits on.
    pub fn of(&self, c: &Contender) -> Result<&TrainSet> {
        let set = match c.task()? {
            Task::Rating => self.rating.as_ref(),
            _ => self.ranking.as_ref(),
        };
        set.ok_or_else(|| anyhow::anyhow!("no train set for {}", c.name()))
    }
}
