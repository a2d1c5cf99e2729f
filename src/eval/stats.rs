//! Statistics for comparing models: the mean, spread and confidence interval of a metric over
//! users (or folds, or seeds), two paired tests of whether two models differ, and the rank
//! agreement of two orderings. Plain Rust, no dependencies; each formula is written beside its
//! function, and the tests hold values computed by scipy 1.17.
//!
//! - [`mean`], [`sample_sd`] (divisor `n − 1`), [`confidence_interval`]:
//!   `x̄ ± t_{(1+level)/2, n−1} · s / √n` with the Student t quantile [`student_t_quantile`].
//! - [`paired_t_test`]: `t = d̄ / (s_d / √n)` on the differences `d = a − b`, `n − 1` degrees
//!   of freedom, two-sided p-value (scipy's `ttest_rel`).
//! - [`wilcoxon_signed_rank`]: zero differences dropped, average ranks for tied `|d|`, the
//!   smaller of the signed rank sums `T`, and the normal approximation with the tie
//!   correction, two-sided (scipy's `wilcoxon(method="approx", correction=False)`).
//! - [`kendall_tau_b`]: `(n_c − n_d) / √((n_0 − n_1)(n_0 − n_2))` over all pairs (scipy's
//!   `kendalltau`, variant b).

use anyhow::{bail, Result};

/// The result of a two-sided test: its statistic and p-value.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TestResult {
    /// The test statistic (t for the t-test, the smaller rank sum T for Wilcoxon).
    pub statistic: f64,
    /// The two-sided p-value.
    pub p_value: f64,
}

/// Arithmetic mean; NaN for no values.
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample standard deviation, `sqrt(Σ (x − x̄)² / (n − 1))`; NaN for fewer than two values.
pub fn sample_sd(xs: &[f64]) -> f64 {
    let m = mean(xs);
    (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() as f64 - 1.0)).sqrt()
}

/// The `level` (e.g. 0.95) confidence interval of the mean, `x̄ ± t · s / √n` with `t` the
/// `(1 + level) / 2` quantile of Student's t with `n − 1` degrees of freedom. Needs two values.
pub fn confidence_interval(xs: &[f64], level: f64) -> Result<(f64, f64)> {
    if xs.len() < 2 {
        bail!(
            "a confidence interval needs at least 2 values (got {})",
            xs.len()
        );
    }
    if !(level > 0.0 && level < 1.0) {
        bail!("confidence level {level} is not inside (0, 1)");
    }
    let t = student_t_quantile((1.0 + level) / 2.0, xs.len() as f64 - 1.0);
    let half = t * sample_sd(xs) / (xs.len() as f64).sqrt();
    let m = mean(xs);
    Ok((m - half, m + half))
}

/// `ln Γ(x)` for `x > 0`, by Lanczos' approximation (g = 7, nine terms; about 15 digits).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = C[0] + (1..9).map(|i| C[i] / (x + i as f64)).sum::<f64>();
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// Continued fraction of the incomplete beta function (modified Lentz), as in Numerical
/// Recipes' `betacf`.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    d = 1.0 / if d.abs() < TINY { TINY } else { d };
    let mut h = d;
    for m in 1..1000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 + aa * d;
            d = 1.0 / if d.abs() < TINY { TINY } else { d };
            c = 1.0 + aa / c;
            c = if c.abs() < TINY { TINY } else { c };
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function `I_x(a, b)`.
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

/// The upper regularized incomplete gamma function `Q(a, x)`, by its series below `a + 1` and
/// its continued fraction above (Numerical Recipes' `gser` and `gcf`).
fn upper_incomplete_gamma(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let front = (-x + a * x.ln() - ln_gamma(a)).exp();
    if x < a + 1.0 {
        let (mut ap, mut term) = (a, 1.0 / a);
        let mut sum = term;
        while term.abs() > sum.abs() * 1e-17 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
        }
        1.0 - sum * front
    } else {
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            d = 1.0 / if d.abs() < TINY { TINY } else { d };
            c = b + an / c;
            c = if c.abs() < TINY { TINY } else { c };
            h *= d * c;
            if (d * c - 1.0).abs() < 1e-16 {
                break;
            }
        }
        front * h
    }
}

/// Two-sided tail of the standard normal, `P(|Z| ≥ |z|) = erfc(|z| / √2) = Q(1/2, z² / 2)`.
pub fn normal_two_sided_p(z: f64) -> f64 {
    upper_incomplete_gamma(0.5, z * z / 2.0)
}

