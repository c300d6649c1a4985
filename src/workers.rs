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
use crate::tasks::CancelToken;
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
