//! `spaceport translate` on the tiny fixtures: JSON output carries the
//! generated ids (the reference beam search's), stdin is read line by line,
//! and a multi-target model asks for a target language.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

fn reference(model: &str) -> Value {
    let path = format!("tests/fixtures/marian/{model}/reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn spaceport(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let tmp = std::env::temp_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args(args)
        .env(
            "HF_HUB_CACHE",
            tmp.join("spaceport-translate-cli-empty-cache"),
        )
        .env("HF_HUB_OFFLINE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[test]
fn json_output_has_the_reference_ids() {
    let r = reference("tiny-en-de");
    let s = &r["sentences"][0];
    let out = spaceport(
        &[
            "translate",
            "--model",
            "tests/fixtures/marian/tiny-en-de",
            "--json",
            s["text"].as_str().unwrap(),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: Vec<Value> = s["beam"].as_array().unwrap()[1..].to_vec();
    assert_eq!(v["token_ids"].as_array().unwrap(), &want);
    assert_eq!(v["text"], s["beam_text"]);

    let out = spaceport(
        &[
            "translate",
            "--model",
            "tests/fixtures/marian/tiny-en-de",
            "--beam",
            "1",
            "--json",
            s["text"].as_str().unwrap(),
        ],
        None,
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["token_ids"].as_array().unwrap(),
        &s["greedy"].as_array().unwrap()[1..].to_vec()
    );
}

#[test]
fn stdin_is_translated_line_by_line() {
    let out = spaceport(
        &[
            "translate",
            "--model",
            "tests/fixtures/marian/tiny-en-mul",
            "--to",
            "fra",
            "--json",
            "-",
        ],
        Some("The cat sleeps.\nÜber die Straße\n\nA small green house today!\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[2]["text"], "");
    assert!(lines.iter().all(|l| l.get("token_ids").is_some()));
}

#[test]
fn a_multi_target_model_needs_a_known_target() {
    let out = spaceport(
        &[
            "translate",
            "--model",
            "tests/fixtures/marian/tiny-en-mul",
            "hello",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("deu, fra, spa"));
    let out = spaceport(
        &[
            "translate",
            "--model",
            "tests/fixtures/marian/tiny-separate",
            "hello",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(8));
    let out = spaceport(
        &[
            "translate",
            "--model",
            "Helsinki-NLP/opus-mt-xx-yy",
            "hello",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(5), "offline and not cached");
}

/// A text that starts with the model's own `>>xx<<` code — how
/// transformers users drive a multi-target model — needs no `--to`, and
/// translates as `--to xx` does; an unknown code names the known ones.
#[test]
fn a_leading_language_code_chooses_the_target() {
    let model = "tests/fixtures/marian/tiny-en-mul";
    let run = |args: &[&str]| {
        let mut all = vec!["translate", "--model", model, "--json"];
        all.extend(args);
        let out = spaceport(&all, None);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    for code in ["fra", "deu", "spa"] {
        let coded = run(&[&format!(">>{code}<< The house is small.")]);
        let chosen = run(&["--to", code, "The house is small."]);
        assert_eq!(coded["token_ids"], chosen["token_ids"], "{code}");
        assert_eq!(coded["text"], chosen["text"], "{code}");
    }
    // Without the code (and without --to) the model asks for a target.
    let out = spaceport(&["translate", "--model", model, "Hello."], None);
    assert_eq!(out.status.code(), Some(2));
    let out = spaceport(&["translate", "--model", model, ">>xx<< Hello."], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"xx\"") && err.contains("deu, fra, spa"),
        "{err}"
    );
}

/// `--compute-type` on a model command: int8 translates (the tiny en-de
/// fixture's greedy ids survive quantisation), a format that does not
/// exist is refused in words.
#[test]
fn the_compute_type_is_chosen_on_the_command_line() {
    let r = reference("tiny-en-de");
    let s = &r["sentences"][0];
    let args = |ct: &'static str| {
        vec![
            "translate",
            "--model",
            "tests/fixtures/marian/tiny-en-de",
            "--beam",
            "1",
            "--compute-type",
            ct,
            "--json",
            s["text"].as_str().unwrap(),
        ]
    };
    let out = spaceport(&args("int8"), None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["token_ids"].as_array().unwrap(),
        &s["greedy"].as_array().unwrap()[1..].to_vec()
    );
    let out = spaceport(&args("int4"), None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("float32, float16 or int8"), "{err}");
}
