//! Notebook 000: not ported yet.

use anyhow::{bail, Result};

use crate::report::Report;
use crate::Context;

/// Options of `recsys notebook 000`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {}

/// Run the port.
pub fn run(_ctx: &Context, _args: &Args) -> Result<Report> {
    bail!("notebook 000 is not ported yet")
}
