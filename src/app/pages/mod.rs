//! Pages that own their state. Each page is one struct with its state and
//! the [`View`] trait: `ui(&mut self, ui, cx)` draws it and turns clicks
//! into commands, `on_event` takes the worker events that are its own (as
//! egui_demo_lib's `View`/`Demo`). [`Cx`] is what every page shares and
//! the app owns: sending a command, the cache as last scanned, the
//! downloads running, the settings, the file-dialog chooser, notices, and
//! [`Intent`]s for what only the app can do (show another page, hand text
//! to the Translate page). A new page is a file here, a [`super::Page`]
//! variant, and a line in the app's page list.

pub mod caption;
pub mod datasets;
pub mod demo;
pub mod evaluate;
pub mod help;
pub mod hub;
pub mod library;
pub mod settings;
pub mod transcribe;
pub mod translate;
pub mod welcome;

use std::collections::BTreeMap;

use super::dialogs::{Chooser, DialogRequest};
use super::{DownloadState, Notice, Page};
use crate::format::format_bytes;
use crate::hub::cache::CachedModel;
use crate::hub::{DownloadProgress, HubConfig};
use crate::settings::Settings;
use crate::workers::{Command, DialogPurpose, Event, Workers};

/// A page: its drawing and the worker events it owns.
pub trait View {
    /// Draws the page; what it needs beyond its own state is in `cx`.
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx);

    /// Applies `event` if it is this page's, or gives it back for the
    /// next page. Runs before frames and while the window is hidden;
    /// never draws, never blocks.
    fn on_event(&mut self, event: Event, _cx: &mut Cx) -> Option<Event> {
        Some(event)
    }
}

/// What a page asks of the app, done after the page has drawn (or taken
/// its event).
#[derive(Debug, PartialEq)]
pub enum Intent {
    /// Show this page.
    Open(Page),
    /// Show this demo with this model chosen (and, for a translation
    /// model, its language pair).
    OpenModel {
        panel: crate::catalog::Panel,
        repo: String,
    },
    /// Show the Hub page's details of this model.
    OpenDetails(String),
    /// Show this dataset (a Hub id or a path) on the Datasets page.
    OpenDataset(String),
    /// Put this text in the Translate page, spoken in `from`, and show it.
    Translate { text: String, from: String },
    /// Try a dataset row in its demo, its reference shown beside.
    TryRow(TryRow),
    /// Show this demo with its first example running.
    TryExample(crate::catalog::Panel),
}

/// A dataset row on its way to a demo.
#[derive(Debug, PartialEq)]
pub enum TryRow {
    /// A picture (its encoded bytes) to caption.
    Caption {
        name: String,
        bytes: std::sync::Arc<Vec<u8>>,
        reference: Option<String>,
    },
    /// A sound (its encoded bytes) to transcribe.
    Transcribe {
        name: String,
        bytes: std::sync::Arc<Vec<u8>>,
        reference: Option<String>,
    },
    /// One side of a translation pair, into the other.
    Translate {
        text: String,
        from: String,
        to: String,
        reference: String,
    },
}

/// The cache as last scanned.
#[derive(Debug, Default)]
pub enum LibraryState {
    #[default]
    Scanning,
    Ready(Vec<CachedModel>),
    Failed(String),
}

impl LibraryState {
    /// The cached models from the last scan (empty while scanning).
    pub fn models(&self) -> &[CachedModel] {
        match self {
            Self::Ready(m) => m,
            _ => &[],
        }
    }
}

