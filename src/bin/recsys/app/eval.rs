//! Evaluating a model on its test split: RMSE and MAE for explicit models; for ranking models,
//! Precision, Recall, NDCG, HitRate, MRR, MAP and Coverage at k under two protocols:
//!
//! - **full**: every item the model knows is ranked for each test user, the user's train items
//!   excluded; the relevant set is the user's test items (known to the model).
//! - **sampled** (notebook 000): each user's test positives are ranked among `n_negatives`
//!   items drawn at random from the items that are not test positives (they may be train
//!   items of the user); ties keep positives first. It is much easier than the full protocol,
//!   so its numbers flatter the model (Krichene & Rendle, "On Sampled Metrics for Item
//!   Recommendation", 2020).
//!
//! Sequence models under the user-based split score each test user from their test history
//! without its last item, which is the only relevant item.

use std::collections::{HashMap, HashSet};

use anyhow::{bail, Result};
use serde_json::{json, Value};
use tch::{Kind, Tensor};

use super::data::{histories, item_sets, rows, Prepared, SplitKind};
use super::ensure_k;
use super::models::{AppModel, Feedback, Query};
use recsys::eval::metrics::{mae, rmse, top_k};
use recsys::eval::recs::{ranking_metrics, Lists, RankingMetrics, Truth};
use recsys::eval::sampled::sample_test_negatives;
use recsys::prep::IdMap;
use recsys::runtime::context::Context;
use recsys::say;

/// One user's evaluation case, in model indices.
struct Case {
    user: i64,
    query: Query,
    relevant: Vec<i64>,
    excluded: HashSet<i64>,
}

fn cases(
    model: &AppModel,
    data: &Prepared,
    users: &IdMap,
    items: &IdMap,
    split: SplitKind,
) -> Result<Vec<Case>> {
    let known = |ids: &[i64]| -> Vec<i64> { ids.iter().filter_map(|&i| items.index(i)).collect() };
    let mut out = Vec::new();
    if model.is_sequence() && split == SplitKind::User {
        let test = histories(&data.test)?;
        let mut ids: Vec<&i64> = test.keys().collect();
        ids.sort();
        for u in ids {
            let h = known(&test[u]);
            if h.len() < 2 {
                continue;
            }
            let (prefix, last) = h.split_at(h.len() - 1);
            out.push(Case {
                user: *u,
                query: Query::History(prefix.to_vec()),
                relevant: last.to_vec(),
                excluded: prefix.iter().copied().collect(),
            });
        }
        return Ok(out);
    }
    let train = histories(&data.train)?;
    let test = item_sets(&data.test)?;
    let mut ids: Vec<&i64> = test.keys().collect();
    ids.sort();
    for u in ids {
        let (Some(idx), Some(history)) = (users.index(*u), train.get(u)) else {
            continue;
        };
        let mut relevant = known(&test[u].iter().copied().collect::<Vec<_>>());
        relevant.sort();
        if relevant.is_empty() {
            continue;
        }
        let history = known(history);
        out.push(Case {
            user: *u,
            query: if model.is_sequence() {
                Query::History(history.clone())
            } else {
                Query::User(idx)
            },
            relevant,
            excluded: history.into_iter().collect(),
        });
    }
    Ok(out)
}

fn print_metrics(ctx: &Context, k: usize, columns: &[(&str, &RankingMetrics)]) {
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
    line("MAP", &|m| m.map);
    line("Coverage", &|m| m.coverage.unwrap_or(f64::NAN));
}

