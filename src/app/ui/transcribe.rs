//! The Transcribe page: a Whisper model picker (downloaded models; the
//! catalog's otherwise), language and task, audio files by path, from a
//! file dialog or dropped on the window (several wait their turn), progress
//! while one runs (segments appear as they are decoded), live dictation from
//! a chosen microphone with a level meter (partial text while speaking,
//! final text at each pause), the timed segments, Copy, Translate, Save as
//! .txt/.srt/.vtt/.json beside the audio or anywhere, and this session's
//! transcripts.

use std::path::PathBuf;

use super::demo::{drop_frame, dropped_files, model_picker};
use crate::app::dialogs::{DialogKind, DialogRequest};
use crate::app::{App, TranscribeStatus};
use crate::catalog::Panel;
use crate::tasks::transcribe::decode::{Task, TranscribeOptions};
use crate::tasks::transcribe::formats::{Format, render};
use crate::workers::{Command, DialogPurpose, DictationJob, TranscribeJob};

use crate::audio::decode::AUDIO_EXTENSIONS;
fn clock(secs: f64) -> String {
    let t = secs.max(0.0);
    format!("{:02}:{:04.1}", (t / 60.0) as u64, t % 60.0)
}

impl App {
    /// Starts transcribing an audio file.
    pub(crate) fn start_transcription(&mut self, model: PathBuf, file: PathBuf) {
        let page = &mut self.transcribe;
        page.generation += 1;
        page.status = TranscribeStatus::LoadingModel;
        page.segments.clear();
        page.transcript = None;
        page.note = None;
        page.path_input = file.display().to_string();
        page.file = Some(file.clone());
        let generation = page.generation;
        let options = self.transcribe_options();
        self.send(Command::Transcribe(TranscribeJob {
            generation,
            model,
            file,
            options,
            device: self.settings.device,
        }));
    }

    /// The page's language and task over the reference defaults.
    fn transcribe_options(&self) -> TranscribeOptions {
        TranscribeOptions {
            language: self.transcribe.language.clone(),
            task: self.transcribe.task,
            ..Default::default()
        }
    }

    /// Transcribes the audio files among `paths`, one after another.
    pub(crate) fn transcribe_files(&mut self, model: PathBuf, paths: Vec<PathBuf>) {
        let busy = matches!(
            self.transcribe.status,
            TranscribeStatus::LoadingModel | TranscribeStatus::Running { .. }
        );
        self.transcribe
            .queue
            .extend(paths.into_iter().map(|p| (model.clone(), p)));
        if !busy {
            self.next_in_queue();
        }
    }

    /// Starts the next waiting file, if any.
    pub(crate) fn next_in_queue(&mut self) {
        if let Some((model, file)) = self.transcribe.queue.pop_front() {
            self.start_transcription(model, file);
        }
    }

    /// Starts live dictation from the chosen microphone.
    fn start_dictation(&mut self, model: PathBuf) {
        let page = &mut self.transcribe;
        page.generation += 1;
        page.status = TranscribeStatus::Idle;
        page.segments.clear();
        page.transcript = None;
        page.note = None;
        page.file = None;
        page.partial = None;
        page.dictating = true;
        page.recording = Some((f32::NEG_INFINITY, 0.0, 0));
        let (generation, device) = (page.generation, page.input_device.clone());
        let options = self.transcribe_options();
        self.send(Command::Dictate(DictationJob {
            generation,
            input: device,
            model,
            options,
            device: self.settings.device,
        }));
    }

