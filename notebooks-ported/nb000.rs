//! Notebook 000, "Recommender systems introduction" (ml-latest-small, implicit feedback).
//!
//! Read the ratings, keep ratings above 3 as interactions, split on the last day, map ids,
//! keep the test rows whose user and item are known, then train matrix factorization with
//! BCE-with-logits: first on positives only, then with one uniform random negative per
//! positive. Each model is evaluated by Recall@5/10/30 (plus NDCG and HitRate) on each test
//! user's positives ranked among 100 sampled negatives. The notebook's TODO, Neural Matrix
//! Factorization, is built and evaluated the same way.
//!
//! Faithful mode (the default) keeps the notebook's quirks and says where each one acts:
//! timestamps divided by 1000 (every date falls in January 1970) in the machine's local time
//! (`--utc-offset`, default +01:00 as on the notebook's machine), an "avg loss after epoch"
//! that is a running mean over all steps so far, and test negatives that may be items the user
//! liked in train. `--corrected` fixes them; `--compare-modes` runs both.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use polars::prelude::*;
use recsys::optim::Adam;
use serde_json::{json, Value};
use tch::nn;
use tch::{Device, Kind, Tensor};

use recsys::data::Dataset;
use recsys::eval::sampled::{self, NegativePool, SampledCandidates, SampledMetrics};
use recsys::models::mf::{self, MatrixFactorization, PairScorer};
use recsys::models::neumf::{NeuMF, NeuMFConfig};
use recsys::prep::{self, IdMap};
use recsys::report::{Check, Report};
use recsys::{report::plot, runtime::progress, say, Context};

/// Default seed of libtorch's generator (the notebook was not seeded).
pub const DEFAULT_SEED: u64 = 0;
/// The cutoffs the notebook evaluates.
pub const KS: [usize; 3] = [5, 10, 30];
/// Negatives sampled per test user.
pub const TEST_NEGATIVES: usize = 100;

/// Options of `recsys notebook 000`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Epochs of training without sampling (the notebook's n_epochs).
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Epochs of training with sampled negatives (the notebook ran 10; a TODO there says 20).
    #[arg(long, default_value_t = 10)]
    pub sampled_epochs: usize,
    /// Training batch size.
    #[arg(long, default_value_t = 64)]
    pub batch_size: i64,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Embedding size of MF (and predictive factors of NeuMF).
    #[arg(long, default_value_t = 20)]
    pub factors: i64,
    /// Local time zone of the notebook's machine, ±HH:MM: `datetime.fromtimestamp` converts
    /// to local time, and the notebook's printed dates and counts come out with +01:00.
    #[arg(long, default_value = "+01:00", allow_hyphen_values = true)]
    pub utc_offset: String,
    /// The split date: train before it, test from it on (local time, on the notebook's /1000
    /// time scale in both modes; the corrected mode moves it to the same instant in real time).
    #[arg(long, default_value = "1970-01-18")]
    pub split_date: String,
    /// Corrected mode: mean loss of each epoch, real timestamps, test negatives drawn only
    /// from items the user never interacted with.
    #[arg(long)]
    pub corrected: bool,
    /// Run the faithful and the corrected mode and print their numbers side by side.
    #[arg(long, conflicts_with = "corrected")]
    pub compare_modes: bool,
    /// Train only matrix factorization, as the notebook does (skip NeuMF).
    #[arg(long)]
    pub no_neumf: bool,
    /// Number of MLP layers in NeuMF (widths halve down to --factors).
    #[arg(long, default_value_t = 3)]
    pub neumf_layers: usize,
    /// libtorch threads on the CPU. These models are small: one thread is fastest, and more
    /// threads spin against each other when the machine is busy.
    #[arg(long, default_value_t = 1)]
    pub threads: i32,
}

/// Faithful to the notebook, or with its quirks fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Faithful,
    Corrected,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Faithful => "faithful",
            Mode::Corrected => "corrected",
        }
    }
}

/// Run the port.
pub fn run(ctx: &Context, args: &Args) -> Result<Report> {
    validate(args)?;
    if ctx.device == Device::Cpu {
        tch::set_num_threads(args.threads);
    }
    let started = Instant::now();
    if !args.compare_modes {
        let mode = if args.corrected {
            Mode::Corrected
        } else {
            Mode::Faithful
        };
        let outcome = run_mode(ctx, args, mode)?;
        return Ok(report(ctx, args, &[outcome], started));
    }
    say!(ctx, "===== faithful mode =====");
    let faithful = run_mode(ctx, args, Mode::Faithful)?;
    say!(ctx);
    say!(ctx, "===== corrected mode =====");
    let corrected = run_mode(ctx, args, Mode::Corrected)?;
    say!(ctx);
    print_side_by_side(ctx, &faithful, &corrected);
    Ok(report(ctx, args, &[faithful, corrected], started))
}

