//! The Translate, Caption and Transcribe pages. Until their demos land they
//! say which model they will use — the first downloaded model that runs in
//! the panel, else the catalog's recommendation — and offer downloads.

use crate::app::{App, DownloadState};
use crate::catalog::{Panel, catalog};
use crate::format::format_bytes;

use super::progress_ui;

impl App {
    pub(super) fn demo_page_ui(&mut self, ui: &mut egui::Ui, panel: Panel) {
        ui.heading(panel.label());
        let downloaded: Vec<String> = self
            .cached()
            .iter()
            .filter(|m| m.verdict.panel() == Some(panel))
            .map(|m| m.repo.clone())
            .collect();
        match downloaded.first() {
            Some(repo) => {
                ui.label(format!("This panel will use {repo}."));
            }
            None => match catalog().recommended(panel) {
                Some(rec) => {
                    ui.label(format!(
                        "No {} model is downloaded yet. The recommended one is {} ({}, about {} MB).",
                        panel.label().to_lowercase(),
                        rec.name,
                        rec.repo,
                        rec.size_mb
                    ));
                }
                None => {
                    ui.label("No model is downloaded for this panel yet.");
                }
            },
        }
        ui.label("The interactive demo arrives in a coming version; models downloaded now are used by it.");
        ui.add_space(8.0);
        ui.strong("Models for this panel");
        let entries: Vec<_> = catalog().for_panel(panel).cloned().collect();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new(("catalog", panel))
                    .striped(true)
                    .spacing([14.0, 6.0])
                    .show(ui, |ui| {
                        for e in entries {
                            ui.label(&e.name).on_hover_text(&e.repo);
                            ui.label(e.languages.join(" to "));
                            ui.label(format_bytes(e.size_mb * 1_000_000));
                            let state = self.downloads.get(&e.repo).cloned();
                            ui.horizontal(|ui| match state {
                                Some(DownloadState::Running(p) | DownloadState::Cancelling(p)) => {
                                    progress_ui(ui, &p);
                                    if ui.button("Cancel").clicked() {
                                        self.cancel_download(&e.repo);
                                    }
                                }
                                _ if downloaded.contains(&e.repo) => {
                                    ui.label("✔ Downloaded");
                                }
                                _ => {
                                    let label = if e.recommended {
                                        "Download (recommended)"
                                    } else {
                                        "Download"
                                    };
                                    if ui
                                        .add_enabled(!self.offline(), egui::Button::new(label))
                                        .clicked()
                                    {
                                        self.start_download(e.repo.clone());
                                    }
                                    if ui.button("Details").clicked() {
                                        self.open_details(e.repo.clone());
                                    }
                                }
                            });
                            ui.end_row();
                        }
                    });
            });
    }
}
