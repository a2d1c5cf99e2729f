//! Comparing models soundly: the unit of a paired test, Holm's correction for testing the best
//! model against several others, Kendall's tau-b with its p-value, and Friedman's test of
//! models ranked over several datasets. Built on [`crate::eval::stats`]; the tests hold values
//! computed by scipy 1.17.1 and statsmodels 0.15.0 (`scripts/reference-metrics.py`).
//!
//! - [`paired_values`]: a paired test needs independent pairs. When every seed tests the same
//!   users, a user's values over the seeds are repeated measures of one unit, not new units:
//!   under a deterministic split (time, last-n) and a deterministic model they are the very
//!   same numbers, and pooling (seed, user) pairs would shrink the p-value just by adding
//!   seeds. So each user's values are averaged over the seeds (one pair per user). When the
//!   test users differ between seeds, no user-level pairing spans the seeds and the unit is
//!   the seed: one pair per seed, each model's mean over that seed's users.
//! - [`holm`]: Holm's step-down adjustment (Holm, "A Simple Sequentially Rejective Multiple
//!   Test Procedure", 1979), statsmodels' `multipletests(method="holm")`.
//! - [`kendall_tau_b_test`]: scipy's `kendalltau`: the exact null distribution without ties
//!   when n ≤ 33 (or when at most one pair is out of order), else the normal approximation
//!   with the tie-corrected variance.
//! - [`friedman`]: Friedman's test over a (datasets × models) table and the models' mean ranks,
//!   1 the best (Demšar, "Statistical Comparisons of Classifiers over Multiple Data Sets",
//!   JMLR 2006), scipy's `friedmanchisquare`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde::Serialize;

use crate::eval::stats::{
    average_ranks, chi_squared_sf, mean, normal_two_sided_p, paired_t_test, wilcoxon_signed_rank,
    TestResult,
};

/// What one pair of a paired test stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PairUnit {
    /// A test user, its values averaged over the seeds (the same users every seed).
    User,
    /// A seed, each model's mean over that seed's test users (the users differ by seed).
    Seed,
}

/// The pairs of a paired test between models `a` and `b`, from [`paired_values`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pairs {
    /// What one pair stands for.
    pub unit: PairUnit,
    /// Seeds the pairs summarise.
    pub seeds: usize,
    /// Model `a`'s value per unit (users in increasing id, or seeds in order).
    pub a: Vec<f64>,
    /// Model `b`'s value per unit, in the same order.
    pub b: Vec<f64>,
}

impl Pairs {
    /// Number of pairs.
    pub fn n(&self) -> usize {
        self.a.len()
    }

    /// The unit and n in words, e.g. `one pair per test user (n = 943), each averaged over 5
    /// seeds`.
    pub fn describe(&self) -> String {
        let seeds = match self.seeds {
            1 => "1 seed".to_string(),
            s => format!("{s} seeds"),
        };
        match self.unit {
            PairUnit::User => format!(
                "one pair per test user (n = {}), each averaged over {seeds}",
                self.n()
            ),
            PairUnit::Seed => format!(
                "one pair per seed (n = {}), each the mean over that seed's test users (the \
                 test users differ between seeds)",
                self.n()
            ),
        }
    }
}

/// One seed's values of a model: `(test user, value)`, in any order, each user once.
pub type SeedValues = Vec<(i64, f64)>;

/// The users of one seed's values and their values by user; fails on a repeated user.
fn by_user(values: &SeedValues, seed: usize, model: &str) -> Result<BTreeMap<i64, f64>> {
    let mut out = BTreeMap::new();
    for &(u, v) in values {
        if !v.is_finite() {
            bail!("seed {seed}: model {model}'s value for user {u} is not finite ({v})");
        }
        if out.insert(u, v).is_some() {
            bail!("seed {seed}: model {model} has two values for user {u}");
        }
    }
    Ok(out)
}

/// The mean by running updates, `m += (x − m) / i`: exactly `x` when every value is `x`, so
/// seeds that repeat a user's value leave it to the last bit (a sum divided by the count
/// would not, and a changed last bit can break a tie of the signed-rank test).
fn running_mean(xs: impl Iterator<Item = f64>) -> f64 {
    let mut m = 0.0;
    for (i, x) in xs.enumerate() {
        m += (x - m) / (i + 1) as f64;
    }
    m
}

