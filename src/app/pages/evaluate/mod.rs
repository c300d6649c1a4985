//! The Evaluate page: one or more downloaded models over a dataset split
//! (its columns guessed, and editable), run on a worker with progress, ETA
//! and Stop, rows streaming into the table; then the scores with their
//! intervals, speed and memory, plots and the rows (sortable, words that
//! differ from the reference marked) — [`run`]. Every finished run is kept
//! (the app's data folder) and listed in a history, from which runs are
//! opened, exported (JSON, CSV), deleted, or set side by side —
//! [`history`].

mod history;
mod run;

use std::collections::BTreeSet;
use std::time::Instant;

use super::{Cx, Shortcut, View};
use crate::app::widgets::shortcut_button;
use crate::catalog::Panel;
use crate::evaluate::Mapping;
use crate::evaluate::RowResult;
use crate::evaluate::compare::Comparison;
use crate::evaluate::record::RunRecord;
use crate::metrics::normalize::Normalize;
use crate::workers::evaluate::{EvalJob, EvalModel};
use crate::workers::{Command, Event};

/// Which part of the page is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tab {
    #[default]
    Run,
    History,
    Compare,
}

/// How the rows table is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RowOrder {
    #[default]
    Row,
    /// Worst first (highest WER, lowest BLEU).
    WorstFirst,
    BestFirst,
    Slowest,
}

/// The columns of the split named in the dataset field, as last read.
#[derive(Clone, Debug)]
pub struct Columns {
    /// What they were read for: (dataset, split).
    pub of: (String, String),
    pub split: String,
    pub names: Vec<String>,
    pub guess: Result<Mapping, String>,
}

/// The run in progress.
#[derive(Clone, Debug)]
pub struct Running {
    pub model: String,
    pub index: usize,
    pub of: usize,
    pub total: u64,
    pub split: String,
    pub mapping: Mapping,
    pub started: Instant,
}

pub struct EvaluatePage {
    pub tab: Tab,
    pub dataset: String,
    pub split: String,
    pub limit: u64,
    pub normalize: Normalize,
    /// The models ticked (repo ids).
    pub models: BTreeSet<String>,
    pub columns: Option<Columns>,
    /// The columns chosen (none: the guess).
    pub input_column: Option<String>,
    pub reference_column: Option<String>,
    pub columns_generation: u64,
    pub generation: u64,
    pub running: Option<Running>,
    /// The rows of the model running, as they finish.
    pub rows: Vec<RowResult>,
    /// The run shown below the controls (just finished, or opened from
    /// the history).
    pub shown: Option<RunRecord>,
    /// The runs of the last Run press, in order (for a quick comparison).
    pub batch: Vec<String>,
    pub order: RowOrder,
    pub error: Option<String>,
    pub history: Vec<RunRecord>,
    pub history_asked: bool,
    /// The runs ticked in the history for comparison (ids, in the order
    /// ticked: the first is the baseline).
    pub picked: Vec<String>,
    pub comparison: Option<Result<Box<Comparison>, String>>,
    /// The comparison being made (its generation), if any.
    pub comparing: Option<u64>,
    pub compare_generation: u64,
}

impl Default for EvaluatePage {
    fn default() -> Self {
        Self {
            tab: Tab::Run,
            dataset: String::new(),
            split: String::new(),
            limit: 100,
            normalize: Normalize::None,
            models: BTreeSet::new(),
            columns: None,
            input_column: None,
            reference_column: None,
            columns_generation: 0,
            generation: 0,
            running: None,
            rows: Vec::new(),
            shown: None,
            batch: Vec::new(),
            order: RowOrder::Row,
            error: None,
            history: Vec::new(),
            history_asked: false,
            picked: Vec::new(),
            comparison: None,
            comparing: None,
            compare_generation: 0,
        }
    }
}

/// A downloaded model that runs here: (repo, folder, demo).
type Available = (String, std::path::PathBuf, Panel);

impl EvaluatePage {
    fn available(cx: &Cx) -> Vec<Available> {
        cx.cached()
            .iter()
            .filter(|m| m.verdict.runs_here())
            .filter_map(|m| {
                Some((
                    m.repo.clone(),
                    m.main_revision()?.path.clone(),
                    m.verdict.panel()?,
                ))
            })
            .collect()
    }

    /// The split named in the fields, as the worker takes it.
    fn target(&self) -> (String, String) {
        (
            self.dataset.trim().to_string(),
            self.split.trim().to_string(),
        )
    }

