//! Notebook 002: not ported yet.

use anyhow::{bail, Result};

use crate::report::Report;
use crate::Context;

/// Options of `recsys notebook 002`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {}

/// Run the port.
pub fn run(_ctx: &Context, _args: &Args) -> Result<Report> {
    bail!("notebook 002 is not ported yet")
}
