//! `recsys data`: inspect (`info`), download (`download`) and generate (`synth`) ratings data.

use std::io::BufWriter;
use std::path::PathBuf;

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
    },
    /// Write a synthetic ratings CSV of MovieLens' layout (userId,movieId,rating,timestamp):
    /// Zipf item popularity, skewed user activity, ratings 1-5, timestamps; seeded by --seed.
    Synth(SynthArgs),
}

/// `recsys data synth`'s flags.
#[derive(clap::Args, Debug)]
pub struct SynthArgs {
    /// Rows (ratings) to write.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// Users (each gets at least one row).
    #[arg(long, default_value_t = 10_000)]
    pub users: u64,
    /// Items.
    #[arg(long, default_value_t = 5_000)]
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

/// Default seed of `data synth` when `--seed` is not given.
const SYNTH_SEED: u64 = 0;

/// Run one `recsys data` subcommand.
pub fn run(ctx: &Context, command: &DataCommand) -> Result<Value> {
    match command {
        DataCommand::Info(args) => info(ctx, args),
        DataCommand::Download { dataset, replace } => {
            let path = data::download::download(
                *dataset,
                &ctx.data.cache,
                &data::download::base_url(),
                *replace,
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
