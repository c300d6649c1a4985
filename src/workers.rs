//! The protocol between the window and the workers: every UI intent is one
//! [`Command`]; every result comes back as one [`Event`]. A dispatcher thread
//! (`spaceport-hub`) receives commands over a bounded channel and runs each
//! job on its own named thread — search, details, each download, cache
//! scans and deletions — so nothing the UI asks for can block it. Every
//! event send calls the waker (the GUI's `request_repaint`), so the UI
//! never polls.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use crate::hub::cache::{self, CachedModel};
use crate::hub::{
    DownloadProgress, Hub, HubConfig, ModelDetails, SearchPage, SearchQuery, Snapshot, Token, token,
};
use std::path::PathBuf;

use crate::tasks::CancelToken;
use crate::tasks::device::{self, DeviceChoice};
use crate::tasks::transcribe::Transcriber;
use crate::tasks::transcribe::decode::{Segment, TranscribeOptions, Transcript};
use crate::tasks::translate::{TranslateOptions, Translator};
use crate::tasks::worker::spawn_named;

/// Everything the UI can ask of the workers.
#[derive(Debug)]
pub enum Command {
    /// A new search; `generation` tells its results from a stale search's.
    Search {
        generation: u64,
        query: SearchQuery,
    },
    /// The next page of search `generation` (the `Link` URL).
    LoadMore {
        generation: u64,
        url: String,
    },
    Details {
        repo: String,
        revision: String,
    },
    /// Download (or resume) what a model needs into the cache.
    Download {
        repo: String,
        revision: String,
    },
    CancelDownload {
        repo: String,
    },
    ScanCache,
    Delete {
        repo: String,
    },
    /// Use a new configuration (offline switch, token) from now on.
    Configure(HubConfig),
    /// Save the token to the standard token file (`None` removes it).
    SaveToken(Option<Token>),
    /// Translate a text (see [`TranslateJob`]); cancels the previous
    /// translation.
    Translate(TranslateJob),
    /// Stop the running translation.
    CancelTranslation,
    /// Transcribe an audio file; cancels the previous transcription.
    Transcribe(TranscribeJob),
    /// Stop the running transcription.
    CancelTranscription,
    /// Start recording from the microphone (`None`: the default input);
    /// with `live`, dictate: transcribe while recording.
    StartRecording {
        device: Option<String>,
        live: Option<LiveJob>,
    },
    /// Stop recording; the audio arrives as [`Event::RecordingDone`].
    StopRecording,
    /// List the microphones (as [`Event::InputDevices`]).
    ListInputDevices,
    /// Read which languages a Whisper model folder knows.
    ModelLanguages {
        dir: PathBuf,
    },
    /// Wait for a file dialog opened on the UI thread.
    Dialog {
        purpose: DialogPurpose,
        dialog: Dialog,
    },
    /// Caption pictures (files, or every picture in a dropped folder);
    /// cancels the previous batch.
    Caption(CaptionJob),
    /// Stop the running captions.
    CancelCaption,
    /// Write `text` to `path` (a transcript export).
    SaveText {
        path: PathBuf,
        text: String,
    },
}

/// One transcription request.
#[derive(Clone, Debug)]
pub struct TranscribeJob {
    pub generation: u64,
    pub model: PathBuf,
    pub source: AudioSource,
    pub options: TranscribeOptions,
    pub device: DeviceChoice,
}

/// A file dialog, opened on the UI thread (where macOS wants it) and
/// awaited on a worker so the window keeps drawing.
pub struct Dialog(pub std::pin::Pin<Box<dyn std::future::Future<Output = Vec<PathBuf>> + Send>>);

impl std::fmt::Debug for Dialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dialog")
    }
}

/// What a file dialog was for.
#[derive(Clone, Debug)]
pub enum DialogPurpose {
    /// Audio files to transcribe.
    OpenAudio,
    /// Where to save a transcript; the format follows the extension
    /// chosen (`.txt` when there is none).
    SaveTranscript(Box<Transcript>),
    /// Pictures to caption.
    OpenPictures,
    /// A folder of pictures to caption.
    OpenFolder,
    /// Where to save a batch's captions, (image, caption) pairs: CSV, or
    /// JSON when the name ends in `.json`.
    SaveCaptions(Vec<(String, String)>),
}

/// One captioning request: pictures, in order.
#[derive(Clone, Debug)]
pub struct CaptionJob {
    pub generation: u64,
    pub model: PathBuf,
    pub paths: Vec<PathBuf>,
    /// Pictures pasted from the clipboard (no file), captioned after the
    /// files and named "Pasted picture".
    pub pasted: Vec<std::sync::Arc<egui::ColorImage>>,
    pub request: crate::tasks::caption::CaptionRequest,
    pub device: DeviceChoice,
}

