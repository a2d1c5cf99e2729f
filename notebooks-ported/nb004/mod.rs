//! Notebook 004: "Recommender Systems" — matrix factorization of the dense ml-100k rating
//! matrix with SGD, then a deeper, nonlinear "RecommenderNet".
//!
//! Faithful by default, with both of the notebook's bugs acting where they did:
//! - part 1 never calls `zero_grad`, so SGD steps with the sum of all gradients so far;
//! - part 2 keeps its hidden layers in a plain Python list: they are never trained and their
//!   dropout stays on in `net.eval()`.
//!
//! The corrected runs are printed beside the faithful ones (part 1: gradients zeroed each
//! epoch; part 2: all layers trained, dropout off at evaluation, 20% of the ratings held out).
//!
//! Device: the notebook sends its batches to `cuda:0` when there is one, but never calls
//! `net.to(device)`, so on a GPU machine its first forward pass stops with "Expected all
//! tensors to be on the same device"; its published numbers come from a CPU run. This port puts
//! everything on `--device`, the unregistered hidden layers included.
//! Data: `ratings_mat.csv` and `ratings.csv` are ml-100k's `u.data` as a matrix and as a list;
//! both are built here from `u.data` (file order). `ratings.fillna(-1)` is a no-op in the
//! notebook (not assigned), and needed none: missing cells are −1 already.

pub mod expected;
pub mod outcome;
mod train;
pub mod twin;

use std::time::Instant;

use anyhow::Result;

use recsys::data::Dataset;
use recsys::models::dense_mf::{self, DenseMf, GradientMode};
use recsys::models::recommender_net::{
    self, HiddenLayers, RatingBatches, RecommenderNet, RecommenderNetConfig,
};
use recsys::prep::{f64_values, i64_values};
use recsys::report::pyfmt::py_float;
use recsys::report::{Check, Report};
use recsys::runtime::device::device_name;
use recsys::{report::plot, say, Context};

use crate::notebooks::transcript::{aside, Out};

/// Which part-2 models to train.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modes {
    /// The notebook's model, bugs included.
    Faithful,
    /// All layers trained, dropout off at evaluation, 20% held out.
    Corrected,
    /// Both, side by side.
    Both,
}

/// Options of `recsys notebook 004`. Defaults are the notebook's settings.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Part 1 (dense-matrix MF): SGD epochs.
    #[arg(long, default_value_t = 250, value_parser = recsys::runtime::limits::EPOCHS_OR_NONE.parser())]
    pub mf_epochs: usize,
    /// Part 2 (RecommenderNet): training epochs.
    #[arg(long, default_value_t = 100, value_parser = recsys::runtime::limits::EPOCHS_OR_NONE.parser())]
    pub epochs: usize,
    /// Part 2: batch size (batches in file order, not shuffled).
    #[arg(long, default_value_t = 128, value_parser = recsys::runtime::limits::BATCH.parser_i64())]
    pub batch_size: i64,
    /// Part 2: which models to train.
    #[arg(long, value_enum, default_value = "both")]
    pub mode: Modes,
    /// Part 2's corrected mode alone, as `--mode corrected` (the flag the other notebooks take;
    /// part 1's corrected run is always printed among the port's notes).
    #[arg(long, conflicts_with = "mode")]
    pub corrected: bool,
    /// Part 2, corrected mode: fraction of the ratings held out for evaluation.
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
    /// libtorch intra-op CPU threads for this run (0 keeps libtorch's default). One is the
    /// default because these batches are tiny: on a loaded 2-core machine part 2 ran at 124
    /// steps/s with one thread and 8 steps/s with two.
    #[arg(long, default_value_t = 1, value_parser = recsys::runtime::limits::THREADS.parser_i32())]
    pub threads: i32,
}

use expected::*;
use outcome::{Corrected, Details, Faithful, Part1, Part2};

pub use twin::Nb004;

/// Default seed (the notebook draws unseeded).
const DEFAULT_SEED: u64 = 0;

