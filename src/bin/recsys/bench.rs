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
use recsys::optim::Adam;
use serde_json::{json, Value};
use tch::{nn, Device, Kind, Reduction, Tensor};

use recsys::data::Dataset;
use recsys::models::explicit::{ExplicitConfig, ExplicitFactorizationModel};
use recsys::models::mf::{bce_epoch, MatrixFactorization, PairScorer};
use recsys::models::recommender_net::{
    self, HiddenLayers, RatingBatches, RecommenderNet, RecommenderNetConfig,
};
use recsys::models::two_tower::{self, BaseTwoHead, TowerTrain};
use recsys::prep::split::random::random_train_test_split;
use recsys::prep::{f64_values, i64_values, IdMap};
use recsys::runtime::context::Context;
use recsys::say;

/// The notebooks with a torch training loop to time.
pub const BENCHED: [&str; 4] = ["000", "002", "003", "004"];

/// Options of `recsys bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Notebooks to time (comma-separated): 000 (unsampled MF), 002 (explicit factorization),
    /// 003 (two-tower, train split), 004 (RecommenderNet as the notebook builds it).
    #[arg(long, value_delimiter = ',', default_values_t = BENCHED.map(String::from))]
    pub notebooks: Vec<String>,
    /// Epochs of each loop on each side.
    #[arg(long, default_value_t = 2)]
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

/// Steps and seconds of one timed Rust loop.
struct Timed {
    steps: usize,
    secs: f64,
    batch_size: i64,
    rows: usize,
}

fn time_epochs(epochs: usize, mut epoch: impl FnMut() -> Result<usize>) -> Result<(usize, f64)> {
    let start = Instant::now();
    let mut steps = 0;
    for _ in 0..epochs {
        steps += epoch()?;
    }
    Ok((steps, start.elapsed().as_secs_f64()))
}

/// Notebook 000's training pairs: rating > 3, local dates (timestamp/1000 + 1 h) before
/// 1970-01-18, ids numbered in order of first appearance (as bench.py builds them).
fn nb000_pairs(ctx: &Context) -> Result<(Vec<i64>, Vec<i64>, i64, i64)> {
    let df = Dataset::MlLatestSmall.ratings(&ctx.data)?;
    let users: Vec<i64> = i64_values(&df, "user_id")?.collect();
    let items: Vec<i64> = i64_values(&df, "item_id")?.collect();
    let ratings: Vec<f64> = f64_values(&df, "rating")?.collect();
    let stamps: Vec<i64> = i64_values(&df, "timestamp")?.collect();
    let keep: Vec<usize> = (0..users.len())
        .filter(|&k| ratings[k] > 3.0 && (stamps[k] as f64 / 1000.0 + 3600.0) < 17.0 * 86400.0)
        .collect();
    let umap = IdMap::fit(keep.iter().map(|&k| users[k]));
    let imap = IdMap::fit(keep.iter().map(|&k| items[k]));
    let u = keep
        .iter()
        .map(|&k| umap.index(users[k]).unwrap())
        .collect();
    let i = keep
        .iter()
        .map(|&k| imap.index(items[k]).unwrap())
        .collect();
    Ok((u, i, umap.len() as i64, imap.len() as i64))
}

/// 000: MatrixFactorization (20 factors), BCE-with-logits on positives, Adam 1e-3, batch 64,
/// with the port's epoch loop ([`bce_epoch`], which `train_fn` in nb000.rs runs).
fn rust_000(ctx: &Context, epochs: usize) -> Result<Timed> {
    let (users, items, n_users, n_items) = nb000_pairs(ctx)?;
    let dev = ctx.device;
    tch::manual_seed(0);
    let vs = nn::VarStore::new(dev);
    let model = MatrixFactorization::new(&vs.root(), n_users, n_items, 20);
    let mut opt = Adam::new(&vs, 1e-3)?;
    let u_all = Tensor::from_slice(&users).to_device(dev);
    let i_all = Tensor::from_slice(&items).to_device(dev);
    let n = users.len() as i64;
    let y_all = Tensor::ones([n], (Kind::Float, dev));
    let bs = 64;
    let (steps, secs) = time_epochs(epochs, || {
        // The port's loop: one shuffle per epoch, then contiguous slices; losses read once.
        let losses = bce_epoch(&model, &mut opt, (&u_all, &i_all, &y_all), bs, || {})?;
        f64::try_from(losses.sum(Kind::Double))?;
        Ok(losses.size()[0] as usize)
    })?;
    Ok(Timed {
        steps,
        secs,
        batch_size: bs,
        rows: users.len(),
    })
}

