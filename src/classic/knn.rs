//! Neighbourhood rankers on the interaction matrix: item-kNN and user-kNN with shrunk cosine
//! similarity, as implicit's `CosineRecommender` and the kNN baselines of the ranking
//! benchmarks compute them.
//!
//! The similarity of two columns (items) or two rows (users) `a`, `b` of the interaction matrix
//! is `a·b / (|a| |b| + shrink)`, a vector's similarity to itself is 0, and each item (user)
//! keeps only its `k` most similar neighbours. Item-kNN scores item `j` for user `u` by the sum,
//! over the user's items `i`, of `x_ui` times the similarity of `j` among `i`'s neighbours;
//! user-kNN by the sum, over `u`'s neighbours `v`, of their similarity times `x_vj`. The
//! similarities are computed sparse ([`cosine_top_k`]); scoring is one dense matrix product,
//! so the similarity matrix must fit under [`crate::classic::dense::MAX_DENSE_BYTES`].

use anyhow::{bail, Result};
use tch::{Kind, Tensor};

use crate::classic::dense::{check_dense_size, interaction_matrix, select_rows};
use crate::classic::sparse::{par_rows, threads, Csr};
use crate::classic::{Ranker, TrainSet};

/// Settings of both kNN rankers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Neighbours kept per item (user). Default 200 for item-kNN ([`Config::item_default`]),
    /// 50 for user-kNN ([`Config::user_default`]).
    #[serde(rename = "neighbors", alias = "k")]
    pub k: usize,
    /// Added to the product of the norms in the cosine's denominator (default 0), so that
    /// similarities resting on few common users (items) shrink towards 0.
    pub shrink: f64,
    /// Similarity on the binary matrix (default `true`) rather than on the train values.
    pub binary: bool,
}

impl Config {
    /// The item-kNN defaults (tuned on ml-100k, docs/classic.md).
    pub fn item_default() -> Config {
        Config {
            k: 200,
            shrink: 0.0,
            binary: true,
        }
    }

    /// The user-kNN defaults (tuned on ml-100k, docs/classic.md).
    pub fn user_default() -> Config {
        Config {
            k: 50,
            shrink: 0.0,
            binary: true,
        }
    }

    fn check(&self) -> Result<()> {
        if self.k == 0 {
            bail!("kNN: k must be at least 1, got 0");
        }
        if !self.shrink.is_finite() || self.shrink < 0.0 {
            bail!("kNN: shrink must be finite and >= 0, got {}", self.shrink);
        }
        Ok(())
    }
}

/// The shrunk cosine similarities between the rows of `m` (`[n, d]`), self-similarity 0, each
/// row keeping its `k` largest entries (the others 0), as a dense `[n, n]` f32 tensor; `mt` is
/// `m`'s transpose.
///
/// Sparse: row `a`'s dot products come from walking `a`'s columns and, for each, that
/// column's rows (`Σ_d m_ad m_bd`, only over the stored entries), `O(Σ_d nnz_d²)` in all
/// rather than the dense product's `O(n² d)`; the `k` largest are kept by a partial selection
/// (value descending, then the lower index), not a sort. Similarities that are not positive
/// (possible only with negative values) are dropped, as pairs without common entries are.
pub fn cosine_top_k(m: &Csr, mt: &Csr, k: usize, shrink: f64) -> Tensor {
    let n = m.n_rows;
    let norms: Vec<f32> = (0..n)
        .map(|r| m.row(r).1.iter().map(|v| v * v).sum::<f32>().sqrt())
        .collect();
    let shrink = shrink as f32;
    let mut sim = vec![0f32; n * n];
    par_rows(&mut sim, n, threads(), |first, block| {
        let mut dots = vec![0f32; n];
        let mut seen = vec![false; n];
        let (mut touched, mut kept) = (Vec::new(), Vec::<(f32, u32)>::new());
        for (offset, out) in block.chunks_exact_mut(n).enumerate() {
            let a = first + offset;
            let (ds, vs) = m.row(a);
            for (&d, &v) in ds.iter().zip(vs) {
                let (bs, ws) = mt.row(d as usize);
                for (&b, &w) in bs.iter().zip(ws) {
                    let b = b as usize;
                    if !seen[b] {
                        seen[b] = true;
                        touched.push(b);
                    }
                    dots[b] += v * w;
                }
            }
            kept.clear();
            for &b in &touched {
                // a vector without interactions has norm 0: with shrink 0, 0 / 1e-12
                let s = dots[b] / (norms[a] * norms[b] + shrink).max(1e-12);
                if b != a && s > 0.0 {
                    kept.push((s, b as u32));
                }
                dots[b] = 0.0;
                seen[b] = false;
            }
            touched.clear();
            if kept.len() > k {
                let order =
                    |x: &(f32, u32), y: &(f32, u32)| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1));
                kept.select_nth_unstable_by(k - 1, order);
                kept.truncate(k);
            }
            for &(s, b) in &kept {
                out[b as usize] = s;
            }
        }
    });
    Tensor::from_slice(&sim).view([n as i64, n as i64])
}

