//! Random splits, as Spotlight's `cross_validation` makes them.
//!
//! - [`random_train_test_split`]: shuffle all interactions (libtorch's `randperm`, so a seeded
//!   run is reproducible and a PyTorch twin draws the same permutation) and cut at
//!   `int((1 - test_fraction) * n)`: the first part is train, the rest test.
//! - [`user_based_train_test_split`]: every interaction of a user goes to the same side. A user is
//!   in test when `murmurhash3_32(user_id, seed) % 100 / 100 < test_fraction`, with a hash seed
//!   drawn from the random generator. So about `test_fraction` of the users (not of the
//!   interactions) are in test, and the exact counts depend on the seed.

use tch::{Device, Kind, Tensor};

use crate::data::interactions::Interactions;

/// Row indices of a random split of `n` rows: `(train, test)`, train first in shuffled order.
/// Draws one `randperm(n)` from libtorch's CPU generator.
pub fn random_split_indices(n: usize, test_fraction: f64) -> (Vec<usize>, Vec<usize>) {
    let perm: Vec<i64> = Vec::try_from(Tensor::randperm(n as i64, (Kind::Int64, Device::Cpu)))
        .expect("randperm gives int64");
    let cutoff = ((1.0 - test_fraction) * n as f64) as usize;
    let perm: Vec<usize> = perm.into_iter().map(|i| i as usize).collect();
    let (train, test) = perm.split_at(cutoff.min(n));
    (train.to_vec(), test.to_vec())
}

/// Spotlight's `random_train_test_split`: a random `1 - test_fraction` of the interactions to
/// train, the rest to test (80000 / 20000 for ml-100k with 0.2).
pub fn random_train_test_split(
    interactions: &Interactions,
    test_fraction: f64,
) -> (Interactions, Interactions) {
    let (train, test) = random_split_indices(interactions.len(), test_fraction);
    (interactions.select(&train), interactions.select(&test))
}

/// MurmurHash3 (x86, 32-bit) of a 32-bit integer key read as 4 little-endian bytes, as
/// scikit-learn's `murmurhash3_32(key, seed, positive=True)` computes it.
pub fn murmurhash3_32(key: i32, seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut k1 = key as u32;
    k1 = k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
    let mut h1 = seed ^ k1;
    h1 = h1.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    h1 ^= 4; // key length in bytes
    h1 ^= h1 >> 16;
    h1 = h1.wrapping_mul(0x85eb_ca6b);
    h1 ^= h1 >> 13;
    h1 = h1.wrapping_mul(0xc2b2_ae35);
    h1 ^ (h1 >> 16)
}

/// A hash seed in `[0, 2^32 - 1)`, drawn with one `randint` from libtorch's CPU generator
/// (Spotlight draws it from NumPy's generator in the same range).
pub fn draw_hash_seed() -> u32 {
    let t = Tensor::randint_low(0, u32::MAX as i64, [1], (Kind::Int64, Device::Cpu));
    t.int64_value(&[0]) as u32
}

/// Whether `user_id` goes to test under the hash seed: `hash % 100 / 100 < test_fraction`.
pub fn user_in_test(user_id: i64, hash_seed: u32, test_fraction: f64) -> bool {
    (murmurhash3_32(user_id as i32, hash_seed) % 100) as f64 / 100.0 < test_fraction
}

/// Spotlight's `user_based_train_test_split` with a given hash seed: `(train, test)`, each
/// keeping the interactions' order.
pub fn user_based_split_with_seed(
    interactions: &Interactions,
    test_fraction: f64,
    hash_seed: u32,
) -> (Interactions, Interactions) {
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (row, &user) in interactions.user_ids.iter().enumerate() {
        if user_in_test(user, hash_seed, test_fraction) {
            test.push(row);
        } else {
            train.push(row);
        }
    }
    (interactions.select(&train), interactions.select(&test))
}

/// Spotlight's `user_based_train_test_split`: draws the hash seed with [`draw_hash_seed`], then
/// splits with [`user_based_split_with_seed`]. Returns `(train, test, hash_seed)`.
pub fn user_based_train_test_split(
    interactions: &Interactions,
    test_fraction: f64,
) -> (Interactions, Interactions, u32) {
    let seed = draw_hash_seed();
    let (train, test) = user_based_split_with_seed(interactions, test_fraction, seed);
    (train, test, seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(n: usize) -> Interactions {
        Interactions {
            user_ids: (0..n as i64).map(|i| i % 37 + 1).collect(),
            item_ids: (0..n as i64).map(|i| i % 11 + 1).collect(),
            ratings: vec![3.0; n],
            timestamps: (0..n as i64).collect(),
            num_users: 38,
            num_items: 12,
        }
    }

    #[test]
    fn murmurhash_matches_scikit_learn() {
        // scikit-learn's tests: murmurhash3_32(3) == 847579505,
        // murmurhash3_32(3, seed=42, positive=True) == 2471885347
        assert_eq!(murmurhash3_32(3, 0), 847_579_505);
        assert_eq!(murmurhash3_32(3, 42), 2_471_885_347);
    }

    #[test]
    fn random_split_sizes_and_disjoint() {
        tch::manual_seed(1);
        let data = toy(1000);
        let (train, test) = random_split_indices(data.len(), 0.2);
        assert_eq!((train.len(), test.len()), (800, 200));
        let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        let (tr, te) = random_train_test_split(&data, 0.2);
        assert_eq!((tr.len(), te.len(), tr.num_users), (800, 200, 38));
    }

    #[test]
    fn user_split_keeps_users_whole() {
        let data = toy(2000);
        let (train, test) = user_based_split_with_seed(&data, 0.2, 123);
        assert_eq!(train.len() + test.len(), 2000);
        assert!(!test.is_empty() && !train.is_empty());
        for u in &test.user_ids {
            assert!(!train.user_ids.contains(u), "user {u} on both sides");
        }
        // a different seed moves users
        let (_, test2) = user_based_split_with_seed(&data, 0.2, 124);
        assert_ne!(test.user_ids, test2.user_ids);
        // fraction 0 and 1
        assert!(user_based_split_with_seed(&data, 0.0, 5).1.is_empty());
        assert!(user_based_split_with_seed(&data, 1.0, 5).0.is_empty());
    }
}
