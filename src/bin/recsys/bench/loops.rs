//! The Rust side of `recsys bench`: each notebook's training loop, timed on the data the port
//! builds, with the library's training code the ports use.

use std::time::Instant;

use anyhow::Result;
use recsys::optim::Adam;
use tch::{nn, Kind, Reduction, Tensor};

use recsys::data::Dataset;
use recsys::models::explicit::{ExplicitConfig, ExplicitFactorizationModel};
use recsys::models::mf::{bce_epoch, MatrixFactorization, PairScorer};
use recsys::models::recommender_net::{
    self, HiddenLayers, RatingBatches, RecommenderNet, RecommenderNetConfig,
};
use recsys::models::two_tower::{self, BaseTwoHead, TowerTrain};
use recsys::prep::split::random::random_train_test_split;
use recsys::prep::{f64_values, i64_values, IdMap};
use recsys::runtime::context::Context;

use crate::notebooks::nb000::{self, Nb000};
use crate::notebooks::nb002::Nb002;
use crate::notebooks::nb003::Nb003;
use crate::notebooks::nb004::Nb004;
use crate::notebooks::registry::{self, Notebook};

/// Steps and seconds of one timed Rust loop.
pub struct Timed {
    pub steps: usize,
    pub secs: f64,
    pub batch_size: i64,
    pub rows: usize,
}

fn time_epochs(epochs: usize, mut epoch: impl FnMut() -> Result<usize>) -> Result<(usize, f64)> {
    let start = Instant::now();
    let mut steps = 0;
    for _ in 0..epochs {
        steps += epoch()?;
    }
    Ok((steps, start.elapsed().as_secs_f64()))
}

/// Notebook 000's training pairs, as the port builds them ([`nb000::data`]): its interactions
/// (ratings above 3) before the split date on its /1000 time scale, with its defaults, ids
/// numbered in order of first appearance.
fn nb000_pairs(ctx: &Context) -> Result<(Vec<i64>, Vec<i64>, i64, i64)> {
    let args: nb000::Args = registry::parse_flags(&[])?;
    let mode = nb000::Mode::Faithful;
    let (_, interactions) = nb000::data::interactions(ctx, &args, mode)?;
    let (train, _) = nb000::data::split(&interactions, nb000::data::split_ms(&args, mode)?)?;
    let umap = IdMap::fit_column(&train, "user_id")?;
    let imap = IdMap::fit_column(&train, "item_id")?;
    let u = umap.encode_column(&train, "user_id")?;
    let i = imap.encode_column(&train, "item_id")?;
    Ok((u, i, umap.len() as i64, imap.len() as i64))
}

/// 000: MatrixFactorization (20 factors), BCE-with-logits on positives, Adam 1e-3, batch 64,
/// with the port's epoch loop ([`bce_epoch`], which `train_fn` in nb000/train.rs runs).
fn rust_000(ctx: &Context, epochs: usize) -> Result<Timed> {
    let (users, items, n_users, n_items) = nb000_pairs(ctx)?;
    let dev = ctx.device;
    tch::manual_seed(0);
    let vs = nn::VarStore::new(dev);
    let model = MatrixFactorization::new(&vs.root(), n_users, n_items, 20);
    let mut opt = Adam::new(&vs, 1e-3)?;
    let u_all = Tensor::from_slice(&users).to_device(dev);
    let i_all = Tensor::from_slice(&items).to_device(dev);
    let n = users.len() as i64;
    let y_all = Tensor::ones([n], (Kind::Float, dev));
    let bs = 64;
    let (steps, secs) = time_epochs(epochs, || {
        // The port's loop: one shuffle per epoch, then contiguous slices; losses read once.
        let losses = bce_epoch(&model, &mut opt, (&u_all, &i_all, &y_all), bs, || {})?;
        f64::try_from(losses.sum(Kind::Double))?;
        Ok(losses.size()[0] as usize)
    })?;
    Ok(Timed {
        steps,
        secs,
        batch_size: bs,
        rows: users.len(),
    })
}

/// 002: Spotlight's ExplicitFactorizationModel (dim 32, Adam 1e-2, batch 256) on the 80% split.
fn rust_002(ctx: &Context, epochs: usize) -> Result<Timed> {
    let data = recsys::data::interactions::Interactions::from_ratings(
        &Dataset::Ml100k.ratings(&ctx.data)?,
    )?;
    tch::manual_seed(0);
    let (train, _) = random_train_test_split(&data, 0.2);
    let (u, i, r) = train.tensors(ctx.device);
    let config = ExplicitConfig::default();
    let bs = config.batch_size;
    let mut model =
        ExplicitFactorizationModel::new(train.num_users, train.num_items, config, ctx.device)?;
    let per_epoch = train.len().div_ceil(bs as usize);
    let (steps, secs) = time_epochs(epochs, || {
        model.fit_epoch(&u, &i, &r)?;
        Ok(per_epoch)
    })?;
    Ok(Timed {
        steps,
        secs,
        batch_size: bs,
        rows: train.len(),
    })
}

