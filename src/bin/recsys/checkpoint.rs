//! Saved models: a directory with `model.safetensors` (the weights) and `model.json` (the
//! sidecar: model config, training settings, data spec and split, id maps, data fingerprints,
//! and the string id dictionaries when the data has string ids).
//!
//! A checkpoint is written into a temporary directory beside the target, then renamed, so a
//! reader never sees half of one; an existing directory is replaced only with `--force`.

use std::path::Path;

use anyhow::{anyhow, bail, Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::prepared::{prepare, DataSpec, Fingerprints, IdNames, Prepared, SplitSpec};
use crate::zoo::{AppModel, ModelConfig, Sampling};
use recsys::prep::IdMap;
use recsys::runtime::cleanup;
use recsys::runtime::context::Context;

/// The sidecar's format tag. Format 2: the data fingerprints cover ratings and timestamps too.
pub const FORMAT: &str = "recsys-model/2";
/// Weights file name inside a checkpoint directory.
pub const WEIGHTS: &str = "model.safetensors";
/// Sidecar file name inside a checkpoint directory.
pub const SIDECAR: &str = "model.json";

/// Training settings, kept for the record and to rebuild the split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    pub seed: u64,
    pub epochs: usize,
    pub batch: i64,
    pub lr: f64,
    pub weight_decay: f64,
    /// Implicit: ratings strictly above it are positives.
    pub threshold: Option<f64>,
    /// Negatives per positive (implicit pair models).
    pub negatives: i64,
    pub sampling: Sampling,
}

/// Everything but the weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sidecar {
    pub format: String,
    pub recsys_version: String,
    pub model: ModelConfig,
    pub training: TrainSettings,
    pub data: DataSpec,
    pub split: SplitSpec,
    pub users: IdMap,
    pub items: IdMap,
    pub fingerprints: Fingerprints,
    /// Mean training loss of each epoch.
    pub losses: Vec<f64>,
    /// String id dictionaries (absent for integer ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<IdNames>,
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
    if let Some(free) = recsys::runtime::memory::free_disk_bytes(&existing) {
        let needed = bytes + bytes / 10 + (1 << 16);
        if free < needed {
            bail!(
                "--save {}: the checkpoint needs about {}, but {} has only {} free",
                dir.display(),
                recsys::runtime::memory::human_bytes(needed),
                existing.display(),
                recsys::runtime::memory::human_bytes(free)
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
pub fn save(dir: &Path, model: &AppModel, sidecar: &Sidecar, force: bool) -> Result<()> {
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
        model.save(&tmp.join(WEIGHTS))?;
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

/// A loaded checkpoint: the model with its weights, the sidecar, and the data rebuilt as it
/// was for training (checked against the saved fingerprints).
pub struct Loaded {
    pub model: AppModel,
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
    let sidecar: Sidecar = serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "corrupt checkpoint: {} is not a valid model sidecar ({e})",
            path.display()
        )
    })?;
    if sidecar.format == "recsys-model/1" {
        bail!(
            "{} was saved by an older recsys (format recsys-model/1, whose data fingerprint did \
             not cover ratings and timestamps); train it again to use it",
            dir.display()
        );
    }
    if sidecar.format != FORMAT {
        bail!(
            "corrupt checkpoint: {} has format {:?}, expected {FORMAT:?}",
            path.display(),
            sidecar.format
        );
    }
    if sidecar.users.len() as i64 != sidecar.model.n_users
        || sidecar.items.len() as i64 != sidecar.model.n_items
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
    tch::manual_seed(sidecar.training.seed as i64);
    let prepared = prepare(
        ratings,
        given_test,
        sidecar.training.threshold,
        &sidecar.split,
    )?;
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
    let mut model = AppModel::new(
        sidecar.model.clone(),
        sidecar.training.lr,
        sidecar.training.weight_decay,
        sidecar.training.batch,
        ctx.device,
    )?;
    let weights = dir.join(WEIGHTS);
    if !weights.exists() {
        bail!("corrupt checkpoint: {} is missing", weights.display());
    }
    model
        .load(&weights)
        .map_err(|e| anyhow!("corrupt checkpoint: {e}"))?;
    Ok(Loaded {
        model,
        sidecar: Sidecar {
            data: spec,
            ..sidecar
        },
        data: prepared,
    })
}
