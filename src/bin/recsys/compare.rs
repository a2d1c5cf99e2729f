//! `recsys compare <notebook>`: run a Rust port and its PyTorch twin
//! (`notebooks-ported/python/nbXXX.py`) with the same seed and set their numbers side by side:
//! every epoch's loss, the final metrics, and wall time.
//!
//! Each port reports its numbers in its own `Report.details` layout and each twin prints its own
//! `--json` layout, so a per-notebook adapter ([`plan`], [`rust_common`], [`python_common`])
//! maps both into one common form,
//! `{"epochs": {"<model>": [loss per epoch, ...]}, "metrics": {"<name>": value}}`,
//! and translates the flags given after `--` into each side's own flags.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::{json, Map, Value};

use recsys::runtime::context::Context;
use recsys::say;

/// Relative difference |a − b| / max(|a|, |b|), 0 when both are 0.
pub fn rel_diff(a: f64, b: f64) -> f64 {
    let scale = a.abs().max(b.abs());
    if scale == 0.0 {
        0.0
    } else {
        (a - b).abs() / scale
    }
}

pub use crate::twins::python;

/// The twin script of a notebook.
pub fn twin_path(notebook: &str) -> Result<PathBuf> {
    crate::twins::twin(notebook)
}

/// The shipped data directory the twins read (the same files the ports read).
pub fn shipped_data() -> Result<PathBuf> {
    Ok(recsys::data::DataPaths::new(None)?.shipped)
}

/// Run a Python script with `args`, returning its stdout parsed as one JSON object and the wall
/// seconds. Fails with the script's stderr when it fails.
pub fn run_python_json(script: &Path, args: &[String]) -> Result<(Value, f64)> {
    run_python_json_env(script, args, &[])
}

/// The project's Python ([`python`]), or an error saying how to get it.
pub fn ensure_python() -> Result<PathBuf> {
    let py = python();
    if !py.exists() {
        bail!(
            "the project's Python {} does not exist: run scripts/setup-libtorch.sh (it makes the \
             virtualenv with torch, pandas and numpy), or point RECSYS_PYTHON at a Python that has them",
            py.display()
        );
    }
    Ok(py)
}

/// [`run_python_json`] with extra environment variables (e.g. `OMP_NUM_THREADS`).
pub fn run_python_json_env(
    script: &Path,
    args: &[String],
    env: &[(&str, String)],
) -> Result<(Value, f64)> {
    let py = ensure_python()?;
    let start = Instant::now();
    let out = Command::new(&py)
        .arg(script)
        .args(args)
        .env("RECSYS_DATA", shipped_data()?)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .with_context(|| format!("running {} {}", py.display(), script.display()))?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "{} {} failed ({}):\n{}",
            script.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // One JSON object; a twin that also prints its log lines on stdout is read from its last line.
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let v: Value = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(last))
        .with_context(|| {
            format!(
                "{} did not print one JSON object; it printed:\n{}",
                script.display(),
                String::from_utf8_lossy(&out.stdout)
            )
        })?;
    Ok((v, secs))
}

/// Run a notebook's twin with `args` plus `--json`, returning its JSON and wall seconds.
pub fn run_twin(notebook: &str, args: &[String]) -> Result<(Value, f64)> {
    let script = twin_path(notebook)?;
    if !script.exists() {
        bail!(
            "notebook {notebook} has no Python twin ({} is missing)",
            script.display()
        );
    }
    let mut args = args.to_vec();
    args.push("--json".into());
    run_python_json(&script, &args)
}

// ---- adapters ---------------------------------------------------------------------------------

