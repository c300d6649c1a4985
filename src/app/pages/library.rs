//! The Library page: downloaded models with size, revision and where they
//! run; "open in panel", resume of unfinished downloads, delete with a
//! confirmation, and the total disk use of the cache.

use super::{Cx, Intent, LibraryState, View};
use crate::app::DownloadState;
use crate::app::widgets::{progress_ui, verdict_badge_ui};
use crate::format::format_bytes;
use crate::hub::cache::CachedModel;
use crate::workers::Command;

/// The Library page; the list itself is the app's ([`Cx::library`]),
/// shared with the demo pages.
#[derive(Debug, Default)]
pub struct LibraryPage {
    /// The model a "Delete X?" dialog is asking about.
    pub confirm_delete: Option<String>,
}

impl View for LibraryPage {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        ui.horizontal(|ui| {
            ui.heading("Library");
            if ui.button("Refresh").clicked() {
                cx.send(Command::ScanCache);
            }
        });
        if !cx.cached_datasets.is_empty() {
            ui.strong("Datasets");
            let mut open = None;
            egui::Grid::new("library-datasets")
                .striped(true)
                .spacing([14.0, 6.0])
                .show(ui, |ui| {
                    for d in &cx.cached_datasets {
                        ui.label(&d.id);
                        ui.label(format_bytes(d.size_bytes));
                        ui.label(d.refs.join(", "));
                        if ui.button("Open in Datasets").clicked() {
                            open = Some(d.id.clone());
                        }
                        ui.end_row();
                    }
                });
            if let Some(id) = open {
                cx.intents.push(Intent::OpenDataset(id));
            }
            ui.separator();
        }
        // Borrow the list out of `cx` for the frame instead of cloning it.
        match std::mem::take(&mut cx.library) {
            LibraryState::Ready(models) => {
                self.models_ui(ui, cx, &models);
                cx.library = LibraryState::Ready(models);
            }
            other => {
                match &other {
                    LibraryState::Failed(e) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                    _ => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label("Looking through the cache…");
                        });
                    }
                }
                cx.library = other;
            }
        }
        if self.confirm_delete.is_some() {
            self.confirm_delete_ui(ui, cx);
        }
    }
}

