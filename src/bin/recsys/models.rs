//! `recsys models`: the registry as a table, and the same list for `--help`.

use anyhow::Result;
use serde_json::{json, Value};

use recsys::recommender::registry::models;
use recsys::recommender::settings::describe;
use recsys::runtime::context::Context;
use recsys::say;

/// One line per model: name, task and help (the text `train --help` and `experiment --help`
/// end with).
pub fn help_text() -> String {
    let mut out = String::from("Models (`recsys models` lists their settings):\n");
    for m in models() {
        out.push_str(&format!(
            "  {:<12} {:<10} {}\n",
            m.name,
            m.task.name(),
            m.help
        ));
    }
    out
}

/// Print every model with its settings and their defaults.
pub fn list(ctx: &Context) -> Result<Value> {
    let mut all = vec![];
    for m in models() {
        say!(
            ctx,
            "{:<12} {:<10} {:<8} {}",
            m.name,
            m.task.name(),
            if m.on_device { "--device" } else { "cpu" },
            m.help
        );
        say!(ctx, "{:<12} settings: {}", "", describe(&m.defaults()));
        all.push(json!({
            "name": m.name,
            "task": m.task,
            "device": if m.on_device { "follows --device" } else { "cpu" },
            "help": m.help,
            "settings": m.defaults(),
        }));
    }
    Ok(Value::Array(all))
}
