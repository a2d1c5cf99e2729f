//! The fused step's arithmetic: libtorch's Adam update element by element, in its order and
//! roundings, on plain slices (the parameter, its gradient, its two moments).
//!
//! [`fused_update`] picks the loops: one pass ([`super::one_pass`]) on AVX-512 machines where
//! MKL's `sqrt` is matched, else three passes (the moments, libtorch's own `sqrt`, the
//! parameter) with AVX2 loops where the CPU has AVX2 and FMA, else portable loops.

use anyhow::{bail, ensure, Result};
use tch::{Device, Kind, Tensor};

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
pub(super) fn has_avx2_fma() -> bool {
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
pub(super) struct Hyper {
    pub(super) beta1: f32,
    pub(super) one_minus_beta1: f32,
    pub(super) beta2: f32,
    pub(super) one_minus_beta2: f32,
    /// `sqrt(1 - beta2^t)`, computed in f64 and then rounded.
    pub(super) bias_correction2_sqrt: f32,
    /// `-lr / (1 - beta1^t)`.
    pub(super) neg_step_size: f32,
    pub(super) eps: f32,
    pub(super) weight_decay: f32,
    /// Bits of the smallest |p| a subnormal first moment can no longer move (see
    /// [`update_parameter`]); `u32::MAX` when no |p| qualifies.
    pub(super) still_above_bits: u32,
    /// Whether β1·m of a subnormal m may take the integer route of [`update_moments`]: it
    /// needs 0 < β1 < 1 (then k·β1 < 2^23 is exact in f64 and stays in range).
    pub(super) integer_route: bool,
}

impl Hyper {
    pub(super) fn new(
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
        weight_decay: f64,
        step: i32,
    ) -> Hyper {
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

/// Whether the one-pass step ([`super::one_pass`]) runs on this machine.
pub(super) fn one_pass_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        super::one_pass::available()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One parameter's update: in one pass where [`super::one_pass`] runs, else
/// [`update_moments`], libtorch's `sqrt` on `sqrt_buf` (MKL's on x86, which is not correctly
/// rounded, so a Rust `sqrt` would drift from PyTorch in the last bit), then
/// [`update_parameter`], with the AVX2 loops where the CPU has AVX2 and FMA.
///
/// All slices have `value`'s length (checked); `sqrt_buf` is a contiguous `f32` CPU tensor of
/// that many elements (checked), needed by the three-pass step only.
pub(super) fn fused_update(
    value: &mut [f32],
    grad: &[f32],
    exp_avg: &mut [f32],
    exp_avg_sq: &mut [f32],
    sqrt_buf: Option<&mut Tensor>,
    h: &Hyper,
) -> Result<()> {
    let n = value.len();
    ensure!(
        grad.len() == n && exp_avg.len() == n && exp_avg_sq.len() == n,
        "Adam: the gradient and the moments do not have the parameter's size"
    );
    #[cfg(target_arch = "x86_64")]
    if super::one_pass::available() {
        // SAFETY: `available` checked the CPU's features; the slices have one length.
        unsafe { super::one_pass::step(grad, value, exp_avg, exp_avg_sq, h) };
        return Ok(());
    }
    let Some(sqrt_buf) = sqrt_buf else {
        bail!("Adam: the three-pass step has no sqrt buffer");
    };
    check_f32(sqrt_buf, n, || "the sqrt buffer".into())?;
    {
        // SAFETY: checked above; the buffer is the optimizer's own, and no other handle to it
        // exists.
        let sqrt_in = unsafe { f32_slice_mut(sqrt_buf) };
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA.
            unsafe { update_moments_avx2(grad, value, exp_avg, exp_avg_sq, sqrt_in, h) };
        } else {
            update_moments(grad, value, exp_avg, exp_avg_sq, sqrt_in, h);
        }
        #[cfg(not(target_arch = "x86_64"))]
        update_moments(grad, value, exp_avg, exp_avg_sq, sqrt_in, h);
    }
    let _ = sqrt_buf.f_sqrt_()?;
    // SAFETY: as above; libtorch's `sqrt_` wrote in place and has returned.
    let sqrt_v = unsafe { f32_slice(sqrt_buf) };
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has AVX2.
        unsafe { update_parameter_avx2(value, exp_avg, exp_avg_sq, sqrt_v, h) };
        return Ok(());
    }
    update_parameter(value, exp_avg, exp_avg_sq, sqrt_v, h);
    Ok(())
}

/// Checks that `t` is a contiguous `f32` CPU tensor of `n` elements: what [`f32_slice`] and
/// [`f32_slice_mut`] need. `what` names it in the error.
pub(super) fn check_f32(t: &Tensor, n: usize, what: impl Fn() -> String) -> Result<()> {
    ensure!(
        t.defined()
            && t.device() == Device::Cpu
            && t.kind() == Kind::Float
            && t.is_contiguous()
            && t.numel() == n,
        "Adam: {what} is not a contiguous f32 CPU tensor of {n} elements (it is {:?} {:?} of \
         shape {:?}): the fused step was set up for that; build the optimizer again after \
         converting or moving the model",
        t.kind(),
        t.device(),
        t.size(),
        what = what(),
    );
    Ok(())
}

/// The tensor's elements, to read.
///
/// # Safety
/// `t` passed [`check_f32`], and no handle to its storage writes it while the slice lives.
pub(super) unsafe fn f32_slice(t: &Tensor) -> &[f32] {
    let n = t.numel();
    if n == 0 {
        return &[];
    }
    // SAFETY: `n` contiguous f32 elements from `data_ptr` (non-null for a non-empty tensor),
    // not written meanwhile (the caller's promise).
    unsafe { std::slice::from_raw_parts(t.data_ptr() as *const f32, n) }
}

/// The tensor's elements, to write: from `&mut Tensor`, so this handle is not used meanwhile.
///
/// # Safety
/// `t` passed [`check_f32`], and no other handle to its storage (a shallow clone, a view)
/// reads or writes it while the slice lives: for a model's parameter, no forward pass runs
/// during the step, the assumption libtorch's own in-place optimizer step makes.
pub(super) unsafe fn f32_slice_mut(t: &mut Tensor) -> &mut [f32] {
    let n = t.numel();
    if n == 0 {
        return &mut [];
    }
    // SAFETY: as in `f32_slice`, and no other reader or writer (the caller's promise).
    unsafe { std::slice::from_raw_parts_mut(t.data_ptr() as *mut f32, n) }
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
pub(super) fn update_moments(
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
pub(super) unsafe fn update_moments_avx2(
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
pub(super) fn update_parameter(value: &mut [f32], m: &[f32], v: &[f32], sqrt_v: &[f32], h: &Hyper) {
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
pub(super) unsafe fn update_parameter_avx2(
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
