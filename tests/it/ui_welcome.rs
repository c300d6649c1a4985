//! The first five minutes, through the real window: a fresh profile opens
//! on the Welcome page; one click on the Translate card downloads the
//! recommended model from a stand-in Hub and shows an example's
//! translation; the Caption and Transcribe cards and the examples under
//! the demos run theirs; a restart comes back to the last page; model
//! cards in Chinese, Arabic and Devanagari draw with real glyphs once the
//! system fonts are loaded; F1, Ctrl+C, Ctrl+V and a held Space do what
//! the Help page says.

use crate::support;

use std::path::Path;

use egui::{Key, Modifiers};
use egui_kittest::kittest::{NodeT, Queryable};
use spaceport::app::examples::{PICTURES, RECORDINGS, sentences};
use spaceport::app::{Page, SESSION_KEY, Session};
use spaceport::settings::Settings;
use spaceport::work::CancelToken;
use support::standin_hub::{FileSpec, RepoSpec, StandinHub};
use support::ui::{app_harness, wait_for, window_text};

/// A repo served by the stand-in Hub with every file of a fixture folder.
fn fixture_repo(id: &str, dir: &Path, pipeline: &str) -> RepoSpec {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let lfs = [".safetensors", ".bin", ".spm"]
            .iter()
            .any(|x| name.ends_with(x));
        files.push(FileSpec::new(&name, std::fs::read(&p).unwrap(), lfs));
    }
    let mut r = RepoSpec::new(id, files);
    r.pipeline_tag = Some(pipeline.into());
    r
}

/// A cache in `tmp` with the tiny BLIP under the recommended caption id.
fn blip_cache(tmp: &Path) -> std::path::PathBuf {
    let cache = tmp.join("hub");
    support::install_fixture(
        &cache,
        "Salesforce/blip-image-captioning-base",
        Path::new("tests/fixtures/blip/tiny"),
    );
    cache
}

fn caption_of(bytes: &[u8], name: &str) -> String {
    use spaceport::tasks::caption::{CaptionRequest, Captioner, image};
    let captioner = Captioner::load(
        Path::new("tests/fixtures/blip/tiny"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    captioner
        .caption(
            &image::decode(bytes, name).unwrap(),
            &CaptionRequest {
                prompt: None,
                beams: None,
                max_new_tokens: None,
            },
            &CancelToken::new(),
        )
        .unwrap()
        .text
}

#[test]
fn a_fresh_profile_opens_on_welcome_and_one_click_translates_an_example() {
    let fixture = Path::new("tests/fixtures/marian/tiny-en-de");
    let hub = StandinHub::start(vec![fixture_repo(
        "Helsinki-NLP/opus-mt-en-de",
        fixture,
        "translation",
    )]);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let mut h = app_harness(support::config(&hub, &cache), Settings::default());
    wait_for(&mut h, "the Welcome page", |h| {
        h.query_by_label("Welcome to Spaceport").is_some()
    });
    assert_eq!(h.state().page, Page::Welcome);
    // The card gives the download's real size, as the Hub lists it (the
    // catalog's is "about 300 MB").
    wait_for(&mut h, "the size from the Hub", |h| {
        h.query_by_label_contains("Download and try translation (")
            .and_then(|n| n.accesskit_node().label())
            .is_some_and(|l| !l.contains("about") && l.contains("kB"))
    });
    assert!(
        h.query_all_by_label_contains("on a 50 Mbit/s connection")
            .next()
            .is_some()
    );
    h.get_by_label_contains("Download and try translation (")
        .click();
    // Downloaded, then the Translate page with the first English example,
    // translated.
    let sentence = sentences("en").next().unwrap();
    let translator =
        spaceport::tasks::translate::Translator::load(fixture, &candle_core::Device::Cpu).unwrap();
    let translate = |s: &str| {
        translator
            .translate(s, &Default::default(), &CancelToken::new(), &mut |_| {})
            .unwrap()
            .text
    };
    let expected = translate(sentence);
    wait_for(&mut h, "the example's translation", |h| {
        h.query_by_label("Text to translate")
            .and_then(|n| n.value())
            .as_deref()
            == Some(sentence)
            && h.query_by_label("Translation")
                .and_then(|n| n.value())
                .as_deref()
                == Some(expected.as_str())
    });
    assert_eq!(
        h.state().page,
        Page::Demo(spaceport::catalog::Panel::Translate)
    );
    // Another example from the row under the demo.
    let second = sentences("en").nth(1).unwrap();
    let expected2 = translate(second);
    h.get_by_label(second).click();
    wait_for(&mut h, "the second example's translation", |h| {
        h.query_by_label("Translation")
            .and_then(|n| n.value())
            .as_deref()
            == Some(expected2.as_str())
    });
    // The card now says the demo is ready.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num1);
    wait_for(&mut h, "Ready", |h| {
        h.query_by_label("✔ Ready").is_some() && h.query_by_label("Try translation").is_some()
    });
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num5);
    wait_for(&mut h, "Translate again", |h| {
        h.query_by_label("Text to translate").is_some()
    });
    // A restart comes back to Translate with the same model and text.
    let mut storage = support::ui::MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let saved: Session = eframe::get_value(&storage, SESSION_KEY).expect("session saved");
    drop(h);
    let mut h = app_harness(support::config(&hub, &cache), Settings::default());
    h.state_mut().restore(saved);
    wait_for(&mut h, "the Translate page after the restart", |h| {
        h.query_by_label("Model: Helsinki-NLP/opus-mt-en-de")
            .is_some()
            && h.query_by_label("Text to translate")
                .and_then(|n| n.value())
                .as_deref()
                == Some(second)
    });
}

#[test]
fn caption_and_transcribe_cards_and_examples_run_theirs() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = blip_cache(tmp.path());
    support::install_fixture(
        &cache,
        "Systran/faster-whisper-tiny.en",
        &support::whisper_ct2_dir(),
    );
    let mut h = support::ui::local_app(&cache);
    wait_for(&mut h, "both cards ready", |h| {
        h.query_by_label("Try captions").is_some()
            && h.query_by_label("Try transcription").is_some()
    });
    h.get_by_label("Try captions").click();
    let first = caption_of(PICTURES[0].bytes, PICTURES[0].name);
    wait_for(&mut h, "the first example's caption", |h| {
        h.query_by_label(&first).is_some()
    });
    // The row of example pictures under the demo: the coffee.
    let coffee = &PICTURES[1];
    let second = caption_of(coffee.bytes, coffee.name);
    assert_ne!(first, second, "two pictures, two captions");
    wait_for(&mut h, "the example pictures", |h| {
        h.query_by_label(coffee.name).is_some()
    });
    h.get_by_label(coffee.name).click();
    wait_for(&mut h, "the coffee's caption", |h| {
        h.query_by_label(&second).is_some()
    });
    // Transcribe: the English recording, through the Welcome card.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num1);
    wait_for(&mut h, "Welcome", |h| {
        h.query_by_label("Try transcription").is_some()
    });
    h.get_by_label("Try transcription").click();
    wait_for(&mut h, "the transcript", |h| {
        h.query_by_label("Copy text").is_some()
    });
    let text = support::ui::transcript_text(&h);
    let wer = support::wer(RECORDINGS[0].text, &text);
    assert!(wer <= 0.1, "WER {wer:.3}: {text}");
    assert!(
        h.query_by_label_contains("Done: 0:1").is_some(),
        "says it finished and how long the speech was: {:?}",
        window_text(&h)
    );
    // tiny.en is English only: the German recording is not offered.
    assert!(h.query_by_label_contains("bahnhof-de.ogg").is_none());
    assert!(
        h.query_by_label_contains("harvard-en.ogg (English")
            .is_some()
    );
}

