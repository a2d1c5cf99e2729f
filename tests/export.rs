//! `recsys recommend --all-users | --users` and `evaluate --predictions` through the binary: the
//! exported lists are the lists the full-ranking protocol scores (evaluating the file gives
//! `evaluate --model`'s numbers), `--exclude` decides what is left out, string ids come back as
//! the same strings, and per-pair predictions reproduce the printed RMSE.

mod common;
use common::{json_of, ok, recsys, write};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The rows of a CSV written by recsys, header dropped, fields split.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

/// ml-100k's u.data as shipped, split by time: rows before the 80% timestamp train, the rest
/// test, ids written as `u{user}` and `m{item}` (or as they are when `plain`). Returns the two
/// files and the test's truth for implicit models: test ratings above 3 whose user and item
/// have a train rating above 3.
fn time_split_files(dir: &Path, plain: bool) -> (String, String, String) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/ml-100k/u.data"))
        .expect("the shipped ml-100k");
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    let mut times: Vec<i64> = rows.iter().map(|r| r[3].parse().unwrap()).collect();
    times.sort_unstable();
    let cut = times[times.len() * 8 / 10];
    let id = |r: &[&str]| {
        if plain {
            format!("{},{}", r[0], r[1])
        } else {
            format!("u{},m{}", r[0], r[1])
        }
    };
    let (mut train, mut test) = (String::new(), String::new());
    let header = "user_id,item_id,rating,timestamp\n";
    train += header;
    test += header;
    let (mut users, mut items) = (HashSet::new(), HashSet::new());
    for r in &rows {
        let line = format!("{},{},{}\n", id(r), r[2], r[3]);
        if r[3].parse::<i64>().unwrap() < cut {
            train += &line;
            if r[2].parse::<f64>().unwrap() > 3.0 {
                users.insert(r[0]);
                items.insert(r[1]);
            }
        } else {
            test += &line;
        }
    }
    let mut truth = String::from("user_id,item_id\n");
    for r in &rows {
        let positive = r[2].parse::<f64>().unwrap() > 3.0;
        let known = users.contains(r[0]) && items.contains(r[1]);
        if r[3].parse::<i64>().unwrap() >= cut && positive && known {
            truth += &format!("{}\n", id(r));
        }
    }
    (
        write(dir, "train.csv", &train),
        write(dir, "test.csv", &test),
        write(dir, "truth.csv", &truth),
    )
}

fn scratch() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().to_path_buf();
    (d, p)
}

#[test]
fn exported_lists_score_as_the_full_protocol_with_string_ids() {
    let (_d, p) = scratch();
    let (train, test, truth) = time_split_files(&p, false);
    let model = p.join("m");
    let m = model.to_str().unwrap();
    let args = [
        "--seed",
        "1",
        "train",
        &train,
        "--test-file",
        &test,
        "--epochs",
        "1",
    ];
    ok(&recsys(
        &p,
        &[&args[..], &["--dim", "8", "--save", m]].concat(),
    ));
    let full = json_of(&recsys(&p, &["evaluate", "--model", m, "--json"]));
    let full = &full["protocols"]["full"]["metrics"];
    let out = recsys(
        &p,
        &[
            "recommend",
            "--model",
            m,
            "--all-users",
            "--exclude",
            "train",
            "--output",
            "recs.csv",
        ],
    );
    let printed = ok(&out);
    assert!(printed.contains("wrote recs.csv"), "{printed}");
    let rows = csv_rows(&p.join("recs.csv"));
    let header = std::fs::read_to_string(p.join("recs.csv")).unwrap();
    assert!(header.starts_with("user_id,item_id,score,rank\n"));
    // every id comes back as its string, ten ranks per user, best score first
    let mut lists: HashMap<&str, Vec<(f64, usize)>> = HashMap::new();
    for r in &rows {
        assert!(r[0].starts_with('u') && r[1].starts_with('m'), "{r:?}");
        lists
            .entry(&r[0])
            .or_default()
            .push((r[2].parse().unwrap(), r[3].parse().unwrap()));
    }
    for list in lists.values() {
        assert_eq!(
            list.iter().map(|x| x.1).collect::<Vec<_>>(),
            (1..=10).collect::<Vec<_>>()
        );
        assert!(list.windows(2).all(|w| w[0].0 >= w[1].0));
    }
    // the same lists, scored from the file: the full protocol's numbers exactly
    let v = json_of(&recsys(
        &p,
        &[
            "evaluate", "--recs", "recs.csv", "--truth", &truth, "--json",
        ],
    ));
    for key in [
        "users",
        "precision",
        "recall",
        "ndcg",
        "hit_rate",
        "mrr",
        "map",
    ] {
        // users are summed in another order (string ids key the file's by a hash): the last
        // bit may differ
        let (a, b) = (v[key].as_f64().unwrap(), full[key].as_f64().unwrap());
        assert!((a - b).abs() < 1e-12, "{key}: file {a} vs protocol {b}");
    }
    // one user by its string: the same list as the file's
    let one = json_of(&recsys(
        &p,
        &[
            "recommend",
            "--model",
            m,
            "--user",
            "u13",
            "--exclude",
            "train",
            "--json",
        ],
    ));
    assert_eq!(one["user"], "u13");
    let items: Vec<&str> = one["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item_id"].as_str().unwrap())
        .collect();
    let from_file: Vec<&str> = rows
        .iter()
        .filter(|r| r[0] == "u13")
        .map(|r| r[1].as_str())
        .collect();
    assert_eq!(items, from_file);
    // a users file of strings: the known one's list as in the full export, the unknown skipped
    let users = write(&p, "users.txt", "u13\nu999999\n");
    let args = [
        "recommend",
        "--model",
        m,
        "--users",
        &users,
        "--exclude",
        "train",
    ];
    let printed = ok(&recsys(&p, &[&args[..], &["--output", "two.csv"]].concat()));
    assert!(printed.contains("skipped 1 user(s)"), "{printed}");
    let two: Vec<Vec<String>> = csv_rows(&p.join("two.csv"));
    let of_13: Vec<Vec<String>> = rows.iter().filter(|r| r[0] == "u13").cloned().collect();
    same_lists(&two, &of_13);
    // an unknown string user gets the popularity fallback, named by its string
    let args = ["recommend", "--model", m, "--user", "u999999", "--json"];
    let fallback = json_of(&recsys(&p, &args));
    assert_eq!(fallback["user"], "u999999");
    assert_eq!(fallback["fallback"], "popularity");
}