/// Where a port flag goes.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// To the port and, under this name, to the twin.
    Both(&'static str),
    /// To the port only: it does not change the compared numbers (or the twin has it fixed).
    PortOnly,
    /// To the twin only, under the same name (a twin's own switch, e.g. 004's `--adam`).
    TwinOnly,
    /// Refused: the twin cannot follow it, so the two sides would not be comparable.
    Unsupported(&'static str),
}

/// One port flag: its name without dashes, whether it takes a value, and where it goes.
type Rule = (&'static str, bool, Target);

const RULES_000: &[Rule] = &[
    ("epochs", true, Target::Both("--epochs")),
    ("sampled-epochs", true, Target::Both("--sampled-epochs")),
    ("batch-size", true, Target::Both("--batch-size")),
    ("lr", true, Target::Both("--lr")),
    ("factors", true, Target::Both("--factors")),
    ("utc-offset", true, Target::Both("--utc-offset")),
    ("split-date", true, Target::Both("--split-date")),
    ("corrected", false, Target::Both("--corrected")),
    ("no-neumf", false, Target::Both("--no-neumf")),
    ("threads", true, Target::Both("--threads")),
    // torch: torch.optim.Adam; libtorch: the C++ Adam's formula, as the port runs it.
    ("adam", true, Target::TwinOnly),
    (
        "compare-modes",
        false,
        Target::Unsupported("the twin runs one mode; compare with and without --corrected"),
    ),
    (
        "neumf-layers",
        true,
        Target::Unsupported("the twin's NeuMF has the notebook's 3 layers"),
    ),
];
const RULES_001: &[Rule] = &[
    ("epochs", true, Target::Both("--epochs")),
    ("prior-runs", true, Target::Both("--prior-runs")),
    ("corrected", false, Target::PortOnly),
    ("pca-top", true, Target::PortOnly),
    ("pca-min-ratings", true, Target::PortOnly),
    (
        "learning-rate",
        true,
        Target::Unsupported("the twin uses the notebook's learning rate 0.05"),
    ),
    (
        "lr-decay",
        true,
        Target::Unsupported("the twin uses the notebook's decay 0.9"),
    ),
    (
        "split-seed",
        true,
        Target::Unsupported("the twin uses the notebook's random.seed(0)"),
    ),
];
const RULES_002: &[Rule] = &[
    ("part", true, Target::Both("--part")),
    ("seq-epochs", true, Target::Both("--seq-epochs")),
    ("models", true, Target::PortOnly),
    ("threads", true, Target::PortOnly),
    (
        "seeds",
        true,
        Target::Unsupported("compare runs one seed; pass --seed"),
    ),
    (
        "quick",
        false,
        Target::Unsupported("the twin has no --quick; use --seq-epochs and --part"),
    ),
];
const RULES_003: &[Rule] = &[
    ("mode", true, Target::Both("--mode")),
    ("batch-size", true, Target::Both("--batch-size")),
    ("lr", true, Target::Both("--lr")),
    ("epochs", true, Target::Both("--epochs")),
    ("negatives", true, Target::Both("--negatives")),
    ("k", true, Target::Both("--k")),
    ("threads", true, Target::Both("--threads")),
    (
        "emb-dim",
        true,
        Target::Unsupported("the twin's towers have dimension 16"),
    ),
];
const RULES_004: &[Rule] = &[
    ("mf-epochs", true, Target::Both("--mf-epochs")),
    ("mode", true, Target::Both("--mode")),
    ("holdout", true, Target::Both("--holdout")),
    ("epochs", true, Target::Both("--epochs")),
    ("batch-size", true, Target::Both("--batch-size")),
    ("threads", true, Target::Both("--threads")),
    // torch: torch.optim.Adam; libtorch: the C++ Adam's formula, as the port runs it.
    ("adam", true, Target::TwinOnly),
];

fn rules(notebook: &str) -> Result<&'static [Rule]> {
    Ok(match notebook {
        "000" => RULES_000,
        "001" => RULES_001,
        "002" => RULES_002,
        "003" => RULES_003,
        "004" => RULES_004,
        other => bail!("unknown notebook {other:?}; expected one of 000, 001, 002, 003, 004"),
    })
}

/// One run of a twin: a label that prefixes its model and metric names (empty: none) and its
/// flags (without `--seed` and `--json`, which [`compare`] adds).
#[derive(Debug, Clone, PartialEq)]
pub struct TwinRun {
    /// Prefix of its names in the common form ("" for none).
    pub label: String,
    /// Its flags.
    pub args: Vec<String>,
}

/// How to run both sides of a comparison: the port's flags and the twin's runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Flags for the port (as for `recsys notebook <nb>`).
    pub port_flags: Vec<String>,
    /// The twin's runs (notebook 003 runs its twin once per mode).
    pub twin_runs: Vec<TwinRun>,
}

