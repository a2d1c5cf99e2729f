//! The models of Surprise's table beyond its first five behind the [`Recommender`]
//! interface: SVD++, Slope One, the centred k-NNs and co-clustering, their saved tensors and
//! how each is rebuilt from them.

use anyhow::{bail, Result};
use tch::{Kind, Tensor};

use super::super::{cosine_to, Query, Recommender, Task};
use super::{
    base_of, base_state, f64_tensor, knn_basic_of, knn_basic_state, rating_rows, take, take_f64,
    State,
};
use crate::classic::baseline::BaselineOnly;
use crate::classic::co_clustering::CoClustering;
use crate::classic::knn_centered::{Centre, KnnCentered};
use crate::classic::slope_one::SlopeOne;
use crate::classic::surprise_knn::KnnBasicConfig;
use crate::classic::svd_pp::SvdPp;
use crate::classic::RatingPredictor;

/// `knn-means` and `knn-baseline`: one type, named by its centring.
impl Recommender for KnnCentered {
    fn name(&self) -> &'static str {
        match self.centre {
            Centre::Means(_) => "knn-means",
            Centre::Baseline(_) => "knn-baseline",
        }
    }
    fn task(&self) -> Task {
        Task::Rating
    }
    fn n_items(&self) -> i64 {
        self.knn.base.item_counts.len() as i64
    }
    fn score(&self, queries: &[Query]) -> Result<Tensor> {
        rating_rows(self, queries)
    }
    fn predict(&self, users: &[i64], items: &[i64]) -> Result<Vec<f64>> {
        RatingPredictor::predict(self, users, items)
    }
    fn item_similarity(&self, _item: i64) -> Result<Option<Vec<f32>>> {
        Ok(None)
    }
    fn state(&self) -> State {
        let mut s = knn_basic_state(&self.knn);
        match &self.centre {
            Centre::Means(means) => s.push(("means".into(), Tensor::from_slice(means))),
            Centre::Baseline(b) => {
                s.push(("user_bias".into(), Tensor::from_slice(&b.user_bias)));
                s.push(("item_bias".into(), Tensor::from_slice(&b.item_bias)));
            }
        }
        s
    }
}
rating_model!(SvdPp, "svd-pp", |m| m.base,
    similarity: |m, i| {
        let items = f64_tensor(&m.item_factors, &[m.base.item_counts.len() as i64, m.n_factors as i64]);
        Ok(Some(cosine_to(&items, i)?))
    },
state: |m| {
    let mut s = base_state(&m.base);
    let (nu, ni, k) = (m.user_bias.len() as i64, m.item_bias.len() as i64, m.n_factors as i64);
    s.push(("user_bias".into(), Tensor::from_slice(&m.user_bias)));
    s.push(("item_bias".into(), Tensor::from_slice(&m.item_bias)));
    s.push(("user_factors".into(), f64_tensor(&m.user_factors, &[nu, k])));
    s.push(("item_factors".into(), f64_tensor(&m.item_factors, &[ni, k])));
    s.push(("implicit_factors".into(), f64_tensor(&m.implicit_factors, &[ni, k])));
    s.extend(lists_state("rated", &m.rated));
    s
});
rating_model!(SlopeOne, "slope-one", |m| m.base, similarity: |_m, _i| Ok(None),
state: |m| {
    let mut s = base_state(&m.base);
    let n = m.n_items as i64;
    s.push(("deviation".into(), f64_tensor(&m.deviation, &[n, n])));
    let common: Vec<i32> = m.common.iter().map(|&c| c as i32).collect();
    s.push(("common".into(), Tensor::from_slice(&common).view([n, n])));
    s.push(("user_mean".into(), Tensor::from_slice(&m.user_mean)));
    s.extend(lists_state("rated", &m.rated));
    s
});
rating_model!(CoClustering, "co-clustering", |m| m.base, similarity: |_m, _i| Ok(None),
state: |m| {
    let mut s = base_state(&m.base);
    let ints = |v: &[usize]| Tensor::from_slice(&v.iter().map(|&c| c as i64).collect::<Vec<_>>());
    s.push(("user_cluster".into(), ints(&m.user_cluster)));
    s.push(("item_cluster".into(), ints(&m.item_cluster)));
    s.push(("user_mean".into(), Tensor::from_slice(&m.user_mean)));
    s.push(("item_mean".into(), Tensor::from_slice(&m.item_mean)));
    let (au, ai, aco) = m.averages();
    s.push(("user_cluster_mean".into(), Tensor::from_slice(au)));
    s.push(("item_cluster_mean".into(), Tensor::from_slice(ai)));
    s.push(("co_cluster_mean".into(), f64_tensor(aco, &[au.len() as i64, ai.len() as i64])));
    s
});

/// Lists of indices as two tensors: `<name>_offsets` (n + 1) and `<name>` (all, in order).
fn lists_state(name: &str, lists: &[Vec<usize>]) -> State {
    let mut offsets = vec![0i64];
    let mut all = Vec::new();
    for l in lists {
        all.extend(l.iter().map(|&x| x as i64));
        offsets.push(all.len() as i64);
    }
    vec![
        (format!("{name}_offsets"), Tensor::from_slice(&offsets)),
        (name.to_string(), Tensor::from_slice(&all)),
    ]
}

