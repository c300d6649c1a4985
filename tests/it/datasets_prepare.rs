//! Preparing and exporting a split (`spaceport dataset export`): every
//! fixture written to parquet reads back in Python `datasets` as the same
//! rows with the same features (Audio, Image, ClassLabel, Translation,
//! nested lists); filter, shuffle, take and a train/test split choose the
//! rows `datasets` would (checked on the rows, not on a count alone); CSV
//! and JSON Lines exports read back as what was exported; a failed export
//! leaves nothing behind.

use crate::support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn spaceport(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .expect("run spaceport")
}

fn ok(out: std::process::Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn rows(dataset: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "dataset",
        "rows",
        dataset.to_str().unwrap(),
        "--json",
        "--limit",
        "100000",
    ];
    args.extend(extra);
    support::json_lines(&ok(spaceport(&args)))
}

/// The features Python `datasets` reads from a parquet file, by column.
fn python_features(file: &Path) -> Value {
    let script = format!(
        "import json, datasets\n\
         datasets.disable_progress_bars()\n\
         ds = datasets.load_dataset('parquet', data_files={:?}, split='train')\n\
         print(json.dumps({{k: type(v).__name__ + ('' if not hasattr(v, 'names') else str(v.names)) for k, v in ds.features.items()}}))",
        file.display().to_string()
    );
    support::python_json(&["-c", &script])
}

#[test]
fn parquet_exports_read_back_in_python_with_their_features() {
    let root = support::dataset_fixtures();
    let out = tempfile::tempdir().unwrap();
    for (fixture, extra) in [
        ("speech", &[][..]),
        ("pictures", &[]),
        ("translation", &["--split", "train"]),
        ("multishard", &[]),
        ("plain", &[]),
        ("audiofolder", &["--split", "test"]),
        ("imagefolder", &[]),
        ("text/notes.csv", &[]),
    ] {
        let source = root.join(fixture);
        let to = out
            .path()
            .join(format!("{}.parquet", fixture.replace('/', "_")));
        let mut args = vec![
            "dataset",
            "export",
            source.to_str().unwrap(),
            "--to",
            to.to_str().unwrap(),
            "--json",
        ];
        args.extend(extra);
        let report: Value = serde_json::from_slice(&ok(spaceport(&args))).unwrap();
        let ours = rows(&source, extra);
        assert_eq!(report["files"][0]["rows"], ours.len(), "{fixture}");
        let theirs = support::datasets_reference(0, 100_000, std::slice::from_ref(&to));
        assert_eq!(ours, theirs, "{fixture}: the export read back by datasets");
        let features = python_features(&to);
        match fixture {
            "speech" | "audiofolder" => assert_eq!(features["audio"], "Audio", "{features}"),
            "pictures" => {
                assert_eq!(features["image"], "Image");
                assert_eq!(features["label"], "ClassLabel['red', 'green', 'blue']");
                assert_eq!(features["captions"], "List");
            }
            "imagefolder" => assert_eq!(features["label"], "ClassLabel['cat', 'dog']"),
            "translation" => assert_eq!(features["translation"], "Translation"),
            _ => {}
        }
    }
}

