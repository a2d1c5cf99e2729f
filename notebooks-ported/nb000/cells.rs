//! How notebook 000's port prints its cells: a printer that keeps every line (the transcript
//! the tests read), `ratings.head()` as pandas prints it, and the last line of a tqdm bar.

use std::cell::RefCell;
use std::fmt;
use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Result;
use polars::prelude::*;

use recsys::report::pyfmt::py_float;
use recsys::Context;

/// Prints through a [`Context`] and keeps each line, in order.
pub struct Out<'a> {
    /// The run's context.
    pub ctx: &'a Context,
    lines: RefCell<Vec<String>>,
}

impl<'a> Out<'a> {
    /// A printer over `ctx`, with nothing printed yet.
    pub fn new(ctx: &'a Context) -> Out<'a> {
        Out {
            ctx,
            lines: RefCell::new(Vec::new()),
        }
    }

    /// Print one line (possibly several, split on newlines in the transcript) and keep it.
    pub fn say(&self, args: fmt::Arguments) {
        let text = args.to_string();
        self.ctx.say(format_args!("{text}"));
        self.lines
            .borrow_mut()
            .extend(text.split('\n').map(str::to_string));
    }

    /// The final line of a tqdm bar over `steps` batches that took `elapsed`: written on
    /// stderr, where tqdm writes, when stderr is not a terminal (a terminal shows the live
    /// progress bar instead); kept in the transcript either way.
    pub fn tqdm_done(&self, steps: u64, elapsed: Duration) {
        let line = tqdm_line(steps, elapsed.as_secs_f64());
        if !std::io::stderr().is_terminal() {
            eprintln!("{line}");
        }
        self.lines.borrow_mut().push(line);
    }

    /// Every line printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.borrow().clone()
    }
}

/// tqdm's last line for a finished bar of `n` steps in `elapsed_s` seconds, as it writes it
/// to a file (bar 10 wide): `100%|██████████| 804/804 [00:02<00:00, 397.20it/s]`. The rate is
/// `n / elapsed` (tqdm's own is smoothed over the last updates).
pub fn tqdm_line(n: u64, elapsed_s: f64) -> String {
    let rate = if elapsed_s > 0.0 {
        let per_s = n as f64 / elapsed_s;
        if per_s > 0.0 && per_s < 1.0 {
            format!("{:5.2}s/it", 1.0 / per_s)
        } else {
            format!("{per_s:5.2}it/s")
        }
    } else {
        "?it/s".to_string()
    };
    if n == 0 {
        return format!("0it [{}, {rate}]", interval(elapsed_s));
    }
    format!(
        "100%|{}| {n}/{n} [{}<00:00, {rate}]",
        "█".repeat(10),
        interval(elapsed_s)
    )
}

/// tqdm's `format_interval`: `MM:SS`, or `H:MM:SS` from an hour on.
fn interval(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

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
    fn tqdm_lines_as_tqdm_writes_them() {
        assert_eq!(
            tqdm_line(804, 2.024),
            "100%|██████████| 804/804 [00:02<00:00, 397.23it/s]"
        );
        assert_eq!(
            tqdm_line(1608, 3903.0),
            "100%|██████████| 1608/1608 [1:05:03<00:00,  2.43s/it]"
        );
        assert_eq!(
            tqdm_line(5, 0.0),
            "100%|██████████| 5/5 [00:00<00:00, ?it/s]"
        );
        assert_eq!(tqdm_line(0, 0.5), "0it [00:00,  0.00it/s]");
    }

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
