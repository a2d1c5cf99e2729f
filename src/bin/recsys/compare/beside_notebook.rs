//! `reproduce --with-python`'s one table: each number of a notebook's reproduction with the
//! notebook's value, the Rust port's and the PyTorch twin's side by side, and the status
//! (notebook against Rust).
//!
//! A row's Python value is the twin's value of the same number: the row's Rust value is found
//! among the port's [`Numbers`] (a loss of an epoch, or a final metric), printed with the
//! row's own decimals, and the twin's number under the same name and epoch is printed the same
//! way. Where no number of the port prints as the row does (a count, a printed array), or
//! several do, the twin reports no such number and the cell is `-`.

use crate::notebooks::registry::Numbers;
use recsys::report::Check;

/// The port's numbers, flat: (`name`, epoch index or none, value).
fn flat(numbers: &Numbers) -> Vec<(String, Option<usize>, f64)> {
    let mut out = Vec::new();
    for (name, series) in &numbers.epochs {
        out.extend(
            series
                .iter()
                .enumerate()
                .map(|(e, &v)| (name.clone(), Some(e), v)),
        );
    }
    for (name, &v) in &numbers.metrics {
        out.push((name.clone(), None, v));
    }
    out
}

/// `v` printed as `like` is: with its count of decimals, or as Python's `repr` when `like` has
/// more than 12 (a float printed whole).
fn printed_like(v: f64, like: &str) -> String {
    let decimals = like.split_once('.').map_or(0, |(_, d)| d.len());
    if decimals > 12 {
        recsys::report::pyfmt::py_float(v)
    } else {
        format!("{v:.decimals$}")
    }
}

/// The twin's value of the number the port printed as `this_run`, printed the same way, or `-`.
pub fn python_value(this_run: &str, rust: &Numbers, python: &Numbers) -> String {
    let this_run = this_run.trim();
    if this_run.parse::<f64>().is_err() {
        return "-".into();
    }
    let matches: Vec<_> = flat(rust)
        .into_iter()
        .filter(|(_, _, v)| printed_like(*v, this_run) == this_run)
        .collect();
    let [(name, epoch, _)] = matches.as_slice() else {
        return "-".into();
    };
    let twin = match epoch {
        Some(e) => python.epochs.get(name).and_then(|s| s.get(*e)).copied(),
        None => python.metrics.get(name).copied(),
    };
    twin.map_or("-".into(), |v| printed_like(v, this_run))
}

/// The rows `quantity | notebook | Rust | Python | status`, with the status as `status` words it.
pub fn rows(
    checks: &[Check],
    rust: &Numbers,
    python: &Numbers,
    status: impl Fn(&Check) -> String,
) -> Vec<[String; 5]> {
    checks
        .iter()
        .map(|c| {
            [
                c.quantity.clone(),
                c.notebook.clone(),
                c.this_run.clone(),
                python_value(&c.this_run, rust, python),
                status(c),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(losses: &[f64], ndcg: f64) -> Numbers {
        let mut n = Numbers::default();
        n.series("faithful train", losses);
        n.metric("faithful ndcg", ndcg);
        n
    }

    #[test]
    fn the_twins_value_of_the_same_number_printed_alike() {
        let rust = numbers(&[0.94468597, 0.8123, 0.7611], 0.034515);
        let py = numbers(&[0.94468598, 0.8127, 0.7609], 0.0351);
        // a loss of epoch 2, printed with 4 decimals
        assert_eq!(python_value("0.8123", &rust, &py), "0.8127");
        // a metric, 6 decimals
        assert_eq!(python_value("0.034515", &rust, &py), "0.035100");
        // a float printed whole (Python's repr)
        let whole = numbers(&[0.9446859742522793], 0.1);
        let whole_py = numbers(&[0.9446859742522794], 0.1);
        assert_eq!(
            python_value("0.9446859742522793", &whole, &whole_py),
            "0.9446859742522794"
        );
        // not a number of the port's, or not a number at all
        assert_eq!(python_value("943", &rust, &py), "-");
        assert_eq!(python_value("tensor([1, 2])", &rust, &py), "-");
        // two of the port's numbers print alike: no guess
        let twice = numbers(&[0.5, 0.5], 0.1);
        assert_eq!(python_value("0.5", &twice, &py), "-");
    }
}
