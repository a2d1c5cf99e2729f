//! Notebook 002: the Spotlight homework on ml-100k.
//!
//! Part 1, explicit feedback: Spotlight's `ExplicitFactorizationModel(n_iter=3)` on a random
//! 80/20 split, its test RMSE checked with our own RMSE, the mean-rating baseline, and the
//! exercise: a `CollaborativeFilteringModel` (embedding 20, MSE, Adam lr 0.01, weight decay 1e-3,
//! 10 epochs, batch 300) with train and test RMSE per epoch, plotted, and again without weight
//! decay.
//!
//! Part 2, implicit sequences: Spotlight's user-based split, `to_sequence()` (windows of 10),
//! `ImplicitSequenceModel(n_iter=3, representation='pooling', loss='pointwise')` scored by MRR
//! and by label ranking average precision, the most-popular and softmax-popularity baselines,
//! and the exercise: CBOW, GRU and LSTM next-item models with cross-entropy.
//!
//! The original's random draws are unseeded NumPy draws inside Spotlight; here every draw goes
//! through libtorch's generator (seeded with `--seed`, default 0), so the stochastic numbers are
//! compared with bands measured over several seeds (`--seeds 5`).

pub mod arrays;
pub mod expected;
pub mod outcome;
mod part1;
mod part2;
pub mod twin;

use anyhow::{ensure, Result};
use tch::{Device, Kind, Tensor};

use recsys::data::interactions::Interactions;
use recsys::data::Dataset;
use recsys::eval::next_item::label_ranking_average_precision;
use recsys::models::sequence::Representation;
use recsys::report::Report;
use recsys::{say, Context};

use crate::notebooks::transcript::{aside, Out};
use outcome::{Details, Part1, Part2, SeedRun};

pub use twin::Nb002;
/// Options of `recsys notebook 002`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Run the whole notebook for this many seeds (--seed, --seed + 1, ...) and print a table of
    /// mean ± sd; the first seed's run is printed in full.
    #[arg(long, default_value_t = 1, value_parser = recsys::runtime::limits::SEEDS.parser())]
    pub seeds: usize,
    /// Which part to run: 1 (explicit feedback), 2 (sequences) or both.
    #[arg(long, value_parser = ["1", "2", "both"], default_value = "both")]
    pub part: String,
    /// The exercise's next-item models to train in part 2.
    #[arg(long, value_parser = crate::args::named::<Representation>(&Representation::NAMES), value_delimiter = ',', default_values_t = [Representation::Cbow, Representation::Gru, Representation::Lstm])]
    pub models: Vec<Representation>,
    /// Epochs of the exercise's next-item models.
    #[arg(long, default_value_t = 10, value_parser = recsys::runtime::limits::EPOCHS_OR_NONE.parser())]
    pub seq_epochs: usize,
    /// A quick smoke run: 1 epoch for every model (numbers will not match the notebook).
    #[arg(long)]
    pub quick: bool,
    /// libtorch CPU threads. These models make many small tensor operations, which run several
    /// times faster on one thread than on several (much more so on a busy machine); 0 keeps
    /// libtorch's default.
    #[arg(long, default_value_t = 1, value_parser = recsys::runtime::limits::THREADS.parser_i32())]
    pub threads: i32,
}

/// Run the port.
pub fn run(ctx: &Context, args: &Args) -> Result<Report<Details>> {
    ensure!(args.seeds >= 1, "--seeds must be at least 1");
    let base_seed = ctx.seed_or(0);
    if args.threads > 0 && ctx.device == Device::Cpu {
        tch::set_num_threads(args.threads);
    }
    let dataset = Interactions::from_ratings(&Dataset::Ml100k.ratings(&ctx.data)?)?;
    let out = Out::new(ctx);
    let mut runs = Vec::new();
    for k in 0..args.seeds {
        let seed = base_seed + k as u64;
        let verbose = k == 0;
        if !verbose {
            aside!(out, "\n== seed {seed} ==");
        }
        let mut run = SeedRun {
            seed,
            ..Default::default()
        };
        if args.part != "2" {
            run.part1 = Some(part1::part1(&out, args, &dataset, seed, verbose)?);
        }
        if args.part != "1" {
            run.part2 = Some(part2::part2(&out, args, &dataset, seed, verbose)?);
        }
        runs.push(run);
    }
    if args.seeds > 1 {
        out.aside_block(|| print_seed_table(&out, &runs));
    }
    let mut report = expected::report(&dataset, runs);
    report.details.transcript = out.finish();
    Ok(report)
}

