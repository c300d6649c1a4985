//! The window (egui only). [`App`] is the page shown, one struct per page
//! ([`pages`], each a [`View`] that owns its state) and the [`Cx`] they
//! share; `frame` draws the sidebar, banners and notices around the page;
//! `logic` hands worker [`Event`]s to the pages before every frame (and
//! while the window is hidden); [`widgets`] are the small drawing helpers
//! the pages share. Pages turn clicks into [`Command`]s and ask the app for
//! what crosses pages with [`Intent`]s. Nothing here touches the network or
//! the disk: that is the workers' job.

pub mod dialogs;
pub mod examples;
pub mod fonts;
mod frame;
mod logic;
pub mod pages;
pub mod widgets;

pub use pages::caption::{CaptionPage, CaptionRow};
pub use pages::datasets::DatasetsPage;
pub use pages::evaluate::EvaluatePage;
pub use pages::help::HelpPage;
pub use pages::hub::{DetailsState, HubPage, SearchState};
pub use pages::library::LibraryPage;
pub use pages::settings::SettingsPage;
pub use pages::transcribe::{TranscribePage, TranscribeStatus};
pub use pages::translate::{TranslatePage, TranslateStatus};
pub use pages::welcome::WelcomePage;
pub use pages::{Cx, Intent, LibraryState, TryRow, View};

use std::collections::BTreeMap;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::catalog::Panel;
use crate::hub::{DownloadProgress, HubConfig};
use crate::settings::{STORAGE_KEY, Settings};
use crate::tasks::device::DeviceChoice;
use crate::workers::{Command, Event, Workers};

/// What the window showed when it was closed, shown again at the next
/// start (eframe's storage, under [`SESSION_KEY`]; the window's size and
/// place are eframe's own): the page, the models chosen on each demo, the
/// language pair, and text typed but not yet run.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Session {
    pub page: Option<Page>,
    pub translate_input: String,
    pub translate_from: Option<String>,
    pub translate_to: Option<String>,
    pub translate_live: Option<bool>,
    pub caption_model: Option<String>,
    pub caption_path: String,
    pub transcribe_model: Option<String>,
    pub transcribe_path: String,
    pub evaluate_dataset: String,
}

/// The key under which eframe stores the [`Session`].
pub const SESSION_KEY: &str = "spaceport-session";

/// The pages of the sidebar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Page {
    Welcome,
    Hub,
    Datasets,
    Library,
    Demo(Panel),
    Evaluate,
    Settings,
    Help,
}

impl Page {
    /// The sidebar's pages, top to bottom (Ctrl+1… show the first nine;
    /// F1 shows Help).
    pub const ALL: [Page; 10] = [
        Page::Welcome,
        Page::Hub,
        Page::Datasets,
        Page::Library,
        Page::Demo(Panel::Translate),
        Page::Demo(Panel::Caption),
        Page::Demo(Panel::Transcribe),
        Page::Evaluate,
        Page::Settings,
        Page::Help,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Page::Welcome => "Welcome",
            Page::Hub => "Hub",
            Page::Datasets => "Datasets",
            Page::Library => "Library",
            Page::Demo(p) => p.label(),
            Page::Evaluate => "Evaluate",
            Page::Settings => "Settings",
            Page::Help => "Help",
        }
    }
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

