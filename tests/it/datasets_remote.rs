//! Datasets read in place from the Hub (the stand-in, serving the dataset
//! fixtures as a parquet export on `refs/convert/parquet` with the
//! `/api/datasets/{id}/parquet` listing, LFS redirects to its "CDN" and
//! byte ranges): `spaceport dataset rows ID --json` equals what Python
//! `datasets` reads from the same files, at offsets across row groups and
//! shards; showing rows 0–99 of a 60 MB shard fetches under 10 % of it;
//! a gated dataset without a token and a missing one get their sentence.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::standin_hub::{Fault, FileSpec, RepoSpec, StandinHub};

/// A dataset repo whose export holds `files` of fixture `dir` (the speech
/// fixture's one file stands as its export's `default/test/0000.parquet`).
fn export(root: &Path, id: &str, dir: &str, files: &[&str]) -> RepoSpec {
    let export = files
        .iter()
        .map(|f| {
            let mut on_disk = root.join(dir).join(f);
            if !on_disk.exists() && dir == "speech" {
                on_disk = root.join("speech/data/test-00000-of-00001.parquet");
            }
            FileSpec::new(f, std::fs::read(on_disk).unwrap(), true)
        })
        .collect();
    RepoSpec::dataset(
        id,
        vec![FileSpec::new("README.md", "# A dataset\n", false)],
        export,
    )
}

fn hub() -> (StandinHub, PathBuf) {
    let root = support::dataset_fixtures().to_path_buf();
    let mut gated = export(
        &root,
        "org/gated",
        "translation",
        &["default/test/0000.parquet"],
    );
    gated.gated = true;
    let hub = StandinHub::start(vec![
        export(
            &root,
            "org/speech",
            "speech",
            &["default/test/0000.parquet"],
        ),
        export(
            &root,
            "org/multishard",
            "multishard",
            &[
                "default/train/0000.parquet",
                "default/train/0001.parquet",
                "default/train/0002.parquet",
            ],
        ),
        export(
            &root,
            "org/translation",
            "translation",
            &["default/train/0000.parquet", "default/test/0000.parquet"],
        ),
        export(&root, "org/big", "big", &["default/train/0000.parquet"]),
        gated,
        // No parquet export: parquet files on main, splits by their names.
        RepoSpec::dataset(
            "org/mainonly",
            vec![
                FileSpec::new("README.md", "# On main\n", false),
                FileSpec::new(
                    "data/test-00000-of-00001.parquet",
                    std::fs::read(root.join("speech/data/test-00000-of-00001.parquet")).unwrap(),
                    true,
                ),
                FileSpec::new(
                    "data/train-00000-of-00001.parquet",
                    std::fs::read(root.join("pictures/data/train-00000-of-00001.parquet")).unwrap(),
                    true,
                ),
            ],
            Vec::new(),
        ),
        RepoSpec::dataset(
            "org/scripted",
            vec![
                FileSpec::new("README.md", "# Scripted\n", false),
                FileSpec::new("scripted.py", "import datasets\n", false),
            ],
            Vec::new(),
        ),
    ]);
    (hub, root)
}

/// Spaceport offline over `cache`, no Hub reachable.
fn offline_spaceport(cache: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args(args)
        .env("HF_ENDPOINT", "http://127.0.0.1:9")
        .env("HF_HUB_CACHE", cache)
        .env("HF_HOME", cache.join("home"))
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .expect("run spaceport")
}

fn spaceport(hub: &StandinHub, cache: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args(args)
        .env("HF_ENDPOINT", &hub.url)
        .env("HF_HUB_CACHE", cache)
        .env("HF_HOME", cache.join("home"))
        .env_remove("HF_TOKEN")
        .env_remove("HF_HUB_OFFLINE")
        .output()
        .expect("run spaceport")
}

