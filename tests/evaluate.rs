//! `recsys evaluate --recs`: hand-made lists, agreement with the library, and bad input.

use std::collections::{HashMap, HashSet};
use std::process::Command;

use recsys::eval::metrics::{self, ranking_metrics};
use recsys::eval::recs::{read_items, read_recommendations, read_truth};

fn recsys(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(args)
        .output()
        .expect("recsys runs")
}

struct Files {
    _dir: tempfile::TempDir,
    recs: String,
    truth: String,
    train: String,
}

/// User 1: recs 10, 11, 12 (by score) with 11 relevant; user 2: 20, 21 with 20 and 99 relevant;
/// user 3 has no recommendations.
fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    std::fs::write(
        p("recs.csv"),
        "user_id,item_id,score\n1,12,0.1\n1,10,0.9\n1,11,0.5\n2,20,3\n2,21,2\n",
    )
    .unwrap();
    std::fs::write(p("truth.csv"), "user_id,item_id\n1,11\n2,20\n2,99\n3,10\n").unwrap();
    std::fs::write(
        p("train.csv"),
        "user_id,item_id\n1,10\n1,11\n2,12\n2,20\n3,21\n4,30\n4,31\n4,32\n",
    )
    .unwrap();
    Files {
        recs: p("recs.csv"),
        truth: p("truth.csv"),
        train: p("train.csv"),
        _dir: dir,
    }
}

#[test]
fn hand_made_lists() {
    let f = files();
    let recs = read_recommendations(f.recs.as_ref()).unwrap().lists;
    assert_eq!(recs[&1], vec![10, 11, 12], "sorted by score");
    let truth = read_truth(f.truth.as_ref()).unwrap();
    let train = read_items(f.train.as_ref()).unwrap();
    assert_eq!(train.len(), 8);
    let m = ranking_metrics(&recs, &truth, 2, Some(&train)).unwrap();
    assert_eq!(m.users, 3);
    // hit rates 1, 1, 0
    assert!((m.hit_rate - 2.0 / 3.0).abs() < 1e-12);
    // NDCG: user 1 hit at rank 2 with one relevant: (1/log2 3) / 1; user 2 hit at rank 1 of
    // two relevant: 1 / (1 + 1/log2 3); user 3: 0
    let l3 = 3f64.log2();
    let ndcg = ((1.0 / l3) + 1.0 / (1.0 + 1.0 / l3)) / 3.0;
    assert!((m.ndcg - ndcg).abs() < 1e-12);
    // Recall divides by |rel|: 1, 1/2, 0
    assert!((m.recall - 0.5).abs() < 1e-12);
    // MRR 1/2, 1, 0
    assert!((m.mrr - 0.5).abs() < 1e-12);
    // Coverage: items 10, 11, 20, 21 of 8 train items
    assert_eq!(m.coverage, Some(0.5));
}

#[test]
fn cli_equals_the_library() {
    let f = files();
    let out = recsys(&[
        "evaluate", "--recs", &f.recs, "--truth", &f.truth, "--train", &f.train, "-k", "3",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let recs = read_recommendations(f.recs.as_ref()).unwrap().lists;
    let truth = read_truth(f.truth.as_ref()).unwrap();
    let lib =
        |m: fn(&[i64], &HashSet<i64>, usize) -> f64| metrics::mean_over_users(&recs, &truth, 3, m);
    assert_eq!(v["ndcg"].as_f64().unwrap(), lib(metrics::ndcg_at_k));
    assert_eq!(v["hit_rate"].as_f64().unwrap(), lib(metrics::hit_rate_at_k));
    assert_eq!(v["map"].as_f64().unwrap(), lib(metrics::map_at_k));
    assert_eq!(
        v["precision"].as_f64().unwrap(),
        lib(metrics::precision_at_k)
    );
    let lists: HashMap<i64, Vec<i64>> = recs;
    assert_eq!(
        v["coverage"].as_f64().unwrap(),
        metrics::coverage_in_train_at_k(
            lists.values().map(Vec::as_slice),
            3,
            &read_items(f.train.as_ref()).unwrap()
        )
    );
}

#[test]
fn bad_input() {
    let f = files();
    let out = recsys(&[
        "evaluate", "--recs", &f.recs, "--truth", &f.truth, "-k", "0",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be a whole number from 1 to"));
    std::fs::write(&f.recs, "user_id,item_id,score\n1,12,0.1\n1,x,0.9\n").unwrap();
    let out = recsys(&["evaluate", "--recs", &f.recs, "--truth", &f.truth]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("recs.csv line 3: item_id \"x\" is not an integer"),
        "{err}"
    );
    std::fs::write(&f.recs, "user,item\n1,2\n").unwrap();
    let out = recsys(&["evaluate", "--recs", &f.recs, "--truth", &f.truth]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no column 'user_id'"));
}
