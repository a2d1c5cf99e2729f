//! The notebook's SGD matrix factorization: plain Rust vectors and the same floating-point
//! operations, in the same order, as its `loop`; and the normal distribution it draws from.

use std::collections::HashMap;

use anyhow::{Context as _, Result};

use recsys::rng::pyrandom::PyRandom;
use recsys::runtime::progress::epoch_bar;

use super::movies::Rating;
use super::EMBEDDING_DIM;

/// Losses of one pass over a data set.
#[derive(Debug, Clone, Copy)]
pub struct PassLoss {
    /// What the notebook's bar shows: the running average at the last step with `i % 1000 == 0`.
    pub shown: f64,
    /// Mean squared error over the whole pass.
    pub mean: f64,
}

/// The notebook's model: one `EMBEDDING_DIM` vector per user and per movie, prediction = dot.
pub struct VectorModel {
    /// User vectors, in the order the ids were given.
    pub user_vectors: Vec<[f64; EMBEDDING_DIM]>,
    /// Movie vectors, in the order the ids were given.
    pub movie_vectors: Vec<[f64; EMBEDDING_DIM]>,
    user_index: HashMap<i64, usize>,
    movie_index: HashMap<i64, usize>,
}

impl VectorModel {
    /// `random_tensor(EMBEDDING_DIM)` for each user id, then each movie id, in the given order,
    /// drawing from `rng` like `scratch.deep_learning.random_normal`.
    pub fn new(user_ids: &[i64], movie_ids: &[i64], rng: &mut PyRandom) -> VectorModel {
        let mut draw = |ids: &[i64]| -> Vec<[f64; EMBEDDING_DIM]> {
            ids.iter()
                .map(|_| std::array::from_fn(|_| inverse_normal_cdf(rng.random())))
                .collect()
        };
        let user_vectors = draw(user_ids);
        let movie_vectors = draw(movie_ids);
        let index = |ids: &[i64]| ids.iter().enumerate().map(|(k, &id)| (id, k)).collect();
        VectorModel {
            user_vectors,
            movie_vectors,
            user_index: index(user_ids),
            movie_index: index(movie_ids),
        }
    }

    /// Ratings as (user index, movie index, rating).
    pub fn index(&self, ratings: &[Rating]) -> Result<Vec<(usize, usize, f64)>> {
        ratings
            .iter()
            .map(|r| {
                let u = *self
                    .user_index
                    .get(&r.user_id)
                    .with_context(|| format!("unknown user {}", r.user_id))?;
                let m = *self
                    .movie_index
                    .get(&r.movie_id)
                    .with_context(|| format!("unknown movie {}", r.movie_id))?;
                Ok((u, m, r.rating))
            })
            .collect()
    }

    /// The notebook's `loop`: one pass in order; with a learning rate, an SGD step on each
    /// rating (both gradients from the vectors before the step). Shows a bar labelled `label`.
    pub fn epoch(
        &mut self,
        data: &[(usize, usize, f64)],
        learning_rate: Option<f64>,
        label: &str,
    ) -> PassLoss {
        let bar = epoch_bar(data.len() as u64, label);
        let mut loss = 0.0;
        let mut shown = 0.0;
        for (i, &(u, m, rating)) in data.iter().enumerate() {
            let user_vector = self.user_vectors[u];
            let movie_vector = self.movie_vectors[m];
            let predicted = dot(&user_vector, &movie_vector);
            let error = predicted - rating;
            loss += py_square(error);
            if let Some(lr) = learning_rate {
                for j in 0..EMBEDDING_DIM {
                    self.user_vectors[u][j] -= lr * (error * movie_vector[j]);
                    self.movie_vectors[m][j] -= lr * (error * user_vector[j]);
                }
            }
            if i % 1000 == 0 {
                shown = loss / (i + 1) as f64;
                bar.set_position(i as u64 + 1);
                bar.set_message(format!("avg loss: {shown:.6}"));
            }
        }
        bar.finish_and_clear();
        PassLoss {
            shown,
            mean: loss / data.len().max(1) as f64,
        }
    }
}

/// `sum(v_i * w_i)` left to right, as `scratch.linear_algebra.dot`.
fn dot(v: &[f64], w: &[f64]) -> f64 {
    v.iter().zip(w).fold(0.0, |s, (a, b)| s + a * b)
}

extern "C" {
    fn erf(x: f64) -> f64;
    fn pow(x: f64, y: f64) -> f64;
}

/// Python's `x ** 2` on floats: C `pow(x, 2.0)` (kept a call, not folded into `x * x`).
pub fn py_square(x: f64) -> f64 {
    // SAFETY: pow from the C math library is a pure function of two doubles.
    unsafe { pow(x, std::hint::black_box(2.0)) }
}

/// `scratch.probability.normal_cdf` with `math.erf` (the C library's, as CPython uses).
pub fn normal_cdf(x: f64) -> f64 {
    // SAFETY: erf from the C math library is a pure function of a double.
    (1.0 + unsafe { erf(x / std::f64::consts::SQRT_2) }) / 2.0
}

/// `scratch.probability.inverse_normal_cdf`: binary search on [-10, 10] to tolerance 1e-5.
pub fn inverse_normal_cdf(p: f64) -> f64 {
    let (mut low_z, mut hi_z, mut mid_z) = (-10.0, 10.0, 0.0);
    while hi_z - low_z > 0.00001 {
        mid_z = (low_z + hi_z) / 2.0;
        if normal_cdf(mid_z) < p {
            low_z = mid_z;
        } else {
            hi_z = mid_z;
        }
    }
    mid_z
}
