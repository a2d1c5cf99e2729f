//! Where a dataset's files are: an unpacked directory or a zip archive read in place.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::checksum::verify_listed_file;

/// A dataset's files, read by member name (`u.data`, `ratings.csv`, ...).
#[derive(Debug, Clone)]
pub enum Source {
    /// Files in a directory.
    Dir {
        dir: PathBuf,
        /// A directory whose `SHA256SUMS` lists these files: each is verified before it is read.
        sums: Option<PathBuf>,
    },
    /// Members of a zip archive under a folder, e.g. `ml-latest-small/ratings.csv`.
    Zip {
        archive: PathBuf,
        folder: String,
        /// A directory whose `SHA256SUMS` lists the archive: it is verified before it is read.
        sums: Option<PathBuf>,
    },
}

impl Source {
    /// How a member is named in messages, e.g. `data/ml-latest-small.zip:ml-latest-small/ratings.csv`.
    pub fn describe(&self, member: &str) -> String {
        match self {
            Source::Dir { dir, .. } => dir.join(member).display().to_string(),
            Source::Zip {
                archive, folder, ..
            } => {
                format!("{}:{folder}/{member}", archive.display())
            }
        }
    }

    /// The bytes of one member.
    pub fn read(&self, member: &str) -> Result<Vec<u8>> {
        match self {
            Source::Dir { dir, sums } => {
                let path = dir.join(member);
                if let Some(sums) = sums {
                    verify_listed_file(sums, &path)?;
                }
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
            }
            Source::Zip {
                archive,
                folder,
                sums,
            } => {
                if let Some(sums) = sums {
                    verify_listed_file(sums, archive)?;
                }
                read_zip_member(archive, &format!("{folder}/{member}"))
            }
        }
    }

    /// The bytes of one member as UTF-8 text; `latin1` decodes ISO-8859-1 (ml-100k's u.item).
    pub fn read_text(&self, member: &str, latin1: bool) -> Result<String> {
        let bytes = self.read(member)?;
        if latin1 {
            return Ok(bytes.iter().map(|&b| b as char).collect());
        }
        super::table::utf8_text(bytes, &self.describe(member))
    }
}

/// The largest zip member read into memory: 16 GiB (ml-32m's `ratings.csv` is 0.9 GB).
pub const MAX_MEMBER_BYTES: u64 = 16 << 30;

/// How far deflate can expand its input at most (about 1032:1), with room for headers.
const MAX_DEFLATE_RATIO: u64 = 1100;

/// Read `name` from the zip archive at `archive`. The size the archive declares for the member
/// is checked before anything is allocated: against [`MAX_MEMBER_BYTES`], against what the
/// archive's real size can hold (its compressed bytes, expanded at most as far as its method
/// allows), and against the memory available; and no more than the declared size is read.
pub fn read_zip_member(archive: &Path, name: &str) -> Result<Vec<u8>> {
    let file = File::open(archive).with_context(|| format!("reading {}", archive.display()))?;
    let archive_len = file
        .metadata()
        .with_context(|| format!("reading {}", archive.display()))?
        .len();
    let mut zip = zip::ZipArchive::new(file)
        .with_context(|| format!("{}: not a readable zip archive", archive.display()))?;
    let entry = match zip.by_name(name) {
        Ok(e) => e,
        Err(zip::result::ZipError::FileNotFound) => {
            bail!("{}: the archive has no member {name}", archive.display())
        }
        Err(e) => return Err(e).with_context(|| format!("{}: reading {name}", archive.display())),
    };
    let declared = entry.size();
    let stored = entry.compression() == zip::CompressionMethod::Stored;
    check_member_size(
        &format!("{}: member {name}", archive.display()),
        declared,
        entry.compressed_size(),
        archive_len,
        stored,
    )?;
    // Declared sizes are checked above; read one byte more than declared to catch a liar.
    let mut bytes = Vec::with_capacity(declared as usize);
    entry
        .take(declared + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("{}: reading {name} (truncated archive?)", archive.display()))?;
    if bytes.len() as u64 != declared {
        bail!(
            "{}: member {name} holds more than the {declared} bytes it declares; the archive is \
             damaged",
            archive.display()
        );
    }
    Ok(bytes)
}

/// Refuse a member whose declared size (`declared`, from `compressed` bytes in an archive of
/// `archive_len` bytes) is over [`MAX_MEMBER_BYTES`], more than the archive can hold, or more
/// than the memory available.
fn check_member_size(
    what: &str,
    declared: u64,
    compressed: u64,
    archive_len: u64,
    stored: bool,
) -> Result<()> {
    use crate::runtime::memory::human_bytes;
    if declared > MAX_MEMBER_BYTES {
        bail!(
            "{what} declares {}, more than the {} limit of a member read into memory",
            human_bytes(declared),
            human_bytes(MAX_MEMBER_BYTES)
        );
    }
    let room = if stored {
        compressed
    } else {
        compressed
            .saturating_mul(MAX_DEFLATE_RATIO)
            .saturating_add(1024)
    };
    if compressed > archive_len || declared > room {
        bail!(
            "{what} declares {} from {} compressed, which a {} archive cannot hold; the archive \
             is damaged",
            human_bytes(declared),
            human_bytes(compressed),
            human_bytes(archive_len)
        );
    }
    crate::runtime::memory::ensure_fits(
        what,
        Some(declared),
        "free some memory, or unpack the archive and read the file itself",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_sizes_are_bounded_before_reading() {
        let e = check_member_size("a.zip: member x", 1 << 40, 100, 200, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("1.0 TiB") && e.contains("16.0 GiB limit"), "{e}");
        let e = check_member_size("a.zip: member x", 1 << 30, 100, 200, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot hold"), "{e}");
        let e = check_member_size("m", 101, 100, 200, true).unwrap_err();
        assert!(e.to_string().contains("damaged"), "{e}");
        let e = check_member_size("m", 10, 1000, 200, false).unwrap_err();
        assert!(e.to_string().contains("damaged"), "{e}");
        assert!(check_member_size("m", 100_000, 100, 200, false).is_ok());
    }
}
