//! `repr(tensor)` as PyTorch prints it by default (`torch/_tensor_str.py`: precision 4,
//! line width 80, summarised above 1000 elements to 3 edge items): the shared width of the
//! elements, int mode for whole floats (`1.`), scientific mode for wide ranges, and the
//! `dtype=` and `grad_fn=` tails. Tested against the venv's torch in `tests` (fixtures made by
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
    fn is_float(self) -> bool {
        matches!(self, Dtype::Float32 | Dtype::Float64)
    }

    /// `torch.int32`, or none for the dtypes torch leaves out (float32, int64).
    fn suffix(self) -> Option<&'static str> {
        match self {
            Dtype::Float32 | Dtype::Int64 => None,
            Dtype::Float64 => Some("torch.float64"),
            Dtype::Int32 => Some("torch.int32"),
        }
    }
}

const PRECISION: usize = 4;
const LINE_WIDTH: usize = 80;
const THRESHOLD: usize = 1000;
const EDGE: usize = 3;

/// `repr(t)` of a tensor of `shape` (row-major `values`, ints as exact f64) and `dtype`, with
/// `grad_fn=<name>` when `grad_fn` is given.
pub fn tensor_repr(values: &[f64], shape: &[usize], dtype: Dtype, grad_fn: Option<&str>) -> String {
    assert_eq!(values.len(), shape.iter().product::<usize>(), "shape");
    let prefix = "tensor(";
    let indent = prefix.len();
    let summarize = values.len() > THRESHOLD;
    let shown = shown_values(values, shape, summarize);
    let f = Formatter::new(&shown, dtype);
    let body = if shape.is_empty() {
        f.format(values[0])
    } else {
        tensor_str(values, shape, indent, summarize, &f)
    };
    let mut suffixes = Vec::new();
    if let Some(d) = dtype.suffix() {
        suffixes.push(format!("dtype={d}"));
    }
    if let Some(g) = grad_fn {
        suffixes.push(format!("grad_fn=<{g}>"));
    }
    add_suffixes(&format!("{prefix}{body}"), &suffixes, indent)
}

/// torch's `_add_suffixes` (with its count of the last line's length).
fn add_suffixes(text: &str, suffixes: &[String], indent: usize) -> String {
    let mut out = text.to_string();
    let len = text.chars().count();
    let mut last = match text.rfind('\n') {
        Some(k) => len - text[..k].chars().count() + 1,
        None => len + 2,
    };
    for s in suffixes {
        let n = s.chars().count();
        if last + n + 2 > LINE_WIDTH {
            out.push_str(&format!(",\n{}{s}", " ".repeat(indent)));
            last = indent + n;
        } else {
            out.push_str(&format!(", {s}"));
            last += n + 2;
        }
    }
    out.push(')');
    out
}

/// The elements the formatter measures: all, or the edge items along every axis.
fn shown_values(values: &[f64], shape: &[usize], summarize: bool) -> Vec<f64> {
    if !summarize || shape.is_empty() {
        return values.to_vec();
    }
    let mut out = Vec::new();
    collect_shown(values, shape, &mut out);
    out
}

fn collect_shown(values: &[f64], shape: &[usize], out: &mut Vec<f64>) {
    let n = shape[0];
    let inner: usize = shape[1..].iter().product();
    for i in edge_indices(n).into_iter().flatten() {
        let part = &values[i * inner..(i + 1) * inner];
        if shape.len() == 1 {
            out.push(part[0]);
        } else {
            collect_shown(part, &shape[1..], out);
        }
    }
}

