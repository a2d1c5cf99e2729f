//! `recsys evaluate --model DIR` (and the evaluation `recsys train` prints): a saved model of
//! any kind on its test split, scored by [`recsys::recommender::evaluation`]; or lists made
//! elsewhere (`--recs`, `--truth`). Rating models get RMSE and MAE; ranking models the RePlay
//! metrics at k under the full-ranking and the sampled protocols. MAP's definition is printed
//! beside it (RePlay's by default).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use serde_json::{json, Value};

use crate::args::ensure_k;
use crate::print::metric;
use recsys::eval::metrics::{MapDenominator, RankingMetrics};
use recsys::eval::protocol::RatingTest;
use recsys::prep::export::csv_field;
use recsys::prep::prepared::Prepared;
use recsys::recommender::evaluation::{evaluate, Evaluation};
use recsys::runtime::context::{write_atomic, Context};
use recsys::say;

/// Write each test rating with the model's prediction to `path` (`user_id,item_id,rating,prediction`).
fn write_predictions(
    ctx: &Context,
    path: &Path,
    data: &Prepared,
    test: &RatingTest,
    preds: &[f64],
) -> Result<()> {
    let names = data.names();
    let mut csv = String::from("user_id,item_id,rating,prediction\n");
    for ((u, i), (r, p)) in test
        .users
        .iter()
        .zip(&test.items)
        .zip(test.targets.iter().zip(preds))
    {
        let user = names.user(data.users.id(*u).expect("a model index"));
        let item = names.item(data.items.id(*i).expect("a model index"));
        let (user, item) = (csv_field(&user), csv_field(&item));
        writeln!(csv, "{user},{item},{r},{p}").expect("a String");
    }
    write_atomic(path, csv.as_bytes(), ctx.force)
        .map_err(|e| anyhow::anyhow!("--predictions {}: {e:#}", path.display()))?;
    say!(
        ctx,
        "wrote {} ({} test ratings with predictions)",
        path.display(),
        test.len()
    );
    Ok(())
}

fn print_metrics(
    ctx: &Context,
    k: usize,
    map: MapDenominator,
    columns: &[(&str, &RankingMetrics)],
) {
    let header: String = columns.iter().map(|(n, _)| format!("{n:>10}")).collect();
    say!(ctx, "{:<14}{header}", "metric");
    let line = |name: &str, f: &dyn Fn(&RankingMetrics) -> f64| {
        let vals: String = columns
            .iter()
            .map(|(_, m)| format!("{:>10}", metric(f(m))))
            .collect();
        say!(ctx, "{:<14}{vals}", format!("{name}@{k}"));
    };
    line("Precision", &|m| m.precision);
    line("Recall", &|m| m.recall);
    line("NDCG", &|m| m.ndcg);
    line("HitRate", &|m| m.hit_rate);
    line("MRR", &|m| m.mrr);
    let maps: String = columns
        .iter()
        .map(|(_, m)| format!("{:>10}", metric(map.of(m))))
        .collect();
    say!(ctx, "{:<14}{maps}  ({})", format!("MAP@{k}"), map.label());
    line("Coverage", &|m| m.coverage.unwrap_or(f64::NAN));
}

/// Print an evaluation: the protocol in words, then the numbers.
pub fn print_evaluation(ctx: &Context, e: &Evaluation, k: usize, map: MapDenominator) {
    match e {
        Evaluation::Rating {
            test,
            metrics,
            test_rows,
            ..
        } => {
            say!(
                ctx,
                "protocol: rating prediction on the {} test ratings whose user and item the model knows (of {test_rows})",
                test.len()
            );
            say!(ctx, "RMSE  {}", metric(metrics.rmse));
            say!(ctx, "MAE   {}", metric(metrics.mae));
        }
        Evaluation::Ranking {
            cases,
            n_items,
            full,
            sampled,
            ..
        } => {
            say!(
                ctx,
                "protocol full:    each of {} test users ranks all {n_items} items, train items excluded",
                cases.len()
            );
            let mut columns = vec![("full", full)];
            if let Some((n_neg, s)) = sampled {
                say!(
                    ctx,
                    "protocol sampled: test positives among {n_neg} random non-positive items per user \
                     (notebook 000; easier, flatters the model)"
                );
                columns.push(("sampled", s));
            }
            print_metrics(ctx, k, map, &columns);
        }
    }
}