/// 003's train split as the two-tower dataset (10 negatives), with the tower sizes
/// `(n_users, n_items)`.
fn tower_train_data(ctx: &Context) -> Result<(TowerTrain, i64, i64)> {
    let quiet = Context {
        json: true,
        ..ctx.clone()
    };
    let study = crate::notebooks::nb003::prepare(&quiet)?;
    let (tu, ti): (Vec<i64>, Vec<i64>) = study.train.iter().copied().unzip();
    let n_items = study.items.len() as i64;
    let data = TowerTrain::new(&tu, &ti, 10, n_items, ctx.device)?;
    Ok((data, study.users.len() as i64, n_items))
}

/// 003: BaseTwoHead (dim 16, 10 negatives, Adam 1e-2, batch 256) on the train split.
fn rust_003(ctx: &Context, epochs: usize) -> Result<Timed> {
    let (data, n_users, n_items) = tower_train_data(ctx)?;
    tch::manual_seed(0);
    let vs = nn::VarStore::new(ctx.device);
    let model = BaseTwoHead::new(&vs.root(), n_users, n_items, 16);
    let mut opt = two_tower::adam(&vs, 0.01)?;
    let bs = 256;
    let (steps, secs) = time_epochs(epochs, || {
        two_tower::train_epoch(&model, &mut opt, &data, bs, || {})?;
        Ok(data.num_batches(bs))
    })?;
    Ok(Timed {
        steps,
        secs,
        batch_size: bs as i64,
        rows: data.len(),
    })
}

/// 004's data: ml-100k in file order as batches of `batch_size` on the device, with the sizes
/// `(n_users, n_movies)` (ids from 0).
fn rating_batches_004(ctx: &Context, batch_size: i64) -> Result<(RatingBatches, i64, i64)> {
    let df = Dataset::Ml100k.ratings(&ctx.data)?;
    let users: Vec<i64> = i64_values(&df, "user_id")?.map(|u| u - 1).collect();
    let movies: Vec<i64> = i64_values(&df, "item_id")?.map(|m| m - 1).collect();
    let rates: Vec<f32> = f64_values(&df, "rating")?.map(|r| r as f32).collect();
    let n_users = users.iter().max().map_or(0, |m| m + 1);
    let n_movies = movies.iter().max().map_or(0, |m| m + 1);
    let batches = RatingBatches::new(&users, &movies, &rates, batch_size, ctx.device)?;
    Ok((batches, n_users, n_movies))
}

/// 004: RecommenderNet as the notebook builds it (hidden layers unregistered), batch 128 in
/// file order, Adam 1e-3.
fn rust_004(ctx: &Context, epochs: usize) -> Result<Timed> {
    let bs = 128;
    let (batches, n_users, n_movies) = rating_batches_004(ctx, bs)?;
    tch::manual_seed(0);
    let net = RecommenderNet::new(
        n_users,
        n_movies,
        &RecommenderNetConfig::default(),
        HiddenLayers::Unregistered,
        ctx.device,
    )?;
    let mut opt = net.adam(1e-3)?;
    let (steps, secs) = time_epochs(epochs, || {
        let losses = recommender_net::train_epoch(&net, &mut opt, &batches)?;
        f64::try_from(losses.mean)?;
        Ok(batches.len())
    })?;
    Ok(Timed {
        steps,
        secs,
        batch_size: bs,
        rows: batches.n_ratings as usize,
    })
}

/// Mean microseconds per step of zero_grad, forward (`loss_of(step)`), backward and the optimizer
/// step over `steps` steps, after 20 warm-up steps.
fn phases(
    opt: &mut Adam,
    steps: usize,
    mut loss_of: impl FnMut(usize) -> Tensor,
) -> Result<[f64; 4]> {
    let mut t = [0.0; 4];
    for k in 0..steps + 20 {
        let t0 = Instant::now();
        opt.zero_grad()?;
        let t1 = Instant::now();
        let loss = loss_of(k % steps);
        let t2 = Instant::now();
        loss.backward();
        let t3 = Instant::now();
        opt.step()?;
        let t4 = Instant::now();
        if k >= 20 {
            for (slot, d) in t.iter_mut().zip([t1 - t0, t2 - t1, t3 - t2, t4 - t3]) {
                *slot += d.as_secs_f64() * 1e6 / steps as f64;
            }
        }
    }
    Ok(t)
}

