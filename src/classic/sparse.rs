//! The train pairs in compressed sparse rows, and the row-parallel loop the classic rankers
//! share: the kNN similarities, EASE^R's Gram matrix and ALS's half steps all work one row
//! at a time on these, touching only the stored pairs.
//!
//! The work is split into contiguous blocks of rows, one per thread (libtorch's intra-op
//! thread count, which `--threads` sets); every row is computed by the same code whatever the
//! split, so the results do not depend on the thread count.

use crate::classic::TrainSet;

/// A sparse matrix in compressed rows: the columns of row `r` are
/// `cols[start[r]..start[r + 1]]`, ascending and distinct, with their `values`.
#[derive(Debug, Clone, PartialEq)]
pub struct Csr {
    /// Number of rows.
    pub n_rows: usize,
    /// Number of columns.
    pub n_cols: usize,
    /// Row offsets, `n_rows + 1` of them.
    pub start: Vec<usize>,
    /// Column of each stored entry.
    pub cols: Vec<u32>,
    /// Value of each stored entry.
    pub values: Vec<f32>,
}

impl Csr {
    /// The user × item matrix of `train`: a pair given more than once is stored once, with 1
    /// when `binary`, else the sum of its values.
    pub fn of_users(train: &TrainSet, binary: bool) -> Csr {
        let pairs = train.users.iter().zip(&train.items).zip(&train.values);
        let mut m = Csr::from_triples(
            train.n_users as usize,
            train.n_items as usize,
            pairs.map(|((&u, &i), &v)| (u as usize, i as u32, v)),
        );
        if binary {
            m.values.iter_mut().for_each(|v| *v = 1.0);
        }
        m
    }

    /// A matrix from `(row, column, value)` triples in any order, duplicates summed.
    fn from_triples(
        n_rows: usize,
        n_cols: usize,
        triples: impl Iterator<Item = (usize, u32, f32)> + Clone,
    ) -> Csr {
        let mut start = vec![0usize; n_rows + 1];
        for (r, _, _) in triples.clone() {
            start[r + 1] += 1;
        }
        for r in 0..n_rows {
            start[r + 1] += start[r];
        }
        let mut next = start.clone();
        let mut entries = vec![(0u32, 0f32); start[n_rows]];
        for (r, c, v) in triples {
            entries[next[r]] = (c, v);
            next[r] += 1;
        }
        let (mut cols, mut values) = (Vec::with_capacity(entries.len()), Vec::new());
        values.reserve(entries.len());
        let mut merged_start = vec![0usize; n_rows + 1];
        for r in 0..n_rows {
            let row = &mut entries[start[r]..start[r + 1]];
            // stable, so a duplicate pair's values are summed in input order
            row.sort_by_key(|&(c, _)| c);
            for &(c, v) in row.iter() {
                if cols.len() > merged_start[r] && cols.last() == Some(&c) {
                    *values.last_mut().unwrap() += v;
                } else {
                    cols.push(c);
                    values.push(v);
                }
            }
            merged_start[r + 1] = cols.len();
        }
        Csr {
            n_rows,
            n_cols,
            start: merged_start,
            cols,
            values,
        }
    }

    /// The transpose (item × user for a user × item matrix), columns ascending.
    pub fn transpose(&self) -> Csr {
        let mut start = vec![0usize; self.n_cols + 1];
        for &c in &self.cols {
            start[c as usize + 1] += 1;
        }
        for c in 0..self.n_cols {
            start[c + 1] += start[c];
        }
        let mut next = start.clone();
        let mut cols = vec![0u32; self.cols.len()];
        let mut values = vec![0f32; self.cols.len()];
        for r in 0..self.n_rows {
            let (cs, vs) = self.row(r);
            for (&c, &v) in cs.iter().zip(vs) {
                let at = &mut next[c as usize];
                cols[*at] = r as u32;
                values[*at] = v;
                *at += 1;
            }
        }
        Csr {
            n_rows: self.n_cols,
            n_cols: self.n_rows,
            start,
            cols,
            values,
        }
    }

    /// The columns and values of row `r`.
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let range = self.start[r]..self.start[r + 1];
        (&self.cols[range.clone()], &self.values[range])
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.cols.len()
    }
}

/// The threads the classic rankers' own loops use: libtorch's intra-op thread count (set by
/// `--threads`), at least 1.
pub fn threads() -> usize {
    tch::get_num_threads().max(1) as usize
}

/// Calls `work(first_row, rows)` on contiguous blocks of the rows of `out` (`width` entries
/// a row), one block per thread, on `threads` threads (the calling one among them).
pub fn par_rows<T: Send>(
    out: &mut [T],
    width: usize,
    threads: usize,
    work: impl Fn(usize, &mut [T]) + Sync,
) {
    let n_rows = out.len().checked_div(width).unwrap_or(0);
    let threads = threads.clamp(1, n_rows.max(1));
    if threads == 1 {
        work(0, out);
        return;
    }
    let per = n_rows.div_ceil(threads);
    std::thread::scope(|scope| {
        let mut blocks = out.chunks_mut(per * width).enumerate();
        let first = blocks.next();
        for (b, block) in blocks {
            let work = &work;
            scope.spawn(move || work(b * per, block));
        }
        if let Some((_, block)) = first {
            work(0, block);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_merged_sorted_and_transposed() {
        // (u0, i2) twice; u1 has nothing
        let train = TrainSet::new(
            3,
            3,
            vec![0, 2, 0, 0, 2],
            vec![2, 0, 1, 2, 2],
            vec![1.0, 4.0, 2.0, 3.0, 5.0],
        )
        .unwrap();
        let m = Csr::of_users(&train, false);
        assert_eq!(m.start, [0, 2, 2, 4]);
        assert_eq!(m.cols, [1, 2, 0, 2]);
        assert_eq!(m.values, [2.0, 4.0, 4.0, 5.0]);
        assert_eq!(m.nnz(), 4);
        assert_eq!(Csr::of_users(&train, true).values, [1.0; 4]);
        let t = m.transpose();
        assert_eq!((t.n_rows, t.n_cols), (3, 3));
        assert_eq!(t.start, [0, 1, 2, 4]);
        assert_eq!(t.cols, [2, 0, 0, 2]);
        assert_eq!(t.values, [4.0, 2.0, 4.0, 5.0]);
        assert_eq!(t.transpose(), m);
    }

    #[test]
    fn every_row_is_visited_once_whatever_the_threads() {
        for threads in 1..=4 {
            let mut out = vec![0usize; 7 * 3];
            par_rows(&mut out, 3, threads, |first, rows| {
                for (k, row) in rows.chunks_exact_mut(3).enumerate() {
                    row.iter_mut().for_each(|v| *v += first + k);
                }
            });
            let want: Vec<usize> = (0..7).flat_map(|r| [r; 3]).collect();
            assert_eq!(out, want, "{threads} threads");
        }
    }
}
