//! The ranking models on real data (ignored tests that print tables for docs/classic.md, not
//! assertions): ml-100k, ratings ≥ 4 as positives in file order, `tch::manual_seed(seed)` then
//! one `randperm` cutting 80 % to train (`scripts/peers-ranking.py` draws the same split in
//! PyTorch), every one of the 1682 items ranked for each user with a test positive, the user's
//! train items excluded, NDCG@10 by [`crate::eval::metrics`].
//!
//! ```sh
//! cargo test --release --lib classic::ranking_quality -- --ignored --nocapture
//! ```
//! `CLASSIC_SEEDS=0,1,2` picks the seeds (default 0), `CLASSIC_THREADS` libtorch's threads
//! (default 1, the fair match for `scripts/peers-ranking.py --threads 1`; an idle OpenMP
//! thread spinning beside the Rust loops of ALS and BPR costs them time on a busy machine).

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Result;

use crate::classic::{als, bpr, ease, knn, popularity, random, Ranker, TrainSet};
use crate::data::{DataPaths, Dataset};
use crate::eval::metrics::{ranking_metrics, top_k_excluding, Lists, Truth};
use crate::prep::split::random::random_split_indices;
use crate::prep::{f64_values, i64_values};

/// The split of one seed: train pairs and each test user's relevant items.
struct Split {
    train: TrainSet,
    seen: HashMap<i64, Vec<usize>>,
    truth: Truth,
}

fn ml100k_split(seed: i64) -> Result<Split> {
    let df = Dataset::Ml100k.ratings(&DataPaths::new(None)?)?;
    let users: Vec<i64> = i64_values(&df, "user_id")?.collect();
    let items: Vec<i64> = i64_values(&df, "item_id")?.collect();
    let ratings: Vec<f64> = f64_values(&df, "rating")?.collect();
    let positives: Vec<usize> = (0..ratings.len()).filter(|&r| ratings[r] >= 4.0).collect();
    tch::manual_seed(seed);
    let (train_rows, test_rows) = random_split_indices(positives.len(), 0.2);
    let pair = |r: usize| (users[positives[r]] - 1, items[positives[r]] - 1);
    let (mut tu, mut ti, mut seen) = (vec![], vec![], HashMap::<i64, Vec<usize>>::new());
    for &r in &train_rows {
        let (u, i) = pair(r);
        tu.push(u);
        ti.push(i);
        seen.entry(u).or_default().push(i as usize);
    }
    let mut truth = Truth::new();
    for &r in &test_rows {
        let (u, i) = pair(r);
        truth.entry(u).or_default().insert(i);
    }
    let n = tu.len();
    let train = TrainSet::new(943, 1682, tu, ti, vec![1.0; n])?;
    Ok(Split { train, seen, truth })
}

/// NDCG@10 of `model` on the split's test users.
fn ndcg_at_10(model: &dyn Ranker, split: &Split) -> Result<f64> {
    let mut users: Vec<i64> = split.truth.keys().copied().collect();
    users.sort();
    let scores = Vec::<Vec<f32>>::try_from(model.scores(&users)?)?;
    let mut lists = Lists::new();
    for (u, row) in users.iter().zip(&scores) {
        let seen = split.seen.get(u).cloned().unwrap_or_default();
        let top = top_k_excluding(row, seen, 10);
        lists.insert(*u, top.into_iter().map(|i| i as i64).collect());
    }
    Ok(ranking_metrics(&lists, &split.truth, 10, None)?.ndcg)
}

fn seeds() -> Vec<i64> {
    std::env::var("CLASSIC_SEEDS")
        .unwrap_or_else(|_| "0".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("CLASSIC_SEEDS: comma-separated integers")
        })
        .collect()
}

/// The CPU seconds of all this process's threads so far (Linux: the first field of each
/// thread's `/proc/self/task/*/schedstat`, nanoseconds on a CPU); 0 where it cannot be read.
/// On a shared machine it measures the work, where the wall time also counts the waiting.
fn cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let nanos: u64 = tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    nanos as f64 / 1e9
}

