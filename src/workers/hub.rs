//! The hub jobs: search, details, downloads, cache scans and deletions,
//! and the token file — each on its own named thread
//! (`spaceport-search`, `spaceport-details`, `spaceport-download-<name>`,
//! `spaceport-cache-scan`, `spaceport-cache-delete`, `spaceport-token`).
//! Running downloads are kept by repo with their [`CancelToken`], so
//! Cancel and Delete can stop them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Event, Sink, job};
use crate::hub::cache;
use crate::hub::{Hub, HubConfig, HubError, SearchPage, SearchQuery, Token, token};
use crate::work::CancelToken;

type Running = Arc<Mutex<HashMap<String, CancelToken>>>;

/// The hub client in use and the downloads running.
pub(crate) struct HubJobs {
    hub: Hub,
    downloads: Running,
}

impl HubJobs {
    pub(crate) fn new(config: HubConfig) -> Self {
        Self {
            hub: Hub::new(config),
            downloads: Arc::default(),
        }
    }

    /// The client in use (for jobs of other families that ask the Hub).
    pub(crate) fn hub(&self) -> Hub {
        self.hub.clone()
    }

    pub(crate) fn configure(&mut self, config: HubConfig) {
        self.hub = Hub::new(config);
    }

    pub(crate) fn search(&self, generation: u64, query: SearchQuery, sink: &Sink) {
        let hub = self.hub.clone();
        search_job(sink, generation, false, move || hub.search(&query));
    }

    pub(crate) fn load_more(&self, generation: u64, url: String, sink: &Sink) {
        let hub = self.hub.clone();
        search_job(sink, generation, true, move || hub.search_page(&url));
    }

    pub(crate) fn details(&self, repo: String, revision: String, sink: &Sink) {
        let (hub, sink2) = (self.hub.clone(), sink.clone());
        job("spaceport-details", sink, move || {
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

    pub(crate) fn download(&self, repo: String, revision: String, sink: &Sink) {
        let key = repo.clone();
        self.run_download(key, sink, move |hub, cancel, progress| {
            hub.download_model(&repo, &revision, cancel, progress)
                .map_err(|e| (matches!(e, HubError::Cancelled), e.to_string()))
        });
    }

    /// Downloads the named `files` of `repo`, as a model is (progress,
    /// cancel, the cache scanned after), keyed `repo`.
    pub(crate) fn download_files(
        &self,
        repo: String,
        revision: String,
        files: Vec<String>,
        sink: &Sink,
    ) {
        let key = repo.clone();
        self.run_download(key, sink, move |hub, cancel, progress| {
            hub.download_model_files(&repo, &revision, &files, cancel, progress)
                .map_err(|e| (matches!(e, HubError::Cancelled), e.to_string()))
        });
    }

    /// Downloads a split of a dataset's parquet export, as a model's
    /// download is (progress, cancel, the cache scanned after), keyed
    /// `datasets/{repo}`.
    pub(crate) fn download_dataset(
        &self,
        repo: String,
        config: String,
        split: Option<String>,
        sink: &Sink,
    ) {
        let key = format!("datasets/{repo}");
        let key2 = key.clone();
        self.run_download(key, sink, move |hub, cancel, progress| {
            use crate::datasets::DataError;
            let failed = |e: DataError| (matches!(e, DataError::Cancelled), e.to_string());
            let remote = crate::datasets::remote::RemoteDataset::open(hub, &repo, cancel.clone())
                .map_err(failed)?;
            let mut keyed = |p: &crate::hub::DownloadProgress| {
                progress(&crate::hub::DownloadProgress {
                    repo: key2.clone(),
                    ..p.clone()
                })
            };
            let mut snap = remote
                .download(&config, split.as_deref(), &mut keyed)
                .map_err(|e| match e {
                    DataError::Remote(HubError::Cancelled) => (true, e.to_string()),
                    e => failed(e),
                })?;
            snap.repo = key2.clone();
            Ok(snap)
        });
    }

    /// Runs a download keyed `key` (one at a time per key) on its own
    /// thread: progress events while it runs, then done or failed
    /// (`(cancelled, why)`), then a fresh scan of the cache.
    fn run_download(
        &self,
        key: String,
        sink: &Sink,
        fetch: impl FnOnce(
            &Hub,
            &CancelToken,
            &mut dyn FnMut(&crate::hub::DownloadProgress),
        ) -> Result<crate::hub::Snapshot, (bool, String)>
        + Send
        + 'static,
    ) {
        let cancel = {
            let Ok(mut running) = self.downloads.lock() else {
                return;
            };
            if running.contains_key(&key) {
                return;
            }
            let c = CancelToken::new();
            running.insert(key.clone(), c.clone());
            c
        };
        let (hub, sink2, running) = (self.hub.clone(), sink.clone(), self.downloads.clone());
        let name = format!(
            "spaceport-download-{}",
            key.rsplit('/').next().unwrap_or(&key)
        );
        job(&name, sink, move || {
            let progress_sink = sink2.clone();
            let result = fetch(&hub, &cancel, &mut |p| {
                progress_sink.send(Event::DownloadProgress(p.clone()));
            });
            if let Ok(mut r) = running.lock() {
                r.remove(&key);
            }
            sink2.send(match result {
                Ok(s) => Event::DownloadDone(s),
                Err((cancelled, error)) => Event::DownloadFailed {
                    cancelled,
                    repo: key,
                    error,
                },
            });
            send_scan(&hub, &sink2);
        });
    }

    pub(crate) fn cancel_download(&self, repo: &str) {
        if let Ok(running) = self.downloads.lock()
            && let Some(c) = running.get(repo)
        {
            c.cancel();
        }
    }

    /// Stops every download (the UI has gone).
    pub(crate) fn cancel_all(&self) {
        if let Ok(running) = self.downloads.lock() {
            running.values().for_each(CancelToken::cancel);
        }
    }

    pub(crate) fn scan(&self, sink: &Sink) {
        let (hub, sink2) = (self.hub.clone(), sink.clone());
        job("spaceport-cache-scan", sink, move || {
            send_scan(&hub, &sink2)
        });
    }

    pub(crate) fn delete(&self, repo: String, sink: &Sink) {
        self.cancel_download(&repo);
        let (hub, sink2, running) = (self.hub.clone(), sink.clone(), self.downloads.clone());
        job("spaceport-cache-delete", sink, move || {
            // Let a cancelled download of this model stop writing before
            // its files go.
            let deadline = Instant::now() + Duration::from_secs(60);
            while running.lock().is_ok_and(|r| r.contains_key(&repo)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
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

    pub(crate) fn save_token(&self, t: Option<Token>, sink: &Sink) {
        let path = self.hub.config.token_path.clone();
        let (sink2, masked) = (sink.clone(), t.as_ref().map(Token::masked));
        job("spaceport-token", sink, move || {
            sink2.send(match token::write_token_file(&path, t.as_ref()) {
                Ok(()) => Event::TokenSaved { masked },
                Err(e) => Event::TokenFailed(e.to_string()),
            });
        });
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
    sink.send(Event::CachedDatasets(cache::scan_datasets(
        &hub.config.cache_dir,
    )));
}
