//! Spotlight's `Interactions`: parallel arrays of user ids, item ids, ratings and timestamps,
//! with the id spaces sized `max id + 1` so that ids can be used as embedding rows directly.
//!
//! MovieLens numbers users and items from 1, so row 0 of every embedding is never a real user or
//! item; for sequences, item 0 is the padding value (see [`crate::prep::sequence`]).

use anyhow::{bail, Result};
use polars::prelude::DataFrame;
use tch::{Device, Kind, Tensor};

use crate::prep::{f64_values, i64_values};

/// One row per observed (user, item, rating, timestamp), in the order of the source table.
#[derive(Debug, Clone, PartialEq)]
pub struct Interactions {
    /// User ids, used as embedding rows (`0..num_users`).
    pub user_ids: Vec<i64>,
    /// Item ids, used as embedding rows (`0..num_items`).
    pub item_ids: Vec<i64>,
    /// Ratings as `f32`, as Spotlight stores them.
    pub ratings: Vec<f32>,
    /// Seconds since the epoch.
    pub timestamps: Vec<i64>,
    /// `max user id + 1` over the whole dataset (944 for ml-100k).
    pub num_users: i64,
    /// `max item id + 1` over the whole dataset (1683 for ml-100k).
    pub num_items: i64,
}

impl Interactions {
    /// Build from a ratings table with the canonical columns (`user_id`, `item_id`, `rating`,
    /// `timestamp`). Ids are kept as they are; negative ids are an error.
    pub fn from_ratings(df: &DataFrame) -> Result<Interactions> {
        let user_ids: Vec<i64> = i64_values(df, "user_id")?.collect();
        let item_ids: Vec<i64> = i64_values(df, "item_id")?.collect();
        let ratings: Vec<f32> = f64_values(df, "rating")?.map(|r| r as f32).collect();
        let timestamps: Vec<i64> = i64_values(df, "timestamp")?.collect();
        if let Some(u) = user_ids.iter().find(|&&u| u < 0) {
            bail!("user id {u} is negative; Spotlight-style interactions need ids >= 0");
        }
        if let Some(i) = item_ids.iter().find(|&&i| i < 0) {
            bail!("item id {i} is negative; Spotlight-style interactions need ids >= 0");
        }
        let num_users = user_ids.iter().max().map_or(0, |m| m + 1);
        let num_items = item_ids.iter().max().map_or(0, |m| m + 1);
        Ok(Interactions {
            user_ids,
            item_ids,
            ratings,
            timestamps,
            num_users,
            num_items,
        })
    }

    /// Number of interactions.
    pub fn len(&self) -> usize {
        self.user_ids.len()
    }

    /// True when there are no interactions.
    pub fn is_empty(&self) -> bool {
        self.user_ids.is_empty()
    }

    /// The interactions at `rows`, in that order, keeping the id space sizes.
    pub fn select(&self, rows: &[usize]) -> Interactions {
        Interactions {
            user_ids: rows.iter().map(|&r| self.user_ids[r]).collect(),
            item_ids: rows.iter().map(|&r| self.item_ids[r]).collect(),
            ratings: rows.iter().map(|&r| self.ratings[r]).collect(),
            timestamps: rows.iter().map(|&r| self.timestamps[r]).collect(),
            num_users: self.num_users,
            num_items: self.num_items,
        }
    }

    /// Users, items (int64) and ratings (float32) as tensors on `device`.
    pub fn tensors(&self, device: Device) -> (Tensor, Tensor, Tensor) {
        (
            Tensor::from_slice(&self.user_ids).to_device(device),
            Tensor::from_slice(&self.item_ids).to_device(device),
            Tensor::from_slice(&self.ratings)
                .to_kind(Kind::Float)
                .to_device(device),
        )
    }
}

impl std::fmt::Display for Interactions {
    /// Spotlight's repr: `<Interactions dataset (944 users x 1683 items x 100000 interactions)>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<Interactions dataset ({} users x {} items x {} interactions)>",
            self.num_users,
            self.num_items,
            self.len()
        )
    }
}
