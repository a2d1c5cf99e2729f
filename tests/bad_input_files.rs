//! Files through the binary, by class (issue 24): output files first and stdout second, writes
//! that finish or leave nothing, and "ours" checked before anything is replaced. Every case
//! checks the status (never 101), that no C++ frame reaches stderr, and that no `.tmp-*` or
//! `.part` file is left behind.

mod common;
use common::{assert_one_line_error, small_ratings_csv};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// `recsys` in `dir` with `args`, on the CPU with seed 1 (callers add `--out`).
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recsys"));
    cmd.current_dir(dir)
        .args(["--device", "cpu", "--seed", "1"])
        .args(args)
        .env_remove("RECSYS_DEVICE")
        .env_remove("RUST_BACKTRACE")
        .env("RECSYS_PROGRESS_SECS", "0");
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("recsys runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// No panic status and no C++ frame, whatever the outcome.
fn assert_clean_exit(out: &Output) {
    let err = stderr(out);
    assert_ne!(out.status.code(), Some(101), "{err}");
    assert!(out.status.code().is_some(), "killed by a signal: {err}");
    for frame in ["Exception raised from", "frame #", "c10::", "panicked"] {
        assert!(!err.contains(frame), "{frame:?} in: {err}");
    }
}

/// No `.tmp-*`, `.old-*` or `*.part-*` anywhere under `dir`.
fn assert_no_debris(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let n = e.file_name().to_string_lossy().into_owned();
        assert!(
            !n.starts_with(".tmp-") && !n.starts_with(".old-") && !n.contains(".part"),
            "left behind: {}",
            e.path().display()
        );
        if e.file_type().unwrap().is_dir() {
            assert_no_debris(&e.path());
        }
    }
}

/// A scratch directory holding `B.csv`.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("B.csv"), small_ratings_csv()).unwrap();
    dir
}

const SYNTH: [&str; 6] = ["--rows", "3000", "--users", "60", "--items", "200"];

/// `data synth FILE` with the small sizes of [`SYNTH`] and `extra` flags.
fn synth_args<'a>(file: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--out", "out", "data", "synth", file];
    v.extend(SYNTH);
    v.extend(extra);
    v
}

/// Spawn with stdout a pipe whose reader reads `keep` bytes and then goes away (`| head -c1`).
fn with_reader_gone(mut cmd: Command, keep: usize) -> Output {
    let mut child: Child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = vec![0u8; keep];
    if keep > 0 {
        let _ = stdout.read_exact(&mut buf);
    }
    drop(stdout);
    child.wait_with_output().unwrap()
}

// Class 2: output files first, stdout second.

#[test]
fn a_closed_stdout_never_loses_a_requested_file() {
    let dir = scratch();
    // `recsys data synth s.csv ... | head -c0` and `| head -c1`.
    for (keep, name) in [(0, "s0.csv"), (1, "s1.csv")] {
        let out = with_reader_gone(command(dir.path(), &synth_args(name, &[])), keep);
        assert_clean_exit(&out);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(text.lines().count(), 3001, "the whole file was written");
    }
    // `recsys train ... --save m | head -c1`: the epochs print before the save.
    let args = [
        "--out", "out", "train", "B.csv", "--epochs", "3", "--dim", "4", "--save", "m",
    ];
    let out = with_reader_gone(command(dir.path(), &args), 1);
    assert_clean_exit(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        dir.path().join("m/model.json").is_file(),
        "the model was saved"
    );
    assert!(dir.path().join("m/model.safetensors").is_file());
    // The same under --json, whose object comes last.
    let mut json = vec!["--json"];
    json.extend(synth_args("s2.csv", &[]));
    let out = with_reader_gone(command(dir.path(), &json), 0);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(dir.path().join("s2.csv").is_file());
    assert_no_debris(dir.path());
}

#[test]
fn a_closed_stdout_with_a_file_not_written_exits_non_zero() {
    let dir = scratch();
    // The file cannot be written: B.csv is a file, so B.csv/x.csv has no directory.
    let out = with_reader_gone(command(dir.path(), &synth_args("B.csv/x.csv", &[])), 0);
    assert_one_line_error(&out, &["B.csv"]);
    // The file exists already and --force was not given.
    let out = with_reader_gone(command(dir.path(), &synth_args("B.csv", &[])), 0);
    assert_one_line_error(&out, &["B.csv already exists", "--force"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("B.csv")).unwrap(),
        small_ratings_csv()
    );
    assert_no_debris(dir.path());
}

// Class 3: writes that finish or leave nothing.

