//! The evaluation protocols through the binary: the stratified and k-fold splits, a given
//! train/test file pair, a validation part carved from train, and MAP's two definitions. Known
//! answers are counted by hand from the split rules (see each test).

mod common;
use common::{json_of, ratings, recsys, write};
use std::path::{Path, PathBuf};

/// `recsys --seed 1 --json train DATA --epochs E --dim 4 [extra]`, its JSON.
fn train(dir: &Path, data: &str, epochs: &str, extra: &[&str]) -> (serde_json::Value, String) {
    let mut args = vec!["--seed", "1", "--json", "train", data, "--epochs", epochs];
    args.extend(["--dim", "4"]);
    args.extend(extra);
    let out = recsys(dir, &args);
    let v = json_of(&out);
    (v, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn rows(v: &serde_json::Value, part: &str) -> u64 {
    v["fingerprints"][part]["rows"].as_u64().unwrap()
}

fn scratch() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().to_path_buf();
    (d, p)
}

#[test]
fn stratified_split_gives_each_user_its_share() {
    let (_d, p) = scratch();
    let data = write(&p, "r.csv", &ratings(|u, i| format!("{u},{i}")));
    // every user has 12 ratings: round(0.75 * 12) = 9 to train, 3 to test, for all 40
    let extra = [
        "--model",
        "bilinear",
        "--split",
        "stratified",
        "--test-fraction",
        "0.25",
    ];
    let (v, err) = train(&p, &data, "1", &extra);
    assert_eq!((rows(&v, "train"), rows(&v, "test")), (360, 120), "{err}");
    assert!(
        err.contains("split     Stratified: train 360 rows"),
        "{err}"
    );
    // at 0.5 every user splits 6 / 6 (round(6.0) = 6)
    let extra = [
        "--model",
        "bilinear",
        "--split",
        "stratified",
        "--test-fraction",
        "0.5",
    ];
    let (v, _) = train(&p, &data, "1", &extra);
    assert_eq!((rows(&v, "train"), rows(&v, "test")), (240, 240));
}

#[test]
fn the_last_fold_is_the_random_split_of_the_same_seed() {
    let (_d, p) = scratch();
    // 480 rows: fold i of 5 is positions 96i..96(i+1) of one randperm, and the random split at
    // 0.2 puts positions int(0.8 * 480) = 384.. in test: the last fold, row for row
    let data = write(&p, "r.csv", &ratings(|u, i| format!("{u},{i}")));
    let bilinear = ["--model", "bilinear"];
    let (random, _) = train(&p, &data, "1", &bilinear);
    let mut test_rows = 0;
    let mut hashes = Vec::new();
    for fold in 0..5 {
        let f = fold.to_string();
        let extra = [
            "--model", "bilinear", "--split", "kfold", "--folds", "5", "--fold", &f,
        ];
        let (v, err) = train(&p, &data, "1", &extra);
        assert!(err.contains(&format!("Kfold (fold {fold} of 5)")), "{err}");
        assert_eq!((rows(&v, "train"), rows(&v, "test")), (384, 96));
        test_rows += rows(&v, "test");
        hashes.push(v["fingerprints"]["test"]["hash"].clone());
    }
    assert_eq!(test_rows, 480);
    hashes.sort_by_key(|h| h.to_string());
    hashes.dedup();
    assert_eq!(hashes.len(), 5, "five different test folds");
    let (last, _) = train(
        &p,
        &data,
        "1",
        &["--model", "bilinear", "--split", "kfold", "--fold", "4"],
    );
    assert_eq!(last["fingerprints"]["test"], random["fingerprints"]["test"]);
    assert_eq!(
        last["fingerprints"]["train"],
        random["fingerprints"]["train"]
    );
}

#[test]
fn a_given_test_file_is_used_as_is() {
    let (_d, p) = scratch();
    let all = ratings(|u, i| format!("u{u},m{i}"));
    let mut lines = all.lines();
    let header = lines.next().unwrap();
    // each user's first 10 rows train, the last 2 test; then one test row of a user and one of
    // an item that train never saw
    let (mut train_text, mut test_text) = (format!("{header}\n"), format!("{header}\n"));
    let mut train_items = std::collections::HashSet::new();
    let mut test_items = Vec::new();
    for (n, line) in lines.enumerate() {
        let item = line.split(',').nth(1).unwrap().to_string();
        if n % 12 < 10 {
            train_text += &format!("{line}\n");
            train_items.insert(item);
        } else {
            test_text += &format!("{line}\n");
            test_items.push(item);
        }
    }
    test_text.push_str("u99,m1,4,5\nu1,m99,4,5\n");
    let known = test_items
        .iter()
        .filter(|i| train_items.contains(*i))
        .count() as u64;
    let train_file = write(&p, "train.csv", &train_text);
    let test_file = write(&p, "test.csv", &test_text);
    let extra = ["--model", "bilinear", "--test-file", &test_file];
    let (v, err) = train(&p, &train_file, "1", &extra);
    assert_eq!((rows(&v, "train"), rows(&v, "test")), (400, known), "{err}");
    let dropped = 80 + 2 - known;
    assert!(
        err.contains(&format!("test      {dropped} rows of")),
        "{err}"
    );
    assert!(err.contains("split     test file"), "{err}");
}

#[test]
fn validation_is_carved_from_train_and_reported_each_epoch() {
    let (_d, p) = scratch();
    let data = write(&p, "r.csv", &ratings(|u, i| format!("{u},{i}")));
    // random: int(0.8 * 480) = 384 train, then int(0.75 * 384) = 288 train, 96 validation
    let extra = ["--model", "bilinear", "--validation-fraction", "0.25"];
    let (v, err) = train(&p, &data, "2", &extra);
    assert_eq!(rows(&v, "train"), 288, "{err}");
    assert_eq!(rows(&v, "validation"), 96);
    assert_eq!(rows(&v, "test"), 96);
    let epochs: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("validation RMSE"))
        .collect();
    assert_eq!(epochs.len(), 2, "{err}");
    // last-n: each user's last interaction of train is validation, whatever the fraction
    let extra = [
        "--split",
        "last-n",
        "--validation-fraction",
        "0.5",
        "--threshold",
        "0",
    ];
    let (v, err) = train(&p, &data, "1", &extra);
    assert_eq!(
        (rows(&v, "test"), rows(&v, "validation")),
        (40, 40),
        "{err}"
    );
    assert!(err.contains("validation NDCG@10"), "{err}");
    // without the flag, no validation part and no validation line
    let (v, err) = train(&p, &data, "1", &["--model", "bilinear"]);
    assert!(v["fingerprints"].get("validation").is_none());
    assert!(!err.contains("validation"), "{err}");
}

