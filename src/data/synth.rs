//! Synthetic ratings of MovieLens' shape, for tests and benchmarks at any size without a
//! download (`recsys data synth`).
//!
//! The file has ml-25m's layout, `userId,movieId,rating,timestamp`, one user's rows after the
//! other, each user's timestamps increasing. What is drawn, from one seeded MT19937:
//!
//! - **user activity**: user of rank r (1-based) gets a share of the rows in proportion to
//!   `r^-user_exponent`, at least one row and at most half the items;
//! - **item popularity**: each row's item is drawn with probability in proportion to
//!   `r^-item_exponent` (Zipf), without repeats within a user;
//! - **ids**: users and items are numbered 1.. in a shuffled order, so popularity does not
//!   follow the id;
//! - **ratings**: 1 to 5 with MovieLens-like frequencies, more often high for popular items;
//! - **timestamps**: a user's first in 1996..2023, then gaps of up to a day (shorter for the
//!   most active users, whose rows span at most about 13 years).
//!
//! There is no taste structure beyond popularity: it is a load of the right shape, not data to
//! judge a model's quality by. Rows are written as they are drawn: memory holds the tables of
//! users and items, never the rows.

use std::collections::HashSet;
use std::io::Write;

use anyhow::{bail, Result};

use crate::rng::Mt19937;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthSpec {
    /// Rows (ratings) in all.
    pub rows: u64,
    /// Users (each has at least one row).
    pub users: u64,
    /// Items (some of the rarest may be drawn by nobody).
    pub items: u64,
    /// Zipf exponent of item popularity.
    pub item_exponent: f64,
    /// Zipf exponent of user activity.
    pub user_exponent: f64,
    /// Seed of the generator.
    pub seed: u64,
}

/// The most users `data synth` draws: 100 million (ml-32m has 0.2 million).
pub const MAX_USERS: u64 = 100_000_000;
/// The most items: 100 million (ml-32m has 0.09 million).
pub const MAX_ITEMS: u64 = 100_000_000;
/// The most rows: 10 billion (ml-32m has 0.03 billion; the file would be about 300 GB).
pub const MAX_ROWS: u64 = 10_000_000_000;

/// Bytes of memory per user: the activity weights, counts, shuffled ids and id order.
const BYTES_PER_USER: u64 = 40;
/// Bytes of memory per item: shuffled ids, cumulative weights, the used flag, and the set of a
/// user's items (at most half the items).
const BYTES_PER_ITEM: u64 = 17 + 16;

impl SynthSpec {
    /// Check the sizes before any work, and before anything is allocated from them: each
    /// within its limit ([`MAX_USERS`], [`MAX_ITEMS`], [`MAX_ROWS`]) and the tables within the
    /// memory available; errors name the flag.
    pub fn validate(&self) -> Result<()> {
        for (flag, value, limit) in [
            ("--users", self.users, MAX_USERS),
            ("--items", self.items, MAX_ITEMS),
            ("--rows", self.rows, MAX_ROWS),
        ] {
            if value > limit {
                bail!("{flag} must be at most {limit}, got {value}");
            }
        }
        if self.users < 1 || self.items < 2 {
            bail!(
                "--users must be at least 1 and --items at least 2, got {} and {}",
                self.users,
                self.items
            );
        }
        if self.rows < self.users {
            bail!(
                "--rows {} is fewer than --users {}: every user needs at least one row",
                self.rows,
                self.users
            );
        }
        let cap = self.cap();
        if self.rows > self.users.saturating_mul(cap) {
            bail!(
                "--rows {} cannot fit: {} users with at most {cap} distinct items each (half of \
                 --items {}); raise --users or --items",
                self.rows,
                self.users,
                self.items
            );
        }
        for (flag, e) in [
            ("--item-exponent", self.item_exponent),
            ("--user-exponent", self.user_exponent),
        ] {
            if !(e.is_finite() && (0.0..=4.0).contains(&e)) {
                bail!("{flag} must be a number from 0 to 4, got {e}");
            }
        }
        crate::runtime::memory::ensure_fits(
            &format!(
                "data synth with --users {} and --items {}",
                self.users, self.items
            ),
            Some(self.memory_bytes()),
            "lower --users or --items",
        )
    }

    /// About the memory the generator's tables take (the rows are never held).
    pub fn memory_bytes(&self) -> u64 {
        // Within the limits above this cannot overflow.
        self.users * BYTES_PER_USER + self.items * BYTES_PER_ITEM
    }

    /// About the bytes of the CSV file: the header, and each row's ids, rating and timestamp.
    pub fn file_bytes(&self) -> u64 {
        let digits = |n: u64| n.max(1).ilog10() as u64 + 1;
        let row = digits(self.users) + digits(self.items) + ",,3.0,".len() as u64 + 11;
        32 + self.rows.saturating_mul(row)
    }

    /// The most rows one user gets: half the items, so distinct draws stay cheap.
    fn cap(&self) -> u64 {
        (self.items / 2).max(1)
    }
}

