//! The keyboard, through kittest key events on the real window: Ctrl+1…
//! switch pages, Ctrl+Enter runs the page's main action, Esc stops what
//! runs, Ctrl+O opens files; each shown in its button's tooltip. And what
//! a restart brings back: the last page, the models chosen, the language
//! pair and unfinished text.

use crate::support;

use std::path::Path;

use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use support::ui::{answer_dialogs, wait_for};

#[test]
fn ctrl_numbers_switch_pages_and_ctrl_enter_translates() {
    let tmp = tempfile::tempdir().unwrap();
    let (sentence, expected) = support::marian_en_de(tmp.path());
    let (sentence, expected) = (sentence.as_str(), expected.as_str());
    let mut h = support::ui::local_app(tmp.path());
    h.step();
    // Ctrl+5 is the fifth page in the sidebar: Translate.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num5);
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
    // Ctrl+9: Settings; Ctrl+2: back to the Hub.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num9);
    wait_for(&mut h, "Settings", |h| {
        h.query_by_label("Compute device").is_some()
    });
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num2);
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
    // Long enough (about two minutes of speech) to be stopped half way.
    let wav = tmp.path().join("long.wav");
    let said = "The birch canoe slid on the smooth planks. ".repeat(40);
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
    let stopped = h.state().transcribe.generation;
    h.key_press(Key::Escape);
    wait_for(&mut h, "the transcription stopped", |h| {
        h.query_by_label("Stop").is_none()
    });
    // What the stopped job still sends (on a busy machine its "loading
    // the model" can arrive after the Esc) does not bring it back.
    {
        use spaceport::app::pages::View;
        let app = h.state_mut();
        let late = spaceport::workers::Event::TranscriptionLoading {
            generation: stopped,
        };
        assert!(app.transcribe.on_event(late, &mut app.cx).is_none());
    }
    for _ in 0..3 {
        h.step();
    }
    assert!(
        h.query_by_label("Stop").is_none() && h.query_by_label("Loading the model…").is_none(),
        "a stopped transcription came back: {:?}",
        support::ui::window_text(&h)
    );
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

/// A restart (a new App from what the last one saved) reopens the last
/// page with the same models, language pair and unfinished text.
#[test]
fn a_restart_reopens_the_last_page_with_its_models_and_text() {
    use spaceport::app::{SESSION_KEY, Session};
    let tmp = tempfile::tempdir().unwrap();
    let blip = Path::new("tests/fixtures/blip/tiny");
    support::install_fixture(tmp.path(), "Salesforce/blip-image-captioning-base", blip);
    support::install_fixture(tmp.path(), "me/blip-copy", blip);
    support::install_fixture(
        tmp.path(),
        "Helsinki-NLP/opus-mt-en-de",
        Path::new("tests/fixtures/marian/tiny-en-de"),
    );
    let mut h = support::ui::local_app(tmp.path());
    // Caption: the second model chosen, a path typed and not run.
    h.get_by_label("Caption").click();
    wait_for(&mut h, "the models", |h| {
        h.query_by_role_and_label(egui::accesskit::Role::ComboBox, "Model")
            .is_some()
    });
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Model")
        .click();
    wait_for(&mut h, "the model list", |h| {
        h.query_by_label("me/blip-copy").is_some()
    });
    h.get_by_label("me/blip-copy").click();
    h.step();
    // Translate: not as you type, half a sentence typed.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num5);
    wait_for(&mut h, "Translate", |h| {
        h.query_by_label("Text to translate").is_some()
    });
    h.get_by_label("Translate as you type").click();
    h.step();
    h.get_by_label("Text to translate").focus();
    h.step();
    h.get_by_label("Text to translate").type_text("Half a sent");
    h.step();
    let mut storage = support::ui::MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let saved: Session = eframe::get_value(&storage, SESSION_KEY).expect("session saved");
    drop(h);

    let mut h = support::ui::local_app(tmp.path());
    h.state_mut().restore(saved);
    wait_for(&mut h, "the Translate page with the text", |h| {
        h.query_by_label("Text to translate")
            .and_then(|n| n.value())
            .as_deref()
            == Some("Half a sent")
    });
    assert!(!h.state().translate.live, "as-you-type stays off");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num6);
    wait_for(&mut h, "the chosen caption model", |h| {
        h.query_by_role_and_label(egui::accesskit::Role::ComboBox, "Model")
            .and_then(|n| n.value())
            .as_deref()
            == Some("me/blip-copy")
    });
}

/// "Open in …" from the Library opens the demo with that model chosen,
/// and a translation model's language pair.
#[test]
fn open_in_a_demo_chooses_that_model_and_its_pair() {
    use egui_kittest::kittest::NodeT;
    let tmp = tempfile::tempdir().unwrap();
    let blip = Path::new("tests/fixtures/blip/tiny");
    let marian = Path::new("tests/fixtures/marian/tiny-en-de");
    support::install_fixture(tmp.path(), "Salesforce/blip-image-captioning-base", blip);
    support::install_fixture(tmp.path(), "me/blip-copy", blip);
    support::install_fixture(tmp.path(), "Helsinki-NLP/opus-mt-en-de", marian);
    support::install_fixture(tmp.path(), "Helsinki-NLP/opus-mt-de-en", marian);
    let mut h = support::ui::local_app(tmp.path());
    h.get_by_label("Library").click();
    wait_for(&mut h, "the models", |h| {
        h.query_all_by_label("Open in Caption").count() == 2
            && h.query_all_by_label("Open in Translate").count() == 2
    });
    // The button in a model's row is the first with its label after the
    // model's name in the window's tree.
    let click_in_row =
        |h: &mut egui_kittest::Harness<'_, spaceport::app::App>, repo: &str, button: &str| {
            let labels: Vec<Option<String>> = h
                .query_all(egui_kittest::kittest::by())
                .map(|n| n.accesskit_node().label())
                .collect();
            let at = labels
                .iter()
                .position(|l| l.as_deref() == Some(repo))
                .expect("the model's row");
            let before = labels[..at]
                .iter()
                .filter(|l| l.as_deref() == Some(button))
                .count();
            h.query_all_by_label(button)
                .nth(before)
                .expect("its button")
                .click();
        };
    click_in_row(&mut h, "me/blip-copy", "Open in Caption");
    wait_for(&mut h, "Caption with the copy chosen", |h| {
        h.query_by_role_and_label(egui::accesskit::Role::ComboBox, "Model")
            .and_then(|n| n.value())
            .as_deref()
            == Some("me/blip-copy")
    });
    h.get_by_label("Library").click();
    h.step();
    click_in_row(&mut h, "Helsinki-NLP/opus-mt-de-en", "Open in Translate");
    wait_for(&mut h, "Translate from German into English", |h| {
        h.query_by_label("Model: Helsinki-NLP/opus-mt-de-en")
            .is_some()
    });
    assert_eq!(
        (
            h.state().translate.from.as_str(),
            h.state().translate.to.as_str()
        ),
        ("de", "en")
    );
}