fn validate(args: &Args) -> Result<()> {
    if args.batch_size < 1 {
        bail!("--batch-size must be at least 1, got {}", args.batch_size);
    }
    if args.factors < 1 {
        bail!("--factors must be at least 1, got {}", args.factors);
    }
    if !(args.lr > 0.0 && args.lr.is_finite()) {
        bail!("--lr must be a positive number, got {}", args.lr);
    }
    if args.neumf_layers < 1 || args.neumf_layers > 8 {
        bail!(
            "--neumf-layers must be between 1 and 8, got {}",
            args.neumf_layers
        );
    }
    if args.threads < 1 {
        bail!("--threads must be at least 1, got {}", args.threads);
    }
    parse_utc_offset(&args.utc_offset)?;
    parse_date(&args.split_date)?;
    Ok(())
}

/// The deterministic numbers the notebook prints about its data.
#[derive(Debug, Clone, serde::Serialize)]
struct DataFingerprint {
    ratings_shape: (usize, usize),
    interactions_shape: (usize, usize),
    interaction_users: usize,
    interaction_items: usize,
    days: usize,
    split_at: String,
    train_rows: usize,
    test_rows: usize,
    train_max_datetime: String,
    test_min_datetime: String,
    n_users: i64,
    n_items: i64,
    test_rows_kept: usize,
    test_users: usize,
    batches_unsampled: i64,
    batches_sampled: i64,
}

/// One training run: the losses it printed, and its speed.
#[derive(Debug, Clone, serde::Serialize)]
struct TrainLog {
    /// What the notebook prints after each epoch: the running mean over all steps so far
    /// (faithful) or the mean of the epoch (corrected).
    printed: Vec<f64>,
    /// Mean loss of each epoch.
    epoch_means: Vec<f64>,
    /// Running mean over all steps so far, after each epoch.
    running_means: Vec<f64>,
    steps: usize,
    wall_s: f64,
    steps_per_s: f64,
}

/// A model's three evaluations, as in the notebook.
#[derive(Debug, Clone, serde::Serialize)]
struct ModelRuns {
    untrained: SampledMetrics,
    unsampled_training: TrainLog,
    trained_unsampled: SampledMetrics,
    sampled_training: TrainLog,
    trained_sampled: SampledMetrics,
}

/// Everything one mode produced.
#[derive(Debug, Clone, serde::Serialize)]
struct Outcome {
    mode: Mode,
    seed: u64,
    data: DataFingerprint,
    mf: ModelRuns,
    neumf: Option<ModelRuns>,
    plots: Vec<String>,
}

/// Training pairs with 0/1 targets, kept on the device for the whole run.
struct TrainingData {
    users: Tensor,
    items: Tensor,
    targets: Tensor,
}

impl TrainingData {
    fn len(&self) -> i64 {
        self.users.size()[0]
    }

    /// Batches per epoch (the last one may be short, like DataLoader's).
    fn batches(&self, batch_size: i64) -> i64 {
        (self.len() + batch_size - 1) / batch_size
    }
}

