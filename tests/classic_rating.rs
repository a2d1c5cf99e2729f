//! The classic rating predictors on ml-100k under Surprise's protocol: 5-fold cross-validation,
//! RMSE and MAE on each held-out fold. The folds are `torch.randperm(100000)` after
//! `manual_seed(0)` cut into five runs of 20,000 rows of `u.data`, so `scripts/peers-rating.py`
//! runs Surprise itself on exactly these folds.
//!
//! `cargo test --release --test classic_rating -- --ignored --nocapture` prints the table of
//! `docs/classic-rating.md` (about a minute); the quick test checks fold 0's deterministic
//! models against Surprise's own numbers.

use std::collections::HashMap;
use std::time::Instant;

use recsys::classic::baseline::{BaselineConfig, BaselineOnly, GlobalMean};
use recsys::classic::funk_svd::{FunkSvd, FunkSvdConfig, SgdOrder};
use recsys::classic::nmf::{Nmf, NmfConfig};
use recsys::classic::normal::NormalPredictor;
use recsys::classic::surprise_knn::{KnnBasic, KnnBasicConfig};
use recsys::classic::{RatingPredictor, TrainSet};
use recsys::data::{DataPaths, Dataset};
use recsys::eval::stats;
use tch::{Device, Kind, Tensor};

/// ml-100k in model indices, rows in `u.data` order.
struct Ratings {
    n_users: i64,
    n_items: i64,
    users: Vec<i64>,
    items: Vec<i64>,
    values: Vec<f32>,
}

fn ml100k() -> Ratings {
    let df = Dataset::Ml100k
        .ratings(&DataPaths::new(None).unwrap())
        .unwrap();
    let index = |col: &str| -> (Vec<i64>, i64) {
        let mut map = HashMap::new();
        let ids: Vec<i64> = df
            .column(col)
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        let idx = ids
            .iter()
            .map(|id| {
                let next = map.len() as i64;
                *map.entry(*id).or_insert(next)
            })
            .collect();
        (idx, map.len() as i64)
    };
    let (users, n_users) = index("user_id");
    let (items, n_items) = index("item_id");
    let values = df
        .column("rating")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .map(|r| r as f32)
        .collect();
    Ratings {
        n_users,
        n_items,
        users,
        items,
        values,
    }
}

/// Fold `f` of five: (train set, test users, test items, test ratings). Train rows keep the
/// permutation's order, as Surprise's `KFold` does.
fn fold(data: &Ratings, perm: &[usize], f: usize) -> (TrainSet, Vec<i64>, Vec<i64>, Vec<f64>) {
    let n = perm.len();
    let (start, stop) = (f * n / 5, (f + 1) * n / 5);
    let train_rows: Vec<usize> = perm[..start].iter().chain(&perm[stop..]).copied().collect();
    let test_rows = &perm[start..stop];
    let train = TrainSet::new(
        data.n_users,
        data.n_items,
        train_rows.iter().map(|&r| data.users[r]).collect(),
        train_rows.iter().map(|&r| data.items[r]).collect(),
        train_rows.iter().map(|&r| data.values[r]).collect(),
    )
    .unwrap();
    (
        train,
        test_rows.iter().map(|&r| data.users[r]).collect(),
        test_rows.iter().map(|&r| data.items[r]).collect(),
        test_rows
            .iter()
            .map(|&r| f64::from(data.values[r]))
            .collect(),
    )
}

/// The fold permutation: `torch.manual_seed(0); torch.randperm(100000)`.
fn permutation(n: usize) -> Vec<usize> {
    tch::manual_seed(0);
    let perm = Tensor::randperm(n as i64, (Kind::Int64, Device::Cpu));
    Vec::<i64>::try_from(&perm)
        .unwrap()
        .into_iter()
        .map(|r| r as usize)
        .collect()
}

/// (RMSE, MAE) of predictions against the truth.
fn rmse_mae(pred: &[f64], truth: &[f64]) -> (f64, f64) {
    let n = pred.len() as f64;
    let se: f64 = pred.iter().zip(truth).map(|(p, t)| (p - t).powi(2)).sum();
    let ae: f64 = pred.iter().zip(truth).map(|(p, t)| (p - t).abs()).sum();
    ((se / n).sqrt(), ae / n)
}

