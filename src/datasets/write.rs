//! Writing rows out: a parquet file as Python `datasets` writes one (the
//! columns' types from their features, pictures and sounds as
//! `struct<bytes, path>`, lists as parquet's three-level LIST, and the
//! features themselves as JSON under the schema's `huggingface` key, so
//! `datasets` reads Audio, Image, ClassLabel and Translation columns back
//! as such), CSV (nested values as JSON text) or JSON Lines. In CSV and
//! JSON Lines a sound or picture is written as a file in a folder beside
//! the export and named by its path relative to the export.
//!
//! The parquet writer is the parquet crate's column writer: each row
//! group's values are split into one column of values and definition and
//! repetition levels a leaf (the Dremel encoding), here by hand, since
//! the crate's typed writers need arrow for nested data.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, FloatType, Int32Type, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use serde_json::{Value as Json, json};

use super::DataError;
use super::features::Feature;
use super::value::{MediaKind, Row, Value};
use crate::work::catch_panic;

/// The formats an export can take, by the file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Csv,
    JsonLines,
}

impl Format {
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_string_lossy().to_lowercase();
        match ext.as_str() {
            "parquet" => Some(Format::Parquet),
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            _ => None,
        }
    }
}

fn write_error(path: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::Missing(format!("Could not write {}: {e}.", path.display()))
}

/// datasets' JSON for one feature (`Features.to_dict()`).
pub fn feature_json(f: &Feature) -> Json {
    match f {
        Feature::Value(d) => json!({"dtype": stored_dtype(d), "_type": "Value"}),
        Feature::ClassLabel(names) => json!({"names": names, "_type": "ClassLabel"}),
        Feature::Audio { sampling_rate } => {
            let mut o = serde_json::Map::new();
            if let Some(r) = sampling_rate {
                o.insert("sampling_rate".into(), json!(r));
            }
            o.insert("_type".into(), json!("Audio"));
            Json::Object(o)
        }
        Feature::Image => json!({"_type": "Image"}),
        Feature::Translation(l) if l.is_empty() => json!({"dtype": "string", "_type": "Value"}),
        Feature::Struct(f) if f.is_empty() => json!({"dtype": "string", "_type": "Value"}),
        Feature::Translation(langs) => json!({"languages": langs, "_type": "Translation"}),
        Feature::List(inner) => json!({"feature": feature_json(inner), "_type": "List"}),
        Feature::Struct(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, f)| (k.clone(), feature_json(f)))
                .collect(),
        ),
        Feature::Other(_) => json!({"dtype": "string", "_type": "Value"}),
    }
}

/// The dtype a column is written as: the ones Spaceport holds as text
/// (dates, decimals, unknown) become `string`.
fn stored_dtype(d: &str) -> &str {
    match d {
        "bool" | "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32"
        | "uint64" | "float32" | "float64" | "binary" | "large_binary" | "string"
        | "large_string" => d,
        "float16" => "float32",
        _ => "string",
    }
}

/// How one leaf column is stored.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Leaf {
    Bool,
    Int32,
    Int64,
    Float,
    Double,
    Bytes,
    Text,
}

/// The schema as a tree the shredder walks: every node optional, leaves
/// numbered in parquet's column order.
enum Node {
    Leaf(Leaf, usize),
    /// Named fields; a sound's or picture's `bytes`/`path`, a
    /// translation's languages, a struct's fields.
    Group(Vec<(String, Node)>),
    /// A list, and the repetition level of its elements.
    List(Box<Node>, i16),
}

