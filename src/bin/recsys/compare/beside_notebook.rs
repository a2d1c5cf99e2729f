//! `reproduce --with-python`'s one table: each number of a notebook's reproduction with the
//! notebook's value, the Rust port's and the PyTorch twin's side by side, and the status
//! (notebook against Rust).
//!
//! A row's Python value is the twin's value of the number the row names ([`Check::number`]: a
//! final metric, or a loss of one epoch), printed as the row prints the port's. A row that
//! names none (a count, a shape, a printed list: the port's `exact` rows), or a number the twin
//! does not report, shows `-`.

use crate::notebooks::registry::Numbers;
use recsys::report::Check;

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

/// The twin's value of the number `check` names, printed as the check prints the port's, or `-`.
pub fn python_value(check: &Check, python: &Numbers) -> String {
    let Some(key) = &check.number else {
        return "-".into();
    };
    let twin = match key.epoch {
        Some(e) => python.epochs.get(&key.name).and_then(|s| s.get(e)).copied(),
        None => python.metrics.get(&key.name).copied(),
    };
    twin.map_or("-".into(), |v| printed_like(v, check.this_run.trim()))
}

/// The rows `quantity | notebook | Rust | Python | status`, with the status as `status` words it.
pub fn rows(
    checks: &[Check],
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
                python_value(c, python),
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
    fn the_twins_value_of_the_number_a_row_names() {
        let py = numbers(&[0.94468598, 0.8127, 0.7609], 0.0351);
        // a loss of epoch 2, printed with 4 decimals
        let loss =
            Check::band("epoch 2 loss", 0.81, 0.8123, (0.7, 0.9), 4).epoch_of("faithful train", 1);
        assert_eq!(python_value(&loss, &py), "0.8127");
        // a metric, 6 decimals
        let ndcg = Check::band("NDCG", 0.03, 0.034515, (0.0, 0.1), 6).metric_of("faithful ndcg");
        assert_eq!(python_value(&ndcg, &py), "0.035100");
        // a float printed whole (Python's repr)
        let whole = Check::info("loss", "0.9446859742522793").epoch_of("faithful train", 0);
        assert_eq!(python_value(&whole, &py), "0.94468598");
        // two rows that print alike still find their own numbers
        let same =
            Check::band("epoch 3 loss", 0.8, 0.8123, (0.7, 0.9), 4).epoch_of("faithful train", 2);
        assert_eq!(python_value(&same, &py), "0.7609");
        // a count, or a number the twin does not report
        assert_eq!(python_value(&Check::exact("users", 943, 943), &py), "-");
        let missing = Check::band("x", 0.5, 0.5, (0.0, 1.0), 2).metric_of("absent");
        assert_eq!(python_value(&missing, &py), "-");
    }
}
