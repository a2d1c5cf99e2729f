//! The cells notebook 003 prints besides its metrics, printed by the port in the notebook's
//! order: the sample of the training table, the demo batch of 2 and the model's logits on it,
//! the head of the test users, the embedding shapes, the score matrix (numpy's abbreviated
//! print) and the unsorted top-10 arrays. Where the numbers are random they differ from the
//! notebook's; the shapes and the layout are the notebook's. [`ScoreSummary`] holds the figures
//! of the score matrix that are set beside the notebook's printed ones.

use anyhow::Result;
use tch::{Kind, Tensor};

use crate::notebooks::transcript::{aside, Out};
use recsys::models::two_tower::TowerBatch;
use recsys::report::argpartition::argpartition;
use recsys::report::{ipython, numpy, pandas, torch};
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
    /// The first five users' top k (item index, score), in `np.argpartition`'s order: the rows
    /// the notebook prints, and the order of its recommendations' head.
    #[serde(skip)]
    pub top_in_numpy_order: Vec<Vec<(i64, f32)>>,
}

/// `2000-04-25 23:05:32` for a unix time in seconds (UTC, as `pd.to_datetime(unit='s')`).
pub fn datetime(unix_s: i64) -> String {
    recsys::data::time::format_utc(unix_s)
}

/// `help(TimeSplitter)` as the notebook shows it: RePlay's class line and signature, quoted
/// verbatim (RePlay is not a dependency; the port's splitter is `recsys::prep::split::time`).
pub const HELP_TIME_SPLITTER: &str =
    "class TimeSplitter(replay.splitters.base_splitter.Splitter)\n \
     |  TimeSplitter(time_threshold: Union[datetime.datetime, str, float], query_column: str = \
     'query_id', drop_cold_users: bool = False, drop_cold_items: bool = False, item_column: str = \
     'item_id', timestamp_column: str = 'timestamp', session_id_column: Optional[str] = None, \
     session_id_processing_strategy: str = 'test', time_column_format: str = '%Y-%m-%d %H:%M:%S')";

/// "Let's take a look at a sample from the training set": its first rows, as pandas prints
/// them, with their row labels (the lines of u.data they came from).
pub fn print_train_sample(ctx: &Out, head: &[[i64; 4]], labels: &[i64]) {
    let col = |k: usize| -> Vec<i64> { head.iter().map(|r| r[k]).collect() };
    let index: Vec<String> = labels.iter().map(i64::to_string).collect();
    let frame = pandas::frame(
        &index,
        &[
            pandas::Column::ints("user_id", &col(0)),
            pandas::Column::ints("item_id", &col(1)),
            pandas::Column::ints("rating", &col(2)),
            pandas::Column::datetimes(
                "timestamp",
                &head.iter().map(|r| datetime(r[3])).collect::<Vec<_>>(),
            ),
        ],
    );
    say!(ctx, "{frame}");
    aside!(
        ctx,
        "The notebook's printed sample (user 5399, rows labelled 1000138 and on, dates of April \
         2000) is not ml-100k's: those labels, users and dates only exist in MovieLens-1M \
         (1,000,209 ratings, 6,040 users, 2000-2003), so that cell's output was left from a run \
         on ml-1m. The port prints ml-100k's rows, which the notebook's code selects."
    );
}

/// A tensor's values as f64 (ints exactly), row-major, and its shape.
fn values(t: &Tensor) -> Result<(Vec<f64>, Vec<usize>)> {
    let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
    let flat = t
        .detach()
        .to_kind(Kind::Double)
        .to(tch::Device::Cpu)
        .reshape([-1]);
    Ok((Vec::<f64>::try_from(flat)?, shape))
}

/// `repr` of a tensor as torch prints it, with the notebook's dtype.
fn repr(t: &Tensor, dtype: torch::Dtype, grad_fn: Option<&str>) -> Result<String> {
    let (v, shape) = values(t)?;
    Ok(torch::tensor_repr(&v, &shape, dtype, grad_fn))
}

/// The demo batch of 2 from `TowerTrain(study.train)`, the dict of tensors IPython shows:
/// `user_ids` `[2, 1]` int32, `item_ids` and `labels` `[2, 1 + negatives]`.
pub fn print_demo_batch(ctx: &Out, batch: &TowerBatch) -> Result<()> {
    let dict = ipython::dict(&[
        (
            "user_ids",
            repr(&batch.user_ids.reshape([-1, 1]), torch::Dtype::Int32, None)?,
        ),
        (
            "item_ids",
            repr(&batch.item_ids, torch::Dtype::Int64, None)?,
        ),
        ("labels", repr(&batch.labels, torch::Dtype::Float32, None)?),
    ]);
    say!(ctx, "{dict}");
    Ok(())
}

