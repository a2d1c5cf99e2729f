//! `recsys compare <notebook>`: run a Rust port and its PyTorch twin
//! (`notebooks-ported/python/nbXXX.py`) with the same seed and set their numbers side by side:
//! every epoch's loss, the final metrics, and wall time.
//!
//! Convention shared by both sides: the port's `Report.details` and the twin's `--json` output
//! hold `"epochs": {"<model>": [loss per epoch, ...]}` and `"metrics": {"<name>": value}`;
//! the twin adds `"wall_s"`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::{json, Map, Value};

use crate::context::Context;
use crate::say;

/// Relative difference |a − b| / max(|a|, |b|), 0 when both are 0.
pub fn rel_diff(a: f64, b: f64) -> f64 {
    let scale = a.abs().max(b.abs());
    if scale == 0.0 {
        0.0
    } else {
        (a - b).abs() / scale
    }
}

/// The project's Python: `RECSYS_PYTHON`, else the libtorch virtualenv's.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("RECSYS_PYTHON") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = std::env::var_os("RECSYS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv"));
    venv.join("bin/python")
}

/// The twin script of a notebook.
pub fn twin_path(notebook: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("notebooks-ported/python/nb{notebook}.py"))
}

/// Run a notebook's twin with `args` plus `--json`, returning its JSON and wall seconds.
pub fn run_twin(notebook: &str, args: &[String]) -> Result<(Value, f64)> {
    let script = twin_path(notebook);
    if !script.exists() {
        bail!(
            "notebook {notebook} has no Python twin ({} is missing)",
            script.display()
        );
    }
    let py = python();
    let start = Instant::now();
    let out = Command::new(&py)
        .arg(&script)
        .args(args)
        .arg("--json")
        .env(
            "RECSYS_DATA",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data"),
        )
        .output()
        .with_context(|| format!("running {} {}", py.display(), script.display()))?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "{} failed ({}):\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("{} did not print one JSON object", script.display()))?;
    Ok((v, secs))
}

fn as_map(v: &Value, key: &str) -> Map<String, Value> {
    v.get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Side-by-side per-epoch losses and metrics of `rust` and `python` JSON objects.
pub fn side_by_side(ctx: &Context, rust: &Value, python: &Value) -> Result<Value> {
    let (re, pe) = (as_map(rust, "epochs"), as_map(python, "epochs"));
    if re.is_empty() {
        bail!("the Rust port reported no per-epoch losses (details.epochs)");
    }
    let mut models = Vec::new();
    let mut worst: f64 = 0.0;
    for (model, r_losses) in &re {
        let r_losses: Vec<f64> = serde_json::from_value(r_losses.clone())?;
        let p_losses: Vec<f64> = match pe.get(model) {
            Some(v) => serde_json::from_value(v.clone())?,
            None => {
                say!(ctx, "{model}: the twin has no losses for it");
                continue;
            }
        };
        say!(ctx, "\n{model}: loss per epoch");
        say!(
            ctx,
            "{:>6} {:>14} {:>14} {:>10}",
            "epoch",
            "rust",
            "python",
            "rel_diff"
        );
        let mut rows = Vec::new();
        for (e, (r, p)) in r_losses.iter().zip(&p_losses).enumerate() {
            let d = rel_diff(*r, *p);
            worst = worst.max(d);
            say!(ctx, "{:>6} {:>14.8} {:>14.8} {:>10.2e}", e + 1, r, p, d);
            rows.push(json!({ "epoch": e + 1, "rust": r, "python": p, "rel_diff": d }));
        }
        if r_losses.len() != p_losses.len() {
            say!(
                ctx,
                "({model}: {} epochs in Rust, {} in Python)",
                r_losses.len(),
                p_losses.len()
            );
        }
        models.push(json!({ "model": model, "epochs": rows }));
    }
    let (rm, pm) = (as_map(rust, "metrics"), as_map(python, "metrics"));
    let mut metrics = Vec::new();
    if !rm.is_empty() {
        say!(ctx, "\nfinal metrics");
        say!(
            ctx,
            "{:<34} {:>12} {:>12} {:>10}",
            "metric",
            "rust",
            "python",
            "rel_diff"
        );
    }
    for (name, r) in &rm {
        let (Some(r), Some(p)) = (r.as_f64(), pm.get(name).and_then(Value::as_f64)) else {
            continue;
        };
        let d = rel_diff(r, p);
        say!(ctx, "{name:<34} {r:>12.6} {p:>12.6} {d:>10.2e}");
        metrics.push(json!({ "metric": name, "rust": r, "python": p, "rel_diff": d }));
    }
    Ok(json!({ "models": models, "metrics": metrics, "max_loss_rel_diff": worst }))
}

/// Run notebook `nb`'s port (through `run_port`) and its twin with the same seed, print them
/// side by side, and return the comparison.
pub fn compare(
    ctx: &Context,
    nb: &str,
    twin_args: &[String],
    run_port: impl FnOnce(&Context) -> Result<crate::report::Report>,
) -> Result<Value> {
    let seed = ctx
        .seed
        .ok_or_else(|| anyhow!("compare needs --seed, so both sides draw the same numbers"))?;
    let start = Instant::now();
    let report = run_port(ctx)?;
    let rust_s = start.elapsed().as_secs_f64();
    let mut args = vec!["--seed".to_string(), seed.to_string()];
    args.extend_from_slice(twin_args);
    let (py, py_s) = run_twin(nb, &args)?;
    let mut result = side_by_side(ctx, &report.details, &py)?;
    say!(
        ctx,
        "\nwall time: Rust {rust_s:.2} s, Python {py_s:.2} s, ratio {:.2}x",
        py_s / rust_s
    );
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
}
