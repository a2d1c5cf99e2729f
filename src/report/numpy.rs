//! `repr(ndarray)` and `str(ndarray)` as numpy prints them by default (`numpy/_core/arrayprint.py`:
//! line width 75, summarised above 1000 elements to 3 edge items along each axis, floats in
//! `floatmode='maxprec'` at precision 8, padded to one width), as numpy up to 2.1 prints them,
//! the notebooks' numpy (2.2 added `shape=(...)` to summarised arrays; the fixtures set
//! `legacy='2.1'`). Floats print positionally only: no exponent form (magnitudes from 1e-4 to
//! 1e8, ratio under 1000). Tested against the venv's numpy in `tests` (fixtures made by
//! `fixtures/make_pyreprs.py`).

/// The dtypes the ports print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    Float32,
    Float64,
    Int32,
    Int64,
}

impl Dtype {
    /// `float32`, or none for the dtypes numpy leaves implied (float64, int64).
    fn shown(self) -> Option<&'static str> {
        match self {
            Dtype::Float64 | Dtype::Int64 => None,
            Dtype::Float32 => Some("float32"),
            Dtype::Int32 => Some("int32"),
        }
    }
}

const LINE_WIDTH: usize = 75;
const THRESHOLD: usize = 1000;
const EDGE: usize = 3;
const PRECISION: usize = 8;

/// `repr(a)`: `array([...], dtype=float32)`, the dtype on its own line when it would pass the
/// line width.
pub fn array_repr(values: &[f64], shape: &[usize], dtype: Dtype) -> String {
    let prefix = "array(";
    let body = array2string(values, shape, dtype, ", ", prefix.len(), LINE_WIDTH - 1);
    let Some(d) = dtype.shown() else {
        return format!("{prefix}{body})");
    };
    let text = format!("{prefix}{body},");
    let extra = format!("dtype={d})");
    let last = text.chars().count() - text.rfind('\n').map_or(0, |k| text[..=k].chars().count());
    let spacer = if last + extra.len() + 1 > LINE_WIDTH {
        format!("\n{}", " ".repeat(prefix.len()))
    } else {
        " ".to_string()
    };
    format!("{text}{spacer}{extra}")
}

/// `str(a)` (what `print(a)` writes): elements separated by spaces, no `array(`.
pub fn array_str(values: &[f64], shape: &[usize], dtype: Dtype) -> String {
    array2string(values, shape, dtype, " ", 0, LINE_WIDTH)
}

/// numpy's `_array2string` for a 1-d or 2-d array behind a prefix `prefix_len` wide.
fn array2string(
    values: &[f64],
    shape: &[usize],
    dtype: Dtype,
    separator: &str,
    prefix_len: usize,
    width: usize,
) -> String {
    assert!(matches!(shape.len(), 1 | 2), "1-d or 2-d arrays only");
    assert_eq!(values.len(), shape.iter().product::<usize>(), "shape");
    let summarize = values.len() > THRESHOLD;
    let cols = shape[shape.len() - 1];
    let rows = if shape.len() == 2 { shape[0] } else { 1 };
    let shown: Vec<f64> = shown_along(rows, summarize)
        .into_iter()
        .flatten()
        .flat_map(|r| {
            shown_along(cols, summarize)
                .into_iter()
                .flatten()
                .map(move |c| values[r * cols + c])
        })
        .collect();
    let fmt = Format::new(&shown, dtype);
    let word = |r: usize, c: usize| fmt.format(values[r * cols + c]);
    let indent = " ".repeat(prefix_len + 1);
    format_array(shape, summarize, &word, separator, width, &indent)
}

