//! The experiment's files: `experiment.csv` (one line per model and metric), `runs.csv` (one
//! line per model and seed, with its settings), `per_user.csv` (each test user's numbers behind
//! the paired tests), `config.toml` (the resolved configuration, which `--config` repeats),
//! `report.md` and the primary metric's bar plot.

use std::fmt::Write as _;

use anyhow::Result;
use serde_json::Value;

use super::run::Plan;
use super::summary::Summary;
use recsys::prep::export::csv_field;
use recsys::recommender::settings::describe;
use recsys::runtime::context::Context;
use recsys::say;

/// The files [`write_files`] writes into `--out`.
pub const FILES: [&str; 6] = [
    "experiment.csv",
    "runs.csv",
    "per_user.csv",
    "report.md",
    "config.toml",
    "experiment.png",
];

/// Write `experiment.csv` (one line per model and metric), `runs.csv`, `report.md` and the
/// primary metric's bar plot with error bars into `--out` ([`FILES`]); returns the report's
/// text.
pub fn write_files(
    ctx: &Context,
    plan: &Plan,
    table: &Summary,
    published: Option<&Value>,
) -> Result<String> {
    let mut csv = String::from("model,metric,mean,sd,ci95_low,ci95_high\n");
    for r in &table.rows {
        let named = table
            .columns
            .iter()
            .map(String::as_str)
            .zip(&r.metrics)
            .chain([("fit_s", &r.fit_s), ("predict_s", &r.predict_s)]);
        for (name, m) in named {
            let (lo, hi) = m.ci95.unwrap_or((f64::NAN, f64::NAN));
            let _ = writeln!(csv, "{},{name},{},{},{lo},{hi}", r.model, m.mean, m.sd);
        }
    }
    let mut runs = format!(
        "model,seed,{},fit_s,predict_s,settings\n",
        table
            .columns
            .iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(",")
    );
    for r in &table.runs {
        let values: Vec<String> = r.metrics.iter().map(|(_, v)| v.to_string()).collect();
        let _ = writeln!(
            runs,
            "{},{},{},{},{},{}",
            r.model,
            r.seed,
            values.join(","),
            r.fit_s,
            r.predict_s,
            csv_field(&describe(&r.config))
        );
    }
    let names = table
        .runs
        .first()
        .map(|r| r.per_user_rows.names.clone())
        .unwrap_or_default();
    let mut per_user = format!("seed,model,user_id,{}\n", names.join(","));
    for r in &table.runs {
        for (user, values) in &r.per_user_rows.rows {
            let v: Vec<String> = values.iter().map(|x| x.to_string()).collect();
            let _ = writeln!(
                per_user,
                "{},{},{},{}",
                r.seed,
                r.model,
                csv_field(user),
                v.join(",")
            );
        }
    }
    let plot = FILES[5];
    let mut md = format!(
        "# recsys experiment on {}\n\n**Protocol.** {}; seeds {:?} (each seed draws the split \
         and the models' initialisation; every model of a seed sees the same split).\n\n",
        plan.spec.data,
        plan.describe_protocol(),
        plan.seeds,
    );
    let _ = writeln!(
        md,
        "**Split sizes.**\n\n| seed | train ratings | train users | train items | test ratings | test users scored |\n|---|---|---|---|---|---|"
    );
    let first = table.rows.first().map(|r| r.model.as_str()).unwrap_or("");
    for r in table.runs.iter().filter(|r| r.model == first) {
        let z = &r.split;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            r.seed, z.train_rows, z.train_users, z.train_items, z.test_rows, z.test_users
        );
    }
    let _ = writeln!(md, "\n**Results.**\n\n{}", table.markdown());
    if let Some(t) = table.rows.iter().find_map(|r| r.versus_best.as_ref()) {
        let _ = writeln!(
            md,
            "**The test.** The best model by {} against each other one: two-sided Wilcoxon \
             signed-rank test, one pair per {}; p-values Holm-adjusted over the {} comparisons \
             (Holm 1979; raw and adjusted, and the paired t-test's, in `--json`).\n",
            table.columns[0],
            t.unit,
            table.rows.len() - 1
        );
    }
    for note in table.notes() {
        let _ = writeln!(md, "- {note}");
    }
    if let Some(p) = published {
        let _ = writeln!(md, "\n## Beside the published table\n");
        let _ = writeln!(
            md,
            "| theirs | ours | metric | published | this run | status |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|");
        for row in p["rows"].as_array().into_iter().flatten() {
            let text = |key: &str| row[key].as_str().unwrap_or("").to_string();
            let list = |key: &str| row[key].as_array().cloned().unwrap_or_default();
            for ((m, t), o) in list("metrics")
                .iter()
                .zip(list("published"))
                .zip(list("this_run"))
            {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {t} | {:.4} | {} |",
                    text("theirs"),
                    text("ours"),
                    m.as_str().unwrap_or(""),
                    o.as_f64().unwrap_or(f64::NAN),
                    text("status")
                );
            }
        }
    }
    let _ = writeln!(
        md,
        "\n## Settings each model ran with\n\n| model | settings |\n|---|---|"
    );
    for r in &table.rows {
        let first = r.config.first().cloned().unwrap_or(Value::Null);
        let same = r.config.iter().all(|c| *c == first);
        let text = if same {
            describe(&first)
        } else {
            r.config.iter().map(describe).collect::<Vec<_>>().join("; ")
        };
        let _ = writeln!(md, "| {} | `{}` |", r.model, text);
    }
    let _ = writeln!(md, "\n![{}]({plot})", table.columns[0]);
    let labels: Vec<String> = table.rows.iter().map(|r| r.model.clone()).collect();
    let means: Vec<f64> = table.rows.iter().map(|r| r.metrics[0].mean).collect();
    let sds: Vec<f64> = table.rows.iter().map(|r| r.metrics[0].sd).collect();
    let title = format!("{} (mean ± sd over seeds)", table.columns[0]);
    ctx.write_output_with(plot, |p| {
        recsys::report::plot::bar_chart_with_errors(
            p,
            &title,
            &labels,
            &means,
            &sds,
            &table.columns[0],
        )
    })?;
    for (name, text) in [
        ("experiment.csv", csv),
        ("runs.csv", runs),
        ("per_user.csv", per_user),
        ("report.md", md.clone()),
        ("config.toml", super::config::of_plan(plan)?.to_toml()?),
    ] {
        let path = ctx.write_output(name, text.as_bytes())?;
        say!(ctx, "wrote {}", path.display());
    }
    Ok(md)
}
