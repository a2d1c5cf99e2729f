//! Notebook 002: splits, sequences, metrics and a short training run of every model, on the
//! shipped ml-100k and on small hand-made data.

use recsys::data::interactions::Interactions;
use recsys::data::{DataPaths, Dataset};
use recsys::eval::next_item::{label_ranking_average_precision, reciprocal_ranks};
use recsys::models::explicit::{
    regression_epoch, CollaborativeFilteringModel, ExplicitConfig, ExplicitFactorizationModel,
};
use recsys::models::sequence::{ImplicitSequenceModel, Representation, SequenceConfig};
use recsys::optim::Adam;
use recsys::prep::sequence::{to_sequences, Sequences};
use recsys::prep::split::random::{
    random_train_test_split, user_based_split_with_seed, user_based_train_test_split,
};
use tch::{nn, Device, Kind, Tensor};

fn ml100k() -> Interactions {
    let df = Dataset::Ml100k
        .ratings(&DataPaths::new(None).unwrap())
        .expect("shipped ml-100k");
    Interactions::from_ratings(&df).unwrap()
}

#[test]
fn ml100k_sizes_and_splits() {
    let data = ml100k();
    assert_eq!(
        data.to_string(),
        "<Interactions dataset (944 users x 1683 items x 100000 interactions)>"
    );
    tch::manual_seed(0);
    let (train, test) = random_train_test_split(&data, 0.2);
    assert_eq!((train.len(), test.len()), (80000, 20000));
    assert_eq!((train.num_users, train.num_items), (944, 1683));

    // User-based split: every user on one side, about 20% of users in test.
    let (train, test, _) = user_based_train_test_split(&data, 0.2);
    assert_eq!(train.len() + test.len(), 100000);
    let test_users: std::collections::HashSet<i64> = test.user_ids.iter().copied().collect();
    assert!(train.user_ids.iter().all(|u| !test_users.contains(u)));
    assert!(
        (120..260).contains(&test_users.len()),
        "{} test users",
        test_users.len()
    );

    // Sequences: each user gives ceil(n/10) windows, so train + test is always the notebook's
    // 8249 + 2190, whatever the split.
    let (tr, te) = (
        to_sequences(&train, 10, 10).unwrap(),
        to_sequences(&test, 10, 10).unwrap(),
    );
    assert_eq!(tr.len() + te.len(), 8249 + 2190);
    assert!(
        tr.last_items().iter().all(|&i| i != 0),
        "the last column is never padding"
    );
    // A fixed hash seed gives a fixed split.
    let (a, _) = user_based_split_with_seed(&data, 0.2, 7);
    let (b, _) = user_based_split_with_seed(&data, 0.2, 7);
    assert_eq!(a, b);
}

