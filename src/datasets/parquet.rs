//! Rows out of parquet files, a row group at a time: the footer first
//! (schema, row counts, datasets' `huggingface` features), then only the
//! row groups that hold the rows asked for — over a local file, or over a
//! remote one whose [`Source::prefetch`] fetches each row group's byte
//! range in one HTTP `Range` request before it is decoded.
//!
//! The parquet crate's row reader (no arrow) turns each row into nested
//! fields; [`convert`] makes them [`Value`]s, with datasets' features
//! saying which structs are pictures and sounds. The crate runs inside
//! [`catch_panic`]: a damaged file is a sentence, never a crash.

use std::fs::File;
use std::sync::Arc;

use parquet::file::reader::{ChunkReader, FileReader, Length, SerializedFileReader};
use parquet::record::Field;

use super::DataError;
use super::features::{self, Feature};
use super::value::{Media, MediaKind, Row, Value};
use crate::work::{CancelToken, catch_panic};

/// Where a parquet file's bytes come from.
pub trait Source: ChunkReader + 'static {
    /// Makes the bytes in `start..start + len` cheap to read (a remote
    /// file fetches them in one request); a local file has nothing to do.
    fn prefetch(&self, _start: u64, _len: u64) -> Result<(), DataError> {
        Ok(())
    }
}

impl Source for File {}

/// One parquet file, its footer read.
pub struct ParquetFile<R: Source> {
    source: Arc<R>,
    reader: SerializedFileReader<Shared<R>>,
    /// The top-level columns and their types.
    pub features: Vec<(String, Feature)>,
    pub num_rows: u64,
    /// The first row of each row group, and the group's byte range.
    groups: Vec<(u64, u64, u64)>,
    /// When every column is a flat scalar: how each is read straight from
    /// its column reader (much faster than the crate's records).
    flat: Option<Vec<Flat>>,
    /// What the file is called in messages.
    name: String,
}

/// A parquet error (or a panic inside the crate) as a sentence.
fn damaged(name: &str, e: impl std::fmt::Display) -> DataError {
    DataError::Damaged(format!("{name} is not a readable parquet file ({e})."))
}

