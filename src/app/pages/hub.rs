//! The Hub page: search box, task chips, sort, the result list with a
//! "runs here" badge per model, "load more", and the details view with the
//! rendered model card, the file list and the Download button.

use super::{Cx, Intent, View};
use crate::app::DownloadState;
use crate::app::widgets::{progress_ui, verdict_badge_ui};
use crate::format::format_bytes;
use crate::hub::{ModelDetails, ModelSummary, Sort, TaskFilter};
use crate::workers::{Command, Event};

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

/// The Hub page.
pub struct HubPage {
    pub query: String,
    /// Which search the current results belong to.
    pub generation: u64,
    pub search: SearchState,
    pub results: Vec<ModelSummary>,
    pub next: Option<String>,
    pub details: DetailsState,
    markdown: egui_commonmark::CommonMarkCache,
    /// Put the cursor in the search box on the first frame.
    focus_search: bool,
    /// Results whose download size was asked for (the Hub's list gives
    /// sizes only for safetensors weights).
    sizes_asked: std::collections::BTreeSet<String>,
}

/// The most results of one page whose sizes are asked for, one request
/// each.
const SIZES_A_PAGE: usize = 8;

impl Default for HubPage {
    fn default() -> Self {
        Self {
            query: String::new(),
            generation: 0,
            search: SearchState::Idle,
            results: Vec::new(),
            next: None,
            details: DetailsState::Closed,
            markdown: Default::default(),
            focus_search: true,
            sizes_asked: Default::default(),
        }
    }
}

/// A compact count: 1.2k, 3.4M.
fn count(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}k", n as f64 / 1e3),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

/// The date part of an ISO timestamp.
fn date(ts: &Option<String>) -> &str {
    ts.as_deref()
        .map(|t| t.get(..10).unwrap_or(t))
        .unwrap_or("—")
}

impl HubPage {
    /// Starts a new search with the current query and filters.
    pub fn start_search(&mut self, cx: &mut Cx) {
        self.generation += 1;
        self.search = SearchState::Searching;
        self.details = DetailsState::Closed;
        let query = crate::hub::SearchQuery {
            text: self.query.clone(),
            task: cx.settings.search_task,
            sort: cx.settings.search_sort,
            limit: 30,
        };
        cx.send(Command::Search {
            generation: self.generation,
            query,
        });
    }

    /// Shows `repo`'s details (asked of the Hub, or read from the cache
    /// offline).
    pub fn open_details(&mut self, repo: String, cx: &mut Cx) {
        self.details = DetailsState::Loading { repo: repo.clone() };
        cx.send(Command::Details {
            repo,
            revision: "main".into(),
        });
    }

