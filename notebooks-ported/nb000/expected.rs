//! What notebook 000 printed, the bands measured around its stochastic numbers, and the
//! [`Check`]s that set a run beside them.

use recsys::report::Check;

use super::outcome::Outcome;
use super::{Args, Mode, KS};

/// Notebook values and bands: each band is mean ± 3 sd of the port's own spread over seeds 0–19
/// (rounded outward to 3 decimals), measured with `recsys --device cpu --seed S --json notebook
/// 000 --no-neumf` for S = 0..19 (MF's draws come before NeuMF's, so its numbers are the same
/// with or without `--no-neumf`). Each entry's comment gives mean ± sd (min–max) over those 20
/// seeds and where the notebook's printed value, one draw of its unseeded run, falls: inside
/// every band, the farthest being trained (no sampling) Recall@30, 0.321 at −2.0 sd (the
/// notebook's own code over 12 seeds: 0.380 ± 0.032, REFERENCE.md). 26 test users, so recall
/// moves in steps of about 1/26. Table and per-seed values: docs/nb000.md.
///
/// What the bands can tell apart: with 26 test users the trained Recall bands are wide enough
/// to hold the untrained values too (a model that never learned passes them). The loss bands
/// are what separate trained from untrained: the last epoch's bands, (0.659, 0.792) and (1.038,
/// 1.098), are far below the loss of a model that does not learn, which stays near the first
/// epoch's. Tests: `a_model_that_never_learned_fails_the_loss_bands`, and
/// `trained_beats_untrained_over_several_seeds` for Recall@30 after training without sampling.
struct Published {
    quantity: &'static str,
    notebook: f64,
    band: (f64, f64),
}

/// The notebook's printed losses of "Train without sampling", epochs 1-20 (drawn over the
/// port's curve in faithful mode).
pub const NB_MF_UNSAMPLED_LOSSES: [f64; 20] = [
    1.8580522157925798,
    1.7605639855676345,
    1.6689885777214621,
    1.58399221989539,
    1.5054682094473606,
    1.4327366010838465,
    1.365114063665969,
    1.301935816899947,
    1.2424298995056535,
    1.1858883501461017,
    1.1316509076805308,
    1.0792415794314527,
    1.0284188995336874,
    0.979218807900179,
    0.9318551711666142,
    0.8866259280290952,
    0.8438032736280271,
    0.8035636928840015,
    0.7659687397161672,
    0.7309841856805622,
];

const RECALL_BANDS: [[Published; 3]; 3] = [
    [
        Published {
            quantity: "untrained Recall@5",
            notebook: 0.2076923076923077,
            // seeds 0–19: 0.195 ± 0.033 (0.138–0.277); notebook at +0.4 sd
            band: (0.094, 0.296),
        },
        Published {
            quantity: "untrained Recall@10",
            notebook: 0.2192307692307692,
            // seeds 0–19: 0.211 ± 0.028 (0.166–0.282); notebook at +0.3 sd
            band: (0.126, 0.297),
        },
        Published {
            quantity: "untrained Recall@30",
            notebook: 0.2918701492828226,
            // seeds 0–19: 0.299 ± 0.038 (0.240–0.379); notebook at -0.2 sd
            band: (0.183, 0.415),
        },
    ],
    [
        Published {
            quantity: "trained (no sampling) Recall@5",
            notebook: 0.22307692307692306,
            // seeds 0–19: 0.228 ± 0.040 (0.154–0.300); notebook at -0.1 sd
            band: (0.107, 0.350),
        },
        Published {
            quantity: "trained (no sampling) Recall@10",
            notebook: 0.22820512820512825,
            // seeds 0–19: 0.238 ± 0.033 (0.188–0.328); notebook at -0.3 sd
            band: (0.139, 0.337),
        },
        Published {
            quantity: "trained (no sampling) Recall@30",
            notebook: 0.32142323629990205,
            // seeds 0–19: 0.378 ± 0.029 (0.315–0.437); notebook at -2.0 sd
            band: (0.292, 0.465),
        },
    ],
    [
        Published {
            quantity: "trained (sampling) Recall@5",
            notebook: 0.2076923076923077,
            // seeds 0–19: 0.182 ± 0.036 (0.138–0.269); notebook at +0.7 sd
            band: (0.073, 0.290),
        },
        Published {
            quantity: "trained (sampling) Recall@10",
            notebook: 0.23461538461538464,
            // seeds 0–19: 0.193 ± 0.022 (0.154–0.243); notebook at +1.8 sd
            band: (0.126, 0.261),
        },
        Published {
            quantity: "trained (sampling) Recall@30",
            notebook: 0.33687505557289515,
            // seeds 0–19: 0.310 ± 0.030 (0.254–0.371); notebook at +0.9 sd
            band: (0.218, 0.401),
        },
    ],
];

const LOSS_BANDS: [Published; 4] = [
    Published {
        quantity: "avg loss after epoch 1 (no sampling)",
        notebook: 1.8580522157925798,
        // seeds 0–19: 1.851 ± 0.021 (1.814–1.885); notebook at +0.4 sd
        band: (1.787, 1.914),
    },
    Published {
        quantity: "avg loss after epoch 20 (no sampling)",
        notebook: 0.7309841856805622,
        // seeds 0–19: 0.726 ± 0.022 (0.678–0.755); notebook at +0.2 sd
        band: (0.659, 0.792),
    },
    Published {
        quantity: "avg loss after epoch 1 (sampling)",
        notebook: 1.8401469694075152,
        // seeds 0–19: 1.825 ± 0.016 (1.792–1.853); notebook at +0.9 sd
        band: (1.775, 1.875),
    },
    Published {
        quantity: "avg loss after epoch 10 (sampling)",
        notebook: 1.077807324660899,
        // seeds 0–19: 1.068 ± 0.010 (1.053–1.088); notebook at +1.0 sd
        band: (1.038, 1.098),
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
