//! Where the PyTorch twins (`notebooks-ported/python/`) and the project's Python are, found at
//! run time: nothing here comes from the build tree's path.
//!
//! The twins' folder is `RECSYS_TWINS` when set, else `notebooks-ported/python` in the working
//! directory or the nearest of its ancestors that has one, else the same beside the executable
//! (a `target/release/recsys` inside a checkout finds the checkout's). The project's Python is
//! `RECSYS_PYTHON`, else `RECSYS_VENV/bin/python`, else the checkout's `.venv/bin/python`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

const TWINS: &str = "notebooks-ported/python";

/// The folder holding the twins, if one is found.
pub fn dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("RECSYS_TWINS") {
        return Some(PathBuf::from(d));
    }
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf));
    let starts: Vec<PathBuf> = [std::env::current_dir().ok(), exe_dir]
        .into_iter()
        .flatten()
        .collect();
    starts
        .iter()
        .flat_map(|s| s.ancestors())
        .map(|a| a.join(TWINS))
        .find(|d| d.join("nb000.py").is_file())
}

/// The checkout the twins belong to (two levels above their folder).
fn checkout() -> Option<PathBuf> {
    Some(dir()?.parent()?.parent()?.to_path_buf())
}

/// A script of the twins' folder: a notebook's twin (its registry entry names it) or `bench.py`.
pub fn script(name: &str) -> Result<PathBuf> {
    let Some(dir) = dir() else {
        bail!(
            "the PyTorch twins ({TWINS}/) were not found in the working directory, its \
             ancestors or beside the executable: run from the project's checkout, or set \
             RECSYS_TWINS to the folder holding nb000.py"
        );
    };
    Ok(dir.join(name))
}

/// The project's Python: `RECSYS_PYTHON`, else `RECSYS_VENV/bin/python`, else the checkout's
/// `.venv/bin/python` (`.venv/bin/python` in the working directory when no checkout is found).
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("RECSYS_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = std::env::var_os("RECSYS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| checkout().unwrap_or_default().join(".venv"));
    venv.join("bin/python")
}
