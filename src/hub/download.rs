//! Downloads a model's needed files into the standard cache, filling what
//! hf-hub lacks: resume with HTTP `Range` from `blobs/<etag>.incomplete`
//! (after a cut connection, a cancel, or a restart of the app), sha256
//! verification of LFS files with one re-fetch on mismatch, retries with
//! backoff, cancellation between chunks, and progress per file and per
//! model. The on-disk result is what `huggingface_hub` writes
//! (`file_download.py`): `blobs/<etag>`, `snapshots/<commit>/<path>` as a
//! relative symlink to the blob, and `refs/<revision>`.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::client::{Ctx, RepoFile, retry};
use super::paths::{
    check_no_symlink_between, check_repo_id, check_repo_path, check_revision, check_token_name,
    is_commit, repo_folder_name, url_encode, url_encode_path,
};
use super::{Hub, HubError, Result, cache};
use crate::work::CancelToken;
use crate::work::Throttle;

/// Where a download stands, reported several times a second.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct DownloadProgress {
    pub repo: String,
    /// The file being fetched now.
    pub file: String,
    pub file_bytes: u64,
    pub file_total: u64,
    /// All needed files together.
    pub bytes: u64,
    pub total: u64,
    pub files_done: usize,
    pub files_total: usize,
    /// Bytes per second over the last few seconds.
    pub rate_bps: f64,
    pub eta_secs: Option<f64>,
}

/// A finished download.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Snapshot {
    pub repo: String,
    pub commit: String,
    /// The snapshot folder (`…/snapshots/<commit>`).
    pub path: PathBuf,
    /// Bytes actually transferred in this call (0 when all were cached).
    pub bytes_fetched: u64,
}

const CHUNK: usize = 256 * 1024;
const MAX_ATTEMPTS: u32 = 6;

/// Measures the transfer rate over a sliding window.
struct RateMeter {
    samples: VecDeque<(Instant, u64)>,
}

impl RateMeter {
    fn new() -> Self {
        Self {
            samples: VecDeque::new(),
        }
    }

    fn rate(&mut self, transferred: u64) -> f64 {
        let now = Instant::now();
        self.samples.push_back((now, transferred));
        while self.samples.len() > 2
            && now.duration_since(self.samples[0].0) > Duration::from_secs(3)
        {
            self.samples.pop_front();
        }
        let (t0, b0) = self.samples[0];
        let dt = now.duration_since(t0).as_secs_f64();
        if dt > 0.05 {
            (transferred - b0) as f64 / dt
        } else {
            0.0
        }
    }
}

/// Progress bookkeeping for one model download.
struct Reporter<'a> {
    p: DownloadProgress,
    transferred: u64,
    meter: RateMeter,
    throttle: Throttle,
    sink: &'a mut dyn FnMut(&DownloadProgress),
}

impl Reporter<'_> {
    fn add(&mut self, n: u64) {
        self.p.bytes += n;
        self.p.file_bytes += n;
        self.transferred += n;
        if self.throttle.ready() {
            self.emit();
        }
    }

    /// Rewinds after a restart from zero (server ignored `Range`, or a
    /// corrupt body was thrown away).
    fn rewind(&mut self, n: u64) {
        self.p.bytes -= n.min(self.p.bytes);
        self.p.file_bytes -= n.min(self.p.file_bytes);
    }

    fn emit(&mut self) {
        self.p.rate_bps = self.meter.rate(self.transferred);
        let left = self.p.total.saturating_sub(self.p.bytes) as f64;
        self.p.eta_secs = (self.p.rate_bps > 1.0).then(|| left / self.p.rate_bps);
        (self.sink)(&self.p);
    }
}

/// The metadata of one file from a `HEAD` on its resolve URL.
struct FileMeta {
    etag: String,
    size: u64,
    sha256: Option<String>,
}

