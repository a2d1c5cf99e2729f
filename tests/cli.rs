//! The `recsys` binary: doctor, data info, --json, and error messages.

use std::process::Command;

fn recsys(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_recsys"))
        .args(args)
        .env_remove("RECSYS_DEVICE")
        .output()
        .expect("recsys runs")
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

#[test]
fn doctor_reports_libtorch_and_data() {
    let v = json_of(&recsys(&["doctor", "--json"]));
    assert_eq!(v["torch"]["tch_version"], "0.24.0");
    assert!(
        v["torch"]["libtorch_version"]
            .as_str()
            .unwrap()
            .starts_with("2.11.0"),
        "{v}"
    );
    assert_eq!(v["data_ok"], true);
    assert_eq!(v["datasets"][0]["summary"]["rows"], 100_000);
    assert_eq!(v["datasets"][1]["summary"]["rows"], 100_836);
    let text = recsys(&["doctor"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("CUDA available"), "{stdout}");
}

#[test]
fn data_info_on_a_dataset_and_a_file() {
    let v = json_of(&recsys(&["data", "info", "ml-100k", "--json"]));
    assert_eq!(v["summary"]["users"], 943);
    assert_eq!(v["summary"]["items"], 1682);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.tsv");
    std::fs::write(&path, "7\t1\t4\t10\n8\t1\t2\t20\n").unwrap();
    let v = json_of(&recsys(&[
        "data",
        "info",
        path.to_str().unwrap(),
        "--no-header",
        "--json",
    ]));
    assert_eq!(v["summary"]["rows"], 2);
    assert_eq!(v["summary"]["last_timestamp"], 20);
}

#[test]
fn bad_input_gets_a_clear_error() {
    let out = recsys(&["data", "info", "/nonexistent/ratings.csv"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/ratings.csv"), "{err}");
    let out = recsys(&["--device", "tpu", "doctor"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--device \"tpu\""));
}

/// `--device` decides where a run goes, not only what it echoes: `cpu` runs there and says
/// so; `cuda` on a machine without CUDA stops with one line naming the flag (a CLI that
/// ignored the flag would run on the CPU and succeed), and on a machine with CUDA runs there.
#[test]
fn device_cpu_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    // One output folder per run, so a run that went ahead is not stopped by the first's files.
    let notebook = |device: &str| {
        let out_dir = dir.path().join(device);
        recsys(&[
            "--device",
            device,
            "--json",
            "--out",
            out_dir.to_str().unwrap(),
            "notebook",
            "000",
            "--epochs",
            "0",
            "--sampled-epochs",
            "0",
            "--no-neumf",
        ])
    };
    let v = json_of(&notebook("cpu"));
    assert_eq!(v["details"]["settings"]["device"], "cpu");
    assert_eq!(v["checks"][0]["status"], "exact");

    let has_cuda = json_of(&recsys(&["doctor", "--json"]))["torch"]["cuda_available"] == true;
    let out = notebook("cuda");
    if has_cuda {
        let v = json_of(&out);
        assert_eq!(v["details"]["settings"]["device"], "cuda:0");
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "--device cuda ran without CUDA: {err}"
        );
        assert!(
            err.contains("--device cuda") && err.contains("CUDA is not available"),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
}
