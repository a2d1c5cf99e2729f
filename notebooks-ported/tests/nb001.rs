//! Notebook 001 end to end: every deterministic output against the notebook's, the Python
//! random module against CPython, the neighbourhood code on ml-100k, and the loss bands.

use crate::notebooks::nb001::expected::printed;
use crate::notebooks::nb001::toy::ToyInterests;
use crate::notebooks::nb001::{self, Args, USERS_INTERESTS};
use recsys::models::neighbors::Interactions;
use recsys::report::pyfmt;
use recsys::report::Status;
use recsys::rng::pyrandom::PyRandom;
use recsys::Context;

fn args() -> Args {
    Args {
        corrected: false,
        epochs: 20,
        learning_rate: 0.05,
        lr_decay: 0.9,
        split_seed: 0,
        prior_runs: 1,
        pca_top: 10,
        pca_min_ratings: 0,
    }
}

fn ctx(dir: &tempfile::TempDir) -> Context {
    Context::for_tests(dir.path())
}

#[test]
fn every_printed_output_matches_the_notebook() {
    let dir = tempfile::tempdir().unwrap();
    let report = nb001::run(&ctx(&dir), &args()).unwrap();
    assert_eq!(report.notebook, "001");
    let exact = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Exact)
        .count();
    assert_eq!(exact, 21, "{:#?}", report.checks);
    for c in &report.checks {
        assert!(
            matches!(
                c.status,
                Status::Exact
                    | Status::WithinBand { .. }
                    | Status::NotebookOutsideBand { .. }
                    | Status::Info
            ),
            "{}: notebook {:?}, this run {:?} ({:?})",
            c.quantity,
            c.notebook,
            c.this_run,
            c.status
        );
    }
    let bands = report
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::WithinBand { .. }))
        .count();
    assert_eq!(bands, 4);
    // The notebook's own epoch-20 train loss (0.76) lies outside the band of the seeds.
    let outside: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::NotebookOutsideBand { .. }))
        .map(|c| c.quantity.as_str())
        .collect();
    assert_eq!(outside, ["epoch 20 train avg loss"]);
    // The corrected modes, reported beside the faithful ones.
    let info = |q: &str| {
        report
            .checks
            .iter()
            .find(|c| c.quantity == q)
            .unwrap()
            .this_run
            .clone()
    };
    assert_eq!(
        info("Star Wars averages (corrected regex)"),
        "4.358491 Star Wars (1977); 4.204360 Empire Strikes Back, The (1980); 4.007890 Return of the Jedi (1983)"
    );
    assert_eq!(info("item_based_suggestions(0) corrected, length"), "14");
    assert_eq!(info("train / validation / test"), "70000 / 15000 / 15000");
}

#[test]
fn corrected_mode_runs_and_keeps_the_faithful_checks() {
    let dir = tempfile::tempdir().unwrap();
    let corrected = Args {
        corrected: true,
        epochs: 1,
        prior_runs: 0,
        ..args()
    };
    let report = nb001::run(&ctx(&dir), &corrected).unwrap();
    let exact = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Exact)
        .count();
    assert_eq!(
        exact, 21,
        "the faithful outputs are still computed and compared"
    );
    assert!(nb001::run(
        &ctx(&dir),
        &Args {
            pca_top: 0,
            pca_min_ratings: 10_000,
            ..corrected
        }
    )
    .is_ok());
}

#[test]
fn toy_faithful_and_corrected_item_based_lists() {
    let toy = ToyInterests::new();
    let faithful = toy.data.item_based_suggestions(0, true);
    assert_eq!(toy.pprint_scores(&faithful), printed::ITEM_BASED_0);
    let corrected = toy.data.item_based_suggestions(0, false);
    let names: Vec<&str> = corrected.iter().map(|&(i, _)| toy.name(i)).collect();
    assert!(
        names.iter().all(|n| !USERS_INTERESTS[0].contains(n)),
        "{names:?}"
    );
    // The corrected list is the faithful one minus user 0's seven interests, in the same order.
    let expected: Vec<&str> = faithful
        .iter()
        .map(|&(i, _)| toy.name(i))
        .filter(|n| !USERS_INTERESTS[0].contains(n))
        .collect();
    assert_eq!(names, expected);
    assert_eq!(names[..3], ["MapReduce", "MongoDB", "Postgres"]);
}

#[test]
fn python_printing() {
    assert_eq!(pyfmt::py_float(1.0), "1.0");
    assert_eq!(pyfmt::py_float(0.0), "0.0");
    assert_eq!(pyfmt::py_float(0.50709255283711), "0.50709255283711");
    assert_eq!(
        pyfmt::py_float(-9.5367431640625e-06),
        "-9.5367431640625e-06"
    );
    assert_eq!(pyfmt::py_float(1e16), "1e+16");
    assert_eq!(pyfmt::py_float(123456.0), "123456.0");
    assert_eq!(
        pyfmt::py_str("Schindler's List (1993)"),
        "\"Schindler's List (1993)\""
    );
    assert_eq!(pyfmt::py_str("a'b\"c"), "'a\\'b\"c'");
    let short: Vec<String> = vec!["('R', 4)".into(), "('Java', 3)".into()];
    assert_eq!(pyfmt::pprint_list(&short), "[('R', 4), ('Java', 3)]");
}

