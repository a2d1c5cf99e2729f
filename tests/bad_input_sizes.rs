//! Bad input through the binary, sizes (issue 24): every count a user gives (a flag, a
//! `--set` setting, a checkpoint's configuration) is bounded before anything is allocated from
//! it, with one line naming it and its limit; and every `with_capacity` in the source is one
//! reviewed here, with the reason its size is bounded.

mod common;
use common::{assert_no_temporaries, assert_one_line_error, recsys_cpu, scratch, train_b as train};

#[test]
fn options_are_checked_before_any_work() {
    let (dir, _) = scratch();
    let cases: [(&[&str], &str); 9] = [
        (
            &["--negatives", "100000000"],
            "--negatives 100000000: mf: negatives must be 1 to 1000",
        ),
        (&["--model", "mlp", "--hidden", "0"], "--hidden"),
        (&["--model", "gru", "--max-len", "0"], "--max-len"),
        (
            &["--model", "neumf", "--layers", "70"],
            "--layers 70: neumf: layers must be 1 to 8",
        ),
        (
            &["--lr=-1"],
            "--lr must be a positive finite number, got -1",
        ),
        (
            &["--lr", "nan"],
            "--lr must be a positive finite number, got NaN",
        ),
        (&["--weight-decay=-1"], "--weight-decay must be"),
        (
            &["--split", "time", "--timestamp-col", "none"],
            "without timestamps",
        ),
        (&["--item-col", "0"], "column 0"),
    ];
    for (extra, message) in cases {
        let out = train(dir.path(), extra);
        assert_one_line_error(&out, &[message]);
    }
    let out = recsys_cpu(dir.path(), &["train", "B.csv", "--dim", "1000000000"]);
    assert_one_line_error(
        &out,
        &["--factors 1000000000: mf: factors must be 1 to 65536"],
    );
    // within the bounds but beyond this machine's memory: the size is named
    let out = recsys_cpu(
        dir.path(),
        &[
            "train", "B.csv", "--model", "neumf", "--dim", "60000", "--layers", "8",
        ],
    );
    assert_one_line_error(
        &out,
        &[
            "the neumf model with 60000 factors would need",
            "lower factors",
        ],
    );
    assert_no_temporaries(dir.path());
}

#[test]
fn a_checkpoint_with_other_shapes_is_one_line() {
    let (dir, _) = scratch();
    assert!(train(dir.path(), &["--save", "m"]).status.success());
    let sidecar = dir.path().join("m/model.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sidecar).unwrap()).unwrap();
    v["config"]["factors"] = 8.into();
    std::fs::write(&sidecar, serde_json::to_vec(&v).unwrap()).unwrap();
    let out = recsys_cpu(dir.path(), &["evaluate", "--model", "m"]);
    assert_one_line_error(&out, &["corrupt checkpoint", "with factors=8"]);
    // a size beyond the bounds in model.json is refused before anything is allocated
    v["config"]["factors"] = serde_json::json!(1e15);
    std::fs::write(&sidecar, serde_json::to_vec(&v).unwrap()).unwrap();
    let out = recsys_cpu(dir.path(), &["evaluate", "--model", "m"]);
    assert_one_line_error(&out, &["corrupt checkpoint", "factors"]);
}

/// `-k`, `--sampled`, `--seeds`, `--folds`, `--last-n`, `--steps`, `--epochs` on every command
/// that takes them: a value beyond the bound is one line naming the flag and the bound, before
/// anything is read or allocated (the campaign's `-k 4611686018427387904` was a
/// `capacity overflow`).
#[test]
fn every_count_flag_is_bounded_before_use() {
    let (dir, _) = scratch();
    let huge = "4611686018427387904";
    let cases: [&[&str]; 12] = [
        &["evaluate", "--model", "m", "-k", huge],
        &["evaluate", "--model", "m", "--sampled", huge],
        &["recommend", "--model", "m", "--user", "1", "-k", huge],
        &["similar", "--model", "m", "--item", "1", "-k", "0"],
        &["train", "B.csv", "-k", huge],
        &["train", "B.csv", "--split", "kfold", "--folds", huge],
        &["split", "B.csv", "--split", "kfold", "--folds", "1"],
        &["split", "B.csv", "--split", "last-n", "--last-n", "0"],
        &["experiment", "B.csv", "-k", huge],
        &["experiment", "B.csv", "--sampled", huge],
        &["experiment", "B.csv", "--seeds", huge],
        &["selftest", "--steps", huge],
    ];
    for args in cases {
        let out = recsys_cpu(dir.path(), args);
        let flag = args.iter().rev().nth(1).unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        // clap refuses a flag's value with status 2; experiment checks its own (status 1)
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "{args:?}: {:?} {err}",
            out.status
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains(flag) && err.contains(" to "),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("capacity"),
            "{err}"
        );
    }
    common::assert_flag_refused(
        &recsys_cpu(dir.path(), &["train", "B.csv", "-k", huge]),
        &["-k", "must be a whole number from 1 to 1000000", huge],
    );
    assert_no_temporaries(dir.path());
}

