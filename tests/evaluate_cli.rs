//! `recsys evaluate`, `recommend` and `similar` through the binary: the rules of `--recs`
//! (duplicates, non-finite scores, a rank column, Coverage over train items), diverged models
//! refused rather than ranked, the same bytes from two runs, and clear messages for ids and k.

mod common;
use common::{json_of, ratings, recsys, stderr, write};
use std::path::{Path, PathBuf};
use std::process::Output;

/// `evaluate --recs RECS --truth TRUTH [--train TRAIN] -k K --json`.
fn eval_recs(dir: &Path, recs: &str, truth: &str, train: Option<&str>, k: &str) -> Output {
    let mut args = vec![
        "evaluate", "--recs", recs, "--truth", truth, "-k", k, "--json",
    ];
    if let Some(t) = train {
        args.extend(["--train", t]);
    }
    recsys(dir, &args)
}

/// A small ratings CSV: 40 users, 12 of 30 items each, ratings 1..=5, from a fixed LCG.
fn small_ratings(dir: &Path) -> String {
    write(dir, "B.csv", &ratings(|u, i| format!("{u},{i}")))
}

/// `recsys --seed 1 train B --epochs 1 --dim 4 [extra] --save DIR`; returns DIR.
fn train(dir: &Path, data: &str, name: &str, extra: &[&str]) -> PathBuf {
    let save = dir.join(name);
    let mut args = vec!["--seed", "1", "train", data, "--epochs", "1", "--dim", "4"];
    args.extend(extra);
    args.extend(["--save", save.to_str().unwrap()]);
    let out = recsys(dir, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    save
}

#[test]
fn a_duplicated_item_counts_once() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    // user 1 is recommended item 10 three times; three items are relevant
    let recs = write(
        p,
        "recs.csv",
        "user_id,item_id,score\n1,10,0.9\n1,10,0.8\n1,10,0.7\n",
    );
    let truth = write(p, "truth.csv", "user_id,item_id\n1,10\n1,11\n1,12\n1,10\n");
    let v = json_of(&eval_recs(p, &recs, &truth, None, "3"));
    // it was Recall 1.0 and NDCG 1.0: three hits out of one item
    assert_eq!(v["recall"].as_f64().unwrap(), 1.0 / 3.0);
    assert_eq!(v["precision"].as_f64().unwrap(), 1.0 / 3.0);
    let idcg = 1.0 + 1.0 / 3f64.log2() + 0.5;
    assert!(
        (v["ndcg"].as_f64().unwrap() - 1.0 / idcg).abs() < 1e-12,
        "{v}"
    );
    assert_eq!(v["duplicates_dropped"], 2);
    // the best-ranked row stays: with a score column, that is the highest score
    let recs = write(
        p,
        "recs.csv",
        "user_id,item_id,score\n1,20,0.9\n1,11,0.1\n1,20,0.2\n1,11,0.95\n",
    );
    let v = json_of(&eval_recs(p, &recs, &truth, None, "1"));
    assert_eq!(v["hit_rate"].as_f64().unwrap(), 1.0);
    let text = recsys(
        p,
        &["evaluate", "--recs", &recs, "--truth", &truth, "-k", "1"],
    );
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("note: 2 duplicated row(s)"), "{stdout}");
    // the earliest dropped line: item 11's 0.1 loses to its 0.95 two lines below
    assert!(
        stdout.contains("first: line 3, user 1, item 11"),
        "{stdout}"
    );
}

#[test]
fn non_finite_scores_are_refused_with_the_line() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let truth = write(p, "truth.csv", "user_id,item_id\n1,10\n");
    for bad in ["NaN", "nan", "inf", "-inf"] {
        let recs = write(
            p,
            "recs.csv",
            &format!("user_id,item_id,score\n1,11,0.5\n1,10,{bad}\n"),
        );
        let out = eval_recs(p, &recs, &truth, None, "1");
        assert!(!out.status.success(), "{bad} was accepted");
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "recs.csv line 3: score \"{bad}\" is not a finite number"
            )),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn a_rank_column_orders_the_lists() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let truth = write(p, "truth.csv", "user_id,item_id\n1,11\n");
    // rank 1 is best, whatever the file order
    let recs = write(p, "recs.csv", "user_id,item_id,rank\n1,10,2\n1,11,1\n");
    let v = json_of(&eval_recs(p, &recs, &truth, None, "1"));
    assert_eq!(v["hit_rate"].as_f64().unwrap(), 1.0, "{v}");
    assert_eq!(v["mrr"].as_f64().unwrap(), 1.0, "{v}");
    // two ordering columns are ambiguous
    let recs = write(
        p,
        "recs.csv",
        "user_id,item_id,score,rank\n1,10,0.9,2\n1,11,0.1,1\n",
    );
    let out = eval_recs(p, &recs, &truth, None, "1");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("recs.csv line 1: the header names 'score' and 'rank'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn coverage_counts_only_items_in_train() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let truth = write(p, "truth.csv", "user_id,item_id\n1,10\n2,20\n");
    let train = write(p, "train.csv", "user_id,item_id\n1,10\n1,11\n2,20\n3,21\n");
    // five distinct items recommended, two of them (98, 99) absent from the four train items:
    // it was 5/4 = 1.25; RePlay 0.22 counts 10, 20, 21 only
    let recs = write(
        p,
        "recs.csv",
        "user_id,item_id\n1,10\n1,98\n1,99\n2,20\n2,21\n",
    );
    let v = json_of(&eval_recs(p, &recs, &truth, Some(&train), "3"));
    assert_eq!(v["coverage"].as_f64().unwrap(), 0.75, "{v}");
}