/// The application: the page shown, the pages, what they share, and the
/// worker events waiting to be applied.
pub struct App {
    pub page: Page,
    pub welcome: WelcomePage,
    /// What every page shares (settings, cache, downloads, notices, the
    /// command sender).
    pub cx: Cx,
    pub hub: HubPage,
    pub datasets: DatasetsPage,
    pub library: LibraryPage,
    pub translate: TranslatePage,
    pub transcribe: TranscribePage,
    pub caption: CaptionPage,
    pub evaluate: EvaluatePage,
    pub settings: SettingsPage,
    pub help: HelpPage,
    /// Files given on the command line ("Open with Spaceport"), opened in
    /// their demos once the cache has been looked through.
    pub opening: Vec<std::path::PathBuf>,
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
        let session: Option<Session> = cc.storage.and_then(|s| eframe::get_value(s, SESSION_KEY));
        let mut app = Self::with_settings(&cc.egui_ctx, config, settings)?;
        fonts::start(&cc.egui_ctx);
        if let Some(session) = session {
            app.restore(session);
        }
        Ok(app)
    }

    /// What to keep of this window for the next start.
    pub fn session(&self) -> Session {
        Session {
            page: Some(self.page),
            translate_input: self.translate.input.clone(),
            translate_from: Some(self.translate.from.clone()),
            translate_to: Some(self.translate.to.clone()),
            translate_live: Some(self.translate.live),
            caption_model: self.caption.model.clone(),
            caption_path: self.caption.path_input.clone(),
            transcribe_model: self.transcribe.model.clone(),
            transcribe_path: self.transcribe.path_input.clone(),
            evaluate_dataset: self.evaluate.dataset.clone(),
        }
    }

    /// Shows a kept [`Session`] again. A model no longer downloaded is
    /// simply not found by its page, which then offers the first it has.
    pub fn restore(&mut self, s: Session) {
        if let Some(page) = s.page {
            self.open_page(page);
        }
        self.translate.input = s.translate_input;
        if let Some(from) = s.translate_from {
            self.translate.from = from;
        }
        if let Some(to) = s.translate_to {
            self.translate.to = to;
        }
        if let Some(live) = s.translate_live {
            self.translate.live = live;
        }
        self.caption.model = s.caption_model;
        self.caption.path_input = s.caption_path;
        self.transcribe.model = s.transcribe_model;
        self.transcribe.path_input = s.transcribe_path;
        self.evaluate.dataset = s.evaluate_dataset;
    }

    /// Builds the app with given settings (tests use this directly).
    pub fn with_settings(
        ctx: &egui::Context,
        config: HubConfig,
        settings: Settings,
    ) -> std::io::Result<Self> {
        let ctx2 = ctx.clone();
        let env_offline = config.offline;
        let mut effective = config;
        effective.offline = env_offline || settings.offline;
        let (workers, events) =
            Workers::spawn(effective.clone(), Arc::new(move || ctx2.request_repaint()))?;
        pages::settings::apply_theme(ctx, settings.theme);
        let mut cx = Cx {
            workers,
            notices: Vec::new(),
            library: LibraryState::Scanning,
            cached_datasets: Vec::new(),
            downloads: BTreeMap::new(),
            settings,
            config: effective,
            env_offline,
            unreachable: None,
            chooser: dialogs::system(),
            intents: Vec::new(),
            data_dir: crate::settings::data_dir(),
            measured: None,
            measuring: Default::default(),
            compute_devices: None,
            compute: None,
            shortcut: None,
            last_error: None,
            pasted: None,
            hub_sizes: BTreeMap::new(),
            page_opened: true,
            play_ids: 0,
        };
        cx.send(Command::ScanCache);
        cx.send(Command::ListComputeDevices);
        Ok(Self {
            page: Page::Welcome,
            welcome: WelcomePage::default(),
            hub: HubPage::default(),
            datasets: DatasetsPage::default(),
            library: LibraryPage::default(),
            translate: TranslatePage::default(),
            transcribe: TranscribePage::default(),
            caption: CaptionPage::default(),
            evaluate: EvaluatePage::default(),
            settings: SettingsPage::new(&cx),
            help: HelpPage,
            opening: Vec::new(),
            cx,
            events,
            first_frame_probe: false,
            frames: 0,
        })
    }

    /// Every page with the [`Page`] that shows it, and the shared
    /// context beside them (disjoint borrows of `self`).
    fn views(&mut self) -> ([(Page, &mut dyn View); 10], &mut Cx) {
        let Self {
            welcome,
            hub,
            datasets,
            library,
            translate,
            transcribe,
            caption,
            evaluate,
            settings,
            help,
            cx,
            ..
        } = self;
        (
            [
                // The Welcome page first: it looks at the cache scans
                // (and gives them on) to open a demo whose model landed.
                (Page::Welcome, welcome as &mut dyn View),
                (Page::Hub, hub),
                (Page::Datasets, datasets),
                (Page::Library, library),
                (Page::Demo(Panel::Translate), translate),
                (Page::Demo(Panel::Caption), caption),
                (Page::Demo(Panel::Transcribe), transcribe),
                (Page::Evaluate, evaluate),
                (Page::Settings, settings),
                (Page::Help, help),
            ],
            cx,
        )
    }

    /// Draws the page shown, then does what the pages asked.
    fn page_ui(&mut self, ui: &mut egui::Ui) {
        // Ctrl+1… shows a page; Ctrl+Enter, Esc and Ctrl+O go to the
        // shown page's button that has them, this frame only.
        let editing = ui.ctx().text_edit_focused();
        let (page, shortcut, pasted) = ui.input_mut(|i| {
            let page = Page::ALL
                .iter()
                .take(9)
                .enumerate()
                .find_map(|(n, page)| {
                    let key = egui::Key::from_name(&(n + 1).to_string())?;
                    i.consume_key(egui::Modifiers::COMMAND, key)
                        .then_some(*page)
                })
                .or_else(|| {
                    i.consume_key(egui::Modifiers::NONE, egui::Key::F1)
                        .then_some(Page::Help)
                });
            // Esc is only looked at, not taken: it also closes menus and
            // leaves text fields. Ctrl+C and Ctrl+V come as copy and paste
            // events, the page's own only while no text field has the
            // keyboard (a field copies and pastes by itself).
            let shortcut = pages::Shortcut::ALL.into_iter().find(|s| match s {
                pages::Shortcut::Stop => i.key_pressed(egui::Key::Escape),
                pages::Shortcut::Copy => {
                    !editing
                        && (i.events.iter().any(|e| matches!(e, egui::Event::Copy))
                            || i.consume_shortcut(&s.keys()))
                }
                _ => i.consume_shortcut(&s.keys()),
            });
            let pasted = i.events.iter().find_map(|e| match e {
                egui::Event::Paste(text) if !editing => Some(text.clone()),
                _ => None,
            });
            (page, shortcut, pasted)
        });
        self.cx.pasted = pasted;
        if let Some(page) = page {
            self.open_page(page);
        }
        self.cx.shortcut = shortcut;
        let shown = self.page;
        let (views, cx) = self.views();
        if let Some((_, view)) = views.into_iter().find(|(page, _)| *page == shown) {
            view.ui(ui, cx);
        }
        self.cx.shortcut = None;
        self.cx.pasted = None;
        // A page without a field to focus lets it go.
        self.cx.page_opened = false;
        let now = ui.input(|i| i.time);
        self.follow_intents(now);
    }

    /// Does what the pages asked: show a page, a model's details, text to
    /// translate.
    fn follow_intents(&mut self, now: f64) {
        for intent in std::mem::take(&mut self.cx.intents) {
            match intent {
                Intent::Open(page) => self.open_page(page),
                Intent::OpenModel { panel, repo } => self.open_model(panel, repo),
                Intent::OpenDetails(repo) => {
                    self.hub.open_details(repo, &mut self.cx);
                    self.page = Page::Hub;
                }
                Intent::Translate { text, from } => {
                    self.translate.take_text(text, from, now);
                    self.page = Page::Demo(Panel::Translate);
                }
                Intent::TryRow(row) => self.try_row(row, now),
                Intent::TryExample(panel) => self.try_example(panel),
                Intent::OpenDataset(name) => {
                    self.datasets.open(name, &mut self.cx);
                    self.page = Page::Datasets;
                }
            }
        }
    }

    /// Takes a dataset row to its demo and shows it.
    fn try_row(&mut self, row: pages::TryRow, now: f64) {
        match row {
            pages::TryRow::Caption {
                name,
                bytes,
                reference,
            } => {
                self.caption
                    .caption_row(name, bytes, reference, &mut self.cx);
                self.page = Page::Demo(Panel::Caption);
            }
            pages::TryRow::Transcribe {
                name,
                bytes,
                reference,
            } => {
                self.transcribe
                    .transcribe_row(name, bytes, reference, &mut self.cx);
                self.page = Page::Demo(Panel::Transcribe);
            }
            pages::TryRow::Translate {
                text,
                from,
                to,
                reference,
            } => {
                self.translate.take_row(text, from, to, reference, now);
                self.page = Page::Demo(Panel::Translate);
            }
        }
    }

    /// Opens the files given on the command line once the cache scan is
    /// in: pictures in Caption, recordings in Transcribe (with the first
    /// downloaded model; without one the page offers the download and the
    /// path waits in its field); anything else is said.
    pub fn open_files(&mut self) {
        if self.opening.is_empty() || !matches!(self.cx.library, LibraryState::Ready(_)) {
            return;
        }
        let ext = |p: &std::path::Path| {
            p.extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .unwrap_or_default()
        };
        let (mut pictures, mut sounds) = (Vec::new(), Vec::new());
        for f in std::mem::take(&mut self.opening) {
            let e = ext(&f);
            if crate::tasks::caption::image::PICTURE_EXTENSIONS.contains(&e.as_str()) {
                pictures.push(f);
            } else if crate::audio::decode::AUDIO_EXTENSIONS.contains(&e.as_str()) {
                sounds.push(f);
            } else {
                self.cx.notify_error(format!(
                    "{} is not a picture or a recording; Spaceport opens pictures in Caption and recordings in Transcribe.",
                    f.display()
                ));
            }
        }
        let first_model = |cx: &Cx, panel| {
            pages::demo::downloaded_for(cx.cached(), panel)
                .first()
                .map(|(_, d)| d.clone())
        };
        if let Some(first) = pictures.first() {
            self.caption.path_input = first.display().to_string();
            if let Some(m) = first_model(&self.cx, Panel::Caption) {
                self.caption.start_captions(m, pictures, &mut self.cx);
            }
            self.page = Page::Demo(Panel::Caption);
        }
        if let Some(first) = sounds.first() {
            self.transcribe.path_input = first.display().to_string();
            if let Some(m) = first_model(&self.cx, Panel::Transcribe) {
                self.transcribe.transcribe_files(m, sounds, &mut self.cx);
            }
            self.page = Page::Demo(Panel::Transcribe);
        }
    }

    /// Shows `panel` running its first example (the Welcome page's cards):
    /// the first sentence in a language a downloaded model translates, the
    /// first picture, the English recording (or the first one the chosen
    /// model's language detection can take).
    pub fn try_example(&mut self, panel: Panel) {
        match panel {
            Panel::Translate => self.translate.try_example(&mut self.cx),
            Panel::Caption => {
                let p = &examples::PICTURES[0];
                self.caption.caption_row(
                    p.name.to_string(),
                    Arc::new(p.bytes.to_vec()),
                    None,
                    &mut self.cx,
                );
            }
            Panel::Transcribe => {
                let r = &examples::RECORDINGS[0];
                self.transcribe.transcribe_row(
                    r.name.to_string(),
                    Arc::new(r.bytes.to_vec()),
                    None,
                    &mut self.cx,
                );
            }
        }
        self.page = Page::Demo(panel);
    }

    /// Shows `panel` with the model `repo` chosen; a translation model's
    /// language pair becomes the page's (a `mul` side keeps the page's).
    pub fn open_model(&mut self, panel: Panel, repo: String) {
        match panel {
            Panel::Caption => self.caption.model = Some(repo),
            Panel::Transcribe => self.transcribe.model = Some(repo),
            Panel::Translate => {
                if let Some((src, tgt)) = crate::catalog::marian_pair(&repo) {
                    if src != "mul" {
                        self.translate.from = src;
                    }
                    if tgt != "mul" {
                        self.translate.to = tgt;
                    }
                }
            }
        }
        self.open_page(Page::Demo(panel));
    }

    /// Shows `page` (the Library looks through the cache again).
    pub fn open_page(&mut self, page: Page) {
        if page == Page::Hub && self.page == Page::Hub {
            // Clicking Hub again goes back to the results.
            self.hub.details = DetailsState::Closed;
        }
        if self.page != page {
            self.cx.page_opened = true;
        }
        self.page = page;
        if page == Page::Library {
            self.cx.send(Command::ScanCache);
        }
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
        eframe::set_value(storage, STORAGE_KEY, &self.cx.settings);
        eframe::set_value(storage, SESSION_KEY, &self.session());
    }
}

/// Opens the window and runs until it is closed.
pub fn run(
    config: HubConfig,
    device: DeviceChoice,
    first_frame_probe: bool,
    files: Vec<std::path::PathBuf>,
) -> anyhow::Result<()> {
    process_start();
    let device = (device != DeviceChoice::Auto).then_some(device);
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Spaceport")
        .with_app_id("spaceport")
        .with_inner_size([1120.0, 740.0])
        .with_min_inner_size([760.0, 480.0]);
    if let Ok(icon) =
        eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icons/spaceport-256.png"))
    {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        persist_window: !first_frame_probe,
        ..Default::default()
    };
    eframe::run_native(
        "Spaceport",
        options,
        Box::new(move |cc| {
            let mut app = App::new(cc, config, device)?;
            app.first_frame_probe = first_frame_probe;
            app.opening = files;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}
