//! The Evaluate page driven through its widgets: Whisper tiny.en (in the
//! cache) over a local audiofolder's test split — the rows fill the table
//! and the scores shown are the CLI's `evaluate` scores for the same run.

use crate::support;

use egui_kittest::kittest::Queryable;
use support::ui::{wait_for, window_text};

#[test]
fn run_a_model_over_a_split_and_see_rows_and_scores() {
    let root = support::dataset_fixtures();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    support::install_fixture(
        &cache,
        "Systran/faster-whisper-tiny.en",
        &support::whisper_ct2_dir(),
    );
    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Evaluate").click();
    wait_for(&mut h, "the page with the model", |h| {
        h.query_by_label("Run").is_some()
    });
    let folder = root.join("audiofolder").display().to_string();
    h.get_by_label("Dataset").focus();
    h.step();
    h.get_by_label("Dataset").type_text(&folder);
    h.step();
    h.get_by_label("Split").focus();
    h.step();
    h.get_by_label("Split").type_text("test");
    h.step();
    h.get_by_label("Run").click();
    wait_for(&mut h, "the scores", |h| {
        h.query_by_label_contains("WER ").is_some() && h.query_by_label("Run").is_some()
    });
    let text = window_text(&h);
    assert!(
        text.iter().any(|t| t.contains(
            "Transcribe on default/test: reads \"audio\", scored against \"transcription\""
        )),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t == "Rice is often served in round bowls.")
    );
    // The same run through the CLI: the same scores.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args([
            "evaluate",
            "--model",
            support::whisper_ct2_dir().to_str().unwrap(),
            "--dataset",
            &folder,
            "--split",
            "test",
            "--json",
        ])
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let wer = format!("WER {:.4}", run["metrics"]["wer"].as_f64().unwrap());
    assert!(
        text.iter().any(|t| t.starts_with(&wer)),
        "{wer} not in {text:#?}"
    );
}
