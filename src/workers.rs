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
    /// Start recording from the microphone (`None`: the default input).
    StartRecording {
        device: Option<String>,
    },
    /// Stop recording; the audio arrives as [`Event::RecordingDone`].
    StopRecording,
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
    RecordingDone {
        samples: Arc<Vec<f32>>,
        note: Option<String>,
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

/// Runs `f` on a new named thread; says so if none can be started.
fn job(name: &str, sink: &Sink, f: impl FnOnce() + Send + 'static) {
    if spawn_named(name, f).is_err() {
        sink.send(Event::Busy);
    }
}

fn dispatch(config: HubConfig, rx: Receiver<Command>, sink: Sink) {
    let mut hub = Hub::new(config);
    let downloads: Running = Arc::default();
    // The translation thread, started on first use; it owns the models.
    let mut translate: Option<SyncSender<(TranslateJob, CancelToken)>> = None;
    let mut translate_cancel = CancelToken::new();
    let mut transcribe: Option<SyncSender<(TranscribeJob, CancelToken)>> = None;
    let mut transcribe_cancel = CancelToken::new();
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
            Command::CancelTranslation => translate_cancel.cancel(),
            Command::CancelTranscription => transcribe_cancel.cancel(),
            Command::Transcribe(job) => {
                transcribe_cancel.cancel();
                transcribe_cancel = CancelToken::new();
                if transcribe.is_none() {
                    let (tx, rx) = sync_channel(8);
                    let sink2 = sink.clone();
                    if spawn_named("spaceport-transcribe", move || transcribe_loop(rx, sink2))
                        .is_ok()
                    {
                        transcribe = Some(tx);
                    }
                }
                let sent = transcribe.as_ref().is_some_and(|tx| {
                    tx.try_send((job.clone(), transcribe_cancel.clone()))
                        .is_ok()
                });
                if !sent {
                    sink.send(Event::TranscriptionFailed {
                        generation: job.generation,
                        error: "Spaceport could not start transcribing; try again.".into(),
                    });
                }
            }
            Command::StartRecording { device } => {
                if recording.as_ref().is_some_and(|r| !r.is_cancelled()) {
                    continue;
                }
                let stop = CancelToken::new();
                recording = Some(stop.clone());
                let sink2 = sink.clone();
                job("spaceport-record", &sink, move || {
                    record_loop(device, stop, sink2)
                });
            }
            Command::StopRecording => {
                if let Some(r) = recording.take() {
                    r.cancel();
                }
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
                translate_cancel.cancel();
                translate_cancel = CancelToken::new();
                if translate.is_none() {
                    let (tx, rx) = sync_channel(16);
                    let sink2 = sink.clone();
                    if spawn_named("spaceport-translate", move || translate_loop(rx, sink2)).is_ok()
                    {
                        translate = Some(tx);
                    }
                }
                let sent = translate
                    .as_ref()
                    .is_some_and(|tx| tx.try_send((job.clone(), translate_cancel.clone())).is_ok());
                if !sent {
                    sink.send(Event::TranslationFailed {
                        generation: job.generation,
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

/// The translation thread: keeps the loaded models (one per folder, so a
/// pivot pair stays loaded) and serves jobs, always the newest first.
fn translate_loop(rx: Receiver<(TranslateJob, CancelToken)>, sink: Sink) {
    let mut loaded: Vec<(PathBuf, DeviceChoice, Translator)> = Vec::new();
    while let Ok(mut next) = rx.recv() {
        // Jobs that a newer one replaced are skipped.
        while let Ok(newer) = rx.try_recv() {
            next = newer;
        }
        let (job, cancel) = next;
        if cancel.is_cancelled() {
            continue;
        }
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
fn transcribe_loop(rx: Receiver<(TranscribeJob, CancelToken)>, sink: Sink) {
    let mut loaded: Option<(PathBuf, DeviceChoice, Transcriber)> = None;
    while let Ok(mut next) = rx.recv() {
        while let Ok(newer) = rx.try_recv() {
            next = newer;
        }
        let (job, cancel) = next;
        if cancel.is_cancelled() {
            continue;
        }
        let fail = |error: String| Event::TranscriptionFailed {
            generation: job.generation,
            error,
        };
        if !loaded
            .as_ref()
            .is_some_and(|(d, c, _)| *d == job.model && *c == job.device)
        {
            sink.send(Event::TranscriptionLoading {
                generation: job.generation,
            });
            let device = device::select(job.device).device;
            match Transcriber::load(&job.model, &device) {
                Ok(t) => loaded = Some((job.model.clone(), job.device, t)),
                Err(e) => {
                    sink.send(fail(e.to_string()));
                    continue;
                }
            }
        }
        let Some((_, _, t)) = &loaded else { continue };
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

/// The recording thread: owns the microphone (cpal streams stay on one
/// thread), reports the level ten times a second, and hands the audio over
/// at 16 kHz when stopped — or when the device fails, keeping what it got.
fn record_loop(device: Option<String>, stop: CancelToken, sink: Sink) {
    use crate::audio::capture::{Capture, level_dbfs};
    let mut cap = match Capture::open(device.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            sink.send(Event::RecordingFailed(e.to_string()));
            return;
        }
    };
    let mut samples: Vec<f32> = Vec::new();
    let mut note = None;
    let rate = cap.sample_rate_hz.max(1) as f32;
    while !stop.is_cancelled() {
        std::thread::sleep(std::time::Duration::from_millis(100));
        match cap.take() {
            Ok(chunk) => {
                let dbfs = level_dbfs(&chunk);
                samples.extend(chunk);
                sink.send(Event::RecordingLevel {
                    dbfs,
                    seconds: samples.len() as f32 / rate,
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
        samples.extend(rest);
    }
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
