//! Datasets on disk: `spaceport dataset rows --json` prints what Python
//! `datasets.load_dataset("parquet", data_files=…)` reads from the same
//! files (text and numbers equal, pictures' and sounds' sha256 equal) for
//! every fixture — speech (WAV and FLAC cells), pictures with lists of
//! captions, ClassLabel and nested lists, a translation export, a split of
//! three shards with 100-row row groups, and a plain pyarrow file — at
//! offsets that cross row groups and shards. `dataset info` gives the
//! configs, splits and column types; a damaged parquet file is a sentence.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn spaceport(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .expect("run spaceport")
}

fn check(dataset: &Path, split: Option<&str>, files: &[&str], offsets: &[u64], limit: usize) {
    let files: Vec<PathBuf> = files.iter().map(|f| dataset.join(f)).collect();
    check_against(dataset, split, &files, offsets, limit);
}

/// As [`check`], the reference given as `datasets_rows.py`'s arguments
/// after OFFSET LIMIT.
fn check_against(
    dataset: &Path,
    split: Option<&str>,
    files: &[PathBuf],
    offsets: &[u64],
    limit: usize,
) {
    for &offset in offsets {
        let mut args = vec![
            "dataset".to_string(),
            "rows".into(),
            dataset.display().to_string(),
            "--offset".into(),
            offset.to_string(),
            "--limit".into(),
            limit.to_string(),
            "--json".into(),
        ];
        if let Some(s) = split {
            args.extend(["--split".into(), s.into()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = spaceport(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours = support::json_lines(&out.stdout);
        let theirs = support::datasets_reference(offset, limit, files);
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{}: row count at offset {offset}",
            dataset.display()
        );
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a, b, "{}: offset {offset}", dataset.display());
        }
    }
}

#[test]
fn rows_equal_what_python_datasets_reads() {
    let root = support::dataset_fixtures();
    check(
        &root.join("speech"),
        None,
        &["data/test-00000-of-00001.parquet"],
        &[0, 4],
        10,
    );
    check(
        &root.join("pictures"),
        None,
        &["data/train-00000-of-00001.parquet"],
        &[0, 5],
        10,
    );
    check(&root.join("plain"), None, &["plain.parquet"], &[0, 2], 10);
    // Scalar columns only, read column by column: pages of 4 kB,
    // dictionaries, nulls, unsigned 32 and 64 bits; pages that start
    // inside a page, a row group, and end at the file's end.
    let open = |p: &str| {
        let path = root.join(p);
        spaceport::datasets::parquet::ParquetFile::open(
            std::fs::File::open(&path).unwrap(),
            &path.display().to_string(),
        )
        .unwrap()
    };
    assert!(open("flat/flat.parquet").columnar());
    assert!(
        !open("plain/plain.parquet").columnar(),
        "lists and structs go by records"
    );
    check(
        &root.join("flat"),
        None,
        &["flat.parquet"],
        &[0, 37, 999, 1990, 2985],
        40,
    );
    check(
        &root.join("translation"),
        Some("train"),
        &["default/train/0000.parquet"],
        &[0, 1],
        10,
    );
    // Three shards of 250 rows in 100-row row groups: pages that start
    // inside a group, cross a group, and cross a shard.
    check(
        &root.join("multishard"),
        None,
        &[
            "default/train/0000.parquet",
            "default/train/0001.parquet",
            "default/train/0002.parquet",
        ],
        &[0, 95, 240, 740],
        30,
    );
}

/// The user's own files: CSV and JSON Lines as `load_dataset("csv")` and
/// `load_dataset("json")` type them; an `audiofolder` with a metadata.csv
/// in each split's folder and an `imagefolder` labelled by sub-folder as
/// `load_dataset("audiofolder"/"imagefolder", data_dir=…)` reads them
/// (each sound's and picture's sha256 that of its file).
#[test]
fn own_files_read_as_python_datasets_reads_them() {
    let root = support::dataset_fixtures();
    let args = |a: &[&str]| -> Vec<PathBuf> { a.iter().map(PathBuf::from).collect() };
    let csv = root.join("text/notes.csv");
    let jsonl = root.join("text/notes.jsonl");
    check_against(
        &csv,
        None,
        &args(&["--builder", "csv", csv.to_str().unwrap()]),
        &[0, 1],
        10,
    );
    check_against(
        &jsonl,
        None,
        &args(&["--builder", "json", jsonl.to_str().unwrap()]),
        &[0],
        10,
    );
    let audio = root.join("audiofolder");
    for split in ["train", "test"] {
        check_against(
            &audio,
            Some(split),
            &args(&["--builder", "audiofolder", audio.to_str().unwrap(), split]),
            &[0, 1],
            10,
        );
    }
    let images = root.join("imagefolder");
    check_against(
        &images,
        None,
        &args(&[
            "--builder",
            "imagefolder",
            images.to_str().unwrap(),
            "train",
        ]),
        &[0, 3],
        10,
    );
    // Their column types as `dataset info` gives them.
    let out = spaceport(&["dataset", "info", audio.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["features"]["audio"], "Audio");
    assert_eq!(info["features"]["transcription"], "string");
    assert_eq!(info["fits"], "Transcribe", "{info}");
    let splits: Vec<&str> = info["configs"][0]["splits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(splits, ["train", "test"]);
    let out = spaceport(&["dataset", "info", images.to_str().unwrap(), "--json"]);
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["features"]["label"], "ClassLabel(names=[cat, dog])");
}

#[test]
fn info_lists_configs_splits_rows_and_column_types() {
    let root = support::dataset_fixtures();
    let out = spaceport(&[
        "dataset",
        "info",
        &root.join("translation").display().to_string(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
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
    assert_eq!(info["configs"][0]["name"], "default");
    assert_eq!(splits, [("train".to_string(), 3), ("test".to_string(), 1)]);
    assert_eq!(
        info["features"]["translation"],
        "Translation(languages=[de, en])"
    );
    assert_eq!(info["fits"], "Translate");

    let out = spaceport(&[
        "dataset",
        "info",
        &root.join("speech").display().to_string(),
        "--json",
    ]);
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["configs"][0]["splits"][0]["name"], "test");
    assert_eq!(info["configs"][0]["splits"][0]["num_rows"], 6);
    assert_eq!(info["features"]["audio"], "Audio(sampling_rate=16000)");
    assert_eq!(
        info["features"]["speaker"],
        "ClassLabel(names=[alice, bob])"
    );
    assert_eq!(info["fits"], "Transcribe");
    assert_eq!(info["fit"], "audio + text → Transcribe");

    let out = spaceport(&[
        "dataset",
        "info",
        &root.join("pictures").display().to_string(),
        "--json",
    ]);
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["features"]["captions"], "List(string)");
    assert_eq!(info["features"]["grid"], "List(List(int32))");
    assert_eq!(info["fits"], "Caption");
}

#[test]
fn damaged_parquet_files_get_a_sentence_not_a_crash() {
    let root = support::dataset_fixtures();
    let good = std::fs::read(root.join("pictures/data/train-00000-of-00001.parquet")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.parquet");
    // Truncations (the footer lost, the data cut) and bit flips across
    // the file, deterministic.
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut damaged = Vec::new();
    for cut in [0, 3, 4, 8, good.len() / 2, good.len() - 9, good.len() - 1] {
        damaged.push(good[..cut].to_vec());
    }
    for _ in 0..40 {
        let mut b = good.clone();
        let at = (next() as usize) % b.len();
        b[at] ^= 1 << (next() % 8);
        damaged.push(b);
    }
    let mut refused = 0;
    for bytes in damaged {
        std::fs::write(&bad, &bytes).unwrap();
        let path = bad.display().to_string();
        for args in [
            vec!["dataset", "rows", path.as_str(), "--json"],
            vec!["dataset", "info", path.as_str()],
        ] {
            let out = spaceport(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!err.contains("panicked"), "{args:?}: {err}");
            match out.status.code() {
                Some(0) => {}
                Some(2) => {
                    refused += 1;
                    assert!(
                        err.starts_with("error: ") && err.contains("bad.parquet"),
                        "{err}"
                    );
                }
                other => panic!("{args:?}: exit {other:?}: {err}"),
            }
        }
    }
    // Every truncation at least is refused, with a sentence.
    assert!(refused >= 14, "only {refused} refusals");
}

#[test]
fn a_rows_sound_decodes_from_memory_as_from_a_file() {
    use spaceport::audio::decode::{decode_bytes, decode_file};
    let local =
        spaceport::datasets::local::LocalDataset::open(&support::dataset_fixtures().join("speech"))
            .unwrap();
    let rows = local
        .split("default", "test")
        .unwrap()
        .rows(0, 2, &spaceport::work::CancelToken::new())
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for row in rows {
        let Some(spaceport::datasets::Value::Media(m)) = row.get("audio") else {
            panic!("row {} has no sound", row.index);
        };
        let (bytes, name) = (m.bytes.clone().unwrap(), m.path.clone().unwrap());
        let file = tmp.path().join(&name);
        std::fs::write(&file, &bytes).unwrap();
        let from_file = decode_file(&file, 16000).unwrap();
        let from_memory = decode_bytes(bytes, &name, 16000).unwrap();
        assert!(
            from_memory.samples.len() > 16000,
            "{name}: about a second or more"
        );
        assert_eq!(from_memory.samples, from_file.samples, "{name}");
    }
    let err = decode_bytes(b"not audio at all".to_vec(), "x.wav", 16000).unwrap_err();
    assert!(err.to_string().contains("x.wav"), "{err}");
}

/// Damaged files of one's own: a CSV with a ragged row, a CSV that is
/// not text, a JSON Lines file with a broken line or a line that is not
/// an object, an audiofolder whose metadata names no files — each a
/// sentence naming the file (exit 2), never a crash.
#[test]
fn damaged_csv_json_and_folders_get_a_sentence() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("ragged.csv", b"a,b\n1,2\n3\n".to_vec(), "line 3"),
        (
            "binary.csv",
            vec![0xff, 0xfe, 0x00, 0x81, b',', 0xc3],
            "not UTF-8",
        ),
        ("broken.jsonl", b"{\"a\": 1}\n{\"a\": \n".to_vec(), "line 2"),
        ("list.jsonl", b"[1, 2]\n".to_vec(), "not an object"),
        ("empty.csv", Vec::new(), "header"),
    ];
    for (name, bytes, expect) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = spaceport(&["dataset", "rows", path.to_str().unwrap(), "--json"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains(name) && err.contains(expect) && !err.contains("panicked"),
            "{name}: {err}"
        );
    }
    // A folder of sounds whose metadata.csv lacks file_name.
    let folder = tmp.path().join("sounds");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("a.wav"), b"RIFF").unwrap();
    std::fs::write(folder.join("metadata.csv"), "name,text\na.wav,hello\n").unwrap();
    let out = spaceport(&["dataset", "rows", folder.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("file_name"), "{err}");
}
