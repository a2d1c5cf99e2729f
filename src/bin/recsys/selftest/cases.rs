//! The models `selftest` trains: each builds its model from the CPU generator seeded with the
//! run's seed (so the CPU run and the device run start from the same weights), draws its
//! batches on the CPU and copies them to the device before the loop, then trains a few steps.
//! The loop reads nothing back from the device: every step's loss stays there until the end.

use std::time::Instant;

use anyhow::Result;
use tch::{nn, Cuda, Device, Kind, Reduction, Tensor};

use recsys::models::dense_mf::{DenseMf, GradientMode, RatingMatrix};
use recsys::models::explicit::BilinearNet;
use recsys::models::mf::{MatrixFactorization, PairScorer};
use recsys::models::neumf::{NeuMF, NeuMFConfig};
use recsys::models::recommender_net::{HiddenLayers, RecommenderNet, RecommenderNetConfig};
use recsys::models::sequence::{ImplicitSequenceModel, Representation, SequenceConfig};
use recsys::models::two_tower::{BaseTwoHead, TowerTrain};
use recsys::optim::Adam;
use recsys::runtime::device::device_name;

/// Users, items and batch size of a run: `small` for the check, `large` for the speed table.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub users: i64,
    pub items: i64,
    pub batch: i64,
    pub dim: i64,
}

impl Size {
    /// Tiny: a CPU run of every model takes well under a second.
    pub const SMALL: Size = Size {
        users: 60,
        items: 50,
        batch: 64,
        dim: 8,
    };
    /// About MovieLens 100k's users and items, with the notebooks' batch sizes' order.
    pub const LARGE: Size = Size {
        users: 943,
        items: 1682,
        batch: 1024,
        dim: 64,
    };
}

/// What one run of a model on one device left.
#[derive(Debug)]
pub struct Run {
    /// Every step's loss, in order.
    pub losses: Vec<f64>,
    /// Steps per second over every step but the first (which pays for the device's warm-up).
    pub steps_per_s: f64,
    /// Tensors that are not on the run's device (name and where they are); empty when all are.
    pub misplaced: Vec<String>,
    /// Which optimizer step ran: "fused CPU Adam", "libtorch Adam", "libtorch SGD".
    pub optimizer: &'static str,
}

/// A model the self-test trains, with its tolerance on the relative loss difference.
pub struct Case {
    pub name: &'static str,
    pub tolerance: f64,
    pub run: fn(Device, u64, usize, Size) -> Result<Run>,
}

/// Relative tolerance for float32 models run through different kernels (CPU vs CUDA): the
/// summation orders differ, so losses agree to a few units in the 4th–5th digit after a few
/// dozen Adam steps.
pub const TOLERANCE: f64 = 1e-3;
/// cuDNN's GRU/LSTM may use TF32 tensor cores (libtorch's default `allow_tf32` for cuDNN is on),
/// about 3 decimal digits: looser.
pub const RNN_TOLERANCE: f64 = 1e-2;

/// Every model the project has.
pub const CASES: &[Case] = &[
    case("mf", TOLERANCE, mf),
    case("neumf", TOLERANCE, neumf),
    case("bilinear", TOLERANCE, bilinear),
    case("pooling", TOLERANCE, pooling),
    case("cbow", TOLERANCE, cbow),
    case("gru", RNN_TOLERANCE, gru),
    case("lstm", RNN_TOLERANCE, lstm),
    case("two-tower", TOLERANCE, two_tower),
    case("mlp", TOLERANCE, recommender_net),
    case("dense-mf", TOLERANCE, dense_mf),
];

const fn case(
    name: &'static str,
    tolerance: f64,
    run: fn(Device, u64, usize, Size) -> Result<Run>,
) -> Case {
    Case {
        name,
        tolerance,
        run,
    }
}

/// Collects the tensors that are not on `device`.
pub struct Placement {
    device: Device,
    pub misplaced: Vec<String>,
}

impl Placement {
    pub fn new(device: Device) -> Placement {
        Placement {
            device,
            misplaced: Vec::new(),
        }
    }

