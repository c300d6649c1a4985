//! The window (egui only). [`App`] holds plain state; [`logic`] drains
//! worker [`Event`]s into it (and runs even while the window is hidden);
//! [`ui`] draws it and turns clicks into [`Command`]s. Nothing here touches
//! the network or the disk: that is the workers' job.

pub mod dialogs;
pub mod logic;
pub mod pages;
pub mod ui;

pub use pages::translate::{TranslatePage, TranslateStatus};

use std::collections::BTreeMap;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::catalog::Panel;
use crate::hub::cache::CachedModel;
use crate::hub::{DownloadProgress, HubConfig, ModelDetails, ModelSummary, token};
use crate::settings::{STORAGE_KEY, Settings, Theme};
use crate::tasks::device::DeviceChoice;
use crate::workers::{Command, Event, Workers};

/// The pages of the sidebar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Page {
    Hub,
    Library,
    Demo(Panel),
    Settings,
}

impl Page {
    pub const ALL: [Page; 6] = [
        Page::Hub,
        Page::Library,
        Page::Demo(Panel::Translate),
        Page::Demo(Panel::Caption),
        Page::Demo(Panel::Transcribe),
        Page::Settings,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Page::Hub => "Hub",
            Page::Library => "Library",
            Page::Demo(p) => p.label(),
            Page::Settings => "Settings",
        }
    }
}

/// A search in flight or done.
#[derive(Debug, Default, PartialEq)]
pub enum SearchState {
    #[default]
    Idle,
    Searching,
    LoadingMore,
    Failed(String),
}

/// The details view.
#[derive(Debug, Default)]
pub enum DetailsState {
    #[default]
    Closed,
    Loading {
        repo: String,
    },
    Ready(Box<ModelDetails>),
    Failed {
        repo: String,
        error: String,
    },
}

/// One model's download, as the UI shows it.
#[derive(Debug, Clone)]
pub enum DownloadState {
    Running(DownloadProgress),
    /// Cancel was pressed; waiting for the worker to stop.
    Cancelling(DownloadProgress),
    Done {
        commit: String,
    },
    Failed(String),
    Cancelled,
}

/// The Hub page.
#[derive(Debug, Default)]
pub struct HubPage {
    pub query: String,
    /// Which search the current results belong to.
    pub generation: u64,
    pub search: SearchState,
    pub results: Vec<ModelSummary>,
    pub next: Option<String>,
    pub details: DetailsState,
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

/// The Transcribe page.
#[derive(Debug, Default)]
pub struct TranscribePage {
    pub path_input: String,
    /// The chosen model (repo id); the first downloaded one by default.
    pub model: Option<String>,
    pub generation: u64,
    pub status: TranscribeStatus,
    /// The file being (or last) transcribed, and its segments so far.
    pub file: Option<std::path::PathBuf>,
    pub segments: Vec<crate::tasks::transcribe::decode::Segment>,
    /// The finished transcript of `file`.
    pub transcript: Option<crate::tasks::transcribe::decode::Transcript>,
    /// Earlier transcripts of this session, newest last: a name, the
    /// audio file (none for a dictation) and the transcript.
    pub history: Vec<(
        String,
        Option<std::path::PathBuf>,
        crate::tasks::transcribe::decode::Transcript,
    )>,
    /// Files waiting their turn (several dropped or opened at once).
    /// (model, file) pairs.
    pub queue: std::collections::VecDeque<(std::path::PathBuf, std::path::PathBuf)>,
    /// Spoken language (`None`: detect) and task.
    pub language: Option<String>,
    pub task: crate::tasks::transcribe::decode::Task,
    /// The chosen model folder and the languages it knows (read on a
    /// worker; empty for an English-only model).
    pub languages: Option<(std::path::PathBuf, Vec<String>)>,
    /// The microphones (listed on a worker) and the chosen one (`None`:
    /// the system default).
    pub input_devices: Option<Vec<String>>,
    pub input_device: Option<String>,
    /// Live dictation: running, and the utterance being spoken so far.
    pub dictating: bool,
    pub partial: Option<String>,
    /// The model folder the page uses now, and the one whose languages
    /// were asked for.
    pub chosen_model: Option<std::path::PathBuf>,
    pub languages_asked: Option<std::path::PathBuf>,
    /// Dictations this session (names them).
    pub dictations: usize,
    pub note: Option<String>,
    /// While recording: level (dBFS), seconds, lost samples.
    pub recording: Option<(f32, f32, u64)>,
}

/// One picture on the Caption page.
pub struct CaptionRow {
    pub path: std::path::PathBuf,
    /// `None` while waiting; the caption or why there is none.
    pub result: Option<Result<crate::tasks::caption::Caption, String>>,
    /// The preview as it came from the worker, until the page uploads it.
    pub preview: Option<crate::tasks::caption::image::Thumbnail>,
    pub thumbnail: Option<egui::TextureHandle>,
}

/// The Caption page.
#[derive(Default)]
pub struct CaptionPage {
    /// The chosen model (repo id); the first downloaded one by default.
    pub model: Option<String>,
    pub chosen_model: Option<std::path::PathBuf>,
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
}

/// A message for the user, shown until dismissed.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
    /// When it was first drawn (egui time, seconds); info notices fade
    /// after [`NOTICE_SECS`], errors stay until dismissed.
    pub shown_at: Option<f64>,
}

