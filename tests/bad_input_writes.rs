//! Bad input through the binary, writes (issue 24): a checkpoint replaced only when it is one,
//! a destination checked before the work, a diverged or interrupted run that saves nothing, a
//! stdout that fails or closes, an `--out` that cannot be written refused before the run.
//! Every case exits non-zero with one line, and no temporary is left behind.

mod common;
use common::{
    assert_no_temporaries, assert_one_line_error, names, recsys_cpu, scratch, small_ratings_csv,
    stderr, train_b as train,
};
use std::process::{Command, Stdio};

#[test]
fn force_replaces_only_a_checkpoint() {
    let (dir, b) = scratch();
    let d = dir.path().join("d");
    std::fs::create_dir(&d).unwrap();
    std::fs::copy(&b, d.join("ratings.csv")).unwrap();
    let out = recsys_cpu(
        dir.path(),
        &[
            "train",
            "d/ratings.csv",
            "--epochs",
            "1",
            "--dim",
            "4",
            "--save",
            "d",
            "--force",
        ],
    );
    assert_one_line_error(
        &out,
        &["--save d --force", "not a saved model", "ratings.csv"],
    );
    assert_eq!(names(&d), ["ratings.csv"], "the data is still there");
    // A real checkpoint is replaced.
    assert!(train(dir.path(), &["--save", "m"]).status.success());
    let again = train(dir.path(), &["--save", "m", "--force"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        names(&dir.path().join("m")),
        ["model.json", "model.safetensors"]
    );
    assert_no_temporaries(dir.path());
    // A file as --save is refused before training; as --model, no hint to --save over it.
    let out = train(dir.path(), &["--save", "B.csv", "--force"]);
    assert_one_line_error(&out, &["--save B.csv", "is a file"]);
    let out = recsys_cpu(dir.path(), &["evaluate", "--model", "B.csv"]);
    assert_one_line_error(&out, &["B.csv is a file"]);
    assert!(!stderr(&out).contains("--save B.csv"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&b).unwrap(), small_ratings_csv());
}

#[test]
fn a_diverged_run_saves_nothing() {
    let (dir, _) = scratch();
    let out = train(dir.path(), &["--lr", "1e20", "--save", "m"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("training diverged"),
        "{}",
        stderr(&out)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("saved"));
    assert!(!dir.path().join("m").exists());
    assert_no_temporaries(dir.path());
}

#[test]
fn save_destination_is_checked_before_training() {
    let (dir, _) = scratch();
    let out = train(dir.path(), &["--save", "B.csv/sub/model"]);
    assert_one_line_error(&out, &["B.csv is a file"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("epoch"));
    // A directory without write permission (meaningless for root, who may write anywhere).
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(locked.join("probe"), b"").is_err() {
        let out = train(dir.path(), &["--save", "locked/m"]);
        assert_one_line_error(&out, &["cannot write in locked"]);
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_no_temporaries(dir.path());
}

#[test]
fn stdout_write_errors_fail_and_a_closed_pipe_ends_quietly() {
    let (dir, _) = scratch();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    for json in [false, true] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_recsys"));
        cmd.current_dir(dir.path()).args(["data", "info", "B.csv"]);
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .stdout(Stdio::from(full.try_clone().unwrap()))
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        // Under --json the people's lines go to stderr before the error.
        let last = err.lines().last().unwrap_or("");
        assert!(
            last.starts_with("error: writing to stdout: No space left on device"),
            "{err}"
        );
        if !json {
            assert_one_line_error(&out, &[]);
        }
    }
    // `recsys --json data info ml-100k | true`: the reader is gone before anything is written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(["--json", "data", "info", "ml-100k"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn sigterm_exits_with_its_status_and_leaves_no_temporaries() {
    let (dir, _) = scratch();
    let mut child = Command::new(env!("CARGO_BIN_EXE_recsys"))
        .current_dir(dir.path())
        .args([
            "--device", "cpu", "train", "ml-100k", "--epochs", "50", "--save", "m",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Its first line ("data ...") comes after the handlers are installed.
    let mut first = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("data"), "{first}");
    // SAFETY: kill only sends a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted (SIGTERM)"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("m").exists());
    assert_no_temporaries(dir.path());
}

/// `--out` that cannot be written (a file in the way, a path through a file) is refused before
/// any work, by `experiment` and by `split`, naming `--out`.
#[test]
fn an_unwritable_out_is_refused_before_the_run() {
    let (dir, _) = scratch();
    for out_dir in ["B.csv", "B.csv/sub"] {
        for args in [
            &["experiment", "B.csv", "--models", "pop", "--seeds", "1"][..],
            &["split", "B.csv"][..],
        ] {
            let mut all = vec!["--out", out_dir];
            all.extend_from_slice(args);
            let out = common::recsys(dir.path(), &all);
            assert_one_line_error(&out, &["--out", "B.csv is a file, not a directory"]);
            assert!(
                out.stdout.is_empty(),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("B.csv")).unwrap(),
        small_ratings_csv()
    );
    assert_no_temporaries(dir.path());
}
