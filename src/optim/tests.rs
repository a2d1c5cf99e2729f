//! Tests of the [`Optimizer`] trait: tch's optimizers through the crate's loops, sparse
//! gradients, and models converted after their optimizer was built.

use super::*;
use crate::models::mf::{bce_epoch, MatrixFactorization};
use tch::nn::OptimizerConfig;
use tch::{Device, Kind};

/// A small matrix factorization and a fixed epoch of data.
fn mf_and_data() -> (nn::VarStore, MatrixFactorization, [Tensor; 3]) {
    tch::manual_seed(5);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = MatrixFactorization::new(&vs.root(), 7, 9, 4);
    let users = Tensor::randint(7, [40], (Kind::Int64, Device::Cpu));
    let items = Tensor::randint(9, [40], (Kind::Int64, Device::Cpu));
    let targets = Tensor::randint(2, [40], (Kind::Float, Device::Cpu));
    (vs, model, [users, items, targets])
}

/// tch's plain SGD trains a model through the same loop as Adam (sparse lookup gradients
/// included), and lowers the loss.
#[test]
fn tch_sgd_trains_through_the_shared_loop() {
    let (vs, model, [u, i, y]) = mf_and_data();
    let mut sgd = nn::Sgd::default().build(&vs, 0.5).unwrap();
    let before = vs.trainable_variables()[0].copy();
    let mut means = Vec::new();
    for _ in 0..30 {
        let losses = bce_epoch(&model, &mut sgd, (&u, &i, &y), 8, || {}).unwrap();
        means.push(losses.mean(Kind::Float).double_value(&[]));
    }
    assert!(
        !before.equal(&vs.trainable_variables()[0]),
        "SGD moved nothing"
    );
    assert!(means[29] < means[0], "loss {} -> {}", means[0], means[29]);
}

/// tch's `nn::Adam` through the trait gives the same numbers as [`Adam`] (both libtorch's
/// Adam), though the lookups leave sparse gradients under feature `fast`.
#[test]
fn tch_adam_through_the_trait_equals_ours() {
    let run = |ours: bool| {
        let (vs, model, [u, i, y]) = mf_and_data();
        let mut opt: Box<dyn Optimizer> = if ours {
            Box::new(Adam::new(&vs, 0.05).unwrap())
        } else {
            Box::new(nn::Adam::default().build(&vs, 0.05).unwrap())
        };
        tch::manual_seed(9);
        for epoch in 0..5 {
            let _ = bce_epoch(&model, opt.as_mut(), (&u, &i, &y), 8, || {}).unwrap();
            if epoch == 2 {
                opt.set_lr(0.01).unwrap();
            }
        }
        let mut vars: Vec<_> = vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars.into_iter()
            .flat_map(|(_, t)| Vec::<f32>::try_from(t.flatten(0, -1)).unwrap())
            .map(f32::to_bits)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(true), run(false));
}

/// A store converted after its optimizer was built: the fused step refuses, with nothing
/// updated and no memory touched; the plain step is libtorch's. Never undefined behaviour.
#[test]
fn store_converted_after_the_optimizer_was_built() {
    for convert in ["half", "double", "bfloat16"] {
        let (mut vs, model, [u, i, y]) = mf_and_data();
        let mut adam = Adam::new(&vs, 0.05).unwrap();
        // One good step first, so that the moments exist.
        let _ = bce_epoch(&model, &mut adam, (&u, &i, &y), 40, || {}).unwrap();
        match convert {
            "half" => vs.half(),
            "double" => vs.set_kind(Kind::Double),
            _ => vs.bfloat16(),
        }
        let before: Vec<Tensor> = vs.trainable_variables().iter().map(|t| t.copy()).collect();
        let users = u.narrow(0, 0, 8);
        let items = i.narrow(0, 0, 8);
        use crate::models::mf::PairScorer;
        let loss = model
            .score(&users, &items)
            .to_kind(Kind::Float)
            .sum(Kind::Float);
        let stepped = adam.backward_step(&loss);
        let after = vs.trainable_variables();
        if adam.is_fused() {
            let err = stepped.expect_err("a fused step over converted parameters");
            assert!(
                err.to_string().contains("build the optimizer again"),
                "{err}"
            );
            assert!(
                before.iter().zip(&after).all(|(a, b)| a.equal(b)),
                "{convert}"
            );
        } else if stepped.is_ok() {
            assert!(after.iter().all(|t| t.kind() != Kind::Float), "{convert}");
        }
    }
}

/// The same on a GPU: parameters moved to CUDA after the fused optimizer was built.
#[test]
fn store_moved_to_cuda_after_the_optimizer_was_built() {
    if !tch::Cuda::is_available() {
        return;
    }
    let (mut vs, model, [u, i, _]) = mf_and_data();
    let mut adam = Adam::new(&vs, 0.05).unwrap();
    vs.set_device(Device::Cuda(0));
    use crate::models::mf::PairScorer;
    let loss = model
        .score(&u.to_device(Device::Cuda(0)), &i.to_device(Device::Cuda(0)))
        .sum(Kind::Float);
    let stepped = adam.backward_step(&loss);
    if adam.is_fused() {
        assert!(stepped.is_err());
    }
}
