//! numpy's legacy `np.random.RandomState`, bit for bit: the project's one Mersenne Twister
//! ([`Mt19937`]) seeded as `RandomState(seed)` seeds it (`mt19937_seed`, the same recurrence as
//! libtorch's [`Mt19937::new`]), with the legacy algorithms of numpy's `distributions` and
//! `legacy-distributions.c` on top: `random_sample`, the polar-method `gauss` that keeps its
//! second value for the next call, `normal`, `uniform`, the masked bounded integers of
//! `randint`, and `shuffle` / `permutation` (`random_interval`).
//!
//! `np.random.seed(s)` seeds the global instance the same way, so [`RandomState::new`] also
//! stands for numpy's global generator. Surprise's `KFold(random_state=0)` shuffles with it,
//! its `SVD`, `SVDpp`, `NMF` and `CoClustering` draw their starting points from it, and its
//! `NormalPredictor` its predictions: with this module the same folds and draws come out in Rust.

use super::Mt19937;

/// numpy's legacy `RandomState` (MT19937 plus the cached second Gaussian).
#[derive(Clone)]
pub struct RandomState {
    mt: Mt19937,
    /// The second value of the last polar-method pair, returned by the next `gauss`.
    gauss: Option<f64>,
}

impl std::fmt::Debug for RandomState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RandomState")
            .field("seed", &self.mt.seed())
            .field("gauss", &self.gauss)
            .finish_non_exhaustive()
    }
}

impl RandomState {
    /// `np.random.RandomState(seed)` (and `np.random.seed(seed)`) for a 32-bit seed.
    pub fn new(seed: u32) -> RandomState {
        RandomState {
            mt: Mt19937::new(u64::from(seed)),
            gauss: None,
        }
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }

    /// `random_sample()`: a float in [0, 1) with 53 random bits (`legacy_double`).
    pub fn random_sample(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) / 9_007_199_254_740_992.0
    }

    /// `standard_normal()` of the legacy generator (`legacy_gauss`): Marsaglia's polar method,
    /// one pair per two calls, the pair's first value kept for the next call.
    pub fn gauss(&mut self) -> f64 {
        if let Some(kept) = self.gauss.take() {
            return kept;
        }
        loop {
            let x1 = 2.0 * self.random_sample() - 1.0;
            let x2 = 2.0 * self.random_sample() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// `normal(loc, scale)`: `loc + scale * gauss()`.
    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        loc + scale * self.gauss()
    }

    /// `normal(loc, scale, size=n)`, in C order.
    pub fn normal_n(&mut self, loc: f64, scale: f64, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.normal(loc, scale)).collect()
    }

    /// `uniform(low, high)`: `low + (high - low) * random_sample()`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        let range = high - low;
        low + range * self.random_sample()
    }

    /// `uniform(low, high, size=n)`, in C order.
    pub fn uniform_n(&mut self, low: f64, high: f64, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.uniform(low, high)).collect()
    }

    /// `randint(high, size=n)` for `0 < high <= 2^32` (int64 output): the legacy masked
    /// rejection, one 32-bit word per try, kept when `word & mask <= high - 1`.
    pub fn randint_n(&mut self, high: u64, n: usize) -> Vec<i64> {
        assert!(
            (1..=1 << 32).contains(&high),
            "randint: high {high} outside 1..=2^32"
        );
        let max = high - 1;
        if max == 0 {
            return vec![0; n];
        }
        if max == 0xffff_ffff {
            return (0..n).map(|_| i64::from(self.next_u32())).collect();
        }
        let mask = mask_of(max) as u32;
        (0..n)
            .map(|_| loop {
                let v = self.next_u32() & mask;
                if u64::from(v) <= max {
                    break i64::from(v);
                }
            })
            .collect()
    }

    /// `random_interval(max)`: a uniform integer in `0..=max` (`max < 2^32`) by masked
    /// rejection, as the legacy `shuffle` draws its swap partners.
    pub fn interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mask = mask_of(u64::from(max)) as u32;
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `shuffle(x)` of a one-dimensional array: for `i` from `n - 1` down to 1, swap `x[i]`
    /// with `x[random_interval(i)]`.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        assert!(
            x.len() <= 1 << 32,
            "shuffle: more than 2^32 elements need 64-bit draws"
        );
        for i in (1..x.len()).rev() {
            let j = self.interval(i as u32) as usize;
            x.swap(i, j);
        }
    }

    /// `permutation(n)`: `arange(n)` shuffled.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut x: Vec<usize> = (0..n).collect();
        self.shuffle(&mut x);
        x
    }
}

