//! Neural matrix factorization (NeuMF, He et al. 2017, "Neural Collaborative Filtering"),
//! which notebook 000 left as TODO.
//!
//! Two branches with their own embeddings:
//! - GMF: the element-wise product `p_u ⊙ q_i` of `factors`-sized embeddings;
//! - MLP: `[p'_u, q'_i]` (each `factors · 2^(layers-1)` wide) through `layers` linear+ReLU
//!   layers that halve the width down to `factors`.
//!
//! Their outputs are concatenated (`2 · factors`) into one linear output layer that gives the
//! logit. Embeddings are initialised N(0, 0.01²) as in the paper's reference code; linear layers
//! as PyTorch's `nn.Linear` (weight, then bias, each U(±1/√fan_in)). No pre-training.

use tch::nn::{self, Init, Module};
use tch::Tensor;

use super::layers::{lookup_for, TorchLinear};
use super::mf::PairScorer;

/// Sizes of a [`NeuMF`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct NeuMFConfig {
    /// Predictive factors: GMF embedding size and width of the last MLP layer.
    pub factors: i64,
    /// Number of MLP layers (at least 1).
    pub mlp_layers: usize,
    /// Standard deviation of the N(0, σ²) embedding init.
    pub embedding_std: f64,
}

impl Default for NeuMFConfig {
    fn default() -> Self {
        NeuMFConfig {
            factors: 20,
            mlp_layers: 3,
            embedding_std: 0.01,
        }
    }
}

/// NeuMF: GMF and MLP branches fused by one output layer. Scores are logits.
#[derive(Debug)]
pub struct NeuMF {
    user_gmf: nn::Embedding,
    item_gmf: nn::Embedding,
    user_mlp: nn::Embedding,
    item_mlp: nn::Embedding,
    mlp: Vec<TorchLinear>,
    output: TorchLinear,
    config: NeuMFConfig,
    /// Sparse embedding gradients on every device and build, for an optimizer that updates only
    /// the batch's rows (the network sets it from its optimizer); `false`: as `layers::lookup`.
    pub sparse_lookups: bool,
}

impl NeuMF {
    /// A model for users `0..n_users` and items `0..n_items`. Draw order: the four embeddings
    /// (user GMF, item GMF, user MLP, item MLP), the MLP layers, the output layer.
    ///
    /// Panics if `config.mlp_layers` is 0 or `config.factors` is not positive.
    pub fn new(vs: &nn::Path, n_users: i64, n_items: i64, config: NeuMFConfig) -> NeuMF {
        assert!(config.mlp_layers >= 1, "NeuMF needs at least one MLP layer");
        assert!(config.factors >= 1, "NeuMF needs at least one factor");
        let f = config.factors;
        let mlp_dim = f << (config.mlp_layers - 1);
        let emb = |path: nn::Path, n: i64, dim: i64| {
            let c = nn::EmbeddingConfig {
                ws_init: Init::Randn {
                    mean: 0.0,
                    stdev: config.embedding_std,
                },
                ..Default::default()
            };
            nn::embedding(path, n, dim, c)
        };
        let user_gmf = emb(vs / "user_gmf", n_users, f);
        let item_gmf = emb(vs / "item_gmf", n_items, f);
        let user_mlp = emb(vs / "user_mlp", n_users, mlp_dim);
        let item_mlp = emb(vs / "item_mlp", n_items, mlp_dim);
        let mut mlp = Vec::with_capacity(config.mlp_layers);
        let mut width = 2 * mlp_dim;
        for l in 0..config.mlp_layers {
            mlp.push(TorchLinear::new(&(vs / "mlp" / l), width, width / 2));
            width /= 2;
        }
        let output = TorchLinear::new(&(vs / "output"), 2 * f, 1);
        NeuMF {
            user_gmf,
            item_gmf,
            user_mlp,
            item_mlp,
            mlp,
            output,
            config,
            sparse_lookups: false,
        }
    }

