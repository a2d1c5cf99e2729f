//! `recsys data`: inspect (`info`) and download (`download`) ratings data.

use anyhow::Result;
use clap::Subcommand;
use serde_json::{json, Value};

use crate::args::RatingsArgs;
use recsys::data::{self, Dataset};
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
}

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
    }
}

fn info(ctx: &Context, args: &RatingsArgs) -> Result<Value> {
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
