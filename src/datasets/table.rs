//! Datasets that are not parquet, as Python `datasets` builds them from
//! the user's files: CSV (typed as pandas types it: integers, floats,
//! booleans, else text; an empty cell is null, and an integer column with
//! one turns float), JSON Lines (as pyarrow's JSON reader: integers,
//! floats, text, booleans, lists, objects as structs, a key missing from a
//! line is null), and folders of sounds or pictures (`audiofolder`,
//! `imagefolder`: one row a file, the other columns from a `metadata.csv`
//! or `metadata.jsonl` whose `file_name` names the file, or a `label` from
//! the sub-folder a file lies in). A [`Table`] holds the rows in memory;
//! a sound or picture is read from its file only when its row is asked
//! for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::DataError;
use super::features::Feature;
use super::value::{Media, MediaKind, Row, Value};
use crate::work::CancelToken;

/// A CSV or JSON Lines file larger than this is not read into memory.
const MAX_TEXT_FILE: u64 = 2 << 30;
/// A sound or picture larger than this is not read.
const MAX_MEDIA_FILE: u64 = 1 << 30;

/// Sounds an `audiofolder` holds, by extension.
pub const AUDIO_EXTENSIONS: &[&str] = &["wav", "flac", "mp3", "ogg", "oga", "m4a", "aac", "opus"];
/// Pictures an `imagefolder` holds, by extension.
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"];

/// What a file holds, by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Parquet,
    Csv,
    JsonLines,
    Media(MediaKind),
}

impl FileKind {
    pub fn of(path: &Path) -> Option<FileKind> {
        let ext = path.extension()?.to_string_lossy().to_lowercase();
        Some(match ext.as_str() {
            "parquet" => FileKind::Parquet,
            "csv" | "tsv" => FileKind::Csv,
            "jsonl" | "ndjson" | "json" => FileKind::JsonLines,
            e if AUDIO_EXTENSIONS.contains(&e) => FileKind::Media(MediaKind::Audio),
            e if IMAGE_EXTENSIONS.contains(&e) => FileKind::Media(MediaKind::Image),
            _ => return None,
        })
    }
}

/// Rows held in memory, with their columns' types.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub features: Vec<(String, Feature)>,
    pub rows: Vec<Vec<Value>>,
    /// The size of the files read.
    pub bytes: u64,
}

fn file_size(path: &Path, limit: u64, what: &str) -> Result<u64, DataError> {
    let len = std::fs::metadata(path)
        .map_err(|e| DataError::Missing(format!("Could not open {}: {e}.", path.display())))?
        .len();
    if len > limit {
        return Err(DataError::Unsupported(format!(
            "{} is {}; Spaceport reads {what} up to {} — convert it to parquet.",
            path.display(),
            crate::format::format_bytes(len),
            crate::format::format_bytes(limit)
        )));
    }
    Ok(len)
}

fn read_text(path: &Path) -> Result<(String, u64), DataError> {
    let len = file_size(path, MAX_TEXT_FILE, "text files")?;
    let bytes = std::fs::read(path)
        .map_err(|e| DataError::Missing(format!("Could not read {}: {e}.", path.display())))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        DataError::Damaged(format!(
            "{} is not UTF-8 text (byte {} is not).",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    // A byte-order mark is not part of the first column's name.
    let text = match text.strip_prefix('\u{feff}') {
        Some(t) => t.to_string(),
        None => text,
    };
    Ok((text, len))
}

/// A CSV cell's type, widened as cells are seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum CsvType {
    /// Only empty cells so far.
    Empty,
    Bool,
    Int,
    Float,
    Str,
}

fn csv_bool(s: &str) -> Option<bool> {
    match s {
        "True" | "TRUE" | "true" => Some(true),
        "False" | "FALSE" | "false" => Some(false),
        _ => None,
    }
}

fn csv_float(s: &str) -> Option<f64> {
    match s {
        "nan" | "NaN" | "NAN" => Some(f64::NAN),
        "inf" | "Inf" | "+inf" => Some(f64::INFINITY),
        "-inf" | "-Inf" => Some(f64::NEG_INFINITY),
        _ => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|_| !s.trim().is_empty()),
    }
}

fn csv_cell_type(s: &str) -> CsvType {
    if s.is_empty() {
        CsvType::Empty
    } else if csv_bool(s).is_some() {
        CsvType::Bool
    } else if s.trim().parse::<i64>().is_ok() {
        CsvType::Int
    } else if csv_float(s).is_some() {
        CsvType::Float
    } else {
        CsvType::Str
    }
}