impl<R: Source> ParquetFile<R> {
    /// Reads the footer of `source`, called `name` in messages.
    pub fn open(source: R, name: &str) -> Result<Self, DataError> {
        let source = Arc::new(source);
        let file_len = source.len();
        let shared = Shared(Arc::clone(&source));
        let reader = catch_panic(|| SerializedFileReader::new(shared))
            .map_err(|p| damaged(name, p))?
            .map_err(|e| damaged(name, e))?;
        let meta = reader.metadata();
        let file_meta = meta.file_metadata();
        let hf = file_meta
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|k| k.key == "huggingface"))
            .and_then(|k| k.value.as_deref());
        let declared = features::from_metadata(hf).unwrap_or_default();
        let root = file_meta.schema_descr().root_schema();
        let features = root
            .get_fields()
            .iter()
            .map(|f| {
                let name = f.name().to_string();
                let feature = declared
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, d)| d.clone())
                    .unwrap_or_else(|| Feature::from_parquet(f));
                (name, feature)
            })
            .collect();
        let mut groups = Vec::with_capacity(meta.num_row_groups());
        let mut first = 0u64;
        for g in meta.row_groups() {
            let rows = u64::try_from(g.num_rows())
                .map_err(|_| damaged(name, "a row group with a negative row count"))?;
            let (mut lo, mut hi) = (u64::MAX, 0u64);
            for c in g.columns() {
                // As the crate's `byte_range`, which asserts instead of
                // saying a damaged footer is damaged.
                let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset());
                let (Ok(start), Ok(len)) =
                    (u64::try_from(start), u64::try_from(c.compressed_size()))
                else {
                    return Err(damaged(name, "a column chunk at a negative offset"));
                };
                lo = lo.min(start);
                hi = hi.max(start.saturating_add(len));
            }
            if hi > file_len || (lo > hi && !g.columns().is_empty()) {
                return Err(damaged(name, "a row group that lies outside the file"));
            }
            groups.push((first, lo.min(hi), hi.saturating_sub(lo.min(hi))));
            first = first
                .checked_add(rows)
                .ok_or_else(|| damaged(name, "too many rows"))?;
        }
        let flat = flat_columns(root.get_fields(), file_meta.schema_descr().num_columns());
        Ok(Self {
            source,
            reader,
            features,
            num_rows: first,
            groups,
            flat,
            name: name.to_string(),
        })
    }

    /// Up to `limit` rows from row `offset` (of this file), numbered from
    /// `index_base + offset`. Reads only the row groups that hold them.
    pub fn rows(
        &self,
        offset: u64,
        limit: usize,
        index_base: u64,
        cancel: &CancelToken,
    ) -> Result<Vec<Row>, DataError> {
        let mut out = Vec::new();
        self.for_each_row(offset, limit as u64, index_base, cancel, &mut |row| {
            out.push(row);
            Ok(())
        })?;
        Ok(out)
    }

    /// Hands rows `offset..offset + limit` to `f` one by one, each row
    /// group decoded once (a whole file streams in one pass); `f` may stop
    /// the reading with an error.
    pub fn for_each_row(
        &self,
        offset: u64,
        limit: u64,
        index_base: u64,
        cancel: &CancelToken,
        f: &mut dyn FnMut(Row) -> Result<(), DataError>,
    ) -> Result<(), DataError> {
        let end = offset.saturating_add(limit).min(self.num_rows);
        for (i, &(first, start, len)) in self.groups.iter().enumerate() {
            let next = self.groups.get(i + 1).map(|g| g.0).unwrap_or(self.num_rows);
            if next <= offset || first >= end || next == first {
                continue;
            }
            if cancel.is_cancelled() {
                return Err(DataError::Cancelled);
            }
            self.source.prefetch(start, len)?;
            let skip = offset.saturating_sub(first) as usize;
            let take = (end.min(next) - first.max(offset)) as usize;
            // The crate's errors and the caller's are kept apart: the first
            // say the file is damaged, the second stop the reading as they
            // are.
            let mut stopped = None;
            if let Some(flat) = &self.flat {
                let base = index_base + first.max(offset);
                catch_panic(|| self.flat_rows(i, flat, skip, take, base, cancel, f, &mut stopped))
                    .map_err(|p| damaged(&self.name, p))?
                    .map_err(|e| damaged(&self.name, e))?;
                if let Some(e) = stopped {
                    return Err(e);
                }
                continue;
            }
            catch_panic(|| -> Result<(), parquet::errors::ParquetError> {
                let group = self.reader.get_row_group(i)?;
                for (k, row) in group.get_row_iter(None)?.skip(skip).take(take).enumerate() {
                    let row = row?;
                    let cells = row
                        .get_column_iter()
                        .map(|(name, field)| {
                            let feature = self
                                .features
                                .iter()
                                .find(|(n, _)| n == name)
                                .map(|(_, f)| f);
                            (name.clone(), convert(field, feature))
                        })
                        .collect();
                    let row = Row {
                        index: index_base + first.max(offset) + k as u64,
                        cells,
                    };
                    let r = if k % 1024 == 1023 && cancel.is_cancelled() {
                        Err(DataError::Cancelled)
                    } else {
                        f(row)
                    };
                    if let Err(e) = r {
                        stopped = Some(e);
                        break;
                    }
                }
                Ok(())
            })
            .map_err(|p| damaged(&self.name, p))?
            .map_err(|e| damaged(&self.name, e))?;
            if let Some(e) = stopped {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Rows `skip..skip + take` of row group `i` read column by column,
    /// a few thousand at a time, and handed to `f` as rows (the same
    /// values the record path gives); `f`'s error lands in `stopped`.
    #[allow(clippy::too_many_arguments)]
    fn flat_rows(
        &self,
        i: usize,
        flat: &[Flat],
        skip: usize,
        take: usize,
        base: u64,
        cancel: &CancelToken,
        f: &mut dyn FnMut(Row) -> Result<(), DataError>,
        stopped: &mut Option<DataError>,
    ) -> Result<(), parquet::errors::ParquetError> {
        const CHUNK: usize = 4096;
        let group = self.reader.get_row_group(i)?;
        let descr = self.reader.metadata().file_metadata().schema_descr_ptr();
        let mut readers = Vec::with_capacity(flat.len());
        for (j, kind) in flat.iter().enumerate() {
            let max_def = descr.column(j).max_def_level();
            let mut r = FlatReader::new(group.get_column_reader(j)?, *kind, max_def)?;
            r.skip(skip)?;
            readers.push(r);
        }
        let names: Vec<String> = self.features.iter().map(|(n, _)| n.clone()).collect();
        let mut columns: Vec<Vec<Value>> = vec![Vec::new(); flat.len()];
        let mut done = 0usize;
        while done < take {
            let n = CHUNK.min(take - done);
            let mut got = usize::MAX;
            for (r, col) in readers.iter_mut().zip(&mut columns) {
                col.clear();
                got = got.min(r.read(n, col)?);
            }
            if got == 0 || got == usize::MAX {
                break;
            }
            let mut iters: Vec<std::vec::Drain<'_, Value>> =
                columns.iter_mut().map(|c| c.drain(..got)).collect();
            for k in 0..got {
                let cells = names
                    .iter()
                    .zip(iters.iter_mut())
                    .map(|(name, it)| (name.clone(), it.next().unwrap_or(Value::Null)))
                    .collect();
                let row = Row {
                    index: base + (done + k) as u64,
                    cells,
                };
                if let Err(e) = f(row) {
                    *stopped = Some(e);
                    return Ok(());
                }
            }
            drop(iters);
            done += got;
            if cancel.is_cancelled() {
                *stopped = Some(DataError::Cancelled);
                return Ok(());
            }
        }
        Ok(())
    }

    /// Whether its rows are read column by column (every column a flat
    /// scalar) rather than through the crate's records.
    pub fn columnar(&self) -> bool {
        self.flat.is_some()
    }

    /// Where the file's bytes come from.
    pub fn source(&self) -> &R {
        &self.source
    }

    /// The row groups' sizes: (rows, compressed bytes) each.
    pub fn row_groups(&self) -> Vec<(u64, u64)> {
        self.groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let next = self.groups.get(i + 1).map(|n| n.0).unwrap_or(self.num_rows);
                (next - g.0, g.2)
            })
            .collect()
    }
}

