//! Drawing the Transcribe page: the model, language and task pickers,
//! the file row and drop area, the microphone row with its level meter,
//! progress, the transcript's actions and segments, and this session's
//! earlier transcripts.

use std::path::PathBuf;

use super::{TranscribePage, TranscribeStatus};
use crate::app::dialogs::{DialogKind, DialogRequest};
use crate::app::pages::Shortcut;
use crate::app::pages::demo::heading_and_model;
use crate::app::pages::{Cx, Intent};
use crate::app::widgets::{drop_frame, dropped_files, path_field, shortcut_button};
use crate::audio::decode::AUDIO_EXTENSIONS;
use crate::catalog::Panel;
use crate::tasks::transcribe::decode::Task;
use crate::tasks::transcribe::formats::{Format, render};
use crate::workers::{Command, DialogPurpose};

/// A segment's words with the one being said at `at` (seconds; the last
/// started, between words) highlighted.
fn words_ui(ui: &mut egui::Ui, words: &[crate::tasks::transcribe::timing::Word], at: f64) {
    let said = words.iter().rposition(|w| w.start <= at);
    let highlight = ui.visuals().selection.bg_fill;
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        for (i, w) in words.iter().enumerate() {
            let text = egui::RichText::new(&w.word);
            let text = if Some(i) == said {
                text.background_color(highlight).strong()
            } else {
                text
            };
            ui.label(text).on_hover_text(format!(
                "{:.2}–{:.2} s · {:.0} %",
                w.start,
                w.end,
                w.probability * 100.0
            ));
        }
    });
}

fn clock(secs: f64) -> String {
    let t = secs.max(0.0);
    format!("{:02}:{:04.1}", (t / 60.0) as u64, t % 60.0)
}

impl TranscribePage {
    /// Holding Space (while no control has the keyboard) dictates until
    /// it is let go.
    fn push_to_talk_keys(&mut self, ui: &egui::Ui, cx: &mut Cx, model_dir: &std::path::Path) {
        let (down, up) = ui.input(|i| {
            let key = |pressed: bool| {
                i.events.iter().any(|e| {
                    matches!(e, egui::Event::Key {
                        key: egui::Key::Space,
                        pressed: p,
                        repeat: false,
                        ..
                    } if *p == pressed)
                })
            };
            (key(true), key(false))
        });
        let free = ui.memory(|m| m.focused().is_none());
        if down && free && self.recording.is_none() && !self.dictating {
            self.start_dictation(model_dir.to_path_buf(), cx);
            self.push_to_talk = true;
        }
        if up && self.push_to_talk {
            self.push_to_talk = false;
            cx.send(Command::StopDictation);
        }
    }

