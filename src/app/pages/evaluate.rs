//! The Evaluate page: a downloaded model over a dataset split (a Hub id,
//! a cached dataset or a local file or folder), the rows filling a table
//! as they finish, then the scores with their 95 % intervals and the
//! speed. Runs on a worker ([`Command::Evaluate`]); Stop scores the rows
//! done.

use super::{Cx, View};
use crate::evaluate::{Mapping, RowResult, RunResult};
use crate::metrics::normalize::Normalize;
use crate::workers::evaluate::EvalJob;
use crate::workers::{Command, Event};

/// The Evaluate page.
pub struct EvaluatePage {
    pub dataset: String,
    pub split: String,
    pub model: Option<String>,
    pub limit: u64,
    pub normalize: bool,
    pub generation: u64,
    pub running: bool,
    pub split_shown: Option<String>,
    pub mapping: Option<Mapping>,
    pub total: u64,
    pub rows: Vec<RowResult>,
    pub result: Option<RunResult>,
    pub error: Option<String>,
}

impl Default for EvaluatePage {
    fn default() -> Self {
        Self {
            dataset: String::new(),
            split: String::new(),
            model: None,
            limit: 100,
            normalize: false,
            generation: 0,
            running: false,
            split_shown: None,
            mapping: None,
            total: 0,
            rows: Vec::new(),
            result: None,
            error: None,
        }
    }
}

impl EvaluatePage {
    fn start(&mut self, model: String, dir: std::path::PathBuf, cx: &mut Cx) {
        let model_panel = cx
            .cached()
            .iter()
            .find(|m| model.starts_with(&format!("{} (", m.repo)))
            .and_then(|m| m.verdict.panel());
        let model = model
            .rsplit_once(" (")
            .map_or(model.clone(), |(repo, _)| repo.to_string());
        self.generation += 1;
        self.running = true;
        self.rows.clear();
        self.result = None;
        self.error = None;
        self.mapping = None;
        self.total = 0;
        cx.send(Command::Evaluate(EvalJob {
            generation: self.generation,
            model,
            dir,
            model_panel,
            dataset: self.dataset.trim().to_string(),
            split: Some(self.split.trim().to_string()).filter(|s| !s.is_empty()),
            limit: if self.limit == 0 {
                u64::MAX
            } else {
                self.limit
            },
            normalize: if self.normalize {
                Normalize::Basic
            } else {
                Normalize::None
            },
            device: cx.settings.device,
            hub: None,
        }));
    }
}

