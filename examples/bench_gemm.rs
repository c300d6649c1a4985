//! `cargo run --example bench_gemm`: our f32 matrix product
//! (`tasks::gemm`) on the models' encoder shapes, and the few-rows
//! product (`gemm::dots`) on a 20-beam translation batch's shapes, in
//! GFLOP/s (`RAYON_NUM_THREADS` threads).

use std::time::Instant;

use spaceport::tasks::gemm::{View, dots, gemm};

fn main() {
    for (m, n, k) in [
        (1500, 1536, 384),
        (1500, 384, 1536),
        (577, 3072, 768),
        (577, 768, 3072),
        (577, 768, 768),
        (20, 2048, 512),
        (20, 512, 2048),
        (20, 58_101, 512),
    ] {
        let w = spaceport::rng::Rng::floats(1, n * k);
        let x = spaceport::rng::Rng::floats(2, m * k);
        let mut out = vec![0f32; m * n];
        let mut run = || {
            if m < 40 {
                dots(&x, m, &w, n, k, None, &mut out);
                std::hint::black_box(&out);
                return;
            }
            gemm(
                View::rows(&x, m, k),
                View::transposed(&w, n, k),
                None,
                &mut out,
            );
            std::hint::black_box(&out);
        };
        run();
        let start = Instant::now();
        let mut times = 0;
        while start.elapsed().as_secs_f64() < 1.0 {
            run();
            times += 1;
        }
        let s = start.elapsed().as_secs_f64() / times as f64;
        let flops = 2.0 * (m * n * k) as f64 / s / 1e9;
        println!("{m} x {n} x {k}: {:.2} ms, {flops:.1} GFLOP/s", s * 1000.0);
    }
}
