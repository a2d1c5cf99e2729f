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
