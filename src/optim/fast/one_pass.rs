//! The whole Adam update in one pass over memory, on CPUs with AVX-512.
//!
//! The three-pass step ([`super::kernels::update_moments`], libtorch's `sqrt`, [`super::kernels::update_parameter`])
//! exists only because libtorch's CPU `sqrt` is MKL's `vsSqrt` in high-accuracy mode, which is
//! not correctly rounded, so Rust's `sqrt` would not give PyTorch's bits. On AVX-512 machines
//! MKL runs its `Z0HA` kernel, which computes every element the same way, whatever its
//! position: `r = rsqrt14(x)`, `s = r·x`, `h = r·0.5`, then `fma(x - s·s, h, s)` (with `x - s·s`
//! fused), after scaling by 2^78 when `r > 2^39` (tiny `x`). [`mkl_sqrt`] runs those very
//! instructions, so the moments, the square root and the parameter update fit in one loop:
//! seven streams of the table's size instead of thirteen.
//!
//! Whether that equality holds is checked once per process against libtorch's own `sqrt` on
//! values covering every exponent ([`available`]); if it does not (another MKL kernel, another
//! libtorch), the three-pass step runs instead.

use std::arch::x86_64::*;
use std::sync::OnceLock;

use tch::Tensor;

use super::kernels::Hyper;

/// Whether [`step`] can run here: the CPU has AVX-512F and DQ, and [`mkl_sqrt`] matches
/// libtorch's `sqrt` bit for bit (checked once per process).
pub(super) fn available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512dq")
            // SAFETY: the CPU has the features.
            && unsafe { sqrt_matches_libtorch() }
    })
}

/// Compares [`mkl_sqrt`] with libtorch's `sqrt` on zero, subnormals and 64 mantissas of every
/// finite positive exponent (16,384 values, in one tensor, as the optimizer calls it).
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn sqrt_matches_libtorch() -> bool {
    let mut xs = Vec::with_capacity(256 * 64);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for exponent in 0..255u32 {
        for j in 0..64u32 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mantissa = match j {
                0 => 0,
                1 => 0x007f_ffff,
                _ => (seed as u32) & 0x007f_ffff,
            };
            xs.push(f32::from_bits(exponent << 23 | mantissa));
        }
    }
    let Ok(theirs) = Vec::<f32>::try_from(Tensor::from_slice(&xs).sqrt()) else {
        return false;
    };
    xs.chunks_exact(16)
        .zip(theirs.chunks_exact(16))
        .all(|(x, t)| {
            let mut ours = [0f32; 16];
            _mm512_storeu_ps(ours.as_mut_ptr(), mkl_sqrt(_mm512_loadu_ps(x.as_ptr())));
            ours.iter().zip(t).all(|(a, b)| a.to_bits() == b.to_bits())
        })
}

/// MKL's AVX-512 high-accuracy single-precision square root of 16 non-negative values
/// (`mkl_vml_kernel_sSqrt_Z0HAynn`'s main path; zeros come back as they are).
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn mkl_sqrt(x: __m512) -> __m512 {
    let r = _mm512_rsqrt14_ps(x);
    // Zeros, infinities and negatives: MKL hands these to a slow path; here they pass through.
    let special = _mm512_fpclass_ps_mask::<0x5e>(x);
    let h = _mm512_mul_ps(r, _mm512_set1_ps(0.5));
    let s = _mm512_mul_ps(r, x);
    let tiny = _mm512_cmp_ps_mask::<_CMP_LT_OS>(_mm512_set1_ps(2f32.powi(39)), r);
    let x_scaled = _mm512_mask_mul_ps(x, tiny, x, _mm512_set1_ps(2f32.powi(78)));
    let s_scaled = _mm512_mask_mul_ps(s, tiny, s, _mm512_set1_ps(2f32.powi(39)));
    let h_scaled = _mm512_mask_mul_ps(h, tiny, h, _mm512_set1_ps(2f32.powi(-78)));
    let residual = _mm512_fnmadd_ps(s_scaled, s_scaled, x_scaled);
    let root = _mm512_fmadd_ps(residual, h_scaled, s);
    _mm512_mask_mov_ps(root, special, x)
}