    /// Check one tensor (an undefined one, e.g. a missing gradient, is skipped).
    pub fn tensor(&mut self, what: &str, t: &Tensor) {
        if t.defined() && t.device() != self.device {
            let at = device_name(t.device());
            self.misplaced.push(format!("{what} on {at}"));
        }
    }

    /// Check every variable of a store, and its gradient.
    pub fn store(&mut self, label: &str, vs: &nn::VarStore) {
        let mut vars: Vec<_> = vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, t) in vars {
            self.tensor(&format!("{label}.{name}"), &t);
            self.tensor(&format!("{label}.{name}.grad"), &t.grad());
        }
    }
}

/// Wait for the device to finish its queued work (a no-op on the CPU).
fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        Cuda::synchronize(i as i64);
    }
}

/// Run `steps` steps; `step(s)` does step `s` and returns its loss (on the device). Returns the
/// losses (read back once, after the loop) and the steps per second after the first step.
fn timed(
    device: Device,
    steps: usize,
    mut step: impl FnMut(usize) -> Result<Tensor>,
) -> Result<(Vec<f64>, f64)> {
    let mut losses = Vec::with_capacity(steps);
    let mut start = Instant::now();
    for s in 0..steps {
        losses.push(step(s)?.detach());
        if s == 0 {
            sync(device);
            start = Instant::now();
        }
    }
    sync(device);
    let secs = start.elapsed().as_secs_f64();
    let rate = if steps > 1 && secs > 0.0 {
        (steps - 1) as f64 / secs
    } else {
        0.0
    };
    let all = Tensor::stack(&losses, 0)
        .to_device(Device::Cpu)
        .to_kind(Kind::Double);
    Ok((Vec::<f64>::try_from(all)?, rate))
}

fn adam_name(adam: &Adam) -> &'static str {
    if adam.is_fused() {
        "fused CPU Adam"
    } else {
        "libtorch Adam"
    }
}

/// `steps` batches of (user, item, target) drawn on the CPU, copied to `device` now.
fn pair_batches(
    device: Device,
    size: Size,
    steps: usize,
    target: impl Fn(&Tensor) -> Tensor,
) -> Vec<(Tensor, Tensor, Tensor)> {
    (0..steps)
        .map(|_| {
            let cpu = (Kind::Int64, Device::Cpu);
            let u = Tensor::randint(size.users, [size.batch], cpu);
            let i = Tensor::randint(size.items, [size.batch], cpu);
            let y = target(&u);
            (
                u.to_device(device),
                i.to_device(device),
                y.to_device(device),
            )
        })
        .collect()
}

fn clicks(u: &Tensor) -> Tensor {
    Tensor::randint(2, u.size(), (Kind::Float, Device::Cpu))
}

fn stars(u: &Tensor) -> Tensor {
    Tensor::randint_low(1, 6, u.size(), (Kind::Float, Device::Cpu))
}

/// A pair model trained with Adam on `loss(scores, targets)`.
fn pair_run(
    device: Device,
    seed: u64,
    steps: usize,
    size: Size,
    build: impl FnOnce(&nn::Path) -> Box<dyn PairScorer>,
    target: impl Fn(&Tensor) -> Tensor,
    loss: impl Fn(&Tensor, &Tensor) -> Tensor,
) -> Result<Run> {
    tch::manual_seed(seed as i64);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = build(&vs.root());
    vs.set_device(device);
    let batches = pair_batches(device, size, steps, target);
    let mut adam = Adam::new(&vs, 1e-2)?;
    let (losses, steps_per_s) = timed(device, steps, |s| {
        let (u, i, y) = &batches[s];
        let l = loss(&model.score(u, i), y);
        adam.backward_step(&l)?;
        Ok(l)
    })?;
    let mut at = Placement::new(device);
    at.store("vs", &vs);
    Ok(Run {
        losses,
        steps_per_s,
        misplaced: at.misplaced,
        optimizer: adam_name(&adam),
    })
}

fn bce(scores: &Tensor, y: &Tensor) -> Tensor {
    scores.binary_cross_entropy_with_logits::<Tensor>(y, None, None, Reduction::Mean)
}

