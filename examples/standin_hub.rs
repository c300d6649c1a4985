//! Serves the test suite's stand-in Hub on loopback — its standard small
//! repos plus `bench/big-model`, whose weights are a generated file of
//! `--mb` megabytes — for benchmarks, screenshots and hand checks. Prints
//! the endpoint and the big file's direct URL, then serves until killed.
//! With `--dataset FILE`, also `bench/dataset`, whose parquet export's
//! one shard (`default/train/0000.parquet`) is FILE.
//!
//!     cargo run --example standin_hub -- --mb 200 [--dataset shard.parquet]

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
    let mut dataset_sha = None;
    repos.push(big);
    let args: Vec<String> = std::env::args().collect();
    if let Some(file) = args
        .iter()
        .position(|a| a == "--dataset")
        .and_then(|i| args.get(i + 1))
    {
        let bytes = std::fs::read(file).expect("read the --dataset file");
        let shard = support::standin_hub::FileSpec::new("default/train/0000.parquet", bytes, true);
        dataset_sha = Some(shard.sha256());
        repos.push(support::standin_hub::RepoSpec::dataset(
            "bench/dataset",
            Vec::new(),
            vec![shard],
        ));
    }
    let hub = StandinHub::start(repos);
    println!("endpoint {}", hub.url);
    println!("file {}/cdn/{sha}", hub.cdn_url);
    if let Some(sha) = dataset_sha {
        println!("dataset_file {}/cdn/{sha}", hub.cdn_url);
        println!("dataset bench/dataset");
    }
    println!("repo bench/big-model");
    loop {
        std::thread::park();
    }
}