fn normalize_etag(raw: &str) -> String {
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_string()
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

impl Hub {
    fn resolve_url(&self, repo: &str, commit: &str, path: &str) -> String {
        format!(
            "{}/{repo}/resolve/{}/{}",
            self.config.endpoint,
            url_encode(commit),
            url_encode_path(path)
        )
    }

    /// `HEAD` without following the redirect to the CDN: the Hub puts the
    /// LFS etag and size on the redirect itself (`X-Linked-*`).
    fn head_meta(&self, repo: &str, commit: &str, file: &RepoFile) -> Result<FileMeta> {
        let ctx = Ctx {
            repo,
            revision: Some(commit),
            path: Some(&file.path),
        };
        let mut url = self.resolve_url(repo, commit, &file.path);
        let mut resp = None;
        for _ in 0..5 {
            let headers = [("Accept-Encoding", "identity".to_string())];
            let r = retry(3, || self.send_no_follow("HEAD", &url, &headers, &ctx))?;
            // Follow relative redirects (renamed repos) only.
            match r.header("location") {
                Some(loc) if (300..400).contains(&r.status()) && loc.starts_with('/') => {
                    url = format!("{}{loc}", self.config.endpoint);
                }
                _ => {
                    resp = Some(r);
                    break;
                }
            }
        }
        let resp = resp.ok_or_else(|| HubError::Malformed {
            what: format!("too many redirects for {}", file.path),
        })?;
        let etag = resp
            .header("x-linked-etag")
            .or_else(|| resp.header("etag"))
            .map(normalize_etag)
            .ok_or_else(|| HubError::Malformed {
                what: format!("no ETag for {}", file.path),
            })?;
        check_token_name("etag", &etag)?;
        let size = resp
            .header("x-linked-size")
            .or_else(|| {
                // A redirect's Content-Length is its own (empty) body.
                (!(300..400).contains(&resp.status()))
                    .then(|| resp.header("content-length"))
                    .flatten()
            })
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(file.size);
        let sha256 = file
            .lfs_sha256
            .clone()
            .filter(|s| is_sha256(s))
            .or_else(|| {
                resp.header("x-linked-etag")
                    .map(normalize_etag)
                    .filter(|s| is_sha256(s))
            });
        Ok(FileMeta { etag, size, sha256 })
    }

    /// Downloads what `repo` at `revision` needs to run into the cache and
    /// returns its snapshot. Files already in the cache are not fetched
    /// again; partial ones resume. Offline, returns the cached snapshot.
    pub fn download_model(
        &self,
        repo: &str,
        revision: &str,
        cancel: &CancelToken,
        on_progress: &mut dyn FnMut(&DownloadProgress),
    ) -> Result<Snapshot> {
        check_repo_id(repo)?;
        check_revision(revision)?;
        let cache_dir = &self.config.cache_dir;
        if self.config.offline {
            return cache::resolve_snapshot(cache_dir, repo, revision)
                .map(|(commit, path)| Snapshot {
                    repo: repo.to_string(),
                    commit,
                    path,
                    bytes_fetched: 0,
                })
                .ok_or_else(|| HubError::Offline {
                    what: format!("download {repo}: it is not in the local cache"),
                });
        }
        let details = match self.details(repo, revision) {
            Ok(d) => d,
            // The Hub can't be reached: what the cache already has will do.
            Err(e) if e.is_offline() => {
                return cache::resolve_snapshot(cache_dir, repo, revision)
                    .filter(|(commit, _)| {
                        cache::local_details(cache_dir, repo, commit)
                            .is_some_and(|d| d.summary.runs_here)
                    })
                    .map(|(commit, path)| Snapshot {
                        repo: repo.to_string(),
                        commit,
                        path,
                        bytes_fetched: 0,
                    })
                    .ok_or(e);
            }
            Err(e) => return Err(e),
        };
        let commit = details.commit.clone();
        let files: Vec<RepoFile> = details
            .files
            .iter()
            .filter(|f| details.needed.contains(&f.path))
            .cloned()
            .collect();
        if files.is_empty() {
            return Err(HubError::EntryNotFound {
                repo: repo.to_string(),
                path: "weights or config".to_string(),
            });
        }
        let repo_dir = cache_dir.join(repo_folder_name(repo));
        self.fetch_files(
            (repo, repo),
            (revision, &commit),
            &files,
            &repo_dir,
            cancel,
            on_progress,
        )
    }

    /// Fetches `files` of `repo` at `commit` into `repo_dir` one after
    /// another with progress, then points `revision` at the commit.
    /// `repo` is (the id, the URL path the Hub serves it under:
    /// `datasets/{id}` for a dataset).
    fn fetch_files(
        &self,
        (id, url_repo): (&str, &str),
        (revision, commit): (&str, &str),
        files: &[RepoFile],
        repo_dir: &Path,
        cancel: &CancelToken,
        on_progress: &mut dyn FnMut(&DownloadProgress),
    ) -> Result<Snapshot> {
        let mut reporter = Reporter {
            p: DownloadProgress {
                repo: id.to_string(),
                total: files.iter().map(|f| f.size).sum(),
                files_total: files.len(),
                ..Default::default()
            },
            transferred: 0,
            meter: RateMeter::new(),
            throttle: Throttle::new(Duration::from_millis(100)),
            sink: on_progress,
        };
        for file in files {
            if cancel.is_cancelled() {
                return Err(HubError::Cancelled);
            }
            reporter.p.file = file.path.clone();
            reporter.p.file_bytes = 0;
            reporter.p.file_total = file.size;
            reporter.emit();
            self.fetch_file(url_repo, commit, file, repo_dir, cancel, &mut reporter)?;
            reporter.p.files_done += 1;
        }
        if !is_commit(revision) || revision != commit {
            write_ref(repo_dir, revision, commit)?;
        }
        reporter.emit();
        Ok(Snapshot {
            repo: id.to_string(),
            path: repo_dir.join("snapshots").join(commit),
            commit: commit.to_string(),
            bytes_fetched: reporter.transferred,
        })
    }

    /// Downloads files of dataset `id` at `revision` (`refs/convert/parquet`
    /// for the parquet export) into the cache as `huggingface_hub` stores
    /// them (`datasets--org--name`, the ref under `refs/<revision>`), with
    /// the same resume, verification, locks and cancel as a model.
    pub fn download_dataset_files(
        &self,
        id: &str,
        revision: &str,
        paths: &[String],
        cancel: &CancelToken,
        on_progress: &mut dyn FnMut(&DownloadProgress),
    ) -> Result<Snapshot> {
        let repo_dir = self
            .config
            .cache_dir
            .join(format!("datasets--{}", id.replace('/', "--")));
        let url_repo = format!("datasets/{id}");
        self.download_listed(
            (id, &url_repo),
            revision,
            paths,
            &repo_dir,
            cancel,
            on_progress,
        )
    }

    /// Downloads the named files of model repository `id` (not the files
    /// the catalogue picks: a repository that is not a demo's model, such
    /// as the voice-activity detector's), as [`Self::download_model`]
    /// stores them.
    pub fn download_model_files(
        &self,
        id: &str,
        revision: &str,
        paths: &[String],
        cancel: &CancelToken,
        on_progress: &mut dyn FnMut(&DownloadProgress),
    ) -> Result<Snapshot> {
        let repo_dir = self.config.cache_dir.join(repo_folder_name(id));
        self.download_listed((id, id), revision, paths, &repo_dir, cancel, on_progress)
    }

    /// `paths` of `id` (served under `url_repo`) at `revision` into
    /// `repo_dir`: the commit and each file's size and hash from HEAD
    /// requests, then [`Self::fetch_files`].
    fn download_listed(
        &self,
        (id, url_repo): (&str, &str),
        revision: &str,
        paths: &[String],
        repo_dir: &Path,
        cancel: &CancelToken,
        on_progress: &mut dyn FnMut(&DownloadProgress),
    ) -> Result<Snapshot> {
        check_repo_id(id)?;
        check_revision(revision)?;
        if self.config.offline {
            return Err(HubError::Offline {
                what: format!("download {id}"),
            });
        }
        let Some(first) = paths.first() else {
            return Err(HubError::EntryNotFound {
                repo: id.to_string(),
                path: "files".into(),
            });
        };
        let ctx = Ctx {
            repo: id,
            revision: Some(revision),
            path: Some(first),
        };
        let url = self.resolve_url(url_repo, revision, first);
        let head = retry(3, || self.send_no_follow("HEAD", &url, &[], &ctx))?;
        let commit = head
            .header("x-repo-commit")
            .map(str::to_string)
            .ok_or_else(|| HubError::Malformed {
                what: format!("no commit for {revision} of {id}"),
            })?;
        check_token_name("commit", &commit)?;
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let probe = RepoFile {
                path: path.clone(),
                size: 0,
                lfs_sha256: None,
            };
            let meta = self.head_meta(url_repo, &commit, &probe)?;
            files.push(RepoFile {
                path: path.clone(),
                size: meta.size,
                lfs_sha256: meta.sha256,
            });
        }
        self.fetch_files(
            (id, url_repo),
            (revision, &commit),
            &files,
            repo_dir,
            cancel,
            on_progress,
        )
    }

    fn fetch_file(
        &self,
        repo: &str,
        commit: &str,
        file: &RepoFile,
        repo_dir: &Path,
        cancel: &CancelToken,
        reporter: &mut Reporter<'_>,
    ) -> Result<()> {
        let rel = check_repo_path(&file.path)?;
        check_token_name("commit", commit)?;
        let snap_path = repo_dir.join("snapshots").join(commit).join(&rel);
        check_no_symlink_between(repo_dir, &snap_path)?;
        // Already there (a link to a blob of the right size): nothing to do.
        if let Ok(m) = std::fs::metadata(&snap_path)
            && m.is_file()
            && m.len() == file.size
        {
            reporter.p.bytes += file.size;
            reporter.p.file_bytes = file.size;
            return Ok(());
        }
        let meta = self.head_meta(repo, commit, file)?;
        let blobs = repo_dir.join("blobs");
        std::fs::create_dir_all(&blobs).map_err(|e| HubError::io("create", &blobs, e))?;
        check_no_symlink_between(repo_dir, &blobs.join(&meta.etag))?;
        let blob = blobs.join(&meta.etag);
        // Another download of this blob — ours in another process, or
        // Python's — writes it under the same lock; wait for it, then find
        // the blob done.
        let _lock = lock_blob(repo_dir, &meta.etag, cancel)?;
        let have_blob = blob
            .symlink_metadata()
            .is_ok_and(|m| m.is_file() && m.len() == meta.size);
        if have_blob {
            reporter.add(meta.size);
        } else {
            self.fetch_blob(repo, commit, file, &meta, &blob, cancel, reporter)?;
        }
        link_snapshot(&blob, &snap_path, rel.components().count())
    }

    /// Streams one blob into `<blob>.incomplete`, resuming and verifying,
    /// then renames it into place.
    #[allow(clippy::too_many_arguments)]
    fn fetch_blob(
        &self,
        repo: &str,
        commit: &str,
        file: &RepoFile,
        meta: &FileMeta,
        blob: &Path,
        cancel: &CancelToken,
        reporter: &mut Reporter<'_>,
    ) -> Result<()> {
        let partial = blob.with_file_name(format!("{}.incomplete", meta.etag));
        let ctx = Ctx {
            repo,
            revision: Some(commit),
            path: Some(&file.path),
        };
        let url = self.resolve_url(repo, commit, &file.path);
        let mut out = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&partial)
            .map_err(|e| HubError::io("create", &partial, e))?;
        let mut have = out
            .metadata()
            .map_err(|e| HubError::io("inspect", &partial, e))?
            .len();
        if have > meta.size {
            have = 0;
        }
        // The running checksum of the first `sum.len` bytes, when verifying.
        let mut sum: Option<Checksum> = None;
        let mut corrupt = 0;
        let mut attempts = 0;
        let mut delay = Duration::from_millis(500);
        reporter.add(have);
        loop {
            if cancel.is_cancelled() {
                return Err(HubError::Cancelled);
            }
            if meta.sha256.is_some() && sum.as_ref().map(|s| s.len) != Some(have) {
                sum = Some(Checksum::resume(&mut out, have, &partial)?);
            }
            if have < meta.size || meta.size == 0 {
                let result = self.stream_into(
                    &url, &ctx, &mut out, &partial, &mut have, &mut sum, cancel, reporter,
                );
                match result {
                    Ok(()) => {}
                    Err(HubError::Cancelled) => return Err(HubError::Cancelled),
                    Err(e) if e.is_transient() && attempts + 1 < MAX_ATTEMPTS => {
                        attempts += 1;
                        sleep_cancellable(delay, cancel);
                        delay = (delay * 2).min(Duration::from_secs(8));
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            if have != meta.size {
                // The body ended short: a cut that did not raise an error.
                attempts += 1;
                if attempts >= MAX_ATTEMPTS {
                    return Err(HubError::Network {
                        endpoint: self.config.endpoint.clone(),
                        reason: format!("{} stopped at {have} of {} bytes", file.path, meta.size),
                    });
                }
                continue;
            }
            if let Some(expected) = &meta.sha256 {
                let got = match sum.take() {
                    Some(s) if s.len == have => s.finish(),
                    _ => Checksum::resume(&mut out, have, &partial)?.finish(),
                };
                if !got.eq_ignore_ascii_case(expected) {
                    corrupt += 1;
                    reporter.rewind(have);
                    out.set_len(0)
                        .map_err(|e| HubError::io("truncate", &partial, e))?;
                    have = 0;
                    if corrupt >= 2 {
                        drop(out);
                        let _ = std::fs::remove_file(&partial);
                        return Err(HubError::Corrupt {
                            repo: repo.to_string(),
                            path: file.path.clone(),
                            expected: expected.clone(),
                        });
                    }
                    continue;
                }
            }
            drop(out);
            std::fs::rename(&partial, blob).map_err(|e| HubError::io("store", blob, e))?;
            return Ok(());
        }
    }

    /// One `GET` from byte `*have` on, appended to `out`.
    #[allow(clippy::too_many_arguments)]
    fn stream_into(
        &self,
        url: &str,
        ctx: &Ctx<'_>,
        out: &mut File,
        partial: &Path,
        have: &mut u64,
        sum: &mut Option<Checksum>,
        cancel: &CancelToken,
        reporter: &mut Reporter<'_>,
    ) -> Result<()> {
        let headers = if *have > 0 {
            vec![("Range", format!("bytes={have}-"))]
        } else {
            Vec::new()
        };
        let resp = self.send("GET", url, &headers, ctx)?;
        let resumed = resp.status() == 206
            && resp
                .header("content-range")
                .and_then(|cr| cr.trim().strip_prefix("bytes "))
                .and_then(|r| r.split('-').next())
                .and_then(|s| s.parse::<u64>().ok())
                == Some(*have);
        if !resumed && *have > 0 {
            // The server sent the whole file: start over.
            reporter.rewind(*have);
            *have = 0;
            if sum.is_some() {
                *sum = Some(Checksum::start(Sha256::new(), 0));
            }
        }
        out.set_len(*have)
            .map_err(|e| HubError::io("truncate", partial, e))?;
        out.seek(SeekFrom::Start(*have))
            .map_err(|e| HubError::io("seek", partial, e))?;
        let mut body = resp.into_reader();
        let mut buf = vec![0u8; CHUNK];
        loop {
            if cancel.is_cancelled() {
                return Err(HubError::Cancelled);
            }
            // Fill a whole chunk first: the socket hands out a few kB per
            // read, and one write and one checksum hand-off per chunk keeps
            // the per-byte cost down.
            let (n, end) = fill(&mut body, &mut buf, cancel);
            if n > 0 {
                out.write_all(&buf[..n])
                    .map_err(|e| HubError::io("write", partial, e))?;
                if let Some(s) = sum.as_mut() {
                    s.update(&buf[..n]);
                }
                *have += n as u64;
                reporter.add(n as u64);
            }
            match end {
                None => {}
                Some(Ok(())) => return Ok(()),
                Some(Err(e)) => {
                    return Err(HubError::Network {
                        endpoint: self.config.endpoint.clone(),
                        reason: format!("connection lost ({e})"),
                    });
                }
            }
        }
    }
}

/// Reads into `buf` until it is full, the body ends, reading fails, a
/// cancel is asked for, or 200 ms have passed (so that a slow connection
/// still reports progress and cancels promptly). Returns the bytes read
/// and, when the body stopped, how it stopped.
fn fill(
    body: &mut impl Read,
    buf: &mut [u8],
    cancel: &CancelToken,
) -> (usize, Option<std::io::Result<()>>) {
    let started = Instant::now();
    let mut n = 0;
    while n < buf.len() && !cancel.is_cancelled() && started.elapsed() < Duration::from_millis(200)
    {
        match body.read(&mut buf[n..]) {
            Ok(0) => return (n, Some(Ok(()))),
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(Err(e))),
        }
    }
    (n, None)
}

/// Takes the lock `huggingface_hub` takes while it writes a blob:
/// `<cache>/.locks/<repo folder>/<etag>.lock`, an exclusive `flock` held
/// until the returned file is dropped. Waits (cancellably) while another
/// process holds it.
fn lock_blob(repo_dir: &Path, etag: &str, cancel: &CancelToken) -> Result<File> {
    let (Some(cache), Some(folder)) = (repo_dir.parent(), repo_dir.file_name()) else {
        return Err(HubError::io(
            "lock",
            repo_dir,
            std::io::Error::other("the cache folder has no parent"),
        ));
    };
    let dir = cache.join(".locks").join(folder);
    std::fs::create_dir_all(&dir).map_err(|e| HubError::io("create", &dir, e))?;
    let path = dir.join(format!("{etag}.lock"));
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).read(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o664);
    let lock = options
        .open(&path)
        .map_err(|e| HubError::io("create", &path, e))?;
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(lock),
            Err(std::fs::TryLockError::WouldBlock) => {
                if cancel.is_cancelled() {
                    return Err(HubError::Cancelled);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                // A file system without locks: go on unguarded, as
                // huggingface_hub does.
                if e.kind() == std::io::ErrorKind::Unsupported {
                    return Ok(lock);
                }
                return Err(HubError::io("lock", &path, e));
            }
        }
    }
}