/// LRAP of the same score vector for every test sample (the notebook's `np.tile`).
pub fn lrap_constant(scores: &[f64], relevant: &[Vec<usize>]) -> f64 {
    let tiled: Vec<f64> = relevant
        .iter()
        .flat_map(|_| scores.iter().copied())
        .collect();
    label_ranking_average_precision(&tiled, scores.len(), relevant)
}

/// `mean ± sd` (sample sd) of the values.
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let m = mean(values);
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64
    } else {
        0.0
    };
    (m, var.sqrt())
}

/// The mean of the values.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn print_seed_table(ctx: &Out, runs: &[SeedRun]) {
    let seeds: Vec<u64> = runs.iter().map(|r| r.seed).collect();
    say!(ctx, "\n## Over {} seeds {:?}: mean ± sd", runs.len(), seeds);
    say!(
        ctx,
        "{:<34} {:>18} {:>16}",
        "quantity",
        "mean ± sd",
        "train s (mean)"
    );
    let row = |name: &str, values: Vec<f64>, secs: Option<Vec<f64>>| {
        let (m, s) = mean_sd(&values);
        let t = secs.map_or(String::new(), |v| format!("{:.1}", mean(&v)));
        say!(ctx, "{name:<34} {:>18} {t:>16}", format!("{m:.4} ± {s:.4}"));
    };
    let p1: Vec<&Part1> = runs.iter().filter_map(|r| r.part1.as_ref()).collect();
    if !p1.is_empty() {
        row(
            "explicit test RMSE",
            p1.iter().map(|p| p.rmse).collect(),
            Some(p1.iter().map(|p| p.fit_s).collect()),
        );
        row(
            "mean-rating baseline RMSE",
            p1.iter().map(|p| p.baseline_rmse).collect(),
            None,
        );
        let last = |v: &Vec<f64>| v.last().copied().unwrap_or(f64::NAN);
        row(
            "CF exercise test RMSE (wd 1e-3)",
            p1.iter().map(|p| last(&p.cf_test_rmse)).collect(),
            None,
        );
        row(
            "CF exercise test RMSE (no wd)",
            p1.iter().map(|p| last(&p.cf_no_wd_test_rmse)).collect(),
            None,
        );
    }
    let p2: Vec<&Part2> = runs.iter().filter_map(|r| r.part2.as_ref()).collect();
    if !p2.is_empty() {
        row(
            "train sequences",
            p2.iter().map(|p| p.train_sequences as f64).collect(),
            None,
        );
        row(
            "test sequences",
            p2.iter().map(|p| p.test_sequences as f64).collect(),
            None,
        );
        row(
            "most-popular baseline (LRAP)",
            p2.iter().map(|p| p.most_popular).collect(),
            None,
        );
        row(
            "softmax-popularity baseline (LRAP)",
            p2.iter().map(|p| p.softmax_popularity).collect(),
            None,
        );
        row(
            "pooling LRAP",
            p2.iter().map(|p| p.lrap_pooling).collect(),
            None,
        );
        for (k, m) in p2[0].models.iter().enumerate() {
            row(
                &format!("{} MRR", m.model),
                p2.iter().map(|p| p.models[k].mrr).collect(),
                Some(p2.iter().map(|p| p.models[k].train_s).collect()),
            );
        }
    }
}

/// A tensor's values as a flat `Vec<f32>` on the host.
pub fn to_f32(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(
        t.to_device(Device::Cpu)
            .to_kind(Kind::Float)
            .contiguous()
            .view(-1),
    )
    .expect("float tensor")
}

/// `[a, b, c]` with each value to `decimals` places.
pub fn fmt_list(values: &[f64], decimals: usize) -> String {
    let parts: Vec<String> = values.iter().map(|v| format!("{v:.decimals$}")).collect();
    format!("[{}]", parts.join(", "))
}