type Fit = fn(&TrainSet) -> Box<dyn RatingPredictor>;

fn models() -> Vec<(&'static str, Fit)> {
    vec![
        ("NormalPredictor", |t| {
            Box::new(NormalPredictor::fit(t).unwrap())
        }),
        ("GlobalMean", |t| Box::new(GlobalMean::fit(t).unwrap())),
        ("BaselineOnly", |t| {
            Box::new(BaselineOnly::fit(t, &BaselineConfig::default()).unwrap())
        }),
        ("FunkSvd (shuffled)", |t| {
            Box::new(FunkSvd::fit(t, &FunkSvdConfig::default()).unwrap())
        }),
        ("FunkSvd (by user)", |t| {
            let config = FunkSvdConfig {
                order: SgdOrder::ByUser,
                ..Default::default()
            };
            Box::new(FunkSvd::fit(t, &config).unwrap())
        }),
        ("KnnBasic", |t| {
            Box::new(KnnBasic::fit(t, &KnnBasicConfig::default()).unwrap())
        }),
        ("Nmf", |t| {
            Box::new(Nmf::fit(t, &NmfConfig::default()).unwrap())
        }),
    ]
}

#[test]
#[ignore = "about a minute: prints the table of docs/classic-rating.md"]
fn surprise_table_on_ml100k() {
    let data = ml100k();
    let perm = permutation(data.users.len());
    let folds: Vec<_> = (0..5).map(|f| fold(&data, &perm, f)).collect();
    println!("model                 RMSE    MAE     RMSE per fold                         fit s  (mean of 5 folds)");
    let mut per_fold: HashMap<&str, Vec<f64>> = HashMap::new();
    let mut fold0: HashMap<&str, Box<dyn RatingPredictor>> = HashMap::new();
    for (name, fit) in models() {
        let (mut rmses, mut maes, mut secs) = (vec![], vec![], vec![]);
        for (f, (train, users, items, truth)) in folds.iter().enumerate() {
            tch::manual_seed(f as i64);
            let start = Instant::now();
            let model = fit(train);
            secs.push(start.elapsed().as_secs_f64());
            let (rmse, mae) = rmse_mae(&model.predict(users, items).unwrap(), truth);
            rmses.push(rmse);
            maes.push(mae);
            if f == 0 {
                fold0.insert(name, model);
            }
        }
        let folds: Vec<String> = rmses.iter().map(|r| format!("{r:.4}")).collect();
        println!(
            "{name:<20}  {:.4}  {:.4}  {}  {:.2}",
            stats::mean(&rmses),
            stats::mean(&maes),
            folds.join(" "),
            stats::mean(&secs)
        );
        per_fold.insert(name, rmses);
    }
    let (svd, base) = (&per_fold["FunkSvd (shuffled)"], &per_fold["BaselineOnly"]);
    let t = stats::paired_t_test(svd, base).unwrap();
    let (lo, hi) = stats::confidence_interval(svd, 0.95).unwrap();
    println!(
        "FunkSvd (shuffled) RMSE 95% CI over folds [{lo:.4}, {hi:.4}]; paired t-test against \
         BaselineOnly over folds: t = {:.2}, p = {:.2e}",
        t.statistic, t.p_value
    );
    per_user_comparison(
        &folds[0],
        fold0["FunkSvd (shuffled)"].as_ref(),
        fold0["BaselineOnly"].as_ref(),
    );
}

