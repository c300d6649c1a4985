//! The real `App` driven through its widgets (egui_kittest), with its
//! workers pointed at the stand-in Hub and a temporary cache: search, open
//! details, download, see it in the Library, delete it; cancel and resume;
//! offline mode.

use crate::support;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use spaceport::app::App;
use spaceport::settings::Settings;
use support::standin_hub::{Fault, StandinHub};
use support::ui::wait_for;

const MARIAN: &str = "Helsinki-NLP/opus-mt-tiny-en-de";

/// The app on the Hub page (a fresh profile starts on Welcome).
fn harness(s: &StandinHub, cache: &std::path::Path, settings: Settings) -> Harness<'static, App> {
    let mut h = support::ui::app_harness(support::config(s, cache), settings);
    h.state_mut().open_page(spaceport::app::Page::Hub);
    h.step();
    h
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
    assert!(h.query_by_label_contains("1 model,").is_some());
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
        h.query_by_label_contains("offline mode is on").is_some()
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

#[test]
fn load_more_pages_through_results() {
    let s = support::start_hub();
    s.cap_page_size(3);
    let tmp = tempfile::tempdir().unwrap();
    let mut h = harness(&s, tmp.path(), Settings::default());
    h.get_by_label("Search").click();
    wait_for(&mut h, "first page", |h| {
        h.query_by_label("Load more").is_some()
    });
    let rows = |h: &Harness<'_, App>| {
        h.query_all_by_label_contains("Runs here").count()
            + h.query_all_by_label("Doesn't run here").count()
    };
    assert_eq!(rows(&h), 3);
    h.get_by_label("Load more").click();
    wait_for(&mut h, "second page", |h| rows(h) == 6);
    h.get_by_label("Load more").click();
    wait_for(&mut h, "last page", |h| rows(h) == 7);
    assert!(h.query_by_label("Load more").is_none());
}

#[test]
fn a_token_saved_in_settings_goes_to_the_token_file_and_unlocks_gated_models() {
    let s = support::start_hub();
    s.allow_token("hf_UiToken789");
    let tmp = tempfile::tempdir().unwrap();
    let mut h = harness(&s, tmp.path(), Settings::default());
    h.get_by_label("Settings").click();
    h.step();
    h.get_by_label("New token").focus();
    h.step();
    h.get_by_label("New token").type_text("hf_UiToken789");
    h.step();
    h.get_by_label("Save token").click();
    wait_for(&mut h, "token saved", |h| {
        h.query_by_label_contains("A token is set").is_some()
    });
    let token_file = tmp.path().join("token");
    assert_eq!(
        std::fs::read_to_string(&token_file).unwrap(),
        "hf_UiToken789"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // The token is shown masked, never in full.
    assert!(h.query_by_label_contains("hf_UiToken789").is_none());
    h.get_by_label("Hub").click();
    h.step();
    h.get_by_label("Search models").focus();
    h.step();
    h.get_by_label("Search models").type_text("gated");
    h.get_by_label("Search").click();
    wait_for(&mut h, "gated result", |h| {
        h.query_by_label("gated-org/opus-mt-gated").is_some()
    });
    h.get_by_label("gated-org/opus-mt-gated").click();
    wait_for(&mut h, "details", |h| {
        h.query_by_label_contains("Download (").is_some()
    });
    h.get_by_label_contains("Download (").click();
    wait_for(&mut h, "gated download", |h| {
        h.query_by_label("✔ Downloaded").is_some()
    });
}

#[test]
fn settings_persist_across_restarts() {
    let s = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let mut h = harness(&s, tmp.path(), Settings::default());
    h.get_by_label("Settings").click();
    h.step();
    h.get_by_label("Dark").click();
    h.step();
    h.get_by_label("Offline mode: use only downloaded models")
        .click();
    h.step();
    let mut storage = support::ui::MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let saved: Settings =
        eframe::get_value(&storage, spaceport::settings::STORAGE_KEY).expect("settings saved");
    assert_eq!(saved.theme, spaceport::settings::Theme::Dark);
    assert!(saved.offline);
    // A new window starts from what was saved.
    let mut h2 = harness(&s, tmp.path(), saved);
    h2.step();
    assert!(h2.query_by_label_contains("Offline:").is_some());
    assert_eq!(
        h2.state().cx.settings.theme,
        spaceport::settings::Theme::Dark
    );
}

#[test]
fn results_get_the_sizes_the_list_lacks_and_mark_what_is_downloaded() {
    let s = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    support::install_fixture(
        tmp.path(),
        MARIAN,
        std::path::Path::new("tests/fixtures/marian/tiny-en-de"),
    );
    // The CTranslate2 repo has no safetensors: the list gives no size.
    let ct2 = "Systran/faster-whisper-tiny-test";
    let expected = spaceport::hub::Hub::new(support::config(&s, tmp.path()))
        .details(ct2, "main")
        .unwrap()
        .download_bytes;
    let size = spaceport::format::format_bytes(expected);
    let mut h = harness(&s, tmp.path(), Settings::default());
    h.get_by_label("Search").click();
    wait_for(&mut h, "results", |h| h.query_by_label(ct2).is_some());
    wait_for(&mut h, "the size from the model's details", |h| {
        h.query_all_by_label(&size).next().is_some()
    });
    assert!(
        h.query_by_label("✔ downloaded").is_some(),
        "the downloaded model is marked: {:?}",
        support::ui::window_text(&h)
    );
}
