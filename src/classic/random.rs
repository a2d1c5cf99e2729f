//! The random ranker: every score drawn uniformly from `[0, 1)`, the floor any model must beat.

use anyhow::Result;
use tch::{Device, Kind, Tensor};

use crate::classic::dense::check_users;
use crate::classic::{Ranker, TrainSet};

/// The random ranker has nothing to set.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {}

/// Uniform random scores from libtorch's generator, drawn afresh at each [`Ranker::scores`]
/// call: `tch::manual_seed` before the call makes them reproducible.
#[derive(Debug, Clone, PartialEq)]
pub struct Random {
    pub(crate) n_users: i64,
    pub(crate) n_items: i64,
}

impl Random {
    /// Remembers the numbers of users and items.
    pub fn fit(train: &TrainSet, _config: &Config) -> Result<Random> {
        Ok(Random {
            n_users: train.n_users,
            n_items: train.n_items,
        })
    }
}

impl Ranker for Random {
    fn scores(&self, users: &[i64]) -> Result<Tensor> {
        check_users(users, self.n_users)?;
        Ok(Tensor::rand(
            [users.len() as i64, self.n_items],
            (Kind::Float, Device::Cpu),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducible_under_a_seed_and_in_range() {
        let train = TrainSet::new(3, 4, vec![0], vec![1], vec![1.0]).unwrap();
        let model = Random::fit(&train, &Config::default()).unwrap();
        tch::manual_seed(7);
        let a = model.scores(&[0, 2]).unwrap();
        tch::manual_seed(7);
        let b = model.scores(&[0, 2]).unwrap();
        let c = model.scores(&[0, 2]).unwrap();
        assert_eq!(a.size(), [2, 4]);
        assert!(a.equal(&b));
        assert!(!a.equal(&c));
        let v = Vec::<f32>::try_from(a.flatten(0, -1)).unwrap();
        assert!(v.iter().all(|s| (0.0..1.0).contains(s)));
        assert!(model.scores(&[3]).is_err());
    }
}