    /// Asks for the columns of the split named, unless known.
    fn read_columns(&mut self, cx: &mut Cx) {
        let target = self.target();
        if target.0.is_empty() || self.columns.as_ref().is_some_and(|c| c.of == target) {
            return;
        }
        self.columns_generation += 1;
        self.columns = None;
        self.input_column = None;
        self.reference_column = None;
        cx.send(Command::EvalColumns {
            generation: self.columns_generation,
            dataset: target.0,
            split: Some(target.1).filter(|s| !s.is_empty()),
        });
    }

    /// The panel the split's columns fit, when known.
    fn panel(&self) -> Option<Panel> {
        let c = self.columns.as_ref()?;
        let guess = c.guess.as_ref().ok()?;
        // A changed input column may change the demo (audio, picture).
        Some(guess.panel)
    }

    pub(super) fn ask_history(&mut self, cx: &mut Cx, delete: Option<String>) {
        self.history_asked = true;
        cx.send(Command::RunHistory {
            data_dir: cx.data_dir.clone(),
            delete,
        });
    }

    fn start(&mut self, cx: &mut Cx) {
        let available = Self::available(cx);
        let models: Vec<EvalModel> = available
            .iter()
            .filter(|(repo, _, _)| self.models.contains(repo))
            .map(|(repo, dir, panel)| EvalModel {
                name: repo.clone(),
                dir: dir.clone(),
                panel: Some(*panel),
            })
            .collect();
        if models.is_empty() {
            self.error = Some("Tick one or more models to run.".into());
            return;
        }
        let (dataset, split) = self.target();
        self.generation += 1;
        self.rows.clear();
        self.shown = None;
        self.batch.clear();
        self.error = None;
        self.running = None;
        self.order = RowOrder::Row;
        cx.send(Command::Evaluate(EvalJob {
            generation: self.generation,
            models,
            dataset,
            split: Some(split).filter(|s| !s.is_empty()),
            input_column: self.input_column.clone(),
            reference_column: self.reference_column.clone(),
            limit: if self.limit == 0 {
                u64::MAX
            } else {
                self.limit
            },
            normalize: self.normalize,
            device: cx.settings.device,
            compute: cx.settings.compute,
            data_dir: cx.data_dir.clone(),
            hub: None,
        }));
        // Marked running until the worker says what it runs.
        self.running = Some(Running {
            model: String::new(),
            index: 0,
            of: 1,
            total: 0,
            split: String::new(),
            mapping: Mapping {
                panel: Panel::Transcribe,
                input: String::new(),
                reference: String::new(),
                languages: None,
            },
            started: Instant::now(),
        });
    }

