//! `recsys train`: fit one of the library's models on any ratings data, evaluate it on its test
//! split, and optionally save it.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use serde_json::{json, Value};
use tch::Tensor;

use crate::args::ensure_k;
use crate::args::{RatingsArgs, SplitArgs};
use crate::checkpoint::{self, Sidecar, TrainSettings};
use crate::evaluate::{evaluate_model, say_validation, EvalOptions, ValidationCheck};
use crate::fit::{fit_pairs, PairData, PairTraining};
use crate::prepared::{prepare, say_split, DataSpec, SplitKind};
use crate::zoo::{AppModel, Feedback, ModelConfig, ModelKind, OptimizerKind, Sampling};
use recsys::data::interactions::Interactions;
use recsys::prep::sequence::to_sequences;
use recsys::prep::{f64_values, i64_values};
use recsys::runtime::context::Context;
use recsys::runtime::progress::{during, Progress};
use recsys::say;

mod sizes;
use sizes::{default_batch, ensure_sizes};

/// Flags of `recsys train`.
#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    #[command(flatten)]
    pub ratings: RatingsArgs,
    /// mf, neumf, bilinear, two-tower, mlp (RecommenderNet), pooling, cbow, gru or lstm.
    #[arg(long, default_value = "mf")]
    pub model: String,
    /// explicit (ratings, MSE) or implicit (positives above --threshold) [default: explicit for
    /// bilinear and mlp, else implicit].
    #[arg(long)]
    pub feedback: Option<Feedback>,
    /// Implicit feedback: ratings strictly above this are positives, the rest dropped (data
    /// without a rating column has every rating 1 and is kept whole).
    #[arg(long, default_value_t = 3.0)]
    pub threshold: f64,
    #[command(flatten)]
    pub split: SplitArgs,
    /// Implicit pair models: negatives drawn per positive, each epoch afresh.
    #[arg(long, default_value_t = 4)]
    pub negatives: i64,
    /// Implicit pair models: how negatives are drawn.
    #[arg(long, value_enum, default_value = "uniform")]
    pub sampling: Sampling,
    /// Passes over the training data.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Interactions (sequences, for the sequence models) per minibatch [default: 256; pair
    /// models on more than 256k train interactions: about 1000 steps an epoch, at most 4096].
    #[arg(long)]
    pub batch: Option<i64>,
    /// Pair models' optimizer: adam (dense, every row each step), sparse-adam (lazy Adam, only
    /// the batch's rows, as torch.optim.SparseAdam) or adagrad (on the batch's rows)
    /// [default: sparse-adam for mf; else adam].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Learning rate [default: with adam 2e-3 for mlp, cbow, gru, lstm, 3e-3 for bilinear,
    /// else 1e-2; twice that with sparse-adam; 0.3 with adagrad].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Weight decay (L2 added to the gradient) [default: 1e-4 for bilinear, else 0].
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Embedding size.
    #[arg(long, default_value_t = 32)]
    pub dim: i64,
    /// neumf: number of MLP layers.
    #[arg(long, default_value_t = 3)]
    pub layers: usize,
    /// mlp: hidden layer widths.
    #[arg(long, value_delimiter = ',', default_value = "128,256,128")]
    pub hidden: Vec<i64>,
    /// Sequence models: items per training sequence (and history length when scoring).
    #[arg(long, default_value_t = 20)]
    pub max_len: usize,
    /// Cut-off of the ranking metrics printed after training.
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// Save the model into this directory (model.safetensors + model.json).
    #[arg(long)]
    pub save: Option<PathBuf>,
}

/// Default seed when `--seed` is not given.
pub const DEFAULT_SEED: u64 = 42;