fn mse(pred: &Tensor, y: &Tensor) -> Tensor {
    (pred - y).square().mean(Kind::Float)
}

fn mf(device: Device, seed: u64, steps: usize, size: Size) -> Result<Run> {
    let build = |p: &nn::Path| -> Box<dyn PairScorer> {
        Box::new(MatrixFactorization::new(
            p, size.users, size.items, size.dim,
        ))
    };
    pair_run(device, seed, steps, size, build, clicks, bce)
}

fn neumf(device: Device, seed: u64, steps: usize, size: Size) -> Result<Run> {
    let config = NeuMFConfig {
        factors: size.dim,
        mlp_layers: 2,
        embedding_std: 0.01,
    };
    let build = |p: &nn::Path| -> Box<dyn PairScorer> {
        Box::new(NeuMF::new(p, size.users, size.items, config))
    };
    pair_run(device, seed, steps, size, build, clicks, bce)
}

fn bilinear(device: Device, seed: u64, steps: usize, size: Size) -> Result<Run> {
    let build = |p: &nn::Path| -> Box<dyn PairScorer> {
        Box::new(BilinearNet::new(p, size.users, size.items, size.dim))
    };
    pair_run(device, seed, steps, size, build, stars, mse)
}

/// A next-item model: left-padded sequences of 1-based item ids (0 is padding).
fn sequence(
    representation: Representation,
    device: Device,
    seed: u64,
    steps: usize,
    size: Size,
) -> Result<Run> {
    tch::manual_seed(seed as i64);
    let config = SequenceConfig {
        representation,
        embedding_dim: size.dim,
        hidden_dim: size.dim,
        n_iter: 1,
        batch_size: size.batch,
        learning_rate: 1e-2,
        l2: 0.0,
    };
    // Built on the CPU (its weights from the CPU generator), then moved; the model's own
    // optimizer is left unused and a fresh Adam is built over the moved variables.
    let mut model = ImplicitSequenceModel::new(size.items, config, Device::Cpu)?;
    model.vs.set_device(device);
    let len = 10;
    let batches: Vec<Tensor> = (0..steps)
        .map(|_| {
            let cpu = (Kind::Int64, Device::Cpu);
            let seqs = Tensor::randint_low(1, size.items, [size.batch, len], cpu);
            let pad = Tensor::randint(len / 2, [size.batch, 1], cpu);
            let keep = Tensor::arange(len, cpu).unsqueeze(0).ge_tensor(&pad);
            (seqs * keep).to_device(device)
        })
        .collect();
    let mut adam = Adam::new(&model.vs, 1e-2)?;
    let (losses, steps_per_s) = timed(device, steps, |s| {
        let l = model.loss(&batches[s]);
        adam.backward_step(&l)?;
        Ok(l)
    })?;
    let mut at = Placement::new(device);
    at.store("vs", &model.vs);
    Ok(Run {
        losses,
        steps_per_s,
        misplaced: at.misplaced,
        optimizer: adam_name(&adam),
    })
}

fn pooling(device: Device, seed: u64, steps: usize, size: Size) -> Result<Run> {
    sequence(Representation::Pooling, device, seed, steps, size)
}

fn cbow(device: Device, seed: u64, steps: usize, size: Size) -> Result<Run> {
    sequence(Representation::Cbow, device, seed, steps, size)
}

fn gru(device: Device, seed: u64, steps: usize, size: Size) -> Result<Run> {
    sequence(Representation::Gru, device, seed, steps, size)
}

fn lstm(device: Device, seed: u64, steps: usize, size: Size) -> Result<Run> {
    sequence(Representation::Lstm, device, seed, steps, size)
}

