//! The toy data set of part 1: 15 users' interests, as [`Interactions`].

use recsys::models::neighbors::Interactions;
use recsys::report::pyfmt::{pprint_list, py_float, py_str};

use super::USERS_INTERESTS;

/// The toy interests as [`Interactions`] over the sorted unique interests.
pub struct ToyInterests {
    /// `sorted(set(...))` of all interests: item index -> name.
    pub unique: Vec<&'static str>,
    /// Users x interests, each user's interests in the notebook's order.
    pub data: Interactions,
}

impl ToyInterests {
    /// Build from [`USERS_INTERESTS`].
    pub fn new() -> ToyInterests {
        let mut unique: Vec<&'static str> = USERS_INTERESTS
            .iter()
            .flat_map(|u| u.iter().copied())
            .collect();
        unique.sort_unstable();
        unique.dedup();
        let lists: Vec<Vec<usize>> = USERS_INTERESTS
            .iter()
            .map(|u| u.iter().map(|s| unique.binary_search(s).unwrap()).collect())
            .collect();
        let data = Interactions::from_user_lists(unique.len(), &lists).expect("toy data is valid");
        ToyInterests { unique, data }
    }

    /// Name of interest `i`.
    pub fn name(&self, i: usize) -> &'static str {
        self.unique[i]
    }

    /// The notebook's `make_user_interest_vector` for user `u`: 1 where the user has the interest.
    pub fn interest_vector(&self, u: usize) -> Vec<u8> {
        (0..self.unique.len())
            .map(|i| u8::from(self.data.has(u, i)))
            .collect()
    }

    /// `most_popular_new_interests(user_interests, max_results)`.
    pub fn most_popular_new_interests(
        &self,
        user_interests: &[&str],
        max_results: usize,
    ) -> Vec<(&'static str, usize)> {
        let own: Vec<usize> = user_interests
            .iter()
            .filter_map(|s| self.unique.binary_search(s).ok())
            .collect();
        self.data
            .most_popular_new(&own, max_results)
            .into_iter()
            .map(|(i, n)| (self.name(i), n))
            .collect()
    }

    /// `(interest, score)` pairs as the notebook's cell output shows them (pprint).
    pub fn pprint_scores(&self, pairs: &[(usize, f64)]) -> String {
        pprint_list(
            &pairs
                .iter()
                .map(|&(i, s)| format!("({}, {})", py_str(self.name(i)), py_float(s)))
                .collect::<Vec<_>>(),
        )
    }
}

impl Default for ToyInterests {
    fn default() -> Self {
        Self::new()
    }
}
