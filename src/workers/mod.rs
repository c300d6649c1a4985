//! The protocol between the window and the workers, and its dispatcher.
//!
//! Every UI intent is one [`Command`]; every result comes back as one
//! [`Event`]. [`Workers::spawn`] starts the dispatcher thread
//! (`spaceport-hub`), which receives commands over a bounded channel and
//! hands each to its job family — one file each:
//!
//! - [`hub`]: search, details, downloads, the cache, the token — one
//!   named thread per job;
//! - [`translate`], [`transcribe`], [`caption`]: a long-lived thread per
//!   task that keeps its loaded model and serves the newest job
//!   ([`ModelThread`]);
//! - [`dictation`]: one thread per dictation that owns its
//!   [`crate::audio::recorder::Recorder`] and decodes as the person speaks;
//! - [`datasets`]: dataset searches, and a thread that keeps the dataset
//!   being looked at open and reads pages of rows (the next one ahead);
//! - [`playback`]: a dataset's sound played on the default output;
//! - [`evaluate`]: a model run over a dataset split and scored;
//! - [`files`]: file dialogs, exports, device and model-folder queries.
//!
//! Every event send calls the waker (the GUI's `request_repaint`), so the
//! UI never polls. Nothing here knows egui.

pub mod caption;
pub mod compare;
pub mod datasets;
pub mod dictation;
pub mod evaluate;
pub mod files;
pub mod hub;
pub mod playback;
pub mod transcribe;
pub mod translate;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use crate::hub::cache::CachedModel;
use crate::hub::{
    DownloadProgress, HubConfig, ModelDetails, SearchPage, SearchQuery, Snapshot, Token,
};
use crate::tasks::caption::Caption;
use crate::tasks::caption::image::Thumbnail;
use crate::tasks::transcribe::decode::{Segment, Transcript};
use crate::work::{CancelToken, spawn_named};

pub use caption::CaptionJob;
pub use datasets::{DatasetJob, DatasetResult, RowsPage};
pub use dictation::DictationJob;
pub use files::{Dialog, DialogPurpose};
pub use transcribe::TranscribeJob;
pub use translate::{TranslateJob, TranslateStep};

