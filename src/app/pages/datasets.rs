//! The Datasets page: search the Datasets Hub (text, task, modality,
//! sort, "load more"), each result with downloads, likes, size, gated and
//! which demo its columns fit; open a result, a Hub id or a local parquet
//! file or folder; see its configs, splits and column types, and its rows
//! a hundred at a time (the next page read ahead on a worker), pictures as
//! thumbnails, long cells cut with the whole text on hover.

use super::{Cx, View};
use crate::app::dialogs::{DialogKind, DialogRequest};
use crate::datasets::{DatasetInfo, Value};
use crate::format::format_bytes;
use crate::hub::datasets::DatasetQuery;
use crate::hub::{Sort, TaskFilter};
use crate::workers::datasets::PAGE;
use crate::workers::{Command, DatasetJob, DatasetResult, DialogPurpose, Event, RowsPage};

/// The modalities offered (the Hub's `modality:` tags).
const MODALITIES: [&str; 3] = ["audio", "image", "text"];

/// The Datasets page.
pub struct DatasetsPage {
    pub query: String,
    pub task: TaskFilter,
    pub modality: Option<String>,
    pub sort: Sort,
    /// Which search the results belong to.
    pub search_generation: u64,
    pub searching: bool,
    pub results: Vec<DatasetResult>,
    pub next: Option<String>,
    pub search_error: Option<String>,
    /// A Hub id or a path typed in.
    pub open_input: String,
    /// The dataset shown (its name as opened), and which request the
    /// page shown belongs to.
    pub opened: Option<String>,
    pub generation: u64,
    pub info: Option<DatasetInfo>,
    pub config: Option<String>,
    pub split: Option<String>,
    pub page: Option<RowsPage>,
    /// The page's picture previews, uploaded: (row, column, texture).
    textures: Vec<(usize, String, egui::TextureHandle)>,
    pub loading: bool,
    pub error: Option<String>,
}

impl Default for DatasetsPage {
    fn default() -> Self {
        Self {
            query: String::new(),
            task: TaskFilter::All,
            modality: None,
            sort: Sort::Downloads,
            search_generation: 0,
            searching: false,
            results: Vec::new(),
            next: None,
            search_error: None,
            open_input: String::new(),
            opened: None,
            generation: 0,
            info: None,
            config: None,
            split: None,
            page: None,
            textures: Vec::new(),
            loading: false,
            error: None,
        }
    }
}

impl DatasetsPage {
    fn search(&mut self, cx: &mut Cx) {
        self.search_generation += 1;
        self.searching = true;
        self.search_error = None;
        cx.send(Command::SearchDatasets {
            generation: self.search_generation,
            query: DatasetQuery {
                text: self.query.clone(),
                task: self.task,
                modality: self.modality.clone(),
                sort: self.sort,
                limit: 30,
            },
        });
    }

    /// Shows dataset `name` (a Hub id or a path) from its first rows.
    pub fn open(&mut self, name: String, cx: &mut Cx) {
        self.opened = Some(name);
        self.info = None;
        self.config = None;
        self.split = None;
        self.page = None;
        self.textures.clear();
        self.request(0, cx);
    }

    fn request(&mut self, offset: u64, cx: &mut Cx) {
        let Some(name) = self.opened.clone() else {
            return;
        };
        self.generation += 1;
        self.loading = true;
        self.error = None;
        cx.send(Command::DatasetPage(DatasetJob {
            generation: self.generation,
            dataset: name,
            config: self.config.clone(),
            split: self.split.clone(),
            offset,
            hub: None,
        }));
    }