fn run_mode(ctx: &Context, args: &Args, mode: Mode) -> Result<Outcome> {
    let seed = ctx.manual_seed(DEFAULT_SEED);
    let device = ctx.device;
    let offset_ms = parse_utc_offset(&args.utc_offset)?;
    let prefix = match mode {
        Mode::Faithful => "000-".to_string(),
        Mode::Corrected => "000-corrected-".to_string(),
    };
    let mut plots = Vec::new();

    // ## Read the data
    // datetime = fromtimestamp(timestamp / 1000) in local time. On the /1000 scale, timestamp
    // seconds become milliseconds since 1970; the corrected mode reads real seconds.
    let ratings = Dataset::MlLatestSmall.ratings(&ctx.data)?;
    let to_ms = match mode {
        Mode::Faithful => 1,
        Mode::Corrected => 1000,
    };
    let ratings = ratings
        .lazy()
        .with_column(
            (col("timestamp") * lit(to_ms) + lit(offset_ms))
                .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
                .alias("datetime"),
        )
        .with_column(col("datetime").dt().date().alias("date"))
        .collect()?;
    let interactions = prep::binarize(&ratings, 3.0)?;
    say!(ctx, "{:?}", (ratings.shape(), interactions.shape()));
    if mode == Mode::Faithful {
        say!(
            ctx,
            "note (faithful): timestamps are divided by 1000 as in the notebook, so every date \
             falls in January 1970 (local time {}; --corrected reads real dates)",
            args.utc_offset
        );
    }
    let interaction_users = interactions.column("user_id")?.n_unique()?;
    let interaction_items = interactions.column("item_id")?.n_unique()?;
    say!(ctx, "{:?}", (interaction_users, interaction_items));

    // ## Split the data: interactions per day first
    let per_day = interactions
        .clone()
        .lazy()
        .group_by([col("date")])
        .agg([len().cast(DataType::Int64).alias("n_obs")])
        .sort(["date"], Default::default())
        .with_column(col("date").dt().to_string("%Y-%m-%d").alias("day"))
        .collect()?;
    let days: Vec<String> = per_day
        .column("day")?
        .str()?
        .iter()
        .map(|d| d.unwrap_or_default().to_string())
        .collect();
    let counts: Vec<f64> = prep::i64_values(&per_day, "n_obs")?
        .map(|c| c as f64)
        .collect();
    say!(
        ctx,
        "{} days with interactions, from {} to {}; the busiest has {}",
        days.len(),
        days.first().map_or("-", String::as_str),
        days.last().map_or("-", String::as_str),
        counts.iter().cloned().fold(0.0, f64::max)
    );
    let bars = ctx.write_output_with(&format!("{prefix}interactions-per-day.png"), |p| {
        plot::bar_chart(
            p,
            "Number of interactions in given day",
            &days,
            &counts,
            "n interactions",
        )
    })?;
    say!(ctx, "plot: {}", bars.display());
    plots.push(bars.display().to_string());

    // Split on the last day: train before split_date, test from it on.
    let split_local_ms = parse_date(&args.split_date)? * 86_400_000;
    let split_ms = match mode {
        Mode::Faithful => split_local_ms,
        // The same instant in real time: undo the local offset, scale by 1000, redo it.
        Mode::Corrected => (split_local_ms - offset_ms) * 1000 + offset_ms,
    };
    let split_at = lit(split_ms).cast(DataType::Datetime(TimeUnit::Milliseconds, None));
    let split_frame = df!("t" => [split_ms])?
        .lazy()
        .select([col("t")
            .cast(DataType::Datetime(TimeUnit::Milliseconds, None))
            .dt()
            .to_string("%Y-%m-%d %H:%M:%S")])
        .collect()?;
    let split_text = split_frame
        .column("t")?
        .str()?
        .get(0)
        .unwrap_or_default()
        .to_string();
    let train = interactions
        .clone()
        .lazy()
        .filter(col("datetime").lt(split_at.clone()))
        .collect()?;
    let test = interactions
        .clone()
        .lazy()
        .filter(col("datetime").gt_eq(split_at))
        .collect()?;
    let train_max = datetime_text(&train, col("datetime").max())?;
    let test_min = datetime_text(&test, col("datetime").min())?;
    say!(
        ctx,
        "(Timestamp('{train_max}'),\n {},\n Timestamp('{test_min}'),\n {})",
        train.height(),
        test.height()
    );
    if mode == Mode::Corrected {
        say!(
            ctx,
            "corrected: split at {split_text} local time, the instant \"{}\" stands for on the \
             notebook's /1000 scale (the real last day, {}, holds {} interaction(s))",
            args.split_date,
            days.last().map_or("-", String::as_str),
            counts.last().copied().unwrap_or(0.0)
        );
    }

    // Map users and items of train to 0..n, in order of first appearance.
    let user_ids = IdMap::fit_column(&train, "user_id")?;
    let item_ids = IdMap::fit_column(&train, "item_id")?;
    let (n_users, n_items) = (user_ids.len() as i64, item_ids.len() as i64);
    let train = item_ids.with_encoded(
        &user_ids.with_encoded(&train, "user_id", "users_mapped")?,
        "item_id",
        "items_mapped",
    )?;
    say!(ctx, "{:?}", (n_users, n_items));

    // Keep the test rows whose user and item are known in train.
    say!(ctx, "Test n obs before merge = {}", test.height());
    let test_valid = prep::keep_known(&test, &train)?;
    say!(ctx, "Test n obs after merge = {}", test_valid.height());

    // ## Evaluation: each test user's positives among 100 sampled negatives
    let (test_users, test_positives) = positives_by_user(&test_valid, &user_ids, &item_ids)?;
    let train_users: Vec<i64> = prep::i64_values(&train, "users_mapped")?.collect();
    let train_items: Vec<i64> = prep::i64_values(&train, "items_mapped")?.collect();
    let mut train_positives: HashMap<i64, HashSet<i64>> = HashMap::new();
    for (u, i) in train_users.iter().zip(&train_items) {
        train_positives.entry(*u).or_default().insert(*i);
    }
    let pool = match mode {
        Mode::Faithful => NegativePool::NotTestPositive,
        Mode::Corrected => NegativePool::NeverInteracted,
    };
    let candidates = SampledCandidates::sample(
        test_users,
        test_positives,
        n_items,
        TEST_NEGATIVES,
        pool,
        &train_positives,
    )?;
    let liked_in_train = candidates
        .users
        .iter()
        .zip(&candidates.negatives)
        .map(|(u, neg)| {
            let seen = train_positives.get(u);
            neg.iter()
                .filter(|i| seen.is_some_and(|s| s.contains(i)))
                .count()
        })
        .sum::<usize>();
    say!(
        ctx,
        "{} test users; {} sampled negatives are items the user liked in train{}",
        candidates.len(),
        liked_in_train,
        if mode == Mode::Faithful {
            " (faithful: the notebook only excludes test positives)"
        } else {
            ""
        }
    );
    let (pair_users, pair_items) = candidates.pairs();
    let pairs = (
        Tensor::from_slice(&pair_users).to_device(device),
        Tensor::from_slice(&pair_items).to_device(device),
    );

    // Training data, on the device once: positives only (target 1).
    let n_train = train.height() as i64;
    let unsampled = TrainingData {
        users: Tensor::from_slice(&train_users).to_device(device),
        items: Tensor::from_slice(&train_items).to_device(device),
        targets: Tensor::ones([n_train], (Kind::Float, device)),
    };

    let fingerprint = DataFingerprint {
        ratings_shape: ratings.shape(),
        interactions_shape: interactions.shape(),
        interaction_users,
        interaction_items,
        days: days.len(),
        split_at: split_text,
        train_rows: train.height(),
        test_rows: test.height(),
        train_max_datetime: train_max,
        test_min_datetime: test_min,
        n_users,
        n_items,
        test_rows_kept: test_valid.height(),
        test_users: candidates.len(),
        batches_unsampled: unsampled.batches(args.batch_size),
        batches_sampled: (2 * n_train + args.batch_size - 1) / args.batch_size,
    };

    // ## Model: matrix factorization, untrained
    let make_mf =
        |vs: &nn::VarStore| MatrixFactorization::new(&vs.root(), n_users, n_items, args.factors);
    say!(
        ctx,
        "MatrixFactorization(n_factors={}, n_users={n_users}, n_items={n_items}), untrained:",
        args.factors
    );
    let vs = nn::VarStore::new(device);
    let model = make_mf(&vs);
    let mf_untrained = evaluate(ctx, &model, &candidates, &pairs)?;

    // ## Training: without sampling (every target is 1)
    say!(
        ctx,
        "lr = {}, batch_size = {}, n_epochs = {}",
        args.lr,
        args.batch_size,
        args.epochs
    );
    let vs = nn::VarStore::new(device);
    let model = make_mf(&vs);
    let mf_unsampled_log = train_fn(ctx, &model, &vs, args, args.epochs, &unsampled, mode, "MF")?;
    let mf_plot_losses = mf_unsampled_log.printed.clone();
    let mf_unsampled = evaluate(ctx, &model, &candidates, &pairs)?;

    // ### Train with sampling: one uniform random (user, item) negative per train interaction.
    let (neg_users, neg_items) = sampled::uniform_negatives(n_users, n_items, n_train, device);
    say!(
        ctx,
        "{n_train} uniform random negatives drawn (they may hit real positives, as in the notebook)"
    );
    let sampled = TrainingData {
        users: Tensor::cat(&[&unsampled.users, &neg_users], 0),
        items: Tensor::cat(&[&unsampled.items, &neg_items], 0),
        targets: Tensor::cat(
            &[
                unsampled.targets.shallow_clone(),
                Tensor::zeros([n_train], (Kind::Float, device)),
            ],
            0,
        ),
    };
    let vs = nn::VarStore::new(device);
    let model = make_mf(&vs);
    let mf_sampled_log = train_fn(
        ctx,
        &model,
        &vs,
        args,
        args.sampled_epochs,
        &sampled,
        mode,
        "MF sampled",
    )?;
    say!(ctx, "{:?}", mf_sampled_log.printed);
    let mf_sampled = evaluate(ctx, &model, &candidates, &pairs)?;
    let mf = ModelRuns {
        untrained: mf_untrained,
        unsampled_training: mf_unsampled_log,
        trained_unsampled: mf_unsampled,
        sampled_training: mf_sampled_log,
        trained_sampled: mf_sampled,
    };

    // ### Neural Matrix Factorization (the notebook's TODO), evaluated the same way.
    let neumf = if args.no_neumf {
        None
    } else {
        let config = NeuMFConfig {
            factors: args.factors,
            mlp_layers: args.neumf_layers,
            embedding_std: 0.01,
        };
        say!(
            ctx,
            "NeuMF(factors={}, mlp_layers={}), untrained:",
            config.factors,
            config.mlp_layers
        );
        let vs = nn::VarStore::new(device);
        let model = NeuMF::new(&vs.root(), n_users, n_items, config);
        let untrained = evaluate(ctx, &model, &candidates, &pairs)?;
        say!(ctx, "NeuMF, training without sampling:");
        let vs = nn::VarStore::new(device);
        let model = NeuMF::new(&vs.root(), n_users, n_items, config);
        let unsampled_training = train_fn(
            ctx,
            &model,
            &vs,
            args,
            args.epochs,
            &unsampled,
            mode,
            "NeuMF",
        )?;
        let trained_unsampled = evaluate(ctx, &model, &candidates, &pairs)?;
        say!(ctx, "NeuMF, training with sampling (the same negatives):");
        let vs = nn::VarStore::new(device);
        let model = NeuMF::new(&vs.root(), n_users, n_items, config);
        let sampled_training = train_fn(
            ctx,
            &model,
            &vs,
            args,
            args.sampled_epochs,
            &sampled,
            mode,
            "NeuMF sampled",
        )?;
        let trained_sampled = evaluate(ctx, &model, &candidates, &pairs)?;
        Some(ModelRuns {
            untrained,
            unsampled_training,
            trained_unsampled,
            sampled_training,
            trained_sampled,
        })
    };

    // The loss plot: the notebook's (MF without sampling) and the other runs beside it.
    let loss_name = match mode {
        Mode::Faithful => "avg loss after epoch (running mean)",
        Mode::Corrected => "mean loss of epoch",
    };
    let mut series: Vec<(&str, &[f64])> = vec![
        ("MF without sampling", &mf_plot_losses),
        ("MF with sampling", &mf.sampled_training.printed),
    ];
    if let Some(n) = &neumf {
        series.push(("NeuMF without sampling", &n.unsampled_training.printed));
        series.push(("NeuMF with sampling", &n.sampled_training.printed));
    }
    let losses = ctx.write_output_with(&format!("{prefix}loss-per-epoch.png"), |p| {
        plot::line_chart(p, "Training loss", "epoch", loss_name, &series)
    })?;
    say!(ctx, "plot: {}", losses.display());
    plots.push(losses.display().to_string());

    Ok(Outcome {
        mode,
        seed,
        data: fingerprint,
        mf,
        neumf,
        plots,
    })
}

