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
//! - A sparse gradient (from [`crate::models::layers::lookup`] on the CPU: the batch's rows, in
//!   batch order, not yet summed) is first folded into a dense one row by row in that order,
//!   starting from zeros: the very additions libtorch's dense embedding backward makes
//!   (`embedding_dense_backward_cpu`, `index_add_`), so the update is the same to the bit. It
//!   spares libtorch's per-row kernel calls and the zero-filling of a fresh table-sized gradient.

use anyhow::Result;
use tch::{nn, COptimizer, Device, Kind, Tensor};

#[cfg(target_arch = "x86_64")]
mod one_pass;

/// Adam's moments for one parameter, created at its first step (as libtorch does), a buffer
/// for `sqrt(exp_avg_sq)`, computed in place (the three-pass step only; none when the one-pass
/// step runs), and one for sparse gradients made dense (all zeros between steps; empty until a
/// sparse gradient comes).
struct Moments {
    step: i32,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    sqrt_buf: Option<Tensor>,
    dense_grad: Vec<f32>,
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
                    sqrt_buf: (!one_pass_available()).then(|| p.zeros_like()),
                    dense_grad: Vec::new(),
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
                assert!(p.is_contiguous(), "Adam: parameters are contiguous");
                if grad.is_sparse() {
                    let mut dense = std::mem::take(&mut m.dense_grad);
                    dense.resize(p.numel(), 0.0);
                    let rows = SparseRows::of(&grad, p);
                    rows.add_to(&mut dense);
                    fused_update(p, &dense, m, &h);
                    rows.clear(&mut dense);
                    m.dense_grad = dense;
                } else {
                    let grad = grad.contiguous();
                    // SAFETY: a contiguous f32 CPU tensor of p's size, not written meanwhile.
                    fused_update(p, unsafe { f32_slice(&grad) }, m, &h);
                }
            }
        });
    }
}

/// A sparse COO gradient of a `[rows, width]` table as the embedding backward makes it: one
/// row index per batch row (repeats allowed, in batch order) and the matching gradient rows.
struct SparseRows {
    index: Tensor,
    values: Tensor,
    width: usize,
}

impl SparseRows {
    /// The rows of `grad`, a sparse gradient of the 2-d parameter `p`.
    fn of(grad: &Tensor, p: &Tensor) -> SparseRows {
        let size = p.size();
        assert!(
            size.len() == 2 && grad.sparse_dim() == 1 && grad.dense_dim() == 1,
            "Adam: a sparse gradient must hold rows of a 2-d table (shape {size:?})"
        );
        let index = grad.internal_indices().contiguous();
        let values = grad.internal_values().contiguous();
        let rows = index.numel() as i64;
        assert!(
            index.kind() == Kind::Int64
                && values.kind() == Kind::Float
                && values.size() == [rows, size[1]],
            "Adam: a sparse gradient must hold int64 row indices and f32 rows of the table"
        );
        let sparse = SparseRows {
            index,
            values,
            width: size[1] as usize,
        };
        assert!(
            sparse.rows().iter().all(|&r| (0..size[0]).contains(&r)),
            "Adam: sparse gradient row out of range"
        );
        sparse
    }

    /// The row indices, in batch order.
    fn rows(&self) -> &[i64] {
        // SAFETY: a contiguous int64 CPU tensor that this step alone reads.
        unsafe {
            std::slice::from_raw_parts(self.index.data_ptr() as *const i64, self.index.numel())
        }
    }

    /// `dense[row] += values[j]` for each j in order: libtorch's dense embedding backward.
    fn add_to(&self, dense: &mut [f32]) {
        // SAFETY: `values` is a contiguous f32 CPU tensor this step alone reads.
        let values = unsafe { f32_slice(&self.values) };
        let w = self.width;
        for (&row, src) in self.rows().iter().zip(values.chunks_exact(w.max(1))) {
            let dst = &mut dense[row as usize * w..(row as usize + 1) * w];
            for (d, s) in dst.iter_mut().zip(src) {
                *d += *s;
            }
        }
    }

