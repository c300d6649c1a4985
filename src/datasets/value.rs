//! One cell of a dataset, whatever file it came from: text, numbers,
//! nested lists and structs, and media (a picture or a sound, its encoded
//! bytes and/or a path). How a cell prints for the CLI's `--json` and in a
//! table cell lives here too, so every front end shows the same thing.

use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};

/// Which demo a media cell can go to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Audio,
    Image,
}

impl MediaKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Audio => "audio",
            Self::Image => "image",
        }
    }
}

/// A picture or a sound as datasets stores it: the file's bytes, its
/// path, or both (`struct<bytes: binary, path: string>`).
#[derive(Clone, Debug, PartialEq)]
pub struct Media {
    pub kind: MediaKind,
    pub bytes: Option<Vec<u8>>,
    pub path: Option<String>,
}

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    /// Named fields in the file's order.
    Struct(Vec<(String, Value)>),
    Media(Media),
    /// A type Spaceport does not show natively (dates, decimals, maps),
    /// as text.
    Text(String),
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Value {
    /// The cell as the CLI prints it: JSON values as `datasets` gives
    /// them, except binary and media, which print as an object with
    /// `type`, `bytes` (the length), `sha256` (of the bytes) and `path`.
    pub fn to_json(&self) -> Json {
        match self {
            Self::Null => Json::Null,
            Self::Bool(b) => json!(b),
            Self::Int(i) => json!(i),
            Self::UInt(u) => json!(u),
            Self::Float(f) if f.is_finite() => json!(f),
            // JSON has no NaN or infinity; say them in words.
            Self::Float(f) => json!(f.to_string()),
            Self::Str(s) | Self::Text(s) => json!(s),
            Self::Bytes(b) => json!({"type": "binary", "bytes": b.len(), "sha256": sha256_hex(b)}),
            Self::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Self::Struct(fields) => Json::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect::<Map<_, _>>(),
            ),
            Self::Media(m) => json!({
                "type": m.kind.name(),
                "bytes": m.bytes.as_ref().map(Vec::len),
                "sha256": m.bytes.as_deref().map(sha256_hex),
                "path": m.path,
            }),
        }
    }

    /// The cell in one line for a table: nested values compact, long
    /// text cut at `max_chars` with an ellipsis.
    pub fn short(&self, max_chars: usize) -> String {
        let mut s = String::new();
        self.short_into(&mut s, max_chars);
        s
    }

    /// As [`Self::short`], appended to `out` (a buffer reused row after
    /// row).
    pub fn short_into(&self, out: &mut String, max_chars: usize) {
        if let Self::Str(t) | Self::Text(t) = self {
            // Text, the common cell, in one pass.
            let (body, cut) = match t.char_indices().nth(max_chars) {
                None => (t.as_str(), false),
                Some(_) => {
                    let end = t
                        .char_indices()
                        .nth(max_chars.saturating_sub(1))
                        .map_or(t.len(), |(i, _)| i);
                    (&t[..end], true)
                }
            };
            if body.contains(['\n', '\t']) {
                out.extend(
                    body.chars()
                        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c }),
                );
            } else {
                out.push_str(body);
            }
            if cut {
                out.push('…');
            }
            return;
        }
        let start = out.len();
        self.write_short(out, max_chars);
        let written = &out[start..];
        // Cut at the first char past the budget, if there is one.
        if let Some((cut, _)) = written.char_indices().nth(max_chars) {
            let keep = written[..cut]
                .char_indices()
                .nth(max_chars.saturating_sub(1))
                .map_or(cut, |(i, _)| i);
            out.truncate(start + keep);
            out.push('…');
        }
    }

    fn write_short(&self, out: &mut String, budget: usize) {
        use std::fmt::Write;
        if out.len() > budget * 4 {
            return; // enough for the cut that follows
        }
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Self::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Self::UInt(u) => {
                let _ = write!(out, "{u}");
            }
            // A float32 column prints as float32 ("0.33333334", not
            // "0.3333333432674408").
            Self::Float(f) if (*f as f32) as f64 == *f => {
                let _ = write!(out, "{}", *f as f32);
            }
            Self::Float(f) => {
                let _ = write!(out, "{f}");
            }
            Self::Str(s) | Self::Text(s) => {
                // No more than the cut that follows needs.
                for c in s.chars().take(budget.saturating_add(1)) {
                    out.push(if c == '\n' || c == '\t' { ' ' } else { c });
                }
            }
            Self::Bytes(b) => {
                let _ = write!(out, "<{}>", crate::format::format_bytes(b.len() as u64));
            }
            Self::List(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write_short(out, budget);
                }
                out.push(']');
            }
            Self::Struct(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{k}: ");
                    v.write_short(out, budget);
                }
                out.push('}');
            }
            Self::Media(m) => {
                let _ = write!(
                    out,
                    "{} {}",
                    m.kind.name(),
                    m.bytes
                        .as_ref()
                        .map(|b| crate::format::format_bytes(b.len() as u64))
                        .or_else(|| m.path.clone())
                        .unwrap_or_default()
                );
            }
        }
    }

    /// The text of a cell, when it is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A struct's field.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Self::Struct(f) => f.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// A cell serialised as [`Value::to_json`] gives it, without building
