//! Notebook 000, "Recommender systems introduction" (ml-latest-small, implicit feedback).
//!
//! Read the ratings, keep ratings above 3 as interactions, split on the last day, map ids,
//! keep the test rows whose user and item are known, then train matrix factorization with
//! BCE-with-logits: first on positives only, then with one uniform random negative per
//! positive. Each model is evaluated by Recall@5/10/30 (plus NDCG and HitRate) on each test
//! user's positives ranked among 100 sampled negatives. The cells print in the notebook's
//! order under its section headings. After the notebook's flow, under a heading that says so,
//! its TODO, Neural Matrix Factorization, is built and evaluated the same way ([`beyond`]).
//!
//! Faithful mode (the default) keeps the notebook's quirks and says where each one acts:
//! timestamps divided by 1000 (every date falls in January 1970) in the machine's local time
//! (`--utc-offset`, default +01:00 as on the notebook's machine), an "avg loss after epoch"
//! that is a running mean over all steps so far, and test negatives that may be items the user
//! liked in train. `--corrected` fixes them; `--compare-modes` runs both.

mod args;
pub mod beyond;
pub mod cells;
pub mod data;
pub mod expected;
mod modes;
pub mod outcome;
mod train;
pub mod twin;

pub use args::Args;
pub use twin::Nb000;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use anyhow::Result;
use tch::nn;
use tch::{Device, Kind, Tensor};

use recsys::eval::sampled::{NegativePool, SampledCandidates};
use recsys::models::mf::MatrixFactorization;
use recsys::prep::{self, IdMap};
use recsys::report::pyfmt::{pprint_list, py_float};
use recsys::report::Report;
use recsys::train::negatives;
use recsys::{report::plot, say, Context};

use crate::notebooks::transcript::{aside, Out};
use beyond::TrainingSets;
use data::positives_by_user;
use outcome::{DataFingerprint, Details, ModelRuns, Outcome, Settings, TrainingData};
use train::{evaluate, train_fn};

/// Default seed of libtorch's generator (the notebook was not seeded).
pub const DEFAULT_SEED: u64 = 0;
/// The cutoffs the notebook evaluates.
pub const KS: [usize; 3] = [5, 10, 30];
/// Negatives sampled per test user.
pub const TEST_NEGATIVES: usize = 100;

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
pub fn run(ctx: &Context, args: &Args) -> Result<Report<Details>> {
    args::validate(args)?;
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
        return Ok(report(ctx, args, vec![outcome], started));
    }
    say!(ctx, "===== faithful mode =====");
    let faithful = run_mode(ctx, args, Mode::Faithful)?;
    say!(ctx);
    say!(ctx, "===== corrected mode =====");
    let corrected = run_mode(ctx, args, Mode::Corrected)?;
    say!(ctx);
    modes::print_side_by_side(ctx, &faithful, &corrected);
    Ok(report(ctx, args, vec![faithful, corrected], started))
}

/// One mode's run: the notebook's cells in its order, then what lies beyond the notebook.
fn run_mode(ctx: &Context, args: &Args, mode: Mode) -> Result<Outcome> {
    let out = Out::new(ctx);
    let mut outcome = run_cells(&out, args, mode)?;
    outcome.transcript = out.finish();
    Ok(outcome)
}

