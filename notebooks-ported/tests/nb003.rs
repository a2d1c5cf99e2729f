//! Notebook 003 end to end: the deterministic preprocessing sizes, the time split's ties,
//! RePlay-style ranking metrics on hand-made lists, and a short training run.

use std::collections::{HashMap, HashSet};

use crate::notebooks::nb003::cells::datetime;
use crate::notebooks::nb003::{evaluate, prepare, run, test_users, Args, Mode, NegativesOver};
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

fn args(mode: Mode, negatives_over: NegativesOver, epochs: usize) -> Args {
    Args {
        mode,
        corrected: false,
        batch_size: 256,
        lr: 1e-2,
        epochs,
        negatives_over,
        negatives: 10,
        emb_dim: 16,
        k: 10,
        threads: 1,
    }
}

/// Every negative of a pass over `data`, as a flat list.
fn negatives_drawn(data: &TowerTrain) -> Vec<i64> {
    data.batches(256, true)
        .iter()
        .flat_map(|b| Vec::<Vec<i64>>::try_from(b.item_ids.narrow(1, 1, 10)).unwrap())
        .flatten()
        .collect()
}

#[test]
fn distinct_reading_draws_negatives_from_the_637_distinct_test_items() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::for_tests(dir.path());
    let study = prepare(&ctx).unwrap();
    let (u, i): (Vec<i64>, Vec<i64>) = study.test.iter().copied().unzip();
    let range = NegativesOver::Distinct.range(&i, study.items.len());
    assert_eq!(range, 637, "len(np.unique(study.test.item_id))");
    // the same reading over train gives all 1616 items
    let (_, ti): (Vec<i64>, Vec<i64>) = study.train.iter().copied().unzip();
    assert_eq!(NegativesOver::Distinct.range(&ti, study.items.len()), 1616);
    tch::manual_seed(3);
    let data = TowerTrain::new(&u, &i, 10, range, Device::Cpu).unwrap();
    let negs = negatives_drawn(&data);
    assert_eq!(negs.len(), 15710);
    assert!(negs.iter().all(|&n| (0..637).contains(&n)));
    assert_eq!(
        *negs.iter().max().unwrap(),
        636,
        "15710 draws reach the top id"
    );
    // and the run says so
    let report = run(&ctx, &args(Mode::Faithful, NegativesOver::Distinct, 1)).unwrap();
    assert_eq!(report.details.modes["faithful"].negative_range, 637);
}

#[test]
fn all_items_reading_draws_negatives_from_all_1616_items() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::for_tests(dir.path());
    let study = prepare(&ctx).unwrap();
    let (u, i): (Vec<i64>, Vec<i64>) = study.test.iter().copied().unzip();
    let range = NegativesOver::AllItems.range(&i, study.items.len());
    assert_eq!(range, 1616);
    tch::manual_seed(3);
    let negs = negatives_drawn(&TowerTrain::new(&u, &i, 10, range, Device::Cpu).unwrap());
    assert!(negs.iter().all(|&n| (0..1616).contains(&n)));
    let above = negs.iter().filter(|&&n| n >= 637).count() as f64 / negs.len() as f64;
    assert!((above - 979.0 / 1616.0).abs() < 0.02, "{above}");
    let report = run(&ctx, &args(Mode::Faithful, NegativesOver::AllItems, 1)).unwrap();
    assert_eq!(report.details.modes["faithful"].negative_range, 1616);
}

#[test]
fn datetimes_print_like_pandas() {
    assert_eq!(datetime(0), "1970-01-01 00:00:00");
    assert_eq!(datetime(874724710), "1997-09-20 03:05:10");
    assert_eq!(datetime(951782400), "2000-02-29 00:00:00");
}

