//! `recsys data`: inspect (`info`), download (`download`) and generate (`synth`) ratings data.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Subcommand;
use serde_json::{json, Value};

use crate::args::RatingsArgs;
use recsys::data::synth::{self, SynthSpec};
use recsys::data::{self, Dataset};
use recsys::runtime::context::write_atomic_with;
use recsys::runtime::progress::{during, Progress};
use recsys::{say, Context};

/// `recsys data`'s subcommands.
#[derive(Subcommand, Debug)]
pub enum DataCommand {
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
        /// Seconds to wait to connect, and then for each read, before giving up (at most 3600).
        #[arg(long, value_name = "SECS", default_value_t = 30.0)]
        timeout: f64,
    },
    /// Write a synthetic ratings CSV of MovieLens' layout (userId,movieId,rating,timestamp):
    /// Zipf item popularity, skewed user activity, ratings 1-5, timestamps; seeded by --seed.
    Synth(SynthArgs),
}

/// `recsys data synth`'s flags.
#[derive(clap::Args, Debug)]
pub struct SynthArgs {
    /// Rows (ratings) to write, at most 10 billion; `1e6` style is accepted.
    #[arg(long, default_value = "1000000", value_parser = count)]
    pub rows: u64,
    /// Users (each gets at least one row), at most 100 million.
    #[arg(long, default_value = "10000", value_parser = count)]
    pub users: u64,
    /// Items, at most 100 million.
    #[arg(long, default_value = "5000", value_parser = count)]
    pub items: u64,
    /// Zipf exponent of item popularity.
    #[arg(long, default_value_t = 1.0)]
    pub item_exponent: f64,
    /// Zipf exponent of user activity.
    #[arg(long, default_value_t = 0.5)]
    pub user_exponent: f64,
    /// The CSV file to write (never over an existing one without --force).
    pub file: PathBuf,
}

/// A count for `data synth`: a whole number, written plainly (`250000`) or in scientific
/// notation that is whole (`1e6`, `2.5e5`); its limit is checked by [`SynthSpec::validate`].
fn count(text: &str) -> Result<u64, String> {
    if let Ok(n) = text.parse::<u64>() {
        return Ok(n);
    }
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 1.8e19 => Ok(x as u64),
        Ok(x) if x.is_finite() && x >= 1.8e19 => Ok(u64::MAX),
        _ => Err(format!(
            "expected a whole number such as 100000 or 1e5, got {text:?}"
        )),
    }
}

/// Default seed of `data synth` when `--seed` is not given.
const SYNTH_SEED: u64 = 0;

/// Run one `recsys data` subcommand.
pub fn run(ctx: &Context, command: &DataCommand) -> Result<Value> {
    match command {
        DataCommand::Info(args) => info(ctx, args),
        DataCommand::Download {
            dataset,
            replace,
            timeout,
        } => {
            let timeout = data::download::timeout_from_secs(*timeout)?;
            let path = data::download::download_with_timeout(
                *dataset,
                &ctx.data.cache,
                &data::download::base_url(),
                *replace,
                timeout,
            )?;
            say!(ctx, "{} is at {}", dataset.name(), path.display());
            Ok(json!({ "dataset": dataset.name(), "path": path }))
        }
        DataCommand::Synth(args) => synth_file(ctx, args),
    }
}

/// `recsys data synth`: the rows streamed through a buffer into a temporary file, renamed into
/// place when complete.
fn synth_file(ctx: &Context, args: &SynthArgs) -> Result<Value> {
    let spec = SynthSpec {
        rows: args.rows,
        users: args.users,
        items: args.items,
        item_exponent: args.item_exponent,
        user_exponent: args.user_exponent,
        seed: ctx.seed_or(SYNTH_SEED),
    };
    spec.validate()?;
    check_room(&args.file, spec.file_bytes())?;
    let started = std::time::Instant::now();
    let mut summary = None;
    write_atomic_with(&args.file, ctx.force, |tmp| {
        let file =
            std::fs::File::create(tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let bar = Progress::new(
            spec.rows,
            &format!("writing {}", args.file.display()),
            "rows",
        );
        let mut last = 0;
        let s = synth::write_csv(&spec, &mut out, |rows| {
            bar.inc(rows - last);
            last = rows;
        })
        .with_context(|| format!("writing {}", tmp.display()))?;
        bar.finish();
        summary = Some(s);
        Ok(())
    })?;
    let s = summary.context("the writer did not run")?;
    say!(
        ctx,
        "wrote {}: {} rows, {} users, {} of {} items rated, seed {} ({:.1} s)",
        args.file.display(),
        s.rows,
        s.users,
        s.items_used,
        spec.items,
        spec.seed,
        started.elapsed().as_secs_f64()
    );
    Ok(json!({ "path": args.file, "seed": spec.seed, "summary": s }))
}

/// Refuse, before any work, a file of about `bytes` where the file system has less free.
fn check_room(file: &Path, bytes: u64) -> Result<()> {
    use recsys::runtime::memory::{free_disk_bytes, human_bytes};
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let existing = dir
        .ancestors()
        .find(|a| a.exists())
        .unwrap_or(Path::new("."));
    match free_disk_bytes(existing) {
        Some(free) if free < bytes => anyhow::bail!(
            "{}: --rows would write about {}, but {} has only {} free; lower --rows",
            file.display(),
            human_bytes(bytes),
            existing.display(),
            human_bytes(free)
        ),
        _ => Ok(()),
    }
}

fn info(ctx: &Context, args: &RatingsArgs) -> Result<Value> {
    let source = args.source()?;
    let df = during(&format!("loading {}", args.data), || source.load(&ctx.data))?;
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
