//! The Translate page: two language pickers (built from the downloaded
//! models and the catalog), swap, the text in and out, counts, copy, and
//! translation as you type — after a short pause, the previous request
//! cancelled. Without a direct model it pivots through English when both
//! halves are downloaded, or offers the model to download.

use std::path::PathBuf;

use crate::app::{App, DownloadState, TranslateStatus};
use crate::catalog::{Panel, catalog, language_name, marian_pair, short_code};
use crate::format::format_bytes;
use crate::tasks::translate::TranslateOptions;
use crate::workers::{Command, TranslateJob, TranslateStep};

use super::progress_ui;

/// How long typing must pause before a translation starts.
const PAUSE_SECS: f64 = 0.4;

/// A downloaded model for one language pair (a multi-target model gives
/// one per target code it accepts).
#[derive(Clone)]
struct Pair {
    src: String,
    tgt: String,
    repo: String,
    dir: PathBuf,
    /// The `>>code<<` to put before the text, for multi-target models.
    code: Option<String>,
}

/// What the chosen pair will run on.
enum Route {
    Direct(Pair),
    Pivot(Pair, Pair),
    /// A model to get first; `size_mb` when the catalog knows it.
    Get {
        repo: String,
        size_mb: Option<u64>,
    },
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

impl App {
    /// Downloaded translation models with their language pairs.
    fn translation_models(&self) -> Vec<Pair> {
        let mut out = Vec::new();
        for m in self
            .cached()
            .iter()
            .filter(|m| m.verdict.panel() == Some(Panel::Translate))
        {
            let (Some((src, tgt)), Some(rev)) = (marian_pair(&m.repo), m.main_revision()) else {
                continue;
            };
            let pair = |tgt: String, code: Option<String>| Pair {
                src: src.clone(),
                tgt,
                repo: m.repo.clone(),
                dir: rev.path.clone(),
                code,
            };
            if m.language_codes.is_empty() {
                out.push(pair(tgt, None));
            } else {
                out.extend(
                    m.language_codes
                        .iter()
                        .map(|c| pair(short_code(c).to_string(), Some(c.clone()))),
                );
            }
        }
        out
    }

    fn route(&self, from: &str, to: &str) -> Route {
        let have = self.translation_models();
        let find = |a: &str, b: &str| {
            have.iter()
                .find(|p| p.src == a && p.tgt == b)
                .or_else(|| {
                    (b == "en")
                        .then(|| have.iter().find(|p| p.src == "mul" && p.tgt == "en"))
                        .flatten()
                })
                .cloned()
        };
        if let Some(p) = find(from, to) {
            return Route::Direct(p);
        }
        if from != "en"
            && to != "en"
            && let (Some(first), Some(second)) = (find(from, "en"), find("en", to))
        {
            return Route::Pivot(first, second);
        }
        let listed = catalog().for_panel(Panel::Translate).find(|m| {
            m.languages.first().map(String::as_str) == Some(from)
                && m.languages.get(1).map(String::as_str) == Some(to)
        });
        match listed {
            Some(m) => Route::Get {
                repo: m.repo.clone(),
                size_mb: Some(m.size_mb),
            },
            None => Route::Get {
                repo: format!("Helsinki-NLP/opus-mt-{from}-{to}"),
                size_mb: None,
            },
        }
    }

    /// Languages to offer: from downloaded models and the catalog.
    fn languages(&self) -> (Vec<String>, Vec<String>) {
        let mut from: Vec<String> = Vec::new();
        let mut to: Vec<String> = Vec::new();
        let pairs = self
            .translation_models()
            .into_iter()
            .map(|p| (p.src, p.tgt))
            .chain(
                catalog()
                    .for_panel(Panel::Translate)
                    .filter_map(|m| marian_pair(&m.repo)),
            );
        for (s, t) in pairs {
            if s != "mul" && !from.contains(&s) {
                from.push(s.clone());
            }
            if !to.contains(&t) {
                to.push(t);
            }
        }
        for l in ["en", "de", "fr", "es"] {
            for v in [&mut from, &mut to] {
                if !v.iter().any(|x| x == l) {
                    v.push(l.to_string());
                }
            }
        }
        from.sort_by_key(|c| language_name(c));
        to.sort_by_key(|c| language_name(c));
        (from, to)
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
        let (froms, tos) = self.languages();
        let before = (self.translate.from.clone(), self.translate.to.clone());
        let mut swap = false;
        ui.horizontal(|ui| {
            ui.label("From");
            egui::ComboBox::from_id_salt("translate-from")
                .selected_text(language_name(&self.translate.from))
                .show_ui(ui, |ui| {
                    for l in &froms {
                        ui.selectable_value(&mut self.translate.from, l.clone(), language_name(l));
                    }
                });
            if ui
                .button("Swap")
                .on_hover_text("Swap the languages and the texts")
                .clicked()
            {
                swap = true;
            }
            ui.label("To");
            egui::ComboBox::from_id_salt("translate-to")
                .selected_text(language_name(&self.translate.to))
                .show_ui(ui, |ui| {
                    for l in &tos {
                        ui.selectable_value(&mut self.translate.to, l.clone(), language_name(l));
                    }
                });
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
        let route = self.route(&self.translate.from, &self.translate.to);
        let models = match &route {
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
