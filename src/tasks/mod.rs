//! Inference-side plumbing shared by every demo: the compute device chosen
//! once for all tasks ([`device`]) and the worker primitives — named
//! threads, cancellation tokens, throttled progress ([`worker`]). The demo
//! tasks themselves (translate, caption, transcribe) will live beside them.

pub mod caption;
pub mod device;
pub mod gemm;
pub mod generation;
pub mod nn;
pub mod transcribe;
pub mod translate;
pub mod worker;

pub use worker::CancelToken;

/// Keeps freed memory in the process instead of handing it back to the
/// system after every tensor (glibc on Linux; elsewhere nothing): a model's
/// layers allocate and free buffers of a few MB many times a second, and
/// with glibc's defaults each came back as fresh pages the kernel had to
/// zero (a tenth of the vision encoder's time). Buffers up to 32 MB come
/// from the heap, and up to 128 MB freed at its top is kept for the next
/// one. Call once, first thing in `main`.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // glibc's <malloc.h>: M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3.
        unsafe extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: mallopt only changes the allocator's thresholds; it is
        // called before other threads start allocating.
        unsafe {
            mallopt(-3, 32 << 20);
            mallopt(-1, 128 << 20);
        }
    }
}