/// A small RGBA preview of a picture.
#[derive(Clone, Debug)]
pub struct Thumbnail {
    pub width: usize,
    pub height: usize,
    pub rgba: Vec<u8>,
}

/// Live dictation while recording: the model and how to decode.
#[derive(Clone, Debug)]
pub struct LiveJob {
    pub generation: u64,
    pub model: PathBuf,
    pub options: TranscribeOptions,
    pub device: DeviceChoice,
}

/// Where the audio to transcribe comes from.
#[derive(Clone, Debug)]
pub enum AudioSource {
    File(PathBuf),
    /// A recording: 16 kHz mono samples.
    Recording(Arc<Vec<f32>>),
}

/// One translation request: the text through each step in turn (two
/// steps when pivoting through English).
#[derive(Clone, Debug)]
pub struct TranslateJob {
    pub generation: u64,
    pub steps: Vec<TranslateStep>,
    pub text: String,
    pub device: DeviceChoice,
}

/// One model folder and how to use it.
#[derive(Clone, Debug)]
pub struct TranslateStep {
    pub model: PathBuf,
    pub options: TranslateOptions,
}

/// Everything the workers report.
#[derive(Debug)]
pub enum Event {
    SearchResults {
        generation: u64,
        page: SearchPage,
        append: bool,
    },
    SearchFailed {
        generation: u64,
        error: String,
        offline: bool,
    },
    Details(Box<ModelDetails>),
    DetailsFailed {
        repo: String,
        error: String,
        offline: bool,
    },
    DownloadProgress(DownloadProgress),
    DownloadDone(Snapshot),
    DownloadFailed {
        repo: String,
        error: String,
        cancelled: bool,
    },
    Cache(Vec<CachedModel>),
    CacheFailed(String),
    Deleted {
        repo: String,
        freed_bytes: u64,
    },
    DeleteFailed {
        repo: String,
        error: String,
    },
    TokenSaved {
        masked: Option<String>,
    },
    TokenFailed(String),
    /// The UI sent more commands than the queue holds.
    Busy,
    /// A translation model is being loaded (the first job for it).
    TranslationLoading {
        generation: u64,
        model: PathBuf,
    },
    /// The translation so far.
    TranslationPartial {
        generation: u64,
        text: String,
    },
    TranslationDone {
        generation: u64,
        text: String,
        device: String,
    },
    TranscriptionLoading {
        generation: u64,
    },
    TranscriptionSegment {
        generation: u64,
        segment: Segment,
        progress: f32,
    },
    TranscriptionDone {
        generation: u64,
        transcript: Transcript,
        note: Option<String>,
    },
    TranscriptionFailed {
        generation: u64,
        error: String,
    },
    /// While recording: the peak level (dBFS), seconds so far, lost samples.
    RecordingLevel {
        dbfs: f32,
        seconds: f32,
        overflow: u64,
    },
    /// The recording at 16 kHz (empty when it was dictated live).
    RecordingDone {
        samples: Arc<Vec<f32>>,
        note: Option<String>,
    },
    InputDevices(Vec<String>),
    /// The captioning model is being loaded.
    CaptionLoading {
        generation: u64,
    },
    /// The pictures of a caption job (a dropped folder expanded), before
    /// any is captioned.
    CaptionQueued {
        generation: u64,
        paths: Vec<PathBuf>,
    },
    /// One picture done: its caption, or why it has none.
    CaptionItem {
        generation: u64,
        index: usize,
        result: Result<crate::tasks::caption::Caption, String>,
        thumbnail: Option<Thumbnail>,
    },
    CaptionFinished {
        generation: u64,
        error: Option<String>,
    },
    ModelLanguages {
        dir: PathBuf,
        languages: Vec<String>,
    },
    /// Files chosen in an open dialog (empty when it was cancelled).
    FilesChosen {
        purpose: DialogPurpose,
        paths: Vec<PathBuf>,
    },
    /// Live dictation: the model is loaded (after `TranscriptionLoading`
    /// when it had to be); words will show as they are said.
    LiveReady {
        generation: u64,
    },
    /// Live dictation: the utterance being spoken, so far.
    LivePartial {
        generation: u64,
        text: String,
    },
    /// Live dictation: an utterance is final (times from the recording
    /// start).
    LiveFinal {
        generation: u64,
        segments: Vec<Segment>,
    },
    /// Live dictation ended (after the recording stopped): everything said
    /// is final; `error` when the model could not be used.
    LiveDone {
        generation: u64,
        language: String,
        error: Option<String>,
    },
    RecordingFailed(String),
    Saved {
        path: PathBuf,
    },
    SaveFailed {
        path: PathBuf,
        error: String,
    },
    TranslationFailed {
        generation: u64,
        error: String,
    },
}

