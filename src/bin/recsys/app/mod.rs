//! Beyond the notebooks: commands that apply the library to any ratings data.

pub mod checkpoint;
pub mod data;
pub mod eval;
pub mod models;
pub mod recommend;
pub mod train;

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Subcommand;
use serde_json::Value;

use recsys::runtime::context::Context;
use recsys::say;

/// The application commands (flattened into `recsys`'s own).
#[derive(Subcommand, Debug)]
pub enum AppCommand {
    /// Train a model on any ratings data, evaluate it on its test split, and save it.
    ///
    /// Data: ml-100k, ml-latest-small, a downloaded MovieLens (ml-1m, ml-25m, ml-32m), or a
    /// CSV/TSV file with --sep and the column flags. Models: mf, neumf, bilinear, two-tower,
    /// mlp, pooling, cbow, gru, lstm. --save DIR writes model.safetensors and model.json (config,
    /// id maps, data fingerprints), atomically, never over an existing DIR without --force.
    /// The evaluation printed is the one `recsys evaluate --model DIR` prints.
    Train(Box<train::TrainArgs>),
    /// Evaluate a saved model (--model DIR) on its test split, or score recommendation lists
    /// made elsewhere (--recs, --truth) with RePlay's definitions.
    ///
    /// --model: explicit models get RMSE = sqrt(mean((r̂ - r)²)) and MAE = mean(|r̂ - r|) over
    /// the test ratings; ranking models get the metrics below under two named protocols:
    /// "full" ranks all items with the user's train items excluded; "sampled" (notebook 000)
    /// ranks the test positives among 100 random non-positive items, which flatters models.
    /// Coverage there is over the model's items.
    ///
    /// --recs: files are CSV with a header naming user_id and item_id; --recs may add a rating or score
    /// column (higher is better), else each user's rows count best first in file order.
    /// Per user, with hits@k the relevant items among the top k and rel the relevant set:
    /// Precision@k = hits@k/k; Recall@k = hits@k/|rel|; HitRate@k = 1 if hits@k > 0;
    /// NDCG@k = Σ_hits 1/log2(rank+1) / Σ_{r=1..min(k,|rel|)} 1/log2(r+1);
    /// MRR@k = 1/rank of the first hit; MAP@k = Σ_hits precision@rank / min(k,|rel|).
    /// Each is averaged over the users of the ground truth (no recommendations scores 0).
    /// Coverage@k = distinct recommended items / distinct items in --train.
    Evaluate {
        /// A saved model directory (from `recsys train --save`).
        #[arg(long, conflicts_with_all = ["recs", "truth", "train"])]
        model: Option<PathBuf>,
        /// With --model: read the ratings from here instead of the source the model was
        /// trained on (it must be the same data: the fingerprints are checked).
        #[arg(long, requires = "model")]
        data: Option<String>,
        /// With --model: negatives per user in the sampled protocol.
        #[arg(long, default_value_t = 100)]
        negatives: usize,
        /// Recommendations: user_id,item_id[,rating|score].
        #[arg(long, requires = "truth")]
        recs: Option<PathBuf>,
        /// Ground truth: user_id,item_id.
        #[arg(long, requires = "recs")]
        truth: Option<PathBuf>,
        /// Train interactions (user_id,item_id), for Coverage.
        #[arg(long)]
        train: Option<std::path::PathBuf>,
        /// Cut-off of the lists.
        #[arg(short, long, default_value_t = 10)]
        k: usize,
    },
    /// Top-k items for a user from a saved model.
    ///
    /// Items are given in the data's original ids, with titles where the dataset has them. Items the user rated are excluded unless --include-seen.
    /// A user the model never saw gets the most popular train items, labelled as a fallback.
    Recommend {
        /// A saved model directory.
        #[arg(long)]
        model: PathBuf,
        /// The user's original id.
        #[arg(long)]
        user: i64,
        /// How many items.
        #[arg(short, long, default_value_t = 10)]
        k: usize,
        /// Keep items the user already rated.
        #[arg(long)]
        include_seen: bool,
        /// Read the ratings from here instead of the model's source (same data, checked).
        #[arg(long)]
        data: Option<String>,
    },
    /// The k items nearest to an item by cosine similarity of the model's item embeddings.
    Similar {
        /// A saved model directory.
        #[arg(long)]
        model: PathBuf,
        /// An item id, or a (case-insensitive) title substring.
        #[arg(long)]
        item: String,
        /// How many items.
        #[arg(short, long, default_value_t = 10)]
        k: usize,
        /// Read the ratings from here instead of the model's source (same data, checked).
        #[arg(long)]
        data: Option<String>,
    },
}

/// The list length `-k` every command takes: at least 1.
pub fn ensure_k(k: usize) -> Result<()> {
    if k == 0 {
        bail!("-k must be at least 1, got 0");
    }
    Ok(())
}

/// Run one application command.
pub fn run(ctx: &Context, cmd: AppCommand) -> Result<Value> {
    Ok(match cmd {
        AppCommand::Train(args) => train::train(ctx, &args)?,
        AppCommand::Recommend {
            model,
            user,
            k,
            include_seen,
            data,
        } => recommend::recommend(ctx, &model, data.as_deref(), user, k, include_seen)?,
        AppCommand::Similar {
            model,
            item,
            k,
            data,
        } => recommend::similar(ctx, &model, data.as_deref(), &item, k)?,
        AppCommand::Evaluate {
            model: Some(dir),
            data,
            negatives,
            k,
            ..
        } => {
            ensure_k(k)?;
            let l = checkpoint::load(ctx, &dir, data.as_deref())?;
            say!(
                ctx,
                "model {} ({}, trained on {}, {:?} split, seed {})",
                dir.display(),
                l.model.config.kind.name(),
                l.sidecar.data.data,
                l.sidecar.split.kind,
                l.sidecar.training.seed
            );
            let (sc, m) = (&l.sidecar, &l.model);
            eval::evaluate_model(
                ctx,
                m,
                &l.data,
                &sc.users,
                &sc.items,
                sc.split.kind,
                sc.training.seed,
                k,
                negatives,
            )?
        }
        AppCommand::Evaluate {
            model: None,
            recs,
            truth,
            train,
            k,
            ..
        } => {
            use recsys::eval::{metrics::ranking_metrics, recs as ev};
            ensure_k(k)?;
            let (Some(recs), Some(truth)) = (recs, truth) else {
                bail!("evaluate needs --model DIR, or --recs FILE with --truth FILE");
            };
            let n_items = train.as_deref().map(ev::read_item_count).transpose()?;
            let m = ranking_metrics(
                &ev::read_recommendations(&recs)?,
                &ev::read_truth(&truth)?,
                k,
                n_items,
            )?;
            say!(
                ctx,
                "protocol: lists given in {} against {} ({} users)",
                recs.display(),
                truth.display(),
                m.users
            );
            say!(ctx, "Precision@{k}  {:.6}", m.precision);
            say!(ctx, "Recall@{k}     {:.6}", m.recall);
            say!(ctx, "NDCG@{k}       {:.6}", m.ndcg);
            say!(ctx, "HitRate@{k}    {:.6}", m.hit_rate);
            say!(ctx, "MRR@{k}        {:.6}", m.mrr);
            say!(ctx, "MAP@{k}        {:.6}", m.map);
            match m.coverage {
                Some(c) => say!(ctx, "Coverage@{k}   {c:.6}"),
                None => say!(ctx, "Coverage@{k}   (needs --train)"),
            }
            serde_json::to_value(m)?
        }
    })
}
