//! Datasets on disk: one parquet file, or a folder of them laid out as the
//! Hub lays them out — `{config}/{split}/NNNN.parquet` (the parquet
//! export), or files whose names say their split (`data/test-00000-of-
//! 00001.parquet`, as `datasets` infers splits: train, test, validation).
//! A split of several files reads as one table ([`Split`]). A folder
//! without parquet holds CSV or JSON Lines files, or sounds or pictures
//! (`audiofolder`/`imagefolder`), read by [`super::table`].

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::parquet::{ParquetFile, Source};
use super::table::{self, FileKind, Table};
use super::{AnySplit, DataError, MediaKind, Row};
use crate::work::CancelToken;

/// One split's files as one table.
pub struct Split<R: Source> {
    pub shards: Vec<ParquetFile<R>>,
}

impl<R: Source> Split<R> {
    pub fn num_rows(&self) -> u64 {
        self.shards.iter().map(|s| s.num_rows).sum()
    }

    /// Hands rows `offset..offset + limit` to `f`, across shards, in one
    /// pass.
    pub fn for_each_row(
        &self,
        offset: u64,
        limit: u64,
        cancel: &CancelToken,
        f: &mut dyn FnMut(Row) -> Result<(), DataError>,
    ) -> Result<(), DataError> {
        let end = offset.saturating_add(limit);
        let mut base = 0u64;
        for shard in &self.shards {
            let stop = base + shard.num_rows;
            if offset < stop && base < end {
                let local = offset.saturating_sub(base);
                let n = end.min(stop) - base.max(offset);
                shard.for_each_row(local, n, base, cancel, f)?;
            }
            base = stop;
            if base >= end {
                break;
            }
        }
        Ok(())
    }
}

/// The split a file belongs to by its name, as `datasets` infers it:
/// `train`, `test` or `validation` (also `valid`, `dev`, `eval`) between
/// delimiters anywhere in the path; `train` otherwise.
pub fn split_of(relative: &Path) -> String {
    let text = relative.to_string_lossy().to_lowercase();
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for (names, split) in [
        (&["train", "training"][..], "train"),
        (
            &["validation", "valid", "val", "dev", "eval"][..],
            "validation",
        ),
        (&["test", "testing"][..], "test"),
    ] {
        if words.iter().any(|w| names.contains(w)) {
            return split.to_string();
        }
    }
    "train".to_string()
}

/// Where a split comes in a list: train, validation, test, then others.
pub fn split_rank(split: &str) -> u8 {
    match split {
        "train" => 0,
        "validation" => 1,
        "test" => 2,
        _ => 3,
    }
}

/// What a dataset on disk is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Parquet,
    /// CSV or JSON Lines files.
    Text,
    /// An `audiofolder` or `imagefolder`.
    Media(MediaKind),
}

/// A dataset on disk: its data files by (config, split).
pub struct LocalDataset {
    pub root: PathBuf,
    pub layout: Layout,
    pub files: BTreeMap<(String, String), Vec<PathBuf>>,
    /// A media folder's `metadata.csv`/`.jsonl` files by split (one at
    /// the root counts for every split).
    metadata: BTreeMap<String, Vec<PathBuf>>,
}

