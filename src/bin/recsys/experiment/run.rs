//! The experiment's loop: one split per seed, every model fitted and scored on it.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use polars::prelude::DataFrame;
use serde_json::Value;

use super::contenders::Contender;
use super::fitting::{tune, TrainSets};
use super::presets::Preset;
use super::scoring::TestSide;
use super::{ExperimentArgs, DEFAULT_SEED};
use crate::args::ensure_k;
use crate::print::say_split;
use recsys::prep::export::csv_field;
use recsys::prep::f64_values;
use recsys::prep::prepared::{passing_either, prepare, Prepared};
use recsys::prep::spec::{Cut, DataSpec, SplitKind, SplitSpec};
use recsys::prep::split::stratified::stratified_split_by_item;
use recsys::recommender::checkpoint::{self, Sidecar};
use recsys::recommender::settings::{grid_points, merged};
use recsys::recommender::Task;
use recsys::runtime::context::write_atomic;
use recsys::runtime::context::Context;
use recsys::runtime::progress::Progress;
use recsys::say;

/// Everything the experiment will do, checked before any work starts.
pub struct Plan {
    pub spec: DataSpec,
    pub ratings: DataFrame,
    pub contenders: Vec<Contender>,
    /// The table's task: ranking when any model is scored by the ranking metrics (its first
    /// column, NDCG@k, is the primary metric), else rating.
    pub task: Task,
    /// Rating metrics are scored (for the models that predict ratings).
    pub rates: bool,
    /// Ranking metrics are scored (every model: a rating model ranks by predicted rating).
    pub ranks: bool,
    pub split: SplitSpec,
    /// The protocol's name as given (random, stratified, stratified-item, time, last-n, kfold).
    pub protocol: String,
    /// `stratified-item`: the stratified split is per item, not per user (Microsoft
    /// Recommenders' `filter_by="item"`); `split.kind` is then `Stratified`.
    pub by_item: bool,
    pub seeds: Vec<u64>,
    /// Ranking: positives are ratings above this (None: the data has no ratings).
    pub threshold: Option<f64>,
    pub k: usize,
    /// Negatives of the sampled protocol (0: none).
    pub sampled: usize,
    /// Also give MAP divided by |relevant| (ranx's and Microsoft Recommenders' `map`).
    pub map_rel: bool,
    /// `--grid`: the points to try, per model (absent without a grid).
    pub grid: Option<BTreeMap<String, Vec<Value>>>,
    /// A given test file's table (`--test-file`): every seed uses this split.
    pub given_test: Option<DataFrame>,
    /// `--save-models`: each fitted model's checkpoint goes into `<dir>/<model>-seed<seed>`.
    pub save_models: Option<PathBuf>,
    /// `--export-recs`: each ranking model's top-k lists go to `<dir>/<model>-seed<seed>.csv`.
    pub export_recs: Option<PathBuf>,
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
        recsys::runtime::limits::SEEDS.check("--seeds", args.seeds as u64)?;
        recsys::runtime::limits::SAMPLED.check("--sampled", args.sampled as u64)?;
        let mut contenders = Contender::parse_all(&models, args.set.as_deref().unwrap_or(""))?;
        if let Some(p) = preset {
            for c in &mut contenders {
                c.settings = merged(&p.settings(c.name()), &c.settings);
            }
        }
        let mut tasks = vec![];
        for c in &contenders {
            let t = c.task()?;
            tasks.push(t);
            if t == Task::NextItem {
                bail!(
                    "--models {}: next-item models are trained and evaluated by `recsys train` \
                     (an experiment compares ranking or rating models)",
                    c.name()
                );
            }
        }
        let mixed = tasks.iter().any(|t| *t != tasks[0]);
        let cornac = protocol == "cornac-ratio";
        let trains_on_all = cornac || args.train_threshold == Some(Cut::All);
        if mixed && !trains_on_all {
            let other = tasks.iter().position(|t| *t != tasks[0]).unwrap_or(0);
            bail!(
                "--models mixes ranking and rating models ({} is a {} model, {} a {} one): they \
                 share a table only when every rating trains (--protocol cornac-ratio, or \
                 --train-threshold none); else run one experiment for each",
                contenders[0].name(),
                tasks[0].name(),
                contenders[other].name(),
                tasks[other].name()
            );
        }
        let rates = tasks.contains(&Task::Rating);
        let ranks = tasks.contains(&Task::Ranking) || cornac;
        let task = if ranks { Task::Ranking } else { Task::Rating };
        let mut seen = HashSet::new();
        if let Some(dup) = contenders.iter().find(|c| !seen.insert(c.name())) {
            bail!("--models names {} twice", dup.name());
        }
        let n_seeds = match preset {
            Some(p) => p.seeds().unwrap_or(args.seeds),
            None => args.seeds,
        };
        let kind = split_kind(&protocol, n_seeds)?;
        let by_item = protocol == "stratified-item";
        if args.test_file.is_some() && (kind == SplitKind::Kfold || by_item) {
            bail!("--test-file gives the test part; --protocol {protocol} makes its own: drop one");
        }
        if by_item && args.save_models.is_some() {
            bail!(
                "--save-models: a checkpoint records a split that `evaluate` redoes, and the \
                 per-item stratified split is not one of those; drop --save-models or use \
                 --protocol stratified"
            );
        }
        let split = SplitSpec {
            kind,
            test_fraction: preset
                .and_then(|p| p.test_fraction())
                .unwrap_or(args.test_fraction),
            time_threshold: None,
            last_n: args.last_n,
            folds: n_seeds,
            fold: 0,
            test_file: args.test_file.clone(),
            validation_fraction: None,
            train_threshold: args.train_threshold,
            relevance_threshold: args.relevance_threshold,
            seed: None,
        };
        split.check()?;
        if kind == SplitKind::CornacRatio && args.test_file.is_some() {
            bail!(
                "--test-file gives the test part; --protocol cornac-ratio makes its own: drop one"
            );
        }
        let entries: Vec<_> = contenders.iter().map(|c| c.entry).collect();
        let grid = args
            .grid
            .as_deref()
            .map(|g| grid_points(g, &entries))
            .transpose()?;
        if !(args.validation_fraction > 0.0 && args.validation_fraction < 1.0) {
            bail!(
                "--validation-fraction must be strictly between 0 and 1, got {}",
                args.validation_fraction
            );
        }
        ctx.ensure_outputs_free(&super::files::FILES)?;
        let seeds_for_names: Vec<u64> = (0..n_seeds as u64)
            .map(|i| ctx.seed_or(DEFAULT_SEED) + i)
            .collect();
        for c in &contenders {
            for seed in &seeds_for_names {
                let name = run_name(c.name(), *seed);
                if let Some(dir) = &args.save_models {
                    checkpoint::check_target(&dir.join(&name), ctx.force)?;
                }
                if let Some(dir) = &args.export_recs {
                    if task != Task::Ranking {
                        bail!("--export-recs writes top-k lists; rating models give ratings (use evaluate --predictions on a saved model)");
                    }
                    let file = dir.join(format!("{name}.csv"));
                    if file.exists() && !ctx.force {
                        bail!(
                            "--export-recs: {} already exists; pass --force to replace it",
                            file.display()
                        );
                    }
                }
            }
        }
        let spec = args.ratings.spec();
        if preset.is_some() && spec.data != "ml-100k" {
            bail!(
                "--preset {}: its published table is on ml-100k; run it on ml-100k",
                args.preset.as_deref().unwrap_or("")
            );
        }
        let ratings = spec.load(ctx)?;
        let given_test = spec.load_test(ctx, &split)?;
        crate::args::ensure_test_apart(&spec.data, &ratings, given_test.as_ref(), &split)?;
        let all_ones = f64_values(&ratings, "rating")?.all(|r| r == 1.0);
        if rates && all_ones {
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
            rates,
            ranks,
            split,
            protocol,
            by_item,
            seeds: (0..n_seeds as u64).map(|i| first + i).collect(),
            threshold: (tasks.contains(&Task::Ranking) && !all_ones)
                .then(|| preset.and_then(|p| p.threshold()).unwrap_or(args.threshold)),
            k,
            sampled: if ranks { args.sampled } else { 0 },
            map_rel: preset == Some(Preset::MsrecMl100k),
            grid,
            given_test,
            save_models: args.save_models.clone(),
            export_recs: args.export_recs.clone(),
            validation_fraction: args.validation_fraction,
            preset,
        })
    }

    /// The protocol in one sentence, e.g. `random (test fraction 0.2)`.
    pub fn describe_protocol(&self) -> String {
        let s = &self.split;
        let how = match (&s.test_file, s.kind) {
            (Some(f), _) => format!("the given test file {f} (the data is all train)"),
            (None, SplitKind::Kfold) => {
                format!("{}-fold cross-validation, each seed a fold", s.folds)
            }
            (None, SplitKind::LastN) => {
                format!("each user's last {} interaction(s) as test", s.last_n)
            }
            (None, SplitKind::Time) => {
                format!("the latest {} of the interactions as test", s.test_fraction)
            }
            (None, SplitKind::CornacRatio) => format!(
                "Cornac's RatioSplit (numpy's RandomState(seed).permutation of every rating, \
                 the last ceil({} · n) as test)",
                s.test_fraction
            ),
            (None, SplitKind::Stratified) => format!(
                "per {}, a random {} as test",
                if self.by_item { "item" } else { "user" },
                s.test_fraction
            ),
            (None, kind) => format!(
                "{} ({} of the interactions as test)",
                kind.name(),
                s.test_fraction
            ),
        };
        let (train, relevance) = self.cuts();
        match (train, relevance) {
            (Cut::All, Cut::All) => how,
            (t, r) if t == r => format!("{how}; {} are positives", t.describe()),
            (t, r) => format!(
                "{how}; training takes {}, test {} are relevant (a user's train items that are \
                 not relevant stay candidates)",
                t.describe(),
                r.describe()
            ),
        }
    }

    /// What trains and what is relevant ([`SplitSpec::cuts`]).
    pub fn cuts(&self) -> (Cut, Cut) {
        self.split.cuts(self.threshold)
    }

    /// Binarize and split the ratings by `split` (libtorch's generator seeded by the caller).
    /// The per-item stratified split is cut here, after binarizing as the per-user one is, and
    /// handed to [`prepare`] as a given test part.
    fn prepare(&self, split: &SplitSpec) -> Result<Prepared> {
        if !self.by_item {
            return prepare(
                self.ratings.clone(),
                self.given_test.clone(),
                self.threshold,
                split,
            );
        }
        let (train, relevance) = self.cuts();
        let ratings = passing_either(&self.ratings, train, relevance)?;
        let (train, test) = stratified_split_by_item(&ratings, split.test_fraction)?;
        prepare(train, Some(test), self.threshold, split)
    }

    /// The split of seed number `i` (kfold: fold `i`), and the seed that draws it: k-fold
    /// cuts one permutation, drawn from the first seed, so that the folds partition the data.
    fn split_for(&self, i: usize) -> (SplitSpec, u64) {
        let mut s = self.split.clone();
        if s.kind == SplitKind::Kfold {
            s.fold = i;
            return (s, self.seeds[0]);
        }
        (s.seeded(self.seeds[i]), self.seeds[i])
    }
}

