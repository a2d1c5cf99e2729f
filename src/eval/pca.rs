//! Principal component analysis of a small set of dense vectors (e.g. learned item embeddings).
//!
//! The components are the eigenvectors of the sample covariance matrix (rows are observations),
//! found with the cyclic Jacobi eigenvalue method, which is exact to rounding for the small
//! symmetric matrices met here (embedding dimension d, a d x d covariance). Each component's
//! sign is fixed so that its largest-magnitude entry is positive, so results are reproducible.

use anyhow::{bail, Result};

/// A fitted PCA: the data mean and the leading principal components.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Column means of the fitted data.
    pub mean: Vec<f64>,
    /// Unit-length components, largest variance first.
    pub components: Vec<Vec<f64>>,
    /// Variance of the data along each component (sample variance, divided by n - 1).
    pub explained_variance: Vec<f64>,
    /// Total variance of the data (the covariance matrix's trace).
    pub total_variance: f64,
}

impl Pca {
    /// Fit `n_components` components to `data` (one row per observation, all of equal length;
    /// at least two rows).
    #[allow(clippy::needless_range_loop)] // index loops over a small symmetric matrix
    pub fn fit(data: &[Vec<f64>], n_components: usize) -> Result<Pca> {
        let Some(first) = data.first() else {
            bail!("PCA of an empty data set")
        };
        let d = first.len();
        if data.iter().any(|r| r.len() != d) {
            bail!("PCA: rows of different lengths");
        }
        if data.len() < 2 {
            bail!("PCA needs at least two rows, got {}", data.len());
        }
        if n_components == 0 || n_components > d {
            bail!("PCA: asked for {n_components} components of {d}-dimensional data");
        }
        let n = data.len() as f64;
        let mean: Vec<f64> = (0..d)
            .map(|j| data.iter().map(|r| r[j]).sum::<f64>() / n)
            .collect();
        let mut cov = vec![vec![0.0; d]; d];
        for row in data {
            for a in 0..d {
                for b in a..d {
                    cov[a][b] += (row[a] - mean[a]) * (row[b] - mean[b]);
                }
            }
        }
        for a in 0..d {
            for b in a..d {
                cov[a][b] /= n - 1.0;
                cov[b][a] = cov[a][b];
            }
        }
        let total_variance = (0..d).map(|a| cov[a][a]).sum();
        let (values, vectors) = symmetric_eigen(cov);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
        let mut components = Vec::new();
        let mut explained_variance = Vec::new();
        for &k in order.iter().take(n_components) {
            let mut v: Vec<f64> = (0..d).map(|r| vectors[r][k]).collect();
            let big = v
                .iter()
                .copied()
                .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            if big < 0.0 {
                v.iter_mut().for_each(|x| *x = -*x);
            }
            components.push(v);
            explained_variance.push(values[k].max(0.0));
        }
        Ok(Pca {
            mean,
            components,
            explained_variance,
            total_variance,
        })
    }

    /// Coordinates of each row of `data` along the components (after subtracting the mean).
    pub fn transform(&self, data: &[Vec<f64>]) -> Vec<Vec<f64>> {
        data.iter()
            .map(|row| {
                self.components
                    .iter()
                    .map(|c| {
                        c.iter()
                            .zip(row)
                            .zip(&self.mean)
                            .map(|((w, x), m)| w * (x - m))
                            .sum()
                    })
                    .collect()
            })
            .collect()
    }

    /// Share of the total variance along each component.
    pub fn explained_variance_ratio(&self) -> Vec<f64> {
        self.explained_variance
            .iter()
            .map(|v| {
                if self.total_variance > 0.0 {
                    v / self.total_variance
                } else {
                    0.0
                }
            })
            .collect()
    }
}

/// Eigenvalues and eigenvectors (as the columns of the returned matrix) of a symmetric matrix,
/// by cyclic Jacobi rotations.
#[allow(clippy::needless_range_loop)] // rotations read best as index loops
fn symmetric_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let d = a.len();
    let mut v: Vec<Vec<f64>> = (0..d)
        .map(|i| (0..d).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        let scale: f64 = (0..d)
            .map(|i| a[i][i] * a[i][i])
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                if a[p][q] == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..d {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..d).map(|i| a[i][i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn diagonal_cloud() {
        // Spread 2*sqrt(2) along (1, 1) and sqrt(2) along (1, -1), centred on (1, 1).
        let data = vec![
            vec![3.0, 3.0],
            vec![-1.0, -1.0],
            vec![2.0, 0.0],
            vec![0.0, 2.0],
        ];
        let pca = Pca::fit(&data, 2).unwrap();
        assert_eq!(pca.mean, vec![1.0, 1.0]);
        let h = 0.5f64.sqrt();
        assert!(
            close(pca.components[0][0], h) && close(pca.components[0][1], h),
            "{pca:?}"
        );
        assert!(close(pca.components[1][0].abs(), h) && close(pca.components[1][1].abs(), h));
        assert!(close(pca.components[1][0], -pca.components[1][1]));
        // Covariance [[10, 6], [6, 10]] / 3: eigenvalues 16/3 and 4/3.
        assert!(close(pca.explained_variance[0], 16.0 / 3.0), "{pca:?}");
        assert!(close(pca.explained_variance[1], 4.0 / 3.0));
        assert!(close(pca.explained_variance_ratio()[0], 0.8));
        let t = pca.transform(&data);
        assert!(close(t[0][0], 8f64.sqrt()) && close(t[1][0], -(8f64.sqrt())));
        assert!(close(t[2][0], 0.0) && close(t[2][1].abs(), 2f64.sqrt()));
    }

    #[test]
    fn three_dimensions_sorted_by_variance() {
        // Axis-aligned spreads: variance 1/3 * (sum of squares) along z > x > y.
        let data = vec![
            vec![2.0, 0.0, 0.0],
            vec![-2.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![0.0, -1.0, 0.0],
            vec![0.0, 0.0, 3.0],
            vec![0.0, 0.0, -3.0],
        ];
        let pca = Pca::fit(&data, 2).unwrap();
        assert_eq!(pca.components.len(), 2);
        assert!(close(pca.components[0][2], 1.0), "{pca:?}");
        assert!(close(pca.components[1][0], 1.0), "{pca:?}");
        assert!(close(pca.explained_variance[0], 18.0 / 5.0));
    }

    #[test]
    fn bad_shapes_are_errors() {
        assert!(Pca::fit(&[], 1).is_err());
        assert!(Pca::fit(&[vec![1.0, 2.0]], 1).is_err());
        assert!(Pca::fit(&[vec![1.0, 2.0], vec![1.0]], 1).is_err());
        assert!(Pca::fit(&[vec![1.0, 2.0], vec![0.0, 1.0]], 3).is_err());
    }
}
