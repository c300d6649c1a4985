//! The models and what they do: the demo tasks ([`translate`], [`caption`],
//! [`transcribe`]; [`captions`]: live speech translated as it is spoken),
//! the blocks they share ([`nn`], [`gemm`],
//! [`generation`]; [`int8`] and [`f16`]: weights kept in int8 or f16 and
//! the products over them, for the `int8` and `float16` compute types;
//! [`amx`]: Intel's tile instructions under the int8 products; [`onnx`]:
//! the weights of an ONNX file, for networks built here),
//! the compute device and number format chosen once for all of them
//! ([`device`]), the one error every task reports ([`TaskError`]), and the
//! allocator setting that keeps tensor buffers in the process
//! ([`tune_allocator`]). Cancellation and named threads come from
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