/// Everything the UI can ask of the workers. Each variant says what it
/// asks and which events answer it.
#[derive(Debug)]
pub enum Command {
    /// Search the Hub's models; answered by [`Event::SearchResults`] or
    /// [`Event::SearchFailed`] with the same `generation`, which tells a
    /// stale search's answer from the current one's.
    Search { generation: u64, query: SearchQuery },
    /// The next page of search `generation` (its `Link` URL); answered as
    /// [`Command::Search`], the page appended.
    LoadMore { generation: u64, url: String },
    /// One model's details (card, files, sizes, whether it runs here);
    /// answered by [`Event::Details`] or [`Event::DetailsFailed`]. Offline,
    /// the cache's copy answers.
    Details { repo: String, revision: String },
    /// Download (or resume) what a model needs into the cache; answered by
    /// [`Event::DownloadProgress`] while it runs, then
    /// [`Event::DownloadDone`] or [`Event::DownloadFailed`], then a fresh
    /// [`Event::Cache`]. A second request for the same repo while one runs
    /// is ignored.
    Download { repo: String, revision: String },
    /// Download the named files of a repository that is not a demo's
    /// model (the voice-activity detector's); answered as
    /// [`Command::Download`] is, keyed by `repo`.
    DownloadFiles {
        repo: String,
        revision: String,
        files: Vec<String>,
    },
    /// Stop a running download (its partial file stays for resuming); it
    /// ends with [`Event::DownloadFailed`] with `cancelled`.
    CancelDownload { repo: String },
    /// Scan the cache; answered by [`Event::Cache`] or [`Event::CacheFailed`],
    /// then [`Event::CachedDatasets`].
    ScanCache,
    /// Delete a model from the cache (stopping its download first);
    /// answered by [`Event::Deleted`] or [`Event::DeleteFailed`], then a
    /// fresh [`Event::Cache`].
    Delete { repo: String },
    /// Use a new configuration (offline switch, token) for the hub jobs
    /// started from now on. No answer.
    Configure(HubConfig),
    /// Save the token to the standard token file (`None` removes it);
    /// answered by [`Event::TokenSaved`] or [`Event::TokenFailed`].
    SaveToken(Option<Token>),
    /// Translate a text, cancelling the running translation; answered by
    /// [`Event::TranslationLoading`] (when a model must be loaded),
    /// [`Event::TranslationPartial`]s, then [`Event::TranslationDone`] or
    /// [`Event::TranslationFailed`]. A replaced job sends nothing more.
    Translate(TranslateJob),
    /// Stop the running translation (it sends nothing more).
    CancelTranslation,
    /// Transcribe an audio file, cancelling the running transcription;
    /// answered by [`Event::TranscriptionLoading`] (when the model must be
    /// loaded), [`Event::TranscriptionSegment`]s, then
    /// [`Event::TranscriptionDone`] or [`Event::TranscriptionFailed`].
    Transcribe(TranscribeJob),
    /// Stop the running transcription (it sends nothing more).
    CancelTranscription,
    /// Dictate: record from a microphone and transcribe while the person
    /// speaks. Answered by [`Event::TranscriptionLoading`] (when the model
    /// must be loaded), [`Event::LiveReady`], [`Event::RecordingLevel`]
    /// twenty times a second, [`Event::LivePartial`] and
    /// [`Event::LiveFinal`] as words come, and always one
    /// [`Event::DictationDone`] at the end. Ignored while one runs.
    Dictate(DictationJob),
    /// End the dictation: what was being said is finalised, then
    /// [`Event::DictationDone`].
    StopDictation,
    /// List the microphones; answered by [`Event::InputDevices`].
    ListInputDevices,
    /// List the compute devices this build and machine offer; answered by
    /// [`Event::ComputeDevices`].
    ListComputeDevices,
    /// Read which languages a Whisper model folder knows; answered by
    /// [`Event::ModelLanguages`].
    ModelLanguages { dir: PathBuf },
    /// Wait for a file dialog opened on the UI thread; an open dialog is
    /// answered by [`Event::FilesChosen`], a save dialog by the file being
    /// written ([`Event::Saved`] or [`Event::SaveFailed`]; nothing when it
    /// was cancelled).
    Dialog {
        purpose: DialogPurpose,
        dialog: Dialog,
    },
    /// Caption pictures (files, or every picture in a dropped folder),
    /// cancelling the running batch; answered by [`Event::CaptionQueued`],
    /// [`Event::CaptionLoading`] (when the model must be loaded), an
    /// [`Event::CaptionItem`] per picture, then [`Event::CaptionFinished`].
    Caption(CaptionJob),
    /// Stop the running captions (then [`Event::CaptionFinished`] comes
    /// without the rest).
    CancelCaption,
    /// Write `text` to `path` (an export); answered by [`Event::Saved`] or
    /// [`Event::SaveFailed`].
    SaveText { path: PathBuf, text: String },
    /// Write several files (one text each), answered by one
    /// [`Event::SavedMany`], or a [`Event::SaveFailed`] for the first
    /// that could not be written.
    SaveTexts { files: Vec<(PathBuf, String)> },
    /// Search the Datasets Hub; answered by [`Event::DatasetResults`] or
    /// [`Event::DatasetSearchFailed`] with the same `generation`.
    SearchDatasets {
        generation: u64,
        query: crate::hub::datasets::DatasetQuery,
    },
    /// The next page of dataset search `generation` (its `Link` URL);
    /// answered as [`Command::SearchDatasets`], the results appended.
    MoreDatasets { generation: u64, url: String },
    /// Show a page of a dataset's rows, cancelling the page being read;
    /// answered by [`Event::DatasetOpened`] (when it was not open), then
    /// [`Event::DatasetRows`], or [`Event::DatasetFailed`]. The job's
    /// `hub` is filled in by the dispatcher.
    DatasetPage(DatasetJob),
    /// Download a split (or every split of a config) of a Hub dataset's
    /// parquet export into the cache; answered as [`Command::Download`]
    /// is, the progress's `repo` being `datasets/{repo}` (which
    /// [`Command::CancelDownload`] takes).
    DownloadDataset {
        repo: String,
        config: String,
        split: Option<String>,
    },
    /// Prepare and write out a split; answered by [`Event::ExportProgress`]
    /// while it runs, then [`Event::ExportDone`] or [`Event::ExportFailed`].
    ExportDataset(datasets::ExportJob),
    /// Stop the export running (it leaves no file).
    CancelExport,
    /// Play a sound file held in memory (a dataset's audio cell), stopping
    /// any other; answered by [`Event::Playing`] once it sounds, then one
    /// [`Event::PlayEnded`].
    Play {
        id: u64,
        bytes: Vec<u8>,
        name: String,
    },
    /// Play a sound file from disk (read on the player's thread), as
    /// [`Command::Play`]: a transcribed recording played back.
    PlayFile { id: u64, path: std::path::PathBuf },
    /// Stop the sound playing.
    StopPlaying,
    /// Run a model over a dataset split and score it (stopping any run);
    /// answered by [`Event::EvalStarted`], an [`Event::EvalRow`] a row,
    /// then [`Event::EvalDone`] or [`Event::EvalFailed`].
    Evaluate(evaluate::EvalJob),
    /// Stop the run: what is done is scored ([`Event::EvalDone`]).
    StopEvaluation,
    /// Read a split's columns and guess the mapping; answered by
    /// [`Event::EvalColumns`].
    EvalColumns {
        generation: u64,
        dataset: String,
        split: Option<String>,
    },
    /// Measure a downloaded model's speed for about ten seconds on a
    /// built-in input and keep it in `data_dir`; answered by
    /// [`Event::Measured`].
    Measure {
        repo: String,
        dir: PathBuf,
        panel: crate::catalog::Panel,
        device: crate::tasks::device::DeviceChoice,
        compute: crate::tasks::device::ComputeType,
        data_dir: PathBuf,
    },
    /// Read the measurements kept in `data_dir`; answered by
    /// [`Event::Measured`] with no `repo`.
    LoadMeasured { data_dir: PathBuf },
    /// Set kept runs side by side (the first is the baseline); answered
    /// by [`Event::RunsCompared`].
    CompareRuns {
        generation: u64,
        runs: Vec<crate::evaluate::record::RunRecord>,
    },
    /// Run a demo's input through several models; answered by an
    /// [`Event::CompareOutput`] a model, then [`Event::CompareDone`].
    Compare(compare::CompareJob),
    /// Stop the comparison running.
    StopCompare,
    /// List the runs kept in `data_dir` (after deleting the run `delete`);
    /// answered by [`Event::RunHistory`].
    RunHistory {
        data_dir: PathBuf,
        delete: Option<String>,
    },
    /// Decode a picture held in memory (a dataset's image cell) for a
    /// larger view; answered by [`Event::Enlarged`].
    Enlarge {
        id: u64,
        bytes: Vec<u8>,
        name: String,
    },
}

