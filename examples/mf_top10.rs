//! Matrix factorization on implicit feedback with its optimizer in plain sight: two tch
//! embeddings in a `VarStore`, `nn::Adam`, and a loop of `backward_step` over minibatches of
//! positives with sampled negatives; then one user's top 10. The library reads and splits the
//! ratings; the model and its training are plain tch.
//!
//! ```sh
//! cargo run --release --example mf_top10            # ml-100k, user 1
//! cargo run --release --example mf_top10 -- 42     # another user
//! ```

use anyhow::Result;
use recsys::prep::prepared::prepare;
use recsys::prep::spec::{DataSpec, SplitKind, SplitSpec};
use recsys::recommender::{train_set, Task};
use recsys::Context;
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Reduction, Tensor};

fn main() -> Result<()> {
    let user: i64 = std::env::args().nth(1).map_or(Ok(1), |u| u.parse())?;
    let ctx = Context::for_tests(std::path::Path::new("."));
    tch::manual_seed(42);
    let ratings = DataSpec::new("ml-100k").load(&ctx)?;
    let run = prepare(
        ratings,
        None,
        Some(3.0),
        &SplitSpec::new(SplitKind::Random, 0.2),
    )?;
    let train = train_set(&run, &run.train, Task::Ranking)?;

    let vs = nn::VarStore::new(Device::Cpu);
    let init = nn::EmbeddingConfig {
        ws_init: nn::Init::Randn {
            mean: 0.0,
            stdev: 0.1,
        },
        ..Default::default()
    };
    let user_vectors = nn::embedding(vs.root() / "users", train.n_users, 32, init);
    let item_vectors = nn::embedding(vs.root() / "items", train.n_items, 32, init);
    let score = |u: &Tensor, i: &Tensor| {
        (user_vectors.forward(u) * item_vectors.forward(i)).sum_dim_intlist(1, false, Kind::Float)
    };
    let mut opt = nn::Adam::default().build(&vs, 1e-2)?;
    let users = Tensor::from_slice(&train.users);
    let items = Tensor::from_slice(&train.items);
    for epoch in 1..=5 {
        let order = Tensor::randperm(users.size()[0], (Kind::Int64, Device::Cpu));
        let mut total = 0.0;
        let batches = order.split(1024, 0);
        for idx in &batches {
            // each positive with one random item as its negative
            let u = users.index_select(0, idx).repeat([2]);
            let negatives =
                Tensor::randint(train.n_items, [idx.size()[0]], (Kind::Int64, Device::Cpu));
            let i = Tensor::cat(&[items.index_select(0, idx), negatives], 0);
            let labels = Tensor::cat(
                &[
                    Tensor::ones([idx.size()[0]], (Kind::Float, Device::Cpu)),
                    Tensor::zeros([idx.size()[0]], (Kind::Float, Device::Cpu)),
                ],
                0,
            );
            let loss = score(&u, &i).binary_cross_entropy_with_logits::<Tensor>(
                &labels,
                None,
                None,
                Reduction::Mean,
            );
            opt.backward_step(&loss);
            total += loss.double_value(&[]);
        }
        println!("epoch {epoch}  loss {:.4}", total / batches.len() as f64);
    }

    let Some(u) = run.users.index(user) else {
        anyhow::bail!("user {user} has no train positives");
    };
    let scores = tch::no_grad(|| user_vectors.ws.get(u).matmul(&item_vectors.ws.tr()));
    let (_, top) = scores.topk(10, 0, true, true);
    let top: Vec<i64> = Vec::try_from(top)?;
    let ids: Vec<i64> = top
        .iter()
        .map(|&i| run.items.id(i).expect("a model index"))
        .collect();
    println!("top 10 for user {user}: {ids:?}");
    Ok(())
}
