//! The Caption page: a BLIP model picker (downloaded models; the catalog's
//! otherwise), an optional prompt and beam search, pictures from Open…, a
//! folder, dropped on the window (with a hover highlight) or pasted from
//! the clipboard; one picture
//! shows large with its caption and Copy; several fill a table as their
//! captions finish, with progress, Stop, export to CSV or JSON and .txt
//! files beside the pictures.

use std::path::PathBuf;
use std::sync::Arc;

use super::Shortcut;
use super::demo::heading_and_model;
use super::{Cx, View};
use crate::app::dialogs::{DialogKind, DialogRequest};
use crate::app::widgets::{drop_frame, dropped_files, path_field, shortcut_button};
use crate::catalog::Panel;
use crate::tasks::caption::image::{PICTURE_EXTENSIONS, Rgb, Thumbnail};
use crate::tasks::caption::{Caption, CaptionRequest};
use crate::workers::{CaptionJob, Command, DialogPurpose, Event};

/// One picture on the Caption self.
pub struct CaptionRow {
    pub path: PathBuf,
    /// `None` while waiting; the caption or why there is none.
    pub result: Option<Result<Caption, String>>,
    /// The preview as it came from the worker, until the page uploads it.
    pub preview: Option<Thumbnail>,
    pub thumbnail: Option<egui::TextureHandle>,
}

/// The Caption self.
#[derive(Default)]
pub struct CaptionPage {
    /// The chosen model (repo id); the first downloaded one by default.
    pub model: Option<String>,
    pub chosen_model: Option<PathBuf>,
    pub generation: u64,
    /// A picture or folder typed in.
    pub path_input: String,
    /// Text captions start with (optional) and beam search on/off.
    pub prompt: String,
    pub beams: bool,
    pub rows: Vec<CaptionRow>,
    pub loading: bool,
    pub running: bool,
    pub error: Option<String>,
    /// The reference caption of a dataset row being captioned.
    pub reference: Option<String>,
    /// A picture through several models, side by side.
    pub compare: super::demo::CompareState,
    /// The example pictures' thumbnails, once uploaded.
    pub example_textures: Vec<Option<egui::TextureHandle>>,
}

impl View for CaptionPage {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        // The first picture shown that is a file.
        let input = self.rows.iter().find(|r| r.path.is_file()).map(|r| {
            (
                crate::workers::compare::DemoInput::Picture(r.path.clone()),
                r.path.file_name().map_or_else(
                    || r.path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                ),
            )
        });
        self.compare.ui(ui, cx, Panel::Caption, input);
        self.page_ui(ui, cx);
    }

    /// The newest batch's progress and captions, and the pictures or
    /// folder chosen in this page's dialogs.
    fn on_event(&mut self, event: Event, cx: &mut Cx) -> Option<Event> {
        let event = self.compare.on_event(Panel::Caption, event)?;
        match event {
            Event::CaptionLoading { generation } => {
                if generation == self.generation {
                    self.loading = true;
                }
            }
            Event::CaptionQueued { generation, paths } => {
                if generation == self.generation {
                    self.rows = paths
                        .into_iter()
                        .map(|path| CaptionRow {
                            path,
                            result: None,
                            preview: None,
                            thumbnail: None,
                        })
                        .collect();
                }
            }
            Event::CaptionItem {
                generation,
                index,
                result,
                thumbnail,
            } => {
                if generation == self.generation {
                    self.loading = false;
                    if let Some(row) = self.rows.get_mut(index) {
                        row.result = Some(result);
                        row.preview = thumbnail;
                    }
                }
            }
            Event::CaptionFinished { generation, error } => {
                if generation == self.generation {
                    self.loading = false;
                    self.running = false;
                    self.error = error;
                }
            }
            Event::FilesChosen {
                purpose: DialogPurpose::OpenPictures | DialogPurpose::OpenFolder,
                paths,
            } => {
                if let Some(model) = self.chosen_model.clone()
                    && !paths.is_empty()
                {
                    self.start_captions(model, paths, cx);
                }
            }
            other => return Some(other),
        }
        None
    }
}

impl CaptionPage {
    /// Captions `paths` (files, or folders of pictures); replaces the
    /// batch on the self.
    pub fn start_captions(&mut self, model: PathBuf, paths: Vec<PathBuf>, cx: &mut Cx) {
        self.start_captions_with(model, paths, Vec::new(), cx);
    }

    fn start_captions_with(
        &mut self,
        model: PathBuf,
        paths: Vec<PathBuf>,
        pasted: Vec<Arc<Rgb>>,
        cx: &mut Cx,
    ) {
        self.start_batch(model, paths, pasted, Vec::new(), cx);
    }

