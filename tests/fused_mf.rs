//! The fused mf step of feature `fast` (`optim::fast::FusedMfStep`) against the plain tch path
//! it replaces in `recsys train --model mf`: the same batches through `Network::pair_loss`,
//! backward and `torch.optim.SparseAdam`'s rule (`optim::sparse`), step by step. Not bit for
//! bit (other summation orders, Rust's `exp`): the losses within 1e-5 relative and the tables
//! within 2e-5 of each other (entries of about 1) after 40 steps, with and without weight
//! decay.

/// Without `fast` the fused step is not built, and `train` takes the plain path: nothing here
/// to compare.
#[cfg(not(feature = "fast"))]
#[test]
fn the_fused_step_needs_feature_fast() {
    println!("skipped: the fused mf step is built with feature `fast` only");
}

#[cfg(feature = "fast")]
mod with_fast {

    use recsys::optim::fast::FusedMfStep;
    use recsys::recommender::network::{NetKind, Network, NetworkConfig, OptimizerKind};
    use recsys::recommender::Sizes;
    use tch::{Device, Kind, Tensor};

    const SIZES: Sizes = Sizes {
        n_users: 60,
        n_items: 90,
    };

    fn fresh() -> Network {
        tch::manual_seed(11);
        let config = NetworkConfig::defaults(NetKind::Mf).resolved(NetKind::Mf, 1000);
        assert_eq!(config.optimizer, OptimizerKind::SparseAdam);
        Network::new(NetKind::Mf, config, SIZES, Device::Cpu).unwrap()
    }

    /// A batch of `positives` positives, each with 4 negatives, drawn from libtorch's generator
    /// (users and items repeat within the batch, as in training).
    fn batch(positives: i64) -> (Vec<i64>, Vec<i64>, Vec<f32>) {
        let users = Tensor::randint(SIZES.n_users, [positives, 1], (Kind::Int64, Device::Cpu))
            .expand([positives, 5], false)
            .reshape([-1]);
        let items = Tensor::randint(SIZES.n_items, [positives * 5], (Kind::Int64, Device::Cpu));
        let labels: Vec<f32> = (0..positives * 5)
            .map(|j| if j % 5 == 0 { 1.0 } else { 0.0 })
            .collect();
        (
            Vec::try_from(&users).unwrap(),
            Vec::try_from(&items).unwrap(),
            labels,
        )
    }

    fn max_gap(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    #[test]
    fn the_fused_step_follows_the_plain_one() {
        for weight_decay in [0.0, 0.01] {
            let (plain, fused) = (fresh(), fresh());
            let lr = 0.02;
            let mut opt = plain
                .optimizer(OptimizerKind::SparseAdam, lr, weight_decay)
                .unwrap();
            let (users, items) = fused.mf_tables().unwrap();
            let mut step = FusedMfStep::new(
                users.shallow_clone(),
                items.shallow_clone(),
                lr,
                weight_decay,
            )
            .unwrap();
            let (p_users, p_items) = plain.mf_tables().unwrap();
            assert_eq!(max_gap(&users, &p_users), 0.0, "the same start");
            tch::manual_seed(3);
            for s in 0..40 {
                let (u, i, y) = batch(if s == 39 { 7 } else { 32 });
                let loss = plain
                    .pair_loss(
                        &Tensor::from_slice(&u),
                        &Tensor::from_slice(&i),
                        &Tensor::from_slice(&y),
                    )
                    .unwrap();
                opt.backward_step(&loss).unwrap();
                let plain_loss = loss.double_value(&[]);
                let fused_loss = step.step(&u, &i, &y).unwrap();
                assert!(
                    (plain_loss - fused_loss).abs() <= 1e-5 * plain_loss.abs(),
                    "step {s}: loss {plain_loss} (plain) against {fused_loss} (fused)"
                );
            }
            // the tables moved (lr 0.02 for 40 steps), and moved alike
            let (u0, _) = fresh().mf_tables().unwrap();
            assert!(max_gap(&users, &u0) > 0.05, "the fused step moved nothing");
            for (a, b, what) in [(&users, &p_users, "users"), (&items, &p_items, "items")] {
                let gap = max_gap(a, b);
                assert!(
                    gap <= 2e-5,
                    "weight decay {weight_decay}: {what} differ by {gap}"
                );
            }
        }
    }

    #[test]
    fn the_fused_step_refuses_pairs_outside_its_tables() {
        let net = fresh();
        let (users, items) = net.mf_tables().unwrap();
        let mut step = FusedMfStep::new(users, items, 0.02, 0.0).unwrap();
        let e = step.step(&[0, 60], &[1, 2], &[1.0, 0.0]).unwrap_err();
        assert!(e.to_string().contains("outside the tables"), "{e}");
        assert!(step.step(&[0], &[1, 2], &[1.0]).is_err());
        assert!(step.step(&[], &[], &[]).is_err());
    }
}
