//! The ports' tests: each notebook's numbers, quirks and building blocks.

mod nb000;
mod nb001;
mod nb002;
mod nb003;
mod nb004;
mod registry;
