//! `scripts/bundle`: the folder it makes runs from another directory, with the wrapper putting
//! a Python torch's `lib/` on `LD_LIBRARY_PATH` (the project's own venv stands in for the GPU
//! machine's Python). Skipped, saying so, where this machine lacks bash or the venv.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's Python and its torch `lib/`, or why not.
fn venv_torch() -> Result<(PathBuf, PathBuf), String> {
    let py = std::env::var_os("RECSYS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"));
    let out = Command::new(&py)
        .args([
            "-c",
            "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))",
        ])
        .output()
        .map_err(|e| format!("{} does not run: {e}", py.display()))?;
    if !out.status.success() {
        return Err(format!("{} cannot import torch", py.display()));
    }
    let lib = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok((py, PathBuf::from(lib)))
}

fn bundle(dest: &Path) {
    let out = Command::new("bash")
        .arg(root().join("scripts/bundle"))
        .arg(dest)
        .env("RECSYS_BIN", env!("CARGO_BIN_EXE_recsys"))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "scripts/bundle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_bundle_runs_from_another_directory() {
    let (py, lib) = match venv_torch() {
        Ok(found) => found,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("bundle");
    bundle(&dest);
    for f in [
        "recsys",
        "bin/recsys",
        "data/SHA256SUMS",
        "notebooks-ported/python/nb000.py",
        "scripts/cuda-check",
        "docs/cuda.md",
        "MANIFEST",
    ] {
        assert!(dest.join(f).is_file(), "the bundle lacks {f}");
    }
    // A second bundle into a non-empty folder is refused.
    let again = Command::new("bash")
        .arg(root().join("scripts/bundle"))
        .arg(&dest)
        .env("RECSYS_BIN", env!("CARGO_BIN_EXE_recsys"))
        .output()
        .unwrap();
    assert!(!again.status.success());

    // The Python stand-in answers a folder of links to the venv's torch libraries: the dynamic
    // loader must take libtorch from there (LD_LIBRARY_PATH), not from the build's rpath.
    // The layout is a site-packages' (`torch/lib` beside `nvidia/`): libtorch_cuda finds the
    // CUDA libraries through its rpath `$ORIGIN/../../nvidia/...`.
    let links = tmp.path().join("site/torch/lib");
    std::fs::create_dir_all(&links).unwrap();
    let nvidia = lib.join("../../nvidia");
    if nvidia.is_dir() {
        std::os::unix::fs::symlink(&nvidia, tmp.path().join("site/nvidia")).unwrap();
    }
    for entry in std::fs::read_dir(&lib).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), links.join(entry.file_name())).unwrap();
    }
    let fake_py = tmp.path().join("python");
    std::fs::write(&fake_py, format!("#!/bin/sh\necho {}\n", links.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake_py, std::fs::Permissions::from_mode(0o755)).unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let run = |python: &Path, args: &[&str], debug: bool| {
        let mut cmd = Command::new(dest.join("recsys"));
        cmd.args(args)
            .current_dir(&elsewhere)
            .env_remove("LD_LIBRARY_PATH")
            .env_remove("RECSYS_DEVICE")
            .env_remove("RECSYS_TWINS")
            .env("RECSYS_PYTHON", python)
            .env("RECSYS_DATA_DIR", tmp.path().join("cache"));
        if debug {
            cmd.env("LD_DEBUG", "libs");
        }
        cmd.output().expect("the wrapper runs")
    };
    let out = run(&fake_py, &["--version"], true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let want = format!("calling init: {}/libtorch_cpu.so", links.display());
    assert!(
        stderr.contains(&want),
        "libtorch not loaded from LD_LIBRARY_PATH:\n{stderr}"
    );

    let out = run(
        &py,
        &[
            "--device",
            "cpu",
            "selftest",
            "--steps",
            "4",
            "--models",
            "mf,mlp",
        ],
        false,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all 2 models passed"), "{stdout}");

    let out = run(&py, &["--json", "doctor"], false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["data_ok"], true, "{v}");
    // The wrapper without a Python that has torch: one clear error line.
    let out = run(Path::new("/nonexistent/python"), &["doctor"], false);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
}

#[test]
fn selftest_on_cuda_without_cuda_says_so() {
    if tch_cuda_seen() {
        println!("skipped: this machine has CUDA (scripts/cuda-check is the check there)");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(["--device", "cuda", "selftest"])
        .env_remove("RECSYS_DEVICE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("CUDA is not available"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// Whether `recsys doctor` sees CUDA here.
fn tch_cuda_seen() -> bool {
    let out = Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(["--json", "--device", "cpu", "doctor"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v["torch"]["cuda_available"] == true
}