/// the JSON tree first (rows stream to the CLI's output this way).
struct JsonCell<'a>(&'a Value);

impl serde::Serialize for JsonCell<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::UInt(u) => s.serialize_u64(*u),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(f) => s.serialize_str(&f.to_string()),
            Value::Str(t) | Value::Text(t) => s.serialize_str(t),
            Value::Bytes(b) => {
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry("type", "binary")?;
                m.serialize_entry("bytes", &b.len())?;
                m.serialize_entry("sha256", &sha256_hex(b))?;
                m.end()
            }
            Value::List(items) => {
                let mut q = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    q.serialize_element(&JsonCell(v))?;
                }
                q.end()
            }
            Value::Struct(fields) => {
                let mut m = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, &JsonCell(v))?;
                }
                m.end()
            }
            Value::Media(media) => {
                let mut m = s.serialize_map(Some(4))?;
                m.serialize_entry("type", media.kind.name())?;
                m.serialize_entry("bytes", &media.bytes.as_ref().map(Vec::len))?;
                m.serialize_entry("sha256", &media.bytes.as_deref().map(sha256_hex))?;
                m.serialize_entry("path", &media.path)?;
                m.end()
            }
        }
    }
}

/// A row's cells as a map, for [`Row::write_json`].
struct JsonCells<'a>(&'a [(String, Value)]);

impl serde::Serialize for JsonCells<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, &JsonCell(v))?;
        }
        m.end()
    }
}

/// One row: the columns in the file's order.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The row's index in its split.
    pub index: u64,
    pub cells: Vec<(String, Value)>,
}

impl Row {
    /// `{"row_idx": N, "row": {column: value}}`, the CLI's line.
    pub fn to_json(&self) -> Json {
        json!({
            "row_idx": self.index,
            "row": Json::Object(
                self.cells
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect::<Map<_, _>>()
            ),
        })
    }

    /// The same line as [`Self::to_json`], written straight to `out`.
    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        use serde::ser::{SerializeMap, Serializer};
        let mut ser = serde_json::Serializer::new(out);
        let mut m = ser.serialize_map(Some(2)).map_err(std::io::Error::other)?;
        m.serialize_entry("row_idx", &self.index)
            .map_err(std::io::Error::other)?;
        m.serialize_entry("row", &JsonCells(&self.cells))
            .map_err(std::io::Error::other)?;
        m.end().map_err(std::io::Error::other)
    }

    pub fn get(&self, column: &str) -> Option<&Value> {
        self.cells.iter().find(|(k, _)| k == column).map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_cuts_long_text_and_keeps_nesting_compact() {
        let v = Value::Struct(vec![
            ("de".into(), Value::Str("Hallo\nWelt".into())),
            ("n".into(), Value::List(vec![Value::Int(1), Value::Null])),
        ]);
        assert_eq!(v.short(100), "{de: Hallo Welt, n: [1, null]}");
        assert_eq!(Value::Str("abcdefgh".into()).short(5), "abcd…");
    }

    #[test]
    fn streamed_json_is_the_json_tree_written_out() {
        let row = Row {
            index: 7,
            cells: vec![
                ("a".into(), Value::Float(f64::NAN)),
                (
                    "b".into(),
                    Value::List(vec![Value::UInt(u64::MAX), Value::Null]),
                ),
                ("c".into(), Value::Bytes(b"xy".to_vec())),
                (
                    "d".into(),
                    Value::Struct(vec![("é".into(), Value::Str("q\"\n".into()))]),
                ),
                (
                    "e".into(),
                    Value::Media(Media {
                        kind: MediaKind::Image,
                        bytes: None,
                        path: Some("p.png".into()),
                    }),
                ),
                ("f".into(), Value::Float(0.1)),
            ],
        };
        let mut out = Vec::new();
        row.write_json(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), row.to_json().to_string());
        assert_eq!(Value::Str("ab\ncdef".into()).short(4), "ab …");
        assert_eq!(Value::Str("abcd".into()).short(4), "abcd");
        assert_eq!(Value::Str("ééééé".into()).short(3), "éé…");
    }

    #[test]
    fn media_prints_its_length_and_digest() {
        let m = Value::Media(Media {
            kind: MediaKind::Audio,
            bytes: Some(b"abc".to_vec()),
            path: Some("a.wav".into()),
        });
        assert_eq!(
            m.to_json(),
            json!({"type": "audio", "bytes": 3, "path": "a.wav",
                   "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"})
        );
    }
}
