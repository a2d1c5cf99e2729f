//! `ratings.head()` as pandas prints it, for notebook 000's port.

use anyhow::Result;
use polars::prelude::*;

use recsys::report::pyfmt::py_float;

/// `df.head(n)` as pandas prints it: a right-aligned index, then each column right-aligned
/// under its name, two spaces apart. `columns` are (column of `df`, name shown); integer
/// columns print as integers, float columns with the decimals their longest value needs.
pub fn pandas_head(df: &DataFrame, columns: &[(&str, &str)], n: usize) -> Result<Vec<String>> {
    let head = df.head(Some(n));
    let rows = head.height();
    let mut table: Vec<Vec<String>> = vec![(0..rows).map(|i| i.to_string()).collect()];
    let mut names = vec![String::new()];
    for (column, shown) in columns {
        let series = head.column(column)?.as_materialized_series().clone();
        let cells = if series.dtype().is_float() {
            let values: Vec<f64> = series
                .cast(&DataType::Float64)?
                .f64()?
                .iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect();
            float_cells(&values)
        } else {
            series
                .cast(&DataType::Int64)?
                .i64()?
                .iter()
                .map(|v| v.map_or("NaN".to_string(), |v| v.to_string()))
                .collect()
        };
        table.push(cells);
        names.push(shown.to_string());
    }
    let widths: Vec<usize> = table
        .iter()
        .zip(&names)
        .map(|(cells, name)| cells.iter().map(String::len).chain([name.len()]).max())
        .map(|w| w.unwrap_or(0))
        .collect();
    let line = |cell: &dyn Fn(usize) -> String| {
        widths
            .iter()
            .enumerate()
            .map(|(c, w)| format!("{:>w$}", cell(c)))
            .collect::<Vec<_>>()
            .join("  ")
    };
    let header = line(&|c| names[c].clone());
    let body = (0..rows).map(|r| line(&|c| table[c][r].clone()));
    Ok(std::iter::once(header).chain(body).collect())
}

/// A float column's cells with one number of decimals for all: the most any value needs in
/// Python's shortest form, at least 1 and at most 6 (pandas' display precision).
fn float_cells(values: &[f64]) -> Vec<String> {
    let decimals = values
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| py_float(*v).split_once('.').map_or(0, |(_, d)| d.len()))
        .max()
        .unwrap_or(1)
        .clamp(1, 6);
    values
        .iter()
        .map(|v| {
            if v.is_nan() {
                "NaN".to_string()
            } else {
                format!("{v:.decimals$}")
            }
        })
        .collect()
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
        assert_eq!(float_cells(&[0.25, 3.0]), ["0.25", "3.00"]);
    }
}
