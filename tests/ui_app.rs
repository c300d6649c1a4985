//! The real `App` driven through its widgets (egui_kittest), with its
//! workers pointed at the stand-in Hub and a temporary cache: search, open
//! details, download, see it in the Library, delete it; cancel and resume;
//! offline mode.

mod support;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use spaceport::app::App;
use spaceport::settings::Settings;
use support::standin_hub::{Fault, StandinHub};

const MARIAN: &str = "Helsinki-NLP/opus-mt-tiny-en-de";

fn harness(s: &StandinHub, cache: &std::path::Path, settings: Settings) -> Harness<'static, App> {
    let cfg = support::config(s, cache);
    Harness::builder()
        .with_size(egui::Vec2::new(1280.0, 900.0))
        .build_eframe(move |cc| {
            App::with_settings(&cc.egui_ctx, cfg, settings).expect("workers start")
        })
}

/// Steps the UI until `done` holds (the workers answer asynchronously).
fn wait_for(h: &mut Harness<'_, App>, what: &str, done: impl Fn(&Harness<'_, App>) -> bool) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(15));
    }
}

#[test]
fn search_details_download_library_delete() {
    let s = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let mut h = harness(&s, tmp.path(), Settings::default());
    h.step();
    h.get_by_label("Search models").focus();
    h.step();
    h.get_by_label("Search models").type_text("opus");
    h.step();
    h.get_by_label("Translation").click();
    wait_for(&mut h, "search results", |h| {
        h.query_by_label(MARIAN).is_some()
    });
    assert!(
        h.query_by_label("Helsinki-NLP/opus-mt-tiny-fr-en")
            .is_some()
    );
    assert!(
        h.query_by_label("openai/whisper-tiny-test").is_none(),
        "task filter applied"
    );
    assert!(
        !h.query_all_by_label("Runs here: Translate")
            .collect::<Vec<_>>()
            .is_empty()
    );

    h.get_by_label(MARIAN).click();
    wait_for(&mut h, "details", |h| {
        h.query_by_label_contains("Download (").is_some()
    });
    assert!(h.query_by_label("Licence: cc-by-4.0").is_some());
    assert!(
        h.query_by_label_contains("A tiny model for tests")
            .is_some(),
        "model card rendered"
    );
    h.get_by_label_contains("Download (").click();
    wait_for(&mut h, "download to finish", |h| {
        h.query_by_label("✔ Downloaded").is_some()
    });
    let dir = tmp.path().join("models--Helsinki-NLP--opus-mt-tiny-en-de");
    assert!(dir.join("refs/main").is_file());

    h.get_by_label("Library").click();
    wait_for(&mut h, "library row", |h| {
        h.query_by_label(MARIAN).is_some()
    });
    assert!(h.query_by_label_contains("1 models").is_some());
    assert!(h.query_by_label("Open in Translate").is_some());
    h.get_by_label("Delete").click();
    wait_for(&mut h, "confirmation", |h| {
        h.query_by_label("Delete model").is_some()
    });
    h.get_by_label("Delete model").click();
    wait_for(&mut h, "deletion", |h| {
        h.query_by_label_contains("0 models").is_some()
    });
    assert!(!dir.exists());
    assert!(h.query_by_label_contains("freed").is_some());
}

#[test]
fn cancel_then_resume_from_the_details_view() {
    let mut repo = support::marian_repo(MARIAN, 3_000_000);
    repo.files.retain(|f| f.path != "pytorch_model.bin");
    let s = StandinHub::start(vec![repo]);
    s.inject(MARIAN, "model.safetensors", Fault::Slow(1_000_000));
    let tmp = tempfile::tempdir().unwrap();
    let mut h = harness(&s, tmp.path(), Settings::default());
    h.get_by_label("Search").click();
    wait_for(&mut h, "results", |h| h.query_by_label(MARIAN).is_some());
    h.get_by_label(MARIAN).click();
    wait_for(&mut h, "details", |h| {
        h.query_by_label_contains("Download (").is_some()
    });
    h.get_by_label_contains("Download (").click();
    wait_for(&mut h, "progress", |h| {
        h.query_by_label_contains("/s ·").is_some() || h.query_by_label_contains("left").is_some()
    });
    wait_for(&mut h, "cancel button", |h| {
        h.query_by_label("Cancel").is_some()
    });
    h.get_by_label("Cancel").click();
    wait_for(&mut h, "cancelled", |h| {
        h.query_by_label_contains("Resume download").is_some()
    });
    assert!(h.query_by_label_contains("kept for resuming").is_some());
    s.clear_faults();
    h.get_by_label_contains("Resume download").click();
    wait_for(&mut h, "download to finish", |h| {
        h.query_by_label("✔ Downloaded").is_some()
    });
    assert!(
        s.served(MARIAN, "model.safetensors") < 3_000_000 + 1_000_000,
        "resumed, not restarted"
    );
}

#[test]
fn offline_mode_says_so_and_blocks_network() {
    let s = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let settings = Settings {
        offline: true,
        ..Settings::default()
    };
    let mut h = harness(&s, tmp.path(), settings);
    h.step();
    assert!(h.query_by_label_contains("Offline:").is_some());
    h.get_by_label("Search").click();
    wait_for(&mut h, "offline message", |h| {
        h.query_by_label_contains("You are offline").is_some()
    });
    assert!(s.requests().is_empty(), "no request while offline");
    // Turning offline mode off in Settings makes search work.
    h.get_by_label("Settings").click();
    h.step();
    h.get_by_label("Offline mode: use only downloaded models")
        .click();
    h.step();
    h.get_by_label("Hub").click();
    h.step();
    h.get_by_label("Search").click();
    wait_for(&mut h, "results", |h| h.query_by_label(MARIAN).is_some());
}
