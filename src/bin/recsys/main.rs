//! `recsys`: the command line. Parsing and printing only; the library does the work, and the
//! notebook ports (`notebooks-ported/`) are compiled in as [`notebooks`].

mod args;
mod bench;
mod compare;
mod data;
mod doctor;
mod evaluate;
mod experiment;
mod export;
mod models;
#[path = "../../../notebooks-ported/mod.rs"]
mod notebooks;
mod print;
mod recommend;
mod reproduce;
mod selftest;
mod split;
#[cfg(test)]
mod tests;
mod train;
mod twins;

use anyhow::Result;
use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::args::GlobalArgs;
use recsys::runtime::context::{note_stdout, stdout_status};
use recsys::Context;

/// Recommender-system tutorials ported from PyTorch to Rust (tch + polars).
///
/// Start with `recsys doctor` to see what libtorch and data this machine has.
#[derive(Parser, Debug)]
#[command(name = "recsys", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands, one file each.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Report tch and libtorch versions, CUDA, threads, and the data files' checksums.
    Doctor,
    /// Inspect, verify and download ratings data.
    #[command(subcommand)]
    Data(crate::data::DataCommand),
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
    /// Train a model on any ratings data, evaluate it on its test split, and save it.
    ///
    /// Data: ml-100k, ml-latest-small, a downloaded MovieLens (ml-1m, ml-25m, ml-32m), or a
    /// CSV/TSV file with --sep and the column flags. Models: every model of the registry, classic
    /// and network alike (listed below, and by `recsys models` with their settings); settings by
    /// --set 'key=value ...' or, for the networks, by their flags. --save DIR writes
    /// model.safetensors and model.json (name, settings, id maps, data fingerprints), atomically,
    /// never over an existing DIR without --force. The evaluation printed is the one
    /// `recsys evaluate --model DIR` prints.
    ///
    /// Example: recsys train ml-100k --model ease --set lambda=500 --save ease-model
    Train(Box<crate::train::TrainArgs>),
    /// Evaluate a saved model (--model DIR) on its test split, or score recommendation lists
    /// made elsewhere (--recs, --truth) with RePlay's definitions.
    ///
    /// --model: explicit models get RMSE = sqrt(mean((r̂ - r)²)) and MAE = mean(|r̂ - r|) over
    /// the test ratings; ranking models get the metrics below under two named protocols:
    /// "full" ranks all items with the user's train items excluded; "sampled" (notebook 000)
    /// ranks the test positives among 100 random non-positive items, which flatters models.
    /// Coverage there is over the model's items. A model whose scores or predictions are not
    /// finite (NaN/inf: training diverged) is refused with an error, never ranked.
    ///
    /// --recs: files are CSV with a header naming user_id and item_id. --recs may add one column
    /// that orders each user's list: rating or score (higher is better) or rank (lower is
    /// better); equal values, or no such column, keep file order. Its values must be finite
    /// (NaN/inf is refused, naming the line). An item listed more than once for a user keeps
    /// only its best-ranked row, before the cut at k (a note counts the rows dropped). The truth
    /// is a set per user: repeated rows count once.
    /// Per user, with hits@k the relevant items among the top k and rel the relevant set:
    /// Precision@k = hits@k/k; Recall@k = hits@k/|rel|; HitRate@k = 1 if hits@k > 0;
    /// NDCG@k = Σ_hits 1/log2(rank+1) / Σ_{r=1..min(k,|rel|)} 1/log2(r+1);
    /// MRR@k = 1/rank of the first hit; MAP@k = Σ_hits precision@rank / min(k,|rel|).
    /// Each is averaged over the users of the ground truth (no recommendations scores 0).
    /// Coverage@k = distinct recommended items (top k) that appear in --train / distinct items
    /// in --train (RePlay 0.22: items absent from train do not count).
    Evaluate(crate::evaluate::EvaluateArgs),
    /// Several models on the same splits over several seeds, in one table with mean ± sd,
    /// the best of each column, and a paired test of the best model against each other.
    ///
    /// Ranking models (implicit feedback, full ranking with train items excluded, and the
    /// sampled protocol beside it) or rating models (RMSE, MAE), from the registry (listed
    /// below, and by `recsys models` with their settings). --set and --grid keys are checked
    /// against the models' settings before any work. Prints each seed's split with its
    /// fingerprints; writes experiment.csv, runs.csv (with each run's settings), per_user.csv
    /// (the numbers behind the paired tests), report.md and experiment.png into --out.
    ///
    /// Example: recsys experiment ml-100k --models pop,ease,als --set 'als.epochs=30' --seeds 3
    Experiment(Box<crate::experiment::ExperimentArgs>),
    /// Top-k items for a user from a saved model.
    ///
    /// Items are given in the data's original ids, with titles where the dataset has them. Items the user rated are excluded unless --include-seen.
    /// A user the model never saw gets the most popular train items, labelled as a fallback.
    Recommend(crate::recommend::RecommendArgs),
    /// The k items nearest to an item by the saved model's item similarity: the cosine of its
    /// item vectors (mf, als, bpr, svd, ...), or its item-item weights (item-knn, ease).
    ///
    /// Example: recsys similar --model ease-model --item 50
    Similar(crate::recommend::SimilarArgs),
    /// Every model of the registry: its task, whether it follows --device, its settings with
    /// their defaults, and a line of help.
    Models,
    /// Write the train and test parts (and validation, when asked) of a split, cut exactly as
    /// `train` and `experiment` cut them at the same seed, with the same fingerprints.
    ///
    /// Example: recsys split ml-100k --split stratified --out split-dir, then
    /// recsys experiment split-dir/train.csv --test-file split-dir/test.csv
    Split(crate::split::SplitCommandArgs),
    /// Run a notebook's Rust port beside its PyTorch twin, epoch by epoch.
    ///
    /// Both run with the same --seed (default: the notebook's own, as `reproduce` uses); the twin is notebooks-ported/python/nbXXX.py,
    /// run with the project virtualenv's Python. Prints every epoch's loss side by side with the
    /// relative difference, the final metrics, and wall time with the ratio.
    ///
    /// Flags after `--` go to both (translated where the twin names them differently), e.g.
    /// `recsys compare 003 --seed 0 -- --epochs 2`. The port's own
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
    /// Train every model a few seeded steps on --device and on the CPU from the same weights
    /// and batches: loss agreement, that everything lives on the device, and steps per second.
    ///
    /// Exits non-zero when a model raises, leaves a tensor off the device, or disagrees with the
    /// CPU beyond its tolerance (relative loss difference 1e-3; GRU/LSTM 1e-2). On a machine
    /// without CUDA, `--device cuda` stops at once: CUDA is not available.
    Selftest(crate::selftest::SelftestArgs),
    /// Run one notebook's port: it prints what the notebook printed, in its order.
    #[command(subcommand)]
    Notebook(crate::notebooks::registry::NotebookCommand),
}

