//! Checksums: SHA-256 for the shipped copies (`data/SHA256SUMS`), MD5 for GroupLens downloads
//! (GroupLens publishes `<archive>.zip.md5` beside each archive).

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use md5::Md5;
use sha2::{Digest, Sha256};

/// Lower-case hex digest of everything `reader` yields.
fn hex_digest<D: Digest>(mut reader: impl Read) -> std::io::Result<String> {
    let mut hasher = D::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// SHA-256 of a file, as lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    hex_digest::<Sha256>(BufReader::new(file))
        .with_context(|| format!("reading {}", path.display()))
}

/// MD5 of a file, as lower-case hex.
pub fn md5_file(path: &Path) -> Result<String> {
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    hex_digest::<Md5>(BufReader::new(file)).with_context(|| format!("reading {}", path.display()))
}

/// The entries of a `SHA256SUMS` file: relative path -> expected hex digest.
pub fn read_sha256sums(sums_path: &Path) -> Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(sums_path)
        .with_context(|| format!("reading {}", sums_path.display()))?;
    let mut sums = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((digest, name)) = line.split_once(char::is_whitespace) else {
            bail!(
                "{} line {}: expected '<sha256>  <file>'",
                sums_path.display(),
                i + 1
            );
        };
        let name = name.trim_start().trim_start_matches('*');
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!(
                "{} line {}: '{digest}' is not a SHA-256 digest",
                sums_path.display(),
                i + 1
            );
        }
        sums.insert(name.to_string(), digest.to_ascii_lowercase());
    }
    Ok(sums)
}

/// The result of checking one file against its recorded digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum FileStatus {
    /// Present, and its digest matches.
    Ok,
    /// The file is not there.
    Missing,
    /// Present, but the digest differs.
    Mismatch { expected: String, found: String },
}

/// Check every file listed in `<dir>/SHA256SUMS`.
pub fn check_dir(dir: &Path) -> Result<Vec<(String, FileStatus)>> {
    let sums = read_sha256sums(&dir.join("SHA256SUMS"))?;
    let mut out = Vec::new();
    for (name, expected) in sums {
        let path = dir.join(&name);
        let status = if !path.exists() {
            FileStatus::Missing
        } else {
            let found = sha256_file(&path)?;
            if found == expected {
                FileStatus::Ok
            } else {
                FileStatus::Mismatch { expected, found }
            }
        };
        out.push((name, status));
    }
    Ok(out)
}

/// Files already verified in this process, so a notebook that loads a file twice hashes it once.
static VERIFIED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// Verify `file` against the `SHA256SUMS` of the directory `sums_dir` that lists it (by its path
/// relative to `sums_dir`). Errors name the file and both digests.
pub fn verify_listed_file(sums_dir: &Path, file: &Path) -> Result<()> {
    let canonical = file
        .canonicalize()
        .with_context(|| format!("reading {}", file.display()))?;
    if let Some(done) = VERIFIED.lock().unwrap().as_ref() {
        if done.contains(&canonical) {
            return Ok(());
        }
    }
    let sums = read_sha256sums(&sums_dir.join("SHA256SUMS"))?;
    let relative = canonical
        .strip_prefix(sums_dir.canonicalize()?)
        .with_context(|| format!("{} is not under {}", file.display(), sums_dir.display()))?
        .to_string_lossy()
        .replace('\\', "/");
    let Some(expected) = sums.get(&relative) else {
        bail!(
            "{}: not listed in {}/SHA256SUMS",
            file.display(),
            sums_dir.display()
        );
    };
    let found = sha256_file(file)?;
    if &found != expected {
        bail!(
            "{}: checksum mismatch (SHA-256 expected {expected}, found {found}); \
             the file was changed or corrupted, restore it from git or re-download it",
            file.display()
        );
    }
    VERIFIED
        .lock()
        .unwrap()
        .get_or_insert_with(HashSet::new)
        .insert(canonical);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_known_strings() {
        assert_eq!(
            hex_digest::<Sha256>(&b"abc"[..]).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex_digest::<Md5>(&b"abc"[..]).unwrap(),
            "900150983cd24fb0d6963f7d28e17f72"
        );
    }
}