/// Train, evaluate, and save when asked.
pub fn train(ctx: &Context, args: &TrainArgs) -> Result<Value> {
    let kind = ModelKind::parse(&args.model)?;
    let feedback = args.feedback.unwrap_or(kind.default_feedback());
    kind.check_feedback(feedback)?;
    validate(args, kind, feedback)?;
    let optimizer = args.optimizer.unwrap_or(OptimizerKind::default_for(kind));
    if optimizer != OptimizerKind::Adam && kind.representation().is_some() {
        bail!(
            "--optimizer {} is for the pair models; {} is a sequence model and trains with its \
             own dense Adam",
            optimizer.name(),
            kind.name()
        );
    }
    if let Some(dir) = &args.save {
        checkpoint::check_target(dir, ctx.force)?;
    }
    let lr = args.lr.unwrap_or(optimizer.default_lr(kind));
    let weight_decay = args.weight_decay.unwrap_or(kind.default_weight_decay());
    let split = args.split.spec();
    let spec = DataSpec::from_args(&args.ratings);
    let ratings = during(&format!("loading {}", spec.data), || spec.load(ctx))?;
    let given_test = spec.load_test(ctx, &split)?;
    let all_ones = f64_values(&ratings, "rating")?.all(|r| r == 1.0);
    let threshold = (feedback == Feedback::Implicit && !all_ones).then_some(args.threshold);
    let seed = ctx.manual_seed(DEFAULT_SEED);
    let data = prepare(ratings, given_test, threshold, &split)?;
    say!(
        ctx,
        "data      {} ({})",
        spec.data,
        data.fingerprints.ratings
    );
    if let Some(t) = threshold {
        say!(ctx, "implicit  ratings > {t} are positives");
    }
    say_split(ctx, &split, &data);
    let config = ModelConfig {
        kind,
        feedback,
        dim: args.dim,
        layers: args.layers,
        hidden: args.hidden.clone(),
        max_len: args.max_len,
        n_users: data.users.len() as i64,
        n_items: data.items.len() as i64,
    };
    ensure_sizes(&config, args, data.train.height() as u64)?;
    let device = ctx.device;
    let batch = args
        .batch
        .unwrap_or_else(|| default_batch(kind, data.train.height() as u64));
    let mut model = AppModel::new(config.clone(), lr, weight_decay, batch, device)?;
    if let Some(dir) = &args.save {
        checkpoint::check_space(dir, model.weight_bytes())?;
    }
    say!(
        ctx,
        "model     {} ({:?} feedback, dim {}, {} lr {lr}, weight decay {}, {} epochs, batch {}, seed {seed})",
        kind.name(),
        feedback,
        args.dim,
        optimizer.name(),
        weight_decay,
        args.epochs,
        batch
    );
    let users = data.users.encode_column(&data.train, "user_id")?;
    let items = data.items.encode_column(&data.train, "item_id")?;
    let check = ValidationCheck::new(&model, &data, split.kind, args.k)?;
    let started = Instant::now();
    let mut losses = Vec::with_capacity(args.epochs);
    let mut epoch_s = Vec::with_capacity(args.epochs);
    let probe_len = users.len().min(256);
    let probe = (
        Tensor::from_slice(&users[..probe_len]).to_device(device),
        Tensor::from_slice(&items[..probe_len]).to_device(device),
    );
    if model.is_sequence() {
        let timestamps: Vec<i64> = i64_values(&data.train, "timestamp")?.collect();
        let n = users.len();
        let inter = Interactions {
            user_ids: users.clone(),
            item_ids: items.iter().map(|i| i + 1).collect(),
            ratings: vec![1.0; n],
            timestamps,
            num_users: config.n_users,
            num_items: config.n_items + 1,
        };
        let seqs = to_sequences(&inter, config.max_len, config.max_len)?;
        say!(ctx, "sequences {}", seqs);
        let tensor = seqs.tensor(device);
        for epoch in 0..args.epochs {
            let bar = Progress::new(1, &format!("epoch {}/{}", epoch + 1, args.epochs), "epochs");
            let t = Instant::now();
            let loss = model.fit_sequences(&tensor)?;
            epoch_s.push(end_epoch(ctx, &bar, epoch, loss, t));
            ensure_finite(&model, &probe, loss, epoch, lr)?;
            losses.push(loss);
            say_validation(ctx, &check, &model, epoch)?;
        }
    } else {
        let ratings: Vec<f32> = f64_values(&data.train, "rating")?
            .map(|r| r as f32)
            .collect();
        let pairs = PairData {
            users: &users,
            items: &items,
            ratings: &ratings,
        };
        let training = PairTraining {
            optimizer,
            lr,
            weight_decay,
            epochs: args.epochs,
            batch,
            negatives: args.negatives,
            sampling: args.sampling,
        };
        fit_pairs(&model, &pairs, &training, |epoch, loss, bar, t| {
            epoch_s.push(end_epoch(ctx, bar, epoch, loss, t));
            ensure_finite(&model, &probe, loss, epoch, lr)?;
            losses.push(loss);
            say_validation(ctx, &check, &model, epoch)
        })?;
    }
    let train_s = started.elapsed().as_secs_f64();
    say!(ctx, "trained in {train_s:.1} s");
    let eval_started = Instant::now();
    let eval = evaluate_model(
        ctx,
        &model,
        &data,
        &data.users,
        &data.items,
        split.kind,
        seed,
        args.k,
        100,
        &EvalOptions::default(),
    )?;
    let eval_s = eval_started.elapsed().as_secs_f64();
    let mut saved = Value::Null;
    if let Some(dir) = &args.save {
        let sidecar = Sidecar {
            format: checkpoint::FORMAT.into(),
            recsys_version: env!("CARGO_PKG_VERSION").into(),
            model: config.clone(),
            training: TrainSettings {
                seed,
                epochs: args.epochs,
                batch,
                lr,
                weight_decay,
                threshold,
                negatives: args.negatives,
                sampling: args.sampling,
            },
            data: spec.clone(),
            split: split.clone(),
            users: data.users.clone(),
            items: data.items.clone(),
            fingerprints: data.fingerprints.clone(),
            losses: losses.clone(),
            names: data.names.clone(),
        };
        checkpoint::save(dir, &model, &sidecar, ctx.force)?;
        say!(ctx, "saved     {}", dir.display());
        saved = json!(dir);
    }
    Ok(json!({
        "model": config,
        "data": spec,
        "split": split,
        "seed": seed,
        "fingerprints": data.fingerprints,
        "losses": losses,
        "train_s": train_s,
        "epoch_s": epoch_s,
        "eval_s": eval_s,
        "evaluation": eval,
        "saved": saved,
    }))
}

