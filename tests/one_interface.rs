//! Every model through one interface, end to end through the binary on the shipped ml-100k: a
//! classic model trained, saved, evaluated, exported and scored elsewhere to the same digits;
//! `split` and `experiment --test-file` reproducing a run; settings refused before any work;
//! an experiment's files and its `--config` repeat.

mod common;
use common::{json_of, ok, recsys, stderr};

/// The full-ranking metrics of an `evaluate --model` or `train` `--json` result.
fn full(v: &serde_json::Value) -> &serde_json::Value {
    &v["protocols"]["full"]["metrics"]
}

#[test]
fn ease_trains_saves_exports_and_scores_alike_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let trained = json_of(&recsys(
        d,
        &[
            "--json", "train", "ml-100k", "--model", "ease", "--save", "m",
        ],
    ));
    assert_eq!(trained["model"], "ease");
    assert_eq!(trained["config"]["lambda"], 300.0);
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("m/model.json")).unwrap()).unwrap();
    assert_eq!(sidecar["format"], "recsys-model/3");
    assert_eq!(sidecar["model"], "ease");
    let evaluated = json_of(&recsys(
        d,
        &["--json", "evaluate", "--model", "m", "--sampled", "0"],
    ));
    let trained_full = full(&trained["evaluation"]);
    assert_eq!(full(&evaluated)["ndcg"], trained_full["ndcg"]);
    ok(&recsys(
        d,
        &[
            "recommend",
            "--model",
            "m",
            "--all-users",
            "--exclude",
            "train",
            "--output",
            "r.csv",
        ],
    ));
    let split = json_of(&recsys(
        d,
        &[
            "--json",
            "--out",
            "s",
            "split",
            "ml-100k",
            "--threshold",
            "3",
        ],
    ));
    assert_eq!(
        split["fingerprints"]["train"],
        trained["fingerprints"]["train"]
    );
    let lists = json_of(&recsys(
        d,
        &[
            "--json",
            "evaluate",
            "--recs",
            "r.csv",
            "--truth",
            "s/test.csv",
            "--train",
            "s/train.csv",
            "--known-only",
        ],
    ));
    for m in [
        "precision",
        "recall",
        "ndcg",
        "hit_rate",
        "mrr",
        "map",
        "coverage",
    ] {
        assert_eq!(
            lists[m],
            full(&evaluated)[m],
            "{m}: --recs --known-only against --model"
        );
    }
    // without --known-only the truth's unknown users and items count, and the output says so
    let all = recsys(
        d,
        &[
            "evaluate",
            "--recs",
            "r.csv",
            "--truth",
            "s/test.csv",
            "--train",
            "s/train.csv",
        ],
    );
    let printed = ok(&all);
    assert!(printed.contains("--known-only"), "{printed}");
    // the experiment on the written split gives the same row
    let e = json_of(&recsys(
        d,
        &[
            "--json",
            "--seed",
            "42",
            "--out",
            "e",
            "experiment",
            "s/train.csv",
            "--test-file",
            "s/test.csv",
            "--models",
            "ease",
            "--seeds",
            "1",
            "--sampled",
            "0",
        ],
    ));
    let row = &e["summary"]["rows"][0];
    assert_eq!(row["metrics"][0]["mean"], full(&evaluated)["ndcg"]);
    for f in ["per_user.csv", "config.toml", "runs.csv", "report.md"] {
        assert!(d.join("e").join(f).exists(), "{f}");
    }
    let per_user = std::fs::read_to_string(d.join("e/per_user.csv")).unwrap();
    assert!(
        per_user.starts_with("seed,model,user_id,NDCG@10,Recall@10"),
        "{per_user:.80}"
    );
    assert_eq!(per_user.lines().count(), 1 + 917);
    // similar works for ease (its item-item weights)
    let similar = json_of(&recsys(
        d,
        &[
            "--json", "similar", "--model", "m", "--item", "50", "-k", "3",
        ],
    ));
    assert_eq!(similar["items"].as_array().unwrap().len(), 3);
}

#[test]
fn every_kind_of_model_saves_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (model, set) in [
        ("pop", ""),
        ("als", "factors=8 epochs=2"),
        ("baseline", ""),
        ("svd", "factors=4 epochs=2"),
    ] {
        let mut args = vec!["train", "ml-100k", "--model", model, "--save", model];
        if !set.is_empty() {
            args.extend(["--set", set]);
        }
        ok(&recsys(d, &args));
        let rec = json_of(&recsys(
            d,
            &[
                "--json",
                "recommend",
                "--model",
                model,
                "--user",
                "1",
                "-k",
                "5",
            ],
        ));
        assert_eq!(rec["items"].as_array().unwrap().len(), 5, "{model}");
        let sim = recsys(d, &["similar", "--model", model, "--item", "50"]);
        match model {
            "pop" | "baseline" => assert!(
                stderr(&sim).contains("defines no item similarity"),
                "{model}: {}",
                stderr(&sim)
            ),
            _ => assert!(sim.status.success(), "{model}: {}", stderr(&sim)),
        }
    }
    let e = json_of(&recsys(d, &["--json", "evaluate", "--model", "svd"]));
    assert!(e["rmse"].as_f64().unwrap() < 1.2, "{e}");
}