/// What every page shares: owned by the app, lent to the page it draws.
pub struct Cx {
    pub(super) workers: Workers,
    pub notices: Vec<Notice>,
    /// The cache as last scanned.
    pub library: LibraryState,
    /// The datasets in the cache, as last scanned.
    pub cached_datasets: Vec<crate::hub::cache::CachedDataset>,
    /// Every download this session, by repo.
    pub downloads: BTreeMap<String, DownloadState>,
    pub settings: Settings,
    /// Where the Hub and cache are (offline mode and token included).
    pub config: HubConfig,
    /// Whether the environment forces offline mode (`HF_HUB_OFFLINE`).
    pub env_offline: bool,
    /// The last answer from the Hub said it cannot be reached.
    pub unreachable: Option<String>,
    /// Who answers the file dialogs: the desktop's (rfd), or a test's
    /// stand-in.
    pub chooser: Chooser,
    /// What the pages asked of the app since it last looked.
    pub intents: Vec<Intent>,
    /// The app's data folder (kept evaluation runs).
    pub data_dir: std::path::PathBuf,
    /// Each model's measured speed here (none until read from the data
    /// folder), and the models being measured.
    pub measured: Option<BTreeMap<String, crate::evaluate::measured::Measured>>,
    pub measuring: std::collections::BTreeSet<String>,
    /// The compute devices this build and machine offer, once listed, and
    /// why a built-in GPU back end is not offered.
    pub compute_devices: Option<(Vec<crate::tasks::device::Offered>, Vec<String>)>,
    /// The device the latest model job ran on ("CPU", "CUDA GPU 0
    /// (NVIDIA H200)"), shown beside the pages' progress.
    pub compute: Option<String>,
    /// A keyboard shortcut pressed this frame, for the page's button that
    /// has it ([`crate::app::widgets::shortcut_button`]).
    pub shortcut: Option<Shortcut>,
    /// The last thing that went wrong this session, in words (Help's
    /// "Report a problem").
    pub last_error: Option<String>,
    /// Text pasted (Ctrl+V) this frame while no text field had the
    /// keyboard, for the page to take.
    pub pasted: Option<String>,
    /// Models' download sizes as the Hub gave them this session (bytes),
    /// in place of the catalog's approximate ones.
    pub hub_sizes: BTreeMap<String, u64>,
    /// The page was just shown: its main field takes the keyboard.
    pub page_opened: bool,
    /// The last sound played's id ([`Command::Play`]): one count for all
    /// pages, so each knows its own sound's events.
    pub play_ids: u64,
}

/// The page actions with keyboard shortcuts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortcut {
    /// Ctrl+Enter: the page's main action (Translate, Caption, Transcribe,
    /// Run).
    Run,
    /// Esc: stop what is running.
    Stop,
    /// Ctrl+O: open files.
    Open,
    /// Ctrl+C while no text field has the keyboard: copy the result.
    Copy,
}

impl Shortcut {
    pub const ALL: [Shortcut; 4] = [
        Shortcut::Run,
        Shortcut::Stop,
        Shortcut::Open,
        Shortcut::Copy,
    ];

    pub fn keys(self) -> egui::KeyboardShortcut {
        use egui::{Key, KeyboardShortcut, Modifiers};
        match self {
            Self::Run => KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter),
            Self::Stop => KeyboardShortcut::new(Modifiers::NONE, Key::Escape),
            Self::Open => KeyboardShortcut::new(Modifiers::COMMAND, Key::O),
            Self::Copy => KeyboardShortcut::new(Modifiers::COMMAND, Key::C),
        }
    }
}

impl Cx {
    /// A new id for a sound to play (every page's play events carry it).
    pub fn next_play_id(&mut self) -> u64 {
        self.play_ids += 1;
        self.play_ids
    }

    /// Whether `shortcut` was pressed this frame (taking it: one button
    /// acts on it).
    pub fn take_shortcut(&mut self, shortcut: Shortcut) -> bool {
        if self.shortcut == Some(shortcut) {
            self.shortcut = None;
            true
        } else {
            false
        }
    }

    /// "on the CUDA GPU 0 (NVIDIA H200)" for a page's progress line, once
    /// a model job has said where it runs (else empty).
    pub fn on_device(&self) -> String {
        self.compute
            .as_ref()
            .map(|d| format!("on the {d}"))
            .unwrap_or_default()
    }

    /// Queues a command without waiting; a full queue is said, not
    /// swallowed.
    pub fn send(&mut self, cmd: Command) {
        if !self.workers.send(cmd) {
            self.notify_error("Spaceport is busy; try again in a moment.".into());
        }
    }

    pub fn notify(&mut self, text: String) {
        self.notices.push(Notice::new(text, false));
    }

    /// Adds an error notice unless the same one is showing.
    pub fn notify_error(&mut self, text: String) {
        self.last_error = Some(text.clone());
        if !self.notices.iter().any(|n| n.text == text) {
            self.notices.push(Notice::new(text, true));
        }
    }

    /// A model's download size in words: the Hub's when known, else the
    /// catalog's approximate one.
    pub fn size_words(&self, repo: &str, approx_mb: u64) -> String {
        match self.hub_sizes.get(repo) {
            Some(&b) => format_bytes(b),
            None => format!("about {}", format_bytes(approx_mb * 1_000_000)),
        }
    }