/// The notebook's `train_fn`: Adam and BCE-with-logits over shuffled batches, one progress bar
/// per epoch. Batches are slices of a per-epoch `randperm` shuffle of tensors already on the
/// device; step losses stay on the device and are read once per epoch.
#[allow(clippy::too_many_arguments)]
fn train_fn(
    ctx: &Context,
    model: &dyn PairScorer,
    vs: &nn::VarStore,
    args: &Args,
    n_epochs: usize,
    data: &TrainingData,
    mode: Mode,
    label: &str,
) -> Result<TrainLog> {
    let mut optimizer = Adam::new(vs, args.lr)?;
    let batches = data.batches(args.batch_size);
    let started = Instant::now();
    let mut all_steps: Vec<f64> = Vec::new();
    let (mut printed, mut epoch_means, mut running_means) = (vec![], vec![], vec![]);
    for epoch in 1..=n_epochs {
        say!(ctx, "Running epoch {epoch}");
        let bar = progress::epoch_bar(batches as u64, label);
        let step_losses = mf::bce_epoch(
            model,
            &mut optimizer,
            (&data.users, &data.items, &data.targets),
            args.batch_size,
            || bar.inc(1),
        )?;
        let losses: Vec<f64> =
            Vec::try_from(step_losses.to_kind(Kind::Double).to_device(Device::Cpu))?;
        let epoch_mean = losses.iter().sum::<f64>() / losses.len().max(1) as f64;
        all_steps.extend(losses);
        let running = all_steps.iter().sum::<f64>() / all_steps.len().max(1) as f64;
        bar.finish_with_message(format!("loss {epoch_mean:.4}"));
        epoch_means.push(epoch_mean);
        running_means.push(running);
        match mode {
            Mode::Faithful => {
                printed.push(running);
                say!(ctx, "Avg loss after epoch {epoch}, is equal to {running}");
            }
            Mode::Corrected => {
                printed.push(epoch_mean);
                say!(ctx, "Mean loss of epoch {epoch} = {epoch_mean}");
            }
        }
    }
    if mode == Mode::Faithful && n_epochs > 1 {
        say!(
            ctx,
            "note (faithful): the \"avg loss after epoch\" is the mean over all steps so far \
             (epoch_loss is never reset in the notebook); the last epoch alone averaged {}",
            epoch_means.last().copied().unwrap_or(f64::NAN)
        );
    }
    let wall_s = started.elapsed().as_secs_f64();
    let steps = all_steps.len();
    Ok(TrainLog {
        printed,
        epoch_means,
        running_means,
        steps,
        wall_s,
        steps_per_s: steps as f64 / wall_s.max(1e-9),
    })
}

