//! Notebook 004 end to end: the dense matrix against u.data, and a short run of the whole port.

use crate::notebooks::nb004::{Args, Modes};
use recsys::data::{DataPaths, Dataset};
use recsys::models::dense_mf::{self, DenseMf, GradientMode};
use recsys::Context;
use tch::Device;

#[test]
fn rating_matrix_matches_u_data() {
    let df = Dataset::Ml100k
        .ratings(&DataPaths::new(None).unwrap())
        .unwrap();
    let m = dense_mf::rating_matrix(&df).unwrap();
    assert_eq!((m.n_users, m.n_items), (943, 1682));
    assert_eq!(m.ratings.size(), vec![943, 1682]);
    // User 1 rated movies 1, 2, 3 with 5, 3, 4 (u.data).
    let cell = |u: i64, i: i64| m.ratings.int64_value(&[u - 1, i - 1]);
    assert_eq!((cell(1, 1), cell(1, 2), cell(1, 3)), (5, 3, 4));
    assert_eq!(m.exist.sum(tch::Kind::Int64).int64_value(&[]), 100_000);
    // Every line of u.data, parsed here independently, is in its cell; the rest are −1.
    let text =
        std::fs::read_to_string(DataPaths::new(None).unwrap().shipped.join("ml-100k/u.data"))
            .unwrap();
    let mut filled = 0;
    for line in text.lines() {
        let f: Vec<i64> = line
            .split('\t')
            .take(3)
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(cell(f[0], f[1]), f[2], "{line}");
        filled += 1;
    }
    assert_eq!(filled, 100_000);
    let missing = m.ratings.eq(-1).sum(tch::Kind::Int64).int64_value(&[]);
    assert_eq!(missing, 943 * 1682 - 100_000);
    assert_eq!(
        dense_mf::torch_int_matrix_repr(&m.ratings.narrow(0, 0, 5)),
        "tensor([[ 5,  3,  4,  ..., -1, -1, -1],\n        [ 4, -1, -1,  ..., -1, -1, -1],\n        \
         [-1, -1, -1,  ..., -1, -1, -1],\n        [-1, -1, -1,  ..., -1, -1, -1],\n        \
         [ 4,  3, -1,  ..., -1, -1, -1]])"
    );
}

/// The first loss depends only on the random factors: over seeds it stays near the
/// notebook's 5.3266.
#[test]
fn dense_mf_first_loss_stays_near_the_notebooks() {
    let df = Dataset::Ml100k
        .ratings(&DataPaths::new(None).unwrap())
        .unwrap();
    let m = dense_mf::rating_matrix(&df).unwrap();
    for seed in 0..3 {
        tch::manual_seed(seed);
        let mut mf = DenseMf::new(50, m.n_users, m.n_items, 0.01, Device::Cpu).unwrap();
        let l0 = mf.sgd_step(&m, GradientMode::Accumulate).double_value(&[]);
        assert!((5.0..5.7).contains(&l0), "seed {seed}: {l0}");
    }
}

