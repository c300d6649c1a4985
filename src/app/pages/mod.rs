//! Pages that own their state: each page is one struct with its state, a
//! `ui(&mut self, ui, cx)` that draws it and turns clicks into commands,
//! and an `on_event` for the worker events that are its own (as
//! egui_demo_lib's `View`). [`Cx`] carries what every page needs from the
//! app: sending a command, the downloaded models, the downloads running,
//! the settings, notices, and [`Intent`]s for what only the app can do
//! (open another page, start a download). The Translate page is the first
//! in this shape; the others are still drawn by `ui/` over `App`.

pub mod translate;

use std::collections::BTreeMap;

use super::{DownloadState, Notice};
use crate::hub::cache::CachedModel;
use crate::settings::Settings;
use crate::workers::{Command, Workers};

/// What a page asks of the app, done after the page has drawn.
#[derive(Debug, PartialEq)]
pub enum Intent {
    StartDownload(String),
    CancelDownload(String),
    OpenDetails(String),
}

/// What every page may use while it draws.
pub struct Cx<'a> {
    pub(super) workers: &'a Workers,
    pub(super) notices: &'a mut Vec<Notice>,
    /// The models in the cache (the last scan).
    pub cached: &'a [CachedModel],
    pub downloads: &'a BTreeMap<String, DownloadState>,
    pub settings: &'a Settings,
    /// Whether the Hub must not be asked (offline mode).
    pub offline: bool,
    /// What the page asked of the app this frame.
    pub intents: Vec<Intent>,
}

impl Cx<'_> {
    /// Queues a command; a full queue is said, not swallowed.
    pub fn send(&mut self, cmd: Command) {
        send(self.workers, self.notices, cmd);
    }

    pub fn notify(&mut self, text: String) {
        self.notices.push(Notice::new(text, false));
    }
}

/// Queues `cmd` without waiting; a full queue becomes a notice (shared by
/// `App::send` and the pages' `Cx::send`).
pub(super) fn send(workers: &Workers, notices: &mut Vec<Notice>, cmd: Command) {
    if !workers.send(cmd) {
        notify_error(notices, "Spaceport is busy; try again in a moment.".into());
    }
}

/// Adds an error notice unless the same one is showing.
pub(super) fn notify_error(notices: &mut Vec<Notice>, text: String) {
    if !notices.iter().any(|n| n.text == text) {
        notices.push(Notice::new(text, true));
    }
}
