//! The Translate page driven through its widgets, with the tiny Marian
//! fixture installed in the cache as `Helsinki-NLP/opus-mt-en-de`: typing
//! gives the reference translation (as you type, after a pause); Swap turns
//! the pair round and offers the model that pair needs.

use crate::support;

use std::path::Path;

use egui_kittest::kittest::Queryable;
use spaceport::tasks::device::ComputeType;
use support::ui::wait_for;

/// The app on the cache in `cache` (no Hub), on the Translate page with
/// its model chosen and `text` typed.
fn typed(
    cache: &Path,
    settings: spaceport::settings::Settings,
    text: &str,
) -> egui_kittest::Harness<'static, spaceport::app::App> {
    let mut h = support::ui::app_harness(
        spaceport::hub::HubConfig::local("http://127.0.0.1:9", cache),
        settings,
    );
    h.get_by_label("Translate").click();
    wait_for(&mut h, "the model", |h| {
        h.query_by_label("Model: Helsinki-NLP/opus-mt-en-de")
            .is_some()
    });
    h.get_by_label("Text to translate").focus();
    h.step();
    h.get_by_label("Text to translate").type_text(text);
    h
}

#[test]
fn type_text_get_the_translation_then_swap() {
    let tmp = tempfile::tempdir().unwrap();
    let (sentence, expected) = support::marian_en_de(tmp.path());
    let sentence = sentence.as_str();

    // No Hub is needed: everything is local.
    let mut h = typed(tmp.path(), Default::default(), sentence);
    wait_for(&mut h, "the translation", |h| {
        h.query_by_label("Translation")
            .and_then(|n| n.value())
            .as_deref()
            == Some(expected.as_str())
    });
    wait_for(&mut h, "the finished translation", |h| {
        h.query_by_label_contains("On the CPU").is_some()
    });
    // Settings lists what this build and machine offer, and where the
    // model ran.
    h.get_by_label("Settings").click();
    wait_for(&mut h, "the devices offered", |h| {
        h.query_by_label_contains("The last model ran on the CPU.")
            .is_some()
            && h.query_by_label_contains("built without NVIDIA GPU (CUDA) support")
                .is_some()
    });
    assert!(
        h.get_by_label("Device")
            .value()
            .is_some_and(|v| v.starts_with("auto — the first GPU"))
    );
    h.get_by_label("Device").click();
    wait_for(&mut h, "the device list", |h| {
        h.query_by_label_contains("cpu — CPU (").is_some()
    });
    h.key_press(egui::Key::Escape);
    h.step();
    // The number format: int8 chosen, the model loads again in it.
    assert_eq!(
        h.get_by_label("Number format").value().as_deref(),
        Some("default — the model's own")
    );
    // Opens the list, picks `label`, checks the choice and its sentence.
    let pick = |h: &mut egui_kittest::Harness<'static, spaceport::app::App>,
                label: &str,
                want: ComputeType,
                says: &str| {
        h.get_by_label("Number format").click();
        wait_for(h, "the number formats", |h| {
            h.query_by_label("int8 — the fastest on the CPU").is_some()
        });
        h.get_by_label(label).click();
        h.step();
        assert_eq!(h.state().cx.settings.compute, want);
        assert!(h.query_by_label_contains(says).is_some(), "{label}");
    };
    pick(
        &mut h,
        "auto — the fastest accurate",
        ComputeType::Auto,
        "The fastest accurate format",
    );
    pick(
        &mut h,
        "int8 — the fastest on the CPU",
        ComputeType::Int8,
        "The fastest on the CPU",
    );
    // Long recordings in batches: on by default, a click turns it off.
    assert!(h.state().cx.settings.batched_transcription);
    h.get_by_label("Transcribe long recordings in batches")
        .click();
    h.step();
    assert!(!h.state().cx.settings.batched_transcription);
    h.get_by_label("Translate").click();
    h.step();
    h.get_by_label("Text to translate").focus();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Enter);
    wait_for(&mut h, "the translation in int8", |h| {
        h.query_by_label_contains("On the CPU in int8").is_some()
    });

    h.get_by_label("Swap").click();
    wait_for(&mut h, "the swapped pair", |h| {
        h.query_by_label_contains("German to English needs Helsinki-NLP/opus-mt-de-en")
            .is_some()
    });
    assert_eq!(
        h.get_by_label("Text to translate").value().as_deref(),
        Some(expected.as_str()),
        "the translation became the input"
    );
    assert!(h.query_by_label_contains("Download it").is_some());
}

