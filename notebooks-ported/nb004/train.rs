//! Notebook 004's training cell for RecommenderNet.

use std::time::Instant;

use anyhow::Result;

use recsys::models::recommender_net::{self, RatingBatches, RecommenderNet};
use recsys::report::pyfmt::py_float;
use recsys::train::schedule::{PlateauMode, ReduceLrOnPlateau};
use recsys::{runtime::progress, say};

use crate::notebooks::transcript::{aside, Out};

use super::outcome::Training;

/// Per-epoch record of one RecommenderNet training run.
pub struct TrainingRun {
    pub last_batch: Vec<f64>,
    pub mean: Vec<f64>,
    pub lrs: Vec<f64>,
    pub wall_s: f64,
    pub steps: usize,
}

impl TrainingRun {
    /// What `--json` keeps of it.
    pub fn summary(&self) -> Training {
        Training {
            last_batch_losses: self.last_batch.clone(),
            mean_losses: self.mean.clone(),
            lrs: self.lrs.clone(),
            wall_s: self.wall_s,
            steps_per_s: self.steps as f64 / self.wall_s,
        }
    }
}

/// The notebook's training cell: Adam 1e-3, `ReduceLROnPlateau('min', factor=0.3, patience=2)`
/// stepped with the LAST batch's loss, printing that loss every epoch (every 10th epoch when not
/// `print_every_epoch`). Two host reads per epoch (the last batch loss and the mean), none per step.
pub fn train_recommender_net(
    out: &Out,
    net: &RecommenderNet,
    batches: &RatingBatches,
    epochs: usize,
    label: &str,
    print_every_epoch: bool,
) -> Result<TrainingRun> {
    let mut optimizer = net.adam(1e-3)?;
    let mut scheduler = ReduceLrOnPlateau::new(1e-3, PlateauMode::Min, 0.3, 2);
    let bar = progress::epoch_bar(epochs as u64, label);
    let mut run = TrainingRun {
        last_batch: vec![],
        mean: vec![],
        lrs: vec![],
        wall_s: 0.0,
        steps: 0,
    };
    let start = Instant::now();
    for epoch in 0..epochs {
        let losses = recommender_net::train_epoch(net, &mut optimizer, batches)?;
        let loss = losses.last.double_value(&[]);
        run.last_batch.push(loss);
        run.mean.push(losses.mean.double_value(&[]));
        run.lrs.push(scheduler.lr());
        scheduler.step_optimizer(loss, &mut optimizer)?;
        bar.inc(1);
        bar.set_message(format!("loss {loss:.4} lr {:.1e}", scheduler.lr()));
        if print_every_epoch {
            bar.suspend(|| say!(out, "Loss at epoch {epoch} = {}", py_float(loss)));
        } else if epoch % 10 == 0 || epoch + 1 == epochs {
            bar.suspend(|| say!(out, "[{label}] Loss at epoch {epoch} = {}", py_float(loss)));
        }
    }
    bar.finish_and_clear();
    run.wall_s = start.elapsed().as_secs_f64();
    run.steps = epochs * batches.len();
    let prefix = if print_every_epoch {
        String::new()
    } else {
        format!("[{label}] ")
    };
    say!(
        out,
        "{prefix}Last Loss = {}",
        py_float(*run.last_batch.last().expect("epochs > 0"))
    );
    aside!(
        out,
        "{prefix}({epochs} epochs × {} batches in {:.1} s, {:.0} steps/s, final lr {:.2e})",
        batches.len(),
        run.wall_s,
        run.steps as f64 / run.wall_s,
        scheduler.lr()
    );
    Ok(run)
}
