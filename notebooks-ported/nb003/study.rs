//! Notebook 003's data: RePlay-style preprocessing of MovieLens 100k into a time split, and
//! the evaluation of top-k lists (NDCG, HitRate, Coverage) and of a popularity baseline.

use std::collections::{HashMap, HashSet};

use anyhow::Result;

use polars::prelude::Column;
use recsys::data::Dataset;
use recsys::eval::metrics::{coverage_at_k, hit_rate_at_k, mean_over_users, ndcg_at_k};
use recsys::prep::filters::{low_rating_filter, min_count_filter};
use recsys::prep::split::time::TimeSplitter;
use recsys::prep::{i64_values, IdMap};
use recsys::Context;

/// The preprocessed data: encoded train and (filtered) test interactions.
pub struct Study {
    /// Encoded (user, item) of the train split, in time order.
    pub train: Vec<(i64, i64)>,
    /// Encoded (user, item) of the test split after the cold drop and LowRatingFilter(4).
    pub test: Vec<(i64, i64)>,
    /// Label encoder of users (sorted ids, like sklearn's LabelEncoder), fitted on train.
    pub users: IdMap,
    /// Label encoder of items, fitted on train.
    pub items: IdMap,
    /// Row counts along the way, for printing and checks.
    pub sizes: Sizes,
    /// The first rows of the train split in time order, as the notebook's sample of it shows
    /// them: encoded user, encoded item, rating, unix timestamp.
    pub train_head: Vec<[i64; 4]>,
    /// Their row labels: each row's line in u.data (0-based), the index pandas keeps through
    /// the filters and the split and prints beside the sample.
    pub train_head_labels: Vec<i64>,
}

/// The column holding pandas' row labels (the line of u.data).
const ROW_LABEL: &str = "row_label";

/// Row and id counts of the preprocessing steps.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sizes {
    pub ratings: usize,
    pub after_min_count: usize,
    pub unique_users: usize,
    pub unique_items: usize,
    pub train: usize,
    pub test: usize,
    pub test_warm: usize,
    pub test_warm_users: usize,
    pub test_filtered: usize,
    pub test_filtered_users: usize,
    pub test_filtered_items: usize,
}

/// A label encoder fitted like sklearn's `LabelEncoder`: indices in sorted id order.
fn sorted_encoder(df: &polars::prelude::DataFrame, column: &str) -> Result<IdMap> {
    let mut ids: Vec<i64> = i64_values(df, column)?.collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(IdMap::fit(ids))
}

fn distinct(values: impl IntoIterator<Item = i64>) -> usize {
    values.into_iter().collect::<HashSet<_>>().len()
}

/// Sections 1-4: load ml-100k, MinCountFilter(20) on users, TimeSplitter(0.2) without cold
/// users/items in test, LowRatingFilter(4) on test, label encoders fitted on train.
pub fn prepare(ctx: &Context) -> Result<Study> {
    // 1 | Load Dataset
    let mut ratings = Dataset::Ml100k.ratings(&ctx.data)?;
    // pandas' index: the line of u.data, kept by every filter
    let lines: Vec<i64> = (0..ratings.height() as i64).collect();
    ratings.with_column(Column::new(ROW_LABEL.into(), lines))?;
    // 2 | Preprocessing (u.user and u.item list every user and item, so the notebook's
    // synchronisation with the feature tables removes nothing)
    let data = min_count_filter(&ratings, "user_id", 20)?;
    let unique_users = distinct(i64_values(&data, "user_id")?);
    let unique_items = distinct(i64_values(&data, "item_id")?);
    // 3 | Splitting Dataset in time
    let splitter = TimeSplitter::new(0.2)?;
    let (train, test_all) = splitter.split(&data)?;
    let test = recsys::prep::split::time::drop_cold(&test_all, &train, true, true)?;
    // 4 | Rating Filter
    let test_filtered = low_rating_filter(&test, 4.0)?;
    let users = sorted_encoder(&train, "user_id")?;
    let items = sorted_encoder(&train, "item_id")?;
    let encode = |df| -> Result<Vec<(i64, i64)>> {
        let u = users.encode_column(df, "user_id")?;
        let i = items.encode_column(df, "item_id")?;
        Ok(u.into_iter().zip(i).collect())
    };
    let sizes = Sizes {
        ratings: ratings.height(),
        after_min_count: data.height(),
        unique_users,
        unique_items,
        train: train.height(),
        test: test_all.height(),
        test_warm: test.height(),
        test_warm_users: distinct(i64_values(&test, "user_id")?),
        test_filtered: test_filtered.height(),
        test_filtered_users: distinct(i64_values(&test_filtered, "user_id")?),
        test_filtered_items: distinct(i64_values(&test_filtered, "item_id")?),
    };
    let head = train.head(Some(5));
    let rating = head
        .column("rating")?
        .cast(&polars::prelude::DataType::Int64)?;
    let ratings: Vec<i64> = rating.i64()?.into_no_null_iter().collect();
    let times: Vec<i64> = i64_values(&head, "timestamp")?.collect();
    let train_head_labels: Vec<i64> = i64_values(&head, ROW_LABEL)?.collect();
    let train_head = encode(&head)?
        .into_iter()
        .zip(ratings.into_iter().zip(times))
        .map(|((u, i), (r, t))| [u, i, r, t])
        .collect();
    Ok(Study {
        train: encode(&train)?,
        test: encode(&test_filtered)?,
        users,
        items,
        sizes,
        train_head,
        train_head_labels,
    })
}

/// NDCG@k, HitRate@k and Coverage@k (RePlay's definitions) of `recs` against the test
/// interactions; coverage is over the `n_train_items` items of train.
pub fn evaluate(
    recs: &HashMap<i64, Vec<i64>>,
    test: &[(i64, i64)],
    k: usize,
    n_train_items: usize,
) -> [f64; 3] {
    let mut truth: HashMap<i64, HashSet<i64>> = HashMap::new();
    for &(u, i) in test {
        truth.entry(u).or_default().insert(i);
    }
    [
        mean_over_users(recs, &truth, k, ndcg_at_k),
        mean_over_users(recs, &truth, k, hit_rate_at_k),
        coverage_at_k(recs.values().map(Vec::as_slice), k, n_train_items),
    ]
}

/// The test users, in order of first appearance in the test set (`study.test.user_id.unique()`).
pub fn test_users(study: &Study) -> Vec<i64> {
    let mut seen = HashSet::new();
    study
        .test
        .iter()
        .map(|p| p.0)
        .filter(|u| seen.insert(*u))
        .collect()
}

/// The `k` items with the most train interactions (ties: lower index first), for everyone.
pub fn popularity_recs(study: &Study, k: usize) -> HashMap<i64, Vec<i64>> {
    let mut counts = vec![0f32; study.items.len()];
    for &(_, i) in &study.train {
        counts[i as usize] += 1.0;
    }
    let top: Vec<i64> = recsys::eval::metrics::top_k(&counts, k)
        .into_iter()
        .map(|i| i as i64)
        .collect();
    test_users(study)
        .into_iter()
        .map(|u| (u, top.clone()))
        .collect()
}
