//! Saved models, every model alike: a directory with `model.safetensors` (the tensors of
//! [`Recommender::state`]) and `model.json` (the sidecar: the registry's name, the resolved
//! configuration, the seed and threshold, data spec and split, id maps, data fingerprints, and
//! the string id dictionaries when the data has string ids).
//!
//! A checkpoint is written into a temporary directory beside the target, then renamed, so a
//! reader never sees half of one; an existing directory is replaced only with `--force`.

use std::path::Path;

use anyhow::{anyhow, bail, Context as _, Result};
use serde::{Deserialize, Serialize};

use serde_json::Value;
use tch::Tensor;

use super::registry;
use super::{Recommender, Sizes, Task};
use crate::data::excerpt::{message, quoted};
use crate::prep::prepared::{prepare, Fingerprints, IdNames, Prepared};
use crate::prep::spec::{DataSpec, SplitSpec};
use crate::prep::IdMap;
use crate::runtime::cleanup;
use crate::runtime::context::Context;
use crate::runtime::memory::{free_disk_bytes, human_bytes};

/// The sidecar's format tag. Format 3: every model of the registry, by name, with its
/// configuration (format 2 held the networks only; format 1's fingerprints did not cover
/// ratings and timestamps).
pub const FORMAT: &str = "recsys-model/3";
/// Weights file name inside a checkpoint directory.
pub const WEIGHTS: &str = "model.safetensors";
/// Sidecar file name inside a checkpoint directory.
pub const SIDECAR: &str = "model.json";

/// Everything but the tensors.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sidecar {
    pub format: String,
    pub recsys_version: String,
    /// The registry's name of the model.
    pub model: String,
    /// What it does.
    pub task: Task,
    /// Its settings, every default filled in.
    pub config: Value,
    /// Users and items it was fitted on.
    pub sizes: Sizes,
    /// The seed of the split and the fit.
    pub seed: u64,
    /// Implicit feedback: ratings strictly above it were positives.
    pub threshold: Option<f64>,
    pub data: DataSpec,
    pub split: SplitSpec,
    pub users: IdMap,
    pub items: IdMap,
    pub fingerprints: Fingerprints,
    /// Mean training loss of each epoch (networks).
    pub losses: Vec<f64>,
    /// String id dictionaries (absent for integer ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<IdNames>,
}

impl Sidecar {
    /// The sidecar of `fitted`, trained as `entry` on the split `data` made from `spec` and
    /// `split` under `seed` (and `threshold`, for implicit feedback).
    #[allow(clippy::too_many_arguments)]
    pub fn of_run(
        entry: &registry::ModelEntry,
        fitted: &registry::Fitted,
        seed: u64,
        threshold: Option<f64>,
        spec: &DataSpec,
        split: &SplitSpec,
        data: &Prepared,
    ) -> Sidecar {
        Sidecar {
            format: FORMAT.into(),
            recsys_version: env!("CARGO_PKG_VERSION").into(),
            model: entry.name.into(),
            task: fitted.model.task(),
            config: fitted.config.clone(),
            sizes: Sizes {
                n_users: data.users.len() as i64,
                n_items: data.items.len() as i64,
            },
            seed,
            threshold,
            data: spec.clone(),
            split: split.clone(),
            users: data.users.clone(),
            items: data.items.clone(),
            fingerprints: data.fingerprints.clone(),
            losses: fitted.losses.clone(),
            names: data.names.clone(),
        }
    }
}

