//! What notebook 000 printed, the bands measured around its stochastic numbers, and the
//! [`Check`]s that set a run beside them.

use recsys::report::Check;

use super::outcome::Outcome;
use super::{Args, Mode, KS};

/// Notebook values and bands around 5 measured seeds (mean ± max(3 sd, 0.1) for recall, whose
/// steps are 1/26 with 26 test users; mean ± 3 sd for losses; see the README, notebook 000).
///
/// What the bands can tell apart: with 26 test users the trained Recall bands are wide enough
/// to hold the untrained values too (a model that never learned passes them). The loss bands
/// are what separate trained from untrained: the last epoch's bands, (0.66, 0.79) and (1.02,
/// 1.11), are far below the loss of a model that does not learn, which stays near the first
/// epoch's. Tests: `a_model_that_never_learned_fails_the_loss_bands`, and
/// `trained_beats_untrained_over_several_seeds` for Recall@30 after training without sampling.
struct Published {
    quantity: &'static str,
    notebook: f64,
    band: (f64, f64),
}

const RECALL_BANDS: [[Published; 3]; 3] = [
    [
        Published {
            quantity: "untrained Recall@5",
            notebook: 0.2076923076923077,
            band: (0.08, 0.35),
        },
        Published {
            quantity: "untrained Recall@10",
            notebook: 0.2192307692307692,
            band: (0.07, 0.37),
        },
        Published {
            quantity: "untrained Recall@30",
            notebook: 0.2918701492828226,
            band: (0.17, 0.45),
        },
    ],
    [
        Published {
            quantity: "trained (no sampling) Recall@5",
            notebook: 0.22307692307692306,
            band: (0.12, 0.34),
        },
        Published {
            quantity: "trained (no sampling) Recall@10",
            notebook: 0.22820512820512825,
            band: (0.13, 0.35),
        },
        Published {
            quantity: "trained (no sampling) Recall@30",
            notebook: 0.32142323629990205,
            band: (0.28, 0.48),
        },
    ],
    [
        Published {
            quantity: "trained (sampling) Recall@5",
            notebook: 0.2076923076923077,
            band: (0.07, 0.28),
        },
        Published {
            quantity: "trained (sampling) Recall@10",
            notebook: 0.23461538461538464,
            band: (0.08, 0.29),
        },
        Published {
            quantity: "trained (sampling) Recall@30",
            notebook: 0.33687505557289515,
            band: (0.19, 0.40),
        },
    ],
];

const LOSS_BANDS: [Published; 4] = [
    Published {
        quantity: "avg loss after epoch 1 (no sampling)",
        notebook: 1.8580522157925798,
        band: (1.77, 1.93),
    },
    Published {
        quantity: "avg loss after epoch 20 (no sampling)",
        notebook: 0.7309841856805622,
        band: (0.66, 0.79),
    },
    Published {
        quantity: "avg loss after epoch 1 (sampling)",
        notebook: 1.8401469694075152,
        band: (1.75, 1.89),
    },
    Published {
        quantity: "avg loss after epoch 10 (sampling)",
        notebook: 1.077807324660899,
        band: (1.02, 1.11),
    },
];