/// `cmd` with a file-size limit of `bytes` (`ulimit -f`).
fn with_file_size_limit(cmd: &mut Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

#[test]
fn the_file_size_limit_is_one_error_line_and_leaves_nothing() {
    let dir = scratch();
    let mut cmd = command(
        dir.path(),
        &[
            "--out", "out", "data", "synth", "big.csv", "--rows", "200000", "--users", "500",
            "--items", "2000",
        ],
    );
    with_file_size_limit(&mut cmd, 64 << 10);
    let out = cmd.output().unwrap();
    assert_one_line_error(&out, &["big.csv", "file-size limit", "ulimit -f"]);
    assert!(!dir.path().join("big.csv").exists());
    assert_no_debris(dir.path());
    // The same under --force over an existing file: the old file stays as it was.
    std::fs::write(dir.path().join("big.csv"), "old").unwrap();
    let mut cmd = command(
        dir.path(),
        &[
            "--force", "--out", "out", "data", "synth", "big.csv", "--rows", "200000", "--users",
            "500", "--items", "2000",
        ],
    );
    with_file_size_limit(&mut cmd, 64 << 10);
    let out = cmd.output().unwrap();
    assert_one_line_error(&out, &["file-size limit"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("big.csv")).unwrap(),
        "old"
    );
    assert_no_debris(dir.path());
}

// Class 4: "ours" checked before replacing.

#[test]
fn force_replaces_only_a_regular_file() {
    let dir = scratch();
    let p = dir.path();
    std::fs::write(p.join("target.csv"), "keep me").unwrap();
    std::os::unix::fs::symlink(p.join("target.csv"), p.join("link.csv")).unwrap();
    std::fs::create_dir(p.join("d.csv")).unwrap();
    std::fs::write(p.join("d.csv/inside"), "x").unwrap();
    let fifo = std::ffi::CString::new(p.join("f.csv").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a valid C string.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let _socket = std::os::unix::net::UnixListener::bind(p.join("s.csv")).unwrap();
    for (name, kind) in [
        ("link.csv", "is a symbolic link"),
        ("d.csv", "is a directory"),
        ("f.csv", "is a fifo"),
        ("s.csv", "is a socket"),
    ] {
        let out = run(p, &synth_args(name, &["--force"]));
        assert_one_line_error(&out, &[name, kind, "--force replaces only regular files"]);
    }
    assert_eq!(
        std::fs::read_to_string(p.join("target.csv")).unwrap(),
        "keep me"
    );
    assert!(std::fs::symlink_metadata(p.join("link.csv"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(p.join("d.csv/inside")).unwrap(),
        "x"
    );
    // A regular file is replaced with --force.
    let out = run(p, &synth_args("target.csv", &["--force"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(p.join("target.csv"))
            .unwrap()
            .lines()
            .count(),
        3001
    );
    assert_no_debris(p);
}

#[test]
fn concurrent_writers_of_one_name_cannot_both_succeed() {
    let dir = scratch();
    for round in 0..3 {
        let name = format!("cc{round}.csv");
        let children: Vec<Child> = (0..4)
            .map(|_| {
                command(dir.path(), &synth_args(&name, &[]))
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let winners = outs.iter().filter(|o| o.status.success()).count();
        assert_eq!(winners, 1, "exactly one writer of {name} succeeds");
        for o in outs.iter().filter(|o| !o.status.success()) {
            assert_clean_exit(o);
            let err = stderr(o);
            assert!(
                err.contains("already exists") || err.contains("appeared"),
                "{err}"
            );
        }
        let text = std::fs::read_to_string(dir.path().join(&name)).unwrap();
        assert_eq!(text.lines().count(), 3001, "one whole file");
    }
    assert_no_debris(dir.path());
}

#[test]
fn a_default_output_folder_is_never_left_empty() {
    let dir = scratch();
    // No --out: the fresh recsys-out/<time>/ is made, and removed again as nothing went in.
    for args in [
        &["data", "info", "B.csv"][..],
        &["data", "info", "nope.csv"][..],
    ] {
        let out = run(dir.path(), args);
        assert_clean_exit(&out);
        assert!(
            !dir.path().join("recsys-out").exists(),
            "{args:?} left an output folder"
        );
    }
    // One that is there already is kept, as are the folders of other runs in it.
    std::fs::create_dir_all(dir.path().join("recsys-out/other")).unwrap();
    let out = run(dir.path(), &["data", "info", "B.csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let left: Vec<_> = std::fs::read_dir(dir.path().join("recsys-out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["other"]);
}