fn main() {
    install_panic_hook();
    if let Err(e) = recsys::runtime::cleanup::install_signal_handlers() {
        eprintln!(
            "warning: cannot catch SIGINT/SIGTERM ({e}); an interrupt may leave .tmp-* files"
        );
    }
    let cli = parse_cli();
    if let Err(e) = run(cli) {
        // one line, and a bounded one: whatever an error quotes, it never floods the terminal
        let text = format!("{e:#}");
        eprintln!("error: {}", recsys::data::excerpt::clipped(&text, 2000));
        std::process::exit(1);
    }
}

/// The command line, with the registry's models listed at the end of `train --help` and
/// `experiment --help`.
fn parse_cli() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let models = crate::models::help_text();
    let command = Cli::command()
        .mut_subcommand("train", |c| c.after_long_help(models.clone()))
        .mut_subcommand("experiment", |c| c.after_long_help(models.clone()));
    let matches = command.try_get_matches().unwrap_or_else(|e| one_line(e));
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// A flag whose value is refused (`-k 0`, `--seeds 1e18`) is one line naming the flag, the
/// value and its bounds, with clap's usage status (2); help, version and other usage errors
/// print as clap prints them.
fn one_line(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::ValueValidation) {
        use clap::error::ContextKind;
        let arg = e.get(ContextKind::InvalidArg).map(ToString::to_string);
        let value = e.get(ContextKind::InvalidValue).map(ToString::to_string);
        let why = std::error::Error::source(&e).map(ToString::to_string);
        match (arg, value, why) {
            (Some(arg), Some(value), Some(why)) => eprintln!(
                "error: invalid value {} for {arg}: {why}",
                recsys::data::quoted(&value)
            ),
            _ => eprintln!("error: {}", recsys::data::excerpt(&e.to_string())),
        }
        std::process::exit(2);
    }
    e.exit()
}