/// An evaluation as `--json` gives it.
pub fn evaluation_json(e: &Evaluation, k: usize, map: MapDenominator) -> Value {
    match e {
        Evaluation::Rating { test, metrics, .. } => json!({
            "protocol": "rating prediction", "test_ratings": test.len(),
            "rmse": metrics.rmse, "mae": metrics.mae,
        }),
        Evaluation::Ranking {
            cases,
            full,
            sampled,
            ..
        } => {
            let mut protocols = json!({
                "full": { "description": "all items ranked, train items excluded", "metrics": full },
            });
            if let Some((n_neg, s)) = sampled {
                protocols["sampled"] = json!({
                    "description": format!("test positives among {n_neg} sampled negatives (notebook 000)"),
                    "negatives": n_neg, "metrics": s,
                });
            }
            json!({
                "map_definition": map.label(),
                "protocols": protocols,
                "users": cases.len(),
                "k": k,
            })
        }
    }
}

/// `recsys evaluate`'s flags (its help is on the `Evaluate` command in `main.rs`).
#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {
    /// A saved model directory (from `recsys train --save`).
    #[arg(long, conflicts_with_all = ["recs", "truth", "train"])]
    pub model: Option<PathBuf>,
    /// With --model: read the ratings from here instead of the source the model was
    /// trained on (it must be the same data: the fingerprints are checked).
    #[arg(long, requires = "model")]
    pub data: Option<String>,
    /// With --model: negatives per test user of the sampled protocol (0: full ranking only).
    #[arg(long, visible_alias = "negatives", default_value_t = 100, value_parser = recsys::runtime::limits::SAMPLED.parser())]
    pub sampled: usize,
    /// Recommendations: user_id,item_id[,rating|score|rank].
    #[arg(long, requires = "truth")]
    pub recs: Option<PathBuf>,
    /// Ground truth: user_id,item_id.
    #[arg(long, requires = "recs")]
    pub truth: Option<PathBuf>,
    /// Train interactions (user_id,item_id), for Coverage.
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// With --recs: drop the truth's users and items that --train lacks, as `evaluate --model`
    /// does (a model can neither rank an item nor serve a user it never saw), so that lists
    /// exported by `recommend --all-users --exclude train` score what `evaluate --model` gives.
    #[arg(long, requires = "train")]
    pub known_only: bool,
    /// Cut-off of the lists.
    #[arg(short, long, default_value_t = 10, value_parser = recsys::runtime::limits::K.parser())]
    pub k: usize,
    /// What MAP@k divides by: min-k-rel (RePlay's: min(k, |rel|)) or rel (ranx's: |rel|).
    #[arg(long, default_value = "min-k-rel")]
    pub map_denominator: String,
    /// With --model, rating models: write each test rating and its prediction to this CSV
    /// (`user_id,item_id,rating,prediction`).
    #[arg(long, requires = "model")]
    pub predictions: Option<PathBuf>,
}

