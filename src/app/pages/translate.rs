//! The Translate page: two language pickers (built from the downloaded
//! models and the catalog), swap, the text in and out, counts, copy, and
//! translation as you type — after a short pause, the previous request
//! cancelled. Without a direct model it pivots through English when both
//! halves are downloaded, or offers the model to download.

use super::Shortcut;
use super::{Cx, Intent, View};
use crate::app::DownloadState;
use crate::app::examples;
use crate::app::widgets::{pick, progress_ui, shortcut_button};
use crate::catalog::language_name;
use crate::format::format_bytes;
use crate::tasks::translate::TranslateOptions;
use crate::tasks::translate::route::{self, Pair, Route};
use crate::workers::{Command, Event, TranslateJob, TranslateStep};

/// How long typing must pause before a translation starts.
const PAUSE_SECS: f64 = 0.4;

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

/// Where a translation stands.
#[derive(Debug, Default, Clone, PartialEq)]
pub enum TranslateStatus {
    #[default]
    Idle,
    LoadingModel,
    Running,
    Failed(String),
}

/// The Translate page.
#[derive(Debug)]
pub struct TranslatePage {
    pub input: String,
    pub output: String,
    pub from: String,
    pub to: String,
    /// Which request the shown output belongs to.
    pub generation: u64,
    pub status: TranslateStatus,
    /// Translate while typing (after a short pause).
    pub live: bool,
    /// When the input or languages last changed (egui time), for the pause.
    pub changed_at: Option<f64>,
    /// The device the last translation ran on.
    pub device: Option<String>,
    /// The reference translation of a dataset row being translated.
    pub reference: Option<String>,
    /// The text through several models, side by side.
    pub compare: super::demo::CompareState,
    /// Translate at the next frame (an example was chosen).
    pub run_now: bool,
}

impl Default for TranslatePage {
    fn default() -> Self {
        Self {
            input: String::new(),
            output: String::new(),
            from: "en".into(),
            to: "de".into(),
            generation: 0,
            status: TranslateStatus::Idle,
            live: true,
            changed_at: None,
            device: None,
            reference: None,
            compare: Default::default(),
            run_now: false,
        }
    }
}

impl TranslatePage {
    /// Puts `text`, spoken in `from`, in the page to be translated (the
    /// Transcribe page's Translate button); the target changes when it is
    /// the same language.
    pub fn take_text(&mut self, text: String, from: String, now: f64) {
        self.reference = None;
        self.input = text;
        self.from = from;
        if self.to == self.from {
            self.to = if self.from == "en" { "de" } else { "en" }.into();
        }
        self.changed_at = Some(now);
    }

    /// Puts one side of a dataset's translation pair in the page, to be
    /// translated into the other, whose text is shown as the reference.
    pub fn take_row(
        &mut self,
        text: String,
        from: String,
        to: String,
        reference: String,
        now: f64,
    ) {
        self.input = text;
        self.from = from;
        self.to = to;
        self.reference = Some(reference);
        self.changed_at = Some(now);
    }

    /// Puts the first example sentence in the page and translates it: in
    /// the page's languages when a downloaded model serves them and there
    /// is an example in the source language, else in the first downloaded
    /// pair that has one.
    pub fn try_example(&mut self, cx: &mut Cx) {
        let installed = route::installed(cx.cached());
        let served =
            |from: &str, to: &str| !matches!(route::route(&installed, from, to), Route::Get { .. });
        if !served(&self.from, &self.to) || examples::sentences(&self.from).next().is_none() {
            let pair = route::pairs(&installed).into_iter().find_map(|p| {
                // A model of many source languages: one with examples.
                let from = if p.src == "mul" {
                    examples::SENTENCES
                        .iter()
                        .map(|(l, _)| l.to_string())
                        .find(|l| *l != p.tgt)?
                } else {
                    p.src
                };
                let has = examples::sentences(&from).next().is_some();
                has.then_some((from, p.tgt))
            });
            if let Some((from, to)) = pair {
                self.from = from;
                self.to = to;
            }
        }
        if let Some(s) = examples::sentences(&self.from).next() {
            self.input = s.to_string();
        }
        self.reference = None;
        self.run_now = true;
    }