/// Builds the parquet type and the shredding tree of one feature.
fn build(name: &str, f: &Feature, leaves: &mut Vec<Leaf>, rep: i16) -> (Type, Node) {
    let leaf = |leaves: &mut Vec<Leaf>, l: Leaf| -> (Type, Node) {
        let (phys, logical) = match l {
            Leaf::Bool => (Physical::BOOLEAN, None),
            Leaf::Int32 => (Physical::INT32, None),
            Leaf::Int64 => (Physical::INT64, None),
            Leaf::Float => (Physical::FLOAT, None),
            Leaf::Double => (Physical::DOUBLE, None),
            Leaf::Bytes => (Physical::BYTE_ARRAY, None),
            Leaf::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
        };
        let t = Type::primitive_type_builder(name, phys)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(logical)
            .build()
            .expect("a valid primitive type");
        leaves.push(l);
        (t, Node::Leaf(l, leaves.len() - 1))
    };
    let group = |fields: Vec<(String, Type, Node)>| -> (Type, Node) {
        let mut types = Vec::new();
        let mut nodes = Vec::new();
        for (n, t, node) in fields {
            types.push(Arc::new(t));
            nodes.push((n, node));
        }
        let t = Type::group_type_builder(name)
            .with_repetition(Repetition::OPTIONAL)
            .with_fields(types)
            .build()
            .expect("a valid group type");
        (t, Node::Group(nodes))
    };
    match f {
        Feature::Value(d) => {
            let int = |bits: i8, signed: bool| {
                Some(LogicalType::Integer(parquet::basic::IntType {
                    bit_width: bits,
                    is_signed: signed,
                }))
            };
            let (l, logical) = match stored_dtype(d) {
                "bool" => (Leaf::Bool, None),
                "int8" => (Leaf::Int32, int(8, true)),
                "int16" => (Leaf::Int32, int(16, true)),
                "int32" => (Leaf::Int32, None),
                "uint8" => (Leaf::Int32, int(8, false)),
                "uint16" => (Leaf::Int32, int(16, false)),
                "uint32" => (Leaf::Int32, int(32, false)),
                "int64" => (Leaf::Int64, None),
                "uint64" => (Leaf::Int64, int(64, false)),
                "float32" => (Leaf::Float, None),
                "float64" => (Leaf::Double, None),
                "binary" | "large_binary" => (Leaf::Bytes, None),
                _ => (Leaf::Text, None),
            };
            let (t, node) = leaf(leaves, l);
            if logical.is_some() {
                let t = Type::primitive_type_builder(name, t.get_physical_type())
                    .with_repetition(Repetition::OPTIONAL)
                    .with_logical_type(logical)
                    .build()
                    .expect("a valid integer type");
                return (t, node);
            }
            (t, node)
        }
        Feature::Other(_) => leaf(leaves, Leaf::Text),
        Feature::ClassLabel(_) => leaf(leaves, Leaf::Int64),
        Feature::Audio { .. } | Feature::Image => {
            let (bt, bn) = build("bytes", &Feature::Value("binary".into()), leaves, rep);
            let (pt, pn) = build("path", &Feature::Value("string".into()), leaves, rep);
            group(vec![("bytes".into(), bt, bn), ("path".into(), pt, pn)])
        }
        // A group needs a field: an empty one is written as text (null).
        Feature::Translation(l) if l.is_empty() => leaf(leaves, Leaf::Text),
        Feature::Struct(f) if f.is_empty() => leaf(leaves, Leaf::Text),
        Feature::Translation(langs) => {
            let fields = langs
                .iter()
                .map(|l| {
                    let (t, n) = build(l, &Feature::Value("string".into()), leaves, rep);
                    (l.clone(), t, n)
                })
                .collect();
            group(fields)
        }
        Feature::Struct(fields) => {
            let fields = fields
                .iter()
                .map(|(k, f)| {
                    let (t, n) = build(k, f, leaves, rep);
                    (k.clone(), t, n)
                })
                .collect();
            group(fields)
        }
        Feature::List(inner) => {
            let (et, en) = build("element", inner, leaves, rep + 1);
            let repeated = Type::group_type_builder("list")
                .with_repetition(Repetition::REPEATED)
                .with_fields(vec![Arc::new(et)])
                .build()
                .expect("a valid list type");
            let t = Type::group_type_builder(name)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(Some(LogicalType::List))
                .with_fields(vec![Arc::new(repeated)])
                .build()
                .expect("a valid list type");
            (t, Node::List(Box::new(en), rep + 1))
        }
    }
}

/// One leaf column's values and levels for a row group.
#[derive(Default)]
struct Column {
    defs: Vec<i16>,
    reps: Vec<i16>,
    bools: Vec<bool>,
    i32s: Vec<i32>,
    i64s: Vec<i64>,
    f32s: Vec<f32>,
    f64s: Vec<f64>,
    bytes: Vec<ByteArray>,
}

/// Every leaf below `node` gets a null (or empty list) at `def`.
fn nulls(node: &Node, rep: i16, def: i16, cols: &mut [Column]) {
    match node {
        Node::Leaf(_, i) => {
            cols[*i].defs.push(def);
            cols[*i].reps.push(rep);
        }
        Node::Group(fields) => fields.iter().for_each(|(_, n)| nulls(n, rep, def, cols)),
        Node::List(e, _) => nulls(e, rep, def, cols),
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::UInt(u) => i64::try_from(*u).ok().or(Some(*u as i64)),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Float(f) if f.fract() == 0.0 && f.is_finite() => Some(*f as i64),
        _ => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Int(i) => Some(*i as f64),
        Value::UInt(u) => Some(*u as f64),
        _ => None,
    }
}