fn widen(a: CsvType, b: CsvType) -> CsvType {
    use CsvType::*;
    match (a, b) {
        (Empty, x) | (x, Empty) => x,
        (x, y) if x == y => x,
        (Int, Float) | (Float, Int) => Float,
        _ => Str,
    }
}

/// pandas' missing-value words, read as null in any column.
fn is_na(s: &str) -> bool {
    matches!(
        s,
        "" | "NA" | "N/A" | "n/a" | "NULL" | "null" | "None" | "<NA>" | "#N/A" | "-NaN" | "-nan"
    )
}

impl Table {
    pub fn num_rows(&self) -> u64 {
        self.rows.len() as u64
    }

    /// A CSV file (a `.tsv` is tab-separated) with a header line.
    pub fn from_csv(path: &Path) -> Result<Table, DataError> {
        let (text, bytes) = read_text(path)?;
        let tab = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(if tab { b'\t' } else { b',' })
            .flexible(false)
            .from_reader(text.as_bytes());
        let bad = |e: csv::Error| {
            DataError::Damaged(format!(
                "{} is not a readable CSV file ({}).",
                path.display(),
                match e.position() {
                    Some(p) => format!("line {}: {e}", p.line()),
                    None => e.to_string(),
                }
            ))
        };
        let header: Vec<String> = reader
            .headers()
            .map_err(bad)?
            .iter()
            .map(str::to_string)
            .collect();
        if header.is_empty() || header.iter().all(String::is_empty) {
            return Err(DataError::Damaged(format!(
                "{} has no header line naming its columns.",
                path.display()
            )));
        }
        let mut cells: Vec<csv::StringRecord> = Vec::new();
        for record in reader.records() {
            cells.push(record.map_err(bad)?);
        }
        let mut types = vec![CsvType::Empty; header.len()];
        let mut missing = vec![false; header.len()];
        for r in &cells {
            for (i, c) in r.iter().enumerate() {
                if is_na(c) {
                    missing[i] = true;
                } else {
                    types[i] = widen(types[i], csv_cell_type(c));
                }
            }
        }
        // pandas has no missing integer: such a column is float.
        for (t, m) in types.iter_mut().zip(&missing) {
            if *t == CsvType::Int && *m {
                *t = CsvType::Float;
            }
        }
        let features = header
            .iter()
            .zip(&types)
            .map(|(name, t)| {
                let dtype = match t {
                    CsvType::Empty => "null",
                    CsvType::Bool => "bool",
                    CsvType::Int => "int64",
                    CsvType::Float => "float64",
                    CsvType::Str => "string",
                };
                (name.clone(), Feature::Value(dtype.into()))
            })
            .collect();
        let rows = cells
            .iter()
            .map(|r| {
                r.iter()
                    .zip(&types)
                    .map(|(c, t)| match t {
                        _ if is_na(c) && *t != CsvType::Str => Value::Null,
                        CsvType::Str if c.is_empty() => Value::Null,
                        CsvType::Bool => csv_bool(c).map_or(Value::Null, Value::Bool),
                        CsvType::Int => c.trim().parse().map_or(Value::Null, Value::Int),
                        CsvType::Float => csv_float(c).map_or(Value::Null, Value::Float),
                        CsvType::Str => Value::Str(c.to_string()),
                        CsvType::Empty => Value::Null,
                    })
                    .collect()
            })
            .collect();
        Ok(Table {
            features,
            rows,
            bytes,
        })
    }

