//! The five notebook ports, one readable file each, compiled into the `recsys` binary above the
//! library.

pub mod nb000;
pub mod nb001;
pub mod nb002;
pub mod nb003;
pub mod nb004;

#[cfg(test)]
mod tests;