#[test]
fn model_cards_in_chinese_arabic_and_devanagari_draw_every_glyph() {
    let card = "---\nlicense: mit\n---\n\n# 多语言模型\n\n中文：这个模型可以翻译。日本語：こんにちは。\n\nالعربية: هذا النموذج يترجم النصوص.\n\nहिन्दी: यह मॉडल अनुवाद करता है।\n";
    let mut repo = RepoSpec::new(
        "org/many-scripts",
        vec![
            FileSpec::new("README.md", card, false),
            FileSpec::new(
                "config.json",
                r#"{"model_type": "marian", "architectures": ["MarianMTModel"]}"#,
                false,
            ),
        ],
    );
    repo.pipeline_tag = Some("translation".into());
    let hub = StandinHub::start(vec![repo]);
    let tmp = tempfile::tempdir().unwrap();
    let mut h = app_harness(support::config(&hub, tmp.path()), Settings::default());
    h.step();
    let scripts = "中文 こんにちは العربية हिन्दी";
    assert!(
        !spaceport::app::fonts::missing(&h.ctx, scripts).is_empty(),
        "egui's own fonts lack these scripts (else this test shows nothing)"
    );
    let added = spaceport::app::fonts::load(&h.ctx);
    for script in ["Chinese", "Arabic", "Devanagari"] {
        assert!(
            added.iter().any(|a| a == script),
            "no system font for {script}: {added:?} (scripts/test.sh installs them)"
        );
    }
    h.step();
    {
        let app = h.state_mut();
        app.hub.open_details("org/many-scripts".into(), &mut app.cx);
        app.page = Page::Hub;
    }
    wait_for(&mut h, "the card", |h| {
        h.query_by_label_contains("这个模型可以翻译").is_some()
            && h.query_by_label_contains("النموذج").is_some()
            && h.query_by_label_contains("अनुवाद").is_some()
    });
    let shown = window_text(&h).join(" ");
    let missing = spaceport::app::fonts::missing(&h.ctx, &shown);
    assert!(missing.is_empty(), "no glyph for {missing:?}");
}

