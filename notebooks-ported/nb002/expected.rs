//! What notebook 002 printed, the bands measured around its stochastic numbers, and the
//! [`Check`]s that set a run beside them.

use recsys::data::interactions::Interactions;
use recsys::report::{Check, Report, Status};

use super::mean;
use super::outcome::{Details, SeedRun};

/// The notebook's printed numbers.
pub mod notebook {
    pub const RMSE: f64 = 0.9924;
    pub const BASELINE_RMSE: f64 = 1.1218;
    pub const TRAIN_SEQUENCES: usize = 8249;
    pub const TEST_SEQUENCES: usize = 2190;
    pub const POOLING_MRR: f64 = 0.0416;
    pub const MOST_POPULAR: f64 = 0.0079;
    pub const SOFTMAX_POPULARITY: f64 = 0.0248;
}

/// Bands for the stochastic numbers, from `recsys notebook 002 --seeds 5` (see the README, notebook 002),
/// widened a little; the RMSE bands are the issue's.
pub mod bands {
    pub const RMSE: (f64, f64) = (0.97, 1.01);
    pub const BASELINE_RMSE: (f64, f64) = (1.11, 1.14);
    pub const POOLING_MRR: (f64, f64) = (0.038, 0.052);
    pub const MOST_POPULAR: (f64, f64) = (0.004, 0.012);
    pub const SOFTMAX_POPULARITY: (f64, f64) = (0.021, 0.031);
}

/// How far LRAP may be from MRR and still be "the same number": LRAP is computed on float32
/// softmax probabilities, MRR on the scores; the notebook printed them 1.3e-16 apart.
pub const LRAP_IS_MRR_TOL: f64 = 1e-6;

/// The LRAP row: the notebook's LRAP beside this run's, `info` when this run's LRAP equals its
/// MRR (within [`LRAP_IS_MRR_TOL`]), DIFFERS when not or when there is no MRR to set it beside.
pub fn lrap_row(quantity: String, lrap: f64, mrr: Option<f64>) -> Check {
    let same = mrr.is_some_and(|m| (lrap - m).abs() <= LRAP_IS_MRR_TOL);
    Check {
        quantity,
        notebook: format!("{:.4}", notebook::POOLING_MRR),
        this_run: format!("{lrap:.4}"),
        status: if same {
            Status::Info
        } else {
            Status::Differs { band: None }
        },
        number: None,
    }
}

/// The report: the notebook's numbers beside the runs' (averaged over seeds).
pub fn report(dataset: &Interactions, runs: Vec<SeedRun>) -> Report<Details> {
    let mut checks = vec![Check::exact(
        "dataset",
        "<Interactions dataset (944 users x 1683 items x 100000 interactions)>",
        dataset,
    )];
    let avg = |f: &dyn Fn(&SeedRun) -> Option<f64>| {
        let v: Vec<f64> = runs.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| mean(&v))
    };
    let n = runs.len();
    // a row of one run names its compared number (`Nb002::numbers`), for the twin's beside it
    let one_run = |check: Check, name: &str| {
        if n == 1 {
            check.metric_of(name)
        } else {
            check
        }
    };
    let label = |q: &str| {
        if n > 1 {
            format!("{q} (mean of {n} seeds)")
        } else {
            q.to_string()
        }
    };
    if let Some(p) = runs[0].part1.as_ref() {
        checks.push(Check::exact(
            "train / test interactions",
            "80000 / 20000",
            format!("{} / {}", p.n_train, p.n_test),
        ));
        let rmse = avg(&|r| r.part1.as_ref().map(|p| p.rmse)).unwrap_or(f64::NAN);
        checks.push(one_run(
            Check::band(
                label("ExplicitFactorizationModel test RMSE"),
                notebook::RMSE,
                rmse,
                bands::RMSE,
                4,
            ),
            "rmse",
        ));
        let base = avg(&|r| r.part1.as_ref().map(|p| p.baseline_rmse)).unwrap_or(f64::NAN);
        checks.push(one_run(
            Check::band(
                label("mean-rating baseline RMSE"),
                notebook::BASELINE_RMSE,
                base,
                bands::BASELINE_RMSE,
                4,
            ),
            "baseline_rmse",
        ));
        let last = |v: &[f64]| v.last().copied().unwrap_or(f64::NAN);
        checks.push(Check::info(
            "exercise test RMSE, weight decay 1e-3",
            format!("{:.4}", last(&p.cf_test_rmse)),
        ));
        checks.push(Check::info(
            "exercise test RMSE, no weight decay",
            format!("{:.4}", last(&p.cf_no_wd_test_rmse)),
        ));
    }
    if let Some(p) = runs[0].part2.as_ref() {
        checks.push(Check::exact(
            "sequences, train + test (each user's windows stay on one side)",
            notebook::TRAIN_SEQUENCES + notebook::TEST_SEQUENCES,
            p.train_sequences + p.test_sequences,
        ));
        checks.push(Check::info(
            "train / test sequences (notebook: 8249 / 2190, depends on the hash seed)",
            format!("{} / {}", p.train_sequences, p.test_sequences),
        ));
        let mrr = |name: &'static str| {
            avg(&|r| {
                r.part2
                    .as_ref()?
                    .models
                    .iter()
                    .find(|m| m.model == name)
                    .map(|m| m.mrr)
            })
        };
        if let Some(m) = mrr("pooling") {
            checks.push(one_run(
                Check::band(
                    label("pooling MRR"),
                    notebook::POOLING_MRR,
                    m,
                    bands::POOLING_MRR,
                    4,
                ),
                "pooling_mrr",
            ));
        }
        // LRAP is MRR here (one relevant item per sample): setting it against the MRR band
        // again would count one number twice. Its row checks the identity instead: `info`
        // when LRAP equals this run's MRR, DIFFERS when it does not.
        let lrap = avg(&|r| r.part2.as_ref().map(|p| p.lrap_pooling)).unwrap_or(f64::NAN);
        checks.push(one_run(
            lrap_row(
                label("pooling LRAP (= MRR; not banded again)"),
                lrap,
                mrr("pooling"),
            ),
            "pooling_lrap",
        ));
        let mp = avg(&|r| r.part2.as_ref().map(|p| p.most_popular)).unwrap_or(f64::NAN);
        checks.push(one_run(
            Check::band(
                label("most-popular baseline"),
                notebook::MOST_POPULAR,
                mp,
                bands::MOST_POPULAR,
                4,
            ),
            "most_popular",
        ));
        let sp = avg(&|r| r.part2.as_ref().map(|p| p.softmax_popularity)).unwrap_or(f64::NAN);
        checks.push(one_run(
            Check::band(
                label("softmax-popularity baseline"),
                notebook::SOFTMAX_POPULARITY,
                sp,
                bands::SOFTMAX_POPULARITY,
                4,
            ),
            "softmax_popularity",
        ));
        for name in ["cbow", "gru", "lstm"] {
            if let Some(m) = mrr(name) {
                let verdict = if m >= 0.04 { "meets" } else { "misses" };
                checks.push(Check::info(
                    label(&format!("{name} MRR (exercise goal >= 0.04)")),
                    format!("{m:.4} ({verdict} the goal)"),
                ));
            }
        }
    }
    Report {
        notebook: "002".into(),
        checks,
        details: Details {
            runs,
            transcript: Vec::new(),
        },
    }
}
