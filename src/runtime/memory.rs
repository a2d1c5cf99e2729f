//! Sizes before allocations: refuse a tensor or a checkpoint that cannot fit, naming its size,
//! instead of letting libtorch abort halfway through a run.

use std::path::Path;

use anyhow::{bail, Result};

/// `bytes` for people: `512 B`, `3.1 MiB`, `74.5 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// This machine's physical memory, where the system says (Linux and other Unixes).
pub fn total_memory_bytes() -> Option<u64> {
    // SAFETY: sysconf only reads system configuration values.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages > 0 && page > 0).then(|| pages as u64 * page as u64)
}

/// Bytes free to this user on the file system holding `path`, where the system says.
pub fn free_disk_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs fills the zeroed struct we pass; the path is a valid C string.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        (libc::statvfs(c.as_ptr(), &mut st) == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
    }
}

/// The bytes of `elements` values of `elem_bytes` each, or `None` when that overflows.
pub fn tensor_bytes(elements: &[u64], elem_bytes: u64) -> Option<u64> {
    elements
        .iter()
        .try_fold(elem_bytes, |acc, &n| acc.checked_mul(n))
}

/// Memory available for new allocations: Linux's `MemAvailable`, else the physical memory.
pub fn available_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .or_else(total_memory_bytes)
}

/// Refuse `bytes` (`None`: too large to count) for `what` when it exceeds the memory available
/// on this machine; `hint` says which option to change.
pub fn ensure_fits(what: &str, bytes: Option<u64>, hint: &str) -> Result<()> {
    let limit = available_memory_bytes().unwrap_or(u64::MAX);
    match bytes {
        None => bail!("{what} would need more than 16 EiB of memory; {hint}"),
        Some(b) if b > limit => bail!(
            "{what} would need {}, more than the {} of memory available; {hint}",
            human_bytes(b),
            human_bytes(limit)
        ),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_refusals() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
        assert_eq!(tensor_bytes(&[10, 4], 8), Some(320));
        assert_eq!(tensor_bytes(&[u64::MAX, 2], 8), None);
        assert!(ensure_fits("x", Some(1), "h").is_ok());
        let err = ensure_fits("the negatives", Some(u64::MAX / 2), "lower --negatives")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the negatives would need") && err.contains("TiB"),
            "{err}"
        );
        assert!(err.contains("lower --negatives"), "{err}");
        assert!(free_disk_bytes(Path::new(".")).is_some());
    }
}
