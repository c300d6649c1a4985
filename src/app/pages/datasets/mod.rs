//! The Datasets page: search the Datasets Hub (text, task, modality,
//! sort, "load more"), each result with downloads, likes, size, gated and
//! which demo its columns fit; open a result, a Hub id, a local file
//! (parquet, CSV, JSON Lines) or folder (also of sounds or pictures). The
//! dataset's own view is [`view`] (details, rows, Play, a larger picture,
//! Download split); preparing and exporting it is [`prepare`].

mod prepare;
mod view;

use super::{Cx, View};
use crate::app::dialogs::{DialogKind, DialogRequest};
use crate::datasets::DatasetInfo;
use crate::format::format_bytes;
use crate::hub::datasets::DatasetQuery;
use crate::hub::{Sort, TaskFilter};
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
    /// Whether the dataset shown is read from the Hub (Download split).
    pub remote: bool,
    /// Its card.
    pub card: Option<String>,
    markdown: egui_commonmark::CommonMarkCache,
    pub prepare: prepare::PrepareState,
    /// The sound playing: (row, column, play id).
    pub playing: Option<(u64, String, u64)>,
    pub play_error: Option<String>,
    /// The picture shown larger.
    pub enlarged: Option<Enlarged>,
    enlarge_id: u64,
}

/// A picture shown in its own window.
pub struct Enlarged {
    pub id: u64,
    pub title: String,
    /// The decoded picture, until uploaded as `texture`.
    pub pixels: Option<crate::tasks::caption::image::Thumbnail>,
    pub texture: Option<egui::TextureHandle>,
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
            remote: false,
            card: None,
            markdown: Default::default(),
            prepare: Default::default(),
            playing: None,
            play_error: None,
            enlarged: None,
            enlarge_id: 0,
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

    /// Leaves the dataset shown (its sound stopped).
    fn close(&mut self, cx: &mut Cx) {
        self.opened = None;
        self.page = None;
        self.textures.clear();
        self.enlarged = None;
        if self.playing.take().is_some() {
            cx.send(Command::StopPlaying);
        }
    }

    /// Shows dataset `name` (a Hub id or a path) from its first rows.
    pub fn open(&mut self, name: String, cx: &mut Cx) {
        self.close(cx);
        self.card = None;
        self.remote = false;
        self.prepare.written.clear();
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
            let label = ui.label("Modality");
            egui::ComboBox::from_id_salt("dataset-modality")
                .selected_text(self.modality.as_deref().unwrap_or("any"))
                .show_ui(ui, |ui| {
                    crate::app::widgets::pick(ui, &mut self.modality, None, "any");
                    for m in MODALITIES {
                        crate::app::widgets::pick(ui, &mut self.modality, Some(m.to_string()), m);
                    }
                })
                .response
                .labelled_by(label.id);
            let label = ui.label("Sort");
            egui::ComboBox::from_id_salt("dataset-sort")
                .selected_text(self.sort.label())
                .show_ui(ui, |ui| {
                    for s in Sort::ALL {
                        crate::app::widgets::pick(ui, &mut self.sort, s, s.label());
                    }
                })
                .response
                .labelled_by(label.id);
            if before != (self.modality.clone(), self.sort) {
                go = true;
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label("Open");
            ui.add(
                egui::TextEdit::singleline(&mut self.open_input)
                    .hint_text("a Hub id (org/name), or a file or folder of data")
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
            Event::DatasetOpened {
                generation,
                info,
                card,
                remote,
            } => {
                if generation == self.generation {
                    self.info = Some(*info);
                    self.card = card;
                    self.remote = remote;
                }
            }
            // The button says Stop from the click on.
            Event::Playing { id, .. } | Event::PlayPosition { id, .. }
                if self.playing.as_ref().is_some_and(|p| p.2 == id) => {}
            Event::PlayEnded { id, error } if self.playing.as_ref().is_some_and(|p| p.2 == id) => {
                self.playing = None;
                if let Some(e) = error {
                    self.play_error = Some(e);
                }
            }
            Event::Enlarged { id, picture } => {
                if let Some(e) = self.enlarged.as_mut().filter(|e| e.id == id) {
                    match picture {
                        Ok(t) => e.pixels = Some(t),
                        Err(err) => e.error = Some(err),
                    }
                }
            }
            Event::ExportProgress {
                generation,
                stage,
                done,
                total,
            } => {
                if generation == self.prepare.generation {
                    self.prepare.running = Some((stage, done, total));
                }
            }
            Event::ExportDone { generation, files } => {
                if generation == self.prepare.generation {
                    self.prepare.running = None;
                    for (p, n) in &files {
                        cx.notify(format!("Exported {n} rows to {}.", p.display()));
                    }
                    self.prepare.written = files;
                }
            }
            Event::ExportFailed { generation, error } => {
                if generation == self.prepare.generation {
                    self.prepare.running = None;
                    self.prepare.error = Some(error);
                }
            }
            Event::FilesChosen {
                purpose: DialogPurpose::ExportDataset,
                paths,
            } => {
                if let Some(p) = paths.into_iter().next() {
                    self.export_to(p, cx);
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