    /// A JSON Lines file (one object a line; a `.json` file holding one
    /// array of objects reads too).
    pub fn from_json_lines(path: &Path) -> Result<Table, DataError> {
        let (text, bytes) = read_text(path)?;
        let mut objects: Vec<serde_json::Map<String, Json>> = Vec::new();
        let trimmed = text.trim_start();
        if trimmed.starts_with('[') {
            let all: Json = serde_json::from_str(trimmed).map_err(|e| {
                DataError::Damaged(format!("{} is not readable JSON ({e}).", path.display()))
            })?;
            for (i, v) in all.as_array().into_iter().flatten().enumerate() {
                match v {
                    Json::Object(o) => objects.push(o.clone()),
                    _ => {
                        return Err(DataError::Damaged(format!(
                            "{}: item {} is not an object of columns.",
                            path.display(),
                            i + 1
                        )));
                    }
                }
            }
        } else {
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Json>(line) {
                    Ok(Json::Object(o)) => objects.push(o),
                    Ok(_) => {
                        return Err(DataError::Damaged(format!(
                            "{}: line {} is not an object of columns.",
                            path.display(),
                            n + 1
                        )));
                    }
                    Err(e) => {
                        return Err(DataError::Damaged(format!(
                            "{}: line {} is not readable JSON ({e}).",
                            path.display(),
                            n + 1
                        )));
                    }
                }
            }
        }
        let mut columns: Vec<(String, JType)> = Vec::new();
        for o in &objects {
            for (k, v) in o {
                let t = JType::of(v);
                match columns.iter_mut().find(|(c, _)| c == k) {
                    Some((_, old)) => *old = old.clone().merge(t),
                    None => columns.push((k.clone(), t)),
                }
            }
        }
        let features = columns
            .iter()
            .map(|(k, t)| (k.clone(), t.feature()))
            .collect();
        let rows = objects
            .iter()
            .map(|o| {
                columns
                    .iter()
                    .map(|(k, t)| o.get(k).map_or(Value::Null, |v| t.value(v)))
                    .collect()
            })
            .collect();
        Ok(Table {
            features,
            rows,
            bytes,
        })
    }

    /// The rows of several files as one table (a split of several files):
    /// columns matched by name, in the first file's order, then new ones.
    pub fn concat(tables: Vec<Table>) -> Table {
        let mut it = tables.into_iter();
        let Some(mut out) = it.next() else {
            return Table::default();
        };
        for t in it {
            for (name, f) in &t.features {
                if !out.features.iter().any(|(n, _)| n == name) {
                    out.features.push((name.clone(), f.clone()));
                    for r in &mut out.rows {
                        r.push(Value::Null);
                    }
                }
            }
            for row in t.rows {
                let mut cells = vec![Value::Null; out.features.len()];
                for ((name, _), v) in t.features.iter().zip(row) {
                    if let Some(i) = out.features.iter().position(|(n, _)| n == name) {
                        cells[i] = v;
                    }
                }
                out.rows.push(cells);
            }
            out.bytes += t.bytes;
        }
        out
    }

    /// Hands rows `offset..offset + limit` to `f`, each sound or picture
    /// read from its file.
    pub fn for_each_row(
        &self,
        offset: u64,
        limit: u64,
        cancel: &CancelToken,
        f: &mut dyn FnMut(Row) -> Result<(), DataError>,
    ) -> Result<(), DataError> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.rows.len());
        let end = usize::try_from(offset.saturating_add(limit))
            .unwrap_or(usize::MAX)
            .min(self.rows.len());
        for (i, row) in self.rows[start..end].iter().enumerate() {
            if cancel.is_cancelled() {
                return Err(DataError::Cancelled);
            }
            let cells = self
                .features
                .iter()
                .zip(row)
                .map(|((name, _), v)| Ok((name.clone(), load_media(v)?)))
                .collect::<Result<Vec<_>, DataError>>()?;
            f(Row {
                index: (start + i) as u64,
                cells,
            })?;
        }
        Ok(())
    }
}

/// A folder dataset's sound or picture with its file's bytes read.
fn load_media(v: &Value) -> Result<Value, DataError> {
    let Value::Media(m) = v else {
        return Ok(v.clone());
    };
    if m.bytes.is_some() {
        return Ok(v.clone());
    }
    let Some(path) = m.path.as_deref().map(Path::new).filter(|p| p.is_absolute()) else {
        return Ok(v.clone());
    };
    file_size(path, MAX_MEDIA_FILE, "sounds and pictures")?;
    let bytes = std::fs::read(path)
        .map_err(|e| DataError::Missing(format!("Could not read {}: {e}.", path.display())))?;
    Ok(Value::Media(Media {
        kind: m.kind,
        bytes: Some(bytes),
        path: m.path.clone(),
    }))
}

/// A JSON value's type, widened as lines are seen.
#[derive(Clone, Debug, PartialEq)]
enum JType {
    Null,
    Bool,
    Int,
    Float,
    Str,
    List(Box<JType>),
    Struct(Vec<(String, JType)>),
    /// Values of different kinds: shown as their JSON text.
    Mixed,
}

impl JType {
    fn of(v: &Json) -> JType {
        match v {
            Json::Null => JType::Null,
            Json::Bool(_) => JType::Bool,
            Json::Number(n) if n.is_i64() || n.is_u64() => JType::Int,
            Json::Number(_) => JType::Float,
            Json::String(_) => JType::Str,
            Json::Array(a) => JType::List(Box::new(
                a.iter().fold(JType::Null, |t, v| t.merge(JType::of(v))),
            )),
            Json::Object(o) => {
                JType::Struct(o.iter().map(|(k, v)| (k.clone(), JType::of(v))).collect())
            }
        }
    }

