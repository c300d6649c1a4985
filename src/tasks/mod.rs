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
