//! The Translate page: two language pickers (built from the downloaded
//! models and the catalog), swap, the text in and out, counts, copy, and
//! translation as you type — after a short pause, the previous request
//! cancelled. Without a direct model it pivots through English when both
//! halves are downloaded, or offers the model to download.

use crate::app::{App, DownloadState, TranslateStatus};
use crate::catalog::language_name;
use crate::format::format_bytes;
use crate::tasks::translate::TranslateOptions;
use crate::tasks::translate::route::{self, InstalledModel, Pair, Route};
use crate::workers::{Command, TranslateJob, TranslateStep};

use super::progress_ui;

/// How long typing must pause before a translation starts.
const PAUSE_SECS: f64 = 0.4;

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

impl App {
    /// The downloaded translation models.
    fn installed_translators(&self) -> Vec<InstalledModel> {
        route::installed(self.cached())
    }

    fn send_translation(&mut self, route: Vec<Pair>) {
        self.translate.generation += 1;
        self.translate.changed_at = None;
        if self.translate.input.trim().is_empty() {
            self.translate.output.clear();
            self.translate.status = TranslateStatus::Idle;
            self.send(Command::CancelTranslation);
            return;
        }
        self.translate.status = TranslateStatus::Running;
        self.send(Command::Translate(TranslateJob {
            generation: self.translate.generation,
            steps: route
                .into_iter()
                .map(|p| TranslateStep {
                    model: p.dir,
                    options: TranslateOptions {
                        target: p.code,
                        ..Default::default()
                    },
                })
                .collect(),
            text: self.translate.input.clone(),
            device: self.settings.device,
        }));
    }