/// Rows per user (by activity rank): `r^-exponent` shares of `rows`, each between 1 and the
/// cap, summing to `rows` exactly. Needs a validated spec.
pub fn user_counts(spec: &SynthSpec) -> Vec<u64> {
    let (n, cap) = (spec.users as usize, spec.cap());
    let weights: Vec<f64> = (1..=n)
        .map(|r| (r as f64).powf(-spec.user_exponent))
        .collect();
    let mut counts = vec![1u64; n];
    let mut left = spec.rows - spec.users;
    while left > 0 {
        let open_weight: f64 = (0..n)
            .filter(|&u| counts[u] < cap)
            .map(|u| weights[u])
            .sum();
        let mut added = 0;
        for u in 0..n {
            let room = cap - counts[u];
            if room == 0 {
                continue;
            }
            let share = (left as f64 * weights[u] / open_weight).floor() as u64;
            let add = share.min(room).min(left - added);
            counts[u] += add;
            added += add;
        }
        if added == 0 {
            // What floor() left over: one more row each, most active first.
            for c in counts.iter_mut() {
                if added == left {
                    break;
                }
                if *c < cap {
                    *c += 1;
                    added += 1;
                }
            }
        }
        left -= added;
    }
    counts
}

/// A uniform draw in [0, 1) with 53 random bits.
fn uniform(rng: &mut Mt19937) -> f64 {
    let hi = (rng.next_u32() >> 5) as u64;
    let lo = (rng.next_u32() >> 6) as u64;
    ((hi << 26) | lo) as f64 / (1u64 << 53) as f64
}

/// A uniform draw in `0..n`.
fn below(rng: &mut Mt19937, n: u64) -> u64 {
    ((uniform(rng) * n as f64) as u64).min(n - 1)
}

/// `0..n` in a random order (Fisher–Yates).
fn shuffled(rng: &mut Mt19937, n: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n).collect();
    for i in (1..v.len()).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v
}

/// Cumulative Zipf weights of ranks `1..=n`, normalised to end at 1.
fn zipf_cdf(n: u64, exponent: f64) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = (1..=n)
        .map(|r| {
            acc += (r as f64).powf(-exponent);
            acc
        })
        .collect();
    for c in cdf.iter_mut() {
        *c /= acc;
    }
    cdf
}

/// The rank (0-based) whose cumulative weight first reaches `u`.
fn draw_rank(cdf: &[f64], u: f64) -> usize {
    cdf.partition_point(|&c| c < u).min(cdf.len() - 1)
}

/// A rating from 1 to 5 for an item of popularity rank `rank` of `n_items`: MovieLens-like
/// frequencies (6, 11, 27, 34, 22 %), shifted up for the most popular items.
fn rating(rng: &mut Mt19937, rank: usize, n_items: u64) -> u32 {
    const CDF: [f64; 5] = [0.06, 0.17, 0.44, 0.78, 1.0];
    let lift = 0.1 * (1.0 - rank as f64 / n_items as f64);
    let u = (uniform(rng) + lift).min(0.999_999);
    CDF.iter().position(|&c| u < c).unwrap_or(4) as u32 + 1
}

/// What [`write_csv`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SynthSummary {
    pub rows: u64,
    pub users: u64,
    /// Items drawn at least once.
    pub items_used: u64,
}

/// First timestamp of the range users start in: 1996-01-01 UTC.
const FIRST_START: u64 = 820_454_400;
/// Last start: 2023-01-01 UTC.
const LAST_START: u64 = 1_672_531_200;

/// The most seconds a user's timestamps span: about 12.7 years.
const MAX_SPAN: u64 = 400_000_000;

