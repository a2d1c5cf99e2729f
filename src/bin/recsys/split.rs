//! `recsys split`: write the train and test parts (and validation, when asked) of a split as
//! CSV files, cut exactly as `train` and `experiment` cut them at the same seed, so that
//! another library can be run on the identical split.

use anyhow::{bail, Result};
use clap::Args;
use serde_json::{json, Value};

use crate::args::{RatingsArgs, SplitArgs};
use crate::print::say_split;
use recsys::prep::export::ratings_csv;
use recsys::prep::prepared::prepare;
use recsys::prep::spec::Cut;
use recsys::runtime::context::Context;
use recsys::say;

/// Flags of `recsys split`.
#[derive(Args, Debug, Clone)]
pub struct SplitCommandArgs {
    #[command(flatten)]
    pub ratings: RatingsArgs,
    #[command(flatten)]
    pub split: SplitArgs,
    /// Keep only ratings strictly above this before splitting, as the ranking models' runs do
    /// (`train` and `experiment` with a ranking model use 3 by default); without it the
    /// ratings are split whole, as the rating models' runs do. --train-threshold and
    /// --relevance-threshold set the two jobs apart (train.csv then holds the training
    /// interactions, test.csv every test rating either threshold keeps).
    #[arg(long)]
    pub threshold: Option<f64>,
}

/// The default seed: `train`'s, so that `recsys split` and `recsys train` cut alike.
pub const DEFAULT_SEED: u64 = crate::train::DEFAULT_SEED;

/// Split and write `train.csv`, `test.csv` (and `validation.csv`) into `--out`.
pub fn split(ctx: &Context, args: &SplitCommandArgs) -> Result<Value> {
    let split = args.split.spec();
    split.check()?;
    if let Some(t) = args.threshold.filter(|t| !t.is_finite()) {
        bail!("--threshold must be a finite number, got {t}");
    }
    let mut files = vec!["train.csv", "test.csv"];
    if split.validation_fraction.is_some() {
        files.push("validation.csv");
    }
    ctx.ensure_outputs_free(&files)?;
    let spec = args.ratings.spec();
    let ratings = spec.load(ctx)?;
    let given_test = spec.load_test(ctx, &split)?;
    crate::args::ensure_test_apart(&spec.data, &ratings, given_test.as_ref(), &split)?;
    let seed = ctx.manual_seed(DEFAULT_SEED);
    let split = split.seeded(seed);
    let data = prepare(ratings, given_test, args.threshold, &split)?;
    say!(
        ctx,
        "data      {} ({}), seed {seed}",
        spec.data,
        data.fingerprints.ratings
    );
    let (train_cut, relevance) = split.cuts(args.threshold);
    if train_cut == relevance {
        if train_cut != Cut::All {
            say!(ctx, "implicit  {} kept", train_cut.describe());
        }
    } else {
        say!(
            ctx,
            "train     {}; relevant in test: {} (test.csv keeps every test rating either threshold keeps)",
            train_cut.describe(),
            relevance.describe()
        );
    }
    say_split(ctx, &split, &data);
    let names = data.names();
    let mut parts = vec![("train.csv", &data.train), ("test.csv", &data.test)];
    if let Some(v) = &data.validation {
        parts.push(("validation.csv", v));
    }
    let mut written = vec![];
    for (name, df) in parts {
        let path = ctx.write_output(name, ratings_csv(df, &names)?.as_bytes())?;
        say!(ctx, "wrote {} ({} rows)", path.display(), df.height());
        written.push(path);
    }
    Ok(json!({
        "data": spec,
        "split": split,
        "seed": seed,
        "threshold": args.threshold,
        "train_threshold": train_cut,
        "relevance_threshold": relevance,
        "fingerprints": data.fingerprints,
        "files": written,
    }))
}