/// The classic models' sizes given by `--set`, `--grid` or a flag go through one table of
/// bounds (`recommender::settings::BOUNDS`): `factors=1e18` is one line, not a C++ stack.
#[test]
fn model_settings_are_bounded_by_one_table() {
    let (dir, _) = scratch();
    let cases: [(&[&str], &str); 7] = [
        (
            &["train", "B.csv", "--model", "als", "--set", "factors=1e18"],
            "als: factors must be 1 to 65536, got 1e18",
        ),
        (
            &[
                "train",
                "B.csv",
                "--model",
                "bpr",
                "--epochs",
                "1000000000000",
            ],
            "bpr: epochs must be 1 to 1000000",
        ),
        (
            &[
                "train",
                "B.csv",
                "--model",
                "svd",
                "--set",
                "n_factors=100000",
            ],
            "svd: factors must be 1 to 65536",
        ),
        (
            &["train", "B.csv", "--model", "knn-basic", "--set", "k=1e12"],
            "knn-basic: neighbors must be 1 to 1000000",
        ),
        (
            &["train", "B.csv", "--model", "pmf", "--set", "max_iter=-5"],
            "pmf: epochs must be 1 to 1000000, got -5",
        ),
        (
            &[
                "experiment",
                "B.csv",
                "--models",
                "pop,als",
                "--set",
                "factors=1e18",
            ],
            "als: factors must be 1 to 65536",
        ),
        (
            &[
                "experiment",
                "B.csv",
                "--models",
                "nmf",
                "--grid",
                "factors=2,1e18",
            ],
            "nmf: factors must be 1 to 65536",
        ),
    ];
    for (args, message) in cases {
        let out = recsys_cpu(dir.path(), args);
        assert_one_line_error(&out, &[message]);
    }
    assert_no_temporaries(dir.path());
}