/// The pairs of a paired test of `a` against `b`, given each model's per-user values for each
/// seed (`a[s]` and `b[s]` are seed `s`'s and must hold the same users). When every seed has
/// the same test users: one pair per user, each model's values for the user averaged over the
/// seeds ([`PairUnit::User`]). Otherwise one pair per seed, each model's mean over the seed's
/// users ([`PairUnit::Seed`]). Either way adding seeds that repeat the same per-user values
/// leaves the pairs, and so the p-values, unchanged.
pub fn paired_values(a: &[SeedValues], b: &[SeedValues]) -> Result<Pairs> {
    if a.len() != b.len() {
        bail!(
            "model a has {} seeds of values, model b {}",
            a.len(),
            b.len()
        );
    }
    if a.is_empty() {
        bail!("no seed to pair values over");
    }
    let mut seeds = Vec::with_capacity(a.len());
    for (s, (va, vb)) in a.iter().zip(b).enumerate() {
        let (ma, mb) = (by_user(va, s, "a")?, by_user(vb, s, "b")?);
        if ma.is_empty() {
            bail!("seed {s} has no test user");
        }
        if !ma.keys().eq(mb.keys()) {
            bail!("seed {s}: the two models were scored on different test users");
        }
        seeds.push((ma, mb));
    }
    let same_users = seeds.iter().all(|(m, _)| m.keys().eq(seeds[0].0.keys()));
    let n_seeds = seeds.len();
    let (a, b) = if same_users {
        seeds[0]
            .0
            .keys()
            .map(|u| {
                (
                    running_mean(seeds.iter().map(|(ma, _)| ma[u])),
                    running_mean(seeds.iter().map(|(_, mb)| mb[u])),
                )
            })
            .unzip()
    } else {
        let means = |m: &BTreeMap<i64, f64>| m.values().sum::<f64>() / m.len() as f64;
        seeds.iter().map(|(ma, mb)| (means(ma), means(mb))).unzip()
    };
    Ok(Pairs {
        unit: if same_users {
            PairUnit::User
        } else {
            PairUnit::Seed
        },
        seeds: n_seeds,
        a,
        b,
    })
}

/// Both paired tests of [`Pairs`], with their unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedComparison {
    /// What one pair stands for.
    pub unit: PairUnit,
    /// Number of pairs.
    pub n: usize,
    /// Seeds the pairs summarise.
    pub seeds: usize,
    /// Mean of `a − b` over the pairs.
    pub mean_difference: f64,
    /// The paired t-test; `None` when undefined (fewer than 2 pairs, or all differences equal).
    pub t_test: Option<TestResult>,
    /// Wilcoxon's signed-rank test; `None` when every difference is zero.
    pub wilcoxon: Option<TestResult>,
}

/// The paired t-test and Wilcoxon signed-rank test of `pairs.a` against `pairs.b`.
pub fn compare_pairs(pairs: &Pairs) -> PairedComparison {
    let d: Vec<f64> = pairs.a.iter().zip(&pairs.b).map(|(x, y)| x - y).collect();
    PairedComparison {
        unit: pairs.unit,
        n: pairs.n(),
        seeds: pairs.seeds,
        mean_difference: mean(&d),
        t_test: paired_t_test(&pairs.a, &pairs.b).ok(),
        wilcoxon: wilcoxon_signed_rank(&pairs.a, &pairs.b).ok(),
    }
}

/// Holm's step-down adjustment of `p_values` (one per comparison), in the input's order:
/// with `p_(1) ≤ … ≤ p_(m)` sorted, `p̃_(j) = max_{i ≤ j} min(1, (m − i + 1) p_(i))`. Fails on
/// a value outside `[0, 1]` (or NaN).
pub fn holm(p_values: &[f64]) -> Result<Vec<f64>> {
    if let Some(p) = p_values.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        bail!("p-value {p} is not inside [0, 1]");
    }
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
    let mut out = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(p_values[i] * (m - rank) as f64);
        out[i] = running.min(1.0);
    }
    Ok(out)
}