#[test]
fn map_names_its_definition_and_gives_the_other() {
    let (_d, p) = scratch();
    // one user, 3 relevant items, k = 2, one hit at rank 1: RePlay 1 / min(2, 3) = 0.5,
    // ranx 1 / 3
    let recs = write(&p, "recs.csv", "user_id,item_id\n1,10\n1,11\n");
    let truth = write(&p, "truth.csv", "user_id,item_id\n1,10\n1,20\n1,21\n");
    let base = ["evaluate", "--recs", &recs, "--truth", &truth, "-k", "2"];
    let out = recsys(&p, &base);
    let err = String::from_utf8_lossy(&out.stdout);
    assert!(
        err.contains("MAP@2        0.500000  (RePlay: / min(k,|rel|))"),
        "{err}"
    );
    let mut args = base.to_vec();
    args.extend(["--map-denominator", "rel", "--json"]);
    let out = recsys(&p, &args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains("MAP@2        0.333333  (ranx: / |rel|)"),
        "{err}"
    );
    let v = json_of(&out);
    assert_eq!(v["map"].as_f64().unwrap(), 0.5);
    assert_eq!(v["map_rel"].as_f64().unwrap(), 1.0 / 3.0);
    assert_eq!(v["map_definition"], "ranx: / |rel|");
}