    /// Zeroes again the rows [`SparseRows::add_to`] wrote.
    fn clear(&self, dense: &mut [f32]) {
        let w = self.width;
        for &row in self.rows() {
            dense[row as usize * w..(row as usize + 1) * w].fill(0.0);
        }
    }
}

/// Which loops the CPU step runs on this machine: `"avx2+fma"` or `"portable"` (the same
/// numbers; the portable loops call a software fused multiply-add and are slower).
pub fn cpu_kernel() -> &'static str {
    if one_pass_available() {
        return "avx512, one pass (MKL's sqrt in the loop, checked against libtorch)";
    }
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
    /// Bits of the smallest |p| a subnormal first moment can no longer move (see
    /// [`update_parameter`]); `u32::MAX` when no |p| qualifies.
    still_above_bits: u32,
    /// Whether β1·m of a subnormal m may take the integer route of [`update_moments`]: it
    /// needs 0 < β1 < 1 (then k·β1 < 2^23 is exact in f64 and stays in range).
    integer_route: bool,
}

impl Hyper {
    fn new(lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64, step: i32) -> Hyper {
        let bias_correction1 = 1.0 - beta1.powf(f64::from(step));
        let bias_correction2 = 1.0 - beta2.powf(f64::from(step));
        let neg_step_size = (-(lr / bias_correction1)) as f32;
        let eps32 = eps as f32;
        // With |m| < 2^-126 and denominator >= eps, |step_size · m / denom| stays below q_max,
        // with room for the two roundings (a subnormal product errs by up to 2^-150).
        let q_max = (f64::from(neg_step_size.abs()) * 2f64.powi(-126) * 1.001 + 2f64.powi(-149))
            / f64::from(eps32)
            * 1.001;
        // For |p| >= 2^e, half an ulp of p is at least 2^(e-24) > q_max: p + q rounds to p.
        let e = q_max.log2().floor() as i32 + 25;
        let still_above_bits = if eps32 > 0.0 && q_max.is_finite() && (-126..=127).contains(&e) {
            2f32.powi(e).to_bits()
        } else {
            u32::MAX
        };
        Hyper {
            beta1: beta1 as f32,
            one_minus_beta1: (1.0 - beta1) as f32,
            beta2: beta2 as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            bias_correction2_sqrt: bias_correction2.sqrt() as f32,
            neg_step_size,
            eps: eps32,
            weight_decay: weight_decay as f32,
            still_above_bits,
            integer_route: beta1 as f32 > 0.0 && (beta1 as f32) < 1.0,
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

/// Whether the one-pass step ([`one_pass`]) runs on this machine.
fn one_pass_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        one_pass::available()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One parameter's update: in one pass where [`one_pass`] runs, else [`update_moments`],
/// libtorch's `sqrt` (MKL's on x86, which is not correctly rounded, so a Rust `sqrt` would
/// drift from PyTorch in the last bit), then [`update_parameter`], with the AVX2 loops where
/// the CPU has AVX2 and FMA.
fn fused_update(p: &Tensor, grad: &[f32], m: &Moments, h: &Hyper) {
    assert_eq!(grad.len(), p.numel(), "Adam: gradient and parameter sizes");
    // SAFETY (every block): contiguous f32 CPU tensors of p's size that only this step touches
    // (gradients are off); each slice lives within its block; the vector functions run only
    // where the CPU has their features.
    #[cfg(target_arch = "x86_64")]
    if one_pass::available() {
        unsafe {
            one_pass::step(
                grad,
                f32_slice_mut(p),
                f32_slice_mut(&m.exp_avg),
                f32_slice_mut(&m.exp_avg_sq),
                h,
            );
        }
        return;
    }
    let sqrt_buf = m
        .sqrt_buf
        .as_ref()
        .expect("the three-pass step has its sqrt buffer");
    unsafe {
        let (value, exp_avg) = (f32_slice(p), f32_slice_mut(&m.exp_avg));
        let (exp_avg_sq, sqrt_in) = (f32_slice_mut(&m.exp_avg_sq), f32_slice_mut(sqrt_buf));
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            update_moments_avx2(grad, value, exp_avg, exp_avg_sq, sqrt_in, h);
        } else {
            update_moments(grad, value, exp_avg, exp_avg_sq, sqrt_in, h);
        }
        #[cfg(not(target_arch = "x86_64"))]
        update_moments(grad, value, exp_avg, exp_avg_sq, sqrt_in, h);
    }
    let _ = sqrt_buf.shallow_clone().sqrt_();
    unsafe {
        let (value, exp_avg) = (f32_slice_mut(p), f32_slice(&m.exp_avg));
        let (exp_avg_sq, sqrt_v) = (f32_slice(&m.exp_avg_sq), f32_slice(sqrt_buf));
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            return update_parameter_avx2(value, exp_avg, exp_avg_sq, sqrt_v, h);
        }
        update_parameter(value, exp_avg, exp_avg_sq, sqrt_v, h);
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
/// Subnormal first moments: an embedding row that misses many batches sees `m` shrink by β1
/// a step into the subnormal range, where it stays (0.9 · k·2^-149 rounds back to k·2^-149 for
/// k ≤ 4), and the CPU multiplies subnormals in microcode, many times slower. Where `g` is 0
/// and `m` subnormal, `m·β1` is computed exactly instead, on the integer `k` in f64 (`k·β1`
/// rounded to an integer, ties to even: IEEE's rounding of a subnormal result); the bits are
/// the same.
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
    let beta1 = f64::from(h.beta1);
    for i in 0..n {
        let g = if decay {
            value[i].mul_add(h.weight_decay, grad[i])
        } else {
            grad[i]
        };
        let bits = m[i].to_bits();
        let subnormal = bits & 0x7f80_0000 == 0 && bits & 0x007f_ffff != 0;
        let exact = h.integer_route && subnormal && g.to_bits() & 0x7fff_ffff == 0;
        let m_in = if exact { 0.0 } else { m[i] };
        let by_hardware = g.mul_add(h.one_minus_beta1, m_in * h.beta1);
        let k = f64::from((bits & 0x007f_ffff) as i32);
        // Adding 2^52 rounds k·β1 to an integer, ties to even, and leaves it in the low bits.
        let rounded = (k * beta1 + 4_503_599_627_370_496.0).to_bits() as u32;
        let by_integer = f32::from_bits((bits & 0x8000_0000) | rounded);
        m[i] = if exact { by_integer } else { by_hardware };
        let vi = (h.one_minus_beta2 * g).mul_add(g, v[i] * h.beta2);
        v[i] = vi;
        sqrt_in[i] = if vi == 0.0 { 1.0 } else { vi };
    }
}

/// [`update_moments`] eight elements at a time: the same operations in the same order, so the
/// same bits, with the integer route computed only for the eights that hold a subnormal `m`
/// next to a zero gradient.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn update_moments_avx2(
    grad: &[f32],
    value: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    sqrt_in: &mut [f32],
    h: &Hyper,
) {
    use std::arch::x86_64::*;
    let n = grad.len();
    let (value, m, v, sqrt_in) = (&value[..n], &mut m[..n], &mut v[..n], &mut sqrt_in[..n]);
    let decay = h.weight_decay != 0.0;
    let (wd, b1, c1) = (
        _mm256_set1_ps(h.weight_decay),
        _mm256_set1_ps(h.beta1),
        _mm256_set1_ps(h.one_minus_beta1),
    );
    let (b2, c2) = (_mm256_set1_ps(h.beta2), _mm256_set1_ps(h.one_minus_beta2));
    let (zero, one, zero_i) = (
        _mm256_setzero_ps(),
        _mm256_set1_ps(1.0),
        _mm256_setzero_si256(),
    );
    let exponent = _mm256_set1_epi32(0x7f80_0000);
    let mantissa = _mm256_set1_epi32(0x007f_ffff);
    let magnitude = _mm256_set1_epi32(0x7fff_ffff);
    let sign = _mm256_set1_epi32(i32::MIN);
    let beta1_pd = _mm256_set1_pd(f64::from(h.beta1));
    let two_52 = _mm256_set1_pd(4_503_599_627_370_496.0);
    let low_words = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    let runs = n / 8 * 8;
    for i in (0..runs).step_by(8) {
        // SAFETY: i + 8 <= n for every slice.
        let mut g = _mm256_loadu_ps(grad.as_ptr().add(i));
        if decay {
            g = _mm256_fmadd_ps(_mm256_loadu_ps(value.as_ptr().add(i)), wd, g);
        }
        let mv = _mm256_loadu_ps(m.as_ptr().add(i));
        let bits = _mm256_castps_si256(mv);
        let k = _mm256_and_si256(bits, mantissa);
        let subnormal = _mm256_andnot_si256(
            _mm256_cmpeq_epi32(k, zero_i),
            _mm256_cmpeq_epi32(_mm256_and_si256(bits, exponent), zero_i),
        );
        let g_zero =
            _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_castps_si256(g), magnitude), zero_i);
        let exact = _mm256_castsi256_ps(_mm256_and_si256(subnormal, g_zero));
        let any_exact = h.integer_route && _mm256_movemask_ps(exact) != 0;
        let m_in = if any_exact {
            _mm256_andnot_ps(exact, mv)
        } else {
            mv
        };
        let mut m_new = _mm256_fmadd_ps(g, c1, _mm256_mul_ps(m_in, b1));
        if any_exact {
            // k·β1 in f64, rounded to an integer by adding 2^52; keep each low 32-bit word.
            let round = |half: __m128i| {
                let x = _mm256_add_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(half), beta1_pd), two_52);
                _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(
                    _mm256_castpd_si256(x),
                    low_words,
                ))
            };
            let lo = round(_mm256_castsi256_si128(k));
            let hi = round(_mm256_extracti128_si256::<1>(k));
            let rounded = _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(lo), hi);
            let by_integer =
                _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, sign), rounded));
            m_new = _mm256_blendv_ps(m_new, by_integer, exact);
        }
        _mm256_storeu_ps(m.as_mut_ptr().add(i), m_new);
        let vv = _mm256_loadu_ps(v.as_ptr().add(i));
        let v_new = _mm256_fmadd_ps(_mm256_mul_ps(c2, g), g, _mm256_mul_ps(vv, b2));
        _mm256_storeu_ps(v.as_mut_ptr().add(i), v_new);
        let v_zero = _mm256_cmp_ps::<_CMP_EQ_OQ>(v_new, zero);
        _mm256_storeu_ps(
            sqrt_in.as_mut_ptr().add(i),
            _mm256_blendv_ps(v_new, one, v_zero),
        );
    }
    update_moments(
        &grad[runs..],
        &value[runs..],
        &mut m[runs..],
        &mut v[runs..],
        &mut sqrt_in[runs..],
        h,
    );
}

