//! The docs' sample sessions, run: every fenced block whose info string is `console checked`
//! in README.md and docs/*.md. Each `$ recsys ...` line of such a block is run by the current
//! build (the blocks of one file in order, in one fresh directory, so a later block can use a
//! model an earlier one saved), and the lines printed under it in the block must appear in
//! its output, in that order (other output lines may come between: the blocks are abridged;
//! a `...` line only says so). Timings at the end of a line (`1.4 s`) are not compared. A
//! number in the docs that drifted from what the build prints fails here.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One `$ recsys ...` command of a checked block and the lines shown under it.
struct Session {
    command: String,
    shown: Vec<String>,
}

/// The checked blocks' sessions of a markdown file, in order.
fn checked_sessions(markdown: &str) -> Vec<Session> {
    let mut sessions: Vec<Session> = Vec::new();
    // None: outside a block; Some(checked): inside one
    let mut block: Option<bool> = None;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            block = match block {
                None => Some(line.trim_start().trim_start_matches('`').trim() == "console checked"),
                Some(_) => None,
            };
            continue;
        }
        if block != Some(true) {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            sessions.push(Session {
                command: command.to_string(),
                shown: Vec::new(),
            });
        } else if let Some(s) = sessions.last_mut() {
            let line = line.trim_end();
            if !line.is_empty() && line.trim() != "..." {
                s.shown.push(line.to_string());
            }
        }
    }
    sessions
}

/// A line without its trailing timing (`  1.4 s`), whitespace runs made one space.
fn comparable(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let n = words.len();
    let timed = n >= 2 && words[n - 1] == "s" && words[n - 2].parse::<f64>().is_ok();
    words[..if timed { n - 2 } else { n }].join(" ")
}

/// Run `command` (`recsys` followed by its arguments, split at spaces, quotes kept together) in
/// `dir` with the current build.
fn run(dir: &Path, command: &str) -> String {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    for c in command.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ' ') => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    assert_eq!(
        words[0], "recsys",
        "a checked block runs recsys only: {command}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(&words[1..])
        .current_dir(dir)
        .output()
        .expect("recsys runs");
    assert!(
        out.status.success(),
        "{command}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every checked session of `file` (relative to the repository root): its shown lines, in order,
/// in what the build prints.
fn check_file(file: &str) -> usize {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(file)).unwrap();
    let sessions = checked_sessions(&text);
    let dir = tempfile::tempdir().unwrap();
    for s in &sessions {
        let printed = run(dir.path(), &s.command);
        let lines: Vec<String> = printed.lines().map(comparable).collect();
        let mut at = 0;
        for shown in &s.shown {
            let want = comparable(shown);
            match lines[at..].iter().position(|l| *l == want) {
                Some(k) => at += k + 1,
                None => panic!(
                    "{file}: `{}` no longer prints\n  {shown}\nafter line {at} of what it prints now:\n{printed}",
                    s.command
                ),
            }
        }
    }
    sessions.len()
}

#[test]
fn readme_sessions_print_what_they_show() {
    assert!(check_file("README.md") >= 3);
}

#[test]
fn commands_md_sessions_print_what_they_show() {
    assert!(check_file("docs/commands.md") >= 2);
}

#[test]
fn the_parser_finds_checked_blocks_only() {
    let md = "```\n$ recsys no\nx\n```\n```console checked\n$ recsys doctor\nlibtorch 2\n...\n\n$ recsys models\nmf\n```\n";
    let s = checked_sessions(md);
    assert_eq!(s.len(), 2);
    assert_eq!(
        (s[0].command.as_str(), s[0].shown.clone()),
        ("recsys doctor", vec!["libtorch 2".to_string()])
    );
    assert_eq!(s[1].shown, ["mf"]);
    assert_eq!(
        comparable("epoch   1  loss 1.32426  1.4 s"),
        "epoch 1 loss 1.32426"
    );
}
