//! Bad input through the binary, messages (issue 24): a bad value names its file, line and
//! column in one line, and a line is bounded (an excerpt of the data, never all of it); the
//! weak messages of the campaign made precise (a BOM, a number that is not an integer id, a
//! rating too large to train on, a test file that is the data itself).

mod common;
use common::{
    assert_one_line_error, recsys_cpu, scratch, small_ratings_csv, stderr, train_b as train,
};

#[test]
fn non_finite_and_out_of_range_values_name_file_and_line() {
    let (dir, _) = scratch();
    let cases = [
        ("1,2,NaN,10", "rating \"NaN\" is not a finite number"),
        ("1,2,inf,10", "rating \"inf\" is not a finite number"),
        ("1,2,1e309,10", "rating \"1e309\" is not a finite number"),
        ("9223372036854775808,2,4,10", "is out of range"),
    ];
    for (row, message) in cases {
        let text = format!("user_id,item_id,rating,timestamp\n1,1,4,5\n{row}\n3,3,3,3\n");
        std::fs::write(dir.path().join("x.csv"), text).unwrap();
        let out = recsys_cpu(dir.path(), &["data", "info", "x.csv"]);
        assert_one_line_error(&out, &["x.csv line 3", message]);
    }
}

#[test]
fn data_flags_and_file_format_messages() {
    let (dir, _) = scratch();
    let out = recsys_cpu(dir.path(), &["data", "info", "ml-100k", "--sep", ";"]);
    assert_one_line_error(&out, &["ml-100k is a built-in dataset", "--sep"]);
    let header = "user_id,item_id,rating,timestamp\n";
    let cases: [(&[u8], &str); 2] = [
        (b"1,1,4,5\n2,2,\xff,6\n", "x.csv line 3: not UTF-8"),
        (b"1,1,4,5\n\n2,2,3,6\n", "x.csv line 3: blank line"),
    ];
    for (body, message) in cases {
        let mut text = header.as_bytes().to_vec();
        text.extend_from_slice(body);
        std::fs::write(dir.path().join("x.csv"), text).unwrap();
        let out = recsys_cpu(dir.path(), &["data", "info", "x.csv"]);
        assert_one_line_error(&out, &[message]);
    }
    // Quoted fields, as spreadsheets write them, are read.
    let quoted = "\"user_id\",\"item_id\",\"rating\",\"timestamp\"\n\"1\",\"2\",\"4.5\",\"10\"\n";
    std::fs::write(dir.path().join("q.csv"), quoted).unwrap();
    let out = recsys_cpu(dir.path(), &["--json", "data", "info", "q.csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A fake archive in the cache is not trusted without its checksum.
    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    std::fs::write(cache.join("ml-1m.zip"), b"PK fake").unwrap();
    let out = recsys_cpu(
        dir.path(),
        &["--data-dir", "cache", "data", "info", "ml-1m"],
    );
    assert_one_line_error(
        &out,
        &["ml-1m.zip has no checksum", "recsys data download ml-1m"],
    );
}

#[test]
fn fingerprint_covers_ratings_and_timestamps() {
    let (dir, _) = scratch();
    assert!(train(dir.path(), &["--save", "m"]).status.success());
    let mut flipped = String::from("user_id,item_id,rating,timestamp\n");
    let mut negated = flipped.clone();
    for line in small_ratings_csv().lines().skip(1) {
        let f: Vec<i64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        flipped.push_str(&format!("{},{},{},{}\n", f[0], f[1], 6 - f[2], f[3]));
        negated.push_str(&format!("{},{},{},{}\n", f[0], f[1], f[2], -f[3]));
    }
    for (name, text) in [("flipped.csv", flipped), ("negated.csv", negated)] {
        std::fs::write(dir.path().join(name), text).unwrap();
        let out = recsys_cpu(dir.path(), &["evaluate", "--model", "m", "--data", name]);
        assert_one_line_error(&out, &["was trained on other data", name]);
    }
}

/// An error quotes at most a short excerpt of the data: a 50 MB line without a newline, a
/// 50 MB field, a 50 MB header name each give one short line.
#[test]
fn a_huge_line_gives_a_short_one_line_error() {
    let (dir, _) = scratch();
    let huge = 50 << 20;
    let header = "user_id,item_id,rating,timestamp\n";
    let cases: [(String, &str); 3] = [
        (
            format!("{header}1,2,3,{}", "7,".repeat(huge / 2)),
            "x.csv line 2: expected 4 fields",
        ),
        (
            format!("{header}1,2,3,{}", "x".repeat(huge / 10)),
            "x.csv line 2: timestamp",
        ),
        (format!("{}\n1,2,3,4\n", "h".repeat(huge / 10)), "no column"),
    ];
    for (text, message) in cases {
        std::fs::write(dir.path().join("x.csv"), text).unwrap();
        let out = recsys_cpu(
            dir.path(),
            &["data", "info", "x.csv", "--user-col", "user_id"],
        );
        assert_one_line_error(&out, &[message, "…"]);
        assert!(
            out.stderr.len() < 1000,
            "{} bytes on stderr",
            out.stderr.len()
        );
    }
}

/// The campaign's weak messages: a BOM before the header is not part of its first name; an
/// id written as a number that is not an integer is refused where it is read, not turned
/// silently into a string id; a rating too large to train on is named with its line, not
/// blamed on `--lr`; a test file holding the data itself is refused.
#[test]
fn weak_messages_name_what_was_read() {
    let (dir, _) = scratch();
    let bom = format!("\u{feff}{}", small_ratings_csv());
    std::fs::write(dir.path().join("bom.csv"), bom).unwrap();
    let out = recsys_cpu(
        dir.path(),
        &["data", "info", "bom.csv", "--user-col", "user_id"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let header = "user_id,item_id,rating,timestamp\n";
    let cases = [
        (
            "196.0,242,3,881250949\n",
            "x.csv line 2: user_id \"196.0\" (column 0) is a number but not an integer id",
        ),
        (
            "196,9223372036854775808,3,1\n",
            "x.csv line 2: item_id \"9223372036854775808\" (column 1) is a number",
        ),
        (
            "1,1,4,5\n2,2,1e300,6\n",
            "x.csv line 3: rating 1e300 is too large",
        ),
    ];
    for (body, message) in cases {
        std::fs::write(dir.path().join("x.csv"), format!("{header}{body}")).unwrap();
        let out = recsys_cpu(dir.path(), &["data", "info", "x.csv"]);
        assert_one_line_error(&out, &[message]);
    }
    // string ids are still string ids
    std::fs::write(
        dir.path().join("s.csv"),
        format!("{header}u196,i242,3,1\nu1,i2,4,2\n"),
    )
    .unwrap();
    let out = recsys_cpu(dir.path(), &["data", "info", "s.csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for command in ["train", "split", "experiment"] {
        let out = recsys_cpu(dir.path(), &[command, "B.csv", "--test-file", "B.csv"]);
        assert_one_line_error(&out, &["--test-file B.csv", "same ratings as the data"]);
    }
}
