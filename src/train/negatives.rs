//! Negative sampling for implicit feedback: the data holds only positives, so training adds
//! random (user, item) pairs labelled 0.
//!
//! Draws go through libtorch's generator (`Tensor::randint`), so a PyTorch script making the
//! same calls in the same order after `torch.manual_seed` draws the same negatives.

use tch::{Device, Kind, Tensor};

/// Uniform training negatives: `n` users drawn from `0..n_users` and then `n` items drawn from
/// `0..n_items`, independently and with replacement, on `device`.
///
/// This is notebook 000's "random sampling": a drawn pair may be one of the user's positives.
/// Returns `(users, items)`, two int64 tensors of length `n`.
pub fn uniform_negatives(n_users: i64, n_items: i64, n: i64, device: Device) -> (Tensor, Tensor) {
    let users = Tensor::randint(n_users, [n], (Kind::Int64, device));
    let items = Tensor::randint(n_items, [n], (Kind::Int64, device));
    (users, items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_negatives_are_in_range() {
        let (u, i) = uniform_negatives(3, 5, 1000, Device::Cpu);
        assert_eq!(u.size(), vec![1000]);
        assert!(u.max().int64_value(&[]) < 3 && u.min().int64_value(&[]) >= 0);
        assert!(i.max().int64_value(&[]) < 5 && i.min().int64_value(&[]) >= 0);
    }
}