/// Second half, given `sqrt_v` from libtorch (where `v` is not 0):
///
/// ```text
/// d = sqrt(v) / sqrt(1-β2^t) + eps
/// p = p + (-lr/(1-β1^t)·m) / d     p.addcdiv_(m, d, -step_size)
/// ```
///
/// Where `m` is subnormal (or 0) and |p| is at least [`Hyper::still_above_bits`], the update is
/// below half an ulp of p, so p is left as it is, as the rounding would leave it, without
/// multiplying the subnormal in microcode.
#[inline(always)]
fn update_parameter(value: &mut [f32], m: &[f32], v: &[f32], sqrt_v: &[f32], h: &Hyper) {
    let n = value.len();
    let (m, v, sqrt_v) = (&m[..n], &v[..n], &sqrt_v[..n]);
    for i in 0..n {
        let root = if v[i] == 0.0 { 0.0 } else { sqrt_v[i] };
        let denom = root / h.bias_correction2_sqrt + h.eps;
        let m_in = if stays(value[i], m[i], h) { 0.0 } else { m[i] };
        value[i] += h.neg_step_size * m_in / denom;
    }
}

/// Whether the update of p leaves it unchanged for sure: `m` subnormal or 0, |p| large enough.
#[inline(always)]
fn stays(p: f32, m: f32, h: &Hyper) -> bool {
    m.to_bits() & 0x7f80_0000 == 0 && p.to_bits() & 0x7fff_ffff >= h.still_above_bits
}

