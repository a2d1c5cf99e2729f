//! The models an experiment sets side by side: registry entries, each with its `--set`
//! settings, checked before any work.

use anyhow::Result;
use serde_json::Value;
use tch::Device;

use recsys::recommender::registry::{self, FitInput, Fitted, ModelEntry};
use recsys::recommender::settings::{apply_set, merged};
use recsys::recommender::{Task, TrainSet};

/// One model with its settings.
#[derive(Clone)]
pub struct Contender {
    pub entry: &'static ModelEntry,
    /// The `--set` settings it takes (a JSON object).
    pub settings: Value,
}

impl Contender {
    /// The models named in `names`, with the `--set` words of `set` checked against them.
    pub fn parse_all(names: &[String], set: &str) -> Result<Vec<Contender>> {
        let entries = names
            .iter()
            .map(|n| registry::find(n.trim()).map_err(|e| anyhow::anyhow!("--models: {e}")))
            .collect::<Result<Vec<_>>>()?;
        let mut settings = apply_set(set, &entries)?;
        Ok(entries
            .into_iter()
            .map(|entry| Contender {
                entry,
                settings: settings.remove(entry.name).unwrap_or_default(),
            })
            .collect())
    }

    /// The registry's name.
    pub fn name(&self) -> &'static str {
        self.entry.name
    }

    /// Its configuration under `point` (a grid point over the `--set` settings), resolved.
    pub fn config(&self, point: &Value) -> Result<Value> {
        self.entry.resolve(&merged(&self.settings, point))
    }

    /// Ranking, rating or next-item, under its settings.
    pub fn task(&self) -> Result<Task> {
        Ok(self.entry.task_for(&self.config(&Value::Null)?))
    }

    /// Fit on `train` (libtorch's generator seeded by the caller) under `point`.
    pub fn fit(&self, train: &TrainSet, point: &Value, device: Device) -> Result<Fitted> {
        let config = self.config(point)?;
        self.entry.fit(&config, train, &mut FitInput::on(device))
    }
}
