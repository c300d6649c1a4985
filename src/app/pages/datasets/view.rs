//! The Datasets page's view of one dataset: its header (Download split,
//! Prepare and export, Details with the card, licence, splits and column
//! types) and its rows a page at a time — pictures as thumbnails that
//! open larger on a click, sounds with their length and Play/Stop, long
//! cells whole on hover, a row's Try button into its demo.

use super::super::{Cx, TryRow};
use super::DatasetsPage;
use crate::datasets::Value;
use crate::format::format_bytes;
use crate::workers::Command;
use crate::workers::datasets::PAGE;

/// Minutes and seconds, tenths under a minute: "0:03.2", "12:05".
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 60.0 {
        format!("0:{s:04.1}")
    } else {
        format!("{}:{:02}", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

/// The `license:` of a card's YAML front matter.
pub(super) fn card_licence(card: &str) -> Option<String> {
    let body = card.strip_prefix("---")?;
    let front = &body[..body.find("\n---")?];
    let mut lines = front.lines();
    while let Some(line) = lines.next() {
        if let Some(v) = line.strip_prefix("license:") {
            let v = v.trim().trim_matches(|c| c == '"' || c == '\'');
            if !v.is_empty() {
                return Some(v.to_string());
            }
            // A list on the lines that follow.
            let items: Vec<String> = lines
                .by_ref()
                .take_while(|l| l.trim_start().starts_with('-'))
                .map(|l| l.trim_start().trim_start_matches('-').trim().to_string())
                .collect();
            return (!items.is_empty()).then(|| items.join(", "));
        }
    }
    None
}

impl DatasetsPage {
    pub(super) fn dataset_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        let name = self.opened.clone().unwrap_or_default();
        ui.horizontal(|ui| {
            if ui.button("Back to results").clicked() {
                self.close(cx);
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
                        crate::app::widgets::pick(ui, &mut config, c.name.clone(), &c.name);
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
                        crate::app::widgets::pick(
                            ui,
                            &mut split,
                            s.name.clone(),
                            format!("{}{rows}", s.name),
                        );
                    }
                })
                .response
                .labelled_by(label.id);
            if config != current_config || split != current_split {
                self.config = Some(config.clone());
                self.split = Some(split.clone());
                changed = true;
            }
            let fit = crate::datasets::features::fit(&info.features);
            ui.separator();
            ui.label(format!("Fits: {}", fit.label()));
            ui.separator();
            self.download_ui(ui, cx, &config, &split);
            ui.toggle_value(&mut self.prepare.open, "Prepare and export…");
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
        self.details_ui(ui, &info);
        if self.prepare.open {
            self.prepare_ui(ui, cx);
        }
        self.rows_ui(ui, cx, &info);
        self.enlarged_ui(ui.ctx());
    }

    /// "Download split" for a dataset read from the Hub, its progress and
    /// Cancel while it runs.
    fn download_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx, config: &str, split: &str) {
        let Some(id) = self.opened.clone() else {
            return;
        };
        // Only a Hub id that is not on this disk (a path, or a cached
        // snapshot, reads locally already).
        if !self.remote {
            return;
        }
        let key = format!("datasets/{id}");
        match cx.downloads.get(&key).cloned() {
            Some(
                crate::app::DownloadState::Running(p) | crate::app::DownloadState::Cancelling(p),
            ) => {
                crate::app::widgets::progress_ui(ui, &p);
                if ui.button("Cancel download").clicked() {
                    cx.cancel_download(&key);
                }
            }
            Some(crate::app::DownloadState::Done { .. }) => {
                ui.label("Downloaded: it opens offline.");
            }
            state => {
                if let Some(crate::app::DownloadState::Failed(e)) = &state {
                    ui.colored_label(ui.visuals().error_fg_color, format!("Download failed: {e}"))
                        .on_hover_text(e);
                }
                let r = ui
                    .add_enabled(!cx.offline(), egui::Button::new("Download split"))
                    .on_hover_text(
                        "Puts this split's parquet files in the Hugging Face cache, where \
                         Spaceport and Python datasets find them offline",
                    );
                if r.clicked() {
                    cx.downloads.insert(
                        key.clone(),
                        crate::app::DownloadState::Running(crate::hub::DownloadProgress {
                            repo: key.clone(),
                            ..Default::default()
                        }),
                    );
                    cx.send(Command::DownloadDataset {
                        repo: id,
                        config: config.to_string(),
                        split: Some(split.to_string()),
                    });
                }
            }
        }
    }

    /// The card, licence, splits with their sizes and the column types.
    fn details_ui(&mut self, ui: &mut egui::Ui, info: &crate::datasets::DatasetInfo) {
        egui::CollapsingHeader::new("Details")
            .id_salt("dataset-details")
            .show(ui, |ui| {
                let licence = self.card.as_deref().and_then(card_licence);
                ui.label(format!(
                    "Licence: {}",
                    licence.as_deref().unwrap_or("not stated")
                ));
                egui::Grid::new("dataset-splits")
                    .striped(true)
                    .spacing([14.0, 4.0])
                    .show(ui, |ui| {
                        for h in ["Config", "Split", "Rows", "Size"] {
                            ui.strong(h);
                        }
                        ui.end_row();
                        for c in &info.configs {
                            for s in &c.splits {
                                ui.label(&c.name);
                                ui.label(&s.name);
                                ui.label(s.num_rows.map_or("?".into(), |n| n.to_string()));
                                ui.label(s.num_bytes.map_or("?".into(), format_bytes));
                                ui.end_row();
                            }
                        }
                    });
                ui.strong("Columns");
                for (name, f) in &info.features {
                    ui.label(format!("{name}: {}", f.describe()));
                }
                if let Some(card) = &self.card {
                    ui.separator();
                    let body = crate::hub::client::strip_front_matter(card);
                    // A long card scrolls in its own area; the rows stay in view.
                    egui::ScrollArea::vertical()
                        .id_salt("dataset-card")
                        .max_height(260.0)
                        .show(ui, |ui| {
                            egui_commonmark::CommonMarkViewer::new().show(
                                ui,
                                &mut self.markdown,
                                body,
                            );
                        });
                }
            });
    }

    /// The page of rows with Previous/Next.
    fn rows_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx, info: &crate::datasets::DatasetInfo) {
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
            if let Some(e) = &self.play_error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
        });
        ui.separator();
        let fit = crate::datasets::features::fit(&info.features);
        let mut tried = None;
        let mut play: Option<Option<(usize, String)>> = None;
        let mut enlarge = None;
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
                                        let r = ui
                                            .add(
                                                egui::Image::new(t)
                                                    .max_size(egui::vec2(72.0, 72.0))
                                                    .alt_text(format!(
                                                        "picture in row {}",
                                                        row.index
                                                    ))
                                                    .sense(egui::Sense::click()),
                                            )
                                            .on_hover_text(format!(
                                                "{} — click to enlarge",
                                                value.short(200)
                                            ));
                                        if r.clicked() {
                                            enlarge = Some((i, col.clone()));
                                        }
                                    }
                                    (Value::Media(m), None)
                                        if m.kind == crate::datasets::MediaKind::Audio =>
                                    {
                                        let playing = self
                                            .playing
                                            .as_ref()
                                            .is_some_and(|(r, c, _)| *r == row.index && c == col);
                                        let seconds = page
                                            .durations
                                            .get(i)
                                            .and_then(|d| d.iter().find(|(c, _)| c == col))
                                            .map(|(_, s)| *s);
                                        ui.horizontal(|ui| {
                                            if playing {
                                                if ui
                                                    .button("Stop")
                                                    .on_hover_text(format!(
                                                        "Stop the sound in row {}",
                                                        row.index
                                                    ))
                                                    .clicked()
                                                {
                                                    play = Some(None);
                                                }
                                            } else {
                                                let r = ui
                                                    .add_enabled(
                                                        m.bytes.is_some(),
                                                        egui::Button::new("Play"),
                                                    )
                                                    .on_hover_text(format!(
                                                        "Play the sound in row {}",
                                                        row.index
                                                    ));
                                                if r.clicked() {
                                                    play = Some(Some((i, col.clone())));
                                                }
                                            }
                                            ui.label(match seconds {
                                                Some(s) => clock(s),
                                                None => value.short(30),
                                            });
                                        });
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
        match play {
            Some(Some((i, col))) => self.play(i, &col, cx),
            Some(None) => {
                self.playing = None;
                cx.send(Command::StopPlaying);
            }
            None => {}
        }
        if let Some((i, col)) = enlarge {
            self.enlarge(i, &col, cx);
        }
        if let Some(at) = go {
            self.request(at, cx);
        }
        if let Some(row) = tried {
            cx.intents.push(super::super::Intent::TryRow(row));
        }
    }

    /// Row `i`'s picture or sound in `col`: its row index, bytes and name.
    fn media_at(&self, i: usize, col: &str) -> Option<(u64, Vec<u8>, Option<String>)> {
        let row = self.page.as_ref()?.rows.get(i)?;
        match row.get(col)? {
            Value::Media(m) => Some((row.index, m.bytes.clone()?, m.path.clone())),
            _ => None,
        }
    }

    /// Plays row `i`'s sound in `col` (stopping any other).
    fn play(&mut self, i: usize, col: &str, cx: &mut Cx) {
        let Some((index, bytes, path)) = self.media_at(i, col) else {
            return;
        };
        let id = cx.next_play_id();
        self.play_error = None;
        self.playing = Some((index, col.to_string(), id));
        let name = path.unwrap_or_else(|| format!("the sound in row {index}"));
        cx.send(Command::Play { id, bytes, name });
    }

    /// Asks for row `i`'s picture in `col` at a larger size.
    fn enlarge(&mut self, i: usize, col: &str, cx: &mut Cx) {
        let Some((index, bytes, path)) = self.media_at(i, col) else {
            return;
        };
        self.enlarge_id += 1;
        self.enlarged = Some(super::Enlarged {
            id: self.enlarge_id,
            title: format!("{col} in row {index}"),
            pixels: None,
            texture: None,
            error: None,
        });
        cx.send(Command::Enlarge {
            id: self.enlarge_id,
            bytes,
            name: path.unwrap_or_else(|| format!("row {index}")),
        });
    }

    /// The enlarged picture's window.
    fn enlarged_ui(&mut self, ctx: &egui::Context) {
        let Some(e) = &mut self.enlarged else {
            return;
        };
        if let Some(t) = e.pixels.take() {
            e.texture = Some(ctx.load_texture(
                format!("dataset-picture-{}", e.id),
                egui::ColorImage::from_rgba_unmultiplied([t.width, t.height], &t.rgba),
                egui::TextureOptions::LINEAR,
            ));
        }
        let e = &*e;
        let mut open = true;
        let mut close = false;
        egui::Window::new(&e.title)
            .open(&mut open)
            .resizable(true)
            .default_size([560.0, 560.0])
            .show(ctx, |ui| {
                match (&e.texture, &e.error) {
                    (Some(t), _) => {
                        ui.add(
                            egui::Image::new(t)
                                .max_size(ui.available_size().max(egui::vec2(64.0, 64.0)))
                                .alt_text(e.title.clone()),
                        );
                    }
                    (None, Some(err)) => {
                        ui.colored_label(ui.visuals().error_fg_color, err);
                    }
                    (None, None) => {
                        ui.spinner();
                    }
                }
                if ui.button("Close").clicked() {
                    close = true;
                }
            });
        if !open || close {
            self.enlarged = None;
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
) -> Option<TryRow> {
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
                TryRow::Caption {
                    name,
                    bytes,
                    reference,
                }
            } else {
                TryRow::Transcribe {
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
            Some(TryRow::Translate {
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