    /// Captions a dataset row's picture (encoded bytes), with the row's
    /// reference text shown beside the caption.
    pub fn caption_row(
        &mut self,
        name: String,
        bytes: Arc<Vec<u8>>,
        reference: Option<String>,
        cx: &mut Cx,
    ) {
        let Some(model) = self.chosen_model.clone().or_else(|| {
            super::demo::downloaded_for(cx.cached(), crate::catalog::Panel::Caption)
                .first()
                .map(|(_, dir)| dir.clone())
        }) else {
            self.error = Some("Download a captioning model first (below).".into());
            return;
        };
        self.start_batch(model, Vec::new(), Vec::new(), vec![(name, bytes)], cx);
        self.reference = reference;
    }

    fn start_batch(
        &mut self,
        model: PathBuf,
        paths: Vec<PathBuf>,
        pasted: Vec<Arc<Rgb>>,
        encoded: Vec<(String, Arc<Vec<u8>>)>,
        cx: &mut Cx,
    ) {
        self.reference = None;
        self.generation += 1;
        self.rows.clear();
        self.error = None;
        self.running = true;
        let prompt = self.prompt.trim().to_string();
        let request = CaptionRequest {
            prompt: (!prompt.is_empty()).then_some(prompt),
            beams: self.beams.then_some(3),
            max_new_tokens: None,
        };
        let generation = self.generation;
        cx.send(Command::Caption(CaptionJob {
            generation,
            model,
            paths,
            pasted,
            encoded,
            request,
            device: cx.settings.device,
            compute: cx.settings.compute,
        }));
    }

    fn open_pictures_dialog(cx: &mut Cx, purpose: DialogPurpose) {
        let request = match purpose {
            DialogPurpose::OpenFolder => {
                DialogRequest::new(DialogKind::OpenFolder, "Caption pictures")
            }
            _ => DialogRequest::new(DialogKind::OpenFiles, "Caption pictures")
                .filter("Pictures", &PICTURE_EXTENSIONS),
        };
        cx.open_dialog(request, purpose);
    }