/// Where a Rust step's time goes in 000's loop (see [`phases`]).
fn breakdown_000(ctx: &Context) -> Result<[f64; 4]> {
    let dev = ctx.device;
    let steps = 400;
    tch::manual_seed(0);
    let vs = nn::VarStore::new(dev);
    let (users, items, n_users, n_items) = nb000_pairs(ctx)?;
    let model = MatrixFactorization::new(&vs.root(), n_users, n_items, 20);
    let mut opt = Adam::new(&vs, 1e-3)?;
    let u = Tensor::from_slice(&users).to_device(dev);
    let i = Tensor::from_slice(&items).to_device(dev);
    let y = Tensor::ones([64], (Kind::Float, dev));
    phases(&mut opt, steps, |k| {
        let (u, i) = (
            u.narrow(0, 64 * k as i64, 64),
            i.narrow(0, 64 * k as i64, 64),
        );
        model
            .score(&u, &i)
            .binary_cross_entropy_with_logits::<Tensor>(&y, None, None, Reduction::Mean)
    })
}

/// Where a Rust step's time goes in 002's loop (see [`phases`]).
fn breakdown_002(ctx: &Context) -> Result<[f64; 4]> {
    let dev = ctx.device;
    let steps = 400;
    tch::manual_seed(0);
    let vs = nn::VarStore::new(dev);
    let data = recsys::data::interactions::Interactions::from_ratings(
        &Dataset::Ml100k.ratings(&ctx.data)?,
    )?;
    let (u, i, r) = data.tensors(dev);
    let net =
        recsys::models::explicit::BilinearNet::new(&vs.root(), data.num_users, data.num_items, 32);
    let mut opt = Adam::new(&vs, 1e-2)?;
    let steps = steps.min(data.len() / 256);
    phases(&mut opt, steps, |k| {
        let s = 256 * k as i64;
        let (u, i, r) = (
            u.narrow(0, s, 256),
            i.narrow(0, s, 256),
            r.narrow(0, s, 256),
        );
        (r - net.forward(&u, &i)).square().mean(Kind::Float)
    })
}

/// Where a Rust step's time goes in 003's loop (see [`phases`]).
fn breakdown_003(ctx: &Context) -> Result<[f64; 4]> {
    let dev = ctx.device;
    let steps = 400;
    tch::manual_seed(0);
    let vs = nn::VarStore::new(dev);
    let (data, n_users, n_items) = tower_train_data(ctx)?;
    let batches = data.batches(256, true);
    let model = BaseTwoHead::new(&vs.root(), n_users, n_items, 16);
    let mut opt = two_tower::adam(&vs, 0.01)?;
    let n = batches.len().min(steps);
    phases(&mut opt, n, |k| two_tower::batch_loss(&model, &batches[k]))
}

/// Where a Rust step's time goes in 004's loop (see [`phases`]).
fn breakdown_004(ctx: &Context) -> Result<[f64; 4]> {
    let dev = ctx.device;
    let steps = 400;
    tch::manual_seed(0);
    let _vs = nn::VarStore::new(dev);
    let (batches, n_users, n_movies) = rating_batches_004(ctx, 128)?;
    let net = RecommenderNet::new(
        n_users,
        n_movies,
        &RecommenderNetConfig::default(),
        HiddenLayers::Unregistered,
        dev,
    )?;
    let mut opt = net.adam(1e-3)?;
    phases(&mut opt, steps, |k| {
        let b = &batches.batches[k];
        let out = net.forward_t(&b.users, &b.movies, true).squeeze_dim(-1);
        b.ratings.mse_loss(&out, Reduction::Mean)
    })
}

/// One notebook's timed training loop.
pub struct Loop {
    /// The notebook's id.
    pub notebook: &'static str,
    /// What the loop trains.
    pub name: &'static str,
    /// Time `epochs` epochs.
    pub run: fn(&Context, usize) -> Result<Timed>,
    /// Microseconds per step of zero_grad, forward, backward and the optimizer step.
    pub breakdown: fn(&Context) -> Result<[f64; 4]>,
}

/// The notebooks with a torch training loop, and their loops.
pub const LOOPS: [Loop; 4] = [
    Loop {
        notebook: Nb000::ID,
        name: "MF, unsampled",
        run: rust_000,
        breakdown: breakdown_000,
    },
    Loop {
        notebook: Nb002::ID,
        name: "explicit MF",
        run: rust_002,
        breakdown: breakdown_002,
    },
    Loop {
        notebook: Nb003::ID,
        name: "two-tower",
        run: rust_003,
        breakdown: breakdown_003,
    },
    Loop {
        notebook: Nb004::ID,
        name: "RecommenderNet",
        run: rust_004,
        breakdown: breakdown_004,
    },
];