/// All indices along an axis of `n`, or the first and last [`EDGE`] with `None` between.
fn edge_indices(n: usize) -> Vec<Option<usize>> {
    if n > 2 * EDGE {
        (0..EDGE)
            .map(Some)
            .chain([None])
            .chain((n - EDGE..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    }
}

/// torch's `_Formatter`: one width for every element.
struct Formatter {
    float: bool,
    int_mode: bool,
    sci: bool,
    width: usize,
}

impl Formatter {
    fn new(values: &[f64], dtype: Dtype) -> Formatter {
        let mut f = Formatter {
            float: dtype.is_float(),
            int_mode: true,
            sci: false,
            width: 1,
        };
        if !f.float {
            f.width = values
                .iter()
                .map(|v| format!("{}", *v as i64).len())
                .max()
                .unwrap_or(1)
                .max(1);
            return f;
        }
        let nz: Vec<f64> = values
            .iter()
            .copied()
            .filter(|v| v.is_finite() && *v != 0.0)
            .collect();
        if nz.is_empty() {
            return f;
        }
        let min = nz.iter().map(|v| v.abs()).fold(f64::INFINITY, f64::min);
        let max = nz.iter().map(|v| v.abs()).fold(0.0, f64::max);
        f.int_mode = nz.iter().all(|v| *v == v.ceil());
        let wide = max / min > 1000.0 || max > 1e8;
        f.sci = if f.int_mode { wide } else { wide || min < 1e-4 };
        let len = |v: &f64| -> usize {
            if f.sci {
                sci(*v).len()
            } else if f.int_mode {
                format!("{v:.0}").len() + 1
            } else {
                format!("{v:.PRECISION$}").len()
            }
        };
        f.width = nz.iter().map(len).max().unwrap_or(1).max(1);
        f
    }

    fn format(&self, v: f64) -> String {
        let s = if !self.float {
            format!("{}", v as i64)
        } else if self.sci {
            sci(v)
        } else if self.int_mode {
            let s = format!("{v:.0}");
            if v.is_finite() {
                s + "."
            } else {
                py_nonfinite(v)
            }
        } else if v.is_finite() {
            format!("{v:.PRECISION$}")
        } else {
            py_nonfinite(v)
        };
        format!("{s:>w$}", w = self.width)
    }
}

/// Python's `nan`, `inf`, `-inf`.
fn py_nonfinite(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

/// Python's `'{:.4e}'.format(v)`: `1.2346e+03`.
fn sci(v: f64) -> String {
    if !v.is_finite() {
        return py_nonfinite(v);
    }
    let s = format!("{v:.PRECISION$e}");
    let (m, e) = s.split_once('e').expect("exponent form");
    let e: i32 = e.parse().expect("exponent");
    format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

/// torch's `_tensor_str_with_formatter` for an array of `shape` (at least 1-d).
fn tensor_str(
    values: &[f64],
    shape: &[usize],
    indent: usize,
    summarize: bool,
    f: &Formatter,
) -> String {
    let n = shape[0];
    if shape.len() == 1 {
        let element = f.width + 2;
        let per_line = ((LINE_WIDTH.saturating_sub(indent)) / element).max(1);
        let data: Vec<String> = if summarize && n > 2 * EDGE {
            edge_indices(n)
                .into_iter()
                .map(|i| i.map_or(" ...".to_string(), |i| f.format(values[i])))
                .collect()
        } else {
            values.iter().map(|v| f.format(*v)).collect()
        };
        let lines: Vec<String> = data.chunks(per_line).map(|c| c.join(", ")).collect();
        return format!(
            "[{}]",
            lines.join(&format!(",\n{}", " ".repeat(indent + 1)))
        );
    }
    let inner: usize = shape[1..].iter().product();
    let rows: Vec<Option<usize>> = if summarize {
        edge_indices(n)
    } else {
        (0..n).map(Some).collect()
    };
    let slices: Vec<String> = rows
        .into_iter()
        .map(|i| match i {
            Some(i) => tensor_str(
                &values[i * inner..(i + 1) * inner],
                &shape[1..],
                indent + 1,
                summarize,
                f,
            ),
            None => "...".to_string(),
        })
        .collect();
    let sep = format!(
        ",{}{}",
        "\n".repeat(shape.len() - 1),
        " ".repeat(indent + 1)
    );
    format!("[{}]", slices.join(&sep))
}

/// An `nn.Module` as its `repr` shows it: the class name, its `extra_repr` (e.g. `751, 16`
/// for an `Embedding`) and its named children, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    pub name: String,
    pub extra: String,
    pub children: Vec<(String, Module)>,
}

impl Module {
    /// A module with no children: `Embedding(751, 16)`.
    pub fn leaf(name: impl Into<String>, extra: impl Into<String>) -> Module {
        Module {
            name: name.into(),
            extra: extra.into(),
            children: Vec::new(),
        }
    }

    /// A module with children and no `extra_repr`.
    pub fn node(name: impl Into<String>, children: Vec<(String, Module)>) -> Module {
        Module {
            name: name.into(),
            extra: String::new(),
            children,
        }
    }

    /// `repr(module)`, as `nn.Module.__repr__` writes it (children indented by 2).
    pub fn repr(&self) -> String {
        let extra: Vec<String> = if self.extra.is_empty() {
            Vec::new()
        } else {
            self.extra.split('\n').map(str::to_string).collect()
        };
        let children: Vec<String> = self
            .children
            .iter()
            .map(|(key, m)| format!("({key}): {}", m.repr().replace('\n', "\n  ")))
            .collect();
        let mut s = format!("{}(", self.name);
        if extra.len() == 1 && children.is_empty() {
            s.push_str(&extra[0]);
        } else if !extra.is_empty() || !children.is_empty() {
            let lines: Vec<String> = extra.into_iter().chain(children).collect();
            s.push_str(&format!("\n  {}\n", lines.join("\n  ")));
        }
        s.push(')');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notebooks_tensors() {
        assert_eq!(
            tensor_repr(&[91.0, 320.0], &[2, 1], Dtype::Int32, None),
            "tensor([[ 91],\n        [320]], dtype=torch.int32)"
        );
        assert_eq!(
            tensor_repr(&[0.99243], &[], Dtype::Float32, None),
            "tensor(0.9924)"
        );
        assert_eq!(
            tensor_repr(&[3.0, 3.0, 5.0, 3.0, 4.0], &[5], Dtype::Float32, None),
            "tensor([3., 3., 5., 3., 4.])"
        );
    }
}
