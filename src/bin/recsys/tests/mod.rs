//! Tests of the application commands and of parity with the PyTorch twins.

mod app;
mod parity;
