//! The shipped MovieLens copies, embedded in the binary, so that `recsys` finds its data from any
//! directory and on any machine it is copied to: no path of the build tree is used at run time.
//!
//! [`dir`] answers where the shipped files are on disk: `RECSYS_SHIPPED_DATA` when set, else a
//! `data/` folder beside the executable holding the same `SHA256SUMS`, else a copy unpacked once
//! from the embedded bytes into the cache directory (`<cache>/shipped-<sums hash>/`), written
//! file by file atomically and checked against `SHA256SUMS`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// Each shipped file: its path under `data/` and its bytes.
pub const FILES: &[(&str, &[u8])] = &[
    ("SHA256SUMS", include_bytes!("../../data/SHA256SUMS")),
    ("README.md", include_bytes!("../../data/README.md")),
    (
        "ml-latest-small.zip",
        include_bytes!("../../data/ml-latest-small.zip"),
    ),
    (
        "ml-latest-small.README.txt",
        include_bytes!("../../data/ml-latest-small.README.txt"),
    ),
    (
        "ml-100k/README",
        include_bytes!("../../data/ml-100k/README"),
    ),
    (
        "ml-100k/u.data",
        include_bytes!("../../data/ml-100k/u.data"),
    ),
    (
        "ml-100k/u.genre",
        include_bytes!("../../data/ml-100k/u.genre"),
    ),
    (
        "ml-100k/u.info",
        include_bytes!("../../data/ml-100k/u.info"),
    ),
    (
        "ml-100k/u.item",
        include_bytes!("../../data/ml-100k/u.item"),
    ),
    (
        "ml-100k/u.occupation",
        include_bytes!("../../data/ml-100k/u.occupation"),
    ),
    (
        "ml-100k/u.user",
        include_bytes!("../../data/ml-100k/u.user"),
    ),
];

/// The embedded `SHA256SUMS`.
fn sums() -> &'static [u8] {
    FILES[0].1
}

/// Short hex hash of the embedded `SHA256SUMS`: names the unpacked copy, so that a binary with
/// other data never reads a stale one.
fn version() -> String {
    Sha256::digest(sums())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the shipped files are on disk (see the module documentation), unpacking them into
/// `cache` on first use.
pub fn dir(cache: &Path) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("RECSYS_SHIPPED_DATA") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(beside) = beside_executable() {
        return Ok(beside);
    }
    let dir = cache.join(format!("shipped-{}", version()));
    unpack(&dir).with_context(|| format!("unpacking the shipped data into {}", dir.display()))?;
    Ok(dir)
}

/// `data/` beside the executable (or one level up, as in `bin/../data`), when its `SHA256SUMS`
/// is the embedded one.
fn beside_executable() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?;
    [bin.join("data"), bin.parent()?.join("data")]
        .into_iter()
        .find(|d| std::fs::read(d.join("SHA256SUMS")).ok().as_deref() == Some(sums()))
}

/// Write every embedded file under `dir` that is not already there with the right bytes. Each
/// file is written to a temporary name and renamed, so a crash never leaves a half file, and a
/// failure or an interrupt leaves no temporary.
fn unpack(dir: &Path) -> Result<()> {
    for (name, bytes) in FILES {
        let path = dir.join(name);
        if std::fs::read(&path).ok().as_deref() == Some(*bytes) {
            continue;
        }
        let parent = path.parent().expect("a file under dir");
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let tmp = parent.join(format!(".tmp-{}-{}", std::process::id(), file_name(name)));
        // Removed on failure here, and by the signal handler on an interrupt.
        let _guard = crate::runtime::cleanup::track(&tmp);
        let written = std::fs::write(&tmp, bytes)
            .with_context(|| format!("writing {}", tmp.display()))
            .and_then(|()| {
                std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
            });
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written?;
    }
    Ok(())
}

fn file_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacked_copy_passes_its_checksums() {
        let cache = tempfile::tempdir().unwrap();
        let dir = cache.path().join("shipped");
        unpack(&dir).unwrap();
        let status = super::super::checksum::check_dir(&dir).unwrap();
        assert_eq!(status.len(), FILES.len() - 2, "every listed file");
        assert!(status
            .iter()
            .all(|(_, s)| *s == super::super::checksum::FileStatus::Ok));
        // a truncated file is rewritten
        std::fs::write(dir.join("ml-100k/u.info"), b"x").unwrap();
        unpack(&dir).unwrap();
        assert!(super::super::checksum::check_dir(&dir)
            .unwrap()
            .iter()
            .all(|(_, s)| *s == super::super::checksum::FileStatus::Ok));
    }
}
