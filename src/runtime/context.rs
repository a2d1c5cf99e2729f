//! What every command shares: device, seed, where output goes, and how it is printed.
//!
//! People read stdout; with `--json` stdout carries one JSON object instead, and the
//! human-readable lines move to stderr. Files are written atomically into the output
//! directory, and an existing file is only replaced with `--force`.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Context as _, Result};
use tch::Device;

use crate::data::DataPaths;
use crate::runtime::{cleanup, files};

/// Settings shared by all commands.
#[derive(Debug, Clone)]
pub struct Context {
    /// Where tensors live.
    pub device: Device,
    /// `--seed`; `None` lets each notebook use its own default.
    pub seed: Option<u64>,
    /// `--json`: one JSON object on stdout, people's output on stderr.
    pub json: bool,
    /// Where plots and other files go.
    pub out_dir: PathBuf,
    /// Replace existing output files.
    pub force: bool,
    /// Where data lives.
    pub data: DataPaths,
}

impl Context {
    /// A CPU context writing into `out_dir`, for tests and examples.
    pub fn for_tests(out_dir: &Path) -> Context {
        Context {
            device: Device::Cpu,
            seed: None,
            json: false,
            out_dir: out_dir.to_path_buf(),
            force: false,
            data: DataPaths::new(None).expect("the shipped data unpacks into the cache"),
        }
    }

    /// The seed to use: `--seed`, else `default`.
    pub fn seed_or(&self, default: u64) -> u64 {
        self.seed.unwrap_or(default)
    }

    /// Seed libtorch's generators with [`Context::seed_or`] and return the seed.
    pub fn manual_seed(&self, default: u64) -> u64 {
        let seed = self.seed_or(default);
        tch::manual_seed(seed as i64);
        seed
    }

    /// Print one line for people: stdout, or stderr under `--json`. Use [`crate::say!`].
    /// Printing never stops the work: a failed write on stdout is recorded (see
    /// [`note_stdout`]), and once stdout is closed (a reader such as `head` is gone) the lines
    /// are dropped while the command carries on to write what it was asked to.
    pub fn say(&self, args: fmt::Arguments) {
        if self.json {
            let _ = writeln!(std::io::stderr().lock(), "{args}");
        } else if !stdout_closed() {
            let mut out = std::io::stdout().lock();
            note_stdout(writeln!(out, "{args}"));
        }
    }

    /// Write `bytes` as `name` in the output directory, atomically, refusing to replace an
    /// existing file without `--force`. Returns the path written.
    pub fn write_output(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.out_dir.join(name);
        write_atomic(&path, bytes, self.force)?;
        Ok(path)
    }

    /// Refuse, before any long work, an output directory that cannot be written and output
    /// files that exist already (unless `--force`): the checks [`Context::write_output`] makes
    /// when it writes, made up front for each of `names`.
    pub fn ensure_outputs_free(&self, names: &[&str]) -> Result<()> {
        files::check_output_dir(&self.out_dir, "--out")?;
        names
            .iter()
            .try_for_each(|name| check_writable(&self.out_dir.join(name), self.force))
    }

    /// Like [`Context::write_output`], for writers that take a path (plots): `write` fills the
    /// temporary path it is given, which is then renamed to `name` in the output directory.
    pub fn write_output_with(
        &self,
        name: &str,
        write: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<PathBuf> {
        let path = self.out_dir.join(name);
        write_atomic_with(&path, self.force, write)?;
        Ok(path)
    }
}

/// Print a line for people through a [`Context`]: `say!(ctx, "{} users", n)`.
#[macro_export]
macro_rules! say {
    ($ctx:expr) => { $ctx.say(format_args!("")) };
    ($ctx:expr, $($arg:tt)*) => { $ctx.say(format_args!($($arg)*)) };
}

/// The first write error on stdout other than a closed pipe, if any.
static STDOUT_ERROR: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Set once a write on stdout met a closed pipe: nothing more is printed there.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether stdout was found closed (EPIPE): its reader is gone, so lines are dropped.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Record the outcome of a write to stdout; never ends the process, so that the files a
/// command was asked to write are still written. A closed pipe (EPIPE) only stops further
/// printing (see [`stdout_closed`]): the reader chose to stop reading, as `head` does. Any other
/// error (a full disk behind `>`) is kept for [`stdout_status`], which fails the command.
pub fn note_stdout(result: std::io::Result<()>) {
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
        }
        Err(e) => {
            let mut first = STDOUT_ERROR.lock().unwrap_or_else(|p| p.into_inner());
            first.get_or_insert_with(|| e.to_string());
        }
    }
}

/// Flush stdout and report the first write error seen on it (e.g. a full disk behind `>`), so
/// the command can fail instead of exiting 0 with its output lost. A closed pipe is no error
/// here: the reader left on purpose, and the command's files were written.
pub fn stdout_status() -> Result<()> {
    if !stdout_closed() {
        note_stdout(std::io::stdout().flush());
    }
    match STDOUT_ERROR
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    {
        Some(e) => bail!("writing to stdout: {e}"),
        None => Ok(()),
    }
}

fn check_writable(path: &Path, force: bool) -> Result<()> {
    files::check_replaceable(path, force)
}

/// Write `bytes` to `path` through a temporary file and a rename, so a reader never sees half a
/// file and a failure (or an interrupt, see [`crate::runtime::cleanup`]) leaves nothing behind.
/// The file and its directory are synced around the rename. An existing file is replaced only
/// when `force`, and only a regular file (see [`files::check_replaceable`]); without `force` the
/// rename itself refuses a file that appeared meanwhile ([`files::publish`]). A write stopped by
/// the file-size limit (EFBIG) is reported in one line naming `path`.
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    write_atomic_with(path, force, |tmp| {
        std::fs::write(tmp, bytes).with_context(|| format!("writing {}", tmp.display()))
    })
}

/// Like [`write_atomic`], for writers that take a path: `write` fills the temporary path given
/// to it (which keeps `path`'s extension), which is then renamed to `path`.
pub fn write_atomic_with(
    path: &Path,
    force: bool,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    check_writable(path, force)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("output");
    let tmp = dir.join(format!(".tmp-{}-{file_name}", std::process::id()));
    let _guard = cleanup::track(&tmp);
    let result = write(&tmp).and_then(|()| {
        cleanup::sync_path(&tmp).with_context(|| format!("syncing {}", tmp.display()))?;
        files::publish(&tmp, path, force)?;
        cleanup::sync_path(dir).with_context(|| format!("syncing {}", dir.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| {
        if files::file_size_limit_hit(&e) {
            anyhow::anyhow!(files::file_size_limit_message(path))
        } else {
            e
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"one", false).unwrap();
        let err = write_atomic(&p, b"two", false).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        write_atomic(&p, b"two", true).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let failed = write_atomic_with(&dir.path().join("b.txt"), false, |_| bail!("boom"));
        assert!(failed.is_err());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no partial file left"
        );
    }
}
