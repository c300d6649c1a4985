//! Datasets: tables of rows with text, numbers, pictures and sounds, as
//! the Hugging Face `datasets` library stores them — parquet files (on the
//! Hub's `main`, its `refs/convert/parquet` export, or the user's disk)
//! whose schema metadata names each column's type. This layer reads them
//! (a row group at a time, [`parquet`]), says what each column is and
//! which demo the columns fit ([`features`]), and holds one cell's value
//! ([`value`]). It knows nothing of windows or workers; the Hub is asked
//! through [`crate::hub`].

pub mod features;
pub mod local;
pub mod parquet;
pub mod prepare;
pub mod remote;
pub mod source;
pub mod table;
pub mod value;
pub mod write;

pub use features::{Feature, Fit};
pub use source::{AnySplit, Dataset};
pub use value::{Media, MediaKind, Row, Value};

/// Why a dataset could not be read, in a sentence.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or folder that is not there.
    #[error("{0}")]
    Missing(String),
    /// A file that is there but cannot be read as what it claims to be.
    #[error("{0}")]
    Damaged(String),
    /// Something Spaceport does not read (a loading script, a format).
    #[error("{0}")]
    Unsupported(String),
    /// A config or split name the dataset does not have.
    #[error("{0}")]
    NotFound(String),
    /// The Hub could not give the rows (network, access, offline).
    #[error(transparent)]
    Remote(crate::hub::HubError),
    #[error("Cancelled.")]
    Cancelled,
}

impl DataError {
    /// The CLI's exit code: 3 missing, 2 a bad or unsupported input or
    /// name, 130 cancelled.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Missing(_) => 3,
            Self::Damaged(_) | Self::Unsupported(_) | Self::NotFound(_) => 2,
            Self::Remote(e) => e.exit_code(),
            Self::Cancelled => 130,
        }
    }
}

/// One split: its name, row count and size where known.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SplitInfo {
    pub name: String,
    pub num_rows: Option<u64>,
    pub num_bytes: Option<u64>,
}

/// One config (a subset) and its splits.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ConfigInfo {
    pub name: String,
    pub splits: Vec<SplitInfo>,
}

/// What `dataset info` says of a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetInfo {
    /// The repo id, or the local path.
    pub id: String,
    pub configs: Vec<ConfigInfo>,
    /// The columns of the first config's first split.
    pub features: Vec<(String, Feature)>,
}

impl DatasetInfo {
    /// `{"id", "configs": [{name, splits: [{name, num_rows, num_bytes}]}],
    /// "features": {column: type}, "fits": demo or null, "fit": words}`.
    pub fn to_json(&self) -> serde_json::Value {
        let fit = features::fit(&self.features);
        serde_json::json!({
            "id": self.id,
            "configs": self.configs,
            "features": self
                .features
                .iter()
                .map(|(k, f)| (k.clone(), serde_json::Value::String(f.describe())))
                .collect::<serde_json::Map<_, _>>(),
            "fits": fit.panel().map(|p| p.label()),
            "fit": fit.explain(),
        })
    }
}
