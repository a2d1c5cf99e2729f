//! How notebook 002 prints its arrays, through the project's formatters of numpy, torch and
//! IPython (`recsys::report::{numpy, torch, ipython}`): `repr(ndarray)` of the int32 and float32
//! arrays of its `__dict__` cells, its short torch tensors, and IPython's layout of the dict and
//! tuple cells that hold them.

use recsys::report::{ipython, numpy, torch};

/// `repr` of an int32 array of `shape` (row-major `values`).
pub fn int_array(values: &[i64], shape: &[usize]) -> String {
    let v: Vec<f64> = values.iter().map(|&x| x as f64).collect();
    numpy::array_repr(&v, shape, numpy::Dtype::Int32)
}

/// `repr` of a float32 array of `shape` (row-major `values`).
pub fn float32_array(values: &[f32], shape: &[usize]) -> String {
    let v: Vec<f64> = values.iter().map(|&x| f64::from(x)).collect();
    numpy::array_repr(&v, shape, numpy::Dtype::Float32)
}

/// `repr` of a 2-d int64 torch tensor: `tensor([[642, 832],\n ...])`.
pub fn torch_int_rows(rows: &[Vec<i64>]) -> String {
    let v: Vec<f64> = rows.iter().flatten().map(|&x| x as f64).collect();
    let shape = [rows.len(), rows.first().map_or(0, Vec::len)];
    torch::tensor_repr(&v, &shape, torch::Dtype::Int64, None)
}

/// `repr` of a 1-d float tensor: `tensor([3., 3., 5.])`.
pub fn torch_whole_floats(values: &[f32]) -> String {
    let v: Vec<f64> = values.iter().map(|&x| f64::from(x)).collect();
    torch::tensor_repr(&v, &[v.len()], torch::Dtype::Float32, None)
}

/// IPython's display of a dict whose values are reprs ([`ipython::dict`]).
pub fn ipython_dict(entries: &[(&str, String)]) -> String {
    ipython::dict(entries)
}

/// IPython's display of a tuple of multi-line reprs ([`ipython::tuple`]).
pub fn ipython_tuple(items: &[String]) -> String {
    ipython::tuple(items)
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