    fn search_bar_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        let mut go = false;
        ui.horizontal(|ui| {
            let label = ui.label("Search models");
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.query)
                    .hint_text("e.g. opus-mt, whisper, blip")
                    .desired_width(360.0),
            );
            let edit = edit.labelled_by(label.id);
            if self.focus_search || cx.take_page_opened() {
                edit.request_focus();
                self.focus_search = false;
            }
            if edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                go = true;
            }
            if ui.button("Search").clicked() {
                go = true;
            }
            if matches!(self.search, SearchState::Searching) {
                ui.spinner();
            }
        });
        ui.horizontal_wrapped(|ui| {
            for task in TaskFilter::ALL {
                if ui
                    .add(egui::Button::selectable(
                        cx.settings.search_task == task,
                        task.label(),
                    ))
                    .clicked()
                    && cx.settings.search_task != task
                {
                    cx.settings.search_task = task;
                    go = true;
                }
            }
            ui.separator();
            let before = cx.settings.search_sort;
            egui::ComboBox::from_label("Sort")
                .selected_text(cx.settings.search_sort.label())
                .show_ui(ui, |ui| {
                    for s in Sort::ALL {
                        crate::app::widgets::pick(ui, &mut cx.settings.search_sort, s, s.label());
                    }
                });
            if before != cx.settings.search_sort {
                go = true;
            }
        });
        if go {
            self.start_search(cx);
        }
    }

    fn results_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        match &self.search {
            SearchState::Failed(_) if cx.offline() => {
                ui.label("Searching needs the network, and offline mode is on. Your downloaded models are in the Library.");
            }
            SearchState::Failed(_) if cx.unreachable.is_some() => {
                ui.label("Can't search right now: the Hub can't be reached. Your downloaded models are in the Library.");
            }
            SearchState::Failed(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            SearchState::Idle if self.results.is_empty() && self.generation > 0 => {
                ui.label("No models match. Try fewer words or another task.");
            }
            SearchState::Idle if self.generation == 0 => {
                ui.label("Search the Hugging Face Hub, or start from a recommended model:");
                let recs: Vec<(String, String)> = crate::catalog::catalog()
                    .models
                    .iter()
                    .filter(|m| m.recommended)
                    .map(|m| {
                        (
                            m.repo.clone(),
                            format!("{} — {} ({} MB)", m.name, m.repo, m.size_mb),
                        )
                    })
                    .collect();
                for (repo, text) in recs {
                    if ui.link(text).clicked() {
                        self.open_details(repo, cx);
                    }
                }
            }
            _ => {}
        }
        let mut open = None;
        let mut more = false;
        // A narrow window leaves out likes and dates, so the size and the
        // verdict stay in view (and scrolls sideways past that).
        let wide = ui.available_width() >= 900.0;
        egui::ScrollArea::both()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("results")
                    .striped(true)
                    .num_columns(if wide { 7 } else { 5 })
                    .spacing([14.0, 6.0])
                    .show(ui, |ui| {
                        if !self.results.is_empty() {
                            for h in ["Model", "Task", "Downloads", "Likes", "Updated", "Size", ""]
                            {
                                if wide || !matches!(h, "Likes" | "Updated") {
                                    ui.strong(h);
                                }
                            }
                            ui.end_row();
                        }
                        for m in &self.results {
                            ui.horizontal(|ui| {
                                if ui.link(&m.id).clicked() {
                                    open = Some(m.id.clone());
                                }
                                if m.gated {
                                    ui.small("gated").on_hover_text(
                                        "Accept its licence on the Hub and set a token to download.",
                                    );
                                }
                                if m.private {
                                    ui.small("private");
                                }
                                if cx.cached().iter().any(|c| c.repo == m.id) {
                                    ui.small("✔ downloaded")
                                        .on_hover_text("In the Hugging Face cache: it works offline");
                                }
                            });
                            ui.label(task_words(m.pipeline_tag.as_deref()))
                                .on_hover_text(m.pipeline_tag.as_deref().unwrap_or_default());
                            ui.label(count(m.downloads));
                            if wide {
                                ui.label(count(m.likes));
                                ui.label(date(&m.last_modified));
                            }
                            match m.size_bytes.or_else(|| cx.hub_sizes.get(&m.id).copied()) {
                                Some(b) => ui.label(format_bytes(b)),
                                None => ui.label("—").on_hover_text(
                                    "The Hub gave no size for this model (yet); its page shows the download size",
                                ),
                            };
                            ui.horizontal(|ui| {
                                verdict_badge_ui(ui, &m.verdict);
                                if let Some(words) = cx.measured_words(&m.id) {
                                    ui.label("✔").on_hover_text(format!("Measured: {words}"));
                                }
                            });
                            ui.end_row();
                        }
                    });
                if self.next.is_some() {
                    let loading = self.search == SearchState::LoadingMore;
                    if ui
                        .add_enabled(!loading, egui::Button::new("Load more"))
                        .clicked()
                    {
                        more = true;
                    }
                }
            });
        if let Some(repo) = open {
            self.open_details(repo, cx);
        }
        if more && let Some(url) = self.next.clone() {
            self.search = SearchState::LoadingMore;
            cx.send(Command::LoadMore {
                generation: self.generation,
                url,
            });
        }
    }

    fn details_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        if ui.button("Back to results").clicked() {
            self.details = DetailsState::Closed;
            return;
        }
        match &self.details {
            DetailsState::Closed => {}
            DetailsState::Loading { repo } => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!("Loading {repo}…"));
                });
            }
            DetailsState::Failed { repo, error } => {
                ui.heading(repo);
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
            DetailsState::Ready(_) => {
                // Borrow the details out of `self` for the frame instead of
                // cloning a model card and file list every frame.
                if let DetailsState::Ready(d) = std::mem::take(&mut self.details) {
                    self.model_details_ui(ui, cx, &d);
                    if matches!(self.details, DetailsState::Closed) {
                        self.details = DetailsState::Ready(d);
                    }
                }
            }
        }
    }

    fn model_details_ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx, d: &ModelDetails) {
        let repo = d.summary.id.clone();
        ui.heading(&repo);
        verdict_badge_ui(ui, &d.summary.verdict);
        ui.label(d.summary.verdict.explain());
        if let Some(words) = cx.measured_words(&repo) {
            ui.strong(format!("Measured: {words}."));
        }
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "Licence: {}",
                d.license.as_deref().unwrap_or("not stated")
            ));
            ui.separator();
            ui.label(format!("Commit {}", &d.commit[..d.commit.len().min(12)]));
            if let Some(t) = &d.summary.pipeline_tag {
                ui.separator();
                ui.label(t);
            }
            if d.summary.private {
                ui.separator();
                ui.label("Private");
            }
            if d.from_cache {
                ui.separator();
                ui.label("From the local cache");
            }
        });
        if let Some(config) = &d.config {
            let field = |k: &str| {
                config
                    .get(k)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let arch = config
                .get("architectures")
                .and_then(|a| a.get(0))
                .and_then(serde_json::Value::as_str)
                .unwrap_or("");
            if !arch.is_empty() || !field("model_type").is_empty() {
                ui.label(format!("Architecture: {arch} ({})", field("model_type")));
            }
        }
        if let Some(mode) = &d.gated_mode {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "Gated ({mode}): accept its licence on the Hub, then set a token in Settings."
                ),
            );
        }
        ui.add_space(6.0);
        Self::download_controls_ui(ui, cx, &repo, d);
        ui.add_space(6.0);
        egui::CollapsingHeader::new(format!("Files ({})", d.files.len())).show(ui, |ui| {
            egui::Grid::new("files").striped(true).show(ui, |ui| {
                for f in &d.files {
                    ui.label(if d.needed.contains(&f.path) {
                        "⬇"
                    } else {
                        ""
                    })
                    .on_hover_text("Spaceport downloads this file");
                    ui.label(&f.path);
                    ui.label(format_bytes(f.size));
                    ui.end_row();
                }
            });
        });
        if let Some(config) = &d.config {
            egui::CollapsingHeader::new("config.json").show(ui, |ui| {
                let text = serde_json::to_string_pretty(config).unwrap_or_default();
                egui::ScrollArea::vertical()
                    .id_salt("config-json")
                    .max_height(240.0)
                    .show(ui, |ui| ui.monospace(text));
            });
        }
        ui.separator();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| match &d.card {
                Some(card) => {
                    egui_commonmark::CommonMarkViewer::new().show(ui, &mut self.markdown, card);
                }
                None => {
                    ui.label("This model has no model card.");
                }
            });
    }

    /// Download / progress + Cancel / downloaded, for one model.
    fn download_controls_ui(ui: &mut egui::Ui, cx: &mut Cx, repo: &str, d: &ModelDetails) {
        let state = cx.downloads.get(repo).cloned();
        let cached = cx.is_cached(repo);
        ui.horizontal(|ui| match state {
            Some(DownloadState::Running(p)) => {
                progress_ui(ui, &p);
                if ui.button("Cancel").clicked() {
                    cx.cancel_download(repo);
                }
            }
            Some(DownloadState::Cancelling(p)) => {
                progress_ui(ui, &p);
                ui.label("Cancelling…");
            }
            _ if cached || matches!(state, Some(DownloadState::Done { .. })) => {
                ui.label("✔ Downloaded");
                if let Some(panel) = d.summary.verdict.panel()
                    && ui.button(format!("Open in {}", panel.label())).clicked()
                {
                    cx.intents.push(Intent::OpenModel {
                        panel,
                        repo: d.summary.id.clone(),
                    });
                }
            }
            other => {
                let label = match &other {
                    Some(DownloadState::Cancelled | DownloadState::Failed(_)) => "Resume download",
                    _ => "Download",
                };
                let runs = d.summary.verdict.runs_here();
                let enabled = !cx.offline() && runs && !d.needed.is_empty();
                let why = if cx.offline() {
                    "Offline mode is on."
                } else if !runs {
                    "Spaceport can't run this model (see above), so it does not download it."
                } else {
                    "Downloads what the model needs into the Hugging Face cache."
                };
                if ui
                    .add_enabled(
                        enabled,
                        egui::Button::new(format!("{label} ({})", format_bytes(d.download_bytes))),
                    )
                    .on_hover_text(why)
                    .on_disabled_hover_text(why)
                    .clicked()
                {
                    cx.start_download(repo.to_string());
                }
                if let Some(DownloadState::Failed(e)) = &other {
                    ui.colored_label(ui.visuals().error_fg_color, e);
                }
                if matches!(other, Some(DownloadState::Cancelled)) {
                    ui.label("Cancelled; what was fetched is kept for resuming.");
                }
            }
        });
    }
}