/// The split kind a protocol name stands for.
fn split_kind(protocol: &str, n_seeds: usize) -> Result<SplitKind> {
    Ok(match protocol {
        "random" => SplitKind::Random,
        "stratified" | "stratified-item" => SplitKind::Stratified,
        "time" => SplitKind::Time,
        "last-n" => SplitKind::LastN,
        "cornac-ratio" => SplitKind::CornacRatio,
        "kfold" => {
            if n_seeds < 2 {
                bail!("--protocol kfold needs --seeds 2 or more (the number of folds)");
            }
            SplitKind::Kfold
        }
        other => bail!(
            "--protocol {other:?}: choose random, stratified, stratified-item, time, last-n, kfold or cornac-ratio"
        ),
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
    pub per_user: Vec<(i64, f64)>,
    /// Each test user's numbers (for `per_user.csv`): the user's original id and one value per
    /// name of [`PerUser::names`].
    #[serde(skip)]
    pub per_user_rows: PerUser,
    /// The settings chosen by --grid (an empty object without it).
    pub tuned: Value,
    /// The settings the model ran with, every default filled in.
    pub config: Value,
    /// The sizes of the seed's split.
    pub split: SplitSize,
    pub fit_s: f64,
    pub predict_s: f64,
}

/// The sizes of one seed's split, for the report.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct SplitSize {
    pub train_rows: usize,
    pub train_users: usize,
    pub train_items: usize,
    pub test_rows: usize,
    /// Ranking: the test users scored (a known user with a relevant test item known in train).
    pub test_users: usize,
}

/// The name of one model's run on one seed, for its checkpoint and its lists.
fn run_name(model: &str, seed: u64) -> String {
    format!("{model}-seed{seed}")
}

/// Each test user's numbers of one run: the metrics' names, then per user its original id
/// and one value per name.
#[derive(Debug, Clone, Default)]
pub struct PerUser {
    pub names: Vec<String>,
    pub rows: Vec<(String, Vec<f64>)>,
    /// Ranking: each test user's top-k list, original ids, best first.
    pub lists: Vec<(String, Vec<String>)>,
}

/// Every model on every seed's split, with a progress bar over model × seed.
pub fn run(ctx: &Context, plan: &Plan) -> Result<Vec<Run>> {
    say!(
        ctx,
        "experiment {} models × {} seeds on {}: {}; {}",
        plan.contenders.len(),
        plan.seeds.len(),
        plan.spec.data,
        plan.describe_protocol(),
        match (plan.ranks, plan.rates) {
            (true, true) => format!("rating prediction and full ranking at k = {}", plan.k),
            (true, false) => format!("full ranking at k = {}", plan.k),
            _ => "rating prediction".into(),
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
        let data = plan.prepare(&split)?;
        say!(ctx, "seed {seed}:");
        if plan.by_item {
            say!(
                ctx,
                "split     per item, {} as test: train {} ({} users, {} items), test {} \
                 ({} test rows dropped: their user or item is not in train)",
                split.test_fraction,
                data.fingerprints.train,
                data.users.len(),
                data.items.len(),
                data.fingerprints.test,
                data.dropped_test
            );
        } else {
            say_split(ctx, &split, &data);
        }
        let train = TrainSets::new(&data, &data.train, plan)?;
        let test = TestSide::new(&data, plan)?;
        let size = SplitSize {
            train_rows: data.train.height(),
            train_users: data.users.len(),
            train_items: data.items.len(),
            test_rows: data.test.height(),
            test_users: test.users(),
        };
        for c in &plan.contenders {
            bar.set_message(format!("{} seed {seed}", c.name()));
            let tuned = match &plan.grid {
                Some(g) => tune(ctx, plan, c, &g[c.name()], &data, seed)?,
                None => Value::Object(Default::default()),
            };
            tch::manual_seed(seed as i64);
            let t = Instant::now();
            let fitted = c.fit(train.of(c)?, &tuned, ctx.device)?;
            let fit_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let (metrics, per_user, per_user_rows) =
                test.score(fitted.model.as_ref(), plan, plan.sampled, seed)?;
            let name = run_name(c.name(), seed);
            if let Some(dir) = &plan.export_recs {
                let file = dir.join(format!("{name}.csv"));
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("--export-recs {}: {e}", dir.display()))?;
                let mut csv = String::from("user_id,item_id,rank\n");
                for (user, items) in &per_user_rows.lists {
                    for (r, item) in items.iter().enumerate() {
                        csv.push_str(&format!(
                            "{},{},{}\n",
                            csv_field(user),
                            csv_field(item),
                            r + 1
                        ));
                    }
                }
                write_atomic(&file, csv.as_bytes(), ctx.force)?;
            }
            if let Some(dir) = &plan.save_models {
                let sidecar = Sidecar::of_run(
                    c.entry,
                    &fitted,
                    split_seed,
                    plan.threshold,
                    &plan.spec,
                    &split,
                    &data,
                );
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("--save-models {}: {e}", dir.display()))?;
                checkpoint::save(&dir.join(&name), fitted.model.as_ref(), &sidecar, ctx.force)?;
            }
            runs.push(Run {
                model: c.name().to_string(),
                seed,
                metrics,
                per_user,
                per_user_rows,
                tuned,
                config: fitted.config,
                split: size,
                fit_s,
                predict_s: t.elapsed().as_secs_f64(),
            });
            bar.inc(1);
        }
    }
    bar.finish();
    Ok(runs)
}
