//! End-to-end tests of notebook 000's port on the shipped ml-latest-small copy.

use crate::notebooks::nb000::{self, Args};
use recsys::models::mf::{self, MatrixFactorization, PairScorer};
use recsys::models::neumf::{NeuMF, NeuMFConfig};
use recsys::optim::Adam;
use recsys::report::Status;
use recsys::Context;
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};

fn args(epochs: usize, sampled_epochs: usize) -> Args {
    Args {
        epochs,
        sampled_epochs,
        batch_size: 64,
        lr: 1e-3,
        factors: 20,
        utc_offset: "+01:00".into(),
        split_date: "1970-01-18".into(),
        corrected: false,
        compare_modes: false,
        no_neumf: true,
        neumf_layers: 3,
        threads: 1,
    }
}

fn check<'a, D>(
    report: &'a recsys::report::Report<D>,
    quantity: &str,
) -> &'a recsys::report::Check {
    report
        .checks
        .iter()
        .find(|c| c.quantity == quantity)
        .unwrap_or_else(|| panic!("no check {quantity:?}"))
}

/// The deterministic numbers of REFERENCE.md, section 000, and a short training run.
#[test]
fn deterministic_numbers_match_the_notebook() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::for_tests(dir.path());
    let report = nb000::run(&ctx, &args(1, 1)).unwrap();
    let expected = [
        (
            "ratings shape, interactions shape",
            "((100836, 6), (61716, 6))",
        ),
        ("interactions users, movies", "(609, 7363)"),
        ("train rows", "51431"),
        ("test rows", "10285"),
        ("train max datetime", "1970-01-17 23:59:44.741000"),
        ("test min datetime", "1970-01-18 00:04:28.014000"),
        ("n_users, n_items", "(532, 6236)"),
        ("test rows after merge", "803"),
        ("test users", "26"),
        ("batches per epoch (no sampling)", "804"),
        ("batches per epoch (sampling)", "1608"),
    ];
    for (q, v) in expected {
        let c = check(&report, q);
        assert_eq!(c.this_run, v, "{q}");
        assert_eq!(c.status, Status::Exact, "{q}");
    }
    let mf = &report.details.modes[0].mf;
    assert_eq!(mf.unsampled_training.steps, 804);
    assert_eq!(mf.sampled_training.steps, 1608);
    assert!(mf.unsampled_training.steps_per_s > 0.0);
    // Everything the notebook writes: two plots; and every run's losses beside them.
    assert!(dir.path().join("000-interactions-per-day.png").exists());
    assert!(dir.path().join("000-loss-per-epoch.png").exists());
    assert!(dir.path().join("000-loss-per-epoch-all.png").exists());
}