/// Called after every event so the UI repaints.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Sends events and wakes the UI.
#[derive(Clone)]
struct Sink {
    tx: SyncSender<Event>,
    wake: Waker,
}

impl Sink {
    /// Returns false once the UI has gone away.
    fn send(&self, e: Event) -> bool {
        let ok = self.tx.send(e).is_ok();
        (self.wake)();
        ok
    }
}

/// The UI's handle on the workers.
pub struct Workers {
    tx: SyncSender<Command>,
}

impl Workers {
    /// Starts the dispatcher. Events arrive on the returned receiver.
    pub fn spawn(config: HubConfig, wake: Waker) -> std::io::Result<(Self, Receiver<Event>)> {
        let (tx, rx) = sync_channel::<Command>(64);
        let (etx, erx) = sync_channel::<Event>(1024);
        let sink = Sink { tx: etx, wake };
        spawn_named("spaceport-hub", move || dispatch(config, rx, sink))?;
        Ok((Self { tx }, erx))
    }

    /// Queues a command without ever blocking the caller; false when the
    /// queue is full or the workers are gone.
    pub fn send(&self, cmd: Command) -> bool {
        match self.tx.try_send(cmd) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }
}

type Running = Arc<Mutex<HashMap<String, CancelToken>>>;

/// A long-lived named thread that keeps a loaded model and serves jobs
/// (translation, transcription, captions): a new job cancels the running
/// one; the thread starts with the first job.
struct ModelThread<J> {
    name: &'static str,
    tx: Option<SyncSender<(J, CancelToken)>>,
    cancel: CancelToken,
}

impl<J: Send + 'static> ModelThread<J> {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            tx: None,
            cancel: CancelToken::new(),
        }
    }

    /// Cancels the running job and queues `job`, starting the thread on
    /// `run` the first time; false when the job could not be queued.
    fn submit(
        &mut self,
        job: J,
        run: impl FnOnce(Receiver<(J, CancelToken)>) + Send + 'static,
    ) -> bool {
        self.cancel.cancel();
        self.cancel = CancelToken::new();
        if self.tx.is_none() {
            let (tx, rx) = sync_channel(16);
            if spawn_named(self.name, move || run(rx)).is_ok() {
                self.tx = Some(tx);
            }
        }
        self.tx
            .as_ref()
            .is_some_and(|tx| tx.try_send((job, self.cancel.clone())).is_ok())
    }

    fn cancel(&self) {
        self.cancel.cancel();
    }
}

/// Runs `f` on a new named thread; says so if none can be started.
fn job(name: &str, sink: &Sink, f: impl FnOnce() + Send + 'static) {
    if spawn_named(name, f).is_err() {
        sink.send(Event::Busy);
    }
}

