//! Opening a dataset by name, whatever it is: a local file or folder, a
//! Hub dataset in the cache (what Spaceport or Python downloaded), or one
//! read in place from the Hub — and one split of it, local or remote.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::local::{LocalDataset, Split};
use super::remote::{RemoteDataset, RemoteFile};
use super::table::Table;
use super::{ConfigInfo, DataError, DatasetInfo, Row, SplitInfo};
use crate::hub::{Hub, HubConfig, HubError};
use crate::work::CancelToken;

/// Where a dataset's rows come from.
enum Where {
    /// A local file or folder (or a cached snapshot).
    Path(PathBuf),
    /// A dataset on the Hub, read in place.
    Hub(String),
}

/// A local path; else the cached snapshot of a Hub dataset id (the parquet
/// export's ref first when `revision` is `main`); else, online, the Hub.
fn resolve(config: &HubConfig, dataset: &str, revision: &str) -> Result<Where, DataError> {
    let path = Path::new(dataset);
    if path.exists() {
        return Ok(Where::Path(path.to_path_buf()));
    }
    if crate::hub::paths::check_repo_id(dataset).is_err() {
        return Err(DataError::Missing(format!(
            "{dataset} is neither a file or folder here nor a dataset id (org/name)."
        )));
    }
    let folder = config
        .cache_dir
        .join(format!("datasets--{}", dataset.replace('/', "--")));
    let refs: Vec<&str> = if revision == "main" {
        vec!["refs/convert/parquet", "main"]
    } else {
        vec![revision]
    };
    for r in refs {
        let commit = if crate::hub::paths::is_commit(r) {
            Some(r.to_string())
        } else {
            std::fs::read_to_string(folder.join("refs").join(r))
                .ok()
                .map(|c| c.trim().to_string())
        };
        if let Some(commit) = commit {
            let snap = folder.join("snapshots").join(&commit);
            if snap.is_dir() {
                return Ok(Where::Path(snap));
            }
        }
    }
    if config.offline {
        return Err(DataError::Remote(HubError::Offline {
            what: format!("read {dataset}, which is not in the cache"),
        }));
    }
    Ok(Where::Hub(dataset.to_string()))
}

/// An opened dataset, local or remote.
pub enum Dataset {
    Local(LocalDataset),
    Remote(RemoteDataset),
}

impl Dataset {
    /// Opens `dataset`: a path, a cached Hub dataset, or (online) the Hub's.
    pub fn open(
        hub: &Hub,
        dataset: &str,
        revision: &str,
        cancel: &CancelToken,
    ) -> Result<Self, DataError> {
        Ok(match resolve(&hub.config, dataset, revision)? {
            Where::Path(p) => Dataset::Local(LocalDataset::open(&p)?),
            Where::Hub(id) => Dataset::Remote(RemoteDataset::open(hub, &id, cancel.clone())?),
        })
    }

    /// The revision read: a cached snapshot's commit, or the remote
    /// revision (the parquet export or main); none for a plain folder.
    pub fn revision(&self) -> Option<String> {
        match self {
            Dataset::Local(d) => crate::hub::paths::snapshot_commit(&d.root),
            Dataset::Remote(d) => Some(d.revision.clone()),
        }
    }

    pub fn configs(&self) -> Vec<(String, Vec<String>)> {
        match self {
            Dataset::Local(d) => d.configs(),
            Dataset::Remote(d) => d.configs(),
        }
    }

    /// Configs and splits with row counts and sizes (every shard's footer
    /// is read: a request or two each when remote), and the first split's
    /// columns.
    pub fn info(&self) -> Result<DatasetInfo, DataError> {
        let mut configs = Vec::new();
        let mut features = Vec::new();
        for (config, splits) in self.configs() {
            let mut infos = Vec::new();
            for s in splits {
                let split = self.split(&config, &s)?;
                if features.is_empty() {
                    features = split.features();
                }
                infos.push(SplitInfo {
                    num_rows: Some(split.num_rows()),
                    num_bytes: Some(split.num_bytes()),
                    name: s,
                });
            }
            configs.push(ConfigInfo {
                name: config,
                splits: infos,
            });
        }
        Ok(DatasetInfo {
            id: match self {
                Dataset::Local(d) => d.root.display().to_string(),
                Dataset::Remote(d) => d.id.clone(),
            },
            configs,
            features,
        })
    }

    /// Opens one split (its shards' footers read).
    pub fn split(&self, config: &str, split: &str) -> Result<AnySplit, DataError> {
        Ok(match self {
            Dataset::Local(d) => d.split(config, split)?,
            Dataset::Remote(d) => AnySplit::Remote(d.split(config, split)?),
        })
    }
}

/// One split, local or remote.
pub enum AnySplit {
    Local(Split<File>),
    Remote(Split<RemoteFile>),
    /// CSV, JSON Lines or a folder of sounds or pictures.
    Table(Table),
}

impl AnySplit {
    pub fn num_rows(&self) -> u64 {
        match self {
            AnySplit::Local(s) => s.num_rows(),
            AnySplit::Remote(s) => s.num_rows(),
            AnySplit::Table(t) => t.num_rows(),
        }
    }

    /// Up to `limit` rows from row `offset`.
    pub fn rows(
        &self,
        offset: u64,
        limit: usize,
        cancel: &CancelToken,
    ) -> Result<Vec<Row>, DataError> {
        let mut out = Vec::new();
        self.for_each_row(offset, limit as u64, cancel, &mut |row| {
            out.push(row);
            Ok(())
        })?;
        Ok(out)
    }

    /// Hands rows `offset..offset + limit` to `f` in one pass.
    pub fn for_each_row(
        &self,
        offset: u64,
        limit: u64,
        cancel: &CancelToken,
        f: &mut dyn FnMut(Row) -> Result<(), DataError>,
    ) -> Result<(), DataError> {
        match self {
            AnySplit::Local(s) => s.for_each_row(offset, limit, cancel, f),
            AnySplit::Remote(s) => s.for_each_row(offset, limit, cancel, f),
            AnySplit::Table(t) => t.for_each_row(offset, limit, cancel, f),
        }
    }

    /// The size of the split's files.
    pub fn num_bytes(&self) -> u64 {
        use parquet::file::reader::Length;
        match self {
            AnySplit::Local(s) => s.shards.iter().map(|f| f.source().len()).sum(),
            AnySplit::Remote(s) => s.shards.iter().map(|f| f.source().len()).sum(),
            AnySplit::Table(t) => t.bytes,
        }
    }

    /// For a remote split, the bytes fetched so far and the shards' size.
    pub fn fetched(&self) -> Option<(u64, u64)> {
        match self {
            AnySplit::Local(_) | AnySplit::Table(_) => None,
            AnySplit::Remote(s) => Some((
                s.shards.iter().map(|f| f.source().0.fetched()).sum(),
                s.shards.iter().map(|f| f.source().0.len()).sum(),
            )),
        }
    }

    /// The split's columns (its first shard's).
    pub fn features(&self) -> Vec<(String, super::Feature)> {
        match self {
            AnySplit::Local(s) => s.shards.first().map(|f| f.features.clone()),
            AnySplit::Remote(s) => s.shards.first().map(|f| f.features.clone()),
            AnySplit::Table(t) => Some(t.features.clone()),
        }
        .unwrap_or_default()
    }
}
