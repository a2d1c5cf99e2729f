//! `recsys compare <notebook>`: run a Rust port and its PyTorch twin
//! (`notebooks-ported/python/nbXXX.py`) with the same seed and set their numbers side by side:
//! every epoch's loss, the final metrics, and wall time.
//!
//! Each notebook's registry entry ([`crate::notebooks::registry`]) says which of its flags the
//! twin follows ([`flags`]), and reads both sides into one typed form,
//! [`Numbers`]: the port's from its typed outcome, the twin's from its `--json` output parsed
//! into the twin's own type. The processes are in [`process`], the table in [`table`].

mod beside_notebook;
mod flags;
mod process;
mod table;

use std::time::Instant;

use anyhow::{Context as _, Result};
use serde_json::{json, Value};

use recsys::runtime::context::Context;
use recsys::say;

use crate::notebooks::registry::{self, Entry, Numbers};

pub use beside_notebook::rows as rows_beside_notebook;
pub use flags::{plan, Plan};
pub use process::{ensure_python, python, run_python_json, run_python_json_env, twin_path};
pub use table::side_by_side;

/// Relative difference |a − b| / max(|a|, |b|), 0 when both are 0.
pub fn rel_diff(a: f64, b: f64) -> f64 {
    let scale = a.abs().max(b.abs());
    if scale == 0.0 {
        0.0
    } else {
        (a - b).abs() / scale
    }
}

/// Run notebook `notebook`'s port (in-process) and its twin with the same seed (`--seed`,
/// else the notebook's own default, which port and twin share, as in `reproduce`) and the flags
/// `flags` (translated by [`plan`]), print them side by side, and return the comparison with
/// wall times.
///
/// The port's own printing goes to stderr (as under `--json`), so stdout holds the comparison;
/// its files go to a temporary directory.
pub fn compare(ctx: &Context, notebook: &str, flags: &[String]) -> Result<Value> {
    let entry = registry::find(notebook)?;
    let plan = plan(notebook, flags)?;
    let seed = ctx.seed;
    let seed_text = seed.map_or("the notebook's default".to_string(), |s| s.to_string());
    let out_dir =
        std::env::temp_dir().join(format!("recsys-compare-{notebook}-{}", std::process::id()));
    let port_ctx = Context {
        seed,
        json: true,
        out_dir: out_dir.clone(),
        force: true,
        ..ctx.clone()
    };
    say!(
        ctx,
        "notebook {notebook}, seed {seed_text}: Rust port `recsys notebook {notebook} {}` (its output on stderr)",
        plan.port_flags.join(" ")
    );
    let start = Instant::now();
    let ran = entry.run_flags(&port_ctx, &plan.port_flags);
    let rust_s = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out_dir);
    let ran = ran.with_context(|| format!("the Rust port of notebook {notebook}"))?;
    beside_twin(ctx, entry, seed, &plan, &ran.numbers, rust_s, true)
}

/// Run the twin as `plan` says, with `--seed seed` (none: the twin's own default, which is the
/// port's), and set it beside the port's numbers `rust` (a run that took `rust_s` seconds):
/// prints the losses and metrics side by side (when `show_tables`) and the wall times, and
/// returns them, with the twin's numbers as `python_numbers`.
pub fn beside_twin(
    ctx: &Context,
    entry: &dyn Entry,
    seed: Option<u64>,
    plan: &Plan,
    rust: &Numbers,
    rust_s: f64,
    show_tables: bool,
) -> Result<Value> {
    let notebook = entry.id();
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
        let (v, s) = process::run_twin(notebook, &args)?;
        py_s += s;
        py_runs.push((run.label.clone(), v));
    }
    let py = entry.twin_numbers(&py_runs)?;
    let mut result = side_by_side(ctx, rust, &py, show_tables)?;
    result["python_numbers"] = json!(py);
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

    /// A loss series or metric that only one side reports is listed as unmatched, whichever
    /// side it is (the twin's names are collected too, not only the port's).
    #[test]
    fn names_of_either_side_alone_are_unmatched() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context {
            json: true,
            ..Context::for_tests(dir.path())
        };
        let mut rust = Numbers::default();
        rust.series("mf", &[1.0, 0.5]);
        rust.metric("ndcg", 0.25);
        rust.metric("rust_only", 0.1);
        let mut py = rust.clone();
        py.metrics.remove("rust_only");
        py.metric("twin_only", 0.3);
        py.series("gru", &[2.0]);
        let v = side_by_side(&ctx, &rust, &py, true).unwrap();
        assert_eq!(
            v["unmatched"],
            json!(["gru (twin only)", "rust_only", "twin_only (twin only)"])
        );
        assert_eq!(v["metrics"].as_array().unwrap().len(), 1);
        let same = side_by_side(&ctx, &rust, &rust, true).unwrap();
        assert_eq!(same["unmatched"], json!([]));
    }

    /// The twins' JSON is read back to the f64 they printed (serde_json's `float_roundtrip`):
    /// without it `0.9446859742522793` reads as the next f64 down, and `compare 001` showed
    /// relative differences of 1e-16 where the bits agree.
    #[test]
    fn twin_floats_round_trip_and_bits_are_counted() {
        let printed = "0.9446859742522793";
        let v: Value = serde_json::from_str(printed).unwrap();
        assert_eq!(
            v.as_f64().unwrap().to_bits(),
            printed.parse::<f64>().unwrap().to_bits()
        );
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context {
            json: true,
            ..Context::for_tests(dir.path())
        };
        let mut rust = Numbers::default();
        rust.series("train", &[printed.parse().unwrap(), 0.5]);
        rust.metric("mse", 1.2609526646939684);
        let py = entry_numbers(&json!({"train": [v, 0.5], "mse": 1.2609526646939684}));
        let same = side_by_side(&ctx, &rust, &py, true).unwrap();
        assert_eq!(same["max_loss_rel_diff"], json!(0.0));
        assert_eq!(same["bit_for_bit"], json!(true));
        let mut off = py.clone();
        off.metric("mse", f64::from_bits(1.2609526646939684f64.to_bits() + 1));
        let v = side_by_side(&ctx, &rust, &off, true).unwrap();
        assert_eq!(v["bit_for_bit"], json!(false));
        assert_eq!(v["identical"]["metrics"], json!(0));
        assert_eq!(v["identical"]["losses"], json!(2));
    }

    /// [`Numbers`] read through serde_json, as a twin's output is.
    fn entry_numbers(v: &Value) -> Numbers {
        let text = v.to_string();
        let v: Value = serde_json::from_str(&text).unwrap();
        let mut n = Numbers::default();
        let train: Vec<f64> = v["train"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        n.series("train", &train);
        n.metric("mse", v["mse"].as_f64());
        n
    }

    #[test]
    fn twin_output_is_read_into_its_type() {
        let py = json!({"epochs": [[0.5, 0.6], [0.4, 0.5]],
            "metrics": {"ndcg": 0.1, "hit_rate": 0.2, "coverage": 0.3}, "wall_s": 1.0});
        let nb = registry::find("003").unwrap();
        let p = nb.twin_numbers(&[("faithful".into(), py)]).unwrap();
        assert_eq!(p.epochs["faithful test"], vec![0.6, 0.5]);
        assert_eq!(p.metrics["faithful ndcg"], 0.1);
        // A renamed field is an error, not a metric silently left out.
        let renamed = json!({"epochs": [[0.5, 0.6]], "metrics": {"NDCG": 0.1}});
        assert!(nb.twin_numbers(&[("faithful".into(), renamed)]).is_err());
    }
}
