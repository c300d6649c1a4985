//! What the demo pages share: the page shown before a model is downloaded
//! (which model the panel will use — the first downloaded model that runs
//! in it, else the catalog's recommendation — with download offers), and
//! the downloaded models of a panel in the catalog's order.

use std::path::PathBuf;

use super::{Cx, Intent};
use crate::app::DownloadState;
use crate::app::widgets::{model_picker, progress_ui};
use crate::catalog::{Panel, catalog};
use crate::hub::cache::CachedModel;
use crate::workers::Command;

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
                    "No {} model is downloaded yet. The recommended one is {} ({}, {}).",
                    panel.label().to_lowercase(),
                    rec.name,
                    rec.repo,
                    cx.size_words(&rec.repo, rec.size_mb)
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
                        ui.label(cx.size_words(&e.repo, e.size_mb));
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

/// A demo's "Compare models" panel: the current input through 2–3 chosen
/// downloaded models, their outputs, times and differences side by side.
#[derive(Debug, Default)]
pub struct CompareState {
    pub open: bool,
    /// The models ticked (repo ids).
    pub picked: std::collections::BTreeSet<String>,
    pub generation: u64,
    pub running: bool,
    /// The models of the comparison shown, and each one's answer so far.
    pub names: Vec<String>,
    pub results: Vec<Option<Result<crate::workers::compare::CompareOutput, String>>>,
    /// What the input was, in words.
    pub input_label: String,
}

/// The most models compared at once.
pub const COMPARE_MOST: usize = 3;

impl CompareState {
    /// The "Compare models…" button and, when open, the panel; `input`
    /// is the demo's current input (none: the page has nothing to run
    /// yet) with a word for it.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut Cx,
        panel: Panel,
        input: Option<(crate::workers::compare::DemoInput, String)>,
    ) {
        let models = downloaded_for(cx.cached(), panel);
        if models.len() < 2 {
            return;
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Min), |ui| {
            if ui
                .button("Compare models…")
                .on_hover_text(
                    "Run this input through two or three downloaded models, side by side",
                )
                .clicked()
            {
                self.open = true;
            }
        });
        if !self.open {
            return;
        }
        let mut open = true;
        egui::Window::new(format!("Compare {} models", panel.label()))
            .open(&mut open)
            .default_width(720.0)
            .show(ui.ctx(), |ui| self.window_ui(ui, cx, panel, &models, input));
        self.open &= open;
    }

    fn window_ui(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut Cx,
        panel: Panel,
        models: &[(String, PathBuf)],
        input: Option<(crate::workers::compare::DemoInput, String)>,
    ) {
        {
            ui.horizontal_wrapped(|ui| {
                for (repo, _) in models {
                    let mut on = self.picked.contains(repo);
                    let full = !on && self.picked.len() >= COMPARE_MOST;
                    if ui
                        .add_enabled(!full, egui::Checkbox::new(&mut on, repo.as_str()))
                        .on_disabled_hover_text(format!("At most {COMPARE_MOST} at once"))
                        .changed()
                    {
                        if on {
                            self.picked.insert(repo.clone());
                        } else {
                            self.picked.remove(repo);
                        }
                    }
                }
            });
            self.picked.retain(|p| models.iter().any(|(r, _)| r == p));
            ui.horizontal(|ui| {
                if self.running {
                    ui.spinner();
                    if ui.button("Stop").clicked() {
                        cx.send(Command::StopCompare);
                        self.running = false;
                    }
                } else {
                    let ready = self.picked.len() >= 2 && input.is_some();
                    let button = ui
                        .add_enabled(ready, egui::Button::new("Run the comparison"))
                        .on_disabled_hover_text(if input.is_none() {
                            "Give the demo an input first"
                        } else {
                            "Tick two or three models"
                        });
                    if button.clicked()
                        && let Some((input, label)) = input
                    {
                        let chosen: Vec<(String, PathBuf)> = models
                            .iter()
                            .filter(|(r, _)| self.picked.contains(r))
                            .cloned()
                            .collect();
                        self.generation += 1;
                        self.running = true;
                        self.names = chosen.iter().map(|(r, _)| r.clone()).collect();
                        self.results = vec![None; chosen.len()];
                        self.input_label = label;
                        cx.send(Command::Compare(crate::workers::compare::CompareJob {
                            generation: self.generation,
                            panel,
                            input,
                            models: chosen,
                            device: cx.settings.device,
                            compute: cx.settings.compute,
                        }));
                    }
                }
            });
            if self.names.is_empty() {
                return;
            }
            ui.label(format!("On {}:", self.input_label));
            let first = self
                .results
                .first()
                .and_then(|r| r.as_ref())
                .and_then(|r| r.as_ref().ok())
                .map(|o| o.text.clone());
            egui::Grid::new(("compare-models", panel.label()))
                .striped(true)
                .spacing([12.0, 4.0])
                .show(ui, |ui| {
                    for h in ["Model", "Output", "Seconds", "Load"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for (i, (name, result)) in self.names.iter().zip(&self.results).enumerate() {
                        ui.label(name);
                        match result {
                            None => {
                                ui.spinner();
                                ui.label("");
                                ui.label("");
                            }
                            Some(Err(e)) => {
                                ui.colored_label(ui.visuals().error_fg_color, e);
                                ui.label("");
                                ui.label("");
                            }
                            Some(Ok(o)) => {
                                ui.scope(|ui| {
                                    ui.set_max_width(460.0);
                                    // Words that differ from the first model's output.
                                    let label = match (&first, i) {
                                        (Some(f), i) if i > 0 => {
                                            egui::Label::new(crate::app::widgets::marked_words(
                                                ui,
                                                f,
                                                &o.text,
                                                crate::metrics::normalize::Normalize::Basic,
                                            ))
                                        }
                                        _ => egui::Label::new(o.text.as_str()),
                                    };
                                    ui.add(label.wrap());
                                });
                                ui.label(format!("{:.2}", o.seconds));
                                ui.label(format!("{:.2}", o.load_seconds));
                            }
                        }
                        ui.end_row();
                    }
                });
            if self.names.len() > 1 {
                ui.weak("Words marked differ from the first model's output; struck-through words are in its output only.");
            }
        }
    }

    /// Takes this panel's comparison events.
    pub fn on_event(
        &mut self,
        panel: Panel,
        event: crate::workers::Event,
    ) -> Option<crate::workers::Event> {
        use crate::workers::Event;
        match event {
            Event::CompareOutput {
                panel: p,
                generation,
                index,
                result,
            } if p == panel => {
                if generation == self.generation
                    && let Some(slot) = self.results.get_mut(index)
                {
                    *slot = Some(result);
                }
                None
            }
            Event::CompareDone {
                panel: p,
                generation,
            } if p == panel => {
                if generation == self.generation {
                    self.running = false;
                }
                None
            }
            other => Some(other),
        }
    }
}

