//! Choosing where tensors live (`--device auto|cpu|cuda[:N]`) and reporting what libtorch has.

use anyhow::{bail, Result};
use tch::{Cuda, Device};

/// Parse a `--device` value. `auto` is CUDA device 0 when CUDA is available, else the CPU;
/// asking for a CUDA device that is not there is an error, not a silent fallback. When the
/// answer is a CUDA device, cuDNN's benchmark mode is switched off (as PyTorch's default), so a
/// seeded run picks the same algorithms every time.
pub fn parse_device(spec: &str) -> Result<Device> {
    let device = parse(spec)?;
    if device.is_cuda() {
        Cuda::cudnn_set_benchmark(false);
    }
    Ok(device)
}

fn parse(spec: &str) -> Result<Device> {
    let spec = spec.trim().to_ascii_lowercase();
    match spec.as_str() {
        "auto" => Ok(Device::cuda_if_available()),
        "cpu" => Ok(Device::Cpu),
        _ => {
            let index = match spec.strip_prefix("cuda") {
                Some("") => 0,
                Some(rest) => match rest.strip_prefix(':').and_then(|n| n.parse::<usize>().ok()) {
                    Some(n) => n,
                    None => bail!("--device {spec:?}: expected auto, cpu, cuda or cuda:N"),
                },
                None => bail!("--device {spec:?}: expected auto, cpu, cuda or cuda:N"),
            };
            if !Cuda::is_available() {
                bail!("--device {spec}: CUDA is not available here (run `recsys doctor`)");
            }
            let count = Cuda::device_count() as usize;
            if index >= count {
                bail!("--device {spec}: only {count} CUDA device(s) here");
            }
            Ok(Device::Cuda(index))
        }
    }
}

/// A short name for a device: `cpu` or `cuda:N`.
pub fn device_name(device: Device) -> String {
    match device {
        Device::Cuda(i) => format!("cuda:{i}"),
        _ => "cpu".to_string(),
    }
}

/// What `recsys doctor` reports about tch and libtorch.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TorchInfo {
    /// The tch crate this binary was built with.
    pub tch_version: &'static str,
    /// libtorch's version, from the torch package beside it when it is a PyPI torch.
    pub libtorch_version: Option<String>,
    /// The libtorch directory the build linked against.
    pub libtorch_build_dir: &'static str,
    /// The `libtorch_cpu.so` this process actually loaded.
    pub libtorch_loaded: Option<String>,
    pub cuda_available: bool,
    pub cuda_device_count: i64,
    pub cudnn_available: bool,
    pub threads: i32,
}

/// Collect [`TorchInfo`] for this process.
pub fn torch_info() -> TorchInfo {
    let loaded = std::fs::read_to_string("/proc/self/maps")
        .ok()
        .and_then(|maps| {
            maps.lines()
                .filter_map(|l| l.split_whitespace().nth(5))
                .find(|p| p.ends_with("libtorch_cpu.so"))
                .map(str::to_string)
        });
    let version_file = loaded.as_deref().and_then(|p| {
        std::path::Path::new(p)
            .parent()?
            .parent()
            .map(|d| d.join("version.py"))
    });
    let libtorch_version = version_file
        .and_then(|f| std::fs::read_to_string(f).ok())
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("__version__"))
                .and_then(|l| l.split(['\'', '"']).nth(1).map(str::to_string))
        });
    TorchInfo {
        tch_version: "0.24.0",
        libtorch_version,
        libtorch_build_dir: env!("RECSYS_BUILD_LIBTORCH"),
        libtorch_loaded: loaded,
        cuda_available: Cuda::is_available(),
        cuda_device_count: Cuda::device_count(),
        cudnn_available: Cuda::cudnn_is_available(),
        threads: tch::get_num_threads(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_devices() {
        assert_eq!(parse_device("cpu").unwrap(), Device::Cpu);
        assert!(parse_device("gpu").is_err());
        assert!(parse_device("cuda:x").is_err());
        if !Cuda::is_available() {
            assert_eq!(parse_device("auto").unwrap(), Device::Cpu);
            assert!(parse_device("cuda")
                .unwrap_err()
                .to_string()
                .contains("not available"));
        }
    }
}