/// Writes a present (non-null) value of an optional node at `def + 1`.
fn shred(node: &Node, v: &Value, rep: i16, def: i16, cols: &mut [Column]) {
    if matches!(v, Value::Null) {
        return nulls(node, rep, def, cols);
    }
    match node {
        Node::Leaf(kind, i) => {
            let c = &mut cols[*i];
            let stored = match kind {
                Leaf::Bool => match v {
                    Value::Bool(b) => {
                        c.bools.push(*b);
                        true
                    }
                    _ => false,
                },
                Leaf::Int32 => match as_i64(v) {
                    Some(x) => {
                        // uint32 is stored in INT32's bits.
                        c.i32s.push(x as i32);
                        true
                    }
                    None => false,
                },
                Leaf::Int64 => match as_i64(v) {
                    Some(x) => {
                        c.i64s.push(x);
                        true
                    }
                    None => false,
                },
                Leaf::Float => match as_f64(v) {
                    Some(x) => {
                        c.f32s.push(x as f32);
                        true
                    }
                    None => false,
                },
                Leaf::Double => match as_f64(v) {
                    Some(x) => {
                        c.f64s.push(x);
                        true
                    }
                    None => false,
                },
                Leaf::Bytes => match v {
                    Value::Bytes(b) => {
                        c.bytes.push(ByteArray::from(b.clone()));
                        true
                    }
                    Value::Str(s) | Value::Text(s) => {
                        c.bytes.push(ByteArray::from(s.as_bytes().to_vec()));
                        true
                    }
                    _ => false,
                },
                Leaf::Text => {
                    let text = match v {
                        Value::Str(s) | Value::Text(s) => s.clone(),
                        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                        other => csv_text(other),
                    };
                    c.bytes.push(ByteArray::from(text.into_bytes()));
                    true
                }
            };
            c.defs.push(if stored { def + 1 } else { def });
            c.reps.push(rep);
        }
        Node::Group(fields) => {
            if let Value::Media(m) = v {
                // struct<bytes, path>
                for (name, n) in fields {
                    let cell = match name.as_str() {
                        "bytes" => m.bytes.clone().map(Value::Bytes),
                        _ => m.path.clone().map(Value::Str),
                    };
                    shred(n, cell.as_ref().unwrap_or(&Value::Null), rep, def + 1, cols);
                }
                return;
            }
            for (name, n) in fields {
                let cell = v.field(name).unwrap_or(&Value::Null);
                shred(n, cell, rep, def + 1, cols);
            }
        }
        Node::List(elem, list_rep) => {
            let items: &[Value] = match v {
                Value::List(items) => items,
                _ => &[],
            };
            if items.is_empty() {
                return nulls(elem, rep, def + 1, cols);
            }
            for (k, item) in items.iter().enumerate() {
                let r = if k == 0 { rep } else { *list_rep };
                shred(elem, item, r, def + 2, cols);
            }
        }
    }
}

/// Writes rows to a parquet file, a row group at a time.
pub struct ParquetWriter {
    writer: SerializedFileWriter<File>,
    nodes: Vec<Node>,
    leaves: Vec<Leaf>,
    buffered: Vec<Row>,
    group_rows: usize,
    path: PathBuf,
}