/// 002: Spotlight's ExplicitFactorizationModel (dim 32, Adam 1e-2, batch 256) on the 80% split.
fn rust_002(ctx: &Context, epochs: usize) -> Result<Timed> {
    let data = recsys::data::interactions::Interactions::from_ratings(
        &Dataset::Ml100k.ratings(&ctx.data)?,
    )?;
    tch::manual_seed(0);
    let (train, _) = random_train_test_split(&data, 0.2);
    let (u, i, r) = train.tensors(ctx.device);
    let config = ExplicitConfig::default();
    let bs = config.batch_size;
    let mut model =
        ExplicitFactorizationModel::new(train.num_users, train.num_items, config, ctx.device)?;
    let per_epoch = train.len().div_ceil(bs as usize);
    let (steps, secs) = time_epochs(epochs, || {
        model.fit_epoch(&u, &i, &r)?;
        Ok(per_epoch)
    })?;
    Ok(Timed {
        steps,
        secs,
        batch_size: bs,
        rows: train.len(),
    })
}

/// 003's train split as the two-tower dataset (10 negatives), with the tower sizes
/// `(n_users, n_items)`.
fn tower_train_data(ctx: &Context) -> Result<(TowerTrain, i64, i64)> {
    let quiet = Context {
        json: true,
        ..ctx.clone()
    };
    let study = crate::notebooks::nb003::prepare(&quiet)?;
    let (tu, ti): (Vec<i64>, Vec<i64>) = study.train.iter().copied().unzip();
    let n_items = study.items.len() as i64;
    let data = TowerTrain::new(&tu, &ti, 10, n_items, ctx.device)?;
    Ok((data, study.users.len() as i64, n_items))
}

/// 003: BaseTwoHead (dim 16, 10 negatives, Adam 1e-2, batch 256) on the train split.
fn rust_003(ctx: &Context, epochs: usize) -> Result<Timed> {
    let (data, n_users, n_items) = tower_train_data(ctx)?;
    tch::manual_seed(0);
    let vs = nn::VarStore::new(ctx.device);
    let model = BaseTwoHead::new(&vs.root(), n_users, n_items, 16);
    let mut opt = two_tower::adam(&vs, 0.01)?;
    let bs = 256;
    let (steps, secs) = time_epochs(epochs, || {
        two_tower::train_epoch(&model, &mut opt, &data, bs, || {})?;
        Ok(data.num_batches(bs))
    })?;
    Ok(Timed {
        steps,
        secs,
        batch_size: bs as i64,
        rows: data.len(),
    })
}

/// 004's data: ml-100k in file order as batches of `batch_size` on the device, with the sizes
/// `(n_users, n_movies)` (ids from 0).
fn rating_batches_004(ctx: &Context, batch_size: i64) -> Result<(RatingBatches, i64, i64)> {
    let df = Dataset::Ml100k.ratings(&ctx.data)?;
    let users: Vec<i64> = i64_values(&df, "user_id")?.map(|u| u - 1).collect();
    let movies: Vec<i64> = i64_values(&df, "item_id")?.map(|m| m - 1).collect();
    let rates: Vec<f32> = f64_values(&df, "rating")?.map(|r| r as f32).collect();
    let n_users = users.iter().max().map_or(0, |m| m + 1);
    let n_movies = movies.iter().max().map_or(0, |m| m + 1);
    let batches = RatingBatches::new(&users, &movies, &rates, batch_size, ctx.device)?;
    Ok((batches, n_users, n_movies))
}

/// 004: RecommenderNet as the notebook builds it (hidden layers unregistered), batch 128 in
/// file order, Adam 1e-3.
fn rust_004(ctx: &Context, epochs: usize) -> Result<Timed> {
    let bs = 128;
    let (batches, n_users, n_movies) = rating_batches_004(ctx, bs)?;
    tch::manual_seed(0);
    let net = RecommenderNet::new(
        n_users,
        n_movies,
        &RecommenderNetConfig::default(),
        HiddenLayers::Unregistered,
        ctx.device,
    )?;
    let mut opt = net.adam(1e-3)?;
    let (steps, secs) = time_epochs(epochs, || {
        let losses = recommender_net::train_epoch(&net, &mut opt, &batches)?;
        f64::try_from(losses.mean)?;
        Ok(batches.len())
    })?;
    Ok(Timed {
        steps,
        secs,
        batch_size: bs,
        rows: batches.n_ratings as usize,
    })
}

fn rust_loop(ctx: &Context, notebook: &str, epochs: usize) -> Result<Timed> {
    match notebook {
        "000" => rust_000(ctx, epochs),
        "002" => rust_002(ctx, epochs),
        "003" => rust_003(ctx, epochs),
        "004" => rust_004(ctx, epochs),
        other => bail!(
            "no benchmark for notebook {other:?}; have {} (001 trains without torch)",
            BENCHED.join(", ")
        ),
    }
}

/// The training loop each notebook's row times.
fn loop_name(notebook: &str) -> &'static str {
    match notebook {
        "000" => "MF, unsampled",
        "002" => "explicit MF",
        "003" => "two-tower",
        "004" => "RecommenderNet",
        _ => "?",
    }
}

