//! `spaceport caption` end to end on the tiny BLIP fixture: a picture file
//! goes through our preprocessing, model and generation, and the JSON's
//! token ids and text are what transformers' BlipProcessor + generate()
//! gave for the same file (scripts/fixtures/make_blip.py), greedy, with a
//! prompt and beam search, and with a token limit.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .arg("caption")
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap()
}

#[test]
fn captions_match_transformers_end_to_end() {
    let r: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/blip/tiny/reference.json")).unwrap(),
    )
    .unwrap();
    let e2e = &r["end_to_end"];
    let picture = root().join(e2e["picture"].as_str().unwrap());
    let model = root().join("tests/fixtures/blip/tiny");
    for (name, extra) in [
        ("greedy", vec![]),
        (
            "beam3_prompt",
            vec!["--prompt", "A photography of", "--beam", "3"],
        ),
        ("greedy_max5", vec!["--max-tokens", "5"]),
    ] {
        let mut args = vec!["--model", model.to_str().unwrap(), "--json"];
        args.extend(extra);
        args.push(picture.to_str().unwrap());
        let out = run(&args);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let want = &e2e["runs"][name];
        assert_eq!(v["token_ids"], want["ids"], "{name}");
        assert_eq!(v["text"], want["text"], "{name}");
        assert_eq!(v["image"], picture.display().to_string());
    }
}

#[test]
fn a_bad_picture_is_named_and_the_others_still_get_captions() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("holiday.jpg");
    std::fs::write(&bad, "this is text").unwrap();
    let good = root().join("tests/fixtures/blip/images/gray.png");
    let model = root().join("tests/fixtures/blip/tiny");
    let out = run(&[
        "--model",
        model.to_str().unwrap(),
        "--json",
        bad.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("holiday.jpg is not a picture"), "{stderr}");
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert!(lines[0]["image"].as_str().unwrap().ends_with("gray.png"));
}
