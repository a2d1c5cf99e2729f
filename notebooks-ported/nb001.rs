//! Notebook 001: not ported yet.

use anyhow::{bail, Result};

use crate::report::Report;
use crate::Context;

/// Options of `recsys notebook 001`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {}

/// Run the port.
pub fn run(_ctx: &Context, _args: &Args) -> Result<Report> {
    bail!("notebook 001 is not ported yet")
}
