//! Five PyTorch recommender-system tutorials ported to Rust, on libtorch (tch) and polars.
//!
//! The library holds the reusable parts (data, splits, models, training, metrics); each
//! notebook's readable port lives in `notebooks-ported/` and is reached through [`notebooks`].

pub mod app;
pub mod bench;
pub mod cli;
pub mod compare;
pub mod context;
pub mod data;
pub mod device;
pub mod evaluate;
pub mod filters;
pub mod fingerprint;
pub mod interactions;
pub mod metrics;
pub mod models;
pub mod neighbors;
pub mod optim;
pub mod pca;
pub mod plot;
pub mod prep;
pub mod progress;
pub mod pyrandom;
pub mod report;
pub mod reproduce;
pub mod rng;
pub mod sampling;
pub mod schedule;
pub mod sequence;
pub mod split;

pub use context::Context;

// The notebook ports, one readable file each in `notebooks-ported/`.
#[path = "../notebooks-ported/nb000.rs"]
pub mod nb000;
#[path = "../notebooks-ported/nb001.rs"]
pub mod nb001;
#[path = "../notebooks-ported/nb002.rs"]
pub mod nb002;
#[path = "../notebooks-ported/nb003.rs"]
pub mod nb003;
#[path = "../notebooks-ported/nb004.rs"]
pub mod nb004;
