//! Downloads of GroupLens archives into the cache directory.
//!
//! The archive streams into a temporary file beside its destination while its MD5 is computed;
//! it is compared with the `<archive>.md5` file GroupLens publishes beside it, and only a match
//! is renamed into place. A failed or interrupted download leaves nothing behind.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use md5::{Digest, Md5};

use super::Dataset;

/// Where the archives are published; `RECSYS_DOWNLOAD_URL` overrides it.
pub const GROUPLENS_URL: &str = "https://files.grouplens.org/datasets/movielens";

/// The base URL downloads use: `RECSYS_DOWNLOAD_URL` or [`GROUPLENS_URL`].
pub fn base_url() -> String {
    std::env::var("RECSYS_DOWNLOAD_URL").unwrap_or_else(|_| GROUPLENS_URL.to_string())
}

/// The first 32-hex-digit word of an `.md5` file (both `md5sum` and BSD `MD5 (x) = ...` forms).
pub fn parse_md5_file(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 32)
        .map(str::to_ascii_lowercase)
}

fn get(url: &str) -> Result<ureq::Body> {
    match ureq::get(url).call() {
        Ok(resp) => Ok(resp.into_body()),
        Err(ureq::Error::StatusCode(code)) => bail!("GET {url}: HTTP {code}"),
        Err(e) => Err(anyhow!("GET {url}: {e}")),
    }
}

/// Removes a temporary file unless it was kept.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Download `dataset`'s archive from `base_url` into `cache_dir`, verify its MD5 and return its
/// path. An archive already there is kept unless `force` is set.
pub fn download(
    dataset: Dataset,
    cache_dir: &Path,
    base_url: &str,
    force: bool,
) -> Result<PathBuf> {
    let name = dataset.archive_name();
    let dest = cache_dir.join(&name);
    if dest.exists() && !force {
        return Ok(dest);
    }
    std::fs::create_dir_all(cache_dir)
        .with_context(|| format!("creating {}", cache_dir.display()))?;
    let url = format!("{}/{name}", base_url.trim_end_matches('/'));
    let mut md5_text = String::new();
    get(&format!("{url}.md5"))?
        .into_reader()
        .read_to_string(&mut md5_text)
        .with_context(|| format!("reading {url}.md5"))?;
    let expected =
        parse_md5_file(&md5_text).ok_or_else(|| anyhow!("{url}.md5: no MD5 digest in it"))?;

    let body = get(&url)?;
    let total = body.content_length();
    let tmp_path = cache_dir.join(format!(".{name}.part-{}", std::process::id()));
    let mut tmp = TempFile(Some(tmp_path.clone()));
    let mut out =
        File::create(&tmp_path).with_context(|| format!("creating {}", tmp_path.display()))?;
    let bar = crate::runtime::progress::bytes_bar(total, &format!("downloading {name}"));
    let mut hasher = Md5::new();
    let mut reader = body.into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut received = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .with_context(|| format!("GET {url}: connection broke after {received} bytes"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .with_context(|| format!("writing {}", tmp_path.display()))?;
        received += n as u64;
        bar.set_position(received);
    }
    bar.finish_and_clear();
    if let Some(total) = total {
        if received != total {
            bail!("GET {url}: truncated, {received} of {total} bytes");
        }
    }
    out.sync_all()?;
    drop(out);
    let found: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if found != expected {
        bail!(
            "{url}: checksum mismatch (MD5 expected {expected}, found {found}); nothing was saved"
        );
    }
    // The digest goes beside the archive first, so the archive is never there without it:
    // loads check the archive against it (see `verify_archive`).
    crate::runtime::context::write_atomic(
        &md5_path(&dest),
        format!("{found}  {name}\n").as_bytes(),
        true,
    )?;
    std::fs::rename(&tmp_path, &dest)
        .with_context(|| format!("moving the download to {}", dest.display()))?;
    tmp.0 = None;
    Ok(dest)
}

/// Where a downloaded archive's MD5 is kept: `<archive>.md5`, as GroupLens publishes it.
pub fn md5_path(archive: &Path) -> PathBuf {
    let mut name = archive.as_os_str().to_os_string();
    name.push(".md5");
    PathBuf::from(name)
}

/// Check a cached archive against the `<archive>.md5` beside it (written by [`download`], or
/// fetched from GroupLens with it): an archive without one, or that does not match it, is
/// refused rather than trained on.
pub fn verify_archive(dataset: Dataset, archive: &Path) -> Result<()> {
    let sums = md5_path(archive);
    let redo = format!("run `recsys data download {} --replace`", dataset.name());
    let text = std::fs::read_to_string(&sums).map_err(|_| {
        anyhow!(
            "{} has no checksum beside it ({} is missing), so it cannot be checked; {redo}",
            archive.display(),
            sums.display()
        )
    })?;
    let expected = parse_md5_file(&text)
        .ok_or_else(|| anyhow!("{}: no MD5 digest in it; {redo}", sums.display()))?;
    let found = super::checksum::md5_file(archive)?;
    if found != expected {
        bail!(
            "{}: checksum mismatch (MD5 expected {expected} from {}, found {found}); {redo}",
            archive.display(),
            sums.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_md5_file_forms() {
        let h = "0e33842e24a9c977be4e0107933c0723";
        assert_eq!(
            parse_md5_file(&format!("MD5 (ml-100k.zip) = {h}\n")).as_deref(),
            Some(h)
        );
        assert_eq!(
            parse_md5_file(&format!("{h}  ml-100k.zip\n")).as_deref(),
            Some(h)
        );
        assert_eq!(parse_md5_file("nothing here"), None);
    }
}