/// The notebook's cells alone, in its order (2 epochs without sampling, 1 with): the
/// deterministic ones verbatim, the stochastic ones in the notebook's form, tqdm's last lines 119
/// columns wide; the port's notes and NeuMF (the notebook's TODO) only after the transcript.
#[test]
fn the_port_prints_the_notebooks_cells_in_order() {
    use crate::notebooks::transcript::ASIDES_HEADER;
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::for_tests(dir.path());
    let mut a = args(2, 1);
    a.no_neumf = false;
    let report = nb000::run(&ctx, &a).unwrap();
    let all = &report.details.modes[0].transcript;
    let end = all.iter().position(|l| l == ASIDES_HEADER).expect("asides");
    let cells = &all[..end];
    // tqdm's bar fills what its text leaves of the 119 columns: 79 blocks at the notebook's
    // rates (804 steps, 397.20it/s), fewer at a faster one
    let bar = || format!("100%|{}", "█".repeat(60));
    let recall = ["Recall@5 = 0.", "Recall@10 = 0.", "Recall@30 = 0."];
    // (text, verbatim or a prefix)
    let mut expected: Vec<(String, bool)> = [
        "## Read the data",
        "   userId  movieId  rating  timestamp\n\
         0       1        1     4.0  964982703\n\
         1       1        3     4.0  964981247\n\
         2       1        6     4.0  964982224\n\
         3       1       47     5.0  964983815\n\
         4       1       50     5.0  964982931",
        "((100836, 6), (61716, 6))",
        "(609, 7363)",
        "## Split the data",
        "(Timestamp('1970-01-17 23:59:44.741000'),\n 51431,\n \
         Timestamp('1970-01-18 00:04:28.014000'),\n 10285)",
        "(532, 6236)",
        "Test n obs before merge = 10285",
        "Test n obs after merge = 803",
        "## Model",
        "### Matrix Factorization",
        "## Evaluation",
    ]
    .iter()
    .map(|t| (t.to_string(), true))
    .collect();
    let prefixes = |e: &mut Vec<(String, bool)>, p: &[&str]| {
        e.extend(p.iter().map(|t| (t.to_string(), false)))
    };
    let verbatim =
        |e: &mut Vec<(String, bool)>, p: &[&str]| e.extend(p.iter().map(|t| (t.to_string(), true)));
    prefixes(&mut expected, &recall);
    verbatim(
        &mut expected,
        &[
            "## Training",
            "### Train without sampling",
            "Running epoch 1",
        ],
    );
    expected.push((bar(), false));
    prefixes(&mut expected, &["Avg loss after epoch 1, is equal to 1."]);
    verbatim(&mut expected, &["Running epoch 2"]);
    expected.push((bar(), false));
    prefixes(&mut expected, &["Avg loss after epoch 2, is equal to 1."]);
    prefixes(&mut expected, &recall);
    verbatim(
        &mut expected,
        &["### Train with sampling", "Running epoch 1"],
    );
    expected.push((bar(), false));
    prefixes(
        &mut expected,
        &["Avg loss after epoch 1, is equal to 1.", "[1."],
    );
    prefixes(&mut expected, &recall);
    verbatim(&mut expected, &["## Conclusions"]);
    assert_eq!(cells.len(), expected.len(), "{cells:#?}");
    for (cell, (text, exact)) in cells.iter().zip(&expected) {
        if *exact {
            assert_eq!(cell, text);
        } else {
            assert!(
                cell.starts_with(text.as_str()),
                "{cell:?} does not start with {text:?}"
            );
        }
    }
    for line in cells.iter().filter(|l| l.starts_with("100%|")) {
        assert_eq!(line.chars().count(), 119, "{line}");
    }
    let steps: Vec<&str> = cells
        .iter()
        .filter(|l| l.starts_with("100%|"))
        .map(|l| {
            if l.contains("| 804/804 [") {
                "804"
            } else {
                "other"
            }
        })
        .collect();
    assert_eq!(steps, ["804", "804", "other"]);
    assert!(cells.iter().any(|l| l.contains("| 1608/1608 [")));
    // The port's notes and NeuMF come after the transcript, its heading on a line of its own.
    let asides = &all[end..];
    let beyond = asides
        .iter()
        .position(|l| l == "beyond the notebook: NeuMF (the notebook's TODO)")
        .expect("the NeuMF heading");
    assert!(asides[..beyond].iter().all(|l| !l.contains("NeuMF(")));
    for needle in [
        "Question (answer TODO in the notebook)",
        "000-interactions-per-day.png",
        "000-loss-per-epoch.png",
        "NeuMF(factors=20, mlp_layers=3), untrained:",
        "plot (every run, beyond the notebook): ",
    ] {
        assert!(asides.iter().any(|a| a.contains(needle)), "{needle}");
    }
    let bars = |n: &str| {
        asides[beyond..]
            .iter()
            .filter(|l| l.starts_with("100%|") && l.contains(&format!("| {n}/{n} [")))
            .count()
    };
    assert_eq!((bars("804"), bars("1608")), (2, 1));
}

