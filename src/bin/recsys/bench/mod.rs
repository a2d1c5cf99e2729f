//! `recsys bench`: steps per second of each notebook's training loop in Rust and in PyTorch.
//!
//! For every notebook with a torch training loop it prints, on the same data, model, batch size
//! and torch thread count:
//! - Python steps/s with the notebook's own loop (`notebooks-ported/python/bench.py`, column
//!   "py notebook": 000's DataLoader, 002's Spotlight loop, 003's TowerTrain DataLoader, 004's
//!   list of pre-built batches);
//! - Python steps/s with tensor batches (randperm + indexing of pre-built tensors, the loss read
//!   once per epoch);
//! - Rust steps/s with the library's training code the ports use;
//! - the ratios Rust / notebook loop (goal ≥ 5) and Rust / tensor batches (goal ≥ 2).
//!
//! With `--reproduce` it also times `reproduce all` (every port with the notebook's settings)
//! against the twins run with the same settings.

use std::time::Instant;

use anyhow::{bail, Result};
use serde_json::{json, Value};
use tch::Device;

use crate::notebooks::registry;
use recsys::runtime::context::Context;
use recsys::say;

mod loops;

use loops::{Loop, LOOPS};

/// The notebooks with a torch training loop to time.
pub const BENCHED: [&str; 4] = [
    LOOPS[0].notebook,
    LOOPS[1].notebook,
    LOOPS[2].notebook,
    LOOPS[3].notebook,
];

/// The loop of notebook `nb`, or an error naming those there are.
fn find_loop(nb: &str) -> Result<&'static Loop> {
    match LOOPS.iter().find(|l| l.notebook == nb) {
        Some(l) => Ok(l),
        None => bail!(
            "no benchmark for notebook {nb:?}; have {} (001 trains without torch)",
            BENCHED.join(", ")
        ),
    }
}

/// Options of `recsys bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Notebooks to time (comma-separated): 000 (unsampled MF), 002 (explicit factorization),
    /// 003 (two-tower, train split), 004 (RecommenderNet as the notebook builds it).
    #[arg(long, value_delimiter = ',', default_values_t = BENCHED.map(String::from))]
    pub notebooks: Vec<String>,
    /// Epochs of each loop on each side.
    #[arg(long, default_value_t = 2, value_parser = recsys::runtime::limits::EPOCHS.parser())]
    pub epochs: usize,
    /// Torch CPU threads, the same on both sides.
    #[arg(long, default_value_t = 1)]
    pub threads: i32,
    /// Also time `reproduce all` in Rust against the Python twins with the same settings
    /// (slow: several minutes per side).
    #[arg(long)]
    pub reproduce: bool,
    /// Also split the Rust step time into zero_grad, forward (with the batch gather), backward
    /// and optimizer step, in microseconds per step (unshuffled batches, 400 steps).
    #[arg(long)]
    pub breakdown: bool,
}

