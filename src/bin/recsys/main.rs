//! `recsys`: the command line. Parsing and printing only; the library does the work, and the
//! notebook ports (`notebooks-ported/`) are compiled in as [`notebooks`].

mod app;
mod args;
mod bench;
mod compare;
#[path = "../../../notebooks-ported/mod.rs"]
mod notebooks;
mod reproduce;
#[cfg(test)]
mod tests;
mod twins;

use anyhow::Result;
use clap::{Parser, Subcommand};
use serde_json::{json, Value};

use crate::args::{GlobalArgs, RatingsArgs};
use recsys::data::{self, checksum, Dataset};
use recsys::{say, Context};

/// Recommender-system tutorials ported from PyTorch to Rust (tch + polars).
///
/// Start with `recsys doctor` to see what libtorch and data this machine has.
#[derive(Parser, Debug)]
#[command(name = "recsys", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Report tch and libtorch versions, CUDA, threads, and the data files' checksums.
    Doctor,
    /// Inspect, verify and download ratings data.
    #[command(subcommand)]
    Data(DataCommand),
    /// Run the notebook ports and set each number beside the notebook's.
    ///
    /// The ports run with the notebooks' own settings, in faithful mode. Prints a table per
    /// notebook (quantity | notebook | this run | status: exact, within band or differs), then a
    /// summary, and writes report.md, report.json and the plots into --out (never over existing
    /// files without --force).
    Reproduce {
        /// all, or one of 000, 001, 002, 003, 004.
        #[arg(default_value = "all")]
        which: String,
        /// Also run each notebook's PyTorch twin with the same flags and seed, and set its
        /// losses and metrics beside the port's (as `recsys compare` does; needs the project's
        /// Python, and about 2.5 times as long again).
        #[arg(long)]
        with_python: bool,
    },
    #[command(flatten)]
    App(crate::app::AppCommand),
    /// Run a notebook's Rust port beside its PyTorch twin, epoch by epoch.
    ///
    /// Both run with the same --seed (default 0); the twin is notebooks-ported/python/nbXXX.py,
    /// run with the project virtualenv's Python. Prints every epoch's loss side by side with the
    /// relative difference, the final metrics, and wall time with the ratio.
    ///
    /// Flags after `--` go to both (translated where the twin names them differently), e.g.
    /// `recsys compare 003 --seed 0 -- --epochs 2`. The seed defaults to 0. The port's own
    /// output goes to stderr, the comparison to stdout.
    Compare {
        /// 000, 001, 002, 003 or 004.
        notebook: String,
        /// Flags for the port and the twin.
        #[arg(last = true)]
        flags: Vec<String>,
    },
    /// Steps per second of each notebook's training loop: PyTorch with the notebook's own loop,
    /// PyTorch with tensor batches, and Rust, with the ratios (same data, model, batch size
    /// and torch threads on both sides).
    Bench(crate::bench::Args),
    /// Run one notebook's port: it prints what the notebook printed, in its order.
    #[command(subcommand)]
    Notebook(crate::notebooks::registry::NotebookCommand),
}

#[derive(Subcommand, Debug)]
enum DataCommand {
    /// Rows, users, items, the rating histogram and the time range of a ratings table.
    Info(RatingsArgs),
    /// Download a GroupLens archive into the cache directory, verified by its published MD5.
    Download {
        /// Which release.
        #[arg(value_parser = crate::args::named::<Dataset>(&Dataset::NAMES))]
        dataset: Dataset,
        /// Replace an archive already in the cache.
        #[arg(long)]
        replace: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let ctx = cli.global.context()?;
    let result = match cli.command {
        Command::Doctor => doctor(&ctx)?,
        Command::Reproduce { which, with_python } => {
            let list = match which.as_str() {
                "all" => crate::notebooks::registry::NOTEBOOKS.to_vec(),
                one => vec![crate::notebooks::registry::find(one)?],
            };
            crate::reproduce::reproduce(&ctx, &list, with_python)?
        }
        Command::App(cmd) => crate::app::run(&ctx, cmd)?,
        Command::Compare { notebook, flags } => crate::compare::compare(&ctx, &notebook, &flags)?,
        Command::Bench(args) => crate::bench::bench(&ctx, &args)?,
        Command::Notebook(which) => serde_json::to_value(which.run(&ctx)?.report)?,
        Command::Data(DataCommand::Info(args)) => data_info(&ctx, &args)?,
        Command::Data(DataCommand::Download { dataset, replace }) => {
            let path = data::download::download(
                dataset,
                &ctx.data.cache,
                &data::download::base_url(),
                replace,
            )?;
            say!(ctx, "{} is at {}", dataset.name(), path.display());
            json!({ "dataset": dataset.name(), "path": path })
        }
    };
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    }
    Ok(())
}

