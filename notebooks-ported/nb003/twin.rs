//! Notebook 003 in the registry: its reproduce flags, and what it shares with its twin
//! (`nb003.py`, run once per mode): the flags it follows and the numbers both report.

use recsys::report::Report;
use recsys::Context;

use super::outcome::{Details, Metrics};
use super::Args;
use crate::notebooks::registry::{named, Notebook, Numbers, Rule, Target, Twin};

/// Notebook 003, the two-tower DSSM.
pub struct Nb003;

const RULES: &[Rule] = &[
    ("mode", true, Target::Both("--mode")),
    ("batch-size", true, Target::Both("--batch-size")),
    ("lr", true, Target::Both("--lr")),
    ("epochs", true, Target::Both("--epochs")),
    ("negatives", true, Target::Both("--negatives")),
    // which ids the negatives come from (`distinct` or `all-items`): the twin has the same flag
    ("negatives-over", true, Target::Both("--negatives-over")),
    ("k", true, Target::Both("--k")),
    ("threads", true, Target::Both("--threads")),
    (
        "emb-dim",
        true,
        Target::Unsupported("the twin's towers have dimension 16"),
    ),
];

/// The twin's `--json` for one mode: `[train loss, test loss]` per epoch, and the metrics.
#[derive(Debug, serde::Deserialize)]
pub struct TwinJson {
    pub epochs: Vec<[f64; 2]>,
    pub metrics: TwinMetrics,
}

/// NDCG@k, HitRate@k and Coverage@k as the twin reports them.
#[derive(Debug, serde::Deserialize)]
pub struct TwinMetrics {
    pub ndcg: f64,
    pub hit_rate: f64,
    pub coverage: f64,
}

fn add_metrics(into: &mut Numbers, label: &str, [ndcg, hit_rate, coverage]: [f64; 3]) {
    into.metric(named(label, "coverage"), coverage);
    into.metric(named(label, "hit_rate"), hit_rate);
    into.metric(named(label, "ndcg"), ndcg);
}

impl Notebook for Nb003 {
    const ID: &'static str = "003";
    const TITLE: &'static str =
        "Two-tower DSSM with RePlay-style preprocessing and NDCG/HitRate/Coverage@10.";
    const REPRODUCE_FLAGS: &'static [&'static str] = &["--mode", "faithful"];
    const TWIN: Twin = Twin {
        script: "nb003.py",
        rules: RULES,
        data_dir_flag: None,
        mode_per_run: Some(("mode", &["faithful", "corrected"])),
    };
    type Args = Args;
    type Outcome = Details;
    type TwinJson = TwinJson;

    fn run(ctx: &Context, args: &Args) -> anyhow::Result<Report<Details>> {
        super::run(ctx, args)
    }

    fn numbers(d: &Details) -> Numbers {
        let mut n = Numbers::default();
        for (mode, run) in &d.modes {
            n.series(format!("{mode} train"), &run.train_loss);
            n.series(format!("{mode} test"), &run.test_loss);
            let Metrics {
                ndcg,
                hit_rate,
                coverage,
            } = run.metrics;
            add_metrics(&mut n, mode, [ndcg, hit_rate, coverage]);
        }
        n
    }

    fn twin_numbers(label: &str, twin: TwinJson, into: &mut Numbers) {
        let column = |j: usize| -> Vec<f64> { twin.epochs.iter().map(|e| e[j]).collect() };
        into.series(named(label, "train"), &column(0));
        into.series(named(label, "test"), &column(1));
        let m = &twin.metrics;
        add_metrics(into, label, [m.ndcg, m.hit_rate, m.coverage]);
    }
}