    /// Whether the page was just shown (once: the field that asks takes
    /// the keyboard).
    pub fn take_page_opened(&mut self) -> bool {
        std::mem::take(&mut self.page_opened)
    }

    /// Whether the Hub must not be asked (offline mode).
    pub fn offline(&self) -> bool {
        self.config.offline
    }

    /// The cached models from the last scan (empty while scanning).
    pub fn cached(&self) -> &[CachedModel] {
        self.library.models()
    }

    /// Whether `repo` is downloaded and runs here.
    pub fn is_cached(&self, repo: &str) -> bool {
        self.cached()
            .iter()
            .any(|m| m.repo == repo && m.verdict.runs_here())
    }

    /// Opens a file dialog for `purpose`; what it yields is handled on a
    /// worker ([`Command::Dialog`]) and comes back as
    /// [`Event::FilesChosen`] to the page that asked.
    pub fn open_dialog(&mut self, request: DialogRequest, purpose: DialogPurpose) {
        let dialog = (self.chooser)(&request);
        self.send(Command::Dialog { purpose, dialog });
    }

    pub fn start_download(&mut self, repo: String) {
        self.downloads.insert(
            repo.clone(),
            DownloadState::Running(DownloadProgress {
                repo: repo.clone(),
                ..Default::default()
            }),
        );
        self.send(Command::Download {
            repo,
            revision: "main".into(),
        });
    }

    /// Downloads the Silero voice-activity model (one file of a
    /// repository that is not a demo's model).
    pub fn start_vad_download(&mut self) {
        use crate::tasks::transcribe::silero::{HUB_FILE, HUB_REPO};
        self.downloads.insert(
            HUB_REPO.to_string(),
            DownloadState::Running(DownloadProgress {
                repo: HUB_REPO.to_string(),
                ..Default::default()
            }),
        );
        self.send(Command::DownloadFiles {
            repo: HUB_REPO.to_string(),
            revision: "main".into(),
            files: vec![HUB_FILE.to_string()],
        });
    }

    pub fn cancel_download(&mut self, repo: &str) {
        if let Some(DownloadState::Running(p)) = self.downloads.get(repo).cloned() {
            self.downloads
                .insert(repo.to_string(), DownloadState::Cancelling(p));
        }
        self.send(Command::CancelDownload {
            repo: repo.to_string(),
        });
    }

    /// Tells the workers the configuration changed (offline mode, token).
    pub fn reconfigure(&mut self) {
        self.config.offline = self.env_offline || self.settings.offline;
        self.unreachable = None;
        // What went wrong under the old settings says nothing now.
        self.notices.retain(|n| !n.is_error);
        self.send(Command::Configure(self.config.clone()));
    }

    /// What `repo` was measured to do here, in words (the measurements
    /// are read from the data folder the first time one is asked for).
    pub fn measured_words(&mut self, repo: &str) -> Option<String> {
        match &self.measured {
            None => {
                self.measured = Some(BTreeMap::new());
                let data_dir = self.data_dir.clone();
                self.send(Command::LoadMeasured { data_dir });
                None
            }
            Some(all) => all.get(repo).map(|m| m.words()),
        }
    }

    /// Starts a ten-second speed measurement of a downloaded model.
    pub fn measure(&mut self, repo: &str, dir: std::path::PathBuf, panel: crate::catalog::Panel) {
        self.measuring.insert(repo.to_string());
        self.send(Command::Measure {
            repo: repo.to_string(),
            dir,
            panel,
            device: self.settings.device,
            compute: self.settings.compute,
            data_dir: self.data_dir.clone(),
        });
    }