/// The source shared between the reader and the prefetching (the crate
/// keeps its reader to itself).
struct Shared<R>(Arc<R>);

impl<R: Source> Length for Shared<R> {
    fn len(&self) -> u64 {
        self.0.len()
    }
}

impl<R: Source> ChunkReader for Shared<R> {
    type T = R::T;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        self.0.get_read(start)
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        self.0.get_bytes(start, length)
    }
}

/// A parquet field as a [`Value`], `feature` saying what datasets meant
/// by it (which structs are media, which structs are lists of structs).
pub fn convert(field: &Field, feature: Option<&Feature>) -> Value {
    match (field, feature) {
        (Field::Group(row), Some(Feature::Audio { .. } | Feature::Image)) => {
            let kind = if matches!(feature, Some(Feature::Image)) {
                MediaKind::Image
            } else {
                MediaKind::Audio
            };
            let mut media = Media {
                kind,
                bytes: None,
                path: None,
            };
            for (name, f) in row.get_column_iter() {
                match (name.as_str(), f) {
                    ("bytes", Field::Bytes(b)) => media.bytes = Some(b.data().to_vec()),
                    ("path", Field::Str(p)) => media.path = Some(p.clone()),
                    _ => {}
                }
            }
            Value::Media(media)
        }
        (Field::ListInternal(list), Some(Feature::List(inner))) => Value::List(
            list.elements()
                .iter()
                .map(|e| convert(e, Some(inner)))
                .collect(),
        ),
        // datasets stores a Sequence of a dict as a dict of lists.
        (Field::Group(row), Some(Feature::List(inner))) => {
            let fields = match inner.as_ref() {
                Feature::Struct(f) => f.clone(),
                _ => Vec::new(),
            };
            Value::Struct(
                row.get_column_iter()
                    .map(|(name, f)| {
                        let inner = fields
                            .iter()
                            .find(|(n, _)| n == name)
                            .map(|(_, t)| Feature::List(Box::new(t.clone())));
                        (name.clone(), convert(f, inner.as_ref()))
                    })
                    .collect(),
            )
        }
        (Field::Group(row), f) => {
            let fields = match f {
                Some(Feature::Struct(fields)) => fields.as_slice(),
                _ => &[],
            };
            Value::Struct(
                row.get_column_iter()
                    .map(|(name, f)| {
                        let inner = fields.iter().find(|(n, _)| n == name).map(|(_, t)| t);
                        (name.clone(), convert(f, inner))
                    })
                    .collect(),
            )
        }
        (Field::ListInternal(list), _) => {
            Value::List(list.elements().iter().map(|e| convert(e, None)).collect())
        }
        (Field::MapInternal(map), _) => Value::List(
            map.entries()
                .iter()
                .map(|(k, v)| {
                    Value::Struct(vec![
                        ("key".into(), convert(k, None)),
                        ("value".into(), convert(v, None)),
                    ])
                })
                .collect(),
        ),
        (Field::Null, _) => Value::Null,
        (Field::Bool(b), _) => Value::Bool(*b),
        (Field::Byte(v), _) => Value::Int(i64::from(*v)),
        (Field::Short(v), _) => Value::Int(i64::from(*v)),
        (Field::Int(v), _) => Value::Int(i64::from(*v)),
        (Field::Long(v), _) => Value::Int(*v),
        (Field::UByte(v), _) => Value::UInt(u64::from(*v)),
        (Field::UShort(v), _) => Value::UInt(u64::from(*v)),
        (Field::UInt(v), _) => Value::UInt(u64::from(*v)),
        (Field::ULong(v), _) => Value::UInt(*v),
        (Field::Float16(v), _) => Value::Float(f64::from(f32::from(*v))),
        (Field::Float(v), _) => Value::Float(f64::from(*v)),
        (Field::Double(v), _) => Value::Float(*v),
        (Field::Str(s), _) => Value::Str(s.clone()),
        (Field::Bytes(b), _) => Value::Bytes(b.data().to_vec()),
        // Dates, times, decimals: as the crate writes them.
        (other, _) => Value::Text(other.to_string()),
    }
}

