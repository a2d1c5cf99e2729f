//! Part 1 of notebook 002: explicit feedback.

use std::time::Instant;

use anyhow::{ensure, Result};
use recsys::optim::Adam;
use tch::{nn, Kind, Tensor};

use recsys::data::interactions::Interactions;
use recsys::eval::metrics::rmse;
use recsys::models::explicit::{
    regression_epoch, CollaborativeFilteringModel, ExplicitConfig, ExplicitFactorizationModel,
};
use recsys::prep::split::random::random_train_test_split;
use recsys::report::ipython::CellTimer;
use recsys::report::plot::line_chart;
use recsys::report::pyfmt::py_float;
use recsys::say;

use super::arrays::{
    float32_array, int_array, ipython_dict, ipython_tuple, torch_int_rows, torch_whole_floats,
};
use super::outcome::Part1;
use super::{fmt_list, to_f32, Args};
use crate::notebooks::transcript::{aside, Out};

// ## Part 1: Explicit feedback
pub fn part1(
    out: &Out,
    args: &Args,
    dataset: &Interactions,
    seed: u64,
    verbose: bool,
) -> Result<Part1> {
    let dev = out.ctx.device;
    tch::manual_seed(seed as i64);
    if verbose {
        say!(out, "## Part 1: Explicit feedback");
        aside!(out, "Part 1 ran with seed {seed}.");
        // In [3]: print(dataset)
        say!(out, "{dataset}");
    }
    let (train, test) = random_train_test_split(dataset, 0.2);
    if verbose {
        // In [4]: train.__dict__
        say!(out, "{}", interactions_dict(&train));
        // In [5]
        say!(
            out,
            "As an example, user {} gave {} stars to item {}.",
            train.user_ids[0],
            py_float(f64::from(train.ratings[0])),
            train.item_ids[0]
        );
        // In [6]: len(train) / len(dataset)
        say!(
            out,
            "{}",
            py_float(train.len() as f64 / dataset.len() as f64)
        );
        aside!(
            out,
            "len(train) / len(dataset): {} / {} interactions ({} in test)",
            train.len(),
            dataset.len(),
            test.len()
        );
    }

    // In [7], %%time: ExplicitFactorizationModel(n_iter=3).fit(train); rmse_score(model, test)
    let cell = CellTimer::start();
    let epochs = if args.quick { 1 } else { 3 };
    let (tr_u, tr_i, tr_r) = train.tensors(dev);
    let (te_u, te_i, te_r) = test.tensors(dev);
    let config = ExplicitConfig {
        n_iter: epochs,
        ..ExplicitConfig::default()
    };
    let mut model = ExplicitFactorizationModel::new(train.num_users, train.num_items, config, dev)?;
    let start = Instant::now();
    let spotlight_losses = model.fit(&tr_u, &tr_i, &tr_r)?;
    let fit_s = start.elapsed().as_secs_f64();
    let y_pred = model.predict(&te_u, &te_i);
    let pred_f32 = to_f32(&y_pred);
    let pred: Vec<f64> = pred_f32.iter().map(|&p| f64::from(p)).collect();
    let truth: Vec<f64> = test.ratings.iter().map(|&r| r as f64).collect();
    // Our RMSE (recsys::eval::metrics::rmse, f64 on the host) against a second implementation: the
    // notebook's `our_rmse`, ((y_true - y_pred) ** 2).mean() ** 0.5 on float32 tensors.
    let rmse_host = rmse(&pred, &truth);
    let time_lines = cell.lines();
    let rmse_tensor = (&te_r - &y_pred)
        .square()
        .mean(Kind::Float)
        .sqrt()
        .double_value(&[]);
    ensure!(
        (rmse_host - rmse_tensor).abs() < 1e-5,
        "the two RMSE implementations disagree: {rmse_host} vs {rmse_tensor}"
    );
    let mean_rating = tr_r.mean(Kind::Float);
    let baseline_rmse = (&te_r - &mean_rating)
        .square()
        .mean(Kind::Float)
        .sqrt()
        .double_value(&[]);
    if verbose {
        // rmse_score returns a numpy float32: its shortest repr.
        say!(out, "{time_lines}\n\n{}", rmse_host as f32);
        aside!(
            out,
            "ExplicitFactorizationModel(n_iter={epochs}) epoch losses: {}; fit {fit_s:.2} s",
            fmt_list(&spotlight_losses, 4)
        );
        // In [9]: y_pred
        say!(out, "{}", float32_array(&pred_f32, &[pred_f32.len()]));
        // In [10]: X_train[:5], y_train[:5]
        let x_train: Vec<Vec<i64>> = (0..5)
            .map(|k| vec![train.user_ids[k], train.item_ids[k]])
            .collect();
        say!(
            out,
            "{}",
            ipython_tuple(&[
                torch_int_rows(&x_train),
                torch_whole_floats(&train.ratings[..5])
            ])
        );
        // In [11]: our_rmse(y_test, y_pred); In [12]: the simplest baseline
        say!(out, "tensor({rmse_tensor:.4})");
        say!(out, "tensor({baseline_rmse:.4})");
        aside!(
            out,
            "our_rmse(y_test, y_pred) = {rmse_tensor:.4} on float32 tensors; \
             recsys::eval::metrics::rmse gives {rmse_host:.4}. The baseline predicts the mean \
             train rating, {:.4}.",
            mean_rating.double_value(&[])
        );
    }

    // The exercise: CollaborativeFilteringModel, embedding 20, Adam lr 0.01, weight decay 1e-3,
    // 10 epochs, batch 300; then the same without weight decay.
    let n_epochs = if args.quick { 1 } else { 10 };
    let mut curves = Vec::new();
    for weight_decay in [1e-3, 0.0] {
        let vs = nn::VarStore::new(dev);
        let cf = CollaborativeFilteringModel::new(
            &vs.root(),
            train.num_users,
            train.num_items,
            20,
            mean_rating.double_value(&[]),
        );
        let mut opt = Adam::with_weight_decay(&vs, 0.01, weight_decay)?;
        if verbose {
            aside!(out, "\nCollaborativeFilteringModel(embedding 20), Adam lr 0.01, weight decay {weight_decay}:");
        }
        let start = Instant::now();
        let (mut train_rmse, mut test_rmse) = (Vec::new(), Vec::new());
        for epoch in 1..=n_epochs {
            let loss = regression_epoch(&mut opt, &tr_u, &tr_i, &tr_r, 300, |u, i| {
                cf.predict_pairs(u, i)
            })?;
            let (tr, te) = tch::no_grad(|| {
                let rmse_of = |u: &Tensor, i: &Tensor, r: &Tensor| {
                    (r - cf.predict_pairs(u, i))
                        .square()
                        .mean(Kind::Float)
                        .sqrt()
                        .double_value(&[])
                };
                (rmse_of(&tr_u, &tr_i, &tr_r), rmse_of(&te_u, &te_i, &te_r))
            });
            if verbose {
                aside!(out, "epoch {epoch:2}: mean batch MSE {loss:.4}, train RMSE {tr:.4}, test RMSE {te:.4}");
            }
            train_rmse.push(tr);
            test_rmse.push(te);
        }
        if verbose {
            aside!(out, "Wall time: {:.2} s", start.elapsed().as_secs_f64());
        }
        curves.push((train_rmse, test_rmse));
    }
    let (no_wd, wd) = (
        curves.pop().expect("two runs"),
        curves.pop().expect("two runs"),
    );
    if verbose {
        let best = |v: &[f64]| v.iter().cloned().fold(f64::INFINITY, f64::min);
        aside!(
            out,
            "With weight decay the test RMSE ends at {:.4}; without it the train RMSE falls to {:.4} \
             while the test RMSE ends at {:.4} (best {:.4}): the model overfits.",
            wd.1.last().copied().unwrap_or(f64::NAN),
            no_wd.0.last().copied().unwrap_or(f64::NAN),
            no_wd.1.last().copied().unwrap_or(f64::NAN),
            best(&no_wd.1)
        );
        let path = out.ctx.write_output_with("002-cf-rmse.png", |p| {
            line_chart(
                p,
                "CollaborativeFilteringModel: RMSE per epoch",
                "epoch",
                "RMSE",
                &[
                    ("train, weight decay 1e-3", &wd.0),
                    ("test, weight decay 1e-3", &wd.1),
                    ("train, no weight decay", &no_wd.0),
                    ("test, no weight decay", &no_wd.1),
                ],
            )
        })?;
        aside!(out, "Plot: {}", path.display());
    }
    Ok(Part1 {
        n_train: train.len(),
        n_test: test.len(),
        spotlight_losses,
        rmse: rmse_host,
        rmse_tensor,
        baseline_rmse,
        fit_s,
        cf_train_rmse: wd.0,
        cf_test_rmse: wd.1,
        cf_no_wd_train_rmse: no_wd.0,
        cf_no_wd_test_rmse: no_wd.1,
    })
}

/// `train.__dict__` of Spotlight's `Interactions`, as the notebook's cell shows it.
pub fn interactions_dict(train: &Interactions) -> String {
    let n = train.len();
    ipython_dict(&[
        ("num_users", train.num_users.to_string()),
        ("num_items", train.num_items.to_string()),
        ("user_ids", int_array(&train.user_ids, &[n])),
        ("item_ids", int_array(&train.item_ids, &[n])),
        ("ratings", float32_array(&train.ratings, &[n])),
        ("timestamps", int_array(&train.timestamps, &[n])),
        ("weights", "None".to_string()),
    ])
}
