//! `recsys recommend` (top-k items for a user) and `recsys similar` (nearest items by cosine
//! similarity of the item embeddings), from a saved model.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use serde_json::{json, Value};

use crate::args::ensure_k;
use crate::checkpoint::{load, Loaded};
use crate::prepared::{histories, item_sets, titles};
use crate::zoo::{Feedback, Query};
use recsys::eval::metrics::{ensure_finite, top_k_excluding};
use recsys::prep::i64_values;
use recsys::runtime::context::Context;
use recsys::say;

fn item_json(id: i64, score: Option<f64>, titles: &HashMap<i64, String>) -> Value {
    json!({ "item_id": id, "score": score, "title": titles.get(&id) })
}

fn print_items(ctx: &Context, items: &[Value], score_name: &str) {
    say!(
        ctx,
        "{:>4} {:>8} {:>10}  title",
        "rank",
        "item_id",
        score_name
    );
    for (r, it) in items.iter().enumerate() {
        let score = it["score"]
            .as_f64()
            .map_or("-".to_string(), |s| format!("{s:.4}"));
        say!(
            ctx,
            "{:>4} {:>8} {:>10}  {}",
            r + 1,
            it["item_id"].to_string(),
            score,
            it["title"].as_str().unwrap_or("")
        );
    }
}

/// How many items a list shows: `n`, with the `k` asked for when fewer were available.
fn shown(n: usize, k: usize) -> String {
    if n < k {
        format!("{n} (all there are; -k {k} asked)")
    } else {
        n.to_string()
    }
}

/// Items by number of train interactions, most first (ties: smaller id first).
fn popular(loaded: &Loaded) -> Result<Vec<(i64, usize)>> {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for i in i64_values(&loaded.data.train, "item_id")? {
        *counts.entry(i).or_default() += 1;
    }
    let mut v: Vec<(i64, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(v)
}

/// Top `k` items for `user` (original id).
pub fn recommend(
    ctx: &Context,
    dir: &Path,
    data: Option<&str>,
    user: i64,
    k: usize,
    include_seen: bool,
) -> Result<Value> {
    ensure_k(k)?;
    let loaded = load(ctx, dir, data)?;
    let (model, sc) = (&loaded.model, &loaded.sidecar);
    let titles = titles(ctx, &sc.data);
    let seen: HashSet<i64> = if include_seen {
        HashSet::new()
    } else {
        item_sets(&loaded.data.ratings)?
            .remove(&user)
            .unwrap_or_default()
    };
    let query = if model.is_sequence() {
        let mut all = loaded.data.train.clone();
        all.vstack_mut(&loaded.data.test)?;
        let h: Vec<i64> = histories(&all)?
            .remove(&user)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| sc.items.index(i))
            .collect();
        (!h.is_empty()).then_some(Query::History(h))
    } else {
        sc.users.index(user).map(Query::User)
    };
    let Some(query) = query else {
        say!(
            ctx,
            "user {user} is not known to the model (no {} in its training data); \
             showing the most popular train items instead: a popularity fallback, not a personal recommendation",
            if model.is_sequence() { "history of known items" } else { "interaction" }
        );
        let items: Vec<Value> = popular(&loaded)?
            .into_iter()
            .filter(|(i, _)| !seen.contains(i))
            .take(k)
            .map(|(i, n)| item_json(i, Some(n as f64), &titles))
            .collect();
        print_items(ctx, &items, "train count");
        return Ok(
            json!({ "user": user, "known": false, "fallback": "popularity", "items": items }),
        );
    };
    let scores = model.score_all(&[query])?.remove(0);
    ensure_finite(&scores)?;
    let seen_indices = seen.iter().filter_map(|&i| sc.items.index(i));
    let items: Vec<Value> = top_k_excluding(&scores, seen_indices.map(|i| i as usize), k)
        .into_iter()
        .map(|i| {
            item_json(
                sc.items.id(i as i64).expect("index"),
                Some(scores[i] as f64),
                &titles,
            )
        })
        .collect();
    let score_name = match model.config.feedback {
        Feedback::Explicit => "rating",
        Feedback::Implicit => "score",
    };
    say!(
        ctx,
        "top {} for user {user} from {} ({}{})",
        shown(items.len(), k),
        dir.display(),
        model.config.kind.name(),
        if include_seen {
            ""
        } else {
            ", seen items excluded"
        }
    );
    print_items(ctx, &items, score_name);
    Ok(
        json!({ "user": user, "known": true, "fallback": Value::Null, "items": items, "excluded_seen": seen.len() }),
    )
}