    fn page_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        let Some(model_dir) = heading_and_model(ui, cx, Panel::Caption, &mut self.model) else {
            return;
        };
        self.chosen_model = Some(model_dir.clone());
        ui.horizontal(|ui| {
            let label = ui.label("Start with");
            ui.add(
                egui::TextEdit::singleline(&mut self.prompt)
                    .hint_text("optional, e.g. \"a photography of\"")
                    .desired_width(260.0),
            )
            .labelled_by(label.id);
            ui.checkbox(&mut self.beams, "Beam search (3 beams)");
        });
        // Pictures or folders dropped on the window.
        let (hovering, dropped) = dropped_files(ui);
        if !dropped.is_empty() {
            self.start_captions(model_dir.clone(), dropped, cx);
        }
        // A picture pasted from the clipboard (Ctrl+V).
        // Converted to the task's own pixel type here: nothing below the
        // app knows egui's.
        let pasted: Vec<Arc<Rgb>> = ui.ctx().input(|i| {
            i.events
                .iter()
                .filter_map(|e| match e {
                    egui::Event::PasteImage(img) => {
                        let rgba = img
                            .pixels
                            .iter()
                            .flat_map(|c| c.to_srgba_unmultiplied())
                            .collect();
                        Rgb::from_rgba(img.size[0], img.size[1], rgba).map(Arc::new)
                    }
                    _ => None,
                })
                .collect()
        });
        if !pasted.is_empty() {
            self.start_captions_with(model_dir.clone(), Vec::new(), pasted, cx);
        }
        // A path pasted outside the path field (copied in a file manager).
        if let Some(text) = cx.pasted.take() {
            let paths = crate::app::widgets::pasted_paths(&text);
            if paths.is_empty() {
                self.error = Some(
                    "What was pasted is not a picture or a path to one; copy a picture, or its file, and paste again."
                        .into(),
                );
            } else {
                self.start_captions(model_dir.clone(), paths, cx);
            }
        }
        let frame = drop_frame(ui, hovering);
        frame.show(ui, |ui| {
            ui.horizontal(|ui| {
                let (field, enter) =
                    path_field(ui, "Picture or folder", &mut self.path_input, 380.0);
                if cx.take_page_opened() {
                    field.request_focus();
                }
                let typed = self.path_input.trim().to_string();
                if shortcut_button(ui, cx, !typed.is_empty(), "Caption", Shortcut::Run)
                    || (enter && !typed.is_empty())
                {
                    self.start_captions(model_dir.clone(), vec![PathBuf::from(typed)], cx);
                }
            });
            ui.horizontal(|ui| {
                if shortcut_button(ui, cx, true, "Open pictures…", Shortcut::Open) {
                    Self::open_pictures_dialog(cx, DialogPurpose::OpenPictures);
                }
                if ui
                    .button("Open a folder…")
                    .on_hover_text("Caption every picture in a folder")
                    .clicked()
                {
                    Self::open_pictures_dialog(cx, DialogPurpose::OpenFolder);
                }
                ui.small(if hovering {
                    "Drop to caption"
                } else {
                    "or drop pictures or a folder on the window (JPEG, PNG, WebP, GIF, BMP, TIFF), or paste one"
                });
            });
        });
        if let Some(i) = super::demo::picture_examples(ui, &mut self.example_textures) {
            let p = &crate::app::examples::PICTURES[i];
            self.start_batch(
                model_dir.clone(),
                Vec::new(),
                Vec::new(),
                vec![(p.name.to_string(), Arc::new(p.bytes.to_vec()))],
                cx,
            );
        }
        let total = self.rows.len();
        let done = self.rows.iter().filter(|r| r.result.is_some()).count();
        if self.loading {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Loading the model…");
            });
        } else if self.running && total > 0 {
            ui.horizontal(|ui| {
                ui.add(
                    egui::ProgressBar::new(done as f32 / total as f32)
                        .desired_width(320.0)
                        .text(format!("{done} of {total}")),
                );
                ui.small(cx.on_device());
                if shortcut_button(ui, cx, true, "Stop", Shortcut::Stop) {
                    cx.send(Command::CancelCaption);
                    self.running = false;
                }
            });
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        // Previews come from the worker as pixels; upload them once.
        for (i, row) in self.rows.iter_mut().enumerate() {
            if let Some(t) = row.preview.take() {
                row.thumbnail = Some(ui.ctx().load_texture(
                    format!("caption-{}-{i}", self.generation),
                    egui::ColorImage::from_rgba_unmultiplied([t.width, t.height], &t.rgba),
                    egui::TextureOptions::LINEAR,
                ));
            }
        }
        ui.separator();
        if total == 1 {
            self.single_caption_ui(ui, cx);
        } else if total > 1 {
            self.caption_table_ui(ui, cx);
        }
    }

    fn single_caption_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        let row = &self.rows[0];
        let mut copy = None;
        ui.horizontal_top(|ui| {
            if let Some(t) = &row.thumbnail {
                ui.add(egui::Image::new(t).max_size(egui::vec2(256.0, 256.0)));
            }
            ui.vertical(|ui| {
                ui.small(row.path.display().to_string());
                match &row.result {
                    None => {
                        ui.spinner();
                    }
                    Some(Ok(c)) => {
                        ui.label(egui::RichText::new(&c.text).size(20.0));
                        if shortcut_button(ui, cx, true, "Copy caption", Shortcut::Copy) {
                            copy = Some(c.text.clone());
                        }
                    }
                    Some(Err(e)) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                }
                if let Some(r) = &self.reference {
                    ui.add_space(6.0);
                    ui.label(format!("Reference (from the dataset): {r}"));
                }
            });
        });
        if let Some(text) = copy {
            ui.ctx().copy_text(text);
            cx.notify("Caption copied.".into());
        }
    }

    fn caption_table_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        let finished: Vec<(String, String)> = self
            .rows
            .iter()
            .filter_map(|r| match &r.result {
                Some(Ok(c)) => Some((r.path.display().to_string(), c.text.clone())),
                _ => None,
            })
            .collect();
        ui.horizontal(|ui| {
            ui.add_enabled_ui(!finished.is_empty(), |ui| {
                if ui
                    .button("Export…")
                    .on_hover_text("Save the captions as CSV, or JSON when the name ends in .json")
                    .clicked()
                {
                    cx.open_dialog(
                        DialogRequest::new(DialogKind::Save, "Save the captions")
                            .file_name("captions.csv")
                            .filter("CSV", &["csv"])
                            .filter("JSON", &["json"]),
                        DialogPurpose::SaveCaptions(finished.clone()),
                    );
                }
                // Only pictures that are files have a folder to write in.
                let files: Vec<(PathBuf, String)> = finished
                    .iter()
                    .map(|(image, text)| (PathBuf::from(image), text))
                    .filter(|(image, _)| image.is_absolute())
                    .map(|(image, text)| (image.with_extension("txt"), format!("{text}\n")))
                    .collect();
                let example = files
                    .first()
                    .map(|(p, _)| p.display().to_string())
                    .unwrap_or_default();
                if ui
                    .add_enabled(
                        !files.is_empty(),
                        egui::Button::new("Write .txt beside each picture"),
                    )
                    .on_hover_text(format!(
                        "A caption file next to each of the {} pictures (for datasets), such as {example}",
                        files.len()
                    ))
                    .clicked()
                {
                    cx.send(Command::SaveTexts { files });
                }
            });
        });
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("captions")
                    .striped(true)
                    .spacing([12.0, 6.0])
                    .show(ui, |ui| {
                        for row in &self.rows {
                            match &row.thumbnail {
                                Some(t) => {
                                    ui.add(egui::Image::new(t).max_size(egui::vec2(72.0, 72.0)));
                                }
                                None => {
                                    ui.label("");
                                }
                            }
                            ui.label(
                                row.path
                                    .file_name()
                                    .map(|n| n.to_string_lossy().into_owned())
                                    .unwrap_or_default(),
                            );
                            match &row.result {
                                None => {
                                    ui.weak("waiting…");
                                }
                                Some(Ok(c)) => {
                                    ui.label(&c.text);
                                }
                                Some(Err(e)) => {
                                    ui.colored_label(ui.visuals().error_fg_color, e);
                                }
                            }
                            ui.end_row();
                        }
                    });
            });
    }
}
