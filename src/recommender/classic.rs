//! The classic models of [`crate::classic`] behind the [`Recommender`] interface: how each one
//! scores, which items it calls alike, and the tensors that save and rebuild it.

use anyhow::{bail, Result};
use tch::{Device, Kind, Tensor};

use super::{cosine_to, Query, Recommender, Task};
use crate::classic::als::Als;
use crate::classic::baseline::{BaselineOnly, GlobalMean};
use crate::classic::bpr::Bpr;
use crate::classic::ease::Ease;
use crate::classic::funk_svd::{Factorization, FunkSvd};
use crate::classic::knn::{ItemKnn, UserKnn};
use crate::classic::nmf::Nmf;
use crate::classic::normal::NormalPredictor;
use crate::classic::pmf::Pmf;
use crate::classic::popularity::MostPopular;
use crate::classic::random::Random;
use crate::classic::surprise_knn::{KnnBasic, KnnBasicConfig};
use crate::classic::{Ranker, RatingPredictor};

/// Saved tensors, by name.
pub type State = Vec<(String, Tensor)>;

/// The users of `queries` (classic models score known users, not histories).
fn users_of(name: &str, queries: &[Query]) -> Result<Vec<i64>> {
    queries
        .iter()
        .map(|q| match q {
            Query::User(u) => Ok(*u),
            Query::History(_) => bail!("{name} scores known users, not histories"),
        })
        .collect()
}

/// The tensor `name` of a saved state, on the CPU.
pub fn take(state: &State, name: &str, model: &str) -> Result<Tensor> {
    state
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t.to_device(Device::Cpu))
        .ok_or_else(|| anyhow::anyhow!("the saved {model} has no tensor {name:?}"))
}

/// The tensor `name` as a vector of `f64`.
fn take_f64(state: &State, name: &str, model: &str) -> Result<Vec<f64>> {
    Ok(Vec::<f64>::try_from(
        take(state, name, model)?
            .to_kind(Kind::Double)
            .flatten(0, -1),
    )?)
}

/// A float tensor of `values`, shaped `shape`.
fn f64_tensor(values: &[f64], shape: &[i64]) -> Tensor {
    Tensor::from_slice(values).view(shape)
}

/// Every item's predicted rating for each user of `queries`, `[users, n_items]`.
fn rating_rows(model: &dyn Recommender, queries: &[Query]) -> Result<Tensor> {
    let users = users_of(model.name(), queries)?;
    let n = model.n_items();
    let mut us = Vec::with_capacity(users.len() * n as usize);
    let mut is = Vec::with_capacity(users.len() * n as usize);
    for &u in &users {
        us.extend(std::iter::repeat_n(u, n as usize));
        is.extend(0..n);
    }
    let ratings = model.predict(&us, &is)?;
    let rows: Vec<f32> = ratings.into_iter().map(|r| r as f32).collect();
    Ok(Tensor::from_slice(&rows).view([users.len() as i64, n]))
}

/// Implements [`Recommender`] for a [`Ranker`] of the classic models.
macro_rules! ranking_model {
    ($ty:ty, $name:literal, |$m:ident| $n_items:expr, similarity: |$s:ident, $item:ident| $sim:expr, state: |$t:ident| $state:expr) => {
        impl Recommender for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn task(&self) -> Task {
                Task::Ranking
            }
            fn n_items(&self) -> i64 {
                let $m = self;
                $n_items
            }
            fn score(&self, queries: &[Query]) -> Result<Tensor> {
                self.scores(&users_of($name, queries)?)
            }
            fn item_similarity(&self, $item: i64) -> Result<Option<Vec<f32>>> {
                let $s = self;
                $sim
            }
            fn state(&self) -> State {
                let $t = self;
                $state
            }
        }
    };
}

ranking_model!(Random, "random", |m| m.n_items, similarity: |_m, _i| Ok(None), state: |_m| vec![]);
ranking_model!(MostPopular, "pop", |m| m.counts.size()[1], similarity: |_m, _i| Ok(None),
    state: |m| vec![("counts".into(), m.counts.shallow_clone())]);
ranking_model!(Ease, "ease", |m| m.b.size()[0],
    similarity: |m, i| Ok(Some(Vec::<f32>::try_from(m.b.get(i))?)),
    state: |m| vec![("x".into(), m.x.shallow_clone()), ("b".into(), m.b.shallow_clone())]);
ranking_model!(ItemKnn, "item-knn", |m| m.sim.size()[0],
    similarity: |m, i| Ok(Some(Vec::<f32>::try_from(m.sim.get(i))?)),
    state: |m| vec![("x".into(), m.x.shallow_clone()), ("sim".into(), m.sim.shallow_clone())]);