/// The notebook's cells alone, in its order, each object as its library prints it: the
/// deterministic ones verbatim; the corrected mode and the port's notes after the transcript.
#[test]
fn the_port_prints_the_notebooks_cells_in_order() {
    use crate::notebooks::transcript::ASIDES_HEADER;
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::for_tests(dir.path());
    let report = run(&ctx, &args(Mode::Both, NegativesOver::AllItems, 2)).unwrap();
    let all = &report.details.transcript;
    let end = all.iter().position(|l| l == ASIDES_HEADER).expect("asides");
    let cells = &all[..end];
    let find = |start: &str| -> usize {
        cells
            .iter()
            .position(|c| c.starts_with(start))
            .unwrap_or_else(|| panic!("no cell starting {start:?} in {cells:#?}"))
    };
    // Sections 1-4: the sizes the notebook prints and help(TimeSplitter), verbatim
    let head = [
        "## 1 | Load Dataset",
        "## 2 | Preprocessing",
        "Number of unique users 943",
        "Number of unique items 1682",
        "## 3 | Splitting Dataset in time",
        "class TimeSplitter(replay.splitters.base_splitter.Splitter)\n |  \
         TimeSplitter(time_threshold: Union[datetime.datetime, str, float], query_column: str = \
         'query_id', drop_cold_users: bool = False, drop_cold_items: bool = False, item_column: \
         str = 'item_id', timestamp_column: str = 'timestamp', session_id_column: Optional[str] \
         = None, session_id_processing_strategy: str = 'test', time_column_format: str = \
         '%Y-%m-%d %H:%M:%S')",
        "train size 79999",
        "test size 20001",
        "## 4 | Rating Filter",
    ];
    assert_eq!(&cells[..head.len()], head);
    // the training sample, a pandas frame with the rows' labels (their lines in u.data), as
    // the venv's pandas prints these rows
    assert_eq!(
        cells[head.len()],
        "       user_id  item_id  rating           timestamp\n\
         214        207      254       4 1997-09-20 03:05:10\n\
         83965      207      285       4 1997-09-20 03:05:27\n\
         43027      207      297       4 1997-09-20 03:05:54\n\
         21396      207      184       4 1997-09-20 03:06:21\n\
         82655      207      172       4 1997-09-20 03:07:23"
    );
    // the demo batch: IPython's dict of tensors
    let batch = &cells[find("{'user_ids': tensor([[")];
    assert!(batch.contains("]], dtype=torch.int32),\n 'item_ids': tensor([["));
    assert!(batch.ends_with(
        " 'labels': tensor([[1., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.],\n         \
         [1., 0., 0., 0., 0., 0., 0., 0., 0., 0., 0.]])}"
    ));
    // the model's module tree, verbatim
    let model = find("BaseTwoHead(");
    assert_eq!(
        cells[model],
        "BaseTwoHead(\n  (user_tower): SimpleTower(\n    (emb): Embedding(751, 16)\n  )\n  \
         (item_tower): SimpleTower(\n    (emb): Embedding(1616, 16)\n  )\n)"
    );
    // the logits, torch's repr with the grad_fn of the sum
    let logits = &cells[model + 1];
    assert!(logits.starts_with("tensor([[") && logits.ends_with("]], grad_fn=<SumBackward1>)"));
    // the test users' head: the notebook's 2, 233, 736, 49, 600
    assert_eq!(
        cells[find("   user_id\n")],
        "   user_id\n0        2\n1      233\n2      736\n3       49\n4      600"
    );
    // the embedding shapes, a tuple of tuples
    assert_eq!(cells[find("((")], "((751, 16), (1616, 16))");
    // numpy's print of the score matrix: 3 rows, "...", 3 rows, each wrapped to 75 columns
    let m: Vec<&str> = cells[find("[[")].lines().collect();
    assert!(m.iter().all(|l| l.len() <= 75), "{m:#?}");
    assert!(m.contains(&" ...") && m[0].starts_with("[[") && m.last().unwrap().ends_with("]]"));
    // the top 10: numpy's repr of a float32 array, in np.argpartition's order
    let top = &cells[find("array([[")];
    assert!(top.ends_with("dtype=float32)"), "{top}");
    let order = &report.details.modes["faithful"].scores.top_in_numpy_order;
    assert_eq!(order.len(), 5);
    let values: Vec<f64> = order.iter().flatten().map(|p| f64::from(p.1)).collect();
    let numpy = recsys::report::numpy::array_repr(
        &values,
        &[5, order[0].len()],
        recsys::report::numpy::Dtype::Float32,
    );
    assert_eq!(top, &numpy);
    // the recommendations head: the first user's first five of that order, then the metrics
    let recs = cells
        .iter()
        .rposition(|c| c.starts_with("   user_id  item_id"))
        .unwrap();
    let recs: Vec<&str> = cells[recs].lines().collect();
    assert!(recs[0].ends_with(" rating") && recs.len() == 6, "{recs:#?}");
    for (line, (item, _)) in recs[1..].iter().zip(&order[0]) {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!((f[1], f[2]), ("2", item.to_string().as_str()), "{line}");
    }
    let metrics = cells.last().unwrap();
    assert!(
        metrics.starts_with("             NDCG@10  HitRate@10  Coverage@10\ndssm_model  0."),
        "{metrics}"
    );
    // nothing of the corrected mode or of the port's notes between the cells
    assert!(cells
        .iter()
        .all(|c| !c.contains("corrected") && !c.contains("[faithful]")));
    let asides = &all[end..];
    for needle in [
        "[faithful] epoch  1",
        "== corrected mode",
        "[corrected] epoch  2",
        "notebook (published)",
    ] {
        assert!(asides.iter().any(|a| a.contains(needle)), "{needle}");
    }
}

#[test]
fn negatives_over_names_are_the_flag_values() {
    use clap::ValueEnum;
    for v in NegativesOver::value_variants() {
        assert_eq!(v.to_possible_value().unwrap().get_name(), v.name());
    }
    assert_eq!(NegativesOver::value_variants().len(), 2);
}
