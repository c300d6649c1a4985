//! What the demo pages share: the page shown before a model is downloaded
//! (which model the panel will use — the first downloaded model that runs
//! in it, else the catalog's recommendation — with download offers), and
//! the downloaded models of a panel in the catalog's order.

use std::path::PathBuf;

use super::{Cx, Intent};
use crate::app::DownloadState;
use crate::app::widgets::{model_picker, progress_ui};
use crate::catalog::{Panel, catalog};
use crate::format::format_bytes;
use crate::hub::cache::CachedModel;

/// The downloaded models for `panel` (repo id, snapshot folder), the
/// catalog's first in its order, then the others.
pub fn downloaded_for(cached: &[CachedModel], panel: Panel) -> Vec<(String, PathBuf)> {
    let mut models: Vec<(String, PathBuf)> = cached
        .iter()
        .filter(|m| m.verdict.panel() == Some(panel))
        .filter_map(|m| Some((m.repo.clone(), m.main_revision()?.path.clone())))
        .collect();
    let rank = |repo: &str| {
        catalog()
            .for_panel(panel)
            .position(|e| e.repo == repo)
            .unwrap_or(usize::MAX)
    };
    models.sort_by_key(|(r, _)| rank(r));
    models
}

/// The top of a demo page: its heading and a picker over the panel's
/// downloaded models, keeping `choice` and returning the chosen model's
/// folder; with none downloaded, the download offer ([`offer_ui`]) in
/// place of the page, and `None`.
pub fn heading_and_model(
    ui: &mut egui::Ui,
    cx: &mut Cx,
    panel: Panel,
    choice: &mut Option<String>,
) -> Option<PathBuf> {
    let models = downloaded_for(cx.cached(), panel);
    if models.is_empty() {
        offer_ui(ui, cx, panel);
        return None;
    }
    ui.heading(panel.label());
    Some(model_picker(
        ui,
        &format!("{}-model", panel.label().to_lowercase()),
        &models,
        choice,
    ))
}

/// A demo page with no model yet: what it will use and the catalog's
/// models for it, each with Download (or its progress and Cancel).
pub fn offer_ui(ui: &mut egui::Ui, cx: &mut Cx, panel: Panel) {
    ui.heading(panel.label());
    let downloaded: Vec<String> = cx
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
    ui.label(
        "Download a model below to start; it is kept in the Hugging Face cache and works offline.",
    );
    ui.add_space(8.0);
    ui.strong("Models for this panel");
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::Grid::new(("catalog", panel))
                .striped(true)
                .spacing([14.0, 6.0])
                .show(ui, |ui| {
                    for e in catalog().for_panel(panel) {
                        ui.label(&e.name).on_hover_text(&e.repo);
                        ui.label(e.languages.join(" to "));
                        ui.label(format_bytes(e.size_mb * 1_000_000));
                        let state = cx.downloads.get(&e.repo).cloned();
                        ui.horizontal(|ui| match state {
                            Some(DownloadState::Running(p) | DownloadState::Cancelling(p)) => {
                                progress_ui(ui, &p);
                                if ui.button("Cancel").clicked() {
                                    cx.cancel_download(&e.repo);
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
                                    .add_enabled(!cx.offline(), egui::Button::new(label))
                                    .clicked()
                                {
                                    cx.start_download(e.repo.clone());
                                }
                                if ui.button("Details").clicked() {
                                    cx.intents.push(Intent::OpenDetails(e.repo.clone()));
                                }
                            }
                        });
                        ui.end_row();
                    }
                });
        });
}
