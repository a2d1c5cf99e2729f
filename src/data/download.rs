//! Downloads of GroupLens archives into the cache directory.
//!
//! The archive streams into a temporary file beside its destination while its MD5 is computed;
//! it is compared with the `<archive>.md5` file GroupLens publishes beside it, and only a match
//! is renamed into place. A failed or interrupted download leaves nothing behind, and a server
//! that stops answering is given up after a timeout ([`DEFAULT_TIMEOUT`], `--timeout`).

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// How long a download waits, by default, to connect and then for each read: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest `--timeout` accepted: one hour.
pub const MAX_TIMEOUT_SECS: f64 = 3600.0;

/// The largest archive downloaded: 16 GiB (ml-32m is 0.24 GB).
pub const MAX_ARCHIVE_BYTES: u64 = 16 << 30;

/// The largest `.md5` file read: 64 KiB (GroupLens's are one line).
const MAX_MD5_BYTES: u64 = 64 << 10;

/// Check a `--timeout` in seconds: a finite number above 0, at most [`MAX_TIMEOUT_SECS`].
pub fn timeout_from_secs(secs: f64) -> Result<Duration> {
    if !(secs.is_finite() && secs > 0.0 && secs <= MAX_TIMEOUT_SECS) {
        bail!("--timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT_SECS}, got {secs}");
    }
    Ok(Duration::from_secs_f64(secs))
}

/// An HTTP client that gives up when connecting, sending, or any one read takes longer than
/// `timeout` (a server that accepts and never answers cannot keep a download waiting).
fn agent(timeout: Duration) -> ureq::Agent {
    let t = Some(timeout);
    ureq::Agent::config_builder()
        .timeout_resolve(t)
        .timeout_connect(t)
        .timeout_send_request(t)
        .timeout_recv_response(t)
        .timeout_per_read(t)
        .build()
        .new_agent()
}

/// Whether an error (ureq's, or an I/O error wrapping it) is a timeout.
fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(u) = e.downcast_ref::<ureq::Error>() {
        return matches!(u, ureq::Error::Timeout(_));
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return matches!(
            io.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        ) || io.get_ref().is_some_and(|inner| is_timeout(inner));
    }
    false
}

fn timed_out(url: &str, timeout: Duration, after: &str) -> anyhow::Error {
    anyhow!(
        "GET {url}: no answer within {} s{after}; the server may be down (--timeout SECS waits \
         longer)",
        timeout.as_secs_f64()
    )
}

fn get(agent: &ureq::Agent, url: &str, timeout: Duration) -> Result<ureq::Body> {
    match agent.get(url).call() {
        Ok(resp) => Ok(resp.into_body()),
        Err(ureq::Error::StatusCode(code)) => bail!("GET {url}: HTTP {code}"),
        Err(e) if is_timeout(&e) => Err(timed_out(url, timeout, "")),
        Err(e) => Err(anyhow!("GET {url}: {e}")),
    }
}

/// Removes a temporary file unless it was kept; while it lives, an interrupt removes it too
/// ([`crate::runtime::cleanup::track`]).
struct TempFile(
    Option<PathBuf>,
    #[allow(dead_code)] crate::runtime::cleanup::Guard,
);

impl TempFile {
    fn new(path: PathBuf) -> TempFile {
        let guard = crate::runtime::cleanup::track(&path);
        TempFile(Some(path), guard)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Download `dataset`'s archive from `base_url` into `cache_dir`, verify its MD5 and return its
/// path. An archive already there is kept unless `force` is set. Waits at most
/// [`DEFAULT_TIMEOUT`] to connect and for each read; see [`download_with_timeout`].
pub fn download(
    dataset: Dataset,
    cache_dir: &Path,
    base_url: &str,
    force: bool,
) -> Result<PathBuf> {
    download_with_timeout(dataset, cache_dir, base_url, force, DEFAULT_TIMEOUT)
}

/// [`download`], giving up when connecting or any one read takes longer than `timeout`. The
/// archive streams into a `.part` file that is removed on any failure or interrupt; it is
/// refused before it is written when it declares more than [`MAX_ARCHIVE_BYTES`] or more than
/// the cache's free space, and stopped when it sends more than it declared or than the limit.
/// `force` replaces a cached archive that is a regular file, nothing else.
pub fn download_with_timeout(
    dataset: Dataset,
    cache_dir: &Path,
    base_url: &str,
    force: bool,
    timeout: Duration,
) -> Result<PathBuf> {
    use crate::runtime::memory::human_bytes;
    let name = dataset.archive_name();
    let dest = cache_dir.join(&name);
    if dest.exists() && !force {
        return Ok(dest);
    }
    crate::runtime::files::check_replaceable(&dest, true)?;
    std::fs::create_dir_all(cache_dir)
        .with_context(|| format!("creating {}", cache_dir.display()))?;
    let agent = agent(timeout);
    let url = format!("{}/{name}", base_url.trim_end_matches('/'));
    let md5_text = get(&agent, &format!("{url}.md5"), timeout)?
        .with_config()
        .limit(MAX_MD5_BYTES)
        .read_to_string()
        .map_err(|e| {
            if is_timeout(&e) {
                timed_out(&format!("{url}.md5"), timeout, "")
            } else {
                anyhow!("reading {url}.md5: {e}")
            }
        })?;
    let expected =
        parse_md5_file(&md5_text).ok_or_else(|| anyhow!("{url}.md5: no MD5 digest in it"))?;

    let body = get(&agent, &url, timeout)?;
    let total = body.content_length();
    if let Some(total) = total {
        if total > MAX_ARCHIVE_BYTES {
            bail!(
                "GET {url}: the server announces {}, more than the {} limit of an archive",
                human_bytes(total),
                human_bytes(MAX_ARCHIVE_BYTES)
            );
        }
        if let Some(free) = crate::runtime::memory::free_disk_bytes(cache_dir) {
            if total > free {
                bail!(
                    "GET {url}: the archive is {}, but {} has only {} free",
                    human_bytes(total),
                    cache_dir.display(),
                    human_bytes(free)
                );
            }
        }
    }
    let limit = total.unwrap_or(MAX_ARCHIVE_BYTES);
    let tmp_path = cache_dir.join(format!(".{name}.part-{}", std::process::id()));
    let mut tmp = TempFile::new(tmp_path.clone());
    let mut out =
        File::create(&tmp_path).with_context(|| format!("creating {}", tmp_path.display()))?;
    let bar = crate::runtime::progress::bytes_bar(total, &format!("downloading {name}"));
    let mut hasher = Md5::new();
    let mut reader = body.into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut received = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(|e| {
            if is_timeout(&e) {
                timed_out(&url, timeout, &format!(" after {received} bytes"))
            } else {
                anyhow!("GET {url}: connection broke after {received} bytes: {e}")
            }
        })?;
        if n == 0 {
            break;
        }
        received += n as u64;
        if received > limit {
            bail!(
                "GET {url}: the server sent more than {}; nothing was saved",
                if total.is_some() {
                    format!("the {limit} bytes it announced")
                } else {
                    format!("the {} limit of an archive", human_bytes(limit))
                }
            );
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| {
            let e = anyhow::Error::new(e).context(format!("writing {}", tmp_path.display()));
            if crate::runtime::files::file_size_limit_hit(&e) {
                anyhow!(crate::runtime::files::file_size_limit_message(&dest))
            } else {
                e
            }
        })?;
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
    crate::runtime::files::check_replaceable(&dest, true)?;
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
