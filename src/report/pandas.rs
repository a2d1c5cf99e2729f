//! `repr(DataFrame)` as pandas prints a small frame by default (`pandas.io.formats.format`): the
//! index left-aligned under an empty corner, then each column right-aligned to its widest cell
//! or header, one space apart. Numbers keep a leading space for the sign, and a numeric
//! column's header gets one too; strings get a leading space, datetimes none. Floats print with
//! 6 decimals less the trailing zeros every value shares (`_trim_zeros_float`). Tested against
//! the venv's pandas in `fixtures` (made by `fixtures/make_pyreprs.py`). Only frames that fit
//! the width (no `...`). Object columns of floats print as pandas 1.x printed them, the
//! notebooks' pandas (`Column::object_floats`).

/// One column of a frame: its header and its cells, formatted as pandas formats them.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: String,
    pub cells: Vec<String>,
}

impl Column {
    /// An integer column.
    pub fn ints(name: &str, values: &[i64]) -> Column {
        Column {
            header: format!(" {name}"),
            cells: values.iter().map(|&v| signed(v.to_string())).collect(),
        }
    }

    /// A float column: 6 decimals, less the trailing zeros all values share (one kept).
    pub fn floats(name: &str, values: &[f64]) -> Column {
        let mut cells: Vec<String> = values.iter().map(|v| format!("{v:.6}")).collect();
        let trim = |cells: &[String]| {
            let finite: Vec<&String> = cells.iter().filter(|c| c.contains('.')).collect();
            !finite.is_empty()
                && finite.iter().all(|c| {
                    c.ends_with('0') && c.split_once('.').is_some_and(|(_, f)| f.len() > 1)
                })
        };
        while trim(&cells) {
            for c in cells.iter_mut().filter(|c| c.contains('.')) {
                c.pop();
            }
        }
        Column {
            header: format!(" {name}"),
            cells: cells
                .into_iter()
                .map(|c| if c == "NaN" { c } else { signed(c) })
                .collect(),
        }
    }

    /// Floats in an object column, as the notebooks' pandas 1.x printed them: each value
    /// `{x: .6g}` on its own (`GenericArrayFormatter`; pandas 2 changed it to 6 decimals), and
    /// no sign space in the header, the column not being numeric. 003's recommendations and
    /// metrics frames hold such columns (`explode` and RePlay's result table leave them object).
    pub fn object_floats(name: &str, values: &[f64]) -> Column {
        Column {
            header: name.to_string(),
            cells: values.iter().map(|&v| super::pyfmt::py_g(v, 6)).collect(),
        }
    }

    /// A string column.
    pub fn strings(name: &str, values: &[String]) -> Column {
        Column {
            header: name.to_string(),
            cells: values.iter().map(|v| format!(" {v}")).collect(),
        }
    }

    /// A datetime column (`1997-09-22 22:02:38`), printed as given.
    pub fn datetimes(name: &str, values: &[String]) -> Column {
        Column {
            header: name.to_string(),
            cells: values.to_vec(),
        }
    }
}

/// A number with the space pandas leaves for a sign (none before a minus).
fn signed(s: String) -> String {
    if s.starts_with('-') {
        s
    } else {
        format!(" {s}")
    }
}

/// A frame's text: `index` labels, then the columns.
pub fn frame(index: &[String], columns: &[Column]) -> String {
    let len = |s: &String| s.chars().count();
    let iw = index.iter().map(len).max().unwrap_or(0);
    let widths: Vec<usize> = columns
        .iter()
        .map(|c| {
            c.cells
                .iter()
                .map(len)
                .chain([len(&c.header)])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |first: &str, cell: &dyn Fn(usize) -> String| -> String {
        let mut s = format!("{first:<iw$}");
        for (c, w) in widths.iter().enumerate() {
            s.push_str(&format!(" {:>w$}", cell(c)));
        }
        s
    };
    let mut out = vec![line("", &|c| columns[c].header.clone())];
    for (r, label) in index.iter().enumerate() {
        out.push(line(label, &|c| columns[c].cells[r].clone()));
    }
    out.join("\n")
}

/// A `RangeIndex` of `n` rows: `0`, `1`, ...
pub fn range_index(n: usize) -> Vec<String> {
    (0..n).map(|i| i.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_as_pandas_prints_it() {
        let text = frame(
            &range_index(2),
            &[
                Column::ints("user_id", &[2, 233]),
                Column::floats("rating", &[123456.789, -1.3]),
                Column::strings("a", &["x".into(), "yy".into()]),
            ],
        );
        assert_eq!(
            text,
            "   user_id      rating   a\n0        2  123456.789   x\n1      233      -1.300  yy"
        );
    }
}