/// Fits with `fit` under `tch::manual_seed(seed)`, prints one row: NDCG@10, fit wall seconds
/// and fit CPU seconds.
fn row<M: Ranker>(name: &str, split: &Split, seed: i64, fit: impl Fn(&TrainSet) -> Result<M>) {
    tch::manual_seed(seed);
    let (start, cpu) = (Instant::now(), cpu_seconds());
    let model = fit(&split.train).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let ndcg = ndcg_at_10(&model, split).unwrap();
    println!("| {name} | {seed} | {ndcg:.4} | {secs:.3} | {cpu:.3} |");
}

#[test]
#[ignore = "prints the defaults' NDCG@10 and fit time on ml-100k for docs/classic.md"]
fn defaults_on_ml100k() {
    println!("| model | seed | NDCG@10 | fit s | fit CPU s |\n|---|---|---|---|---|");
    for seed in seeds() {
        let split = ml100k_split(seed).unwrap();
        row("Random", &split, seed, |t| {
            random::Random::fit(t, &Default::default())
        });
        row("MostPopular", &split, seed, |t| {
            popularity::MostPopular::fit(t, &Default::default())
        });
        row("ItemKnn", &split, seed, |t| {
            knn::ItemKnn::fit(t, &knn::Config::item_default())
        });
        row("UserKnn", &split, seed, |t| {
            knn::UserKnn::fit(t, &knn::Config::user_default())
        });
        row("Ease", &split, seed, |t| {
            ease::Ease::fit(t, &Default::default())
        });
        row("Als", &split, seed, |t| {
            als::Als::fit(t, &Default::default())
        });
        row("Bpr", &split, seed, |t| {
            bpr::Bpr::fit(t, &Default::default())
        });
        row("Als (implicit's settings)", &split, seed, |t| {
            als::Als::fit(t, &als::Config::implicit())
        });
        row("Bpr (implicit's settings)", &split, seed, |t| {
            bpr::Bpr::fit(t, &bpr::Config::implicit())
        });
    }
}

#[test]
#[ignore = "prints the tuning grid on ml-100k for docs/classic.md"]
fn tuning_grid_on_ml100k() {
    println!("| model | setting | seed | NDCG@10 | fit s | fit CPU s |\n|---|---|---|---|---|---|");
    for seed in seeds() {
        let split = ml100k_split(seed).unwrap();
        for lambda in [50.0, 100.0, 200.0, 300.0, 500.0, 1000.0] {
            let c = ease::Config {
                lambda,
                binary: true,
            };
            row(&format!("Ease | lambda {lambda}"), &split, seed, |t| {
                ease::Ease::fit(t, &c)
            });
        }
        for (k, shrink) in [
            (20, 0.0),
            (50, 0.0),
            (100, 0.0),
            (200, 0.0),
            (50, 10.0),
            (200, 10.0),
            (400, 10.0),
            (200, 50.0),
        ] {
            let c = knn::Config {
                k,
                shrink,
                binary: true,
            };
            let name = format!("k {k}, shrink {shrink}");
            row(&format!("ItemKnn | {name}"), &split, seed, |t| {
                knn::ItemKnn::fit(t, &c)
            });
            row(&format!("UserKnn | {name}"), &split, seed, |t| {
                knn::UserKnn::fit(t, &c)
            });
        }
        for (factors, regularization, alpha) in [
            (100, 0.01, 1.0),
            (100, 10.0, 5.0),
            (100, 30.0, 20.0),
            (100, 100.0, 10.0),
            (100, 100.0, 20.0),
            (100, 100.0, 40.0),
            (100, 300.0, 20.0),
            (100, 300.0, 40.0),
            (50, 100.0, 20.0),
            (200, 100.0, 20.0),
        ] {
            let c = als::Config {
                factors,
                regularization,
                alpha,
                ..Default::default()
            };
            let name = format!("Als | factors {factors}, reg {regularization}, alpha {alpha}");
            row(&name, &split, seed, |t| als::Als::fit(t, &c));
        }
        for (learning_rate, regularization, iterations) in [
            (0.01, 0.01, 100),
            (0.05, 0.01, 100),
            (0.1, 0.01, 100),
            (0.05, 0.01, 200),
            (0.05, 0.001, 200),
            (0.05, 0.03, 200),
        ] {
            let c = bpr::Config {
                learning_rate,
                regularization,
                iterations,
                ..Default::default()
            };
            let name =
                format!("Bpr | lr {learning_rate}, reg {regularization}, iterations {iterations}");
            row(&name, &split, seed, |t| bpr::Bpr::fit(t, &c));
        }
    }
}