/// Two-sided tail of Student's t with `df` degrees of freedom,
/// `P(|T| ≥ |t|) = I_{df / (df + t²)}(df / 2, 1 / 2)`.
pub fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
}

/// Upper tail of the chi-squared distribution with `df` degrees of freedom,
/// `P(X ≥ x) = Q(df / 2, x / 2)` (scipy's `chi2.sf`).
pub fn chi_squared_sf(x: f64, df: f64) -> f64 {
    upper_incomplete_gamma(df / 2.0, x / 2.0)
}

/// Cumulative distribution of Student's t with `df` degrees of freedom.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let tail = student_t_two_sided_p(t, df) / 2.0;
    if t > 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The `p` quantile of Student's t with `df` degrees of freedom, by bisection on
/// [`student_t_cdf`] to full precision; NaN unless `0 < p < 1` and `df > 0`.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    if !(p > 0.0 && p < 1.0 && df > 0.0) {
        return f64::NAN;
    }
    if p < 0.5 {
        return -student_t_quantile(1.0 - p, df);
    }
    let mut hi = 1.0;
    while student_t_cdf(hi, df) < p && hi < 1e300 {
        hi *= 2.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid == lo || mid == hi {
            break;
        }
        if student_t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Differences `a − b` of two paired samples of the same length.
fn differences(a: &[f64], b: &[f64]) -> Result<Vec<f64>> {
    if a.len() != b.len() {
        bail!(
            "paired samples differ in length: {} and {}",
            a.len(),
            b.len()
        );
    }
    if let Some(x) = a.iter().chain(b).find(|x| !x.is_finite()) {
        bail!("paired samples hold a non-finite value ({x})");
    }
    Ok(a.iter().zip(b).map(|(x, y)| x - y).collect())
}

/// Paired t-test of `a` against `b` (e.g. one metric per user for two models): `t = d̄ /
/// (s_d / √n)`, `n − 1` degrees of freedom, two-sided p-value. Needs two pairs and differences
/// that are not all equal.
pub fn paired_t_test(a: &[f64], b: &[f64]) -> Result<TestResult> {
    let d = differences(a, b)?;
    if d.len() < 2 {
        bail!("a paired t-test needs at least 2 pairs (got {})", d.len());
    }
    let sd = sample_sd(&d);
    if sd == 0.0 {
        bail!("the paired differences are all equal: a t-test is undefined");
    }
    let n = d.len() as f64;
    let t = mean(&d) / (sd / n.sqrt());
    Ok(TestResult {
        statistic: t,
        p_value: student_t_two_sided_p(t, n - 1.0),
    })
}

/// Average ranks (1-based) of `xs`, ties sharing the mean of their positions, and the tie
/// correction term `Σ (t³ − t)` over groups of `t` tied values.
pub(crate) fn average_ranks(xs: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&i, &j| xs[i].total_cmp(&xs[j]));
    let mut ranks = vec![0.0; xs.len()];
    let mut ties = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && xs[order[end]] == xs[order[start]] {
            end += 1;
        }
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        let t = (end - start) as f64;
        ties += t * t * t - t;
        start = end;
    }
    (ranks, ties)
}

/// Wilcoxon signed-rank test of `a` against `b`, two-sided, by the normal approximation.
/// Zero differences are dropped (Wilcoxon's convention, scipy's default); the `n` others are
/// ranked by `|d|` with average ranks for ties; `T = min(R⁺, R⁻)`,
/// `z = (T − n(n+1)/4) / sqrt(n(n+1)(2n+1)/24 − Σ(t³ − t)/48)`, `p = P(|Z| ≥ |z|)`, no
/// continuity correction.
pub fn wilcoxon_signed_rank(a: &[f64], b: &[f64]) -> Result<TestResult> {
    let d: Vec<f64> = differences(a, b)?
        .into_iter()
        .filter(|&x| x != 0.0)
        .collect();
    if d.is_empty() {
        bail!("every paired difference is zero: the signed-rank test is undefined");
    }
    let magnitudes: Vec<f64> = d.iter().map(|x| x.abs()).collect();
    let (ranks, ties) = average_ranks(&magnitudes);
    let r_plus: f64 = ranks
        .iter()
        .zip(&d)
        .filter(|(_, &x)| x > 0.0)
        .map(|(r, _)| r)
        .sum();
    let n = d.len() as f64;
    let r_minus = n * (n + 1.0) / 2.0 - r_plus;
    let t = r_plus.min(r_minus);
    let expected = n * (n + 1.0) / 4.0;
    let variance = n * (n + 1.0) * (2.0 * n + 1.0) / 24.0 - ties / 48.0;
    Ok(TestResult {
        statistic: t,
        p_value: normal_two_sided_p((t - expected) / variance.sqrt()),
    })
}