/// Score every candidate pair in one forward pass and print Recall@k as the notebook does
/// (NDCG@k and HitRate@k after it).
fn evaluate(
    ctx: &Context,
    model: &dyn PairScorer,
    candidates: &SampledCandidates,
    pairs: &(Tensor, Tensor),
) -> Result<SampledMetrics> {
    let scores = tch::no_grad(|| model.score(&pairs.0, &pairs.1));
    let scores: Vec<f32> = Vec::try_from(scores.to_kind(Kind::Float).to_device(Device::Cpu))?;
    let metrics = candidates.evaluate(&scores, &KS)?;
    for (k, r) in metrics.ks.iter().zip(&metrics.recall) {
        say!(ctx, "Recall@{k} = {r}");
    }
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.4}"))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    say!(
        ctx,
        "  NDCG@5/10/30 = {}, HitRate@5/10/30 = {}",
        fmt(&metrics.ndcg),
        fmt(&metrics.hit_rate)
    );
    Ok(metrics)
}

/// Test positives grouped by user, users in increasing original id (pandas' groupby order),
/// items in test-table order; both as model indices.
fn positives_by_user(
    test_valid: &DataFrame,
    user_ids: &IdMap,
    item_ids: &IdMap,
) -> Result<(Vec<i64>, Vec<Vec<i64>>)> {
    let sorted = test_valid.sort(
        ["user_id"],
        SortMultipleOptions::default().with_maintain_order(true),
    )?;
    let users = user_ids.encode_column(&sorted, "user_id")?;
    let items = item_ids.encode_column(&sorted, "item_id")?;
    let mut out_users: Vec<i64> = Vec::new();
    let mut out_items: Vec<Vec<i64>> = Vec::new();
    for (u, i) in users.into_iter().zip(items) {
        if out_users.last() != Some(&u) {
            out_users.push(u);
            out_items.push(Vec::new());
        }
        out_items.last_mut().expect("pushed above").push(i);
    }
    Ok((out_users, out_items))
}

