//! The Welcome page, the start page of a fresh profile: one card per demo
//! (what it does, the model it uses, that model's download size as the Hub
//! gives it and how long it takes on this connection) with one button that
//! downloads the recommended model and opens the demo with an example
//! running — or, for a demo whose model is downloaded, "Ready" and opens
//! it at once — and cards for the Datasets and Evaluate pages.

use std::collections::BTreeMap;

use super::{Cx, Intent, View};
use crate::app::widgets::progress_ui;
use crate::app::{DownloadState, Page};
use crate::catalog::{Panel, catalog};
use crate::format::format_bytes;
use crate::workers::{Command, Event};

/// The Welcome page.
#[derive(Debug, Default)]
pub struct WelcomePage {
    /// Each recommended model's download size, as the Hub said (bytes).
    pub sizes: BTreeMap<String, u64>,
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
    /// The download size of `repo` and where it comes from.
    fn size_words(&self, repo: &str, approx_mb: u64) -> (u64, String) {
        match self.sizes.get(repo) {
            Some(&b) => (b, format_bytes(b)),
            None => {
                let b = approx_mb * 1_000_000;
                (b, format!("about {}", format_bytes(b)))
            }
        }
    }

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
        let (bytes, size) = self.size_words(&rec.repo, rec.size_mb);
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

/// A card's frame.
fn card(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui)) {
    egui::Frame::group(ui.style())
        .inner_margin(12.0)
        .corner_radius(8.0)
        .show(ui, |ui| {
            ui.set_width(280.0);
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
                ui.horizontal_wrapped(|ui| {
                    ui.spacing_mut().item_spacing = egui::vec2(12.0, 12.0);
                    for panel in Panel::ALL {
                        card(ui, |ui| self.demo_card(ui, cx, panel));
                    }
                    for page in [Page::Datasets, Page::Evaluate] {
                        card(ui, |ui| Self::page_card(ui, cx, page));
                    }
                });
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

    /// Keeps the sizes the Hub gives for the recommended models (the
    /// event goes on to the Hub page too); opens the demo whose model has
    /// just landed in the cache.
    fn on_event(&mut self, event: Event, cx: &mut Cx) -> Option<Event> {
        let recommended = |repo: &str| {
            Panel::ALL
                .iter()
                .any(|p| catalog().recommended(*p).is_some_and(|r| r.repo == repo))
        };
        match &event {
            Event::Details(d) if recommended(&d.summary.id) && d.download_bytes > 0 => {
                self.sizes.insert(d.summary.id.clone(), d.download_bytes);
            }
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
