//! The experiment's loop: one split per seed, every model fitted and scored on it.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use anyhow::{bail, Result};
use polars::prelude::DataFrame;
use tch::Tensor;

use super::contenders::{Contender, Fitted, Settings, Task};
use super::grid::Grid;
use super::presets::Preset;
use super::{ExperimentArgs, DEFAULT_SEED};
use crate::args::ensure_k;
use crate::prepared::{
    histories, item_sets, prepare, rows, DataSpec, Prepared, SplitKind, SplitSpec,
};
use recsys::classic::TrainSet;
use recsys::eval::metrics::ndcg_at_k;
use recsys::eval::protocol::{held_out_users, RatingTest, TestUser};
use recsys::eval::ranking::rank_in_chunks;
use recsys::prep::f64_values;
use recsys::prep::split::validation::{carve_validation, ValidationSplit};
use recsys::runtime::context::Context;
use recsys::runtime::progress::Progress;
use recsys::say;

/// Everything the experiment will do, checked before any work starts.
pub struct Plan {
    pub spec: DataSpec,
    pub ratings: DataFrame,
    pub contenders: Vec<Contender>,
    pub task: Task,
    pub split: SplitSpec,
    /// The protocol's name as given (random, stratified, time, last-n, kfold).
    pub protocol: String,
    pub seeds: Vec<u64>,
    /// Ranking: positives are ratings above this (None: the data has no ratings).
    pub threshold: Option<f64>,
    pub k: usize,
    /// Negatives of the sampled protocol (0: none).
    pub sampled: usize,
    /// Also give MAP divided by |relevant| (ranx's and Microsoft Recommenders' `map`).
    pub map_rel: bool,
    pub grid: Option<Grid>,
    pub validation_fraction: f64,
    pub preset: Option<Preset>,
}

impl Plan {
    /// Parse and check every flag, and load the data.
    pub fn from_args(ctx: &Context, args: &ExperimentArgs) -> Result<Plan> {
        let preset = args.preset.as_deref().map(Preset::parse).transpose()?;
        let (models, protocol, k) = match preset {
            Some(p) => (p.models(), p.protocol().to_string(), p.k()),
            None => (args.models.clone(), args.protocol.clone(), args.k),
        };
        ensure_k(k)?;
        if args.seeds == 0 {
            bail!("--seeds must be at least 1");
        }
        let settings = Settings::parse(args.set.as_deref().unwrap_or(""), "--set")?;
        let contenders = models
            .iter()
            .map(|m| Contender::parse(m, &settings))
            .collect::<Result<Vec<_>>>()?;
        let task = contenders[0].task();
        if let Some(other) = contenders.iter().find(|c| c.task() != task) {
            bail!(
                "--models mixes ranking and rating models ({} is a {:?} model, {} a {:?} one); \
                 run one experiment for each",
                contenders[0].name(),
                task,
                other.name(),
                other.task()
            );
        }
        let mut seen = HashSet::new();
        if let Some(dup) = contenders.iter().find(|c| !seen.insert(c.name())) {
            bail!("--models names {} twice", dup.name());
        }
        let n_seeds = match preset {
            Some(p) => p.seeds().unwrap_or(args.seeds),
            None => args.seeds,
        };
        let kind = split_kind(&protocol, n_seeds)?;
        let split = SplitSpec {
            kind,
            test_fraction: preset
                .and_then(|p| p.test_fraction())
                .unwrap_or(args.test_fraction),
            time_threshold: None,
            last_n: args.last_n,
            folds: n_seeds,
            fold: 0,
            test_file: None,
            validation_fraction: None,
        };
        let grid = args.grid.as_deref().map(Grid::parse).transpose()?;
        if !(args.validation_fraction > 0.0 && args.validation_fraction < 1.0) {
            bail!(
                "--validation-fraction must be strictly between 0 and 1, got {}",
                args.validation_fraction
            );
        }
        ctx.ensure_outputs_free(&super::summary::FILES)?;
        let spec = DataSpec::from_args(&args.ratings);
        if preset.is_some() && spec.data != "ml-100k" {
            bail!(
                "--preset {}: its published table is on ml-100k; run it on ml-100k",
                args.preset.as_deref().unwrap_or("")
            );
        }
        let ratings = spec.load(ctx)?;
        let all_ones = f64_values(&ratings, "rating")?.all(|r| r == 1.0);
        if task == Task::Rating && all_ones {
            bail!(
                "{}: every rating is 1 (implicit data); rating models need ratings",
                spec.data
            );
        }
        let first = ctx.seed_or(DEFAULT_SEED);
        Ok(Plan {
            spec,
            ratings,
            contenders,
            task,
            split,
            protocol,
            seeds: (0..n_seeds as u64).map(|i| first + i).collect(),
            threshold: (task == Task::Ranking && !all_ones)
                .then(|| preset.and_then(|p| p.threshold()).unwrap_or(args.threshold)),
            k,
            sampled: if task == Task::Ranking {
                args.sampled
            } else {
                0
            },
            map_rel: preset == Some(Preset::MsrecMl100k),
            grid,
            validation_fraction: args.validation_fraction,
            preset,
        })
    }