/// Writes the rows of `spec` as CSV to `out`, calling `progress(rows_so_far)` after each user.
pub fn write_csv(
    spec: &SynthSpec,
    out: &mut impl Write,
    mut progress: impl FnMut(u64),
) -> Result<SynthSummary> {
    spec.validate()?;
    let mut rng = Mt19937::new(spec.seed);
    let counts = user_counts(spec);
    let user_ids = shuffled(&mut rng, spec.users);
    let item_ids = shuffled(&mut rng, spec.items);
    let cdf = zipf_cdf(spec.items, spec.item_exponent);
    let mut used = vec![false; spec.items as usize];
    let mut seen = HashSet::new();
    let mut written = 0u64;
    writeln!(out, "userId,movieId,rating,timestamp")?;
    // Users in id order, as ml-25m's ratings.csv.
    let mut by_id: Vec<(u64, u64)> = user_ids.iter().copied().zip(counts).collect();
    by_id.sort_unstable();
    for (user, count) in by_id {
        seen.clear();
        let mut time = FIRST_START + below(&mut rng, LAST_START - FIRST_START);
        let gap = (MAX_SPAN / count).clamp(1, 86_400);
        while (seen.len() as u64) < count {
            let rank = draw_rank(&cdf, uniform(&mut rng));
            if !seen.insert(rank) {
                continue;
            }
            used[rank] = true;
            let r = rating(&mut rng, rank, spec.items);
            time += below(&mut rng, gap);
            writeln!(out, "{},{},{r}.0,{time}", user + 1, item_ids[rank] + 1)?;
        }
        written += count;
        progress(written);
    }
    out.flush()?;
    Ok(SynthSummary {
        rows: written,
        users: spec.users,
        items_used: used.iter().filter(|&&u| u).count() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(rows: u64, users: u64, items: u64) -> SynthSpec {
        SynthSpec {
            rows,
            users,
            items,
            item_exponent: 1.0,
            user_exponent: 0.5,
            seed: 7,
        }
    }

    #[test]
    fn counts_sum_to_rows_within_caps() {
        for (rows, users, items) in [(1000, 100, 50), (100, 100, 4), (1000, 10, 200)] {
            let s = spec(rows, users, items);
            s.validate().unwrap();
            let c = user_counts(&s);
            assert_eq!(c.iter().sum::<u64>(), rows);
            assert!(c.iter().all(|&n| (1..=items / 2).contains(&n)), "{c:?}");
            // More active ranks never get fewer rows.
            assert!(c.windows(2).all(|w| w[0] >= w[1]), "{c:?}");
        }
        // 1000 rows over 10 users of at most 100 items: everyone at the cap.
        assert!(user_counts(&spec(1000, 10, 200)).iter().all(|&n| n == 100));
    }

    #[test]
    fn refuses_impossible_sizes() {
        assert!(spec(5, 10, 100).validate().is_err());
        let e = spec(1001, 10, 200).validate().unwrap_err().to_string();
        assert!(e.contains("--rows 1001"), "{e}");
        assert!(spec(10, 1, 1).validate().is_err());
        // Sizes past their limit are refused before anything is allocated from them.
        let e = spec(10, 2, 1_000_000_000_000).validate().unwrap_err();
        assert_eq!(
            e.to_string(),
            "--items must be at most 100000000, got 1000000000000"
        );
        let e = spec(u64::MAX, u64::MAX, 10).validate().unwrap_err();
        assert!(e.to_string().starts_with("--users must be at most"), "{e}");
        let e = spec(MAX_ROWS + 1, 10, 10).validate().unwrap_err();
        assert!(e.to_string().starts_with("--rows must be at most"), "{e}");
        assert_eq!(spec(1000, 100, 50).file_bytes(), 32 + 1000 * 22);
    }

    #[test]
    fn zipf_draws_by_hand() {
        // Weights 1, 1/2, 1/3 over 11/6: cdf 6/11, 9/11, 1.
        let cdf = zipf_cdf(3, 1.0);
        assert!((cdf[0] - 6.0 / 11.0).abs() < 1e-12 && (cdf[1] - 9.0 / 11.0).abs() < 1e-12);
        assert_eq!(draw_rank(&cdf, 0.5), 0);
        assert_eq!(draw_rank(&cdf, 0.6), 1);
        assert_eq!(draw_rank(&cdf, 0.99), 2);
    }

    #[test]
    fn csv_is_seeded_distinct_and_popularity_skewed() {
        let s = spec(20_000, 200, 1000);
        let mut a = Vec::new();
        let summary = write_csv(&s, &mut a, |_| {}).unwrap();
        let mut b = Vec::new();
        write_csv(&s, &mut b, |_| {}).unwrap();
        assert_eq!(a, b, "the same seed gives the same bytes");
        assert_eq!(summary.rows, 20_000);
        let text = String::from_utf8(a).unwrap();
        let rows: Vec<Vec<u64>> = text
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                let r: f64 = f[2].parse().unwrap();
                assert!((1.0..=5.0).contains(&r));
                vec![
                    f[0].parse().unwrap(),
                    f[1].parse().unwrap(),
                    f[3].parse().unwrap(),
                ]
            })
            .collect();
        assert_eq!(rows.len(), 20_000);
        let pairs: HashSet<(u64, u64)> = rows.iter().map(|r| (r[0], r[1])).collect();
        assert_eq!(pairs.len(), rows.len(), "no user rates an item twice");
        let users: HashSet<u64> = rows.iter().map(|r| r[0]).collect();
        assert_eq!(users.len(), 200);
        assert!(rows
            .windows(2)
            .all(|w| w[0][0] < w[1][0] || w[0][2] <= w[1][2]));
        // Zipf(1) over 1000 items: the most drawn item has far more than the 20 of a uniform draw.
        let mut per_item = std::collections::HashMap::new();
        for r in &rows {
            *per_item.entry(r[1]).or_insert(0u64) += 1;
        }
        assert!(*per_item.values().max().unwrap() > 150, "{per_item:?}");
        assert!(write_csv(&spec(20_000, 200, 20), &mut Vec::new(), |_| {}).is_err());
    }
}