/// IPython shows the list `train_fn` returns one item a line when it is long (the notebook's
/// ten epochs with sampling).
#[test]
fn train_fns_list_as_ipython_shows_it() {
    use recsys::report::pyfmt::{pprint_list, py_float};
    let losses = [
        1.8401469694075152,
        1.7137992132957025,
        1.5994389081315272,
        1.4974245762113478,
        1.4064033063163461,
        1.325462870603762,
        1.253332562595254,
        1.188744532304809,
        1.1305756301026175,
        1.077807324660899,
    ];
    let items: Vec<String> = losses.iter().map(|&v| py_float(v)).collect();
    assert_eq!(
        pprint_list(&items),
        "[1.8401469694075152,\n 1.7137992132957025,\n 1.5994389081315272,\n \
         1.4974245762113478,\n 1.4064033063163461,\n 1.325462870603762,\n 1.253332562595254,\n \
         1.188744532304809,\n 1.1305756301026175,\n 1.077807324660899]"
    );
}

/// Under UTC the per-day counts move, which is why the offset is a setting.
#[test]
fn utc_offset_moves_the_split() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::for_tests(dir.path());
    let mut a = args(0, 0);
    a.utc_offset = "Z".into();
    let report = nb000::run(&ctx, &a).unwrap();
    assert_ne!(check(&report, "train rows").this_run, "51431");
    let mut bad = args(0, 0);
    bad.utc_offset = "one hour".into();
    assert!(nb000::run(&ctx, &bad)
        .unwrap_err()
        .to_string()
        .contains("--utc-offset"));
}

/// The corrected mode splits at the same instant in real time: same rows, real dates; its
/// test negatives avoid every item the user liked.
#[test]
fn corrected_mode_keeps_the_split_with_real_dates() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::for_tests(dir.path());
    let mut a = args(0, 0);
    a.corrected = true;
    let report = nb000::run(&ctx, &a).unwrap();
    assert_eq!(check(&report, "train rows").this_run, "51431");
    assert_eq!(check(&report, "test rows after merge").this_run, "803");
    let max = &check(&report, "train max datetime (corrected)").this_run;
    assert!(max.starts_with("2016-06-06"), "{max}");
    assert!(dir.path().join("000-corrected-loss-per-epoch.png").exists());
}

/// The full-batch loss before and after `epochs` epochs of the port's loop
/// ([`mf::bce_epoch`], shuffled batches of 4) on a tiny hand-made data set.
fn short_training(model: &dyn PairScorer, vs: &nn::VarStore, epochs: usize) -> (f64, f64) {
    let mut opt = Adam::new(vs, 1e-2).unwrap();
    let users = Tensor::from_slice(&[0i64, 1, 2, 3, 0, 1, 2, 3]);
    let items = Tensor::from_slice(&[0i64, 1, 2, 3, 4, 5, 6, 7]);
    let targets = Tensor::from_slice(&[1f32, 1., 1., 1., 0., 0., 0., 0.]);
    let loss = || {
        model
            .score(&users, &items)
            .binary_cross_entropy_with_logits::<Tensor>(&targets, None, None, Reduction::Mean)
            .double_value(&[])
    };
    let first = loss();
    let mut steps = 0;
    for _ in 0..epochs {
        let step_losses = mf::bce_epoch(model, &mut opt, (&users, &items, &targets), 4, || {
            steps += 1
        })
        .unwrap();
        assert_eq!(step_losses.size(), vec![2], "two batches of 4 per epoch");
    }
    assert_eq!(steps, 2 * epochs);
    (first, loss())
}

#[test]
fn short_training_lowers_the_loss_for_mf_and_neumf() {
    tch::manual_seed(7);
    let vs = nn::VarStore::new(Device::Cpu);
    let mf = MatrixFactorization::new(&vs.root(), 4, 8, 8);
    let (before, after) = short_training(&mf, &vs, 25);
    assert!(after < before * 0.5, "MF loss {before} -> {after}");

    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = NeuMFConfig {
        factors: 8,
        mlp_layers: 2,
        embedding_std: 0.01,
    };
    let neumf = NeuMF::new(&vs.root(), 4, 8, cfg);
    let (before, after) = short_training(&neumf, &vs, 50);
    assert!(after < before * 0.5, "NeuMF loss {before} -> {after}");
}

