//! What notebook 003 published, the bands measured around it, and the [`Check`]s that set a
//! run beside them; with the typed outcome they go into the report.

use std::collections::BTreeMap;

use recsys::report::{Check, Report};

use super::outcome::{Details, Metrics, ModeRun, Settings};
use super::study::Study;
use super::{Args, Trained};

/// Published metrics of the notebook: NDCG@10, HitRate@10, Coverage@10.
pub const PUBLISHED: [f64; 3] = [0.0345152, 0.221053, 0.191213];

/// The report of a run: the checks, then the typed outcome.
pub fn report(
    args: &Args,
    study: &Study,
    runs: &[(bool, Trained)],
    pop: [f64; 3],
    seed: u64,
) -> Report<Details> {
    let s = &study.sizes;
    let k = args.k;
    // The report
    let mut checks = vec![
        Check::exact(
            "ratings after MinCountFilter(20)",
            100000,
            s.after_min_count,
        ),
        Check::exact("train size", 79999, s.train),
        Check::exact("test size", 20001, s.test),
        Check::exact("user tower Embedding(n, 16)", 751, study.users.len()),
        Check::exact("item tower Embedding(n, 16)", 1616, study.items.len()),
        Check::exact("test rows without cold users/items", 2864, s.test_warm),
        Check::exact(
            "test users without cold users/items",
            107,
            s.test_warm_users,
        ),
        Check::exact("test rows after LowRatingFilter(4)", 1571, s.test_filtered),
        Check::exact(
            "test users after LowRatingFilter(4)",
            95,
            s.test_filtered_users,
        ),
    ];
    let names = ["NDCG@10", "HitRate@10", "Coverage@10"];
    // Bands: a margin around seeds 1-5 and 123 at the default settings (the README, notebook 003).
    let faithful_bands = [(0.015, 0.07), (0.10, 0.26), (0.20, 0.31)];
    let default_settings =
        args.batch_size == 256 && args.lr == 1e-2 && args.epochs == 30 && k == 10;
    for (corrected, t) in runs {
        for (j, name) in names.iter().enumerate() {
            if *corrected || !default_settings {
                let mode = if *corrected { "corrected" } else { "faithful" };
                checks.push(Check::info(
                    format!("{name} ({mode})"),
                    format!("{:.6}", t.metrics[j]),
                ));
            } else {
                checks.push(Check::band(
                    format!("{name} (faithful)"),
                    PUBLISHED[j],
                    t.metrics[j],
                    faithful_bands[j],
                    6,
                ));
            }
        }
    }
    for (j, name) in names.iter().enumerate() {
        checks.push(Check::info(
            format!("{name} (popularity)"),
            format!("{:.6}", pop[j]),
        ));
    }
    let metrics = |m: &[f64; 3]| Metrics {
        ndcg: m[0],
        hit_rate: m[1],
        coverage: m[2],
    };
    let modes: BTreeMap<String, ModeRun> = runs
        .iter()
        .map(|(corrected, t)| {
            let name = if *corrected { "corrected" } else { "faithful" };
            let run = ModeRun {
                train_loss: t.train_losses.clone(),
                test_loss: t.test_losses.clone(),
                metrics: metrics(&t.metrics),
                wall_s: t.wall_s,
                steps_per_s: t.steps_per_s,
            };
            (name.to_string(), run)
        })
        .collect();
    Report {
        notebook: "003".into(),
        checks,
        details: Details {
            sizes: s.clone(),
            settings: Settings {
                batch_size: args.batch_size,
                lr: args.lr,
                epochs: args.epochs,
                negatives: args.negatives,
                emb_dim: args.emb_dim,
                k,
                seed,
            },
            modes,
            popularity: metrics(&pop),
        },
    }
}
