//! The keyboard, through kittest key events on the real window: Ctrl+1…
//! switch pages, Ctrl+Enter runs the page's main action, Esc stops what
//! runs, Ctrl+O opens files; each shown in its button's tooltip.

use crate::support;

use std::path::Path;

use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use support::ui::{answer_dialogs, wait_for};

#[test]
fn ctrl_numbers_switch_pages_and_ctrl_enter_translates() {
    let tmp = tempfile::tempdir().unwrap();
    support::install_fixture(
        tmp.path(),
        "Helsinki-NLP/opus-mt-en-de",
        Path::new("tests/fixtures/marian/tiny-en-de"),
    );
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/marian/tiny-en-de/reference.json").unwrap(),
    )
    .unwrap();
    let sentence = reference["sentences"][0]["text"].as_str().unwrap();
    let expected = reference["sentences"][0]["beam_text"].as_str().unwrap();
    let mut h = support::ui::local_app(tmp.path());
    h.step();
    // Ctrl+4 is the fourth page in the sidebar: Translate.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num4);
    wait_for(&mut h, "the Translate page", |h| {
        h.query_by_label("Model: Helsinki-NLP/opus-mt-en-de")
            .is_some()
    });
    // Not as you type: only Ctrl+Enter translates.
    h.get_by_label("Translate as you type").click();
    h.step();
    h.get_by_label("Text to translate").focus();
    h.step();
    h.get_by_label("Text to translate").type_text(sentence);
    for _ in 0..20 {
        h.step();
    }
    assert_eq!(
        h.get_by_label("Translation").value().as_deref(),
        Some(""),
        "nothing translated before Ctrl+Enter"
    );
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    wait_for(&mut h, "the translation", |h| {
        h.query_by_label("Translation")
            .and_then(|n| n.value())
            .as_deref()
            == Some(expected)
    });
    // Ctrl+8: Settings; Ctrl+1: back to the Hub.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num8);
    wait_for(&mut h, "Settings", |h| {
        h.query_by_label("Compute device").is_some()
    });
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num1);
    wait_for(&mut h, "the Hub", |h| {
        h.query_by_label("Compute device").is_none()
    });
}

#[test]
fn ctrl_o_opens_and_esc_stops_a_transcription() {
    let model = support::whisper_ct2_dir();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    support::install_fixture(&cache, "Systran/faster-whisper-tiny.en", &model);
    // Long enough (about 40 s of speech) to be stopped half way.
    let wav = tmp.path().join("long.wav");
    let said = "The birch canoe slid on the smooth planks. ".repeat(14);
    support::speak(&said, &wav);
    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Transcribe").click();
    wait_for(&mut h, "the page", |h| {
        h.query_by_label("Audio file").is_some()
    });
    // Ctrl+O asks for audio files (the stand-in dialog answers none).
    let asked = answer_dialogs(&mut h, Vec::new());
    h.key_press_modifiers(Modifiers::COMMAND, Key::O);
    wait_for(&mut h, "the file dialog", |_| {
        asked.lock().unwrap().len() == 1
    });
    // The path typed, Ctrl+Enter transcribes it; Esc stops it.
    h.get_by_label("Audio file").focus();
    h.step();
    h.get_by_label("Audio file")
        .type_text(wav.to_str().unwrap());
    h.step();
    h.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    wait_for(&mut h, "the transcription running", |h| {
        h.query_by_label("Stop").is_some()
    });
    h.key_press(Key::Escape);
    wait_for(&mut h, "the transcription stopped", |h| {
        h.query_by_label("Stop").is_none()
    });
    // Stopped, not finished: the whole text never arrives.
    for _ in 0..50 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let segments = h
        .state()
        .transcribe
        .transcript
        .as_ref()
        .map_or(0, |t| t.segments.len());
    assert!(segments < 10, "{segments} segments: it ran to the end");
    // The buttons say their keys.
    h.get_by_label("Open…").hover();
    for _ in 0..5 {
        h.step();
    }
    assert!(
        support::ui::window_text(&h).iter().any(|t| t == "Ctrl+O"),
        "the tooltip shows the keys"
    );
}
