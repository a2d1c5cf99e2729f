//! Notebook 001 in the registry: its reproduce flags, and what it shares with its twin
//! (`nb001.py`): the flags it follows and the numbers both report.

use std::collections::BTreeMap;

use recsys::report::Report;
use recsys::Context;

use super::outcome::Details;
use super::Args;
use crate::notebooks::registry::{named, Notebook, Numbers, Rule, Target, Twin};

/// Notebook 001, Data Science from Scratch's recommender systems.
pub struct Nb001;

const RULES: &[Rule] = &[
    ("epochs", true, Target::Both("--epochs")),
    ("prior-runs", true, Target::Both("--prior-runs")),
    ("corrected", false, Target::PortOnly),
    ("pca-top", true, Target::PortOnly),
    ("pca-min-ratings", true, Target::PortOnly),
    (
        "learning-rate",
        true,
        Target::Unsupported("the twin uses the notebook's learning rate 0.05"),
    ),
    (
        "lr-decay",
        true,
        Target::Unsupported("the twin uses the notebook's decay 0.9"),
    ),
    (
        "split-seed",
        true,
        Target::Unsupported("the twin uses the notebook's random.seed(0)"),
    ),
];

/// One epoch of the twin: the losses its bar shows and the passes' means.
#[derive(Debug, serde::Deserialize)]
pub struct TwinEpoch {
    pub train_shown: f64,
    pub train_mean: f64,
    pub validation_shown: f64,
    pub validation_mean: f64,
}

/// The twin's `--json`.
#[derive(Debug, serde::Deserialize)]
pub struct TwinJson {
    pub per_epoch: Vec<TwinEpoch>,
    /// `baseline_mse`, `test_shown`, `test_mean`.
    pub metrics: BTreeMap<String, Option<f64>>,
}

/// A named per-epoch series and how to read it from a row.
type Column<T> = (&'static str, fn(&T) -> f64);

/// The four per-epoch series both sides report, by name.
fn series<T>(rows: &[T], columns: [Column<T>; 4], into: &mut Numbers) {
    for (name, column) in columns {
        let values: Vec<f64> = rows.iter().map(column).collect();
        into.series(name, &values);
    }
}

impl Notebook for Nb001 {
    const ID: &'static str = "001";
    const TITLE: &'static str =
        "Data Science from Scratch: neighbourhood CF on toy interests, SGD MF on ml-100k.";
    const REPRODUCE_FLAGS: &'static [&'static str] = &[];
    const TWIN: Twin = Twin {
        script: "nb001.py",
        rules: RULES,
        data_dir_flag: Some("--data-dir"),
        mode_per_run: None,
    };
    type Args = Args;
    type Outcome = Details;
    type TwinJson = TwinJson;

    fn run(ctx: &Context, args: &Args) -> anyhow::Result<Report<Details>> {
        super::run(ctx, args)
    }

    fn numbers(d: &Details) -> Numbers {
        let mut n = Numbers::default();
        series(
            &d.epochs,
            [
                ("train_shown", |e| e.train_shown),
                ("train_mean", |e| e.train_mean),
                ("validation_shown", |e| e.validation_shown),
                ("validation_mean", |e| e.validation_mean),
            ],
            &mut n,
        );
        n.metric("baseline_mse", d.baseline_mse);
        n.metric("test_shown", d.test.shown);
        n.metric("test_mean", d.test.mean);
        n
    }

    fn twin_numbers(label: &str, twin: TwinJson, into: &mut Numbers) {
        series(
            &twin.per_epoch,
            [
                ("train_shown", |e| e.train_shown),
                ("train_mean", |e| e.train_mean),
                ("validation_shown", |e| e.validation_shown),
                ("validation_mean", |e| e.validation_mean),
            ],
            into,
        );
        for (name, value) in twin.metrics {
            into.metric(named(label, &name), value);
        }
    }
}
