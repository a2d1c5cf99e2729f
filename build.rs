//! Link settings so `recsys` runs without LD_LIBRARY_PATH and finds CUDA on a GPU machine.
//!
//! - rpath to libtorch's `lib/` directory (the `LIBTORCH` tch builds against; by default the
//!   project's `.libtorch` link made by `scripts/setup-libtorch.sh`).
//! - `libtorch_cuda` linked with `--no-as-needed` when libtorch has it: otherwise the linker drops
//!   it, and `Cuda::is_available()` silently answers false on a GPU machine (tch-rs #907, #980).
//! - `src/rng/cpu_generator.cpp`, the small C++ bridge to libtorch's CPU generator state (see
//!   `src/rng/mod.rs`), compiled against libtorch's headers with the flags torch-sys uses; only
//!   with the cargo feature `fast`, which alone uses it.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let libtorch = std::env::var_os("LIBTORCH")
        .map(PathBuf::from)
        .map(|p| if p.is_relative() { manifest.join(p) } else { p })
        .unwrap_or_else(|| manifest.join(".libtorch"));
    let lib = libtorch.join("lib");
    println!(
        "cargo:rustc-env=RECSYS_BUILD_LIBTORCH={}",
        libtorch.display()
    );
    if !lib.is_dir() {
        println!(
            "cargo:warning=libtorch not found at {}; run scripts/setup-libtorch.sh",
            libtorch.display()
        );
        return;
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if std::env::var_os("CARGO_FEATURE_FAST").is_some() {
        compile_generator_bridge(&libtorch);
    }
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-search=native={}", lib.display());
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}

/// Compiles the C++ bridge to libtorch's default CPU generator (`src/rng/cpu_generator.cpp`).
fn compile_generator_bridge(libtorch: &std::path::Path) {
    println!("cargo:rerun-if-changed=src/rng/cpu_generator.cpp");
    println!("cargo:rerun-if-env-changed=LIBTORCH_CXX11_ABI");
    // The pip wheels of torch 2.x use the C++11 ABI; torch-sys assumes the same by default.
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".to_owned());
    let include = libtorch.join("include");
    cc::Build::new()
        .cpp(true)
        .file("src/rng/cpu_generator.cpp")
        .include(&include)
        .include(include.join("torch/csrc/api/include"))
        .flag("-std=c++17")
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .warnings(false)
        .compile("recsys_cpu_generator");
}