#[test]
fn f1_help_ctrl_c_copies_and_ctrl_v_pastes() {
    let tmp = tempfile::tempdir().unwrap();
    let (sentence, expected) = support::marian_en_de(tmp.path());
    let mut h = support::ui::local_app(tmp.path());
    h.step();
    h.key_press(Key::F1);
    wait_for(&mut h, "Help", |h| {
        h.query_by_label("Report a problem").is_some() && h.query_by_label("Ctrl+Enter").is_some()
    });
    // The report names the version, the number format and the last error.
    assert!(
        h.query_all_by(|_| true)
            .filter_map(|n| n.accesskit_node().value())
            .any(|v| v.contains(env!("CARGO_PKG_VERSION"))
                && v.contains("Number format: default")
                && v.contains("Last error: none")),
        "the report: {:?}",
        window_text(&h)
    );
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num5);
    wait_for(&mut h, "Translate", |h| {
        h.query_by_label("Text to translate").is_some()
    });
    // Switching page put the keyboard in the text to translate.
    assert!(h.query_by_label("Text to translate").unwrap().is_focused());
    // Ctrl+V with no text field focused: the text to translate.
    h.key_press(Key::Escape);
    h.step();
    assert!(!h.query_by_label("Text to translate").unwrap().is_focused());
    h.event(egui::Event::Paste(sentence.clone()));
    wait_for(&mut h, "the pasted text translated", |h| {
        h.query_by_label("Text to translate")
            .and_then(|n| n.value())
            .as_deref()
            == Some(sentence.as_str())
            && h.query_by_label("Translation")
                .and_then(|n| n.value())
                .as_deref()
                == Some(expected.as_str())
    });
    // Ctrl+C with no text field focused (Esc leaves the text, which has
    // the keyboard since the page was shown): the translation is copied.
    h.key_press(Key::Escape);
    h.step();
    h.key_press_modifiers(Modifiers::COMMAND, Key::C);
    h.step();
    h.step();
    let copied = h
        .output()
        .platform_output
        .commands
        .iter()
        .any(|c| matches!(c, egui::OutputCommand::CopyText(t) if *t == expected))
        || h.query_by_label("Translation copied.").is_some();
    assert!(
        copied,
        "Ctrl+C copied the translation: {:?}",
        window_text(&h)
    );
}

#[test]
fn alone_holding_space_talks_into_transcribe() {
    let _turn = support::sink_turn();
    let sink = support::test_sink();
    let tmp = tempfile::tempdir().unwrap();
    let cache = support::tiny_en_cache(tmp.path());
    let wav = tmp.path().join("say.wav");
    support::speak_with_pauses(&["The juice of lemons makes fine punch."], 800, &wav);
    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Transcribe").click();
    wait_for(&mut h, "the page", |h| h.query_by_label("Record").is_some());
    h.key_down(Key::Space);
    wait_for(&mut h, "recording while Space is held", |h| {
        h.query_by_label("Stop").is_some()
    });
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let played = std::process::Command::new("paplay")
        .args(["-d", &sink])
        .arg(&wav)
        .status()
        .unwrap()
        .success();
    assert!(played, "paplay");
    h.key_up(Key::Space);
    wait_for(&mut h, "the transcript after Space is let go", |h| {
        h.query_by_label("Copy text").is_some() && h.query_by_label("Stop").is_none()
    });
    let text = support::ui::transcript_text(&h).to_lowercase();
    assert!(
        text.contains("lemons") || text.contains("punch"),
        "heard: {text}"
    );
}

#[test]
fn arrow_keys_move_through_a_drop_down_menu() {
    let tmp = tempfile::tempdir().unwrap();
    support::marian_en_de(tmp.path());
    let mut h = support::ui::local_app(tmp.path());
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num5);
    wait_for(&mut h, "Translate", |h| {
        h.query_by_label("Model: Helsinki-NLP/opus-mt-en-de")
            .is_some()
    });
    assert_eq!(h.state().translate.to, "de");
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "To")
        .click();
    wait_for(&mut h, "the menu", |h| h.query_by_label("Hindi").is_some());
    // The chosen language has the keyboard; down once, then Enter.
    assert!(h.get_by_label("German").is_focused());
    assert!(
        h.query_by_label("English").is_none(),
        "the source language is not offered as the target"
    );
    h.key_press(Key::ArrowDown);
    h.step();
    assert!(h.get_by_label("Hindi").is_focused());
    h.key_press(Key::Enter);
    wait_for(&mut h, "Hindi chosen", |h| h.state().translate.to == "hi");
}

#[test]
fn files_given_on_the_command_line_open_in_their_demos() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = blip_cache(tmp.path());
    let picture = tmp.path().join("coffee.jpg");
    std::fs::write(&picture, PICTURES[1].bytes).unwrap();
    let notes = tmp.path().join("notes.odt");
    std::fs::write(&notes, "not a picture").unwrap();
    let mut h = support::ui::local_app(&cache);
    // What `spaceport coffee.jpg notes.odt` (and "Open with") hands over.
    h.state_mut().opening = vec![picture.clone(), notes];
    let expected = caption_of(PICTURES[1].bytes, "coffee.jpg");
    wait_for(&mut h, "the picture captioned", |h| {
        h.query_by_label(&expected).is_some()
    });
    assert_eq!(
        h.state().page,
        Page::Demo(spaceport::catalog::Panel::Caption)
    );
    assert!(
        h.query_by_label_contains("notes.odt is not a picture or a recording")
            .is_some(),
        "{:?}",
        window_text(&h)
    );
}
