//! The cells notebook 003 prints besides its metrics, printed by the port in the notebook's
//! order: the sample of the training table, the demo batch of 2 and the model's logits on it,
//! the head of the test users, the embedding shapes, the score matrix (numpy's abbreviated
//! print) and the unsorted top-10 arrays. Where the numbers are random they differ from the
//! notebook's; the shapes and the layout are the notebook's. [`ScoreSummary`] holds the figures
//! of the score matrix that are set beside the notebook's printed ones.

use anyhow::Result;
use tch::{Kind, Tensor};

use crate::notebooks::transcript::Out;
use recsys::models::two_tower::TowerBatch;
use recsys::say;

/// Figures of the score matrix `user_emb[test users] @ item_emb.T` beside the notebook's print.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScoreSummary {
    /// Mean score of the items with index below `split` (the test set's distinct-item count).
    pub mean_head_items: f64,
    /// Mean score of the items with index `split` and above (never negatives when negatives
    /// are drawn from `0..split`). The notebook's printed last columns are −1.8 to −6.3.
    pub mean_tail_items: f64,
    /// The item index the two means are split at.
    pub split: i64,
    /// Smallest and largest of the printed last three columns (first and last three users);
    /// the notebook printed −6.329 and −1.788.
    pub printed_last_cols_min: f64,
    pub printed_last_cols_max: f64,
    /// Share of negative values among those 18 printed numbers (the notebook: all, 1.0).
    pub printed_last_cols_negative: f64,
    /// Smallest and largest score of the first five users' top 10 (the notebook's printed
    /// top-10 arrays: −0.0253 and 3.8768).
    pub top10_min: f64,
    pub top10_max: f64,
}

/// `2000-04-25 23:05:32` for a unix time in seconds (UTC, as `pd.to_datetime(unit='s')`).
pub fn datetime(unix_s: i64) -> String {
    recsys::data::time::format_utc(unix_s)
}

/// "Let's take a look at a sample from the training set": its first rows.
pub fn print_train_sample(ctx: &Out, head: &[[i64; 4]]) {
    say!(ctx, "sample of the training set (study.train.head()):");
    say!(
        ctx,
        "{:>5} {:>8} {:>8} {:>7}  {:<19}",
        "",
        "user_id",
        "item_id",
        "rating",
        "timestamp"
    );
    for (row, [u, i, r, t]) in head.iter().enumerate() {
        say!(ctx, "{row:>5} {u:>8} {i:>8} {r:>7}  {}", datetime(*t));
    }
}

fn rows_i64(t: &Tensor) -> Result<Vec<Vec<i64>>> {
    let t = t.to_kind(Kind::Int64).to(tch::Device::Cpu);
    Ok(Vec::<Vec<i64>>::try_from(t)?)
}

fn rows_f32(t: &Tensor) -> Result<Vec<Vec<f32>>> {
    let t = t.detach().to_kind(Kind::Float).to(tch::Device::Cpu);
    Ok(Vec::<Vec<f32>>::try_from(t)?)
}

fn print_rows<T>(ctx: &Out, name: &str, rows: &[Vec<T>], cell: impl Fn(&T) -> String) {
    say!(ctx, "  '{name}': [");
    for row in rows {
        let cells: Vec<String> = row.iter().map(&cell).collect();
        say!(ctx, "    [{}],", cells.join(", "));
    }
    say!(
        ctx,
        "  ]  shape {:?}",
        [rows.len(), rows.first().map_or(0, Vec::len)]
    );
}

/// The demo batch of 2 from `TowerTrain(study.train)`: `user_ids` `[2, 1]`, `item_ids` and
/// `labels` `[2, 1 + negatives]`.
pub fn print_demo_batch(ctx: &Out, batch: &TowerBatch) -> Result<()> {
    say!(ctx, "demo batch of 2 from TowerTrain(study.train):");
    print_rows(
        ctx,
        "user_ids",
        &rows_i64(&batch.user_ids.reshape([-1, 1]))?,
        |v| format!("{v:>4}"),
    );
    print_rows(ctx, "item_ids", &rows_i64(&batch.item_ids)?, |v| {
        format!("{v:>4}")
    });
    print_rows(ctx, "labels", &rows_f32(&batch.labels)?, |v| {
        format!("{v:.0}.")
    });
    Ok(())
}

/// The model's forward logits on the demo batch, `[2, 1 + negatives]`.
pub fn print_logits(ctx: &Out, logits: &Tensor) -> Result<()> {
    say!(ctx, "model forward on the demo batch (logits):");
    print_rows(ctx, "logits", &rows_f32(logits)?, |v| format!("{v:>8.4}"));
    Ok(())
}

/// The head of the test users (`study.test.user_id.unique()`).
pub fn print_test_users(ctx: &Out, users: &[i64]) {
    say!(ctx, "test users ({} in all), head:", users.len());
    say!(ctx, "{:>5} {:>8}", "", "user_id");
    for (row, u) in users.iter().take(5).enumerate() {
        say!(ctx, "{row:>5} {u:>8}");
    }
}