/// One aggregated datetime of `df`, printed like pandas' Timestamp (microseconds).
fn datetime_text(df: &DataFrame, agg: Expr) -> Result<String> {
    let out = df
        .clone()
        .lazy()
        .select([agg.dt().to_string("%Y-%m-%d %H:%M:%S%.6f").alias("t")])
        .collect()?;
    Ok(out.column("t")?.str()?.get(0).unwrap_or("NaT").to_string())
}

/// `+HH:MM`, `-HH:MM`, `+HH`, `Z` or `UTC` to milliseconds east of UTC.
pub fn parse_utc_offset(text: &str) -> Result<i64> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Ok(0);
    }
    let bad = || anyhow::anyhow!("--utc-offset {text:?}: expected ±HH:MM (e.g. +01:00), Z or UTC");
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let h: i64 = h.parse().map_err(|_| bad())?;
    let m: i64 = m.parse().map_err(|_| bad())?;
    if h > 14 || m >= 60 {
        return Err(bad());
    }
    Ok(sign * (h * 3600 + m * 60) * 1000)
}

/// `YYYY-MM-DD` to days since 1970-01-01.
pub fn parse_date(text: &str) -> Result<i64> {
    let parts: Vec<&str> = text.trim().split('-').collect();
    let parsed: Option<(i64, i64, i64)> = match parts.as_slice() {
        [y, m, d] => y
            .parse()
            .ok()
            .zip(m.parse().ok())
            .zip(d.parse().ok())
            .map(|((y, m), d)| (y, m, d)),
        _ => None,
    };
    let (y, m, d) = parsed
        .filter(|(_, m, d)| (1..=12).contains(m) && (1..=31).contains(d))
        .with_context(|| format!("--split-date {text:?}: expected YYYY-MM-DD"))?;
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok(era * 146_097 + doe - 719_468)
}

/// Notebook values and bands around 5 measured seeds (mean ± max(3 sd, 0.1) for recall, whose
/// steps are 1/26 with 26 test users; mean ± 3 sd for losses; see the README, notebook 000).
struct Published {
    quantity: &'static str,
    notebook: f64,
    band: (f64, f64),
}

const RECALL_BANDS: [[Published; 3]; 3] = [
    [
        Published {
            quantity: "untrained Recall@5",
            notebook: 0.2076923076923077,
            band: (0.08, 0.35),
        },
        Published {
            quantity: "untrained Recall@10",
            notebook: 0.2192307692307692,
            band: (0.07, 0.37),
        },
        Published {
            quantity: "untrained Recall@30",
            notebook: 0.2918701492828226,
            band: (0.17, 0.45),
        },
    ],
    [
        Published {
            quantity: "trained (no sampling) Recall@5",
            notebook: 0.22307692307692306,
            band: (0.12, 0.34),
        },
        Published {
            quantity: "trained (no sampling) Recall@10",
            notebook: 0.22820512820512825,
            band: (0.13, 0.35),
        },
        Published {
            quantity: "trained (no sampling) Recall@30",
            notebook: 0.32142323629990205,
            band: (0.28, 0.48),
        },
    ],
    [
        Published {
            quantity: "trained (sampling) Recall@5",
            notebook: 0.2076923076923077,
            band: (0.07, 0.28),
        },
        Published {
            quantity: "trained (sampling) Recall@10",
            notebook: 0.23461538461538464,
            band: (0.08, 0.29),
        },
        Published {
            quantity: "trained (sampling) Recall@30",
            notebook: 0.33687505557289515,
            band: (0.19, 0.40),
        },
    ],
];

