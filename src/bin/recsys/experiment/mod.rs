//! `recsys experiment`: several models on the same splits, over several seeds, in one table.
//!
//! Each seed makes one split (the same for every model); each model is fitted on its train
//! part and scored on its test part by the same protocol. The table gives mean ± sd over the
//! seeds per metric, with fit and predict time; the best value of each column is marked, and a
//! paired test across test users (Wilcoxon signed-rank, with the paired t-test beside it) says
//! whether the best model's lead on the primary metric over each other model is more than noise.
//! Ranking experiments score both the full and the sampled protocol and give Kendall's tau
//! between the two orders of the models (Krichene & Rendle 2020: sampled metrics can reorder
//! models). `--grid` tunes each model on a validation part carved from train, never on test.
//! `--preset` runs another library's protocol and sets its published table beside ours.

mod config;
mod contenders;
mod datasets;
mod files;
mod fitting;
mod presets;
mod run;
mod scoring;
mod summary;

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use serde_json::Value;

use crate::args::RatingsArgs;
use recsys::prep::spec::Cut;
use recsys::runtime::context::Context;
use recsys::say;

/// Flags of `recsys experiment`.
#[derive(Args, Debug, Clone)]
pub struct ExperimentArgs {
    #[command(flatten)]
    pub ratings: RatingsArgs,
    /// Comma-separated models of the registry (`recsys models` lists them, with their
    /// settings). One experiment is all ranking or all rating models.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "pop,item-knn,ease,als,bpr"
    )]
    pub models: Vec<String>,
    /// How each seed splits train and test: random (global ratio), stratified (per-user
    /// ratio), stratified-item (per-item ratio), time (global), last-n (per user; 1 =
    /// leave-one-out), kfold (each seed is a fold), cornac-ratio (Cornac's RatioSplit and its
    /// semantics: numpy's permutation, train on every rating, test ratings >= 4 relevant;
    /// rating and ranking models in one table, as Cornac's README example).
    #[arg(long, default_value = "random")]
    pub protocol: String,
    /// Test share of the random, stratified, stratified-item and time protocols.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// last-n: each user's last N interactions are test.
    #[arg(long, default_value_t = 1)]
    pub last_n: usize,
    /// Use this file (same format flags as the data) as the test part of every seed, as is:
    /// the data is then all train. Test rows of users or items not in train are reported and
    /// dropped.
    #[arg(long)]
    pub test_file: Option<String>,
    /// Number of seeds (kfold: the number of folds); seed i is --seed + i.
    #[arg(long, default_value_t = 3)]
    pub seeds: usize,
    /// Ranking: ratings strictly above this are positives (data without ratings keeps all):
    /// what trains and what is relevant, unless the two flags below set them apart.
    #[arg(long, default_value_t = 3.0)]
    pub threshold: f64,
    /// Ratings that become training interactions: strictly above T, or `none` for every
    /// rating (default: --threshold; cornac-ratio: none). With `none`, rating and ranking
    /// models can share one table.
    #[arg(long, value_name = "T|none")]
    pub train_threshold: Option<Cut>,
    /// Test ratings that count as relevant: strictly above T (cornac-ratio: at or above, 4 by
    /// default). A user's training items that pass it are excluded from the candidates; the
    /// others stay candidates and count as misses.
    #[arg(long, value_name = "T|none")]
    pub relevance_threshold: Option<Cut>,
    /// Cut-off of the ranking metrics.
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// Ranking: negatives per test user of the sampled protocol (0: full ranking only).
    #[arg(long, default_value_t = 100)]
    pub sampled: usize,
    /// Tune each model on a validation part of train before the test, e.g.
    /// 'lambda=100,500 factors=32,64' or 'als.factors=32,64'. An unscoped key applies to
    /// every model that takes it (an error when none does).
    #[arg(long)]
    pub grid: Option<String>,
    /// Validation share of train used by --grid.
    #[arg(long, default_value_t = 0.1)]
    pub validation_fraction: f64,
    /// Settings, e.g. 'factors=64 als.epochs=30 bpr.epochs=100': an unscoped key applies to
    /// every model that takes it (an error when none does); `model.key` to that model only.
    #[arg(long)]
    pub set: Option<String>,
    /// Keep each fitted model as a checkpoint in DIR/<model>-seed<seed> (what `evaluate`,
    /// `recommend` and `similar` take as --model).
    #[arg(long, value_name = "DIR")]
    pub save_models: Option<PathBuf>,
    /// Write each ranking model's top-k lists of the test users to DIR/<model>-seed<seed>.csv
    /// (`user_id,item_id,rank`, the format `evaluate --recs` reads).
    #[arg(long, value_name = "DIR")]
    pub export_recs: Option<PathBuf>,
    /// Read the models, settings, grid, protocol and seeds from this TOML file (every run
    /// writes its resolved one as config.toml; `--config` of that file repeats the run).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["models", "protocol", "test_fraction", "last_n", "test_file", "seeds", "threshold", "train_threshold", "relevance_threshold", "k", "sampled", "grid", "validation_fraction", "set", "preset"])]
    pub config: Option<PathBuf>,
    /// Run another library's protocol and models and set its published table beside ours:
    /// surprise-ml100k (5-fold CV, RMSE/MAE) or msrec-ml100k (75/25 per-item stratified split,
    /// top-10 MAP/NDCG/Precision/Recall; bpr at Cornac's settings there). Replaces --models,
    /// --protocol and -k.
    #[arg(long)]
    pub preset: Option<String>,
}