    /// Applies the events that belong to no one page: downloads, the
    /// cache, deletions, saved files, a worker that could not start.
    pub fn on_event(&mut self, event: Event) {
        match event {
            Event::ComputeDevices { offered, notes } => {
                self.compute_devices = Some((offered, notes));
            }
            Event::ComputeDevice { device, note } => {
                self.compute = Some(device);
                if let Some(note) = note {
                    self.notify_error(note);
                }
            }
            Event::Measured { repo, all } => {
                self.measured = Some(all);
                if let Some((repo, result)) = repo {
                    self.measuring.remove(&repo);
                    if let Err(e) = result {
                        self.notify_error(e);
                    }
                }
            }
            Event::DownloadProgress(p) => {
                // This connection's speed, once a download has moved
                // enough to say.
                if p.bytes >= 4_000_000 && p.rate_bps > 0.0 {
                    self.settings.download_rate_bps = Some(p.rate_bps);
                }
                let cancelling = matches!(
                    self.downloads.get(&p.repo),
                    Some(DownloadState::Cancelling(_))
                );
                let state = if cancelling {
                    DownloadState::Cancelling(p.clone())
                } else {
                    DownloadState::Running(p.clone())
                };
                self.downloads.insert(p.repo, state);
            }
            Event::DownloadDone(s) => {
                self.notify(format!("{} is downloaded and ready offline.", s.repo));
                self.downloads
                    .insert(s.repo, DownloadState::Done { commit: s.commit });
            }
            Event::DownloadFailed {
                repo,
                error,
                cancelled,
            } => {
                if cancelled {
                    self.downloads.insert(repo, DownloadState::Cancelled);
                } else {
                    self.notify_error(format!("Download of {repo} failed: {error}"));
                    self.downloads.insert(repo, DownloadState::Failed(error));
                }
            }
            Event::Cache(models) => self.library = LibraryState::Ready(models),
            Event::CacheFailed(e) => self.library = LibraryState::Failed(e),
            Event::CachedDatasets(d) => self.cached_datasets = d,
            Event::Deleted { repo, freed_bytes } => {
                self.downloads.remove(&repo);
                self.notify(format!(
                    "Deleted {repo} and freed {}.",
                    format_bytes(freed_bytes)
                ));
            }
            Event::DeleteFailed { repo, error } => {
                self.notify_error(format!("Could not delete {repo}: {error}"));
            }
            Event::DialogFailed { error } => self.notify_error(error),
            Event::Saved { path } => self.notify(format!("Saved {}.", path.display())),
            Event::SavedMany { count, folder } => self.notify(format!(
                "Wrote {} in {}.",
                crate::format::count(count as u64, "file", "files"),
                folder.display()
            )),
            Event::SaveFailed { path, error } => {
                self.notify_error(format!("Could not save {}: {error}", path.display()));
            }
            Event::Busy => self.notify_error(
                "Spaceport could not start a worker; close some downloads and try again.".into(),
            ),
            // The pages' own, asked first (`App::apply`); one that comes
            // here was not taken (a stale answer) and changes nothing.
            Event::SearchResults { .. }
            | Event::SearchFailed { .. }
            | Event::Details(_)
            | Event::DetailsFailed { .. }
            | Event::TokenSaved { .. }
            | Event::TokenFailed(_)
            | Event::TranslationLoading { .. }
            | Event::TranslationPartial { .. }
            | Event::TranslationDone { .. }
            | Event::TranslationFailed { .. }
            | Event::TranscriptionLoading { .. }
            | Event::TranscriptionSegment { .. }
            | Event::TranscriptionDone { .. }
            | Event::TranscriptionFailed { .. }
            | Event::LiveReady { .. }
            | Event::RecordingLevel { .. }
            | Event::LivePartial { .. }
            | Event::LiveFinal { .. }
            | Event::LiveTranslated { .. }
            | Event::LivePartialTranslated { .. }
            | Event::LiveTranslateFailed { .. }
            | Event::DictationDone { .. }
            | Event::InputDevices(_)
            | Event::ModelLanguages { .. }
            | Event::CaptionLoading { .. }
            | Event::CaptionQueued { .. }
            | Event::CaptionItem { .. }
            | Event::CaptionFinished { .. }
            | Event::FilesChosen { .. }
            | Event::DatasetResults { .. }
            | Event::DatasetSearchFailed { .. }
            | Event::DatasetOpened { .. }
            | Event::DatasetRows { .. }
            | Event::DatasetFailed { .. }
            | Event::ExportProgress { .. }
            | Event::ExportDone { .. }
            | Event::ExportFailed { .. }
            | Event::Playing { .. }
            | Event::PlayPosition { .. }
            | Event::Enlarged { .. }
            | Event::EvalStarted { .. }
            | Event::EvalRow { .. }
            | Event::EvalDone { .. }
            | Event::EvalFailed { .. }
            | Event::EvalColumns { .. }
            | Event::RunHistory { .. }
            | Event::CompareOutput { .. }
            | Event::RunsCompared { .. }
            | Event::CompareDone { .. }
            | Event::PlayEnded { .. } => {}
        }
    }
}