/// Translate the flags given after `--` into the port's flags and the twin's runs.
pub fn plan(notebook: &str, flags: &[String]) -> Result<Plan> {
    let rules = rules(notebook)?;
    let mut port_flags = Vec::new();
    let mut twin = Vec::new();
    let mut mode: Option<String> = None;
    let mut it = flags.iter();
    while let Some(flag) = it.next() {
        let Some(body) = flag.strip_prefix("--") else {
            bail!("unexpected argument {flag:?}: give flags as --name value");
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let Some(&(_, takes_value, target)) = rules.iter().find(|r| r.0 == name) else {
            let known: Vec<String> = rules.iter().map(|r| format!("--{}", r.0)).collect();
            bail!(
                "notebook {notebook}: compare does not know how to pass --{name} to the twin; \
                 it knows {}",
                known.join(", ")
            );
        };
        let value = if takes_value {
            Some(match inline {
                Some(v) => v,
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| anyhow!("--{name} needs a value"))?,
            })
        } else {
            None
        };
        if !matches!(target, Target::TwinOnly) {
            port_flags.push(format!("--{name}"));
            port_flags.extend(value.clone());
        }
        match target {
            Target::PortOnly => {}
            Target::TwinOnly => {
                twin.push(format!("--{name}"));
                twin.extend(value);
            }
            Target::Unsupported(why) => {
                bail!("notebook {notebook}: --{name} is not comparable: {why}")
            }
            Target::Both(twin_name) if notebook == "003" && name == "mode" => {
                let _ = twin_name;
                mode = value;
            }
            Target::Both(twin_name) => {
                twin.push(twin_name.to_string());
                twin.extend(value);
            }
        }
    }
    if notebook == "001" {
        twin.push("--data-dir".into());
        twin.push(shipped_data()?.display().to_string());
    }
    let twin_runs = if notebook == "003" {
        // The port runs both modes by default; the twin runs one mode per call.
        let modes: Vec<String> = match mode.as_deref() {
            None | Some("both") => vec!["faithful".into(), "corrected".into()],
            Some(m) => vec![m.to_string()],
        };
        modes
            .into_iter()
            .map(|m| {
                let mut args = vec!["--mode".to_string(), m.clone()];
                args.extend(twin.iter().cloned());
                TwinRun { label: m, args }
            })
            .collect()
    } else {
        vec![TwinRun {
            label: String::new(),
            args: twin,
        }]
    };
    Ok(Plan {
        port_flags,
        twin_runs,
    })
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

fn named(label: &str, name: &str) -> String {
    if label.is_empty() {
        name.to_string()
    } else {
        format!("{label} {name}")
    }
}

/// The common form from the convention `{"epochs": {...}|[...], "metrics": {...}}`.
fn conventional(v: &Value, label: &str) -> (Map<String, Value>, Map<String, Value>) {
    let mut epochs = Map::new();
    match v.get("epochs") {
        Some(Value::Object(m)) => {
            for (k, x) in m {
                epochs.insert(named(label, k), json!(f64s(x)));
            }
        }
        Some(a @ Value::Array(_)) if !f64s(a).is_empty() => {
            epochs.insert(named(label, "loss"), json!(f64s(a)));
        }
        _ => {}
    }
    let mut metrics = Map::new();
    if let Some(Value::Object(m)) = v.get("metrics") {
        for (k, x) in m {
            if x.is_number() {
                metrics.insert(named(label, k), x.clone());
            }
        }
    }
    (epochs, metrics)
}

fn common(epochs: Map<String, Value>, metrics: Map<String, Value>) -> Value {
    json!({ "epochs": epochs, "metrics": metrics })
}

/// Map a port's `Report.details` into the common form.
pub fn rust_common(notebook: &str, details: &Value) -> Result<Value> {
    let mut epochs = Map::new();
    let mut metrics = Map::new();
    match notebook {
        "000" => {
            let mode = &details["modes"][0];
            if !mode.is_object() {
                bail!("000: details.modes is empty");
            }
            for model in ["mf", "neumf"] {
                let runs = &mode[model];
                if !runs.is_object() {
                    continue;
                }
                for (key, train) in [
                    ("unsampled", "unsampled_training"),
                    ("sampled", "sampled_training"),
                ] {
                    epochs.insert(
                        format!("{model}_{key}"),
                        json!(f64s(&runs[train]["printed"])),
                    );
                }
                for (key, field) in [
                    ("untrained", "untrained"),
                    ("unsampled", "trained_unsampled"),
                    ("sampled", "trained_sampled"),
                ] {
                    let m = &runs[field];
                    let ks: Vec<u64> = m["ks"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_u64)
                        .collect();
                    for metric in ["recall", "ndcg", "hit_rate"] {
                        for (k, x) in ks.iter().zip(f64s(&m[metric])) {
                            metrics.insert(format!("{model}_{key} {metric}@{k}"), json!(x));
                        }
                    }
                }
            }
        }
        "001" => {
            let rows = details["epochs"]
                .as_array()
                .ok_or_else(|| anyhow!("001: details.epochs is not a list"))?;
            for key in [
                "train_shown",
                "train_mean",
                "validation_shown",
                "validation_mean",
            ] {
                let v: Vec<f64> = rows.iter().filter_map(|r| r[key].as_f64()).collect();
                epochs.insert(key.into(), json!(v));
            }
            metrics.insert("baseline_mse".into(), details["baseline_mse"].clone());
            metrics.insert("test_shown".into(), details["test"]["shown"].clone());
            metrics.insert("test_mean".into(), details["test"]["mean"].clone());
        }
        "002" => {
            let run = &details["runs"][0];
            let p1 = &run["part1"];
            if p1.is_object() {
                epochs.insert("explicit".into(), json!(f64s(&p1["spotlight_losses"])));
                for k in ["rmse", "baseline_rmse"] {
                    metrics.insert(k.into(), p1[k].clone());
                }
                if let Some(x) = f64s(&p1["cf_test_rmse"]).last() {
                    metrics.insert("cf_test_rmse_wd0.001".into(), json!(x));
                }
                if let Some(x) = f64s(&p1["cf_no_wd_test_rmse"]).last() {
                    metrics.insert("cf_test_rmse_wd0.0".into(), json!(x));
                }
            }
            let p2 = &run["part2"];
            if p2.is_object() {
                for k in [
                    "train_sequences",
                    "test_sequences",
                    "most_popular",
                    "softmax_popularity",
                ] {
                    metrics.insert(k.into(), p2[k].clone());
                }
                metrics.insert("pooling_lrap".into(), p2["lrap_pooling"].clone());
                for m in p2["models"].as_array().into_iter().flatten() {
                    let name = m["model"].as_str().unwrap_or("?");
                    epochs.insert(name.into(), json!(f64s(&m["losses"])));
                    metrics.insert(format!("{name}_mrr"), m["mrr"].clone());
                }
            }
        }
        "003" => {
            let modes = details["modes"]
                .as_object()
                .ok_or_else(|| anyhow!("003: details.modes is missing"))?;
            for (mode, t) in modes {
                epochs.insert(format!("{mode} train"), json!(f64s(&t["train_loss"])));
                epochs.insert(format!("{mode} test"), json!(f64s(&t["test_loss"])));
                if let Some(m) = t["metrics"].as_object() {
                    for (k, x) in m {
                        metrics.insert(format!("{mode} {k}"), x.clone());
                    }
                }
            }
        }
        "004" => {
            let p1 = &details["part1"];
            epochs.insert("mf".into(), json!(f64s(&p1["faithful_losses"])));
            epochs.insert("mf corrected".into(), json!(f64s(&p1["corrected_losses"])));
            for (mode, run) in details["part2"].as_object().into_iter().flatten() {
                epochs.insert(
                    mode.clone(),
                    json!(f64s(&run["training"]["last_batch_losses"])),
                );
                for (eval, prefix) in [("train_eval", ""), ("holdout_eval", "holdout ")] {
                    for k in ["average_loss", "accuracy"] {
                        if run[eval][k].is_number() {
                            metrics.insert(format!("{mode} {prefix}{k}"), run[eval][k].clone());
                        }
                    }
                }
            }
        }
        _ => {
            let (e, m) = conventional(details, "");
            epochs = e;
            metrics = m;
        }
    }
    metrics.retain(|_, v| v.is_number());
    Ok(common(epochs, metrics))
}

/// Map a twin's `--json` output (one per [`TwinRun`], with its label) into the common form.
pub fn python_common(notebook: &str, runs: &[(String, Value)]) -> Result<Value> {
    let mut epochs = Map::new();
    let mut metrics = Map::new();
    for (label, v) in runs {
        match notebook {
            "000" => {
                let (e, _) = conventional(v, label);
                epochs.extend(e);
                // metrics: {"<model>_<when>": {"recall": [@5, @10, @30], "ndcg": [...], ...}}
                for (name, m) in v["metrics"].as_object().into_iter().flatten() {
                    for metric in ["recall", "ndcg", "hit_rate"] {
                        for (k, x) in [5, 10, 30].iter().zip(f64s(&m[metric])) {
                            metrics.insert(named(label, &format!("{name} {metric}@{k}")), json!(x));
                        }
                    }
                }
            }
            "001" => {
                let rows = v["per_epoch"]
                    .as_array()
                    .ok_or_else(|| anyhow!("001 twin: per_epoch is not a list"))?;
                for key in [
                    "train_shown",
                    "train_mean",
                    "validation_shown",
                    "validation_mean",
                ] {
                    let x: Vec<f64> = rows.iter().filter_map(|r| r[key].as_f64()).collect();
                    epochs.insert(key.into(), json!(x));
                }
                let (_, m) = conventional(v, label);
                metrics.extend(m);
            }
            "002" => {
                let (_, m) = conventional(v, label);
                metrics.extend(m);
                let explicit = f64s(&v["epochs"]);
                if !explicit.is_empty() {
                    epochs.insert("explicit".into(), json!(explicit));
                }
                if let Some(l) = v["losses"].as_object() {
                    for (k, x) in l {
                        epochs.insert(k.clone(), json!(f64s(x)));
                    }
                }
            }
            "003" => {
                let rows = v["epochs"]
                    .as_array()
                    .ok_or_else(|| anyhow!("003 twin: epochs is not a list"))?;
                let col =
                    |j: usize| -> Vec<f64> { rows.iter().filter_map(|r| r[j].as_f64()).collect() };
                epochs.insert(named(label, "train"), json!(col(0)));
                epochs.insert(named(label, "test"), json!(col(1)));
                let (_, m) = conventional(v, label);
                metrics.extend(m);
            }
            "004" => {
                let m = &v["metrics"];
                epochs.insert("mf".into(), json!(f64s(&m["part1_losses"])));
                epochs.insert(
                    "mf corrected".into(),
                    json!(f64s(&m["part1_corrected_losses"])),
                );
                for mode in ["faithful", "corrected"] {
                    let run = &m[mode];
                    if !run.is_object() {
                        continue;
                    }
                    epochs.insert(mode.into(), json!(f64s(&run["losses"])));
                    for (eval, prefix) in [("train_eval", ""), ("holdout_eval", "holdout ")] {
                        for k in ["average_loss", "accuracy"] {
                            if run[eval][k].is_number() {
                                metrics.insert(format!("{mode} {prefix}{k}"), run[eval][k].clone());
                            }
                        }
                    }
                }
            }
            _ => {
                let (e, m) = conventional(v, label);
                epochs.extend(e);
                metrics.extend(m);
            }
        }
    }
    Ok(common(epochs, metrics))
}

// ---- side by side -----------------------------------------------------------------------------

fn as_map(v: &Value, key: &str) -> Map<String, Value> {
    v.get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Side-by-side per-epoch losses and metrics of `rust` and `python`, both in the common form.
/// Returns `{"models": [{"model", "epochs": [{"epoch", "rust", "python", "rel_diff"}]}],
/// "metrics": [{"metric", "rust", "python", "rel_diff"}], "max_loss_rel_diff",
/// "max_metric_rel_diff", "unmatched": [names on one side only]}`.
pub fn side_by_side(ctx: &Context, rust: &Value, python: &Value) -> Result<Value> {
    let (re, pe) = (as_map(rust, "epochs"), as_map(python, "epochs"));
    if re.is_empty() {
        bail!("the Rust port reported no per-epoch losses");
    }
    let mut models = Vec::new();
    let mut unmatched = Vec::new();
    let mut worst: f64 = 0.0;
    for (model, r_losses) in &re {
        let r_losses = f64s(r_losses);
        let Some(p_losses) = pe.get(model).map(f64s) else {
            say!(ctx, "\n{model}: the twin has no losses for it");
            unmatched.push(json!(model));
            continue;
        };
        say!(ctx, "\n{model}: loss per epoch");
        say!(
            ctx,
            "{:>6} {:>16} {:>16} {:>10}",
            "epoch",
            "rust",
            "python",
            "rel_diff"
        );
        let mut rows = Vec::new();
        let n = r_losses.len().min(p_losses.len());
        // Long series (004's 250 MF epochs) print the first 5, every step-th and the last.
        let step = n.div_ceil(20).max(1);
        let mut model_worst: f64 = 0.0;
        for (e, (r, p)) in r_losses.iter().zip(&p_losses).enumerate() {
            let d = rel_diff(*r, *p);
            worst = worst.max(d);
            model_worst = model_worst.max(d);
            if n <= 25 || e < 5 || (e + 1) % step == 0 || e + 1 == n {
                say!(ctx, "{:>6} {:>16.10} {:>16.10} {:>10.2e}", e + 1, r, p, d);
            }
            rows.push(json!({ "epoch": e + 1, "rust": r, "python": p, "rel_diff": d }));
        }
        if n > 25 {
            say!(
                ctx,
                "({n} epochs, some rows left out; max rel_diff {model_worst:.2e})"
            );
        }
        if r_losses.len() != p_losses.len() {
            say!(
                ctx,
                "({model}: {} epochs in Rust, {} in Python)",
                r_losses.len(),
                p_losses.len()
            );
            unmatched.push(json!(format!("{model} (epoch count)")));
        }
        models.push(json!({ "model": model, "epochs": rows }));
    }
    let (rm, pm) = (as_map(rust, "metrics"), as_map(python, "metrics"));
    let mut metrics = Vec::new();
    let mut worst_metric: f64 = 0.0;
    if !rm.is_empty() {
        say!(ctx, "\nfinal metrics");
        say!(
            ctx,
            "{:<30} {:>16} {:>16} {:>10}",
            "metric",
            "rust",
            "python",
            "rel_diff"
        );
    }
    for (name, r) in &rm {
        let Some(r) = r.as_f64() else { continue };
        let Some(p) = pm.get(name).and_then(Value::as_f64) else {
            say!(ctx, "{name:<30} {r:>16.10} {:>16} {:>10}", "-", "-");
            unmatched.push(json!(name));
            continue;
        };
        let d = rel_diff(r, p);
        worst_metric = worst_metric.max(d);
        say!(ctx, "{name:<30} {r:>16.10} {p:>16.10} {d:>10.2e}");
        metrics.push(json!({ "metric": name, "rust": r, "python": p, "rel_diff": d }));
    }
    Ok(json!({
        "models": models,
        "metrics": metrics,
        "max_loss_rel_diff": worst,
        "max_metric_rel_diff": worst_metric,
        "unmatched": unmatched,
    }))
}

/// Run notebook `notebook`'s port (in-process) and its twin with the same seed (`--seed`,
/// else 0) and the flags `flags` (translated by [`plan`]), print them side by side, and return
/// the comparison with wall times.
///
/// The port's own printing goes to stderr (as under `--json`), so stdout holds the comparison;
/// its files go to a temporary directory.
pub fn compare(ctx: &Context, notebook: &str, flags: &[String]) -> Result<Value> {
    let plan = plan(notebook, flags)?;
    let seed = ctx.seed.unwrap_or(0);
    let out_dir =
        std::env::temp_dir().join(format!("recsys-compare-{notebook}-{}", std::process::id()));
    let port_ctx = Context {
        seed: Some(seed),
        json: true,
        out_dir: out_dir.clone(),
        force: true,
        ..ctx.clone()
    };
    say!(
        ctx,
        "notebook {notebook}, seed {seed}: Rust port `recsys notebook {notebook} {}` (its output on stderr)",
        plan.port_flags.join(" ")
    );
    let start = Instant::now();
    let report = crate::reproduce::run_notebook_with(&port_ctx, notebook, &plan.port_flags);
    let rust_s = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out_dir);
    let report = report.with_context(|| format!("the Rust port of notebook {notebook}"))?;
    beside_twin(ctx, notebook, Some(seed), &plan, &report.details, rust_s)
}

/// Run the twin as `plan` says, with `--seed seed` (none: the twin's own default, which is the
/// port's), and set it beside the port's report `details` (a run that took `rust_s` seconds):
/// prints the losses and metrics side by side and the wall times, and returns them.
pub fn beside_twin(
    ctx: &Context,
    notebook: &str,
    seed: Option<u64>,
    plan: &Plan,
    details: &Value,
    rust_s: f64,
) -> Result<Value> {
    let rust = rust_common(notebook, details)?;
    let mut py_runs = Vec::new();
    let mut py_s = 0.0;
    for run in &plan.twin_runs {
        let mut args: Vec<String> = match seed {
            Some(seed) => vec!["--seed".to_string(), seed.to_string()],
            None => Vec::new(),
        };
        args.extend(run.args.iter().cloned());
        say!(
            ctx,
            "Python twin: {} {} {}",
            python().display(),
            twin_path(notebook)?.display(),
            args.join(" ")
        );
        let (v, s) = run_twin(notebook, &args)?;
        py_s += s;
        py_runs.push((run.label.clone(), v));
    }
    let py = python_common(notebook, &py_runs)?;
    let mut result = side_by_side(ctx, &rust, &py)?;
    say!(
        ctx,
        "\nwall time: Rust {rust_s:.2} s, Python {py_s:.2} s (process, with its start-up), ratio {:.2}x",
        py_s / rust_s
    );
    result["notebook"] = json!(notebook);
    result["seed"] = json!(seed);
    result["port_flags"] = json!(plan.port_flags);
    result["twin_args"] = json!(plan
        .twin_runs
        .iter()
        .map(|r| r.args.clone())
        .collect::<Vec<_>>());
    result["wall_s"] = json!({ "rust": rust_s, "python": py_s, "ratio": py_s / rust_s });
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_differences() {
        assert_eq!(rel_diff(0.0, 0.0), 0.0);
        assert_eq!(rel_diff(1.0, 0.5), 0.5);
        assert!((rel_diff(-2.0, -2.0000002) - 1e-7).abs() < 1e-12);
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn flags_are_translated_per_notebook() {
        let p = plan("003", &s(&["--epochs", "2", "--lr=0.05"])).unwrap();
        assert_eq!(p.port_flags, s(&["--epochs", "2", "--lr", "0.05"]));
        assert_eq!(p.twin_runs.len(), 2);
        assert_eq!(p.twin_runs[1].label, "corrected");
        assert_eq!(
            p.twin_runs[1].args,
            s(&["--mode", "corrected", "--epochs", "2", "--lr", "0.05"])
        );
        let p = plan("003", &s(&["--mode", "faithful"])).unwrap();
        assert_eq!(p.twin_runs.len(), 1);
        let p = plan("002", &s(&["--models", "cbow", "--part", "2"])).unwrap();
        assert_eq!(p.twin_runs[0].args, s(&["--part", "2"]));
        assert!(plan("002", &s(&["--quick"])).is_err());
        assert!(plan("001", &s(&["--nonsense", "1"])).is_err());
        assert!(plan("001", &s(&["--epochs"])).is_err());
    }

    #[test]
    fn adapters_map_both_sides_to_one_form() {
        let details = json!({"modes": {"faithful": {"train_loss": [0.5, 0.4], "test_loss": [0.6, 0.5],
            "metrics": {"ndcg": 0.1}}}});
        let r = rust_common("003", &details).unwrap();
        assert_eq!(r["epochs"]["faithful train"], json!([0.5, 0.4]));
        assert_eq!(r["metrics"]["faithful ndcg"], json!(0.1));
        let py = json!({"epochs": [[0.5, 0.6], [0.4, 0.5]], "metrics": {"ndcg": 0.1}});
        let p = python_common("003", &[("faithful".into(), py)]).unwrap();
        assert_eq!(p["epochs"]["faithful test"], json!([0.6, 0.5]));
        assert_eq!(p["metrics"]["faithful ndcg"], json!(0.1));
    }
}