/// The rows of `reproduce`'s table for one mode: the notebook's printed numbers beside this
/// run's, exact where deterministic, within the measured bands where not.
pub fn checks(args: &Args, o: &Outcome) -> Vec<Check> {
    let d = &o.data;
    let faithful = o.mode == Mode::Faithful;
    let exact_or_info = |q: &str, notebook: &str, ours: String| {
        if faithful {
            Check::exact(q, notebook, ours)
        } else {
            Check::info(format!("{q} (corrected)"), ours)
        }
    };
    let mut c = vec![
        Check::exact(
            "ratings shape, interactions shape",
            "((100836, 6), (61716, 6))",
            format!("{:?}", (d.ratings_shape, d.interactions_shape)),
        ),
        Check::exact(
            "interactions users, movies",
            "(609, 7363)",
            format!("{:?}", (d.interaction_users, d.interaction_items)),
        ),
        exact_or_info(
            "train max datetime",
            "1970-01-17 23:59:44.741000",
            d.train_max_datetime.clone(),
        ),
        Check::exact("train rows", 51431, d.train_rows),
        exact_or_info(
            "test min datetime",
            "1970-01-18 00:04:28.014000",
            d.test_min_datetime.clone(),
        ),
        Check::exact("test rows", 10285, d.test_rows),
        Check::exact(
            "n_users, n_items",
            "(532, 6236)",
            format!("{:?}", (d.n_users, d.n_items)),
        ),
        Check::exact("test rows after merge", 803, d.test_rows_kept),
        Check::exact("test users", 26, d.test_users),
    ];
    if args.batch_size == 64 {
        c.push(Check::exact(
            "batches per epoch (no sampling)",
            804,
            d.batches_unsampled,
        ));
        c.push(Check::exact(
            "batches per epoch (sampling)",
            1608,
            d.batches_sampled,
        ));
    }
    let notebook_settings = args.epochs == 20
        && args.sampled_epochs == 10
        && args.batch_size == 64
        && args.factors == 20
        && args.lr == 1e-3
        && faithful;
    let stages = [
        &o.mf.untrained,
        &o.mf.trained_unsampled,
        &o.mf.trained_sampled,
    ];
    for (stage, published) in stages.iter().zip(&RECALL_BANDS) {
        for (k, p) in KS.iter().zip(published) {
            let ours = stage.recall_at(*k).unwrap_or(f64::NAN);
            c.push(if notebook_settings {
                Check::band(p.quantity, p.notebook, ours, p.band, 3)
            } else {
                Check::info(
                    format!("MF {} ({})", p.quantity, o.mode.name()),
                    format!("{ours:.3}"),
                )
            });
        }
    }
    let losses = [
        o.mf.unsampled_training.printed.first(),
        o.mf.unsampled_training.printed.last(),
        o.mf.sampled_training.printed.first(),
        o.mf.sampled_training.printed.last(),
    ];
    // Outside the notebook's settings, the epochs are named by this run's counts.
    let epoch_names = [
        "avg loss after epoch 1 (no sampling)".to_string(),
        format!("avg loss after epoch {} (no sampling)", args.epochs),
        "avg loss after epoch 1 (sampling)".to_string(),
        format!("avg loss after epoch {} (sampling)", args.sampled_epochs),
    ];
    for ((loss, p), name) in losses.iter().zip(&LOSS_BANDS).zip(&epoch_names) {
        let ours = loss.copied().unwrap_or(f64::NAN);
        c.push(if notebook_settings {
            Check::band(p.quantity, p.notebook, ours, p.band, 3)
        } else {
            Check::info(
                format!("MF {name} ({})", o.mode.name()),
                format!("{ours:.3}"),
            )
        });
    }
    if let Some(n) = &o.neumf {
        let stages = [
            ("untrained", &n.untrained),
            ("trained (no sampling)", &n.trained_unsampled),
            ("trained (sampling)", &n.trained_sampled),
        ];
        for (name, m) in stages {
            for k in KS {
                let v = m.recall_at(k).unwrap_or(f64::NAN);
                c.push(Check::info(
                    format!("NeuMF {name} Recall@{k} ({})", o.mode.name()),
                    format!("{v:.3}"),
                ));
            }
        }
    }
    let mut runs = vec![
        ("MF", &o.mf.unsampled_training),
        ("MF sampled", &o.mf.sampled_training),
    ];
    if let Some(n) = &o.neumf {
        runs.push(("NeuMF", &n.unsampled_training));
        runs.push(("NeuMF sampled", &n.sampled_training));
    }
    for (name, log) in runs {
        c.push(Check::info(
            format!("{name} training steps/s ({})", o.mode.name()),
            format!("{:.0}", log.steps_per_s),
        ));
    }
    c
}