/// The indices shown along an axis of `n`: all, or the first and last [`EDGE`] with `None`
/// for the `...` between.
fn shown_along(n: usize, summarize: bool) -> Vec<Option<usize>> {
    if summarize && n > 2 * EDGE {
        (0..EDGE)
            .map(Some)
            .chain([None])
            .chain((n - EDGE..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    }
}

/// numpy's `_extendLine`: wrap before `word` when it would pass `width` (unless the line
/// holds only its indent).
fn extend_line(s: &mut String, line: &mut String, word: &str, width: usize, indent: &str) {
    if line.len() + word.len() > width && line.len() > indent.len() {
        s.push_str(line.trim_end());
        s.push('\n');
        *line = indent.to_string();
    }
    line.push_str(word);
}

/// numpy's `_formatArray` for a 1-d or 2-d array.
fn format_array(
    shape: &[usize],
    summarize: bool,
    word: &dyn Fn(usize, usize) -> String,
    separator: &str,
    width: usize,
    indent: &str,
) -> String {
    let row_of = |r: usize, hanging: &str, width: usize| -> String {
        let n = *shape.last().expect("1-d or 2-d");
        let elem_width = width - separator.trim_end().len().max(1);
        let mut s = String::new();
        let mut line = hanging.to_string();
        let cells = shown_along(n, summarize);
        for (k, c) in cells.iter().enumerate() {
            let w = c.map_or_else(|| "...".to_string(), |c| word(r, c));
            extend_line(&mut s, &mut line, &w, elem_width, hanging);
            if k + 1 < cells.len() {
                line.push_str(separator);
            }
        }
        s.push_str(&line);
        format!("[{}]", &s[hanging.len()..])
    };
    match *shape {
        [_] => row_of(0, indent, width),
        [rows, _] => {
            let inner = format!("{indent} ");
            let lines: Vec<String> = shown_along(rows, summarize)
                .into_iter()
                .map(|r| match r {
                    Some(r) => row_of(r, &inner, width - 1),
                    None => "...".to_string(),
                })
                .collect();
            let sep = format!("{}\n{indent}", separator.trim_end());
            format!("[{}]", lines.join(&sep))
        }
        _ => unreachable!("1-d or 2-d arrays only"),
    }
}

/// numpy's `IntegerFormat` and `FloatingFormat` (positional, `maxprec`): one width for all.
struct Format {
    dtype: Dtype,
    pad_left: usize,
    pad_right: usize,
}

impl Format {
    fn new(shown: &[f64], dtype: Dtype) -> Format {
        let mut f = Format {
            dtype,
            pad_left: 0,
            pad_right: 0,
        };
        let parts: Vec<(String, String)> = shown
            .iter()
            .filter(|v| v.is_finite())
            .map(|&v| f.split(v))
            .collect();
        f.pad_left = parts.iter().map(|p| p.0.len()).max().unwrap_or(0);
        f.pad_right = parts.iter().map(|p| p.1.len()).max().unwrap_or(0);
        f
    }

    /// The integer digits (with the sign) and the fraction digits of `v`.
    fn split(&self, v: f64) -> (String, String) {
        let s = match self.dtype {
            Dtype::Int32 | Dtype::Int64 => return ((v as i64).to_string(), String::new()),
            Dtype::Float32 => shortest((v as f32).to_string(), v),
            Dtype::Float64 => shortest(v.to_string(), v),
        };
        match s.split_once('.') {
            Some((i, f)) => (i.to_string(), f.to_string()),
            None => (s, String::new()),
        }
    }

    fn format(&self, v: f64) -> String {
        let is_int = matches!(self.dtype, Dtype::Int32 | Dtype::Int64);
        if !v.is_finite() {
            let s = if v.is_nan() {
                "nan"
            } else if v > 0.0 {
                "inf"
            } else {
                "-inf"
            };
            let w = self.pad_left + if is_int { 0 } else { 1 + self.pad_right };
            return format!("{s:>w$}");
        }
        let (i, frac) = self.split(v);
        if is_int {
            return format!("{i:>w$}", w = self.pad_left);
        }
        format!("{i:>l$}.{frac:<r$}", l = self.pad_left, r = self.pad_right)
    }
}

/// The shortest round-trip digits `s` of `v`, cut to [`PRECISION`] fraction digits.
fn shortest(s: String, v: f64) -> String {
    match s.split_once('.') {
        Some((_, f)) if f.len() > PRECISION => {
            let cut = format!("{v:.PRECISION$}");
            cut.trim_end_matches('0').to_string()
        }
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_arrays() {
        assert_eq!(
            array_repr(&[4.5441589, 3.0, -0.25], &[3], Dtype::Float32),
            "array([ 4.544159,  3.      , -0.25    ], dtype=float32)"
        );
        assert_eq!(
            array_repr(&[1.0, 22.0], &[2], Dtype::Int64),
            "array([ 1, 22])"
        );
        assert_eq!(
            array_str(&[1.5, -2.0], &[1, 2], Dtype::Float32),
            "[[ 1.5 -2. ]]"
        );
    }
}
