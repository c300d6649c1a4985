//! Driving the real `App` in egui_kittest: step until something shows,
//! and read everything the window says.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use spaceport::app::App;
use spaceport::app::dialogs::DialogRequest;
use spaceport::settings::Settings;
use spaceport::workers::Dialog;

/// The real `App` in a 1280×900 window, its workers on `config` (a
/// stand-in Hub, or a dead address where everything is local).
pub fn app_harness(config: spaceport::hub::HubConfig, settings: Settings) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::Vec2::new(1280.0, 900.0))
        .build_eframe(move |cc| {
            let mut app =
                App::with_settings(&cc.egui_ctx, config, settings).expect("workers start");
            // Kept runs go to a folder of the test's own.
            app.cx.data_dir = tempfile::tempdir().expect("a temporary folder").keep();
            app
        })
}

/// The app with everything local: no Hub is reached.
pub fn local_app(cache: &Path) -> Harness<'static, App> {
    app_harness(
        spaceport::hub::HubConfig::local("http://127.0.0.1:9", cache),
        Settings::default(),
    )
}

/// The finished transcript on the Transcribe page (after "Copy text" shows).
pub fn transcript_text(h: &Harness<'_, App>) -> String {
    h.state()
        .transcribe
        .transcript
        .as_ref()
        .map(|t| t.text.clone())
        .expect("a finished transcript")
}

/// Every label and value in the window, in tree order.
pub fn window_text(h: &Harness<'_, App>) -> Vec<String> {
    h.query_all_by(|_| true)
        .flat_map(|n| {
            let node = n.accesskit_node();
            [node.label(), node.value()]
        })
        .flatten()
        .collect()
}

/// Steps the UI until `done` holds (the workers answer asynchronously);
/// steps at least once, so a click just made is seen before `done` is
/// asked. After a minute fails with what the window shows.
pub fn wait_for(h: &mut Harness<'_, App>, what: &str, done: impl Fn(&Harness<'_, App>) -> bool) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h) {
            return;
        }
        if start.elapsed() > Duration::from_secs(60) {
            panic!(
                "timed out waiting for {what}; the window shows: {:#?}",
                window_text(h)
            );
        }
        std::thread::sleep(Duration::from_millis(15));
    }
}

/// A file dropped on the window (egui's `DroppedFile` in the harness).
#[derive(Debug)]
pub struct Dropped(pub std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// From now on the file dialogs answer with `paths`; returns what they
/// were asked.
pub fn answer_dialogs(
    h: &mut Harness<'_, App>,
    paths: Vec<PathBuf>,
) -> Arc<Mutex<Vec<DialogRequest>>> {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    h.state_mut().cx.chooser = Arc::new(move |req: &DialogRequest| {
        log.lock().unwrap().push(req.clone());
        let paths = paths.clone();
        Dialog(Box::pin(async move { Ok(paths) }))
    });
    asked
}

/// Steps the UI until `path` has been written; its text.
pub fn wait_for_file(h: &mut Harness<'_, App>, path: &Path) -> String {
    let start = Instant::now();
    loop {
        h.step();
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            return text;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} not written; the window shows {:?}",
            path.display(),
            window_text(h)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// eframe's storage in memory: what an App saves, for a restart in a test.
#[derive(Default)]
pub struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}
