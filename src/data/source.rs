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

/// Read `name` from the zip archive at `archive`.
pub fn read_zip_member(archive: &Path, name: &str) -> Result<Vec<u8>> {
    let file = File::open(archive).with_context(|| format!("reading {}", archive.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .with_context(|| format!("{}: not a readable zip archive", archive.display()))?;
    let mut entry = match zip.by_name(name) {
        Ok(e) => e,
        Err(zip::result::ZipError::FileNotFound) => {
            bail!("{}: the archive has no member {name}", archive.display())
        }
        Err(e) => return Err(e).with_context(|| format!("{}: reading {name}", archive.display())),
    };
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    entry
        .read_to_end(&mut bytes)
        .with_context(|| format!("{}: reading {name} (truncated archive?)", archive.display()))?;
    Ok(bytes)
}
