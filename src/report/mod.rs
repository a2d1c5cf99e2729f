//! What a notebook port reports: its numbers set against the notebook's, and details for JSON.

/// `np.argpartition`'s own order (numpy's introselect).
pub mod argpartition;
#[cfg(test)]
mod fixtures;
/// IPython's own output around a cell's: `%%time`'s lines, its layout of dicts and tuples.
pub mod ipython;
/// numpy's `repr` and `str` of arrays.
pub mod numpy;
/// pandas' `repr` of small frames.
pub mod pandas;
/// PNG plots where the notebooks plot.
pub mod plot;
/// Python's printing: `repr` of floats, strings and lists.
pub mod pyfmt;
/// torch's `repr` of tensors.
pub mod torch;

use std::fmt::Display;

use serde::Serialize;

/// How a quantity of this run compares with the notebook's printed value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Printed identically.
    Exact,
    /// Stochastic, and inside the band `[lo, hi]` (named in `band`).
    WithinBand { band: String },
    /// Stochastic, this run inside the band, but the notebook's own printed value outside it:
    /// the band (measured over seeds) does not hold the notebook's one draw.
    NotebookOutsideBand { band: String },
    /// Not identical, or outside its band (named when there is one).
    Differs { band: Option<String> },
    /// Nothing to compare with (the notebook printed no value, e.g. a corrected-mode number).
    Info,
}

/// One row of a reproduction table: quantity | notebook's value | this run | status.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub quantity: String,
    /// The notebook's printed value, as printed ("" when it printed none).
    pub notebook: String,
    /// This run's value, formatted like the notebook's.
    pub this_run: String,
    #[serde(flatten)]
    pub status: Status,
}

impl Check {
    /// A deterministic quantity: exact when both print the same.
    pub fn exact(
        quantity: impl Into<String>,
        notebook: impl Display,
        this_run: impl Display,
    ) -> Check {
        let (notebook, this_run) = (notebook.to_string(), this_run.to_string());
        let status = if notebook == this_run {
            Status::Exact
        } else {
            Status::Differs { band: None }
        };
        Check {
            quantity: quantity.into(),
            notebook,
            this_run,
            status,
        }
    }

    /// A stochastic quantity: within band when `lo <= value <= hi`, and then marked
    /// [`Status::NotebookOutsideBand`] when the notebook's own value is not. `decimals` formats
    /// both values the way the notebook prints them; the band's ends keep the digits they need
    /// (0.765 stays 0.765, not 0.77).
    pub fn band(
        quantity: impl Into<String>,
        notebook: f64,
        this_run: f64,
        (lo, hi): (f64, f64),
        decimals: usize,
    ) -> Check {
        let band = format!("[{}, {}]", bound(lo, decimals), bound(hi, decimals));
        let status = if !(lo..=hi).contains(&this_run) {
            Status::Differs { band: Some(band) }
        } else if !(lo..=hi).contains(&notebook) {
            Status::NotebookOutsideBand { band }
        } else {
            Status::WithinBand { band }
        };
        Check {
            quantity: quantity.into(),
            notebook: format!("{notebook:.decimals$}"),
            this_run: format!("{this_run:.decimals$}"),
            status,
        }
    }

    /// A number of this run with no notebook counterpart.
    pub fn info(quantity: impl Into<String>, this_run: impl Display) -> Check {
        Check {
            quantity: quantity.into(),
            notebook: String::new(),
            this_run: this_run.to_string(),
            status: Status::Info,
        }
    }
}

/// A band's end to `decimals` places, or with all its digits when rounding would move it.
fn bound(x: f64, decimals: usize) -> String {
    let short = format!("{x:.decimals$}");
    if short.parse::<f64>() == Ok(x) {
        short
    } else {
        format!("{x}")
    }
}

/// What a notebook port returns: the checks against the notebook, plus its details, typed
/// (`D`: per-epoch losses, timings, metrics of the corrected mode...), kept in `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report<D = serde_json::Value> {
    /// "000" .. "004".
    pub notebook: String,
    pub checks: Vec<Check>,
    pub details: D,
}

impl<D: Serialize> Report<D> {
    /// The same report with its details as JSON.
    pub fn to_json(&self) -> serde_json::Result<Report> {
        Ok(Report {
            notebook: self.notebook.clone(),
            checks: self.checks.clone(),
            details: serde_json::to_value(&self.details)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(Check::exact("rows", 803, "803").status, Status::Exact);
        assert!(matches!(
            Check::exact("rows", 803, 804).status,
            Status::Differs { .. }
        ));
        let c = Check::band("recall", 0.23, 0.2412, (0.15, 0.30), 3);
        assert_eq!(
            (c.notebook.as_str(), c.this_run.as_str()),
            ("0.230", "0.241")
        );
        assert!(matches!(c.status, Status::WithinBand { .. }));
        assert!(matches!(
            Check::band("x", 1.0, 2.0, (0.0, 1.5), 1).status,
            Status::Differs { .. }
        ));
        // 001's epoch-20 train loss: the notebook printed 0.76, the band is [0.765, 0.780].
        let c = Check::band("train", 0.76, 0.772, (0.765, 0.780), 2);
        assert_eq!(
            c.status,
            Status::NotebookOutsideBand {
                band: "[0.765, 0.78]".into()
            }
        );
        // A run outside the band differs, whatever the notebook printed.
        assert!(matches!(
            Check::band("x", 2.0, 2.0, (0.0, 1.5), 1).status,
            Status::Differs { .. }
        ));
    }
}