    fn search_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        let mut go = false;
        ui.horizontal(|ui| {
            let label = ui.label("Search datasets");
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.query)
                        .hint_text("e.g. librispeech, wmt, flickr")
                        .desired_width(300.0),
                )
                .labelled_by(label.id);
            if edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                go = true;
            }
            if ui
                .add_enabled(!cx.offline(), egui::Button::new("Search"))
                .clicked()
            {
                go = true;
            }
            if self.searching {
                ui.spinner();
            }
        });
        ui.horizontal_wrapped(|ui| {
            for task in TaskFilter::ALL {
                if ui
                    .add(egui::Button::selectable(self.task == task, task.label()))
                    .clicked()
                    && self.task != task
                {
                    self.task = task;
                    go = true;
                }
            }
            ui.separator();
            let before = (self.modality.clone(), self.sort);
            egui::ComboBox::from_label("Modality")
                .selected_text(self.modality.as_deref().unwrap_or("any"))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.modality, None, "any");
                    for m in MODALITIES {
                        ui.selectable_value(&mut self.modality, Some(m.to_string()), m);
                    }
                });
            egui::ComboBox::from_label("Sort")
                .selected_text(self.sort.label())
                .show_ui(ui, |ui| {
                    for s in Sort::ALL {
                        ui.selectable_value(&mut self.sort, s, s.label());
                    }
                });
            if before != (self.modality.clone(), self.sort) {
                go = true;
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label("Open");
            ui.add(
                egui::TextEdit::singleline(&mut self.open_input)
                    .hint_text("a Hub id (org/name), or a parquet file or folder")
                    .desired_width(300.0),
            )
            .labelled_by(label.id);
            let typed = self.open_input.trim().to_string();
            if ui
                .add_enabled(!typed.is_empty(), egui::Button::new("Open dataset"))
                .clicked()
            {
                self.open(typed, cx);
            }
            if ui
                .button("Open a file…")
                .on_hover_text("A parquet, CSV or JSON Lines file")
                .clicked()
            {
                cx.open_dialog(
                    DialogRequest::new(DialogKind::OpenFiles, "Open a dataset file")
                        .filter("Data files", &["parquet", "csv", "tsv", "jsonl", "json"]),
                    DialogPurpose::OpenDataset,
                );
            }
            if ui
                .button("Open a folder…")
                .on_hover_text(
                    "A folder of parquet, CSV or JSON Lines files, or of sounds or \
                     pictures (with a metadata.csv beside them, or none)",
                )
                .clicked()
            {
                cx.open_dialog(
                    DialogRequest::new(DialogKind::OpenFolder, "Open a dataset"),
                    DialogPurpose::OpenDataset,
                );
            }
        });
        if go && !cx.offline() {
            self.search(cx);
        }
    }

    fn results_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        if cx.offline() {
            ui.label("Searching needs the network, and offline mode is on. Open a dataset from your disk or one already downloaded by its id.");
        }
        if let Some(e) = &self.search_error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if self.search_generation > 0 && !self.searching && self.results.is_empty() {
            ui.label("No datasets match. Try fewer words or another task.");
        }
        let mut open = None;
        let mut more = false;
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("dataset-results")
                    .striped(true)
                    .num_columns(5)
                    .spacing([14.0, 6.0])
                    .show(ui, |ui| {
                        if !self.results.is_empty() {
                            for h in ["Dataset", "Downloads", "Likes", "Size", "Fits"] {
                                ui.strong(h);
                            }
                            ui.end_row();
                        }
                        for r in &self.results {
                            let d = &r.summary;
                            ui.horizontal(|ui| {
                                if ui.link(&d.id).clicked() {
                                    open = Some(d.id.clone());
                                }
                                if d.gated {
                                    ui.small("gated").on_hover_text(
                                        "Accept its terms on the Hub and set a token in Settings to read it.",
                                    );
                                }
                                if d.private {
                                    ui.small("private");
                                }
                            });
                            ui.label(d.downloads.to_string());
                            ui.label(d.likes.to_string());
                            ui.label(d.size_bytes.map(format_bytes).unwrap_or_else(|| "—".into()));
                            let color = if r.fit.panel().is_some() {
                                egui::Color32::from_rgb(40, 150, 70)
                            } else {
                                ui.visuals().weak_text_color()
                            };
                            ui.colored_label(color, r.fit.label());
                            ui.end_row();
                        }
                    });
                if self.next.is_some() && ui.button("Load more").clicked() {
                    more = true;
                }
            });
        if let Some(id) = open {
            self.open(id, cx);
        }
        if more && let Some(url) = self.next.take() {
            self.searching = true;
            cx.send(Command::MoreDatasets {
                generation: self.search_generation,
                url,
            });
        }
    }

    fn dataset_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        let name = self.opened.clone().unwrap_or_default();
        ui.horizontal(|ui| {
            if ui.button("Back to results").clicked() {
                self.opened = None;
                self.page = None;
                self.textures.clear();
            }
            ui.heading(&name);
            if self.loading {
                ui.spinner();
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        let Some(info) = self.info.clone() else {
            if self.loading {
                ui.label("Reading the dataset…");
            }
            return;
        };
        let mut changed = false;
        ui.horizontal_wrapped(|ui| {
            let configs: Vec<&crate::datasets::ConfigInfo> = info.configs.iter().collect();
            let current_config = self
                .page
                .as_ref()
                .map(|p| p.config.clone())
                .or_else(|| configs.first().map(|c| c.name.clone()))
                .unwrap_or_default();
            let mut config = current_config.clone();
            let label = ui.label("Config");
            egui::ComboBox::from_id_salt("dataset-config")
                .selected_text(&config)
                .show_ui(ui, |ui| {
                    for c in &configs {
                        ui.selectable_value(&mut config, c.name.clone(), &c.name);
                    }
                })
                .response
                .labelled_by(label.id);
            let splits = configs
                .iter()
                .find(|c| c.name == config)
                .map(|c| c.splits.clone())
                .unwrap_or_default();
            let current_split = self
                .page
                .as_ref()
                .filter(|p| p.config == config)
                .map(|p| p.split.clone())
                .or_else(|| splits.first().map(|s| s.name.clone()))
                .unwrap_or_default();
            let mut split = current_split.clone();
            let label = ui.label("Split");
            egui::ComboBox::from_id_salt("dataset-split")
                .selected_text(&split)
                .show_ui(ui, |ui| {
                    for s in &splits {
                        let rows = s
                            .num_rows
                            .map(|n| format!(" ({n} rows)"))
                            .unwrap_or_default();
                        ui.selectable_value(
                            &mut split,
                            s.name.clone(),
                            format!("{}{rows}", s.name),
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            if config != current_config || split != current_split {
                self.config = Some(config);
                self.split = Some(split);
                changed = true;
            }
            let fit = crate::datasets::features::fit(&info.features);
            ui.separator();
            ui.label(format!("Fits: {}", fit.label()));
        });
        ui.horizontal_wrapped(|ui| {
            for (name, f) in &info.features {
                ui.small(format!("{name}: {}", f.describe()));
                ui.separator();
            }
        });
        if changed {
            self.request(0, cx);
        }
        let Some(page) = &self.page else {
            return;
        };
        let (offset, total, shown) = (page.offset, page.total, page.rows.len() as u64);
        let mut go = None;
        ui.horizontal(|ui| {
            if ui
                .add_enabled(offset > 0, egui::Button::new("Previous"))
                .clicked()
            {
                go = Some(offset.saturating_sub(PAGE as u64));
            }
            ui.label(if shown == 0 {
                format!("no rows of {total}")
            } else {
                format!("rows {}–{} of {total}", offset + 1, offset + shown)
            });
            if ui
                .add_enabled(offset + shown < total, egui::Button::new("Next"))
                .clicked()
            {
                go = Some(offset + PAGE as u64);
            }
        });
        ui.separator();
        let fit = crate::datasets::features::fit(&info.features);
        let mut tried = None;
        let columns: Vec<String> = page
            .rows
            .first()
            .map(|r| r.cells.iter().map(|(k, _)| k.clone()).collect())
            .unwrap_or_default();
        egui::ScrollArea::both()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("dataset-rows")
                    .striped(true)
                    .spacing([12.0, 6.0])
                    .show(ui, |ui| {
                        ui.strong("#");
                        if fit.panel().is_some() {
                            ui.strong("");
                        }
                        for c in &columns {
                            ui.strong(c);
                        }
                        ui.end_row();
                        for (i, row) in page.rows.iter().enumerate() {
                            ui.monospace(row.index.to_string());
                            if let Some(panel) = fit.panel() {
                                let label = format!("Try in {}", panel.label());
                                let r = ui.add_enabled(
                                    can_try(row, &fit),
                                    egui::Button::new(&label).small(),
                                );
                                if r.clicked() {
                                    tried = try_row(row, &fit, &info.features);
                                }
                            }
                            for (col, value) in &row.cells {
                                let texture = self
                                    .textures
                                    .iter()
                                    .find(|(r, c, _)| *r == i && c == col)
                                    .map(|(_, _, t)| t);
                                match (value, texture) {
                                    (Value::Media(_), Some(t)) => {
                                        ui.add(
                                            egui::Image::new(t)
                                                .max_size(egui::vec2(72.0, 72.0))
                                                .alt_text(format!("picture in row {}", row.index)),
                                        )
                                        .on_hover_text(value.short(200));
                                    }
                                    (Value::Int(n), _)
                                        if let Some(name) = class_name(&info.features, col, *n) =>
                                    {
                                        ui.label(format!("{name} ({n})"));
                                    }
                                    _ => {
                                        let short = value.short(60);
                                        let cut = short.ends_with('…');
                                        let r = ui.label(short);
                                        if cut {
                                            // The whole cell, made only while
                                            // the pointer is on it.
                                            r.on_hover_ui(|ui| {
                                                ui.label(value.short(4000));
                                            });
                                        }
                                    }
                                }
                            }
                            ui.end_row();
                        }
                    });
            });
        if let Some(at) = go {
            self.request(at, cx);
        }
        if let Some(row) = tried {
            cx.intents.push(super::Intent::TryRow(row));
        }
    }
}

/// A cell's text as a reference: text as it is, a list of texts as its
/// first (COCO-style several captions), else none.
fn reference_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Str(s) => Some(s.clone()),
        Value::List(items) => items.iter().find_map(|i| i.as_str().map(str::to_string)),
        _ => None,
    }
}

/// Whether a row can go to its demo (its picture or sound has bytes; its
/// translation pair is there), without copying anything.
fn can_try(row: &crate::datasets::Row, fit: &crate::datasets::Fit) -> bool {
    let crate::datasets::Fit::Demo { input, .. } = fit else {
        return false;
    };
    match row.get(input) {
        Some(Value::Media(m)) => m.bytes.is_some(),
        Some(Value::Struct(_)) => true,
        _ => false,
    }
}

/// What a row gives its demo, if it can (a picture or a sound with its
/// bytes; a translation pair with both sides).
fn try_row(
    row: &crate::datasets::Row,
    fit: &crate::datasets::Fit,
    features: &[(String, crate::datasets::Feature)],
) -> Option<super::TryRow> {
    let crate::datasets::Fit::Demo {
        panel,
        input,
        reference,
    } = fit
    else {
        return None;
    };
    let cell = row.get(input)?;
    let reference = reference_text(reference.as_deref().and_then(|r| row.get(r)));
    match (panel, cell) {
        (crate::catalog::Panel::Caption | crate::catalog::Panel::Transcribe, Value::Media(m)) => {
            let bytes = std::sync::Arc::new(m.bytes.clone()?);
            let name = m
                .path
                .clone()
                .unwrap_or_else(|| format!("row {}", row.index));
            Some(if *panel == crate::catalog::Panel::Caption {
                super::TryRow::Caption {
                    name,
                    bytes,
                    reference,
                }
            } else {
                super::TryRow::Transcribe {
                    name,
                    bytes,
                    reference,
                }
            })
        }
        (crate::catalog::Panel::Translate, Value::Struct(_)) => {
            let languages = match features.iter().find(|(c, _)| c == input) {
                Some((_, crate::datasets::Feature::Translation(l))) if l.len() >= 2 => l.clone(),
                _ => return None,
            };
            let (from, to) = (languages[0].clone(), languages[1].clone());
            Some(super::TryRow::Translate {
                text: cell.field(&from)?.as_str()?.to_string(),
                reference: cell.field(&to)?.as_str()?.to_string(),
                from,
                to,
            })
        }
        _ => None,
    }
}

/// A ClassLabel column's name for `n`.
fn class_name<'a>(
    features: &'a [(String, crate::datasets::Feature)],
    column: &str,
    n: i64,
) -> Option<&'a str> {
    match features.iter().find(|(c, _)| c == column) {
        Some((_, crate::datasets::Feature::ClassLabel(names))) => usize::try_from(n)
            .ok()
            .and_then(|i| names.get(i))
            .map(String::as_str),
        _ => None,
    }
}