/// Everything the workers report. Each variant says what it answers.
#[derive(Debug)]
pub enum Event {
    /// Dataset search results ([`Command::SearchDatasets`], appended for
    /// [`Command::MoreDatasets`]) and the next page's URL.
    DatasetResults {
        generation: u64,
        results: Vec<DatasetResult>,
        next: Option<String>,
        append: bool,
    },
    /// A dataset search failed; `offline` when the Hub could not be
    /// reached.
    DatasetSearchFailed {
        generation: u64,
        error: String,
        offline: bool,
    },
    /// A dataset was opened ([`Command::DatasetPage`]): its configs,
    /// splits and columns.
    DatasetOpened {
        generation: u64,
        info: Box<crate::datasets::DatasetInfo>,
        /// Its card (README.md), when it has one.
        card: Option<String>,
        /// Whether its rows come from the Hub (not this disk).
        remote: bool,
    },
    /// A page of rows ([`Command::DatasetPage`]).
    DatasetRows {
        generation: u64,
        page: Box<RowsPage>,
    },
    /// A dataset or its page could not be read, in a sentence.
    DatasetFailed { generation: u64, error: String },
    /// How an export goes ([`Command::ExportDataset`]): `stage` is
    /// "Filtering" (reading every row) or "Writing".
    ExportProgress {
        generation: u64,
        stage: &'static str,
        done: u64,
        total: u64,
    },
    /// The files an export wrote and their row counts.
    ExportDone {
        generation: u64,
        files: Vec<(PathBuf, u64)>,
    },
    /// Why an export failed (or that it was stopped), in a sentence.
    ExportFailed { generation: u64, error: String },
    /// A picture for a larger view ([`Command::Enlarge`]), at most 1024
    /// pixels a side, or why it could not be shown.
    Enlarged {
        id: u64,
        picture: Result<Thumbnail, String>,
    },
    /// A run has its split and columns ([`Command::Evaluate`]) and will
    /// run `total` rows.
    EvalStarted {
        generation: u64,
        split: String,
        mapping: crate::evaluate::Mapping,
        total: u64,
        /// The model starting, and which of how many it is.
        model: String,
        index: usize,
        of: usize,
    },
    /// One row done.
    EvalRow {
        generation: u64,
        row: crate::evaluate::RowResult,
        total: u64,
    },
    /// A model's run is done (or stopped): its record, and why it could
    /// not be kept, if so; `last` when no other model follows.
    EvalDone {
        generation: u64,
        record: Box<crate::evaluate::record::RunRecord>,
        kept: Option<String>,
        last: bool,
    },
    /// A split's name, columns and the mapping they suggest (or why not).
    EvalColumns {
        generation: u64,
        answer: Result<evaluate::SplitColumns, String>,
    },
    /// Every model's measurement as now kept; `repo`: the one just
    /// measured (or that could not be, and why).
    Measured {
        repo: Option<(String, Result<(), String>)>,
        all: std::collections::BTreeMap<String, crate::evaluate::measured::Measured>,
    },
    /// Kept runs side by side, or why they cannot be.
    RunsCompared {
        generation: u64,
        result: Result<Box<crate::evaluate::compare::Comparison>, String>,
    },
    /// A model's output for a demo's comparison (or why there is none).
    CompareOutput {
        panel: crate::catalog::Panel,
        generation: u64,
        index: usize,
        result: Result<compare::CompareOutput, String>,
    },
    /// Every model of the comparison has answered.
    CompareDone {
        panel: crate::catalog::Panel,
        generation: u64,
    },
    /// The kept runs, newest first, and what could not be read.
    RunHistory {
        runs: Vec<crate::evaluate::record::RunRecord>,
        problems: Vec<String>,
    },
    /// Why the run could not go on, in a sentence.
    EvalFailed { generation: u64, error: String },
    /// A sound started ([`Command::Play`]): its length.
    Playing { id: u64, seconds: f64 },
    /// Where a sound playing is (seconds from its start), a few times a
    /// second: word highlighting follows it.
    PlayPosition { id: u64, seconds: f64 },
    /// A sound ended, was stopped, or could not play (`error`).
    PlayEnded { id: u64, error: Option<String> },
    /// A page of search results ([`Command::Search`], or appended for
    /// [`Command::LoadMore`]).
    SearchResults {
        generation: u64,
        page: SearchPage,
        append: bool,
    },
    /// A search failed; `offline` when the Hub could not be reached.
    SearchFailed {
        generation: u64,
        error: String,
        offline: bool,
    },
    /// A model's details ([`Command::Details`]).
    Details(Box<ModelDetails>),
    /// Details could not be had; `offline` when the Hub could not be
    /// reached and the cache had no copy.
    DetailsFailed {
        repo: String,
        error: String,
        offline: bool,
    },
    /// A download's progress, at most ten times a second.
    DownloadProgress(DownloadProgress),
    /// A download finished and is verified.
    DownloadDone(Snapshot),
    /// A download stopped: failed, or `cancelled` on purpose.
    DownloadFailed {
        repo: String,
        error: String,
        cancelled: bool,
    },
    /// What the cache holds ([`Command::ScanCache`], and after each
    /// download or deletion).
    Cache(Vec<CachedModel>),
    /// The cache could not be read.
    CacheFailed(String),
    /// The datasets in the cache (after each [`Event::Cache`]).
    CachedDatasets(Vec<crate::hub::cache::CachedDataset>),
    /// A model was deleted ([`Command::Delete`]).
    Deleted { repo: String, freed_bytes: u64 },
    /// A model could not be deleted.
    DeleteFailed { repo: String, error: String },
    /// The token file was written (`masked` is `None` when removed).
    TokenSaved { masked: Option<String> },
    /// The token file could not be written.
    TokenFailed(String),
    /// The UI sent more commands than the queue holds, or no thread could
    /// be started for a job.
    Busy,
    /// A translation model is being loaded (the first job for it).
    TranslationLoading { generation: u64, model: PathBuf },
    /// The translation so far (the last step's, when pivoting).
    TranslationPartial { generation: u64, text: String },
    /// The whole translation, and the device that made it.
    TranslationDone {
        generation: u64,
        text: String,
        device: String,
    },
    /// A translation failed (a cancelled one sends nothing).
    TranslationFailed { generation: u64, error: String },
    /// The Whisper model is being loaded (transcription or dictation).
    TranscriptionLoading { generation: u64 },
    /// A transcription's next segment; `progress` from 0 to 1.
    TranscriptionSegment {
        generation: u64,
        segment: Segment,
        progress: f32,
    },
    /// A transcription finished; `note` when the file was damaged and only
    /// its readable part was transcribed.
    TranscriptionDone {
        generation: u64,
        transcript: Transcript,
        note: Option<String>,
    },
    /// A transcription failed (a cancelled one sends nothing).
    TranscriptionFailed { generation: u64, error: String },
    /// A dictation's model is loaded and the microphone open: words will
    /// show as they are said.
    /// `learned_vad`: pauses are told by the learned voice-activity
    /// detector (else by loudness: its model is not downloaded).
    LiveReady { generation: u64, learned_vad: bool },
    /// While dictating: the peak level (dBFS), seconds so far, lost samples.
    RecordingLevel {
        generation: u64,
        dbfs: f32,
        seconds: f32,
        overflow: u64,
    },
    /// Dictation: the utterance being spoken, so far.
    LivePartial { generation: u64, text: String },
    /// Dictation: an utterance is final (times from the recording start).
    LiveFinal {
        generation: u64,
        segments: Vec<Segment>,
        /// Seconds from the end of the speech to this text.
        latency: f64,
    },
    /// Live captions: the translation of the dictation's final segment
    /// `index` (counted from 0 over the dictation), `latency` seconds
    /// after its transcript.
    LiveTranslated {
        generation: u64,
        index: usize,
        text: String,
        latency: f64,
    },
    /// Live captions: the utterance being spoken so far, translated.
    LivePartialTranslated { generation: u64, text: String },
    /// Live captions: why the lines cannot be translated, in words.
    LiveTranslateFailed { generation: u64, error: String },
    /// A dictation ended — stopped, or failed — and everything said is
    /// final: its language; `error` when the microphone or the model could
    /// not be used (what was said before stays); `note` when the
    /// microphone stopped on its own or samples were lost.
    DictationDone {
        generation: u64,
        language: String,
        error: Option<String>,
        note: Option<String>,
    },
    /// The microphones, the default first ([`Command::ListInputDevices`]).
    InputDevices(Vec<String>),
    /// The compute devices offered, and why a built-in GPU back end is
    /// not ([`Command::ListComputeDevices`]).
    ComputeDevices {
        offered: Vec<crate::tasks::device::Offered>,
        notes: Vec<String>,
    },
    /// A model job is running on `device` ("CUDA GPU 0 (NVIDIA H200)");
    /// `note` says, in one sentence, why it is not the device asked for.
    ComputeDevice {
        device: String,
        note: Option<String>,
    },
    /// The captioning model is being loaded.
    CaptionLoading { generation: u64 },
    /// The pictures of a caption job (a dropped folder expanded), before
    /// any is captioned.
    CaptionQueued {
        generation: u64,
        paths: Vec<PathBuf>,
    },
    /// One picture done: its caption, or why it has none, and a preview.
    CaptionItem {
        generation: u64,
        index: usize,
        result: Result<Caption, String>,
        thumbnail: Option<Thumbnail>,
    },
    /// A caption job ended: all done, stopped, or `error` when the model
    /// could not be used.
    CaptionFinished {
        generation: u64,
        error: Option<String>,
    },
    /// The languages a Whisper model knows ([`Command::ModelLanguages`]).
    ModelLanguages {
        dir: PathBuf,
        languages: Vec<String>,
    },
    /// No file dialog could be shown (why, and what to do instead).
    DialogFailed { error: String },
    /// Files chosen in an open dialog (empty when it was cancelled).
    FilesChosen {
        purpose: DialogPurpose,
        paths: Vec<PathBuf>,
    },
    /// A file was written ([`Command::SaveText`], a save dialog).
    Saved { path: PathBuf },
    /// Several files were written ([`Command::SaveTexts`]): how many, and
    /// the folder of the first.
    SavedMany { count: usize, folder: PathBuf },
    /// A file could not be written.
    SaveFailed { path: PathBuf, error: String },
}