impl View for EvaluatePage {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        ui.heading("Evaluate");
        ui.label(
            "Run a downloaded model over a dataset's rows and score it against their references.",
        );
        // Each downloaded model that runs here, named with its demo.
        let models: Vec<(String, std::path::PathBuf)> = cx
            .cached()
            .iter()
            .filter(|m| m.verdict.runs_here())
            .filter_map(|m| {
                let panel = m.verdict.panel()?;
                Some((
                    format!("{} ({})", m.repo, panel.label()),
                    m.main_revision()?.path.clone(),
                ))
            })
            .collect();
        ui.horizontal(|ui| {
            let label = ui.label("Dataset");
            ui.add(
                egui::TextEdit::singleline(&mut self.dataset)
                    .hint_text("a Hub id (org/name), or a file or folder of data")
                    .desired_width(320.0),
            )
            .labelled_by(label.id);
            let label = ui.label("Split");
            ui.add(
                egui::TextEdit::singleline(&mut self.split)
                    .hint_text("the first")
                    .desired_width(90.0),
            )
            .labelled_by(label.id);
            let label = ui.label("Rows");
            ui.add(egui::DragValue::new(&mut self.limit).range(0..=u64::MAX))
                .labelled_by(label.id)
                .on_hover_text("How many rows from the start (0: all)");
        });
        if models.is_empty() {
            ui.label("Download a model first (Hub page): a Whisper model for speech, Marian for translation, BLIP for captions.");
            return;
        }
        let dir = crate::app::widgets::model_picker(ui, "eval-model", &models, &mut self.model);
        ui.checkbox(
            &mut self.normalize,
            "Normalise the text first (lower case, no punctuation, as Whisper's basic normaliser)",
        );
        ui.horizontal(|ui| {
            if self.running {
                if ui.button("Stop").clicked() {
                    cx.send(Command::StopEvaluation);
                }
                let done = self.rows.len() as u64;
                let fraction = if self.total > 0 {
                    done as f32 / self.total as f32
                } else {
                    0.0
                };
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .desired_width(220.0)
                        .text(format!("row {done} of {}", self.total)),
                );
            } else if ui
                .add_enabled(!self.dataset.trim().is_empty(), egui::Button::new("Run"))
                .clicked()
            {
                let model = self.model.clone().unwrap_or_default();
                self.start(model, dir, cx);
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if let (Some(m), Some(split)) = (&self.mapping, &self.split_shown) {
            ui.label(format!(
                "{} on {split}: reads \"{}\", scored against \"{}\" ({})",
                m.panel.label(),
                m.input,
                m.reference,
                if self.normalize {
                    "normalised"
                } else {
                    "as written"
                }
            ));
        }
        if let Some(r) = &self.result {
            ui.separator();
            for s in &r.scores {
                let ci = s
                    .interval
                    .map(|i| format!("  (95 % interval {:.4}–{:.4})", i.low, i.high))
                    .unwrap_or_default();
                ui.strong(format!(
                    "{} {:.4}{ci}",
                    s.metric.label().to_uppercase(),
                    s.score
                ));
            }
            let sp = &r.speed;
            let rate = match (sp.rtfx, sp.tokens_per_second) {
                (Some(x), _) => format!("{x:.1}× faster than real time"),
                (_, Some(t)) => format!("{t:.1} tokens a second"),
                _ => String::new(),
            };
            ui.label(format!(
                "{rate}; {:.2} s a row; loaded in {:.2} s; {}{}",
                sp.seconds_per_row,
                sp.load_seconds,
                crate::format::count(r.rows.len() as u64, "row", "rows"),
                if r.skipped.is_empty() {
                    String::new()
                } else {
                    format!(", {} skipped", r.skipped.len())
                }
            ));
        }
        ui.separator();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("eval-rows")
                    .striped(true)
                    .spacing([12.0, 4.0])
                    .show(ui, |ui| {
                        if !self.rows.is_empty() {
                            for h in ["#", "Prediction", "Reference", "Seconds"] {
                                ui.strong(h);
                            }
                            ui.end_row();
                        }
                        for r in &self.rows {
                            ui.monospace(r.row_idx.to_string());
                            // Long texts wrap in their column.
                            for text in [&r.prediction, &r.reference] {
                                ui.scope(|ui| {
                                    ui.set_max_width(380.0);
                                    ui.add(egui::Label::new(text.as_str()).wrap());
                                });
                            }
                            ui.label(format!("{:.2}", r.seconds));
                            ui.end_row();
                        }
                    });
            });
    }

    fn on_event(&mut self, event: Event, _cx: &mut Cx) -> Option<Event> {
        match event {
            Event::EvalStarted {
                generation,
                split,
                mapping,
                total,
            } => {
                if generation == self.generation {
                    self.split_shown = Some(split);
                    self.mapping = Some(mapping);
                    self.total = total;
                }
            }
            Event::EvalRow {
                generation,
                row,
                total,
            } => {
                if generation == self.generation {
                    self.total = total;
                    self.rows.push(row);
                }
            }
            Event::EvalDone { generation, result } => {
                if generation == self.generation {
                    self.running = false;
                    self.rows = result.rows.clone();
                    self.result = Some(*result);
                }
            }
            Event::EvalFailed { generation, error } => {
                if generation == self.generation {
                    self.running = false;
                    self.error = Some(error);
                }
            }
            other => return Some(other),
        }
        None
    }
}
