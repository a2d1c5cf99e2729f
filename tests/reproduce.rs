//! `recsys reproduce`: the report, its JSON, and the output directory rules.

use std::process::Command;

fn recsys(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(args)
        .output()
        .expect("recsys runs")
}

#[test]
fn reproduce_001_matches_the_notebook_and_keeps_existing_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rep");
    let out_s = out.to_str().unwrap();
    let run = recsys(&["reproduce", "001", "--out", out_s, "--json"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["summary"]["differs"], 0, "{}", v["summary"]);
    assert!(v["summary"]["exact"].as_u64().unwrap() >= 20);
    // The notebook printed 0.76 for the epoch-20 train loss, outside the band measured over
    // seeds: counted apart, never as "within band".
    assert_eq!(v["summary"]["notebook_outside_band"], 1, "{}", v["summary"]);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| baseline MSE | 1.2609526646939684 | 1.2609526646939684 | exact |"));
    let row = md
        .lines()
        .find(|l| l.starts_with("| epoch 20 train avg loss | 0.76 |"))
        .expect("the epoch-20 train loss row");
    assert!(
        row.ends_with("| notebook outside band [0.765, 0.78] |"),
        "{row}"
    );
    assert!(md.contains(", 1 notebook outside band, 0 differ, "), "{md}");
    assert!(md.contains("\nnotebook outside band: this run is inside the band"));
    assert!(out.join("report.json").exists());

    let again = recsys(&["reproduce", "001", "--out", out_s]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let forced = recsys(&["reproduce", "001", "--out", out_s, "--force"]);
    assert!(forced.status.success());

    let bad = recsys(&[
        "reproduce",
        "007",
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown notebook \"007\""));
    assert!(
        !dir.path().join("x").exists(),
        "nothing created for a bad request"
    );
}

/// `--with-python` sets the twin beside the port: notebook 003 with both sides' default seed
/// (123) and faithful mode gives the same metrics and losses within 1e-5.
#[test]
fn reproduce_003_with_python_sets_the_twin_beside_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rep");
    let run = recsys(&[
        "reproduce",
        "003",
        "--with-python",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["twins"]["notebooks"], 1, "{}", v["twins"]);
    // The published Coverage@10 (0.191213) lies outside the band of ten seeds.
    assert_eq!(v["summary"]["notebook_outside_band"], 1, "{}", v["summary"]);
    let coverage = v["notebooks"][0]["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["quantity"] == "Coverage@10 (faithful)")
        .expect("Coverage@10 (faithful)");
    assert_eq!(coverage["status"], "notebook_outside_band", "{coverage}");
    assert_eq!(coverage["notebook"], "0.191213");
    let side = &v["notebooks"][0]["python"];
    assert_eq!(
        side["twin_args"],
        serde_json::json!([["--mode", "faithful"]])
    );
    assert!(side["unmatched"].as_array().unwrap().is_empty(), "{side}");
    assert_eq!(side["metrics"].as_array().unwrap().len(), 3, "{side}");
    assert!(side["max_loss_rel_diff"].as_f64().unwrap() < 1e-5, "{side}");
    assert!(
        side["max_metric_rel_diff"].as_f64().unwrap() < 1e-9,
        "{side}"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("Beside the PyTorch twin (same flags and seed)"));
    // One table per notebook: notebook | Rust | Python | status, the twin's value of each number
    // the port reports among its losses and metrics, `-` where the twin reports none.
    assert_eq!(
        md.matches("| quantity | notebook | Rust | Python | status |")
            .count(),
        1,
        "{md}"
    );
    assert!(
        !md.contains("| quantity | notebook | this run | status |"),
        "{md}"
    );
    let row: Vec<&str> = md
        .lines()
        .find(|l| l.starts_with("| Coverage@10 (faithful) |"))
        .expect("the Coverage row")
        .split(" | ")
        .collect();
    assert_eq!(row.len(), 5, "{row:?}");
    let (rust, python) = (
        row[2].parse::<f64>().unwrap(),
        row[3].parse::<f64>().unwrap(),
    );
    assert!((rust - python).abs() < 1e-6, "{row:?}");
    assert!(row[4].starts_with("notebook outside band"), "{row:?}");
    let train_size = md
        .lines()
        .find(|l| l.starts_with("| train size |"))
        .unwrap();
    assert_eq!(train_size, "| train size | 79999 | 79999 | - | exact |");
    assert!(md.contains("Beside the PyTorch twins: 1 notebook;"));
}

/// `reproduce` and `compare` run the same seed by default (each notebook's own), so 001's
/// epoch-1 train loss is the same number in both; and the twin's JSON is read with exact float
/// round trip, so `compare 001` finds every f64 bit equal (relative difference 0).
#[test]
fn reproduce_and_compare_001_share_the_seed_and_agree_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rep");
    let rep = recsys(&["reproduce", "001", "--out", out.to_str().unwrap(), "--json"]);
    assert!(
        rep.status.success(),
        "{}",
        String::from_utf8_lossy(&rep.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&rep.stdout).unwrap();
    let reproduced = v["notebooks"][0]["report"]["details"]["epochs"][0]["train_shown"]
        .as_f64()
        .unwrap();

    let cmp = recsys(&["compare", "001", "--json"]);
    assert!(
        cmp.status.success(),
        "{}",
        String::from_utf8_lossy(&cmp.stderr)
    );
    let c: serde_json::Value = serde_json::from_slice(&cmp.stdout).unwrap();
    let train = c["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "train_shown")
        .expect("train_shown");
    assert_eq!(train["epochs"][0]["rust"].as_f64().unwrap(), reproduced);
    assert_eq!(c["max_loss_rel_diff"], 0.0, "{}", c["models"]);
    assert_eq!(c["max_metric_rel_diff"], 0.0, "{}", c["metrics"]);
    assert_eq!(c["bit_for_bit"], true, "{}", c["identical"]);
    assert!(c["unmatched"].as_array().unwrap().is_empty());
}