    fn merge(self, other: JType) -> JType {
        match (self, other) {
            (JType::Null, x) | (x, JType::Null) => x,
            (JType::Int, JType::Float) | (JType::Float, JType::Int) => JType::Float,
            (JType::List(a), JType::List(b)) => JType::List(Box::new(a.merge(*b))),
            (JType::Struct(mut a), JType::Struct(b)) => {
                for (k, t) in b {
                    match a.iter_mut().find(|(n, _)| *n == k) {
                        Some((_, old)) => *old = old.clone().merge(t),
                        None => a.push((k, t)),
                    }
                }
                JType::Struct(a)
            }
            (a, b) if a == b => a,
            _ => JType::Mixed,
        }
    }

    fn feature(&self) -> Feature {
        match self {
            JType::Null => Feature::Value("null".into()),
            JType::Bool => Feature::Value("bool".into()),
            JType::Int => Feature::Value("int64".into()),
            JType::Float => Feature::Value("float64".into()),
            JType::Str | JType::Mixed => Feature::Value("string".into()),
            JType::List(t) => Feature::List(Box::new(t.feature())),
            JType::Struct(f) => {
                Feature::Struct(f.iter().map(|(k, t)| (k.clone(), t.feature())).collect())
            }
        }
    }

    fn value(&self, v: &Json) -> Value {
        match (self, v) {
            (_, Json::Null) => Value::Null,
            (JType::Bool, Json::Bool(b)) => Value::Bool(*b),
            (JType::Int, Json::Number(n)) => n
                .as_i64()
                .map(Value::Int)
                .or_else(|| n.as_u64().map(Value::UInt))
                .unwrap_or(Value::Null),
            (JType::Float, Json::Number(n)) => n.as_f64().map_or(Value::Null, Value::Float),
            (JType::Str, Json::String(s)) => Value::Str(s.clone()),
            (JType::List(t), Json::Array(a)) => Value::List(a.iter().map(|x| t.value(x)).collect()),
            (JType::Struct(fields), Json::Object(o)) => Value::Struct(
                fields
                    .iter()
                    .map(|(k, t)| (k.clone(), o.get(k).map_or(Value::Null, |x| t.value(x))))
                    .collect(),
            ),
            (_, Json::String(s)) => Value::Str(s.clone()),
            (_, other) => Value::Str(other.to_string()),
        }
    }
}

/// Reads a data file of `kind` (CSV or JSON Lines) into a table.
pub fn read_file(path: &Path, kind: FileKind) -> Result<Table, DataError> {
    match kind {
        FileKind::Csv => Table::from_csv(path),
        FileKind::JsonLines => Table::from_json_lines(path),
        _ => Err(DataError::Unsupported(format!(
            "{} is not a CSV or JSON Lines file.",
            path.display()
        ))),
    }
}

