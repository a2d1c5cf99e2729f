//! `recsys selftest`: every model of the project trained a few seeded steps on the chosen device
//! and on the CPU, from the same initial weights and the same batches, to see that the device
//! is used and agrees.
//!
//! For each model it reports:
//! - loss agreement: the largest relative difference `|l_dev − l_cpu| / max(|l_cpu|, 1e-12)`
//!   over the steps, against the model's tolerance ([`cases::TOLERANCE`], 1e-3; GRU/LSTM
//!   [`cases::RNN_TOLERANCE`], 1e-2, as cuDNN may use TF32);
//! - placement: every variable of every store (the RecommenderNet's unregistered hidden layers
//!   included), every gradient and the tensors a model keeps outside its store must be on the
//!   device; the optimizer step must be libtorch's on CUDA (libtorch makes its Adam moments
//!   with `zeros_like(parameter)`, beside each parameter) and never the fused CPU Adam;
//! - speed: steps per second on each device (the first step, which pays for the warm-up, is
//!   left out) and their ratio.
//!
//! A model fails when it raises (a device mismatch in its forward raises in libtorch), when a
//! tensor is misplaced, when a loss is not finite, or when the losses disagree beyond the
//! tolerance. Any failure makes the command exit non-zero, after the table (and `--report`).
//! With `--device cpu` (or no GPU) the "device" run is a second CPU run: it checks the harness
//! and that a seeded run repeats exactly.

mod cases;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use serde_json::{json, Value};
use tch::Device;

use recsys::runtime::device::device_name;
use recsys::{say, Context};

pub use cases::{Case, Run, Size, CASES};

/// `recsys selftest` flags.
#[derive(Args, Debug, Clone)]
pub struct SelftestArgs {
    /// Training steps per model and device.
    #[arg(long, default_value_t = 30, value_parser = recsys::runtime::limits::EPOCHS.parser())]
    pub steps: usize,
    /// small (the check: tiny models, seconds in all) or large (MovieLens-100k-sized tables
    /// and batches of 1024: the speed table).
    #[arg(long, default_value = "small")]
    pub size: String,
    /// Only these models (comma-separated; default all).
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
    /// Also write the JSON report to this file (written even when a model fails).
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// One model's outcome.
#[derive(Debug, serde::Serialize)]
pub struct Outcome {
    pub model: &'static str,
    pub passed: bool,
    /// Why it failed; empty when it passed.
    pub problems: Vec<String>,
    pub max_rel_diff: Option<f64>,
    pub tolerance: f64,
    pub cpu_steps_per_s: Option<f64>,
    pub device_steps_per_s: Option<f64>,
    /// Device steps per second over CPU steps per second.
    pub speedup: Option<f64>,
    pub optimizer: Option<&'static str>,
    pub cpu_losses: Vec<f64>,
    pub device_losses: Vec<f64>,
}

/// Run the self-test on `ctx.device`: print the table, return the report.
pub fn selftest(ctx: &Context, args: &SelftestArgs) -> Result<Value> {
    let size = match args.size.as_str() {
        "small" => Size::SMALL,
        "large" => Size::LARGE,
        other => bail!("--size {other:?}: expected small or large"),
    };
    if args.steps < 2 {
        bail!("--steps must be at least 2 (the first step is left out of the timing)");
    }
    for name in &args.models {
        if !CASES.iter().any(|c| c.name == name) {
            let known: Vec<_> = CASES.iter().map(|c| c.name).collect();
            bail!(
                "--models: unknown model {name:?}; known: {}",
                known.join(", ")
            );
        }
    }
    let device = ctx.device;
    let seed = ctx.seed_or(0);
    let dev = device_name(device);
    say!(
        ctx,
        "selftest: {} steps per model, size {}, seed {seed}, cpu vs {dev}",
        args.steps,
        args.size
    );
    say!(
        ctx,
        "{:<16} {:>10} {:>8} {:>11} {:>11} {:>7}  {:<15} status",
        "model",
        "rel diff",
        "tol",
        "cpu step/s",
        "dev step/s",
        "ratio",
        "optimizer"
    );
    let mut outcomes = Vec::new();
    for case in CASES {
        if !args.models.is_empty() && !args.models.iter().any(|m| m == case.name) {
            continue;
        }
        let outcome = check(case, device, seed, args.steps, size);
        print_row(ctx, &outcome);
        outcomes.push(outcome);
    }
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| !o.passed)
        .map(|o| o.model)
        .collect();
    let report = json!({
        "device": dev,
        "steps": args.steps,
        "size": args.size,
        "seed": seed,
        "torch": recsys::runtime::device::torch_info(),
        "passed": failed.is_empty(),
        "models": outcomes,
    });
    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(&report)?;
        recsys::runtime::context::write_atomic(path, text.as_bytes(), true)?;
    }
    if !failed.is_empty() {
        bail!(
            "selftest on {dev}: {} model(s) failed: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    say!(
        ctx,
        "selftest on {dev}: all {} models passed",
        outcomes.len()
    );
    Ok(report)
}

