//! EASE^R (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", 2019): an item-item
//! weight matrix `B` with a zero diagonal that reconstructs the interaction matrix, `X ≈ X B`,
//! under an L2 penalty λ. Its closed form: `P = (XᵀX + λI)⁻¹`, `B = I − P · diag(1 / diag(P))`
//! (column `j` of `P` divided by `P_jj`, negated), `diag(B) = 0`. Scores are `X B`.

use anyhow::{bail, Result};
use tch::{Kind, Tensor};

use crate::classic::dense::{check_dense_size, interaction_matrix, select_rows};
use crate::classic::sparse::{par_rows, threads, Csr};
use crate::classic::{Ranker, TrainSet};

/// Settings of EASE^R.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The L2 penalty λ on `B` (default 300, tuned on ml-100k, docs/classic.md).
    pub lambda: f64,
    /// Fit the binary matrix (default `true`) rather than the train values.
    pub binary: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            lambda: 300.0,
            binary: true,
        }
    }
}

/// A fitted EASE^R model.
#[derive(Debug)]
pub struct Ease {
    /// `[n_users, n_items]` interactions.
    pub(crate) x: Tensor,
    /// `[n_items, n_items]` item weights, zero diagonal.
    pub(crate) b: Tensor,
}

impl Ease {
    /// Solves the closed form in f64 (as Cornac's and the paper's numpy code do): the Gram
    /// matrix `XᵀX` summed from the stored pairs ([`gram`]), then `P` through its Cholesky
    /// factor (`XᵀX + λI` is symmetric positive definite), half the work of a general
    /// inverse. Refuses a λ that is not positive and more items than a 4 GB f64 Gram matrix
    /// holds.
    pub fn fit(train: &TrainSet, config: &Config) -> Result<Ease> {
        if !config.lambda.is_finite() || config.lambda <= 0.0 {
            bail!("EASE: lambda must be finite and > 0, got {}", config.lambda);
        }
        check_dense_size(
            "EASE (item x item Gram, inverse and weights)",
            train.n_items,
            train.n_items,
            24,
        )?;
        let x = interaction_matrix(train, config.binary)?;
        // An item without train pairs has a zero row and column in XᵀX: its block of P is
        // 1/λ on the diagonal, its column of B zero. Only the items with pairs are solved.
        let by_user = Csr::of_users(train, config.binary);
        let (active, by_user) = active_items(&by_user);
        let m = active.len() as i64;
        let g = Tensor::from_slice(&gram(&by_user, config.lambda)).view([m, m]);
        // B = P / −diag(P) column by column, diagonal 0: in place, P being ours alone
        let mut p = g.f_linalg_cholesky(false)?.f_cholesky_inverse(false)?;
        let minus_diag = -p.diag(0);
        let _ = p
            .f_div_(&minus_diag.unsqueeze(0))?
            .fill_diagonal_(0.0, false);
        let n = train.n_items;
        if m == n {
            return Ok(Ease {
                x,
                b: p.to_kind(Kind::Float),
            });
        }
        let active = Tensor::from_slice(&active);
        let columns = Tensor::zeros([m, n], (Kind::Float, tch::Device::Cpu)).index_copy(
            1,
            &active,
            &p.to_kind(Kind::Float),
        );
        let b =
            Tensor::zeros([n, n], (Kind::Float, tch::Device::Cpu)).index_copy(0, &active, &columns);
        Ok(Ease { x, b })
    }

    /// The `[n_items, n_items]` weight matrix `B`.
    pub fn weights(&self) -> &Tensor {
        &self.b
    }
}

/// The items with at least one pair (ascending), and `x` with only their columns, renumbered
/// `0..` in that order.
fn active_items(x: &Csr) -> (Vec<i64>, Csr) {
    let mut code = vec![u32::MAX; x.n_cols];
    for &c in &x.cols {
        code[c as usize] = 0;
    }
    let mut active = Vec::new();
    for (c, slot) in code.iter_mut().enumerate() {
        if *slot == 0 {
            *slot = active.len() as u32;
            active.push(c as i64);
        }
    }
    let mut compact = x.clone();
    compact.n_cols = active.len();
    compact.cols.iter_mut().for_each(|c| *c = code[*c as usize]);
    (active, compact)
}

/// `XᵀX + λI` (row-major f64, `[n_items, n_items]`) of the user rows `x`: row `i` sums, over
/// the users of item `i`, `x_ui` times the user's row; `O(Σ_u nnz_u²)`, rows in parallel.
fn gram(x: &Csr, lambda: f64) -> Vec<f64> {
    let by_item = x.transpose();
    let n = x.n_cols;
    let mut g = vec![0f64; n * n];
    par_rows(&mut g, n, threads(), |first, block| {
        for (offset, row) in block.chunks_exact_mut(n).enumerate() {
            let i = first + offset;
            let (us, vs) = by_item.row(i);
            for (&u, &v) in us.iter().zip(vs) {
                let (js, ws) = x.row(u as usize);
                for (&j, &w) in js.iter().zip(ws) {
                    row[j as usize] += f64::from(v) * f64::from(w);
                }
            }
            row[i] += lambda;
        }
    });
    g
}

