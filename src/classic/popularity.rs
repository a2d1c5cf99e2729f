//! The most-popular ranker: every user gets the items with the most train interactions.

use anyhow::Result;
use tch::Tensor;

use crate::classic::dense::check_users;
use crate::classic::{Ranker, TrainSet};

/// The most-popular ranker has nothing to set.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {}

/// Scores every item by its number of train rows, the same for every user.
#[derive(Debug)]
pub struct MostPopular {
    /// `[1, n_items]` counts.
    pub(crate) counts: Tensor,
    pub(crate) n_users: i64,
}

impl MostPopular {
    /// Counts the train rows of each item.
    pub fn fit(train: &TrainSet, _config: &Config) -> Result<MostPopular> {
        let mut counts = vec![0f32; train.n_items as usize];
        for &i in &train.items {
            counts[i as usize] += 1.0;
        }
        Ok(MostPopular {
            counts: Tensor::from_slice(&counts).unsqueeze(0),
            n_users: train.n_users,
        })
    }
}

impl Ranker for MostPopular {
    fn scores(&self, users: &[i64]) -> Result<Tensor> {
        check_users(users, self.n_users)?;
        Ok(self
            .counts
            .expand([users.len() as i64, -1], false)
            .contiguous())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::metrics::top_k;

    #[test]
    fn items_ordered_by_train_count() {
        // item 2: 3 rows, item 0: 2, item 3: 1, item 1: none
        let train = TrainSet::new(
            3,
            4,
            vec![0, 1, 2, 0, 1, 2],
            vec![2, 2, 2, 0, 0, 3],
            vec![1.0; 6],
        )
        .unwrap();
        let model = MostPopular::fit(&train, &Config::default()).unwrap();
        let s = model.scores(&[1, 2]).unwrap();
        assert_eq!(s.size(), [2, 4]);
        let row = Vec::<f32>::try_from(s.get(1)).unwrap();
        assert_eq!(row, [2.0, 0.0, 3.0, 1.0]);
        assert_eq!(top_k(&row, 4), [2, 0, 3, 1]);
        assert!(model.scores(&[3]).is_err());
    }
}
