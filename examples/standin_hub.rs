//! Serves the test suite's stand-in Hub on loopback — its standard small
//! repos plus `bench/big-model`, whose weights are a generated file of
//! `--mb` megabytes — for benchmarks, screenshots and hand checks. Prints
//! the endpoint and the big file's direct URL, then serves until killed.
//!
//!     cargo run --example standin_hub -- --mb 200

#[path = "../tests/support/mod.rs"]
mod support;

use support::standin_hub::{FileSpec, RepoSpec, StandinHub};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mb: usize = args
        .iter()
        .position(|a| a == "--mb")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    // Incompressible bytes, like real weights.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let data: Vec<u8> = (0..mb * 1_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let config =
        r#"{"model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"]}"#;
    let weights = FileSpec::new("model.safetensors", data, true);
    let sha = weights.sha256();
    let mut repo = RepoSpec::new(
        "bench/big-model",
        vec![
            FileSpec::new("config.json", config, false),
            FileSpec::new("tokenizer.json", "{}", false),
            weights,
        ],
    );
    repo.pipeline_tag = Some("automatic-speech-recognition".into());
    let mut repos = support::standard_repos();
    repos.push(repo);
    let hub = StandinHub::start(repos);
    println!("endpoint {}", hub.url);
    println!("file {}/cdn/{sha}", hub.cdn_url);
    println!("repo bench/big-model");
    loop {
        std::thread::park();
    }
}
