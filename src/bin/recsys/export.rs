//! `recsys recommend --all-users | --users FILE --output FILE`: the top-k lists of many users
//! from one loaded model, scored in chunks, written atomically to one CSV with the header
//! `user_id,item_id,score,rank` (rank 1 is best; ids as the data has them, strings included).
//! Users the model cannot score (not in its training data) are counted and left out.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::{json, Value};

use crate::recommend::{all_histories, query_for, Exclude, RecommendArgs};
use recsys::eval::metrics::{ensure_finite, top_k_excluding};
use recsys::prep::export::csv_field;
use recsys::prep::names::IdNames;
use recsys::recommender::checkpoint::load;
use recsys::recommender::Task;
use recsys::runtime::context::{write_atomic, Context};
use recsys::say;

/// Users scored per call of the model (bounds the score rows held at once).
const CHUNK: usize = 1024;

/// The users listed in `path`: one id a line, blank lines skipped, a first line `user` or
/// `user_id` taken as a header. Returns their codes in file order (`None` for a string id the
/// data does not have).
fn read_users(path: &Path, names: &IdNames) -> Result<Vec<Option<i64>>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("--users {}: cannot read it ({e})", path.display()))?;
    let mut users = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let id = line.trim();
        if id.is_empty() || (n == 0 && matches!(id, "user" | "user_id")) {
            continue;
        }
        let what = format!("--users {} line {}", path.display(), n + 1);
        users.push(names.user_code(id, &what)?);
    }
    if users.is_empty() {
        bail!("--users {}: no user id in it", path.display());
    }
    Ok(users)
}

/// Write every asked user's top-k list to `--output`.
pub fn export(ctx: &Context, a: &RecommendArgs, exclude: Exclude) -> Result<Value> {
    let Some(output) = &a.output else {
        bail!("--all-users and --users write a file: give --output FILE (e.g. recs.csv)");
    };
    if output.exists() && !ctx.force {
        bail!(
            "--output {} already exists; pass --force to replace it",
            output.display()
        );
    }
    let loaded = load(ctx, &a.model, a.data.as_deref())?;
    let names = loaded.data.names();
    let histories = all_histories(&loaded)?;
    let users: Vec<Option<i64>> = match &a.users {
        Some(path) => read_users(path, &names)?,
        None => {
            let mut u: Vec<i64> = match loaded.model.task() == Task::NextItem {
                true => histories.keys().copied().collect(),
                false => loaded.sidecar.users.ids().to_vec(),
            };
            u.sort_unstable();
            u.into_iter().map(Some).collect()
        }
    };
    let excluded = exclude.items(&loaded)?;
    let items = &loaded.sidecar.items;
    let (mut known, mut unknown) = (Vec::new(), 0usize);
    for u in users {
        match u.and_then(|u| Some((u, query_for(&loaded, u, &histories)?))) {
            Some(known_user) => known.push(known_user),
            None => unknown += 1,
        }
    }
    let mut csv = String::from("user_id,item_id,score,rank\n");
    let mut rows = 0usize;
    for chunk in known.chunks(CHUNK) {
        let queries: Vec<_> = chunk.iter().map(|(_, q)| q.clone()).collect();
        let scores = loaded.model.score(&queries)?;
        let n_items = loaded.model.n_items() as usize;
        let flat: Vec<f32> = Vec::try_from(scores.reshape([-1]))?;
        for ((user, _), row) in chunk.iter().zip(flat.chunks(n_items)) {
            ensure_finite(row)?;
            let skip: HashSet<usize> = excluded
                .get(user)
                .into_iter()
                .flatten()
                .filter_map(|&i| items.index(i).map(|x| x as usize))
                .collect();
            for (rank, i) in top_k_excluding(row, skip, a.k).into_iter().enumerate() {
                let item = items.id(i as i64).expect("a model index");
                let (u, it) = (names.user(*user), names.item(item));
                let (u, it) = (csv_field(&u), csv_field(&it));
                writeln!(csv, "{u},{it},{},{}", row[i], rank + 1).expect("a String");
                rows += 1;
            }
        }
    }
    write_atomic(output, csv.as_bytes(), ctx.force)
        .with_context(|| format!("writing --output {}", output.display()))?;
    say!(
        ctx,
        "wrote {} ({rows} rows: top {} of {} users, {} items excluded, {})",
        output.display(),
        a.k,
        known.len(),
        match exclude {
            Exclude::Train => "train",
            Exclude::Seen => "seen",
            Exclude::None => "no",
        },
        loaded.model.name()
    );
    if unknown > 0 {
        say!(
            ctx,
            "skipped {unknown} user(s) the model cannot score (not in its training data)"
        );
    }
    Ok(
        json!({ "output": output, "users": known.len(), "skipped_users": unknown, "rows": rows, "k": a.k }),
    )
}