#[test]
fn mersenne_twister_and_shuffle_match_cpython_on_u_data() {
    let mut r = PyRandom::new(0);
    assert_eq!(
        [r.random(), r.random(), r.random()],
        [0.8444218515250481, 0.7579544029403025, 0.420571580830845]
    );
    let dir = tempfile::tempdir().unwrap();
    let mut ratings = nb001::movies::read_ratings(&ctx(&dir)).unwrap();
    assert_eq!(ratings.len(), 100_000);
    PyRandom::new(0).shuffle(&mut ratings);
    let first: Vec<(i64, i64, f64)> = ratings[..3]
        .iter()
        .map(|r| (r.user_id, r.movie_id, r.rating))
        .collect();
    assert_eq!(first, [(251, 1, 4.0), (109, 245, 3.0), (198, 238, 4.0)]);
    let (train, test) = (&ratings[..70_000], &ratings[85_000..]);
    assert_eq!(nb001::movies::baseline_mse(train, test), 1.2609526646939684);
}

#[test]
fn inverse_normal_cdf_matches_the_scratch_library() {
    // Values from scratch.probability.inverse_normal_cdf under CPython.
    assert_eq!(
        nb001::sgd::inverse_normal_cdf(0.8444218515250481),
        1.0127925872802734
    );
    assert_eq!(nb001::sgd::inverse_normal_cdf(0.5), -9.5367431640625e-06);
    assert_eq!(nb001::sgd::inverse_normal_cdf(0.025), -1.9599628448486328);
    assert_eq!(nb001::sgd::inverse_normal_cdf(0.999), 3.090238571166992);
    assert_eq!(nb001::sgd::normal_cdf(1.0), 0.8413447460685429);
    assert_eq!(nb001::sgd::py_square(0.1 + 0.7), 0.6399999999999999);
}

#[test]
fn star_wars_regexes() {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(&dir);
    let (movies, ratings) = (
        nb001::movies::read_movies(&c).unwrap(),
        nb001::movies::read_ratings(&c).unwrap(),
    );
    let faithful =
        nb001::movies::star_wars_averages(&movies, &ratings, nb001::expected::STAR_WARS_REGEX)
            .unwrap();
    let ids: Vec<i64> = faithful.iter().map(|f| f.0).collect();
    assert_eq!(ids, [50, 181]);
    assert_eq!(format!("{:.6}", faithful[0].1), "4.358491");
    let corrected = nb001::movies::star_wars_averages(
        &movies,
        &ratings,
        nb001::expected::STAR_WARS_REGEX_CORRECTED,
    )
    .unwrap();
    let ids: Vec<i64> = corrected.iter().map(|f| f.0).collect();
    assert_eq!(ids, [50, 172, 181]);
    assert!(nb001::movies::star_wars_averages(&movies, &ratings, "(unclosed").is_err());
}

#[test]
fn sgd_is_deterministic_and_the_id_order_matters() {
    let dir = tempfile::tempdir().unwrap();
    let short = Args {
        epochs: 2,
        prior_runs: 0,
        ..args()
    };
    let losses = |seed: Option<u64>| {
        let mut c = ctx(&dir);
        c.seed = seed;
        let r = nb001::run(&c, &short).unwrap();
        serde_json::to_value(&r.details.epochs).unwrap()
    };
    assert_eq!(losses(None), losses(None));
    assert_ne!(losses(None), losses(Some(3)));
    // Fresh N(0, 1) vectors predict badly: the first epoch's running loss is far above 1.
    let first = losses(None)[0]["train_shown"].as_f64().unwrap();
    assert!(first > 3.0, "{first}");
}

#[test]
fn neighbours_scale_to_movielens() {
    let dir = tempfile::tempdir().unwrap();
    let ratings = nb001::movies::read_ratings(&ctx(&dir)).unwrap();
    let triples: Vec<(usize, usize, f64)> = ratings
        .iter()
        .map(|r| (r.user_id as usize - 1, r.movie_id as usize - 1, 1.0))
        .collect();
    let x = Interactions::from_triples(943, 1682, &triples).unwrap();
    // Most popular movie of ml-100k: Star Wars (50) with 583 ratings.
    assert_eq!(x.popularity()[0], (49, 583));
    // Star Wars' nearest neighbour by co-rating users is Return of the Jedi (181).
    let similar = x.most_similar_items(49);
    assert_eq!(similar[0].0, 180, "{:?}", &similar[..5]);
    let suggestions = x.user_based_suggestions(0, false);
    assert!(!suggestions.is_empty());
    assert!(suggestions.iter().all(|&(i, _)| !x.has(0, i)));
    assert!(suggestions.windows(2).all(|w| w[0].1 >= w[1].1));
    let items = x.item_based_suggestions(0, false);
    assert!(items.iter().all(|&(i, _)| !x.has(0, i)));
}

