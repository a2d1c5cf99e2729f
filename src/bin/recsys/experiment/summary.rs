//! The experiment's table: mean ± sd over seeds per model and metric, the best of each column,
//! the paired test of the best model against each other, and Kendall's tau between the full
//! and the sampled protocol's orders of the models. Also its files: CSV, markdown and a plot.

use std::fmt::Write as _;

use anyhow::Result;
use serde::Serialize;
use serde_json::{json, Value};

use super::run::{Plan, Run};
use recsys::eval::comparison::{
    compare_pairs, holm, kendall_tau_b_test, paired_values, PairUnit, PairedComparison, SeedValues,
};
use recsys::eval::stats;
use recsys::recommender::settings::describe;
use recsys::recommender::Task;
use recsys::runtime::context::Context;
use recsys::say;

/// Mean, sample standard deviation and 95% confidence interval of the mean over seeds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stat {
    pub mean: f64,
    pub sd: f64,
    /// `None` with a single seed.
    pub ci95: Option<(f64, f64)>,
}

impl Stat {
    fn of(values: &[f64]) -> Stat {
        Stat {
            mean: stats::mean(values),
            sd: if values.len() > 1 {
                stats::sample_sd(values)
            } else {
                0.0
            },
            ci95: stats::confidence_interval(values, 0.95).ok(),
        }
    }
}

/// The best model against another on the primary metric. The unit of a pair is a test user
/// (its values averaged over the seeds) when every seed has the same test users, else a seed
/// (each model's mean over that seed's users): pairs are never pooled over (seed, user), which
/// would count a deterministic split's repeats as new evidence.
#[derive(Debug, Clone, Serialize)]
pub struct PairedTest {
    /// What one pair stands for, and how many there are.
    pub unit: String,
    /// Pairs compared.
    pub pairs: usize,
    /// Mean of (best − this), in the primary metric's units, signed so that a positive value
    /// favours the best model.
    pub mean_difference: f64,
    /// Two-sided p-value of the Wilcoxon signed-rank test; `None` when every difference is zero.
    pub wilcoxon_p: Option<f64>,
    /// The Wilcoxon p-value Holm-adjusted over the comparisons with the best model.
    pub wilcoxon_p_holm: Option<f64>,
    /// Two-sided p-value of the paired t-test; `None` when the differences are all equal.
    pub t_test_p: Option<f64>,
    /// The t-test's p-value Holm-adjusted over the comparisons with the best model.
    pub t_test_p_holm: Option<f64>,
}

/// Kendall's tau-b between the models' orders by the full and by the sampled protocol.
#[derive(Debug, Clone, Serialize)]
pub struct OrderAgreement {
    pub tau: f64,
    /// Two-sided p-value (exact for small n without ties, as scipy's `kendalltau`).
    pub p_value: f64,
    /// The models from best to worst by each protocol.
    pub full_order: Vec<String>,
    pub sampled_order: Vec<String>,
}

/// One model's line of the table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub model: String,
    /// One per column of [`Summary::columns`].
    pub metrics: Vec<Stat>,
    pub fit_s: Stat,
    pub predict_s: Stat,
    /// The settings --grid chose, per seed.
    pub tuned: Vec<Value>,
    /// The settings it ran with (every default filled in), per seed.
    pub config: Vec<Value>,
    /// Against the best model (None for the best itself).
    pub versus_best: Option<PairedTest>,
}

/// The whole table.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub task: Task,
    pub columns: Vec<String>,
    /// Whether a higher value is better, per column.
    pub higher_is_better: Vec<bool>,
    pub rows: Vec<Row>,
    /// Index of the best row per column.
    pub best: Vec<usize>,
    /// Kendall's tau-b between the models' orders by full and by sampled NDCG (ranking with
    /// the sampled protocol and at least three models).
    pub kendall_full_vs_sampled: Option<OrderAgreement>,
    /// Per run (model × seed), as measured.
    pub runs: Vec<Run>,
}