/// One Adam update of a parameter in one pass: for every element, the same operations in the
/// same order as [`super::kernels::update_moments`], libtorch's `sqrt` and [`super::kernels::update_parameter`],
/// so the same bits. The caller checks [`available`].
#[target_feature(enable = "avx512f,avx512dq")]
pub(super) unsafe fn step(
    grad: &[f32],
    value: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    h: &Hyper,
) {
    let n = grad.len();
    assert!(
        value.len() == n && m.len() == n && v.len() == n,
        "Adam: slice sizes"
    );
    let decay = h.weight_decay != 0.0;
    let (wd, b1, c1) = (
        _mm512_set1_ps(h.weight_decay),
        _mm512_set1_ps(h.beta1),
        _mm512_set1_ps(h.one_minus_beta1),
    );
    let (b2, c2) = (_mm512_set1_ps(h.beta2), _mm512_set1_ps(h.one_minus_beta2));
    let (bc2_sqrt, eps, neg_step) = (
        _mm512_set1_ps(h.bias_correction2_sqrt),
        _mm512_set1_ps(h.eps),
        _mm512_set1_ps(h.neg_step_size),
    );
    let zero = _mm512_setzero_ps();
    let zero_i = _mm512_setzero_si512();
    let exponent = _mm512_set1_epi32(0x7f80_0000);
    let mantissa = _mm512_set1_epi32(0x007f_ffff);
    let magnitude = _mm512_set1_epi32(0x7fff_ffff);
    let sign = _mm512_set1_epi32(i32::MIN);
    let beta1_pd = _mm512_set1_pd(f64::from(h.beta1));
    let two_52 = _mm512_set1_pd(4_503_599_627_370_496.0);
    let can_stay = h.still_above_bits <= 0x7fff_ffff;
    // |p| >= bound  ⟺  |p| > bound - 1 (both in 0..=0x7fff_ffff: a signed compare is fine).
    let below_bound = _mm512_set1_epi32((h.still_above_bits as i32).wrapping_sub(1));
    let mut i = 0;
    while i < n {
        // The last run is partial: masked loads give 0 in the lanes past the end (harmless),
        // masked stores leave memory past the end alone.
        let lanes: __mmask16 = if n - i >= 16 {
            0xffff
        } else {
            (1u16 << (n - i)) - 1
        };
        // SAFETY (all loads and stores): lanes within i..n of each slice.
        let mut g = _mm512_maskz_loadu_ps(lanes, grad.as_ptr().add(i));
        let pv = _mm512_maskz_loadu_ps(lanes, value.as_ptr().add(i));
        if decay {
            g = _mm512_fmadd_ps(pv, wd, g);
        }
        let mv = _mm512_maskz_loadu_ps(lanes, m.as_ptr().add(i));
        let bits = _mm512_castps_si512(mv);
        let k = _mm512_and_si512(bits, mantissa);
        let subnormal = _mm512_cmpeq_epi32_mask(_mm512_and_si512(bits, exponent), zero_i)
            & _mm512_cmpneq_epi32_mask(k, zero_i);
        let g_zero =
            _mm512_cmpeq_epi32_mask(_mm512_and_si512(_mm512_castps_si512(g), magnitude), zero_i);
        let exact = if h.integer_route {
            subnormal & g_zero
        } else {
            0
        };
        let m_in = _mm512_mask_mov_ps(mv, exact, zero);
        let mut m_new = _mm512_fmadd_ps(g, c1, _mm512_mul_ps(m_in, b1));
        if exact != 0 {
            // k·β1 in f64, rounded to an integer by adding 2^52; keep each low 32-bit word.
            let round = |half: __m256i| {
                let x = _mm512_add_pd(_mm512_mul_pd(_mm512_cvtepi32_pd(half), beta1_pd), two_52);
                _mm512_cvtepi64_epi32(_mm512_castpd_si512(x))
            };
            let lo = round(_mm512_castsi512_si256(k));
            let hi = round(_mm512_extracti64x4_epi64::<1>(k));
            let rounded = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(lo), hi);
            let by_integer =
                _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(bits, sign), rounded));
            m_new = _mm512_mask_mov_ps(m_new, exact, by_integer);
        }
        _mm512_mask_storeu_ps(m.as_mut_ptr().add(i), lanes, m_new);
        let vv = _mm512_maskz_loadu_ps(lanes, v.as_ptr().add(i));
        let v_new = _mm512_fmadd_ps(_mm512_mul_ps(c2, g), g, _mm512_mul_ps(vv, b2));
        _mm512_mask_storeu_ps(v.as_mut_ptr().add(i), lanes, v_new);
        let stays = if can_stay {
            let m_tiny = _mm512_cmpeq_epi32_mask(
                _mm512_and_si512(_mm512_castps_si512(m_new), exponent),
                zero_i,
            );
            let p_abs = _mm512_and_si512(_mm512_castps_si512(pv), magnitude);
            m_tiny & _mm512_cmpgt_epi32_mask(p_abs, below_bound)
        } else {
            0
        };
        // Runs where every value stays (rows long out of the batches) need no root and no
        // division.
        if stays & lanes != lanes {
            let v_zero = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(v_new, zero);
            let root = _mm512_mask_mov_ps(mkl_sqrt(v_new), v_zero, zero);
            let denom = _mm512_add_ps(_mm512_div_ps(root, bc2_sqrt), eps);
            let m_step = _mm512_mask_mov_ps(m_new, stays, zero);
            let update = _mm512_div_ps(_mm512_mul_ps(neg_step, m_step), denom);
            _mm512_mask_storeu_ps(value.as_mut_ptr().add(i), lanes, _mm512_add_ps(pv, update));
        }
        i += 16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On an Intel CPU with AVX-512, MKL runs the kernel [`mkl_sqrt`] copies, so the one-pass
    /// step must be on; if this fails, libtorch's MKL computes `sqrt` another way and every
    /// Adam step has quietly gone back to three passes. On other CPUs it checks nothing and
    /// says "skipped" on stderr.
    #[test]
    fn one_pass_is_on_for_intel_avx512() {
        // `__cpuid` is safe from Rust 1.87 on and `unsafe` before.
        #[allow(unused_unsafe)]
        let id = unsafe { __cpuid(0) };
        let vendor: Vec<u8> = [id.ebx, id.edx, id.ecx]
            .iter()
            .flat_map(|r| r.to_le_bytes())
            .collect();
        let avx512 =
            std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512dq");
        if vendor == b"GenuineIntel" && avx512 {
            assert!(available(), "MKL's sqrt differs from the emulated kernel");
        } else {
            super::super::tests::skipped(
                "one_pass_is_on_for_intel_avx512",
                &format!(
                    "needs an Intel CPU with AVX-512F/DQ; this one is {} {} AVX-512F/DQ; the \
                     one-pass step is {}",
                    String::from_utf8_lossy(&vendor),
                    if avx512 { "with" } else { "without" },
                    if available() { "on" } else { "off" }
                ),
            );
        }
    }
}