    fn controls(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        let mut changed = false;
        ui.horizontal(|ui| {
            let label = ui.label("Dataset");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.dataset)
                        .hint_text("a Hub id (org/name), or a file or folder of data")
                        .desired_width(320.0),
                )
                .labelled_by(label.id);
            changed |= r.lost_focus();
            let label = ui.label("Split");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut self.split)
                        .hint_text("the first")
                        .desired_width(90.0),
                )
                .labelled_by(label.id);
            changed |= r.lost_focus();
            let label = ui.label("Rows");
            ui.add(egui::DragValue::new(&mut self.limit).range(0..=u64::MAX))
                .labelled_by(label.id)
                .on_hover_text("How many rows from the start (0: all)");
            if ui
                .add_enabled(
                    !self.dataset.trim().is_empty(),
                    egui::Button::new("Read columns"),
                )
                .on_hover_text("Read the split's columns to check or change which are used")
                .clicked()
            {
                self.columns = None;
                changed = true;
            }
        });
        if changed {
            self.read_columns(cx);
        }
        self.columns_ui(ui);
        let available = Self::available(cx);
        let panel = self.panel();
        let fitting: Vec<&Available> = available
            .iter()
            .filter(|(_, _, p)| panel.is_none_or(|want| *p == want))
            .collect();
        if available.is_empty() {
            ui.label("Download a model first (Hub page): a Whisper model for speech, Marian for translation, BLIP for captions.");
            return;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label("Models");
            if fitting.is_empty() {
                ui.label("(none of the downloaded models fits this split)");
            }
            for (repo, _, p) in &fitting {
                let mut on = self.models.contains(repo);
                if ui
                    .checkbox(&mut on, format!("{repo} ({})", p.label()))
                    .changed()
                {
                    if on {
                        self.models.insert(repo.clone());
                    } else {
                        self.models.remove(repo);
                    }
                }
            }
        });
        // Ticks of models that no longer fit are dropped.
        self.models
            .retain(|m| fitting.iter().any(|(repo, _, _)| repo == m));
        ui.horizontal(|ui| {
            let label = ui.label("Normalise");
            egui::ComboBox::from_id_salt("eval-normalise")
                .selected_text(normaliser_name(self.normalize))
                .show_ui(ui, |ui| {
                    for n in [Normalize::None, Normalize::Basic, Normalize::WhisperEn] {
                        crate::app::widgets::pick(ui, &mut self.normalize, n, normaliser_name(n));
                    }
                })
                .response
                .labelled_by(label.id)
                .on_hover_text(
                    "Both the outputs and the references, before scoring. Basic: lower case, \
                     no punctuation, no bracketed text (any language). English: also numbers, \
                     currencies, contractions and British spellings, as the Whisper paper and \
                     the Open ASR Leaderboard score.",
                );
        });
        ui.horizontal(|ui| {
            if let Some(r) = &self.running {
                if shortcut_button(ui, cx, true, "Stop", Shortcut::Stop) {
                    cx.send(Command::StopEvaluation);
                }
                let done = self.rows.len() as u64;
                let fraction = if r.total > 0 {
                    done as f32 / r.total as f32
                } else {
                    0.0
                };
                let eta = eta(r.started, done, r.total)
                    .map(|s| format!(" · about {} left", crate::format::format_duration(s)))
                    .unwrap_or_default();
                let which = if r.of > 1 {
                    format!(" · model {} of {}", r.index + 1, r.of)
                } else {
                    String::new()
                };
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .desired_width(320.0)
                        .text(format!("row {done} of {}{which}{eta}", r.total)),
                );
                ui.small(cx.on_device());
            } else {
                let ready = !self.dataset.trim().is_empty() && !self.models.is_empty();
                let keys = ui.ctx().format_shortcut(&Shortcut::Run.keys());
                if ui
                    .add_enabled(ready, egui::Button::new("Run"))
                    .on_hover_text(&keys)
                    .on_disabled_hover_text(format!("Name a dataset and tick a model ({keys})"))
                    .clicked()
                    || (ready && cx.take_shortcut(Shortcut::Run))
                {
                    self.start(cx);
                }
            }
        });
    }

    fn columns_ui(&mut self, ui: &mut egui::Ui) {
        let Some(c) = &self.columns else {
            return;
        };
        match &c.guess {
            Err(e) if c.names.is_empty() => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            guess => {
                let (mut input, mut reference) = match guess {
                    Ok(m) => (m.input.clone(), m.reference.clone()),
                    Err(_) => (String::new(), String::new()),
                };
                if let Some(i) = &self.input_column {
                    input = i.clone();
                }
                if let Some(r) = &self.reference_column {
                    reference = r.clone();
                }
                let (before_in, before_ref) = (input.clone(), reference.clone());
                ui.horizontal(|ui| {
                    ui.label(format!("{}:", c.split));
                    for (id, name, value) in [
                        ("eval-input", "Input column", &mut input),
                        ("eval-reference", "Reference column", &mut reference),
                    ] {
                        let label = ui.label(name);
                        egui::ComboBox::from_id_salt(id)
                            .selected_text(value.as_str())
                            .show_ui(ui, |ui| {
                                for n in &c.names {
                                    crate::app::widgets::pick(ui, value, n.clone(), n);
                                }
                            })
                            .response
                            .labelled_by(label.id);
                    }
                    match guess {
                        Ok(m) => {
                            ui.label(format!("({})", m.panel.label()));
                        }
                        Err(e) => {
                            ui.colored_label(ui.visuals().warn_fg_color, e);
                        }
                    }
                });
                if input != before_in {
                    self.input_column = Some(input);
                }
                if reference != before_ref {
                    self.reference_column = Some(reference);
                }
            }
        }
    }
}

fn normaliser_name(n: Normalize) -> &'static str {
    match n {
        Normalize::None => "As written",
        Normalize::Basic => "Basic (any language)",
        Normalize::WhisperEn => "English (Whisper)",
    }
}

/// Seconds left at the pace so far.
fn eta(started: Instant, done: u64, total: u64) -> Option<f64> {
    if done == 0 || done >= total {
        return None;
    }
    let per_row = started.elapsed().as_secs_f64() / done as f64;
    Some(per_row * (total - done) as f64)
}

