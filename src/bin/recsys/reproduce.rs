//! `recsys reproduce`: run notebook ports with the notebooks' own settings and set every
//! number beside the notebook's, as a table, a markdown report and JSON.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};

use crate::notebooks::registry::{Entry, Numbers, Ran};
use recsys::report::{Check, Status};
use recsys::runtime::context::{write_atomic, Context};
use recsys::say;

/// The flags `reproduce` gives a port: the notebook's own settings, faithful mode only
/// (`recsys notebook <nb>` also runs the corrected modes beside them), as owned strings.
pub fn reproduce_args(entry: &dyn Entry) -> Vec<String> {
    entry
        .reproduce_flags()
        .iter()
        .map(|f| f.to_string())
        .collect()
}

/// Run one notebook's port as `reproduce` does: see [`reproduce_args`].
pub fn run_notebook(ctx: &Context, entry: &dyn Entry) -> Result<Ran> {
    entry.run_flags(ctx, &reproduce_args(entry))
}

/// The short word for a status, with its band.
pub fn status_text(status: &Status) -> String {
    match status {
        Status::Exact => "exact".into(),
        Status::WithinBand { band } => format!("within band {band}"),
        Status::NotebookOutsideBand { band } => format!("notebook outside band {band}"),
        Status::Differs { band: Some(band) } => format!("DIFFERS (band {band})"),
        Status::Differs { band: None } => "DIFFERS".into(),
        Status::Info => "info".into(),
    }
}

/// One line of a cell: newlines become `; `, and, when `max` is given, long text is cut
/// with an ellipsis.
fn one_line(text: &str, max: Option<usize>) -> String {
    let flat = text.replace(",\n ", ", ").replace('\n', "; ");
    match max {
        Some(max) if flat.chars().count() > max => {
            let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
            format!("{cut}…")
        }
        _ => flat,
    }
}

/// A markdown table, every value in full.
fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|t| one_line(t, None).replace('|', "\\|"))
            .collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

/// An aligned plain-text table for the terminal; long values are shortened (the markdown
/// report and the JSON keep them whole).
fn text_table(header: &[&str], rows: &[Vec<String>]) -> String {
    const WIDE: usize = 44;
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| one_line(c, Some(WIDE))).collect())
        .collect();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

/// The columns of a reproduction table.
const HEADER: [&str; 4] = ["quantity", "notebook", "this run", "status"];

/// The columns of `--with-python`'s one table.
const HEADER_WITH_PYTHON: [&str; 5] = ["quantity", "notebook", "Rust", "Python", "status"];

/// The rows of checks: quantity, notebook, this run, status.
fn check_rows(checks: &[Check]) -> Vec<Vec<String>> {
    checks
        .iter()
        .map(|c| {
            vec![
                c.quantity.clone(),
                c.notebook.clone(),
                c.this_run.clone(),
                status_text(&c.status),
            ]
        })
        .collect()
}

/// A markdown table of checks, with every value in full.
pub fn checks_table(checks: &[Check]) -> String {
    markdown_table(&HEADER, &check_rows(checks))
}

/// An aligned plain-text table of checks for the terminal.
pub fn checks_text(checks: &[Check]) -> String {
    text_table(&HEADER, &check_rows(checks))
}

/// What a `notebook outside band` row means, in one line (printed under the summary when
/// there is one).
pub const OUTSIDE_BAND_NOTE: &str = "notebook outside band: this run is inside the band \
     measured over seeds, but the value the notebook printed is not (its one unseeded draw, or a \
     reading of its code the band does not share; see docs/nbNNN.md)";

/// Counts of exact, within-band, notebook-outside-band, differing and info rows.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Tally {
    pub exact: usize,
    pub within_band: usize,
    pub notebook_outside_band: usize,
    pub differs: usize,
    pub info: usize,
}

impl Tally {
    /// The summary line (without the wall time).
    pub fn line(&self) -> String {
        format!(
            "{} exact, {} within band, {} notebook outside band, {} differ, {} informational",
            self.exact, self.within_band, self.notebook_outside_band, self.differs, self.info
        )
    }

    fn add(&mut self, checks: &[Check]) {
        for c in checks {
            match c.status {
                Status::Exact => self.exact += 1,
                Status::WithinBand { .. } => self.within_band += 1,
                Status::NotebookOutsideBand { .. } => self.notebook_outside_band += 1,
                Status::Differs { .. } => self.differs += 1,
                Status::Info => self.info += 1,
            }
        }
    }
}

