//! Notebook 004 in the registry: its reproduce flags, and what it shares with its twin
//! (`nb004.py`): the flags it follows and the numbers both report.

use recsys::models::recommender_net::Evaluation;
use recsys::report::Report;
use recsys::Context;

use super::outcome::Details;
use super::Args;
use crate::notebooks::registry::{Notebook, Numbers, Rule, Target, Twin};

/// Notebook 004, dense-matrix MF and RecommenderNet.
pub struct Nb004;

const RULES: &[Rule] = &[
    ("mf-epochs", true, Target::Both("--mf-epochs")),
    ("mode", true, Target::Both("--mode")),
    ("holdout", true, Target::Both("--holdout")),
    ("epochs", true, Target::Both("--epochs")),
    ("batch-size", true, Target::Both("--batch-size")),
    ("threads", true, Target::Both("--threads")),
    // torch: torch.optim.Adam; libtorch: the C++ Adam's formula, as the port runs it.
    ("adam", true, Target::TwinOnly),
];

/// An evaluation as the twin reports it.
#[derive(Debug, serde::Deserialize)]
pub struct TwinEval {
    pub average_loss: Option<f64>,
    pub accuracy: Option<f64>,
}

/// One mode's RecommenderNet run in the twin.
#[derive(Debug, serde::Deserialize)]
pub struct TwinRun {
    pub losses: Vec<f64>,
    pub train_eval: TwinEval,
    pub holdout_eval: Option<TwinEval>,
}

/// The twin's numbers: part 1's losses, part 2's runs by mode.
#[derive(Debug, serde::Deserialize)]
pub struct TwinMetrics {
    pub part1_losses: Vec<f64>,
    pub part1_corrected_losses: Vec<f64>,
    pub faithful: Option<TwinRun>,
    pub corrected: Option<TwinRun>,
}

/// The twin's `--json`.
#[derive(Debug, serde::Deserialize)]
pub struct TwinJson {
    pub metrics: TwinMetrics,
}

/// `<mode> average_loss`, `<mode> accuracy` and the held-out ones, where reported.
fn add_evals(into: &mut Numbers, mode: &str, evals: [Option<(Option<f64>, Option<f64>)>; 2]) {
    for (eval, prefix) in evals.into_iter().zip(["", "holdout "]) {
        if let Some((average_loss, accuracy)) = eval {
            into.metric(format!("{mode} {prefix}average_loss"), average_loss);
            into.metric(format!("{mode} {prefix}accuracy"), accuracy);
        }
    }
}

fn port_eval(e: &Evaluation) -> (Option<f64>, Option<f64>) {
    (Some(e.average_loss), Some(e.accuracy))
}

fn twin_eval(e: &TwinEval) -> (Option<f64>, Option<f64>) {
    (e.average_loss, e.accuracy)
}

impl Notebook for Nb004 {
    const ID: &'static str = "004";
    const TITLE: &'static str = "Dense-matrix MF with SGD, then the deep RecommenderNet.";
    const REPRODUCE_FLAGS: &'static [&'static str] = &["--mode", "faithful"];
    const TWIN: Twin = Twin {
        script: "nb004.py",
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

    fn numbers(d: &Details) -> Numbers {
        let mut n = Numbers::default();
        n.series("mf", &d.part1.faithful_losses);
        n.series("mf corrected", &d.part1.corrected_losses);
        if let Some(f) = &d.part2.faithful {
            n.series("faithful", &f.training.last_batch_losses);
            add_evals(&mut n, "faithful", [Some(port_eval(&f.train_eval)), None]);
        }
        if let Some(c) = &d.part2.corrected {
            n.series("corrected", &c.training.last_batch_losses);
            let holdout = c.holdout_eval.as_ref().map(port_eval);
            add_evals(
                &mut n,
                "corrected",
                [Some(port_eval(&c.train_eval)), holdout],
            );
        }
        n
    }

    fn twin_numbers(_label: &str, twin: TwinJson, into: &mut Numbers) {
        let m = twin.metrics;
        into.series("mf", &m.part1_losses);
        into.series("mf corrected", &m.part1_corrected_losses);
        for (mode, run) in [("faithful", &m.faithful), ("corrected", &m.corrected)] {
            let Some(run) = run else { continue };
            into.series(mode, &run.losses);
            let holdout = run.holdout_eval.as_ref().map(twin_eval);
            add_evals(into, mode, [Some(twin_eval(&run.train_eval)), holdout]);
        }
    }
}