#[test]
fn remote_rows_equal_what_python_datasets_reads() {
    let (hub, root) = hub();
    let cache = tempfile::tempdir().unwrap();
    for (id, dir, split, files, offsets, limit) in [
        (
            "org/speech",
            "speech",
            "test",
            vec!["default/test/0000.parquet"],
            vec![0u64, 2],
            10usize,
        ),
        (
            "org/multishard",
            "multishard",
            "train",
            vec![
                "default/train/0000.parquet",
                "default/train/0001.parquet",
                "default/train/0002.parquet",
            ],
            vec![0, 95, 240],
            30,
        ),
        (
            "org/translation",
            "translation",
            "test",
            vec!["default/test/0000.parquet"],
            vec![0],
            10,
        ),
    ] {
        let files: Vec<PathBuf> = if dir == "speech" {
            vec![root.join("speech/data/test-00000-of-00001.parquet")]
        } else {
            files.iter().map(|f| root.join(dir).join(f)).collect()
        };
        for offset in offsets {
            let out = spaceport(
                &hub,
                cache.path(),
                &[
                    "dataset",
                    "rows",
                    id,
                    "--split",
                    split,
                    "--offset",
                    &offset.to_string(),
                    "--limit",
                    &limit.to_string(),
                    "--json",
                ],
            );
            assert!(
                out.status.success(),
                "{id}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                support::json_lines(&out.stdout),
                support::datasets_reference(offset, limit, &files),
                "{id} at {offset}"
            );
        }
    }
    // Nothing was downloaded into the cache: the rows were read in place.
    assert!(
        !cache.path().join("datasets--org--speech").exists(),
        "reading rows downloaded the dataset"
    );

    let out = spaceport(
        &hub,
        cache.path(),
        &["dataset", "info", "org/translation", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["id"], "org/translation");
    assert_eq!(info["configs"][0]["splits"][0]["name"], "train");
    assert_eq!(info["configs"][0]["splits"][0]["num_rows"], 3);
    assert_eq!(info["configs"][0]["splits"][1]["num_rows"], 1);
    assert_eq!(info["fits"], "Translate");
}

#[test]
fn the_first_page_of_a_large_shard_reads_a_small_part_of_it() {
    let (hub, root) = hub();
    let cache = tempfile::tempdir().unwrap();
    let file = root.join("big/default/train/0000.parquet");
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size >= 50_000_000, "the big fixture is {size} bytes");
    let out = spaceport(
        &hub,
        cache.path(),
        &["dataset", "rows", "org/big", "--limit", "100", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = support::json_lines(&out.stdout);
    assert_eq!(rows.len(), 100);
    assert_eq!(rows, support::datasets_reference(0, 100, &[file]));
    let served = hub.served("org/big", "default/train/0000.parquet");
    eprintln!(
        "rows 0-99 of a {size}-byte shard: {served} bytes served ({:.1} %)",
        100.0 * served as f64 / size as f64
    );
    assert!(
        served > 0 && served * 10 < size,
        "{served} of {size} bytes served"
    );
}

/// A connection cut while a page is read: the range is fetched again and
/// the rows are right; a connection that keeps being cut is a sentence
/// (exit 5, the Hub unreachable), not a crash or wrong rows.
#[test]
fn a_cut_connection_mid_page_is_retried_or_said() {
    let (hub, root) = hub();
    let cache = tempfile::tempdir().unwrap();
    let file = root.join("big/default/train/0000.parquet");
    let args = [
        "dataset", "rows", "org/big", "--offset", "150", "--limit", "20", "--json",
    ];
    hub.inject("org/big", "default/train/0000.parquet", Fault::CutAfter(0));
    hub.inject(
        "org/big",
        "default/train/0000.parquet",
        Fault::CutAfter(5_000_000),
    );
    let out = spaceport(&hub, cache.path(), &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        support::json_lines(&out.stdout),
        support::datasets_reference(150, 20, &[file])
    );
    hub.clear_faults();
    for _ in 0..12 {
        hub.inject("org/big", "default/train/0000.parquet", Fault::CutAfter(0));
    }
    let out = spaceport(&hub, cache.path(), &args);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{said}"); // the Hub unreachable
    assert!(!said.contains("panicked") && said.len() < 600, "{said}");
    assert!(out.stdout.is_empty(), "no rows printed from a failed read");
}

#[test]
fn gated_and_missing_datasets_are_said_in_words() {
    let (hub, _) = hub();
    let cache = tempfile::tempdir().unwrap();
    let out = spaceport(
        &hub,
        cache.path(),
        &["dataset", "rows", "org/gated", "--json"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("org/gated"),
        "{err}"
    );
    let out = spaceport(
        &hub,
        cache.path(),
        &["dataset", "rows", "org/nothing", "--json"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("org/nothing"), "{err}");
}

#[test]
fn search_finds_datasets_and_says_which_demo_they_fit() {
    let (hub, root) = hub();
    let mut repos = Vec::new();
    let mut speech = export(
        &root,
        "org/speech",
        "speech",
        &["default/test/0000.parquet"],
    );
    speech.tags = vec![
        "task_categories:automatic-speech-recognition".into(),
        "modality:audio".into(),
    ];
    speech.downloads = 900;
    speech.card_data = Some(serde_json::json!({"dataset_info": {"features": [
        {"name": "audio", "dtype": {"audio": {"sampling_rate": 16000}}},
        {"name": "text", "dtype": "string"}
    ]}}));
    repos.push(speech);
    let mut pairs = export(
        &root,
        "org/translation",
        "translation",
        &["default/test/0000.parquet"],
    );
    pairs.tags = vec!["task_categories:translation".into(), "modality:text".into()];
    pairs.downloads = 500;
    pairs.gated = true;
    repos.push(pairs);
    let mut script = RepoSpec::dataset(
        "org/scripted",
        vec![
            FileSpec::new("README.md", "# old\n", false),
            FileSpec::new("scripted.py", "import datasets\n", false),
        ],
        Vec::new(),
    );
    script.downloads = 100;
    repos.push(script);
    hub.set_repos(repos);
    let cache = tempfile::tempdir().unwrap();

    let out = spaceport(&hub, cache.path(), &["dataset", "search", "org", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = list.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["org/speech", "org/translation", "org/scripted"]);
    assert_eq!(list[0]["fits"], "Transcribe");
    assert_eq!(list[0]["fit"], "audio + text → Transcribe");
    assert_eq!(list[0]["downloads"], 900);
    assert_eq!(list[1]["fits"], "Translate");
    assert_eq!(list[1]["gated"], true);
    assert_eq!(list[2]["fits"], Value::Null);
    assert_eq!(
        list[2]["fit"],
        "a loading script; Spaceport reads data files only"
    );

    let out = spaceport(
        &hub,
        cache.path(),
        &["dataset", "search", "", "--task", "translation", "--json"],
    );
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], "org/translation");
    let out = spaceport(
        &hub,
        cache.path(),
        &["dataset", "search", "", "--modality", "audio", "--json"],
    );
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], "org/speech");
}

#[test]
fn downloads_share_the_cache_with_python_both_ways() {
    let (hub, root) = hub();
    let cache = tempfile::tempdir().unwrap();
    // Spaceport downloads one split of the export…
    let out = spaceport(
        &hub,
        cache.path(),
        &[
            "dataset",
            "download",
            "org/translation",
            "--split",
            "test",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["repo"], "org/translation");
    assert_eq!(got["revision"], "refs/convert/parquet");
    let files: Vec<&str> = got["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with("default/test/0000.parquet"), "{files:?}");
    let want = std::fs::read(root.join("translation/default/test/0000.parquet")).unwrap();
    assert_eq!(std::fs::read(files[0]).unwrap(), want);
    // …Python finds it without the network…
    let found = support::run_python(
        "from huggingface_hub import hf_hub_download\n\
         print(hf_hub_download('org/translation', 'default/test/0000.parquet', repo_type='dataset', \
         revision='refs/convert/parquet', local_files_only=True))",
        &hub.url,
        cache.path(),
    );
    assert_eq!(std::fs::read(found.trim()).unwrap(), want);
    // …and Spaceport reads its rows offline.
    let offline = offline_spaceport(
        cache.path(),
        &["dataset", "rows", "org/translation", "--json"],
    );
    assert!(
        offline.status.success(),
        "{}",
        String::from_utf8_lossy(&offline.stderr)
    );
    assert_eq!(
        support::json_lines(&offline.stdout),
        support::datasets_reference(
            0,
            100,
            &[root.join("translation/default/test/0000.parquet")]
        )
    );

    // Python downloads the three shards of another export; Spaceport lists
    // and reads them offline.
    support::run_python(
        "from huggingface_hub import hf_hub_download\n\
         for n in range(3):\n\
         \x20   hf_hub_download('org/multishard', f'default/train/{n:04d}.parquet', repo_type='dataset', \
         revision='refs/convert/parquet')",
        &hub.url,
        cache.path(),
    );
    let info = offline_spaceport(
        cache.path(),
        &["dataset", "info", "org/multishard", "--json"],
    );
    assert!(
        info.status.success(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let info: Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["id"], "org/multishard");
    assert_eq!(info["configs"][0]["splits"][0]["num_rows"], 750);
}

/// A dataset without a parquet export is read from its parquet files on
/// main (splits named as datasets names them), as Python reads those same
/// files; "Download split" fetches them into the cache at `main`, where
/// Spaceport opens them offline. A script-only dataset says why it can't.
#[test]
fn datasets_without_an_export_read_their_parquet_on_main() {
    let (hub, root) = hub();
    let cache = tempfile::tempdir().unwrap();
    let out = spaceport(
        &hub,
        cache.path(),
        &["dataset", "info", "org/mainonly", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let splits: Vec<(String, u64)> = info["configs"][0]["splits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["num_rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(splits, [("train".to_string(), 7), ("test".to_string(), 6)]);
    let out = spaceport(
        &hub,
        cache.path(),
        &[
            "dataset",
            "rows",
            "org/mainonly",
            "--split",
            "test",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        support::json_lines(&out.stdout),
        support::datasets_reference(
            0,
            100,
            &[root.join("speech/data/test-00000-of-00001.parquet")]
        )
    );
    let out = spaceport(
        &hub,
        cache.path(),
        &[
            "dataset",
            "download",
            "org/mainonly",
            "--split",
            "test",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["revision"], "main");
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{report}");
    assert!(
        files[0]
            .as_str()
            .unwrap()
            .ends_with("data/test-00000-of-00001.parquet")
    );
    let out = offline_spaceport(
        cache.path(),
        &[
            "dataset",
            "rows",
            "org/mainonly",
            "--split",
            "test",
            "--limit",
            "2",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(support::json_lines(&out.stdout).len(), 2);

    let out = spaceport(&hub, cache.path(), &["dataset", "info", "org/scripted"]);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("loading script"), "{said}");
}