fn dispatch(config: HubConfig, rx: Receiver<Command>, sink: Sink) {
    let mut hub = Hub::new(config);
    let downloads: Running = Arc::default();
    // The model threads, started on first use; each owns its models.
    let mut translate = ModelThread::new("spaceport-translate");
    let mut transcribe = ModelThread::new("spaceport-transcribe");
    let mut caption = ModelThread::new("spaceport-caption");
    // The Whisper model, shared by file transcription and live dictation.
    let whisper = WhisperCache::default();
    let mut recording: Option<CancelToken> = None;
    while let Ok(cmd) = rx.recv() {
        match cmd {
            Command::Configure(cfg) => hub = Hub::new(cfg),
            Command::Search { generation, query } => {
                let hub2 = hub.clone();
                search_job(&sink, generation, false, move || hub2.search(&query));
            }
            Command::LoadMore { generation, url } => {
                let hub2 = hub.clone();
                search_job(&sink, generation, true, move || hub2.search_page(&url));
            }
            Command::Details { repo, revision } => {
                let (hub, sink2) = (hub.clone(), sink.clone());
                job("spaceport-details", &sink, move || {
                    let result = hub.details(&repo, &revision).or_else(|e| {
                        // Unreachable Hub: fall back to what the cache has.
                        match cache::local_details(&hub.config.cache_dir, &repo, &revision) {
                            Some(d) if e.is_offline() => Ok(d),
                            _ => Err(e),
                        }
                    });
                    sink2.send(match result {
                        Ok(d) => Event::Details(Box::new(d)),
                        Err(e) => Event::DetailsFailed {
                            repo,
                            offline: e.is_offline(),
                            error: e.to_string(),
                        },
                    });
                });
            }
            Command::Download { repo, revision } => {
                let cancel = {
                    let Ok(mut running) = downloads.lock() else {
                        continue;
                    };
                    if running.contains_key(&repo) {
                        continue;
                    }
                    let c = CancelToken::new();
                    running.insert(repo.clone(), c.clone());
                    c
                };
                let (hub, sink2, running) = (hub.clone(), sink.clone(), downloads.clone());
                let name = format!(
                    "spaceport-download-{}",
                    repo.rsplit('/').next().unwrap_or(&repo)
                );
                job(&name, &sink, move || {
                    let progress_sink = sink2.clone();
                    let result = hub.download_model(&repo, &revision, &cancel, &mut |p| {
                        progress_sink.send(Event::DownloadProgress(p.clone()));
                    });
                    if let Ok(mut r) = running.lock() {
                        r.remove(&repo);
                    }
                    sink2.send(match result {
                        Ok(s) => Event::DownloadDone(s),
                        Err(e) => Event::DownloadFailed {
                            cancelled: matches!(e, crate::hub::HubError::Cancelled),
                            repo,
                            error: e.to_string(),
                        },
                    });
                    send_scan(&hub, &sink2);
                });
            }
            Command::CancelDownload { repo } => {
                if let Ok(running) = downloads.lock()
                    && let Some(c) = running.get(&repo)
                {
                    c.cancel();
                }
            }
            Command::ScanCache => {
                let (hub, sink2) = (hub.clone(), sink.clone());
                job("spaceport-cache-scan", &sink, move || {
                    send_scan(&hub, &sink2)
                });
            }
            Command::Delete { repo } => {
                if let Ok(running) = downloads.lock()
                    && let Some(c) = running.get(&repo)
                {
                    c.cancel();
                }
                let (hub, sink2, running) = (hub.clone(), sink.clone(), downloads.clone());
                job("spaceport-cache-delete", &sink, move || {
                    // Let a cancelled download of this model stop
                    // writing before its files go.
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                    while running.lock().is_ok_and(|r| r.contains_key(&repo))
                        && std::time::Instant::now() < deadline
                    {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    sink2.send(match cache::delete_model(&hub.config.cache_dir, &repo) {
                        Ok(freed_bytes) => Event::Deleted { repo, freed_bytes },
                        Err(e) => Event::DeleteFailed {
                            repo,
                            error: e.to_string(),
                        },
                    });
                    send_scan(&hub, &sink2);
                });
            }
            Command::CancelTranslation => translate.cancel(),
            Command::CancelTranscription => transcribe.cancel(),
            Command::CancelCaption => caption.cancel(),
            Command::Caption(job) => {
                let (generation, sink2) = (job.generation, sink.clone());
                if !caption.submit(job, move |rx| caption_loop(rx, sink2)) {
                    sink.send(Event::CaptionFinished {
                        generation,
                        error: Some("Spaceport could not start captioning; try again.".into()),
                    });
                }
            }
            Command::Transcribe(job) => {
                let (generation, sink2, cache) = (job.generation, sink.clone(), whisper.clone());
                if !transcribe.submit(job, move |rx| transcribe_loop(rx, cache, sink2)) {
                    sink.send(Event::TranscriptionFailed {
                        generation,
                        error: "Spaceport could not start transcribing; try again.".into(),
                    });
                }
            }
            Command::StartRecording { device, live } => {
                if recording.as_ref().is_some_and(|r| !r.is_cancelled()) {
                    continue;
                }
                let stop = CancelToken::new();
                recording = Some(stop.clone());
                let sink2 = sink.clone();
                // Audio for the live thread, at the device's rate.
                let (to_live, rate_tx) = match live {
                    Some(live) => {
                        let (tx, rx) = std::sync::mpsc::channel::<Vec<f32>>();
                        let (rate_tx, rate_rx) = std::sync::mpsc::channel::<u32>();
                        let (sink3, cache) = (sink.clone(), whisper.clone());
                        job("spaceport-live", &sink, move || {
                            live_loop(live, rx, rate_rx, cache, sink3)
                        });
                        (Some(tx), Some(rate_tx))
                    }
                    None => (None, None),
                };
                job("spaceport-record", &sink, move || {
                    record_loop(device, stop, to_live, rate_tx, sink2)
                });
            }
            Command::StopRecording => {
                if let Some(r) = recording.take() {
                    r.cancel();
                }
            }
            Command::ListInputDevices => {
                let sink2 = sink.clone();
                job("spaceport-devices", &sink, move || {
                    sink2.send(Event::InputDevices(crate::audio::capture::input_devices()));
                });
            }
            Command::ModelLanguages { dir } => {
                let sink2 = sink.clone();
                job("spaceport-model-info", &sink, move || {
                    let languages = crate::tasks::transcribe::model_languages(&dir);
                    sink2.send(Event::ModelLanguages { dir, languages });
                });
            }
            Command::Dialog { purpose, dialog } => {
                let sink2 = sink.clone();
                job("spaceport-dialog", &sink, move || {
                    let paths = pollster::block_on(dialog.0);
                    match (purpose, paths.first()) {
                        (DialogPurpose::SaveTranscript(t), Some(path)) => {
                            use crate::tasks::transcribe::formats::{Format, render};
                            let format = path
                                .extension()
                                .and_then(|e| Format::parse(&e.to_string_lossy()))
                                .unwrap_or(Format::Txt);
                            let path = if path.extension().is_none() {
                                path.with_extension("txt")
                            } else {
                                path.clone()
                            };
                            sink2.send(match std::fs::write(&path, render(&t, format)) {
                                Ok(()) => Event::Saved { path },
                                Err(e) => Event::SaveFailed {
                                    error: crate::hub::HubError::io("write", &path, e).to_string(),
                                    path,
                                },
                            });
                        }
                        (DialogPurpose::SaveCaptions(rows), Some(path)) => {
                            let json = path.extension().is_some_and(|e| e == "json");
                            let text = if json {
                                crate::tasks::caption::to_json(&rows)
                            } else {
                                crate::tasks::caption::to_csv(&rows)
                            };
                            sink2.send(match std::fs::write(path, text) {
                                Ok(()) => Event::Saved { path: path.clone() },
                                Err(e) => Event::SaveFailed {
                                    error: crate::hub::HubError::io("write", path, e).to_string(),
                                    path: path.clone(),
                                },
                            });
                        }
                        (
                            DialogPurpose::SaveTranscript(_) | DialogPurpose::SaveCaptions(_),
                            None,
                        ) => {}
                        (purpose, _) => {
                            sink2.send(Event::FilesChosen { purpose, paths });
                        }
                    }
                });
            }
            Command::SaveText { path, text } => {
                let sink2 = sink.clone();
                job("spaceport-save", &sink, move || {
                    sink2.send(match std::fs::write(&path, text) {
                        Ok(()) => Event::Saved { path },
                        Err(e) => Event::SaveFailed {
                            error: crate::hub::HubError::io("write", &path, e).to_string(),
                            path,
                        },
                    });
                });
            }
            Command::Translate(job) => {
                let (generation, sink2) = (job.generation, sink.clone());
                if !translate.submit(job, move |rx| translate_loop(rx, sink2)) {
                    sink.send(Event::TranslationFailed {
                        generation,
                        error: "Spaceport could not start translating; try again.".into(),
                    });
                }
            }
            Command::SaveToken(t) => {
                let path = hub.config.token_path.clone();
                let (sink2, masked) = (sink.clone(), t.as_ref().map(Token::masked));
                job("spaceport-token", &sink, move || {
                    sink2.send(match token::write_token_file(&path, t.as_ref()) {
                        Ok(()) => Event::TokenSaved { masked },
                        Err(e) => Event::TokenFailed(e.to_string()),
                    });
                });
            }
        }
    }
    // The UI has gone: stop every download so partial files are flushed.
    if let Ok(running) = downloads.lock() {
        running.values().for_each(CancelToken::cancel);
    }
}

/// A model thread's next job: the newest waiting (a newer one replaces
/// those sent before it), one already cancelled skipped; `None` once the
/// UI has gone.
fn newest_job<J>(rx: &Receiver<(J, CancelToken)>) -> Option<(J, CancelToken)> {
    loop {
        let mut next = rx.recv().ok()?;
        while let Ok(newer) = rx.try_recv() {
            next = newer;
        }
        if !next.1.is_cancelled() {
            return Some(next);
        }
    }
}

/// The translation thread: keeps the loaded models (one per folder, so a
/// pivot pair stays loaded) and serves jobs, always the newest first.
fn translate_loop(rx: Receiver<(TranslateJob, CancelToken)>, sink: Sink) {
    let mut loaded: Vec<(PathBuf, DeviceChoice, Translator)> = Vec::new();
    while let Some((job, cancel)) = newest_job(&rx) {
        let selected = device::select(job.device);
        let mut text = job.text.clone();
        let mut result = Ok(());
        for (i, step) in job.steps.iter().enumerate() {
            let dir = &step.model;
            if !loaded.iter().any(|(d, c, _)| d == dir && *c == job.device) {
                sink.send(Event::TranslationLoading {
                    generation: job.generation,
                    model: dir.clone(),
                });
                match Translator::load(dir, &selected.device) {
                    Ok(t) => {
                        loaded.retain(|(_, c, _)| *c == job.device);
                        if loaded.len() >= 2 {
                            loaded.remove(0);
                        }
                        loaded.push((dir.clone(), job.device, t));
                    }
                    Err(e) => {
                        result = Err(e.to_string());
                        break;
                    }
                }
            }
            let Some((_, _, t)) = loaded.iter().find(|(d, c, _)| d == dir && *c == job.device)
            else {
                break;
            };
            let last = i + 1 == job.steps.len();
            let mut partial = |p: &str| {
                if last {
                    sink.send(Event::TranslationPartial {
                        generation: job.generation,
                        text: p.to_string(),
                    });
                }
            };
            match t.translate(&text, &step.options, &cancel, &mut partial) {
                Ok(out) => text = out.text,
                Err(e) => {
                    result = Err(e.to_string());
                    break;
                }
            }
        }
        sink.send(match result {
            Ok(()) => Event::TranslationDone {
                generation: job.generation,
                text,
                device: selected.describe(),
            },
            // A cancelled job was replaced or stopped on purpose.
            Err(_) if cancel.is_cancelled() => continue,
            Err(error) => Event::TranslationFailed {
                generation: job.generation,
                error,
            },
        });
    }
}

/// The transcription thread: keeps the loaded Whisper model and serves
/// jobs, newest first; decodes the file, streams segments.
fn transcribe_loop(rx: Receiver<(TranscribeJob, CancelToken)>, cache: WhisperCache, sink: Sink) {
    while let Some((job, cancel)) = newest_job(&rx) {
        let fail = |error: String| Event::TranscriptionFailed {
            generation: job.generation,
            error,
        };
        let t = match cache.get(&job.model, job.device, || {
            sink.send(Event::TranscriptionLoading {
                generation: job.generation,
            });
        }) {
            Ok(t) => t,
            Err(e) => {
                sink.send(fail(e));
                continue;
            }
        };
        let (samples, note) = match &job.source {
            AudioSource::Recording(s) => (s.clone(), None),
            AudioSource::File(path) => match crate::audio::decode::decode_file(path, 16000) {
                Ok(a) => {
                    let note = a.damaged.then(|| {
                        format!(
                            "The file is damaged or ends early; this is the {:.1} s that could be read.",
                            a.duration_secs()
                        )
                    });
                    (Arc::new(a.samples), note)
                }
                Err(e) => {
                    sink.send(fail(e.to_string()));
                    continue;
                }
            },
        };
        let mut on_segment = |seg: &Segment, progress: f32| {
            sink.send(Event::TranscriptionSegment {
                generation: job.generation,
                segment: seg.clone(),
                progress,
            });
        };
        match t.transcribe(&samples, &job.options, &cancel, &mut on_segment) {
            Ok(transcript) => {
                sink.send(Event::TranscriptionDone {
                    generation: job.generation,
                    transcript,
                    note,
                });
            }
            Err(_) if cancel.is_cancelled() => {}
            Err(e) => {
                sink.send(fail(e.to_string()));
            }
        }
    }
}

/// Picture files among `paths`, a folder standing for the pictures in it
/// (by name, not looking inside sub-folders).
fn expand_pictures(paths: &[PathBuf]) -> Vec<PathBuf> {
    const EXT: [&str; 9] = [
        "jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff", "jfif",
    ];
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|d| d.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            inside.retain(|f| {
                f.is_file()
                    && f.extension()
                        .is_some_and(|e| EXT.contains(&e.to_string_lossy().to_lowercase().as_str()))
            });
            inside.sort();
            out.extend(inside);
        } else {
            out.push(p.clone());
        }
    }
    out
}