impl View for DatasetsPage {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        // Previews come from the worker as pixels; upload them once.
        if let Some(page) = &mut self.page {
            for (i, thumbs) in page.thumbnails.iter_mut().enumerate() {
                for (col, t) in std::mem::take(thumbs) {
                    let texture = ui.ctx().load_texture(
                        format!("dataset-{}-{i}-{col}", self.generation),
                        egui::ColorImage::from_rgba_unmultiplied([t.width, t.height], &t.rgba),
                        egui::TextureOptions::LINEAR,
                    );
                    self.textures.push((i, col, texture));
                }
            }
        }
        ui.heading("Datasets");
        if self.opened.is_some() {
            self.dataset_ui(ui, cx);
        } else {
            self.search_ui(ui, cx);
            ui.separator();
            self.results_ui(ui, cx);
        }
    }

    /// Search results and pages of the newest requests; the folder chosen
    /// in this page's dialog.
    fn on_event(&mut self, event: Event, cx: &mut Cx) -> Option<Event> {
        match event {
            Event::DatasetResults {
                generation,
                results,
                next,
                append,
            } => {
                if generation == self.search_generation {
                    self.searching = false;
                    cx.unreachable = None;
                    if append {
                        self.results.extend(results);
                    } else {
                        self.results = results;
                    }
                    self.next = next;
                }
            }
            Event::DatasetSearchFailed {
                generation,
                error,
                offline,
            } => {
                if generation == self.search_generation {
                    self.searching = false;
                    if offline {
                        cx.unreachable = Some(error.clone());
                    }
                    self.search_error = Some(error);
                }
            }
            Event::DatasetOpened { generation, info } => {
                if generation == self.generation {
                    self.info = Some(*info);
                }
            }
            Event::DatasetRows { generation, page } => {
                if generation == self.generation {
                    self.loading = false;
                    self.textures.clear();
                    self.page = Some(*page);
                }
            }
            Event::DatasetFailed { generation, error } => {
                if generation == self.generation {
                    self.loading = false;
                    self.error = Some(error);
                }
            }
            Event::FilesChosen {
                purpose: DialogPurpose::OpenDataset,
                paths,
            } => {
                if let Some(p) = paths.into_iter().next() {
                    self.open(p.display().to_string(), cx);
                }
            }
            other => return Some(other),
        }
        None
    }
}