fn sleep_cancellable(d: Duration, cancel: &CancelToken) {
    let end = Instant::now() + d;
    while Instant::now() < end && !cancel.is_cancelled() {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The sha256 of a file being written, computed on a helper thread so that
/// hashing overlaps the transfer instead of adding to it.
struct Checksum {
    /// Bytes hashed so far.
    len: u64,
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    worker: Option<std::thread::JoinHandle<Sha256>>,
    /// Used when no helper thread could be started.
    inline: Option<Sha256>,
}

impl Checksum {
    fn start(state: Sha256, len: u64) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(16);
        let mut h = state.clone();
        let spawned = std::thread::Builder::new()
            .name("spaceport-sha256".into())
            .spawn(move || {
                for chunk in rx {
                    h.update(&chunk);
                }
                h
            });
        match spawned {
            Ok(worker) => Self {
                len,
                tx: Some(tx),
                worker: Some(worker),
                inline: None,
            },
            Err(_) => Self {
                len,
                tx: None,
                worker: None,
                inline: Some(state),
            },
        }
    }

    /// Re-reads the first `len` bytes of a partial file (after a restart of
    /// the app the running checksum is gone), then goes on from there.
    fn resume(f: &mut File, len: u64, path: &Path) -> Result<Self> {
        let mut h = Sha256::new();
        f.seek(SeekFrom::Start(0))
            .map_err(|e| HubError::io("read", path, e))?;
        let mut take = (&mut *f).take(len);
        std::io::copy(&mut take, &mut h).map_err(|e| HubError::io("read", path, e))?;
        Ok(Self::start(h, len))
    }

    fn update(&mut self, chunk: &[u8]) {
        self.len += chunk.len() as u64;
        let sent = self.tx.as_ref().map(|tx| tx.send(chunk.to_vec()).is_ok());
        if sent != Some(true) {
            self.inline.get_or_insert_with(Sha256::new).update(chunk);
        }
    }

    /// The lowercase hex digest.
    fn finish(mut self) -> String {
        drop(self.tx.take());
        let state = match (self.worker.take(), self.inline.take()) {
            (_, Some(h)) => Some(h),
            (Some(w), None) => w.join().ok(),
            (None, None) => None,
        };
        state
            .map(|h| format!("{:x}", h.finalize()))
            .unwrap_or_default()
    }
}

/// Points `snapshots/<commit>/<path>` at its blob with a relative link
/// (a copy where links are unavailable).
fn link_snapshot(blob: &Path, snap_path: &Path, depth: usize) -> Result<()> {
    let parent = snap_path.parent().unwrap_or(snap_path);
    std::fs::create_dir_all(parent).map_err(|e| HubError::io("create", parent, e))?;
    if snap_path.symlink_metadata().is_ok() {
        std::fs::remove_file(snap_path).map_err(|e| HubError::io("replace", snap_path, e))?;
    }
    let mut target = PathBuf::new();
    for _ in 0..depth + 1 {
        target.push("..");
    }
    target.push("blobs");
    target.push(blob.file_name().unwrap_or_default());
    #[cfg(unix)]
    let linked = std::os::unix::fs::symlink(&target, snap_path);
    #[cfg(not(unix))]
    let linked: std::io::Result<()> = Err(std::io::Error::other("no symlinks"));
    if linked.is_err() {
        std::fs::copy(blob, snap_path).map_err(|e| HubError::io("copy", snap_path, e))?;
    }
    Ok(())
}

/// Records that `revision` points at `commit` (`refs/<revision>`).
fn write_ref(repo_dir: &Path, revision: &str, commit: &str) -> Result<()> {
    check_revision(revision)?;
    let path = repo_dir.join("refs").join(revision);
    check_no_symlink_between(repo_dir, &path)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| HubError::io("create", dir, e))?;
    }
    std::fs::write(&path, commit).map_err(|e| HubError::io("write", &path, e))
}