/// A pasted picture as RGB (transparency over white, as for files).
fn pasted_rgb(img: &egui::ColorImage) -> crate::tasks::caption::image::Rgb {
    let [w, h] = img.size;
    let mut rgba = Vec::with_capacity(w * h * 4);
    for c in &img.pixels {
        rgba.extend_from_slice(&c.to_srgba_unmultiplied());
    }
    let buf = image::RgbaImage::from_raw(w as u32, h as u32, rgba)
        .unwrap_or_else(|| image::RgbaImage::new(1, 1));
    crate::tasks::caption::image::to_rgb(&image::DynamicImage::ImageRgba8(buf))
}

/// A preview at most `side` pixels on its longer side.
fn thumbnail(img: &crate::tasks::caption::image::Rgb, side: usize) -> Thumbnail {
    let scale = (side as f64 / img.width.max(img.height) as f64).min(1.0);
    let (w, h) = (
        ((img.width as f64 * scale).round() as usize).max(1),
        ((img.height as f64 * scale).round() as usize).max(1),
    );
    let small = crate::tasks::caption::image::resize(img, w, h, 2);
    let mut rgba = Vec::with_capacity(w * h * 4);
    for px in small.data.chunks_exact(3) {
        rgba.extend_from_slice(&[px[0], px[1], px[2], 255]);
    }
    Thumbnail {
        width: w,
        height: h,
        rgba,
    }
}

