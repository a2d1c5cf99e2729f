//! Surprise's README benchmark, replayed: the first fold of its `KFold(random_state=0)` on
//! ml-100k, every row of its table (the iterative ones with few epochs), checked against the
//! RMSE and MAE Surprise 1.1.5 itself computed on that fold (`tests/surprise_fold0.json`, made
//! by `scripts/surprise-benchmark.py --fold0`). The full table (five folds, every epoch) is
//! `recsys experiment ml-100k --preset surprise-ml100k`; the ignored test below runs it
//! (several minutes, SVD++ most of them).

use std::path::Path;

use recsys::classic::surprise_benchmark::{self as replay, float_of, random_fold, run_fold};
use recsys::classic::surprise_folds::{kfold, read_raw_ratings, SurpriseFold};
use recsys::rng::numpy::RandomState;

fn folds() -> Vec<SurpriseFold> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/ml-100k/u.data");
    kfold(&read_raw_ratings(&path).unwrap(), 5, 0).unwrap()
}

/// The epochs `scripts/surprise-benchmark.py --fold0` gives each iterative row.
fn quick_epochs(row: &str) -> Option<usize> {
    match row {
        "SVD" => Some(2),
        "SVD++ (cache_ratings=False)" => Some(1),
        "NMF" => Some(5),
        "Co-Clustering" => Some(3),
        _ => None,
    }
}

#[test]
fn first_fold_of_every_row_is_bit_equal_to_surprise() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("surprise_fold0.json")).unwrap();
    let folds = folds();
    let fold = &folds[0];
    assert_eq!((fold.train.len(), fold.test.len()), (80_000, 20_000));
    let mut checked = 0;
    for row in fixture["rows"].as_array().unwrap() {
        let name = row["row"].as_str().unwrap();
        let theirs = (
            float_of(&row["rmse"]).unwrap(),
            float_of(&row["mae"]).unwrap(),
        );
        let ours = if name == "Random" {
            random_fold(fold, &mut RandomState::new(0)).unwrap()
        } else {
            run_fold(name, fold, quick_epochs(name)).unwrap()
        };
        assert_eq!(ours, theirs, "{name}: ours (RMSE, MAE) against Surprise's");
        checked += 1;
    }
    assert_eq!(checked, 10);
}

#[test]
#[ignore = "the whole table: several minutes (run with --ignored)"]
fn the_whole_table_is_bit_equal_to_surprise() {
    let ours = replay::run(&folds(), &replay::ROWS).unwrap();
    let theirs = replay::reference().unwrap();
    assert_eq!(ours.len(), 11);
    for (o, t) in ours.iter().zip(theirs) {
        let status = replay::status(o, &t);
        println!("{:<28} {:.6} {:.6} {status}", o.row, o.rmse, o.mae);
        assert_eq!(o.row, t.row);
        assert_eq!(status, "bit-equal", "{}", o.row);
    }
}