/// `1`, `0` or `-1` as `a` is above, equal to or below `b`.
fn sign(a: f64, b: f64) -> i8 {
    i8::from(a > b) - i8::from(a < b)
}

/// Kendall's tau-b between two orderings of the same objects, given as scores (or ranks) per
/// object: over all pairs, `n_c` concordant, `n_d` discordant, `n_1` / `n_2` tied in `x` / in
/// `y`, `n_0 = n(n−1)/2`, `τ_b = (n_c − n_d) / √((n_0 − n_1)(n_0 − n_2))`. O(n²). Needs two
/// objects and neither ordering constant.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Result<f64> {
    if x.len() != y.len() {
        bail!(
            "the two rankings differ in length: {} and {}",
            x.len(),
            y.len()
        );
    }
    if let Some(v) = x.iter().chain(y).find(|v| v.is_nan()) {
        bail!("a ranking holds {v}");
    }
    let (mut concordant, mut discordant, mut tied_x, mut tied_y) = (0u64, 0u64, 0u64, 0u64);
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            let (sx, sy) = (sign(x[i], x[j]), sign(y[i], y[j]));
            tied_x += u64::from(sx == 0);
            tied_y += u64::from(sy == 0);
            match sx * sy {
                1 => concordant += 1,
                -1 => discordant += 1,
                _ => {}
            }
        }
    }
    let n0 = (x.len() * x.len().saturating_sub(1) / 2) as u64;
    if n0 == tied_x || n0 == tied_y {
        bail!("Kendall's tau is undefined when a ranking has fewer than 2 distinct values");
    }
    let denominator = (((n0 - tied_x) as f64) * ((n0 - tied_y) as f64)).sqrt();
    Ok((concordant as f64 - discordant as f64) / denominator)
}

#[cfg(test)]
mod tests {
    //! The reference numbers come from scipy 1.17.1 (`/work/main/.venv/bin/python`):
    //!
    //! ```text
    //! import numpy as np, scipy.stats as st
    //! a = [0.91, 0.87, 0.95, 0.78, 0.88, 0.93, 0.85, 0.90, 0.82, 0.89]
    //! b = [0.89, 0.88, 0.91, 0.75, 0.88, 0.90, 0.86, 0.85, 0.80, 0.84]
    //! x = np.array(a); x.mean(), x.std(ddof=1)
    //! st.t.interval(0.95, 9, loc=x.mean(), scale=st.sem(x))
    //! [st.t.ppf(0.975, df) for df in (1, 2, 4, 9, 30, 1000)]; st.t.ppf(0.9, 3); st.t.ppf(0.05, 7)
    //! st.ttest_rel(a, b); st.wilcoxon(a, b, method="approx", correction=False)
    //! c = list(range(1, 13)); d = [2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 0]
    //! st.wilcoxon(c, d, method="approx", correction=False)
    //! big1 = [((i * 37) % 101) / 10 for i in range(60)]
    //! big2 = [v + ((i * 11) % 7 - 2.5) / 10 for i, v in enumerate(big1)]
    //! st.wilcoxon(big1, big2, method="approx", correction=False); st.ttest_rel(big1, big2)
    //! st.kendalltau(a, b); st.kendalltau([1, 1, 2, 3, 3, 4], [2, 1, 1, 3, 4, 4])
    //! 2 * st.norm.sf(1.96); 2 * st.norm.sf(5.0); 2 * st.t.sf(2.5, 4)
    //! ```
    use super::*;

    const A: [f64; 10] = [0.91, 0.87, 0.95, 0.78, 0.88, 0.93, 0.85, 0.90, 0.82, 0.89];
    const B: [f64; 10] = [0.89, 0.88, 0.91, 0.75, 0.88, 0.90, 0.86, 0.85, 0.80, 0.84];

    fn close(got: f64, want: f64, rel: f64) {
        assert!(
            (got - want).abs() <= rel * want.abs(),
            "got {got}, scipy {want}"
        );
    }

