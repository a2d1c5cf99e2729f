//! Dropout whose CPU mask is drawn in Rust, bit for bit the mask libtorch would draw.

use std::sync::OnceLock;

use tch::{Device, Kind, Tensor};

use super::with_default_cpu_mt;

/// Whether masks drawn in Rust are this libtorch's, bit for bit: checked once per process on a
/// small draw (with the generator put back afterwards, so the stream is untouched). A libtorch
/// whose CPU `bernoulli_` draws differently (another version, an MKL build that uses VSL) gets
/// libtorch's own dropout instead.
pub fn rust_masks_match_libtorch() -> bool {
    static MATCH: OnceLock<bool> = OnceLock::new();
    *MATCH.get_or_init(check_masks)
}

/// One draw of 1500 elements by libtorch and by Rust from the same state; the state is then
/// put back.
fn check_masks() -> bool {
    let Ok(saved) = with_default_cpu_mt(|mt| mt.clone()) else {
        return false;
    };
    let p = 0.3;
    let n = 1500;
    let theirs = Tensor::empty([n], (Kind::Float, Device::Cpu)).bernoulli_float_(p);
    let mut ours = vec![0f32; n as usize];
    saved.clone().bernoulli_f32(&mut ours, p);
    let same = Vec::<f32>::try_from(&theirs).is_ok_and(|t| t == ours);
    let restored = with_default_cpu_mt(|mt| *mt = saved).is_ok();
    same && restored
}

/// `input.dropout(p, train)` (`torch.nn.functional.dropout`), the same tensor bit for bit and
/// the same autograd graph, with the same effect on libtorch's random stream.
///
/// On the CPU libtorch computes `input * (empty_like(input).bernoulli_(1 - p) / (1 - p))`, and
/// `bernoulli_` draws one element at a time through the generator. Here the mask comes from
/// [`super::Mt19937::bernoulli_f32`] on the generator's own state, about ten times faster; the
/// division and the product are libtorch's. Anything else (CUDA, other dtypes, strided input,
/// p of 0 or 1, evaluation) goes to libtorch's `dropout` unchanged.
pub fn dropout(input: &Tensor, p: f64, train: bool) -> Tensor {
    let own_mask = train
        && p > 0.0
        && p < 1.0
        && input.device() == Device::Cpu
        && input.kind() == Kind::Float
        && input.is_contiguous()
        && input.numel() > 0
        && rust_masks_match_libtorch();
    if !own_mask {
        return input.dropout(p, train);
    }
    let keep = 1.0 - p;
    let mut noise = input.empty_like();
    let n = input.numel();
    // SAFETY: `noise` is a fresh contiguous CPU float tensor of `n` elements that nothing else
    // references; the slice is dropped before `noise` is used again.
    let mask = unsafe { std::slice::from_raw_parts_mut(noise.data_ptr() as *mut f32, n) };
    if with_default_cpu_mt(|mt| mt.bernoulli_f32(mask, keep)).is_err() {
        return input.dropout(p, train);
    }
    let _ = noise.g_div_scalar_(keep);
    input * noise
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(t: &Tensor) -> Vec<u32> {
        Vec::<f32>::try_from(t.flatten(0, -1))
            .unwrap()
            .into_iter()
            .map(f32::to_bits)
            .collect()
    }

    /// Same values and same generator state afterwards as libtorch's own dropout, across
    /// sizes that start and end at every point of the twister's 624-word cycle.
    #[test]
    fn bit_for_bit_as_libtorch_dropout() {
        for (seed, sizes) in [
            (0, [1, 311, 312, 5, 128 * 612]),
            (42, [700, 2, 623, 1249, 64]),
        ] {
            for p in [0.02, 0.2, 0.5] {
                tch::manual_seed(seed);
                let _ = Tensor::randn([3], (Kind::Float, Device::Cpu));
                let inputs: Vec<Tensor> = sizes
                    .iter()
                    .map(|&n| Tensor::randn([n], (Kind::Float, Device::Cpu)))
                    .collect();
                let expected: Vec<Tensor> = inputs.iter().map(|x| x.dropout(p, true)).collect();
                let after_libtorch = Tensor::randn([4], (Kind::Float, Device::Cpu));

                tch::manual_seed(seed);
                let _ = Tensor::randn([3], (Kind::Float, Device::Cpu));
                let again: Vec<Tensor> = sizes
                    .iter()
                    .map(|&n| Tensor::randn([n], (Kind::Float, Device::Cpu)))
                    .collect();
                for ((x, x2), want) in inputs.iter().zip(&again).zip(&expected) {
                    assert_eq!(bits(x), bits(x2));
                    assert_eq!(bits(&dropout(x2, p, true)), bits(want), "p = {p}");
                }
                let after_ours = Tensor::randn([4], (Kind::Float, Device::Cpu));
                assert_eq!(
                    bits(&after_ours),
                    bits(&after_libtorch),
                    "stream left elsewhere"
                );
            }
        }
    }

    /// The gradient flows through the mask as through libtorch's.
    #[test]
    fn same_gradient_as_libtorch_dropout() {
        let grad_of = |own: bool| {
            tch::manual_seed(3);
            let x = Tensor::randn([64, 10], (Kind::Float, Device::Cpu)).set_requires_grad(true);
            let y = if own {
                dropout(&x, 0.3, true)
            } else {
                x.dropout(0.3, true)
            };
            (y * 2.5).sum(Kind::Float).backward();
            bits(&x.grad())
        };
        assert_eq!(grad_of(true), grad_of(false));
    }

    /// The self-check passes on the project's libtorch and leaves the stream where it was.
    #[test]
    fn self_check_passes_and_leaves_the_stream_alone() {
        tch::manual_seed(9);
        let expected = Tensor::randn([5], (Kind::Float, Device::Cpu));
        tch::manual_seed(9);
        assert!(check_masks());
        assert!(rust_masks_match_libtorch());
        let after = Tensor::randn([5], (Kind::Float, Device::Cpu));
        assert_eq!(bits(&after), bits(&expected));
    }

    #[test]
    fn evaluation_and_edge_rates_pass_through() {
        let x = Tensor::randn([5, 3], (Kind::Float, Device::Cpu));
        assert_eq!(bits(&dropout(&x, 0.5, false)), bits(&x));
        assert_eq!(bits(&dropout(&x, 0.0, true)), bits(&x));
        assert!(bits(&dropout(&x, 1.0, true))
            .iter()
            .all(|&b| f32::from_bits(b) == 0.0));
    }
}