#[test]
fn filter_shuffle_take_and_split_choose_the_rows() {
    let root = support::dataset_fixtures();
    let source = root.join("multishard");
    let all = rows(&source, &[]);
    // What the filter keeps, decided here from the rows themselves.
    let wanted: BTreeSet<i64> = all
        .iter()
        .filter(|r| {
            r["row"]["text"].as_str().unwrap().contains('ü')
                && r["row"]["n"].as_i64().unwrap() >= 100
        })
        .map(|r| r["row"]["n"].as_i64().unwrap())
        .collect();
    assert!(wanted.len() > 100);
    let out = tempfile::tempdir().unwrap();
    let export = |seed: &str, name: &str| -> (Vec<i64>, Vec<i64>) {
        let to = out.path().join(name);
        // Two conditions: the filter's pass, then a filter on its output.
        let first = out.path().join(format!("first-{name}"));
        ok(spaceport(&[
            "dataset",
            "export",
            source.to_str().unwrap(),
            "--filter",
            "n >= 100",
            "--to",
            first.to_str().unwrap(),
        ]));
        ok(spaceport(&[
            "dataset",
            "export",
            first.to_str().unwrap(),
            "--filter",
            "text contains Ü",
            "--shuffle",
            seed,
            "--take",
            "50",
            "--test-size",
            "0.2",
            "--to",
            to.to_str().unwrap(),
        ]));
        let ns = |part: &str| -> Vec<i64> {
            let p = spaceport::datasets::prepare::part_path(&to, part);
            rows(&p, &[])
                .iter()
                .map(|r| r["row"]["n"].as_i64().unwrap())
                .collect()
        };
        (ns("train"), ns("test"))
    };
    let (train, test) = export("3", "a.parquet");
    assert_eq!((train.len(), test.len()), (40, 10));
    let chosen: BTreeSet<i64> = train.iter().chain(&test).copied().collect();
    assert_eq!(chosen.len(), 50, "no row twice");
    assert!(chosen.is_subset(&wanted), "only rows the filter keeps");
    let mut sorted = train.clone();
    sorted.sort();
    assert_ne!(train, sorted, "shuffled");
    // The same seed chooses the same rows in the same order; another does not.
    assert_eq!(export("3", "b.parquet"), (train.clone(), test.clone()));
    assert_ne!(export("4", "c.parquet").0, train);
}

#[test]
fn csv_and_json_lines_exports_read_back_as_exported() {
    let root = support::dataset_fixtures();
    let out = tempfile::tempdir().unwrap();
    for fixture in ["text/notes.csv", "text/notes.jsonl"] {
        let source = root.join(fixture);
        let ext = if fixture.ends_with("csv") {
            "csv"
        } else {
            "jsonl"
        };
        let to = out.path().join(format!("back.{ext}"));
        ok(spaceport(&[
            "dataset",
            "export",
            source.to_str().unwrap(),
            "--to",
            to.to_str().unwrap(),
        ]));
        assert_eq!(rows(&to, &[]), rows(&source, &[]), "{fixture}");
        // And Python reads the export as it reads the source.
        let builder = if ext == "csv" { "csv" } else { "json" };
        let args: Vec<std::path::PathBuf> = ["--builder", builder, to.to_str().unwrap()]
            .iter()
            .map(Into::into)
            .collect();
        assert_eq!(
            support::datasets_reference(0, 100, &args),
            rows(&source, &[]),
            "{fixture}: read by datasets"
        );
    }
    // Sounds become files beside a CSV export, named by relative path.
    let to = out.path().join("speech.csv");
    ok(spaceport(&[
        "dataset",
        "export",
        root.join("speech").to_str().unwrap(),
        "--to",
        to.to_str().unwrap(),
    ]));
    let exported = rows(&to, &[]);
    let original = rows(&root.join("speech"), &[]);
    for (e, o) in exported.iter().zip(&original) {
        let file = out.path().join(e["row"]["audio"].as_str().unwrap());
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(
            bytes.len() as u64,
            o["row"]["audio"]["bytes"].as_u64().unwrap()
        );
        assert_eq!(e["row"]["text"], o["row"]["text"]);
    }
}

#[test]
fn a_failed_export_says_why_and_leaves_nothing() {
    let root = support::dataset_fixtures();
    let out = tempfile::tempdir().unwrap();
    let source = root.join("speech");
    let run = |extra: &[&str]| {
        let mut args = vec!["dataset", "export", source.to_str().unwrap()];
        args.extend(extra);
        spaceport(&args)
    };
    let missing_dir = out.path().join("no/such/folder/x.parquet");
    let r = run(&["--to", missing_dir.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&r.stderr).contains("Could not write"));
    let to = out.path().join("x.txt");
    let r = run(&["--to", to.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains(".parquet, .csv or .jsonl"));
    let to = out.path().join("x.parquet");
    let r = run(&["--filter", "nothing == 1", "--to", to.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("column \"nothing\""),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "nothing left behind"
    );
}
