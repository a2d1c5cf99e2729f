//! Files that are only ever ours: what `--force` may replace, no-clobber publishing that holds
//! at the moment of the rename, and fresh output directories that two runs never share.
//!
//! - [`check_replaceable`]: an existing destination is refused without `--force`, and with it
//!   only a regular file may be replaced (never a directory, a device node, a fifo, a socket or
//!   a symbolic link, whose target may be anything).
//! - [`publish`]: move a finished temporary into place. Without `--force` this is atomic: Linux
//!   `renameat2(RENAME_NOREPLACE)`, else a hard link (which never replaces) and an unlink of the
//!   temporary, else an exclusive placeholder renamed over; of two writers of one name, exactly
//!   one succeeds and the other reports that the file appeared meanwhile.
//! - [`create_fresh_dir`]: `base`, else `base-2`, `base-3`... whichever `create_dir` makes
//!   first, so that the check and the creation are one step.
//! - [`file_size_limit_hit`]: whether an error is EFBIG, the file-size limit (`ulimit -f`),
//!   which [`crate::runtime::cleanup::install_signal_handlers`] turns from a fatal SIGXFSZ into
//!   an error.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Result};

/// What is at a path, for messages: `a directory`, `a symbolic link`, ...; `None` for a
/// regular file.
fn foreign_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_symlink() {
        Some("a symbolic link")
    } else if t.is_char_device() || t.is_block_device() {
        Some("a device node")
    } else if t.is_fifo() {
        Some("a fifo")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

/// Refuse to write a file at `path` when something is there: always without `force`, and with
/// it unless that something is a regular file (a symbolic link is judged by itself, never by
/// its target).
pub fn check_replaceable(path: &Path, force: bool) -> Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        // Unreadable (no permission on a parent): the write itself will say why.
        Err(_) => return Ok(()),
    };
    if !force {
        bail!(
            "{} already exists; pass --force to replace it, or --out to write elsewhere",
            path.display()
        );
    }
    if let Some(kind) = foreign_kind(&meta) {
        bail!(
            "{} is {kind}; --force replaces only regular files, so it is left alone (write \
             elsewhere)",
            path.display()
        );
    }
    Ok(())
}

/// Refuse, before any work, an output directory that cannot be made or written: `dir` itself
/// or its nearest existing ancestor must be a directory this process may write into (a file
/// in the way, a read-only folder, a path through a file are one line naming `flag`).
pub fn check_output_dir(dir: &Path, flag: &str) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let shown = crate::data::excerpt::path(dir);
    let mut at = dir;
    loop {
        match std::fs::metadata(at) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => bail!(
                "{flag} {shown}: {} is a file, not a directory",
                crate::data::excerpt::path(at)
            ),
            // not found, or a path through a file: look at the parent
            Err(e)
                if e.kind() != ErrorKind::NotFound && e.raw_os_error() != Some(libc::ENOTDIR) =>
            {
                bail!("{flag} {shown}: {e}")
            }
            Err(_) => match at.parent() {
                Some(p) if !p.as_os_str().is_empty() => at = p,
                _ => {
                    at = Path::new(".");
                    break;
                }
            },
        }
    }
    let c = std::ffi::CString::new(at.as_os_str().as_bytes())
        .map_err(|_| anyhow::anyhow!("{flag} {shown}: the path holds a NUL byte"))?;
    // SAFETY: `c` is a valid NUL-terminated path; access(2) only reads it.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
        let e = std::io::Error::last_os_error();
        bail!(
            "{flag} {shown}: cannot write into {} ({e})",
            crate::data::excerpt::path(at)
        );
    }
    Ok(())
}

/// Move the finished temporary `tmp` to `path` (same directory). With `force` an existing
/// regular file is replaced (checked again just before the rename); without it the move fails
/// if anything appeared at `path`, atomically (see the module documentation). `tmp` is left for
/// the caller to remove when this fails.
pub fn publish(tmp: &Path, path: &Path, force: bool) -> Result<()> {
    if force {
        check_replaceable(path, true)?;
        return std::fs::rename(tmp, path).map_err(|e| rename_error(path, e));
    }
    match rename_noreplace(tmp, path) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(appeared(path)),
        // The file system (or kernel, or libc) has no RENAME_NOREPLACE: try a hard link.
        Err(e) if unsupported(&e) => {}
        Err(e) => return Err(rename_error(path, e)),
    }
    match std::fs::hard_link(tmp, path) {
        Ok(()) => {
            let _ = std::fs::remove_file(tmp);
            return Ok(());
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(appeared(path)),
        Err(e) if unsupported(&e) || e.raw_os_error() == Some(libc::EPERM) => {}
        Err(e) => return Err(rename_error(path, e)),
    }
    // No hard links either (FAT, some network file systems): reserve the name exclusively,
    // then rename over our own placeholder.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(appeared(path)),
        Err(e) => return Err(rename_error(path, e)),
    }
    std::fs::rename(tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(path);
        rename_error(path, e)
    })
}

fn appeared(path: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "{} appeared while this file was being written (another run?); it is left as it is and \
         nothing was written; pass --force to replace it",
        path.display()
    )
}

fn rename_error(path: &Path, e: std::io::Error) -> anyhow::Error {
    anyhow::Error::new(e).context(format!("moving into {}", path.display()))
}

