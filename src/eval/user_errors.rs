//! Rating errors averaged per user, beside the global ones ([`crate::eval::metrics::rmse`],
//! [`crate::eval::metrics::mae`]). The global RMSE weighs every test rating alike, so heavy
//! raters dominate it; Cornac's `rating_eval(user_based=True)` first computes each user's RMSE
//! and MAE over that user's test ratings, then averages over users, so that every user counts
//! once. The tests hold values from Cornac 3.0.1 (`scripts/reference-metrics.py`, section
//! `user-errors`).

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde::Serialize;

/// The global and the per-user rating errors of one set of predictions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserErrors {
    /// Test users (with at least one rating).
    pub users: usize,
    /// Test ratings.
    pub ratings: usize,
    /// RMSE over all test ratings.
    pub rmse: f64,
    /// MAE over all test ratings.
    pub mae: f64,
    /// Mean over users of each user's RMSE (Cornac's `user_based=True`).
    pub user_rmse: f64,
    /// Mean over users of each user's MAE.
    pub user_mae: f64,
    /// Each user's `(RMSE, MAE)`, by user: the per-user values a paired test pairs.
    #[serde(skip)]
    pub per_user: BTreeMap<i64, (f64, f64)>,
}

/// The global and per-user RMSE and MAE of `predictions` against `targets`, the rating `j`
/// being user `users[j]`'s. Users are averaged in increasing id, so the result is the same to
/// the last bit on every run. Fails on columns of different lengths, no rating, or a value
/// that is not finite.
pub fn user_errors(users: &[i64], predictions: &[f64], targets: &[f64]) -> Result<UserErrors> {
    if users.len() != predictions.len() || users.len() != targets.len() {
        bail!(
            "{} users, {} predictions and {} targets: they must pair up",
            users.len(),
            predictions.len(),
            targets.len()
        );
    }
    if users.is_empty() {
        bail!("no test rating to score");
    }
    if let Some(v) = predictions.iter().chain(targets).find(|v| !v.is_finite()) {
        bail!("a prediction or target is not finite ({v})");
    }
    // Per user: (Σ squared error, Σ absolute error, count).
    let mut sums: BTreeMap<i64, (f64, f64, usize)> = BTreeMap::new();
    let (mut se, mut ae) = (0.0, 0.0);
    for ((&u, &p), &t) in users.iter().zip(predictions).zip(targets) {
        let e = p - t;
        se += e * e;
        ae += e.abs();
        let s = sums.entry(u).or_default();
        s.0 += e * e;
        s.1 += e.abs();
        s.2 += 1;
    }
    let per_user: BTreeMap<i64, (f64, f64)> = sums
        .into_iter()
        .map(|(u, (se, ae, n))| (u, ((se / n as f64).sqrt(), ae / n as f64)))
        .collect();
    let n_users = per_user.len() as f64;
    let n = users.len() as f64;
    Ok(UserErrors {
        users: per_user.len(),
        ratings: users.len(),
        rmse: (se / n).sqrt(),
        mae: ae / n,
        user_rmse: per_user.values().map(|e| e.0).sum::<f64>() / n_users,
        user_mae: per_user.values().map(|e| e.1).sum::<f64>() / n_users,
        per_user,
    })
}

#[cfg(test)]
mod tests {
    //! Reference values: `scripts/reference-metrics.py user-errors` (Cornac 3.0.1's
    //! `rating_eval` with `user_based=False` and `True`).
    use super::*;
    use crate::eval::metrics::{mae, rmse};

    #[test]
    fn per_user_and_global_errors_as_cornac() {
        let rows = [
            (1, 4.0, 3.5),
            (1, 2.0, 2.9),
            (1, 5.0, 4.1),
            (2, 3.0, 3.2),
            (3, 1.0, 2.5),
            (3, 4.0, 3.0),
        ];
        let users: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let targets: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let predictions: Vec<f64> = rows.iter().map(|r| r.2).collect();
        let e = user_errors(&users, &predictions, &targets).unwrap();
        let close = |got: f64, want: f64| assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        close(e.rmse, 0.9273618495495703);
        close(e.mae, 0.8333333333333334);
        close(e.user_rmse, 0.7547564990733324);
        close(e.user_mae, 0.7388888888888889);
        assert_eq!((e.users, e.ratings), (3, 6));
        close(e.rmse, rmse(&predictions, &targets));
        close(e.mae, mae(&predictions, &targets));
        close(e.per_user[&2].0, 0.2);
        assert!(user_errors(&users, &predictions[..5], &targets).is_err());
        assert!(user_errors(&[], &[], &[]).is_err());
        assert!(user_errors(&[1], &[f64::NAN], &[1.0]).is_err());
    }
}