/// A classic checkpoint whose configuration declares an absurd size (under its own name or a
/// peer's alias) is refused with one line before anything is rebuilt from it.
#[test]
fn a_classic_checkpoint_with_absurd_sizes_is_refused() {
    let (dir, _) = scratch();
    let out = recsys_cpu(
        dir.path(),
        &["train", "B.csv", "--model", "als", "--save", "m"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sidecar = dir.path().join("m/model.json");
    let saved = std::fs::read_to_string(&sidecar).unwrap();
    for (key, value) in [
        ("factors", "1e15"),
        ("dim", "1000000000000000"),
        ("epochs", "-1"),
    ] {
        let mut v: serde_json::Value = serde_json::from_str(&saved).unwrap();
        v["config"][key] = serde_json::from_str(value).unwrap();
        std::fs::write(&sidecar, serde_json::to_vec(&v).unwrap()).unwrap();
        let out = recsys_cpu(dir.path(), &["recommend", "--model", "m", "--user", "1"]);
        assert_one_line_error(&out, &["corrupt checkpoint", "must be 1 to"]);
    }
}

/// Every `with_capacity` in the source, with why its size is bounded. A new one fails this
/// test until it is reviewed and added here: a size that comes from a user's number must be
/// checked (a flag through `runtime::limits`, a setting through `settings::BOUNDS`) first.
const REVIEWED_CAPACITIES: [(&str, &str, &str); 25] = [
    (
        "src/eval/sampled.rs",
        "excluded.len()",
        "one list per test user, whose exclusion lists are already in memory",
    ),
    (
        "src/eval/sampled.rs",
        "n_negatives.min(pool)",
        "at most the user's pool, fewer than the items the `taken` flags already hold",
    ),
    (
        "src/classic/surprise_folds.rs",
        "n_splits",
        "checked first: at most the number of ratings, already in memory",
    ),
    (
        "src/classic/sparse.rs",
        "entries.len()",
        "a row's train pairs, already in memory",
    ),
    (
        "notebooks-ported/nb004/mod.rs",
        "args.mf_epochs",
        "--mf-epochs read through limits::EPOCHS",
    ),
    (
        "src/bin/recsys/data.rs",
        "1 << 20, file",
        "a constant buffer",
    ),
    (
        "src/bin/recsys/experiment/scoring.rs",
        "cases.len()",
        "test users of the data",
    ),
    (
        "src/bin/recsys/selftest/cases.rs",
        "steps",
        "--steps read through limits::EPOCHS",
    ),
    (
        "src/data/source.rs",
        "declared as usize",
        "checked by check_member_size just above",
    ),
    (
        "src/eval/comparison.rs",
        "a.len()",
        "per-seed results in memory",
    ),
    (
        "src/eval/ranking.rs",
        "k.min(row.len()) + 1",
        "at most the row's length",
    ),
    ("src/eval/recs.rs", "v.len()", "a list already read"),
    (
        "src/eval/whole_list.rs",
        "case.relevant.len() + case.history.len()",
        "a user's items",
    ),
    (
        "src/eval/whole_list.rs",
        "case.relevant.len()",
        "a user's items",
    ),
    (
        "src/models/dense_mf.rs",
        "rows * cols * 10",
        "text of a tensor already in memory",
    ),
    ("src/models/neighbors.rs", "triples.len()", "train rows"),
    (
        "src/models/neumf.rs",
        "config.mlp_layers",
        "layers bounded to 8 (settings::BOUNDS)",
    ),
    (
        "src/models/recommender_net.rs",
        "config.hidden.len()",
        "a list given in full",
    ),
    (
        "src/optim/fast/mod.rs",
        "self.params.len()",
        "a model's parameters",
    ),
    ("src/optim/fast/one_pass.rs", "256 * 64", "a constant"),
    (
        "src/prep/split/kfold.rs",
        "k",
        "k <= rows, checked just above",
    ),
    (
        "src/recommender/classic.rs",
        "users.len() * n as usize",
        "a chunk of users times items",
    ),
    (
        "src/recommender/network/mod.rs",
        "queries.len()",
        "a chunk of queries",
    ),
    (
        "src/recommender/network/mod.rs",
        "users.len()",
        "a chunk of users",
    ),
    ("src/report/pyfmt.rs", "s.len() + 2", "a string in memory"),
];

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_with_capacity_is_reviewed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![];
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("notebooks-ported"), &mut files);
    let mut found = vec![];
    for f in files {
        let rel = f.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&f).unwrap();
        for (at, _) in text.match_indices("with_capacity(") {
            let rest = &text[at + "with_capacity(".len()..];
            // the argument up to its closing parenthesis
            let mut depth = 0;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    depth += i32::from(c == '(') - i32::from(c == ')');
                    depth < 0
                })
                .map_or(rest.len(), |(i, _)| i);
            found.push((rel.clone(), rest[..end].trim().to_string()));
        }
    }
    for (file, arg) in &found {
        assert!(
            REVIEWED_CAPACITIES
                .iter()
                .any(|(f, a, _)| f == file && a == arg),
            "{file}: with_capacity({arg}) is not reviewed: bound its size and add it to \
             REVIEWED_CAPACITIES in tests/bad_input_sizes.rs"
        );
    }
    for (f, a, why) in REVIEWED_CAPACITIES {
        assert!(
            found.iter().any(|(file, arg)| file == f && arg == a),
            "{f}: with_capacity({a}) ({why}) is gone: drop it from the list"
        );
    }
}