/// `repr(model)`: the two towers of embeddings.
pub fn model_repr(n_users: i64, n_items: i64, dim: i64) -> String {
    let tower = |n: i64| {
        torch::Module::node(
            "SimpleTower",
            vec![(
                "emb".into(),
                torch::Module::leaf("Embedding", format!("{n}, {dim}")),
            )],
        )
    };
    torch::Module::node(
        "BaseTwoHead",
        vec![
            ("user_tower".into(), tower(n_users)),
            ("item_tower".into(), tower(n_items)),
        ],
    )
    .repr()
}

/// The model's forward logits on the demo batch, `[2, 1 + negatives]`, with the `grad_fn` of
/// the notebook's `.sum(dim=-1)`.
pub fn print_logits(ctx: &Out, logits: &Tensor) -> Result<()> {
    say!(
        ctx,
        "{}",
        repr(logits, torch::Dtype::Float32, Some("SumBackward1"))?
    );
    Ok(())
}

/// The head of the test users (`test_users.head()`, a frame of `user_id`).
pub fn print_test_users(ctx: &Out, users: &[i64]) {
    let head: Vec<i64> = users.iter().take(5).copied().collect();
    let frame = pandas::frame(
        &pandas::range_index(head.len()),
        &[pandas::Column::ints("user_id", &head)],
    );
    say!(ctx, "{frame}");
}

fn rows_f32(t: &Tensor) -> Result<Vec<Vec<f32>>> {
    let t = t.detach().to_kind(Kind::Float).to(tch::Device::Cpu);
    Ok(Vec::<Vec<f32>>::try_from(t)?)
}

/// A float32 matrix, row-major, as f64.
fn flat(m: &[Vec<f32>]) -> (Vec<f64>, Vec<usize>) {
    let shape = vec![m.len(), m.first().map_or(0, Vec::len)];
    (m.iter().flatten().map(|&v| f64::from(v)).collect(), shape)
}

/// Sections 9.3-9.5: the embedding shapes, the score matrix, and the first five users' top-10
/// ids and scores in `np.argpartition`'s own order (numpy's introselect, reproduced by
/// [`argpartition`]). Returns the figures of [`ScoreSummary`].
pub fn print_scores(
    ctx: &Out,
    label: &str,
    user_emb: &Tensor,
    item_emb: &Tensor,
    users: &[i64],
    k: usize,
    split: i64,
) -> Result<ScoreSummary> {
    let shape = |t: &Tensor| {
        let d = t.size();
        format!("({}, {})", d[0], d[1])
    };
    say!(ctx, "### 9.3 | Extract Weights");
    // user_embed.shape, item_embed.shape
    say!(ctx, "({}, {})", shape(user_emb), shape(item_emb));
    let ids = Tensor::from_slice(users).to(user_emb.device());
    let scores = rows_f32(&user_emb.index_select(0, &ids).matmul(&item_emb.tr()))?;
    say!(ctx, "### 9.4 | Scalar product");
    aside!(
        ctx,
        "[{label}] scores: {} test users x {} items",
        scores.len(),
        scores.first().map_or(0, Vec::len)
    );
    let (v, dims) = flat(&scores);
    say!(
        ctx,
        "{}",
        numpy::array_str(&v, &dims, numpy::Dtype::Float32)
    );
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
    say!(ctx, "### 9.5 | Get highest scores");
    aside!(
        ctx,
        "[{label}] the first 5 users' top {k} scores, in np.argpartition's order (numpy's \
         introselect, reproduced)"
    );
    let mut top_ids = Vec::new();
    let mut top_scores = Vec::new();
    let mut top_in_numpy_order = Vec::new();
    for row in scores.iter().take(5) {
        let k = k.min(row.len());
        let ids = argpartition(row, row.len() - k);
        let top: Vec<(i64, f32)> = ids[row.len() - k..]
            .iter()
            .map(|&i| (i as i64, row[i]))
            .collect();
        top_ids.push(top.iter().map(|p| p.0).collect::<Vec<_>>());
        top_scores.push(top.iter().map(|p| p.1).collect::<Vec<_>>());
        top_in_numpy_order.push(top);
    }
    aside!(ctx, "[{label}] their item ids: {top_ids:?}");
    let (v, dims) = flat(&top_scores);
    say!(
        ctx,
        "{}",
        numpy::array_repr(&v, &dims, numpy::Dtype::Float32)
    );
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
        top_in_numpy_order,
    })
}