    /// The split of seed number `i` (kfold: fold `i`), and the seed that draws it: k-fold
    /// cuts one permutation, drawn from the first seed, so that the folds partition the data.
    fn split_for(&self, i: usize) -> (SplitSpec, u64) {
        let mut s = self.split.clone();
        if s.kind == SplitKind::Kfold {
            s.fold = i;
            return (s, self.seeds[0]);
        }
        (s, self.seeds[i])
    }
}

/// The split kind a protocol name stands for.
fn split_kind(protocol: &str, n_seeds: usize) -> Result<SplitKind> {
    Ok(match protocol {
        "random" => SplitKind::Random,
        "stratified" => SplitKind::Stratified,
        "time" => SplitKind::Time,
        "last-n" => SplitKind::LastN,
        "kfold" => {
            if n_seeds < 2 {
                bail!("--protocol kfold needs --seeds 2 or more (the number of folds)");
            }
            SplitKind::Kfold
        }
        other => bail!("--protocol {other:?}: choose random, stratified, time, last-n or kfold"),
    })
}

/// One model's numbers on one seed's split.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Run {
    pub model: String,
    pub seed: u64,
    /// Metric name to value, in the table's column order.
    pub metrics: Vec<(String, f64)>,
    /// The primary metric per test user (ranking: NDCG@k; rating: the user's squared error
    /// mean), in the same user order for every model of a seed: the pairs of the paired test.
    #[serde(skip)]
    pub per_user: Vec<f64>,
    /// The settings chosen by --grid (empty without it).
    pub tuned: BTreeMap<String, f64>,
    pub fit_s: f64,
    pub predict_s: f64,
}

/// The train part of a split as a [`TrainSet`]: implicit data gets value 1 per row.
fn train_set(data: &Prepared, train: &DataFrame, task: Task) -> Result<TrainSet> {
    let users = data.users.encode_column(train, "user_id")?;
    let items = data.items.encode_column(train, "item_id")?;
    let values = match task {
        Task::Ranking => vec![1.0; users.len()],
        Task::Rating => f64_values(train, "rating")?.map(|r| r as f32).collect(),
    };
    TrainSet::new(
        data.users.len() as i64,
        data.items.len() as i64,
        users,
        items,
        values,
    )
}

/// Every model on every seed's split, with a progress bar over model × seed.
pub fn run(ctx: &Context, plan: &Plan) -> Result<Vec<Run>> {
    say!(
        ctx,
        "experiment {} models × {} seeds on {} ({} protocol{}), {}",
        plan.contenders.len(),
        plan.seeds.len(),
        plan.spec.data,
        plan.protocol,
        match plan.threshold {
            Some(t) => format!(", positives: ratings > {t}"),
            None => String::new(),
        },
        match plan.task {
            Task::Ranking => format!("full ranking at k = {}", plan.k),
            Task::Rating => "rating prediction".into(),
        }
    );
    let bar = Progress::new(
        (plan.contenders.len() * plan.seeds.len()) as u64,
        "experiment",
        "fits",
    );
    let mut runs = Vec::new();
    for (i, &seed) in plan.seeds.iter().enumerate() {
        let (split, split_seed) = plan.split_for(i);
        tch::manual_seed(split_seed as i64);
        let data = prepare(plan.ratings.clone(), None, plan.threshold, &split)?;
        let train = train_set(&data, &data.train, plan.task)?;
        let test = TestSide::new(&data, plan.task)?;
        for c in &plan.contenders {
            bar.set_message(format!("{} seed {seed}", c.name()));
            let tuned = match &plan.grid {
                Some(g) => tune(ctx, plan, c, g, &data, seed)?,
                None => BTreeMap::new(),
            };
            let c = c.with(&tuned);
            tch::manual_seed(seed as i64);
            let t = Instant::now();
            let fitted = c.fit(ctx, &train)?;
            let fit_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let (metrics, per_user) = test.score(&fitted, plan, plan.sampled, seed)?;
            runs.push(Run {
                model: c.name().to_string(),
                seed,
                metrics,
                per_user,
                tuned,
                fit_s,
                predict_s: t.elapsed().as_secs_f64(),
            });
            bar.inc(1);
        }
    }
    bar.finish();
    Ok(runs)
}