fn run(cli: Cli) -> Result<()> {
    use std::io::Write;
    // Output files first, stdout second: a closed stdout never stops `dispatch` (see
    // `note_stdout`), so whatever it was asked to write is written or its error is returned.
    let result = cli
        .global
        .context()
        .and_then(|ctx| Ok((dispatch(&ctx, cli.command)?, ctx)));
    // A default output folder that nothing went into is removed, whatever the outcome.
    recsys::runtime::files::release_fresh_dirs();
    let (result, ctx) = result.map_err(recsys::runtime::files::explain)?;
    if ctx.json {
        let text = serde_json::to_string_pretty(&result)?;
        note_stdout(writeln!(std::io::stdout().lock(), "{text}"));
    }
    stdout_status()
}

/// Panics become one line on stderr, never a backtrace (unless `RUST_BACKTRACE` asks for one),
/// and anything else is reported as the bug it is. Our temporaries are removed either way. Our
/// own printing never panics (`say!` records stdout errors and carries on); a `println!` that
/// panics has cut its command short, so even a closed pipe exits 1 there: what was asked for
/// was not all done.
fn install_panic_hook() {
    if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        use std::io::Write;
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        recsys::runtime::cleanup::clean_up();
        recsys::runtime::files::release_fresh_dirs();
        // A closed stderr must not panic again inside the hook (that aborts).
        let mut err = std::io::stderr().lock();
        if let Some(rest) = msg.strip_prefix("failed printing to stdout: ") {
            let _ = if rest.contains("Broken pipe") {
                writeln!(
                    err,
                    "error: stdout was closed before the command finished, so it stopped; \
                     what it had not written yet was not written"
                )
            } else {
                writeln!(err, "error: writing to stdout: {rest}")
            };
            std::process::exit(1);
        }
        if msg.starts_with("failed printing to stderr: ") {
            // Nowhere left to say anything (`2>&1 | head` after the reader left): the
            // command did not finish, or its error could not be shown; either way, not 0.
            std::process::exit(1);
        }
        let first = msg.lines().next().unwrap_or("");
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(
            err,
            "error: internal error{at}: {first} (a bug in recsys; RUST_BACKTRACE=1 shows where)"
        );
        std::process::exit(101);
    }));
}

/// Run one command; its result is what `--json` prints.
fn dispatch(ctx: &Context, command: Command) -> Result<Value> {
    use crate::notebooks::registry;
    Ok(match command {
        Command::Doctor => crate::doctor::doctor(ctx)?,
        Command::Data(cmd) => crate::data::run(ctx, &cmd)?,
        Command::Notebook(which) => serde_json::to_value(which.run(ctx)?.report)?,
        Command::Reproduce { which, with_python } => {
            let list = match which.as_str() {
                "all" => registry::NOTEBOOKS.to_vec(),
                one => vec![registry::find(one)?],
            };
            crate::reproduce::reproduce(ctx, &list, with_python)?
        }
        Command::Compare { notebook, flags } => crate::compare::compare(ctx, &notebook, &flags)?,
        Command::Bench(args) => crate::bench::bench(ctx, &args)?,
        Command::Selftest(args) => crate::selftest::selftest(ctx, &args)?,
        Command::Train(args) => crate::train::train(ctx, &args)?,
        Command::Evaluate(args) => crate::evaluate::run(ctx, &args)?,
        Command::Experiment(args) => crate::experiment::experiment(ctx, &args)?,
        Command::Recommend(a) => crate::recommend::run(ctx, &a)?,
        Command::Models => crate::models::list(ctx)?,
        Command::Split(a) => crate::split::split(ctx, &a)?,
        Command::Similar(a) => {
            crate::recommend::similar(ctx, &a.model, a.data.as_deref(), &a.item, a.k)?
        }
    })
}
