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

use std::time::Instant;

use anyhow::{ensure, Result};
use recsys::optim::Adam;
use serde_json::json;
use tch::{nn, Device, Kind, Tensor};

use recsys::data::interactions::Interactions;
use recsys::data::Dataset;
use recsys::eval::metrics::rmse;
use recsys::eval::next_item::{
    item_counts, label_ranking_average_precision, most_common_item, reciprocal_ranks, softmax,
};
use recsys::models::explicit::{
    regression_epoch, CollaborativeFilteringModel, ExplicitConfig, ExplicitFactorizationModel,
};
use recsys::models::sequence::{ImplicitSequenceModel, Representation, SequenceConfig};
use recsys::prep::sequence::to_sequences;
use recsys::prep::split::random::{random_train_test_split, user_based_train_test_split};
use recsys::report::plot::line_chart;
use recsys::report::{Check, Report};
use recsys::{say, Context};

/// Options of `recsys notebook 002`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Run the whole notebook for this many seeds (--seed, --seed + 1, ...) and print a table of
    /// mean ± sd; the first seed's run is printed in full.
    #[arg(long, default_value_t = 1)]
    pub seeds: usize,
    /// Which part to run: 1 (explicit feedback), 2 (sequences) or both.
    #[arg(long, value_parser = ["1", "2", "both"], default_value = "both")]
    pub part: String,
    /// The exercise's next-item models to train in part 2.
    #[arg(long, value_parser = crate::args::named::<Representation>(&Representation::NAMES), value_delimiter = ',', default_values_t = [Representation::Cbow, Representation::Gru, Representation::Lstm])]
    pub models: Vec<Representation>,
    /// Epochs of the exercise's next-item models.
    #[arg(long, default_value_t = 10)]
    pub seq_epochs: usize,
    /// A quick smoke run: 1 epoch for every model (numbers will not match the notebook).
    #[arg(long)]
    pub quick: bool,
    /// libtorch CPU threads. These models make many small tensor operations, which run several
    /// times faster on one thread than on several (much more so on a busy machine); 0 keeps
    /// libtorch's default.
    #[arg(long, default_value_t = 1)]
    pub threads: i32,
}

/// The notebook's printed numbers.
mod notebook {
    pub const RMSE: f64 = 0.9924;
    pub const BASELINE_RMSE: f64 = 1.1218;
    pub const TRAIN_SEQUENCES: usize = 8249;
    pub const TEST_SEQUENCES: usize = 2190;
    pub const POOLING_MRR: f64 = 0.0416;
    pub const MOST_POPULAR: f64 = 0.0079;
    pub const SOFTMAX_POPULARITY: f64 = 0.0248;
}

/// Bands for the stochastic numbers, from `recsys notebook 002 --seeds 5` (see the README, notebook 002),
/// widened a little; the RMSE bands are the issue's.
mod bands {
    pub const RMSE: (f64, f64) = (0.97, 1.01);
    pub const BASELINE_RMSE: (f64, f64) = (1.11, 1.14);
    pub const POOLING_MRR: (f64, f64) = (0.038, 0.052);
    pub const MOST_POPULAR: (f64, f64) = (0.004, 0.012);
    pub const SOFTMAX_POPULARITY: (f64, f64) = (0.021, 0.031);
}