impl LocalDataset {
    /// Finds the data files of `path` (a file or a folder).
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let meta = std::fs::metadata(path)
            .map_err(|e| DataError::Missing(format!("Could not open {}: {e}.", path.display())))?;
        let mut files = BTreeMap::new();
        let mut metadata: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
        let layout;
        if meta.is_file() {
            layout = match FileKind::of(path) {
                Some(FileKind::Parquet) => Layout::Parquet,
                Some(FileKind::Csv | FileKind::JsonLines) => Layout::Text,
                _ => {
                    return Err(DataError::Unsupported(format!(
                        "{} is not a parquet, CSV or JSON Lines file; Spaceport reads \
                         those, and folders of sounds or pictures.",
                        path.display()
                    )));
                }
            };
            files.insert(
                ("default".to_string(), "train".to_string()),
                vec![path.to_path_buf()],
            );
        } else {
            let mut found = Vec::new();
            collect_files(path, &mut found, 0);
            found.sort_by(|a, b| a.0.cmp(&b.0));
            let count = |k: FileKind| found.iter().filter(|(_, f)| *f == k).count();
            let is_metadata = |p: &Path| {
                p.file_stem().is_some_and(|s| s == "metadata")
                    && matches!(FileKind::of(p), Some(FileKind::Csv | FileKind::JsonLines))
            };
            let (audio, image) = (
                count(FileKind::Media(MediaKind::Audio)),
                count(FileKind::Media(MediaKind::Image)),
            );
            layout = if count(FileKind::Parquet) > 0 {
                Layout::Parquet
            } else if audio + image > 0 {
                Layout::Media(if audio >= image {
                    MediaKind::Audio
                } else {
                    MediaKind::Image
                })
            } else if found
                .iter()
                .any(|(p, k)| matches!(k, FileKind::Csv | FileKind::JsonLines) && !is_metadata(p))
            {
                Layout::Text
            } else {
                return Err(DataError::Unsupported(format!(
                    "{} holds no data files (parquet, CSV, JSON Lines, sounds or pictures).",
                    path.display()
                )));
            };
            for (f, kind) in found {
                let rel = f.strip_prefix(path).unwrap_or(&f).to_path_buf();
                let wanted = match layout {
                    Layout::Parquet => kind == FileKind::Parquet,
                    Layout::Text => {
                        matches!(kind, FileKind::Csv | FileKind::JsonLines) && !is_metadata(&f)
                    }
                    Layout::Media(m) => {
                        if is_metadata(&f) {
                            let split = if rel.components().count() > 1 {
                                split_of(&rel)
                            } else {
                                String::new() // every split's
                            };
                            metadata.entry(split).or_default().push(f);
                            continue;
                        }
                        kind == FileKind::Media(m)
                    }
                };
                if !wanted {
                    continue;
                }
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                let key = if layout == Layout::Parquet
                    && parts.len() == 3
                    && !parts[0].starts_with('.')
                {
                    // The parquet export: {config}/{split}/NNNN.parquet
                    // ({config}/partial-{split}/ when cut short).
                    let split = parts[1].strip_prefix("partial-").unwrap_or(&parts[1]);
                    let split = split.split("-part").next().unwrap_or(split);
                    (parts[0].clone(), split.to_string())
                } else {
                    ("default".to_string(), split_of(&rel))
                };
                files.entry(key).or_insert_with(Vec::new).push(f);
            }
            if files.is_empty() {
                return Err(DataError::Unsupported(format!(
                    "{} holds no data files that its metadata names.",
                    path.display()
                )));
            }
        }
        Ok(Self {
            root: path.to_path_buf(),
            layout,
            files,
            metadata,
        })
    }

    /// The configs and splits, in order (train, validation, test first).
    pub fn configs(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for (config, split) in self.files.keys() {
            match out.iter_mut().find(|(c, _)| c == config) {
                Some((_, s)) => s.push(split.clone()),
                None => out.push((config.clone(), vec![split.clone()])),
            }
        }
        for (_, splits) in &mut out {
            splits.sort_by_key(|s| (split_rank(s), s.clone()));
        }
        out
    }

    /// The config and split meant by the user's (optional) names.
    pub fn choose(
        &self,
        config: Option<&str>,
        split: Option<&str>,
    ) -> Result<(String, String), DataError> {
        choose(&self.configs(), config, split)
    }

    /// Opens one split: a parquet split's footers read, other files
    /// read into memory (a folder's sounds and pictures only when their
    /// rows are asked for).
    pub fn split(&self, config: &str, split: &str) -> Result<AnySplit, DataError> {
        let files = self
            .files
            .get(&(config.to_string(), split.to_string()))
            .ok_or_else(|| DataError::NotFound(format!("No split \"{config}/{split}\".")))?;
        match self.layout {
            Layout::Parquet => {
                let shards = files
                    .iter()
                    .map(|f| {
                        let file = File::open(f).map_err(|e| {
                            DataError::Missing(format!("Could not open {}: {e}.", f.display()))
                        })?;
                        ParquetFile::open(file, &f.display().to_string())
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(AnySplit::Local(Split { shards }))
            }
            Layout::Text => {
                let tables = files
                    .iter()
                    .map(|f| table::read_file(f, FileKind::of(f).unwrap_or(FileKind::Csv)))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(AnySplit::Table(Table::concat(tables)))
            }
            Layout::Media(kind) => {
                let mut meta: Vec<PathBuf> = self.metadata.get("").cloned().unwrap_or_default();
                meta.extend(self.metadata.get(split).cloned().unwrap_or_default());
                Ok(AnySplit::Table(table::read_folder(
                    kind, &self.root, files, &meta,
                )?))
            }
        }
    }
}

/// The config and split meant by the user's (optional) names among
/// `configs`: the first config, and its first split, when not given.
pub fn choose(
    configs: &[(String, Vec<String>)],
    config: Option<&str>,
    split: Option<&str>,
) -> Result<(String, String), DataError> {
    let (c, splits) = match config {
        Some(name) => configs.iter().find(|(c, _)| c == name).ok_or_else(|| {
            DataError::NotFound(format!(
                "This dataset has no config \"{name}\"; it has {}.",
                configs
                    .iter()
                    .map(|(c, _)| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
        None => configs
            .first()
            .ok_or_else(|| DataError::Unsupported("This dataset has no data files.".into()))?,
    };
    let s = match split {
        Some(name) => splits.iter().find(|s| *s == name).ok_or_else(|| {
            DataError::NotFound(format!(
                "Config \"{c}\" has no split \"{name}\"; it has {}.",
                splits.join(", ")
            ))
        })?,
        None => splits
            .first()
            .ok_or_else(|| DataError::Unsupported(format!("Config \"{c}\" has no splits.")))?,
    };
    Ok((c.clone(), s.clone()))
}

/// Data files under `dir` with what they hold, not following hidden
/// folders, at most eight levels down.
fn collect_files(dir: &Path, out: &mut Vec<(PathBuf, FileKind)>, depth: usize) {
    if depth > 8 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let hidden = e.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if p.is_dir() {
            collect_files(&p, out, depth + 1);
        } else if let Some(kind) = FileKind::of(&p) {
            out.push((p, kind));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_by_name_as_datasets_infers_them() {
        assert_eq!(
            split_of(Path::new("data/test-00000-of-00001.parquet")),
            "test"
        );
        assert_eq!(split_of(Path::new("validation.parquet")), "validation");
        assert_eq!(split_of(Path::new("data/dev/x.parquet")), "validation");
        assert_eq!(split_of(Path::new("contest.parquet")), "train");
        assert_eq!(split_of(Path::new("data.parquet")), "train");
    }
}
