//! `recsys experiment` through the binary, on the shipped ml-100k: the table, its files, the
//! statistics' ranges, a known ordering of models (EASE^R far above most-popular; biases below
//! the global mean's RMSE), `--grid` choosing from its values, and clear refusals.

mod common;
use common::{json_of, recsys, summary_mean};

/// The mean of `column` for `model` in a `--json` result.
fn mean(v: &serde_json::Value, model: &str, column: &str) -> f64 {
    summary_mean(v, model, column).as_f64().unwrap()
}

#[test]
fn ranking_table_files_and_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let out = recsys(
        dir.path(),
        &[
            "--seed",
            "0",
            "--json",
            "--out",
            "out",
            "experiment",
            "ml-100k",
            "--models",
            "pop,ease,random",
            "--seeds",
            "2",
        ],
    );
    let v = json_of(&out);
    let (pop, ease, random) = (
        mean(&v, "pop", "NDCG@10"),
        mean(&v, "ease", "NDCG@10"),
        mean(&v, "random", "NDCG@10"),
    );
    // Measured on this split: most-popular about 0.15, EASE^R above 0.3, random about 0.01.
    assert!(
        ease > pop + 0.1 && pop > random + 0.05,
        "{ease} {pop} {random}"
    );
    let s = &v["summary"];
    assert_eq!(s["best"][0], 1, "EASE^R is the best by NDCG@10");
    for row in s["rows"].as_array().unwrap() {
        for m in row["metrics"].as_array().unwrap() {
            let x = m["mean"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&x), "{row}");
        }
        if row["model"] != "ease" {
            // random splits: the test users differ by seed, so a pair is a seed (2 of them)
            let t = &row["versus_best"];
            assert!(t["unit"].as_str().unwrap().starts_with("seed"), "{t}");
            assert_eq!(t["pairs"], 2, "{t}");
            assert!(t["mean_difference"].as_f64().unwrap() > 0.0);
            let (raw, holm) = (
                t["t_test_p"].as_f64().unwrap(),
                t["t_test_p_holm"].as_f64().unwrap(),
            );
            assert!(holm >= raw && holm <= 1.0, "{t}");
        }
    }
    // Cornac's AUC and whole-list MAP beside MAP@10 (each in [0, 1], checked above); any
    // model that ranks by something better than chance has AUC above 0.5.
    let columns = s["columns"].as_array().unwrap();
    let at = |c: &str| columns.iter().position(|x| x == c);
    assert_eq!(at("MAP"), at("MAP@10").map(|j| j + 1), "{columns:?}");
    assert_eq!(at("AUC"), at("MAP").map(|j| j + 1), "{columns:?}");
    for model in ["pop", "ease"] {
        let auc = mean(&v, model, "AUC");
        assert!(auc > 0.5, "{model}: AUC {auc}");
        // the whole list's MAP counts hits beyond the top 10, and MAP@10's denominator is
        // min(10, |relevant|): they differ, both in (0, 1)
        assert!(mean(&v, model, "MAP") > 0.0, "{model}");
    }
    assert!(mean(&v, "ease", "AUC") > mean(&v, "pop", "AUC"));
    let random_auc = mean(&v, "random", "AUC");
    assert!((random_auc - 0.5).abs() < 0.05, "random: AUC {random_auc}");
    let per_user = std::fs::read_to_string(dir.path().join("out/per_user.csv")).unwrap();
    assert!(
        per_user.lines().next().unwrap().ends_with(",AUC,AP"),
        "{per_user:.200}"
    );
    let k = &s["kendall_full_vs_sampled"];
    assert!((-1.0..=1.0).contains(&k["tau"].as_f64().unwrap()), "{k}");
    assert!((0.0..=1.0).contains(&k["p_value"].as_f64().unwrap()), "{k}");
    assert_eq!(k["full_order"][0], "ease", "{k}");
    for f in ["experiment.csv", "runs.csv", "report.md", "experiment.png"] {
        assert!(dir.path().join("out").join(f).is_file(), "{f}");
    }
    let runs = std::fs::read_to_string(dir.path().join("out/runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 3 * 2, "a line per model and seed");
    // the same seed gives the same table (timings aside)
    let again = json_of(&recsys(
        dir.path(),
        &[
            "--seed",
            "0",
            "--json",
            "--out",
            "out2",
            "experiment",
            "ml-100k",
            "--models",
            "pop,ease,random",
            "--seeds",
            "2",
        ],
    ));
    assert_eq!(mean(&again, "ease", "NDCG@10"), ease);
    assert_eq!(mean(&again, "random", "NDCG@10"), random);
}

#[test]
fn rating_models_beat_the_global_mean() {
    let dir = tempfile::tempdir().unwrap();
    let v = json_of(&recsys(
        dir.path(),
        &[
            "--json",
            "--out",
            "out",
            "experiment",
            "ml-100k",
            "--models",
            "global-mean,baseline",
            "--seeds",
            "2",
        ],
    ));
    let (mean_rmse, baseline_rmse) = (
        mean(&v, "global-mean", "RMSE"),
        mean(&v, "baseline", "RMSE"),
    );
    // Surprise's table: BaselineOnly 0.944 on 5-fold CV; the global mean is about 1.12.
    assert!(
        baseline_rmse < 0.96 && mean_rmse > 1.1,
        "{baseline_rmse} {mean_rmse}"
    );
    assert_eq!(v["summary"]["best"][0], 1);
    // the errors averaged per user (Cornac's user_based=True) beside the global ones, lower
    // the better: baseline best on each
    let columns = &v["summary"]["columns"];
    assert_eq!(
        columns,
        &serde_json::json!(["RMSE", "MAE", "RMSE (per user)", "MAE (per user)"])
    );
    assert_eq!(v["summary"]["best"], serde_json::json!([1, 1, 1, 1]));
    for model in ["global-mean", "baseline"] {
        let (user_rmse, user_mae) = (
            mean(&v, model, "RMSE (per user)"),
            mean(&v, model, "MAE (per user)"),
        );
        assert!(user_rmse > 0.5 && user_rmse < 1.5, "{model}: {user_rmse}");
        // each user's RMSE is at least the user's MAE, so their means are too
        assert!(
            user_mae > 0.3 && user_mae <= user_rmse,
            "{model}: {user_mae}"
        );
    }
}

#[test]
fn grid_chooses_among_its_values() {
    let dir = tempfile::tempdir().unwrap();
    let v = json_of(&recsys(
        dir.path(),
        &[
            "--json",
            "--out",
            "out",
            "experiment",
            "ml-100k",
            "--models",
            "ease",
            "--seeds",
            "1",
            "--sampled",
            "0",
            "--grid",
            "lambda=5,500",
        ],
    ));
    let chosen = &v["summary"]["rows"][0]["tuned"][0]["lambda"];
    assert!(chosen == 5.0 || chosen == 500.0, "{chosen}");
}

#[test]
fn bad_flags_get_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--models", "pop,svd"], "mixes ranking and rating"),
        (&["--models", "nope"], "unknown model \"nope\""),
        (&["--grid", "lambda"], "expected key=value"),
        (
            &["--protocol", "kfold", "--seeds", "1"],
            "--seeds 2 or more",
        ),
        (&["--protocol", "sideways"], "--protocol \"sideways\""),
        (
            &["--preset", "surprise-ml100k", "--seeds", "0"],
            "--seeds must be at least 1",
        ),
    ];
    for (flags, needle) in cases {
        let mut args = vec!["--out", "out", "experiment", "ml-100k"];
        args.extend_from_slice(flags);
        let out = recsys(dir.path(), &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flags:?}: {err}");
        assert!(err.contains(needle), "{flags:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{flags:?}: {err}");
    }
}

