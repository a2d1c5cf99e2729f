//! Other libraries' published tables, and the protocols that made them, so that one command
//! sets their numbers beside ours.
//!
//! - `surprise-ml100k`: Surprise's README table (ml-100k, 5-fold cross-validation, RMSE and
//!   MAE, each algorithm with its default settings).
//! - `msrec-ml100k`: Microsoft Recommenders' README table (ml-100k, the per-item stratified
//!   75/25 split of their benchmark notebook, `python_stratified_split(df, ratio=0.75,
//!   filter_by="item")`, every rating a positive, top-10, seen items removed), with their BPR
//!   row's settings: Cornac's `BPR(k=200, max_iter=200, learning_rate=0.01, lambda_reg=1e-3,
//!   seed=42)`.

use anyhow::{bail, Result};
use serde_json::{json, Value};

use super::summary::Summary;
use recsys::classic::surprise_benchmark::{self as replay, RowErrors};
use recsys::classic::surprise_folds::{kfold, parse_raw_ratings};
use recsys::runtime::context::Context;
use recsys::say;

/// A published table and the protocol it was measured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    SurpriseMl100k,
    MsrecMl100k,
}

/// One published row: our model's name, the row's name there, the metric values in the
/// preset's metric order, and how ours relates to theirs.
struct Published {
    ours: &'static str,
    theirs: &'static str,
    values: &'static [f64],
    /// `Some(tolerance)` when ours implements the same algorithm (the status then says whether
    /// every metric lands within it); `None` with the reason when it cannot match.
    same: Result<f64, &'static str>,
}

const SURPRISE: [Published; 5] = [
    Published {
        ours: "svd",
        theirs: "SVD",
        values: &[0.934, 0.737],
        same: Ok(0.01),
    },
    Published {
        ours: "baseline",
        theirs: "BaselineOnly",
        values: &[0.944, 0.748],
        same: Ok(0.01),
    },
    Published {
        ours: "knn-basic",
        theirs: "k-NN",
        values: &[0.980, 0.774],
        same: Ok(0.01),
    },
    Published {
        ours: "nmf",
        theirs: "NMF",
        values: &[0.963, 0.758],
        same: Ok(0.01),
    },
    Published {
        ours: "normal",
        theirs: "Random",
        values: &[1.518, 1.219],
        same: Ok(0.02),
    },
];

const MSREC: [Published; 2] = [
    Published {
        ours: "bpr",
        theirs: "BPR (Cornac)",
        values: &[0.1325, 0.4420, 0.3882, 0.2125],
        same: Ok(0.03),
    },
    Published {
        ours: "als",
        theirs: "ALS (Spark)",
        values: &[0.0047, 0.0442, 0.0485, 0.0178],
        same: Err("Spark's ALS there fits the explicit ratings (rank 10); ours is implicit ALS on confidence weights, a different model"),
    },
];

impl Preset {
    /// Parse a `--preset` name.
    pub fn parse(name: &str) -> Result<Preset> {
        Ok(match name {
            "surprise-ml100k" => Preset::SurpriseMl100k,
            "msrec-ml100k" => Preset::MsrecMl100k,
            other => bail!("--preset {other:?}: choose surprise-ml100k or msrec-ml100k"),
        })
    }

    /// The `--preset` name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::SurpriseMl100k => "surprise-ml100k",
            Preset::MsrecMl100k => "msrec-ml100k",
        }
    }

    fn table(self) -> &'static [Published] {
        match self {
            Preset::SurpriseMl100k => &SURPRISE,
            Preset::MsrecMl100k => &MSREC,
        }
    }

    /// The models it compares.
    pub fn models(self) -> Vec<String> {
        let mut m: Vec<String> = self.table().iter().map(|p| p.ours.to_string()).collect();
        if self == Preset::MsrecMl100k {
            m.extend(["pop", "ease", "item-knn"].map(String::from));
        }
        m
    }

    /// The protocol's name.
    pub fn protocol(self) -> &'static str {
        match self {
            Preset::SurpriseMl100k => "kfold",
            Preset::MsrecMl100k => "stratified-item",
        }
    }

    /// The settings the published row ran `model` with (`--set` still overrides them); an
    /// empty object for the defaults.
    pub fn settings(self, model: &str) -> Value {
        match (self, model) {
            // Cornac's BPR(k=200, max_iter=200, learning_rate=0.01, lambda_reg=1e-3)
            (Preset::MsrecMl100k, "bpr") => json!({
                "factors": 200,
                "epochs": 200,
                "lr": 0.01,
                "regularization": 1e-3,
            }),
            _ => json!({}),
        }
    }

    /// Seeds (folds) the protocol fixes, if any.
    pub fn seeds(self) -> Option<usize> {
        match self {
            Preset::SurpriseMl100k => Some(5),
            Preset::MsrecMl100k => None,
        }
    }

    /// Test share the protocol fixes, if any.
    pub fn test_fraction(self) -> Option<f64> {
        match self {
            Preset::SurpriseMl100k => None,
            Preset::MsrecMl100k => Some(0.25),
        }
    }

    /// Ranking positives: Microsoft Recommenders counts every rating.
    pub fn threshold(self) -> Option<f64> {
        match self {
            Preset::SurpriseMl100k => None,
            Preset::MsrecMl100k => Some(0.0),
        }
    }

    /// The list length.
    pub fn k(self) -> usize {
        10
    }

    /// The metric columns of the published table, as our table names them.
    fn metrics(self) -> &'static [&'static str] {
        match self {
            Preset::SurpriseMl100k => &["RMSE", "MAE"],
            Preset::MsrecMl100k => &["MAP@10 /rel", "NDCG@10", "Precision@10", "Recall@10"],
        }
    }
}

