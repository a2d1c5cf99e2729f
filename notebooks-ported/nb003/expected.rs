//! What notebook 003 published, the bands measured around it, and the [`Check`]s that set a
//! run beside them; with the typed outcome they go into the report.

use std::collections::BTreeMap;

use recsys::report::{Check, Report};

use super::outcome::{Details, Metrics, ModeRun, Settings};
use super::study::Study;
use super::{Args, NegativesOver, Trained};

/// Published metrics of the notebook: NDCG@10, HitRate@10, Coverage@10.
pub const PUBLISHED: [f64; 3] = [0.0345152, 0.221053, 0.191213];

/// Mean and sd of the faithful NDCG@10, HitRate@10, Coverage@10 over seeds 1-10 at the default
/// settings (batch 256, Adam 0.01, 30 epochs), negatives over all 1616 items (the default):
/// `scripts/nb003-negatives.py --seeds 1-10 --settings 256:0.01`.
pub const SPREAD_ALL_ITEMS: [(f64, f64); 3] = [(0.0295, 0.012), (0.164, 0.052), (0.247, 0.011)];

/// The same for negatives over the 637 distinct test items (`--negatives-over distinct`).
pub const SPREAD_DISTINCT: [(f64, f64); 3] = [(0.0235, 0.0074), (0.145, 0.028), (0.183, 0.0074)];

/// The band of a figure: its seeds' mean ± 3 sd, not below 0.
pub fn band((mean, sd): (f64, f64)) -> (f64, f64) {
    ((mean - 3.0 * sd).max(0.0), mean + 3.0 * sd)
}

/// How many sds of the spread `published` lies from its mean.
pub fn sds_away(published: f64, (mean, sd): (f64, f64)) -> f64 {
    (published - mean) / sd
}

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
    // the compared numbers' names (`Nb003::numbers`), for the twin's beside each row
    let keys = ["ndcg", "hit_rate", "coverage"];
    // Bands: mean ± 3 sd over seeds 1-10 at the default settings, for the reading in use
    let spread = match args.negatives_over {
        NegativesOver::AllItems => SPREAD_ALL_ITEMS,
        NegativesOver::Distinct => SPREAD_DISTINCT,
    };
    let default_settings =
        args.batch_size == 256 && args.lr == 1e-2 && args.epochs == 30 && k == 10;
    for (corrected, t) in runs {
        for (j, name) in names.iter().enumerate() {
            if *corrected || !default_settings {
                let mode = if *corrected { "corrected" } else { "faithful" };
                checks.push(
                    Check::info(format!("{name} ({mode})"), format!("{:.6}", t.metrics[j]))
                        .metric_of(format!("{mode} {}", keys[j])),
                );
            } else {
                checks.push(
                    Check::band(
                        format!("{name} (faithful)"),
                        PUBLISHED[j],
                        t.metrics[j],
                        band(spread[j]),
                        6,
                    )
                    .metric_of(format!("faithful {}", keys[j])),
                );
                checks.push(Check::info(
                    format!(
                        "{name} (faithful): seeds 1-10, --negatives-over {}",
                        args.negatives_over.name()
                    ),
                    format!(
                        "{:.4} ± {:.4}; published {:+.1} sd away",
                        spread[j].0,
                        spread[j].1,
                        sds_away(PUBLISHED[j], spread[j])
                    ),
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
                final_train_loss: t.train_losses.last().copied().unwrap_or(f64::NAN),
                final_test_loss: t.test_losses.last().copied().unwrap_or(f64::NAN),
                metrics: metrics(&t.metrics),
                negative_range: t.negative_range,
                scores: t.scores.clone(),
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
                negatives_over: args.negatives_over,
                emb_dim: args.emb_dim,
                k,
                seed,
            },
            modes,
            popularity: metrics(&pop),
            transcript: Vec::new(),
        },
    }
}
