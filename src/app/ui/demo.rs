//! What the demo pages share: the page shown before a model is downloaded
//! (which model the panel will use — the first downloaded model that runs
//! in it, else the catalog's recommendation — with download offers), the
//! downloaded models of a panel and the picker over them, and files
//! dropped on the window with the highlighted drop area.

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
        ui.label("Download a model below to start; it is kept in the Hugging Face cache and works offline.");
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

impl App {
    /// The downloaded models for `panel` (repo id, snapshot folder), the
    /// catalog's first in its order, then the others.
    pub(super) fn downloaded_for(&self, panel: Panel) -> Vec<(String, std::path::PathBuf)> {
        let mut models: Vec<(String, std::path::PathBuf)> = self
            .cached()
            .iter()
            .filter(|m| m.verdict.panel() == Some(panel))
            .filter_map(|m| Some((m.repo.clone(), m.main_revision()?.path.clone())))
            .collect();
        let rank = |repo: &str| {
            crate::catalog::catalog()
                .for_panel(panel)
                .position(|e| e.repo == repo)
                .unwrap_or(usize::MAX)
        };
        models.sort_by_key(|(r, _)| rank(r));
        models
    }
}

/// A "Model" picker over `models` (not empty): keeps `choice` on one of
/// them (the first by default) and returns its folder.
pub(super) fn model_picker(
    ui: &mut egui::Ui,
    id: &str,
    models: &[(String, std::path::PathBuf)],
    choice: &mut Option<String>,
) -> std::path::PathBuf {
    let mut pick = choice
        .clone()
        .filter(|m| models.iter().any(|(r, _)| r == m))
        .unwrap_or_else(|| models[0].0.clone());
    ui.horizontal(|ui| {
        let label = ui.label("Model");
        egui::ComboBox::from_id_salt(id)
            .selected_text(&pick)
            .show_ui(ui, |ui| {
                for (r, _) in models {
                    ui.selectable_value(&mut pick, r.clone(), r);
                }
            })
            .response
            .labelled_by(label.id);
    });
    let dir = models
        .iter()
        .find(|(r, _)| *r == pick)
        .map(|(_, d)| d.clone())
        .unwrap_or_else(|| models[0].1.clone());
    *choice = Some(pick);
    dir
}

/// Whether files hover over the window, and the files dropped on it this
/// frame.
pub(super) fn dropped_files(ui: &egui::Ui) -> (bool, Vec<std::path::PathBuf>) {
    ui.ctx().input(|i| {
        (
            !i.raw.hovered_files.is_empty(),
            i.raw
                .dropped_files
                .iter()
                .filter_map(|f| {
                    let p = f.path();
                    (!p.as_os_str().is_empty()).then(|| p.to_path_buf())
                })
                .collect(),
        )
    })
}

/// The frame around a drop area, highlighted while files hover.
pub(super) fn drop_frame(ui: &egui::Ui, hovering: bool) -> egui::Frame {
    egui::Frame::group(ui.style()).stroke(if hovering {
        egui::Stroke::new(2.0, ui.visuals().selection.bg_fill)
    } else {
        ui.visuals().widgets.noninteractive.bg_stroke
    })
}
