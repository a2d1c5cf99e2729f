//! `recsys doctor`: what this machine has: tch and libtorch, CUDA, threads, which accelerated
//! CPU paths are active, and the shipped data, verified and loaded.

use anyhow::Result;
use serde_json::{json, Value};

use recsys::data::{self, checksum, Dataset};
use recsys::{say, Context};

/// Print the report, and return it for `--json`.
pub fn doctor(ctx: &Context) -> Result<Value> {
    let info = recsys::runtime::device::torch_info();
    say!(ctx, "tch              {}", info.tch_version);
    say!(
        ctx,
        "libtorch         {}",
        info.libtorch_version.as_deref().unwrap_or("unknown")
    );
    say!(
        ctx,
        "libtorch loaded  {}",
        info.libtorch_loaded.as_deref().unwrap_or("unknown")
    );
    say!(ctx, "libtorch built   {}", info.libtorch_build_dir);
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
        json!({ "torch": info, "fast": fast, "adam_cpu_kernel": adam, "adam_check_against_libtorch": adam_check, "rust_dropout_masks": rust_masks, "device": recsys::runtime::device::device_name(ctx.device), "data_files": file_json, "data_ok": ok, "datasets": datasets }),
    )
}