/// How a flat scalar column becomes values (as the record path makes them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Flat {
    Bool,
    Int32 {
        signed: bool,
    },
    Int64 {
        signed: bool,
    },
    Float,
    Double,
    /// Text (`Str`) or bytes.
    ByteArray {
        text: bool,
    },
}

/// The flat reading of every top-level column, when all are scalars of
/// the kinds [`Flat`] knows (no lists, structs, dates or decimals).
fn flat_columns(fields: &[parquet::schema::types::TypePtr], leaves: usize) -> Option<Vec<Flat>> {
    use parquet::basic::{ConvertedType as C, LogicalType as L, Repetition, Type as P};
    if fields.len() != leaves {
        return None;
    }
    fields
        .iter()
        .map(|t| {
            if t.is_group() || t.get_basic_info().repetition() == Repetition::REPEATED {
                return None;
            }
            let info = t.get_basic_info();
            let logical = info.logical_type_ref();
            let converted = info.converted_type();
            let int_sign = |default: bool| -> Option<bool> {
                match (logical, converted) {
                    (Some(L::Integer(i)), _) => Some(i.is_signed),
                    (Some(_), _) => None,
                    (None, C::NONE) => Some(default),
                    (None, C::INT_8 | C::INT_16 | C::INT_32 | C::INT_64) => Some(true),
                    (None, C::UINT_8 | C::UINT_16 | C::UINT_32 | C::UINT_64) => Some(false),
                    _ => None,
                }
            };
            Some(match t.get_physical_type() {
                P::BOOLEAN if logical.is_none() => Flat::Bool,
                P::INT32 => Flat::Int32 {
                    signed: int_sign(true)?,
                },
                P::INT64 => Flat::Int64 {
                    signed: int_sign(true)?,
                },
                P::FLOAT if logical.is_none() => Flat::Float,
                P::DOUBLE if logical.is_none() => Flat::Double,
                P::BYTE_ARRAY => match (logical, converted) {
                    (Some(L::String | L::Json | L::Enum), _) => Flat::ByteArray { text: true },
                    (None, C::UTF8 | C::JSON | C::ENUM) => Flat::ByteArray { text: true },
                    (None, C::NONE) | (Some(L::Bson), _) | (None, C::BSON) => {
                        Flat::ByteArray { text: false }
                    }
                    _ => return None,
                },
                _ => return None,
            })
        })
        .collect()
}

