//! Serves the test suite's stand-in Hub on loopback — its standard small
//! repos plus `bench/big-model`, whose weights are a generated file of
//! `--mb` megabytes — for benchmarks, screenshots and hand checks. Prints
//! the endpoint and the big file's direct URL, then serves until killed.
//! With `--dataset FILE`, also `bench/dataset`, whose parquet export's
//! one shard (`default/train/0000.parquet`) is FILE. With `--photos FILE`,
//! also `spaceport/photo-captions` (FILE as its export, a card with a
//! licence) and a few datasets known by their tags only, for a search.
//!
//!     cargo run --example standin_hub -- --mb 200 [--dataset shard.parquet] [--photos photos.parquet]

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
    if let Some(file) = args
        .iter()
        .position(|a| a == "--photos")
        .and_then(|i| args.get(i + 1))
    {
        use support::standin_hub::{FileSpec, RepoSpec};
        let bytes = std::fs::read(file).expect("read the --photos file");
        let mut photos = RepoSpec::dataset(
            "spaceport/photo-captions",
            vec![FileSpec::new(
                "README.md",
                "---\nlicense: cc-by-4.0\ntask_categories:\n- image-to-text\n---\n# Photo captions\n\nFive photographs, each with a caption written by hand.\n",
                false,
            )],
            vec![FileSpec::new("default/test/0000.parquet", bytes, true)],
        );
        photos.tags = vec![
            "task_categories:image-to-text".into(),
            "modality:image".into(),
            "license:cc-by-4.0".into(),
        ];
        photos.downloads = 1_240;
        photos.likes = 31;
        repos.push(photos);
        // Known by their tags; a data file of some size (not readable
        // data: these are for the search's looks).
        for (id, tags, downloads, likes, script, mb) in [
            (
                "speechlab/read-aloud-en",
                vec![
                    "task_categories:automatic-speech-recognition",
                    "modality:audio",
                    "modality:text",
                ],
                88_410,
                212,
                false,
                11,
            ),
            (
                "wmt-demo/news-de-en",
                vec!["task_categories:translation", "modality:text"],
                45_002,
                96,
                false,
                3,
            ),
            (
                "archive/old-corpus",
                vec!["modality:text"],
                3_100,
                4,
                true,
                1,
            ),
            (
                "gallery/street-scenes",
                vec!["task_categories:image-to-text", "modality:image"],
                12_930,
                57,
                false,
                7,
            ),
        ] {
            let mut files = vec![FileSpec::new("data/blob.bin", vec![0u8; mb << 20], true)];
            if script {
                files.push(FileSpec::new("old-corpus.py", "import datasets\n", false));
            }
            let mut r = RepoSpec::dataset(id, files, Vec::new());
            r.tags = tags.into_iter().map(String::from).collect();
            r.downloads = downloads;
            r.likes = likes;
            repos.push(r);
        }
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