/// An `audiofolder`/`imagefolder` split: its sounds or pictures (under
/// `base`, the split's folder or the dataset's) and the metadata files
/// beside them.
pub fn read_folder(
    kind: MediaKind,
    base: &Path,
    files: &[PathBuf],
    metadata: &[PathBuf],
) -> Result<Table, DataError> {
    let column = kind.name().to_string();
    // file_name (relative to the metadata file's folder) → other columns.
    let mut meta_rows: BTreeMap<PathBuf, Vec<Value>> = BTreeMap::new();
    let mut meta_features: Vec<(String, Feature)> = Vec::new();
    let mut bytes = 0;
    for m in metadata {
        let t = match FileKind::of(m) {
            Some(FileKind::Csv) => Table::from_csv(m)?,
            _ => Table::from_json_lines(m)?,
        };
        bytes += t.bytes;
        let Some(name_col) = t.features.iter().position(|(n, _)| n == "file_name") else {
            return Err(DataError::Damaged(format!(
                "{} has no file_name column naming each {}.",
                m.display(),
                if kind == MediaKind::Audio {
                    "sound"
                } else {
                    "picture"
                }
            )));
        };
        let dir = m.parent().unwrap_or(base);
        let others: Vec<(String, Feature)> = t
            .features
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != name_col)
            .map(|(_, f)| f.clone())
            .collect();
        for f in &others {
            if !meta_features.iter().any(|(n, _)| *n == f.0) {
                meta_features.push(f.clone());
            }
        }
        for row in t.rows {
            let Some(name) = row.get(name_col).and_then(Value::as_str) else {
                continue;
            };
            if name.contains("..") {
                continue;
            }
            let key = normalise(&dir.join(name));
            let vals: Vec<(String, Value)> = others
                .iter()
                .zip(row.iter().enumerate().filter(|(i, _)| *i != name_col))
                .map(|((n, _), (_, v))| (n.clone(), v.clone()))
                .collect();
            let ordered = meta_features
                .iter()
                .map(|(n, _)| {
                    vals.iter()
                        .find(|(k, _)| k == n)
                        .map_or(Value::Null, |(_, v)| v.clone())
                })
                .collect();
            meta_rows.insert(key, ordered);
        }
    }
    // Without metadata, the sub-folder a file lies in is its label (when
    // there are at least two).
    let labels: Vec<String> = if metadata.is_empty() {
        let mut names: Vec<String> = files
            .iter()
            .filter_map(|f| {
                let rel = f.strip_prefix(base).ok()?;
                (rel.components().count() > 1).then(|| {
                    f.parent()
                        .and_then(Path::file_name)
                        .map(|n| n.to_string_lossy().into_owned())
                })?
            })
            .collect();
        names.sort();
        names.dedup();
        if names.len() > 1 { names } else { Vec::new() }
    } else {
        Vec::new()
    };
    let mut features = vec![(
        column.clone(),
        match kind {
            MediaKind::Audio => Feature::Audio {
                sampling_rate: None,
            },
            MediaKind::Image => Feature::Image,
        },
    )];
    features.extend(meta_features.iter().cloned());
    if !labels.is_empty() {
        features.push(("label".into(), Feature::ClassLabel(labels.clone())));
    }
    let mut rows = Vec::new();
    for f in files {
        let key = normalise(f);
        let extra = if metadata.is_empty() {
            None
        } else {
            // With metadata, only the files it names are rows.
            match meta_rows.get(&key) {
                Some(v) => Some(v.clone()),
                None => continue,
            }
        };
        bytes += std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        let mut row = vec![Value::Media(Media {
            kind,
            bytes: None,
            path: Some(f.display().to_string()),
        })];
        if let Some(extra) = extra {
            row.extend(extra);
        }
        if !labels.is_empty() {
            let label = f
                .parent()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned())
                .and_then(|n| labels.iter().position(|l| *l == n));
            row.push(label.map_or(Value::Null, |i| Value::Int(i as i64)));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(DataError::Unsupported(format!(
            "{} has no {} that its metadata names.",
            base.display(),
            if kind == MediaKind::Audio {
                "sounds"
            } else {
                "pictures"
            }
        )));
    }
    Ok(Table {
        features,
        rows,
        bytes,
    })
}

/// A path with `.` parts dropped, for matching metadata names to files.
fn normalise(p: &Path) -> PathBuf {
    p.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_columns_are_typed_as_pandas_types_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(
            &p,
            "id,score,text,ok,gap\n1,0.5,\"hello, world\",True,3\n2,1,plain,False,\n",
        )
        .unwrap();
        let t = Table::from_csv(&p).unwrap();
        let types: Vec<String> = t.features.iter().map(|(_, f)| f.describe()).collect();
        assert_eq!(types, ["int64", "float64", "string", "bool", "float64"]);
        assert_eq!(t.rows[0][2], Value::Str("hello, world".into()));
        assert_eq!(t.rows[1][1], Value::Float(1.0));
        assert_eq!(t.rows[1][4], Value::Null);
        assert_eq!(t.rows[0][4], Value::Float(3.0));
    }

    #[test]
    fn json_lines_widen_and_fill_missing_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        std::fs::write(
            &p,
            "{\"a\": 1, \"b\": {\"x\": \"s\"}}\n\n{\"a\": 2.5, \"c\": [1, 2]}\n",
        )
        .unwrap();
        let t = Table::from_json_lines(&p).unwrap();
        let types: Vec<String> = t.features.iter().map(|(_, f)| f.describe()).collect();
        assert_eq!(types, ["float64", "{x: string}", "List(int64)"]);
        assert_eq!(t.rows[0][0], Value::Float(1.0));
        assert_eq!(t.rows[0][2], Value::Null);
        assert_eq!(t.rows[1][1], Value::Null);
        std::fs::write(&p, "{\"a\": 1}\n{\"a\": oops}\n").unwrap();
        let e = Table::from_json_lines(&p).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
    }
}