fn two_tower(device: Device, seed: u64, steps: usize, size: Size) -> Result<Run> {
    tch::manual_seed(seed as i64);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = BaseTwoHead::new(&vs.root(), size.users, size.items, size.dim);
    vs.set_device(device);
    let cpu = (Kind::Int64, Device::Cpu);
    let n = size.batch * 4;
    let users = Vec::<i64>::try_from(Tensor::randint(size.users, [n], cpu))?;
    let items = Vec::<i64>::try_from(Tensor::randint(size.items, [n], cpu))?;
    let data = TowerTrain::new(&users, &items, 4, size.items, device)?;
    let mut batches = Vec::with_capacity(steps);
    while batches.len() < steps {
        batches.extend(data.batches(size.batch as usize, true));
    }
    let mut adam = Adam::new(&vs, 1e-2)?;
    let (losses, steps_per_s) = timed(device, steps, |s| {
        let l = recsys::models::two_tower::batch_loss(&model, &batches[s]);
        adam.backward_step(&l)?;
        Ok(l)
    })?;
    let mut at = Placement::new(device);
    at.store("vs", &vs);
    Ok(Run {
        losses,
        steps_per_s,
        misplaced: at.misplaced,
        optimizer: adam_name(&adam),
    })
}

/// Notebook 004's RecommenderNet as the notebook builds it (hidden layers unregistered: the
/// case where a layer could stay behind on the CPU), without dropout so both devices draw
/// nothing and agree.
fn recommender_net(device: Device, seed: u64, steps: usize, size: Size) -> Result<Run> {
    tch::manual_seed(seed as i64);
    let config = RecommenderNetConfig {
        n_factors: size.dim,
        embedding_dropout: 0.0,
        hidden: vec![2 * size.dim, size.dim],
        dropout_rate: 0.0,
    };
    let net = RecommenderNet::new(
        size.users,
        size.items,
        &config,
        HiddenLayers::Unregistered,
        device,
    )?;
    let batches = pair_batches(device, size, steps, stars);
    let mut adam = net.adam(1e-3)?;
    let (losses, steps_per_s) = timed(device, steps, |s| {
        let (u, m, r) = &batches[s];
        let l = mse(&net.forward_t(u, m, true).squeeze_dim(1), r);
        adam.backward_step(&l)?;
        Ok(l)
    })?;
    let mut at = Placement::new(device);
    at.store("vs", &net.vs);
    at.store("unregistered", &net.unregistered_vs);
    for (k, t) in net.hidden_parameters().iter().enumerate() {
        at.tensor(&format!("hidden parameter {k}"), t);
    }
    at.tensor("movie embeddings", net.movie_embeddings());
    Ok(Run {
        losses,
        steps_per_s,
        misplaced: at.misplaced,
        optimizer: adam_name(&adam),
    })
}

/// Notebook 004's dense factorization: SGD on the whole rating matrix each step.
fn dense_mf(device: Device, seed: u64, steps: usize, size: Size) -> Result<Run> {
    tch::manual_seed(seed as i64);
    let (k, nu, ni) = (size.dim, size.users, size.items);
    let users = Tensor::rand([k, nu], (Kind::Float, Device::Cpu));
    let items = Tensor::rand([k, ni], (Kind::Float, Device::Cpu));
    let cpu = (Kind::Int64, Device::Cpu);
    let rated = Tensor::rand([nu, ni], (Kind::Float, Device::Cpu)).lt(0.1);
    let stars = Tensor::randint_low(1, 6, [nu, ni], cpu);
    let ratings = stars.where_self(&rated, &Tensor::full([nu, ni], -1, cpu));
    let matrix = RatingMatrix {
        exist: rated.to_kind(Kind::Int64).to_device(device),
        ratings: ratings.to_device(device),
        n_users: nu,
        n_items: ni,
    };
    let mut model = DenseMf::from_factors(&users, &items, 1e-4, device)?;
    let (losses, steps_per_s) = timed(device, steps, |_| {
        Ok(model.sgd_step(&matrix, GradientMode::ZeroEachStep))
    })?;
    let mut at = Placement::new(device);
    at.store("vs", &model.vs);
    at.tensor("user_factors", &model.user_factors);
    at.tensor("item_factors", &model.item_factors);
    at.tensor("matrix.ratings", &matrix.ratings);
    at.tensor("matrix.exist", &matrix.exist);
    Ok(Run {
        losses,
        steps_per_s,
        misplaced: at.misplaced,
        optimizer: "libtorch SGD",
    })
}