impl Ranker for Ease {
    fn scores(&self, users: &[i64]) -> Result<Tensor> {
        Ok(select_rows(&self.x, users)?.matmul(&self.b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_column_is_the_ridge_regression_on_the_other_columns() {
        // 6 users x 5 items. Without the diagonal constraint's trick, column j of B solves
        // min |x_j - X_{-j} b|² + λ|b|²: b = (X_{-j}ᵀ X_{-j} + λI)⁻¹ X_{-j}ᵀ x_j.
        let dense = [
            [1., 1., 0., 0., 1.],
            [0., 1., 1., 0., 0.],
            [1., 0., 1., 1., 0.],
            [0., 0., 1., 1., 1.],
            [1., 1., 1., 0., 0.],
            [0., 1., 0., 1., 1.],
        ];
        let (mut users, mut items) = (vec![], vec![]);
        for (u, row) in dense.iter().enumerate() {
            for (i, &v) in row.iter().enumerate() {
                if v > 0.0 {
                    users.push(u as i64);
                    items.push(i as i64);
                }
            }
        }
        let n = users.len();
        let train = TrainSet::new(6, 5, users, items, vec![1.0; n]).unwrap();
        let lambda = 2.0;
        let model = Ease::fit(
            &train,
            &Config {
                lambda,
                binary: true,
            },
        )
        .unwrap();
        let b = Vec::<Vec<f32>>::try_from(model.weights()).unwrap();

        let x = Tensor::from_slice(&dense.concat()).view([6, 5]);
        for j in 0..5i64 {
            let others: Vec<i64> = (0..5).filter(|&c| c != j).collect();
            let xo = x.index_select(1, &Tensor::from_slice(&others));
            let eye = Tensor::eye(4, (Kind::Double, tch::Device::Cpu));
            let lhs = xo.tr().matmul(&xo) + eye * lambda;
            let rhs = xo.tr().matmul(&x.select(1, j).unsqueeze(1));
            let want =
                Vec::<f64>::try_from(Tensor::linalg_solve(&lhs, &rhs, true).squeeze()).unwrap();
            assert_eq!(b[j as usize][j as usize], 0.0);
            for (o, w) in others.iter().zip(want) {
                let got = f64::from(b[*o as usize][j as usize]);
                assert!((got - w).abs() < 1e-5, "B[{o}][{j}] = {got}, want {w}");
            }
        }
        // scores are X B
        let s = Vec::<f32>::try_from(model.scores(&[2]).unwrap().squeeze()).unwrap();
        let want: Vec<f32> = (0..5)
            .map(|j| [0, 2, 3].iter().map(|&i| b[i][j]).sum())
            .collect();
        for (g, w) in s.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{s:?}");
        }
    }

    #[test]
    fn an_item_without_pairs_gets_zero_weights_and_leaves_the_others_alone() {
        // items 0 and 2 as in a two-item set; item 1 never seen
        let with_gap = TrainSet::new(3, 3, vec![0, 0, 1, 2], vec![0, 2, 0, 2], vec![1.0; 4]);
        let without = TrainSet::new(3, 2, vec![0, 0, 1, 2], vec![0, 1, 0, 1], vec![1.0; 4]);
        let config = Config {
            lambda: 1.5,
            binary: true,
        };
        let b =
            Vec::<Vec<f32>>::try_from(Ease::fit(&with_gap.unwrap(), &config).unwrap().b).unwrap();
        let want =
            Vec::<Vec<f32>>::try_from(Ease::fit(&without.unwrap(), &config).unwrap().b).unwrap();
        assert_eq!(b[1], [0.0; 3]);
        assert!(b.iter().all(|row| row[1] == 0.0));
        assert_eq!(
            [b[0][0], b[0][2], b[2][0], b[2][2]],
            [want[0][0], want[0][1], want[1][0], want[1][1]]
        );
        assert!(b[0][2] > 0.0);
    }

    #[test]
    fn bad_lambda_and_too_many_items_are_refused() {
        let train = TrainSet::new(1, 3, vec![0], vec![0], vec![1.0]).unwrap();
        let zero = Config {
            lambda: 0.0,
            binary: true,
        };
        assert!(Ease::fit(&train, &zero)
            .unwrap_err()
            .to_string()
            .contains("lambda"));
        let huge = TrainSet::new(1, 20_000, vec![0], vec![0], vec![1.0]).unwrap();
        let err = Ease::fit(&huge, &Config::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("20000 x 20000"), "{err}");
        assert!(err.contains("at most 12909 x 12909 fit"), "{err}");
    }
}
