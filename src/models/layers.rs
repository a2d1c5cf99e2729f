//! Layers with PyTorch's initialisation, so that a port and its PyTorch twin draw the same
//! numbers in the same order.

use tch::nn::{self, Init, Module};
use tch::{Device, Kind, Tensor};

/// `weight[ids]`: an embedding lookup (`nn.Embedding`'s forward, or `index_select` on rows).
///
/// With the cargo feature `fast`, the gradient of a CPU `f32` table is left sparse: the batch's
/// rows in batch order, not yet summed. [`crate::optim::Adam`] folds them into a dense gradient
/// with exactly the additions libtorch's dense backward makes, so training gives the same
/// numbers to the bit, without libtorch's per-row kernel calls and table-sized zero fill
/// (notebook 003's backward: most of the step). Elsewhere (CUDA, other dtypes, or without
/// `fast`) the gradient is dense, as libtorch makes it.
///
/// The rule: every [`crate::optim::Optimizer`] accepts a sparse gradient (the implementation
/// for tch's `nn::Optimizer` makes it dense first), so train through that trait. Look a table
/// up once per backward pass: two lookups' sparse gradients are concatenated, and folding them
/// in one pass can round differently from adding two dense gradients.
///
/// A model whose optimizer updates only the batch's rows asks for sparse gradients on every
/// device and build with [`lookup_for`] (its `sparse_lookups` field, set from the
/// optimizer the network's configuration chooses); the notebook ports never do.
pub fn lookup(weight: &Tensor, ids: &Tensor) -> Tensor {
    let sparse =
        cfg!(feature = "fast") && weight.device() == Device::Cpu && weight.kind() == Kind::Float;
    lookup_with(weight, ids, sparse)
}

/// `weight[ids]` with a sparse gradient when `sparse` (any device, any build: for the lazy
/// optimizers of [`crate::optim::sparse`]), else as [`lookup`] leaves it.
pub fn lookup_for(weight: &Tensor, ids: &Tensor, sparse: bool) -> Tensor {
    if sparse {
        lookup_with(weight, ids, true)
    } else {
        lookup(weight, ids)
    }
}

/// `weight[ids]` with a sparse (`sparse`) or dense gradient, whatever the build and device.
pub fn lookup_with(weight: &Tensor, ids: &Tensor, sparse: bool) -> Tensor {
    Tensor::embedding(weight, ids, -1, false, sparse)
}

/// `nn.Linear(n_in, n_out)` as PyTorch creates it: the weight, then the bias, both uniform in
/// ±1/√n_in (PyTorch's `kaiming_uniform_(a=√5)` bound for the weight, and its bias bound). tch's
/// own `nn::linear` draws the bias first and uses a wider weight bound.
#[derive(Debug)]
pub struct TorchLinear {
    /// `[n_out, n_in]`.
    pub weight: Tensor,
    /// `[n_out]`.
    pub bias: Tensor,
}

impl TorchLinear {
    /// A layer with variables `weight` and `bias` under `path`.
    pub fn new(path: &nn::Path, n_in: i64, n_out: i64) -> TorchLinear {
        let bound = 1.0 / (n_in as f64).sqrt();
        let init = Init::Uniform {
            lo: -bound,
            up: bound,
        };
        let weight = path.var("weight", &[n_out, n_in], init);
        let bias = path.var("bias", &[n_out], init);
        TorchLinear { weight, bias }
    }

    /// Re-initialise in place: `xavier_uniform_(weight)` and the bias filled with `bias`
    /// (notebook 004's `init`).
    pub fn reinit_xavier(&mut self, bias: f64) {
        let size = self.weight.size();
        let (fan_out, fan_in) = (size[0] as f64, size[1] as f64);
        let a = 3f64.sqrt() * (2.0 / (fan_in + fan_out)).sqrt();
        tch::no_grad(|| {
            let _ = self.weight.uniform_(-a, a);
            let _ = self.bias.fill_(bias);
        });
    }
}

impl Module for TorchLinear {
    fn forward(&self, xs: &Tensor) -> Tensor {
        xs.linear(&self.weight, Some(&self.bias))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn bounds_and_shapes() {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let mut l = TorchLinear::new(&vs.root(), 16, 4);
        assert_eq!(l.weight.size(), vec![4, 16]);
        assert!(l.weight.abs().max().double_value(&[]) <= 0.25);
        l.reinit_xavier(0.01);
        assert!(l.weight.abs().max().double_value(&[]) <= (6.0f64 / 20.0).sqrt());
        assert_eq!(
            l.bias.mean(tch::Kind::Float).double_value(&[]),
            0.01f32 as f64
        );
        assert_eq!(
            l.forward(&Tensor::ones([3, 16], (tch::Kind::Float, Device::Cpu)))
                .size(),
            vec![3, 4]
        );
    }
}
