//! Tests of [`super`]: the reference numbers come from `scripts/reference-metrics.py`
//! (sections `duplicates`, `holm`, `kendall`, `friedman`): statsmodels 0.15.0's
//! `multipletests(method="holm")`, scipy 1.17.1's `kendalltau` and `friedmanchisquare`.

use super::*;

fn close(got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs(),
        "got {got}, reference {want}"
    );
}

/// Per-user values of one seed: users `users`, value `f(user)`.
fn seed(users: impl IntoIterator<Item = i64>, f: impl Fn(i64) -> f64) -> SeedValues {
    users.into_iter().map(|u| (u, f(u))).collect()
}

fn model_a(u: i64) -> f64 {
    0.3 + ((u * 37) % 11) as f64 / 40.0
}

fn model_b(u: i64) -> f64 {
    model_a(u) - 0.013 + ((u * 13) % 7) as f64 / 300.0
}

#[test]
fn duplicated_seeds_do_not_shrink_the_p_value() {
    // A deterministic model under a deterministic split: every seed gives the same per-user
    // values. One seed, two and five must give the same pairs and the same p-values.
    let users = 0..60;
    let one_seed_a = seed(users.clone(), model_a);
    let one_seed_b = seed(users.clone(), model_b);
    let mut previous: Option<PairedComparison> = None;
    for n_seeds in [1, 2, 5] {
        let a = vec![one_seed_a.clone(); n_seeds];
        let b = vec![one_seed_b.clone(); n_seeds];
        let pairs = paired_values(&a, &b).unwrap();
        assert_eq!(
            (pairs.unit, pairs.n(), pairs.seeds),
            (PairUnit::User, 60, n_seeds)
        );
        let got = compare_pairs(&pairs);
        // scipy: wilcoxon(a, b, method="approx", correction=False) over the 60 users.
        close(got.wilcoxon.unwrap().p_value, 0.01790730210031008, 1e-9);
        if let Some(p) = &previous {
            assert_eq!(got.t_test, p.t_test, "{n_seeds} seeds");
            assert_eq!(got.wilcoxon, p.wilcoxon, "{n_seeds} seeds");
            assert_eq!(got.mean_difference, p.mean_difference);
        }
        previous = Some(got);
        // Pooling (seed, user) pairs, as before, counts the repeats as new evidence.
        let pooled_a: Vec<f64> = a.iter().flatten().map(|&(_, v)| v).collect();
        let pooled_b: Vec<f64> = b.iter().flatten().map(|&(_, v)| v).collect();
        let pooled = wilcoxon_signed_rank(&pooled_a, &pooled_b).unwrap().p_value;
        let sound = previous.as_ref().unwrap().wilcoxon.unwrap().p_value;
        if n_seeds > 1 {
            assert!(pooled < sound / 10.0, "pooled {pooled}, per user {sound}");
        }
    }
}

#[test]
fn same_users_pair_by_user_averaged_over_seeds() {
    // Two seeds, the same three users listed in different orders.
    let a = vec![
        vec![(3, 0.5), (1, 0.2), (2, 0.9)],
        vec![(1, 0.4), (2, 0.7), (3, 0.1)],
    ];
    let b = vec![
        vec![(1, 0.1), (2, 0.8), (3, 0.3)],
        vec![(3, 0.3), (2, 0.5), (1, 0.2)],
    ];
    let p = paired_values(&a, &b).unwrap();
    assert_eq!(p.unit, PairUnit::User);
    let want_a = [0.3, 0.8, 0.3];
    let want_b = [0.15000000000000002, 0.65, 0.3];
    for (got, want) in p.a.iter().zip(want_a).chain(p.b.iter().zip(want_b)) {
        close(*got, want, 1e-15);
    }
    assert_eq!(
        p.describe(),
        "one pair per test user (n = 3), each averaged over 2 seeds"
    );
}

#[test]
fn different_users_pair_by_seed() {
    // Users 0..40 on seed 0, 20..60 on seed 1, 0..50 on seed 2: one pair per seed.
    let ranges = [0..40, 20..60, 0..50];
    let a: Vec<SeedValues> = ranges.iter().map(|r| seed(r.clone(), model_a)).collect();
    let b: Vec<SeedValues> = ranges.iter().map(|r| seed(r.clone(), model_b)).collect();
    let p = paired_values(&a, &b).unwrap();
    assert_eq!((p.unit, p.n(), p.seeds), (PairUnit::Seed, 3, 3));
    let mean_of = |r: std::ops::Range<i64>, f: fn(i64) -> f64| {
        let n = r.end - r.start;
        r.map(f).sum::<f64>() / n as f64
    };
    for (s, r) in ranges.iter().enumerate() {
        close(p.a[s], mean_of(r.clone(), model_a), 1e-15);
        close(p.b[s], mean_of(r.clone(), model_b), 1e-15);
    }
    assert!(p.describe().starts_with("one pair per seed (n = 3)"));
}