ranking_model!(UserKnn, "user-knn", |m| m.x.size()[1], similarity: |_m, _i| Ok(None),
    state: |m| vec![("x".into(), m.x.shallow_clone()), ("sim".into(), m.sim.shallow_clone())]);
ranking_model!(Als, "als", |m| m.item_factors.size()[0],
similarity: |m, i| Ok(Some(cosine_to(&m.item_factors, i)?)),
state: |m| vec![
    ("user_factors".into(), m.user_factors.shallow_clone()),
    ("item_factors".into(), m.item_factors.shallow_clone()),
]);
ranking_model!(Bpr, "bpr", |m| m.item_factors.size()[0],
similarity: |m, i| Ok(Some(cosine_to(&m.item_factors, i)?)),
state: |m| vec![
    ("user_factors".into(), m.user_factors.shallow_clone()),
    ("item_factors".into(), m.item_factors.shallow_clone()),
    ("item_biases".into(), m.item_biases.shallow_clone()),
]);

/// Implements [`Recommender`] for a [`RatingPredictor`] of the classic models.
macro_rules! rating_model {
    ($ty:ty, $name:literal, |$m:ident| $base:expr, similarity: |$s:ident, $item:ident| $sim:expr, state: |$t:ident| $state:expr) => {
        impl Recommender for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn task(&self) -> Task {
                Task::Rating
            }
            fn n_items(&self) -> i64 {
                let $m = self;
                $base.item_counts.len() as i64
            }
            fn score(&self, queries: &[Query]) -> Result<Tensor> {
                rating_rows(self, queries)
            }
            fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
                RatingPredictor::predict(self, users, items)
            }
            fn item_similarity(&self, $item: i64) -> Result<Option<Vec<f32>>> {
                let $s = self;
                $sim
            }
            fn state(&self) -> State {
                let $t = self;
                $state
            }
        }
    };
}

rating_model!(GlobalMean, "global-mean", |m| m, similarity: |_m, _i| Ok(None),
    state: |m| base_state(m));
rating_model!(NormalPredictor, "normal", |m| m.base, similarity: |_m, _i| Ok(None),
state: |m| {
    let mut s = base_state(&m.base);
    s.push(("sd".into(), f64_tensor(&[m.sd], &[1])));
    s
});
rating_model!(BaselineOnly, "baseline", |m| m.base, similarity: |_m, _i| Ok(None),
state: |m| {
    let mut s = base_state(&m.base);
    s.push(("user_bias".into(), Tensor::from_slice(&m.user_bias)));
    s.push(("item_bias".into(), Tensor::from_slice(&m.item_bias)));
    s
});
rating_model!(FunkSvd, "svd", |m| m.factors.base,
    similarity: |m, i| factor_similarity(&m.factors, i),
    state: |m| factorization_state(&m.factors));
rating_model!(Nmf, "nmf", |m| m.factors.base,
    similarity: |m, i| factor_similarity(&m.factors, i),
    state: |m| factorization_state(&m.factors));
rating_model!(Pmf, "pmf", |m| m.base,
    similarity: |m, i| {
        let k = m.config.k as i64;
        let items = f64_tensor(&m.item_factors, &[m.base.item_counts.len() as i64, k]);
        Ok(Some(cosine_to(&items, i)?))
    },
    state: |m| m.parts().into_iter().map(|(n, t)| (n.to_string(), t)).collect());
rating_model!(KnnBasic, "knn-basic", |m| m.base, similarity: |_m, _i| Ok(None),
    state: |m| knn_basic_state(m));
// The models of Surprise's table beyond its first five, in their own file.
mod surprise_models;
pub use surprise_models::{co_clustering_of, knn_centered_of, slope_one_of, svd_pp_of};

/// The global mean's state: mean, min and max, and the train counts per user and item.
fn base_state(b: &GlobalMean) -> State {
    let counts = |c: &[usize]| Tensor::from_slice(&c.iter().map(|&n| n as i64).collect::<Vec<_>>());
    vec![
        (
            "mean_min_max".into(),
            f64_tensor(&[b.mean, b.min, b.max], &[3]),
        ),
        ("user_counts".into(), counts(&b.user_counts)),
        ("item_counts".into(), counts(&b.item_counts)),
    ]
}

