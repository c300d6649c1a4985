//! The Transcribe page: a Whisper model picker (downloaded models; the
//! catalog's otherwise), language and task, audio files by path, from a
//! file dialog or dropped on the window (several wait their turn), progress
//! while one runs (segments appear as they are decoded), live dictation from
//! a chosen microphone with a level meter (partial text while speaking,
//! final text at each pause), the timed segments, Copy, Translate, Save as
//! .txt/.srt/.vtt/.json beside the audio or anywhere, and this session's
//! transcripts.

mod captions;
mod draw;

use std::collections::VecDeque;
use std::path::PathBuf;

use super::{Cx, View};
use crate::tasks::transcribe::decode::{Segment, Task, TranscribeOptions, Transcript};
use crate::workers::{Command, DialogPurpose, DictationJob, Event, TranscribeJob};

/// Where a transcription stands.
#[derive(Debug, Default, Clone, PartialEq)]
pub enum TranscribeStatus {
    #[default]
    Idle,
    LoadingModel,
    Running {
        progress: f32,
    },
    Failed(String),
}

/// The Transcribe self.
#[derive(Debug, Default)]
pub struct TranscribePage {
    pub path_input: String,
    /// The chosen model (repo id); the first downloaded one by default.
    pub model: Option<String>,
    pub generation: u64,
    pub status: TranscribeStatus,
    /// The file being (or last) transcribed, and its segments so far.
    pub file: Option<PathBuf>,
    pub segments: Vec<Segment>,
    /// The finished transcript of `file`.
    pub transcript: Option<Transcript>,
    /// Earlier transcripts of this session, newest last: a name, the
    /// audio file (none for a dictation) and the transcript.
    pub history: Vec<(String, Option<PathBuf>, Transcript)>,
    /// Files waiting their turn (several dropped or opened at once):
    /// (model, file) pairs.
    pub queue: VecDeque<(PathBuf, PathBuf)>,
    /// Spoken language (`None`: detect) and task.
    pub language: Option<String>,
    pub task: Task,
    /// The chosen model folder and the languages it knows (read on a
    /// worker; empty for an English-only model).
    pub languages: Option<(PathBuf, Vec<String>)>,
    /// The microphones (listed on a worker) and the chosen one (`None`:
    /// the system default).
    pub input_devices: Option<Vec<String>>,
    pub input_device: Option<String>,
    /// Live dictation: running, and the utterance being spoken so far.
    pub dictating: bool,
    pub partial: Option<String>,
    /// The model folder the page uses now, and the one whose languages
    /// were asked for.
    pub chosen_model: Option<PathBuf>,
    pub languages_asked: Option<PathBuf>,
    /// Dictations this session (names them).
    pub dictations: usize,
    pub note: Option<String>,
    /// While recording: level (dBFS), seconds, lost samples.
    pub recording: Option<(f32, f32, u64)>,
    /// The reference transcript of a dataset row being transcribed.
    pub reference: Option<String>,
    /// A recording through several models, side by side.
    pub compare: crate::app::pages::demo::CompareState,
    /// The dictation running was started by holding Space, and stops when
    /// it is let go.
    pub push_to_talk: bool,
    /// The segments shown are the previous run's, kept on screen until
    /// the new run has text of its own (a failed run loses nothing).
    pub kept: bool,
    /// When the running job started, and its model (repo id).
    pub started: Option<(std::time::Instant, String)>,
    /// How the last job went, in words ("12.0 s of audio in 1.4 s").
    pub finished: Option<String>,
    /// The sound of the transcript shown when it is not a file on disk
    /// (an example, a dataset row), for playing it back.
    pub audio: Option<std::sync::Arc<Vec<u8>>>,
    /// The transcript's sound playing back: its play id and where it is
    /// (seconds); the words said then are highlighted.
    pub playing: Option<(u64, f64)>,
    pub play_error: Option<String>,
    /// The segment the view last scrolled to while playing.
    pub followed: Option<usize>,
    /// Live captions: each final segment's translation (by index), the
    /// utterance being spoken translated so far, the last line's
    /// latencies (speech end → text, text → translation) and why the
    /// lines are not translated.
    pub translations: Vec<Option<String>>,
    pub partial_translation: Option<String>,
    pub latency: Option<(f64, Option<f64>)>,
    /// The dictation running tells pauses by the learned voice-activity
    /// detector (`Some(false)`: by loudness); `None` before it starts.
    pub learned_vad: Option<bool>,
    pub translate_note: Option<String>,
}

