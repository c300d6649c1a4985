//! `cargo run --release --example bench_int8`: the int8 matrix-vector
//! product (`tasks::int8`) on a Whisper-tiny decoder's output-layer shape
//! (51 864 × 384) and a feed-forward shape (1536 × 384), on each kernel this
//! processor runs, against a plain f32 loop of the same shape (not yet the
//! tuned f32 product the models use: that comparison comes with issue 15's
//! model wiring). One thread. Prints milliseconds a product and the ratio.

use std::time::Instant;

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
    for (rows, cols) in [(51_864, 384), (1536, 384)] {
        let mut s = 1u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        };
        let w: Vec<f32> = (0..rows * cols).map(|_| next()).collect();
        let x: Vec<f32> = (0..cols).map(|_| next()).collect();
        let f32_ms = time(|| {
            let y: Vec<f32> = w
                .chunks_exact(cols)
                .map(|r| r.iter().zip(&x).map(|(a, b)| a * b).sum())
                .collect();
            std::hint::black_box(y);
        });
        println!("{rows} x {cols}: f32 {f32_ms:.3} ms");
        let q = QuantizedMatrix::quantize(&w, rows, cols).expect("shape");
        for k in Kernel::available() {
            let ms = time(|| {
                std::hint::black_box(q.matvec(&x, k));
            });
            println!("  int8 {k:?}: {ms:.3} ms ({:.2}x f32)", f32_ms / ms);
        }
    }
}
