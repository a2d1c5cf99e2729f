//! `recsys evaluate --model` (and the evaluation `recsys train` prints): picks the protocols
//! of [`recsys::eval::protocol`] for the model, scores the test users with it, and prints the
//! numbers. Explicit models get RMSE and MAE; ranking models the RePlay metrics at k under the
//! full-ranking and the sampled protocols.
//!
//! Sequence models under the user-based split score each test user from their test history
//! without its last item, which is the only relevant item. With a validation part, its items
//! are left out of the rankings like train's, and [`ValidationCheck`] gives `train` its
//! per-epoch validation metric. MAP's definition is printed beside it (RePlay's by default).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};
use tch::Tensor;

use crate::args::ensure_k;
use crate::prepared::{histories, item_sets, rows, Prepared, SplitKind};
use crate::zoo::{AppModel, Feedback, Query};
use polars::prelude::DataFrame;
use recsys::eval::metrics::{MapDenominator, RankingMetrics};
use recsys::eval::protocol::{held_out_users, next_item_users, RatingTest, TestUser};
use recsys::eval::ranking::{rank_in_chunks, Ranked};
use recsys::prep::IdMap;
use recsys::runtime::context::{write_atomic, Context};
use recsys::say;

/// The users of `model`'s ranking protocols on `held_out`: the validation part when
/// `on_validation`, else test. Their history is train, and validation too for test.
fn test_users(
    model: &AppModel,
    data: &Prepared,
    held_out: &DataFrame,
    on_validation: bool,
    users: &IdMap,
    items: &IdMap,
    split: SplitKind,
) -> Result<Vec<TestUser>> {
    if model.is_sequence() && split == SplitKind::User {
        return Ok(next_item_users(&histories(held_out)?, users, items));
    }
    let mut seen = data.train.clone();
    if let Some(v) = data.validation.as_ref().filter(|_| !on_validation) {
        seen.vstack_mut(v)?;
    }
    Ok(held_out_users(
        &histories(&seen)?,
        &item_sets(held_out)?,
        users,
        items,
    ))
}

/// Both ranking protocols for `model` over `cases`, users scored a chunk at a time
/// ([`rank_in_chunks`]); no sampled protocol when `n_negatives` is 0.
fn rank_model(
    model: &AppModel,
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
        model.score_rows(&queries)
    };
    let n_items = model.config.n_items as usize;
    rank_in_chunks(&mut score, cases, n_items, k, n_negatives, seed)
}

/// The validation metric `train` prints after each epoch: RMSE for explicit models, else
/// NDCG@k under the full-ranking protocol (train items excluded).
pub struct ValidationCheck {
    ratings: Option<RatingTest>,
    cases: Vec<TestUser>,
    k: usize,
}

impl ValidationCheck {
    /// The check of `data`'s validation part; `None` without one.
    pub fn new(
        model: &AppModel,
        data: &Prepared,
        split: SplitKind,
        k: usize,
    ) -> Result<Option<Self>> {
        let Some(validation) = &data.validation else {
            return Ok(None);
        };
        let (users, items) = (&data.users, &data.items);
        if model.config.feedback == Feedback::Explicit {
            let rows = rows(validation)?.into_iter().map(|(u, i, r, _)| (u, i, r));
            let t = RatingTest::new(rows, users, items);
            if t.is_empty() {
                bail!("no validation rating has a user and an item known to the model; raise --validation-fraction");
            }
            return Ok(Some(ValidationCheck {
                ratings: Some(t),
                cases: vec![],
                k,
            }));
        }
        let cases = test_users(model, data, validation, true, users, items, split)?;
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
    pub fn measure(&self, model: &AppModel) -> Result<(String, f64)> {
        if let Some(t) = &self.ratings {
            let predictions = model.predict_ratings(&t.users, &t.items)?;
            return Ok(("RMSE".into(), t.metrics(&predictions)?.rmse));
        }
        let ranked = rank_model(model, &self.cases, self.k, 0, 0)?;
        Ok((format!("NDCG@{}", self.k), ranked.full.ndcg))
    }
}

/// Print the validation metric of `model` after `epoch` (0-based), when there is a check.
pub fn say_validation(
    ctx: &Context,
    check: &Option<ValidationCheck>,
    model: &AppModel,
    epoch: usize,
) -> Result<()> {
    if let Some(c) = check {
        let (name, value) = c.measure(model)?;
        say!(ctx, "epoch {:>3}  validation {name} {value:.5}", epoch + 1);
    }
    Ok(())
}

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

/// What `model` scores a test user from: the history for sequence models, else the user.
fn query(model: &AppModel, user: &TestUser) -> Result<Query> {
    if model.is_sequence() {
        return Ok(Query::History(user.history.clone()));
    }
    user.index
        .map(Query::User)
        .with_context(|| format!("user {} is not known to the model", user.user))
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
            .map(|(_, m)| format!("{:>10.4}", f(m)))
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
        .map(|(_, m)| format!("{:>10.4}", map.of(m)))
        .collect();
    say!(ctx, "{:<14}{maps}  ({})", format!("MAP@{k}"), map.label());
    line("Coverage", &|m| m.coverage.unwrap_or(f64::NAN));
}

/// What `evaluate --model` does beyond the protocols' defaults.
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    /// Which MAP is printed.
    pub map: MapDenominator,
    /// Explicit models: write the per-pair test predictions here.
    pub predictions: Option<PathBuf>,
}

