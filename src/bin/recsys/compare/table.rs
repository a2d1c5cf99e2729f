//! The comparison table: both sides' per-epoch losses and final metrics, side by side.

use anyhow::{bail, Result};
use serde_json::{json, Value};

use recsys::runtime::context::Context;
use recsys::say;

use super::rel_diff;
use crate::notebooks::registry::Numbers;

/// `say!` only when `show`.
macro_rules! show {
    ($show:expr, $ctx:expr, $($arg:tt)*) => {
        if $show {
            say!($ctx, $($arg)*)
        }
    };
}

/// Side-by-side per-epoch losses and metrics of `rust` and `python`, as [`Numbers`].
/// Returns `{"models": [{"model", "epochs": [{"epoch", "rust", "python", "rel_diff"}]}],
/// "metrics": [{"metric", "rust", "python", "rel_diff"}], "max_loss_rel_diff",
/// "max_metric_rel_diff", "identical": {"losses", "of_losses", "metrics", "of_metrics"},
/// "bit_for_bit", "unmatched": [names on one side only]}`. `identical` counts the pairs whose
/// f64 bits agree, and `bit_for_bit` is true only when every pair does and nothing is unmatched. Names are collected from
/// both sides: one only the port reports is listed as it is, one only the twin reports as
/// "name (twin only)", and a series whose epoch counts differ as "name (epoch count)".
/// The tables are printed only when `show` (`reproduce --with-python` prints one table of
/// its own from the returned comparison).
pub fn side_by_side(ctx: &Context, rust: &Numbers, python: &Numbers, show: bool) -> Result<Value> {
    let (re, pe) = (&rust.epochs, &python.epochs);
    if re.is_empty() {
        bail!("the Rust port reported no per-epoch losses");
    }
    let mut models = Vec::new();
    let mut unmatched = Vec::new();
    let mut worst: f64 = 0.0;
    let same_bits = |a: f64, b: f64| a.to_bits() == b.to_bits();
    let (mut same_losses, mut n_losses) = (0usize, 0usize);
    for (model, r_losses) in re {
        let Some(p_losses) = pe.get(model) else {
            show!(show, ctx, "\n{model}: the twin has no losses for it");
            unmatched.push(json!(model));
            continue;
        };
        show!(show, ctx, "\n{model}: loss per epoch");
        show!(
            show,
            ctx,
            "{:>6} {:>16} {:>16} {:>10}",
            "epoch",
            "rust",
            "python",
            "rel_diff"
        );
        let mut rows = Vec::new();
        let n = r_losses.len().min(p_losses.len());
        // Long series (004's 250 MF epochs) print the first 5, every step-th and the last.
        let step = n.div_ceil(20).max(1);
        let mut model_worst: f64 = 0.0;
        for (e, (r, p)) in r_losses.iter().zip(p_losses.iter()).enumerate() {
            let d = rel_diff(*r, *p);
            worst = worst.max(d);
            model_worst = model_worst.max(d);
            n_losses += 1;
            same_losses += usize::from(same_bits(*r, *p));
            if n <= 25 || e < 5 || (e + 1) % step == 0 || e + 1 == n {
                show!(
                    show,
                    ctx,
                    "{:>6} {:>16.10} {:>16.10} {:>10.2e}",
                    e + 1,
                    r,
                    p,
                    d
                );
            }
            rows.push(json!({ "epoch": e + 1, "rust": r, "python": p, "rel_diff": d }));
        }
        if n > 25 {
            show!(
                show,
                ctx,
                "({n} epochs, some rows left out; max rel_diff {model_worst:.2e})"
            );
        }
        if r_losses.len() != p_losses.len() {
            show!(
                show,
                ctx,
                "({model}: {} epochs in Rust, {} in Python)",
                r_losses.len(),
                p_losses.len()
            );
            unmatched.push(json!(format!("{model} (epoch count)")));
        }
        models.push(json!({ "model": model, "epochs": rows }));
    }
    for model in pe.keys().filter(|m| !re.contains_key(*m)) {
        show!(show, ctx, "\n{model}: only the twin has losses for it");
        unmatched.push(json!(twin_only(model)));
    }
    let (rm, pm) = (&rust.metrics, &python.metrics);
    let mut metrics = Vec::new();
    let mut worst_metric: f64 = 0.0;
    let mut same_metrics = 0usize;
    if !rm.is_empty() || !pm.is_empty() {
        show!(show, ctx, "\nfinal metrics");
        show!(
            show,
            ctx,
            "{:<30} {:>16} {:>16} {:>10}",
            "metric",
            "rust",
            "python",
            "rel_diff"
        );
    }
    for (name, &r) in rm {
        let Some(&p) = pm.get(name) else {
            show!(show, ctx, "{name:<30} {r:>16.10} {:>16} {:>10}", "-", "-");
            unmatched.push(json!(name));
            continue;
        };
        let d = rel_diff(r, p);
        worst_metric = worst_metric.max(d);
        same_metrics += usize::from(same_bits(r, p));
        show!(show, ctx, "{name:<30} {r:>16.10} {p:>16.10} {d:>10.2e}");
        metrics.push(json!({ "metric": name, "rust": r, "python": p, "rel_diff": d }));
    }
    for (name, p) in pm.iter().filter(|(m, _)| !rm.contains_key(*m)) {
        show!(show, ctx, "{name:<30} {:>16} {p:>16.10} {:>10}", "-", "-");
        unmatched.push(json!(twin_only(name)));
    }
    let n_metrics = metrics.len();
    let bit_for_bit = same_losses == n_losses && same_metrics == n_metrics && unmatched.is_empty();
    show!(
        show,
        ctx,
        "\n{}: the f64 bits agree in {same_losses} of {n_losses} losses and {same_metrics} of \
         {n_metrics} metrics",
        if bit_for_bit {
            "bit for bit"
        } else {
            "not bit for bit"
        }
    );
    Ok(json!({
        "models": models,
        "metrics": metrics,
        "max_loss_rel_diff": worst,
        "max_metric_rel_diff": worst_metric,
        "identical": {
            "losses": same_losses,
            "of_losses": n_losses,
            "metrics": same_metrics,
            "of_metrics": n_metrics,
        },
        "bit_for_bit": bit_for_bit,
        "unmatched": unmatched,
    }))
}

/// How `unmatched` lists a name only the twin reports.
fn twin_only(name: &str) -> String {
    format!("{name} (twin only)")
}
