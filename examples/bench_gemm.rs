//! `cargo run --example bench_gemm`: our f32 matrix product
//! (`tasks::gemm`) on the models' encoder shapes, and the few-rows
//! product (`gemm::dots`) on a 20-beam translation batch's shapes, in
//! GFLOP/s (`RAYON_NUM_THREADS` threads).

use std::time::Instant;

use spaceport::tasks::gemm::{PackedB, View, dots, gemm, gemm_packed};

fn main() {
    // `SHAPE=m,n,k`: that shape alone.
    let one: Option<(usize, usize, usize)> = std::env::var("SHAPE").ok().map(|s| {
        let v: Vec<usize> = s.split(',').map(|x| x.trim().parse().unwrap()).collect();
        (v[0], v[1], v[2])
    });
    let shapes = [
        (1500, 1536, 384),
        (1500, 384, 1536),
        (577, 3072, 768),
        (577, 768, 3072),
        (577, 768, 768),
        (20, 2048, 512),
        (20, 512, 2048),
        (20, 58_101, 512),
        (20, 1024, 1024),
        (20, 4096, 1024),
        (20, 1024, 4096),
        (20, 58_101, 1024),
        (8, 1536, 384),
        (8, 384, 1536),
        (8, 51_864, 384),
        (1, 51_864, 384),
        (1, 1536, 384),
        (4, 58_101, 1024),
        (4, 4096, 1024),
        (4, 1024, 4096),
    ];
    for (m, n, k) in one.map_or(shapes.to_vec(), |s| vec![s]) {
        // `DOTS=1`: only the few-rows shapes.
        if std::env::var_os("DOTS").is_some() && m >= 40 {
            continue;
        }
        let w = spaceport::rng::Rng::floats(1, n * k);
        let x = spaceport::rng::Rng::floats(2, m * k);
        let mut out = vec![0f32; m * n];
        // `PACKED=1`: the weight packed once (`gemm_packed`).
        let packed = std::env::var_os("PACKED").map(|_| PackedB::new(&w, n, k).unwrap());
        let mut run = || {
            if let Some(p) = &packed {
                gemm_packed(&x, m, p, None, &mut out);
                std::hint::black_box(&out);
                return;
            }
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