/// Run the benchmark: print the table and return it as JSON.
pub fn bench(ctx: &Context, args: &Args) -> Result<Value> {
    if args.epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    for nb in &args.notebooks {
        find_loop(nb)?;
    }
    if args.threads < 1 {
        bail!("--threads must be at least 1 (the same count is set on both sides)");
    }
    if ctx.device != Device::Cpu {
        say!(
            ctx,
            "(bench runs on the CPU: bench.py's PyTorch loops are CPU-only, and both sides must match)"
        );
    }
    let cpu = Context {
        device: Device::Cpu,
        ..ctx.clone()
    };
    let ctx = &cpu;
    tch::set_num_threads(args.threads);
    say!(
        ctx,
        "timing {} epoch(s) per loop, {} torch thread(s) on both sides, device {}",
        args.epochs,
        args.threads,
        recsys::runtime::device::device_name(ctx.device)
    );
    let script = crate::twins::script("bench.py")?;
    let py_args = vec![
        "--notebooks".to_string(),
        args.notebooks.join(","),
        "--epochs".into(),
        args.epochs.to_string(),
        "--threads".into(),
        args.threads.to_string(),
    ];
    say!(ctx, "python: {} {}", script.display(), py_args.join(" "));
    let (py, _) = crate::compare::run_python_json(&script, &py_args)?;
    let mut rows = Vec::new();
    say!(
        ctx,
        "\n| notebook | loop | batch | steps | py notebook loop steps/s | py tensor steps/s | rust steps/s | rust / notebook loop | rust / tensor |"
    );
    say!(ctx, "|---|---|---|---|---|---|---|---|---|");
    for nb in &args.notebooks {
        let benched = find_loop(nb)?;
        let t = (benched.run)(ctx, args.epochs)?;
        let rust = t.steps as f64 / t.secs;
        let p = &py[nb.as_str()];
        let (dl, tensor) = (
            p["dataloader"].as_f64().unwrap_or(f64::NAN),
            p["tensor"].as_f64().unwrap_or(f64::NAN),
        );
        if p["steps"].as_u64() != Some(t.steps as u64) {
            say!(
                ctx,
                "(note: {nb}: Python ran {} steps, Rust {})",
                p["steps"],
                t.steps
            );
        }
        say!(
            ctx,
            "| {nb} | {} | {} | {} | {dl:.0} | {tensor:.0} | {rust:.0} | {:.2}x | {:.2}x |",
            benched.name,
            t.batch_size,
            t.steps,
            rust / dl,
            rust / tensor
        );
        rows.push(json!({
            "notebook": nb, "loop": benched.name, "batch_size": t.batch_size, "rows": t.rows,
            "steps": t.steps, "python_notebook_loop": dl, "python_tensor": tensor, "rust": rust,
            "rust_over_notebook_loop": rust / dl, "rust_over_tensor": rust / tensor,
            "goal_met": rust / dl >= 5.0 && rust / tensor >= 2.0,
            "notebook_loop_goal_met": rust / dl >= 5.0, "tensor_goal_met": rust / tensor >= 2.0,
        }));
    }
    let mut result = json!({
        "epochs": args.epochs, "threads": args.threads, "torch": py["torch"],
        "loops": rows,
    });
    if args.breakdown {
        say!(ctx, "\nRust step time, microseconds per step:");
        say!(
            ctx,
            "| notebook | zero_grad | forward | backward | optimizer step | total |"
        );
        say!(ctx, "|---|---|---|---|---|---|");
        let mut parts = Vec::new();
        for nb in &args.notebooks {
            let [z, f, b, o] = (find_loop(nb)?.breakdown)(ctx)?;
            say!(
                ctx,
                "| {nb} | {z:.0} | {f:.0} | {b:.0} | {o:.0} | {:.0} |",
                z + f + b + o
            );
            parts.push(json!({"notebook": nb, "zero_grad_us": z, "forward_us": f,
                "backward_us": b, "step_us": o}));
        }
        result["breakdown"] = json!(parts);
    }
    if args.reproduce {
        result["reproduce_all"] = reproduce_wall(ctx, args.threads)?;
    }
    Ok(result)
}

/// Wall time of every port with its defaults (in-process, output quieted) against the twins
/// run with the same settings (one process each; 003's twin once per mode). The twins get
/// `OMP_NUM_THREADS=threads`, for those that do not set torch's thread count themselves.
fn reproduce_wall(ctx: &Context, threads: i32) -> Result<Value> {
    let out_dir = std::env::temp_dir().join(format!("recsys-bench-{}", std::process::id()));
    let quiet = Context {
        json: true,
        force: true,
        ..ctx.clone()
    };
    let mut per = Vec::new();
    let (mut rust_total, mut py_total) = (0.0, 0.0);
    say!(ctx, "\nreproduce all (each notebook's defaults):");
    say!(ctx, "| notebook | rust s | python s | python / rust |");
    say!(ctx, "|---|---|---|---|");
    for &entry in &registry::NOTEBOOKS {
        let nb = entry.id();
        let nb_ctx = Context {
            out_dir: out_dir.join(nb),
            ..quiet.clone()
        };
        let start = Instant::now();
        crate::reproduce::run_notebook(&nb_ctx, entry)?;
        let rust_s = start.elapsed().as_secs_f64();
        let py_s = if let Ok(twin) = crate::compare::twin_path(nb) {
            let mut s = 0.0;
            // The twin runs what `reproduce` ran: the same flags (003 and 004: faithful only).
            let flags = crate::reproduce::reproduce_args(entry);
            for run in crate::compare::plan(nb, &flags)?.twin_runs {
                let mut args = run.args.clone();
                args.push("--json".into());
                let env = [("OMP_NUM_THREADS", threads.to_string())];
                s += crate::compare::run_python_json_env(&twin, &args, &env)?.1;
            }
            Some(s)
        } else {
            None
        };
        rust_total += rust_s;
        match py_s {
            Some(p) => {
                py_total += p;
                say!(ctx, "| {nb} | {rust_s:.1} | {p:.1} | {:.2}x |", p / rust_s);
            }
            None => say!(ctx, "| {nb} | {rust_s:.1} | (no twin) | |"),
        }
        per.push(json!({ "notebook": nb, "rust_s": rust_s, "python_s": py_s }));
    }
    let _ = std::fs::remove_dir_all(&out_dir);
    say!(
        ctx,
        "| all | {rust_total:.1} | {py_total:.1} | {:.2}x |",
        py_total / rust_total
    );
    Ok(json!({ "notebooks": per, "rust_s": rust_total, "python_s": py_total }))
}
