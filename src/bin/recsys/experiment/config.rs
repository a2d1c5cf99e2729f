//! Experiments as files: `recsys experiment DATA --config exp.toml` reads the models, their
//! settings and grid, the protocol and the seeds from a TOML file, and every run writes its
//! fully resolved configuration (`config.toml`) beside its results, so that `--config` of that
//! file repeats the run.
//!
//! ```toml
//! data = "ml-100k"
//! models = ["pop", "ease", "als"]
//! protocol = "random"
//! seeds = 3
//! first_seed = 0
//!
//! [settings.als]
//! epochs = 30
//!
//! [grid.ease]
//! lambda = [100, 500]
//! ```

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::run::Plan;
use super::ExperimentArgs;
use recsys::prep::spec::Cut;

/// An experiment as a file; every field but `data` and `models` has the command line's
/// default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// The data it ran on (checked against the data given on the command line).
    pub data: String,
    pub models: Vec<String>,
    #[serde(default = "d_protocol")]
    pub protocol: String,
    #[serde(default = "d_test_fraction")]
    pub test_fraction: f64,
    #[serde(default = "d_one")]
    pub last_n: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_file: Option<String>,
    #[serde(default = "d_seeds")]
    pub seeds: usize,
    /// The first seed (`--seed`); seed i is first_seed + i.
    #[serde(default)]
    pub first_seed: u64,
    #[serde(default = "d_threshold")]
    pub threshold: f64,
    /// `--train-threshold` (absent: `threshold`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_threshold: Option<Cut>,
    /// `--relevance-threshold` (absent: `threshold`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevance_threshold: Option<Cut>,
    #[serde(default = "d_k")]
    pub k: usize,
    #[serde(default = "d_sampled")]
    pub sampled: usize,
    #[serde(default = "d_validation_fraction")]
    pub validation_fraction: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// Each model's settings (`[settings.als]`): what `--set 'als.key=value'` gives.
    #[serde(default)]
    pub settings: BTreeMap<String, BTreeMap<String, Value>>,
    /// Each model's grid axes (`[grid.ease]`, a list per key): what `--grid` gives.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub grid: BTreeMap<String, BTreeMap<String, Vec<Value>>>,
}

fn d_protocol() -> String {
    "random".into()
}
fn d_test_fraction() -> f64 {
    0.2
}
fn d_one() -> usize {
    1
}
fn d_seeds() -> usize {
    3
}
fn d_threshold() -> f64 {
    3.0
}
fn d_k() -> usize {
    10
}
fn d_sampled() -> usize {
    100
}
fn d_validation_fraction() -> f64 {
    0.1
}

/// A JSON value as a `--set`/`--grid` word's value (lists joined by commas).
fn word(v: &Value) -> Result<String> {
    Ok(match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(word).collect::<Result<Vec<_>>>()?.join(","),
        Value::Null => "none".into(),
        Value::Object(_) => bail!("a setting's value is a number, a name or a list, not a table"),
        other => other.to_string(),
    })
}

impl ExperimentFile {
    /// Read `path`, with the line of a mistake.
    pub fn read(path: &std::path::Path) -> Result<ExperimentFile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("--config {}: cannot read it ({e})", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow!("--config {}: {e}", path.display()))
    }

    /// The flags this file stands for, over `args` (whose data and format flags stay).
    pub fn apply(&self, args: &ExperimentArgs, seed: Option<u64>) -> Result<(ExperimentArgs, u64)> {
        if self.data != args.ratings.data {
            bail!(
                "--config: the file's experiment ran on {}, not {}; give that data",
                self.data,
                args.ratings.data
            );
        }
        if let Some(s) = seed.filter(|s| *s != self.first_seed) {
            bail!(
                "--seed {s}: the --config file sets first_seed = {}; drop one",
                self.first_seed
            );
        }
        let mut set = vec![];
        for (model, keys) in &self.settings {
            for (key, v) in keys {
                set.push(format!("{model}.{key}={}", word(v)?));
            }
        }
        let mut grid = vec![];
        for (model, keys) in &self.grid {
            for (key, v) in keys {
                grid.push(format!("{model}.{key}={}", word(&Value::Array(v.clone()))?));
            }
        }
        let a = ExperimentArgs {
            models: self.models.clone(),
            protocol: self.protocol.clone(),
            test_fraction: self.test_fraction,
            last_n: self.last_n,
            test_file: self.test_file.clone(),
            seeds: self.seeds,
            threshold: self.threshold,
            train_threshold: self.train_threshold,
            relevance_threshold: self.relevance_threshold,
            k: self.k,
            sampled: self.sampled,
            grid: (!grid.is_empty()).then(|| grid.join(" ")),
            validation_fraction: self.validation_fraction,
            set: (!set.is_empty()).then(|| set.join(" ")),
            preset: self.preset.clone(),
            config: None,
            ..args.clone()
        };
        Ok((a, self.first_seed))
    }

    /// The text of `config.toml`.
    pub fn to_toml(&self) -> Result<String> {
        Ok(format!(
            "# recsys experiment: the fully resolved configuration of this run.\n\
             # `recsys experiment {} --config config.toml` repeats it.\n{}",
            self.data,
            toml::to_string(self)?
        ))
    }
}

/// The resolved configuration of `plan`: every model's settings with their defaults filled in,
/// the grid's axes per model, the protocol and the seeds.
pub fn of_plan(plan: &Plan) -> Result<ExperimentFile> {
    let mut settings = BTreeMap::new();
    for c in &plan.contenders {
        let config = c.config(&Value::Null)?;
        let map: BTreeMap<String, Value> = match config {
            Value::Object(m) => m.into_iter().filter(|(_, v)| !v.is_null()).collect(),
            _ => BTreeMap::new(),
        };
        settings.insert(c.name().to_string(), map);
    }
    let mut grid = BTreeMap::new();
    for (model, points) in plan.grid.iter().flatten() {
        let mut axes: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for p in points {
            for (k, v) in p.as_object().into_iter().flatten() {
                let axis = axes.entry(k.clone()).or_default();
                if !axis.contains(v) {
                    axis.push(v.clone());
                }
            }
        }
        if !axes.is_empty() {
            grid.insert(model.clone(), axes);
        }
    }
    Ok(ExperimentFile {
        data: plan.spec.data.clone(),
        models: plan
            .contenders
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
        protocol: plan.protocol.clone(),
        test_fraction: plan.split.test_fraction,
        last_n: plan.split.last_n,
        test_file: plan.split.test_file.clone(),
        seeds: plan.seeds.len(),
        first_seed: plan.seeds[0],
        threshold: plan.threshold.unwrap_or(3.0),
        train_threshold: plan.split.train_threshold,
        relevance_threshold: plan.split.relevance_threshold,
        k: plan.k,
        sampled: plan.sampled,
        validation_fraction: plan.validation_fraction,
        preset: plan.preset.map(|p| p.name().to_string()),
        settings,
        grid,
    })
}
