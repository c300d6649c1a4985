//! Turns worker events into state. Runs before every frame and also while
//! the window is hidden; it never draws and never blocks. Each page takes
//! its own events ([`super::View::on_event`]); what no page takes is the
//! shared context's (downloads, the cache, saved files).

use super::App;
use crate::workers::Event;

impl App {
    /// Applies every event that has arrived since the last frame.
    pub fn drain_events(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            self.apply(event);
        }
    }

    fn apply(&mut self, event: Event) {
        // What the shared context keeps from events a page also takes:
        // the last error, and each download size the Hub gives.
        if let Some(error) = failure(&event) {
            self.cx.last_error = Some(error.to_string());
        }
        if let Event::Details(d) = &event
            && d.download_bytes > 0
            && !d.from_cache
        {
            self.cx
                .hub_sizes
                .insert(d.summary.id.clone(), d.download_bytes);
        }
        let (views, cx) = self.views();
        let mut event = Some(event);
        for (_, view) in views {
            match event.take() {
                Some(e) => event = view.on_event(e, cx),
                None => return,
            }
        }
        if let Some(e) = event {
            cx.on_event(e);
        }
    }
}

/// What went wrong, when `event` says a job failed.
fn failure(event: &Event) -> Option<&str> {
    match event {
        Event::TranslationFailed { error, .. }
        | Event::TranscriptionFailed { error, .. }
        | Event::EvalFailed { error, .. }
        | Event::DatasetFailed { error, .. }
        | Event::ExportFailed { error, .. }
        | Event::DownloadFailed {
            error,
            cancelled: false,
            ..
        }
        | Event::SaveFailed { error, .. }
        | Event::DeleteFailed { error, .. } => Some(error),
        Event::CaptionFinished {
            error: Some(error), ..
        }
        | Event::DictationDone {
            error: Some(error), ..
        } => Some(error),
        Event::CaptionItem {
            result: Err(error), ..
        } => Some(error),
        _ => None,
    }
}
