//! The data layer through the binary, by class (issue 24): sizes bounded before anything is
//! allocated from them (`data synth`'s counts, a zip member's declared size), and downloads
//! that give up on a silent server and leave no `.part` file when they fail or are interrupted.

mod common;
use common::assert_one_line_error;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `recsys` in `dir` with `args` (CPU, no progress lines, downloads from `url` if given).
fn command(dir: &Path, url: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recsys"));
    cmd.current_dir(dir)
        .args(["--device", "cpu", "--out", "out", "--data-dir", "cache"])
        .args(args)
        .env_remove("RECSYS_DEVICE")
        .env_remove("RUST_BACKTRACE")
        .env("RECSYS_PROGRESS_SECS", "0");
    if let Some(url) = url {
        cmd.env("RECSYS_DOWNLOAD_URL", url);
    }
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// No `.tmp-*` or `*.part*` anywhere under `dir`.
fn assert_no_debris(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let e = e.unwrap();
        let n = e.file_name().to_string_lossy().into_owned();
        assert!(
            !n.starts_with(".tmp-") && !n.contains(".part"),
            "left behind: {}",
            e.path().display()
        );
        if e.file_type().unwrap().is_dir() {
            assert_no_debris(&e.path());
        }
    }
}

/// Wait for `child` at most `limit`; kill it and fail if it takes longer.
fn wait_at_most(mut child: std::process::Child, limit: Duration) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}: {}", stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

// Class 1: sizes bounded before allocation.

#[test]
fn synth_counts_are_bounded_before_anything_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["--items", "1e12"],
            "--items must be at most 100000000, got 1000000000000",
        ),
        (
            &["--users", "1e12", "--rows", "1e12"],
            "--users must be at most 100000000",
        ),
        (&["--rows", "1e15"], "--rows must be at most 10000000000"),
        (
            &["--users", "18446744073709551615"],
            "--users must be at most",
        ),
        (&["--rows", "1e300"], "--rows must be at most"),
        (&["--items", "2.5"], "expected a whole number"),
    ];
    for (flags, message) in cases {
        let mut args = vec!["data", "synth", "x.csv"];
        args.extend(flags);
        let out = command(dir.path(), None, &args).output().unwrap();
        let err = stderr(&out);
        if message.starts_with("expected") {
            // clap's own refusal: status 2, naming the flag.
            assert_eq!(out.status.code(), Some(2), "{err}");
            assert!(err.contains(message) && err.contains("--items"), "{err}");
        } else {
            assert_one_line_error(&out, &[message]);
        }
        assert!(!dir.path().join("x.csv").exists());
        assert_no_debris(dir.path());
    }
    // Scientific notation that is whole is a count.
    let out = command(
        dir.path(),
        None,
        &[
            "data", "synth", "y.csv", "--rows", "2e3", "--users", "1e2", "--items", "2e2",
        ],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("y.csv")).unwrap();
    assert_eq!(text.lines().count(), 2001);
}

/// An ml-1m archive whose `ratings.dat` declares `declared` bytes (patched into its local and
/// central headers), stored or deflated, in `cache/` with its MD5 beside it.
fn lying_archive(cache: &Path, declared: u32, deflate: bool) {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let method = if deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        zip.start_file("ml-1m/ratings.dat", opts).unwrap();
        zip.write_all(b"1::1193::5::978300760\n1::661::3::978302109\n")
            .unwrap();
        zip.finish().unwrap();
    }
    let mut bytes = cursor.into_inner();
    let find = |bytes: &[u8], sig: &[u8]| bytes.windows(4).position(|w| w == sig).unwrap();
    let local = find(&bytes, b"PK\x03\x04");
    bytes[local + 22..local + 26].copy_from_slice(&declared.to_le_bytes());
    let central = find(&bytes, b"PK\x01\x02");
    bytes[central + 24..central + 28].copy_from_slice(&declared.to_le_bytes());
    std::fs::create_dir_all(cache).unwrap();
    std::fs::write(cache.join("ml-1m.zip"), &bytes).unwrap();
    use md5::{Digest, Md5};
    let hex: String = Md5::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(cache.join("ml-1m.zip.md5"), format!("{hex}  ml-1m.zip\n")).unwrap();
}

#[test]
fn a_zip_member_declaring_a_huge_size_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    for deflate in [false, true] {
        lying_archive(&cache, 0xFFFF_FFF0, deflate);
        let out = command(dir.path(), None, &["data", "info", "ml-1m"])
            .output()
            .unwrap();
        assert_one_line_error(&out, &["ml-1m.zip", "ratings.dat", "declares", "damaged"]);
    }
    // A member that declares fewer bytes than it holds is not read past its declaration.
    lying_archive(&cache, 10, false);
    let out = command(dir.path(), None, &["data", "info", "ml-1m"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

// Class 3: downloads that give up, and leave nothing.

#[test]
fn a_download_gives_up_on_a_server_that_never_answers() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accept every connection and hold it open without a word.
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let child = command(
        dir.path(),
        Some(&url),
        &["data", "download", "ml-1m", "--timeout", "1"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let out = wait_at_most(child, Duration::from_secs(60));
    assert_one_line_error(&out, &["no answer within 1 s", "--timeout"]);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(!dir.path().join("cache/ml-1m.zip").exists());
    assert_no_debris(dir.path());
    for bad in ["0", "nan", "-3", "1e9"] {
        let arg = format!("--timeout={bad}");
        let out = command(dir.path(), Some(&url), &["data", "download", "ml-1m", &arg])
            .output()
            .unwrap();
        assert_one_line_error(&out, &["--timeout must be a number of seconds"]);
    }
}

/// A server whose `.md5` answers at once and whose archive announces 10 MB, sends 64 KiB and
/// then stalls (a slow link, to be interrupted).
fn stalling_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).into_owned();
            if request.contains(".md5 ") {
                let body = "0123456789abcdef0123456789abcdef  ml-1m.zip\n";
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            } else {
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n"
                );
                let _ = s.write_all(&vec![b'x'; 64 << 10]);
                let _ = s.flush();
                held.push(s);
            }
        }
    });
    url
}

#[test]
fn an_interrupted_download_removes_its_part_file() {
    let url = stalling_server();
    let dir = tempfile::tempdir().unwrap();
    let child = command(dir.path(), Some(&url), &["data", "download", "ml-1m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let cache = dir.path().join("cache");
    let started = Instant::now();
    let has_part = || {
        std::fs::read_dir(&cache).is_ok_and(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().contains(".part"))
        })
    };
    while !has_part() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no .part file appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: kill only sends a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = wait_at_most(child, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted (SIGINT)"),
        "{}",
        stderr(&out)
    );
    assert!(!cache.join("ml-1m.zip").exists());
    assert_no_debris(dir.path());
}
