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
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| baseline MSE | 1.2609526646939684 | 1.2609526646939684 | exact |"));
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
    assert!(md.contains("Beside the PyTorch twins: 1 notebook;"));
}