    fn get_model_ui(&self, ui: &mut egui::Ui, cx: &mut Cx, repo: &str, size_mb: Option<u64>) {
        let pair = format!(
            "{} to {}",
            language_name(&self.from),
            language_name(&self.to)
        );
        match cx.downloads.get(repo).cloned() {
            Some(DownloadState::Running(p) | DownloadState::Cancelling(p)) => {
                ui.horizontal(|ui| {
                    ui.label(format!("Downloading {repo}"));
                    progress_ui(ui, &p);
                    if ui.button("Cancel").clicked() {
                        cx.cancel_download(repo);
                    }
                });
            }
            _ => {
                ui.horizontal(|ui| match size_mb {
                    Some(mb) => {
                        ui.label(format!("{pair} needs {repo}."));
                        if ui
                            .add_enabled(
                                !cx.offline(),
                                egui::Button::new(format!(
                                    "Download it ({})",
                                    cx.size_words(repo, mb)
                                )),
                            )
                            .clicked()
                        {
                            cx.start_download(repo.to_string());
                        }
                    }
                    None => {
                        ui.label(format!("No {pair} model is downloaded."));
                        if ui
                            .add_enabled(
                                !cx.offline(),
                                egui::Button::new(format!("Look for {repo} on the Hub")),
                            )
                            .clicked()
                        {
                            cx.intents.push(Intent::OpenDetails(repo.to_string()));
                        }
                    }
                });
            }
        }
    }

    fn send_translation(&mut self, route: Vec<Pair>, cx: &mut Cx) {
        self.generation += 1;
        self.changed_at = None;
        if self.input.trim().is_empty() {
            self.output.clear();
            self.status = TranslateStatus::Idle;
            cx.send(Command::CancelTranslation);
            return;
        }
        self.status = TranslateStatus::Running;
        cx.send(Command::Translate(TranslateJob {
            generation: self.generation,
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
            text: self.input.clone(),
            device: cx.settings.device,
            compute: cx.settings.compute,
        }));
    }
}

