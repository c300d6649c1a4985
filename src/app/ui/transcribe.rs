//! The Transcribe page: a Whisper model picker (downloaded models; the
//! catalog's otherwise), an audio file by path or dropped on the window,
//! progress while it runs (segments appear as they are decoded), the timed
//! segments, Copy, Save as .txt/.srt/.vtt/.json beside the audio, and this
//! session's transcripts.

use std::path::PathBuf;

use crate::app::{App, TranscribeStatus};
use crate::catalog::Panel;
use crate::tasks::transcribe::formats::{Format, render};
use crate::workers::{AudioSource, Command, TranscribeJob};

fn clock(secs: f64) -> String {
    let t = secs.max(0.0);
    format!("{:02}:{:04.1}", (t / 60.0) as u64, t % 60.0)
}

impl App {
    /// Starts transcribing a file or a recording.
    pub(crate) fn start_transcription(&mut self, model: PathBuf, source: AudioSource) {
        let page = &mut self.transcribe;
        page.generation += 1;
        page.status = TranscribeStatus::LoadingModel;
        page.segments.clear();
        page.transcript = None;
        page.note = None;
        page.file = match &source {
            AudioSource::File(f) => {
                page.path_input = f.display().to_string();
                Some(f.clone())
            }
            AudioSource::Recording(_) => None,
        };
        let generation = page.generation;
        self.send(Command::Transcribe(TranscribeJob {
            generation,
            model,
            source,
            options: Default::default(),
            device: self.settings.device,
        }));
    }