/// The captioning thread: keeps the loaded BLIP model and serves jobs,
/// newest first; each picture is read, previewed and captioned in turn,
/// and a bad one is reported without stopping the rest.
fn caption_loop(rx: Receiver<(CaptionJob, CancelToken)>, sink: Sink) {
    use crate::tasks::caption::Captioner;
    let mut loaded: Option<(PathBuf, DeviceChoice, Captioner)> = None;
    while let Some((job, cancel)) = newest_job(&rx) {
        let generation = job.generation;
        let mut paths = expand_pictures(&job.paths);
        let files = paths.len();
        paths.extend((0..job.pasted.len()).map(|_| PathBuf::from("Pasted picture")));
        sink.send(Event::CaptionQueued {
            generation,
            paths: paths.clone(),
        });
        if !loaded
            .as_ref()
            .is_some_and(|(d, c, _)| *d == job.model && *c == job.device)
        {
            sink.send(Event::CaptionLoading { generation });
            loaded = None;
            let device = device::select(job.device).device;
            match Captioner::load(&job.model, &device) {
                Ok(c) => loaded = Some((job.model.clone(), job.device, c)),
                Err(e) => {
                    sink.send(Event::CaptionFinished {
                        generation,
                        error: Some(e.to_string()),
                    });
                    continue;
                }
            }
        }
        let Some((_, _, captioner)) = &loaded else {
            continue;
        };
        for (index, path) in paths.iter().enumerate() {
            if cancel.is_cancelled() {
                break;
            }
            let picture = match index.checked_sub(files) {
                Some(i) => Ok(pasted_rgb(&job.pasted[i])),
                None => crate::tasks::caption::image::open(path),
            };
            let (result, thumb) = match picture {
                Ok(img) => {
                    let thumb = thumbnail(&img, 256);
                    (
                        captioner
                            .caption(&img, &job.request, &cancel)
                            .map_err(|e| e.to_string()),
                        Some(thumb),
                    )
                }
                Err(e) => (Err(e.to_string()), None),
            };
            if cancel.is_cancelled() {
                break;
            }
            sink.send(Event::CaptionItem {
                generation,
                index,
                result,
                thumbnail: thumb,
            });
        }
        sink.send(Event::CaptionFinished {
            generation,
            error: None,
        });
    }
}