impl ParquetWriter {
    pub fn create(path: &Path, features: &[(String, Feature)]) -> Result<Self, DataError> {
        let mut leaves = Vec::new();
        let mut types = Vec::new();
        let mut nodes = Vec::new();
        for (name, f) in features {
            let (t, n) = build(name, f, &mut leaves, 0);
            types.push(Arc::new(t));
            nodes.push(n);
        }
        let schema = Type::group_type_builder("schema")
            .with_fields(types)
            .build()
            .map_err(|e| write_error(path, e))?;
        let info = json!({"info": {"features": Json::Object(
            features.iter().map(|(k, f)| (k.clone(), feature_json(f))).collect()
        )}});
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_key_value_metadata(Some(vec![KeyValue::new(
                "huggingface".to_string(),
                info.to_string(),
            )]))
            .build();
        let file = File::create(path).map_err(|e| write_error(path, e))?;
        let writer = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props))
            .map_err(|e| write_error(path, e))?;
        // datasets writes 100-row groups when there are pictures or sounds.
        let media = features
            .iter()
            .any(|(_, f)| matches!(f, Feature::Audio { .. } | Feature::Image));
        Ok(Self {
            writer,
            nodes,
            leaves,
            buffered: Vec::new(),
            group_rows: if media { 100 } else { 10_000 },
            path: path.to_path_buf(),
        })
    }

    pub fn push(&mut self, row: Row) -> Result<(), DataError> {
        self.buffered.push(row);
        if self.buffered.len() >= self.group_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DataError> {
        if self.buffered.is_empty() {
            return Ok(());
        }
        let mut cols: Vec<Column> = self.leaves.iter().map(|_| Column::default()).collect();
        for row in self.buffered.drain(..) {
            for (node, (_, v)) in self.nodes.iter().zip(&row.cells) {
                shred(node, v, 0, 0, &mut cols);
            }
        }
        let path = self.path.clone();
        let leaves = self.leaves.clone();
        let writer = &mut self.writer;
        catch_panic(move || -> parquet::errors::Result<()> {
            let mut group = writer.next_row_group()?;
            let mut i = 0;
            while let Some(mut col) = group.next_column()? {
                let c = &cols[i];
                let (defs, reps) = (Some(c.defs.as_slice()), Some(c.reps.as_slice()));
                match leaves[i] {
                    Leaf::Bool => {
                        col.typed::<parquet::data_type::BoolType>()
                            .write_batch(&c.bools, defs, reps)?;
                    }
                    Leaf::Int32 => {
                        col.typed::<Int32Type>().write_batch(&c.i32s, defs, reps)?;
                    }
                    Leaf::Int64 => {
                        col.typed::<Int64Type>().write_batch(&c.i64s, defs, reps)?;
                    }
                    Leaf::Float => {
                        col.typed::<FloatType>().write_batch(&c.f32s, defs, reps)?;
                    }
                    Leaf::Double => {
                        col.typed::<DoubleType>().write_batch(&c.f64s, defs, reps)?;
                    }
                    Leaf::Bytes | Leaf::Text => {
                        col.typed::<ByteArrayType>()
                            .write_batch(&c.bytes, defs, reps)?;
                    }
                }
                col.close()?;
                i += 1;
            }
            group.close()?;
            Ok(())
        })
        .map_err(|p| write_error(&path, p))?
        .map_err(|e| write_error(&path, e))
    }

    pub fn finish(mut self) -> Result<(), DataError> {
        self.flush()?;
        let path = self.path.clone();
        self.writer.close().map_err(|e| write_error(&path, e))?;
        Ok(())
    }
}

/// A cell as CSV text: text as is, numbers as JSON writes them, nested
/// values as JSON, null as nothing.
fn csv_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Str(s) | Value::Text(s) => s.clone(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        other => other.to_json().to_string(),
    }
}

/// What a file's first bytes say it is, for naming a sound or picture
/// written out: its extension.
fn sniff_extension(kind: MediaKind, bytes: &[u8], path: Option<&str>) -> String {
    if let Some(ext) = path
        .and_then(|p| Path::new(p).extension())
        .map(|e| e.to_string_lossy().to_lowercase())
        .filter(|e| e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return ext;
    }
    let ext = match bytes {
        [0x89, b'P', b'N', b'G', ..] => "png",
        [0xff, 0xd8, ..] => "jpg",
        [b'G', b'I', b'F', ..] => "gif",
        [b'B', b'M', ..] => "bmp",
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => "webp",
        [b'R', b'I', b'F', b'F', ..] => "wav",
        [b'f', b'L', b'a', b'C', ..] => "flac",
        [b'O', b'g', b'g', b'S', ..] => "ogg",
        [b'I', b'D', b'3', ..] | [0xff, 0xfb, ..] => "mp3",
        _ if kind == MediaKind::Audio => "audio",
        _ => "img",
    };
    ext.to_string()
}

/// Writes rows as CSV or JSON Lines, sounds and pictures as files in
/// `{stem}_files/` beside the export.
pub struct TextWriter {
    out: TextOut,
    columns: Vec<String>,
    media_dir: PathBuf,
    media_dir_made: bool,
    path: PathBuf,
}

enum TextOut {
    Csv(Box<csv::Writer<File>>),
    JsonLines(std::io::BufWriter<File>),
}