#[test]
fn bilinear_defaults_beat_the_bias_only_baseline() {
    // The finding: with the old defaults (lr 1e-2, no decay) bilinear overfit to RMSE
    // 1.14, worse than BaselineOnly. On the same split (seed 0), its tuned defaults beat it.
    let dir = tempfile::tempdir().unwrap();
    let train = json_of(&recsys(
        dir.path(),
        &[
            "--seed", "0", "--json", "train", "ml-100k", "--model", "bilinear",
        ],
    ));
    let bilinear = train["evaluation"]["rmse"].as_f64().unwrap();
    let v = json_of(&recsys(
        dir.path(),
        &[
            "--seed",
            "0",
            "--json",
            "--out",
            "out",
            "experiment",
            "ml-100k",
            "--models",
            "baseline",
            "--seeds",
            "1",
        ],
    ));
    let baseline = mean(&v, "baseline", "RMSE");
    assert!(
        bilinear < baseline,
        "bilinear {bilinear} vs BaselineOnly {baseline}"
    );
}

#[test]
fn the_command_lines_networks_join_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let v = json_of(&recsys(
        dir.path(),
        &[
            "--seed",
            "0",
            "--json",
            "--out",
            "out",
            "experiment",
            "ml-100k",
            "--models",
            "pop,mf",
            "--seeds",
            "1",
            "--sampled",
            "0",
            "--set",
            "epochs=2",
        ],
    ));
    let mf = mean(&v, "mf", "NDCG@10");
    assert!(mf > 0.0 && mf < 1.0, "{mf}");
    // a network with explicit feedback is a rating model
    let out = recsys(
        dir.path(),
        &[
            "--out",
            "out2",
            "experiment",
            "ml-100k",
            "--models",
            "mf,bilinear",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mixes ranking and rating"));
}

#[test]
fn existing_outputs_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--out",
        "out",
        "experiment",
        "ml-100k",
        "--models",
        "pop",
        "--seeds",
        "1",
    ];
    json_of(&recsys(dir.path(), &[&["--json"][..], &args[..]].concat()));
    let before = std::fs::read(dir.path().join("out/runs.csv")).unwrap();
    let out = recsys(dir.path(), &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("already exists; pass --force"), "{err}");
    assert!(
        !err.contains("experiment 1 models"),
        "refused before the work: {err}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("out/runs.csv")).unwrap(),
        before
    );
}

