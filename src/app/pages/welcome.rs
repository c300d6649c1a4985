//! The Welcome page, the start page of a fresh profile: one card per demo
//! (what it does, the model it uses, that model's download size as the Hub
//! gives it and how long it takes on this connection) with one button that
//! downloads the recommended model and opens the demo with an example
//! running — or, for a demo whose model is downloaded, "Ready" and opens
//! it at once — and cards for the Datasets and Evaluate pages.

use super::{Cx, Intent, View};
use crate::app::widgets::progress_ui;
use crate::app::{DownloadState, Page};
use crate::catalog::{Panel, catalog};
use crate::workers::{Command, Event};

/// The Welcome page.
#[derive(Debug, Default)]
pub struct WelcomePage {
    /// The sizes were asked for.
    asked: bool,
    /// The demo whose card was clicked, waiting for its model's download
    /// to land in the cache; then it opens with an example.
    pub pending: Option<Panel>,
}

/// A demo card's words: its title, what it does, and its button's verb.
fn words(panel: Panel) -> (&'static str, &'static str, &'static str) {
    match panel {
        Panel::Translate => (
            "Translate text",
            "Type a sentence in one language and read it in another, as you type.",
            "Try translation",
        ),
        Panel::Caption => (
            "Caption pictures",
            "Drop in a photograph (or a folder of them) and get a sentence describing each.",
            "Try captions",
        ),
        Panel::Transcribe => (
            "Transcribe speech",
            "Turn a recording, or what you say into the microphone, into text with timings.",
            "Try transcription",
        ),
    }
}

/// How long `bytes` take at `rate` bytes a second, in words.
fn how_long(bytes: u64, rate: f64) -> String {
    let secs = bytes as f64 / rate.max(1.0);
    if secs < 10.0 {
        "a few seconds".into()
    } else if secs < 90.0 {
        format!("about {} seconds", (secs / 10.0).round() as u64 * 10)
    } else if secs < 3600.0 {
        format!("about {} minutes", (secs / 60.0).round() as u64)
    } else {
        format!("about {:.1} hours", secs / 3600.0)
    }
}

/// A typical home connection (50 Mbit/s), for an estimate before this
/// connection has been measured.
const TYPICAL_BPS: f64 = 50e6 / 8.0;

impl WelcomePage {
    fn demo_card(&mut self, ui: &mut egui::Ui, cx: &mut Cx, panel: Panel) {
        let (title, what, verb) = words(panel);
        ui.heading(title);
        ui.label(what);
        ui.add_space(4.0);
        let ready = super::demo::downloaded_for(cx.cached(), panel);
        if let Some((repo, _)) = ready.first() {
            ui.label(format!("Uses {repo}."));
            ui.colored_label(egui::Color32::from_rgb(60, 160, 90), "✔ Ready");
            if ui.button(verb).clicked() {
                cx.intents.push(Intent::TryExample(panel));
            }
            return;
        }
        let Some(rec) = catalog().recommended(panel) else {
            ui.label("No model is recommended for this demo.");
            return;
        };
        ui.label(format!("Uses {} ({}).", rec.name, rec.repo));
        let size = cx.size_words(&rec.repo, rec.size_mb);
        let bytes = cx
            .hub_sizes
            .get(&rec.repo)
            .copied()
            .unwrap_or(rec.size_mb * 1_000_000);
        let time = match cx.settings.download_rate_bps {
            Some(rate) => format!("{} on this connection", how_long(bytes, rate)),
            None => format!("{} on a 50 Mbit/s connection", how_long(bytes, TYPICAL_BPS)),
        };
        ui.label(format!("Download: {size}, {time}; then it works offline."));
        match cx.downloads.get(&rec.repo).cloned() {
            Some(DownloadState::Running(p) | DownloadState::Cancelling(p)) => {
                progress_ui(ui, &p);
                if ui.button("Cancel").clicked() {
                    cx.cancel_download(&rec.repo);
                    self.pending = None;
                }
            }
            Some(DownloadState::Done { .. }) => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Downloaded; opening…");
                });
            }
            state => {
                if let Some(DownloadState::Failed(e)) = state {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        format!("The download failed: {e}"),
                    );
                }
                let button = ui
                    .add_enabled(
                        !cx.offline(),
                        egui::Button::new(format!("Download and {} ({size})", verb.to_lowercase())),
                    )
                    .on_hover_text(format!(
                        "Downloads {} into the Hugging Face cache, then opens {} with an example",
                        rec.repo,
                        panel.label()
                    ))
                    .on_disabled_hover_text(
                        "Offline: turn offline mode off in Settings to download",
                    );
                if button.clicked() {
                    cx.start_download(rec.repo.clone());
                    self.pending = Some(panel);
                }
            }
        }
    }

    fn page_card(ui: &mut egui::Ui, cx: &mut Cx, page: Page) {
        let (title, what, button) = match page {
            Page::Datasets => (
                "Look at datasets",
                "Browse a dataset from the Hub or your own files: its rows, pictures and sounds, a page at a time.",
                "Open Datasets",
            ),
            _ => (
                "Compare models",
                "Score downloaded models on a dataset with WER, BLEU, chrF or CIDEr, and compare runs side by side.",
                "Open Evaluate",
            ),
        };
        ui.heading(title);
        ui.label(what);
        ui.add_space(4.0);
        if ui.button(button).clicked() {
            cx.intents.push(Intent::Open(page));
        }
    }
}