/// `n!` as a float.
fn factorial(n: u64) -> f64 {
    (2..=n).map(|k| k as f64).product()
}

/// Two-sided exact p-value of Kendall's tau without ties: the probability under independence
/// of a count of concordant pairs at least as far from `n(n−1)/4` as `c` (scipy's
/// `_kendall_p_exact`, by the recurrence on the number of inversions of a permutation).
fn kendall_exact_p(n: u64, c: u64) -> f64 {
    let tot = n * (n - 1) / 2;
    let c = c.min(tot - c);
    let prob = if n <= 2 {
        1.0
    } else if c == 0 {
        if n < 171 {
            2.0 / factorial(n)
        } else {
            0.0
        }
    } else if c == 1 {
        if n < 172 {
            2.0 / factorial(n - 1)
        } else {
            0.0
        }
    } else if 4 * c == n * (n - 1) {
        1.0
    } else {
        // new[m]: permutations of j elements with m inversions (scaled by 1/j! past 170).
        let c = c as usize;
        let mut new = vec![0.0f64; c + 1];
        new[0] = 1.0;
        new[1] = 1.0;
        let scaled = n >= 171;
        for j in 3..=n as usize {
            let mut sum = 0.0;
            for v in new.iter_mut() {
                sum += *v;
                *v = if scaled { sum / j as f64 } else { sum };
            }
            if j <= c {
                for m in (j..=c).rev() {
                    new[m] -= new[m - j];
                }
            }
        }
        let total: f64 = new.iter().sum();
        if scaled {
            total
        } else {
            2.0 * total / factorial(n)
        }
    };
    prob.clamp(0.0, 1.0)
}

/// Tie statistics of one ranking, as scipy's `count_rank_tie`: over groups of `t` equal values,
/// `Σ t(t−1)/2`, `Σ t(t−1)(t−2)` and `Σ t(t−1)(2t+5)`.
fn tie_stats(xs: &[f64]) -> (f64, f64, f64) {
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (mut pairs, mut t2, mut t5) = (0.0, 0.0, 0.0);
    for group in sorted.chunk_by(|a, b| a == b) {
        let t = group.len() as f64;
        pairs += t * (t - 1.0) / 2.0;
        t2 += t * (t - 1.0) * (t - 2.0);
        t5 += t * (t - 1.0) * (2.0 * t + 5.0);
    }
    (pairs, t2, t5)
}

/// Kendall's tau-b between two orderings of the same objects and its two-sided p-value, as
/// scipy's `kendalltau` (method `auto`) gives them: the statistic is
/// [`crate::eval::stats::kendall_tau_b`]'s; the p-value is exact when neither ordering has
/// ties and `n ≤ 33` or at most one pair is discordant (or concordant), else from the normal
/// approximation of `n_c − n_d` with variance
/// `(v₀ − v_x − v_y)/18 + 2 t_x t_y / (n(n−1)) + t₂ₓ t₂ᵧ / (9 n(n−1)(n−2))`.
/// Needs two objects and neither ordering constant.
pub fn kendall_tau_b_test(x: &[f64], y: &[f64]) -> Result<TestResult> {
    let tau = crate::eval::stats::kendall_tau_b(x, y)?;
    let n = x.len();
    let (mut concordant, mut discordant) = (0u64, 0u64);
    for i in 0..n {
        for j in i + 1..n {
            let order = |v: &[f64]| v[i].partial_cmp(&v[j]).unwrap_or(Ordering::Equal);
            match (order(x), order(y)) {
                (Ordering::Equal, _) | (_, Ordering::Equal) => {}
                (a, b) if a == b => concordant += 1,
                _ => discordant += 1,
            }
        }
    }
    let (xtie, x0, x1) = tie_stats(x);
    let (ytie, y0, y1) = tie_stats(y);
    let tot = (n * (n - 1) / 2) as u64;
    let exact = xtie == 0.0 && ytie == 0.0 && (n <= 33 || discordant.min(tot - discordant) <= 1);
    let p_value = if exact {
        kendall_exact_p(n as u64, tot - discordant)
    } else {
        let nf = n as f64;
        let m = nf * (nf - 1.0);
        let var = (m * (2.0 * nf + 5.0) - x1 - y1) / 18.0
            + 2.0 * xtie * ytie / m
            + x0 * y0 / (9.0 * m * (nf - 2.0));
        normal_two_sided_p((concordant as f64 - discordant as f64) / var.sqrt())
    };
    Ok(TestResult {
        statistic: tau,
        p_value,
    })
}