/// Evaluate `model` on the test side of `data`; prints the protocol and the numbers.
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
) -> Result<Value> {
    ensure_k(k)?;
    if model.config.feedback == Feedback::Explicit {
        let mut us = Vec::new();
        let mut is = Vec::new();
        let mut targets = Vec::new();
        for (u, i, r, _) in rows(&data.test)? {
            if let (Some(u), Some(i)) = (users.index(u), items.index(i)) {
                us.push(u);
                is.push(i);
                targets.push(r);
            }
        }
        if us.is_empty() {
            bail!("no test rating has a user and an item known to the model");
        }
        let device = ctx.device;
        let preds: Vec<f64> = tch::no_grad(|| -> Result<Vec<f64>> {
            let mut out = Vec::with_capacity(us.len());
            for (u, i) in us.chunks(65536).zip(is.chunks(65536)) {
                let p = model.score_pairs(
                    &Tensor::from_slice(u).to_device(device),
                    &Tensor::from_slice(i).to_device(device),
                    false,
                )?;
                out.extend(Vec::<f64>::try_from(
                    p.to_kind(Kind::Double).to_device(tch::Device::Cpu),
                )?);
            }
            Ok(out)
        })?;
        let (r, m) = (rmse(&preds, &targets), mae(&preds, &targets));
        say!(
            ctx,
            "protocol: rating prediction on the {} test ratings whose user and item the model knows (of {})",
            us.len(),
            data.test.height()
        );
        say!(ctx, "RMSE  {r:.4}");
        say!(ctx, "MAE   {m:.4}");
        return Ok(
            json!({ "protocol": "rating prediction", "test_ratings": us.len(), "rmse": r, "mae": m }),
        );
    }
    let cases = cases(model, data, users, items, split)?;
    if cases.is_empty() {
        bail!("no test user has test items the model can rank (known user with known items)");
    }
    let queries: Vec<Query> = cases.iter().map(|c| c.query.clone()).collect();
    let scores = model.score_all(&queries)?;
    let n_items = items.len();
    let id = |i: i64| items.id(i).expect("model index");
    let truth: Truth = cases
        .iter()
        .map(|c| (c.user, c.relevant.iter().map(|&i| id(i)).collect()))
        .collect();
    // full ranking, train items excluded
    let mut full: Lists = HashMap::new();
    for (c, s) in cases.iter().zip(&scores) {
        let mut s = s.clone();
        for &i in &c.excluded {
            s[i as usize] = f32::NEG_INFINITY;
        }
        let top: Vec<i64> = top_k(&s, k)
            .into_iter()
            .filter(|&i| s[i] > f32::NEG_INFINITY)
            .map(|i| id(i as i64))
            .collect();
        full.insert(c.user, top);
    }
    let full_m = ranking_metrics(&full, &truth, k, Some(n_items))?;
    // sampled negatives (notebook 000)
    tch::manual_seed(seed as i64);
    let excluded: Vec<HashSet<i64>> = cases
        .iter()
        .map(|c| c.relevant.iter().copied().collect())
        .collect();
    let min_pool = excluded
        .iter()
        .map(|e| n_items - e.len())
        .min()
        .unwrap_or(0);
    let n_neg = n_negatives.min(min_pool);
    let negatives = sample_test_negatives(n_items as i64, &excluded, n_neg)?;
    let mut sampled: Lists = HashMap::new();
    for ((c, s), neg) in cases.iter().zip(&scores).zip(&negatives) {
        let cand: Vec<i64> = c.relevant.iter().chain(neg).copied().collect();
        let cs: Vec<f32> = cand.iter().map(|&i| s[i as usize]).collect();
        sampled.insert(
            c.user,
            top_k(&cs, k).into_iter().map(|r| id(cand[r])).collect(),
        );
    }
    let sampled_m = ranking_metrics(&sampled, &truth, k, Some(n_items))?;
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
    print_metrics(ctx, k, &[("full", &full_m), ("sampled", &sampled_m)]);
    Ok(json!({
        "protocols": {
            "full": { "description": "all items ranked, train items excluded", "metrics": full_m },
            "sampled": { "description": format!("test positives among {n_neg} sampled negatives (notebook 000)"), "negatives": n_neg, "metrics": sampled_m },
        },
        "users": cases.len(),
        "k": k,
    }))
}