/// The loaded Whisper model, shared by the transcription and live
/// threads (one copy in memory).
#[derive(Clone, Default)]
struct WhisperCache(Arc<Mutex<Option<HeldWhisper>>>);

/// A loaded model: its folder, the device asked for, the model.
type HeldWhisper = (PathBuf, DeviceChoice, Arc<Transcriber>);

impl WhisperCache {
    /// The model in `dir`, loaded (calling `loading` first) when it is not
    /// the one held.
    fn get(
        &self,
        dir: &std::path::Path,
        choice: DeviceChoice,
        loading: impl FnOnce(),
    ) -> Result<Arc<Transcriber>, String> {
        let mut held = self
            .0
            .lock()
            .map_err(|_| "Spaceport could not use the model; try again.".to_string())?;
        if let Some((d, c, t)) = held.as_ref()
            && d == dir
            && *c == choice
        {
            return Ok(t.clone());
        }
        loading();
        *held = None; // free the old model before loading the next
        let device = device::select(choice).device;
        let t = Arc::new(Transcriber::load(dir, &device).map_err(|e| e.to_string())?);
        *held = Some((dir.to_path_buf(), choice, t.clone()));
        Ok(t)
    }
}

/// The live dictation thread: cuts the recording into utterances and
/// decodes them as they are spoken (see `tasks::transcribe::live`).
fn live_loop(
    job: LiveJob,
    audio: Receiver<Vec<f32>>,
    rate: Receiver<u32>,
    cache: WhisperCache,
    sink: Sink,
) {
    use crate::tasks::transcribe::live::{LiveConfig, LiveDictation, LiveEvent, run_live};
    let generation = job.generation;
    let done = |language: String, error: Option<String>| Event::LiveDone {
        generation,
        language,
        error,
    };
    // The recorder says the device's rate once it is open (or hangs up).
    let Ok(rate) = rate.recv() else {
        sink.send(done(String::new(), None));
        return;
    };
    let t = match cache.get(&job.model, job.device, || {
        sink.send(Event::TranscriptionLoading { generation });
    }) {
        Ok(t) => {
            sink.send(Event::LiveReady { generation });
            t
        }
        Err(e) => {
            sink.send(done(String::new(), Some(e)));
            return;
        }
    };
    let mut live = LiveDictation::new(rate, job.options.clone(), LiveConfig::default());
    let result = run_live(&audio, &mut live, &t, &CancelToken::new(), &mut |ev| {
        sink.send(match ev {
            LiveEvent::Partial { text, .. } => Event::LivePartial { generation, text },
            LiveEvent::Final { segments } => Event::LiveFinal {
                generation,
                segments,
            },
        });
    });
    let language = live.language.clone().unwrap_or_else(|| "en".into());
    sink.send(done(language, result.err().map(|e| e.to_string())));
}

