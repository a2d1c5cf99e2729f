//! Cornac's `RatioSplit` semantics (`--protocol cornac-ratio`), the two thresholds, and an
//! experiment over several datasets, through the binary.
//!
//! The Cornac numbers come from `scripts/reference-metrics.py cornac-ratio` (Cornac 3.0.1 on
//! ml-100k in file order, `RatioSplit(test_size=0.2, rating_threshold=4.0, seed=123)`, rating
//! errors with `user_based=True`): MostPop and PMF at the README's settings.

mod common;
use common::{json_of, ratings, recsys, stderr, write};
use serde_json::Value;

/// Cornac's columns: MAE, RMSE (both per user), AUC, MAP, NDCG@10, Precision@10, Recall@10.
const CORNAC_MOSTPOP: [f64; 7] = [
    1.4189960457442636,
    1.7246698367246405,
    0.8681150240522971,
    0.10265702396475543,
    0.1444170060719635,
    0.10718954248365957,
    0.12071760499724485,
];
const CORNAC_PMF: [f64; 7] = [
    0.7534344779529096,
    0.9138444368608123,
    0.7744212500603648,
    0.06710972028208252,
    0.09689535723831523,
    0.08126361655773423,
    0.06386082905686777,
];

/// The mean of `column` for `model` in an experiment's `--json`.
fn cell(v: &Value, model: &str, column: &str) -> Value {
    let s = &v["summary"];
    let j = s["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c == column)
        .unwrap_or_else(|| panic!("no column {column}: {}", s["columns"]));
    let row = s["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model"] == model)
        .unwrap();
    row["metrics"][j]["mean"].clone()
}

#[test]
fn cornac_ratio_replays_cornacs_own_evaluation() {
    let d = tempfile::tempdir().unwrap();
    let set = "pmf.factors=10 pmf.epochs=100 pmf.lr=0.001 pmf.regularization=0.001 \
               pmf.numpy_seed=123";
    let args = [
        "--seed",
        "123",
        "--json",
        "--out",
        "out",
        "experiment",
        "ml-100k",
        "--protocol",
        "cornac-ratio",
        "--models",
        "pop,pmf,bpr",
        "--set",
        set,
        "--seeds",
        "1",
        "--sampled",
        "0",
    ];
    let out = recsys(d.path(), &args);
    let v = json_of(&out);
    let columns = [
        "MAE (per user)",
        "RMSE (per user)",
        "AUC",
        "MAP",
        "NDCG@10",
        "Precision@10",
        "Recall@10",
    ];
    // PMF draws numpy's factors and trains on the rows in Cornac's order: the same fit, the
    // same candidates, the same numbers
    for (c, want) in columns.iter().zip(CORNAC_PMF) {
        let got = cell(&v, "pmf", c).as_f64().unwrap();
        assert!(
            (got - want).abs() < 1e-6,
            "pmf {c}: {got} vs Cornac's {want}"
        );
    }
    // MostPop ranks by train counts; its rating columns are Cornac's scores-as-ratings, which
    // recsys leaves empty (pop predicts no rating), as it does for bpr. Items of equal count
    // tie: Cornac orders a tie by numpy's argpartition, recsys by item index, so the top-k
    // columns may differ in the last digits (AUC counts a tie alike in both: as a loss)
    for (c, want) in columns.iter().zip(CORNAC_MOSTPOP).skip(2) {
        let got = cell(&v, "pop", c).as_f64().unwrap();
        assert!(
            (got - want).abs() < 1e-3,
            "pop {c}: {got} vs Cornac's {want}"
        );
    }
    assert!(cell(&v, "bpr", "RMSE").is_null());
    let report = std::fs::read_to_string(d.path().join("out/report.md")).unwrap();
    assert!(report.contains("Cornac's RatioSplit"), "{report}");
    assert!(report.contains("| 123 | 80000 |"), "{report}");
    assert!(report.contains("ratings >= 4 are relevant"), "{report}");
}

#[test]
fn two_thresholds_split_apart_what_trains_and_what_is_relevant() {
    let d = tempfile::tempdir().unwrap();
    let data = write(d.path(), "r.csv", &ratings(|u, i| format!("{u},{i}")));
    let split = |extra: &[&str]| -> Value {
        let mut a = vec!["--seed", "1", "--json", "--force", "split", data.as_str()];
        a.extend(extra);
        json_of(&recsys(d.path(), &a))
    };
    let rows = |v: &Value, part: &str| v["fingerprints"][part]["rows"].as_u64().unwrap();
    // 480 ratings: every one trains, the split is over all of them
    let both = split(&["--train-threshold", "none", "--relevance-threshold", "3"]);
    assert_eq!(rows(&both, "train") + rows(&both, "test"), 480);
    assert_eq!(
        both["relevance_threshold"],
        serde_json::json!({"above": 3.0})
    );
    // --threshold 3 alone: only the ratings above 3 are split, as before
    let old = split(&["--threshold", "3"]);
    let above = split(&["--train-threshold", "3", "--relevance-threshold", "3"]);
    assert_eq!(old["fingerprints"], above["fingerprints"]);
    assert!(rows(&old, "train") + rows(&old, "test") < 480);
    // mixing rating and ranking models needs every rating to train
    let out = recsys(
        d.path(),
        &[
            "experiment",
            &data,
            "--models",
            "pop,baseline",
            "--seeds",
            "1",
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--train-threshold none"),
        "{}",
        stderr(&out)
    );
    let bad = recsys(d.path(), &["split", &data, "--train-threshold", "lots"]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("expected a number or \"none\""),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn several_datasets_rank_the_models_with_friedmans_test() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a.csv", &ratings(|u, i| format!("{u},{i}")));
    let b = write(
        d.path(),
        "b.csv",
        &ratings(|u, i| format!("{},{}", u + 100, (i * 7) % 31)),
    );
    let both = format!("{a},{b}");
    let out = recsys(
        d.path(),
        &[
            "--seed",
            "0",
            "--json",
            "--out",
            "out",
            "experiment",
            &both,
            "--models",
            "pop,item-knn,ease",
            "--seeds",
            "2",
            "--sampled",
            "0",
        ],
    );
    let v = json_of(&out);
    let across = &v["across"];
    assert_eq!(across["datasets"].as_array().unwrap().len(), 2);
    let ranks: Vec<f64> = across["mean_ranks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_f64().unwrap())
        .collect();
    // three models ranked 1..3 on each dataset: the mean ranks sum to 6
    assert_eq!(ranks.len(), 3);
    assert!((ranks.iter().sum::<f64>() - 6.0).abs() < 1e-12, "{ranks:?}");
    let p = across["friedman"]["p_value"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p));
    assert_eq!(v["datasets"].as_array().unwrap().len(), 2);
    let report = std::fs::read_to_string(d.path().join("out/report.md")).unwrap();
    assert!(
        report.contains("Across the datasets") && report.contains("Friedman"),
        "{report}"
    );
    for folder in ["a_csv", "b_csv"] {
        assert!(
            d.path()
                .join("out")
                .join(folder)
                .join("experiment.csv")
                .is_file(),
            "{folder}"
        );
    }
}
