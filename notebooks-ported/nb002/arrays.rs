//! How numpy and torch print the arrays notebook 002 shows: `repr(ndarray)` of 1-d and 2-d
//! int32 and float32 arrays as numpy up to 2.1 prints them, the notebook's numpy (default
//! options: summarised above 1000 elements to the first and last 3 along each axis, lines
//! wrapped at 75 characters, float32 in its shortest round-trip digits, padded to a common
//! width; numpy 2.2 added `shape=(n,)` to summarised arrays), a short torch tensor, and
//! IPython's layout of the `__dict__` and tuple cells that hold them.

/// numpy's `threshold`, `edgeitems` and `linewidth` print options (their defaults).
const THRESHOLD: usize = 1000;
const EDGE: usize = 3;
const LINE_WIDTH: usize = 75;

/// The indices numpy shows along an axis of length `n`: all of them, or the first and last
/// [`EDGE`] with `None` for the `...` between.
fn shown(n: usize, summarize: bool) -> Vec<Option<usize>> {
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

/// numpy's `_formatArray` for a 1-d or 2-d array: `word(row, col)` is the formatted element
/// (`row` is 0 for a 1-d array).
fn format_array(
    shape: &[usize],
    summarize: bool,
    word: &dyn Fn(usize, usize) -> String,
    width: usize,
    indent: &str,
) -> String {
    let row_of = |r: usize, hanging: &str, width: usize| -> String {
        let n = *shape.last().expect("1-d or 2-d");
        let elem_width = width - 1; // the separator's "," or the closing "]"
        let mut s = String::new();
        let mut line = hanging.to_string();
        let cells = shown(n, summarize);
        for (k, c) in cells.iter().enumerate() {
            let w = c.map_or_else(|| "...".to_string(), |c| word(r, c));
            extend_line(&mut s, &mut line, &w, elem_width, hanging);
            if k + 1 < cells.len() {
                line.push_str(", ");
            }
        }
        s.push_str(&line);
        format!("[{}]", &s[hanging.len()..])
    };
    match *shape {
        [_] => row_of(0, indent, width),
        [rows, _] => {
            let inner = format!("{indent} ");
            let lines: Vec<String> = shown(rows, summarize)
                .into_iter()
                .map(|r| match r {
                    Some(r) => row_of(r, &inner, width - 1),
                    None => "...".to_string(),
                })
                .collect();
            format!("[{}]", lines.join(&format!(",\n{indent}")))
        }
        _ => panic!("1-d or 2-d arrays only"),
    }
}

/// `repr(array)`: `array(` + the elements + `, dtype=...)`, the dtype on its own line when it
/// would pass the line width.
fn array_repr(
    shape: &[usize],
    word: &dyn Fn(usize, usize) -> String,
    dtype: &str,
    summarize: bool,
) -> String {
    let prefix = "array(";
    let indent = " ".repeat(prefix.len() + 1);
    let body = format_array(shape, summarize, word, LINE_WIDTH - 1, &indent);
    let text = format!("{prefix}{body},");
    let dtype = format!("dtype={dtype})");
    let last_line = text.len() - text.rfind('\n').map_or(0, |k| k + 1);
    let spacer = if last_line + dtype.len() + 1 > LINE_WIDTH {
        format!("\n{}", " ".repeat(prefix.len()))
    } else {
        " ".to_string()
    };
    format!("{text}{spacer}{dtype}")
}

/// `repr` of an int32 array of `shape` (row-major `values`): every element right-aligned to the
/// widest shown one.
pub fn int_array(values: &[i64], shape: &[usize]) -> String {
    let cols = *shape.last().expect("1-d or 2-d");
    let summarize = values.len() > THRESHOLD;
    let flat = shown_cells(shape, summarize);
    let width = flat
        .iter()
        .map(|&(r, c)| values[r * cols + c].to_string().len())
        .max()
        .unwrap_or(1);
    let word = |r: usize, c: usize| format!("{:>width$}", values[r * cols + c]);
    array_repr(shape, &word, "int32", summarize)
}

/// `repr` of a float32 array of `shape` (row-major `values`): each shown element in its shortest
/// round-trip digits, the integer parts right-aligned and the fractions padded with spaces to
/// the longest shown one, `3.` for whole numbers (numpy's `floatmode='maxprec'`). Only for
/// values numpy prints without an exponent (magnitudes from 1e-4 to 1e8, or zero).
pub fn float32_array(values: &[f32], shape: &[usize]) -> String {
    let cols = *shape.last().expect("1-d or 2-d");
    let summarize = values.len() > THRESHOLD;
    let split = |x: f32| -> (String, String) {
        let s = format!("{x}");
        match s.split_once('.') {
            Some((i, f)) => (i.to_string(), f.to_string()),
            None => (s, String::new()),
        }
    };
    let parts: Vec<(String, String)> = shown_cells(shape, summarize)
        .iter()
        .map(|&(r, c)| split(values[r * cols + c]))
        .collect();
    let left = parts.iter().map(|p| p.0.len()).max().unwrap_or(1);
    let right = parts.iter().map(|p| p.1.len()).max().unwrap_or(0);
    let word = |r: usize, c: usize| {
        let (i, f) = split(values[r * cols + c]);
        format!("{i:>left$}.{f:<right$}")
    };
    array_repr(shape, &word, "float32", summarize)
}

/// The (row, column) of every shown element (row 0 for a 1-d array).
fn shown_cells(shape: &[usize], summarize: bool) -> Vec<(usize, usize)> {
    match *shape {
        [n] => shown(n, summarize)
            .into_iter()
            .flatten()
            .map(|c| (0, c))
            .collect(),
        [rows, cols] => {
            let cols = shown(cols, summarize);
            shown(rows, summarize)
                .into_iter()
                .flatten()
                .flat_map(|r| cols.iter().flatten().map(move |&c| (r, c)))
                .collect()
        }
        _ => panic!("1-d or 2-d arrays only"),
    }
}

/// `repr` of a small 2-d int64 torch tensor (no summarising): `tensor([[642, 832],\n ...])`.
pub fn torch_int_rows(rows: &[Vec<i64>]) -> String {
    let width = rows
        .iter()
        .flatten()
        .map(|v| v.to_string().len())
        .max()
        .unwrap_or(1);
    let lines: Vec<String> = rows
        .iter()
        .map(|row| {
            let cells: Vec<String> = row.iter().map(|v| format!("{v:>width$}")).collect();
            format!("[{}]", cells.join(", "))
        })
        .collect();
    format!("tensor([{}])", lines.join(",\n        "))
}

/// `repr` of a short 1-d float tensor of whole numbers: `tensor([3., 3., 5.])`.
pub fn torch_whole_floats(values: &[f32]) -> String {
    let width = values
        .iter()
        .map(|v| format!("{v:.0}").len())
        .max()
        .unwrap_or(1);
    let cells: Vec<String> = values.iter().map(|v| format!("{v:>width$.0}.")).collect();
    format!("tensor([{}])", cells.join(", "))
}

/// IPython's display of a dict whose values are reprs (one entry a line, as when it does not
/// fit on one): continuation lines of a value are indented by one space.
pub fn ipython_dict(entries: &[(&str, String)]) -> String {
    let items: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("'{k}': {}", v.replace('\n', "\n ")))
        .collect();
    format!("{{{}}}", items.join(",\n "))
}

