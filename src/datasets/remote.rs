//! Datasets on the Hub, read in place: the parquet export's shards listed
//! by config and split — or, for a dataset without an export, the parquet
//! files on `main` (one config, splits by their names as `datasets`
//! infers them) — each shard read by HTTP range ([`RangeFile`]) —
//! its footer (the last 64 KiB in one request, which holds it for most
//! files), then, for a page of rows, the byte range of each row group the
//! page needs.

use std::collections::BTreeMap;
use std::io::Cursor;

use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

use super::DataError;
use super::local::Split;
use super::parquet::{ParquetFile, Source};
use crate::hub::range::RangeFile;
use crate::hub::{Hub, HubError};
use crate::work::CancelToken;

/// The parquet export's branch.
pub const EXPORT: &str = "refs/convert/parquet";

/// How much of a file's end is fetched with its footer.
const TAIL: u64 = 64 * 1024;
/// How far a read of unknown length (a page header) fetches ahead.
const AHEAD: u64 = 64 * 1024;

/// A remote parquet file.
pub struct RemoteFile(pub RangeFile);

fn external(e: HubError) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl Length for RemoteFile {
    fn len(&self) -> u64 {
        self.0.len()
    }
}

impl ChunkReader for RemoteFile {
    type T = Cursor<bytes::Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let bytes = match self.0.cached_from(start) {
            Some(b) => b,
            None => self.0.read(start, AHEAD).map_err(external)?,
        };
        Ok(Cursor::new(bytes))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        self.0.read(start, length as u64).map_err(external)
    }
}

impl Source for RemoteFile {
    fn prefetch(&self, start: u64, len: u64) -> Result<(), DataError> {
        self.0.read(start, len).map(|_| ()).map_err(hub_error)
    }
}

/// A Hub error in the datasets layer's words.
pub fn hub_error(e: HubError) -> DataError {
    match e {
        HubError::Cancelled => DataError::Cancelled,
        HubError::RepoNotFound { .. } | HubError::EntryNotFound { .. } => {
            DataError::Missing(e.to_string())
        }
        other => DataError::Remote(other),
    }
}

/// One shard: its URL, and its path on the revision when known (the
/// export's listing gives URLs only; the path is asked for on download).
type Shard = (String, Option<String>);

/// A dataset on the Hub: its parquet export, or its parquet files on main.
pub struct RemoteDataset {
    hub: Hub,
    pub id: String,
    /// `refs/convert/parquet`, or the revision of the files on main.
    pub revision: String,
    shards: BTreeMap<String, BTreeMap<String, Vec<Shard>>>,
    cancel: CancelToken,
}

impl RemoteDataset {
    /// Lists `id`'s parquet export, else its parquet files on `main`.
    pub fn open(hub: &Hub, id: &str, cancel: CancelToken) -> Result<Self, DataError> {
        Self::open_at(hub, id, None, cancel)
    }

    /// As [`Self::open`], at `revision`: `refs/convert/parquet` (the
    /// export), `main` or a commit (the parquet files there), or `None`
    /// (the export when there is one).
    pub fn open_at(
        hub: &Hub,
        id: &str,
        revision: Option<&str>,
        cancel: CancelToken,
    ) -> Result<Self, DataError> {
        let export = match revision {
            None | Some(EXPORT) => hub.dataset_parquet(id).map_err(hub_error)?,
            Some(_) => None,
        };
        let (revision, shards) = match (export, revision) {
            (Some(listing), _) => (
                EXPORT.to_string(),
                listing
                    .into_iter()
                    .map(|(c, splits)| {
                        let splits = splits
                            .into_iter()
                            .map(|(s, urls)| (s, urls.into_iter().map(|u| (u, None)).collect()))
                            .collect();
                        (c, splits)
                    })
                    .collect(),
            ),
            (None, Some(EXPORT)) => {
                return Err(DataError::Missing(format!(
                    "{id} was not found on the Hub, or the Hub has no parquet export of it."
                )));
            }
            (None, r) => {
                let rev = r.unwrap_or("main");
                (rev.to_string(), main_files(hub, id, rev)?)
            }
        };
        Ok(Self {
            hub: hub.clone(),
            id: id.to_string(),
            revision,
            shards,
            cancel,
        })
    }