/// Errors that mean "this operation is not available here", not "this failed".
fn unsupported(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP)
    ) || e.kind() == ErrorKind::Unsupported
}

/// `rename(from, to)` that fails with `AlreadyExists` when `to` exists, atomically.
#[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))]
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::from(ErrorKind::InvalidInput))
    };
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both paths are valid NUL-terminated strings; renameat2 only reads them.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Elsewhere there is no `renameat2`: report it unsupported, so [`publish`] links instead.
#[cfg(not(all(target_os = "linux", any(target_env = "gnu", target_env = "musl"))))]
fn rename_noreplace(_from: &Path, _to: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(ErrorKind::Unsupported))
}

/// Create a directory that did not exist: `base`, else `base-2`, `base-3`, ... (parents are
/// created as needed). Each candidate is taken by `create_dir` itself, so two processes never
/// get the same one.
pub fn create_fresh_dir(base: &Path) -> std::io::Result<PathBuf> {
    for n in 1..10_000u32 {
        let candidate = if n == 1 {
            base.to_path_buf()
        } else {
            PathBuf::from(format!("{}-{n}", base.display()))
        };
        // A parent removed meanwhile (another run tidying an empty recsys-out) is made again.
        for _ in 0..3 {
            if let Some(parent) = candidate.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            match std::fs::create_dir(&candidate) {
                Ok(()) => return Ok(candidate),
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => break,
                Err(e) => return Err(e),
            }
        }
    }
    Err(std::io::Error::new(
        ErrorKind::AlreadyExists,
        format!("no free name beside {}", base.display()),
    ))
}

/// Fresh output directories this process made, with whether it also made their parent.
static FRESH: Mutex<Vec<(PathBuf, bool)>> = Mutex::new(Vec::new());

/// [`create_fresh_dir`] for a default output directory that may end up unused: it is removed
/// again (with its parent, when that was made for it) by [`release_fresh_dirs`] at the end of
/// the command, or on an interrupt, if nothing was written into it.
pub fn claim_fresh_dir(base: &Path) -> std::io::Result<PathBuf> {
    let parent_existed = base
        .parent()
        .is_none_or(|p| p.as_os_str().is_empty() || p.exists());
    let dir = create_fresh_dir(base)?;
    // Registered for the whole run: an interrupt removes the directory if it is still empty.
    std::mem::forget(crate::runtime::cleanup::track_empty_dir(&dir));
    FRESH
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((dir.clone(), !parent_existed));
    Ok(dir)
}

/// Remove the directories of [`claim_fresh_dir`] that stayed empty (and a parent made for them
/// that is empty now), so a command that wrote nothing leaves nothing.
pub fn release_fresh_dirs() {
    let fresh: Vec<(PathBuf, bool)> =
        std::mem::take(&mut *FRESH.lock().unwrap_or_else(|p| p.into_inner()));
    for (dir, made_parent) in fresh {
        if std::fs::remove_dir(&dir).is_ok() && made_parent {
            if let Some(parent) = dir.parent() {
                let _ = std::fs::remove_dir(parent);
            }
        }
    }
}

/// An error for people: a write stopped by the file-size limit (EFBIG) says so first.
pub fn explain(err: anyhow::Error) -> anyhow::Error {
    let text = format!("{err:#}");
    // Writers outside std (libtorch, safetensors) report EFBIG only in their message.
    let hit = file_size_limit_hit(&err)
        || text.contains("File too large")
        || text.contains("FileTooLarge");
    if hit && !text.contains("ulimit") {
        err.context(
            "the file-size limit of this process (ulimit -f) was reached; the unfinished file \
             was removed",
        )
    } else {
        err
    }
}

/// Whether `err` (anywhere in its chain) is EFBIG: a write stopped by the file-size limit.
pub fn file_size_limit_hit(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.raw_os_error() == Some(libc::EFBIG))
    })
}

/// The one line for a write stopped by the file-size limit.
pub fn file_size_limit_message(path: &Path) -> String {
    format!(
        "{}: the file-size limit of this process (ulimit -f) was reached; nothing was written \
         (raise the limit, or write less)",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn force_replaces_regular_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert!(check_replaceable(&dir.path().join("none"), false).is_ok());
        let e = check_replaceable(&file, false).unwrap_err().to_string();
        assert!(e.contains("--force"), "{e}");
        assert!(check_replaceable(&file, true).is_ok());
        let e = check_replaceable(dir.path(), true).unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let e = check_replaceable(&link, true).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        let e = check_replaceable(Path::new("/dev/null"), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("device node"), "{e}");
    }

    #[test]
    fn publish_without_force_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, dest) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("dest"),
        );
        std::fs::write(&a, b"a").unwrap();
        std::fs::write(&b, b"b").unwrap();
        publish(&a, &dest, false).unwrap();
        let e = publish(&b, &dest, false).unwrap_err().to_string();
        assert!(e.contains("appeared"), "{e}");
        assert_eq!(std::fs::read(&dest).unwrap(), b"a");
        assert!(!a.exists() && b.exists());
        publish(&b, &dest, true).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"b");
    }

    #[test]
    fn fresh_dirs_are_distinct() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("out/stamp");
        let first = create_fresh_dir(&base).unwrap();
        let second = create_fresh_dir(&base).unwrap();
        assert_eq!(first, base);
        assert_eq!(second, dir.path().join("out/stamp-2"));
    }
}
