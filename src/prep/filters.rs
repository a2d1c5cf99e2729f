//! Row filters on ratings tables, after RePlay's `MinCountFilter` and `LowRatingFilter`.
//!
//! Both keep the rows they keep in their original order.

use std::collections::HashMap;

use anyhow::{bail, Result};
use polars::prelude::*;

use crate::prep::{f64_values, i64_values};

/// Keep the rows whose `column` value (e.g. `user_id`) occurs at least `min_count` times in the
/// table: RePlay's `MinCountFilter(num_entries=min_count, groupby_column=column)`.
pub fn min_count_filter(ratings: &DataFrame, column: &str, min_count: usize) -> Result<DataFrame> {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for id in i64_values(ratings, column)? {
        *counts.entry(id).or_default() += 1;
    }
    let mask: BooleanChunked = i64_values(ratings, column)?
        .map(|id| counts[&id] >= min_count)
        .collect();
    Ok(ratings.filter(&mask)?)
}

/// Keep the rows with `rating >= min_rating`: RePlay's `LowRatingFilter(value=min_rating)`
/// (which drops the ratings *below* its value).
pub fn low_rating_filter(ratings: &DataFrame, min_rating: f64) -> Result<DataFrame> {
    if min_rating.is_nan() {
        bail!("low_rating_filter: the minimum rating is NaN");
    }
    let mask: BooleanChunked = f64_values(ratings, "rating")?
        .map(|r| r >= min_rating)
        .collect();
    Ok(ratings.filter(&mask)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_frequent_users_and_good_ratings() {
        let df = DataFrame::new_infer_height(vec![
            Column::new("user_id".into(), [1i64, 2, 1, 3, 1, 2]),
            Column::new("rating".into(), [4.0f64, 3.0, 5.0, 4.0, 1.0, 4.5]),
        ])
        .unwrap();
        let kept = min_count_filter(&df, "user_id", 2).unwrap();
        let users: Vec<i64> = i64_values(&kept, "user_id").unwrap().collect();
        assert_eq!(
            users,
            vec![1, 2, 1, 1, 2],
            "user 3 has one rating; order is kept"
        );
        let good = low_rating_filter(&df, 4.0).unwrap();
        let ratings: Vec<f64> = f64_values(&good, "rating").unwrap().collect();
        assert_eq!(ratings, vec![4.0, 5.0, 4.0, 4.5], "4.0 itself is kept");
    }
}
