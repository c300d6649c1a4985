//! Preparing a split before use, as `datasets`' `filter`, `shuffle(seed)`,
//! `select(range(n))` and `train_test_split(test_size)` do: which rows,
//! in which order, in which part — then written out ([`export`]) as
//! parquet, CSV or JSON Lines through [`super::write`]. An export is
//! written to a `.partial` file and renamed when whole: a cancelled or
//! failed export leaves the folder as it was.
//!
//! A filter is one condition on a row: `COLUMN contains TEXT` (any case),
//! `COLUMN OP VALUE` with `==`, `!=`, `<`, `<=`, `>`, `>=` (numbers
//! compare as numbers, a ClassLabel by its name or number, text as
//! text), or bare `TEXT`: any text column contains it. `COLUMN` may name
//! a struct's field with a dot (`translation.de`).

use std::path::{Path, PathBuf};

use super::features::Feature;
use super::value::{Row, Value};
use super::write::{Format, ParquetWriter, TextWriter};
use super::{AnySplit, DataError};
use crate::work::CancelToken;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Contains,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One condition on a row.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// The column (dotted into structs); `None`: any text column.
    pub column: Option<String>,
    pub op: Op,
    pub value: String,
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return s[1..s.len() - 1].to_string();
        }
    }
    s.to_string()
}