/// numpy's abbreviated print of a large matrix: the first and last three rows and columns.
pub fn print_matrix(ctx: &Out, m: &[Vec<f32>]) {
    let pick = |n: usize| -> Vec<usize> {
        if n <= 6 {
            (0..n).collect()
        } else {
            vec![0, 1, 2, n - 3, n - 2, n - 1]
        }
    };
    let cols = pick(m.first().map_or(0, Vec::len));
    let rows = pick(m.len());
    for (j, &r) in rows.iter().enumerate() {
        let cell = |c: &usize| format!("{:>11.7}", m[r][*c]);
        let left: Vec<String> = cols.iter().take(3).map(cell).collect();
        let right: Vec<String> = cols.iter().skip(3).map(cell).collect();
        let (open, close) = (
            if j == 0 { "[[" } else { " [" },
            if j + 1 == rows.len() { "]]" } else { "]" },
        );
        say!(
            ctx,
            "{open}{} ... {}{close}",
            left.join(" "),
            right.join(" ")
        );
        if j == 2 && m.len() > 6 {
            say!(ctx, " ...");
        }
    }
}

/// Sections 9.3-9.5: the embedding shapes, the score matrix, and the first five users' top-10
/// ids and scores, unsorted like `np.argpartition`'s output (here: ascending score, so the
/// largest is last). Returns the figures of [`ScoreSummary`].
pub fn print_scores(
    ctx: &Out,
    label: &str,
    user_emb: &Tensor,
    item_emb: &Tensor,
    users: &[i64],
    k: usize,
    split: i64,
) -> Result<ScoreSummary> {
    say!(ctx, "[{label}] ### 9.3 | Extract Weights");
    say!(
        ctx,
        "user_embed.shape, item_embed.shape = ({:?}, {:?})",
        user_emb.size(),
        item_emb.size()
    );
    let ids = Tensor::from_slice(users).to(user_emb.device());
    let scores = rows_f32(&user_emb.index_select(0, &ids).matmul(&item_emb.tr()))?;
    say!(
        ctx,
        "[{label}] ### 9.4 | Scalar product: scores {:?}",
        [scores.len(), scores.first().map_or(0, Vec::len)]
    );
    print_matrix(ctx, &scores);
    let n_items = scores.first().map_or(0, Vec::len);
    let split_at = (split.max(0) as usize).min(n_items);
    let (mut head, mut tail) = ((0.0, 0usize), (0.0, 0usize));
    for row in &scores {
        head.0 += row[..split_at].iter().map(|&v| f64::from(v)).sum::<f64>();
        tail.0 += row[split_at..].iter().map(|&v| f64::from(v)).sum::<f64>();
        head.1 += split_at;
        tail.1 += n_items - split_at;
    }
    let printed_rows: Vec<usize> = if scores.len() > 6 {
        let n = scores.len();
        vec![0, 1, 2, n - 3, n - 2, n - 1]
    } else {
        (0..scores.len()).collect()
    };
    let last: Vec<f64> = printed_rows
        .iter()
        .flat_map(|&r| {
            scores[r][n_items.saturating_sub(3)..]
                .iter()
                .map(|&v| f64::from(v))
        })
        .collect();
    say!(
        ctx,
        "[{label}] ### 9.5 | Get highest scores: the first 5 users' top {k}, unsorted"
    );
    let mut top_ids = Vec::new();
    let mut top_scores = Vec::new();
    for row in scores.iter().take(5) {
        let mut best = recsys::eval::metrics::top_k(row, k);
        best.reverse(); // ascending score, largest last
        top_ids.push(best.iter().map(|&i| i as i64).collect::<Vec<_>>());
        top_scores.push(best.iter().map(|&i| row[i]).collect::<Vec<_>>());
    }
    print_rows(ctx, "ids", &top_ids, |v| format!("{v:>4}"));
    print_rows(ctx, "scores", &top_scores, |v| format!("{v:>11.8}"));
    let flat: Vec<f64> = top_scores.iter().flatten().map(|&v| f64::from(v)).collect();
    let fold = |init: f64, f: fn(f64, f64) -> f64, v: &[f64]| v.iter().copied().fold(init, f);
    Ok(ScoreSummary {
        mean_head_items: head.0 / head.1.max(1) as f64,
        mean_tail_items: tail.0 / tail.1.max(1) as f64,
        split,
        printed_last_cols_min: fold(f64::INFINITY, f64::min, &last),
        printed_last_cols_max: fold(f64::NEG_INFINITY, f64::max, &last),
        printed_last_cols_negative: last.iter().filter(|&&v| v < 0.0).count() as f64
            / last.len().max(1) as f64,
        top10_min: fold(f64::INFINITY, f64::min, &flat),
        top10_max: fold(f64::NEG_INFINITY, f64::max, &flat),
    })
}
