//! `recsys doctor`: what this machine has: tch and libtorch (its version checked first), the
//! NVIDIA driver against the CUDA build of that libtorch, CUDA, threads, which accelerated CPU
//! paths are active, and the shipped data, verified and loaded.

use std::path::Path;

use anyhow::{bail, Result};
use serde_json::{json, Value};

use recsys::data::{self, checksum, Dataset};
use recsys::{say, Context};

/// The libtorch series this binary is built for: tch 0.24 needs 2.11 (`torch-sys` checks 2.11.0
/// when it builds); another series is not ABI-compatible.
const LIBTORCH_SERIES: &str = "2.11";

/// Print the report, and return it for `--json`. Fails first, in one line, when the libtorch
/// loaded says it is not 2.11.x.
pub fn doctor(ctx: &Context) -> Result<Value> {
    let info = recsys::runtime::device::torch_info();
    let loaded_dir = info
        .libtorch_loaded
        .as_deref()
        .and_then(|so| Path::new(so).parent()?.parent())
        .map(LibtorchDir::read)
        .unwrap_or_default();
    let version = loaded_dir.version.clone().or(info.libtorch_version.clone());
    let version_ok = version.as_deref().map(in_series);
    if let (Some(v), Some(false)) = (&version, version_ok) {
        bail!(
            "libtorch {v} is loaded (from {}), but this recsys is built against libtorch \
             {LIBTORCH_SERIES}.0 (tch {}): use a torch {LIBTORCH_SERIES}.0 (RECSYS_PYTHON for a \
             bundle, scripts/setup-libtorch.sh for a checkout; docs/cuda.md)",
            info.libtorch_loaded.as_deref().unwrap_or("?"),
            info.tch_version
        );
    }
    let built = LibtorchDir::read(Path::new(info.libtorch_build_dir));
    let driver = nvidia_driver();
    say!(ctx, "tch              {}", info.tch_version);
    say!(
        ctx,
        "libtorch         {}",
        match &version {
            Some(v) => format!(
                "{v} ({}; this recsys needs {LIBTORCH_SERIES}.x: ok)",
                loaded_dir.build_kind()
            ),
            None => format!(
                "unknown (no version.py or build-version beside it; this recsys needs \
                 {LIBTORCH_SERIES}.x)"
            ),
        }
    );
    say!(
        ctx,
        "libtorch loaded  {}",
        info.libtorch_loaded.as_deref().unwrap_or("unknown")
    );
    say!(
        ctx,
        "libtorch built   {} ({})",
        info.libtorch_build_dir,
        built
            .version
            .as_deref()
            .unwrap_or("not on this machine, or version unknown")
    );
    let driver_note = driver_note(driver.as_deref(), loaded_dir.cuda.as_deref());
    say!(
        ctx,
        "NVIDIA driver    {}",
        match &driver {
            Some(d) => format!("{d} ({})", driver_note.text),
            None => format!("none ({})", driver_note.text),
        }
    );
    say!(ctx, "CUDA available   {}", info.cuda_available);
    say!(ctx, "CUDA devices     {}", info.cuda_device_count);
    say!(ctx, "cuDNN available  {}", info.cudnn_available);
    say!(ctx, "threads          {}", info.threads);
    let adam = recsys::optim::cpu_kernel();
    let fast = cfg!(feature = "fast");
    say!(
        ctx,
        "feature fast     {}",
        if fast {
            "on (fused Adam, Rust dropout masks, sparse lookups)"
        } else {
            "off (plain tch)"
        }
    );
    // The fused Adam is set against libtorch's here and now: "bit-identical" is printed only
    // when this machine's run of the small model came out with libtorch's bits.
    let adam_check = recsys::optim::check_fused_adam()?;
    match adam_check {
        Some(c) if c.identical() => say!(
            ctx,
            "Adam on the CPU  fused, bit-identical to libtorch's ({adam} loops; checked now: \
             {} steps of a small model, all {} weights equal)",
            c.steps,
            c.weights
        ),
        Some(c) => say!(
            ctx,
            "Adam on the CPU  fused, DIFFERS from libtorch's on this machine ({adam} loops; \
             {} of {} weights differ after {} steps of a small model)",
            c.differing,
            c.weights,
            c.steps
        ),
        None => say!(ctx, "Adam on the CPU  {adam}"),
    }
    let rust_masks = recsys::rng::rust_masks_match_libtorch();
    say!(
        ctx,
        "dropout masks    {}",
        if rust_masks {
            "drawn in Rust from libtorch's generator (checked bit for bit against its bernoulli_)"
        } else if fast {
            "libtorch's bernoulli_ (the Rust draw does not match this libtorch)"
        } else {
            "libtorch's bernoulli_"
        }
    );
    say!(
        ctx,
        "device chosen    {}",
        recsys::runtime::device::device_name(ctx.device)
    );
    say!(ctx, "shipped data     {}", ctx.data.shipped.display());
    let files = checksum::check_dir(&ctx.data.shipped)?;
    let mut file_json = Vec::new();
    for (name, status) in &files {
        let text = match status {
            checksum::FileStatus::Ok => "ok".to_string(),
            checksum::FileStatus::Missing => "MISSING".to_string(),
            checksum::FileStatus::Mismatch { found, .. } => {
                format!("CHECKSUM MISMATCH (found {found})")
            }
        };
        say!(ctx, "  {name:<24} {text}");
        file_json.push(json!({ "file": name, "status": status }));
    }
    say!(ctx, "download cache   {}", ctx.data.cache.display());
    let mut datasets = Vec::new();
    for d in [Dataset::Ml100k, Dataset::MlLatestSmall] {
        let df = d.ratings(&ctx.data)?;
        let s = data::summarize(&df)?;
        say!(
            ctx,
            "  loaded {:<16} {} ratings, {} users, {} items",
            d.name(),
            s.rows,
            s.users,
            s.items
        );
        datasets.push(json!({ "dataset": d.name(), "summary": s }));
    }
    let ok = files.iter().all(|(_, s)| *s == checksum::FileStatus::Ok);
    Ok(
        json!({ "torch": info, "libtorch_check": { "version": version, "cuda": loaded_dir.cuda, "needs": format!("{LIBTORCH_SERIES}.x"), "ok": version_ok, "built_version": built.version }, "nvidia_driver": { "version": driver, "needs": driver_note.needs, "ok": driver_note.ok }, "fast": fast, "adam_cpu_kernel": adam, "adam_check_against_libtorch": adam_check, "rust_dropout_masks": rust_masks, "device": recsys::runtime::device::device_name(ctx.device), "data_files": file_json, "data_ok": ok, "datasets": datasets }),
    )
}