/// The repo id of a snapshot folder in the Hugging Face cache
/// (`…/models--org--name/snapshots/<commit>`), else the folder's name.
pub fn repo_of(dir: &std::path::Path) -> String {
    dir.components()
        .filter_map(|c| c.as_os_str().to_str())
        .find_map(|c| c.strip_prefix("models--"))
        .map(|r| r.replacen("--", "/", 1))
        .unwrap_or_else(|| {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
}

/// Windows decoded together in a long recording when Settings asks for
/// it (faster-whisper's default batch).
const BATCH: usize = 8;

/// The time of day (UTC), for naming this session's transcripts.
fn clock_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::format::utc_time(secs)
}

impl TranscribePage {
    /// How long the job running took so far (seconds) and its model.
    fn took(&self) -> (f64, String) {
        self.started
            .as_ref()
            .map(|(t, m)| (t.elapsed().as_secs_f64(), m.clone()))
            .unwrap_or_default()
    }

    /// Starts transcribing an audio file.
    pub fn start_transcription(&mut self, model: PathBuf, file: PathBuf, cx: &mut Cx) {
        self.start(model, file, None, cx);
        self.reference = None;
    }

    /// Transcribes a dataset row's audio (its bytes, named `name`), with
    /// the row's reference text shown beside the transcript.
    pub fn transcribe_row(
        &mut self,
        name: String,
        bytes: std::sync::Arc<Vec<u8>>,
        reference: Option<String>,
        cx: &mut Cx,
    ) {
        let Some(model) = self.chosen_model.clone().or_else(|| {
            super::demo::downloaded_for(cx.cached(), crate::catalog::Panel::Transcribe)
                .first()
                .map(|(_, dir)| dir.clone())
        }) else {
            self.status = TranscribeStatus::Failed(
                "Download a speech recognition model first (below).".into(),
            );
            return;
        };
        self.start(model, PathBuf::from(name), Some(bytes), cx);
        self.reference = reference;
    }

    fn start(
        &mut self,
        model: PathBuf,
        file: PathBuf,
        audio: Option<std::sync::Arc<Vec<u8>>>,
        cx: &mut Cx,
    ) {
        let options = TranscribeOptions {
            batch_size: cx.settings.batched_transcription.then_some(BATCH),
            word_timestamps: cx.settings.word_timestamps,
            ..self.options()
        };
        self.stop_playing(cx);
        self.audio = audio.clone();
        // A dictation's translations belong to its lines only.
        self.translations.clear();
        self.partial_translation = None;
        self.latency = None;
        self.translate_note = None;
        self.generation += 1;
        self.status = TranscribeStatus::LoadingModel;
        self.kept = !self.segments.is_empty();
        self.transcript = None;
        self.note = None;
        self.finished = None;
        self.started = Some((std::time::Instant::now(), repo_of(&model)));
        if audio.is_none() {
            // A file's path; an example's or a dataset row's name is not
            // one, and leaves the field as it was.
            self.path_input = file.display().to_string();
        }
        self.file = Some(file.clone());
        cx.send(Command::Transcribe(TranscribeJob {
            generation: self.generation,
            model,
            file,
            audio,
            options,
            device: cx.settings.device,
            compute: cx.settings.compute,
        }));
    }

    /// The page's language and task over the reference defaults.
    fn options(&self) -> TranscribeOptions {
        TranscribeOptions {
            language: self.language.clone(),
            task: self.task,
            ..Default::default()
        }
    }

    /// Transcribes the audio files among `paths`, one after another.
    pub fn transcribe_files(&mut self, model: PathBuf, paths: Vec<PathBuf>, cx: &mut Cx) {
        let busy = matches!(
            self.status,
            TranscribeStatus::LoadingModel | TranscribeStatus::Running { .. }
        );
        self.queue
            .extend(paths.into_iter().map(|p| (model.clone(), p)));
        if !busy {
            self.next_in_queue(cx);
        }
    }

    /// Starts the next waiting file, if any.
    fn next_in_queue(&mut self, cx: &mut Cx) {
        if let Some((model, file)) = self.queue.pop_front() {
            self.start_transcription(model, file, cx);
        }
    }

    /// Stops the file transcription: the worker is told, the page is idle
    /// at once, and whatever the stopped job still sends (its "loading"
    /// or a segment already on its way) is ignored — it belongs to an
    /// older generation. Files waiting behind it are dropped too.
    pub(super) fn stop_file(&mut self, cx: &mut Cx) {
        cx.send(Command::CancelTranscription);
        self.generation += 1;
        self.status = TranscribeStatus::Idle;
        self.queue.clear();
    }

    /// Plays the shown transcript's sound (the file, or the bytes it was
    /// made from), the words highlighted as they are said.
    pub(super) fn play(&mut self, cx: &mut Cx) {
        let id = cx.next_play_id();
        let command = match (&self.audio, &self.file) {
            (Some(bytes), f) => Command::Play {
                id,
                bytes: bytes.as_ref().clone(),
                name: f
                    .as_ref()
                    .map_or_else(|| "the recording".into(), |f| f.display().to_string()),
            },
            (None, Some(f)) => Command::PlayFile {
                id,
                path: f.clone(),
            },
            (None, None) => return,
        };
        self.play_error = None;
        self.followed = None;
        self.playing = Some((id, 0.0));
        cx.send(command);
    }

    /// Stops the playback, if this page's sound plays.
    pub(super) fn stop_playing(&mut self, cx: &mut Cx) {
        if self.playing.take().is_some() {
            cx.send(Command::StopPlaying);
        }
    }

    /// Starts live dictation from the chosen microphone.
    fn start_dictation(&mut self, model: PathBuf, cx: &mut Cx) {
        let options = self.options();
        self.generation += 1;
        self.status = TranscribeStatus::Idle;
        self.kept = !self.segments.is_empty();
        self.transcript = None;
        self.note = None;
        self.finished = None;
        self.started = Some((std::time::Instant::now(), repo_of(&model)));
        self.file = None;
        self.partial = None;
        self.dictating = true;
        self.recording = Some((f32::NEG_INFINITY, 0.0, 0));
        self.translations.clear();
        self.partial_translation = None;
        self.latency = None;
        self.translate_note = None;
        self.stop_playing(cx);
        self.audio = None;
        cx.send(Command::Dictate(DictationJob {
            generation: self.generation,
            input: self.input_device.clone(),
            model,
            options,
            device: cx.settings.device,
            compute: cx.settings.compute,
            translate_to: cx.settings.live_translate_to.clone(),
            installed: crate::tasks::translate::route::installed(cx.cached()),
            whisper_translate: cx.settings.live_whisper_translate,
        }));
    }
}

impl View for TranscribePage {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        // The recording opened last.
        let input = self.file.as_ref().filter(|f| f.is_file()).map(|f| {
            (
                crate::workers::compare::DemoInput::Audio(f.clone()),
                f.file_name().map_or_else(
                    || f.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                ),
            )
        });
        self.compare
            .ui(ui, cx, crate::catalog::Panel::Transcribe, input);
        self.page_ui(ui, cx);
    }

    /// The newest transcription's or dictation's progress and text, the
    /// microphones and model languages listed, and the audio files chosen
    /// in this page's dialog.
    fn on_event(&mut self, event: Event, cx: &mut Cx) -> Option<Event> {
        let event = self
            .compare
            .on_event(crate::catalog::Panel::Transcribe, event)?;
        match event {
            Event::TranscriptionLoading { generation } => {
                if generation == self.generation {
                    self.status = TranscribeStatus::LoadingModel;
                }
            }
            Event::TranscriptionSegment {
                generation,
                segment,
                progress,
            } => {
                if generation == self.generation {
                    self.status = TranscribeStatus::Running { progress };
                    if std::mem::take(&mut self.kept) {
                        self.segments.clear();
                    }
                    self.segments.push(segment);
                }
            }
            Event::TranscriptionDone {
                generation,
                transcript,
                note,
            } => {
                if generation == self.generation {
                    self.status = TranscribeStatus::Idle;
                    self.kept = false;
                    self.segments = transcript.segments.clone();
                    self.note = note;
                    let (took, model) = self.took();
                    let audio = transcript.segments.last().map_or(0.0, |s| s.end);
                    self.finished = Some(format!(
                        "Done: {} of speech transcribed in {took:.1} s with {model}.",
                        crate::format::format_duration(audio)
                    ));
                    if let Some(f) = &self.file {
                        let name = f
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        self.history.push((
                            format!("{name} · {model} · {}", clock_now()),
                            Some(f.clone()),
                            transcript.clone(),
                        ));
                    }
                    self.transcript = Some(transcript);
                    self.next_in_queue(cx);
                }
            }
            Event::TranscriptionFailed { generation, error } => {
                if generation == self.generation {
                    if self.queue.is_empty() {
                        self.status = TranscribeStatus::Failed(error);
                    } else {
                        // Say what went wrong and go on with the next file.
                        let name = self
                            .file
                            .as_ref()
                            .map(|f| f.display().to_string())
                            .unwrap_or_default();
                        cx.notify_error(format!("{name}: {error}"));
                        self.next_in_queue(cx);
                    }
                }
            }
            Event::InputDevices(devices) => {
                if self
                    .input_device
                    .as_ref()
                    .is_some_and(|d| !devices.contains(d))
                {
                    self.input_device = None; // unplugged: back to the default
                }
                self.input_devices = Some(devices);
            }
            Event::ModelLanguages { dir, languages } => {
                if self
                    .language
                    .as_ref()
                    .is_some_and(|l| !languages.is_empty() && !languages.contains(l))
                {
                    self.language = None;
                }
                self.languages = Some((dir, languages));
            }
            Event::LiveReady {
                generation,
                learned_vad,
            } => {
                if generation == self.generation {
                    self.learned_vad = Some(learned_vad);
                    if self.status == TranscribeStatus::LoadingModel {
                        self.status = TranscribeStatus::Idle;
                    }
                }
            }
            Event::LivePartial { generation, text } => {
                if generation == self.generation {
                    self.partial = Some(text);
                }
            }
            Event::LiveFinal {
                generation,
                segments,
                latency,
            } => {
                if generation == self.generation {
                    self.partial = None;
                    self.partial_translation = None;
                    if !segments.is_empty() && std::mem::take(&mut self.kept) {
                        self.segments.clear();
                    }
                    self.segments.extend(segments);
                    self.latency = Some((latency, None));
                }
            }
            Event::LiveTranslated {
                generation,
                index,
                text,
                latency,
            } => {
                if generation == self.generation && index < 100_000 {
                    if self.translations.len() <= index {
                        self.translations.resize(index + 1, None);
                    }
                    self.translations[index] = Some(text);
                    if let Some((_, t)) = &mut self.latency {
                        *t = Some(latency);
                    }
                }
            }
            Event::LivePartialTranslated { generation, text } => {
                // Only while its utterance is still being spoken.
                if generation == self.generation && self.partial.is_some() {
                    self.partial_translation = Some(text);
                }
            }
            Event::LiveTranslateFailed { generation, error } => {
                if generation == self.generation {
                    self.translate_note = Some(error);
                }
            }
            Event::DictationDone {
                generation,
                language,
                error,
                note,
            } => {
                if generation == self.generation {
                    self.dictating = false;
                    self.push_to_talk = false;
                    self.partial = None;
                    self.recording = None;
                    self.note = note;
                    if let Some(e) = error {
                        self.status = TranscribeStatus::Failed(e);
                    } else if self.status == TranscribeStatus::LoadingModel {
                        self.status = TranscribeStatus::Idle;
                    }
                    if !self.segments.is_empty() {
                        let transcript = Transcript::from_segments(self.segments.clone(), language);
                        self.dictations += 1;
                        let (_, model) = self.took();
                        self.history.push((
                            format!("Dictation {} · {model} · {}", self.dictations, clock_now()),
                            None,
                            transcript.clone(),
                        ));
                        self.transcript = Some(transcript);
                    }
                }
            }
            Event::RecordingLevel {
                generation,
                dbfs,
                seconds,
                overflow,
            } => {
                if generation == self.generation && self.dictating {
                    self.recording = Some((dbfs, seconds, overflow));
                }
            }
            Event::Playing { id, .. } if self.playing.is_some_and(|p| p.0 == id) => {}
            Event::PlayPosition { id, seconds } if self.playing.is_some_and(|p| p.0 == id) => {
                self.playing = Some((id, seconds));
            }
            Event::PlayEnded { id, error } if self.playing.is_some_and(|p| p.0 == id) => {
                self.playing = None;
                self.play_error = error;
            }
            Event::FilesChosen {
                purpose: DialogPurpose::OpenAudio,
                paths,
            } => {
                if let Some(model) = self.chosen_model.clone() {
                    self.transcribe_files(model, paths, cx);
                }
            }
            other => return Some(other),
        }
        None
    }
}