/// Surprise's table replayed on the shipped ml-100k and set against Surprise's own numbers:
/// printed, and returned as JSON rows (or the error, which does not stop the experiment).
pub fn surprise_replay(ctx: &Context) -> Value {
    let run = || -> anyhow::Result<Vec<(RowErrors, RowErrors, String)>> {
        let (_, bytes) = recsys::data::shipped::FILES
            .iter()
            .find(|(name, _)| *name == "ml-100k/u.data")
            .ok_or_else(|| anyhow::anyhow!("the shipped ml-100k has no u.data"))?;
        let text = std::str::from_utf8(bytes)?;
        let ratings = parse_raw_ratings(text, std::path::Path::new("ml-100k/u.data"))?;
        let folds = kfold(&ratings, 5, 0)?;
        let ours = replay::run(&folds, &replay::ROWS)?;
        let theirs = replay::reference()?;
        Ok(ours
            .into_iter()
            .zip(theirs)
            .map(|(o, t)| {
                let status = replay::status(&o, &t);
                (o, t, status)
            })
            .collect())
    };
    say!(ctx, "");
    say!(
        ctx,
        "Surprise's table replayed (its KFold(random_state=0) folds and numpy draws) beside \
         Surprise 1.1.5's own run of examples/benchmark.py on ml-100k"
    );
    match run() {
        Ok(rows) => {
            say!(
                ctx,
                "{:<28} {:>8} {:>8} {:>8} {:>8}  status",
                "row",
                "RMSE",
                "theirs",
                "MAE",
                "theirs"
            );
            let mut out = Vec::new();
            for (o, t, status) in rows {
                say!(
                    ctx,
                    "{:<28} {:>8.4} {:>8.4} {:>8.4} {:>8.4}  {status}",
                    o.row,
                    o.rmse,
                    t.rmse,
                    o.mae,
                    t.mae
                );
                out.push(json!({
                    "row": o.row, "rmse": o.rmse, "mae": o.mae,
                    "rmse_folds": o.rmse_folds, "mae_folds": o.mae_folds,
                    "surprise_rmse": t.rmse, "surprise_mae": t.mae, "status": status,
                }));
            }
            Value::Array(out)
        }
        Err(e) => {
            say!(ctx, "the replay failed: {e:#}");
            json!({ "error": format!("{e:#}") })
        }
    }
}

/// Print the published table beside ours, with a status per row, and return it as JSON.
pub fn compare(ctx: &Context, preset: Preset, ours: &Summary) -> Value {
    say!(ctx, "");
    say!(ctx, "published table beside this run ({preset:?})");
    let metrics = preset.metrics();
    let mut rows = Vec::new();
    for p in preset.table() {
        let Some(row) = ours.rows.iter().find(|r| r.model == p.ours) else {
            continue;
        };
        let mine: Vec<f64> = metrics
            .iter()
            .map(|m| {
                ours.columns
                    .iter()
                    .position(|c| c == m)
                    .map_or(f64::NAN, |j| row.metrics[j].mean)
            })
            .collect();
        let status = match p.same {
            Ok(tol) if mine.iter().zip(p.values).all(|(a, b)| (a - b).abs() <= tol) => {
                format!("within {tol}")
            }
            Ok(tol) => format!("differs by more than {tol}"),
            Err(why) => format!("not comparable: {why}"),
        };
        let cells: Vec<String> = metrics
            .iter()
            .zip(p.values.iter().zip(&mine))
            .map(|(m, (t, o))| format!("{m} {t:.4} vs {o:.4}"))
            .collect();
        say!(
            ctx,
            "{:<14} {:<10} {}  [{status}]",
            p.theirs,
            p.ours,
            cells.join("  ")
        );
        rows.push(json!({
            "theirs": p.theirs, "ours": p.ours, "metrics": metrics,
            "published": p.values, "this_run": mine, "status": status,
        }));
    }
    let mut out = json!({ "preset": format!("{preset:?}"), "rows": rows });
    if preset == Preset::SurpriseMl100k {
        out["surprise_replay"] = surprise_replay(ctx);
    }
    out
}
