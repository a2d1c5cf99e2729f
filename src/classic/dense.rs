//! What the ranking models share: the dense user × item matrix of a [`TrainSet`], the memory
//! cap the dense models (kNN, EASE^R) check before they build a matrix, and the check of the
//! user indices a [`crate::classic::Ranker`] is asked to score.

use anyhow::{bail, Result};
use tch::{Kind, Tensor};

use crate::classic::TrainSet;

/// The most memory the dense matrices of one classic model may take: 4 GB.
pub const MAX_DENSE_BYTES: f64 = 4e9;

/// Fails with one line naming `what`, its size and the largest size that fits when dense
/// `rows × cols` matrices taking `bytes_per_entry` bytes per entry in all (e.g. 12 for three
/// f32 copies) would exceed [`MAX_DENSE_BYTES`]. Checked before anything is allocated.
pub fn check_dense_size(what: &str, rows: i64, cols: i64, bytes_per_entry: i64) -> Result<()> {
    let bytes = rows as f64 * cols as f64 * bytes_per_entry as f64;
    if bytes > MAX_DENSE_BYTES {
        let fits = if rows == cols {
            let n = (MAX_DENSE_BYTES / bytes_per_entry as f64).sqrt().floor();
            format!("at most {n} x {n} fit (keep fewer items or users, e.g. the most popular)")
        } else {
            let n = (MAX_DENSE_BYTES / (cols as f64 * bytes_per_entry as f64)).floor();
            format!("at most {n} x {cols} fit (keep fewer rows, e.g. a sample of the users)")
        };
        bail!(
            "{what}: dense {rows} x {cols} matrices of {:.1} GB in all, over the 4 GB cap; {fits}",
            bytes / 1e9
        );
    }
    Ok(())
}

/// The dense `[n_users, n_items]` f32 interaction matrix: 1 for every train pair when `binary`,
/// else the sum of the pair's values. Refused over [`MAX_DENSE_BYTES`].
pub fn interaction_matrix(train: &TrainSet, binary: bool) -> Result<Tensor> {
    check_dense_size(
        "the user x item interaction matrix",
        train.n_users,
        train.n_items,
        4,
    )?;
    let n_items = train.n_items as usize;
    let mut x = vec![0f32; train.n_users as usize * n_items];
    for ((&u, &i), &v) in train.users.iter().zip(&train.items).zip(&train.values) {
        let cell = &mut x[u as usize * n_items + i as usize];
        *cell = if binary { 1.0 } else { *cell + v };
    }
    Ok(Tensor::from_slice(&x).view([train.n_users, train.n_items]))
}

/// Fails with one line unless every user index is in `0..n_users`.
pub fn check_users(users: &[i64], n_users: i64) -> Result<()> {
    if let Some(u) = users.iter().find(|&&u| !(0..n_users).contains(&u)) {
        bail!("user index {u} is outside 0..{n_users}");
    }
    Ok(())
}

/// The rows `users` of `matrix` (`[n, m]`, as f32), checked against its row count.
pub fn select_rows(matrix: &Tensor, users: &[i64]) -> Result<Tensor> {
    check_users(users, matrix.size()[0])?;
    Ok(matrix
        .index_select(0, &Tensor::from_slice(users))
        .to_kind(Kind::Float))
}
