//! Serves the test suite's stand-in Hub on loopback — its standard small
//! repos plus `bench/big-model`, whose weights are a generated file of
//! `--mb` megabytes — for benchmarks, screenshots and hand checks. Prints
//! the endpoint and the big file's direct URL, then serves until killed.
//!
//!     cargo run --example standin_hub -- --mb 200

#[path = "../tests/it/support/mod.rs"]
mod support;

use support::standin_hub::StandinHub;

fn main() {
    let mb = support::arg_mb(200);
    let big = support::big_repo(mb);
    let sha = big
        .files
        .iter()
        .find(|f| f.path == "model.safetensors")
        .map(|f| f.sha256())
        .unwrap_or_default();
    let mut repos = support::standard_repos();
    repos.push(big);
    let hub = StandinHub::start(repos);
    println!("endpoint {}", hub.url);
    println!("file {}/cdn/{sha}", hub.cdn_url);
    println!("repo bench/big-model");
    loop {
        std::thread::park();
    }
}