/// The one job of a kind that runs at a time (an export, an evaluation,
/// a comparison): starting one stops the one before.
#[derive(Default)]
pub(crate) struct Solo {
    running: Option<CancelToken>,
}

impl Solo {
    /// Runs `f` on a thread named `name` with a fresh cancel token.
    pub(crate) fn start(
        &mut self,
        name: &str,
        sink: &Sink,
        f: impl FnOnce(CancelToken) + Send + 'static,
    ) {
        self.stop();
        let cancel = CancelToken::new();
        self.running = Some(cancel.clone());
        job(name, sink, move || f(cancel));
    }

    pub(crate) fn stop(&mut self) {
        if let Some(c) = self.running.take() {
            c.cancel();
        }
    }
}

/// Called after every event so the UI repaints.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Sends events and wakes the UI.
#[derive(Clone)]
pub(crate) struct Sink {
    tx: SyncSender<Event>,
    wake: Waker,
}

impl Sink {
    /// Tells the UI which device a model job runs on (and why it is not
    /// the one asked for, if it is not).
    pub(crate) fn device_used(&self, selected: &crate::tasks::device::Selected) {
        self.send(Event::ComputeDevice {
            device: selected.describe(),
            note: selected.fallback_note.clone(),
        });
    }

    /// Returns false once the UI has gone away.
    pub(crate) fn send(&self, e: Event) -> bool {
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

/// The dispatcher: routes each command to its family, which starts the
/// job on its own thread and returns at once.
fn dispatch(config: HubConfig, rx: Receiver<Command>, sink: Sink) {
    let mut hub = hub::HubJobs::new(config);
    let mut translate = ModelThread::new("spaceport-translate");
    let mut caption = ModelThread::new("spaceport-caption");
    // The Whisper model, shared by file transcription and dictation.
    let whisper = transcribe::WhisperCache::default();
    let mut transcribe = ModelThread::new("spaceport-transcribe");
    let mut dictation = dictation::Dictations::default();
    let mut datasets = ModelThread::new("spaceport-datasets");
    let mut player = playback::Player::default();
    let mut exports = Solo::default();
    let mut evaluations = Solo::default();
    let mut comparisons = Solo::default();
    while let Ok(cmd) = rx.recv() {
        match cmd {
            Command::Configure(cfg) => hub.configure(cfg),
            Command::Search { generation, query } => hub.search(generation, query, &sink),
            Command::LoadMore { generation, url } => hub.load_more(generation, url, &sink),
            Command::Details { repo, revision } => hub.details(repo, revision, &sink),
            Command::Download { repo, revision } => hub.download(repo, revision, &sink),
            Command::DownloadFiles {
                repo,
                revision,
                files,
            } => hub.download_files(repo, revision, files, &sink),
            Command::CancelDownload { repo } => hub.cancel_download(&repo),
            Command::ScanCache => hub.scan(&sink),
            Command::Delete { repo } => hub.delete(repo, &sink),
            Command::SaveToken(t) => hub.save_token(t, &sink),
            Command::Translate(job) => translate::submit(&mut translate, job, &sink),
            Command::CancelTranslation => translate.cancel(),
            Command::Transcribe(job) => transcribe::submit(&mut transcribe, job, &whisper, &sink),
            Command::CancelTranscription => transcribe.cancel(),
            Command::Dictate(job) => dictation.start(job, &whisper, &sink),
            Command::StopDictation => dictation.stop(),
            Command::Caption(job) => caption::submit(&mut caption, job, &sink),
            Command::CancelCaption => caption.cancel(),
            Command::ListInputDevices => files::list_input_devices(&sink),
            Command::ListComputeDevices => files::list_compute_devices(&sink),
            Command::ModelLanguages { dir } => files::model_languages(dir, &sink),
            Command::Dialog { purpose, dialog } => files::await_dialog(purpose, dialog, &sink),
            Command::SaveText { path, text } => files::save_text(path, text, &sink),
            Command::SaveTexts { files } => files::save_texts(files, &sink),
            Command::SearchDatasets { generation, query } => {
                datasets::search(hub.hub(), generation, Some(query), None, &sink)
            }
            Command::MoreDatasets { generation, url } => {
                datasets::search(hub.hub(), generation, None, Some(url), &sink)
            }
            Command::DatasetPage(mut job) => {
                job.hub = Some(hub.hub());
                datasets::submit(&mut datasets, job, &sink)
            }
            Command::DownloadDataset {
                repo,
                config,
                split,
            } => hub.download_dataset(repo, config, split, &sink),
            Command::ExportDataset(mut job) => {
                job.hub = Some(hub.hub());
                datasets::start_export(&mut exports, job, &sink)
            }
            Command::CancelExport => exports.stop(),
            Command::Play { id, bytes, name } => player.play(id, bytes, name, &sink),
            Command::PlayFile { id, path } => player.play_file(id, path, &sink),
            Command::StopPlaying => player.stop(),
            Command::Evaluate(mut job) => {
                job.hub = Some(hub.hub());
                evaluate::start(&mut evaluations, job, &sink)
            }
            Command::StopEvaluation => evaluations.stop(),
            Command::EvalColumns {
                generation,
                dataset,
                split,
            } => evaluate::columns(hub.hub(), generation, dataset, split, &sink),
            Command::RunHistory { data_dir, delete } => evaluate::history(data_dir, delete, &sink),
            Command::Measure {
                repo,
                dir,
                panel,
                device,
                compute,
                data_dir,
            } => evaluate::measure(repo, dir, panel, device, compute, data_dir, &sink),
            Command::LoadMeasured { data_dir } => evaluate::load_measured(data_dir, &sink),
            Command::Compare(job) => compare::start(&mut comparisons, job, &sink),
            Command::CompareRuns { generation, runs } => {
                evaluate::compare_runs(generation, runs, &sink)
            }
            Command::StopCompare => comparisons.stop(),
            Command::Enlarge { id, bytes, name } => files::enlarge(id, bytes, name, &sink),
        }
    }
    player.stop();
    exports.stop();
    evaluations.stop();
    comparisons.stop();
    // The UI has gone: stop every download so partial files are flushed,
    // and any dictation so the microphone is released.
    hub.cancel_all();
    dictation.stop();
}

/// A long-lived named thread that keeps a loaded model and serves jobs
/// (translation, transcription, captions): a new job cancels the running
/// one; the thread starts with the first job.
pub(crate) struct ModelThread<J> {
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

/// Runs `f` on a new named thread; says so if none can be started.
fn job(name: &str, sink: &Sink, f: impl FnOnce() + Send + 'static) {
    if spawn_named(name, f).is_err() {
        sink.send(Event::Busy);
    }
}
