//! Notebook 003 end to end: the deterministic preprocessing sizes, the time split's ties,
//! RePlay-style ranking metrics on hand-made lists, and a short training run.

use std::collections::{HashMap, HashSet};

use crate::notebooks::nb003::{evaluate, prepare, test_users};
use polars::prelude::*;
use recsys::eval::metrics::{coverage_at_k, hit_rate_at_k, mean_over_users, ndcg_at_k};
use recsys::models::two_tower::{adam, eval_loss, train_epoch, BaseTwoHead, TowerTrain};
use recsys::prep::split::time::TimeSplitter;
use recsys::Context;
use tch::{nn, Device};

#[test]
fn preprocessing_sizes_match_the_notebook() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::for_tests(dir.path());
    let study = prepare(&ctx).unwrap();
    let s = &study.sizes;
    assert_eq!((s.ratings, s.after_min_count), (100000, 100000));
    assert_eq!((s.train, s.test), (79999, 20001));
    assert_eq!(
        (study.users.len(), study.items.len()),
        (751, 1616),
        "Embedding(751, 16), Embedding(1616, 16)"
    );
    assert_eq!((s.test_warm, s.test_warm_users), (2864, 107));
    assert_eq!((s.test_filtered, s.test_filtered_users), (1571, 95));
    assert_eq!(study.test.len(), 1571);
    // sklearn's LabelEncoder sorts ids; the notebook's first test user is encoded as 2
    assert_eq!(test_users(&study)[0], 2);
    assert!(study.users.ids().windows(2).all(|w| w[0] < w[1]));
    // encoders invert back to MovieLens ids
    assert_eq!(study.users.id(2), Some(3));
}

#[test]
fn time_split_sends_every_tie_at_the_threshold_to_test() {
    // 5 rows, fraction 0.4: the threshold is sorted position int(5 * 0.6) = 3, timestamp 20,
    // which three rows share, so test gets 3 rows (not 2); the cold user 9 and item 70 are dropped.
    let df = DataFrame::new_infer_height(vec![
        Column::new("user_id".into(), [1i64, 1, 2, 9, 2]),
        Column::new("item_id".into(), [10i64, 20, 10, 10, 70]),
        Column::new("timestamp".into(), [20i64, 5, 20, 20, 10]),
    ])
    .unwrap();
    let (train, test) = TimeSplitter::new(0.4).unwrap().split(&df).unwrap();
    assert_eq!((train.height(), test.height()), (2, 3));
    let (_, warm) = TimeSplitter::new(0.4)
        .unwrap()
        .drop_cold(true, true)
        .split(&df)
        .unwrap();
    assert_eq!(
        warm.height(),
        0,
        "users 1 and 2 are warm but item 10 never occurs in train"
    );
    let (train2, warm2) = TimeSplitter::new(0.4)
        .unwrap()
        .drop_cold(true, false)
        .split(&df)
        .unwrap();
    assert_eq!(
        (train2.height(), warm2.height()),
        (2, 2),
        "only user 9 is cold"
    );
}

fn set(v: &[i64]) -> HashSet<i64> {
    v.iter().copied().collect()
}

#[test]
fn ranking_metrics_on_hand_made_lists() {
    let k = 3;
    // user 1: 4 relevant items, hits at ranks 1 and 3
    // user 2: 1 relevant item (fewer than k), hit at rank 2
    // user 3: relevant items but no recommendations at all: scores 0 everywhere
    let recs: HashMap<i64, Vec<i64>> = [(1, vec![10, 11, 12, 13]), (2, vec![20, 21, 22])].into();
    let truth: HashMap<i64, HashSet<i64>> = [
        (1, set(&[10, 12, 14, 15])),
        (2, set(&[21])),
        (3, set(&[10])),
    ]
    .into();
    let l = |r: f64| 1.0 / (r + 1.0).log2();
    let ndcg1 = (l(1.0) + l(3.0)) / (l(1.0) + l(2.0) + l(3.0));
    let ndcg2 = l(2.0) / l(1.0); // IDCG over min(k, 1) = 1 position
    let ndcg = mean_over_users(&recs, &truth, k, ndcg_at_k);
    assert!((ndcg - (ndcg1 + ndcg2 + 0.0) / 3.0).abs() < 1e-12, "{ndcg}");
    assert!((mean_over_users(&recs, &truth, k, hit_rate_at_k) - 2.0 / 3.0).abs() < 1e-12);
    // coverage counts only the first k of each list: {10, 11, 12, 20, 21, 22} of 12 items
    assert_eq!(coverage_at_k(recs.values().map(Vec::as_slice), k, 12), 0.5);
    // the notebook's evaluate() gives the same three numbers from (user, item) test rows
    let test: Vec<(i64, i64)> = truth
        .iter()
        .flat_map(|(u, items)| items.iter().map(move |i| (*u, *i)))
        .collect();
    let m = evaluate(&recs, &test, k, 12);
    assert!((m[0] - ndcg).abs() < 1e-12 && (m[1] - 2.0 / 3.0).abs() < 1e-12 && m[2] == 0.5);
}

#[test]
fn a_short_training_run_lowers_the_loss() {
    tch::manual_seed(7);
    // 30 users who each like the 5 items of their group of 3; 60 items in all
    let (mut users, mut items) = (Vec::new(), Vec::new());
    for u in 0..30i64 {
        for j in 0..5 {
            users.push(u);
            items.push((u % 3) * 5 + j);
        }
    }
    let data = TowerTrain::new(&users, &items, 10, 60, Device::Cpu).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let model = BaseTwoHead::new(&vs.root(), 30, 60, 16);
    let mut opt = adam(&vs, 0.05).unwrap();
    let before = eval_loss(&model, &data, 32).unwrap();
    let mut losses = Vec::new();
    for _ in 0..10 {
        losses.push(train_epoch(&model, &mut opt, &data, 32, || {}).unwrap());
    }
    let after = eval_loss(&model, &data, 32).unwrap();
    assert!(losses[9] < 0.5 * losses[0], "{losses:?}");
    assert!(after < 0.5 * before, "{before} -> {after}");
}
