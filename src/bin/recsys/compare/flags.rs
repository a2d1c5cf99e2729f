//! Flag translation: the flags given after `--` into the port's flags and the twin's runs, by
//! the notebook's [`registry::Twin`] rules.

use anyhow::{anyhow, bail, Result};

use super::process::shipped_data;
use crate::notebooks::registry::{self, Target};

/// One run of a twin: a label that prefixes its model and metric names (empty: none) and its
/// flags (without `--seed` and `--json`, which [`compare`] adds).
#[derive(Debug, Clone, PartialEq)]
pub struct TwinRun {
    /// Prefix of its names in the common form ("" for none).
    pub label: String,
    /// Its flags.
    pub args: Vec<String>,
}

/// How to run both sides of a comparison: the port's flags and the twin's runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Flags for the port (as for `recsys notebook <nb>`).
    pub port_flags: Vec<String>,
    /// The twin's runs (notebook 003 runs its twin once per mode).
    pub twin_runs: Vec<TwinRun>,
}

/// Translate the flags given after `--` into the port's flags and the twin's runs.
pub fn plan(notebook: &str, flags: &[String]) -> Result<Plan> {
    let twin = registry::find(notebook)?.twin();
    let rules = twin.rules;
    let mut port_flags = Vec::new();
    let mut twin_flags = Vec::new();
    let mut mode: Option<String> = None;
    let mut it = flags.iter();
    while let Some(flag) = it.next() {
        let Some(body) = flag.strip_prefix("--") else {
            bail!("unexpected argument {flag:?}: give flags as --name value");
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let Some(&(_, takes_value, target)) = rules.iter().find(|r| r.0 == name) else {
            let known: Vec<String> = rules.iter().map(|r| format!("--{}", r.0)).collect();
            bail!(
                "notebook {notebook}: compare does not know how to pass --{name} to the twin; \
                 it knows {}",
                known.join(", ")
            );
        };
        let value = if takes_value {
            Some(match inline {
                Some(v) => v,
                None => it
                    .next()
                    .cloned()
                    .ok_or_else(|| anyhow!("--{name} needs a value"))?,
            })
        } else {
            None
        };
        if !matches!(target, Target::TwinOnly) {
            port_flags.push(format!("--{name}"));
            port_flags.extend(value.clone());
        }
        match target {
            Target::PortOnly => {}
            Target::TwinOnly => {
                twin_flags.push(format!("--{name}"));
                twin_flags.extend(value);
            }
            Target::Unsupported(why) => {
                bail!("notebook {notebook}: --{name} is not comparable: {why}")
            }
            Target::Both(_) if twin.mode_per_run.is_some_and(|(flag, _)| flag == name) => {
                mode = value;
            }
            Target::Both(twin_name) => {
                twin_flags.push(twin_name.to_string());
                twin_flags.extend(value);
            }
        }
    }
    if let Some(flag) = twin.data_dir_flag {
        twin_flags.push(flag.into());
        twin_flags.push(shipped_data()?.display().to_string());
    }
    let twin_runs = if let Some((flag, all)) = twin.mode_per_run {
        // The port runs every mode by default; the twin runs one mode per call.
        let modes: Vec<String> = match mode.as_deref() {
            None | Some("both") => all.iter().map(|m| m.to_string()).collect(),
            Some(m) => vec![m.to_string()],
        };
        modes
            .into_iter()
            .map(|m| {
                let mut args = vec![format!("--{flag}"), m.clone()];
                args.extend(twin_flags.iter().cloned());
                TwinRun { label: m, args }
            })
            .collect()
    } else {
        vec![TwinRun {
            label: String::new(),
            args: twin_flags,
        }]
    };
    Ok(Plan {
        port_flags,
        twin_runs,
    })
}