/// Under a deterministic split (each user's last item) and deterministic models, more seeds
/// repeat the same evidence: the paired test's unit is the test user, averaged over the seeds,
/// and its p-value does not shrink as seeds are added.
#[test]
fn more_seeds_on_a_deterministic_split_do_not_shrink_the_p_value() {
    let dir = tempfile::tempdir().unwrap();
    let p = |seeds: &str, out: &str| {
        let v = json_of(&recsys(
            dir.path(),
            &[
                "--json",
                "--out",
                out,
                "experiment",
                "ml-100k",
                "--models",
                "ease,pop,item-knn",
                "--protocol",
                "last-n",
                "--sampled",
                "0",
                "--seeds",
                seeds,
            ],
        ));
        let row = v["summary"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["model"] == "pop")
            .unwrap()
            .clone();
        row["versus_best"].clone()
    };
    let (one, three) = (p("1", "a"), p("3", "b"));
    assert!(
        one["unit"].as_str().unwrap().starts_with("test user"),
        "{one}"
    );
    assert_eq!(one["pairs"], three["pairs"]);
    assert_eq!(one["wilcoxon_p"], three["wilcoxon_p"], "{one} vs {three}");
    assert_eq!(one["t_test_p"], three["t_test_p"], "{one} vs {three}");
}

/// `--protocol stratified-item` (msrec-ml100k's split): per item, a random share as test; the
/// table has the ranking columns, and checkpoints (whose split `evaluate` redoes) are refused.
#[test]
fn the_per_item_stratified_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--seed",
        "0",
        "--out",
        "out",
        "experiment",
        "ml-100k",
        "--models",
        "pop",
        "--protocol",
        "stratified-item",
        "--test-fraction",
        "0.25",
        "--seeds",
        "1",
        "--sampled",
        "0",
    ];
    let out = recsys(dir.path(), &[&["--json"][..], &args[..]].concat());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("split     per item, 0.25 as test"), "{err}");
    let v = json_of(&out);
    let auc = mean(&v, "pop", "AUC");
    assert!(auc > 0.5 && auc <= 1.0, "{auc}");
    let out = recsys(
        dir.path(),
        &[&args[..], &["--save-models", "models"][..]].concat(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("per-item stratified split"));
}