/// The notebook's cells alone, verbatim where they are deterministic, then the SGD cell's tqdm
/// lines (bar and timing, as tqdm writes them to a file); the port's notes come after.
#[test]
fn the_port_prints_the_notebooks_cells_in_order() {
    use crate::notebooks::nb001::expected::printed::*;
    use crate::notebooks::transcript::ASIDES_HEADER;
    let dir = tempfile::tempdir().unwrap();
    let short = Args {
        epochs: 2,
        ..args()
    };
    let report = nb001::run(&ctx(&dir), &short).unwrap();
    let all = &report.details.transcript;
    let end = all.iter().position(|l| l == ASIDES_HEADER).expect("asides");
    let cells = &all[..end];
    let expected = [
        "# 1. Recommending What's popular",
        POPULAR_INTERESTS,  // In [3]
        POPULAR_NEW_USER_0, // In [8]
        POPULAR_NEW_USER_2, // In [9]
        "\n# 2. User-based collaborative filtering",
        UNIQUE_INTERESTS,       // In [10]
        USER_1_INTEREST_VECTOR, // In [11]
        FIRST_FIVE_VECTORS,     // In [14]
        USER_SIMILARITIES_0,    // In [17]
        MOST_SIMILAR_USERS_0,   // In [19]
        USER_BASED_0,           // In [21]
        "\n# 3. Item-based collaborative filtering",
        USER_INTEREST_VECTORS_0,  // In [22]
        INTEREST_USER_MATRIX_0,   // In [28]
        INTEREST_SIMILARITIES_0,  // In [29]
        MOST_SIMILAR_INTERESTS_0, // In [31]
        ITEM_BASED_0,             // In [33]
        "\n# 4. Matrix Factorization for Recommendation",
        FIRST_MOVIES,       // In [36]
        FIRST_RATINGS,      // In [37]
        STAR_WARS_RATINGS,  // In [39]
        STAR_WARS_AVERAGES, // In [42]
        "\n## 4(a). Create a baseline model",
        BASELINE_MSE, // In [45]
        "\n## 4(b). Embeddings",
    ];
    assert_eq!(&cells[..expected.len()], expected);
    // In [51]: one tqdm line per pass (train and validation per epoch, then test)
    let bars = &cells[expected.len()..];
    assert_eq!(bars.len(), 2 * 2 + 1, "{bars:#?}");
    for (k, line) in bars.iter().enumerate() {
        let n = if k == 4 {
            15000
        } else if k % 2 == 0 {
            70000
        } else {
            15000
        };
        let (desc, bar) = line.split_once(": 100%|").expect("a tqdm line");
        let loss: f64 = desc
            .strip_prefix("avg loss: avg_loss=")
            .expect(line)
            .parse()
            .expect(line);
        assert_eq!(recsys::report::pyfmt::py_float(loss), desc[19..]);
        let tail = format!("██████████| {n}/{n} [00:00<00:00, ");
        assert!(bar.starts_with(&tail) && bar.ends_with("it/s]"), "{line}");
    }
    // The port's notes: --prior-runs, inferred, and how to run the cell alone
    let asides = &all[end..];
    let note = asides
        .iter()
        .find(|a| a.starts_with("(--prior-runs 1: "))
        .expect("the note on --prior-runs");
    assert!(note.contains("inferred from the notebook's execution counters"));
    assert!(note.contains("--prior-runs 0 runs the cell alone"));
    assert!(asides
        .iter()
        .any(|a| a.contains("## Beyond the notebook: PCA of the movie vectors")));
    // without prior runs the note says how the default differs
    let alone = nb001::part2::prior_runs_note(&Args {
        prior_runs: 0,
        ..args()
    });
    assert!(alone.starts_with("(--prior-runs 0: the training cell runs alone"));
}

/// Part 1 is deterministic: the twin (`nb001.py --toy-only`, fresh Python) prints the port's
/// text character for character. Like the parity tests, it needs the project's Python.
#[test]
fn parity_toy_section_identical_in_the_twin() {
    let script = crate::compare::twin_path("001").unwrap();
    let (twin, _) =
        crate::compare::run_python_json(&script, &["--toy-only".to_string(), "--json".to_string()])
            .unwrap_or_else(|e| panic!("the twin of 001 needs the project's Python: {e:#}"));
    let toy = twin["toy"].as_object().expect("the twin's \"toy\" outputs");
    let dir = tempfile::tempdir().unwrap();
    let short = Args {
        epochs: 1,
        prior_runs: 0,
        ..args()
    };
    let report = nb001::run(&ctx(&dir), &short).unwrap();
    let mut compared = 0;
    for c in report
        .checks
        .iter()
        .filter(|c| toy.contains_key(&c.quantity))
    {
        assert_eq!(
            toy[&c.quantity].as_str().unwrap(),
            c.this_run,
            "{}",
            c.quantity
        );
        compared += 1;
    }
    assert_eq!(compared, 14, "the toy section's 14 printed outputs");
    let t = ToyInterests::new();
    assert_eq!(
        toy["item_based_suggestions(0) corrected"].as_str().unwrap(),
        t.pprint_scores(&t.data.item_based_suggestions(0, false))
    );
}