    /// The configs and their splits (train, validation, test first).
    pub fn configs(&self) -> Vec<(String, Vec<String>)> {
        self.shards
            .iter()
            .map(|(c, splits)| {
                let mut s: Vec<String> = splits.keys().cloned().collect();
                s.sort_by_key(|s| (super::local::split_rank(s), s.clone()));
                (c.clone(), s)
            })
            .collect()
    }

    /// Opens one split's shards: each one's footer is fetched.
    pub fn split(&self, config: &str, split: &str) -> Result<Split<RemoteFile>, DataError> {
        let urls = self
            .shards
            .get(config)
            .and_then(|s| s.get(split))
            .ok_or_else(|| DataError::NotFound(format!("No split \"{config}/{split}\".")))?;
        let mut shards = Vec::with_capacity(urls.len());
        for (i, (url, known)) in urls.iter().enumerate() {
            let path = known
                .clone()
                .unwrap_or_else(|| format!("{config}/{split}/{i:04}.parquet"));
            let file = RangeFile::open(&self.hub, url, &self.id, &path, self.cancel.clone())
                .map_err(hub_error)?;
            // The footer and what precedes it, in one request.
            let tail = TAIL.min(file.len());
            file.read(file.len() - tail, tail).map_err(hub_error)?;
            shards.push(ParquetFile::open(
                RemoteFile(file),
                &format!("{}: {path}", self.id),
            )?);
        }
        Ok(Split { shards })
    }

    /// Downloads the parquet files of `config` (every split, or `split`)
    /// into the cache, as Python `datasets` finds them
    /// (`datasets--org--name`, ref `refs/convert/parquet` or `main`).
    pub fn download(
        &self,
        config: &str,
        split: Option<&str>,
        on_progress: &mut dyn FnMut(&crate::hub::DownloadProgress),
    ) -> Result<crate::hub::Snapshot, DataError> {
        let splits = self.shards.get(config).ok_or_else(|| {
            DataError::NotFound(format!("{} has no config \"{config}\".", self.id))
        })?;
        let mut paths = Vec::new();
        for (name, urls) in splits {
            if split.is_some_and(|s| s != name) {
                continue;
            }
            for (url, known) in urls {
                paths.push(match known {
                    Some(p) => p.clone(),
                    None => self.hub.export_path(&self.id, url).map_err(hub_error)?,
                });
            }
        }
        if paths.is_empty() {
            return Err(DataError::NotFound(format!(
                "Config \"{config}\" of {} has no split \"{}\".",
                self.id,
                split.unwrap_or_default()
            )));
        }
        self.hub
            .download_dataset_files(&self.id, &self.revision, &paths, &self.cancel, on_progress)
            .map_err(hub_error)
    }
}

