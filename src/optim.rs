//! Adam with a fused CPU step: the same update as libtorch's `torch::optim::Adam` (what tch's
//! `nn::Adam` wraps), bit for bit, in three passes over each parameter instead of about eight.
//!
//! Why: in the notebooks' embedding models the optimizer step is most of a training step on
//! the CPU. libtorch updates each parameter with separate kernels (`mul_`, `add_`, `mul_`,
//! `addcmul_`, `sqrt`, `div`, `add_`, `addcdiv_`), every one a full pass over the whole embedding
//! table. [`Adam`] does the same arithmetic, in the same order and with the same roundings
//! (ATen's vectorized `add` and `addcmul` are fused multiply-adds), element by element: one loop
//! for both moments, libtorch's own `sqrt` (on x86 it is MKL's, which is not correctly rounded,
//! so a Rust `sqrt` would drift from PyTorch in the last bit), and one loop for the parameter.
//!
//! - On the CPU, with contiguous `f32` parameters, the step is the fused loops.
//! - Anywhere else (CUDA, other dtypes) it is libtorch's own Adam.
//! - `zero_grad` is libtorch's (gradients set to none), so a parameter that gets no gradient in
//!   a step is skipped by that step, as in PyTorch.

use anyhow::Result;
use tch::{nn, COptimizer, Device, Kind, Tensor};

/// Adam's moments for one parameter, created at its first step (as libtorch does), and a
/// buffer for `sqrt(exp_avg_sq)`, computed in place.
struct Moments {
    step: i32,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    sqrt_buf: Tensor,
}

/// Adam (Kingma & Ba) with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, L2 weight decay
/// added to the gradient (coupled, like `torch.optim.Adam`'s `weight_decay`).
pub struct Adam {
    params: Vec<Tensor>,
    moments: Vec<Option<Moments>>,
    /// libtorch's Adam over the same parameters: it zeroes the gradients, and steps them when
    /// they are not `f32` on the CPU.
    libtorch: COptimizer,
    fused: bool,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
}

impl std::fmt::Debug for Adam {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Adam")
            .field("params", &self.params.len())
            .field("fused", &self.fused)
            .field("lr", &self.lr)
            .field("weight_decay", &self.weight_decay)
            .finish()
    }
}

impl Adam {
    /// Adam over every trainable variable of `vs` (create the model's variables first).
    pub fn new(vs: &nn::VarStore, lr: f64) -> Result<Adam> {
        Adam::with_weight_decay(vs, lr, 0.0)
    }

    /// Adam with L2 weight decay `weight_decay` (`torch.optim.Adam(..., weight_decay=...)`).
    pub fn with_weight_decay(vs: &nn::VarStore, lr: f64, weight_decay: f64) -> Result<Adam> {
        let (beta1, beta2, eps) = (0.9, 0.999, 1e-8);
        let params = vs.trainable_variables();
        let mut libtorch = COptimizer::adam(lr, beta1, beta2, weight_decay, eps, false)?;
        for p in &params {
            libtorch.add_parameters(p, 0)?;
        }
        let fused = params
            .iter()
            .all(|p| p.device() == Device::Cpu && p.kind() == Kind::Float && p.is_contiguous());
        Ok(Adam {
            moments: params.iter().map(|_| None).collect(),
            params,
            libtorch,
            fused,
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
        })
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Change the learning rate (for a scheduler).
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        self.libtorch.set_learning_rate(lr)?;
        self.lr = lr;
        Ok(())
    }

    /// Drop every parameter's gradient (libtorch's `zero_grad`, set to none).
    pub fn zero_grad(&mut self) {
        self.libtorch
            .zero_grad()
            .expect("libtorch zero_grad on the model's own parameters");
    }

    /// `zero_grad`, `loss.backward()`, `step`.
    pub fn backward_step(&mut self, loss: &Tensor) {
        self.zero_grad();
        loss.backward();
        self.step();
    }

    /// One Adam update of every parameter that has a gradient.
    pub fn step(&mut self) {
        if !self.fused {
            self.libtorch
                .step()
                .expect("libtorch Adam step on the model's own parameters");
            return;
        }
        tch::no_grad(|| {
            for (p, moments) in self.params.iter().zip(self.moments.iter_mut()) {
                let grad = p.grad();
                if !grad.defined() {
                    continue;
                }
                let m = moments.get_or_insert_with(|| Moments {
                    step: 0,
                    exp_avg: p.zeros_like(),
                    exp_avg_sq: p.zeros_like(),
                    sqrt_buf: p.zeros_like(),
                });
                m.step += 1;
                let h = Hyper::new(
                    self.lr,
                    self.beta1,
                    self.beta2,
                    self.eps,
                    self.weight_decay,
                    m.step,
                );
                let grad = grad.contiguous();
                assert!(p.is_contiguous(), "Adam: parameters are contiguous");
                fused_update(p, &grad, m, &h);
            }
        });
    }
}

