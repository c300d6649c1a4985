//! `cargo run --release --example bench_int8`: the int8 products
//! (`tasks::int8`) on each kernel this processor runs, against the f32
//! products the models use at float32, on Whisper-tiny shapes: a decoding
//! step's output layer (1 row × 51 864 × 384) and feed-forward layer
//! (1 × 1536 × 384), and the encoder's feed-forward layers over 1500 rows
//! (1500 × 1536 × 384 and 1500 × 384 × 1536); a 20-beam translation
//! batch's feed-forward and output layers on opus-mt-en-de. Threads: rayon's
//! (`RAYON_NUM_THREADS`); `BENCH_KERNEL=Avx2` (a
//! kernel's name) runs only that kernel. Prints milliseconds a product and the ratio.

use std::time::Instant;

use spaceport::tasks::gemm::{View, gemm};
use spaceport::tasks::int8::{Kernel, QuantizedMatrix};

fn time(mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed().as_secs_f64() < 1.0 {
        f();
        n += 1;
    }
    start.elapsed().as_secs_f64() * 1000.0 / n as f64
}

fn main() {
    for (r, n, k) in [
        (1, 51_864, 384),
        (1, 1536, 384),
        (1500, 1536, 384),
        (1500, 384, 1536),
        // A batch of 20 beams (five sentences × 4) on opus-mt-en-de.
        (20, 2048, 512),
        (20, 58_101, 512),
    ] {
        let w = spaceport::rng::Rng::floats(1, n * k);
        let x = spaceport::rng::Rng::floats(2, r * k);
        let mut out = vec![0f32; r * n];
        let f32_ms = time(|| {
            if r == 1 {
                for (o, row) in out.iter_mut().zip(w.chunks_exact(k)) {
                    *o = row.iter().zip(&x).map(|(a, b)| a * b).sum();
                }
            } else {
                gemm(
                    View::rows(&x, r, k),
                    View::transposed(&w, n, k),
                    None,
                    &mut out,
                );
            }
            std::hint::black_box(&out);
        });
        let what = if r == 1 { "f32 loop" } else { "f32 gemm" };
        println!("{r} x {n} x {k}: {what} {f32_ms:.3} ms");
        let q = QuantizedMatrix::quantize(&w, n, k).expect("shape");
        let only = std::env::var("BENCH_KERNEL").ok();
        for kernel in Kernel::available() {
            if only.as_ref().is_some_and(|o| *o != format!("{kernel:?}")) {
                continue;
            }
            let ms = time(|| {
                std::hint::black_box(q.matmul(&x, r, None, kernel));
            });
            println!("  int8 {kernel:?}: {ms:.3} ms ({:.2}x f32)", f32_ms / ms);
        }
    }
}
