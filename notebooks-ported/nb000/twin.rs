//! Notebook 000 in the registry: its reproduce flags, and what it shares with its PyTorch twin
//! (`nb000.py`): the flags it follows and the numbers both report.

use std::collections::BTreeMap;

use recsys::eval::sampled::SampledMetrics;
use recsys::report::Report;
use recsys::Context;

use super::outcome::{Details, ModelRuns};
use super::Args;
use crate::notebooks::registry::{named, Notebook, Numbers, Rule, Target, Twin};

/// Notebook 000, "Recommender systems introduction".
pub struct Nb000;

const RULES: &[Rule] = &[
    ("epochs", true, Target::Both("--epochs")),
    ("sampled-epochs", true, Target::Both("--sampled-epochs")),
    ("batch-size", true, Target::Both("--batch-size")),
    ("lr", true, Target::Both("--lr")),
    ("factors", true, Target::Both("--factors")),
    ("utc-offset", true, Target::Both("--utc-offset")),
    ("split-date", true, Target::Both("--split-date")),
    ("corrected", false, Target::Both("--corrected")),
    ("no-neumf", false, Target::Both("--no-neumf")),
    ("threads", true, Target::Both("--threads")),
    // torch: torch.optim.Adam; libtorch: the C++ Adam's formula, as the port runs it.
    ("adam", true, Target::TwinOnly),
    (
        "compare-modes",
        false,
        Target::Unsupported("the twin runs one mode; compare with and without --corrected"),
    ),
    (
        "neumf-layers",
        true,
        Target::Unsupported("the twin's NeuMF has the notebook's 3 layers"),
    ),
];

/// One evaluation as the twin prints it: each metric at 5, 10 and 30.
#[derive(Debug, serde::Deserialize)]
pub struct TwinMetrics {
    pub recall: Vec<f64>,
    pub ndcg: Vec<f64>,
    pub hit_rate: Vec<f64>,
}

/// The twin's `--json`: printed losses per run (`mf_unsampled`, `neumf_sampled`, ...) and
/// evaluations per model and stage (`mf_untrained`, `mf_unsampled`, `mf_sampled`, ...).
#[derive(Debug, serde::Deserialize)]
pub struct TwinJson {
    pub epochs: BTreeMap<String, Vec<f64>>,
    pub metrics: BTreeMap<String, TwinMetrics>,
}

fn add_metrics(into: &mut Numbers, name: &str, ks: &[usize], m: [&[f64]; 3]) {
    for (metric, values) in ["recall", "ndcg", "hit_rate"].into_iter().zip(m) {
        for (k, x) in ks.iter().zip(values) {
            into.metric(format!("{name} {metric}@{k}"), *x);
        }
    }
}

impl Notebook for Nb000 {
    const ID: &'static str = "000";
    const TITLE: &'static str =
        "Recommender systems introduction: implicit MF with and without negative sampling, NeuMF.";
    const REPRODUCE_FLAGS: &'static [&'static str] = &[];
    const TWIN: Twin = Twin {
        script: "nb000.py",
        rules: RULES,
        data_dir_flag: None,
        mode_per_run: None,
    };
    type Args = Args;
    type Outcome = Details;
    type TwinJson = TwinJson;

    fn run(ctx: &Context, args: &Args) -> anyhow::Result<Report<Details>> {
        super::run(ctx, args)
    }

    /// The first mode's printed losses and evaluations, per model.
    fn numbers(details: &Details) -> Numbers {
        let mut n = Numbers::default();
        let Some(mode) = details.modes.first() else {
            return n;
        };
        let models: [(&str, Option<&ModelRuns>); 2] =
            [("mf", Some(&mode.mf)), ("neumf", mode.neumf.as_ref())];
        for (model, runs) in models {
            let Some(runs) = runs else { continue };
            n.series(
                format!("{model}_unsampled"),
                &runs.unsampled_training.printed,
            );
            n.series(format!("{model}_sampled"), &runs.sampled_training.printed);
            let stages: [(&str, &SampledMetrics); 3] = [
                ("untrained", &runs.untrained),
                ("unsampled", &runs.trained_unsampled),
                ("sampled", &runs.trained_sampled),
            ];
            for (key, m) in stages {
                let name = format!("{model}_{key}");
                add_metrics(&mut n, &name, &m.ks, [&m.recall, &m.ndcg, &m.hit_rate]);
            }
        }
        n
    }

    fn twin_numbers(label: &str, twin: TwinJson, into: &mut Numbers) {
        for (name, losses) in &twin.epochs {
            into.series(named(label, name), losses);
        }
        for (name, m) in &twin.metrics {
            let name = named(label, name);
            add_metrics(into, &name, &super::KS, [&m.recall, &m.ndcg, &m.hit_rate]);
        }
    }
}