impl Summary {
    /// Aggregate `runs` (model-major within each seed, as [`super::run::run`] makes them).
    pub fn new(plan: &Plan, runs: &[Run]) -> Result<Summary> {
        let columns: Vec<String> = runs[0].metrics.iter().map(|(n, _)| n.clone()).collect();
        let higher_is_better: Vec<bool> = columns
            .iter()
            .map(|c| !(c.starts_with("RMSE") || c.starts_with("MAE")))
            .collect();
        let models: Vec<String> = plan
            .contenders
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let of = |m: &str| {
            let m = m.to_string();
            runs.iter().filter(move |r| r.model == m)
        };
        let mut rows: Vec<Row> = models
            .iter()
            .map(|m| Row {
                model: m.clone(),
                metrics: (0..columns.len())
                    .map(|j| Stat::of(&of(m).map(|r| r.metrics[j].1).collect::<Vec<_>>()))
                    .collect(),
                fit_s: Stat::of(&of(m).map(|r| r.fit_s).collect::<Vec<_>>()),
                predict_s: Stat::of(&of(m).map(|r| r.predict_s).collect::<Vec<_>>()),
                tuned: of(m).map(|r| r.tuned.clone()).collect(),
                config: of(m).map(|r| r.config.clone()).collect(),
                versus_best: None,
            })
            .collect();
        let best: Vec<usize> = (0..columns.len())
            .map(|j| {
                let sign = if higher_is_better[j] { 1.0 } else { -1.0 };
                (0..rows.len())
                    .max_by(|&a, &b| {
                        (sign * rows[a].metrics[j].mean)
                            .total_cmp(&(sign * rows[b].metrics[j].mean))
                    })
                    .unwrap_or(0)
            })
            .collect();
        let leader = &models[best[0]];
        let seeds_of = |m: &str| -> Vec<SeedValues> { of(m).map(|r| r.per_user.clone()).collect() };
        let lead = seeds_of(leader);
        let sign = plan.task.sign();
        let mut tests: Vec<(usize, PairedComparison)> = vec![];
        for (i, row) in rows.iter().enumerate().filter(|(_, r)| &r.model != leader) {
            // signed so that a positive difference favours the best model
            let signed = |v: Vec<SeedValues>| -> Vec<SeedValues> {
                v.into_iter()
                    .map(|s| s.into_iter().map(|(u, x)| (u, sign * x)).collect())
                    .collect()
            };
            let pairs = paired_values(&signed(lead.clone()), &signed(seeds_of(&row.model)))?;
            tests.push((i, compare_pairs(&pairs)));
        }
        let adjust = |p: Vec<Option<f64>>| -> Result<Vec<Option<f64>>> {
            let given: Vec<f64> = p.iter().flatten().copied().collect();
            let mut adjusted = holm(&given)?.into_iter();
            Ok(p.iter().map(|x| x.and_then(|_| adjusted.next())).collect())
        };
        let wilcoxon: Vec<Option<f64>> = tests
            .iter()
            .map(|(_, t)| t.wilcoxon.as_ref().map(|w| w.p_value))
            .collect();
        let t_test: Vec<Option<f64>> = tests
            .iter()
            .map(|(_, t)| t.t_test.as_ref().map(|w| w.p_value))
            .collect();
        let (wilcoxon_holm, t_holm) = (adjust(wilcoxon.clone())?, adjust(t_test.clone())?);
        for (j, (i, t)) in tests.iter().enumerate() {
            let unit = match t.unit {
                PairUnit::User => {
                    format!("test user (n = {}, averaged over {} seed(s))", t.n, t.seeds)
                }
                PairUnit::Seed => format!(
                    "seed (n = {}, each model's mean over the seed's users)",
                    t.n
                ),
            };
            rows[*i].versus_best = Some(PairedTest {
                unit,
                pairs: t.n,
                mean_difference: t.mean_difference,
                wilcoxon_p: wilcoxon[j],
                wilcoxon_p_holm: wilcoxon_holm[j],
                t_test_p: t_test[j],
                t_test_p_holm: t_holm[j],
            });
        }
        let sampled = columns.iter().position(|c| c.starts_with("sampled NDCG"));
        let kendall = match sampled {
            Some(s) if rows.len() >= 3 => {
                let full: Vec<f64> = rows.iter().map(|r| r.metrics[0].mean).collect();
                let samp: Vec<f64> = rows.iter().map(|r| r.metrics[s].mean).collect();
                let order = |v: &[f64]| -> Vec<String> {
                    let mut idx: Vec<usize> = (0..v.len()).collect();
                    idx.sort_by(|&a, &b| v[b].total_cmp(&v[a]));
                    idx.into_iter().map(|i| rows[i].model.clone()).collect()
                };
                let test = kendall_tau_b_test(&full, &samp)?;
                Some(OrderAgreement {
                    tau: test.statistic,
                    p_value: test.p_value,
                    full_order: order(&full),
                    sampled_order: order(&samp),
                })
            }
            _ => None,
        };
        Ok(Summary {
            task: plan.task,
            columns,
            higher_is_better,
            rows,
            best,
            kendall_full_vs_sampled: kendall,
            runs: runs.to_vec(),
        })
    }

