//! `recsys train`: fit any model of the registry on any ratings data, evaluate it on its test
//! split, and optionally save it. Parsing and printing only: the library fits
//! ([`recsys::recommender::registry`]), evaluates and saves.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use serde_json::{json, Value};

use crate::args::{ensure_k, RatingsArgs, SplitArgs};
use crate::evaluate::{evaluation_json, print_evaluation};
use crate::print::say_split;
use recsys::prep::f64_values;
use recsys::prep::prepared::prepare;
use recsys::prep::spec::SplitKind;
use recsys::recommender::checkpoint::{self, Sidecar};
use recsys::recommender::evaluation::{evaluate, ValidationCheck};
use recsys::recommender::registry::{self, FitInput};
use recsys::recommender::settings::{apply_set, check_one, describe};
use recsys::recommender::{train_set, train_times, Task};
use recsys::runtime::context::Context;
use recsys::runtime::progress::during;
use recsys::say;

/// Flags of `recsys train`.
#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    #[command(flatten)]
    pub ratings: RatingsArgs,
    /// A model of the registry (`recsys models` lists them with their settings).
    #[arg(long, default_value = "mf")]
    pub model: String,
    /// The model's settings, e.g. 'lambda=500' (ease) or 'factors=64 epochs=20' (als).
    #[arg(long)]
    pub set: Option<String>,
    /// Implicit feedback (ranking and next-item models): ratings strictly above this are
    /// positives, the rest dropped (data without a rating column is kept whole).
    #[arg(long, default_value_t = 3.0)]
    pub threshold: f64,
    #[command(flatten)]
    pub split: SplitArgs,
    #[command(flatten)]
    pub network: NetworkFlags,
    /// Cut-off of the ranking metrics printed after training.
    #[arg(short, long, default_value_t = 10, value_parser = recsys::runtime::limits::K.parser())]
    pub k: usize,
    /// Save the model into this directory (model.safetensors + model.json).
    #[arg(long)]
    pub save: Option<PathBuf>,
}

/// The networks' settings as flags (each is also a `--set` key; a model that does not take
/// one refuses it).
#[derive(Args, Debug, Clone, Default)]
pub struct NetworkFlags {
    /// explicit (ratings, MSE) or implicit (positives above --threshold) [mf, neumf, bilinear].
    #[arg(long)]
    pub feedback: Option<String>,
    /// Implicit pair models: negatives drawn per positive, each epoch afresh [default: 4].
    #[arg(long)]
    pub negatives: Option<i64>,
    /// Implicit pair models: how negatives are drawn, uniform or popularity [default: uniform].
    #[arg(long)]
    pub sampling: Option<String>,
    /// Passes over the training data [default: 10].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Interactions (sequences) per minibatch [default: 256; pair models on more than 256k
    /// train interactions: about 1000 steps an epoch, at most 4096].
    #[arg(long)]
    pub batch: Option<i64>,
    /// Pair models' optimizer: adam, sparse-adam (lazy Adam, only the batch's rows) or adagrad
    /// [default: sparse-adam for mf; else adam].
    #[arg(long)]
    pub optimizer: Option<String>,
    /// Learning rate [default: with adam 2e-3 for mlp, cbow, gru, lstm, 3e-3 for bilinear,
    /// else 1e-2; twice that with sparse-adam; 0.3 with adagrad].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Weight decay (L2 added to the gradient) [default: 1e-4 for bilinear, else 0].
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Embedding size [default: 32].
    #[arg(long, visible_alias = "dim")]
    pub factors: Option<i64>,
    /// neumf: number of MLP layers [default: 3].
    #[arg(long)]
    pub layers: Option<usize>,
    /// mlp: hidden layer widths [default: 128,256,128].
    #[arg(long)]
    pub hidden: Option<String>,
    /// Sequence models: items per training sequence and history length [default: 20].
    #[arg(long)]
    pub max_len: Option<usize>,
}

impl NetworkFlags {
    /// The flags given, as `key=value` words for `model` (one refused when the model does not
    /// take it).
    fn settings(&self, model: &registry::ModelEntry) -> Result<String> {
        let given: Vec<(&str, &str, Option<String>)> = vec![
            ("--feedback", "feedback", self.feedback.clone()),
            (
                "--negatives",
                "negatives",
                self.negatives.map(|v| v.to_string()),
            ),
            ("--sampling", "sampling", self.sampling.clone()),
            ("--epochs", "epochs", self.epochs.map(|v| v.to_string())),
            ("--batch", "batch", self.batch.map(|v| v.to_string())),
            ("--optimizer", "optimizer", self.optimizer.clone()),
            ("--lr", "lr", self.lr.map(|v| v.to_string())),
            (
                "--weight-decay",
                "weight_decay",
                self.weight_decay.map(|v| v.to_string()),
            ),
            ("--factors", "factors", self.factors.map(|v| v.to_string())),
            ("--layers", "layers", self.layers.map(|v| v.to_string())),
            ("--hidden", "hidden", self.hidden.clone()),
            ("--max-len", "max_len", self.max_len.map(|v| v.to_string())),
        ];
        if let Some(lr) = self.lr.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
            bail!("--lr must be a positive finite number, got {lr}");
        }
        if let Some(w) = self.weight_decay.filter(|w| !(w.is_finite() && *w >= 0.0)) {
            bail!("--weight-decay must be a finite number at least 0, got {w}");
        }
        let keys = model.keys();
        let mut words = vec![];
        for (flag, key, value) in given {
            let Some(value) = value else { continue };
            if !keys.iter().any(|k| k == key) {
                if key == "feedback" {
                    let only = if model.task == Task::Rating {
                        "explicit"
                    } else {
                        "implicit"
                    };
                    bail!(
                        "--feedback {value}: {} trains on {only} feedback only",
                        model.name
                    );
                }
                bail!(
                    "{flag}: {} takes no {key} setting; its settings: {}",
                    model.name,
                    if keys.is_empty() {
                        "none".to_string()
                    } else {
                        keys.join(", ")
                    }
                );
            }
            if value.split_whitespace().count() != 1 {
                bail!("{flag} {value:?}: one value, without spaces");
            }
            check_one(model, key, &value).map_err(|e| anyhow::anyhow!("{flag} {value}: {e:#}"))?;
            words.push(format!("{key}={value}"));
        }
        Ok(words.join(" "))
    }
}

