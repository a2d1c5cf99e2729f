//! The `f32` vector kernels of the plain-loop models (ALS's conjugate gradient, BPR's SGD),
//! written so that the compiler vectorises them.

/// `Σ a_k b_k`, summed in eight lanes.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `y += a x`. Always inlined, so that a caller compiled for AVX2 (the fused mf step's) runs
/// it in AVX2 lanes too.
#[inline(always)]
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yk, xk) in y.iter_mut().zip(x) {
        *yk += a * xk;
    }
}

/// `out = M v` for a row-major `n × n` matrix `M`, `n = v.len()`.
pub fn mat_vec(m: &[f32], v: &[f32], out: &mut [f32]) {
    let n = v.len();
    for (o, row) in out.iter_mut().zip(m.chunks_exact(n)) {
        *o = dot(row, v);
    }
}

/// The rows `a` and `b` (distinct) of a row-major matrix with `f` columns, both mutable.
pub fn two_rows(m: &mut [f32], f: usize, a: usize, b: usize) -> (&mut [f32], &mut [f32]) {
    assert_ne!(a, b, "two_rows needs two distinct rows");
    if a < b {
        let (lo, hi) = m.split_at_mut(b * f);
        (&mut lo[a * f..(a + 1) * f], &mut hi[..f])
    } else {
        let (lo, hi) = m.split_at_mut(a * f);
        (&mut hi[..f], &mut lo[b * f..(b + 1) * f])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_by_hand() {
        let a: Vec<f32> = (0..19).map(|k| k as f32).collect();
        assert_eq!(dot(&a, &a), (0..19).map(|k| (k * k) as f32).sum::<f32>());
        let mut y = vec![1.0, 2.0];
        axpy(2.0, &[3.0, -1.0], &mut y);
        assert_eq!(y, [7.0, 0.0]);
        let mut out = [0.0; 2];
        mat_vec(&[1.0, 2.0, 3.0, 4.0], &[1.0, -1.0], &mut out);
        assert_eq!(out, [-1.0, -1.0]);
        let mut m: Vec<f32> = (0..6).map(|k| k as f32).collect();
        let (x, y) = two_rows(&mut m, 2, 2, 0);
        assert_eq!((x.to_vec(), y.to_vec()), (vec![4.0, 5.0], vec![0.0, 1.0]));
    }
}