/// `recsys evaluate`: a saved model on its test split (`--model`), or recommendation lists
/// against a ground truth (`--recs`, `--truth`).
pub fn run(ctx: &Context, args: &EvaluateArgs) -> Result<Value> {
    let k = args.k;
    ensure_k(k)?;
    let map: MapDenominator = args
        .map_denominator
        .parse()
        .map_err(|e| anyhow::anyhow!("--map-denominator: {e}"))?;
    if let Some(dir) = &args.model {
        if let Some(p) = args
            .predictions
            .as_ref()
            .filter(|p| p.exists() && !ctx.force)
        {
            bail!(
                "--predictions {} already exists; pass --force to replace it",
                p.display()
            );
        }
        let l = recsys::recommender::checkpoint::load(ctx, dir, args.data.as_deref())?;
        let sc = &l.sidecar;
        say!(
            ctx,
            "model {} ({}, trained on {}, {} split, seed {})",
            dir.display(),
            sc.model,
            sc.data.data,
            sc.split.describe(),
            sc.seed
        );
        say!(ctx, "truth:    test users and items the model never saw in train are left out (--recs counts them unless --known-only)");
        if args.predictions.is_some() && l.model.task() != recsys::recommender::Task::Rating {
            bail!("--predictions writes predicted ratings, and {} ranks items; use recommend --all-users --output FILE for its lists", sc.model);
        }
        let e = evaluate(
            l.model.as_ref(),
            &l.data,
            sc.split.kind,
            k,
            args.sampled,
            sc.seed,
        )?;
        print_evaluation(ctx, &e, k, map);
        if let (
            Some(path),
            Evaluation::Rating {
                test, predictions, ..
            },
        ) = (&args.predictions, &e)
        {
            write_predictions(ctx, path, &l.data, test, predictions)?;
        }
        return Ok(evaluation_json(&e, k, map));
    }
    let (recs, truth, train) = (args.recs.clone(), args.truth.clone(), &args.train);
    use recsys::eval::{metrics::ranking_metrics, recs as ev};
    let (Some(recs), Some(truth)) = (recs, truth) else {
        bail!("evaluate needs --model DIR, or --recs FILE with --truth FILE");
    };
    let mut files = vec![("--recs", recs.as_path()), ("--truth", truth.as_path())];
    files.extend(train.as_deref().map(|t| ("--train", t)));
    ev::ensure_ids_alike(&files)?;
    let train_items = train.as_deref().map(ev::read_items).transpose()?;
    let mut lists = ev::read_recommendations(&recs)?;
    let mut truth_sets = ev::read_truth(&truth)?;
    let all_truth_users = truth_sets.len();
    if args.known_only {
        let Some(path) = train.as_deref() else {
            bail!("--known-only keeps the users and items of --train: give --train FILE");
        };
        let train_users = ev::read_truth(path)?;
        let items = train_items.as_ref().expect("read above");
        truth_sets.retain(|u, rel| {
            rel.retain(|i| items.contains(i));
            train_users.contains_key(u) && !rel.is_empty()
        });
        // Coverage over the lists of the users scored, as `evaluate --model` counts it
        lists.lists.retain(|u, _| truth_sets.contains_key(u));
    }
    let m = ranking_metrics(&lists.lists, &truth_sets, k, train_items.as_ref())?;
    say!(
        ctx,
        "protocol: lists given in {} against {} ({} users)",
        recs.display(),
        truth.display(),
        m.users
    );
    if args.known_only {
        say!(
            ctx,
            "truth:    users and items absent from --train dropped ({} of {all_truth_users} users kept), as `evaluate --model` scores",
            truth_sets.len()
        );
    } else {
        say!(
            ctx,
            "truth:    every user and item of --truth counts (`evaluate --model` drops those its train lacks: --known-only)"
        );
    }
    if let Some((line, user, item)) = lists.first_duplicate {
        say!(
            ctx,
            "note: {} duplicated row(s) in {} dropped, each item kept at its best rank \
             (first: line {line}, user {user}, item {item})",
            lists.duplicates,
            recs.display()
        );
    }
    say!(ctx, "Precision@{k}  {:.6}", m.precision);
    say!(ctx, "Recall@{k}     {:.6}", m.recall);
    say!(ctx, "NDCG@{k}       {:.6}", m.ndcg);
    say!(ctx, "HitRate@{k}    {:.6}", m.hit_rate);
    say!(ctx, "MRR@{k}        {:.6}", m.mrr);
    say!(ctx, "MAP@{k}        {:.6}  ({})", map.of(&m), map.label());
    match m.coverage {
        Some(c) => say!(ctx, "Coverage@{k}   {c:.6}"),
        None => say!(ctx, "Coverage@{k}   (needs --train)"),
    }
    let mut v = serde_json::to_value(m)?;
    v["duplicates_dropped"] = lists.duplicates.into();
    v["map_definition"] = map.label().into();
    Ok(v)
}