/// Check the options before any work: every count and size in range, rates finite.
fn validate(args: &TrainArgs, kind: ModelKind, feedback: Feedback) -> Result<()> {
    ensure_k(args.k)?;
    if args.epochs == 0 || args.batch.is_some_and(|b| b < 1) {
        bail!("--epochs and --batch must be at least 1");
    }
    if let Some(lr) = args.lr {
        if !(lr.is_finite() && lr > 0.0) {
            bail!("--lr must be a positive finite number, got {lr}");
        }
    }
    if let Some(w) = args.weight_decay {
        if !(w.is_finite() && w >= 0.0) {
            bail!("--weight-decay must be a finite number at least 0, got {w}");
        }
    }
    if !args.threshold.is_finite() {
        bail!(
            "--threshold must be a finite number, got {}",
            args.threshold
        );
    }
    args.split.spec().check()?;
    if args.dim < 1 {
        bail!("--dim must be at least 1, got {}", args.dim);
    }
    if args.split.kind == SplitKind::LastN && args.split.last_n < 1 {
        bail!("--last-n must be at least 1");
    }
    if args.split.kind == SplitKind::Time
        && args.split.time_threshold.is_none()
        && args.ratings.timestamp_col == "none"
    {
        bail!(
            "--split time orders interactions by time, but --timestamp-col none leaves the data \
             without timestamps; name the timestamp column or use --split random"
        );
    }
    match kind {
        ModelKind::Mlp if args.hidden.is_empty() || args.hidden.iter().any(|&h| h < 1) => bail!(
            "--hidden must list layer widths of at least 1, got {:?}",
            args.hidden
        ),
        ModelKind::Neumf if args.layers < 1 => bail!("--layers must be at least 1 for neumf"),
        _ if kind.representation().is_some() && args.max_len < 2 => bail!(
            "--max-len must be at least 2 for {} (one item to predict from, one to predict), got {}",
            kind.name(),
            args.max_len
        ),
        _ => {}
    }
    if feedback == Feedback::Implicit && kind.representation().is_none() && args.negatives < 1 {
        bail!("--negatives must be at least 1 for implicit pair models");
    }
    if args.split.kind == SplitKind::User && kind.representation().is_none() {
        bail!(
            "the user-based split puts test users out of training, and {} only scores users it \
             was trained on; use a sequence model (pooling, cbow, gru, lstm) or another split",
            kind.name()
        );
    }
    Ok(())
}

/// Stop a diverged run: a loss, weight or score that is not finite would only save a model
/// that scores nothing. `probe` is a few train (user, item) pairs to score.
fn ensure_finite(
    model: &AppModel,
    probe: &(Tensor, Tensor),
    loss: f64,
    epoch: usize,
    lr: f64,
) -> Result<()> {
    let what = if !loss.is_finite() {
        format!("the mean loss of epoch {} is {loss}", epoch + 1)
    } else if !model.is_finite(&probe.0, &probe.1)? {
        format!(
            "after epoch {} the model's weights or scores are NaN or infinite",
            epoch + 1
        )
    } else {
        return Ok(());
    };
    bail!("training diverged: {what}; nothing was saved (lower --lr, now {lr})")
}

/// Close an epoch's progress bar with its loss and print the epoch line; returns the epoch's
/// seconds.
fn end_epoch(ctx: &Context, bar: &Progress, epoch: usize, loss: f64, t: Instant) -> f64 {
    bar.set_message(format!("loss {loss:.4}"));
    bar.finish();
    let secs = t.elapsed().as_secs_f64();
    say!(ctx, "epoch {:>3}  loss {loss:.5}  {secs:.1} s", epoch + 1);
    secs
}