/// Which loops the CPU step runs on this machine: `"avx2+fma"` or `"portable"` (the same
/// numbers; the portable loops call a software fused multiply-add and are slower).
pub fn cpu_kernel() -> &'static str {
    if has_avx2_fma() {
        "avx2+fma"
    } else {
        "portable"
    }
}

/// Whether this CPU has AVX2 and FMA (the features of the fast loops).
fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The step's scalars, rounded to `f32` where ATen rounds them.
#[derive(Debug, Clone, Copy)]
struct Hyper {
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    /// `sqrt(1 - beta2^t)`, computed in f64 and then rounded.
    bias_correction2_sqrt: f32,
    /// `-lr / (1 - beta1^t)`.
    neg_step_size: f32,
    eps: f32,
    weight_decay: f32,
}

impl Hyper {
    fn new(lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64, step: i32) -> Hyper {
        let bias_correction1 = 1.0 - beta1.powf(f64::from(step));
        let bias_correction2 = 1.0 - beta2.powf(f64::from(step));
        Hyper {
            beta1: beta1 as f32,
            one_minus_beta1: (1.0 - beta1) as f32,
            beta2: beta2 as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            bias_correction2_sqrt: bias_correction2.sqrt() as f32,
            neg_step_size: (-(lr / bias_correction1)) as f32,
            eps: eps as f32,
            weight_decay: weight_decay as f32,
        }
    }
}

/// The tensor's elements. Caller: `t` is a contiguous `f32` CPU tensor not written meanwhile.
unsafe fn f32_slice(t: &Tensor) -> &[f32] {
    std::slice::from_raw_parts(t.data_ptr() as *const f32, t.numel())
}

/// The tensor's elements, to write. Caller: as [`f32_slice`], and nothing else reads them.
#[allow(clippy::mut_from_ref)]
unsafe fn f32_slice_mut(t: &Tensor) -> &mut [f32] {
    std::slice::from_raw_parts_mut(t.data_ptr() as *mut f32, t.numel())
}

/// One parameter's update: [`update_moments`], libtorch's `sqrt` (MKL's on x86, which is not
/// correctly rounded, so a Rust `sqrt` would drift from PyTorch in the last bit), then
/// [`update_parameter`]. Compiled for AVX2 and FMA where the CPU has them.
fn fused_update(p: &Tensor, grad: &Tensor, m: &Moments, h: &Hyper) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has the features the function is compiled for.
        unsafe { fused_update_avx2(p, grad, m, h) };
        return;
    }
    fused_update_portable(p, grad, m, h);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fused_update_avx2(p: &Tensor, grad: &Tensor, m: &Moments, h: &Hyper) {
    fused_update_portable(p, grad, m, h);
}

#[inline(always)]
fn fused_update_portable(p: &Tensor, grad: &Tensor, m: &Moments, h: &Hyper) {
    // SAFETY (both blocks): every tensor here is a contiguous f32 CPU tensor of p's size, and
    // only this step touches them (gradients are off); each slice lives within its block.
    unsafe {
        update_moments(
            f32_slice(grad),
            f32_slice(p),
            f32_slice_mut(&m.exp_avg),
            f32_slice_mut(&m.exp_avg_sq),
            f32_slice_mut(&m.sqrt_buf),
            h,
        );
    }
    let _ = m.sqrt_buf.shallow_clone().sqrt_();
    unsafe {
        update_parameter(
            f32_slice_mut(p),
            f32_slice(&m.exp_avg),
            f32_slice(&m.exp_avg_sq),
            f32_slice(&m.sqrt_buf),
            h,
        );
    }
}