/// Friedman's test of `k` models over `n` datasets, with the models' mean ranks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Friedman {
    /// Each model's rank averaged over the datasets, 1 the best (ties share their mean rank).
    pub mean_ranks: Vec<f64>,
    /// The tie-corrected chi-squared statistic.
    pub statistic: f64,
    /// Its p-value from chi-squared with `k − 1` degrees of freedom.
    pub p_value: f64,
    /// Datasets (blocks), n.
    pub datasets: usize,
    /// Models (treatments), k.
    pub models: usize,
}

/// Each model's rank averaged over the rows of `table` (one row per dataset, one column per
/// model), 1 the best: the highest value when `higher_is_better`, else the lowest.
pub fn mean_ranks(table: &[Vec<f64>], higher_is_better: bool) -> Result<Vec<f64>> {
    let (sums, _) = rank_sums(table, higher_is_better)?;
    let n = table.len() as f64;
    Ok(sums.into_iter().map(|s| s / n).collect())
}

/// Rank sums (1 best) over the rows and the tie term `Σ (t³ − t)` over every row.
fn rank_sums(table: &[Vec<f64>], higher_is_better: bool) -> Result<(Vec<f64>, f64)> {
    let Some(k) = table.first().map(Vec::len) else {
        bail!("the table has no dataset");
    };
    if k == 0 {
        bail!("the table has no model");
    }
    let mut sums = vec![0.0; k];
    let mut ties = 0.0;
    for (d, row) in table.iter().enumerate() {
        if row.len() != k {
            bail!("dataset {d} has {} values, dataset 0 has {k}", row.len());
        }
        if let Some(v) = row.iter().find(|v| !v.is_finite()) {
            bail!("dataset {d} holds a non-finite value ({v})");
        }
        let signed: Vec<f64> = row
            .iter()
            .map(|&v| if higher_is_better { -v } else { v })
            .collect();
        let (ranks, t) = average_ranks(&signed);
        ties += t;
        for (s, r) in sums.iter_mut().zip(ranks) {
            *s += r;
        }
    }
    Ok((sums, ties))
}

/// Friedman's test over `table` (one row per dataset, one column per model): ranks within
/// each dataset (average ranks for ties), `χ² = (12 / (n k (k+1)) Σ_j R_j² − 3 n (k+1)) / C`
/// with `R_j` the rank sums and `C = 1 − Σ(t³ − t) / (n k (k² − 1))`, p from chi-squared with
/// `k − 1` degrees of freedom (scipy's `friedmanchisquare`). Needs 3 models and 2 datasets,
/// and not every dataset's values all tied.
pub fn friedman(table: &[Vec<f64>], higher_is_better: bool) -> Result<Friedman> {
    let (sums, ties) = rank_sums(table, higher_is_better)?;
    let (n, k) = (table.len(), sums.len());
    if k < 3 || n < 2 {
        bail!("Friedman's test needs at least 3 models and 2 datasets (got {k} and {n})");
    }
    let (nf, kf) = (n as f64, k as f64);
    let correction = 1.0 - ties / (kf * (kf * kf - 1.0) * nf);
    if correction <= 0.0 {
        bail!("every model ties on every dataset: Friedman's test is undefined");
    }
    let ssbn: f64 = sums.iter().map(|r| r * r).sum();
    let statistic = (12.0 / (kf * nf * (kf + 1.0)) * ssbn - 3.0 * nf * (kf + 1.0)) / correction;
    Ok(Friedman {
        p_value: chi_squared_sf(statistic, kf - 1.0),
        statistic,
        mean_ranks: sums.iter().map(|s| s / nf).collect(),
        datasets: n,
        models: k,
    })
}

#[cfg(test)]
#[path = "comparison_tests.rs"]
mod tests;
