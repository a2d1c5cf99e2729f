//! Part 2 of notebook 002: implicit feedback, sequence models.

use std::time::Instant;

use anyhow::Result;
use tch::Kind;

use recsys::data::interactions::Interactions;
use recsys::eval::next_item::{
    item_counts, label_ranking_average_precision, most_common_item, reciprocal_ranks, softmax,
};
use recsys::models::sequence::{ImplicitSequenceModel, Representation, SequenceConfig};
use recsys::prep::sequence::{to_sequences, Sequences};
use recsys::prep::split::random::user_based_train_test_split;
use recsys::report::ipython::CellTimer;
use recsys::report::pyfmt::py_float;
use recsys::say;

use super::arrays::{float32_array, int_array, ipython_dict};
use super::outcome::{ModelRun, Part2};
use super::{fmt_list, lrap_constant, mean, to_f32, Args};
use crate::notebooks::transcript::{aside, Out};

// ## Part 2: Implicit feedback
pub fn part2(
    out: &Out,
    args: &Args,
    dataset: &Interactions,
    seed: u64,
    verbose: bool,
) -> Result<Part2> {
    let dev = out.ctx.device;
    tch::manual_seed(seed as i64);
    // In [17], %%time: the split, to_sequence(), ImplicitSequenceModel(n_iter=3,
    // representation='pooling', loss='pointwise').fit(train), sequence_mrr_score(...).mean()
    let cell = CellTimer::start();
    let (train, test, hash_seed) = user_based_train_test_split(dataset, 0.2);
    let distinct = |i: &Interactions| {
        i.user_ids
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    let train_seqs = to_sequences(&train, 10, 10)?;
    let test_seqs = to_sequences(&test, 10, 10)?;
    if verbose {
        say!(out, "\n## Part 2: Implicit feedback");
        aside!(
            out,
            "Part 2 ran with seed {seed}; user_based_train_test_split (hash seed {hash_seed}): \
             train {} interactions of {} users, test {} of {} users",
            train.len(),
            distinct(&train),
            test.len(),
            distinct(&test)
        );
    }
    let train_t = train_seqs.tensor(dev);
    let test_t = test_seqs.tensor(dev);
    let prefixes = test_t.narrow(1, 0, 9); // seq[:-1]
    let targets = test_seqs.last_items(); // seq[-1]
    let num_items = dataset.num_items as usize;

    let pool_epochs = if args.quick { 1 } else { 3 };
    let mut models = Vec::new();
    let mut pooling = ImplicitSequenceModel::new(
        dataset.num_items,
        SequenceConfig::spotlight_pooling(pool_epochs),
        dev,
    )?;
    let start = Instant::now();
    let losses = pooling.fit(&train_t)?;
    let train_s = start.elapsed().as_secs_f64();
    let scores = pooling.score_next(&prefixes);
    let mrr = mean(&reciprocal_ranks(&to_f32(&scores), num_items, &targets));
    let time_lines = cell.lines();
    if verbose {
        say!(out, "{time_lines}\n\n{}", py_float(mrr));
        aside!(
            out,
            "pooling epoch losses (pointwise): {}; fit {train_s:.2} s",
            fmt_list(&losses, 4)
        );
        // In [18]: train; In [19]: train.__dict__
        say!(out, "{train_seqs}");
        say!(out, "{}", sequences_dict(&train_seqs));
        aside!(out, "test = {test_seqs}");
    }
    models.push(ModelRun {
        model: "pooling".into(),
        mrr,
        train_s,
        losses,
    });

    // MRR again as label ranking average precision, on softmax probabilities (float32).
    let probs_f32 = to_f32(&scores.softmax(-1, Kind::Float));
    let probs: Vec<f64> = probs_f32.iter().map(|&p| f64::from(p)).collect();
    let one_hot: Vec<Vec<usize>> = targets.iter().map(|&t| vec![t as usize]).collect();
    let lrap_pooling = label_ranking_average_precision(&probs, num_items, &one_hot);
    if verbose {
        // In [20]: target.shape
        say!(out, "({}, {num_items})", targets.len());
        // In [21]: y_pred.round(2); numpy rounds float32 halves to even.
        let rounded: Vec<f32> = probs_f32
            .iter()
            .map(|&p| (p * 100.0).round_ties_even() / 100.0)
            .collect();
        say!(
            out,
            "{}",
            float32_array(&rounded, &[targets.len(), num_items])
        );
        // In [22]: label_ranking_average_precision_score(target, y_pred)
        say!(out, "{}", py_float(lrap_pooling));
        aside!(
            out,
            "LRAP equals the MRR again (difference {:.1e}).",
            (lrap_pooling - mrr).abs()
        );
    }

    // The baselines: counts of the last item of each train sequence.
    let last_train = train_seqs.last_items();
    let popular = most_common_item(&last_train).expect("train sequences are not empty");
    let mut one = vec![0.0; num_items];
    one[popular as usize] = 1.0;
    let most_popular = lrap_constant(&one, &one_hot);
    let popularity = softmax(&item_counts(&last_train, num_items));
    let softmax_popularity = lrap_constant(&popularity, &one_hot);
    if verbose {
        // In [23] and In [24]: the baselines
        say!(out, "{}", py_float(most_popular));
        say!(out, "{}", py_float(softmax_popularity));
        aside!(
            out,
            "most popular last item: {popular} ({} times); most-popular baseline LRAP \
             {most_popular}, softmax-popularity baseline LRAP {softmax_popularity}",
            last_train.iter().filter(|&&i| i == popular).count()
        );
    }

    // The exercise: next-item models with cross-entropy. Each is seeded on its own
    // (seed + 1000 * k, k = 1 CBOW, 2 GRU, 3 LSTM) so its numbers do not depend on which others run.
    for &rep in &args.models {
        if rep == Representation::Pooling {
            continue;
        }
        let k = match rep {
            Representation::Cbow => 1,
            Representation::Gru => 2,
            _ => 3,
        };
        tch::manual_seed(seed as i64 + 1000 * k);
        let mut config = SequenceConfig::cross_entropy(rep);
        config.n_iter = if args.quick { 1 } else { args.seq_epochs };
        let mut model = ImplicitSequenceModel::new(dataset.num_items, config, dev)?;
        let start = Instant::now();
        let mut losses = Vec::new();
        let bar = recsys::runtime::progress::epoch_bar(config.n_iter as u64, rep.name());
        for _ in 0..config.n_iter {
            losses.push(model.fit_epoch(&train_t)?);
            bar.set_message(format!("loss {:.4}", losses.last().unwrap()));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let train_s = start.elapsed().as_secs_f64();
        let mrr = mean(&reciprocal_ranks(
            &to_f32(&model.score_next(&prefixes)),
            num_items,
            &targets,
        ));
        if verbose {
            aside!(
                out,
                "{}: epoch losses (cross-entropy) {}; MRR {mrr:.4}; {train_s:.1} s",
                rep.name(),
                fmt_list(&losses, 3)
            );
        }
        models.push(ModelRun {
            model: rep.name().into(),
            mrr,
            train_s,
            losses,
        });
    }
    if verbose {
        for m in &models {
            aside!(
                out,
                "{:8} MRR {:.4}  train {:6.1} s",
                m.model,
                m.mrr,
                m.train_s
            );
        }
    }
    Ok(Part2 {
        hash_seed,
        train_users: distinct(&train),
        test_users: distinct(&test),
        train_sequences: train_seqs.len(),
        test_sequences: test_seqs.len(),
        lrap_pooling,
        most_popular_item: popular,
        most_popular,
        softmax_popularity,
        models,
    })
}

/// `train.__dict__` of Spotlight's `SequenceInteractions`, as the notebook's cell shows it.
pub fn sequences_dict(seqs: &Sequences) -> String {
    ipython_dict(&[
        (
            "sequences",
            int_array(&seqs.items, &[seqs.len(), seqs.max_len]),
        ),
        ("user_ids", int_array(&seqs.user_ids, &[seqs.len()])),
        ("max_sequence_length", seqs.max_len.to_string()),
        ("num_items", seqs.num_items.to_string()),
    ])
}