const LOSS_BANDS: [Published; 4] = [
    Published {
        quantity: "avg loss after epoch 1 (no sampling)",
        notebook: 1.8580522157925798,
        band: (1.77, 1.93),
    },
    Published {
        quantity: "avg loss after epoch 20 (no sampling)",
        notebook: 0.7309841856805622,
        band: (0.66, 0.79),
    },
    Published {
        quantity: "avg loss after epoch 1 (sampling)",
        notebook: 1.8401469694075152,
        band: (1.75, 1.89),
    },
    Published {
        quantity: "avg loss after epoch 10 (sampling)",
        notebook: 1.077807324660899,
        band: (1.02, 1.11),
    },
];

fn checks(args: &Args, o: &Outcome) -> Vec<Check> {
    let d = &o.data;
    let faithful = o.mode == Mode::Faithful;
    let exact_or_info = |q: &str, notebook: &str, ours: String| {
        if faithful {
            Check::exact(q, notebook, ours)
        } else {
            Check::info(format!("{q} (corrected)"), ours)
        }
    };
    let mut c = vec![
        Check::exact(
            "ratings shape, interactions shape",
            "((100836, 6), (61716, 6))",
            format!("{:?}", (d.ratings_shape, d.interactions_shape)),
        ),
        Check::exact(
            "interactions users, movies",
            "(609, 7363)",
            format!("{:?}", (d.interaction_users, d.interaction_items)),
        ),
        exact_or_info(
            "train max datetime",
            "1970-01-17 23:59:44.741000",
            d.train_max_datetime.clone(),
        ),
        Check::exact("train rows", 51431, d.train_rows),
        exact_or_info(
            "test min datetime",
            "1970-01-18 00:04:28.014000",
            d.test_min_datetime.clone(),
        ),
        Check::exact("test rows", 10285, d.test_rows),
        Check::exact(
            "n_users, n_items",
            "(532, 6236)",
            format!("{:?}", (d.n_users, d.n_items)),
        ),
        Check::exact("test rows after merge", 803, d.test_rows_kept),
        Check::exact("test users", 26, d.test_users),
    ];
    if args.batch_size == 64 {
        c.push(Check::exact(
            "batches per epoch (no sampling)",
            804,
            d.batches_unsampled,
        ));
        c.push(Check::exact(
            "batches per epoch (sampling)",
            1608,
            d.batches_sampled,
        ));
    }
    let notebook_settings = args.epochs == 20
        && args.sampled_epochs == 10
        && args.batch_size == 64
        && args.factors == 20
        && args.lr == 1e-3
        && faithful;
    let stages = [
        &o.mf.untrained,
        &o.mf.trained_unsampled,
        &o.mf.trained_sampled,
    ];
    for (stage, published) in stages.iter().zip(&RECALL_BANDS) {
        for (k, p) in KS.iter().zip(published) {
            let ours = stage.recall_at(*k).unwrap_or(f64::NAN);
            c.push(if notebook_settings {
                Check::band(p.quantity, p.notebook, ours, p.band, 3)
            } else {
                Check::info(
                    format!("MF {} ({})", p.quantity, o.mode.name()),
                    format!("{ours:.3}"),
                )
            });
        }
    }
    let losses = [
        o.mf.unsampled_training.printed.first(),
        o.mf.unsampled_training.printed.last(),
        o.mf.sampled_training.printed.first(),
        o.mf.sampled_training.printed.last(),
    ];
    // Outside the notebook's settings, the epochs are named by this run's counts.
    let epoch_names = [
        "avg loss after epoch 1 (no sampling)".to_string(),
        format!("avg loss after epoch {} (no sampling)", args.epochs),
        "avg loss after epoch 1 (sampling)".to_string(),
        format!("avg loss after epoch {} (sampling)", args.sampled_epochs),
    ];
    for ((loss, p), name) in losses.iter().zip(&LOSS_BANDS).zip(&epoch_names) {
        let ours = loss.copied().unwrap_or(f64::NAN);
        c.push(if notebook_settings {
            Check::band(p.quantity, p.notebook, ours, p.band, 3)
        } else {
            Check::info(
                format!("MF {name} ({})", o.mode.name()),
                format!("{ours:.3}"),
            )
        });
    }
    if let Some(n) = &o.neumf {
        let stages = [
            ("untrained", &n.untrained),
            ("trained (no sampling)", &n.trained_unsampled),
            ("trained (sampling)", &n.trained_sampled),
        ];
        for (name, m) in stages {
            for k in KS {
                let v = m.recall_at(k).unwrap_or(f64::NAN);
                c.push(Check::info(
                    format!("NeuMF {name} Recall@{k} ({})", o.mode.name()),
                    format!("{v:.3}"),
                ));
            }
        }
    }
    let mut runs = vec![
        ("MF", &o.mf.unsampled_training),
        ("MF sampled", &o.mf.sampled_training),
    ];
    if let Some(n) = &o.neumf {
        runs.push(("NeuMF", &n.unsampled_training));
        runs.push(("NeuMF sampled", &n.sampled_training));
    }
    for (name, log) in runs {
        c.push(Check::info(
            format!("{name} training steps/s ({})", o.mode.name()),
            format!("{:.0}", log.steps_per_s),
        ));
    }
    c
}