    pub(super) fn translate_page_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Translate");
        let installed = self.installed_translators();
        let (froms, tos) = route::languages(&installed);
        let before = (self.translate.from.clone(), self.translate.to.clone());
        let mut swap = false;
        ui.horizontal(|ui| {
            // Labelled for screen readers (and the UI tests).
            let label = ui.label("From");
            egui::ComboBox::from_id_salt("translate-from")
                .selected_text(language_name(&self.translate.from))
                .show_ui(ui, |ui| {
                    for l in &froms {
                        ui.selectable_value(&mut self.translate.from, l.clone(), language_name(l));
                    }
                })
                .response
                .labelled_by(label.id);
            if ui
                .button("Swap")
                .on_hover_text("Swap the languages and the texts")
                .clicked()
            {
                swap = true;
            }
            let label = ui.label("To");
            egui::ComboBox::from_id_salt("translate-to")
                .selected_text(language_name(&self.translate.to))
                .show_ui(ui, |ui| {
                    for l in &tos {
                        ui.selectable_value(&mut self.translate.to, l.clone(), language_name(l));
                    }
                })
                .response
                .labelled_by(label.id);
        });
        if swap {
            let t = &mut self.translate;
            std::mem::swap(&mut t.from, &mut t.to);
            if !t.output.is_empty() {
                t.input = std::mem::take(&mut t.output);
            }
        }
        let now = ui.input(|i| i.time);
        if before != (self.translate.from.clone(), self.translate.to.clone()) {
            self.translate.changed_at = Some(now);
        }
        let chosen = route::route(&installed, &self.translate.from, &self.translate.to);
        let models = match &chosen {
            Route::Direct(p) => {
                ui.small(format!("Model: {}", p.repo));
                Some(vec![p.clone()])
            }
            Route::Pivot(first, second) => {
                ui.small(format!(
                    "No direct model: through English with {} and {}",
                    first.repo, second.repo
                ));
                Some(vec![first.clone(), second.clone()])
            }
            Route::Get { repo, size_mb } => {
                self.get_model_ui(ui, repo, *size_mb);
                None
            }
        };
        ui.add_space(6.0);
        let edited = ui.columns(2, |cols| {
            let label = cols[0].label("Text to translate");
            let edit = cols[0].add(
                egui::TextEdit::multiline(&mut self.translate.input)
                    .desired_rows(12)
                    .desired_width(f32::INFINITY)
                    .hint_text("Type or paste text here"),
            );
            let edit = edit.labelled_by(label.id);
            cols[0].small(format!(
                "{} words, {} characters",
                words(&self.translate.input),
                self.translate.input.chars().count()
            ));
            let label = cols[1].label("Translation");
            let mut shown = self.translate.output.as_str();
            let frame = egui::Frame::new()
                .fill(cols[1].visuals().extreme_bg_color)
                .corner_radius(4.0)
                .inner_margin(4.0);
            cols[1]
                .add(
                    egui::TextEdit::multiline(&mut shown)
                        .desired_rows(12)
                        .desired_width(f32::INFINITY)
                        .frame(frame),
                )
                .labelled_by(label.id);
            cols[1].small(format!(
                "{} words, {} characters",
                words(&self.translate.output),
                self.translate.output.chars().count()
            ));
            edit.changed()
        });
        if edited {
            self.translate.changed_at = Some(now);
        }
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.translate.live, "Translate as you type");
            let can = models.is_some() && !self.translate.input.trim().is_empty();
            if ui
                .add_enabled(can, egui::Button::new("Translate"))
                .clicked()
                && let Some(m) = models.clone()
            {
                self.send_translation(m);
            }
            let busy = matches!(
                self.translate.status,
                TranslateStatus::Running | TranslateStatus::LoadingModel
            );
            if busy && ui.button("Stop").clicked() {
                self.send(Command::CancelTranslation);
                self.translate.status = TranslateStatus::Idle;
            }
            if ui
                .add_enabled(!self.translate.output.is_empty(), egui::Button::new("Copy"))
                .clicked()
            {
                ui.ctx().copy_text(self.translate.output.clone());
                self.notify("Translation copied.".into());
            }
            match &self.translate.status {
                TranslateStatus::LoadingModel => {
                    ui.spinner();
                    ui.label("Loading the model…");
                }
                TranslateStatus::Running => {
                    ui.spinner();
                    ui.label("Translating…");
                }
                TranslateStatus::Failed(e) => {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                TranslateStatus::Idle => {
                    if let Some(d) = &self.translate.device {
                        ui.small(format!("On the {d}"));
                    }
                }
            }
        });
        // Translate as you type, once typing pauses.
        if let (Some(changed), true, Some(m)) =
            (self.translate.changed_at, self.translate.live, models)
        {
            let waited = now - changed;
            if waited >= PAUSE_SECS {
                self.send_translation(m);
            } else {
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_secs_f64(PAUSE_SECS - waited));
            }
        }
    }

    fn get_model_ui(&mut self, ui: &mut egui::Ui, repo: &str, size_mb: Option<u64>) {
        let pair = format!(
            "{} to {}",
            language_name(&self.translate.from),
            language_name(&self.translate.to)
        );
        match self.downloads.get(repo).cloned() {
            Some(DownloadState::Running(p) | DownloadState::Cancelling(p)) => {
                ui.horizontal(|ui| {
                    ui.label(format!("Downloading {repo}"));
                    progress_ui(ui, &p);
                    if ui.button("Cancel").clicked() {
                        self.cancel_download(repo);
                    }
                });
            }
            _ => {
                ui.horizontal(|ui| match size_mb {
                    Some(mb) => {
                        ui.label(format!("{pair} needs {repo}."));
                        if ui
                            .add_enabled(
                                !self.offline(),
                                egui::Button::new(format!(
                                    "Download it ({})",
                                    format_bytes(mb * 1_000_000)
                                )),
                            )
                            .clicked()
                        {
                            self.start_download(repo.to_string());
                        }
                    }
                    None => {
                        ui.label(format!("No {pair} model is downloaded."));
                        if ui
                            .add_enabled(
                                !self.offline(),
                                egui::Button::new(format!("Look for {repo} on the Hub")),
                            )
                            .clicked()
                        {
                            self.open_details(repo.to_string());
                        }
                    }
                });
            }
        }
    }
}
