//! The Hub's dataset endpoints Spaceport uses: the parquet export's files
//! by config and split (`/api/datasets/{id}/parquet`), and a dataset
//! file's `resolve` URL. Rows are read from those files by range
//! ([`super::range`]).

use std::collections::BTreeMap;

use super::client::{Ctx, read_json, retry};
use super::paths::{check_repo_id, url_encode, url_encode_path};
use super::{Hub, HubError, Result};

/// The parquet export's shard URLs: config → split → URLs, in order.
pub type ParquetListing = BTreeMap<String, BTreeMap<String, Vec<String>>>;

impl Hub {
    /// The parquet export of dataset `id` (`refs/convert/parquet`), or
    /// `None` when the Hub has none for it.
    pub fn dataset_parquet(&self, id: &str) -> Result<Option<ParquetListing>> {
        check_repo_id(id)?;
        if self.config.offline {
            return Err(HubError::Offline {
                what: format!("list the parquet files of {id}"),
            });
        }
        let url = format!("{}/api/datasets/{id}/parquet", self.config.endpoint);
        let ctx = Ctx {
            repo: id,
            revision: None,
            path: None,
        };
        match retry(3, || self.send("GET", &url, &[], &ctx)) {
            Ok(resp) => Ok(Some(read_json(resp, &url)?)),
            // The Hub answers a dataset without an export as one it
            // cannot find; the caller says both.
            Err(
                HubError::RepoNotFound { .. }
                | HubError::EntryNotFound { .. }
                | HubError::RevisionNotFound { .. }
                | HubError::Http { status: 404, .. },
            ) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The `resolve` URL of a dataset file at `revision`.
    pub fn dataset_file_url(&self, id: &str, revision: &str, path: &str) -> String {
        format!(
            "{}/datasets/{id}/resolve/{}/{}",
            self.config.endpoint,
            url_encode(revision),
            url_encode_path(path)
        )
    }
}