fn report(ctx: &Context, args: &Args, outcomes: &[Outcome], started: Instant) -> Report {
    let wall_s = started.elapsed().as_secs_f64();
    let checks = outcomes.iter().flat_map(|o| checks(args, o)).collect();
    let modes: Vec<Value> = outcomes
        .iter()
        .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
        .collect();
    say!(
        ctx,
        "wall time {wall_s:.1} s on {}",
        recsys::runtime::device::device_name(ctx.device)
    );
    Report {
        notebook: "000".into(),
        checks,
        details: json!({
            "settings": {
                "epochs": args.epochs,
                "sampled_epochs": args.sampled_epochs,
                "batch_size": args.batch_size,
                "lr": args.lr,
                "factors": args.factors,
                "utc_offset": args.utc_offset,
                "split_date": args.split_date,
                "neumf_layers": args.neumf_layers,
                "threads": tch::get_num_threads(),
                "device": recsys::runtime::device::device_name(ctx.device),
            },
            "modes": modes,
            "wall_s": wall_s,
        }),
    }
}

fn print_side_by_side(ctx: &Context, f: &Outcome, c: &Outcome) {
    let mut rows: Vec<(String, String, String)> = vec![
        (
            "split at (local time)".into(),
            f.data.split_at.clone(),
            c.data.split_at.clone(),
        ),
        (
            "train max datetime".into(),
            f.data.train_max_datetime.clone(),
            c.data.train_max_datetime.clone(),
        ),
        (
            "test min datetime".into(),
            f.data.test_min_datetime.clone(),
            c.data.test_min_datetime.clone(),
        ),
        (
            "days with interactions".into(),
            f.data.days.to_string(),
            c.data.days.to_string(),
        ),
        (
            "train / test rows".into(),
            format!("{} / {}", f.data.train_rows, f.data.test_rows),
            format!("{} / {}", c.data.train_rows, c.data.test_rows),
        ),
        (
            "test rows kept (users)".into(),
            format!("{} ({})", f.data.test_rows_kept, f.data.test_users),
            format!("{} ({})", c.data.test_rows_kept, c.data.test_users),
        ),
    ];
    let mut add_model = |name: &str, fr: &ModelRuns, cr: &ModelRuns| {
        let loss = |l: &TrainLog| l.printed.last().map_or("-".into(), |v| format!("{v:.4}"));
        rows.push((
            format!("{name} printed loss, last epoch (no sampling)"),
            loss(&fr.unsampled_training),
            loss(&cr.unsampled_training),
        ));
        rows.push((
            format!("{name} printed loss, last epoch (sampling)"),
            loss(&fr.sampled_training),
            loss(&cr.sampled_training),
        ));
        let stages = [
            ("untrained", &fr.untrained, &cr.untrained),
            ("no sampling", &fr.trained_unsampled, &cr.trained_unsampled),
            ("sampling", &fr.trained_sampled, &cr.trained_sampled),
        ];
        for (stage, a, b) in stages {
            let fmt = |m: &SampledMetrics| {
                m.recall
                    .iter()
                    .map(|x| format!("{x:.3}"))
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            rows.push((format!("{name} {stage} Recall@5/10/30"), fmt(a), fmt(b)));
            let ndcg = |m: &SampledMetrics| format!("{:.3}", m.ndcg[1]);
            rows.push((format!("{name} {stage} NDCG@10"), ndcg(a), ndcg(b)));
        }
    };
    add_model("MF", &f.mf, &c.mf);
    if let (Some(a), Some(b)) = (&f.neumf, &c.neumf) {
        add_model("NeuMF", a, b);
    }
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(10);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(10).max(8);
    say!(ctx, "{:<w0$}  {:<w1$}  corrected", "quantity", "faithful");
    for (q, a, b) in rows {
        say!(ctx, "{q:<w0$}  {a:<w1$}  {b}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_and_dates() {
        assert_eq!(parse_utc_offset("+01:00").unwrap(), 3_600_000);
        assert_eq!(parse_utc_offset("-05:30").unwrap(), -19_800_000);
        assert_eq!(parse_utc_offset("UTC").unwrap(), 0);
        assert!(parse_utc_offset("01:00").is_err());
        assert!(parse_utc_offset("+25:00").is_err());
        assert_eq!(parse_date("1970-01-18").unwrap(), 17);
        assert_eq!(parse_date("2016-06-06").unwrap(), 16958);
        assert!(parse_date("1970-13-01").is_err());
        assert!(parse_date("yesterday").is_err());
    }
}