/// A model's metrics on a test side (in the table's column order), and its primary metric per
/// test user.
type Scored = (Vec<(String, f64)>, Vec<f64>);

/// The test side of one split, ready to score any model.
enum TestSide {
    Ranking {
        cases: Vec<TestUser>,
        n_items: usize,
    },
    Rating(RatingTest),
}

impl TestSide {
    fn new(data: &Prepared, task: Task) -> Result<TestSide> {
        Self::against(data, &data.train, &data.test, task)
    }

    /// The test side of `test` for a model trained on `train` (both in the id maps of `data`).
    fn against(
        data: &Prepared,
        train: &DataFrame,
        test: &DataFrame,
        task: Task,
    ) -> Result<TestSide> {
        Ok(match task {
            Task::Ranking => {
                let cases = held_out_users(
                    &histories(train)?,
                    &item_sets(test)?,
                    &data.users,
                    &data.items,
                );
                if cases.is_empty() {
                    bail!("no test user has a test item known in train: change the protocol");
                }
                TestSide::Ranking {
                    cases,
                    n_items: data.items.len(),
                }
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
                TestSide::Rating(t)
            }
        })
    }

    /// The metrics of `fitted` (in the table's column order) and the per-user primary metric;
    /// the sampled protocol's too when `sampled` negatives are asked for.
    fn score(&self, fitted: &Fitted, plan: &Plan, sampled: usize, seed: u64) -> Result<Scored> {
        let k = plan.k;
        match (self, fitted) {
            (TestSide::Ranking { cases, n_items }, Fitted::Ranker(model)) => {
                let mut score = |chunk: &[TestUser]| -> Result<Tensor> {
                    let users: Vec<i64> = chunk.iter().filter_map(|c| c.index).collect();
                    model.scores(&users)
                };
                let ranked = rank_in_chunks(&mut score, cases, *n_items, k, sampled, seed)?;
                let per_user = cases
                    .iter()
                    .map(|c| {
                        let rel: HashSet<i64> = c.relevant.iter().copied().collect();
                        ndcg_at_k(&ranked.lists[&c.user], &rel, k)
                    })
                    .collect();
                let m = ranked.full;
                let mut out = vec![
                    (format!("NDCG@{k}"), m.ndcg),
                    (format!("Recall@{k}"), m.recall),
                    (format!("Precision@{k}"), m.precision),
                    (format!("MAP@{k}"), m.map),
                    (format!("MAP@{k} /rel"), m.map_rel),
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
                Ok((out, per_user))
            }
            (TestSide::Rating(t), Fitted::Rating(model)) => {
                let preds = model.predict(&t.users, &t.items)?;
                let m = t.metrics(&preds)?;
                let mut by_user: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
                for ((u, p), r) in t.users.iter().zip(&preds).zip(&t.targets) {
                    let e = by_user.entry(*u).or_default();
                    e.0 += (p - r) * (p - r);
                    e.1 += 1;
                }
                let per_user = by_user.values().map(|(s, n)| s / *n as f64).collect();
                Ok((
                    vec![("RMSE".into(), m.rmse), ("MAE".into(), m.mae)],
                    per_user,
                ))
            }
            _ => bail!("a ranking model cannot be scored on ratings, nor a rating model ranked"),
        }
    }
}

/// The grid's best settings for `c`, by the primary metric on a validation part carved at
/// random from the train part (the test part is never seen).
fn tune(
    ctx: &Context,
    plan: &Plan,
    c: &Contender,
    grid: &Grid,
    data: &Prepared,
    seed: u64,
) -> Result<BTreeMap<String, f64>> {
    let points = grid.points_for(c);
    if points.len() <= 1 {
        return Ok(points.into_iter().next().unwrap_or_default());
    }
    tch::manual_seed(seed as i64);
    let (fit_part, validation) = carve_validation(
        &data.train,
        ValidationSplit::Random,
        plan.validation_fraction,
    )?;
    let train = train_set(data, &fit_part, plan.task)?;
    let side = TestSide::against(data, &fit_part, &validation, plan.task)?;
    let mut best: Option<(f64, BTreeMap<String, f64>)> = None;
    for point in points {
        tch::manual_seed(seed as i64);
        let fitted = c.with(&point).fit(ctx, &train)?;
        let (metrics, _) = side.score(&fitted, plan, 0, seed)?;
        let value = metrics[0].1 * plan.task.sign();
        if best.as_ref().is_none_or(|(b, _)| value > *b) {
            best = Some((value, point));
        }
    }
    Ok(best.map(|b| b.1).unwrap_or_default())
}
