//! The models and what they do: the demo tasks ([`translate`], [`caption`],
//! [`transcribe`]; [`captions`]: live speech translated as it is spoken),
//! the blocks they share ([`nn`], [`gemm`],
//! [`generation`]; [`int8`] and [`f16`]: weights kept in int8 or f16 and
//! the products over them, for the `int8` and `float16` compute types;
//! [`amx`]: Intel's tile instructions under the int8 products; [`onnx`]:
//! the weights of an ONNX file, for networks built here),
//! the compute device and number format chosen once for all of them
//! ([`device`]), the one error every task reports ([`TaskError`]), and the
//! process settings that keep tensor buffers in the process and one pool
//! of worker threads ([`tune_runtime`]). Cancellation and named threads come from
//! [`crate::work`], below this layer.

pub mod amx;
pub mod caption;
pub mod captions;
pub mod device;
pub mod error;
pub mod f16;
pub mod gemm;
pub mod generation;
pub mod int8;
pub mod nn;
pub mod onnx;
pub mod random_model;
pub mod transcribe;
pub mod translate;

pub use error::TaskError;

/// Settings for the whole process, made once, first thing in `main`
/// (before any other thread starts):
///
/// - Freed memory stays in the process instead of going back to the
///   system after every tensor (glibc on Linux; elsewhere nothing): a
///   model's layers allocate and free buffers of a few MB many times a
///   second, and with glibc's defaults each came back as fresh pages the
///   kernel had to zero (a tenth of the vision encoder's time). Buffers up
///   to 32 MB come from the heap, and up to 128 MB freed at its top is
///   kept for the next one.
/// - candle's element-wise operations run on the calling thread
///   (`CANDLE_NUM_THREADS=1` unless set): candle keeps a second pool of
///   spinning workers beside rayon's, where our products run, and the two
///   took the same cores from each other — a fifth of a batched beam
///   search's time went to switching threads (opus-mt-big int8, five
///   sentences at once: 163–173 → 194–198 tokens/s).
pub fn tune_runtime() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // SAFETY: called first thing in `main`, before other threads
        // exist to read the environment.
        unsafe { std::env::set_var("CANDLE_NUM_THREADS", "1") };
    }
    tune_allocator();
}

fn tune_allocator() {
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