impl Filter {
    /// Reads `COLUMN contains TEXT`, `COLUMN OP VALUE` or `TEXT`.
    pub fn parse(expr: &str) -> Result<Filter, DataError> {
        let expr = expr.trim();
        if expr.is_empty() {
            return Err(DataError::NotFound("The filter is empty.".into()));
        }
        let lower = expr.to_lowercase();
        if let Some(at) = lower.find(" contains ") {
            return Ok(Filter {
                column: Some(unquote(&expr[..at])),
                op: Op::Contains,
                value: unquote(&expr[at + " contains ".len()..]),
            });
        }
        // The first operator in the text; two-character ones first.
        let ops = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("=", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        let found = ops
            .iter()
            .filter_map(|(text, op)| expr.find(text).map(|at| (at, *text, *op)))
            .min_by_key(|(at, text, _)| (*at, std::cmp::Reverse(text.len())));
        if let Some((at, text, op)) = found {
            let column = unquote(&expr[..at]);
            if column.is_empty() {
                return Err(DataError::NotFound(format!(
                    "The filter \"{expr}\" names no column before {text}."
                )));
            }
            return Ok(Filter {
                column: Some(column),
                op,
                value: unquote(&expr[at + text.len()..]),
            });
        }
        Ok(Filter {
            column: None,
            op: Op::Contains,
            value: unquote(expr),
        })
    }

    /// Says which column the filter names that the split lacks.
    pub fn check(&self, features: &[(String, Feature)]) -> Result<(), DataError> {
        let Some(column) = &self.column else {
            return Ok(());
        };
        let top = column.split('.').next().unwrap_or(column);
        if features.iter().any(|(n, _)| n == column || n == top) {
            Ok(())
        } else {
            Err(DataError::NotFound(format!(
                "The filter names a column \"{column}\" this split does not have; it has {}.",
                features
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }

    /// Whether `row` passes.
    pub fn matches(&self, row: &Row, features: &[(String, Feature)]) -> bool {
        let Some(column) = &self.column else {
            let needle = self.value.to_lowercase();
            return row.cells.iter().any(|(_, v)| text_contains(v, &needle));
        };
        let (cell, feature) = lookup(row, features, column);
        let Some(cell) = cell else {
            return self.op == Op::Ne;
        };
        if matches!(cell, Value::Null) {
            return self.op == Op::Ne;
        }
        if self.op == Op::Contains {
            return text_contains(cell, &self.value.to_lowercase());
        }
        // A ClassLabel compares by its name when given one.
        let wanted: Value = match (feature, cell) {
            (Some(Feature::ClassLabel(names)), Value::Int(_))
                if self.value.parse::<f64>().is_err() =>
            {
                match names.iter().position(|n| *n == self.value) {
                    Some(i) => Value::Int(i as i64),
                    None => return self.op == Op::Ne,
                }
            }
            _ => Value::Str(self.value.clone()),
        };
        let ordering = match (
            number(cell),
            number(&wanted).or_else(|| self.value.parse().ok()),
        ) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => {
                let text = match cell {
                    Value::Str(s) | Value::Text(s) => s.clone(),
                    Value::Bool(b) => if *b { "true" } else { "false" }.into(),
                    other => other.short(usize::MAX / 8),
                };
                let value = match &wanted {
                    Value::Str(s) => s.clone(),
                    other => other.short(64),
                };
                if matches!(cell, Value::Bool(_)) {
                    Some(text.cmp(&value.to_lowercase()))
                } else {
                    Some(text.cmp(&value))
                }
            }
        };
        use std::cmp::Ordering::*;
        match (self.op, ordering) {
            (Op::Eq, Some(Equal)) => true,
            (Op::Ne, o) => o != Some(Equal),
            (Op::Lt, Some(Less)) => true,
            (Op::Le, Some(Less | Equal)) => true,
            (Op::Gt, Some(Greater)) => true,
            (Op::Ge, Some(Greater | Equal)) => true,
            _ => false,
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::UInt(u) => Some(*u as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// A cell by column name, dotted into structs, with its feature.
fn lookup<'a>(
    row: &'a Row,
    features: &'a [(String, Feature)],
    column: &str,
) -> (Option<&'a Value>, Option<&'a Feature>) {
    if let Some(v) = row.get(column) {
        let f = features.iter().find(|(n, _)| n == column).map(|(_, f)| f);
        return (Some(v), f);
    }
    let mut parts = column.split('.');
    let Some(top) = parts.next() else {
        return (None, None);
    };
    let mut v = row.get(top);
    for p in parts {
        v = v.and_then(|v| v.field(p));
    }
    (v, None)
}

/// Whether any text in `v` (nested too) contains `needle` (lower case).
fn text_contains(v: &Value, needle: &str) -> bool {
    match v {
        Value::Str(s) | Value::Text(s) => s.to_lowercase().contains(needle),
        Value::List(items) => items.iter().any(|x| text_contains(x, needle)),
        Value::Struct(f) => f.iter().any(|(_, x)| text_contains(x, needle)),
        _ => false,
    }
}

/// What to do to a split, in this order: filter, shuffle, take, split.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prepare {
    pub filter: Option<Filter>,
    pub shuffle: Option<u64>,
    pub take: Option<u64>,
    /// The fraction of rows (0–1) that goes to a `test` part; the rest is
    /// `train`.
    pub test_fraction: Option<f64>,
}

/// The rows chosen: for each part (`""` when not split; else `train` and
/// `test`), the source rows in output order.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    pub parts: Vec<(String, Vec<u64>)>,
}

use crate::rng::Rng;

/// The most rows an export handles (their indices held in memory).
const MAX_ROWS: u64 = 1 << 32;

/// Chooses the rows: a pass over the split when there is a filter
/// (`progress(rows read, rows)`), none otherwise.
pub fn select(
    split: &AnySplit,
    prepare: &Prepare,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Selection, DataError> {
    let total = split.num_rows();
    if total > MAX_ROWS {
        return Err(DataError::Unsupported(format!(
            "This split has {total} rows; Spaceport prepares up to {MAX_ROWS}."
        )));
    }
    let features = split.features();
    let mut rows: Vec<u64> = match &prepare.filter {
        None => (0..total).collect(),
        Some(filter) => {
            filter.check(&features)?;
            let mut keep = Vec::new();
            let mut seen = 0u64;
            split.for_each_row(0, total, cancel, &mut |row| {
                if filter.matches(&row, &features) {
                    keep.push(row.index);
                }
                seen += 1;
                if seen.is_multiple_of(1000) {
                    progress(seen, total);
                }
                Ok(())
            })?;
            progress(total, total);
            keep
        }
    };
    if let Some(seed) = prepare.shuffle {
        let mut rng = Rng::new(seed);
        for i in (1..rows.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            rows.swap(i, j);
        }
    }
    if let Some(n) = prepare.take {
        rows.truncate(usize::try_from(n).unwrap_or(usize::MAX));
    }
    let parts = match prepare.test_fraction {
        Some(f) if f.is_finite() && f > 0.0 && f < 1.0 => {
            let test = ((rows.len() as f64) * f).ceil() as usize;
            let train = rows.len() - test.min(rows.len());
            let test_rows = rows.split_off(train);
            vec![("train".to_string(), rows), ("test".to_string(), test_rows)]
        }
        Some(f) => {
            return Err(DataError::NotFound(format!(
                "A test part of {f} is not a fraction between 0 and 1."
            )));
        }
        None => vec![(String::new(), rows)],
    };
    Ok(Selection { parts })
}

/// Where a part goes: `to` itself, or `name-train.ext`/`name-test.ext`.
pub fn part_path(to: &Path, part: &str) -> PathBuf {
    if part.is_empty() {
        return to.to_path_buf();
    }
    let stem = to
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match to.extension() {
        Some(ext) => format!("{stem}-{part}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{part}"),
    };
    to.with_file_name(name)
}

/// Writes the selection to `to` (the format from its extension; one file
/// a part), `progress(rows written, rows)`. Returns each file and its
/// row count.
pub fn export(
    split: &AnySplit,
    selection: &Selection,
    to: &Path,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Vec<(PathBuf, u64)>, DataError> {
    let format = Format::of(to).ok_or_else(|| {
        DataError::Unsupported(format!(
            "{} should end in .parquet, .csv or .jsonl.",
            to.display()
        ))
    })?;
    let features = split.features();
    let total: u64 = selection.parts.iter().map(|(_, r)| r.len() as u64).sum();
    let mut done = 0u64;
    let mut written = Vec::new();
    for (part, rows) in &selection.parts {
        let path = part_path(to, part);
        let partial = path.with_extension(format!(
            "{}.partial",
            path.extension()
                .map(|e| e.to_string_lossy())
                .unwrap_or_default()
        ));
        let result = write_part(
            split,
            &features,
            rows,
            (&partial, &path),
            format,
            cancel,
            &mut |n| progress(done + n, total),
        );
        if let Err(e) = result {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, &path).map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            DataError::Missing(format!("Could not write {}: {e}.", path.display()))
        })?;
        done += rows.len() as u64;
        written.push((path, rows.len() as u64));
    }
    Ok(written)
}

/// One part's rows, in order, into `path`.
fn write_part(
    split: &AnySplit,
    features: &[(String, Feature)],
    rows: &[u64],
    (path, final_path): (&Path, &Path),
    format: Format,
    cancel: &CancelToken,
    progress: &mut dyn FnMut(u64),
) -> Result<(), DataError> {
    enum Out {
        Parquet(ParquetWriter),
        Text(TextWriter),
    }
    let mut out = match format {
        Format::Parquet => Out::Parquet(ParquetWriter::create(path, features)?),
        f => Out::Text(TextWriter::create(
            path,
            final_path,
            f,
            features.iter().map(|(n, _)| n.clone()).collect(),
        )?),
    };
    let mut n = 0u64;
    let mut emit = |row: Row| -> Result<(), DataError> {
        let index = n;
        match &mut out {
            Out::Parquet(w) => w.push(row)?,
            Out::Text(w) => w.push(index, row)?,
        }
        n += 1;
        if n.is_multiple_of(100) {
            progress(n);
        }
        Ok(())
    };
    let sorted = rows.windows(2).all(|w| w[0] < w[1]);
    if sorted {
        // In order: one pass over the runs of consecutive rows.
        let mut i = 0;
        while i < rows.len() {
            let mut j = i + 1;
            while j < rows.len() && rows[j] == rows[j - 1] + 1 {
                j += 1;
            }
            split.for_each_row(rows[i], (j - i) as u64, cancel, &mut emit)?;
            i = j;
        }
    } else {
        // Shuffled: each row read in the source's order, kept until written
        // in the part's.
        let mut order: Vec<(u64, usize)> = rows.iter().enumerate().map(|(k, r)| (*r, k)).collect();
        order.sort_unstable();
        let mut slots: Vec<Option<Row>> = vec![None; rows.len()];
        let mut i = 0;
        while i < order.len() {
            let mut j = i + 1;
            while j < order.len() && order[j].0 == order[j - 1].0 + 1 {
                j += 1;
            }
            let mut k = i;
            split.for_each_row(order[i].0, (j - i) as u64, cancel, &mut |row| {
                if let Some((_, slot)) = order.get(k) {
                    slots[*slot] = Some(row);
                }
                k += 1;
                Ok(())
            })?;
            i = j;
        }
        for row in slots.into_iter().flatten() {
            if cancel.is_cancelled() {
                return Err(DataError::Cancelled);
            }
            emit(row)?;
        }
    }
    progress(n);
    match out {
        Out::Parquet(w) => w.finish(),
        Out::Text(w) => w.finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: Vec<(&str, Value)>) -> Row {
        Row {
            index: 0,
            cells: cells.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        }
    }

    #[test]
    fn filters_parse_and_match() {
        let f = Filter::parse("text contains HOUSE").unwrap();
        assert_eq!(f.column.as_deref(), Some("text"));
        let features = vec![
            ("text".to_string(), Feature::Value("string".into())),
            ("n".to_string(), Feature::Value("int64".into())),
            (
                "label".to_string(),
                Feature::ClassLabel(vec!["neg".into(), "pos".into()]),
            ),
        ];
        let r = row(vec![
            ("text", Value::Str("The house is small".into())),
            ("n", Value::Int(12)),
            ("label", Value::Int(1)),
        ]);
        assert!(f.matches(&r, &features));
        assert!(Filter::parse("n >= 12").unwrap().matches(&r, &features));
        assert!(!Filter::parse("n < 9").unwrap().matches(&r, &features));
        assert!(Filter::parse("n != 9").unwrap().matches(&r, &features));
        assert!(
            Filter::parse("label == pos")
                .unwrap()
                .matches(&r, &features)
        );
        assert!(
            !Filter::parse("label == neg")
                .unwrap()
                .matches(&r, &features)
        );
        assert!(Filter::parse("label = 1").unwrap().matches(&r, &features));
        assert!(Filter::parse("small").unwrap().matches(&r, &features));
        assert!(
            Filter::parse("text == \"The house is small\"")
                .unwrap()
                .matches(&r, &features)
        );
        assert!(
            Filter::parse("nothing > 1")
                .unwrap()
                .check(&features)
                .is_err()
        );
    }

    #[test]
    fn shuffling_is_a_seeded_permutation() {
        let mut a: Vec<u64> = (0..50).collect();
        let mut rng = Rng::new(7);
        for i in (1..a.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            a.swap(i, j);
        }
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(a, sorted);
    }

    #[test]
    fn parts_are_named_beside_the_export() {
        assert_eq!(
            part_path(Path::new("/x/out.csv"), "test"),
            Path::new("/x/out-test.csv")
        );
        assert_eq!(
            part_path(Path::new("/x/out.csv"), ""),
            Path::new("/x/out.csv")
        );
    }
}
