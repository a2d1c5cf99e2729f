//! `ratings.head()` as pandas prints it, for notebook 000's port.

use anyhow::Result;
use polars::prelude::*;

use recsys::report::pandas;

/// `df.head(n)` as pandas prints it ([`recsys::report::pandas`]): `columns` are (column of
/// `df`, name shown); integer columns print as integers, float columns as pandas prints floats.
pub fn pandas_head(df: &DataFrame, columns: &[(&str, &str)], n: usize) -> Result<Vec<String>> {
    let head = df.head(Some(n));
    let mut shown = Vec::new();
    for (column, name) in columns {
        let series = head.column(column)?.as_materialized_series().clone();
        shown.push(if series.dtype().is_float() {
            let values: Vec<f64> = series
                .cast(&DataType::Float64)?
                .f64()?
                .iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect();
            pandas::Column::floats(name, &values)
        } else {
            let values: Vec<i64> = series
                .cast(&DataType::Int64)?
                .i64()?
                .iter()
                .map(|v| v.unwrap_or_default())
                .collect();
            pandas::Column::ints(name, &values)
        });
    }
    let text = pandas::frame(&pandas::range_index(head.height()), &shown);
    Ok(text.lines().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_prints_like_pandas() {
        let df = df!(
            "user_id" => [1i64, 1, 1, 1, 1, 2],
            "item_id" => [1i64, 3, 6, 47, 50, 7],
            "rating" => [4.0f64, 4.0, 4.0, 5.0, 5.0, 3.5],
            "timestamp" => [964982703i64, 964981247, 964982224, 964983815, 964982931, 1],
        )
        .unwrap();
        let cols = [
            ("user_id", "userId"),
            ("item_id", "movieId"),
            ("rating", "rating"),
            ("timestamp", "timestamp"),
        ];
        // what pandas 3.1 printed for ratings.head() of ml-latest-small
        let expected = [
            "   userId  movieId  rating  timestamp",
            "0       1        1     4.0  964982703",
            "1       1        3     4.0  964981247",
            "2       1        6     4.0  964982224",
            "3       1       47     5.0  964983815",
            "4       1       50     5.0  964982931",
        ];
        assert_eq!(pandas_head(&df, &cols, 5).unwrap(), expected);
    }
}