/// The notebook's printed `(epoch, loss)` pairs on the plots' axis (epochs counted from 1).
fn printed_points(printed: &[(usize, f64)]) -> Vec<(usize, f64)> {
    printed.iter().map(|&(e, v)| (e + 1, v)).collect()
}

/// Run the port.
pub fn run(ctx: &Context, args: &Args) -> Result<Report<Details>> {
    let args = &Args {
        mode: if args.corrected {
            Modes::Corrected
        } else {
            args.mode
        },
        ..args.clone()
    };
    anyhow::ensure!(
        args.mf_epochs > 0 && args.epochs > 0,
        "--mf-epochs and --epochs must be > 0"
    );
    let device = ctx.device;
    let seed = ctx.seed_or(DEFAULT_SEED);
    let mut checks = Vec::new();
    let out = Out::new(ctx);
    if args.threads > 0 {
        tch::set_num_threads(args.threads);
    }
    aside!(
        out,
        "notebook 004 on {}, seed {seed}, {} CPU thread(s)",
        device_name(device),
        tch::get_num_threads()
    );

    // ## Matrix Factorization: ratings = pd.read_csv('ratings_mat.csv')
    say!(out, "\n## Matrix Factorization");
    let ratings_df = Dataset::Ml100k.ratings(&ctx.data)?;
    let matrix = dense_mf::rating_matrix(&ratings_df)?;
    let (n_users, n_movies) = (matrix.n_users, matrix.n_items);
    let first_rows = dense_mf::torch_int_matrix_repr(&matrix.ratings.narrow(0, 0, 5));
    // print(ratings[:5])
    say!(out, "{first_rows}");
    checks.push(Check::exact(
        "ratings matrix shape",
        "(943, 1682)",
        format!("({n_users}, {n_movies})"),
    ));
    checks.push(Check::exact(
        "print(ratings[:5])",
        NB_FIRST_ROWS,
        &first_rows,
    ));
    let matrix = dense_mf::RatingMatrix {
        ratings: matrix.ratings.to_device(device),
        exist: matrix.exist.to_device(device),
        ..matrix
    };

    // n_factors = 50, epochs = 250, logging_rate = 10; SGD lr 0.01, no zero_grad.
    aside!(out, "(faithful: the notebook never calls zero_grad, so each SGD step uses the sum of all gradients so far)");
    let t = Instant::now();
    tch::manual_seed(seed as i64);
    let mut mf = DenseMf::new(50, n_users, n_movies, 0.01, device)?;
    let mut mf_losses = Vec::with_capacity(args.mf_epochs);
    for epoch in 0..args.mf_epochs {
        let loss = mf
            .sgd_step(&matrix, GradientMode::Accumulate)
            .double_value(&[]);
        mf_losses.push(loss);
        if epoch % 10 == 0 {
            say!(out, "Loss at epoch {epoch} = {}", py_float(loss));
        }
    }
    let mf_last = *mf_losses.last().expect("epochs > 0");
    say!(out, "Last Loss = {}", py_float(mf_last));
    let mf_wall = t.elapsed().as_secs_f64();

    // Corrected: the same start (same seed), gradients zeroed before every step.
    tch::manual_seed(seed as i64);
    let mut mf_fixed = DenseMf::new(50, n_users, n_movies, 0.01, device)?;
    let mf_fixed_losses: Vec<f64> = (0..args.mf_epochs)
        .map(|_| {
            mf_fixed
                .sgd_step(&matrix, GradientMode::ZeroEachStep)
                .double_value(&[])
        })
        .collect();
    aside!(
        out,
        "[corrected: zero_grad every epoch] Loss at epoch 0 = {}, Last Loss = {}",
        py_float(mf_fixed_losses[0]),
        py_float(*mf_fixed_losses.last().expect("epochs > 0"))
    );
    checks.push(Check::band(
        "part 1: loss at epoch 0",
        NB_MF_LOSS_0,
        mf_losses[0],
        (5.14, 5.46),
        4,
    ));
    if let Some(&l240) = mf_losses.get(240) {
        checks.push(Check::band(
            "part 1: loss at epoch 240",
            NB_MF_LOSS_240,
            l240,
            (0.58, 0.63),
            4,
        ));
    }
    checks.push(Check::band(
        "part 1: last loss",
        NB_MF_LOSS_LAST,
        mf_last,
        (0.59, 0.645),
        4,
    ));
    checks.push(Check::info(
        "part 1 corrected: last loss",
        format!("{:.4}", mf_fixed_losses.last().expect("epochs > 0")),
    ));
    let curve = ctx.write_output_with("004-dense-mf-loss.png", |p| {
        plot::line_chart_with_points(
            p,
            "Dense-matrix MF: masked MSE per epoch (SGD lr 0.01)",
            "epoch",
            "loss",
            &[
                ("faithful (gradients accumulate)", &mf_losses),
                ("corrected (zero_grad)", &mf_fixed_losses),
            ],
            &[("notebook (printed)", &printed_points(&NB_MF_LOSSES))],
        )
    })?;
    aside!(out, "loss curve: {}", curve.display());

    // #### Save the ratings: rescale to [1, 5], to_csv("answer_ratings.csv")
    say!(out, "\n#### Save the ratings:");
    let estimated = tch::no_grad(|| dense_mf::rescale_min_max(&mf.estimate(), 1.0, 5.0));
    let csv = dense_mf::labelled_matrix_csv(&estimated)?;
    let answer = ctx.write_output("answer_ratings.csv", csv.as_bytes())?;
    aside!(
        out,
        "wrote {} ({n_users} × {n_movies}, ratings rescaled to [1, 5])",
        answer.display()
    );

    // ## How to make it nonlinear and Deeper?  epochs = 100, batch_sz = 128
    say!(out, "\n## How to make it nonlinear and Deeper?");
    // ratings = pd.read_csv('ratings.csv'): UserID - 1, MovieID - 1, Rating, in file order.
    let users: Vec<i64> = i64_values(&ratings_df, "user_id")?.map(|u| u - 1).collect();
    let movies: Vec<i64> = i64_values(&ratings_df, "item_id")?.map(|m| m - 1).collect();
    let rates: Vec<f32> = f64_values(&ratings_df, "rating")?
        .map(|r| r as f32)
        .collect();
    let config = RecommenderNetConfig::default();

    let mut part2 = Part2::default();
    let mut curves: Vec<(&str, Vec<f64>)> = Vec::new();
    let mut faithful_eval = None;
    let mut corrected_eval = None;
    if args.mode != Modes::Corrected {
        aside!(out, "(faithful: the hidden layers sit in a plain list, so they are never trained and keep dropout on in eval)");
        let batches = RatingBatches::new(&users, &movies, &rates, args.batch_size, device)?;
        tch::manual_seed(seed as i64);
        let net = RecommenderNet::new(
            n_users,
            n_movies,
            &config,
            HiddenLayers::Unregistered,
            device,
        )?;
        let run =
            train::train_recommender_net(&out, &net, &batches, args.epochs, "faithful", true)?;
        // # evaluate the model (on the training batches, as the notebook does)
        curves.push(("faithful (last batch)", run.last_batch.clone()));
        let eval = recommender_net::evaluate(&net, &batches)?;
        say!(out, "Average loss = {}", py_float(eval.average_loss));
        say!(out, "Accuracy = {}", py_float(eval.accuracy));
        checks.push(Check::band(
            "part 2: loss at epoch 0 (last batch)",
            NB_NET_LOSS_0,
            run.last_batch[0],
            (1.08, 1.31),
            4,
        ));
        checks.push(Check::band(
            "part 2: average loss (train batches)",
            NB_NET_AVG_LOSS,
            eval.average_loss,
            (0.63, 0.81),
            4,
        ));
        checks.push(Check::band(
            "part 2: accuracy (train batches)",
            NB_NET_ACCURACY,
            eval.accuracy,
            (0.42, 0.49),
            4,
        ));
        part2.faithful = Some(Faithful {
            training: run.summary(),
            train_eval: eval,
        });
        faithful_eval = Some(eval);
    }
    if args.mode != Modes::Faithful {
        // The corrected mode is the port's own: after the notebook's flow.
        out.aside_block(|| -> Result<()> {
        tch::manual_seed(seed as i64);
        let (train_rows, test_rows) =
            recommender_net::holdout_rows(users.len() as i64, args.holdout)?;
        let pick = |rows: &[i64]| -> Result<RatingBatches> {
            let take = |v: &[i64]| rows.iter().map(|&i| v[i as usize]).collect::<Vec<_>>();
            let r: Vec<f32> = rows.iter().map(|&i| rates[i as usize]).collect();
            RatingBatches::new(&take(&users), &take(&movies), &r, args.batch_size, device)
        };
        let (train, test) = (pick(&train_rows)?, pick(&test_rows)?);
        say!(
            out,
            "[corrected] all layers trained, dropout off in eval; {} training / {} held-out ratings",
            train.n_ratings,
            test.n_ratings
        );
        let net =
            RecommenderNet::new(n_users, n_movies, &config, HiddenLayers::Registered, device)?;
        let run =
            train::train_recommender_net(&out, &net, &train, args.epochs, "corrected", false)?;
        curves.push(("corrected (last batch)", run.last_batch.clone()));
        let train_eval = recommender_net::evaluate(&net, &train)?;
        let test_eval = if test.is_empty() {
            None
        } else {
            Some(recommender_net::evaluate(&net, &test)?)
        };
        checks.push(Check::info(
            "part 2 corrected: average loss (train batches)",
            format!("{:.4}", train_eval.average_loss),
        ));
        checks.push(Check::info(
            "part 2 corrected: accuracy (train batches)",
            format!("{:.4}", train_eval.accuracy),
        ));
        if let Some(e) = test_eval {
            checks.push(Check::info(
                "part 2 corrected: average loss (held out)",
                format!("{:.4}", e.average_loss),
            ));
            checks.push(Check::info(
                "part 2 corrected: accuracy (held out)",
                format!("{:.4}", e.accuracy),
            ));
        }
        part2.corrected = Some(Corrected {
            training: run.summary(),
            train_eval,
            holdout_eval: test_eval,
        });
        corrected_eval = Some((train_eval, test_eval));
        Ok(())
        })?;
    }

    let series: Vec<(&str, &[f64])> = curves.iter().map(|(n, v)| (*n, v.as_slice())).collect();
    let net_curve = ctx.write_output_with("004-recommender-net-loss.png", |p| {
        plot::line_chart_with_points(
            p,
            "RecommenderNet: MSE of the last batch per epoch",
            "epoch",
            "loss",
            &series,
            &[("notebook (printed)", &printed_points(&NB_NET_LOSSES))],
        )
    })?;
    aside!(out, "loss curve: {}", net_curve.display());

    // Both modes side by side, next to the published numbers.
    let (ct, ch) = corrected_eval
        .map(|(t, h)| (Some(t), h))
        .unwrap_or((None, None));
    out.aside_block(|| {
        expected::print_beside_notebook(&out, faithful_eval.as_ref(), ct.as_ref(), ch.as_ref())
    });

    let mut report = Report {
        notebook: "004".into(),
        checks,
        details: Details {
            device: device_name(device),
            seed,
            threads: tch::get_num_threads(),
            part1: Part1 {
                faithful_losses: mf_losses,
                corrected_losses: mf_fixed_losses,
                wall_s: mf_wall,
                answer_ratings_csv: answer,
                plot: curve,
            },
            part2,
            transcript: Vec::new(),
        },
    };
    report.details.transcript = out.finish();
    Ok(report)
}