/// Whether a torch version (`2.11.0+cu130`) is of the series this binary is built for.
fn in_series(version: &str) -> bool {
    version
        .strip_prefix(LIBTORCH_SERIES)
        .is_some_and(|rest| rest.starts_with('.'))
}

/// What a libtorch directory says of itself: `version.py` in a Python torch package
/// (`__version__`, and `cuda`, `None` for a CPU build), `build-version` in a libtorch archive
/// (the CUDA version then comes from the local tag, `+cu126`).
#[derive(Debug, Default, Clone, PartialEq)]
struct LibtorchDir {
    version: Option<String>,
    /// The CUDA version it was built for (`13.0`); `None` for a CPU-only build or when unknown.
    cuda: Option<String>,
    /// It says it is a CPU-only build.
    cpu_only: bool,
}

impl LibtorchDir {
    fn read(dir: &Path) -> LibtorchDir {
        if let Ok(text) = std::fs::read_to_string(dir.join("version.py")) {
            return LibtorchDir::from_version_py(&text);
        }
        let version = std::fs::read_to_string(dir.join("build-version"))
            .ok()
            .and_then(|t| t.lines().next().map(|l| l.trim().to_string()))
            .filter(|v| !v.is_empty());
        let cuda = version.as_deref().and_then(cuda_of_tag);
        LibtorchDir {
            cpu_only: version.as_deref().is_some_and(|v| v.ends_with("+cpu")),
            version,
            cuda,
        }
    }

    fn from_version_py(text: &str) -> LibtorchDir {
        // `__version__ = '2.11.0+cu130'`, `cuda: Optional[str] = '13.0'` (or `= None`).
        let value = |key: &str| {
            text.lines().find_map(|l| {
                let (lhs, rhs) = l.split_once('=')?;
                if lhs.split(':').next()?.trim() != key {
                    return None;
                }
                let rhs = rhs.trim();
                let quote = rhs.chars().next().filter(|c| *c == '\'' || *c == '"')?;
                rhs[1..].split(quote).next().map(str::to_string)
            })
        };
        let version = value("__version__");
        let cuda = value("cuda");
        LibtorchDir {
            cpu_only: version.is_some() && cuda.is_none(),
            version,
            cuda,
        }
    }

    /// "CUDA 13.0 build", "CPU-only build" or "build unknown".
    fn build_kind(&self) -> String {
        match &self.cuda {
            Some(c) => format!("CUDA {c} build"),
            None if self.cpu_only => "CPU-only build".to_string(),
            None => "build unknown".to_string(),
        }
    }
}

/// The CUDA version a local tag names: `2.11.0+cu126` is 12.6, `+cu130` 13.0.
fn cuda_of_tag(version: &str) -> Option<String> {
    let digits = version.split_once("+cu")?.1;
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (major, minor) = digits.split_at(digits.len() - 1);
    Some(format!("{major}.{minor}"))
}

/// The NVIDIA kernel driver's version, from `/proc/driver/nvidia/version` (what `nvidia-smi`
/// reports as "Driver Version"); `None` without an NVIDIA driver.
fn nvidia_driver() -> Option<String> {
    parse_driver(&std::fs::read_to_string("/proc/driver/nvidia/version").ok()?)
}

/// The first version-looking word of `/proc/driver/nvidia/version`'s first line
/// ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Tue Sep 23 ...").
fn parse_driver(text: &str) -> Option<String> {
    let is_number = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    text.lines()
        .next()?
        .split_whitespace()
        .find(|w| w.contains('.') && w.split('.').all(is_number))
        .map(str::to_string)
}

