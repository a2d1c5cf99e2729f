//! The five notebook ports, compiled into the `recsys` binary above the library: one folder
//! each (the tutorial flow in `mod.rs`, the notebook's printed numbers and bands in
//! `expected.rs`, its registry entry and twin in `twin.rs`), registered in [`registry`].

pub mod nb000;
pub mod nb001;
pub mod nb002;
pub mod nb003;
pub mod nb004;
pub mod registry;
pub mod transcript;

#[cfg(test)]
mod tests;