#[test]
fn exclude_decides_what_is_left_out_and_users_files_choose_users() {
    let (_d, p) = scratch();
    let (train, test, _) = time_split_files(&p, true);
    let model = p.join("m");
    let m = model.to_str().unwrap();
    let args = [
        "--seed",
        "2",
        "train",
        &train,
        "--test-file",
        &test,
        "--epochs",
        "1",
    ];
    ok(&recsys(
        &p,
        &[&args[..], &["--dim", "8", "--save", m]].concat(),
    ));
    let users = write(&p, "users.txt", "user\n13\n999999\n1\n");
    let mut lists = HashMap::new();
    for exclude in ["train", "seen", "none"] {
        let out = format!("ex-{exclude}.csv");
        let args = [
            "recommend",
            "--model",
            m,
            "--users",
            &users,
            "--exclude",
            exclude,
            "-k",
            "50",
            "--output",
            &out,
        ];
        let printed = ok(&recsys(&p, &args));
        assert!(printed.contains("skipped 1 user(s)"), "{printed}");
        let rows = csv_rows(&p.join(&out));
        assert_eq!(rows.len(), 100);
        assert_eq!(rows[0][0], "13", "the file's order");
        lists.insert(exclude, rows);
    }
    // what each leaves out, from the files: user 13's items in train (ratings above 3, the
    // implicit positives) and anywhere in either file
    let items_of = |file: &str, positives: bool| -> HashSet<String> {
        csv_rows(&p.join(file))
            .into_iter()
            .filter(|r| r[0] == "13" && (!positives || r[2].parse::<f64>().unwrap() > 3.0))
            .map(|r| r[1].clone())
            .collect()
    };
    let train_items = items_of("train.csv", true);
    let mut seen = items_of("train.csv", false);
    seen.extend(items_of("test.csv", false));
    let of_13 = |e: &str| -> Vec<String> {
        lists[e]
            .iter()
            .filter(|r| r[0] == "13")
            .map(|r| r[1].clone())
            .collect()
    };
    assert!(of_13("train").iter().all(|i| !train_items.contains(i)));
    assert!(of_13("seen").iter().all(|i| !seen.contains(i)));
    let none = of_13("none");
    assert!(
        none.iter().any(|i| train_items.contains(i)),
        "50 best of all items hold a train item"
    );
    // the file is never replaced without --force
    let args = [
        "recommend",
        "--model",
        m,
        "--all-users",
        "--output",
        "ex-none.csv",
    ];
    assert_eq!(recsys(&p, &args).status.code(), Some(1));
    assert_eq!(csv_rows(&p.join("ex-none.csv")).len(), 100);
    ok(&recsys(&p, &[&args[..], &["--force"]].concat()));
    assert!(csv_rows(&p.join("ex-none.csv")).len() > 100);
}

#[test]
fn predictions_reproduce_the_printed_rmse() {
    let (_d, p) = scratch();
    let model = p.join("m");
    let m = model.to_str().unwrap();
    let args = [
        "--seed", "1", "train", "ml-100k", "--model", "bilinear", "--epochs", "1", "--dim", "4",
        "--save", m,
    ];
    ok(&recsys(&p, &args));
    let v = json_of(&recsys(
        &p,
        &["evaluate", "--model", m, "--predictions", "p.csv", "--json"],
    ));
    let rows = csv_rows(&p.join("p.csv"));
    assert_eq!(rows.len() as u64, v["test_ratings"].as_u64().unwrap());
    let sq: f64 = rows
        .iter()
        .map(|r| (r[3].parse::<f64>().unwrap() - r[2].parse::<f64>().unwrap()).powi(2))
        .sum();
    let rmse = (sq / rows.len() as f64).sqrt();
    assert!(
        (rmse - v["rmse"].as_f64().unwrap()).abs() < 1e-12,
        "{rmse} vs {}",
        v["rmse"]
    );
    // implicit models rank: --predictions is refused with the way to their lists
    let implicit = p.join("i");
    let i = implicit.to_str().unwrap();
    ok(&recsys(
        &p,
        &[
            "--seed", "1", "train", "ml-100k", "--epochs", "1", "--dim", "4", "--save", i,
        ],
    ));
    let out = recsys(&p, &["evaluate", "--model", i, "--predictions", "q.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--all-users"));
}

/// The same users, items and ranks, and the same scores up to the last bits of a float: a
/// chunk of one user is scored by a different matrix-product kernel than a chunk of many.
fn same_lists(a: &[Vec<String>], b: &[Vec<String>]) {
    assert_eq!(a.len(), b.len(), "{a:?}\n{b:?}");
    for (x, y) in a.iter().zip(b) {
        assert_eq!((&x[0], &x[1], &x[3]), (&y[0], &y[1], &y[3]), "{a:?}\n{b:?}");
        let (s, t): (f64, f64) = (x[2].parse().unwrap(), y[2].parse().unwrap());
        assert!((s - t).abs() <= 1e-5 * t.abs().max(1.0), "{s} vs {t}");
    }
}