/// [`update_parameter`] eight elements at a time, skipping the eights where every element
/// [`stays`] (most of an embedding table whose rows have long been missing from the batches):
/// no division, no store. The same operations in the same order, so the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_parameter_avx2(
    value: &mut [f32],
    m: &[f32],
    v: &[f32],
    sqrt_v: &[f32],
    h: &Hyper,
) {
    use std::arch::x86_64::*;
    let n = value.len();
    let (m, v, sqrt_v) = (&m[..n], &v[..n], &sqrt_v[..n]);
    if h.still_above_bits > 0x7fff_ffff {
        return update_parameter(value, m, v, sqrt_v, h);
    }
    let exponent = _mm256_set1_epi32(0x7f80_0000);
    let magnitude = _mm256_set1_epi32(0x7fff_ffff);
    // |p| >= bound  ⟺  |p| > bound - 1, both in 0..=0x7fff_ffff (a signed compare is fine).
    let below_bound = _mm256_set1_epi32(h.still_above_bits as i32 - 1);
    let zero_i = _mm256_setzero_si256();
    let zero = _mm256_setzero_ps();
    let bc2_sqrt = _mm256_set1_ps(h.bias_correction2_sqrt);
    let eps = _mm256_set1_ps(h.eps);
    let neg_step = _mm256_set1_ps(h.neg_step_size);
    let runs = n / 8 * 8;
    for i in (0..runs).step_by(8) {
        // SAFETY: i + 8 <= n for all four slices.
        let mv = _mm256_loadu_ps(m.as_ptr().add(i));
        let pv = _mm256_loadu_ps(value.as_ptr().add(i));
        let m_tiny =
            _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_castps_si256(mv), exponent), zero_i);
        let p_abs = _mm256_and_si256(_mm256_castps_si256(pv), magnitude);
        let stays = _mm256_and_si256(m_tiny, _mm256_cmpgt_epi32(p_abs, below_bound));
        if _mm256_movemask_ps(_mm256_castsi256_ps(stays)) == 0xff {
            continue;
        }
        let vv = _mm256_loadu_ps(v.as_ptr().add(i));
        let sv = _mm256_loadu_ps(sqrt_v.as_ptr().add(i));
        let root = _mm256_blendv_ps(sv, zero, _mm256_cmp_ps::<_CMP_EQ_OQ>(vv, zero));
        let denom = _mm256_add_ps(_mm256_div_ps(root, bc2_sqrt), eps);
        let m_in = _mm256_andnot_ps(_mm256_castsi256_ps(stays), mv);
        let step = _mm256_div_ps(_mm256_mul_ps(neg_step, m_in), denom);
        _mm256_storeu_ps(value.as_mut_ptr().add(i), _mm256_add_ps(pv, step));
    }
    update_parameter(
        &mut value[runs..],
        &m[runs..],
        &v[runs..],
        &sqrt_v[runs..],
        h,
    );
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

    /// The exact routes (β1·m on the integer of a subnormal m, updates that cannot move p
    /// skipped) give the bits of the plain formulas, on inputs full of subnormals, zeros and
    /// tiny values; the AVX2 parameter loop gives the portable loop's bits.
    #[test]
    fn exact_routes_match_the_plain_formulas() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut draw = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let n = 4099;
        let mut grad = vec![0f32; n];
        let (mut m, mut v, mut p) = (vec![0f32; n], vec![0f32; n], vec![0f32; n]);
        for i in 0..n {
            let r = draw();
            let normal = |x: u64| ((x % 2000) as f32 - 1000.0) * 1e-4;
            grad[i] = if r % 3 == 0 { normal(r >> 8) } else { 0.0 };
            m[i] = match (r >> 20) % 4 {
                // Subnormal of either sign, any mantissa (the stuck values 1..=4 included).
                0 | 1 => f32::from_bits(((r >> 24) as u32) & 0x807f_ffff | 1),
                2 => normal(r >> 30) * 1e-3,
                _ => 0.0,
            };
            v[i] = if (r >> 40) % 5 == 0 {
                0.0
            } else {
                normal(r >> 44).abs() * 1e-3
            };
            p[i] = match (r >> 50) % 5 {
                0 => 0.0,
                1 => 1e-30,
                2 => f32::from_bits(((r >> 8) as u32) & 0x007f_ffff),
                _ => normal(r >> 12),
            };
        }
        let h = Hyper::new(1e-3, 0.9, 0.999, 1e-8, 0.0, 37);
        let bits = |x: &[f32]| x.iter().map(|f| f.to_bits()).collect::<Vec<_>>();

        let (mut m1, mut v1, mut sqrt_in) = (m.clone(), v.clone(), vec![0f32; n]);
        update_moments(&grad, &p, &mut m1, &mut v1, &mut sqrt_in, &h);
        let m_ref: Vec<f32> = (0..n)
            .map(|i| grad[i].mul_add(h.one_minus_beta1, m[i] * h.beta1))
            .collect();
        let v_ref: Vec<f32> = (0..n)
            .map(|i| (h.one_minus_beta2 * grad[i]).mul_add(grad[i], v[i] * h.beta2))
            .collect();
        assert_eq!(bits(&m1), bits(&m_ref));
        assert_eq!(bits(&v1), bits(&v_ref));
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            let (mut m2, mut v2, mut sqrt_in2) = (m.clone(), v.clone(), vec![0f32; n]);
            // SAFETY: the CPU has AVX2 and FMA.
            unsafe { update_moments_avx2(&grad, &p, &mut m2, &mut v2, &mut sqrt_in2, &h) };
            assert_eq!(bits(&m2), bits(&m_ref));
            assert_eq!(bits(&v2), bits(&v_ref));
            assert_eq!(bits(&sqrt_in2), bits(&sqrt_in));
        }
        assert!(m1.iter().filter(|x| x.is_subnormal()).count() > n / 4);

        let sqrt_v: Vec<f32> = v1.iter().map(|x| x.sqrt()).collect();
        let p_ref: Vec<f32> = (0..n)
            .map(|i| {
                let root = if v1[i] == 0.0 { 0.0 } else { sqrt_v[i] };
                p[i] + h.neg_step_size * m1[i] / (root / h.bias_correction2_sqrt + h.eps)
            })
            .collect();
        let mut p1 = p.clone();
        update_parameter(&mut p1, &m1, &v1, &sqrt_v, &h);
        assert_eq!(bits(&p1), bits(&p_ref));
        assert!(
            p1.iter().zip(&p).any(|(a, b)| a != b),
            "some parameter moves"
        );
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            let mut p2 = p.clone();
            // SAFETY: the CPU has AVX2.
            unsafe { update_parameter_avx2(&mut p2, &m1, &v1, &sqrt_v, &h) };
            assert_eq!(bits(&p2), bits(&p_ref));
        }

        // The one-pass step equals the three passes with libtorch's own sqrt (n = 4099 also
        // leaves a partial run of lanes at the end).
        #[cfg(target_arch = "x86_64")]
        if one_pass::available() {
            let libtorch_sqrt = Vec::<f32>::try_from(Tensor::from_slice(&sqrt_in).sqrt()).unwrap();
            let mut p_three = p.clone();
            update_parameter(&mut p_three, &m1, &v1, &libtorch_sqrt, &h);
            let (mut p1, mut m2, mut v2) = (p.clone(), m.clone(), v.clone());
            // SAFETY: `available` checked the CPU features.
            unsafe { one_pass::step(&grad, &mut p1, &mut m2, &mut v2, &h) };
            assert_eq!(bits(&m2), bits(&m_ref));
            assert_eq!(bits(&v2), bits(&v_ref));
            assert_eq!(bits(&p1), bits(&p_three));
        }
    }

    /// Rows left out of 900 consecutive batches get subnormal first moments (the step's exact
    /// integer route) while others keep training; some parameters are set tiny or 0 (where
    /// the update must not be skipped). Still bit for bit libtorch's Adam, to the end.
    #[test]
    fn subnormal_moments_bit_for_bit_as_libtorch_adam() {
        let make = || {
            tch::manual_seed(21);
            let vs = nn::VarStore::new(Device::Cpu);
            let init = nn::Init::Randn {
                mean: 0.0,
                stdev: 1.0,
            };
            let table = vs.root().var("table", &[400, 8], init);
            (vs, table)
        };
        let (vs_a, table_a) = make();
        let (vs_b, table_b) = make();
        let mut reference = nn::Adam::default().build(&vs_a, 0.01).unwrap();
        let mut ours = Adam::new(&vs_b, 0.01).unwrap();
        let subnormal_moments = |adam: &Adam| {
            let m = &adam.moments[0].as_ref().unwrap().exp_avg;
            Vec::<f32>::try_from(m.flatten(0, -1))
                .unwrap()
                .iter()
                .filter(|x| x.is_subnormal())
                .count()
        };
        let bits = |t: &Tensor| -> Vec<u32> {
            Vec::<f32>::try_from(t.detach().flatten(0, -1))
                .unwrap()
                .into_iter()
                .map(f32::to_bits)
                .collect()
        };
        let mut most_subnormal = 0;
        tch::manual_seed(4);
        for step in 0..1000 {
            let rows = if (50..950).contains(&step) { 20 } else { 400 };
            let ids = Tensor::randint(rows, [32], (Kind::Int64, Device::Cpu));
            let y = Tensor::randn([32, 8], (Kind::Float, Device::Cpu));
            if step == 800 {
                tch::no_grad(|| {
                    for t in [&table_a, &table_b] {
                        let _ = t.narrow(0, 390, 5).fill_(1e-30);
                        let _ = t.narrow(0, 395, 5).fill_(0.0);
                    }
                });
            }
            let dense = Tensor::embedding(&table_a, &ids, -1, false, false);
            reference.backward_step(&(dense - &y).square().mean(Kind::Float));
            let sparse = crate::models::layers::lookup(&table_b, &ids);
            ours.backward_step(&(sparse - &y).square().mean(Kind::Float));
            most_subnormal = most_subnormal.max(subnormal_moments(&ours));
            if step == 949 {
                let tiny = bits(&table_b.narrow(0, 390, 5));
                assert!(tiny.iter().all(|&b| f32::from_bits(b).abs() < 1e-20));
            }
        }
        assert_eq!(bits(&table_a), bits(&table_b));
        // The test reached what it is about: subnormal moments (380 rows · 8 at most).
        assert!(
            most_subnormal > 2500,
            "only {most_subnormal} subnormal moments"
        );
    }

    /// A sparse lookup gradient, folded by `step`, trains exactly as libtorch's dense
    /// embedding backward (and `index_select`'s) does, repeated rows included.
    #[test]
    fn sparse_lookup_gradients_train_bit_for_bit() {
        for weight_decay in [0.0, 1e-3] {
            let train = |how: &str| {
                tch::manual_seed(11);
                let vs = nn::VarStore::new(Device::Cpu);
                let table = vs.root().var(
                    "table",
                    &[50, 9],
                    nn::Init::Randn {
                        mean: 0.0,
                        stdev: 1.0,
                    },
                );
                let mut adam = Adam::with_weight_decay(&vs, 0.05, weight_decay).unwrap();
                tch::manual_seed(5);
                for _ in 0..20 {
                    // 96 draws from 50 rows: plenty of repeats within a batch.
                    let ids = Tensor::randint(50, [96], (Kind::Int64, Device::Cpu));
                    let rows = match how {
                        "sparse" => crate::models::layers::lookup(&table, &ids),
                        "dense" => Tensor::embedding(&table, &ids, -1, false, false),
                        _ => table.index_select(0, &ids),
                    };
                    let y = Tensor::randn([96, 9], (Kind::Float, Device::Cpu));
                    adam.backward_step(&(rows * 1.7 - y).square().mean(Kind::Float));
                }
                Vec::<f32>::try_from(table.detach().flatten(0, -1))
                    .unwrap()
                    .into_iter()
                    .map(f32::to_bits)
                    .collect::<Vec<_>>()
            };
            let sparse = train("sparse");
            assert_eq!(sparse, train("dense"), "wd {weight_decay}");
            assert_eq!(sparse, train("index_select"), "wd {weight_decay}");
        }
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
