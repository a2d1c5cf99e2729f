//! Surprise 1.1's `NormalPredictor` (its "Random" row): each prediction a fresh draw from
//! `normal(μ, σ)`, with μ and σ the train ratings' mean and maximum-likelihood standard
//! deviation (divided by n, not n − 1), clipped into the rating scale. The draws come from
//! libtorch's generator, so `tch::manual_seed` makes them reproducible, or, through
//! [`NormalPredictor::predict_numpy`], from a numpy `RandomState` as Surprise draws them (from
//! numpy's global generator, one `np.random.normal(μ, σ)` per prediction).

use anyhow::Result;
use tch::{Device, Kind, Tensor};

use super::baseline::GlobalMean;
use super::funk_svd::by_user_order;
use super::{RatingPredictor, TrainSet};
use crate::rng::numpy::RandomState;

/// A fitted `NormalPredictor`.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalPredictor {
    /// The mean μ, the scale and who is known.
    pub base: GlobalMean,
    /// `σ = sqrt(Σ (r − μ)² / n)` over the train ratings.
    pub sd: f64,
}

impl NormalPredictor {
    /// The train mean and standard deviation. Nothing to configure. The squares are summed
    /// one at a time in Surprise's order (user by user, see [`by_user_order`]).
    pub fn fit(train: &TrainSet) -> Result<NormalPredictor> {
        let base = GlobalMean::fit(train)?;
        let mut ss = 0.0;
        for row in by_user_order(train) {
            let d = f64::from(train.values[row]) - base.mean;
            ss += d * d;
        }
        let sd = (ss / train.len() as f64).sqrt();
        Ok(NormalPredictor { base, sd })
    }
}

impl NormalPredictor {
    /// `n` predictions drawn as Surprise's `NormalPredictor.estimate` draws them,
    /// `rs.normal(μ, σ)` one at a time, each clipped into the rating scale.
    pub fn predict_numpy(&self, rs: &mut RandomState, n: usize) -> Vec<f64> {
        (0..n)
            .map(|_| self.base.clip(rs.normal(self.base.mean, self.sd)))
            .collect()
    }
}

impl RatingPredictor for NormalPredictor {
    /// One draw per pair, whoever the user and item are (indices are still checked).
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        self.base.check(users, items)?;
        let draws = Tensor::randn([users.len() as i64], (Kind::Double, Device::Cpu)) * self.sd
            + self.base.mean;
        let draws = Vec::<f64>::try_from(&draws)?;
        Ok(draws.into_iter().map(|x| self.base.clip(x)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mle_sd_clipped_draws() {
        // Ratings 1, 2, 4, 5: μ = 3, σ = sqrt((4 + 1 + 1 + 4) / 4) = sqrt(2.5).
        let train = TrainSet::new(
            2,
            2,
            vec![0, 0, 1, 1],
            vec![0, 1, 0, 1],
            vec![1., 2., 4., 5.],
        )
        .unwrap();
        let m = NormalPredictor::fit(&train).unwrap();
        assert_eq!((m.base.mean, m.sd), (3.0, 2.5f64.sqrt()));
        tch::manual_seed(1);
        let n = 20_000;
        let p = m.predict(&vec![0; n], &vec![1; n]).unwrap();
        assert!(p.iter().all(|&x| (1.0..=5.0).contains(&x)));
        // P(draw < 1) = Φ(−2/σ) = Φ(−1.2649) = 0.1030: that share is clipped to exactly 1.
        let at_min = p.iter().filter(|&&x| x == 1.0).count() as f64 / n as f64;
        assert!((at_min - 0.1030).abs() < 0.01, "{at_min}");
        tch::manual_seed(1);
        assert_eq!(m.predict(&vec![0; n], &vec![1; n]).unwrap(), p);
        assert!(m.predict(&[2], &[0]).is_err());
    }
}