#[test]
fn neumf_forward_shapes_and_device() {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let m = NeuMF::new(&vs.root(), 10, 20, NeuMFConfig::default());
    let users = Tensor::randint(10, [33], (Kind::Int64, Device::Cpu));
    let items = Tensor::randint(20, [33], (Kind::Int64, Device::Cpu));
    let s = m.score(&users, &items);
    assert_eq!(s.size(), vec![33]);
    assert_eq!(s.kind(), Kind::Float);
    assert_eq!(s.device(), Device::Cpu);
}

/// A full-length MF run (the notebook's 20 + 10 epochs) lands inside every band measured over
/// five seeds (recall at 5/10/30 for the three stages, first and last printed losses).
#[test]
fn full_mf_run_lands_in_the_measured_bands() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = Context::for_tests(dir.path());
    ctx.seed = Some(11);
    let report = nb000::run(&ctx, &args(20, 10)).unwrap();
    let banded: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.quantity.contains("Recall") || c.quantity.contains("loss"))
        .collect();
    assert_eq!(banded.len(), 13);
    for c in banded {
        assert!(matches!(c.status, Status::WithinBand { .. }), "{c:?}");
    }
}

/// The bands cannot be passed by a model that never learned: the recall bands alone could
/// (they hold the untrained values, see `expected.rs`), the loss bands cannot. A run at a
/// learning rate of 1e-12 trains nothing; its printed running mean, repeated as a model that
/// never learns would print it for the notebook's 20 and 10 epochs, is set against the
/// notebook's bands, and both last-epoch loss checks must fail.
#[test]
fn a_model_that_never_learned_fails_the_loss_bands() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = Context::for_tests(dir.path());
    ctx.seed = Some(11);
    let mut frozen = args(1, 1);
    frozen.lr = 1e-12;
    let report = nb000::run(&ctx, &frozen).unwrap();
    let mut outcome = report.details.modes[0].clone();
    for (log, epochs) in [
        (&mut outcome.mf.unsampled_training, 20),
        (&mut outcome.mf.sampled_training, 10),
    ] {
        let first = log.printed[0];
        log.printed = vec![first; epochs];
    }
    let checks = nb000::expected::checks(&args(20, 10), &outcome);
    let status = |q: &str| {
        &checks
            .iter()
            .find(|c| c.quantity == q)
            .unwrap_or_else(|| panic!("no check {q:?}"))
            .status
    };
    for q in [
        "avg loss after epoch 20 (no sampling)",
        "avg loss after epoch 10 (sampling)",
    ] {
        assert!(
            matches!(status(q), Status::Differs { .. }),
            "{q}: {:?}",
            status(q)
        );
    }
}

/// Trained without sampling, MF ranks the test positives better than untrained: Recall@30
/// averaged over four seeds (the notebook's own code: 0.380 ± 0.032 trained, 0.311 ± 0.039
/// untrained over 12 seeds). One seed could land either way, so this takes the mean. (Trained
/// with sampling it does not beat untrained in the notebook's code either: 0.307 vs 0.311.)
#[test]
fn trained_beats_untrained_over_several_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = Context::for_tests(dir.path());
    ctx.force = true; // each seed writes the same plots
    let seeds = [1u64, 2, 3, 4];
    let mut gains = Vec::new();
    for seed in seeds {
        ctx.seed = Some(seed);
        let report = nb000::run(&ctx, &args(20, 0)).unwrap();
        let mf = &report.details.modes[0].mf;
        let recall = |m: &recsys::eval::sampled::SampledMetrics| m.recall_at(30).unwrap();
        gains.push(recall(&mf.trained_unsampled) - recall(&mf.untrained));
    }
    let mean_gain = gains.iter().sum::<f64>() / gains.len() as f64;
    eprintln!("trained minus untrained Recall@30 per seed: {gains:?}");
    assert!(
        mean_gain > 0.03,
        "trained Recall@30 minus untrained, per seed {gains:?}, mean {mean_gain:.3}"
    );
}
