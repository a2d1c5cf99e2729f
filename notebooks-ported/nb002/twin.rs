//! Notebook 002 in the registry: its reproduce flags, and what it shares with its twin
//! (`nb002.py`): the flags it follows and the numbers both report.

use std::collections::BTreeMap;

use recsys::report::Report;
use recsys::Context;

use super::outcome::Details;
use super::Args;
use crate::notebooks::registry::{named, Notebook, Numbers, Rule, Target, Twin};

/// Notebook 002, the Spotlight homework.
pub struct Nb002;

const RULES: &[Rule] = &[
    ("part", true, Target::Both("--part")),
    ("seq-epochs", true, Target::Both("--seq-epochs")),
    ("models", true, Target::PortOnly),
    ("threads", true, Target::PortOnly),
    (
        "seeds",
        true,
        Target::Unsupported("compare runs one seed; pass --seed"),
    ),
    (
        "quick",
        false,
        Target::Unsupported("the twin has no --quick; use --seq-epochs and --part"),
    ),
];

/// The twin's `--json`: the explicit model's losses, the other models' losses by name, and
/// the metrics by name.
#[derive(Debug, serde::Deserialize)]
pub struct TwinJson {
    pub epochs: Vec<f64>,
    pub losses: BTreeMap<String, Vec<f64>>,
    pub metrics: BTreeMap<String, Option<f64>>,
}

impl Notebook for Nb002 {
    const ID: &'static str = "002";
    const TITLE: &'static str =
        "Spotlight homework: explicit factorization and implicit sequence models on ml-100k.";
    const REPRODUCE_FLAGS: &'static [&'static str] = &[];
    const TWIN: Twin = Twin {
        script: "nb002.py",
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

    /// The first seed's run.
    fn numbers(d: &Details) -> Numbers {
        let mut n = Numbers::default();
        let Some(run) = d.runs.first() else { return n };
        if let Some(p1) = &run.part1 {
            n.series("explicit", &p1.spotlight_losses);
            n.metric("rmse", p1.rmse);
            n.metric("baseline_rmse", p1.baseline_rmse);
            n.metric("cf_test_rmse_wd0.001", p1.cf_test_rmse.last().copied());
            n.metric("cf_test_rmse_wd0.0", p1.cf_no_wd_test_rmse.last().copied());
        }
        if let Some(p2) = &run.part2 {
            n.metric("train_sequences", p2.train_sequences as f64);
            n.metric("test_sequences", p2.test_sequences as f64);
            n.metric("most_popular", p2.most_popular);
            n.metric("softmax_popularity", p2.softmax_popularity);
            n.metric("pooling_lrap", p2.lrap_pooling);
            for m in &p2.models {
                n.series(m.model.clone(), &m.losses);
                n.metric(format!("{}_mrr", m.model), m.mrr);
            }
        }
        n
    }

    fn twin_numbers(label: &str, twin: TwinJson, into: &mut Numbers) {
        for (name, value) in twin.metrics {
            into.metric(named(label, &name), value);
        }
        if !twin.epochs.is_empty() {
            into.series("explicit", &twin.epochs);
        }
        // Left out on purpose (the parity page's "Not compared"): the weight-decay exercise's
        // per-epoch mean batch MSE (`cf_wd*`); the port reports per-epoch RMSEs instead, and
        // only the final test RMSEs are compared. Any other name the port lacks is unmatched.
        let compared = twin.losses.iter().filter(|(n, _)| !n.starts_with("cf_wd"));
        for (name, losses) in compared {
            into.series(name.clone(), losses);
        }
    }
}