/// Item-kNN: the user's items vote for their neighbours.
#[derive(Debug)]
pub struct ItemKnn {
    /// `[n_users, n_items]` interactions.
    pub(crate) x: Tensor,
    /// `[n_items, n_items]`: row `i` holds item `i`'s neighbours.
    pub(crate) sim: Tensor,
}

impl ItemKnn {
    /// Builds the interaction matrix and the item-item neighbourhoods; refuses more items
    /// than a 4 GB similarity matrix holds.
    pub fn fit(train: &TrainSet, config: &Config) -> Result<ItemKnn> {
        config.check()?;
        check_dense_size(
            "item-kNN (item x item similarities)",
            train.n_items,
            train.n_items,
            12,
        )?;
        let x = interaction_matrix(train, config.binary)?;
        let by_user = Csr::of_users(train, config.binary);
        let sim = cosine_top_k(&by_user.transpose(), &by_user, config.k, config.shrink);
        Ok(ItemKnn { x, sim })
    }
}

impl Ranker for ItemKnn {
    fn scores(&self, users: &[i64]) -> Result<Tensor> {
        Ok(select_rows(&self.x, users)?.matmul(&self.sim))
    }
}

/// User-kNN: the user's neighbours vote with their items.
#[derive(Debug)]
pub struct UserKnn {
    /// `[n_users, n_items]` interactions.
    pub(crate) x: Tensor,
    /// `[n_users, n_users]`: row `u` holds user `u`'s neighbours.
    pub(crate) sim: Tensor,
}

impl UserKnn {
    /// Builds the interaction matrix and the user-user neighbourhoods; refuses more users
    /// than a 4 GB similarity matrix holds.
    pub fn fit(train: &TrainSet, config: &Config) -> Result<UserKnn> {
        config.check()?;
        check_dense_size(
            "user-kNN (user x user similarities)",
            train.n_users,
            train.n_users,
            12,
        )?;
        let x = interaction_matrix(train, config.binary)?;
        let by_user = Csr::of_users(train, config.binary);
        let sim = cosine_top_k(&by_user, &by_user.transpose(), config.k, config.shrink);
        Ok(UserKnn { x, sim })
    }
}