/// The global mean of a saved state.
pub fn base_of(state: &State, model: &str) -> Result<GlobalMean> {
    let m = take_f64(state, "mean_min_max", model)?;
    if m.len() != 3 {
        bail!("the saved {model} has a malformed mean_min_max");
    }
    let counts = |name: &str| -> Result<Vec<usize>> {
        let v = Vec::<i64>::try_from(take(state, name, model)?.to_kind(Kind::Int64))?;
        Ok(v.into_iter().map(|n| n.max(0) as usize).collect())
    };
    Ok(GlobalMean {
        mean: m[0],
        min: m[1],
        max: m[2],
        user_counts: counts("user_counts")?,
        item_counts: counts("item_counts")?,
    })
}

fn factorization_state(f: &Factorization) -> State {
    let mut s = base_state(&f.base);
    let (nu, ni, k) = (
        f.user_bias.len() as i64,
        f.item_bias.len() as i64,
        f.n_factors as i64,
    );
    s.push(("user_bias".into(), Tensor::from_slice(&f.user_bias)));
    s.push(("item_bias".into(), Tensor::from_slice(&f.item_bias)));
    s.push(("user_factors".into(), f64_tensor(&f.user_factors, &[nu, k])));
    s.push(("item_factors".into(), f64_tensor(&f.item_factors, &[ni, k])));
    s
}

/// A factorization rebuilt from its saved state (`biased` from its configuration).
pub fn factorization_of(state: &State, model: &str, biased: bool) -> Result<Factorization> {
    let base = base_of(state, model)?;
    let items = take(state, "item_factors", model)?;
    let n_factors = *items.size().get(1).unwrap_or(&0) as usize;
    let f = Factorization {
        biased,
        n_factors,
        user_bias: take_f64(state, "user_bias", model)?,
        item_bias: take_f64(state, "item_bias", model)?,
        user_factors: take_f64(state, "user_factors", model)?,
        item_factors: take_f64(state, "item_factors", model)?,
        base,
    };
    let (nu, ni) = (f.base.user_counts.len(), f.base.item_counts.len());
    if f.user_bias.len() != nu
        || f.item_bias.len() != ni
        || f.user_factors.len() != nu * n_factors
        || f.item_factors.len() != ni * n_factors
    {
        bail!("the saved {model}'s biases and factors do not match its {nu} users and {ni} items");
    }
    Ok(f)
}

fn factor_similarity(f: &Factorization, item: i64) -> Result<Option<Vec<f32>>> {
    let ni = f.item_bias.len() as i64;
    let items = f64_tensor(&f.item_factors, &[ni, f.n_factors as i64]);
    Ok(Some(cosine_to(&items, item)?))
}

fn knn_basic_state(m: &KnnBasic) -> State {
    let mut s = base_state(&m.base);
    let n = m.n as i64;
    s.push(("similarity".into(), f64_tensor(&m.similarity, &[n, n])));
    let mut offsets = vec![0i64];
    let (mut who, mut rating) = (vec![], vec![]);
    for list in &m.raters {
        for &(r, v) in list {
            who.push(r as i64);
            rating.push(v);
        }
        offsets.push(who.len() as i64);
    }
    s.push(("rater_offsets".into(), Tensor::from_slice(&offsets)));
    s.push(("raters".into(), Tensor::from_slice(&who)));
    s.push(("rater_ratings".into(), Tensor::from_slice(&rating)));
    s
}

/// A `KNNBasic` rebuilt from its saved state.
pub fn knn_basic_of(state: &State, config: KnnBasicConfig) -> Result<KnnBasic> {
    let model = "knn-basic";
    let base = base_of(state, model)?;
    let similarity = take_f64(state, "similarity", model)?;
    let n = (similarity.len() as f64).sqrt() as usize;
    let ints = |name: &str| -> Result<Vec<i64>> {
        Ok(Vec::<i64>::try_from(
            take(state, name, model)?.to_kind(Kind::Int64),
        )?)
    };
    let (offsets, who) = (ints("rater_offsets")?, ints("raters")?);
    let rating = take_f64(state, "rater_ratings", model)?;
    let well_formed = n * n == similarity.len()
        && who.len() == rating.len()
        && offsets.first() == Some(&0)
        && offsets.last() == Some(&(who.len() as i64))
        && offsets.windows(2).all(|w| w[0] <= w[1])
        && who.iter().all(|&r| (0..n as i64).contains(&r));
    if !well_formed {
        bail!("the saved knn-basic has malformed similarities or raters");
    }
    let raters = offsets
        .windows(2)
        .map(|w| {
            (w[0] as usize..w[1] as usize)
                .map(|j| (who[j] as usize, rating[j]))
                .collect()
        })
        .collect();
    Ok(KnnBasic {
        base,
        config,
        similarity,
        n,
        raters,
    })
}