    pub(super) fn page_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        let Some(model_dir) = heading_and_model(ui, cx, Panel::Transcribe, &mut self.model) else {
            return;
        };
        self.chosen_model = Some(model_dir.clone());
        if self.languages_asked.as_ref() != Some(&model_dir) {
            self.languages_asked = Some(model_dir.clone());
            cx.send(Command::ModelLanguages {
                dir: model_dir.clone(),
            });
        }
        self.language_task_ui(ui, &model_dir);
        ui.checkbox(&mut cx.settings.word_timestamps, "Time each word")
            .on_hover_text(
                "Word-level timestamps: subtitles saved with each word timed (karaoke), \
                 and the words highlighted as the recording plays back",
            );
        // Files dropped on the window.
        let (hovering, dropped) = dropped_files(ui);
        if !dropped.is_empty() {
            self.transcribe_files(model_dir.clone(), dropped, cx);
        }
        // A path pasted outside the path field (copied in a file manager).
        if let Some(text) = cx.pasted.take() {
            let paths = crate::app::widgets::pasted_paths(&text);
            if paths.is_empty() {
                self.status = TranscribeStatus::Failed(
                    "What was pasted is not a path to an audio file; copy the file and paste again."
                        .into(),
                );
            } else {
                self.transcribe_files(model_dir.clone(), paths, cx);
            }
        }
        self.push_to_talk_keys(ui, cx, &model_dir);
        let frame = drop_frame(ui, hovering);
        frame.show(ui, |ui| {
            ui.horizontal(|ui| {
                let (_, enter) = path_field(ui, "Audio file", &mut self.path_input, 420.0);
                let path = PathBuf::from(self.path_input.trim());
                let typed = !self.path_input.trim().is_empty();
                if shortcut_button(ui, cx, typed, "Transcribe", Shortcut::Run) || (enter && typed) {
                    self.start_transcription(model_dir.clone(), path, cx);
                }
                if shortcut_button(ui, cx, true, "Open…", Shortcut::Open) {
                    cx.open_dialog(
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
        let multilingual = self
            .languages
            .as_ref()
            .is_some_and(|(dir, l)| *dir == model_dir && !l.is_empty());
        if let Some(r) = crate::app::pages::demo::recording_examples(ui, multilingual) {
            // A multilingual model is told the language spoken only when
            // the page does not detect it.
            self.start(
                model_dir.clone(),
                PathBuf::from(r.name),
                Some(std::sync::Arc::new(r.bytes.to_vec())),
                cx,
            );
            self.reference = None;
        }
        // The microphone: dictate, words appear as they are said.
        ui.horizontal(|ui| {
            if self.input_devices.is_none() {
                self.input_devices = Some(Vec::new());
                cx.send(Command::ListInputDevices);
            }
            let recording = self.recording.is_some();
            ui.add_enabled_ui(!recording, |ui| {
                let label = ui.label("Microphone");
                let current = self
                    .input_device
                    .as_deref()
                    .map(crate::audio::capture::friendly_name)
                    .unwrap_or_else(|| "System default".into());
                let mut pick = self.input_device.clone();
                let combo = egui::ComboBox::from_id_salt("input-device")
                    .selected_text(current)
                    .width(220.0)
                    .show_ui(ui, |ui| {
                        crate::app::widgets::pick(ui, &mut pick, None, "System default");
                        for d in self.input_devices.clone().unwrap_or_default() {
                            let label = crate::audio::capture::friendly_name(&d);
                            crate::app::widgets::pick(ui, &mut pick, Some(d.clone()), label)
                                .on_hover_text(&d);
                        }
                    });
                if combo.response.labelled_by(label.id).clicked() {
                    // Plugged in since: list again.
                    cx.send(Command::ListInputDevices);
                }
                self.input_device = pick;
            });
            match self.recording {
                Some((dbfs, secs, overflow)) => {
                    if shortcut_button(ui, cx, true, "Stop", Shortcut::Stop) {
                        cx.send(Command::StopDictation);
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
                    let busy = self.dictating;
                    if ui
                        .add_enabled(!busy, egui::Button::new("Record"))
                        .on_hover_text(
                            "Dictate: your words appear as you speak; a pause ends a sentence. Or hold Space to talk.",
                        )
                        .clicked()
                    {
                        self.start_dictation(model_dir.clone(), cx);
                    }
                    if busy {
                        ui.spinner();
                        ui.label(format!("Finishing the last sentence… {}", cx.on_device()));
                    }
                }
            }
        });
        self.captions_row(ui, cx);
        match self.status.clone() {
            TranscribeStatus::LoadingModel => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Loading the model…");
                    // A long file can be stopped before its first words
                    // (a dictation has its own Stop by the microphone).
                    if !self.dictating && shortcut_button(ui, cx, true, "Stop", Shortcut::Stop) {
                        self.stop_file(cx);
                    }
                });
            }
            TranscribeStatus::Running { progress } => {
                ui.horizontal(|ui| {
                    ui.add(
                        egui::ProgressBar::new(progress)
                            .desired_width(320.0)
                            .show_percentage(),
                    );
                    ui.small(cx.on_device());
                    if shortcut_button(ui, cx, true, "Stop", Shortcut::Stop) {
                        self.stop_file(cx);
                    }
                });
            }
            TranscribeStatus::Failed(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            TranscribeStatus::Idle => {}
        }
        if let Some(r) = &self.reference {
            ui.label(format!("Reference (from the dataset): {r}"));
        }
        if let Some(f) = &self.finished {
            ui.small(f);
        }
        if self.kept && !self.segments.is_empty() {
            ui.small("Below: the previous transcript, until this one has text.");
        }
        if let Some(n) = &self.note {
            ui.colored_label(ui.visuals().warn_fg_color, n);
        }
        if let Some(t) = self.transcript.clone() {
            // Exports go beside the audio file (a recording has none yet).
            let file = self.file.clone();
            ui.horizontal(|ui| {
                if shortcut_button(ui, cx, true, "Copy text", Shortcut::Copy) {
                    ui.ctx().copy_text(t.text.clone());
                    cx.notify("Transcript copied.".into());
                }
                if ui
                    .button("Translate")
                    .on_hover_text("Open the transcript in the Translate panel")
                    .clicked()
                {
                    // One segment a line, from the spoken language.
                    let text = t
                        .segments
                        .iter()
                        .map(|s| s.text.as_str())
                        .collect::<Vec<_>>()
                        .join("\n");
                    cx.intents.push(Intent::Translate {
                        text,
                        from: t.language.clone(),
                    });
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
                    // Live captions with translations: bilingual files.
                    let purpose = if self.file.is_none() && self.translated() {
                        DialogPurpose::SaveCues(self.cues())
                    } else {
                        DialogPurpose::SaveTranscript(Box::new(t.clone()))
                    };
                    cx.open_dialog(
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
                        purpose,
                    );
                }
                // Beside the audio, when it is a file (not an example or
                // a dataset row); the tooltip says where.
                if let Some(file) = file.as_ref().filter(|f| f.is_absolute()) {
                    for f in [Format::Txt, Format::Srt, Format::Vtt, Format::Json] {
                        let path = file.with_extension(f.extension());
                        if ui
                            .button(format!("Save .{}", f.extension()))
                            .on_hover_text(format!("Writes {}", path.display()))
                            .clicked()
                        {
                            cx.send(Command::SaveText {
                                path: file.with_extension(f.extension()),
                                text: render(&t, f),
                            });
                        }
                    }
                }
                let playable =
                    self.audio.is_some() || file.as_ref().is_some_and(|f| f.is_absolute());
                if self.playing.is_some() {
                    if ui.button("■ Stop playing").clicked() {
                        self.stop_playing(cx);
                    }
                } else if playable
                    && ui
                        .button("▶ Play")
                        .on_hover_text("Play the recording, following the text")
                        .clicked()
                {
                    self.play(cx);
                }
                ui.small(format!("Language: {}", t.language));
            });
            if let Some(e) = &self.play_error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
        }
        ui.separator();
        // The text column: what the times leave of the page's width.
        let text_width = (ui.available_width() - 190.0).max(200.0);
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .max_height(ui.available_height() - 60.0)
            .show(ui, |ui| {
                egui::Grid::new("segments")
                    .striped(true)
                    .spacing([12.0, 4.0])
                    .show(ui, |ui| {
                        let at = self.playing.map(|p| p.1);
                        let current = at.and_then(|t| {
                            self.segments
                                .iter()
                                .rposition(|s| s.start <= t)
                                .filter(|&i| t < self.segments[i].end + 0.5)
                        });
                        for (i, s) in self.segments.iter().enumerate() {
                            let now = current == Some(i);
                            let time = egui::RichText::new(format!(
                                "{} - {}",
                                clock(s.start),
                                clock(s.end)
                            ))
                            .monospace();
                            let time = ui.label(if now { time.strong() } else { time });
                            if now && self.followed != Some(i) {
                                time.scroll_to_me(Some(egui::Align::Center));
                                self.followed = Some(i);
                            }
                            let translation = self.translations.get(i).cloned().flatten();
                            ui.vertical(|ui| {
                                ui.set_width(text_width);
                                match at.filter(|_| now && !s.words.is_empty()) {
                                    Some(t) => words_ui(ui, &s.words, t),
                                    None if now => {
                                        ui.label(egui::RichText::new(&s.text).strong());
                                    }
                                    None => {
                                        ui.label(&s.text);
                                    }
                                }
                                if let Some(t) = translation {
                                    ui.label(
                                        egui::RichText::new(t).color(ui.visuals().hyperlink_color),
                                    );
                                }
                            });
                            ui.end_row();
                        }
                        if let Some(p) = &self.partial {
                            // What is being said, until the pause makes it final.
                            ui.monospace("  …");
                            ui.vertical(|ui| {
                                ui.set_width(text_width);
                                ui.label(egui::RichText::new(p).italics().weak());
                                if let Some(t) = &self.partial_translation {
                                    ui.label(egui::RichText::new(t).italics().weak());
                                }
                            });
                            ui.end_row();
                        }
                    });
            });
        if self.history.len() > 1 {
            ui.separator();
            ui.strong("This session");
            let mut show = None;
            for (i, (name, _, _)) in self.history.iter().enumerate() {
                if ui.link(name).clicked() {
                    show = Some(i);
                }
            }
            if let Some(i) = show {
                let (_, f, t) = self.history[i].clone();
                self.stop_playing(cx);
                // The bytes kept are the latest run's sound, not this one's,
                // and the translations the latest dictation's.
                self.audio = None;
                self.translations.clear();
                self.file = f;
                self.segments = t.segments.clone();
                self.transcript = Some(t);
            }
        }
    }

    /// Language (detect or one the model knows) and task, for multilingual
    /// models; an English-only model shows them fixed. The row is the same
    /// whichever (and before the model's languages are read), so nothing
    /// below it moves under the pointer.
    fn language_task_ui(&mut self, ui: &mut egui::Ui, model_dir: &std::path::Path) {
        let languages = match &self.languages {
            Some((dir, l)) if dir == model_dir => Some(l.clone()),
            _ => None,
        };
        let english_only = languages.as_ref().is_some_and(|l| l.is_empty());
        if english_only {
            self.language = None;
            self.task = Task::Transcribe;
        }
        let usable = languages.as_ref().is_some_and(|l| !l.is_empty());
        ui.horizontal(|ui| {
            let label = ui.label("Language");
            let mut pick = self.language.clone();
            let shown = match (&pick, english_only) {
                (_, true) => "English".to_string(),
                (Some(l), false) => l.clone(),
                (None, false) => "Detect".to_string(),
            };
            ui.add_enabled_ui(usable, |ui| {
                egui::ComboBox::from_id_salt("transcribe-language")
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        crate::app::widgets::pick(ui, &mut pick, None, "Detect");
                        for l in languages.iter().flatten() {
                            crate::app::widgets::pick(ui, &mut pick, Some(l.clone()), l);
                        }
                    })
                    .response
                    .labelled_by(label.id)
            });
            self.language = pick;
            let label = ui.label("Task");
            let mut task = self.task;
            ui.add_enabled_ui(usable, |ui| {
                egui::ComboBox::from_id_salt("transcribe-task")
                    .selected_text(match task {
                        Task::Transcribe => "Transcribe",
                        Task::Translate => "Translate to English",
                    })
                    .show_ui(ui, |ui| {
                        crate::app::widgets::pick(ui, &mut task, Task::Transcribe, "Transcribe");
                        crate::app::widgets::pick(
                            ui,
                            &mut task,
                            Task::Translate,
                            "Translate to English",
                        );
                    })
                    .response
                    .labelled_by(label.id)
            });
            self.task = task;
            if english_only {
                ui.small("This model knows English only.");
            }
        });
    }
}
