//! The speed paths give the numbers of the plain ones: a pair network scores every pair the same
//! bits in blocks as in one pass ([`Network::score_pairs_in_blocks`] scores in blocks
//! of [`PAIR_BLOCK`] pairs), and the grid path of [`Network::score_rows`] (one matrix product,
//! NeuMF's split first layer) gives every pair's forward score up to float rounding.

use recsys::recommender::network::{pair_block_users, NetKind, Network, NetworkConfig, PAIR_BLOCK};
use recsys::recommender::{Query, Sizes};
use tch::{Device, Kind, Tensor};

fn bits(t: &Tensor) -> Vec<u32> {
    let v: Vec<f32> = Vec::try_from(t.to_kind(Kind::Float).reshape([-1])).unwrap();
    v.iter().map(|x| x.to_bits()).collect()
}

/// A fresh network of `kind` (seeded) and its users as queries.
fn fresh(kind: NetKind, sizes: Sizes) -> (Network, Vec<Query>) {
    tch::manual_seed(7);
    let config = NetworkConfig::defaults(kind).resolved(kind, 1000);
    let net = Network::new(kind, config, sizes, Device::Cpu).unwrap();
    (net, (0..sizes.n_users).map(Query::User).collect())
}

/// The blocked scores of all users equal the old path's: every (user, item) pair of the chunk
/// through the network at once.
fn blocks_equal_one_pass(kind: NetKind, sizes: Sizes) {
    let (net, _) = fresh(kind, sizes);
    let users: Vec<i64> = (0..sizes.n_users).collect();
    let blocked = net.score_pairs_in_blocks(&users).unwrap();
    assert_eq!(blocked.size(), [sizes.n_users, sizes.n_items]);
    let (b, n) = (sizes.n_users, sizes.n_items);
    let u = Tensor::arange(b, (Kind::Int64, Device::Cpu))
        .unsqueeze(1)
        .expand([b, n], false)
        .reshape([-1]);
    let i = Tensor::arange(n, (Kind::Int64, Device::Cpu))
        .unsqueeze(0)
        .expand([b, n], false)
        .reshape([-1]);
    let one_pass = tch::no_grad(|| net.score_pairs(&u, &i, false).unwrap());
    assert!(bits(&blocked) == bits(&one_pass), "{}", kind.name());
}

#[test]
fn pair_networks_score_in_blocks_as_in_one_pass() {
    // 40 users × 1500 items: 60k pairs, four blocks of 10 users .
    let sizes = Sizes {
        n_users: 40,
        n_items: 1500,
    };
    assert!(sizes.n_users * sizes.n_items > 2 * PAIR_BLOCK);
    assert_eq!(pair_block_users(sizes.n_items), 10);
    for kind in [
        NetKind::Neumf,
        NetKind::TwoTower,
        NetKind::Bilinear,
        NetKind::Mlp,
    ] {
        blocks_equal_one_pass(kind, sizes);
    }
    // A user alone against its row in a chunk: the grid path multiplies matrices whose row
    // count picks BLAS's kernel, so the last bits move with the chunk; the grid test below holds
    // them within float rounding.
}

/// The largest difference between two score tables, and the largest score.
fn max_gap(a: &Tensor, b: &Tensor) -> (f64, f64) {
    let gap = (a - b).abs().max().double_value(&[]);
    (gap, a.abs().max().double_value(&[]))
}

/// What `recsys` ranks with (the grid) against every pair through the plain forward, within
/// float rounding, on a fresh network and on one whose weights were moved off their init (so
/// that every layer and bias matters, and NeuMF's ReLUs are not all on one side).
#[test]
fn the_grid_scores_every_pair_as_the_forward_does() {
    let sizes = Sizes {
        n_users: 23,
        n_items: 1500,
    };
    for kind in [
        NetKind::Mf,
        NetKind::Neumf,
        NetKind::TwoTower,
        NetKind::Bilinear,
    ] {
        let (net, queries) = fresh(kind, sizes);
        for round in 0..2 {
            if round == 1 {
                tch::no_grad(|| {
                    for (_, v) in net.var_store().variables() {
                        let noise = Tensor::randn_like(&v) * 0.3;
                        let _ = v.shallow_clone().g_add_(&noise);
                    }
                });
            }
            let grid = net.score_rows(&queries).unwrap();
            let users: Vec<i64> = (0..sizes.n_users).collect();
            let plain = net.score_pairs_in_blocks(&users).unwrap();
            assert_eq!(grid.size(), plain.size());
            let (gap, scale) = max_gap(&grid, &plain);
            assert!(scale > 1e-3, "{}: scores all near 0 ({scale})", kind.name());
            assert!(
                gap <= 1e-5 * (1.0 + scale),
                "{} round {round}: grid and forward differ by {gap} (scores up to {scale})",
                kind.name()
            );
            // a user alone scores as in the chunk, within the same rounding
            let alone = net.score_rows(&queries[5..6]).unwrap();
            let (gap, _) = max_gap(&alone, &grid.narrow(0, 5, 1));
            assert!(gap <= 1e-5 * (1.0 + scale), "{}: alone {gap}", kind.name());
        }
    }
}

#[test]
fn a_block_holds_at_least_one_user() {
    assert_eq!(pair_block_users(PAIR_BLOCK * 4), 1);
    assert_eq!(pair_block_users(0), PAIR_BLOCK);
    assert_eq!(pair_block_users(1), PAIR_BLOCK);
}
