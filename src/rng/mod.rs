//! Draws from libtorch's own CPU random stream, made in Rust.
//!
//! libtorch's CPU generator (what `tch::manual_seed` and `torch.manual_seed` seed) is a
//! Mersenne Twister. Some of its kernels draw one element at a time through it, which is slow:
//! `bernoulli_`, behind every CPU dropout mask, takes about 5 ns an element (28% of a notebook
//! 004 training step). [`with_default_cpu_mt`] hands the generator's state to Rust under the
//! generator's lock and stores it back afterwards, so Rust can make the very same draws faster
//! and leave the stream exactly where libtorch's kernel would have left it: every later draw,
//! in Rust or in PyTorch with the same seed, is unchanged.
//!
//! - [`Mt19937`]: the engine, word for word `at::mt19937` (also behind [`pyrandom`]).
//! - [`numpy`]: numpy's legacy `RandomState` (Surprise's folds and draws) on the same engine.
//! - [`dropout`]: `Tensor::dropout` with its mask drawn that way, bit for bit libtorch's.
//!
//! The bridge to libtorch's generator ([`with_default_cpu_mt`], a small C++ file) and the masks
//! drawn in Rust come with the cargo feature `fast`; without it, [`dropout`] is libtorch's.

#[cfg(feature = "fast")]
mod dropout;
// Without `fast`, parts of the engine serve only the bridge.
#[cfg_attr(not(feature = "fast"), allow(dead_code))]
mod mt19937;
pub mod numpy;
pub mod pyrandom;

#[cfg(feature = "fast")]
pub use dropout::{dropout, rust_masks_match_libtorch};
pub use mt19937::Mt19937;

#[cfg(feature = "fast")]
pub use bridge::with_default_cpu_mt;

/// `input.dropout(p, train)`: libtorch's own (built without feature `fast`).
#[cfg(not(feature = "fast"))]
pub fn dropout(input: &tch::Tensor, p: f64, train: bool) -> tch::Tensor {
    input.dropout(p, train)
}

/// Whether dropout masks are drawn in Rust: never without feature `fast`.
#[cfg(not(feature = "fast"))]
pub fn rust_masks_match_libtorch() -> bool {
    false
}

/// The bridge to libtorch's default CPU generator (`cpu_generator.cpp`).
#[cfg(feature = "fast")]
mod bridge {
    use super::{mt19937, Mt19937};
    use anyhow::{bail, Result};
    use std::ffi::c_void;

    /// Plain-C copy of `at::mt19937_data_pod` (filled field by field by the C++ bridge).
    #[repr(C)]
    struct RawMt19937 {
        seed: u64,
        left: i32,
        seeded: u8,
        next: u32,
        state: [u32; mt19937::STATE_WORDS],
    }

    extern "C" {
        fn recsys_with_default_cpu_mt(
            callback: extern "C" fn(*mut c_void, *mut RawMt19937),
            ctx: *mut c_void,
        ) -> i32;
    }

    /// Runs `f` on the state of libtorch's default CPU generator, holding the generator's lock, and
    /// stores the advanced state back. Fails when the C++ side raised, or when the state is not
    /// one the engine can continue from (then nothing is changed and `f` is not called).
    pub fn with_default_cpu_mt<T, F: FnOnce(&mut Mt19937) -> T>(f: F) -> Result<T> {
        struct Call<F, T> {
            f: Option<F>,
            out: Option<std::thread::Result<T>>,
            invalid: bool,
        }
        extern "C" fn trampoline<F: FnOnce(&mut Mt19937) -> T, T>(
            ctx: *mut c_void,
            raw: *mut RawMt19937,
        ) {
            // SAFETY: `ctx` is the `Call` below and `raw` the bridge's live copy; both outlive this
            // call, and nothing else touches them while it runs.
            let (call, raw) = unsafe { (&mut *(ctx as *mut Call<F, T>), &mut *raw) };
            let Some(mut mt) =
                Mt19937::from_parts(raw.seed, raw.left, raw.seeded != 0, raw.next, raw.state)
            else {
                call.invalid = true;
                return;
            };
            let f = call.f.take().expect("called once");
            // A panic must not unwind into C++: catch it here (the state is then left as it was)
            // and resume it on the Rust side.
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut mt)));
            if out.is_ok() {
                raw.left = mt.left();
                raw.next = mt.next();
                raw.state = *mt.state();
            }
            call.out = Some(out);
        }
        let mut call = Call {
            f: Some(f),
            out: None,
            invalid: false,
        };
        // SAFETY: the bridge calls `trampoline` at most once, synchronously, with `&mut call`.
        let rc = unsafe {
            recsys_with_default_cpu_mt(
                trampoline::<F, T>,
                &mut call as *mut Call<F, T> as *mut c_void,
            )
        };
        if rc != 0 {
            bail!("libtorch's CPU generator could not be read");
        }
        if call.invalid {
            bail!(
                "libtorch's CPU generator holds a state the Mersenne Twister cannot continue from"
            );
        }
        match call.out {
            Some(Ok(out)) => Ok(out),
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => bail!("libtorch's CPU generator: no draw was made"),
        }
    }
}