impl TextWriter {
    /// `media_name` is the final file's name (a `.partial` file is written
    /// first): the media folder is named after it.
    pub fn create(
        path: &Path,
        final_path: &Path,
        format: Format,
        columns: Vec<String>,
    ) -> Result<Self, DataError> {
        let file = File::create(path).map_err(|e| write_error(path, e))?;
        let stem = final_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "export".into());
        let out = match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(file);
                w.write_record(&columns).map_err(|e| write_error(path, e))?;
                TextOut::Csv(Box::new(w))
            }
            _ => TextOut::JsonLines(std::io::BufWriter::new(file)),
        };
        Ok(Self {
            out,
            media_dir: final_path.with_file_name(format!("{stem}_files")),
            media_dir_made: false,
            path: path.to_path_buf(),
            columns,
        })
    }

    /// A media cell as its file's path relative to the export.
    fn media(&mut self, row: u64, column: &str, v: &Value) -> Result<Value, DataError> {
        let Value::Media(m) = v else {
            return Ok(v.clone());
        };
        let Some(bytes) = &m.bytes else {
            return Ok(m.path.clone().map_or(Value::Null, Value::Str));
        };
        if !self.media_dir_made {
            std::fs::create_dir_all(&self.media_dir)
                .map_err(|e| write_error(&self.media_dir, e))?;
            self.media_dir_made = true;
        }
        let safe: String = column
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let name = format!(
            "{row:06}_{safe}.{}",
            sniff_extension(m.kind, bytes, m.path.as_deref())
        );
        let file = self.media_dir.join(&name);
        std::fs::write(&file, bytes).map_err(|e| write_error(&file, e))?;
        let dir = self
            .media_dir
            .file_name()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Value::Str(format!("{dir}/{name}")))
    }

    pub fn push(&mut self, out_index: u64, row: Row) -> Result<(), DataError> {
        let mut cells = Vec::with_capacity(row.cells.len());
        for (k, v) in &row.cells {
            cells.push((k.clone(), self.media(out_index, k, v)?));
        }
        let path = &self.path;
        match &mut self.out {
            TextOut::JsonLines(out) => {
                let obj: serde_json::Map<String, Json> = cells
                    .iter()
                    .map(|(k, v)| (k.clone(), plain_json(v)))
                    .collect();
                writeln!(out, "{}", Json::Object(obj)).map_err(|e| write_error(path, e))?;
            }
            TextOut::Csv(w) => {
                let record: Vec<String> = self
                    .columns
                    .iter()
                    .map(|c| {
                        cells
                            .iter()
                            .find(|(k, _)| k == c)
                            .map_or(String::new(), |(_, v)| csv_text(v))
                    })
                    .collect();
                w.write_record(&record).map_err(|e| write_error(path, e))?;
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Result<(), DataError> {
        let path = &self.path;
        match self.out {
            TextOut::Csv(mut w) => w.flush().map_err(|e| write_error(path, e)),
            TextOut::JsonLines(mut w) => w.flush().map_err(|e| write_error(path, e)),
        }
    }
}

/// A value as plain JSON (binary as its text, lossily).
fn plain_json(v: &Value) -> Json {
    match v {
        Value::Bytes(b) => Json::String(String::from_utf8_lossy(b).into_owned()),
        Value::List(items) => Json::Array(items.iter().map(plain_json).collect()),
        Value::Struct(f) => {
            Json::Object(f.iter().map(|(k, v)| (k.clone(), plain_json(v))).collect())
        }
        other => other.to_json(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_groups_are_written_as_text_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.parquet");
        let features = vec![
            ("s".to_string(), Feature::Struct(Vec::new())),
            ("t".to_string(), Feature::Translation(Vec::new())),
            ("n".to_string(), Feature::Value("int64".into())),
        ];
        let mut w = ParquetWriter::create(&path, &features).unwrap();
        w.push(Row {
            index: 0,
            cells: vec![
                ("s".into(), Value::Struct(Vec::new())),
                ("t".into(), Value::Null),
                ("n".into(), Value::Int(7)),
            ],
        })
        .unwrap();
        w.finish().unwrap();
        let file =
            super::super::parquet::ParquetFile::open(File::open(&path).unwrap(), "e").unwrap();
        let rows = file
            .rows(0, 10, 0, &crate::work::CancelToken::new())
            .unwrap();
        assert_eq!(rows[0].get("n"), Some(&Value::Int(7)));
    }
}
