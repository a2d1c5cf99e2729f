//! Python's `random` module, bit for bit: [`Mt19937`] seeded from an integer the way CPython 3
//! does ([`Mt19937::from_key`] over the 32-bit words of `abs(seed)`), and `random()`,
//! `getrandbits`, `randbelow` (`_randbelow_with_getrandbits`) and `shuffle` on top of it.
//!
//! Notebook 001 splits ml-100k with `random.seed(0); random.shuffle(ratings)`; with this module
//! the same shuffle, and so the same split and baseline, come out in Rust.

use super::Mt19937;

/// CPython's `random.Random`: the project's one Mersenne Twister ([`Mt19937`]) seeded as
/// CPython seeds it, with CPython's algorithms on top.
#[derive(Clone)]
pub struct PyRandom {
    mt: Mt19937,
}

impl std::fmt::Debug for PyRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PyRandom")
            .field("seed", &self.mt.seed())
            .finish_non_exhaustive()
    }
}

impl PyRandom {
    /// `random.Random(seed)` / `random.seed(seed)` for an integer seed (CPython uses `abs(seed)`).
    pub fn new(seed: i128) -> PyRandom {
        let mut n = seed.unsigned_abs();
        // The 32-bit words of abs(seed), least significant first (none for zero: `from_key`
        // reads an empty key as [0], as CPython does).
        let mut key = Vec::new();
        while n > 0 {
            key.push((n & 0xffff_ffff) as u32);
            n >>= 32;
        }
        PyRandom {
            mt: Mt19937::from_key(&key),
        }
    }

    /// The next 32 random bits (`genrand_uint32`).
    pub fn next_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }

    /// `random.random()`: a float in [0, 1) with 53 random bits.
    pub fn random(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (a as f64 * 67_108_864.0 + b as f64) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `random.getrandbits(k)` for `k <= 64`: 32-bit words, least significant first, the last
    /// one shifted right to keep its top bits, as CPython does.
    pub fn getrandbits(&mut self, k: u32) -> u64 {
        assert!(
            k <= 64,
            "getrandbits supports at most 64 bits here, got {k}"
        );
        if k == 0 {
            return 0;
        }
        if k <= 32 {
            return u64::from(self.next_u32() >> (32 - k));
        }
        let low = u64::from(self.next_u32());
        let high = u64::from(self.next_u32() >> (64 - k));
        low | (high << 32)
    }

    /// `random._randbelow(n)` (`_randbelow_with_getrandbits`): uniform in `0..n`, by rejection
    /// sampling `n.bit_length()` bits. `n` must be positive.
    pub fn randbelow(&mut self, n: u64) -> u64 {
        assert!(n > 0, "randbelow needs a positive bound");
        let k = 64 - n.leading_zeros();
        let mut r = self.getrandbits(k);
        while r >= n {
            r = self.getrandbits(k);
        }
        r
    }

    /// `random.shuffle(x)`: Fisher-Yates from the end, as CPython 3 implements it.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.randbelow(i as u64 + 1) as usize;
            x.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_after_seed_0_matches_cpython() {
        let mut r = PyRandom::new(0);
        assert_eq!(r.random(), 0.8444218515250481);
        assert_eq!(r.random(), 0.7579544029403025);
        assert_eq!(r.random(), 0.420571580830845);
    }

    #[test]
    fn other_seeds_match_cpython() {
        // python3 -c "import random; random.seed(42); print(random.random())"
        assert_eq!(PyRandom::new(42).random(), 0.6394267984578837);
        // Negative seeds use abs(seed).
        assert_eq!(PyRandom::new(-42).random(), 0.6394267984578837);
        // Seeds wider than 32 bits use several key words.
        assert_eq!(PyRandom::new(1 << 40).random(), PY_SEED_2_POW_40);
        // random.seed(1); [random.getrandbits(k) for k in (1, 7, 32, 33, 64)]
        let mut r = PyRandom::new(1);
        let bits: Vec<u64> = [1, 7, 32, 33, 64]
            .iter()
            .map(|&k| r.getrandbits(k))
            .collect();
        assert_eq!(bits, PY_GETRANDBITS_SEED_1);
    }

    #[test]
    fn shuffle_matches_cpython() {
        // random.seed(0); x = list(range(10)); random.shuffle(x)
        let mut x: Vec<u32> = (0..10).collect();
        PyRandom::new(0).shuffle(&mut x);
        assert_eq!(x, PY_SHUFFLE_10_SEED_0);
        // randbelow(1) draws one bit and always answers 0.
        let mut r = PyRandom::new(3);
        assert!((0..100).all(|_| r.randbelow(1) == 0));
    }

    const PY_SEED_2_POW_40: f64 = 0.1036394562812375;
    const PY_GETRANDBITS_SEED_1: [u64; 5] = [0, 72, 3639700191, 7740669488, 4705193143269049553];
    const PY_SHUFFLE_10_SEED_0: [u32; 10] = [7, 8, 1, 5, 3, 4, 2, 0, 9, 6];
}
