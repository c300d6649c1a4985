//! `spaceport dataset`: datasets without the window — what a dataset holds
//! (`info`) and its rows (`rows`), from a local parquet file or folder, or
//! a Hub dataset already in the cache.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{CliError, outln};
use crate::datasets::DataError;
use crate::datasets::local::LocalDataset;
use crate::hub::HubConfig;

#[derive(Args, Debug)]
pub struct DatasetArgs {
    #[command(subcommand)]
    pub command: DatasetCommand,
}

#[derive(Subcommand, Debug)]
pub enum DatasetCommand {
    /// Configs, splits (rows, bytes) and column types of a dataset.
    Info {
        /// A Hub dataset id in the cache, or a local parquet file or folder.
        dataset: String,
        #[arg(long, default_value = "main")]
        revision: String,
        #[arg(long)]
        json: bool,
    },
    /// Rows of one split: one JSON object a line with --json (`row_idx`,
    /// `row`), pictures and sounds as their length and sha256.
    Rows {
        dataset: String,
        #[arg(long)]
        config: Option<String>,
        #[arg(long)]
        split: Option<String>,
        #[arg(long, default_value_t = 0)]
        offset: u64,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long, default_value = "main")]
        revision: String,
        #[arg(long)]
        json: bool,
    },
}

impl From<DataError> for CliError {
    fn from(e: DataError) -> Self {
        match e {
            DataError::Missing(m) => CliError::Missing(m),
            DataError::Cancelled => CliError::Task(crate::tasks::TaskError::Cancelled),
            other => CliError::Input(other.to_string()),
        }
    }
}

/// A local path, or the cached snapshot of a Hub dataset id (the parquet
/// export's ref first when `revision` is `main` and the export is cached).
fn resolve(config: &HubConfig, dataset: &str, revision: &str) -> Result<PathBuf, CliError> {
    let path = Path::new(dataset);
    if path.exists() {
        return Ok(path.to_path_buf());
    }
    if crate::hub::paths::check_repo_id(dataset).is_err() {
        return Err(CliError::Missing(format!(
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
                return Ok(snap);
            }
        }
    }
    Err(CliError::Missing(format!(
        "{dataset} is not in the cache ({}); download it first.",
        config.cache_dir.display()
    )))
}

pub fn run(config: &HubConfig, args: DatasetArgs) -> Result<(), CliError> {
    let cancel = crate::work::cancel_on_interrupt();
    match args.command {
        DatasetCommand::Info {
            dataset,
            revision,
            json,
        } => {
            let dir = resolve(config, &dataset, &revision)?;
            let mut info = LocalDataset::open(&dir)?.info()?;
            if !Path::new(&dataset).exists() {
                info.id = dataset;
            }
            if json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&info.to_json()).unwrap_or_default()
                );
            } else {
                outln!("{}", info.id);
                for c in &info.configs {
                    for s in &c.splits {
                        outln!(
                            "  {}/{}: {} rows, {}",
                            c.name,
                            s.name,
                            s.num_rows.map(|n| n.to_string()).unwrap_or("?".into()),
                            s.num_bytes
                                .map(crate::format::format_bytes)
                                .unwrap_or("?".into())
                        );
                    }
                }
                outln!("Columns:");
                for (name, f) in &info.features {
                    outln!("  {name}: {}", f.describe());
                }
                outln!(
                    "Fits: {}",
                    crate::datasets::features::fit(&info.features).explain()
                );
            }
        }
        DatasetCommand::Rows {
            dataset,
            config: cfg,
            split,
            offset,
            limit,
            revision,
            json,
        } => {
            let dir = resolve(config, &dataset, &revision)?;
            let local = LocalDataset::open(&dir)?;
            let (c, s) = local.choose(cfg.as_deref(), split.as_deref())?;
            let table = local.split(&c, &s)?;
            // A page at a time, so a large --limit streams.
            let mut at = offset;
            let end = offset.saturating_add(limit as u64).min(table.num_rows());
            while at < end {
                let n = ((end - at) as usize).min(100);
                let rows = table.rows(at, n, &cancel)?;
                if rows.is_empty() {
                    break;
                }
                for row in &rows {
                    if json {
                        outln!("{}", row.to_json());
                    } else {
                        let cells: Vec<String> = row
                            .cells
                            .iter()
                            .map(|(k, v)| format!("{k}={}", v.short(60)))
                            .collect();
                        outln!("{}\t{}", row.index, cells.join("\t"));
                    }
                }
                at += rows.len() as u64;
            }
        }
    }
    Ok(())
}
