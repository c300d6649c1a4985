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
        self.write_short(&mut s, max_chars);
        if s.chars().count() > max_chars {
            let cut: String = s.chars().take(max_chars.saturating_sub(1)).collect();
            format!("{cut}…")
        } else {
            s
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
                for c in s.chars() {
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
