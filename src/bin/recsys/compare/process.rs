//! Running the project's Python: the twins and `bench.py`, each printing one JSON object.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use serde_json::Value;

use crate::notebooks::registry;

pub use crate::twins::python;

/// The twin script of a notebook.
pub fn twin_path(notebook: &str) -> Result<PathBuf> {
    crate::twins::script(registry::find(notebook)?.twin().script)
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