/// Fold 0, FunkSvd against BaselineOnly user by user: each test user's RMSE under both, the
/// mean difference with its 95% CI, the paired t and Wilcoxon tests, and how alike the two
/// models order all items for the first 20 test users (Kendall's tau-b).
fn per_user_comparison(
    (train, users, items, truth): &(TrainSet, Vec<i64>, Vec<i64>, Vec<f64>),
    svd: &dyn RatingPredictor,
    base: &dyn RatingPredictor,
) {
    let (p_svd, p_base) = (
        svd.predict(users, items).unwrap(),
        base.predict(users, items).unwrap(),
    );
    let mut sq: HashMap<i64, (f64, f64, f64)> = HashMap::new();
    for j in 0..users.len() {
        let e = sq.entry(users[j]).or_default();
        e.0 += (p_svd[j] - truth[j]).powi(2);
        e.1 += (p_base[j] - truth[j]).powi(2);
        e.2 += 1.0;
    }
    let mut test_users: Vec<i64> = sq.keys().copied().collect();
    test_users.sort();
    let rmse = |pick: fn(&(f64, f64, f64)) -> f64| -> Vec<f64> {
        test_users
            .iter()
            .map(|u| (pick(&sq[u]) / sq[u].2).sqrt())
            .collect()
    };
    let (a, b) = (rmse(|e| e.0), rmse(|e| e.1));
    let diff: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x - y).collect();
    let (lo, hi) = stats::confidence_interval(&diff, 0.95).unwrap();
    let t = stats::paired_t_test(&a, &b).unwrap();
    let w = stats::wilcoxon_signed_rank(&a, &b).unwrap();
    println!(
        "fold 0, {} test users: per-user RMSE FunkSvd − BaselineOnly = {:.4} (95% CI [{lo:.4}, \
         {hi:.4}]); paired t = {:.2}, p = {:.2e}; Wilcoxon T = {}, p = {:.2e}",
        test_users.len(),
        stats::mean(&diff),
        t.statistic,
        t.p_value,
        w.statistic,
        w.p_value
    );
    let all_items: Vec<i64> = (0..train.n_items).collect();
    let taus: Vec<f64> = test_users[..20]
        .iter()
        .map(|&u| {
            let us = vec![u; all_items.len()];
            let x = svd.predict(&us, &all_items).unwrap();
            let y = base.predict(&us, &all_items).unwrap();
            stats::kendall_tau_b(&x, &y).unwrap()
        })
        .collect();
    println!(
        "Kendall's tau-b between FunkSvd's and BaselineOnly's orderings of all items, first 20 \
         test users: mean {:.3}, min {:.3}, max {:.3}",
        stats::mean(&taus),
        taus.iter().copied().fold(f64::INFINITY, f64::min),
        taus.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    );
}

/// Surprise 1.1.5's RMSE and MAE on fold 0 (`scripts/peers-rating.py`'s `torch_folds`, then
/// `BaselineOnly(verbose=False)` and `KNNBasic(verbose=False)`, `accuracy.rmse` / `accuracy.mae`).
const SURPRISE_FOLD0_BASELINE: (f64, f64) = (0.9491060605311118, 0.7530467211284588);
const SURPRISE_FOLD0_KNN_RMSE: f64 = 0.9857158653159276;

#[test]
fn fold_zero_deterministic_rows_match_surprise() {
    let data = ml100k();
    let perm = permutation(data.users.len());
    let (train, users, items, truth) = fold(&data, &perm, 0);
    assert_eq!((train.len(), truth.len()), (80_000, 20_000));
    let mean = GlobalMean::fit(&train).unwrap();
    let (rmse_mean, _) = rmse_mae(&mean.predict(&users, &items).unwrap(), &truth);
    // The global mean's RMSE is the test ratings' spread around the train mean.
    assert!((1.10..1.16).contains(&rmse_mean), "{rmse_mean}");
    let base = BaselineOnly::fit(&train, &BaselineConfig::default()).unwrap();
    let (rmse, mae) = rmse_mae(&base.predict(&users, &items).unwrap(), &truth);
    println!("fold 0: BaselineOnly RMSE {rmse:.16} MAE {mae:.16}");
    assert!((rmse - SURPRISE_FOLD0_BASELINE.0).abs() < 1e-9, "{rmse}");
    assert!((mae - SURPRISE_FOLD0_BASELINE.1).abs() < 1e-9, "{mae}");
    let knn = KnnBasic::fit(&train, &KnnBasicConfig::default()).unwrap();
    let (rmse, _) = rmse_mae(&knn.predict(&users, &items).unwrap(), &truth);
    println!("fold 0: KnnBasic RMSE {rmse:.16}");
    assert!((rmse - SURPRISE_FOLD0_KNN_RMSE).abs() < 1e-9, "{rmse}");
}
