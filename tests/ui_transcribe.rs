//! The Transcribe page driven through its widgets with the real tiny.en
//! weights (CTranslate2, fetched by the test command) installed in the
//! cache: a WAV dropped on the window is transcribed, its segments appear,
//! and "Save .srt" writes subtitles beside it.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use spaceport::app::App;
use spaceport::settings::Settings;

#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

fn wait_for(h: &mut Harness<'_, App>, what: &str, done: impl Fn(&Harness<'_, App>) -> bool) {
    let start = Instant::now();
    while !done(h) {
        h.step();
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn drop_a_recording_see_segments_save_subtitles() {
    let model = support::whisper_ct2_dir();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    support::install_fixture(&cache, "Systran/faster-whisper-tiny.en", &model);
    let wav = tmp.path().join("dictation.wav");
    support::speak("Rice is often served in round bowls.", &wav);

    let cfg = spaceport::hub::HubConfig::local("http://127.0.0.1:9", &cache);
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1280.0, 900.0))
        .build_eframe(move |cc| {
            App::with_settings(&cc.egui_ctx, cfg, Settings::default()).unwrap()
        });
    h.get_by_label("Transcribe").click();
    wait_for(&mut h, "the page", |h| {
        h.query_by_label("Audio file").is_some()
    });
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(wav.clone())));
    wait_for(&mut h, "the transcript", |h| {
        h.query_by_label("Save .srt").is_some()
    });
    assert!(
        h.query_by_label_contains("bowls").is_some(),
        "a segment with the words"
    );
    h.get_by_label("Save .srt").click();
    let srt = wav.with_extension("srt");
    let start = Instant::now();
    while !srt.exists() {
        h.step();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no subtitles written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&srt).unwrap();
    assert!(
        text.starts_with("1\n00:00:0") && text.contains(" --> "),
        "{text}"
    );
    assert!(text.to_lowercase().contains("bowls"));
}
