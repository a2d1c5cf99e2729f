//! Interactions to padded item sequences (Spotlight's `Interactions.to_sequence`). The next-item
//! metrics that score models trained on them are in [`crate::eval::next_item`].
//!
//! Item id 0 is reserved for padding: real item ids start at 1 (MovieLens numbers items from 1).

use anyhow::{bail, Result};
use tch::{Device, Tensor};

use crate::data::interactions::Interactions;

/// The padding item id.
pub const PADDING: i64 = 0;

/// Fixed-length item sequences, one row per window of a user's history, left-padded with
/// [`PADDING`]. Spotlight's `SequenceInteractions`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequences {
    /// Row-major `len() x max_len` item ids.
    pub items: Vec<i64>,
    /// The user of each row.
    pub user_ids: Vec<i64>,
    /// Row length.
    pub max_len: usize,
    /// Size of the item id space, padding included (1683 for ml-100k).
    pub num_items: i64,
}

impl Sequences {
    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.user_ids.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.user_ids.is_empty()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[i64] {
        &self.items[i * self.max_len..(i + 1) * self.max_len]
    }

    /// The last item of every row (the next-item target in evaluation).
    pub fn last_items(&self) -> Vec<i64> {
        (0..self.len())
            .map(|i| self.row(i)[self.max_len - 1])
            .collect()
    }

    /// All rows as an int64 tensor `[len, max_len]` on `device`.
    pub fn tensor(&self, device: Device) -> Tensor {
        Tensor::from_slice(&self.items)
            .view([self.len() as i64, self.max_len as i64])
            .to_device(device)
    }
}

impl std::fmt::Display for Sequences {
    /// Spotlight's repr: `<Sequence interactions dataset (8249 sequences x 10 sequence length)>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<Sequence interactions dataset ({} sequences x {} sequence length)>",
            self.len(),
            self.max_len
        )
    }
}

/// Spotlight's `to_sequence(max_sequence_length, step_size)`.
///
/// Interactions are sorted by user, then timestamp (a stable sort: equal timestamps keep their
/// order). Each user's history is cut from its end into windows of at most `max_len` items,
/// moving back `step` items each time (`step = max_len` gives disjoint windows), most recent
/// window first. Windows shorter than `max_len` are left-padded with [`PADDING`]. A user with
/// `n` interactions gives `ceil(n / step)` rows. Errors if an item id is 0 (the padding value).
pub fn to_sequences(interactions: &Interactions, max_len: usize, step: usize) -> Result<Sequences> {
    if max_len == 0 || step == 0 {
        bail!("to_sequences: max_len and step must be positive (got {max_len}, {step})");
    }
    if interactions.item_ids.contains(&PADDING) {
        bail!("0 is used as an item id, conflicting with the sequence padding value");
    }
    let mut order: Vec<usize> = (0..interactions.len()).collect();
    order.sort_by_key(|&r| (interactions.user_ids[r], interactions.timestamps[r]));
    let mut items = Vec::new();
    let mut user_ids = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let user = interactions.user_ids[order[start]];
        let mut stop = start;
        while stop < order.len() && interactions.user_ids[order[stop]] == user {
            stop += 1;
        }
        let history: Vec<i64> = order[start..stop]
            .iter()
            .map(|&r| interactions.item_ids[r])
            .collect();
        // Spotlight's _sliding_window: for end in range(len, 0, -step): window [end-max_len, end)
        let mut end = history.len();
        while end > 0 {
            let window = &history[end.saturating_sub(max_len)..end];
            items.extend(std::iter::repeat_n(PADDING, max_len - window.len()));
            items.extend_from_slice(window);
            user_ids.push(user);
            end = end.saturating_sub(step);
        }
        start = stop;
    }
    Ok(Sequences {
        items,
        user_ids,
        max_len,
        num_items: interactions.num_items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(users: &[i64], items: &[i64], times: &[i64]) -> Interactions {
        Interactions {
            user_ids: users.to_vec(),
            item_ids: items.to_vec(),
            ratings: vec![1.0; users.len()],
            timestamps: times.to_vec(),
            num_users: 3,
            num_items: 20,
        }
    }

    #[test]
    fn windows_from_the_end_left_padded() {
        // user 2: items 1..=7 given out of time order; user 1: items 10, 11 (equal times keep order)
        let data = history(
            &[2, 1, 2, 2, 2, 1, 2, 2, 2],
            &[7, 10, 1, 2, 3, 11, 4, 5, 6],
            &[70, 5, 10, 20, 30, 5, 40, 50, 60],
        );
        let seqs = to_sequences(&data, 3, 3).unwrap();
        assert_eq!(seqs.user_ids, vec![1, 2, 2, 2]);
        assert_eq!(seqs.row(0), &[0, 10, 11]);
        assert_eq!(seqs.row(1), &[5, 6, 7]);
        assert_eq!(seqs.row(2), &[2, 3, 4]);
        assert_eq!(seqs.row(3), &[0, 0, 1]);
        assert_eq!(seqs.last_items(), vec![11, 7, 4, 1]);
        assert_eq!(
            seqs.to_string(),
            "<Sequence interactions dataset (4 sequences x 3 sequence length)>"
        );
        // overlapping windows with step 2
        let seqs = to_sequences(&data, 3, 2).unwrap();
        assert_eq!(seqs.items[3..], [5, 6, 7, 3, 4, 5, 1, 2, 3, 0, 0, 1]);
        assert!(to_sequences(&history(&[1], &[0], &[1]), 3, 3).is_err());
    }
}
