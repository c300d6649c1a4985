//! The spaceport side of bench/caption.sh: each picture opened and
//! prepared, encoded, and exactly NEW_TOKENS greedy tokens decoded (no
//! stop at the sep token, as the peer's min_new_tokens) in the compute
//! type asked for; prints the median latency, the load time and the
//! process's peak memory.
//!   bench_caption MODEL_DIR NEW_TOKENS COMPUTE_TYPE PICTURE...

use std::time::Instant;

use candle_core::{Device, Tensor};
use spaceport::tasks::caption::Captioner;
use spaceport::tasks::caption::image::open;
use spaceport::tasks::device::ComputeType;
use spaceport::tasks::nn::Placement;

fn main() {
    spaceport::tasks::tune_runtime();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model, rest) = args
        .split_first()
        .expect("bench_caption MODEL_DIR NEW_TOKENS PICTURE...");
    let [n, compute, pictures @ ..] = rest else {
        panic!("bench_caption MODEL_DIR NEW_TOKENS COMPUTE_TYPE PICTURE...")
    };
    let n: usize = n.parse().expect("NEW_TOKENS");
    let compute: ComputeType = compute.parse().expect("COMPUTE_TYPE");
    let memory = spaceport::evaluate::record::MemoryWatch::start();
    let place = Placement {
        compute,
        ..Placement::new(&Device::Cpu)
    };
    let loading = Instant::now();
    let c = Captioner::load_placed(std::path::Path::new(model), &place).expect("model loads");
    let load = loading.elapsed().as_secs_f64();
    let bos = c.model.config.text_config.bos_token_id;
    let once = |path: &str| -> f64 {
        let start = Instant::now();
        let img = open(std::path::Path::new(path)).expect("picture");
        let embeds = c.model.encode_image(&c.pixels(&img).unwrap()).unwrap();
        let mut state = c.model.start(&embeds, 1).unwrap();
        let mut next = bos;
        for _ in 0..n {
            let t = Tensor::from_slice(&[next], (1, 1), &Device::Cpu).unwrap();
            let row: Vec<f32> = c
                .model
                .decode(&t, &mut state)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            next = spaceport::tasks::nn::argmax(&row) as u32;
        }
        start.elapsed().as_secs_f64()
    };
    once(&pictures[0]); // warm-up
    let mut times: Vec<f64> = pictures.iter().flat_map(|p| [once(p), once(p)]).collect();
    times.sort_by(f64::total_cmp);
    let peak = memory.finish().0.unwrap_or(0) as f64 / 1e6;
    println!(
        "spaceport-{compute} {:.0} ms per picture, load {load:.2} s, peak {peak:.0} MB, {:?} weights",
        times[times.len() / 2] * 1000.0,
        c.model.weight_format()
    );
}
