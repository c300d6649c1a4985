//! The Datasets page's "Prepare and export" panel: a filter, a seeded
//! shuffle, how many rows, a train/test split and the format, then a save
//! dialog and the export on a worker with its progress and Stop; the
//! files written can be opened as datasets at once.

use std::path::PathBuf;

use super::super::Cx;
use super::DatasetsPage;
use crate::app::dialogs::{DialogKind, DialogRequest};
use crate::datasets::prepare::{Filter, Prepare};
use crate::workers::datasets::ExportJob;
use crate::workers::{Command, DialogPurpose};

/// What the panel holds.
pub struct PrepareState {
    pub open: bool,
    pub filter: String,
    pub shuffle: bool,
    pub seed: u64,
    pub take: bool,
    pub rows: u64,
    pub split: bool,
    /// The test part in percent.
    pub test_percent: u32,
    /// "parquet", "csv" or "jsonl".
    pub format: &'static str,
    pub error: Option<String>,
    pub generation: u64,
    /// The stage, rows done and rows in all, while an export runs.
    pub running: Option<(&'static str, u64, u64)>,
    pub written: Vec<(PathBuf, u64)>,
}

impl Default for PrepareState {
    fn default() -> Self {
        Self {
            open: false,
            filter: String::new(),
            shuffle: false,
            seed: 42,
            take: false,
            rows: 100,
            split: false,
            test_percent: 20,
            format: "parquet",
            error: None,
            generation: 0,
            running: None,
            written: Vec::new(),
        }
    }
}

impl PrepareState {
    /// The plan as set, or why the filter can't be read.
    pub fn plan(&self) -> Result<Prepare, String> {
        let filter = match self.filter.trim() {
            "" => None,
            f => Some(Filter::parse(f).map_err(|e| e.to_string())?),
        };
        Ok(Prepare {
            filter,
            shuffle: self.shuffle.then_some(self.seed),
            take: self.take.then_some(self.rows),
            test_fraction: self.split.then(|| f64::from(self.test_percent) / 100.0),
        })
    }
}

impl DatasetsPage {
    pub(super) fn prepare_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        let stem = self
            .opened
            .as_deref()
            .and_then(|o| o.rsplit(['/', '\\']).find(|s| !s.is_empty()))
            .map(|s| s.split('.').next().unwrap_or(s).to_string())
            .unwrap_or_else(|| "dataset".into());
        let mut open = None;
        let mut ask = false;
        let p = &mut self.prepare;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.horizontal(|ui| {
                let label = ui.label("Keep rows where");
                ui.add(
                    egui::TextEdit::singleline(&mut p.filter)
                        .hint_text("text contains hello · label == pos · n >= 3")
                        .desired_width(280.0),
                )
                .labelled_by(label.id)
                .on_hover_text(
                    "COLUMN contains TEXT, COLUMN OP VALUE (==, !=, <, <=, >, >=), or a word any \
                     text column contains; empty keeps every row",
                );
            });
            ui.horizontal(|ui| {
                ui.checkbox(&mut p.shuffle, "Shuffle with seed");
                ui.add_enabled(p.shuffle, egui::DragValue::new(&mut p.seed));
                ui.separator();
                ui.checkbox(&mut p.take, "Keep the first");
                ui.add_enabled(
                    p.take,
                    egui::DragValue::new(&mut p.rows).range(1..=u64::MAX),
                );
                ui.label("rows");
                ui.separator();
                ui.checkbox(&mut p.split, "Split off a test part of");
                ui.add_enabled(
                    p.split,
                    egui::DragValue::new(&mut p.test_percent)
                        .range(1..=99)
                        .suffix(" %"),
                );
            });
            ui.horizontal(|ui| {
                let label = ui.label("Format");
                egui::ComboBox::from_id_salt("export-format")
                    .selected_text(p.format)
                    .show_ui(ui, |ui| {
                        for f in ["parquet", "csv", "jsonl"] {
                            crate::app::widgets::pick(ui, &mut p.format, f, f);
                        }
                    })
                    .response
                    .labelled_by(label.id);
                let running = p.running.is_some();
                if ui
                    .add_enabled(!running, egui::Button::new("Export…"))
                    .clicked()
                {
                    match p.plan() {
                        Err(e) => p.error = Some(e),
                        Ok(_) => {
                            p.error = None;
                            ask = true;
                        }
                    }
                }
                if let Some((stage, done, total)) = p.running {
                    let fraction = if total > 0 {
                        done as f32 / total as f32
                    } else {
                        0.0
                    };
                    ui.add(
                        egui::ProgressBar::new(fraction)
                            .desired_width(180.0)
                            .text(format!("{stage} {done}/{total} rows")),
                    );
                    if ui.button("Stop export").clicked() {
                        cx.send(Command::CancelExport);
                    }
                }
            });
            if let Some(e) = &p.error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            for (path, rows) in &p.written {
                ui.horizontal(|ui| {
                    ui.label(format!("Wrote {} ({rows} rows).", path.display()));
                    if ui.small_button("Open it").clicked() {
                        open = Some(path.display().to_string());
                    }
                });
            }
        });
        if ask {
            let format = self.prepare.format;
            cx.open_dialog(
                DialogRequest::new(DialogKind::Save, "Export the prepared rows")
                    .file_name(format!("{stem}-prepared.{format}"))
                    .filter(format, &[format]),
                DialogPurpose::ExportDataset,
            );
        }
        if let Some(path) = open {
            self.open(path, cx);
        }
    }

    /// Starts the export to `to` (chosen in the save dialog).
    pub(super) fn export_to(&mut self, mut to: PathBuf, cx: &mut Cx) {
        let Ok(plan) = self.prepare.plan() else {
            return;
        };
        let Some(dataset) = self.opened.clone() else {
            return;
        };
        if crate::datasets::write::Format::of(&to).is_none() {
            to.set_extension(self.prepare.format);
        }
        self.prepare.generation += 1;
        self.prepare.running = Some(("Starting", 0, 0));
        self.prepare.written.clear();
        self.prepare.error = None;
        cx.send(Command::ExportDataset(ExportJob {
            generation: self.prepare.generation,
            dataset,
            config: self.page.as_ref().map(|p| p.config.clone()),
            split: self.page.as_ref().map(|p| p.split.clone()),
            prepare: plan,
            to,
            hub: None,
        }));
    }
}