/// First half, element by element, in libtorch's order and roundings (ATen's vectorized `add`
/// with alpha and `addcmul` are fused multiply-adds):
///
/// ```text
/// g = g + wd·p                 grad.add(p, wd)
/// m = m·β1 + (1-β1)·g          exp_avg.mul_(β1).add_(g, 1-β1)
/// v = v·β2 + ((1-β2)·g)·g      exp_avg_sq.mul_(β2).addcmul_(g, g, 1-β2)
/// ```
///
/// It also copies `v` into `sqrt_in` for libtorch's `sqrt`, with every 0 replaced by 1: MKL's
/// `sqrt` takes a slow path for zeros (about 20 times slower over an embedding table whose
/// untouched rows have `v = 0`), and `sqrt(0) = 0` needs no kernel ([`update_parameter`] puts
/// the 0 back).
#[inline(always)]
fn update_moments(
    grad: &[f32],
    value: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    sqrt_in: &mut [f32],
    h: &Hyper,
) {
    let n = grad.len();
    let (value, m, v, sqrt_in) = (&value[..n], &mut m[..n], &mut v[..n], &mut sqrt_in[..n]);
    let decay = h.weight_decay != 0.0;
    for i in 0..n {
        let g = if decay {
            value[i].mul_add(h.weight_decay, grad[i])
        } else {
            grad[i]
        };
        m[i] = g.mul_add(h.one_minus_beta1, m[i] * h.beta1);
        let vi = (h.one_minus_beta2 * g).mul_add(g, v[i] * h.beta2);
        v[i] = vi;
        sqrt_in[i] = if vi == 0.0 { 1.0 } else { vi };
    }
}

/// Second half, given `sqrt_v` from libtorch (where `v` is not 0):
///
/// ```text
/// d = sqrt(v) / sqrt(1-β2^t) + eps
/// p = p + (-lr/(1-β1^t)·m) / d     p.addcdiv_(m, d, -step_size)
/// ```
#[inline(always)]
fn update_parameter(value: &mut [f32], m: &[f32], v: &[f32], sqrt_v: &[f32], h: &Hyper) {
    let n = value.len();
    let (m, v, sqrt_v) = (&m[..n], &v[..n], &sqrt_v[..n]);
    for i in 0..n {
        let root = if v[i] == 0.0 { 0.0 } else { sqrt_v[i] };
        let denom = root / h.bias_correction2_sqrt + h.eps;
        value[i] += h.neg_step_size * m[i] / denom;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::OptimizerConfig;

    /// Train the same two-layer model with libtorch's Adam and with ours; compare every weight.
    fn same_as_libtorch(weight_decay: f64, sizes: (i64, i64)) {
        let make = || {
            tch::manual_seed(7);
            let vs = nn::VarStore::new(Device::Cpu);
            let emb = nn::embedding(vs.root() / "emb", sizes.0, sizes.1, Default::default());
            let lin = nn::linear(vs.root() / "lin", sizes.1, 1, Default::default());
            (vs, emb, lin)
        };
        let (vs_a, emb_a, lin_a) = make();
        let (vs_b, emb_b, lin_b) = make();
        let mut reference = nn::Adam::default()
            .wd(weight_decay)
            .build(&vs_a, 0.01)
            .unwrap();
        let mut ours = Adam::with_weight_decay(&vs_b, 0.01, weight_decay).unwrap();
        tch::manual_seed(3);
        for step in 0..25 {
            let ids = Tensor::randint(sizes.0, [64], (Kind::Int64, Device::Cpu));
            let y = Tensor::randn([64, 1], (Kind::Float, Device::Cpu));
            let loss_a = (ids.apply(&emb_a).apply(&lin_a) - &y)
                .square()
                .mean(Kind::Float);
            let loss_b = (ids.apply(&emb_b).apply(&lin_b) - &y)
                .square()
                .mean(Kind::Float);
            reference.backward_step(&loss_a);
            ours.backward_step(&loss_b);
            if step == 10 {
                reference.set_lr(0.003);
                ours.set_lr(0.003).unwrap();
            }
        }
        for (name, a) in vs_a.variables() {
            let b = &vs_b.variables()[&name];
            let diff = (&a - b).abs().max().double_value(&[]);
            assert_eq!(
                diff, 0.0,
                "{name} differs by {diff} (wd {weight_decay}, {sizes:?})"
            );
        }
    }

    #[test]
    fn bit_for_bit_as_libtorch_adam() {
        same_as_libtorch(0.0, (300, 16));
        same_as_libtorch(1e-3, (300, 16));
        // Sizes that leave a remainder after ATen's vector chunks.
        same_as_libtorch(0.0, (37, 7));
        same_as_libtorch(1e-3, (37, 7));
    }

    #[test]
    fn parameters_without_gradient_are_skipped() {
        let vs = nn::VarStore::new(Device::Cpu);
        let used = vs.root().var("used", &[3], nn::Init::Const(1.0));
        let unused = vs.root().var("unused", &[3], nn::Init::Const(1.0));
        let mut adam = Adam::new(&vs, 0.1).unwrap();
        adam.backward_step(&used.sum(Kind::Float));
        assert!(used.double_value(&[0]) < 1.0);
        assert_eq!(unused.double_value(&[0]), 1.0);
    }
}
