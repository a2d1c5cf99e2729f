//! `recsys experiment ml-100k,ml-latest-small,FILE …`: the same models on several datasets, each
//! its own experiment (its table, tests and files in `--out/<dataset>/`), then the models'
//! mean rank across the datasets by the primary metric with Friedman's test, as benchmark
//! papers report them (Demšar, "Statistical Comparisons of Classifiers over Multiple Data
//! Sets", JMLR 2006): within each dataset the models are ranked 1 (best) to k by the primary
//! metric's mean over the seeds; the ranks are averaged over the datasets; Friedman's
//! chi-squared asks whether the mean ranks differ more than chance would make them.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Result};
use serde::Serialize;
use serde_json::{json, Value};

use super::summary::Summary;
use recsys::eval::comparison::{friedman, mean_ranks, Friedman};
use recsys::runtime::context::Context;
use recsys::say;

/// The datasets of a comma-separated data argument (one name when there is no comma, or when
/// the whole argument names an existing file).
pub fn names(data: &str) -> Vec<String> {
    if !data.contains(',') || Path::new(data).is_file() {
        return vec![data.to_string()];
    }
    data.split(',').map(|s| s.trim().to_string()).collect()
}

/// The folder of `--out` a dataset's files go into: its name with path separators and dots
/// replaced (`ml-100k`, `ratings_csv`).
pub fn folder(data: &str) -> String {
    let base = Path::new(data)
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or(data);
    base.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The models' standing across the datasets.
#[derive(Debug, Clone, Serialize)]
pub struct Across {
    /// The primary metric the models are ranked by.
    pub metric: String,
    pub higher_is_better: bool,
    pub datasets: Vec<String>,
    pub models: Vec<String>,
    /// The primary metric's mean over the seeds, per dataset (row) and model (column).
    pub values: Vec<Vec<f64>>,
    /// Each model's rank averaged over the datasets, 1 the best.
    pub mean_ranks: Vec<f64>,
    /// Friedman's test (at least 3 models and 2 datasets; else why not, in `friedman_note`).
    pub friedman: Option<Friedman>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub friedman_note: Option<String>,
}

impl Across {
    /// The standing of the models of `tables` (one per dataset, the same models in the same
    /// order) by their first column.
    pub fn new(datasets: &[String], tables: &[Summary]) -> Result<Across> {
        let first = &tables[0];
        let models: Vec<String> = first.rows.iter().map(|r| r.model.clone()).collect();
        for (d, t) in datasets.iter().zip(tables) {
            if t.columns[0] != first.columns[0] {
                bail!(
                    "{d}: its primary metric is {}, {}'s is {}; the datasets cannot be ranked together",
                    t.columns[0],
                    datasets[0],
                    first.columns[0]
                );
            }
        }
        let values: Vec<Vec<f64>> = tables
            .iter()
            .map(|t| t.rows.iter().map(|r| r.metrics[0].mean).collect())
            .collect();
        let higher = first.higher_is_better[0];
        let (friedman, friedman_note) = match friedman(&values, higher) {
            Ok(f) => (Some(f), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Ok(Across {
            metric: first.columns[0].clone(),
            higher_is_better: higher,
            datasets: datasets.to_vec(),
            models,
            mean_ranks: mean_ranks(&values, higher)?,
            values,
            friedman,
            friedman_note,
        })
    }

    /// The standing as markdown: one line per model, its value on each dataset and its mean
    /// rank, best first, then Friedman's test in a sentence.
    pub fn markdown(&self) -> String {
        let mut s = format!("| model | {} | mean rank |\n", self.datasets.join(" | "));
        let _ = writeln!(s, "|---|{}---|", "---|".repeat(self.datasets.len()));
        for m in self.order() {
            let cells = self.cells(m);
            let _ = writeln!(
                s,
                "| {} | {} | {:.2} |",
                self.models[m],
                cells.join(" | "),
                self.mean_ranks[m]
            );
        }
        let _ = writeln!(s, "\n{}", self.sentence());
        s
    }

    /// Model `m`'s value on each dataset, to 4 decimals.
    fn cells(&self, m: usize) -> Vec<String> {
        self.values
            .iter()
            .map(|row| format!("{:.4}", row[m]))
            .collect()
    }

    /// The model indices by mean rank, best first.
    fn order(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.models.len()).collect();
        idx.sort_by(|&a, &b| self.mean_ranks[a].total_cmp(&self.mean_ranks[b]));
        idx
    }

    /// What the ranks and the test say.
    pub fn sentence(&self) -> String {
        let test = match (&self.friedman, &self.friedman_note) {
            (Some(f), _) => format!(
                "Friedman's test over {} datasets and {} models: chi-squared = {:.3}, p = {:.3} \
                 (scipy's friedmanchisquare; a small p says the models' mean ranks differ more \
                 than chance would make them)",
                f.datasets, f.models, f.statistic, f.p_value
            ),
            (None, Some(why)) => format!("no Friedman test: {why}"),
            (None, None) => String::new(),
        };
        format!(
            "Mean rank by {} ({} best per dataset, ranks 1 = best averaged over the datasets). {test}.",
            self.metric,
            if self.higher_is_better { "highest" } else { "lowest" }
        )
    }

    /// Print the standing for people.
    pub fn print(&self, ctx: &Context) {
        say!(ctx, "across {} datasets:", self.datasets.len());
        for m in self.order() {
            let cells = self.cells(m);
            say!(
                ctx,
                "{:<12} mean rank {:.2}   {} {}",
                self.models[m],
                self.mean_ranks[m],
                self.metric,
                cells.join(" / ")
            );
        }
        say!(ctx, "{}", self.sentence());
    }
}

/// The top-level `report.md` of a run over several datasets: each dataset's report (under
/// its folder), then the standing across them.
pub fn report(datasets: &[String], reports: &[String], across: &Across) -> String {
    let mut md = format!(
        "# recsys experiment on {} datasets\n\n## Across the datasets\n\n{}\n",
        datasets.len(),
        across.markdown()
    );
    for (d, r) in datasets.iter().zip(reports) {
        let body =
            r.replace("\n## ", "\n### ")
                .replacen("# recsys experiment on", "## Dataset:", 1);
        let body = body.replace("![", &format!("![{} ", d)).replace(
            "](experiment.png)",
            &format!("]({}/experiment.png)", folder(d)),
        );
        let _ = writeln!(md, "\n{body}");
    }
    md
}

/// The `--json` result of a run over several datasets.
pub fn to_json(datasets: Vec<Value>, across: &Across) -> Value {
    json!({ "datasets": datasets, "across": across })
}