/// The oldest driver that runs a CUDA build (NVIDIA's minor version compatibility: 13.x needs
/// 580, 12.x 525.60.13; docs/cuda.md has the table and its sources).
fn driver_floor(cuda: &str) -> Option<&'static str> {
    match cuda.split('.').next()? {
        "13" => Some("580"),
        "12" => Some("525.60.13"),
        _ => None,
    }
}

/// `a >= b` for dotted versions, component by component (missing components are 0).
fn version_at_least(a: &str, b: &str) -> bool {
    let parse = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    let (a, b) = (parse(a), parse(b));
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return x > y;
        }
    }
    true
}

/// The driver set against the CUDA build of the libtorch loaded.
struct DriverNote {
    text: String,
    needs: Option<&'static str>,
    ok: Option<bool>,
}

fn driver_note(driver: Option<&str>, cuda: Option<&str>) -> DriverNote {
    let needs = cuda.and_then(driver_floor);
    match (driver, cuda, needs) {
        (None, None, _) => DriverNote {
            text: "no NVIDIA kernel module loaded, and this libtorch is CPU-only".into(),
            needs: None,
            ok: None,
        },
        (None, Some(c), _) => DriverNote {
            text: format!("no NVIDIA kernel module loaded: the CUDA {c} build runs on the CPU"),
            needs,
            ok: None,
        },
        (Some(_), None, _) => DriverNote {
            text: "this libtorch is CPU-only: CUDA stays off (docs/cuda.md, choosing a build)"
                .into(),
            needs: None,
            ok: None,
        },
        (Some(d), Some(c), Some(floor)) => {
            let ok = version_at_least(d, floor);
            let text = if ok {
                format!("the CUDA {c} build needs {floor} or newer: ok")
            } else {
                format!(
                    "the CUDA {c} build needs {floor} or newer: TOO OLD, CUDA stays off; upgrade \
                     the driver or install an older CUDA build (docs/cuda.md)"
                )
            };
            DriverNote {
                text,
                needs,
                ok: Some(ok),
            }
        }
        (Some(_), Some(c), None) => DriverNote {
            text: format!("CUDA {c} build: see docs/cuda.md for the driver it needs"),
            needs: None,
            ok: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_version_py_of_a_cuda_and_a_cpu_torch() {
        let cuda = LibtorchDir::from_version_py(
            "__version__ = '2.11.0+cu130'\ndebug = False\ncuda: Optional[str] = '13.0'\n\
             git_version = '70d9'\nhip: Optional[str] = None\n",
        );
        assert_eq!(cuda.version.as_deref(), Some("2.11.0+cu130"));
        assert_eq!(cuda.cuda.as_deref(), Some("13.0"));
        assert_eq!(cuda.build_kind(), "CUDA 13.0 build");
        let cpu = LibtorchDir::from_version_py(
            "__version__ = '2.11.0+cpu'\ncuda: Optional[str] = None\n",
        );
        assert_eq!(cpu.version.as_deref(), Some("2.11.0+cpu"));
        assert_eq!(cpu.cuda, None);
        assert_eq!(cpu.build_kind(), "CPU-only build");
        assert_eq!(cuda_of_tag("2.11.0+cu126").as_deref(), Some("12.6"));
        assert_eq!(cuda_of_tag("2.11.0+cu130").as_deref(), Some("13.0"));
        assert_eq!(cuda_of_tag("2.11.0+cpu"), None);
        assert_eq!(cuda_of_tag("2.11.0"), None);
    }

    #[test]
    fn only_the_2_11_series_passes() {
        assert!(in_series("2.11.0+cu130"));
        assert!(in_series("2.11.0"));
        assert!(in_series("2.11.1+cpu"));
        assert!(!in_series("2.10.0+cu128"));
        assert!(!in_series("2.1.0"));
        assert!(!in_series("2.110.0"));
        assert!(!in_series("2.12.0"));
    }

    #[test]
    fn driver_against_the_cuda_build() {
        let line = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05  \
                    Release Build  (dvs-builder@U16-I3-B03-4-3)  Tue Sep 23 09:41:35 UTC 2025\n\
                    GCC version:  gcc version 13.3.0\n";
        assert_eq!(parse_driver(line).as_deref(), Some("580.95.05"));
        assert_eq!(parse_driver("no driver here\n"), None);
        assert!(version_at_least("580.95.05", "580"));
        assert!(version_at_least("525.60.13", "525.60.13"));
        assert!(!version_at_least("525.60.2", "525.60.13"));
        assert!(!version_at_least("570.124.06", "580"));
        let old = driver_note(Some("570.124.06"), Some("13.0"));
        assert_eq!(old.ok, Some(false));
        assert!(old.text.contains("TOO OLD"), "{}", old.text);
        let fine = driver_note(Some("570.124.06"), Some("12.8"));
        assert_eq!(fine.ok, Some(true));
        assert_eq!(fine.needs, Some("525.60.13"));
        assert_eq!(driver_note(None, Some("13.0")).ok, None);
    }
}