#[test]
fn settings_are_checked_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "experiment",
                "ml-100k",
                "--models",
                "ease,als",
                "--set",
                "lamda=5",
            ],
            "did you mean lambda (ease)",
        ),
        (
            &[
                "experiment",
                "ml-100k",
                "--models",
                "ease,als",
                "--set",
                "bogus=3",
            ],
            "no model here takes \"bogus\"",
        ),
        (
            &[
                "experiment",
                "ml-100k",
                "--models",
                "ease,als",
                "--set",
                "als.epochs=2.5",
            ],
            "als.epochs=2.5",
        ),
        (
            &[
                "experiment",
                "ml-100k",
                "--models",
                "ease",
                "--grid",
                "lamda=5,3000",
            ],
            "did you mean lambda",
        ),
        (
            &["train", "ml-100k", "--model", "ease", "--epochs", "3"],
            "ease takes no epochs setting",
        ),
        (
            &["train", "ml-100k", "--model", "svd", "--set", "n_factor=10"],
            "did you mean factors",
        ),
    ];
    for (args, expected) in cases {
        let out = recsys(d, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(
            !err.contains("experiment 1 models"),
            "{args:?} started work: {err}"
        );
    }
    // peers' names are aliases: iterations is epochs
    let v = json_of(&recsys(
        d,
        &[
            "--json",
            "--out",
            "o",
            "experiment",
            "ml-100k",
            "--models",
            "als,bpr",
            "--seeds",
            "1",
            "--sampled",
            "0",
            "--set",
            "factors=4 als.iterations=1 bpr.iterations=2",
        ],
    ));
    let rows = v["summary"]["rows"].as_array().unwrap();
    assert_eq!(rows[0]["config"][0]["epochs"], 1);
    assert_eq!(rows[1]["config"][0]["epochs"], 2);
    assert_eq!(rows[1]["config"][0]["factors"], 4);
}

#[test]
fn an_experiment_written_as_config_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = json_of(&recsys(
        d,
        &[
            "--json",
            "--seed",
            "3",
            "--out",
            "a",
            "experiment",
            "ml-100k",
            "--models",
            "pop,ease",
            "--seeds",
            "2",
            "--sampled",
            "0",
            "--set",
            "ease.lambda=200",
            "--save-models",
            "models",
            "--export-recs",
            "recs",
        ],
    ));
    let config = std::fs::read_to_string(d.join("a/config.toml")).unwrap();
    assert!(config.contains("lambda = 200"), "{config}");
    assert!(d.join("models/ease-seed4/model.json").exists());
    assert!(d.join("recs/pop-seed3.csv").exists());
    let again = json_of(&recsys(
        d,
        &[
            "--json",
            "--out",
            "b",
            "experiment",
            "ml-100k",
            "--config",
            "a/config.toml",
        ],
    ));
    for (r1, r2) in first["summary"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .zip(again["summary"]["rows"].as_array().unwrap())
    {
        assert_eq!(r1["metrics"], r2["metrics"]);
    }
    // a saved model of the experiment serves like any other
    ok(&recsys(d, &["evaluate", "--model", "models/ease-seed4"]));
}

#[test]
fn string_ids_with_commas_and_quotes_round_trip_and_serve_similar() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = common::ratings(|u, i| format!("\"Smith, {u}\",\"Film \"\"{i}\"\", part 2\""));
    common::write(d, "r.csv", &text);
    ok(&recsys(
        d,
        &[
            "train",
            "r.csv",
            "--model",
            "item-knn",
            "--threshold",
            "0",
            "--save",
            "m",
        ],
    ));
    ok(&recsys(
        d,
        &[
            "recommend",
            "--model",
            "m",
            "--all-users",
            "--exclude",
            "train",
            "--output",
            "recs.csv",
        ],
    ));
    let recs = std::fs::read_to_string(d.join("recs.csv")).unwrap();
    assert!(
        recs.lines().nth(1).unwrap().starts_with("\"Smith, "),
        "{recs:.200}"
    );
    // the tool reads back what it wrote
    let scored = json_of(&recsys(
        d,
        &[
            "--json", "evaluate", "--recs", "recs.csv", "--truth", "r.csv",
        ],
    ));
    assert!(scored["users"].as_u64().unwrap() > 0, "{scored}");
    // similar takes the string id, and a number that is not one of them is refused
    let sim = json_of(&recsys(
        d,
        &[
            "--json",
            "similar",
            "--model",
            "m",
            "--item",
            "Film \"3\", part 2",
            "-k",
            "2",
        ],
    ));
    assert_eq!(sim["item"], "Film \"3\", part 2");
    let wrong = recsys(d, &["similar", "--model", "m", "--item", "1"]);
    assert!(
        stderr(&wrong).contains("its ids are strings"),
        "{}",
        stderr(&wrong)
    );
}
