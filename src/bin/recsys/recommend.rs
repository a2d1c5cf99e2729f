//! `recsys recommend` (top-k items for a user; for many users at once see [`crate::export`])
//! and `recsys similar` (nearest items by the model's item similarity), from a
//! saved model. Ids print as the data has them: integers, or the strings of a file with string
//! ids.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use serde_json::{json, Value};

use crate::args::ensure_k;
use recsys::eval::metrics::{ensure_finite, top_k_excluding};
use recsys::prep::by_user::{histories, item_sets, titles};
use recsys::prep::i64_values;
use recsys::prep::names::IdNames;
use recsys::recommender::checkpoint::{load, Loaded};
use recsys::recommender::{Query, Task};
use recsys::runtime::context::Context;
use recsys::say;

fn item_json(id: i64, score: Option<f64>, titles: &HashMap<i64, String>, names: &IdNames) -> Value {
    // integer ids stay JSON numbers; string ids come back as their strings
    let item = match names.items {
        Some(_) => json!(names.item(id)),
        None => json!(id),
    };
    json!({ "item_id": item, "score": score, "title": titles.get(&id) })
}

/// Which items a list leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclude {
    /// The user's train (and validation) items: what the full-ranking protocol leaves out, so
    /// test items can be recommended.
    Train,
    /// Every item the user rated anywhere in the data, test included.
    Seen,
    /// Nothing.
    None,
}

impl Exclude {
    /// `--exclude` as given (`train`, `seen` or `none`).
    pub fn parse(s: &str) -> Result<Exclude> {
        match s {
            "train" => Ok(Exclude::Train),
            "seen" => Ok(Exclude::Seen),
            "none" => Ok(Exclude::None),
            _ => bail!("--exclude {s:?}: expected train, seen or none"),
        }
    }

