//! What the command-line tests share: running the built binary in a directory, and reading
//! what it printed.
#![allow(dead_code)] // each test file uses the helpers it needs

use std::path::Path;
use std::process::{Command, Output};

/// Run the built `recsys` with `args` in `dir` (RECSYS_DEVICE unset: the machine's default).
pub fn recsys(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(args)
        .current_dir(dir)
        .env_remove("RECSYS_DEVICE")
        .output()
        .expect("recsys runs")
}

/// What it printed on stderr.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Checks success; returns what it printed (stdout, then stderr).
pub fn ok(out: &Output) -> String {
    let err = stderr(out);
    assert!(out.status.success(), "{err}");
    String::from_utf8_lossy(&out.stdout).into_owned() + &err
}

/// Checks success; stdout as the one JSON object of `--json`.
pub fn json_of(out: &Output) -> serde_json::Value {
    ok(out);
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

/// Write `text` as `dir/name`; returns the path as a string, for a flag.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// 40 users with 12 distinct items each (of 30), ratings 1..=5, from a fixed LCG; ids are
/// written by `id` (e.g. `|u, i| format!("{u},{i}")`).
pub fn ratings(id: impl Fn(u64, u64) -> String) -> String {
    let mut state: u64 = 12345;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let mut text = String::from("user_id,item_id,rating,timestamp\n");
    for u in 1..=40 {
        let mut items: Vec<u64> = (1..=30).collect();
        for j in 0..12 {
            let pick = j + next(30 - j as u64) as usize;
            items.swap(j, pick);
            let (r, t) = (1 + next(5), next(1_000_000));
            text.push_str(&format!("{},{r},{t}\n", id(u, items[j])));
        }
    }
    text
}

/// A small explicit ratings CSV: 12 users, 8 ratings each, distinct timestamps.
pub fn small_ratings_csv() -> String {
    let mut text = String::from("user_id,item_id,rating,timestamp\n");
    let mut t = 1000;
    for u in 1..=12 {
        for k in 0..8 {
            t += 7;
            let i = (u * 5 + k * 3) % 15 + 1;
            text.push_str(&format!("{u},{i},{},{t}\n", (u + k) % 5 + 1));
        }
    }
    text
}

/// A failure with status 1, exactly one line on stderr holding every one of `needles`, no
/// panic, no C++ frame and no allocator abort.
pub fn assert_one_line_error(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "status; stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    for frame in [
        "Exception raised from",
        "frame #",
        "panicked",
        "memory allocation",
    ] {
        assert!(!err.contains(frame), "{frame:?} in: {err}");
    }
    for n in needles {
        assert!(err.contains(n), "{n:?} missing from: {err}");
    }
}

/// Run the built `recsys` in `dir` on the CPU with seed 1 and `--out out`, then `args`
/// (RECSYS_DEVICE and RUST_BACKTRACE unset).
pub fn recsys_cpu(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recsys"))
        .current_dir(dir)
        .args(["--device", "cpu", "--seed", "1", "--out", "out"])
        .args(args)
        .env_remove("RECSYS_DEVICE")
        .env_remove("RUST_BACKTRACE")
        .env("RECSYS_PROGRESS_SECS", "0")
        .output()
        .expect("recsys runs")
}

/// Names in `dir` (sorted).
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// No `.tmp-*` or `.old-*` anywhere under `dir`.
pub fn assert_no_temporaries(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let n = e.file_name().to_string_lossy().into_owned();
        assert!(
            !n.starts_with(".tmp-") && !n.starts_with(".old-"),
            "left behind: {}",
            e.path().display()
        );
        if e.path().is_dir() {
            assert_no_temporaries(&e.path());
        }
    }
}

/// A scratch directory holding `B.csv` ([`small_ratings_csv`]).
pub fn scratch() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("B.csv");
    std::fs::write(&b, small_ratings_csv()).unwrap();
    (dir, b)
}

/// `train B.csv --epochs 1 --dim 4` and `extra`, through [`recsys_cpu`].
pub fn train_b(dir: &Path, extra: &[&str]) -> Output {
    let args: Vec<&str> = ["train", "B.csv", "--epochs", "1", "--dim", "4"]
        .iter()
        .chain(extra)
        .copied()
        .collect();
    recsys_cpu(dir, &args)
}

/// A refused flag value as clap reports it through recsys: status 2, one line naming the flag
/// and every one of `needles`, no panic and no allocator abort.
pub fn assert_flag_refused(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "status; stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {err}");
    assert!(lines[0].starts_with("error: invalid value"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("memory allocation"),
        "{err}"
    );
    for n in needles {
        assert!(err.contains(n), "{n:?} missing from: {err}");
    }
}