fn doctor(ctx: &Context) -> Result<Value> {
    let info = recsys::runtime::device::torch_info();
    say!(ctx, "tch              {}", info.tch_version);
    say!(
        ctx,
        "libtorch         {}",
        info.libtorch_version.as_deref().unwrap_or("unknown")
    );
    say!(
        ctx,
        "libtorch loaded  {}",
        info.libtorch_loaded.as_deref().unwrap_or("unknown")
    );
    say!(ctx, "libtorch built   {}", info.libtorch_build_dir);
    say!(ctx, "CUDA available   {}", info.cuda_available);
    say!(ctx, "CUDA devices     {}", info.cuda_device_count);
    say!(ctx, "cuDNN available  {}", info.cudnn_available);
    say!(ctx, "threads          {}", info.threads);
    let adam = recsys::optim::cpu_kernel();
    let fast = cfg!(feature = "fast");
    say!(
        ctx,
        "feature fast     {}",
        if fast {
            "on (fused Adam, Rust dropout masks, sparse lookups)"
        } else {
            "off (plain tch)"
        }
    );
    if fast {
        say!(
            ctx,
            "Adam on the CPU  fused, bit-identical to libtorch's ({adam} loops)"
        );
    } else {
        say!(ctx, "Adam on the CPU  {adam}");
    }
    let rust_masks = recsys::rng::rust_masks_match_libtorch();
    say!(
        ctx,
        "dropout masks    {}",
        if rust_masks {
            "drawn in Rust from libtorch's generator (checked bit for bit against its bernoulli_)"
        } else if fast {
            "libtorch's bernoulli_ (the Rust draw does not match this libtorch)"
        } else {
            "libtorch's bernoulli_"
        }
    );
    say!(
        ctx,
        "device chosen    {}",
        recsys::runtime::device::device_name(ctx.device)
    );
    say!(ctx, "shipped data     {}", ctx.data.shipped.display());
    let files = checksum::check_dir(&ctx.data.shipped)?;
    let mut file_json = Vec::new();
    for (name, status) in &files {
        let text = match status {
            checksum::FileStatus::Ok => "ok".to_string(),
            checksum::FileStatus::Missing => "MISSING".to_string(),
            checksum::FileStatus::Mismatch { found, .. } => {
                format!("CHECKSUM MISMATCH (found {found})")
            }
        };
        say!(ctx, "  {name:<24} {text}");
        file_json.push(json!({ "file": name, "status": status }));
    }
    say!(ctx, "download cache   {}", ctx.data.cache.display());
    let mut datasets = Vec::new();
    for d in [Dataset::Ml100k, Dataset::MlLatestSmall] {
        let df = d.ratings(&ctx.data)?;
        let s = data::summarize(&df)?;
        say!(
            ctx,
            "  loaded {:<16} {} ratings, {} users, {} items",
            d.name(),
            s.rows,
            s.users,
            s.items
        );
        datasets.push(json!({ "dataset": d.name(), "summary": s }));
    }
    let ok = files.iter().all(|(_, s)| *s == checksum::FileStatus::Ok);
    Ok(
        json!({ "torch": info, "fast": fast, "adam_cpu_kernel": adam, "rust_dropout_masks": rust_masks, "device": recsys::runtime::device::device_name(ctx.device), "data_files": file_json, "data_ok": ok, "datasets": datasets }),
    )
}

fn data_info(ctx: &Context, args: &RatingsArgs) -> Result<Value> {
    let source = args.source()?;
    let df = source.load(&ctx.data)?;
    let s = data::summarize(&df)?;
    say!(ctx, "{}", args.data);
    say!(ctx, "rows   {}", s.rows);
    say!(ctx, "users  {}", s.users);
    say!(ctx, "items  {}", s.items);
    say!(ctx, "ratings:");
    let max = s.histogram.iter().map(|h| h.1).max().unwrap_or(1).max(1);
    for (value, count) in &s.histogram {
        let bar = "#".repeat((40 * count).div_ceil(max));
        say!(ctx, "  {value:>5} {count:>9} {bar}");
    }
    say!(
        ctx,
        "time   {} .. {} (unix seconds; {} .. {} UTC)",
        s.first_timestamp,
        s.last_timestamp,
        recsys::data::format_utc(s.first_timestamp),
        recsys::data::format_utc(s.last_timestamp)
    );
    Ok(json!({ "data": args.data, "summary": s }))
}
