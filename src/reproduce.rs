//! `recsys reproduce`: run notebook ports with the notebooks' own settings and set every
//! number beside the notebook's, as a table, a markdown report and JSON.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use clap::Parser;

use crate::context::{write_atomic, Context};
use crate::report::{Check, Report, Status};
use crate::say;

/// The notebooks, in order.
pub const NOTEBOOKS: [&str; 5] = ["000", "001", "002", "003", "004"];

/// Parses a notebook's flags from nothing, giving its defaults (the notebook's own settings).
#[derive(Parser)]
struct Defaults<A: clap::Args> {
    #[command(flatten)]
    args: A,
}

fn parse<A: clap::Args>(flags: &[String]) -> Result<A> {
    let argv = std::iter::once("recsys".to_string()).chain(flags.iter().cloned());
    Ok(Defaults::<A>::try_parse_from(argv)?.args)
}

/// The flags `reproduce` gives each port: the notebook's own settings, faithful mode only
/// (`recsys notebook <nb>` also runs the corrected modes beside them).
pub fn reproduce_flags(notebook: &str) -> &'static [&'static str] {
    match notebook {
        "003" => &["--mode", "faithful"],
        "004" => &["--mode", "faithful"],
        _ => &[],
    }
}

/// Run one notebook's port as `reproduce` does: see [`reproduce_flags`].
pub fn run_notebook(ctx: &Context, notebook: &str) -> Result<Report> {
    let flags: Vec<String> = reproduce_flags(notebook)
        .iter()
        .map(|f| f.to_string())
        .collect();
    run_notebook_with(ctx, notebook, &flags)
}

/// Run one notebook's port with `flags`, as given to `recsys notebook <nb>`.
pub fn run_notebook_with(ctx: &Context, notebook: &str, flags: &[String]) -> Result<Report> {
    match notebook {
        "000" => crate::nb000::run(ctx, &parse(flags)?),
        "001" => crate::nb001::run(ctx, &parse(flags)?),
        "002" => crate::nb002::run(ctx, &parse(flags)?),
        "003" => crate::nb003::run(ctx, &parse(flags)?),
        "004" => crate::nb004::run(ctx, &parse(flags)?),
        other => bail!(
            "unknown notebook {other:?}; expected one of {}",
            NOTEBOOKS.join(", ")
        ),
    }
}

/// The short word for a status, with its band.
pub fn status_text(status: &Status) -> String {
    match status {
        Status::Exact => "exact".into(),
        Status::WithinBand { band } => format!("within band {band}"),
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

/// A markdown table of checks, with every value in full.
pub fn checks_table(checks: &[Check]) -> String {
    let mut out = String::from("| quantity | notebook | this run | status |\n|---|---|---|---|\n");
    for c in checks {
        let cell = |t: &str| one_line(t, None).replace('|', "\\|");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&c.quantity),
            cell(&c.notebook),
            cell(&c.this_run),
            status_text(&c.status)
        );
    }
    out
}

/// An aligned plain-text table of checks for the terminal; long values are shortened (the
/// markdown report and the JSON keep them whole).
pub fn checks_text(checks: &[Check]) -> String {
    const WIDE: usize = 44;
    let rows: Vec<[String; 4]> = checks
        .iter()
        .map(|c| {
            [
                one_line(&c.quantity, Some(WIDE)),
                one_line(&c.notebook, Some(WIDE)),
                one_line(&c.this_run, Some(WIDE)),
                status_text(&c.status),
            ]
        })
        .collect();
    let header = ["quantity", "notebook", "this run", "status"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

/// Counts of exact, within-band, differing and info rows.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Tally {
    pub exact: usize,
    pub within_band: usize,
    pub differs: usize,
    pub info: usize,
}

impl Tally {
    fn add(&mut self, checks: &[Check]) {
        for c in checks {
            match c.status {
                Status::Exact => self.exact += 1,
                Status::WithinBand { .. } => self.within_band += 1,
                Status::Differs { .. } => self.differs += 1,
                Status::Info => self.info += 1,
            }
        }
    }
}

/// Run `notebooks` into `out_dir` (refused when it exists and is not empty, unless `--force`),
/// print each table and the summary, and write `report.md` and `report.json`.
pub fn reproduce(ctx: &Context, notebooks: &[&str]) -> Result<serde_json::Value> {
    if let Some(bad) = notebooks.iter().find(|nb| !NOTEBOOKS.contains(nb)) {
        bail!(
            "unknown notebook {bad:?}; expected all or one of {}",
            NOTEBOOKS.join(", ")
        );
    }
    let out_dir = ctx.out_dir.clone();
    ensure_fresh_dir(&out_dir, ctx.force)?;
    let start = Instant::now();
    let mut tally = Tally::default();
    let mut markdown = String::from("# recsys reproduce\n\n");
    let mut reports = Vec::new();
    for nb in notebooks {
        say!(ctx, "\n=== notebook {nb} ===");
        let nb_ctx = Context {
            out_dir: out_dir.join(format!("nb{nb}")),
            ..ctx.clone()
        };
        let t = Instant::now();
        let report = run_notebook(&nb_ctx, nb).with_context(|| format!("notebook {nb}"))?;
        let secs = t.elapsed().as_secs_f64();
        let table = checks_table(&report.checks);
        say!(
            ctx,
            "\nnotebook {nb}: the notebook's numbers beside this run ({secs:.1} s)\n{}",
            checks_text(&report.checks)
        );
        let _ = write!(markdown, "## Notebook {nb} ({secs:.1} s)\n\n{table}\n");
        tally.add(&report.checks);
        reports.push(serde_json::json!({ "report": report, "wall_s": secs }));
    }
    let wall = start.elapsed().as_secs_f64();
    let summary = format!(
        "{} exact, {} within band, {} differ, {} informational; wall time {wall:.1} s",
        tally.exact, tally.within_band, tally.differs, tally.info
    );
    say!(ctx, "\nsummary: {summary}");
    let _ = write!(markdown, "## Summary\n\n{summary}\n");
    let json = serde_json::json!({ "notebooks": reports, "summary": tally, "wall_s": wall });
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
