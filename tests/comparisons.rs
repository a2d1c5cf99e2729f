//! PMF against Cornac 3.0.1's own fits: the initial draws (numpy's `RandomState`), a tiny
//! matrix trained three epochs (every factor), and ml-100k with Cornac's defaults: the factors
//! after 100 epochs over 80,000 ratings equal Cornac's to 1e-15, RMSE and MAE (global and per
//! user, through `recsys::eval::user_errors`) to 1e-13 (numpy sums in another order). The reference numbers are
//! printed by `scripts/reference-metrics.py` (sections `pmf-tiny` and `pmf-ml100k`).

use std::collections::HashMap;

use recsys::classic::pmf::{Pmf, PmfConfig, PmfVariant};
use recsys::classic::{RatingPredictor, TrainSet};
use recsys::data::{DataPaths, Dataset};
use recsys::eval::user_errors::user_errors;
use recsys::prep::{f64_values, i64_values};

fn assert_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol, "got {got:?}\nCornac {want:?}");
    }
}

/// Three users, four items, in train order (Cornac indexes them in order of appearance,
/// which is the identity here).
fn tiny() -> TrainSet {
    let rows = [
        (0, 0, 5.0),
        (0, 1, 3.0),
        (1, 0, 4.0),
        (1, 2, 1.0),
        (2, 1, 2.0),
        (2, 3, 5.0),
        (0, 3, 4.0),
    ];
    TrainSet::new(
        3,
        4,
        rows.iter().map(|r| r.0).collect(),
        rows.iter().map(|r| r.1).collect(),
        rows.iter().map(|r| r.2).collect(),
    )
    .unwrap()
}

/// Cornac's `PMF(k=2, max_iter=3, learning_rate=0.1, lambda_reg=0.01, variant, seed=7)`.
fn tiny_config(variant: PmfVariant) -> PmfConfig {
    PmfConfig {
        k: 2,
        max_iter: 3,
        learning_rate: 0.1,
        lambda_reg: 0.01,
        variant,
        numpy_seed: Some(7),
        ..PmfConfig::default()
    }
}

fn all_pairs() -> (Vec<i64>, Vec<i64>) {
    (0..3).flat_map(|u| (0..4).map(move |i| (u, i))).unzip()
}

#[test]
fn pmf_draws_its_factors_as_numpy() {
    // np.random.RandomState(7).normal(0, 0.001, 5): one user's five factors, untrained.
    let train = TrainSet::new(1, 1, vec![0], vec![0], vec![3.0]).unwrap();
    let config = PmfConfig {
        max_iter: 0,
        numpy_seed: Some(7),
        ..PmfConfig::default()
    };
    let m = Pmf::fit(&train, &config).unwrap();
    let want = [
        0.0016905257038003561,
        -0.0004659373705408328,
        3.2820163678584406e-05,
        0.0004075162829965078,
        -0.0007889230286257386,
    ];
    assert_close(&m.user_factors, &want, 1e-19);
}

#[test]
fn pmf_tiny_non_linear_equals_cornac() {
    let m = Pmf::fit(&tiny(), &tiny_config(PmfVariant::NonLinear)).unwrap();
    let u = [
        0.14632037235416068,
        0.14138416592650907,
        -0.9353739596624405,
        -0.936957712483262,
        0.9053977914872926,
        0.9040396855766385,
    ];
    let v = [
        -0.573500897286978,
        -0.5816867367108549,
        -0.6003966145334492,
        -0.5999059087445566,
        0.7847036686049236,
        0.7850836062324431,
        0.9139781241973746,
        0.9103294155043206,
    ];
    assert_close(&m.user_factors, &u, 1e-15);
    assert_close(&m.item_factors, &v, 1e-15);
    let rate = [
        2.83422505676697,
        2.827760265099016,
        3.2248618015299524,
        3.260943800128475,
        3.9870759203107076,
        4.018684074679087,
        1.7480249183372676,
        1.6137703731578152,
        2.040657538475309,
        2.009536922317061,
        4.2214889197157195,
        4.35582781089496,
    ];
    let (users, items) = all_pairs();
    assert_close(&m.predict(&users, &items).unwrap(), &rate, 1e-14);
}