impl View for EvaluatePage {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        if !self.history_asked {
            self.ask_history(cx, None);
        }
        ui.heading("Evaluate");
        ui.label("Run downloaded models over a dataset's rows, score them against the references, and compare them.");
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.tab, Tab::Run, "Run and results");
            ui.selectable_value(
                &mut self.tab,
                Tab::History,
                format!("History ({})", self.history.len()),
            );
            ui.selectable_value(&mut self.tab, Tab::Compare, "Compare");
        });
        ui.separator();
        match self.tab {
            Tab::Run => {
                self.controls(ui, cx);
                if let Some(e) = &self.error {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                if let Some(r) = &self.running
                    && !r.model.is_empty()
                {
                    ui.label(format!(
                        "{} on {}: reads \"{}\", scored against \"{}\"",
                        r.model, r.split, r.mapping.input, r.mapping.reference
                    ));
                }
                ui.separator();
                if self.running.is_some() {
                    let panel = self.running.as_ref().map(|r| r.mapping.panel);
                    run::rows_table(ui, &self.rows, None, &mut self.order, self.normalize, panel);
                } else if let Some(shown) = &self.shown {
                    let batch = self.batch.clone();
                    let mut compare = false;
                    run::record_ui(ui, cx, shown, &mut self.order, |ui| {
                        if batch.len() > 1 && ui.button("Compare these runs").clicked() {
                            compare = true;
                        }
                    });
                    if compare {
                        self.picked = batch;
                        self.compare(cx);
                    }
                }
            }
            Tab::History => history::history_ui(self, ui, cx),
            Tab::Compare => history::compare_ui(self, ui),
        }
    }

    fn on_event(&mut self, event: Event, cx: &mut Cx) -> Option<Event> {
        match event {
            Event::EvalColumns { generation, answer } => {
                if generation == self.columns_generation {
                    let of = self.target();
                    self.columns = Some(match answer {
                        Ok(c) => Columns {
                            of,
                            split: c.split,
                            names: c.names,
                            guess: c.guess,
                        },
                        Err(e) => Columns {
                            of,
                            split: String::new(),
                            names: Vec::new(),
                            guess: Err(e),
                        },
                    });
                }
            }
            Event::EvalStarted {
                generation,
                split,
                mapping,
                total,
                model,
                index,
                of,
            } => {
                if generation == self.generation {
                    self.rows.clear();
                    self.running = Some(Running {
                        model,
                        index,
                        of,
                        total,
                        split,
                        mapping,
                        started: Instant::now(),
                    });
                }
            }
            Event::EvalRow {
                generation,
                row,
                total,
            } => {
                if generation == self.generation {
                    if let Some(r) = &mut self.running {
                        r.total = total;
                    }
                    self.rows.push(row);
                }
            }
            Event::EvalDone {
                generation,
                record,
                kept,
                last,
            } => {
                if generation == self.generation {
                    if let Some(e) = kept {
                        cx.notify_error(e);
                    }
                    self.batch.push(record.id.clone());
                    self.history.insert(0, (*record).clone());
                    self.shown = Some(*record);
                    self.order = RowOrder::Row;
                    if last {
                        self.running = None;
                    }
                }
            }
            Event::EvalFailed { generation, error } => {
                if generation == self.generation {
                    self.running = None;
                    self.error = Some(error);
                }
            }
            Event::RunsCompared { generation, result } => {
                if self.comparing == Some(generation) {
                    self.comparing = None;
                    self.comparison = Some(result);
                }
            }
            Event::RunHistory { runs, problems } => {
                self.history = runs;
                self.picked
                    .retain(|id| self.history.iter().any(|r| r.id == *id));
                for p in problems {
                    cx.notify_error(p);
                }
            }
            other => return Some(other),
        }
        None
    }
}

impl EvaluatePage {
    /// Compares the runs picked (on a worker) and shows the comparison.
    pub(super) fn compare(&mut self, cx: &mut Cx) {
        let runs: Vec<RunRecord> = self
            .picked
            .iter()
            .filter_map(|id| self.history.iter().find(|r| r.id == *id))
            .cloned()
            .collect();
        self.compare_generation += 1;
        let generation = self.compare_generation;
        self.comparing = Some(generation);
        self.comparison = None;
        cx.send(Command::CompareRuns { generation, runs });
        self.tab = Tab::Compare;
    }
}