/// Default seed when `--seed` is not given.
pub const DEFAULT_SEED: u64 = 42;

/// Train, evaluate, and save when asked.
pub fn train(ctx: &Context, args: &TrainArgs) -> Result<Value> {
    ensure_k(args.k)?;
    let entry = registry::find(&args.model)?;
    let words = format!(
        "{} {}",
        args.network.settings(entry)?,
        args.set.as_deref().unwrap_or("")
    );
    let overrides = apply_set(&words, &[entry])?
        .remove(entry.name)
        .unwrap_or_default();
    let config = entry.resolve(&overrides)?;
    let task = entry.task_for(&config);
    let split = args.split.spec();
    split.check()?;
    if !args.threshold.is_finite() {
        bail!(
            "--threshold must be a finite number, got {}",
            args.threshold
        );
    }
    if split.kind == SplitKind::User && task != Task::NextItem {
        bail!(
            "the user-based split puts test users out of training, and {} only scores users it \
             was trained on; use a sequence model (pooling, cbow, gru, lstm) or another split",
            entry.name
        );
    }
    if split.kind == SplitKind::Time
        && split.time_threshold.is_none()
        && args.ratings.timestamp_col == "none"
    {
        bail!(
            "--split time orders interactions by time, but --timestamp-col none leaves the data \
             without timestamps; name the timestamp column or use --split random"
        );
    }
    if let Some(dir) = &args.save {
        checkpoint::check_target(dir, ctx.force)?;
    }
    let spec = args.ratings.spec();
    let ratings = during(&format!("loading {}", spec.data), || spec.load(ctx))?;
    let given_test = spec.load_test(ctx, &split)?;
    crate::args::ensure_test_apart(&spec.data, &ratings, given_test.as_ref(), &split)?;
    let all_ones = f64_values(&ratings, "rating")?.all(|r| r == 1.0);
    if task == Task::Rating && all_ones {
        bail!(
            "{}: every rating is 1 (implicit data); {} predicts ratings",
            spec.data,
            entry.name
        );
    }
    let threshold = (task.is_implicit() && !all_ones).then_some(args.threshold);
    let seed = ctx.manual_seed(DEFAULT_SEED);
    let split = split.seeded(seed);
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
    say!(
        ctx,
        "model     {} ({} task; {}), seed {seed}",
        entry.name,
        task.name(),
        describe(&config)
    );
    let train = train_set(&data, &data.train, task)?;
    let times = train_times(&data.train)?;
    let check = ValidationCheck::new(task, &data, split.kind, args.k)?;
    let started = Instant::now();
    let mut epoch_s = vec![];
    let mut on_epoch = |end: &recsys::train::pairs::EpochEnd| -> Result<()> {
        say!(
            ctx,
            "epoch {:>3}  loss {:.5}  {:.1} s",
            end.epoch + 1,
            end.loss,
            end.seconds
        );
        epoch_s.push(end.seconds);
        if let Some(c) = &check {
            let (name, value) = c.measure(end.model)?;
            say!(
                ctx,
                "epoch {:>3}  validation {name} {value:.5}",
                end.epoch + 1
            );
        }
        Ok(())
    };
    let mut input = FitInput {
        device: ctx.device,
        times: Some(&times),
        on_epoch: Some(&mut on_epoch),
    };
    let fitted = entry.fit(&config, &train, &mut input)?;
    let train_s = started.elapsed().as_secs_f64();
    say!(ctx, "trained in {train_s:.1} s");
    if let Some(c) = check.as_ref().filter(|_| fitted.losses.is_empty()) {
        let (name, value) = c.measure(fitted.model.as_ref())?;
        say!(ctx, "validation {name} {value:.5}");
    }
    let eval_started = Instant::now();
    let evaluation = evaluate(fitted.model.as_ref(), &data, split.kind, args.k, 100, seed)?;
    print_evaluation(ctx, &evaluation, args.k, Default::default());
    let eval_s = eval_started.elapsed().as_secs_f64();
    let mut saved = Value::Null;
    if let Some(dir) = &args.save {
        checkpoint::check_space(dir, checkpoint::state_bytes(fitted.model.as_ref()))?;
        let sidecar = Sidecar::of_run(entry, &fitted, seed, threshold, &spec, &split, &data);
        checkpoint::save(dir, fitted.model.as_ref(), &sidecar, ctx.force)?;
        say!(ctx, "saved     {}", dir.display());
        saved = json!(dir);
    }
    Ok(json!({
        "model": entry.name,
        "task": task,
        "config": fitted.config,
        "data": spec,
        "split": split,
        "seed": seed,
        "fingerprints": data.fingerprints,
        "losses": fitted.losses,
        "train_s": train_s,
        "epoch_s": epoch_s,
        "eval_s": eval_s,
        "evaluation": evaluation_json(&evaluation, args.k, Default::default()),
        "saved": saved,
    }))
}