/// Run `notebooks` into `out_dir` (refused when it exists and is not empty, unless `--force`),
/// print each table and the summary, and write `report.md` and `report.json`.
///
/// With `with_python`, each notebook's PyTorch twin then runs with the same flags and seed
/// (`--seed`, else both sides' own default, which they share), and its losses and metrics are
/// set beside the port's ([`crate::compare::beside_twin`]), in the output and the reports.
pub fn reproduce(
    ctx: &Context,
    notebooks: &[&dyn Entry],
    with_python: bool,
) -> Result<serde_json::Value> {
    if with_python {
        // Before any port runs or any file is written.
        crate::compare::ensure_python()?;
    }
    let out_dir = ctx.out_dir.clone();
    ensure_fresh_dir(&out_dir, ctx.force)?;
    let start = Instant::now();
    let mut tally = Tally::default();
    let mut twins = TwinTally::default();
    let mut markdown = String::from("# recsys reproduce\n\n");
    let mut reports = Vec::new();
    for &entry in notebooks {
        let nb = entry.id();
        say!(ctx, "\n=== notebook {nb} ===");
        let nb_ctx = Context {
            out_dir: out_dir.join(format!("nb{nb}")),
            ..ctx.clone()
        };
        let t = Instant::now();
        let ran = run_notebook(&nb_ctx, entry).with_context(|| format!("notebook {nb}"))?;
        let report = &ran.report;
        let secs = t.elapsed().as_secs_f64();
        tally.add(&report.checks);
        let mut row = serde_json::json!({ "report": report, "wall_s": secs });
        if with_python {
            // One table: the notebook's value, the port's and the twin's, and the status.
            let plan = crate::compare::plan(nb, &reproduce_args(entry))?;
            let side =
                crate::compare::beside_twin(ctx, entry, ctx.seed, &plan, &ran.numbers, secs, false)
                    .with_context(|| format!("notebook {nb} beside its Python twin"))?;
            let python: Numbers = serde_json::from_value(side["python_numbers"].clone())?;
            let rows: Vec<Vec<String>> =
                crate::compare::rows_beside_notebook(&report.checks, &ran.numbers, &python, |c| {
                    status_text(&c.status)
                })
                .into_iter()
                .map(Vec::from)
                .collect();
            let twin = twin_summary(&side);
            say!(
                ctx,
                "\nnotebook {nb}: the notebook, the Rust port ({secs:.1} s) and its PyTorch twin \
                 (same flags and seed)\n{}{twin}",
                text_table(&HEADER_WITH_PYTHON, &rows)
            );
            let _ = write!(
                markdown,
                "## Notebook {nb} ({secs:.1} s)\n\n{}\n{twin}\n",
                markdown_table(&HEADER_WITH_PYTHON, &rows)
            );
            twins.add(&side);
            row["python"] = side;
        } else {
            say!(
                ctx,
                "\nnotebook {nb}: the notebook's numbers beside this run ({secs:.1} s)\n{}",
                checks_text(&report.checks)
            );
            let _ = write!(
                markdown,
                "## Notebook {nb} ({secs:.1} s)\n\n{}\n",
                checks_table(&report.checks)
            );
        }
        reports.push(row);
    }
    let wall = start.elapsed().as_secs_f64();
    let summary = format!("{}; wall time {wall:.1} s", tally.line());
    say!(ctx, "\nsummary: {summary}");
    let _ = write!(markdown, "## Summary\n\n{summary}\n");
    if tally.notebook_outside_band > 0 {
        say!(ctx, "{OUTSIDE_BAND_NOTE}");
        let _ = write!(markdown, "\n{OUTSIDE_BAND_NOTE}\n");
    }
    let mut json = serde_json::json!({ "notebooks": reports, "summary": tally, "wall_s": wall });
    if with_python {
        let line = twins.line();
        say!(ctx, "beside the PyTorch twins: {line}");
        let _ = write!(markdown, "\nBeside the PyTorch twins: {line}\n");
        json["twins"] = serde_json::json!(twins);
    }
    write_atomic(&out_dir.join("report.md"), markdown.as_bytes(), ctx.force)?;
    write_atomic(
        &out_dir.join("report.json"),
        serde_json::to_string_pretty(&json)?.as_bytes(),
        ctx.force,
    )?;
    say!(
        ctx,
        "report written to {}",
        out_dir.join("report.md").display()
    );
    Ok(json)
}

/// One line for the report on a notebook set beside its twin.
fn twin_summary(side: &serde_json::Value) -> String {
    let f = |k: &str| side[k].as_f64().unwrap_or(f64::NAN);
    format!(
        "Beside the PyTorch twin (same flags and seed): largest relative difference {:.1e} in a \
         loss, {:.1e} in a metric; {} unmatched; wall time Rust {:.1} s, Python {:.1} s.\n",
        f("max_loss_rel_diff"),
        f("max_metric_rel_diff"),
        side["unmatched"].as_array().map_or(0, Vec::len),
        side["wall_s"]["rust"].as_f64().unwrap_or(f64::NAN),
        side["wall_s"]["python"].as_f64().unwrap_or(f64::NAN),
    )
}

/// The twins' comparisons over a `reproduce --with-python` run.
#[derive(Debug, Default, serde::Serialize)]
struct TwinTally {
    notebooks: usize,
    max_loss_rel_diff: f64,
    max_metric_rel_diff: f64,
    rust_s: f64,
    python_s: f64,
}

impl TwinTally {
    fn add(&mut self, side: &serde_json::Value) {
        let f = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0);
        self.notebooks += 1;
        self.max_loss_rel_diff = self.max_loss_rel_diff.max(f(&side["max_loss_rel_diff"]));
        self.max_metric_rel_diff = self
            .max_metric_rel_diff
            .max(f(&side["max_metric_rel_diff"]));
        self.rust_s += f(&side["wall_s"]["rust"]);
        self.python_s += f(&side["wall_s"]["python"]);
    }

    fn line(&self) -> String {
        format!(
            "{} notebook{}; largest relative difference {:.1e} in a loss, {:.1e} in a metric; \
             wall time Rust {:.1} s, Python {:.1} s ({:.2}x)",
            self.notebooks,
            if self.notebooks == 1 { "" } else { "s" },
            self.max_loss_rel_diff,
            self.max_metric_rel_diff,
            self.rust_s,
            self.python_s,
            self.python_s / self.rust_s
        )
    }
}

/// Refuse an output directory that already holds files, unless `force`.
fn ensure_fresh_dir(dir: &Path, force: bool) -> Result<()> {
    let non_empty = std::fs::read_dir(dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if non_empty && !force {
        bail!(
            "{} already holds files; pass --force to replace them, or --out to choose another directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}