/// The row of example pictures under a demo (their thumbnails once a
/// worker has decoded them; names until then), uploaded into `textures`
/// once; which one was clicked.
pub fn picture_examples(
    ui: &mut egui::Ui,
    textures: &mut Vec<Option<egui::TextureHandle>>,
) -> Option<usize> {
    use crate::app::examples::{PICTURES, thumbnails};
    if textures.is_empty()
        && let Some(thumbs) = thumbnails(ui.ctx())
    {
        *textures = thumbs
            .iter()
            .enumerate()
            .map(|(i, t)| {
                t.as_ref().map(|t| {
                    ui.ctx().load_texture(
                        format!("example-picture-{i}"),
                        egui::ColorImage::from_rgba_unmultiplied([t.width, t.height], &t.rgba),
                        egui::TextureOptions::LINEAR,
                    )
                })
            })
            .collect();
    }
    let mut clicked = None;
    ui.horizontal_wrapped(|ui| {
        ui.label("Examples:");
        for (i, p) in PICTURES.iter().enumerate() {
            let button = match textures.get(i).and_then(Option::as_ref) {
                Some(t) => {
                    egui::Button::image(egui::Image::new(t).max_size(egui::vec2(72.0, 72.0)))
                }
                None => egui::Button::new(p.name),
            };
            // Named for screen readers (and the tests) by the picture.
            let response = ui.add(button).on_hover_text(p.what);
            response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, p.name));
            if response.clicked() {
                clicked = Some(i);
            }
        }
    });
    clicked
}

/// The row of example recordings under the Transcribe page: the English
/// one, and the others when the model knows other languages; which one was
/// clicked.
pub fn recording_examples(
    ui: &mut egui::Ui,
    multilingual: bool,
) -> Option<&'static crate::app::examples::Recording> {
    use crate::app::examples::RECORDINGS;
    let mut clicked = None;
    ui.horizontal_wrapped(|ui| {
        ui.label("Examples:");
        for r in RECORDINGS
            .iter()
            .filter(|r| multilingual || r.language == "en")
        {
            let text = format!(
                "🔊 {} ({}, {} s)",
                r.name,
                crate::catalog::language_name(r.language),
                r.seconds
            );
            if ui
                .button(text)
                .on_hover_text(format!("Transcribe this recording: \"{}\"", r.text))
                .clicked()
            {
                clicked = Some(r);
            }
        }
    });
    clicked
}