impl View for HubPage {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        if !matches!(self.details, DetailsState::Closed) {
            self.details_ui(ui, cx);
            return;
        }
        self.search_bar_ui(ui, cx);
        ui.separator();
        self.results_ui(ui, cx);
    }

    /// Search results and model details (the newest search's, the
    /// details being waited for); an answer that says the Hub cannot be
    /// reached also sets the window's offline banner.
    fn on_event(&mut self, event: Event, cx: &mut Cx) -> Option<Event> {
        match event {
            Event::SearchResults {
                generation,
                page,
                append,
            } => {
                if generation != self.generation {
                    return None; // a stale search
                }
                cx.unreachable = None;
                // The sizes the list lacks, from each model's details (the
                // answers land in `Cx::hub_sizes`).
                let missing: Vec<String> = page
                    .models
                    .iter()
                    .filter(|m| m.size_bytes.is_none() && !cx.hub_sizes.contains_key(&m.id))
                    .map(|m| m.id.clone())
                    .filter(|id| self.sizes_asked.insert(id.clone()))
                    .take(SIZES_A_PAGE)
                    .collect();
                for repo in missing {
                    cx.send(Command::Details {
                        repo,
                        revision: "main".into(),
                    });
                }
                if append {
                    self.results.extend(page.models);
                } else {
                    self.results = page.models;
                }
                self.next = page.next;
                self.search = SearchState::Idle;
            }
            Event::SearchFailed {
                generation,
                error,
                offline,
            } => {
                if generation != self.generation {
                    return None;
                }
                if offline {
                    cx.unreachable = Some(error.clone());
                }
                self.search = SearchState::Failed(error);
            }
            Event::Details(d) => {
                if matches!(&self.details, DetailsState::Loading { repo } if *repo == d.summary.id)
                {
                    self.details = DetailsState::Ready(d);
                }
            }
            Event::DetailsFailed {
                repo,
                error,
                offline,
            } => {
                if offline {
                    cx.unreachable = Some(error.clone());
                }
                if matches!(&self.details, DetailsState::Loading { repo: r } if *r == repo) {
                    self.details = DetailsState::Failed { repo, error };
                }
            }
            other => return Some(other),
        }
        None
    }
}

/// A Hub task tag in words, short enough for the results' column.
fn task_words(tag: Option<&str>) -> &str {
    match tag {
        None => "—",
        Some("translation") => "Translation",
        Some("image-to-text") => "Image to text",
        Some("automatic-speech-recognition") => "Speech recognition",
        Some("text-generation") => "Text generation",
        Some("text-classification") => "Text classification",
        Some("fill-mask") => "Fill mask",
        Some(other) => other,
    }
}