    /// The table as markdown: `mean ± sd` per cell, the best of each column in bold.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = write!(s, "| model |");
        for c in &self.columns {
            let _ = write!(s, " {c} |");
        }
        let _ = writeln!(s, " fit s | predict s | vs best (Wilcoxon p, Holm) |");
        let _ = writeln!(s, "|---|{}---|---|---|", "---|".repeat(self.columns.len()));
        for (i, r) in self.rows.iter().enumerate() {
            let _ = write!(s, "| {} |", r.model);
            for (j, m) in r.metrics.iter().enumerate() {
                let cell = format!("{:.4} ± {:.4}", m.mean, m.sd);
                if m.mean.is_nan() {
                    let _ = write!(s, " n/a |");
                } else if self.best[j] == i {
                    let _ = write!(s, " **{cell}** |");
                } else {
                    let _ = write!(s, " {cell} |");
                }
            }
            let _ = writeln!(
                s,
                " {:.2} | {:.2} | {} |",
                r.fit_s.mean,
                r.predict_s.mean,
                versus(r)
            );
        }
        s
    }

    /// Print the table and its notes for people.
    pub fn print(&self, ctx: &Context) {
        let width = 17;
        let mut header = format!("{:<12}", "model");
        for c in &self.columns {
            let _ = write!(header, " {c:>width$}");
        }
        let _ = write!(header, " {:>8} {:>9}  vs best", "fit s", "predict s");
        say!(ctx, "{header}");
        for (i, r) in self.rows.iter().enumerate() {
            let mut line = format!("{:<12}", r.model);
            for (j, m) in r.metrics.iter().enumerate() {
                let mark = if self.best[j] == i { "*" } else { " " };
                let cell = if m.mean.is_nan() {
                    "n/a ".to_string()
                } else {
                    format!("{:.4}±{:.4}{mark}", m.mean, m.sd)
                };
                let _ = write!(line, " {cell:>width$}");
            }
            let _ = write!(
                line,
                " {:>8.2} {:>9.2}  {}",
                r.fit_s.mean,
                r.predict_s.mean,
                versus(r)
            );
            say!(ctx, "{line}");
        }
        for note in self.notes() {
            say!(ctx, "{note}");
        }
    }

    /// What the marks and tests mean, and what the runs chose.
    pub fn notes(&self) -> Vec<String> {
        let unit = self
            .rows
            .iter()
            .find_map(|r| r.versus_best.as_ref().map(|t| t.unit.clone()))
            .unwrap_or_else(|| "none (one model)".into());
        let mut notes = vec![format!(
            "mean ± sd over {} seed(s); * best of the column; vs best: the best {} model by {} \
             against each other, two-sided Wilcoxon signed-rank p, Holm-adjusted over the {} \
             comparison(s) (raw and adjusted, with the paired t-test's, in --json); one pair per {unit}",
            self.runs.len() / self.rows.len().max(1),
            self.task.name(),
            self.columns[0],
            self.rows.len().saturating_sub(1)
        )];
        if self.columns.iter().any(|c| c.starts_with("MAP@")) {
            notes.push("MAP@k divides by min(k, |relevant|) (RePlay's definition)".into());
        }
        if self.columns.iter().any(|c| c.ends_with("/rel")) {
            notes.push(
                "MAP@k /rel divides by |relevant| (ranx's, and Microsoft Recommenders' map)".into(),
            );
        }
        if self.columns.iter().any(|c| c == "AUC") {
            notes.push(
                "AUC and MAP (no cut-off) are Cornac's, over each test user's candidates: the test \
                 items against every item that is neither a train nor a test item of the user; \
                 a tie counts against the test item"
                    .into(),
            );
        }
        if self
            .rows
            .iter()
            .any(|r| r.metrics.iter().any(|m| m.mean.is_nan()))
        {
            notes.push(
                "n/a: a ranking model predicts no rating, so its rating columns stay empty \
                 (Cornac fills them with its ranking scores taken as ratings)"
                    .into(),
            );
        }
        if self.columns.iter().any(|c| c.ends_with("(per user)")) {
            notes.push(
                "RMSE and MAE (per user) average each test user's own error over the users \
                 (Cornac's user_based=True); RMSE and MAE weigh every test rating alike"
                    .into(),
            );
        }
        if let Some(k) = &self.kendall_full_vs_sampled {
            notes.push(format!(
                "Kendall's tau between the models' orders by full and by sampled NDCG: {:.3}, p = {:.3} \
                 (1: same order; below 1: the sampled protocol reorders models); full: {}; sampled: {}",
                k.tau,
                k.p_value,
                k.full_order.join(" > "),
                k.sampled_order.join(" > ")
            ));
        }
        for r in &self.rows {
            let empty = |t: &Value| t.as_object().is_none_or(|o| o.is_empty());
            if r.tuned.iter().any(|t| !empty(t)) {
                let chosen: Vec<String> = r.tuned.iter().map(describe).collect();
                notes.push(format!(
                    "{}: --grid chose {} (per seed)",
                    r.model,
                    chosen.join("; ")
                ));
            }
        }
        notes
    }

    /// The `--json` result.
    pub fn to_json(&self, plan: &Plan, published: Option<Value>) -> Value {
        json!({
            "data": plan.spec.data,
            "protocol": plan.protocol,
            "seeds": plan.seeds,
            "k": plan.k,
            "summary": self,
            "published": published,
        })
    }
}

/// The "vs best" cell of a row.
fn versus(r: &Row) -> String {
    match &r.versus_best {
        None => "best".into(),
        Some(PairedTest {
            wilcoxon_p_holm: Some(p),
            ..
        }) if *p > 0.0 => format!("p={p:.2e}"),
        Some(PairedTest {
            wilcoxon_p_holm: Some(_),
            ..
        }) => "p<1e-300".into(),
        Some(_) => "tie".into(),
    }
}