fn print_row(ctx: &Context, o: &Outcome) {
    let num = |v: Option<f64>, prec: usize| match v {
        Some(v) => format!("{v:.prec$}"),
        None => "-".to_string(),
    };
    let diff = o
        .max_rel_diff
        .map(|d| format!("{d:.2e}"))
        .unwrap_or_else(|| "-".into());
    let status = if o.passed {
        "ok".to_string()
    } else {
        format!("FAILED: {}", o.problems.join("; "))
    };
    say!(
        ctx,
        "{:<16} {:>10} {:>8.0e} {:>11} {:>11} {:>7}  {:<15} {status}",
        o.model,
        diff,
        o.tolerance,
        num(o.cpu_steps_per_s, 1),
        num(o.device_steps_per_s, 1),
        num(o.speedup, 2),
        o.optimizer.unwrap_or("-"),
    );
}

/// Train `case` on the CPU and on `device` and compare.
pub fn check(case: &Case, device: Device, seed: u64, steps: usize, size: Size) -> Outcome {
    let cpu = guarded(|| (case.run)(Device::Cpu, seed, steps, size));
    let dev = guarded(|| (case.run)(device, seed, steps, size));
    judge(case, device, cpu, dev)
}

/// The verdict on two runs of `case`: the CPU's and `device`'s.
pub fn judge(case: &Case, device: Device, cpu: Result<Run>, dev: Result<Run>) -> Outcome {
    let mut problems = Vec::new();
    let mut outcome = Outcome {
        model: case.name,
        passed: false,
        problems: Vec::new(),
        max_rel_diff: None,
        tolerance: case.tolerance,
        cpu_steps_per_s: None,
        device_steps_per_s: None,
        speedup: None,
        optimizer: None,
        cpu_losses: Vec::new(),
        device_losses: Vec::new(),
    };
    let (cpu, dev) = match (cpu, dev) {
        (Ok(c), Ok(d)) => (c, d),
        (c, d) => {
            for (side, r) in [("cpu", c), (device_name(device).as_str(), d)] {
                if let Err(e) = r {
                    problems.push(format!("{side} run: {e:#}"));
                }
            }
            outcome.problems = problems;
            return outcome;
        }
    };
    for m in &dev.misplaced {
        problems.push(format!("not on {}: {m}", device_name(device)));
    }
    if device != Device::Cpu && dev.optimizer == "fused CPU Adam" {
        problems.push("the fused CPU Adam ran on a non-CPU device".into());
    }
    if cpu.losses.len() != dev.losses.len() {
        problems.push(format!(
            "{} losses on the CPU, {} on the device",
            cpu.losses.len(),
            dev.losses.len()
        ));
    }
    if cpu.losses.iter().chain(&dev.losses).any(|l| !l.is_finite()) {
        problems.push("a loss is not finite".into());
    }
    let diff = cpu
        .losses
        .iter()
        .zip(&dev.losses)
        .map(|(c, d)| (d - c).abs() / c.abs().max(1e-12))
        .fold(0.0f64, |a, b| if b.is_nan() { f64::NAN } else { a.max(b) });
    if diff.is_nan() || diff > case.tolerance {
        problems.push(format!(
            "losses differ by {diff:.2e} (relative), above {:.0e}",
            case.tolerance
        ));
    }
    outcome.max_rel_diff = Some(diff);
    outcome.cpu_steps_per_s = Some(cpu.steps_per_s);
    outcome.device_steps_per_s = Some(dev.steps_per_s);
    outcome.speedup = (cpu.steps_per_s > 0.0).then(|| dev.steps_per_s / cpu.steps_per_s);
    outcome.optimizer = Some(dev.optimizer);
    outcome.cpu_losses = cpu.losses;
    outcome.device_losses = dev.losses;
    outcome.passed = problems.is_empty();
    outcome.problems = problems;
    outcome
}

/// Run `f`, turning a panic (tch panics when libtorch raises, e.g. on tensors on two devices)
/// into an error instead of ending the process through the panic hook.
fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    match result {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            bail!("{}", msg.lines().next().unwrap_or(""))
        }
    }
}