    pub(super) fn transcribe_page_ui(&mut self, ui: &mut egui::Ui) {
        let models = self.downloaded_for(Panel::Transcribe);
        if models.is_empty() {
            self.demo_page_ui(ui, Panel::Transcribe);
            return;
        }
        ui.heading("Transcribe");
        let model_dir = model_picker(ui, "transcribe-model", &models, &mut self.transcribe.model);
        self.transcribe.chosen_model = Some(model_dir.clone());
        if self.transcribe.languages_asked.as_ref() != Some(&model_dir) {
            self.transcribe.languages_asked = Some(model_dir.clone());
            self.send(Command::ModelLanguages {
                dir: model_dir.clone(),
            });
        }
        self.language_task_ui(ui, &model_dir);
        // Files dropped on the window.
        let (hovering, dropped) = dropped_files(ui);
        if !dropped.is_empty() {
            self.transcribe_files(model_dir.clone(), dropped);
        }
        let frame = drop_frame(ui, hovering);
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
                    self.start_transcription(model_dir.clone(), path);
                }
                if ui
                    .button("Open…")
                    .on_hover_text("Choose audio files to transcribe")
                    .clicked()
                {
                    self.open_dialog(
                        DialogRequest::new(DialogKind::OpenFiles, "Transcribe audio files")
                            .filter("Audio", &AUDIO_EXTENSIONS),
                        DialogPurpose::OpenAudio,
                    );
                }
            });
            ui.small(if hovering {
                "Drop to transcribe"
            } else {
                "or drop an audio file (WAV, FLAC, MP3, OGG, M4A) on the window"
            });
        });
        // The microphone: dictate, words appear as they are said.
        ui.horizontal(|ui| {
            if self.transcribe.input_devices.is_none() {
                self.transcribe.input_devices = Some(Vec::new());
                self.send(Command::ListInputDevices);
            }
            let recording = self.transcribe.recording.is_some();
            ui.add_enabled_ui(!recording, |ui| {
                let label = ui.label("Microphone");
                let current = self
                    .transcribe
                    .input_device
                    .clone()
                    .unwrap_or_else(|| "System default".into());
                let mut pick = self.transcribe.input_device.clone();
                let combo = egui::ComboBox::from_id_salt("input-device")
                    .selected_text(current)
                    .width(220.0)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut pick, None, "System default");
                        for d in self.transcribe.input_devices.clone().unwrap_or_default() {
                            ui.selectable_value(&mut pick, Some(d.clone()), d);
                        }
                    });
                if combo.response.labelled_by(label.id).clicked() {
                    // Plugged in since: list again.
                    self.send(Command::ListInputDevices);
                }
                self.transcribe.input_device = pick;
            });
            match self.transcribe.recording {
                Some((dbfs, secs, overflow)) => {
                    if ui.button("Stop").clicked() {
                        self.send(Command::StopDictation);
                    }
                    // -60 dBFS (silence) to 0 dBFS (full scale).
                    let level = ((dbfs + 60.0) / 60.0).clamp(0.0, 1.0);
                    ui.add(
                        egui::ProgressBar::new(level)
                            .desired_width(120.0)
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
                    let busy = self.transcribe.dictating;
                    if ui
                        .add_enabled(!busy, egui::Button::new("Record"))
                        .on_hover_text(
                            "Dictate: your words appear as you speak; a pause ends a sentence",
                        )
                        .clicked()
                    {
                        self.start_dictation(model_dir.clone());
                    }
                    if busy {
                        ui.spinner();
                        ui.label("Finishing the last sentence…");
                    }
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
                if ui
                    .button("Save as…")
                    .on_hover_text("Save as .txt, .srt, .vtt or .json (by the name's ending)")
                    .clicked()
                {
                    let name = file
                        .as_ref()
                        .and_then(|f| f.file_stem())
                        .map(|s| format!("{}.srt", s.to_string_lossy()))
                        .unwrap_or_else(|| "dictation.txt".into());
                    self.open_dialog(
                        DialogRequest::new(DialogKind::Save, "Save the transcript")
                            .file_name(name)
                            .filter("Subtitles (SubRip)", &["srt"])
                            .filter("Subtitles (WebVTT)", &["vtt"])
                            .filter("Text", &["txt"])
                            .filter("JSON", &["json"])
                            .directory(
                                file.as_ref()
                                    .and_then(|f| f.parent())
                                    .map(|d| d.to_path_buf()),
                            ),
                        DialogPurpose::SaveTranscript(Box::new(t.clone())),
                    );
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
                        if let Some(p) = &self.transcribe.partial {
                            // What is being said, until the pause makes it final.
                            ui.monospace("  …");
                            ui.label(egui::RichText::new(p).italics().weak());
                            ui.end_row();
                        }
                    });
            });
        if self.transcribe.history.len() > 1 {
            ui.separator();
            ui.strong("This session");
            let mut show = None;
            for (i, (name, _, _)) in self.transcribe.history.iter().enumerate() {
                if ui.link(name).clicked() {
                    show = Some(i);
                }
            }
            if let Some(i) = show {
                let (_, f, t) = self.transcribe.history[i].clone();
                self.transcribe.file = f;
                self.transcribe.segments = t.segments.clone();
                self.transcribe.transcript = Some(t);
            }
        }
    }

    /// Language (detect or one the model knows) and task, for multilingual
    /// models; an English-only model shows them fixed. The row is the same
    /// whichever (and before the model's languages are read), so nothing
    /// below it moves under the pointer.
    fn language_task_ui(&mut self, ui: &mut egui::Ui, model_dir: &std::path::Path) {
        let languages = match &self.transcribe.languages {
            Some((dir, l)) if dir == model_dir => Some(l.clone()),
            _ => None,
        };
        let english_only = languages.as_ref().is_some_and(|l| l.is_empty());
        if english_only {
            self.transcribe.language = None;
            self.transcribe.task = Task::Transcribe;
        }
        let usable = languages.as_ref().is_some_and(|l| !l.is_empty());
        ui.horizontal(|ui| {
            let label = ui.label("Language");
            let mut pick = self.transcribe.language.clone();
            let shown = match (&pick, english_only) {
                (_, true) => "English".to_string(),
                (Some(l), false) => l.clone(),
                (None, false) => "Detect".to_string(),
            };
            ui.add_enabled_ui(usable, |ui| {
                egui::ComboBox::from_id_salt("transcribe-language")
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut pick, None, "Detect");
                        for l in languages.iter().flatten() {
                            ui.selectable_value(&mut pick, Some(l.clone()), l);
                        }
                    })
                    .response
                    .labelled_by(label.id)
            });
            self.transcribe.language = pick;
            let label = ui.label("Task");
            let mut task = self.transcribe.task;
            ui.add_enabled_ui(usable, |ui| {
                egui::ComboBox::from_id_salt("transcribe-task")
                    .selected_text(match task {
                        Task::Transcribe => "Transcribe",
                        Task::Translate => "Translate to English",
                    })
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut task, Task::Transcribe, "Transcribe");
                        ui.selectable_value(&mut task, Task::Translate, "Translate to English");
                    })
                    .response
                    .labelled_by(label.id)
            });
            self.transcribe.task = task;
            if english_only {
                ui.small("This model knows English only.");
            }
        });
    }
}