#[test]
fn a_multi_target_model_gets_its_language_code() {
    use spaceport::tasks::translate::{TranslateOptions, Translator};
    use spaceport::work::CancelToken;
    let tmp = tempfile::tempdir().unwrap();
    let fixture = Path::new("tests/fixtures/marian/tiny-en-mul");
    support::install_fixture(tmp.path(), "Helsinki-NLP/opus-mt-en-mul", fixture);
    let text = "Über die Straße";
    let opts = TranslateOptions {
        target: Some("deu".into()),
        ..Default::default()
    };
    let translator = Translator::load(fixture, &candle_core::Device::Cpu).unwrap();
    let run = |o: &TranslateOptions| {
        translator
            .translate(text, o, &CancelToken::new(), &mut |_| {})
            .unwrap()
            .text
    };
    let expected = run(&opts);
    // Without a code the model refuses, so the page must have sent one.
    assert!(
        translator
            .translate(
                text,
                &TranslateOptions::default(),
                &CancelToken::new(),
                &mut |_| {}
            )
            .is_err()
    );

    let mut h = support::ui::local_app(tmp.path());
    h.get_by_label("Translate").click();
    // English to German is offered through the model's >>deu<< code.
    wait_for(&mut h, "the model", |h| {
        h.query_by_label("Model: Helsinki-NLP/opus-mt-en-mul")
            .is_some()
    });
    h.get_by_label("Text to translate").focus();
    h.step();
    h.get_by_label("Text to translate").type_text(text);
    wait_for(&mut h, "the translation", |h| {
        h.query_by_label("Translation")
            .and_then(|n| n.value())
            .as_deref()
            == Some(expected.as_str())
    });
}

/// German to French with no direct model: the window and
/// `spaceport translate --from de --to fr` both go through English (a
/// de→en model, then the multi-target en→mul model's >>fra<<), and give
/// the same text as the two models run in turn.
#[test]
fn the_window_and_the_cli_pivot_through_english_alike() {
    use spaceport::tasks::translate::{TranslateOptions, Translator};
    use spaceport::work::CancelToken;
    let tmp = tempfile::tempdir().unwrap();
    // The tiny random weights stand in for the real pair's; the names
    // decide the route.
    support::install_fixture(
        tmp.path(),
        "Helsinki-NLP/opus-mt-de-en",
        Path::new("tests/fixtures/marian/tiny-en-de"),
    );
    support::install_fixture(
        tmp.path(),
        "Helsinki-NLP/opus-mt-en-mul",
        Path::new("tests/fixtures/marian/tiny-en-mul"),
    );
    let text = "Ein kurzer Satz.";
    let cpu = candle_core::Device::Cpu;
    let first = Translator::load(Path::new("tests/fixtures/marian/tiny-en-de"), &cpu).unwrap();
    let second = Translator::load(Path::new("tests/fixtures/marian/tiny-en-mul"), &cpu).unwrap();
    let cancel = CancelToken::new();
    let english = first
        .translate(text, &TranslateOptions::default(), &cancel, &mut |_| {})
        .unwrap()
        .text;
    let to_french = TranslateOptions {
        target: Some("fra".into()),
        ..Default::default()
    };
    let expected = second
        .translate(&english, &to_french, &cancel, &mut |_| {})
        .unwrap()
        .text;

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args(["translate", "--from", "de", "--to", "fr", text])
        .env("HF_HUB_CACHE", tmp.path())
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("through English"), "{err}");
    let cli = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
    assert_eq!(cli, expected);

    let mut h = support::ui::local_app(tmp.path());
    h.get_by_label("Translate").click();
    // English → German by default (the en→mul model's >>deu<<); Swap,
    // then pick French as the target.
    wait_for(&mut h, "the models", |h| {
        h.query_by_label("Model: Helsinki-NLP/opus-mt-en-mul")
            .is_some()
    });
    h.get_by_label("Swap").click();
    h.step();
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "To")
        .click();
    wait_for(&mut h, "the target languages", |h| {
        h.query_by_label("French").is_some()
    });
    h.get_by_label("French").click();
    wait_for(&mut h, "the pivot", |h| {
        h.query_by_label(
            "No direct model: through English with Helsinki-NLP/opus-mt-de-en and Helsinki-NLP/opus-mt-en-mul",
        )
        .is_some()
    });
    h.get_by_label("Text to translate").focus();
    h.step();
    h.get_by_label("Text to translate").type_text(text);
    wait_for(&mut h, "the translation", |h| {
        h.query_by_label("Translation")
            .and_then(|n| n.value())
            .as_deref()
            == Some(cli.as_str())
    });
}

/// A GPU asked for and not to be had (here: a build without CUDA) is one
/// plain sentence, and the work runs on the CPU.
#[test]
fn a_gpu_that_cannot_be_used_is_one_sentence_and_the_cpu_runs() {
    let tmp = tempfile::tempdir().unwrap();
    support::install_fixture(
        tmp.path(),
        "Helsinki-NLP/opus-mt-en-de",
        Path::new("tests/fixtures/marian/tiny-en-de"),
    );
    let settings = spaceport::settings::Settings {
        device: spaceport::tasks::device::DeviceChoice::Cuda(0),
        ..Default::default()
    };
    let mut h = typed(tmp.path(), settings, "The cat sleeps.");
    // The notice arrives with the translation's first event; its floating
    // box is laid out in one frame and shown in the next.
    wait_for(&mut h, "the translation on the CPU and the notice", |h| {
        h.query_by_label_contains("On the CPU").is_some()
            && (spaceport::tasks::device::BUILT_WITH_CUDA
                || h.query_by_label_contains("is not available").is_some())
    });
    let mut notes: Vec<String> = support::ui::window_text(&h)
        .into_iter()
        .filter(|t| t.contains("cuda:0 is not available"))
        .collect();
    // A notice is read out as its label and its text.
    notes.dedup();
    if spaceport::tasks::device::BUILT_WITH_CUDA {
        return;
    }
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].ends_with("using the CPU. A copy built with CUDA support can use the GPU."));
    assert!(!notes[0].contains('\n') && !notes[0].contains("backtrace"));
}
