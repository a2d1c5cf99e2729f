//! The one Mersenne Twister (MT19937) of the project, with its two seedings: libtorch's
//! (`at::mt19937`, `ATen/core/MT19937RNGEngine.h`, word for word: [`Mt19937::new`]) and
//! CPython's `random.seed` (`init_by_array`: [`Mt19937::from_key`], which
//! [`super::pyrandom::PyRandom`] builds on). Bulk draws are written so the compiler can
//! vectorize them.

/// Words of state (`MERSENNE_STATE_N`).
pub(crate) const STATE_WORDS: usize = 624;
/// The recurrence's middle offset (`MERSENNE_STATE_M`).
const SHIFT: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;
/// Low 53 bits: what `uniform_real_distribution<double>` keeps of a 64-bit draw.
const MANTISSA_53: u64 = (1 << 53) - 1;
/// Elements of a Bernoulli draw handled per block of words (keeps the words in L1).
const BLOCK: usize = 2048;

/// The engine's state, as `at::mt19937_data_pod` holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mt19937 {
    seed: u64,
    /// Calls left before the next twist, counting the one that twists (1..=624).
    left: i32,
    /// Index of the next state word to temper and return.
    next: u32,
    state: [u32; STATE_WORDS],
}

impl Mt19937 {
    /// The engine `torch.manual_seed(seed)` sets up (`init_with_uint32`).
    pub fn new(seed: u64) -> Mt19937 {
        let mut state = [0u32; STATE_WORDS];
        state[0] = seed as u32;
        for j in 1..STATE_WORDS {
            let prev = state[j - 1];
            state[j] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(j as u32);
        }
        Mt19937 {
            seed,
            left: 1,
            next: 0,
            state,
        }
    }

    /// The engine CPython's `random.seed` sets up from the 32-bit words of a seed, least
    /// significant first (`init_by_array` over `init_genrand(19650218)`). An empty key acts as
    /// `[0]`, the key CPython uses for seed 0. [`Mt19937::seed`] then answers the first two key
    /// words as one number (low word first): the seed itself when it fits in 64 bits.
    pub fn from_key(key: &[u32]) -> Mt19937 {
        const N: usize = STATE_WORDS;
        let key = if key.is_empty() { &[0][..] } else { key };
        let mut mt = Mt19937::new(19_650_218);
        let s = &mut mt.state;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            let prev = s[i - 1];
            s[i] = (s[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                s[0] = s[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = s[i - 1];
            s[i] =
                (s[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                s[0] = s[N - 1];
                i = 1;
            }
        }
        s[0] = UPPER_MASK; // MSB is 1, assuring a non-zero initial array
        mt.seed = u64::from(key[0]) | key.get(1).map_or(0, |&w| u64::from(w) << 32);
        mt
    }

    /// An engine from a generator's saved fields, or `None` when they are not a state the
    /// engine can continue from (libtorch's `is_valid`, plus: the words still to be read lie
    /// inside the state, which every state libtorch itself makes satisfies).
    pub(crate) fn from_parts(
        seed: u64,
        left: i32,
        seeded: bool,
        next: u32,
        state: [u32; STATE_WORDS],
    ) -> Option<Mt19937> {
        let in_bounds = (1..=STATE_WORDS as i32).contains(&left)
            && next as usize + left as usize - 1 <= STATE_WORDS;
        (seeded && in_bounds).then_some(Mt19937 {
            seed,
            left,
            next,
            state,
        })
    }

    /// The seed the engine was created with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub(crate) fn left(&self) -> i32 {
        self.left
    }

    pub(crate) fn next(&self) -> u32 {
        self.next
    }

    pub(crate) fn state(&self) -> &[u32; STATE_WORDS] {
        &self.state
    }

    /// One 32-bit draw (`at::mt19937::operator()`).
    pub fn next_u32(&mut self) -> u32 {
        let mut word = 0;
        self.fill_u32(std::slice::from_mut(&mut word));
        word
    }

    /// `out.len()` consecutive 32-bit draws, the same as that many `next_u32` calls.
    #[inline(always)]
    pub fn fill_u32(&mut self, mut out: &mut [u32]) {
        while !out.is_empty() {
            if self.left == 1 {
                // The call that counts `left` down to 0 regenerates the state and reads word 0.
                twist(&mut self.state);
                self.left = STATE_WORDS as i32;
                out[0] = temper(self.state[0]);
                self.next = 1;
                out = &mut out[1..];
                continue;
            }
            let take = ((self.left - 1) as usize).min(out.len());
            let start = self.next as usize;
            let (head, rest) = out.split_at_mut(take);
            for (o, &w) in head.iter_mut().zip(&self.state[start..start + take]) {
                *o = temper(w);
            }
            self.next += take as u32;
            self.left -= take as i32;
            out = rest;
        }
    }

    /// Fills `out` with 1.0 where a draw of `bernoulli_distribution<double>(p)` succeeds and
    /// 0.0 elsewhere, consuming the stream as libtorch's CPU `bernoulli_(p)` does: per
    /// element, two words make a 64-bit draw (first word high), whose low 53 bits scaled by
    /// 2^-53 are compared with `p`. `p` must be in [0, 1].
    pub fn bernoulli_f32(&mut self, out: &mut [f32], p: f64) {
        debug_assert!((0.0..=1.0).contains(&p));
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has the feature the function is compiled for.
            return unsafe { self.bernoulli_f32_avx2(out, p) };
        }
        self.bernoulli_f32_portable(out, p)
    }

    /// [`Mt19937::bernoulli_f32`] compiled for AVX2 (eight words per twist and temper step).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn bernoulli_f32_avx2(&mut self, out: &mut [f32], p: f64) {
        self.bernoulli_f32_portable(out, p)
    }

