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

/// A dataset search.
#[derive(Clone, Debug)]
pub struct DatasetQuery {
    pub text: String,
    /// Speech recognition, translation, image to text, or all.
    pub task: super::TaskFilter,
    /// `audio`, `image`, `text`…, or any.
    pub modality: Option<String>,
    pub sort: super::Sort,
    pub limit: usize,
}

/// One dataset search result, as the Hub describes it (which demo it
/// fits is the datasets layer's to say, from `card_data` and `tags`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct DatasetSummary {
    pub id: String,
    pub downloads: u64,
    pub likes: u64,
    pub gated: bool,
    pub private: bool,
    pub last_modified: Option<String>,
    /// What the repo takes on the Hub (`usedStorage`).
    pub size_bytes: Option<u64>,
    pub tags: Vec<String>,
    /// The card's YAML as JSON (its `dataset_info` names the columns).
    #[serde(skip)]
    pub card_data: Option<serde_json::Value>,
    /// The repo's file names (a loading script shows here).
    #[serde(skip)]
    pub files: Vec<String>,
}

/// A page of dataset results and the `Link` to the next.
#[derive(Clone, Debug)]
pub struct DatasetPage {
    pub datasets: Vec<DatasetSummary>,
    pub next: Option<String>,
}

#[derive(serde::Deserialize)]
struct ApiDataset {
    id: String,
    #[serde(default)]
    downloads: u64,
    #[serde(default)]
    likes: u64,
    #[serde(default)]
    gated: serde_json::Value,
    #[serde(default)]
    private: bool,
    #[serde(rename = "lastModified")]
    last_modified: Option<String>,
    #[serde(rename = "usedStorage")]
    used_storage: Option<u64>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(rename = "cardData")]
    card_data: Option<serde_json::Value>,
    #[serde(default)]
    siblings: Vec<ApiSibling>,
}

#[derive(serde::Deserialize)]
struct ApiSibling {
    rfilename: String,
}

const DATASET_EXPAND: [&str; 9] = [
    "downloads",
    "likes",
    "gated",
    "private",
    "lastModified",
    "usedStorage",
    "tags",
    "cardData",
    "siblings",
];

impl Hub {
    /// Searches the Datasets Hub.
    pub fn search_datasets(&self, q: &DatasetQuery) -> Result<DatasetPage> {
        if self.config.offline {
            return Err(HubError::Offline {
                what: "search the Hub".into(),
            });
        }
        let mut url = format!(
            "{}/api/datasets?search={}&sort={}&direction=-1&limit={}",
            self.config.endpoint,
            url_encode(q.text.trim()),
            q.sort.api_name(),
            q.limit.clamp(1, 1000)
        );
        if let Some(tag) = q.task.pipeline_tag() {
            url.push_str(&format!("&filter=task_categories:{tag}"));
        }
        if let Some(m) = &q.modality {
            url.push_str(&format!("&filter=modality:{}", url_encode(m)));
        }
        for e in DATASET_EXPAND {
            url.push_str(&format!("&expand={e}"));
        }
        self.dataset_search_page(&url)
    }

    /// The page at a `Link` URL from an earlier page ("load more").
    pub fn dataset_search_page(&self, url: &str) -> Result<DatasetPage> {
        let ctx = Ctx {
            repo: "the dataset list",
            revision: None,
            path: None,
        };
        let resp = retry(3, || self.send("GET", url, &[], &ctx))?;
        let next = resp.header("link").and_then(super::client::next_link);
        let found: Vec<ApiDataset> = read_json(resp, url)?;
        Ok(DatasetPage {
            datasets: found
                .into_iter()
                .map(|d| DatasetSummary {
                    gated: super::client::gated_mode(&d.gated).is_some(),
                    id: d.id,
                    downloads: d.downloads,
                    likes: d.likes,
                    private: d.private,
                    last_modified: d.last_modified,
                    size_bytes: d.used_storage,
                    tags: d.tags,
                    card_data: d.card_data,
                    files: d.siblings.into_iter().map(|s| s.rfilename).collect(),
                })
                .collect(),
            next,
        })
    }
}

impl Hub {
    /// The file a parquet listing URL stands for, as a path on the export's
    /// branch (`default/test/0000.parquet`): the listing URL redirects to
    /// the file's `resolve` URL, whose tail is the path.
    pub fn export_path(&self, id: &str, listing_url: &str) -> Result<String> {
        let ctx = Ctx {
            repo: id,
            revision: None,
            path: None,
        };
        let resp = retry(3, || self.send_no_follow("HEAD", listing_url, &[], &ctx))?;
        let location = resp
            .header("location")
            .filter(|_| (300..400).contains(&resp.status()))
            .ok_or_else(|| HubError::Malformed {
                what: format!("no file behind {listing_url}"),
            })?;
        let tail = location
            .split_once("/resolve/")
            .and_then(|(_, t)| t.split_once('/'))
            .map(|(_, path)| path)
            .ok_or_else(|| HubError::Malformed {
                what: format!("an unexpected file location {location}"),
            })?;
        let path = super::paths::percent_decode(tail.split(['?', '#']).next().unwrap_or(tail));
        super::paths::check_repo_path(&path)?;
        Ok(path)
    }
}