impl View for TranslatePage {
    /// Applies a translation event (one of the newest request's; older
    /// ones are ignored).
    fn on_event(&mut self, event: Event, _cx: &mut Cx) -> Option<Event> {
        let event = self
            .compare
            .on_event(crate::catalog::Panel::Translate, event)?;
        match event {
            Event::TranslationLoading { generation, .. } => {
                if generation == self.generation {
                    self.status = TranslateStatus::LoadingModel;
                }
            }
            Event::TranslationPartial { generation, text } => {
                if generation == self.generation {
                    self.status = TranslateStatus::Running;
                    self.output = text;
                }
            }
            Event::TranslationDone {
                generation,
                text,
                device,
            } => {
                if generation == self.generation {
                    self.status = TranslateStatus::Idle;
                    self.output = text;
                    self.device = Some(device);
                }
            }
            Event::TranslationFailed { generation, error } => {
                if generation == self.generation {
                    self.status = TranslateStatus::Failed(error);
                }
            }
            other => return Some(other),
        }
        None
    }

    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        ui.heading("Translate");
        let input = (!self.input.trim().is_empty()).then(|| {
            (
                crate::workers::compare::DemoInput::Text {
                    text: self.input.clone(),
                    to: Some(self.to.clone()),
                },
                "the text typed".to_string(),
            )
        });
        self.compare
            .ui(ui, cx, crate::catalog::Panel::Translate, input);
        let installed = route::installed(cx.cached());
        let (froms, tos) = route::languages(&installed);
        let before = (self.from.clone(), self.to.clone());
        let mut swap = false;
        ui.horizontal(|ui| {
            // Labelled for screen readers (and the UI tests).
            let label = ui.label("From");
            egui::ComboBox::from_id_salt("translate-from")
                .selected_text(language_name(&self.from))
                .show_ui(ui, |ui| {
                    for l in &froms {
                        pick(ui, &mut self.from, l.clone(), language_name(l));
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
                .selected_text(language_name(&self.to))
                .show_ui(ui, |ui| {
                    // Never the source language itself; each says how
                    // it would be translated.
                    for l in tos.iter().filter(|l| **l != self.from) {
                        let how = match route::route(&installed, &self.from, l) {
                            Route::Direct(p) => format!("Ready: {}", p.repo),
                            Route::Pivot(a, b) => {
                                format!("Through English: {} and {}", a.repo, b.repo)
                            }
                            Route::Get {
                                repo,
                                size_mb: Some(mb),
                            } => format!("Needs {repo} ({})", format_bytes(mb * 1_000_000)),
                            Route::Get { repo, .. } => {
                                format!("Needs a model such as {repo}, from the Hub")
                            }
                        };
                        pick(ui, &mut self.to, l.clone(), language_name(l)).on_hover_text(how);
                    }
                })
                .response
                .labelled_by(label.id);
        });
        if self.from == self.to && before.0 != self.from {
            // The source became the target's language: the target moves
            // to the one the source was.
            self.to = before.0.clone();
        }
        if swap {
            let t = &mut *self;
            std::mem::swap(&mut t.from, &mut t.to);
            if !t.output.is_empty() {
                t.input = std::mem::take(&mut t.output);
            }
        }
        let now = ui.input(|i| i.time);
        if let Some(text) = cx.pasted.take() {
            // Ctrl+V outside the text field: the text to translate.
            self.input = text;
            self.reference = None;
            self.run_now = true;
        }
        if before != (self.from.clone(), self.to.clone()) {
            self.changed_at = Some(now);
        }
        let chosen = route::route(&installed, &self.from, &self.to);
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
                self.get_model_ui(ui, cx, repo, *size_mb);
                None
            }
        };
        ui.add_space(6.0);
        // Just shown: typing goes to the text.
        let focus = cx.take_page_opened();
        let edited = ui.columns(2, |cols| {
            let label = cols[0].label("Text to translate");
            let edit = cols[0].add(
                egui::TextEdit::multiline(&mut self.input)
                    .desired_rows(12)
                    .desired_width(f32::INFINITY)
                    .hint_text("Type or paste text here"),
            );
            let edit = edit.labelled_by(label.id);
            if focus {
                edit.request_focus();
            }
            cols[0].small(format!(
                "{} words, {} characters",
                words(&self.input),
                self.input.chars().count()
            ));
            let label = cols[1].label("Translation");
            let mut shown = self.output.as_str();
            // The old translation, greyed while the new one is on its way.
            let stale = matches!(
                self.status,
                TranslateStatus::Running | TranslateStatus::LoadingModel
            ) || (self.live && self.changed_at.is_some());
            let frame = egui::Frame::new()
                .fill(cols[1].visuals().extreme_bg_color)
                .corner_radius(4.0)
                .inner_margin(4.0);
            cols[1]
                .add(
                    egui::TextEdit::multiline(&mut shown)
                        .desired_rows(12)
                        .desired_width(f32::INFINITY)
                        .text_color_opt(stale.then(|| cols[1].visuals().weak_text_color()))
                        .frame(frame),
                )
                .labelled_by(label.id);
            cols[1].small(format!(
                "{} words, {} characters",
                words(&self.output),
                self.output.chars().count()
            ));
            if let Some(r) = &self.reference {
                cols[1].label(format!("Reference (from the dataset): {r}"));
            }
            edit.changed()
        });
        if edited {
            self.changed_at = Some(now);
        }
        let sentences: Vec<&str> = examples::sentences(&self.from).collect();
        if !sentences.is_empty() {
            ui.horizontal_wrapped(|ui| {
                ui.label("Examples:");
                for s in sentences {
                    if ui
                        .button(s)
                        .on_hover_text("Translate this example")
                        .clicked()
                    {
                        self.input = s.to_string();
                        self.reference = None;
                        self.run_now = true;
                    }
                }
            });
        }
        if std::mem::take(&mut self.run_now)
            && let Some(m) = models.clone()
        {
            self.send_translation(m, cx);
        }
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.live, "Translate as you type");
            let can = models.is_some() && !self.input.trim().is_empty();
            if shortcut_button(ui, cx, can, "Translate", Shortcut::Run)
                && let Some(m) = models.clone()
            {
                self.send_translation(m, cx);
            }
            let busy = matches!(
                self.status,
                TranslateStatus::Running | TranslateStatus::LoadingModel
            );
            if busy && shortcut_button(ui, cx, true, "Stop", Shortcut::Stop) {
                cx.send(Command::CancelTranslation);
                // What the stopped job still sends is an older generation's.
                self.generation += 1;
                self.status = TranslateStatus::Idle;
            }
            if shortcut_button(ui, cx, !self.output.is_empty(), "Copy", Shortcut::Copy) {
                ui.ctx().copy_text(self.output.clone());
                cx.notify("Translation copied.".into());
            }
            match &self.status {
                TranslateStatus::LoadingModel => {
                    ui.spinner();
                    ui.label("Loading the model…");
                }
                TranslateStatus::Running => {
                    ui.spinner();
                    ui.label(format!("Translating… {}", cx.on_device()));
                }
                TranslateStatus::Failed(e) => {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                TranslateStatus::Idle => {
                    if let Some(d) = &self.device {
                        ui.small(format!("On the {d}"));
                    }
                }
            }
        });
        // Translate as you type, once typing pauses.
        if let (Some(changed), true, Some(m)) = (self.changed_at, self.live, models) {
            let waited = now - changed;
            if waited >= PAUSE_SECS {
                self.send_translation(m, cx);
            } else {
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_secs_f64(PAUSE_SECS - waited));
            }
        }
    }
}