    fn big() -> (Vec<f64>, Vec<f64>) {
        let big1: Vec<f64> = (0..60).map(|i| ((i * 37) % 101) as f64 / 10.0).collect();
        let big2 = big1
            .iter()
            .enumerate()
            .map(|(i, v)| v + (((i * 11) % 7) as f64 - 2.5) / 10.0)
            .collect();
        (big1, big2)
    }

    #[test]
    fn mean_sd_and_confidence_interval() {
        close(mean(&A), 0.8780000000000001, 1e-15);
        close(sample_sd(&A), 0.05094659513211414, 1e-13);
        let (lo, hi) = confidence_interval(&A, 0.95).unwrap();
        close(lo, 0.8415550013365508, 1e-13);
        close(hi, 0.9144449986634494, 1e-13);
        assert!(confidence_interval(&[1.0], 0.95).is_err());
        assert!(confidence_interval(&A, 1.0).is_err());
    }

    #[test]
    fn student_t_quantiles() {
        let scipy = [
            (1.0, 12.706204736174694),
            (2.0, 4.302652729749462),
            (4.0, 2.7764451051977934),
            (9.0, 2.262157162798205),
            (30.0, 2.0422724563012378),
            (1000.0, 1.9623390808264083),
        ];
        for (df, want) in scipy {
            close(student_t_quantile(0.975, df), want, 1e-12);
        }
        close(student_t_quantile(0.9, 3.0), 1.637744353696209, 1e-12);
        close(student_t_quantile(0.05, 7.0), -1.8945786050900066, 1e-12);
        close(student_t_two_sided_p(2.5, 4.0), 0.06676654481198814, 1e-12);
        assert!(student_t_quantile(1.0, 3.0).is_nan() && student_t_quantile(0.5, 0.0).is_nan());
    }

    #[test]
    fn normal_tails() {
        close(normal_two_sided_p(1.96), 0.04999579029644087, 1e-12);
        close(normal_two_sided_p(-5.0), 5.733031437583866e-07, 1e-10);
        close(normal_two_sided_p(0.0), 1.0, 1e-15);
    }

    #[test]
    fn paired_t_test_as_scipy() {
        let r = paired_t_test(&A, &B).unwrap();
        close(r.statistic, 3.090733178219588, 1e-12);
        close(r.p_value, 0.012914176533263606, 1e-11);
        let (x, y) = big();
        let r = paired_t_test(&x, &y).unwrap();
        close(r.statistic, -1.7850918097840078, 1e-12);
        close(r.p_value, 0.07938704874309159, 1e-11);
        assert!(paired_t_test(&A, &B[..9]).is_err());
        assert!(paired_t_test(&[1.0, 2.0], &[0.0, 1.0]).is_err());
    }

    #[test]
    fn wilcoxon_as_scipy_with_zeros_and_ties() {
        // A − B holds one zero (dropped) and tied magnitudes.
        let r = wilcoxon_signed_rank(&A, &B).unwrap();
        assert_eq!(r.statistic, 3.0);
        close(r.p_value, 0.02054385339794816, 1e-11);
        // Eleven differences of ±1 (one big tie) and one of 12.
        let c: Vec<f64> = (1..=12).map(f64::from).collect();
        let d = [2., 1., 4., 3., 6., 5., 8., 7., 10., 9., 12., 0.];
        let r = wilcoxon_signed_rank(&c, &d).unwrap();
        assert_eq!(r.statistic, 36.0);
        close(r.p_value, 0.7962534147376392, 1e-11);
        let (x, y) = big();
        let r = wilcoxon_signed_rank(&x, &y).unwrap();
        assert_eq!(r.statistic, 692.0);
        close(r.p_value, 0.09901861860759216, 1e-11);
        assert!(wilcoxon_signed_rank(&A, &A).is_err());
    }

    #[test]
    fn kendall_tau_b_as_scipy() {
        close(kendall_tau_b(&A, &B).unwrap(), 0.7191465199607916, 1e-14);
        let rev = kendall_tau_b(&[1., 2., 3., 4., 5.], &[5., 4., 3., 2., 1.]).unwrap();
        assert_eq!(rev, -1.0);
        let ties = kendall_tau_b(&[1., 1., 2., 3., 3., 4.], &[2., 1., 1., 3., 4., 4.]).unwrap();
        close(ties, 0.6923076923076924, 1e-14);
        assert!(kendall_tau_b(&[1., 1.], &[1., 2.]).is_err());
        assert!(kendall_tau_b(&[1., 2.], &[1.]).is_err());
    }
}