#[test]
fn sequence_of_a_hand_made_history() {
    // One user with 13 items (times out of order), one with 2.
    let mut users = vec![5; 13];
    users.extend([9, 9]);
    let items: Vec<i64> = (1..=15).collect();
    let mut times: Vec<i64> = (0..13).rev().collect(); // item 1 is the latest of user 5
    times.extend([100, 50]);
    let data = Interactions {
        ratings: vec![1.0; 15],
        user_ids: users,
        item_ids: items,
        timestamps: times,
        num_users: 10,
        num_items: 16,
    };
    let seqs = to_sequences(&data, 10, 10).unwrap();
    assert_eq!(seqs.len(), 3);
    assert_eq!(seqs.user_ids, vec![5, 5, 9]);
    // user 5 in time order: 13, 12, ..., 1; last 10 first, then the 3 oldest, left-padded
    assert_eq!(seqs.row(0), &[10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(seqs.row(1), &[0, 0, 0, 0, 0, 0, 0, 13, 12, 11]);
    assert_eq!(seqs.row(2), &[0, 0, 0, 0, 0, 0, 0, 0, 15, 14]);
    assert_eq!(seqs.tensor(Device::Cpu).size(), vec![3, 10]);
}

#[test]
fn mrr_and_lrap_on_hand_made_scores() {
    // 3 samples x 5 items; target 2 ties with item 4 in sample 0, no ties elsewhere.
    let scores: [f32; 15] = [
        0.1, 0.2, 0.7, 0.0, 0.7, // target 2: tied for ranks 1-2 -> rank 1.5
        0.5, 0.4, 0.3, 0.2, 0.1, // target 3: rank 4
        0.0, 0.9, 0.8, 0.0, 0.0, // target 0: tied with 3 and 4 for ranks 3-5 -> rank 4
    ];
    let targets = [2i64, 3, 0];
    let rr = reciprocal_ranks(&scores, 5, &targets);
    assert_eq!(rr, vec![1.0 / 1.5, 0.25, 0.25]);
    let s64: Vec<f64> = scores.iter().map(|&s| s as f64).collect();
    let rel: Vec<Vec<usize>> = targets.iter().map(|&t| vec![t as usize]).collect();
    let lrap = label_ranking_average_precision(&s64, 5, &rel);
    // LRAP takes the worst rank of a tie: 1/2, 1/4, 1/5
    assert!((lrap - (0.5 + 0.25 + 0.2) / 3.0).abs() < 1e-12, "{lrap}");
    // sample 1 alone (untied): both agree
    let one = label_ranking_average_precision(&s64[5..10], 5, &rel[1..2]);
    assert_eq!(one, rr[1]);
}

fn decreases(losses: &[f64]) -> bool {
    losses.last().unwrap() < losses.first().unwrap()
}

#[test]
fn explicit_models_lower_their_loss() {
    tch::manual_seed(3);
    let data = ml100k();
    let sample: Vec<usize> = (0..20000).collect();
    let small = data.select(&sample);
    let (u, i, r) = small.tensors(Device::Cpu);
    let config = ExplicitConfig {
        n_iter: 3,
        ..ExplicitConfig::default()
    };
    let mut model = ExplicitFactorizationModel::new(944, 1683, config, Device::Cpu).unwrap();
    let losses = model.fit(&u, &i, &r).unwrap();
    assert!(decreases(&losses), "{losses:?}");

    // predictions are dot product plus biases, for every pair
    let pred = model.predict(&u.narrow(0, 0, 50), &i.narrow(0, 0, 50));
    let net = &model.net;
    let (uu, ii) = (u.narrow(0, 0, 50), i.narrow(0, 0, 50));
    let want = (net.user_embeddings.index_select(0, &uu)
        * net.item_embeddings.index_select(0, &ii))
    .sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
        + net.user_biases.index_select(0, &uu).squeeze_dim(1)
        + net.item_biases.index_select(0, &ii).squeeze_dim(1);
    let diff = tch::no_grad(|| (pred - want).abs().max().double_value(&[]));
    assert!(diff < 1e-5, "{diff}");

    let vs = nn::VarStore::new(Device::Cpu);
    let cf = CollaborativeFilteringModel::new(&vs.root(), 944, 1683, 20, 3.5);
    let mut opt = Adam::with_weight_decay(&vs, 0.01, 1e-3).unwrap();
    let losses: Vec<f64> = (0..3)
        .map(|_| regression_epoch(&mut opt, &u, &i, &r, 300, |a, b| cf.predict_pairs(a, b)))
        .collect::<anyhow::Result<_>>()
        .unwrap();
    assert!(decreases(&losses), "{losses:?}");
    let x = Tensor::stack(&[u.narrow(0, 0, 4), i.narrow(0, 0, 4)], 1);
    assert_eq!(cf.forward(&x).size(), vec![4]);
}

fn toy_sequences() -> Sequences {
    // 200 sequences following item cycles 1 -> 2 -> ... -> 30 -> 1, easy to learn.
    let mut items = Vec::new();
    for s in 0..200i64 {
        for t in 0..10 {
            items.push((s + t) % 30 + 1);
        }
    }
    Sequences {
        items,
        user_ids: (0..200).collect(),
        max_len: 10,
        num_items: 31,
    }
}

#[test]
fn every_sequence_model_lowers_its_loss() {
    let seqs = toy_sequences().tensor(Device::Cpu);
    for rep in [
        Representation::Pooling,
        Representation::Cbow,
        Representation::Gru,
        Representation::Lstm,
    ] {
        tch::manual_seed(11);
        let mut config = match rep {
            Representation::Pooling => SequenceConfig::spotlight_pooling(5),
            _ => SequenceConfig::cross_entropy(rep),
        };
        config.n_iter = 5;
        config.batch_size = 32;
        let mut model = ImplicitSequenceModel::new(31, config, Device::Cpu).unwrap();
        let losses = model.fit(&seqs).unwrap();
        assert!(decreases(&losses), "{rep:?}: {losses:?}");
        let scores = model.score_next(&seqs.narrow(1, 0, 9));
        assert_eq!(scores.size(), vec![200, 31]);
    }
}

#[test]
fn gru_learns_the_cycle() {
    tch::manual_seed(5);
    let toy = toy_sequences();
    let seqs = toy.tensor(Device::Cpu);
    let mut config = SequenceConfig::cross_entropy(Representation::Gru);
    config.n_iter = 30;
    config.batch_size = 32;
    config.learning_rate = 1e-2;
    let mut model = ImplicitSequenceModel::new(31, config, Device::Cpu).unwrap();
    model.fit(&seqs).unwrap();
    let scores: Vec<f32> = Vec::try_from(model.score_next(&seqs.narrow(1, 0, 9)).view(-1)).unwrap();
    let rr = reciprocal_ranks(&scores, 31, &toy.last_items());
    let mrr = rr.iter().sum::<f64>() / rr.len() as f64;
    assert!(mrr > 0.9, "MRR {mrr}");
}

/// Pooling MRR and LRAP are one number (one relevant item per sample): the report sets it
/// against the notebook's band once, and the LRAP row only checks that LRAP equals the MRR.
#[test]
fn pooling_mrr_is_banded_once_and_lrap_must_equal_it() {
    use crate::notebooks::nb002::expected::report;
    use crate::notebooks::nb002::outcome::{ModelRun, Part2, SeedRun};
    use recsys::report::Status;

    let data = Interactions {
        ratings: vec![1.0],
        user_ids: vec![1],
        item_ids: vec![1],
        timestamps: vec![0],
        num_users: 2,
        num_items: 2,
    };
    let run = |mrr: f64, lrap: f64| SeedRun {
        seed: 0,
        part1: None,
        part2: Some(Part2 {
            lrap_pooling: lrap,
            most_popular: 0.008,
            softmax_popularity: 0.025,
            models: vec![ModelRun {
                model: "pooling".into(),
                mrr,
                train_s: 0.0,
                losses: vec![],
            }],
            ..Part2::default()
        }),
    };
    let statuses = |mrr: f64, lrap: f64| -> (usize, Status) {
        let r = report(&data, vec![run(mrr, lrap)]);
        let pooling_bands = r
            .checks
            .iter()
            .filter(|c| c.quantity.contains("pooling") && c.status != Status::Info)
            .filter(|c| !matches!(c.status, Status::Differs { band: None }))
            .count();
        let lrap_row = r
            .checks
            .iter()
            .find(|c| c.quantity.contains("LRAP"))
            .expect("an LRAP row");
        (pooling_bands, lrap_row.status.clone())
    };
    // In the band, LRAP = MRR: one band check, the LRAP row is information.
    assert_eq!(statuses(0.045, 0.045), (1, Status::Info));
    // MRR out of the band: one failing band check, not a second one from LRAP.
    let (bands, lrap) = statuses(0.030, 0.030);
    assert_eq!((bands, lrap), (1, Status::Info));
    // LRAP that is not the MRR (even inside the band) is reported.
    assert_eq!(statuses(0.045, 0.040), (1, Status::Differs { band: None }));
}

/// Numbers in a printed array row, `...` left out.
fn numbers(row: &str) -> usize {
    row.split([',', ' ', '[', ']', '(', ')'])
        .filter(|c| c.parse::<f64>().is_ok() || c.ends_with('.'))
        .filter(|c| *c != "...")
        .count()
}

/// `%%time`'s two lines then, after the blank line the notebook shows, the cell's value.
fn timed_value(entry: &str) -> &str {
    let (times, value) = entry
        .split_once("\n\n")
        .expect("%%time lines, then the value");
    let t: Vec<&str> = times.lines().collect();
    assert_eq!(t.len(), 2, "{entry}");
    assert!(
        t[0].starts_with("CPU times: user ") && t[0].contains(", sys: "),
        "{entry}"
    );
    assert!(
        t[0].contains(", total: ") && t[1].starts_with("Wall time: "),
        "{entry}"
    );
    value
}

/// The notebook's cells alone, in its order, as it printed them: values bare (`0.8`, not a
/// label), `%%time` lines as IPython prints them, no markdown quoted as output; the port's
/// own notes and the exercises come after the transcript.
#[test]
fn the_port_prints_the_notebooks_cells_in_order() {
    use crate::notebooks::nb002::{run, Args};
    use crate::notebooks::transcript::ASIDES_HEADER;
    let dir = tempfile::tempdir().unwrap();
    let ctx = recsys::Context::for_tests(dir.path());
    let args = Args {
        seeds: 1,
        part: "both".into(),
        models: vec![Representation::Cbow],
        seq_epochs: 1,
        quick: true,
        threads: 1,
    };
    let report = run(&ctx, &args).unwrap();
    let all = &report.details.transcript;
    let end = all.iter().position(|l| l == ASIDES_HEADER).expect("asides");
    let cells = &all[..end];
    assert_eq!(cells.len(), 19, "{cells:#?}");
    // The deterministic cells, verbatim.
    assert_eq!(cells[0], "## Part 1: Explicit feedback");
    assert_eq!(
        cells[1],
        "<Interactions dataset (944 users x 1683 items x 100000 interactions)>"
    ); // In [3]
    assert!(cells[2].starts_with("{'num_users': 944,\n 'num_items': 1683,\n 'user_ids': array(["));
    assert!(
        cells[2].ends_with(" dtype=int32),\n 'weights': None}"),
        "{}",
        cells[2]
    );
    assert!(cells[3].starts_with("As an example, user ") && cells[3].ends_with('.'));
    assert_eq!(cells[4], "0.8"); // In [6]
    let rmse: f32 = timed_value(&cells[5]).parse().unwrap(); // In [7]
    assert!((0.8..1.3).contains(&rmse), "{}", cells[5]);
    assert!(cells[6].starts_with("array([") && cells[6].ends_with("], dtype=float32)")); // In [9]
    assert!(cells[7].starts_with("(tensor([[") && cells[7].ends_with(".]))")); // In [10]
    for k in [8, 9] {
        // In [11], In [12]
        assert!(
            cells[k].starts_with("tensor(") && cells[k].len() == "tensor(0.9924)".len(),
            "{}",
            cells[k]
        );
    }
    assert_eq!(cells[10], "\n## Part 2: Implicit feedback");
    let mrr: f64 = timed_value(&cells[11]).parse().unwrap(); // In [17]
    assert!((0.0..1.0).contains(&mrr));
    assert!(
        cells[12].starts_with("<Sequence interactions dataset (")
            && cells[12].ends_with(" sequences x 10 sequence length)>")
    ); // In [18]
    assert!(cells[13].starts_with("{'sequences': array([["));
    assert!(cells[13].ends_with(" dtype=int32),\n 'max_sequence_length': 10,\n 'num_items': 1683}"));
    assert!(cells[14].starts_with('(') && cells[14].ends_with(", 1683)")); // In [20]
    assert!(cells[15].starts_with("array([[") && cells[15].ends_with("]], dtype=float32)")); // In [21]
    for cell in &cells[16..19] {
        // In [22] to In [24]: Python floats, bare
        let v: f64 = cell.parse().unwrap_or_else(|_| panic!("{cell}"));
        assert_eq!(&recsys::report::pyfmt::py_float(v), cell);
    }
    assert!(
        cells
            .iter()
            .all(|c| !c.contains("Yes, I got the same thing")),
        "a markdown quote is not an output"
    );
    // The exercises and the port's notes come after the transcript.
    let asides = &all[end..];
    for needle in [
        "CollaborativeFilteringModel(embedding 20)",
        "cbow: epoch losses",
    ] {
        assert!(asides.iter().any(|a| a.contains(needle)), "{needle}");
    }

    let lines: Vec<String> = cells
        .iter()
        .flat_map(|c| c.split('\n').map(str::to_string))
        .collect();
    let start = |p: &str| lines.iter().position(|l| l.starts_with(p)).expect(p);
    let at = [start("{'num_users'"), start("array(["), start("(tensor([[")];
    // In [4]: each array shows its first and last three values; timestamps wrap as in the notebook
    for line in &lines[at[0] + 2..at[0] + 5] {
        assert!(line.contains(", ..., ") && line.ends_with(","), "{line}");
        assert_eq!(numbers(line), 6, "{line}");
    }
    assert!(lines[at[0] + 4].contains("dtype=float32)"));
    assert!(
        lines[at[0] + 6].starts_with("        ") && lines[at[0] + 6].ends_with("], dtype=int32),")
    );
    // In [9]: y_pred, float32 values padded to one width, wrapped after five
    let y = &lines[at[1]];
    assert!(
        y.starts_with("array([") && y.contains(", ..., ") && numbers(y) == 5,
        "{y}"
    );
    assert!(lines[at[1] + 1].ends_with("], dtype=float32)"));
    // In [10]: five (user, item) rows, then five whole-number ratings
    let x = &lines[at[2]..at[2] + 6];
    assert!(
        x[0].starts_with("(tensor([[") && x[4].ends_with("]]),"),
        "{x:?}"
    );
    assert!(x[1..4]
        .iter()
        .all(|r| r.starts_with("         [") && numbers(r) == 2));
    assert!(x[5].starts_with(" tensor([") && x[5].ends_with(".]))") && numbers(x[5].as_str()) == 5);
    // In [19]: the sequences, 3 + 3 rows of 3 + 3 ids, then the user ids
    let s: Vec<&str> = cells[13].lines().take(7).collect();
    assert_eq!(s[3].trim(), "...,");
    for row in s.iter().filter(|r| r.trim() != "...,") {
        assert_eq!(numbers(row), 6, "{row}");
    }
    assert!(s[6].ends_with("]], dtype=int32),"));
    // In [21]: probabilities rounded to 2 decimals, 3 + 3 rows of 3 + 3
    let p: Vec<&str> = cells[15].lines().collect();
    assert_eq!(p.len(), 7, "{p:?}");
    assert_eq!(p[3].trim(), "...,");
    for row in p.iter().filter(|r| r.trim() != "...,") {
        assert_eq!(numbers(row), 6, "{row}");
        assert!(row.contains("0."), "{row}");
    }
}

/// The twin prints the notebook's array cells with numpy's and torch's own reprs; where the
/// arrays hold the same values (the split and the sequences, drawn from the same seed), the
/// port's text is the same, character for character. Like the parity tests, it needs the
/// project's Python.
#[test]
fn parity_array_cells_identical_in_the_twin() {
    use crate::notebooks::nb002::{run, Args};
    let script = crate::compare::twin_path("002").unwrap();
    let flags = ["--seq-epochs", "1", "--json"].map(String::from);
    let (twin, _) = crate::compare::run_python_json(&script, &flags)
        .unwrap_or_else(|e| panic!("the twin of 002 needs the project's Python: {e:#}"));
    let cell = |name: &str| twin["cells"][name].as_str().expect(name).to_string();
    let dir = tempfile::tempdir().unwrap();
    let args = Args {
        seeds: 1,
        part: "both".into(),
        models: vec![],
        seq_epochs: 1,
        quick: true,
        threads: 1,
    };
    let report = run(&recsys::Context::for_tests(dir.path()), &args).unwrap();
    let printed = |start: &str| -> Vec<String> {
        report
            .details
            .transcript
            .iter()
            .filter(|t| t.starts_with(start))
            .cloned()
            .collect()
    };
    assert_eq!(printed("{'num_users'"), [cell("train.__dict__")]);
    assert_eq!(
        printed("{'sequences'"),
        [cell("train.__dict__ (sequences)")]
    );
    assert_eq!(printed("(tensor([["), [cell("X_train[:5], y_train[:5]")]);
    // the predictions come from different training runs: the same layout, not the same values
    let shape = |text: &str| -> Vec<usize> { text.lines().map(numbers).collect() };
    assert_eq!(shape(&printed("array([")[0]), shape(&cell("y_pred")));
    assert_eq!(
        shape(&printed("array([[")[0]),
        shape(&cell("y_pred.round(2)"))
    );
}