impl Notice {
    pub fn new(text: String, is_error: bool) -> Self {
        Self {
            text,
            is_error,
            shown_at: None,
        }
    }
}

/// How long an info notice stays.
pub const NOTICE_SECS: f64 = 8.0;

/// The application: state, worker handle and event queue.
pub struct App {
    pub page: Page,
    pub settings: Settings,
    /// Where the Hub and cache are, as the environment and settings say.
    pub config: HubConfig,
    /// Whether the environment forces offline mode (`HF_HUB_OFFLINE`).
    pub env_offline: bool,
    /// The last answer from the Hub said it cannot be reached.
    pub unreachable: Option<String>,
    pub hub: HubPage,
    pub translate: TranslatePage,
    pub transcribe: TranscribePage,
    pub caption: CaptionPage,
    pub library: LibraryState,
    pub downloads: BTreeMap<String, DownloadState>,
    pub confirm_delete: Option<String>,
    pub notices: Vec<Notice>,
    pub token_input: String,
    pub token_masked: Option<String>,
    pub device_note: Option<String>,
    pub markdown: egui_commonmark::CommonMarkCache,
    /// Put the cursor in the search box on the first frame.
    pub focus_search: bool,
    /// Who answers the file dialogs: the desktop's (rfd), or a test's
    /// stand-in.
    pub chooser: dialogs::Chooser,
    workers: Workers,
    events: Receiver<Event>,
    first_frame_probe: bool,
    frames: u64,
}

/// When the process started, for the first-frame benchmark.
pub fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