/// Evaluate `model` on the test side of `data` as `options` say; prints the protocol and the
/// numbers.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_model(
    ctx: &Context,
    model: &AppModel,
    data: &Prepared,
    users: &IdMap,
    items: &IdMap,
    split: SplitKind,
    seed: u64,
    k: usize,
    n_negatives: usize,
    options: &EvalOptions,
) -> Result<Value> {
    ensure_k(k)?;
    if options.predictions.is_some() && model.config.feedback != Feedback::Explicit {
        bail!("--predictions writes predicted ratings, and this model ranks items (implicit feedback); use recommend --all-users --output FILE for its lists");
    }
    if model.config.feedback == Feedback::Explicit {
        let test = RatingTest::new(
            rows(&data.test)?.into_iter().map(|(u, i, r, _)| (u, i, r)),
            users,
            items,
        );
        if test.is_empty() {
            bail!("no test rating has a user and an item known to the model");
        }
        let preds = model.predict_ratings(&test.users, &test.items)?;
        let m = test.metrics(&preds)?;
        say!(
            ctx,
            "protocol: rating prediction on the {} test ratings whose user and item the model knows (of {})",
            test.len(),
            data.test.height()
        );
        say!(ctx, "RMSE  {:.4}", m.rmse);
        say!(ctx, "MAE   {:.4}", m.mae);
        if let Some(path) = &options.predictions {
            write_predictions(ctx, path, data, &test, &preds)?;
        }
        return Ok(
            json!({ "protocol": "rating prediction", "test_ratings": test.len(), "rmse": m.rmse, "mae": m.mae }),
        );
    }
    let cases = test_users(model, data, &data.test, false, users, items, split)?;
    if cases.is_empty() {
        bail!("no test user has test items the model can rank (known user with known items)");
    }
    let n_items = items.len();
    let ranked = rank_model(model, &cases, k, n_negatives, seed)?;
    let (n_neg, sampled_m) = ranked.sampled.expect("the sampled protocol was asked for");
    let full_m = ranked.full;
    say!(
        ctx,
        "protocol full:    each of {} test users ranks all {n_items} items, train items excluded",
        cases.len()
    );
    say!(
        ctx,
        "protocol sampled: test positives among {n_neg} random non-positive items per user \
         (notebook 000; easier, flatters the model)"
    );
    print_metrics(
        ctx,
        k,
        options.map,
        &[("full", &full_m), ("sampled", &sampled_m)],
    );
    Ok(json!({
        "map_definition": options.map.label(),
        "protocols": {
            "full": { "description": "all items ranked, train items excluded", "metrics": full_m },
            "sampled": { "description": format!("test positives among {n_neg} sampled negatives (notebook 000)"), "negatives": n_neg, "metrics": sampled_m },
        },
        "users": cases.len(),
        "k": k,
    }))
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
    /// With --model: negatives per user in the sampled protocol.
    #[arg(long, default_value_t = 100)]
    pub negatives: usize,
    /// Recommendations: user_id,item_id[,rating|score|rank].
    #[arg(long, requires = "truth")]
    pub recs: Option<PathBuf>,
    /// Ground truth: user_id,item_id.
    #[arg(long, requires = "recs")]
    pub truth: Option<PathBuf>,
    /// Train interactions (user_id,item_id), for Coverage.
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// Cut-off of the lists.
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// What MAP@k divides by: min-k-rel (RePlay's: min(k, |rel|)) or rel (ranx's: |rel|).
    #[arg(long, default_value = "min-k-rel")]
    pub map_denominator: String,
    /// With --model, explicit models: write each test rating and its prediction to this CSV
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
        let (data, negatives) = (&args.data, args.negatives);
        let l = crate::checkpoint::load(ctx, dir, data.as_deref())?;
        say!(
            ctx,
            "model {} ({}, trained on {}, {:?} split, seed {})",
            dir.display(),
            l.model.config.kind.name(),
            l.sidecar.data.data,
            l.sidecar.split.kind,
            l.sidecar.training.seed
        );
        let (sc, m) = (&l.sidecar, &l.model);
        let options = EvalOptions {
            map,
            predictions: args.predictions.clone(),
        };
        return evaluate_model(
            ctx,
            m,
            &l.data,
            &sc.users,
            &sc.items,
            sc.split.kind,
            sc.training.seed,
            k,
            negatives,
            &options,
        );
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
    let lists = ev::read_recommendations(&recs)?;
    let m = ranking_metrics(
        &lists.lists,
        &ev::read_truth(&truth)?,
        k,
        train_items.as_ref(),
    )?;
    say!(
        ctx,
        "protocol: lists given in {} against {} ({} users)",
        recs.display(),
        truth.display(),
        m.users
    );
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
