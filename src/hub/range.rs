//! Reading part of a file on the Hub: HTTP `Range` requests over a file's
//! `resolve` URL (the redirect to the CDN followed once, with the token
//! sent only to the Hub), the pieces fetched kept in memory, and a count
//! of the bytes that crossed the network. Datasets read a parquet file's
//! footer and then only the row groups a page of rows needs, instead of
//! downloading a 500 MB shard to show 100 rows.

use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::client::{Ctx, origin, resolve_location, retry};
use super::{Hub, HubError, Result};
use crate::work::CancelToken;

/// The most one read may ask for (a row group of pictures larger than
/// this is refused rather than held in memory).
pub const MAX_READ: u64 = 1 << 30;

/// A remote file read by ranges.
pub struct RangeFile {
    hub: Hub,
    /// The URL the bytes come from (after the Hub's redirect).
    url: String,
    len: u64,
    /// Pieces fetched so far: (start, bytes).
    pieces: Mutex<Vec<(u64, bytes::Bytes)>>,
    fetched: AtomicU64,
    cancel: CancelToken,
    /// The repo and path, for messages.
    repo: String,
    path: String,
}

impl RangeFile {
    /// Finds where `url` (a Hub `resolve` URL, or any URL that redirects
    /// to a file) serves its bytes, and how many there are.
    pub fn open(hub: &Hub, url: &str, repo: &str, path: &str, cancel: CancelToken) -> Result<Self> {
        if hub.config.offline {
            return Err(HubError::Offline {
                what: format!("read {path} of {repo}"),
            });
        }
        let ctx = Ctx {
            repo,
            revision: None,
            path: Some(path),
        };
        let mut at = url.to_string();
        for _ in 0..10 {
            let resp = retry(4, || hub.send_no_follow("HEAD", &at, &[], &ctx))?;
            if (300..400).contains(&resp.status()) {
                let Some(loc) = resp.header("location") else {
                    return Err(HubError::Malformed {
                        what: format!("redirect without a location from {at}"),
                    });
                };
                at = resolve_location(&at, loc);
                continue;
            }
            let len = resp
                .header("content-length")
                .and_then(|l| l.parse::<u64>().ok())
                .ok_or_else(|| HubError::Malformed {
                    what: format!("no size for {path} of {repo}"),
                })?;
            return Ok(Self {
                hub: hub.clone(),
                url: at,
                len,
                pieces: Mutex::new(Vec::new()),
                fetched: AtomicU64::new(0),
                cancel,
                repo: repo.to_string(),
                path: path.to_string(),
            });
        }
        Err(HubError::Malformed {
            what: format!("too many redirects for {url}"),
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes fetched over the network so far.
    pub fn fetched(&self) -> u64 {
        self.fetched.load(Ordering::Relaxed)
    }

    /// Bytes `start..start + len` (cut at the end of the file), from the
    /// pieces already fetched when one holds them all, else fetched (and
    /// kept) in one request.
    pub fn read(&self, start: u64, len: u64) -> Result<bytes::Bytes> {
        let end = start.saturating_add(len).min(self.len);
        if start >= end {
            return Ok(bytes::Bytes::new());
        }
        if let Some(b) = self.cached(start, end) {
            return Ok(b);
        }
        if end - start > MAX_READ {
            return Err(HubError::Malformed {
                what: format!(
                    "{} of {} asks to read {} at once",
                    self.path,
                    self.repo,
                    crate::format::format_bytes(end - start)
                ),
            });
        }
        if self.cancel.is_cancelled() {
            return Err(HubError::Cancelled);
        }
        let bytes = retry(4, || self.fetch(start, end))?;
        let mut pieces = self.pieces.lock().unwrap_or_else(|p| p.into_inner());
        pieces.push((start, bytes.clone()));
        Ok(bytes)
    }

    fn cached(&self, start: u64, end: u64) -> Option<bytes::Bytes> {
        let pieces = self.pieces.lock().unwrap_or_else(|p| p.into_inner());
        pieces.iter().find_map(|(at, b)| {
            let stop = at + b.len() as u64;
            (*at <= start && end <= stop)
                .then(|| b.slice((start - at) as usize..(end - at) as usize))
        })
    }

    /// The rest of the piece that holds `start`, if one does (for a
    /// reader that does not know how far it will read).
    pub fn cached_from(&self, start: u64) -> Option<bytes::Bytes> {
        let pieces = self.pieces.lock().unwrap_or_else(|p| p.into_inner());
        pieces.iter().find_map(|(at, b)| {
            let stop = at + b.len() as u64;
            (*at <= start && start < stop).then(|| b.slice((start - at) as usize..))
        })
    }

    fn fetch(&self, start: u64, end: u64) -> Result<bytes::Bytes> {
        let ctx = Ctx {
            repo: &self.repo,
            revision: None,
            path: Some(&self.path),
        };
        let range = format!("bytes={start}-{}", end - 1);
        let resp = self
            .hub
            .send_no_follow("GET", &self.url, &[("Range", range)], &ctx)?;
        // A server that ignores `Range` sends the whole file: skip to the
        // part wanted.
        let skip = if resp.status() == 206 { 0 } else { start };
        let want = end - start;
        let mut reader = resp.into_reader().take(skip + want);
        let mut buf = Vec::with_capacity(want as usize);
        std::io::copy(&mut (&mut reader).take(skip), &mut std::io::sink())
            .and_then(|_| reader.read_to_end(&mut buf))
            .map_err(|e| HubError::Network {
                endpoint: origin(&self.url).to_string(),
                reason: e.to_string(),
            })?;
        self.fetched
            .fetch_add(buf.len() as u64 + skip, Ordering::Relaxed);
        if (buf.len() as u64) < want {
            return Err(HubError::Network {
                endpoint: origin(&self.url).to_string(),
                reason: format!(
                    "the connection ended after {} of {} bytes of {}",
                    buf.len(),
                    want,
                    self.path
                ),
            });
        }
        Ok(bytes::Bytes::from(buf))
    }
}