#[test]
fn mismatched_values_are_refused() {
    let a = vec![vec![(1, 0.5), (2, 0.1)]];
    assert!(paired_values(&a, &[vec![(1, 0.5), (3, 0.1)]]).is_err());
    assert!(paired_values(&a, &[]).is_err());
    assert!(paired_values(&[], &[]).is_err());
    assert!(paired_values(&[vec![(1, 0.5), (1, 0.1)]], &a).is_err());
    assert!(paired_values(&[vec![(1, f64::NAN), (2, 0.1)]], &a).is_err());
}

#[test]
fn holm_as_statsmodels() {
    let cases: [(&[f64], &[f64]); 3] = [
        (
            &[0.01, 0.04, 0.03, 0.005, 0.20, 0.04],
            &[0.05, 0.12, 0.12, 0.03, 0.2, 0.12],
        ),
        (
            &[0.5, 0.3, 0.02, 0.9],
            &[1.0, 0.8999999999999999, 0.08, 1.0],
        ),
        (&[0.001], &[0.001]),
    ];
    for (p, want) in cases {
        let got = holm(p).unwrap();
        for (g, w) in got.iter().zip(want) {
            close(*g, *w, 1e-15);
        }
    }
    assert!(holm(&[]).unwrap().is_empty());
    assert!(holm(&[0.1, f64::NAN]).is_err());
    assert!(holm(&[1.5]).is_err());
}

#[test]
fn kendall_p_values_as_scipy() {
    let a = [0.91, 0.87, 0.95, 0.78, 0.88, 0.93, 0.85, 0.90, 0.82, 0.89];
    let b = [0.89, 0.88, 0.91, 0.75, 0.88, 0.90, 0.86, 0.85, 0.80, 0.84];
    let range = |n: i64| (0..n).map(|i| i as f64).collect::<Vec<_>>();
    let forty: Vec<f64> = (0..40).map(|i| ((i * 17) % 41) as f64).collect();
    let mut one_swap = range(40);
    one_swap.swap(0, 1);
    let twelve = [3., 0., 1., 7., 2., 5., 4., 11., 9., 6., 10., 8.];
    let cases: [(&[f64], &[f64], f64, f64); 7] = [
        // exact, n = 5
        (
            &[1., 2., 3., 4., 5.],
            &[2., 1., 4., 3., 5.],
            0.6,
            0.23333333333333334,
        ),
        // exact, n = 3 (three models)
        (
            &[0.3, 0.2, 0.1],
            &[0.1, 0.3, 0.2],
            -0.33333333333333337,
            1.0,
        ),
        // ties: the normal approximation with the tie-corrected variance
        (&a, &b, 0.7191465199607916, 0.004057136032371292),
        (
            &[1., 1., 2., 3., 3., 4.],
            &[2., 1., 1., 3., 4., 4.],
            0.6923076923076924,
            0.06958922627547405,
        ),
        // n = 40 > 33: normal
        (&range(40), &forty, 0.01794871794871795, 0.8704282960625428),
        // n = 40 with a single discordant pair: exact, 2 / 39!
        (
            &range(40),
            &one_swap,
            0.9974358974358974,
            9.804939513027087e-47,
        ),
        (
            &range(12),
            &twelve,
            0.5454545454545454,
            0.013770768197851531,
        ),
    ];
    for (x, y, tau, p) in cases {
        let r = kendall_tau_b_test(x, y).unwrap();
        close(r.statistic, tau, 1e-14);
        close(r.p_value, p, 1e-12);
    }
    assert!(kendall_tau_b_test(&[1., 1.], &[1., 2.]).is_err());
}

#[test]
fn friedman_as_scipy() {
    let table = vec![
        vec![0.30, 0.25, 0.28, 0.10],
        vec![0.41, 0.40, 0.39, 0.20],
        vec![0.22, 0.23, 0.21, 0.05],
        vec![0.35, 0.30, 0.30, 0.15],
        vec![0.50, 0.45, 0.47, 0.44],
    ];
    let f = friedman(&table, true).unwrap();
    close(f.statistic, 12.183673469387752, 1e-13);
    close(f.p_value, 0.00677974013051994, 1e-12);
    assert_eq!((f.datasets, f.models), (5, 4));
    for (got, want) in f.mean_ranks.iter().zip([1.2, 2.3, 2.5, 4.0]) {
        close(*got, want, 1e-15);
    }
    // Lower is better: the ranks turn around, the statistic does not.
    let low = friedman(&table, false).unwrap();
    close(low.statistic, f.statistic, 1e-14);
    assert_eq!(mean_ranks(&table, false).unwrap()[3], 1.0);
    assert!(friedman(&table[..1], true).is_err());
    assert!(friedman(&[vec![1.0, 2.0], vec![2.0, 1.0]], true).is_err());
    assert!(friedman(&[vec![1.0; 3], vec![1.0; 3]], true).is_err());
    assert!(mean_ranks(&[vec![1.0, 2.0], vec![1.0]], true).is_err());
}