#[test]
fn two_runs_print_the_same_bytes() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let data = small_ratings(p);
    let implicit = train(p, &data, "mf", &[]);
    let explicit = train(p, &data, "bilinear", &["--model", "bilinear"]);
    for model in [&implicit, &explicit] {
        let args = ["evaluate", "--model", model.to_str().unwrap(), "--json"];
        let (a, b) = (recsys(p, &args), recsys(p, &args));
        let v = json_of(&a);
        assert_eq!(a.stdout, b.stdout, "two runs of evaluate --model differ");
        let protocols = v.get("protocols").map(|p| p.as_object().unwrap().len());
        assert!(protocols == Some(2) || v.get("rmse").is_some(), "{v}");
    }
    // --recs: many users, so a sum in hash order would show in the last bits
    let mut recs = String::from("user_id,item_id,score\n");
    let mut truth = String::from("user_id,item_id\n");
    for u in 0..300 {
        for i in 0..7 {
            recs.push_str(&format!(
                "{u},{},{}\n",
                (u * 7 + i * 3) % 50,
                (i * 13 + u) % 11
            ));
        }
        for i in 0..(1 + u % 5) {
            truth.push_str(&format!("{u},{}\n", (u * 5 + i * 11) % 50));
        }
    }
    let (recs, truth) = (write(p, "r.csv", &recs), write(p, "t.csv", &truth));
    let (a, b) = (
        eval_recs(p, &recs, &truth, Some(&data), "5"),
        eval_recs(p, &recs, &truth, Some(&data), "5"),
    );
    json_of(&a);
    assert_eq!(a.stdout, b.stdout, "two runs of evaluate --recs differ");
}

#[test]
fn a_diverged_model_is_refused_not_ranked() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let data = small_ratings(p);
    // lr 1e30 leaves NaN in the embeddings after one epoch; its NaN scores used to tie
    // everywhere and rank the test positives first (sampled HitRate, NDCG, MRR all 1.0)
    for model in ["mf", "bilinear"] {
        let out = recsys(
            p,
            &[
                "--seed", "1", "train", &data, "--model", model, "--epochs", "1", "--dim", "4",
                "--lr", "1e30", "--json",
            ],
        );
        assert!(
            !out.status.success(),
            "{model}: a diverged model was evaluated"
        );
        assert!(stderr(&out).contains("diverged"), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "{model}: metrics printed");
    }
}

#[test]
fn similar_and_recommend_say_what_they_do() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let data = small_ratings(p);
    let m = train(p, &data, "mf", &[]);
    let m = m.to_str().unwrap();
    // a number is an id: an unknown one is an error, not a title search
    let out = recsys(p, &["similar", "--model", m, "--item", "1995"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--item 1995: no item with id 1995 is known to the model"),
        "{}",
        stderr(&out)
    );
    for empty in ["", "  "] {
        let out = recsys(p, &["similar", "--model", m, "--item", empty]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("--item is empty"), "{}", stderr(&out));
    }
    // k above what there is: the headline says how many are shown
    let args = [
        "recommend",
        "--model",
        m,
        "--user",
        "1",
        "-k",
        "100000",
        "--json",
    ];
    let out = recsys(p, &args);
    let shown = json_of(&out)["items"].as_array().unwrap().len();
    assert!(shown > 0 && shown < 30, "{shown}");
    let said = stderr(&out);
    assert!(!said.contains("top 100000"), "{said}");
    assert!(
        said.contains(&format!("top {shown} (all there are; -k 100000 asked)")),
        "{said}"
    );
    let out = recsys(p, &["similar", "--model", m, "--item", "5", "-k", "1000"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("(all there are; -k 1000 asked)"),
        "{stdout}"
    );
}