    /// The sizes this model was built with.
    pub fn config(&self) -> NeuMFConfig {
        self.config
    }
}

impl NeuMF {
    /// The item embeddings of both branches side by side, `[n_items, 2 · factors]` (GMF, then
    /// MLP).
    pub fn item_embeddings(&self) -> Tensor {
        Tensor::cat(&[&self.item_gmf.ws, &self.item_mlp.ws], 1)
    }
}

impl PairScorer for NeuMF {
    fn score(&self, users: &Tensor, items: &Tensor) -> Tensor {
        let s = self.sparse_lookups;
        let gmf = lookup_for(&self.user_gmf.ws, users, s) * lookup_for(&self.item_gmf.ws, items, s);
        let mut h = Tensor::cat(
            &[
                lookup_for(&self.user_mlp.ws, users, s),
                lookup_for(&self.item_mlp.ws, items, s),
            ],
            1,
        );
        for layer in &self.mlp {
            h = layer.forward(&h).relu();
        }
        Tensor::cat(&[gmf, h], 1).apply(&self.output).squeeze_dim(1)
    }

    /// The forward pass with its linear parts split by input: the first MLP layer on
    /// `[p'_u, q'_i]` is `W_u p'_u + W_i q'_i + b`, so `W_u p'_u + b` is computed once a user and
    /// `W_i q'_i` once an item, and each pair's first activations are their sum; the output
    /// layer's GMF half, `w_g · (p_u ⊙ q_i)`, is one matrix product `(p_u ⊙ w_g) q_iᵀ` for all
    /// pairs. Only the deeper MLP layers run per pair, `block_users` users at a time.
    fn score_grid(&self, users: &Tensor, block_users: i64) -> Option<Tensor> {
        let (f, mlp_dim) = (self.config.factors, self.user_mlp.ws.size()[1]);
        let n_items = self.item_gmf.ws.size()[0];
        let first = &self.mlp[0];
        let per_user = self
            .user_mlp
            .ws
            .index_select(0, users)
            .linear(&first.weight.narrow(1, 0, mlp_dim), Some(&first.bias));
        let per_item = self
            .item_mlp
            .ws
            .matmul(&first.weight.narrow(1, mlp_dim, mlp_dim).tr());
        let (w_gmf, w_mlp) = (
            self.output.weight.narrow(1, 0, f),
            self.output.weight.narrow(1, f, f),
        );
        let gmf_users = self.user_gmf.ws.index_select(0, users) * &w_gmf;
        let out = gmf_users.matmul(&self.item_gmf.ws.tr()) + &self.output.bias;
        let n_users = per_user.size()[0];
        let width = per_user.size()[1];
        let mut start = 0;
        while start < n_users {
            let n = block_users.max(1).min(n_users - start);
            let mut h = (per_user.narrow(0, start, n).unsqueeze(1) + per_item.unsqueeze(0))
                .relu_()
                .view([n * n_items, width]);
            for layer in &self.mlp[1..] {
                h = layer.forward(&h).relu_();
            }
            let mut rows = out.narrow(0, start, n);
            let _ = rows.g_add_(&h.matmul(&w_mlp.tr()).view([n, n_items]));
            start += n;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn forward_shapes() {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = NeuMFConfig {
            factors: 8,
            mlp_layers: 3,
            embedding_std: 0.01,
        };
        let m = NeuMF::new(&vs.root(), 5, 7, cfg);
        let u = Tensor::from_slice(&[0i64, 1, 4]);
        let i = Tensor::from_slice(&[6i64, 0, 3]);
        assert_eq!(m.score(&u, &i).size(), vec![3]);
        // embeddings 2×(5+7)×(8 + 32); layers 64→32→16→8; output 16→1
        let n: i64 = vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as i64)
            .sum();
        let layers = 64 * 32 + 32 + 32 * 16 + 16 + 16 * 8 + 8 + 16 + 1;
        assert_eq!(n, 12 * 8 + 12 * 32 + layers);
    }
}