impl App {
    /// Builds the app in eframe's creation context: settings from storage,
    /// theme applied, workers started, first cache scan queued.
    pub fn new(
        cc: &eframe::CreationContext<'_>,
        config: HubConfig,
        device: Option<DeviceChoice>,
    ) -> std::io::Result<Self> {
        let mut settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, STORAGE_KEY))
            .unwrap_or_default();
        if let Some(d) = device {
            settings.device = d;
        }
        Self::with_settings(&cc.egui_ctx, config, settings)
    }

    /// Builds the app with given settings (tests use this directly).
    pub fn with_settings(
        ctx: &egui::Context,
        config: HubConfig,
        settings: Settings,
    ) -> std::io::Result<Self> {
        let ctx2 = ctx.clone();
        let env_offline = config.offline;
        let mut effective = config.clone();
        effective.offline = env_offline || settings.offline;
        let (workers, events) =
            Workers::spawn(effective.clone(), Arc::new(move || ctx2.request_repaint()))?;
        let token_masked = config.token.as_ref().map(token::Token::masked);
        let mut app = Self {
            page: Page::Hub,
            hub: HubPage {
                ..Default::default()
            },
            translate: TranslatePage::default(),
            transcribe: TranscribePage::default(),
            caption: CaptionPage::default(),
            library: LibraryState::Scanning,
            downloads: BTreeMap::new(),
            confirm_delete: None,
            notices: Vec::new(),
            token_input: String::new(),
            token_masked,
            device_note: crate::tasks::device::build_note(settings.device),
            markdown: Default::default(),
            focus_search: true,
            chooser: dialogs::system(),
            unreachable: None,
            env_offline,
            config: effective,
            settings,
            workers,
            events,
            first_frame_probe: false,
            frames: 0,
        };
        app.apply_theme(ctx);
        app.send(Command::ScanCache);
        Ok(app)
    }

    /// Whether the app works from the cache only.
    pub fn offline(&self) -> bool {
        self.config.offline
    }

    /// Queues a command; a full queue is said, not swallowed.
    /// Opens a file dialog for `purpose`; what it yields is handled on a
    /// worker ([`Command::Dialog`]).
    pub fn open_dialog(
        &mut self,
        request: dialogs::DialogRequest,
        purpose: crate::workers::DialogPurpose,
    ) {
        let dialog = (self.chooser)(&request);
        self.send(Command::Dialog { purpose, dialog });
    }

    pub fn send(&mut self, cmd: Command) {
        pages::send(&self.workers, &mut self.notices, cmd);
    }

    pub fn notify(&mut self, text: String) {
        self.notices.push(Notice::new(text, false));
    }

    pub fn notify_error(&mut self, text: String) {
        pages::notify_error(&mut self.notices, text);
    }

    /// Draws a page that owns its state ([`pages`]) with a [`pages::Cx`]
    /// over the app's shared state, then does what it asked.
    fn page_ui(
        &mut self,
        ui: &mut egui::Ui,
        draw: impl FnOnce(&mut Self, &mut egui::Ui) -> Vec<pages::Intent>,
    ) {
        for intent in draw(self, ui) {
            match intent {
                pages::Intent::StartDownload(repo) => self.start_download(repo),
                pages::Intent::CancelDownload(repo) => self.cancel_download(&repo),
                pages::Intent::OpenDetails(repo) => self.open_details(repo),
            }
        }
    }

    /// The Translate page, drawn with its context.
    pub(crate) fn translate_page_ui(&mut self, ui: &mut egui::Ui) {
        self.page_ui(ui, |app, ui| {
            let offline = app.offline();
            let cached = app.library.models();
            let mut cx = pages::Cx {
                workers: &app.workers,
                notices: &mut app.notices,
                cached,
                downloads: &app.downloads,
                settings: &app.settings,
                offline,
                intents: Vec::new(),
            };
            app.translate.ui(ui, &mut cx);
            cx.intents
        });
    }

    pub fn apply_theme(&self, ctx: &egui::Context) {
        ctx.set_theme(match self.settings.theme {
            Theme::System => egui::ThemePreference::System,
            Theme::Light => egui::ThemePreference::Light,
            Theme::Dark => egui::ThemePreference::Dark,
        });
    }

    /// Applies a settings change that affects the workers (offline mode).
    pub fn reconfigure(&mut self) {
        self.config.offline = self.env_offline || self.settings.offline;
        self.unreachable = None;
        self.send(Command::Configure(self.config.clone()));
    }

    /// The cached models from the last scan (empty while scanning).
    pub fn cached(&self) -> &[CachedModel] {
        self.library.models()
    }

    pub fn is_cached(&self, repo: &str) -> bool {
        self.cached()
            .iter()
            .any(|m| m.repo == repo && m.verdict.runs_here())
    }

    /// Starts a new search with the current query and filters.
    pub fn start_search(&mut self) {
        self.hub.generation += 1;
        self.hub.search = SearchState::Searching;
        self.hub.details = DetailsState::Closed;
        let query = crate::hub::SearchQuery {
            text: self.hub.query.clone(),
            task: self.settings.search_task,
            sort: self.settings.search_sort,
            limit: 30,
        };
        self.send(Command::Search {
            generation: self.hub.generation,
            query,
        });
    }

    pub fn open_details(&mut self, repo: String) {
        self.hub.details = DetailsState::Loading { repo: repo.clone() };
        self.page = Page::Hub;
        self.send(Command::Details {
            repo,
            revision: "main".into(),
        });
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

    pub fn cancel_download(&mut self, repo: &str) {
        if let Some(DownloadState::Running(p)) = self.downloads.get(repo).cloned() {
            self.downloads
                .insert(repo.to_string(), DownloadState::Cancelling(p));
        }
        self.send(Command::CancelDownload {
            repo: repo.to_string(),
        });
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain_events();
        if self.first_frame_probe && self.frames == 1 {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.app_ui(ui);
        if self.first_frame_probe && self.frames == 0 {
            println!(
                "first frame after {:.0} ms",
                process_start().elapsed().as_secs_f64() * 1000.0
            );
            ui.ctx().request_repaint();
        }
        self.frames += 1;
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.settings);
    }
}

/// Opens the window and runs until it is closed.
pub fn run(config: HubConfig, device: DeviceChoice, first_frame_probe: bool) -> anyhow::Result<()> {
    process_start();
    let device = (device != DeviceChoice::Auto).then_some(device);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Spaceport")
            .with_app_id("spaceport")
            .with_inner_size([1120.0, 740.0])
            .with_min_inner_size([760.0, 480.0]),
        persist_window: !first_frame_probe,
        ..Default::default()
    };
    eframe::run_native(
        "Spaceport",
        options,
        Box::new(move |cc| {
            let mut app = App::new(cc, config, device)?;
            app.first_frame_probe = first_frame_probe;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}