/// Refuse early (before training) a `--save` destination that cannot take a checkpoint: an
/// existing directory without `--force`, anything but a checkpoint even with `--force` (it would
/// be replaced whole), a file, or a place this process cannot write.
pub fn check_target(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!(
                "--save {}: that is a file, not a directory; choose another --save directory",
                dir.display()
            );
        }
        if !force {
            bail!(
                "{} already exists; pass --force to replace it, or choose another --save directory",
                dir.display()
            );
        }
        let others = foreign_entries(dir)?;
        if !others.is_empty() {
            bail!(
                "--save {} --force: that directory is not a saved model (it holds {}), and \
                 --force only replaces a directory holding just {WEIGHTS} and {SIDECAR}; \
                 choose another --save directory",
                dir.display(),
                others.join(", ")
            );
        }
    }
    let parent = parent_of(dir);
    let existing = parent
        .ancestors()
        .find(|a| a.as_os_str().is_empty() || a.exists())
        .map(|a| {
            if a.as_os_str().is_empty() {
                Path::new(".")
            } else {
                a
            }
        })
        .unwrap_or(Path::new("."));
    if !existing.is_dir() {
        bail!(
            "--save {}: {} is a file, so no directory can be made under it",
            dir.display(),
            existing.display()
        );
    }
    let probe = existing.join(format!(".tmp-{}-probe", std::process::id()));
    let _guard = cleanup::track(&probe);
    std::fs::write(&probe, b"").map_err(|e| {
        anyhow!(
            "--save {}: cannot write in {} ({e})",
            dir.display(),
            existing.display()
        )
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Refuse (before training) a `--save` destination without room for about `bytes`.
pub fn check_space(dir: &Path, bytes: u64) -> Result<()> {
    let existing = parent_of(dir)
        .ancestors()
        .find(|a| a.exists())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    if let Some(free) = free_disk_bytes(&existing) {
        let needed = bytes + bytes / 10 + (1 << 16);
        if free < needed {
            bail!(
                "--save {}: the checkpoint needs about {}, but {} has only {} free",
                dir.display(),
                human_bytes(needed),
                existing.display(),
                human_bytes(free)
            );
        }
    }
    Ok(())
}

/// Names in `dir` other than a checkpoint's own files (sorted).
fn foreign_entries(dir: &Path) -> Result<Vec<String>> {
    let mut others: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != WEIGHTS && n != SIDECAR)
        .collect();
    others.sort();
    Ok(others)
}

/// The directory a checkpoint directory lives in (`.` for a bare name).
fn parent_of(dir: &Path) -> &Path {
    dir.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Write `model` and `sidecar` into `dir` atomically: into a temporary directory beside it
/// (synced, and removed on failure or interrupt), renamed into place, the parent synced.
pub fn save(dir: &Path, model: &dyn Recommender, sidecar: &Sidecar, force: bool) -> Result<()> {
    check_target(dir, force)?;
    if let Some(bad) = sidecar.losses.iter().find(|l| !l.is_finite()) {
        bail!("not saving a model whose training loss is {bad}");
    }
    let parent = parent_of(dir);
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow!("{}: not a directory name", dir.display()))?;
    let tmp = parent.join(format!(".tmp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let _tmp_guard = cleanup::track(&tmp);
    let result = (|| -> Result<()> {
        std::fs::create_dir(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let state: Vec<(String, Tensor)> = model
            .state()
            .into_iter()
            .map(|(n, t)| (n, t.contiguous()))
            .collect();
        Tensor::write_safetensors(&state, tmp.join(WEIGHTS)).map_err(|e| {
            anyhow!(
                "cannot save the tensors to {}: {}",
                tmp.join(WEIGHTS).display(),
                first_line(&e)
            )
        })?;
        std::fs::write(tmp.join(SIDECAR), serde_json::to_vec_pretty(sidecar)?)
            .with_context(|| format!("writing {}", tmp.join(SIDECAR).display()))?;
        for p in [tmp.join(WEIGHTS), tmp.join(SIDECAR), tmp.clone()] {
            cleanup::sync_path(&p).with_context(|| format!("syncing {}", p.display()))?;
        }
        if dir.exists() {
            // --force: move the old one away first, so a failed rename keeps it
            let old = parent.join(format!(".old-{}-{name}", std::process::id()));
            let _old_guard = cleanup::track(&old);
            let _restore_guard = cleanup::track_restore(&old, dir);
            std::fs::rename(dir, &old)?;
            if let Err(e) = std::fs::rename(&tmp, dir) {
                let _ = std::fs::rename(&old, dir);
                return Err(e.into());
            }
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&tmp, dir).with_context(|| format!("moving into {}", dir.display()))?;
        }
        cleanup::sync_path(parent).with_context(|| format!("syncing {}", parent.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// The first line of a libtorch error (its C++ stack frames dropped).
pub fn first_line(e: &impl std::fmt::Display) -> String {
    e.to_string()
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The bytes a model's state takes (float values, without the file's small header).
pub fn state_bytes(model: &dyn Recommender) -> u64 {
    model
        .state()
        .iter()
        .map(|(_, t)| t.numel() as u64 * t.kind().elt_size_in_bytes() as u64)
        .sum()
}

/// A loaded checkpoint: the model with its tensors, the sidecar, and the data rebuilt as it
/// was for training (checked against the saved fingerprints).
pub struct Loaded {
    pub model: Box<dyn Recommender>,
    pub sidecar: Sidecar,
    pub data: Prepared,
}

/// Read a checkpoint's sidecar, with clear errors for a missing or corrupt one.
pub fn read_sidecar(dir: &Path) -> Result<Sidecar> {
    if dir.exists() && !dir.is_dir() {
        bail!(
            "{} is a file, not a saved model: --model takes the directory that \
             `recsys train DATA --save DIR` writes",
            dir.display()
        );
    }
    if !dir.is_dir() {
        bail!(
            "no saved model at {}: not a directory (train one with `recsys train ... --save {}`)",
            dir.display(),
            dir.display()
        );
    }
    let path = dir.join(SIDECAR);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        anyhow!(
            "{} is not a saved model: cannot read {} ({e})",
            dir.display(),
            path.display()
        )
    })?;
    let format = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("format").and_then(Value::as_str).map(String::from));
    if let Some(old @ ("recsys-model/1" | "recsys-model/2")) = format.as_deref() {
        bail!(
            "{} was saved by an older recsys (format {old}); train it again to use it",
            dir.display()
        );
    }
    let sidecar: Sidecar = serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "corrupt checkpoint: {} is not a valid model sidecar ({})",
            path.display(),
            message(&e)
        )
    })?;
    if matches!(sidecar.format.as_str(), "recsys-model/1" | "recsys-model/2") {
        bail!(
            "{} was saved by an older recsys (format {}); train it again to use it",
            dir.display(),
            sidecar.format
        );
    }
    if sidecar.format != FORMAT {
        bail!(
            "corrupt checkpoint: {} has format {}, expected {FORMAT:?}",
            path.display(),
            quoted(&sidecar.format)
        );
    }
    // a size declared in the sidecar is bounded before anything is built from it
    crate::recommender::settings::check_bounds(&sidecar.model, &sidecar.config)
        .map_err(|e| anyhow!("corrupt checkpoint: {}: {e}", path.display()))?;
    if sidecar.users.len() as i64 != sidecar.sizes.n_users
        || sidecar.items.len() as i64 != sidecar.sizes.n_items
    {
        bail!(
            "corrupt checkpoint: {} has id maps that do not match the model's sizes",
            path.display()
        );
    }
    Ok(sidecar)
}

/// Load a checkpoint and rebuild its data. `data` replaces the sidecar's ratings source (the
/// fingerprints must still match: a checkpoint only works on the data it was trained on).
pub fn load(ctx: &Context, dir: &Path, data: Option<&str>) -> Result<Loaded> {
    let sidecar = read_sidecar(dir)?;
    let mut spec = sidecar.data.clone();
    if let Some(d) = data {
        spec.data = d.to_string();
    }
    let ratings = spec.load(ctx)?;
    let given_test = spec.load_test(ctx, &sidecar.split)?;
    tch::manual_seed(sidecar.seed as i64);
    let prepared = prepare(ratings, given_test, sidecar.threshold, &sidecar.split)?;
    if prepared.names != sidecar.names {
        bail!(
            "the checkpoint {} was trained on other ids: the string id dictionary rebuilt from {} \
             differs from the saved one",
            dir.display(),
            spec.data
        );
    }
    let (saved, now) = (&sidecar.fingerprints, &prepared.fingerprints);
    if saved.ratings != now.ratings {
        bail!(
            "the checkpoint {} was trained on other data: its ratings fingerprint is {} ({}), but {} gives {}",
            dir.display(),
            saved.ratings,
            sidecar.data.data,
            spec.data,
            now.ratings
        );
    }
    if saved.train != now.train || saved.test != now.test {
        bail!(
            "the split rebuilt from {} differs from the one the checkpoint {} was trained on \
             (train {} vs saved {}); was it made by another version?",
            spec.data,
            dir.display(),
            now.train,
            saved.train
        );
    }
    let entry = registry::find(&sidecar.model).map_err(|e| {
        anyhow!(
            "corrupt checkpoint: {}: {}",
            dir.join(SIDECAR).display(),
            message(&e)
        )
    })?;
    let weights = dir.join(WEIGHTS);
    if !weights.exists() {
        bail!("corrupt checkpoint: {} is missing", weights.display());
    }
    let state = Tensor::read_safetensors(&weights).map_err(|e| {
        anyhow!(
            "corrupt checkpoint: cannot read {}: {}",
            weights.display(),
            first_line(&e)
        )
    })?;
    let model = entry
        .load(&sidecar.config, sidecar.sizes, state, ctx.device)
        .map_err(|e| {
            anyhow!(
                "corrupt checkpoint {}: {}",
                dir.display(),
                message(&format!("{e:#}"))
            )
        })?;
    Ok(Loaded {
        model,
        sidecar: Sidecar {
            data: spec,
            ..sidecar
        },
        data: prepared,
    })
}