/// The `k` items nearest to `item` (an id, or a title substring) by cosine similarity.
pub fn similar(
    ctx: &Context,
    dir: &Path,
    data: Option<&str>,
    item: &str,
    k: usize,
) -> Result<Value> {
    ensure_k(k)?;
    let loaded = load(ctx, dir, data)?;
    let (model, sc) = (&loaded.model, &loaded.sidecar);
    let titles = titles(ctx, &sc.data);
    let wanted = item.trim();
    if wanted.is_empty() {
        bail!("--item is empty: give an item id, or words from its title");
    }
    let target = match wanted.parse::<i64>() {
        // a number is an id, never a title search: "1995" must not quietly match "(1995)"
        Ok(id) if sc.items.index(id).is_some() => id,
        Ok(id) => bail!(
            "--item {id}: no item with id {id} is known to the model (a number is read as an \
             item id; to search titles, give words from the title)"
        ),
        Err(_) => {
            let needle = wanted.to_lowercase();
            let mut matches: Vec<i64> = titles
                .iter()
                .filter(|(_, t)| t.to_lowercase().contains(&needle))
                .map(|(i, _)| *i)
                .collect();
            matches.sort();
            let known: Vec<i64> = matches
                .iter()
                .copied()
                .filter(|i| sc.items.index(*i).is_some())
                .collect();
            match known.first() {
                Some(&i) => {
                    if known.len() > 1 {
                        say!(ctx, "{} known items match {wanted:?}; using the first, {i}", known.len());
                    }
                    i
                }
                None if !matches.is_empty() => bail!(
                    "item {wanted:?} matches {} title(s) ({}), but the model never saw them in training",
                    matches.len(),
                    titles[&matches[0]]
                ),
                None => bail!(
                    "item {wanted:?} is not known to the model: no title of its items contains it"
                ),
            }
        }
    };
    let q = sc.items.index(target).expect("known");
    let emb = model.item_embeddings()?;
    let norm = emb
        .norm_scalaropt_dim(2, [1i64].as_slice(), true)
        .clamp_min(1e-12);
    let unit = &emb / norm;
    let sims: Vec<f32> = Vec::try_from(unit.mv(&unit.get(q)))?;
    ensure_finite(&sims)?;
    let items: Vec<Value> = top_k_excluding(&sims, [q as usize], k)
        .into_iter()
        .map(|i| {
            item_json(
                sc.items.id(i as i64).expect("index"),
                Some(sims[i] as f64),
                &titles,
            )
        })
        .collect();
    say!(
        ctx,
        "items nearest to {target}{} by cosine similarity of {} item embeddings",
        titles
            .get(&target)
            .map(|t| format!(" ({t})"))
            .unwrap_or_default(),
        model.config.kind.name()
    );
    if items.len() < k {
        say!(ctx, "showing {}", shown(items.len(), k));
    }
    print_items(ctx, &items, "cosine");
    Ok(json!({ "item": target, "title": titles.get(&target), "items": items }))
}

/// `recsys recommend`'s flags.
#[derive(clap::Args, Debug)]
pub struct RecommendArgs {
    /// A saved model directory.
    #[arg(long)]
    pub model: PathBuf,
    /// The user's original id.
    #[arg(long)]
    pub user: i64,
    /// How many items.
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// Keep items the user already rated.
    #[arg(long)]
    pub include_seen: bool,
    /// Read the ratings from here instead of the model's source (same data, checked).
    #[arg(long)]
    pub data: Option<String>,
}

/// `recsys similar`'s flags.
#[derive(clap::Args, Debug)]
pub struct SimilarArgs {
    /// A saved model directory.
    #[arg(long)]
    pub model: PathBuf,
    /// An item id, or a (case-insensitive) title substring.
    #[arg(long)]
    pub item: String,
    /// How many items.
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// Read the ratings from here instead of the model's source (same data, checked).
    #[arg(long)]
    pub data: Option<String>,
}