/// The smallest all-ones bit mask covering `max`.
fn mask_of(max: u64) -> u64 {
    let mut mask = max;
    for shift in [1, 2, 4, 8, 16, 32] {
        mask |= mask >> shift;
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws of numpy 2 (`np.random.RandomState`), printed by the command in each test: one
    /// `repr` per line. Regenerate with `scripts/numpy-random-fixtures.py`.
    const FIXTURES: &str = include_str!("numpy_fixtures.txt");

    /// The fixture block named `name`: its lines up to the next blank line.
    fn block(name: &str) -> Vec<&'static str> {
        let mut lines = FIXTURES.lines();
        lines
            .by_ref()
            .find(|l| *l == format!("# {name}"))
            .unwrap_or_else(|| panic!("no fixture block {name}"));
        lines.take_while(|l| !l.is_empty()).collect()
    }

    fn floats(name: &str) -> Vec<f64> {
        block(name).iter().map(|l| l.parse().unwrap()).collect()
    }

    fn ints(name: &str) -> Vec<i64> {
        block(name).iter().map(|l| l.parse().unwrap()).collect()
    }

    #[test]
    fn random_sample_equals_numpy() {
        let mut rs = RandomState::new(0);
        let ours: Vec<f64> = (0..1000).map(|_| rs.random_sample()).collect();
        assert_eq!(ours, floats("random_sample seed 0 n 1000"));
        let mut rs = RandomState::new(123_456_789);
        let ours: Vec<f64> = (0..10).map(|_| rs.random_sample()).collect();
        assert_eq!(ours, floats("random_sample seed 123456789 n 10"));
    }

    #[test]
    fn normal_equals_numpy_with_the_kept_gaussian() {
        // An odd count, then more: the second call starts from the kept value.
        let mut rs = RandomState::new(0);
        let mut ours = rs.normal_n(0.0, 0.1, 1001);
        ours.extend(rs.normal_n(3.5, 1.2, 1000));
        let mut theirs = floats("normal seed 0 loc 0 scale 0.1 n 1001");
        theirs.extend(floats("then normal loc 3.5 scale 1.2 n 1000"));
        assert_eq!(ours, theirs);
        // One at a time, as NormalPredictor draws.
        let mut rs = RandomState::new(0);
        let ours: Vec<f64> = (0..7).map(|_| rs.normal(3.52986, 1.12695)).collect();
        assert_eq!(
            ours,
            floats("normal seed 0 loc 3.52986 scale 1.12695 one at a time n 7")
        );
    }

    #[test]
    fn uniform_and_randint_equal_numpy() {
        let mut rs = RandomState::new(0);
        assert_eq!(
            rs.uniform_n(0.0, 1.0, 500),
            floats("uniform seed 0 0 1 n 500")
        );
        assert_eq!(
            rs.uniform_n(-2.0, 3.0, 10),
            floats("then uniform -2 3 n 10")
        );
        let mut rs = RandomState::new(0);
        assert_eq!(rs.randint_n(3, 1000), ints("randint seed 0 high 3 n 1000"));
        assert_eq!(rs.randint_n(1000, 50), ints("then randint high 1000 n 50"));
        assert_eq!(rs.randint_n(1, 3), vec![0, 0, 0]);
        assert_eq!(
            rs.randint_n(1 << 32, 5),
            ints("then randint high 1 n 3, high 2^32 n 5")
        );
    }

    #[test]
    fn shuffle_and_permutation_equal_numpy() {
        let mut rs = RandomState::new(0);
        let ours: Vec<i64> = rs
            .permutation(100_000)
            .into_iter()
            .map(|x| x as i64)
            .collect();
        let theirs = ints("permutation seed 0 n 100000 first 1000");
        assert_eq!(ours[..1000], theirs[..]);
        assert_eq!(
            ours[99_990..],
            ints("permutation seed 0 n 100000 last 10")[..]
        );
        let mut x: Vec<i64> = (0..10).map(|i| i * 10).collect();
        rs.shuffle(&mut x);
        assert_eq!(x, ints("then shuffle arange(0, 100, 10)"));
    }
}