/// IPython's display of a tuple of multi-line reprs: `(a,\n b)`, continuation lines indented.
pub fn ipython_tuple(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|v| v.replace('\n', "\n ")).collect();
    format!("({})", items.join(",\n "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long array whose shown corners (first and last three along each axis) are `head` and
    /// `tail`, with `fill` between: numpy's summarised print only reads the corners.
    fn corners<T: Copy>(head: &[T], tail: &[T], len: usize, fill: T) -> Vec<T> {
        let mut v = vec![fill; len];
        v[..head.len()].copy_from_slice(head);
        v[len - tail.len()..].copy_from_slice(tail);
        v
    }

    /// The notebook's printed arrays, rebuilt from their visible values, print character for
    /// character as the notebook printed them.
    #[test]
    fn numpy_and_torch_reprs_match_the_notebooks_cells() {
        let n = 80000;
        let dict = ipython_dict(&[
            ("num_users", "944".into()),
            ("num_items", "1683".into()),
            (
                "user_ids",
                int_array(&corners(&[642, 796, 557], &[79, 606, 201], n, 1), &[n]),
            ),
            (
                "item_ids",
                int_array(&corners(&[832, 226, 180], &[276, 288, 603], n, 1), &[n]),
            ),
            (
                "ratings",
                float32_array(&corners(&[3., 3., 5.], &[3., 4., 4.], n, 1.), &[n]),
            ),
            (
                "timestamps",
                int_array(
                    &corners(
                        &[892240991, 893048410, 881179653],
                        &[891271957, 877641931, 884113924],
                        n,
                        1,
                    ),
                    &[n],
                ),
            ),
            ("weights", "None".into()),
        ]);
        assert_eq!(
            dict,
            "{'num_users': 944,
 'num_items': 1683,
 'user_ids': array([642, 796, 557, ...,  79, 606, 201], dtype=int32),
 'item_ids': array([832, 226, 180, ..., 276, 288, 603], dtype=int32),
 'ratings': array([3., 3., 5., ..., 3., 4., 4.], dtype=float32),
 'timestamps': array([892240991, 893048410, 881179653, ..., 891271957, 877641931,
        884113924], dtype=int32),
 'weights': None}"
        );

        let y_pred = corners(
            &[4.544159, 3.9084182, 3.9396346],
            &[3.5382147, 3.7397728, 3.6165702],
            20000,
            3.0,
        );
        assert_eq!(
            float32_array(&y_pred, &[20000]),
            "array([4.544159 , 3.9084182, 3.9396346, ..., 3.5382147, 3.7397728,
       3.6165702], dtype=float32)"
        );

        let rows = [
            vec![642, 832],
            vec![796, 226],
            vec![557, 180],
            vec![347, 318],
            vec![895, 742],
        ];
        assert_eq!(
            ipython_tuple(&[
                torch_int_rows(&rows),
                torch_whole_floats(&[3., 3., 5., 3., 4.])
            ]),
            "(tensor([[642, 832],
         [796, 226],
         [557, 180],
         [347, 318],
         [895, 742]]),
 tensor([3., 3., 5., 3., 4.]))"
        );

        // train.__dict__ of the sequences: 8249 x 10, rows given by their shown corners
        let (len, width) = (8249, 10);
        let shown_rows: [(usize, [i64; 6]); 6] = [
            (0, [209, 32, 189, 5, 74, 102]),
            (1, [255, 272, 271, 244, 18, 270]),
            (2, [100, 154, 9, 222, 258, 266]),
            (len - 3, [928, 24, 274, 1047, 111, 284]),
            (len - 2, [763, 50, 412, 685, 471, 405]),
            (len - 1, [0, 0, 64, 1067, 127, 508]),
        ];
        let mut items = vec![1i64; len * width];
        for (r, v) in shown_rows {
            items[r * width..r * width + 3].copy_from_slice(&v[..3]);
            items[r * width + width - 3..(r + 1) * width].copy_from_slice(&v[3..]);
        }
        let users = corners(&[1, 1, 1], &[943, 943, 943], len, 500);
        let dict = ipython_dict(&[
            ("sequences", int_array(&items, &[len, width])),
            ("user_ids", int_array(&users, &[len])),
            ("max_sequence_length", "10".into()),
            ("num_items", "1683".into()),
        ]);
        assert_eq!(
            dict,
            "{'sequences': array([[ 209,   32,  189, ...,    5,   74,  102],
        [ 255,  272,  271, ...,  244,   18,  270],
        [ 100,  154,    9, ...,  222,  258,  266],
        ...,
        [ 928,   24,  274, ..., 1047,  111,  284],
        [ 763,   50,  412, ...,  685,  471,  405],
        [   0,    0,   64, ..., 1067,  127,  508]], dtype=int32),
 'user_ids': array([  1,   1,   1, ..., 943, 943, 943], dtype=int32),
 'max_sequence_length': 10,
 'num_items': 1683}"
        );

        // y_pred.round(2): 2190 x 1683 probabilities
        let (len, width) = (2190, 1683);
        let mut probs = vec![0.0f32; len * width];
        for (r, second) in [(0, 0.01), (len - 3, 0.01), (len - 2, 0.03)] {
            probs[r * width + 1] = second;
        }
        assert_eq!(
            float32_array(&probs, &[len, width]),
            "array([[0.  , 0.01, 0.  , ..., 0.  , 0.  , 0.  ],
       [0.  , 0.  , 0.  , ..., 0.  , 0.  , 0.  ],
       [0.  , 0.  , 0.  , ..., 0.  , 0.  , 0.  ],
       ...,
       [0.  , 0.01, 0.  , ..., 0.  , 0.  , 0.  ],
       [0.  , 0.03, 0.  , ..., 0.  , 0.  , 0.  ],
       [0.  , 0.  , 0.  , ..., 0.  , 0.  , 0.  ]], dtype=float32)"
        );
        // short arrays are not summarised; a wrapped array puts its dtype where it fits
        assert_eq!(
            int_array(&[1, 22, 333], &[3]),
            "array([  1,  22, 333], dtype=int32)"
        );
        assert_eq!(
            float32_array(&[0.5, -1.25, 2.0], &[3]),
            "array([ 0.5 , -1.25,  2.  ], dtype=float32)"
        );
        let wrapped: Vec<i64> = (0..30).map(|k| 37 * k).collect();
        assert_eq!(
            int_array(&wrapped, &[30]),
            "array([   0,   37,   74,  111,  148,  185,  222,  259,  296,  333,  370,
        407,  444,  481,  518,  555,  592,  629,  666,  703,  740,  777,
        814,  851,  888,  925,  962,  999, 1036, 1073], dtype=int32)"
        );
    }
}