    /// Each user's excluded items (original ids).
    pub fn items(self, loaded: &Loaded) -> Result<HashMap<i64, HashSet<i64>>> {
        let d = &loaded.data;
        let mut table = match self {
            Exclude::None => return Ok(HashMap::new()),
            Exclude::Train => d.train.clone(),
            Exclude::Seen => d.ratings.clone(),
        };
        let more = match self {
            Exclude::Train => d.validation.as_ref(),
            _ => Some(&d.test),
        };
        if let Some(more) = more {
            let cols = ["user_id", "item_id"];
            table = table.select(cols)?;
            table.vstack_mut(&more.select(cols)?)?;
        }
        item_sets(&table)
    }
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
            .map_or("-".to_string(), crate::print::metric);
        say!(
            ctx,
            "{:>4} {:>8} {:>10}  {}",
            r + 1,
            it["item_id"]
                .as_str()
                .map_or_else(|| it["item_id"].to_string(), String::from),
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

/// What a model scores `user` (original id) from: the user's index, or for sequence models the
/// history of known items in `all_histories`; `None` when the model cannot score the user.
pub fn query_for(
    loaded: &Loaded,
    user: i64,
    all_histories: &HashMap<i64, Vec<i64>>,
) -> Option<Query> {
    let sc = &loaded.sidecar;
    if loaded.model.task() == Task::NextItem {
        let h: Vec<i64> = all_histories
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|&i| sc.items.index(i))
            .collect();
        (!h.is_empty()).then_some(Query::History(h))
    } else {
        sc.users.index(user).map(Query::User)
    }
}

/// Each user's history over train, validation and test (sequence models score from it).
pub fn all_histories(loaded: &Loaded) -> Result<HashMap<i64, Vec<i64>>> {
    let d = &loaded.data;
    let mut all = d.train.clone();
    if let Some(v) = &d.validation {
        all.vstack_mut(v)?;
    }
    all.vstack_mut(&d.test)?;
    histories(&all)
}

/// `recsys recommend`: one user's list, or every user's (`--all-users`, `--users`) to a file.
pub fn run(ctx: &Context, a: &RecommendArgs) -> Result<Value> {
    ensure_k(a.k)?;
    let exclude = match (&a.exclude, a.include_seen) {
        (Some(_), true) => bail!("--include-seen is --exclude none; give one of them"),
        (Some(e), false) => Exclude::parse(e)?,
        (None, true) => Exclude::None,
        (None, false) => Exclude::Seen,
    };
    if a.all_users || a.users.is_some() {
        return crate::export::export(ctx, a, exclude);
    }
    let Some(user) = &a.user else {
        bail!("recommend needs --user ID, or --all-users / --users FILE with --output FILE");
    };
    if let Some(out) = &a.output {
        bail!(
            "--output {}: writing a file needs --all-users or --users FILE",
            out.display()
        );
    }
    recommend(ctx, &a.model, a.data.as_deref(), user, a.k, exclude)
}

/// Top `k` items for `user` (original id, as given), without the `exclude`d items.
pub fn recommend(
    ctx: &Context,
    dir: &Path,
    data: Option<&str>,
    user: &str,
    k: usize,
    exclude: Exclude,
) -> Result<Value> {
    ensure_k(k)?;
    let loaded = load(ctx, dir, data)?;
    let (model, sc) = (&loaded.model, &loaded.sidecar);
    let names = loaded.data.names();
    let user_name = user.trim().to_string();
    let code = names.user_code(user, "--user")?;
    let titles = titles(ctx, &sc.data);
    let seen: HashSet<i64> = match code {
        Some(c) => exclude.items(&loaded)?.remove(&c).unwrap_or_default(),
        None => HashSet::new(),
    };
    let histories = all_histories(&loaded)?;
    let query = code.and_then(|c| query_for(&loaded, c, &histories));
    let user_json = match code {
        Some(c) if names.users.is_none() => json!(c),
        _ => json!(user_name),
    };
    let user = user_name;
    let Some(query) = query else {
        say!(
            ctx,
            "user {user} is not known to the model (no {} in its training data); \
             showing the most popular train items instead: a popularity fallback, not a personal recommendation",
            if model.task() == Task::NextItem { "history of known items" } else { "interaction" }
        );
        let items: Vec<Value> = popular(&loaded)?
            .into_iter()
            .filter(|(i, _)| !seen.contains(i))
            .take(k)
            .map(|(i, n)| item_json(i, Some(n as f64), &titles, &names))
            .collect();
        print_items(ctx, &items, "train count");
        return Ok(
            json!({ "user": user_json, "known": false, "fallback": "popularity", "items": items }),
        );
    };
    let scores: Vec<f32> = Vec::try_from(model.score(&[query])?.reshape([-1]))?;
    ensure_finite(&scores)?;
    let seen_indices = seen.iter().filter_map(|&i| sc.items.index(i));
    let items: Vec<Value> = top_k_excluding(&scores, seen_indices.map(|i| i as usize), k)
        .into_iter()
        .map(|i| {
            item_json(
                sc.items.id(i as i64).expect("index"),
                Some(scores[i] as f64),
                &titles,
                &names,
            )
        })
        .collect();
    let score_name = match model.task() {
        Task::Rating => "rating",
        _ => "score",
    };
    say!(
        ctx,
        "top {} for user {user} from {} ({}{})",
        shown(items.len(), k),
        dir.display(),
        model.name(),
        match exclude {
            Exclude::None => "",
            Exclude::Seen => ", seen items excluded",
            Exclude::Train => ", train items excluded",
        }
    );
    print_items(ctx, &items, score_name);
    Ok(
        json!({ "user": user_json, "known": true, "fallback": Value::Null, "items": items, "excluded_seen": seen.len() }),
    )
}

/// The `k` items nearest to `item` (an id, or a title substring) by the model's item
/// similarity (the cosine of item vectors, or item-item weights).
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
    // what the errors quote of it: a short excerpt
    let quoted = recsys::data::quoted(wanted);
    let names = loaded.data.names();
    let by_string = names.items.is_some();
    let target = match names.item_code(wanted).map(Ok).unwrap_or_else(|| wanted.parse::<i64>()) {
        // string ids: the id given, or else a title search (never a number read as a code)
        Ok(id) if by_string && names.item_code(wanted).is_none() => bail!(
            "--item {quoted}: no item with id {quoted} in this data (its ids are strings; {id} is not one of them)"
        ),
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
                        say!(ctx, "{} known items match {quoted}; using the first, {i}", known.len());
                    }
                    i
                }
                None if !matches.is_empty() => bail!(
                    "item {quoted} matches {} title(s) ({}), but the model never saw them in training",
                    matches.len(),
                    titles[&matches[0]]
                ),
                None => bail!(
                    "item {quoted} is not known to the model: no title of its items contains it"
                ),
            }
        }
    };
    let q = sc.items.index(target).expect("known");
    let Some(sims) = model.item_similarity(q)? else {
        bail!(
            "{} defines no item similarity (its items have no vectors or neighbours to compare); \
             use a model with item vectors (mf, als, bpr, svd, ...) or item neighbours (item-knn, ease)",
            model.name()
        );
    };
    ensure_finite(&sims)?;
    let items: Vec<Value> = top_k_excluding(&sims, [q as usize], k)
        .into_iter()
        .map(|i| {
            item_json(
                sc.items.id(i as i64).expect("index"),
                Some(sims[i] as f64),
                &titles,
                &names,
            )
        })
        .collect();
    say!(
        ctx,
        "items nearest to {}{} by {}'s item similarity",
        names.item(target),
        titles
            .get(&target)
            .map(|t| format!(" ({t})"))
            .unwrap_or_default(),
        model.name()
    );
    if items.len() < k {
        say!(ctx, "showing {}", shown(items.len(), k));
    }
    print_items(ctx, &items, "similarity");
    let item = match names.items {
        Some(_) => json!(names.item(target)),
        None => json!(target),
    };
    Ok(json!({ "item": item, "title": titles.get(&target), "items": items }))
}

/// `recsys recommend`'s flags.
#[derive(clap::Args, Debug)]
pub struct RecommendArgs {
    /// A saved model directory.
    #[arg(long)]
    pub model: PathBuf,
    /// The user's original id (an integer, or the string of a file with string ids).
    #[arg(long, conflicts_with_all = ["all_users", "users"])]
    pub user: Option<String>,
    /// Every user the model can score, to --output in one process.
    #[arg(long, conflicts_with = "users")]
    pub all_users: bool,
    /// The users listed in this file (one id a line; a first line `user` or `user_id` is a
    /// header), to --output.
    #[arg(long)]
    pub users: Option<PathBuf>,
    /// With --all-users or --users: the CSV to write (`user_id,item_id,score,rank`); an existing file
    /// is replaced only with --force.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// How many items.
    #[arg(short, long, default_value_t = 10, value_parser = recsys::runtime::limits::K.parser())]
    pub k: usize,
    /// Items left out of the lists: train (the user's train and validation items, as the
    /// full-ranking protocol; test items can be recommended), seen (every item the user rated
    /// anywhere in the data) or none [default: seen].
    #[arg(long)]
    pub exclude: Option<String>,
    /// Keep items the user already rated (--exclude none).
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
    #[arg(short, long, default_value_t = 10, value_parser = recsys::runtime::limits::K.parser())]
    pub k: usize,
    /// Read the ratings from here instead of the model's source (same data, checked).
    #[arg(long)]
    pub data: Option<String>,
}
