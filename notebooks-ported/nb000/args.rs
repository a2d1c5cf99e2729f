//! The options of `recsys notebook 000` and their checks.

use anyhow::{bail, Result};

use super::data::{parse_date, parse_utc_offset};

/// Options of `recsys notebook 000`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Epochs of training without sampling (the notebook's n_epochs).
    #[arg(long, default_value_t = 20, value_parser = recsys::runtime::limits::EPOCHS_OR_NONE.parser())]
    pub epochs: usize,
    /// Epochs of training with sampled negatives (the notebook ran 10; a TODO there says 20).
    #[arg(long, default_value_t = 10, value_parser = recsys::runtime::limits::EPOCHS_OR_NONE.parser())]
    pub sampled_epochs: usize,
    /// Training batch size.
    #[arg(long, default_value_t = 64, value_parser = recsys::runtime::limits::BATCH.parser_i64())]
    pub batch_size: i64,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Embedding size of MF (and predictive factors of NeuMF).
    #[arg(long, default_value_t = 20, value_parser = recsys::runtime::limits::FACTORS.parser_i64())]
    pub factors: i64,
    /// Local time zone of the notebook's machine, ±HH:MM: `datetime.fromtimestamp` converts
    /// to local time, and the notebook's printed dates and counts come out with +01:00.
    #[arg(long, default_value = "+01:00", allow_hyphen_values = true)]
    pub utc_offset: String,
    /// The split date: train before it, test from it on (local time, on the notebook's /1000
    /// time scale in both modes; the corrected mode moves it to the same instant in real time).
    #[arg(long, default_value = "1970-01-18")]
    pub split_date: String,
    /// Corrected mode: mean loss of each epoch, real timestamps, test negatives drawn only
    /// from items the user never interacted with.
    #[arg(long)]
    pub corrected: bool,
    /// Run the faithful and the corrected mode and print their numbers side by side.
    #[arg(long, conflicts_with = "corrected")]
    pub compare_modes: bool,
    /// Train only matrix factorization, as the notebook does (skip NeuMF).
    #[arg(long)]
    pub no_neumf: bool,
    /// Number of MLP layers in NeuMF (widths halve down to --factors).
    #[arg(long, default_value_t = 3, value_parser = recsys::runtime::limits::LAYERS.parser())]
    pub neumf_layers: usize,
    /// libtorch threads on the CPU. These models are small: one thread is fastest, and more
    /// threads spin against each other when the machine is busy.
    #[arg(long, default_value_t = 1, value_parser = recsys::runtime::limits::THREADS.parser_i32())]
    pub threads: i32,
}

/// Check the options before any work: one error line naming the flag and its value.
pub fn validate(args: &Args) -> Result<()> {
    if args.batch_size < 1 {
        bail!("--batch-size must be at least 1, got {}", args.batch_size);
    }
    if args.factors < 1 {
        bail!("--factors must be at least 1, got {}", args.factors);
    }
    if !(args.lr > 0.0 && args.lr.is_finite()) {
        bail!("--lr must be a positive number, got {}", args.lr);
    }
    if args.neumf_layers < 1 || args.neumf_layers > 8 {
        bail!(
            "--neumf-layers must be between 1 and 8, got {}",
            args.neumf_layers
        );
    }
    if args.threads < 1 {
        bail!("--threads must be at least 1, got {}", args.threads);
    }
    parse_utc_offset(&args.utc_offset)?;
    parse_date(&args.split_date)?;
    Ok(())
}