/// What one seed's run measured.
#[derive(Debug, Default, Clone, serde::Serialize)]
struct SeedRun {
    seed: u64,
    part1: Option<Part1>,
    part2: Option<Part2>,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
struct Part1 {
    n_train: usize,
    n_test: usize,
    spotlight_losses: Vec<f64>,
    rmse: f64,
    rmse_tensor: f64,
    baseline_rmse: f64,
    fit_s: f64,
    cf_train_rmse: Vec<f64>,
    cf_test_rmse: Vec<f64>,
    cf_no_wd_train_rmse: Vec<f64>,
    cf_no_wd_test_rmse: Vec<f64>,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
struct Part2 {
    hash_seed: u32,
    train_users: usize,
    test_users: usize,
    train_sequences: usize,
    test_sequences: usize,
    lrap_pooling: f64,
    most_popular_item: i64,
    most_popular: f64,
    softmax_popularity: f64,
    models: Vec<ModelRun>,
}

#[derive(Debug, Clone, serde::Serialize)]
struct ModelRun {
    model: String,
    mrr: f64,
    train_s: f64,
    losses: Vec<f64>,
}

/// Run the port.
pub fn run(ctx: &Context, args: &Args) -> Result<Report> {
    ensure!(args.seeds >= 1, "--seeds must be at least 1");
    let base_seed = ctx.seed_or(0);
    if args.threads > 0 && ctx.device == Device::Cpu {
        tch::set_num_threads(args.threads);
    }
    let dataset = Interactions::from_ratings(&Dataset::Ml100k.ratings(&ctx.data)?)?;
    let mut runs = Vec::new();
    for k in 0..args.seeds {
        let seed = base_seed + k as u64;
        let verbose = k == 0;
        if !verbose {
            say!(ctx, "\n== seed {seed} ==");
        }
        let mut run = SeedRun {
            seed,
            ..Default::default()
        };
        if args.part != "2" {
            run.part1 = Some(part1(ctx, args, &dataset, seed, verbose)?);
        }
        if args.part != "1" {
            run.part2 = Some(part2(ctx, args, &dataset, seed, verbose)?);
        }
        runs.push(run);
    }
    if args.seeds > 1 {
        print_seed_table(ctx, &runs);
    }
    Ok(report(&dataset, &runs))
}

// ## Part 1: Explicit feedback
fn part1(
    ctx: &Context,
    args: &Args,
    dataset: &Interactions,
    seed: u64,
    verbose: bool,
) -> Result<Part1> {
    let dev = ctx.device;
    tch::manual_seed(seed as i64);
    if verbose {
        say!(ctx, "## Part 1: Explicit feedback (seed {seed})");
        say!(ctx, "{dataset}");
    }
    let (train, test) = random_train_test_split(dataset, 0.2);
    if verbose {
        say!(
            ctx,
            "train: num_users {}, num_items {}, user_ids {:?}..., item_ids {:?}..., ratings {:?}...",
            train.num_users,
            train.num_items,
            &train.user_ids[..3],
            &train.item_ids[..3],
            &train.ratings[..3]
        );
        say!(
            ctx,
            "As an example, user {} gave {:.1} stars to item {}.",
            train.user_ids[0],
            train.ratings[0],
            train.item_ids[0]
        );
        say!(
            ctx,
            "len(train) / len(dataset) = {} ({} / {} interactions)",
            train.len() as f64 / dataset.len() as f64,
            train.len(),
            test.len()
        );
    }

    // %%time: ExplicitFactorizationModel(n_iter=3).fit(train); rmse_score(model, test)
    let epochs = if args.quick { 1 } else { 3 };
    let (tr_u, tr_i, tr_r) = train.tensors(dev);
    let (te_u, te_i, te_r) = test.tensors(dev);
    let config = ExplicitConfig {
        n_iter: epochs,
        ..ExplicitConfig::default()
    };
    let mut model = ExplicitFactorizationModel::new(train.num_users, train.num_items, config, dev)?;
    let start = Instant::now();
    let spotlight_losses = model.fit(&tr_u, &tr_i, &tr_r)?;
    let fit_s = start.elapsed().as_secs_f64();
    let y_pred = model.predict(&te_u, &te_i);
    let pred = to_f64(&y_pred);
    let truth: Vec<f64> = test.ratings.iter().map(|&r| r as f64).collect();
    // Our RMSE (recsys::eval::metrics::rmse, f64 on the host) against a second implementation: the
    // notebook's `our_rmse`, ((y_true - y_pred) ** 2).mean() ** 0.5 on float32 tensors.
    let rmse_host = rmse(&pred, &truth);
    let rmse_tensor = (&te_r - &y_pred)
        .square()
        .mean(Kind::Float)
        .sqrt()
        .double_value(&[]);
    ensure!(
        (rmse_host - rmse_tensor).abs() < 1e-5,
        "the two RMSE implementations disagree: {rmse_host} vs {rmse_tensor}"
    );
    let mean_rating = tr_r.mean(Kind::Float);
    let baseline_rmse = (&te_r - &mean_rating)
        .square()
        .mean(Kind::Float)
        .sqrt()
        .double_value(&[]);
    if verbose {
        say!(
            ctx,
            "ExplicitFactorizationModel(n_iter={epochs}) epoch losses: {}",
            fmt_list(&spotlight_losses, 4)
        );
        say!(ctx, "Wall time: {fit_s:.2} s");
        say!(ctx, "rmse_score(model, test) = {rmse_host:.7}");
        say!(
            ctx,
            "y_pred = [{:.7}, {:.7}, {:.7}, ...]",
            pred[0],
            pred[1],
            pred[2]
        );
        say!(
            ctx,
            "X_train[:5] = {:?}, y_train[:5] = {:?}",
            (0..5)
                .map(|k| [train.user_ids[k], train.item_ids[k]])
                .collect::<Vec<_>>(),
            &train.ratings[..5]
        );
        say!(
            ctx,
            "our_rmse(y_test, y_pred) = {rmse_tensor:.4} (tensor) = {rmse_host:.4} (metrics::rmse)"
        );
        say!(ctx, "Yes, I got the same thing.");
        say!(
            ctx,
            "our_rmse(y_test, mean train rating {:.4}) = {baseline_rmse:.4}   # simplest baseline",
            mean_rating.double_value(&[])
        );
    }

    // The exercise: CollaborativeFilteringModel, embedding 20, Adam lr 0.01, weight decay 1e-3,
    // 10 epochs, batch 300; then the same without weight decay.
    let n_epochs = if args.quick { 1 } else { 10 };
    let mut curves = Vec::new();
    for weight_decay in [1e-3, 0.0] {
        let vs = nn::VarStore::new(dev);
        let cf = CollaborativeFilteringModel::new(
            &vs.root(),
            train.num_users,
            train.num_items,
            20,
            mean_rating.double_value(&[]),
        );
        let mut opt = Adam::with_weight_decay(&vs, 0.01, weight_decay)?;
        if verbose {
            say!(ctx, "\nCollaborativeFilteringModel(embedding 20), Adam lr 0.01, weight decay {weight_decay}:");
        }
        let start = Instant::now();
        let (mut train_rmse, mut test_rmse) = (Vec::new(), Vec::new());
        for epoch in 1..=n_epochs {
            let loss = regression_epoch(&mut opt, &tr_u, &tr_i, &tr_r, 300, |u, i| {
                cf.predict_pairs(u, i)
            })?;
            let (tr, te) = tch::no_grad(|| {
                let rmse_of = |u: &Tensor, i: &Tensor, r: &Tensor| {
                    (r - cf.predict_pairs(u, i))
                        .square()
                        .mean(Kind::Float)
                        .sqrt()
                        .double_value(&[])
                };
                (rmse_of(&tr_u, &tr_i, &tr_r), rmse_of(&te_u, &te_i, &te_r))
            });
            if verbose {
                say!(ctx, "epoch {epoch:2}: mean batch MSE {loss:.4}, train RMSE {tr:.4}, test RMSE {te:.4}");
            }
            train_rmse.push(tr);
            test_rmse.push(te);
        }
        if verbose {
            say!(ctx, "Wall time: {:.2} s", start.elapsed().as_secs_f64());
        }
        curves.push((train_rmse, test_rmse));
    }
    let (no_wd, wd) = (
        curves.pop().expect("two runs"),
        curves.pop().expect("two runs"),
    );
    if verbose {
        let best = |v: &[f64]| v.iter().cloned().fold(f64::INFINITY, f64::min);
        say!(
            ctx,
            "With weight decay the test RMSE ends at {:.4}; without it the train RMSE falls to {:.4} \
             while the test RMSE ends at {:.4} (best {:.4}): the model overfits.",
            wd.1.last().copied().unwrap_or(f64::NAN),
            no_wd.0.last().copied().unwrap_or(f64::NAN),
            no_wd.1.last().copied().unwrap_or(f64::NAN),
            best(&no_wd.1)
        );
        let path = ctx.write_output_with("nb002_cf_rmse.png", |p| {
            line_chart(
                p,
                "CollaborativeFilteringModel: RMSE per epoch",
                "epoch",
                "RMSE",
                &[
                    ("train, weight decay 1e-3", &wd.0),
                    ("test, weight decay 1e-3", &wd.1),
                    ("train, no weight decay", &no_wd.0),
                    ("test, no weight decay", &no_wd.1),
                ],
            )
        })?;
        say!(ctx, "Plot: {}", path.display());
    }
    Ok(Part1 {
        n_train: train.len(),
        n_test: test.len(),
        spotlight_losses,
        rmse: rmse_host,
        rmse_tensor,
        baseline_rmse,
        fit_s,
        cf_train_rmse: wd.0,
        cf_test_rmse: wd.1,
        cf_no_wd_train_rmse: no_wd.0,
        cf_no_wd_test_rmse: no_wd.1,
    })
}

// ## Part 2: Implicit feedback
fn part2(
    ctx: &Context,
    args: &Args,
    dataset: &Interactions,
    seed: u64,
    verbose: bool,
) -> Result<Part2> {
    let dev = ctx.device;
    tch::manual_seed(seed as i64);
    let (train, test, hash_seed) = user_based_train_test_split(dataset, 0.2);
    let distinct = |i: &Interactions| {
        i.user_ids
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    let train_seqs = to_sequences(&train, 10, 10)?;
    let test_seqs = to_sequences(&test, 10, 10)?;
    if verbose {
        say!(ctx, "\n## Part 2: Implicit feedback (seed {seed})");
        say!(
            ctx,
            "user_based_train_test_split (hash seed {hash_seed}): train {} interactions of {} users, test {} of {} users",
            train.len(),
            distinct(&train),
            test.len(),
            distinct(&test)
        );
        say!(ctx, "train = {train_seqs}");
        say!(ctx, "test = {test_seqs}");
        say!(
            ctx,
            "train.sequences[-1] = {:?} (user {})",
            train_seqs.row(train_seqs.len() - 1),
            train_seqs.user_ids[train_seqs.len() - 1]
        );
    }
    let train_t = train_seqs.tensor(dev);
    let test_t = test_seqs.tensor(dev);
    let prefixes = test_t.narrow(1, 0, 9); // seq[:-1]
    let targets = test_seqs.last_items(); // seq[-1]
    let num_items = dataset.num_items as usize;

    // %%time: ImplicitSequenceModel(n_iter=3, representation='pooling', loss='pointwise')
    let pool_epochs = if args.quick { 1 } else { 3 };
    let mut models = Vec::new();
    let mut pooling = ImplicitSequenceModel::new(
        dataset.num_items,
        SequenceConfig::spotlight_pooling(pool_epochs),
        dev,
    )?;
    let start = Instant::now();
    let losses = pooling.fit(&train_t)?;
    let train_s = start.elapsed().as_secs_f64();
    let scores = pooling.score_next(&prefixes);
    let mrr = mean(&reciprocal_ranks(&to_f32(&scores), num_items, &targets));
    if verbose {
        say!(
            ctx,
            "pooling epoch losses (pointwise): {}",
            fmt_list(&losses, 4)
        );
        say!(ctx, "Wall time: {train_s:.2} s");
        say!(ctx, "sequence_mrr_score(model, test).mean() = {mrr}");
    }
    models.push(ModelRun {
        model: "pooling".into(),
        mrr,
        train_s,
        losses,
    });

    // MRR again as label ranking average precision, on softmax probabilities (float32).
    let probs: Vec<f64> = to_f32(&scores.softmax(-1, Kind::Float))
        .into_iter()
        .map(f64::from)
        .collect();
    let one_hot: Vec<Vec<usize>> = targets.iter().map(|&t| vec![t as usize]).collect();
    let lrap_pooling = label_ranking_average_precision(&probs, num_items, &one_hot);
    if verbose {
        say!(ctx, "target.shape = ({}, {num_items})", targets.len());
        say!(
            ctx,
            "label_ranking_average_precision_score(target, y_pred) = {lrap_pooling}"
        );
        say!(
            ctx,
            "Again, the same number (difference {:.1e}).",
            (lrap_pooling - mrr).abs()
        );
    }

    // The baselines: counts of the last item of each train sequence.
    let last_train = train_seqs.last_items();
    let popular = most_common_item(&last_train).expect("train sequences are not empty");
    let mut one = vec![0.0; num_items];
    one[popular as usize] = 1.0;
    let most_popular = lrap_constant(&one, &one_hot);
    let popularity = softmax(&item_counts(&last_train, num_items));
    let softmax_popularity = lrap_constant(&popularity, &one_hot);
    if verbose {
        say!(
            ctx,
            "most popular last item: {popular} ({} times); most-popular baseline LRAP = {most_popular}",
            last_train.iter().filter(|&&i| i == popular).count()
        );
        say!(
            ctx,
            "softmax-popularity baseline LRAP = {softmax_popularity}"
        );
    }

    // The exercise: next-item models with cross-entropy. Each is seeded on its own
    // (seed + 1000 * k, k = 1 CBOW, 2 GRU, 3 LSTM) so its numbers do not depend on which others run.
    for &rep in &args.models {
        if rep == Representation::Pooling {
            continue;
        }
        let k = match rep {
            Representation::Cbow => 1,
            Representation::Gru => 2,
            _ => 3,
        };
        tch::manual_seed(seed as i64 + 1000 * k);
        let mut config = SequenceConfig::cross_entropy(rep);
        config.n_iter = if args.quick { 1 } else { args.seq_epochs };
        let mut model = ImplicitSequenceModel::new(dataset.num_items, config, dev)?;
        let start = Instant::now();
        let mut losses = Vec::new();
        let bar = recsys::runtime::progress::epoch_bar(config.n_iter as u64, rep.name());
        for _ in 0..config.n_iter {
            losses.push(model.fit_epoch(&train_t)?);
            bar.set_message(format!("loss {:.4}", losses.last().unwrap()));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let train_s = start.elapsed().as_secs_f64();
        let mrr = mean(&reciprocal_ranks(
            &to_f32(&model.score_next(&prefixes)),
            num_items,
            &targets,
        ));
        if verbose {
            say!(
                ctx,
                "{}: epoch losses (cross-entropy) {}; MRR {mrr:.4}; {train_s:.1} s",
                rep.name(),
                fmt_list(&losses, 3)
            );
        }
        models.push(ModelRun {
            model: rep.name().into(),
            mrr,
            train_s,
            losses,
        });
    }
    if verbose {
        for m in &models {
            say!(
                ctx,
                "{:8} MRR {:.4}  train {:6.1} s",
                m.model,
                m.mrr,
                m.train_s
            );
        }
    }
    Ok(Part2 {
        hash_seed,
        train_users: distinct(&train),
        test_users: distinct(&test),
        train_sequences: train_seqs.len(),
        test_sequences: test_seqs.len(),
        lrap_pooling,
        most_popular_item: popular,
        most_popular,
        softmax_popularity,
        models,
    })
}

/// LRAP of the same score vector for every test sample (the notebook's `np.tile`).
fn lrap_constant(scores: &[f64], relevant: &[Vec<usize>]) -> f64 {
    let tiled: Vec<f64> = relevant
        .iter()
        .flat_map(|_| scores.iter().copied())
        .collect();
    label_ranking_average_precision(&tiled, scores.len(), relevant)
}

/// `mean ± sd` (sample sd) of the values.
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let m = mean(values);
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64
    } else {
        0.0
    };
    (m, var.sqrt())
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn print_seed_table(ctx: &Context, runs: &[SeedRun]) {
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

fn report(dataset: &Interactions, runs: &[SeedRun]) -> Report {
    let mut checks = vec![Check::exact(
        "dataset",
        "<Interactions dataset (944 users x 1683 items x 100000 interactions)>",
        dataset,
    )];
    let avg = |f: &dyn Fn(&SeedRun) -> Option<f64>| {
        let v: Vec<f64> = runs.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| mean(&v))
    };
    let n = runs.len();
    let label = |q: &str| {
        if n > 1 {
            format!("{q} (mean of {n} seeds)")
        } else {
            q.to_string()
        }
    };
    if let Some(p) = runs[0].part1.as_ref() {
        checks.push(Check::exact(
            "train / test interactions",
            "80000 / 20000",
            format!("{} / {}", p.n_train, p.n_test),
        ));
        let rmse = avg(&|r| r.part1.as_ref().map(|p| p.rmse)).unwrap_or(f64::NAN);
        checks.push(Check::band(
            label("ExplicitFactorizationModel test RMSE"),
            notebook::RMSE,
            rmse,
            bands::RMSE,
            4,
        ));
        let base = avg(&|r| r.part1.as_ref().map(|p| p.baseline_rmse)).unwrap_or(f64::NAN);
        checks.push(Check::band(
            label("mean-rating baseline RMSE"),
            notebook::BASELINE_RMSE,
            base,
            bands::BASELINE_RMSE,
            4,
        ));
        let last = |v: &[f64]| v.last().copied().unwrap_or(f64::NAN);
        checks.push(Check::info(
            "exercise test RMSE, weight decay 1e-3",
            format!("{:.4}", last(&p.cf_test_rmse)),
        ));
        checks.push(Check::info(
            "exercise test RMSE, no weight decay",
            format!("{:.4}", last(&p.cf_no_wd_test_rmse)),
        ));
    }
    if let Some(p) = runs[0].part2.as_ref() {
        checks.push(Check::exact(
            "sequences, train + test (each user's windows stay on one side)",
            notebook::TRAIN_SEQUENCES + notebook::TEST_SEQUENCES,
            p.train_sequences + p.test_sequences,
        ));
        checks.push(Check::info(
            "train / test sequences (notebook: 8249 / 2190, depends on the hash seed)",
            format!("{} / {}", p.train_sequences, p.test_sequences),
        ));
        let mrr = |name: &'static str| {
            avg(&|r| {
                r.part2
                    .as_ref()?
                    .models
                    .iter()
                    .find(|m| m.model == name)
                    .map(|m| m.mrr)
            })
        };
        if let Some(m) = mrr("pooling") {
            checks.push(Check::band(
                label("pooling MRR"),
                notebook::POOLING_MRR,
                m,
                bands::POOLING_MRR,
                4,
            ));
        }
        let lrap = avg(&|r| r.part2.as_ref().map(|p| p.lrap_pooling)).unwrap_or(f64::NAN);
        checks.push(Check::band(
            label("pooling LRAP (= MRR)"),
            notebook::POOLING_MRR,
            lrap,
            bands::POOLING_MRR,
            4,
        ));
        let mp = avg(&|r| r.part2.as_ref().map(|p| p.most_popular)).unwrap_or(f64::NAN);
        checks.push(Check::band(
            label("most-popular baseline"),
            notebook::MOST_POPULAR,
            mp,
            bands::MOST_POPULAR,
            4,
        ));
        let sp = avg(&|r| r.part2.as_ref().map(|p| p.softmax_popularity)).unwrap_or(f64::NAN);
        checks.push(Check::band(
            label("softmax-popularity baseline"),
            notebook::SOFTMAX_POPULARITY,
            sp,
            bands::SOFTMAX_POPULARITY,
            4,
        ));
        for name in ["cbow", "gru", "lstm"] {
            if let Some(m) = mrr(name) {
                let verdict = if m >= 0.04 { "meets" } else { "misses" };
                checks.push(Check::info(
                    label(&format!("{name} MRR (exercise goal >= 0.04)")),
                    format!("{m:.4} ({verdict} the goal)"),
                ));
            }
        }
    }
    Report {
        notebook: "002".into(),
        checks,
        details: json!({ "runs": runs }),
    }
}

fn to_f32(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(
        t.to_device(Device::Cpu)
            .to_kind(Kind::Float)
            .contiguous()
            .view(-1),
    )
    .expect("float tensor")
}

fn to_f64(t: &Tensor) -> Vec<f64> {
    to_f32(t).into_iter().map(f64::from).collect()
}

fn fmt_list(values: &[f64], decimals: usize) -> String {
    let parts: Vec<String> = values.iter().map(|v| format!("{v:.decimals$}")).collect();
    format!("[{}]", parts.join(", "))
}