fn run_cells(out: &Out, args: &Args, mode: Mode) -> Result<Outcome> {
    let ctx = out.ctx;
    let seed = ctx.manual_seed(DEFAULT_SEED);
    let device = ctx.device;
    let prefix = match mode {
        Mode::Faithful => "000-".to_string(),
        Mode::Corrected => "000-corrected-".to_string(),
    };
    let mut plots = Vec::new();

    // ## Read the data; ## Split the data (on its last day)
    let split = data::read_and_split(out, args, mode, &prefix, &mut plots)?;
    let (train, test) = (split.train, split.test);

    // Map users and items of train to 0..n, in order of first appearance.
    let user_ids = IdMap::fit_column(&train, "user_id")?;
    let item_ids = IdMap::fit_column(&train, "item_id")?;
    let (n_users, n_items) = (user_ids.len() as i64, item_ids.len() as i64);
    let train = item_ids.with_encoded(
        &user_ids.with_encoded(&train, "user_id", "users_mapped")?,
        "item_id",
        "items_mapped",
    )?;
    say!(out, "{:?}", (n_users, n_items));

    // Keep the test rows whose user and item are known in train.
    say!(out, "Test n obs before merge = {}", test.height());
    let test_valid = prep::keep_known(&test, &train)?;
    say!(out, "Test n obs after merge = {}", test_valid.height());

    // ## Model: the notebook defines MF here and leaves NeuMF as "# TODO".
    say!(out, "## Model");
    say!(out, "### Matrix Factorization");
    aside!(
        out,
        "### Neural Matrix Factorization: \"# TODO\" in the notebook; the port builds it after \
         the notebook's flow (\"{}\")",
        beyond::HEADING
    );

    // ## Evaluation: each test user's positives among 100 sampled negatives
    say!(out, "## Evaluation");
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
    aside!(
        out,
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
        ratings_shape: split.ratings_shape,
        interactions_shape: split.interactions_shape,
        interaction_users: split.interaction_users,
        interaction_items: split.interaction_items,
        days: split.days,
        split_at: split.split_text,
        train_rows: train.height(),
        test_rows: test.height(),
        train_max_datetime: split.train_max,
        test_min_datetime: split.test_min,
        n_users,
        n_items,
        test_rows_kept: test_valid.height(),
        test_users: candidates.len(),
        batches_unsampled: unsampled.batches(args.batch_size),
        batches_sampled: (2 * n_train + args.batch_size - 1) / args.batch_size,
    };

    // The untrained model ("init random model")
    let make_mf =
        |vs: &nn::VarStore| MatrixFactorization::new(&vs.root(), n_users, n_items, args.factors);
    aside!(
        out,
        "MatrixFactorization(n_factors={}, n_users={n_users}, n_items={n_items}): the untrained \
         model's Recall@k is printed first",
        args.factors
    );
    let vs = nn::VarStore::new(device);
    let model = make_mf(&vs);
    let mf_untrained = evaluate(out, &model, &candidates, &pairs)?;

    // ## Training
    say!(out, "## Training");
    aside!(
        out,
        "lr = {}, batch_size = {}, n_epochs = {}",
        args.lr,
        args.batch_size,
        args.epochs
    );
    // ### Train without sampling (every target is 1), then the notebook's loss plot
    say!(out, "### Train without sampling");
    let vs = nn::VarStore::new(device);
    let model = make_mf(&vs);
    let mf_unsampled_log = train_fn(out, &model, &vs, args, args.epochs, &unsampled, mode, "MF")?;
    let losses = ctx.write_output_with(&format!("{prefix}loss-per-epoch.png"), |p| {
        // the notebook printed the running mean, the faithful mode's loss: drawn over it
        let printed: Vec<(usize, f64)> = match mode {
            Mode::Faithful => (1..).zip(expected::NB_MF_UNSAMPLED_LOSSES).collect(),
            Mode::Corrected => Vec::new(),
        };
        let marks: &[(&str, &[(usize, f64)])] = &[("notebook (printed)", &printed)];
        plot::line_chart_with_points(
            p,
            "MF without sampling",
            "epoch",
            beyond::loss_name(mode),
            &[("MF without sampling", &mf_unsampled_log.printed)],
            if printed.is_empty() { &[] } else { marks },
        )
    })?;
    aside!(out, "plot: {}", losses.display());
    plots.push(losses.display().to_string());
    let mf_unsampled = evaluate(out, &model, &candidates, &pairs)?;

    // ### Train with sampling: one uniform random (user, item) negative per train interaction.
    say!(out, "### Train with sampling");
    let (neg_users, neg_items) = negatives::uniform_negatives(n_users, n_items, n_train, device);
    aside!(
        out,
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
        out,
        &model,
        &vs,
        args,
        args.sampled_epochs,
        &sampled,
        mode,
        "MF sampled",
    )?;
    // train_fn's list, as IPython shows a long list: one item a line.
    let printed: Vec<String> = mf_sampled_log
        .printed
        .iter()
        .map(|&v| py_float(v))
        .collect();
    say!(out, "{}", pprint_list(&printed));
    let mf_sampled = evaluate(out, &model, &candidates, &pairs)?;
    let mf = ModelRuns {
        untrained: mf_untrained,
        unsampled_training: mf_unsampled_log,
        trained_unsampled: mf_unsampled,
        sampled_training: mf_sampled_log,
        trained_sampled: mf_sampled,
    };
    say!(out, "## Conclusions");
    aside!(out, "(the notebook's Conclusions are empty)");

    // Beyond the notebook: NeuMF (its TODO), then every run's losses in a second plot.
    let neumf = out.aside_block(|| -> Result<_> {
        if args.no_neumf {
            return Ok(None);
        }
        say!(out, "{}", beyond::HEADING);
        let data = TrainingSets {
            unsampled: &unsampled,
            sampled: &sampled,
        };
        let runs = beyond::neumf(
            out,
            args,
            mode,
            (n_users, n_items),
            &data,
            &candidates,
            &pairs,
        )?;
        Ok(Some(runs))
    })?;
    let all =
        out.aside_block(|| beyond::all_losses_plot(out, &prefix, mode, &mf, neumf.as_ref()))?;
    plots.push(all.display().to_string());

    Ok(Outcome {
        mode,
        seed,
        data: fingerprint,
        mf,
        neumf,
        plots,
        transcript: Vec::new(),
    })
}

fn report(ctx: &Context, args: &Args, outcomes: Vec<Outcome>, started: Instant) -> Report<Details> {
    let wall_s = started.elapsed().as_secs_f64();
    let checks = outcomes
        .iter()
        .flat_map(|o| expected::checks(args, o))
        .collect();
    say!(
        ctx,
        "wall time {wall_s:.1} s on {}",
        recsys::runtime::device::device_name(ctx.device)
    );
    let settings = Settings {
        epochs: args.epochs,
        sampled_epochs: args.sampled_epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        factors: args.factors,
        utc_offset: args.utc_offset.clone(),
        split_date: args.split_date.clone(),
        neumf_layers: args.neumf_layers,
        threads: tch::get_num_threads(),
        device: recsys::runtime::device::device_name(ctx.device),
    };
    Report {
        notebook: "000".into(),
        checks,
        details: Details {
            settings,
            modes: outcomes,
            wall_s,
        },
    }
}
