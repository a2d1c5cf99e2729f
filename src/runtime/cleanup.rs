//! Temporaries in flight, and what happens to them on SIGINT or SIGTERM.
//!
//! Atomic writes go through a temporary beside their destination. While one exists it is
//! registered here ([`track`]); the guard returned unregisters it when dropped. After
//! [`install_signal_handlers`], an interrupt removes every registered temporary (and puts back a
//! checkpoint moved aside for `--force`, see [`track_restore`]) before the process exits with
//! the usual status (130 for SIGINT, 143 for SIGTERM).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What to undo for one registered entry.
#[derive(Debug)]
enum Undo {
    /// Remove this file or directory.
    Remove(PathBuf),
    /// Move `from` back to `to` if `to` is missing (a replaced checkpoint mid-swap).
    Restore { from: PathBuf, to: PathBuf },
    /// Remove this directory only if it is empty (a fresh output directory nothing went into).
    RemoveIfEmpty(PathBuf),
}

static PENDING: Mutex<Vec<(u64, Undo)>> = Mutex::new(Vec::new());
static NEXT: Mutex<u64> = Mutex::new(0);

/// Unregisters its entry when dropped (the temporary was renamed into place or removed).
#[must_use = "the entry is unregistered when the guard is dropped"]
#[derive(Debug)]
pub struct Guard(u64);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(mut p) = PENDING.lock() {
            p.retain(|(id, _)| *id != self.0);
        }
    }
}

fn register(undo: Undo) -> Guard {
    let id = {
        let mut n = NEXT.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        *n
    };
    PENDING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((id, undo));
    Guard(id)
}

/// Remove `path` (a file or a directory) if the process is interrupted while the guard lives.
pub fn track(path: &Path) -> Guard {
    register(Undo::Remove(path.to_path_buf()))
}

/// Move `from` back to `to` (when `to` is missing) if the process is interrupted while the
/// guard lives.
pub fn track_restore(from: &Path, to: &Path) -> Guard {
    register(Undo::Restore {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
    })
}

/// Remove the directory `path` if the process is interrupted while the guard lives and
/// nothing was written into it (a fresh default output directory).
pub fn track_empty_dir(path: &Path) -> Guard {
    register(Undo::RemoveIfEmpty(path.to_path_buf()))
}

/// Undo every registered entry (newest first) and return how many unfinished files and
/// directories there were.
pub fn clean_up() -> usize {
    undo_where(|_| true)
}

/// Undo the registered entries whose id passes `pick`, newest first.
fn undo_where(pick: impl Fn(u64) -> bool) -> usize {
    let taken: Vec<Undo> = {
        let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        let (take, keep): (Vec<_>, Vec<_>) = pending.drain(..).partition(|(id, _)| pick(*id));
        *pending = keep;
        take.into_iter().map(|(_, u)| u).collect()
    };
    // A fresh output directory removed because it stayed empty is no unfinished file.
    let n = taken
        .iter()
        .filter(|u| !matches!(u, Undo::RemoveIfEmpty(_)))
        .count();
    for undo in taken.into_iter().rev() {
        match undo {
            Undo::Remove(p) => {
                if p.is_dir() {
                    let _ = std::fs::remove_dir_all(&p);
                } else {
                    let _ = std::fs::remove_file(&p);
                }
            }
            Undo::Restore { from, to } => {
                if !to.exists() && from.exists() {
                    let _ = std::fs::rename(&from, &to);
                }
            }
            Undo::RemoveIfEmpty(p) => {
                // remove_dir fails on a directory that holds anything: only an empty one goes.
                let _ = std::fs::remove_dir(&p);
            }
        }
    }
    n
}

/// Turn the file-size limit (`ulimit -f`) from a silent death into an error: with SIGXFSZ
/// ignored, a write past the limit fails with EFBIG, and the normal error path removes its
/// temporary and says so in one line (see [`crate::runtime::files::file_size_limit_hit`]).
pub fn ignore_file_size_signal() {
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Catch SIGINT and SIGTERM: clean up the registered temporaries, say so on stderr, and exit
/// with 128 + the signal number. Also ignores SIGXFSZ ([`ignore_file_size_signal`]). Call once,
/// early in `main`.
pub fn install_signal_handlers() -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    ignore_file_size_signal();
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let n = clean_up();
                let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
                // A closed stderr must not stop the exit below.
                let mut err = std::io::stderr().lock();
                let _ = if n > 0 {
                    writeln!(
                        err,
                        "\ninterrupted ({name}); removed {n} unfinished temporary file(s)"
                    )
                } else {
                    writeln!(err, "\ninterrupted ({name})")
                };
                // _exit, not exit: the main thread is still running libtorch, whose static
                // destructors must not run under it (that crashes).
                // SAFETY: _exit ends the process at once; nothing of ours needs to run after.
                unsafe { libc::_exit(128 + sig) };
            }
        })?;
    Ok(())
}

/// fsync `path` (a file or a directory), so a rename after it never exposes an empty file.
pub fn sync_path(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_up_removes_tracked_and_restores_moved() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join(".tmp-1-a");
        std::fs::write(&tmp, b"x").unwrap();
        let kept = dir.path().join(".tmp-1-kept");
        std::fs::write(&kept, b"x").unwrap();
        let old = dir.path().join(".old-1-model");
        let target = dir.path().join("model");
        std::fs::create_dir(&old).unwrap();
        let _a = track(&tmp);
        drop(track(&kept));
        let _b = track_restore(&old, &target);
        let ids = [_a.0, _b.0];
        assert_eq!(undo_where(|id| ids.contains(&id)), 2);
        assert!(!tmp.exists());
        assert!(kept.exists(), "an unregistered path is left alone");
        assert!(
            target.is_dir() && !old.exists(),
            "the moved checkpoint is back"
        );
    }
}