/// Lists saved by [`lists_state`], each index checked to lie in `0..bound`.
fn lists_of(state: &State, name: &str, model: &str, bound: usize) -> Result<Vec<Vec<usize>>> {
    let ints = |n: &str| -> Result<Vec<i64>> {
        Ok(Vec::<i64>::try_from(
            take(state, n, model)?.to_kind(Kind::Int64),
        )?)
    };
    let (offsets, all) = (ints(&format!("{name}_offsets"))?, ints(name)?);
    let ok = offsets.first() == Some(&0)
        && offsets.last() == Some(&(all.len() as i64))
        && offsets.windows(2).all(|w| w[0] <= w[1])
        && all.iter().all(|&x| (0..bound as i64).contains(&x));
    if !ok {
        bail!("the saved {model} has malformed {name} lists");
    }
    Ok(offsets
        .windows(2)
        .map(|w| {
            all[w[0] as usize..w[1] as usize]
                .iter()
                .map(|&x| x as usize)
                .collect()
        })
        .collect())
}

/// A `KNNWithMeans` (`means`) or `KNNBaseline` rebuilt from its saved state.
pub fn knn_centered_of(state: &State, config: KnnBasicConfig, means: bool) -> Result<KnnCentered> {
    let knn = knn_basic_of(state, config)?;
    let model = if means { "knn-means" } else { "knn-baseline" };
    let centre = if means {
        let m = take_f64(state, "means", model)?;
        if m.len() != knn.n {
            bail!(
                "the saved {model} has {} means for {} users or items",
                m.len(),
                knn.n
            );
        }
        Centre::Means(m)
    } else {
        let b = BaselineOnly {
            base: knn.base.clone(),
            user_bias: take_f64(state, "user_bias", model)?,
            item_bias: take_f64(state, "item_bias", model)?,
        };
        if b.user_bias.len() != b.base.user_counts.len()
            || b.item_bias.len() != b.base.item_counts.len()
        {
            bail!("the saved {model}'s biases do not match its users and items");
        }
        Centre::Baseline(b)
    };
    Ok(KnnCentered { knn, centre })
}

/// An SVD++ rebuilt from its saved state.
pub fn svd_pp_of(state: &State) -> Result<SvdPp> {
    let model = "svd-pp";
    let base = base_of(state, model)?;
    let (nu, ni) = (base.user_counts.len(), base.item_counts.len());
    let n_factors = *take(state, "item_factors", model)?
        .size()
        .get(1)
        .unwrap_or(&0) as usize;
    let m = SvdPp {
        n_factors,
        user_bias: take_f64(state, "user_bias", model)?,
        item_bias: take_f64(state, "item_bias", model)?,
        user_factors: take_f64(state, "user_factors", model)?,
        item_factors: take_f64(state, "item_factors", model)?,
        implicit_factors: take_f64(state, "implicit_factors", model)?,
        rated: lists_of(state, "rated", model, ni)?,
        base,
    };
    let k = n_factors;
    if m.user_bias.len() != nu
        || m.item_bias.len() != ni
        || m.user_factors.len() != nu * k
        || m.item_factors.len() != ni * k
        || m.implicit_factors.len() != ni * k
        || m.rated.len() != nu
    {
        bail!("the saved {model}'s biases and factors do not match its {nu} users and {ni} items");
    }
    Ok(m)
}

/// A Slope One rebuilt from its saved state.
pub fn slope_one_of(state: &State) -> Result<SlopeOne> {
    let model = "slope-one";
    let base = base_of(state, model)?;
    let (nu, n) = (base.user_counts.len(), base.item_counts.len());
    let common = Vec::<i64>::try_from(
        take(state, "common", model)?
            .to_kind(Kind::Int64)
            .flatten(0, -1),
    )?;
    let m = SlopeOne {
        n_items: n,
        common: common.into_iter().map(|c| c.max(0) as u32).collect(),
        deviation: take_f64(state, "deviation", model)?,
        user_mean: take_f64(state, "user_mean", model)?,
        rated: lists_of(state, "rated", model, n)?,
        base,
    };
    if m.common.len() != n * n
        || m.deviation.len() != n * n
        || m.user_mean.len() != nu
        || m.rated.len() != nu
    {
        bail!("the saved {model} does not match its {nu} users and {n} items");
    }
    Ok(m)
}

/// A co-clustering rebuilt from its saved state.
pub fn co_clustering_of(state: &State) -> Result<CoClustering> {
    let model = "co-clustering";
    let base = base_of(state, model)?;
    let ints = |n: &str| -> Result<Vec<usize>> {
        let v = Vec::<i64>::try_from(take(state, n, model)?.to_kind(Kind::Int64))?;
        Ok(v.into_iter().map(|c| c.max(0) as usize).collect())
    };
    CoClustering::from_parts(
        base,
        ints("user_cluster")?,
        ints("item_cluster")?,
        take_f64(state, "user_mean", model)?,
        take_f64(state, "item_mean", model)?,
        take_f64(state, "user_cluster_mean", model)?,
        take_f64(state, "item_cluster_mean", model)?,
        take_f64(state, "co_cluster_mean", model)?,
    )
}