/// Default seed of the first split when `--seed` is not given.
pub const DEFAULT_SEED: u64 = 0;

/// Run the experiment and print its table; over several datasets (`ml-100k,FILE`), one
/// experiment each and the models' mean ranks across them ([`datasets`]).
pub fn experiment(ctx: &Context, args: &ExperimentArgs) -> Result<Value> {
    let names = datasets::names(&args.ratings.data);
    if names.len() == 1 {
        return Ok(one(ctx, args)?.0);
    }
    if args.config.is_some() || args.preset.is_some() {
        bail!(
            "--config and --preset describe one dataset's experiment; give one dataset, not {}",
            names.len()
        );
    }
    let mut folders = std::collections::HashSet::new();
    if let Some(d) = names.iter().find(|d| !folders.insert(datasets::folder(d))) {
        bail!(
            "{}: two datasets would write into the same folder {}; rename one",
            d,
            datasets::folder(d)
        );
    }
    ctx.ensure_outputs_free(&["report.md"])?;
    let (mut results, mut tables, mut reports) = (vec![], vec![], vec![]);
    for d in &names {
        let mut a = args.clone();
        a.ratings.data = d.clone();
        let sub = Context {
            out_dir: ctx.out_dir.join(datasets::folder(d)),
            ..ctx.clone()
        };
        std::fs::create_dir_all(&sub.out_dir)
            .map_err(|e| anyhow::anyhow!("--out {}: {e}", sub.out_dir.display()))?;
        say!(ctx, "== {d} ==");
        let (json, table, report) = one(&sub, &a).map_err(|e| anyhow::anyhow!("{d}: {e:#}"))?;
        results.push(json);
        tables.push(table);
        reports.push(report);
    }
    let across = datasets::Across::new(&names, &tables)?;
    across.print(ctx);
    let path = ctx.write_output(
        "report.md",
        datasets::report(&names, &reports, &across).as_bytes(),
    )?;
    say!(ctx, "wrote {}", path.display());
    Ok(datasets::to_json(results, &across))
}

/// One dataset's experiment: its `--json` value, its table and its report's text.
fn one(ctx: &Context, args: &ExperimentArgs) -> Result<(Value, summary::Summary, String)> {
    let (args, first_seed) = match &args.config {
        Some(path) => config::ExperimentFile::read(path)?.apply(args, ctx.seed)?,
        None => (args.clone(), ctx.seed_or(DEFAULT_SEED)),
    };
    let ctx = &Context {
        seed: Some(first_seed),
        ..ctx.clone()
    };
    let plan = run::Plan::from_args(ctx, &args)?;
    let runs = run::run(ctx, &plan)?;
    let table = summary::Summary::new(&plan, &runs)?;
    table.print(ctx);
    let published = plan.preset.map(|p| presets::compare(ctx, p, &table));
    let report = files::write_files(ctx, &plan, &table, published.as_ref())?;
    let json = table.to_json(&plan, published);
    Ok((json, table, report))
}
