//! Datasets on the Hub, read in place: the parquet export's shards listed
//! by config and split, each shard read by HTTP range ([`RangeFile`]) —
//! its footer (the last 64 KiB in one request, which holds it for most
//! files), then, for a page of rows, the byte range of each row group the
//! page needs.

use std::io::Cursor;

use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

use super::DataError;
use super::local::Split;
use super::parquet::{ParquetFile, Source};
use crate::hub::datasets::ParquetListing;
use crate::hub::range::RangeFile;
use crate::hub::{Hub, HubError};
use crate::work::CancelToken;

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

/// A dataset on the Hub with a parquet export.
pub struct RemoteDataset {
    hub: Hub,
    pub id: String,
    listing: ParquetListing,
    cancel: CancelToken,
}

impl RemoteDataset {
    /// Lists `id`'s parquet export.
    pub fn open(hub: &Hub, id: &str, cancel: CancelToken) -> Result<Self, DataError> {
        let listing = hub.dataset_parquet(id).map_err(hub_error)?.ok_or_else(|| {
            DataError::Missing(format!(
                "{id} was not found on the Hub, or the Hub has no parquet export of it."
            ))
        })?;
        Ok(Self {
            hub: hub.clone(),
            id: id.to_string(),
            listing,
            cancel,
        })
    }

    /// The configs and their splits (train, validation, test first).
    pub fn configs(&self) -> Vec<(String, Vec<String>)> {
        self.listing
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
            .listing
            .get(config)
            .and_then(|s| s.get(split))
            .ok_or_else(|| DataError::NotFound(format!("No split \"{config}/{split}\".")))?;
        let mut shards = Vec::with_capacity(urls.len());
        for (i, url) in urls.iter().enumerate() {
            let path = format!("{config}/{split}/{i:04}.parquet");
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
    /// (`datasets--org--name`, ref `refs/convert/parquet`).
    pub fn download(
        &self,
        config: &str,
        split: Option<&str>,
        on_progress: &mut dyn FnMut(&crate::hub::DownloadProgress),
    ) -> Result<crate::hub::Snapshot, DataError> {
        let splits = self.listing.get(config).ok_or_else(|| {
            DataError::NotFound(format!("{} has no config \"{config}\".", self.id))
        })?;
        let mut paths = Vec::new();
        for (name, urls) in splits {
            if split.is_some_and(|s| s != name) {
                continue;
            }
            for url in urls {
                paths.push(self.hub.export_path(&self.id, url).map_err(hub_error)?);
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
            .download_dataset_files(
                &self.id,
                "refs/convert/parquet",
                &paths,
                &self.cancel,
                on_progress,
            )
            .map_err(hub_error)
    }
}