/// The recording thread: owns the microphone (cpal streams stay on one
/// thread), reports the level twenty times a second, passes the audio on to
/// live dictation when asked, and hands it all over at 16 kHz when stopped
/// — or when the device fails, keeping what it got.
fn record_loop(
    device: Option<String>,
    stop: CancelToken,
    live: Option<std::sync::mpsc::Sender<Vec<f32>>>,
    live_rate: Option<std::sync::mpsc::Sender<u32>>,
    sink: Sink,
) {
    use crate::audio::capture::{Capture, level_dbfs};
    let mut cap = match Capture::open(device.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            sink.send(Event::RecordingFailed(e.to_string()));
            return;
        }
    };
    if let Some(r) = &live_rate {
        let _ = r.send(cap.sample_rate_hz);
    }
    // Live dictation keeps its own audio (utterance by utterance); only a
    // plain recording is kept whole here.
    let mut samples: Vec<f32> = Vec::new();
    let mut seen = 0usize;
    let mut note = None;
    let rate = cap.sample_rate_hz.max(1) as f32;
    let mut pass_on = |chunk: Vec<f32>, samples: &mut Vec<f32>| {
        seen += chunk.len();
        match &live {
            Some(l) => {
                let _ = l.send(chunk);
            }
            None => samples.extend(chunk),
        }
        seen
    };
    while !stop.is_cancelled() {
        std::thread::sleep(std::time::Duration::from_millis(50));
        match cap.take() {
            Ok(chunk) => {
                let dbfs = level_dbfs(&chunk);
                let seen = pass_on(chunk, &mut samples);
                sink.send(Event::RecordingLevel {
                    dbfs,
                    seconds: seen as f32 / rate,
                    overflow: cap.overflowed(),
                });
            }
            Err(e) => {
                note = Some(e.to_string());
                break;
            }
        }
    }
    if let Ok(rest) = cap.take() {
        pass_on(rest, &mut samples);
    }
    drop(live); // the live thread finalises what was being said
    let resampled = crate::audio::resample::resample(&samples, cap.sample_rate_hz, 16000);
    sink.send(Event::RecordingDone {
        samples: Arc::new(resampled),
        note,
    });
}

/// Runs a search (or its next page) on a worker and reports the page.
fn search_job(
    sink: &Sink,
    generation: u64,
    append: bool,
    search: impl FnOnce() -> crate::hub::Result<SearchPage> + Send + 'static,
) {
    let sink2 = sink.clone();
    job("spaceport-search", sink, move || {
        sink2.send(match search() {
            Ok(page) => Event::SearchResults {
                generation,
                page,
                append,
            },
            Err(e) => Event::SearchFailed {
                generation,
                offline: e.is_offline(),
                error: e.to_string(),
            },
        });
    });
}

fn send_scan(hub: &Hub, sink: &Sink) {
    sink.send(match cache::scan(&hub.config.cache_dir) {
        Ok(models) => Event::Cache(models),
        Err(e) => Event::CacheFailed(e.to_string()),
    });
}