    pub(super) fn transcribe_page_ui(&mut self, ui: &mut egui::Ui) {
        let mut models: Vec<(String, PathBuf)> = self
            .cached()
            .iter()
            .filter(|m| m.verdict.panel() == Some(Panel::Transcribe))
            .filter_map(|m| Some((m.repo.clone(), m.main_revision()?.path.clone())))
            .collect();
        // The catalog's models first, in its order; then the others.
        let rank = |repo: &str| {
            crate::catalog::catalog()
                .for_panel(Panel::Transcribe)
                .position(|e| e.repo == repo)
                .unwrap_or(usize::MAX)
        };
        models.sort_by_key(|(r, _)| rank(r));
        if models.is_empty() {
            self.demo_page_ui(ui, Panel::Transcribe);
            return;
        }
        ui.heading("Transcribe");
        let chosen = self
            .transcribe
            .model
            .clone()
            .filter(|m| models.iter().any(|(r, _)| r == m))
            .unwrap_or_else(|| models[0].0.clone());
        ui.horizontal(|ui| {
            ui.label("Model");
            let mut pick = chosen.clone();
            egui::ComboBox::from_id_salt("transcribe-model")
                .selected_text(&pick)
                .show_ui(ui, |ui| {
                    for (r, _) in &models {
                        ui.selectable_value(&mut pick, r.clone(), r);
                    }
                });
            self.transcribe.model = Some(pick);
        });
        let model_dir = models
            .iter()
            .find(|(r, _)| Some(r) == self.transcribe.model.as_ref())
            .map(|(_, d)| d.clone())
            .unwrap_or_else(|| models[0].1.clone());
        // Files dropped on the window.
        let (hovering, dropped) = ui.ctx().input(|i| {
            (
                !i.raw.hovered_files.is_empty(),
                i.raw.dropped_files.iter().find_map(|f| {
                    let p = f.path();
                    (!p.as_os_str().is_empty()).then(|| p.to_path_buf())
                }),
            )
        });
        if let Some(file) = dropped {
            self.start_transcription(model_dir.clone(), AudioSource::File(file));
        }
        let frame = egui::Frame::group(ui.style()).stroke(if hovering {
            egui::Stroke::new(2.0, ui.visuals().selection.bg_fill)
        } else {
            ui.visuals().widgets.noninteractive.bg_stroke
        });
        frame.show(ui, |ui| {
            ui.horizontal(|ui| {
                let label = ui.label("Audio file");
                ui.add(
                    egui::TextEdit::singleline(&mut self.transcribe.path_input)
                        .desired_width(420.0),
                )
                .labelled_by(label.id);
                let path = PathBuf::from(self.transcribe.path_input.trim());
                if ui
                    .add_enabled(
                        !self.transcribe.path_input.trim().is_empty(),
                        egui::Button::new("Transcribe"),
                    )
                    .clicked()
                {
                    self.start_transcription(model_dir.clone(), AudioSource::File(path));
                }
            });
            ui.small(if hovering {
                "Drop to transcribe"
            } else {
                "or drop an audio file (WAV, FLAC, MP3, OGG, M4A) on the window"
            });
        });
        // The microphone: record, then transcribe what was said.
        ui.horizontal(|ui| match self.transcribe.recording {
            Some((dbfs, secs, overflow)) => {
                if ui.button("Stop recording").clicked() {
                    self.send(Command::StopRecording);
                }
                // -60 dBFS (silence) to 0 dBFS (full scale).
                let level = ((dbfs + 60.0) / 60.0).clamp(0.0, 1.0);
                ui.add(
                    egui::ProgressBar::new(level)
                        .desired_width(160.0)
                        .text("level"),
                );
                ui.label(format!("{secs:.1} s"));
                if overflow > 0 {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!("{overflow} samples lost"),
                    );
                }
            }
            None => {
                if ui
                    .button("Record")
                    .on_hover_text("Record from the microphone, then transcribe")
                    .clicked()
                {
                    self.transcribe.record_model = Some(model_dir.clone());
                    self.transcribe.recording = Some((f32::NEG_INFINITY, 0.0, 0));
                    self.send(Command::StartRecording { device: None });
                }
            }
        });
        match self.transcribe.status.clone() {
            TranscribeStatus::LoadingModel => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Loading the model…");
                });
            }
            TranscribeStatus::Running { progress } => {
                ui.horizontal(|ui| {
                    ui.add(
                        egui::ProgressBar::new(progress)
                            .desired_width(320.0)
                            .show_percentage(),
                    );
                    if ui.button("Stop").clicked() {
                        self.send(Command::CancelTranscription);
                        self.transcribe.status = TranscribeStatus::Idle;
                    }
                });
            }
            TranscribeStatus::Failed(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            TranscribeStatus::Idle => {}
        }
        if let Some(n) = &self.transcribe.note {
            ui.colored_label(ui.visuals().warn_fg_color, n);
        }
        if let Some(t) = self.transcribe.transcript.clone() {
            // Exports go beside the audio file (a recording has none yet).
            let file = self.transcribe.file.clone();
            ui.horizontal(|ui| {
                if ui.button("Copy text").clicked() {
                    ui.ctx().copy_text(t.text.clone());
                    self.notify("Transcript copied.".into());
                }
                if ui
                    .button("Translate")
                    .on_hover_text("Open the transcript in the Translate panel")
                    .clicked()
                {
                    // One segment a line, from the spoken language.
                    let tr = &mut self.translate;
                    tr.input = t
                        .segments
                        .iter()
                        .map(|s| s.text.as_str())
                        .collect::<Vec<_>>()
                        .join("\n");
                    tr.from = t.language.clone();
                    if tr.to == tr.from {
                        tr.to = if tr.from == "en" {
                            "de".into()
                        } else {
                            "en".into()
                        };
                    }
                    tr.changed_at = Some(ui.input(|i| i.time));
                    self.page = crate::app::Page::Demo(Panel::Translate);
                }
                if let Some(file) = &file {
                    for f in [Format::Txt, Format::Srt, Format::Vtt, Format::Json] {
                        if ui.button(format!("Save .{}", f.extension())).clicked() {
                            self.send(Command::SaveText {
                                path: file.with_extension(f.extension()),
                                text: render(&t, f),
                            });
                        }
                    }
                }
                ui.small(format!("Language: {}", t.language));
            });
        }
        ui.separator();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .max_height(ui.available_height() - 60.0)
            .show(ui, |ui| {
                egui::Grid::new("segments")
                    .striped(true)
                    .spacing([12.0, 4.0])
                    .show(ui, |ui| {
                        for s in &self.transcribe.segments {
                            ui.monospace(format!("{} - {}", clock(s.start), clock(s.end)));
                            ui.label(&s.text);
                            ui.end_row();
                        }
                    });
            });
        if self.transcribe.history.len() > 1 {
            ui.separator();
            ui.strong("This session");
            let mut show = None;
            for (i, (f, _)) in self.transcribe.history.iter().enumerate() {
                let name = f
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if ui.link(name).clicked() {
                    show = Some(i);
                }
            }
            if let Some(i) = show {
                let (f, t) = self.transcribe.history[i].clone();
                self.transcribe.file = Some(f);
                self.transcribe.segments = t.segments.clone();
                self.transcribe.transcript = Some(t);
            }
        }
    }
}