#[test]
fn short_run_writes_outputs_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = Context::for_tests(dir.path());
    ctx.seed = Some(3);
    let args = Args {
        mf_epochs: 12,
        epochs: 1,
        batch_size: 1024,
        mode: Modes::Both,
        corrected: false,
        holdout: 0.2,
        threads: 1,
    };
    let report = crate::notebooks::nb004::run(&ctx, &args).unwrap();
    let status = |q: &str| {
        report
            .checks
            .iter()
            .find(|c| c.quantity == q)
            .unwrap()
            .status
            .clone()
    };
    assert_eq!(
        status("ratings matrix shape"),
        recsys::report::Status::Exact
    );
    assert_eq!(status("print(ratings[:5])"), recsys::report::Status::Exact);
    let csv = std::fs::read_to_string(dir.path().join("answer_ratings.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 944);
    assert!(lines[0].starts_with(",1,2,3,") && lines[0].ends_with(",1682"));
    assert!(lines[1].starts_with("1,") && lines[943].starts_with("943,"));
    let values: Vec<f64> = lines[1..]
        .iter()
        .flat_map(|l| l.split(',').skip(1).map(|v| v.parse::<f64>().unwrap()))
        .collect();
    assert_eq!(values.len(), 943 * 1682);
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    assert!(
        (lo - 1.0).abs() < 1e-6 && (hi - 5.0).abs() < 1e-5,
        "{lo} {hi}"
    );
    assert!(dir.path().join("004-dense-mf-loss.png").exists());
    let d = &report.details;
    assert_eq!(d.part1.faithful_losses.len(), 12);
    let corrected = d.part2.corrected.as_ref().unwrap();
    assert_eq!(corrected.holdout_eval.unwrap().n_ratings, 20_000);
    let faithful = d.part2.faithful.as_ref().unwrap();
    assert_eq!(faithful.train_eval.n_ratings, 100_000);
    // A second run must not replace the files without --force.
    let err = crate::notebooks::nb004::run(&ctx, &args).unwrap_err();
    assert!(format!("{err:#}").contains("--force"), "{err:#}");
}

#[test]
fn the_port_prints_the_notebooks_cells_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::for_tests(dir.path());
    let args = Args {
        mf_epochs: 21,
        epochs: 2,
        batch_size: 1024,
        mode: Modes::Faithful,
        corrected: false,
        holdout: 0.2,
        threads: 1,
    };
    let report = crate::notebooks::nb004::run(&ctx, &args).unwrap();
    let (lines, at) = super::lines_in_order(
        &report.details.transcript,
        &[
            "## Matrix Factorization",
            "tensor([[ 5,  3,  4,  ..., -1, -1, -1],", // In [15]: print(ratings[:5])
            "Loss at epoch 0 = ",                      // In [17]
            "Loss at epoch 10 = ",
            "Loss at epoch 20 = ",
            "Last Loss = ",
            "#### Save the ratings:", // In [18]
            "## How to make it nonlinear and Deeper?",
            "Loss at epoch 0 = ", // In [22], every epoch
            "Loss at epoch 1 = ",
            "Last Loss = ",
            "Average loss = ", // In [23]
            "Accuracy = ",
        ],
    );
    // print(ratings[:5]) is the notebook's, line for line
    assert_eq!(
        lines[at[1]..at[1] + 5].join("\n"),
        crate::notebooks::nb004::expected::NB_FIRST_ROWS
    );
    // part 1 logs every 10th epoch only; part 2 every epoch, each as "Loss at epoch N = <float>"
    let logged = |from: usize, to: usize| -> Vec<usize> {
        lines[from..to]
            .iter()
            .filter_map(|l| l.strip_prefix("Loss at epoch "))
            .map(|l| {
                let (epoch, loss) = l.split_once(" = ").unwrap();
                assert!(loss.parse::<f64>().is_ok(), "{l}");
                epoch.parse().unwrap()
            })
            .collect()
    };
    assert_eq!(logged(at[1], at[6]), [0, 10, 20]);
    assert_eq!(logged(at[7], at[12]), [0, 1]);
    for k in [at[11], at[12]] {
        let value = lines[k].split(" = ").nth(1).unwrap();
        assert!(value.parse::<f64>().is_ok(), "{}", lines[k]);
    }
    // The whole transcript before the port's asides: the notebook's lines verbatim, its
    // stochastic values (Python floats) masked as <float>; nothing of the port's between them.
    let end = lines
        .iter()
        .position(|l| l.starts_with("---- beyond the notebook"))
        .expect("asides");
    let masked: Vec<String> = lines[..end - 1]
        .iter()
        .map(|l| match l.split_once(" = ") {
            Some((head, value)) if value.parse::<f64>().is_ok() => format!("{head} = <float>"),
            _ => l.clone(),
        })
        .collect();
    let mut expected = vec!["", "## Matrix Factorization"];
    expected.extend(crate::notebooks::nb004::expected::NB_FIRST_ROWS.lines());
    expected.extend([
        "Loss at epoch 0 = <float>",
        "Loss at epoch 10 = <float>",
        "Loss at epoch 20 = <float>",
        "Last Loss = <float>",
        "",
        "#### Save the ratings:",
        "",
        "## How to make it nonlinear and Deeper?",
        "Loss at epoch 0 = <float>",
        "Loss at epoch 1 = <float>",
        "Last Loss = <float>",
        "Average loss = <float>",
        "Accuracy = <float>",
    ]);
    assert_eq!(masked, expected);
}
