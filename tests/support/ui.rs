//! Driving the real `App` in egui_kittest: step until something shows,
//! and read everything the window says.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use spaceport::app::App;

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