/// One column's typed reader and its buffers.
struct FlatReader {
    reader: parquet::column::reader::ColumnReader,
    kind: Flat,
    max_def: i16,
    defs: Vec<i16>,
}

impl FlatReader {
    fn new(
        reader: parquet::column::reader::ColumnReader,
        kind: Flat,
        max_def: i16,
    ) -> Result<Self, parquet::errors::ParquetError> {
        Ok(Self {
            reader,
            kind,
            max_def,
            defs: Vec::new(),
        })
    }

    fn skip(&mut self, n: usize) -> Result<(), parquet::errors::ParquetError> {
        use parquet::column::reader::ColumnReader as R;
        if n == 0 {
            return Ok(());
        }
        match &mut self.reader {
            R::BoolColumnReader(r) => r.skip_records(n)?,
            R::Int32ColumnReader(r) => r.skip_records(n)?,
            R::Int64ColumnReader(r) => r.skip_records(n)?,
            R::Int96ColumnReader(r) => r.skip_records(n)?,
            R::FloatColumnReader(r) => r.skip_records(n)?,
            R::DoubleColumnReader(r) => r.skip_records(n)?,
            R::ByteArrayColumnReader(r) => r.skip_records(n)?,
            R::FixedLenByteArrayColumnReader(r) => r.skip_records(n)?,
        };
        Ok(())
    }

    /// Up to `n` values appended to `out`; how many rows were read.
    fn read(
        &mut self,
        n: usize,
        out: &mut Vec<Value>,
    ) -> Result<usize, parquet::errors::ParquetError> {
        use parquet::column::reader::ColumnReader as R;
        let (max_def, kind) = (self.max_def, self.kind);
        let defs = &mut self.defs;
        match &mut self.reader {
            R::BoolColumnReader(r) => read_typed(r, n, max_def, defs, out, |v| Value::Bool(*v)),
            R::Int32ColumnReader(r) => read_typed(r, n, max_def, defs, out, |v| match kind {
                Flat::Int32 { signed: false } => Value::UInt(u64::from(*v as u32)),
                _ => Value::Int(i64::from(*v)),
            }),
            R::Int64ColumnReader(r) => read_typed(r, n, max_def, defs, out, |v| match kind {
                Flat::Int64 { signed: false } => Value::UInt(*v as u64),
                _ => Value::Int(*v),
            }),
            R::FloatColumnReader(r) => {
                read_typed(r, n, max_def, defs, out, |v| Value::Float(f64::from(*v)))
            }
            R::DoubleColumnReader(r) => read_typed(r, n, max_def, defs, out, |v| Value::Float(*v)),
            R::ByteArrayColumnReader(r) => read_typed(r, n, max_def, defs, out, |v| match kind {
                Flat::ByteArray { text: true } => Value::Str(match std::str::from_utf8(v.data()) {
                    Ok(t) => t.to_owned(),
                    Err(_) => String::from_utf8_lossy(v.data()).into_owned(),
                }),
                _ => Value::Bytes(v.data().to_vec()),
            }),
            _ => Err(parquet::errors::ParquetError::General(
                "a column of an unexpected type".into(),
            )),
        }
    }
}

/// Reads up to `n` records of a typed column, nulls where the definition
/// level says so.
fn read_typed<T: parquet::data_type::DataType>(
    r: &mut parquet::column::reader::ColumnReaderImpl<T>,
    n: usize,
    max_def: i16,
    defs: &mut Vec<i16>,
    out: &mut Vec<Value>,
    conv: impl Fn(&T::T) -> Value,
) -> Result<usize, parquet::errors::ParquetError> {
    let mut values: Vec<T::T> = Vec::with_capacity(n);
    let mut records = 0;
    while records < n {
        defs.clear();
        values.clear();
        let (got, _, levels) = r.read_records(
            n - records,
            (max_def > 0).then_some(&mut *defs),
            None,
            &mut values,
        )?;
        if got == 0 {
            break;
        }
        if max_def > 0 {
            let mut it = values.iter();
            for &d in &defs[..levels.min(defs.len())] {
                out.push(match (d == max_def).then(|| it.next()).flatten() {
                    Some(v) => conv(v),
                    None => Value::Null,
                });
            }
        } else {
            out.extend(values.iter().map(&conv));
        }
        records += got;
    }
    Ok(records)
}