#[test]
fn pmf_tiny_linear_equals_cornac() {
    let m = Pmf::fit(&tiny(), &tiny_config(PmfVariant::Linear)).unwrap();
    let u = [
        0.42879066488717965,
        -1.5683205155565332,
        -0.8313869468549627,
        -0.8755400905356265,
        1.1088227267471877,
        -1.1220607903538458,
    ];
    let v = [
        -0.8526197430897939,
        -1.318642893261667,
        1.162101853942693,
        -1.1888547636076026,
        -0.5810600642311131,
        -0.5842307086715298,
        1.160284613149274,
        -1.3605802694018618,
    ];
    assert_close(&m.user_factors, &u, 1e-15);
    assert_close(&m.item_factors, &v, 1e-15);
    let rate = [
        1.702459315659687,
        2.3628037424016273,
        1.0,
        2.631345160295016,
        1.863381643186167,
        1.0,
        1.0,
        1.0,
        1.0,
        2.62253226211618,
        1.0,
        2.8132037209798852,
    ];
    let (users, items) = all_pairs();
    assert_close(&m.predict(&users, &items).unwrap(), &rate, 1e-14);
}

/// ml-100k in `u.data` order, every fifth row (index % 5 == 0) held out: the train rows with
/// users and items indexed in order of first appearance (Cornac's `Dataset.build`), and the
/// test rows whose user and item are in train (Cornac's `exclude_unknowns=True`) as
/// `(original user id, user index, item index, rating)`.
fn ml100k_fifths() -> (TrainSet, Vec<(i64, i64, i64, f64)>) {
    let df = Dataset::Ml100k
        .ratings(&DataPaths::new(None).unwrap())
        .unwrap();
    let users: Vec<i64> = i64_values(&df, "user_id").unwrap().collect();
    let items: Vec<i64> = i64_values(&df, "item_id").unwrap().collect();
    let ratings: Vec<f64> = f64_values(&df, "rating").unwrap().collect();
    let (mut user_map, mut item_map) = (HashMap::new(), HashMap::new());
    let (mut tu, mut ti, mut tr) = (vec![], vec![], vec![]);
    for row in (0..users.len()).filter(|r| r % 5 != 0) {
        let next = user_map.len() as i64;
        tu.push(*user_map.entry(users[row]).or_insert(next));
        let next = item_map.len() as i64;
        ti.push(*item_map.entry(items[row]).or_insert(next));
        tr.push(ratings[row] as f32);
    }
    let test = (0..users.len())
        .filter(|r| r % 5 == 0)
        .filter_map(|r| {
            let (u, i) = (user_map.get(&users[r])?, item_map.get(&items[r])?);
            Some((users[r], *u, *i, ratings[r]))
        })
        .collect();
    let train = TrainSet::new(user_map.len() as i64, item_map.len() as i64, tu, ti, tr).unwrap();
    (train, test)
}

#[test]
fn pmf_on_ml100k_equals_cornac() {
    let (train, test) = ml100k_fifths();
    assert_eq!(test.len(), 19968, "Cornac keeps 19,968 test ratings");
    let ids: Vec<i64> = test.iter().map(|t| t.0).collect();
    let users: Vec<i64> = test.iter().map(|t| t.1).collect();
    let items: Vec<i64> = test.iter().map(|t| t.2).collect();
    let targets: Vec<f64> = test.iter().map(|t| t.3).collect();
    // Cornac's PMF(seed=123) and PMF(seed=123, variant="linear"): (RMSE, MAE) over ratings,
    // (RMSE, MAE) averaged over users, U[0].
    let cornac = [
        (
            PmfVariant::NonLinear,
            [0.9193365986940123, 0.7228242032672704],
            [0.909935822341976, 0.7541579320090915],
            [
                0.9794191031677716,
                -0.3392505702034361,
                0.11619016851560086,
                -0.16100481107167733,
                0.3644587629174644,
            ],
        ),
        (
            PmfVariant::Linear,
            [0.965188458600201, 0.7518933746263323],
            [0.9493074226355488, 0.7815399726717963],
            [
                0.98331599525722,
                -0.8899283221396467,
                0.911325664928388,
                0.9465869030578357,
                0.9800757501881285,
            ],
        ),
    ];
    for (variant, global, per_user, u0) in cornac {
        let config = PmfConfig {
            variant,
            numpy_seed: Some(123),
            ..PmfConfig::default()
        };
        let m = Pmf::fit(&train, &config).unwrap();
        assert_close(&m.user_factors[..5], &u0, 1e-15);
        let e = user_errors(&ids, &m.predict(&users, &items).unwrap(), &targets).unwrap();
        assert_close(&[e.rmse, e.mae], &global, 1e-13);
        assert_close(&[e.user_rmse, e.user_mae], &per_user, 1e-13);
    }
}