impl Ranker for UserKnn {
    fn scores(&self, users: &[i64]) -> Result<Tensor> {
        Ok(select_rows(&self.sim, users)?
            .matmul(&self.x)
            .to_kind(Kind::Float))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// u0: items 0, 1; u1: items 0, 1, 2; u2: items 2, 3.
    fn tiny() -> TrainSet {
        TrainSet::new(
            3,
            4,
            vec![0, 0, 1, 1, 1, 2, 2],
            vec![0, 1, 0, 1, 2, 2, 3],
            vec![1.0; 7],
        )
        .unwrap()
    }

    fn rows(model: &dyn Ranker) -> Vec<Vec<f32>> {
        let s = model.scores(&[0, 1, 2]).unwrap();
        (0..3).map(|u| Vec::try_from(s.get(u)).unwrap()).collect()
    }

    fn assert_close(got: &[Vec<f32>], want: &[[f64; 4]; 3]) {
        for (g, w) in got.iter().zip(want) {
            for (a, b) in g.iter().zip(w) {
                assert!((f64::from(*a) - b).abs() < 1e-6, "{got:?} != {want:?}");
            }
        }
    }

    #[test]
    fn item_knn_by_hand() {
        // Item columns: i0 = i1 = {u0, u1}, i2 = {u1, u2}, i3 = {u2}; norms √2, √2, √2, 1.
        // With shrink 1: s01 = 2/3, s02 = s12 = 1/3, s23 = 1/(√2 + 1), s03 = s13 = 0.
        let (a, b, c) = (2.0 / 3.0, 1.0 / 3.0, 1.0 / (2f64.sqrt() + 1.0));
        let all = ItemKnn::fit(
            &tiny(),
            &Config {
                k: 9,
                shrink: 1.0,
                binary: true,
            },
        )
        .unwrap();
        // u0 = row 0 + row 1 of the similarity, u1 = rows 0 + 1 + 2, u2 = rows 2 + 3
        assert_close(
            &rows(&all),
            &[
                [a, a, 2.0 * b, 0.0],
                [a + b, a + b, 2.0 * b, c],
                [b, b, c, c],
            ],
        );
        // one neighbour each: 0 -> 1, 1 -> 0, 2 -> 3, 3 -> 2
        let one = ItemKnn::fit(
            &tiny(),
            &Config {
                k: 1,
                shrink: 1.0,
                binary: true,
            },
        )
        .unwrap();
        assert_close(
            &rows(&one),
            &[[a, a, 0.0, 0.0], [a, a, 0.0, c], [0.0, 0.0, c, c]],
        );
    }

    #[test]
    fn user_knn_by_hand() {
        // User rows: norms √2, √3, √2; u0·u1 = 2, u1·u2 = 1, u0·u2 = 0. With shrink 1:
        // s01 = 2/(√6 + 1), s12 = 1/(√6 + 1). One neighbour each: 0 -> 1, 1 -> 0, 2 -> 1.
        let d = 6f64.sqrt() + 1.0;
        let (s01, s12) = (2.0 / d, 1.0 / d);
        let one = UserKnn::fit(
            &tiny(),
            &Config {
                k: 1,
                shrink: 1.0,
                binary: true,
            },
        )
        .unwrap();
        assert_close(
            &rows(&one),
            &[
                [s01, s01, s01, 0.0],
                [s01, s01, 0.0, 0.0],
                [s12, s12, s12, 0.0],
            ],
        );
        let all = UserKnn::fit(
            &tiny(),
            &Config {
                k: 2,
                shrink: 1.0,
                binary: true,
            },
        )
        .unwrap();
        assert_close(
            &rows(&all),
            &[
                [s01, s01, s01, 0.0],
                [s01, s01, s12, s12],
                [s12, s12, s12, 0.0],
            ],
        );
    }

    /// The dense definition: `m mᵀ` over the norms' product plus shrink, diagonal 0.
    fn dense_cosine(m: &Tensor, shrink: f64) -> Tensor {
        let dots = m.matmul(&m.tr());
        let norms = dots.diag(0).sqrt();
        let denominator = (norms.unsqueeze(1) * norms.unsqueeze(0) + shrink).clamp_min(1e-12);
        (dots / denominator).fill_diagonal_(0.0, false)
    }

    /// `got` keeps, in each row, `k` entries of the dense similarities `full` (or all the
    /// positive ones), and they are its `k` largest: the same values as the dense top `k`,
    /// whichever of equal values were kept.
    fn assert_top_k_of(got: &Tensor, full: &Tensor, k: i64, what: &str) {
        let kept = got.ne(0.0);
        let diff = f64::try_from((got - full * &kept).abs().max()).unwrap();
        assert!(
            diff < 1e-6,
            "{what}: kept values differ from the dense ones by {diff}"
        );
        let k = k.min(full.size()[1]);
        let (want, _) = full.topk(k, 1, true, true);
        let (have, _) = got.topk(k, 1, true, true);
        let diff = f64::try_from((want.clamp_min(0.0) - have).abs().max()).unwrap();
        assert!(diff < 1e-6, "{what}: not the {k} largest ({diff})");
    }

    #[test]
    fn sparse_similarities_are_the_dense_definition_at_any_thread_count() {
        // 30 users x 25 items, a third of the cells set with values 1..5
        tch::manual_seed(7);
        let cells = Vec::<f32>::try_from(Tensor::rand([30 * 25], tch::kind::FLOAT_CPU)).unwrap();
        let (mut users, mut items, mut values) = (vec![], vec![], vec![]);
        for (c, &r) in cells.iter().enumerate() {
            if r < 0.35 {
                users.push(c as i64 / 25);
                items.push(c as i64 % 25);
                values.push(1.0 + (r * 1000.0).floor() % 5.0);
            }
        }
        let train = TrainSet::new(30, 25, users, items, values).unwrap();
        let threads = tch::get_num_threads();
        for binary in [false, true] {
            let x = interaction_matrix(&train, binary).unwrap();
            let m = Csr::of_users(&train, binary);
            for (k, n_threads) in [(4, 1), (4, 2), (24, 3)] {
                tch::set_num_threads(n_threads);
                let what = format!("k {k}, binary {binary}, {n_threads} threads");
                let got = cosine_top_k(&m.transpose(), &m, k, 2.0);
                assert_top_k_of(&got, &dense_cosine(&x.tr(), 2.0), k as i64, &what);
                let got = cosine_top_k(&m, &m.transpose(), k, 2.0);
                assert_top_k_of(&got, &dense_cosine(&x, 2.0), k as i64, &what);
                let again = cosine_top_k(&m, &m.transpose(), k, 2.0);
                assert!(got.equal(&again), "{what}: not reproducible");
            }
        }
        tch::set_num_threads(threads);
    }

    #[test]
    fn bad_settings_and_users_are_refused() {
        let zero = Config {
            k: 0,
            ..Config::item_default()
        };
        assert!(ItemKnn::fit(&tiny(), &zero).is_err());
        let model = ItemKnn::fit(&tiny(), &Config::item_default()).unwrap();
        assert!(model.scores(&[3]).is_err());
        // item 3 has no interactions: with shrink 0 its similarities are 0, not NaN
        let lonely = TrainSet::new(2, 4, vec![0, 1], vec![0, 1], vec![1.0; 2]).unwrap();
        let no_shrink = Config {
            k: 9,
            shrink: 0.0,
            binary: true,
        };
        let s = ItemKnn::fit(&lonely, &no_shrink)
            .unwrap()
            .scores(&[0, 1])
            .unwrap();
        assert_eq!(Vec::<f32>::try_from(s.flatten(0, -1)).unwrap(), [0.0; 8]);
        let huge = TrainSet::new(1, 40_000, vec![0], vec![0], vec![1.0]).unwrap();
        let err = ItemKnn::fit(&huge, &Config::item_default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("40000 x 40000"), "{err}");
    }
}