/// The parquet files of `id` at `revision`, by split (one `default`
/// config); a sentence when there are none (a loading script, other
/// formats).
fn main_files(
    hub: &Hub,
    id: &str,
    revision: &str,
) -> Result<BTreeMap<String, BTreeMap<String, Vec<Shard>>>, DataError> {
    let files = hub.dataset_tree(id, revision).map_err(|e| match e {
        HubError::RepoNotFound { .. } => DataError::Missing(format!(
            "{id} was not found on the Hub (or it is private and no token is set)."
        )),
        other => hub_error(other),
    })?;
    let mut splits: BTreeMap<String, Vec<Shard>> = BTreeMap::new();
    let mut paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    paths.sort();
    for path in &paths {
        if path.to_lowercase().ends_with(".parquet") {
            let split = super::local::split_of(std::path::Path::new(path));
            splits.entry(split).or_default().push((
                hub.dataset_file_url(id, revision, path),
                Some(path.to_string()),
            ));
        }
    }
    if splits.is_empty() {
        let script = paths.iter().any(|p| !p.contains('/') && p.ends_with(".py"));
        let data: Vec<&str> = paths
            .iter()
            .filter_map(|p| p.rsplit_once('.').map(|(_, e)| e))
            .filter(|e| {
                [
                    "csv", "json", "jsonl", "tsv", "txt", "arrow", "zip", "tar", "gz",
                ]
                .contains(e)
            })
            .collect();
        return Err(DataError::Unsupported(if script {
            format!(
                "{id} is built by a loading script and has no parquet export; Spaceport reads data files only."
            )
        } else if data.is_empty() {
            format!("{id} has no parquet export and no parquet files on {revision}.")
        } else {
            format!(
                "{id} has no parquet export, and its files on {revision} are not parquet; \
                 download them (with Python's huggingface_hub) and open the folder in Spaceport."
            )
        }));
    }
    Ok(BTreeMap::from([("default".to_string(), splits)]))
}

/// The largest picture or sound fetched for a `hf://` cell.
const MAX_MEDIA: u64 = 256 << 20;

/// A `hf://datasets/{org}/{name}[@{revision}]/{path}` reference: the
/// dataset, revision and file.
pub fn parse_hf_path(path: &str) -> Option<(String, String, String)> {
    let rest = path.strip_prefix("hf://datasets/")?;
    let mut parts = rest.splitn(3, '/');
    let org = parts.next()?;
    let name_rev = parts.next()?;
    let file = parts.next()?;
    let (name, rev) = match name_rev.split_once('@') {
        Some((n, r)) => (n, crate::hub::paths::percent_decode(r)),
        None => (name_rev, "main".to_string()),
    };
    let id = format!("{org}/{name}");
    crate::hub::paths::check_repo_id(&id).ok()?;
    if file.is_empty() || file.split('/').any(|p| p == "..") {
        return None;
    }
    Some((id, rev, file.to_string()))
}

/// Fills in the bytes of the row's pictures and sounds that are only a
/// `hf://datasets/…` path, fetched from the Hub (online; a cell that
/// can't be fetched stays a path).
pub fn fetch_hf_media(hub: &Hub, row: &mut super::Row, cancel: &CancelToken) {
    for (_, v) in &mut row.cells {
        let super::Value::Media(m) = v else {
            continue;
        };
        if m.bytes.is_some() || hub.config.offline || cancel.is_cancelled() {
            continue;
        }
        let Some((id, rev, file)) = m.path.as_deref().and_then(parse_hf_path) else {
            continue;
        };
        let url = hub.dataset_file_url(&id, &rev, &file);
        let fetched = RangeFile::open(hub, &url, &id, &file, cancel.clone()).and_then(|f| {
            if f.len() > MAX_MEDIA {
                return Err(HubError::Malformed {
                    what: format!("{file} is too large to show"),
                });
            }
            f.read(0, f.len())
        });
        if let Ok(bytes) = fetched {
            m.bytes = Some(bytes.to_vec());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hf_paths_name_the_dataset_revision_and_file() {
        assert_eq!(
            parse_hf_path("hf://datasets/org/name@refs%2Fconvert%2Fparquet/a/b.png"),
            Some((
                "org/name".into(),
                "refs/convert/parquet".into(),
                "a/b.png".into()
            ))
        );
        assert_eq!(
            parse_hf_path("hf://datasets/org/name/x.wav"),
            Some(("org/name".into(), "main".into(), "x.wav".into()))
        );
        assert_eq!(parse_hf_path("hf://datasets/org/name@main/../x"), None);
        assert_eq!(parse_hf_path("/tmp/x.png"), None);
        assert_eq!(parse_hf_path("hf://datasets/org"), None);
    }
}
