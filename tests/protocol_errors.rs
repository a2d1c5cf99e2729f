//! Bad flags of the protocols and the export: one clear `error:` line naming the flag or file,
//! status 1, before any training.

mod common;
use common::recsys;
use std::process::Output;

/// A failure with status 1 (2 for a flag's value refused as the command line is read) and
/// exactly one line on stderr containing every one of `needles`.
fn assert_one_line_error(out: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(1 | 2)),
        "status {:?}; stderr: {err}",
        out.status.code()
    );
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} missing from: {err}");
    }
}

#[test]
fn bad_split_flags_are_one_line() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--split", "kfold", "--folds", "5", "--fold", "5"],
            &["--fold 5", "0 to 4"],
        ),
        (
            &["--split", "kfold", "--folds", "1"],
            &["--folds", "from 2 to 1000, got 1"],
        ),
        (
            &["--test-file", "no-such.csv"],
            &["--test-file no-such.csv: no such file"],
        ),
        (
            &["--validation-fraction", "1.5"],
            &["--validation-fraction", "1.5"],
        ),
        (&["--validation-fraction", "0"], &["--validation-fraction"]),
    ];
    for (extra, needles) in cases {
        let mut args = vec!["train", "ml-100k", "--epochs", "1"];
        args.extend(extra.iter());
        assert_one_line_error(&recsys(p, &args), needles);
    }
}

#[test]
fn a_test_file_with_ids_written_otherwise_is_one_line() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let train = "user_id,item_id,rating,timestamp\nu1,m1,5,1\nu1,m2,4,2\nu2,m1,5,3\n";
    std::fs::write(p.join("train.csv"), train).unwrap();
    // `1` is not `u1`: no test row is left
    std::fs::write(
        p.join("test.csv"),
        "user_id,item_id,rating,timestamp\n1,m2,5,7\n",
    )
    .unwrap();
    let args = [
        "train",
        "train.csv",
        "--test-file",
        "test.csv",
        "--model",
        "bilinear",
    ];
    assert_one_line_error(
        &recsys(p, &args),
        &["--test-file test.csv: none of its 1 rows"],
    );
}

#[test]
fn bad_export_and_evaluate_flags_are_one_line() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // the flags are checked before the model is read, so no model is needed
    let m = ["recommend", "--model", "nowhere"];
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--all-users", "--output", "r.csv", "--exclude", "bogus"],
            &["--exclude \"bogus\"", "train, seen or none"],
        ),
        (&["--all-users"], &["--output FILE"]),
        (
            &["--user", "1", "--output", "r.csv"],
            &["--output r.csv", "--all-users"],
        ),
        (
            &["--user", "1", "--exclude", "train", "--include-seen"],
            &["--include-seen"],
        ),
        (&[], &["--user ID"]),
    ];
    for (extra, needles) in cases {
        let mut args = m.to_vec();
        args.extend(extra.iter());
        assert_one_line_error(&recsys(p, &args), needles);
    }
    std::fs::write(p.join("taken.csv"), "x").unwrap();
    let taken = ["--all-users", "--output", "taken.csv"];
    let mut args = m.to_vec();
    args.extend(taken);
    assert_one_line_error(&recsys(p, &args), &["taken.csv already exists", "--force"]);
    // string ids in one file and integers in the other would match nothing: refused
    std::fs::write(p.join("recs.csv"), "user_id,item_id\nu1,m2\n").unwrap();
    std::fs::write(p.join("truth.csv"), "user_id,item_id\n1,2\n").unwrap();
    let args = ["evaluate", "--recs", "recs.csv", "--truth", "truth.csv"];
    let needles = [
        "--recs recs.csv has string user_ids (\"u1\")",
        "--truth truth.csv integer ones",
    ];
    assert_one_line_error(&recsys(p, &args), &needles);
    let args = ["evaluate", "--model", "nowhere", "--map-denominator", "max"];
    assert_one_line_error(
        &recsys(p, &args),
        &["--map-denominator", "min-k-rel or rel"],
    );
}