    #[inline(always)]
    fn bernoulli_f32_portable(&mut self, out: &mut [f32], p: f64) {
        // For an integer x below 2^53: x · 2^-53 < p  ⟺  x < ⌈p · 2^53⌉ (all exact in f64).
        let cut = (p * (1u64 << 53) as f64).ceil() as i64;
        let mut words = [0u32; 2 * BLOCK];
        for chunk in out.chunks_mut(BLOCK) {
            let words = &mut words[..2 * chunk.len()];
            self.fill_u32(words);
            for (o, pair) in chunk.iter_mut().zip(words.chunks_exact(2)) {
                let x = ((u64::from(pair[0]) << 32) | u64::from(pair[1])) & MANTISSA_53;
                *o = if (x as i64) < cut { 1.0 } else { 0.0 };
            }
        }
    }
}

/// MT19937's tempering of one state word.
#[inline(always)]
fn temper(mut y: u32) -> u32 {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c_5680;
    y ^= (y << 15) & 0xefc6_0000;
    y ^ (y >> 18)
}

#[inline(always)]
fn mix(u: u32, v: u32) -> u32 {
    (((u & UPPER_MASK) | (v & LOWER_MASK)) >> 1) ^ if v & 1 == 1 { MATRIX_A } else { 0 }
}

/// Regenerates all 624 words (`next_state`), in three runs whose inputs never overlap their
/// outputs within a vector's reach.
#[inline(always)]
fn twist(s: &mut [u32; STATE_WORDS]) {
    const N: usize = STATE_WORDS;
    for i in 0..N - SHIFT {
        s[i] = s[i + SHIFT] ^ mix(s[i], s[i + 1]);
    }
    for i in N - SHIFT..N - 1 {
        s[i] = s[i + SHIFT - N] ^ mix(s[i], s[i + 1]);
    }
    s[N - 1] = s[SHIFT - 1] ^ mix(s[N - 1], s[0]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference MT19937 output: the 10000th draw from seed 5489 is 4123659995.
    #[test]
    fn matches_the_reference_sequence() {
        let mut mt = Mt19937::new(5489);
        let mut words = vec![0u32; 10_000];
        mt.fill_u32(&mut words);
        assert_eq!(words[0], 3_499_211_612);
        assert_eq!(words[9_999], 4_123_659_995);
    }

    /// libtorch's seeding (`init_with_uint32`) is the reference one: the first words equal
    /// C++'s `std::mt19937(0)`'s.
    #[test]
    fn libtorch_seeding_first_outputs() {
        let mut mt = Mt19937::new(0);
        assert_eq!(mt.next_u32(), 2_357_136_044);
        assert_eq!(mt.next_u32(), 2_546_248_239);
        assert_eq!(mt.seed(), 0);
    }

    /// CPython's seeding: the first words (`random.getrandbits(32)`) after `random.seed(0)`,
    /// `random.seed(2**40)` and `random.seed(12345678901234567890123)` (three key words).
    #[test]
    fn cpython_seeding_first_outputs() {
        let mut mt = Mt19937::from_key(&[0]);
        assert_eq!(
            [mt.next_u32(), mt.next_u32()],
            [3_626_764_237, 1_654_615_998]
        );
        assert_eq!(Mt19937::from_key(&[]), Mt19937::from_key(&[0]));
        let mut wide = Mt19937::from_key(&[0, 256]);
        assert_eq!(wide.seed(), 1 << 40);
        assert_eq!(wide.next_u32(), 445_128_065);
        let mut three = Mt19937::from_key(&[1_900_168_395, 1_119_243_894, 669]);
        assert_eq!(three.next_u32(), 678_764_485);
    }

    /// Bulk draws in uneven pieces equal single draws.
    #[test]
    fn bulk_equals_single_draws() {
        let mut a = Mt19937::new(7);
        let mut b = a.clone();
        let single: Vec<u32> = (0..3_000).map(|_| a.next_u32()).collect();
        let mut bulk = vec![0u32; 3_000];
        let mut at = 0;
        for len in [1, 622, 1, 2, 700, 1_250, 424] {
            b.fill_u32(&mut bulk[at..at + len]);
            at += len;
        }
        assert_eq!(at, bulk.len());
        assert_eq!(single, bulk);
        assert_eq!(a, b);
    }
}