/// Run the benchmark: print the table and return it as JSON.
pub fn bench(ctx: &Context, args: &Args) -> Result<Value> {
    if args.epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    if let Some(bad) = args
        .notebooks
        .iter()
        .find(|n| !BENCHED.contains(&n.as_str()))
    {
        bail!(
            "no benchmark for notebook {bad:?}; have {} (001 trains without torch)",
            BENCHED.join(", ")
        );
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
        let t = rust_loop(ctx, nb, args.epochs)?;
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
            loop_name(nb),
            t.batch_size,
            t.steps,
            rust / dl,
            rust / tensor
        );
        rows.push(json!({
            "notebook": nb, "loop": loop_name(nb), "batch_size": t.batch_size, "rows": t.rows,
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
            let [z, f, b, o] = breakdown(ctx, nb)?;
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
    for nb in crate::reproduce::NOTEBOOKS {
        let nb_ctx = Context {
            out_dir: out_dir.join(nb),
            ..quiet.clone()
        };
        let start = Instant::now();
        crate::reproduce::run_notebook(&nb_ctx, nb)?;
        let rust_s = start.elapsed().as_secs_f64();
        let py_s = if let Ok(twin) = crate::compare::twin_path(nb) {
            let mut s = 0.0;
            // The twin runs what `reproduce` ran: the same flags (003 and 004: faithful only).
            let flags = crate::reproduce::reproduce_args(nb);
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

/// Mean microseconds per step of zero_grad, forward (`loss_of(step)`), backward and the optimizer
/// step over `steps` steps, after 20 warm-up steps.
fn phases(
    opt: &mut Adam,
    steps: usize,
    mut loss_of: impl FnMut(usize) -> Tensor,
) -> Result<[f64; 4]> {
    let mut t = [0.0; 4];
    for k in 0..steps + 20 {
        let t0 = Instant::now();
        opt.zero_grad()?;
        let t1 = Instant::now();
        let loss = loss_of(k % steps);
        let t2 = Instant::now();
        loss.backward();
        let t3 = Instant::now();
        opt.step()?;
        let t4 = Instant::now();
        if k >= 20 {
            for (slot, d) in t.iter_mut().zip([t1 - t0, t2 - t1, t3 - t2, t4 - t3]) {
                *slot += d.as_secs_f64() * 1e6 / steps as f64;
            }
        }
    }
    Ok(t)
}

/// Where a Rust step's time goes, per notebook (see [`phases`]).
fn breakdown(ctx: &Context, notebook: &str) -> Result<[f64; 4]> {
    let dev = ctx.device;
    let steps = 400;
    tch::manual_seed(0);
    let vs = nn::VarStore::new(dev);
    match notebook {
        "000" => {
            let (users, items, n_users, n_items) = nb000_pairs(ctx)?;
            let model = MatrixFactorization::new(&vs.root(), n_users, n_items, 20);
            let mut opt = Adam::new(&vs, 1e-3)?;
            let u = Tensor::from_slice(&users).to_device(dev);
            let i = Tensor::from_slice(&items).to_device(dev);
            let y = Tensor::ones([64], (Kind::Float, dev));
            phases(&mut opt, steps, |k| {
                let (u, i) = (
                    u.narrow(0, 64 * k as i64, 64),
                    i.narrow(0, 64 * k as i64, 64),
                );
                model
                    .score(&u, &i)
                    .binary_cross_entropy_with_logits::<Tensor>(&y, None, None, Reduction::Mean)
            })
        }
        "002" => {
            let data = recsys::data::interactions::Interactions::from_ratings(
                &Dataset::Ml100k.ratings(&ctx.data)?,
            )?;
            let (u, i, r) = data.tensors(dev);
            let net = recsys::models::explicit::BilinearNet::new(
                &vs.root(),
                data.num_users,
                data.num_items,
                32,
            );
            let mut opt = Adam::new(&vs, 1e-2)?;
            let steps = steps.min(data.len() / 256);
            phases(&mut opt, steps, |k| {
                let s = 256 * k as i64;
                let (u, i, r) = (
                    u.narrow(0, s, 256),
                    i.narrow(0, s, 256),
                    r.narrow(0, s, 256),
                );
                (r - net.forward(&u, &i)).square().mean(Kind::Float)
            })
        }
        "003" => {
            let (data, n_users, n_items) = tower_train_data(ctx)?;
            let batches = data.batches(256, true);
            let model = BaseTwoHead::new(&vs.root(), n_users, n_items, 16);
            let mut opt = two_tower::adam(&vs, 0.01)?;
            let n = batches.len().min(steps);
            phases(&mut opt, n, |k| two_tower::batch_loss(&model, &batches[k]))
        }
        "004" => {
            let (batches, n_users, n_movies) = rating_batches_004(ctx, 128)?;
            let net = RecommenderNet::new(
                n_users,
                n_movies,
                &RecommenderNetConfig::default(),
                HiddenLayers::Unregistered,
                dev,
            )?;
            let mut opt = net.adam(1e-3)?;
            phases(&mut opt, steps, |k| {
                let b = &batches.batches[k];
                let out = net.forward_t(&b.users, &b.movies, true).squeeze_dim(-1);
                b.ratings.mse_loss(&out, Reduction::Mean)
            })
        }
        other => bail!("no benchmark for notebook {other:?}"),
    }
}