/// A card's width inside its frame, its width with the frame, and the
/// space between cards.
const CARD_WIDTH: f32 = 280.0;
const CARD_OUTER: f32 = CARD_WIDTH + 2.0 * 12.0 + 2.0;
const GAP: f32 = 12.0;

/// A card's frame.
fn card(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui)) {
    egui::Frame::group(ui.style())
        .inner_margin(12.0)
        .corner_radius(8.0)
        .show(ui, |ui| {
            ui.set_width(CARD_WIDTH);
            ui.set_min_height(170.0);
            ui.vertical(add);
        });
}

impl View for WelcomePage {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        if !self.asked && !cx.offline() {
            // The real download sizes, from the Hub (the catalog's are
            // only approximate).
            self.asked = true;
            for panel in Panel::ALL {
                if let Some(rec) = catalog().recommended(panel) {
                    cx.send(Command::Details {
                        repo: rec.repo.clone(),
                        revision: "main".into(),
                    });
                }
            }
        }
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.heading("Welcome to Spaceport");
                ui.label(
                    "Try Hugging Face models on this computer: each is downloaded once into the \
                     Hugging Face cache, then runs here, offline. Pick a demo to start — one \
                     click downloads its model and runs an example.",
                );
                ui.add_space(10.0);
                // As many cards a row as fit (frames do not wrap by
                // themselves).
                let cards: Vec<Result<Panel, Page>> = Panel::ALL
                    .into_iter()
                    .map(Ok)
                    .chain([Err(Page::Datasets), Err(Page::Evaluate)])
                    .collect();
                let per_row = ((ui.available_width() + GAP) / (CARD_OUTER + GAP)).max(1.0) as usize;
                for row in cards.chunks(per_row) {
                    ui.horizontal_top(|ui| {
                        ui.spacing_mut().item_spacing.x = GAP;
                        for c in row {
                            card(ui, |ui| match *c {
                                Ok(panel) => self.demo_card(ui, cx, panel),
                                Err(page) => Self::page_card(ui, cx, page),
                            });
                        }
                    });
                    ui.add_space(GAP);
                }
                ui.add_space(10.0);
                ui.horizontal_wrapped(|ui| {
                    ui.label("Looking for another model?");
                    if ui.link("Search the Hub").clicked() {
                        cx.intents.push(Intent::Open(Page::Hub));
                    }
                    ui.label("·");
                    if ui.link("Keyboard and help").clicked() {
                        cx.intents.push(Intent::Open(Page::Help));
                    }
                });
            });
    }

    /// Opens the demo whose model has just landed in the cache (the
    /// event goes on to the shared context too).
    fn on_event(&mut self, event: Event, cx: &mut Cx) -> Option<Event> {
        match &event {
            Event::Cache(models) => {
                if let Some(panel) = self.pending
                    && !super::demo::downloaded_for(models, panel).is_empty()
                {
                    self.pending = None;
                    cx.intents.push(Intent::TryExample(panel));
                }
            }
            Event::DownloadFailed { repo, .. }
                if self
                    .pending
                    .and_then(|p| catalog().recommended(p))
                    .is_some_and(|r| &r.repo == repo) =>
            {
                self.pending = None;
            }
            _ => {}
        }
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_read_as_words() {
        assert_eq!(how_long(1_000_000, 1e6), "a few seconds");
        assert_eq!(how_long(300_000_000, TYPICAL_BPS), "about 50 seconds");
        assert_eq!(how_long(990_000_000, TYPICAL_BPS), "about 3 minutes");
        assert_eq!(how_long(10_000_000_000, 1e6), "about 2.8 hours");
    }
}
