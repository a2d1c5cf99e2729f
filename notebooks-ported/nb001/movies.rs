//! Part 2's data: u.item and u.data read as the notebook reads them, the Star Wars averages
//! and the mean-rating baseline.

use std::collections::HashMap;

use anyhow::{bail, Context as _, Result};

use recsys::data::Dataset;
use recsys::prep::{f64_values, i64_values};
use recsys::report::pyfmt::py_float;

use super::sgd::py_square;
use recsys::Context;

/// One row of u.data (the notebook's `Rating` named tuple, with integer ids).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rating {
    pub user_id: i64,
    pub movie_id: i64,
    pub rating: f64,
}

impl Rating {
    /// As Python prints the named tuple, whose ids are strings.
    pub fn py_repr(&self) -> String {
        format!(
            "Rating(user_id='{}', movies_id='{}', rating={})",
            self.user_id,
            self.movie_id,
            py_float(self.rating)
        )
    }
}

/// u.item as (movie id, title), in file order.
pub fn read_movies(ctx: &Context) -> Result<Vec<(i64, String)>> {
    let items = Dataset::Ml100k.items(&ctx.data)?;
    let ids: Vec<i64> = i64_values(&items, "item_id")?.collect();
    let titles = items.column("title")?.str()?;
    ids.into_iter()
        .zip(titles.iter())
        .map(|(id, t)| {
            Ok((
                id,
                t.with_context(|| format!("u.item: movie {id} has no title"))?
                    .to_string(),
            ))
        })
        .collect()
}

/// u.data as [`Rating`]s, in file order.
pub fn read_ratings(ctx: &Context) -> Result<Vec<Rating>> {
    let df = Dataset::Ml100k.ratings(&ctx.data)?;
    let users = i64_values(&df, "user_id")?;
    let movies = i64_values(&df, "item_id")?;
    let ratings = f64_values(&df, "rating")?;
    Ok(users
        .zip(movies)
        .zip(ratings)
        .map(|((user_id, movie_id), rating)| Rating {
            user_id,
            movie_id,
            rating,
        })
        .collect())
}

/// Average (integer) rating of every movie whose title matches `pattern`, in u.item order.
pub fn star_wars_averages(
    movies: &[(i64, String)],
    ratings: &[Rating],
    pattern: &str,
) -> Result<Vec<(i64, f64)>> {
    let re = regex::Regex::new(pattern).with_context(|| format!("bad regex {pattern:?}"))?;
    let mut found: Vec<(i64, i64, usize)> = movies
        .iter()
        .filter(|(_, t)| re.is_match(t))
        .map(|(id, _)| (*id, 0, 0))
        .collect();
    for r in ratings {
        if let Some(f) = found.iter_mut().find(|f| f.0 == r.movie_id) {
            f.1 += r.rating as i64;
            f.2 += 1;
        }
    }
    if let Some(f) = found.iter().find(|f| f.2 == 0) {
        bail!("movie {} matches {pattern:?} but has no ratings", f.0);
    }
    Ok(found
        .into_iter()
        .map(|(id, sum, n)| (id, sum as f64 / n as f64))
        .collect())
}

/// The notebook's baseline: MSE on `test` of the mean (integer) rating of `train`, summed left
/// to right as Python 3.11's `sum` does.
pub fn baseline_mse(train: &[Rating], test: &[Rating]) -> f64 {
    let total: i64 = train.iter().map(|r| r.rating as i64).sum();
    let avg_rating = total as f64 / train.len() as f64;
    let sum = test
        .iter()
        .fold(0.0, |s, r| s + py_square(r.rating - avg_rating));
    sum / test.len() as f64
}

/// Average rating and number of ratings of every movie (over all ratings).
pub fn rating_stats_by_movie(ratings: &[Rating]) -> HashMap<i64, (f64, usize)> {
    let mut acc: HashMap<i64, (f64, usize)> = HashMap::new();
    for r in ratings {
        let e = acc.entry(r.movie_id).or_default();
        e.0 += r.rating;
        e.1 += 1;
    }
    acc.into_iter()
        .map(|(id, (s, n))| (id, (s / n as f64, n)))
        .collect()
}

pub fn sorted_unique(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut v: Vec<i64> = ids.collect();
    v.sort_unstable();
    v.dedup();
    v
}
