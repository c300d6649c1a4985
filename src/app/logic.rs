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