impl LibraryPage {
    fn models_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx, models: &[CachedModel]) {
        let total: u64 = models.iter().map(|m| m.size_bytes).sum();
        ui.label(format!(
            "{}, {} in {}",
            crate::format::count_models(models.len()),
            format_bytes(total),
            cx.config.cache_dir.display()
        ));
        ui.separator();
        // Downloads of models the last scan did not see yet.
        let new: Vec<(String, crate::hub::DownloadProgress)> = cx
            .downloads
            .iter()
            .filter(|(repo, _)| !models.iter().any(|m| &m.repo == *repo))
            .filter_map(|(repo, d)| match d {
                DownloadState::Running(p) | DownloadState::Cancelling(p) => {
                    Some((repo.clone(), p.clone()))
                }
                _ => None,
            })
            .collect();
        for (repo, p) in new {
            ui.horizontal(|ui| {
                ui.label(format!("Downloading {repo}"));
                progress_ui(ui, &p);
                if ui.button("Cancel").clicked() {
                    cx.cancel_download(&repo);
                }
            });
        }
        if models.is_empty() {
            if cx.downloads.is_empty() {
                ui.label("Nothing downloaded yet. Find a model on the Hub page, or download a panel's recommended model from its page.");
            }
            return;
        }
        // A narrow window shows the revision and whether it runs here on
        // hover instead of in columns, so Open and Delete stay in view.
        let wide = ui.available_width() >= 900.0;
        egui::ScrollArea::both()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("library")
                    .striped(true)
                    .spacing([14.0, 6.0])
                    .show(ui, |ui| {
                        for h in ["Model", "Size", "Revision", "Runs", "Measured here", ""] {
                            if wide || !matches!(h, "Revision" | "Runs") {
                                ui.strong(h);
                            }
                        }
                        ui.end_row();
                        for m in models {
                            let rev = m
                                .main_revision()
                                .map(|r| {
                                    let refs = if r.refs.is_empty() {
                                        String::new()
                                    } else {
                                        format!(" ({})", r.refs.join(", "))
                                    };
                                    format!("{}{refs}", &r.commit[..r.commit.len().min(10)])
                                })
                                .unwrap_or_else(|| "—".into());
                            if ui
                                .link(&m.repo)
                                .on_hover_text(format!("Revision {rev}. {}", m.verdict.explain()))
                                .clicked()
                            {
                                cx.intents.push(Intent::OpenDetails(m.repo.clone()));
                            }
                            ui.label(format_bytes(m.size_bytes));
                            if wide {
                                ui.label(rev);
                                verdict_badge_ui(ui, &m.verdict);
                            }
                            measured_ui(ui, cx, m);
                            ui.horizontal(|ui| {
                                if let Some(panel) = m.verdict.panel()
                                    && ui.button(format!("Open in {}", panel.label())).clicked()
                                {
                                    cx.intents.push(Intent::OpenModel {
                                        panel,
                                        repo: m.repo.clone(),
                                    });
                                }
                                if let Some(
                                    DownloadState::Running(p) | DownloadState::Cancelling(p),
                                ) = cx.downloads.get(&m.repo).cloned()
                                {
                                    progress_ui(ui, &p);
                                    if ui.button("Cancel").clicked() {
                                        cx.cancel_download(&m.repo);
                                    }
                                } else if m.incomplete_bytes > 0 || !m.verdict.runs_here() {
                                    let can = !cx.offline();
                                    if ui
                                        .add_enabled(can, egui::Button::new("Resume download"))
                                        .on_hover_text(format!(
                                            "{} fetched so far",
                                            format_bytes(m.incomplete_bytes)
                                        ))
                                        .clicked()
                                    {
                                        cx.start_download(m.repo.clone());
                                    }
                                }
                                if ui
                                    .button("Delete")
                                    .on_hover_text(format!("Delete {}", m.repo))
                                    .clicked()
                                {
                                    self.confirm_delete = Some(m.repo.clone());
                                }
                            });
                            ui.end_row();
                        }
                    });
            });
    }

    /// The "Delete X?" dialog.
    fn confirm_delete_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        let Some(repo) = self.confirm_delete.clone() else {
            return;
        };
        let size = cx
            .cached()
            .iter()
            .find(|m| m.repo == repo)
            .map(|m| format_bytes(m.size_bytes))
            .unwrap_or_default();
        let modal = egui::Modal::new(egui::Id::unique("confirm-delete")).show(ui.ctx(), |ui| {
            ui.heading(format!("Delete {repo}?"));
            ui.label(format!(
                "This frees {size}. You can download it again later."
            ));
            ui.horizontal(|ui| {
                if ui.button("Delete model").clicked() {
                    cx.send(Command::Delete { repo: repo.clone() });
                    self.confirm_delete = None;
                }
                if ui.button("Keep it").clicked() {
                    self.confirm_delete = None;
                }
            });
        });
        if modal.should_close() {
            self.confirm_delete = None;
        }
    }
}

/// What the model was measured to do here, or a button to measure it
/// (about ten seconds on a built-in input).
fn measured_ui(ui: &mut egui::Ui, cx: &mut Cx, m: &crate::hub::cache::CachedModel) {
    if cx.measuring.contains(&m.repo) {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("measuring…");
        });
        return;
    }
    if let Some(words) = cx.measured_words(&m.repo) {
        ui.scope(|ui| {
            ui.set_max_width(300.0);
            ui.add(egui::Label::new(words).wrap());
        });
        return;
    }
    match (m.verdict.panel(), m.main_revision()) {
        (Some(panel), Some(rev)) if m.verdict.runs_here() => {
            if ui
                .button("Measure speed")
                .on_hover_text(format!(
                    "Run {} for about ten seconds on a built-in {} to see how fast it is here",
                    m.repo,
                    match panel {
                        crate::catalog::Panel::Transcribe => "recording",
                        crate::catalog::Panel::Translate => "set of sentences",
                        crate::catalog::Panel::Caption => "picture",
                    }
                ))
                .clicked()
            {
                cx.measure(&m.repo, rev.path.clone(), panel);
            }
        }
        _ => {
            ui.label("—");
        }
    }
}
