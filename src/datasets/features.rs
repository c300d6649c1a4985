//! Column types as Python `datasets` describes them: the JSON under the
//! parquet schema's `huggingface` metadata key (`{"info": {"features":
//! …}}`, datasets `features.py`) — `Value`, `ClassLabel`, `Audio`,
//! `Image`, `Translation`, `Sequence`/`List` and plain dicts — or, for a
//! file without it, what the parquet schema itself says. Also which demo
//! a set of columns fits.

use parquet::basic::{ConvertedType, LogicalType, Type as Physical};
use parquet::schema::types::Type;
use serde_json::Value as Json;

use crate::catalog::Panel;

/// One column's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Feature {
    /// A scalar with datasets' dtype name (`string`, `int64`, `float32`,
    /// `bool`, `binary`, …).
    Value(String),
    ClassLabel(Vec<String>),
    Audio {
        sampling_rate: Option<u32>,
    },
    Image,
    /// A translation pair (or more): language code → text.
    Translation(Vec<String>),
    /// A list of the inner type (`Sequence`, `List`, `LargeList`, `[x]`).
    List(Box<Feature>),
    /// Named fields.
    Struct(Vec<(String, Feature)>),
    /// A type this version does not know, by its name.
    Other(String),
}

impl Feature {
    /// Reads datasets' JSON for one feature.
    pub fn from_json(j: &Json) -> Feature {
        match j {
            Json::Array(items) => match items.first() {
                Some(inner) => Feature::List(Box::new(Feature::from_json(inner))),
                None => Feature::Other("list".into()),
            },
            Json::Object(o) => {
                let kind = o.get("_type").and_then(Json::as_str);
                let strings = |key: &str| -> Vec<String> {
                    o.get(key)
                        .and_then(Json::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                match kind {
                    Some("Value") => Feature::Value(
                        o.get("dtype")
                            .and_then(Json::as_str)
                            .unwrap_or("unknown")
                            .to_string(),
                    ),
                    Some("ClassLabel") => Feature::ClassLabel(strings("names")),
                    Some("Audio") => Feature::Audio {
                        sampling_rate: o
                            .get("sampling_rate")
                            .and_then(Json::as_u64)
                            .and_then(|r| u32::try_from(r).ok())
                            .filter(|r| *r > 0),
                    },
                    Some("Image") => Feature::Image,
                    Some("Translation") | Some("TranslationVariableLanguages") => {
                        Feature::Translation(strings("languages"))
                    }
                    Some("Sequence") | Some("List") | Some("LargeList") => Feature::List(Box::new(
                        o.get("feature")
                            .map(Feature::from_json)
                            .unwrap_or(Feature::Other("unknown".into())),
                    )),
                    Some(other) => Feature::Other(other.to_string()),
                    None => Feature::Struct(
                        o.iter()
                            .map(|(k, v)| (k.clone(), Feature::from_json(v)))
                            .collect(),
                    ),
                }
            }
            _ => Feature::Other("unknown".into()),
        }
    }

    /// What the parquet schema says of a column, for files written
    /// without datasets' metadata.
    pub fn from_parquet(t: &Type) -> Feature {
        if t.is_group() {
            let info = t.get_basic_info();
            let fields = t.get_fields();
            let is_list = matches!(info.logical_type_ref(), Some(LogicalType::List))
                || info.converted_type() == ConvertedType::LIST;
            if is_list && fields.len() == 1 {
                // LIST: a repeated group with one element, or (older
                // writers) the repeated element itself.
                let repeated = &fields[0];
                let element = if repeated.is_group() && repeated.get_fields().len() == 1 {
                    &repeated.get_fields()[0]
                } else {
                    repeated
                };
                return Feature::List(Box::new(Feature::from_parquet(element)));
            }
            return Feature::Struct(
                fields
                    .iter()
                    .map(|f| (f.name().to_string(), Feature::from_parquet(f)))
                    .collect(),
            );
        }
        let logical = t.get_basic_info().logical_type_ref().cloned();
        let dtype = match (t.get_physical_type(), logical) {
            (Physical::BOOLEAN, _) => "bool".to_string(),
            (Physical::INT32 | Physical::INT64, Some(LogicalType::Integer(int))) => format!(
                "{}int{}",
                if int.is_signed { "" } else { "u" },
                int.bit_width
            ),
            (_, Some(LogicalType::Date)) => "date32".into(),
            (_, Some(LogicalType::Timestamp { .. })) => "timestamp".into(),
            (_, Some(LogicalType::Decimal { .. })) => "decimal".into(),
            (Physical::INT32, _) => "int32".into(),
            (Physical::INT64, _) => "int64".into(),
            (Physical::FLOAT, _) => "float32".into(),
            (Physical::DOUBLE, _) => "float64".into(),
            (Physical::BYTE_ARRAY, Some(LogicalType::String | LogicalType::Json)) => {
                "string".into()
            }
            (Physical::BYTE_ARRAY, _)
                if t.get_basic_info().converted_type() == ConvertedType::UTF8 =>
            {
                "string".into()
            }
            (Physical::BYTE_ARRAY | Physical::FIXED_LEN_BYTE_ARRAY, _) => "binary".into(),
            (Physical::INT96, _) => "timestamp".into(),
        };
        Feature::Value(dtype)
    }

    /// The type in words, for `dataset info` and the column headers:
    /// `string`, `ClassLabel(names=[neg, pos])`, `List(string)`, …
    pub fn describe(&self) -> String {
        match self {
            Feature::Value(d) => d.clone(),
            Feature::ClassLabel(names) => format!("ClassLabel(names=[{}])", names.join(", ")),
            Feature::Audio {
                sampling_rate: Some(r),
            } => format!("Audio(sampling_rate={r})"),
            Feature::Audio {
                sampling_rate: None,
            } => "Audio".into(),
            Feature::Image => "Image".into(),
            Feature::Translation(l) => format!("Translation(languages=[{}])", l.join(", ")),
            Feature::List(inner) => format!("List({})", inner.describe()),
            Feature::Struct(fields) => format!(
                "{{{}}}",
                fields
                    .iter()
                    .map(|(k, f)| format!("{k}: {}", f.describe()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Feature::Other(name) => name.clone(),
        }
    }

    fn is_text(&self) -> bool {
        match self {
            Feature::Value(d) => d == "string" || d == "large_string",
            Feature::List(inner) => inner.is_text(),
            _ => false,
        }
    }
}

/// The features of a file: datasets' own from the `huggingface` key when
/// there, else read from the schema; `None` for a key that is there but
/// unreadable (then the schema speaks).
pub fn from_metadata(huggingface: Option<&str>) -> Option<Vec<(String, Feature)>> {
    let j: Json = serde_json::from_str(huggingface?).ok()?;
    let features = j.get("info")?.get("features")?.as_object()?;
    Some(
        features
            .iter()
            .map(|(k, v)| (k.clone(), Feature::from_json(v)))
            .collect(),
    )
}

/// Which demo these columns fit, and the columns that feed it; or why
/// none in words.
#[derive(Clone, Debug, PartialEq)]
pub enum Fit {
    /// The demo, the input column, and the reference column (text, or
    /// the other side of a translation) where there is one.
    Demo {
        panel: Panel,
        input: String,
        reference: Option<String>,
    },
    /// Not known from its columns, but its tags say this demo.
    Tagged(Panel),
    None(String),
}

impl Fit {
    /// In words: "audio + text → Transcribe".
    pub fn explain(&self) -> String {
        match self {
            Fit::Demo {
                panel, reference, ..
            } => {
                let what = match panel {
                    Panel::Transcribe => "audio",
                    Panel::Caption => "image",
                    Panel::Translate => "translation pairs",
                };
                match (panel, reference) {
                    (Panel::Translate, _) | (_, None) => format!("{what} → {}", panel.label()),
                    (_, Some(_)) => format!("{what} + text → {}", panel.label()),
                }
            }
            Fit::Tagged(panel) => format!("{} (by its tags)", panel.label()),
            Fit::None(why) => why.clone(),
        }
    }

    /// The same for the window, demo first ("Transcribe (audio + text)"):
    /// its font has no arrow.
    pub fn label(&self) -> String {
        match self {
            Fit::Demo { panel, .. } => {
                let explained = self.explain();
                let what = explained.split(" → ").next().unwrap_or("");
                format!("{} ({what})", panel.label())
            }
            other => other.explain(),
        }
    }

    pub fn panel(&self) -> Option<Panel> {
        match self {
            Fit::Demo { panel, .. } | Fit::Tagged(panel) => Some(*panel),
            Fit::None(_) => None,
        }
    }
}

/// Which demo a dataset with these columns fits: audio (+ text) →
/// Transcribe, a picture (+ text or a list of texts) → Caption, a
/// translation column → Translate.
pub fn fit(features: &[(String, Feature)]) -> Fit {
    let first = |want: &dyn Fn(&Feature) -> bool| {
        features
            .iter()
            .find(|(_, f)| want(f))
            .map(|(n, _)| n.clone())
    };
    let text = first(&|f| f.is_text());
    if let Some(audio) = first(&|f| matches!(f, Feature::Audio { .. })) {
        return Fit::Demo {
            panel: Panel::Transcribe,
            input: audio,
            reference: text,
        };
    }
    if let Some(image) = first(&|f| matches!(f, Feature::Image)) {
        return Fit::Demo {
            panel: Panel::Caption,
            input: image,
            reference: text,
        };
    }
    if let Some(pair) = first(&|f| matches!(f, Feature::Translation(_))) {
        return Fit::Demo {
            panel: Panel::Translate,
            input: pair,
            reference: None,
        };
    }
    Fit::None("no audio, picture or translation column for a demo".into())
}

/// A feature as a dataset card's YAML writes it (`dataset_info.features`:
/// a list of `{name, dtype}`, `{name, sequence}`, `{name, list}` or
/// `{name, struct}` entries; datasets `features.py`, `_to_yaml_list`).
fn card_entry(e: &Json) -> Feature {
    if let Some(d) = e.get("dtype") {
        return card_dtype(d);
    }
    for key in ["sequence", "list", "large_list"] {
        if let Some(inner) = e.get(key) {
            let inner = match inner {
                Json::String(s) => card_dtype(&Json::String(s.clone())),
                Json::Array(items) => card_struct(items),
                other => card_entry(other),
            };
            return Feature::List(Box::new(inner));
        }
    }
    if let Some(Json::Array(items)) = e.get("struct") {
        return card_struct(items);
    }
    Feature::Other("unknown".into())
}

fn card_struct(items: &[Json]) -> Feature {
    Feature::Struct(
        items
            .iter()
            .map(|i| {
                let name = i
                    .get("name")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_string();
                (name, card_entry(i))
            })
            .collect(),
    )
}

fn card_dtype(d: &Json) -> Feature {
    match d {
        Json::String(s) if s == "audio" => Feature::Audio {
            sampling_rate: None,
        },
        Json::String(s) if s == "image" => Feature::Image,
        Json::String(s) => Feature::Value(s.clone()),
        Json::Object(o) => {
            if let Some(a) = o.get("audio") {
                Feature::Audio {
                    sampling_rate: a
                        .get("sampling_rate")
                        .and_then(Json::as_u64)
                        .and_then(|r| u32::try_from(r).ok())
                        .filter(|r| *r > 0),
                }
            } else if o.contains_key("image") {
                Feature::Image
            } else if let Some(t) = o.get("translation") {
                Feature::Translation(
                    t.get("languages")
                        .and_then(Json::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|l| l.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                )
            } else if let Some(c) = o.get("class_label") {
                let names = match c.get("names") {
                    Some(Json::Object(m)) => {
                        let mut pairs: Vec<(u64, String)> = m
                            .iter()
                            .map(|(k, v)| {
                                (
                                    k.parse().unwrap_or(u64::MAX),
                                    v.as_str().unwrap_or("").to_string(),
                                )
                            })
                            .collect();
                        pairs.sort();
                        pairs.into_iter().map(|(_, n)| n).collect()
                    }
                    Some(Json::Array(a)) => a
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                };
                Feature::ClassLabel(names)
            } else {
                Feature::Other(o.keys().next().cloned().unwrap_or_default())
            }
        }
        _ => Feature::Other("unknown".into()),
    }
}

/// The columns a dataset card names (`dataset_info.features`, the first
/// config's when there are several), if it names them.
pub fn from_card(card: &Json) -> Option<Vec<(String, Feature)>> {
    let info = card.get("dataset_info")?;
    let info = match info {
        Json::Array(configs) => configs.first()?,
        other => other,
    };
    let items = info.get("features")?.as_array()?;
    match card_struct(items) {
        Feature::Struct(fields) if !fields.is_empty() => Some(fields),
        _ => None,
    }
}

/// Which demo a search result fits, from what the Hub says of it: the
/// card's columns, else its tags; a repo that is only a loading script
/// is said to be one.
pub fn fit_of(card: Option<&Json>, tags: &[String], files: &[String], id: &str) -> Fit {
    let name = id.rsplit('/').next().unwrap_or(id);
    let script = files.iter().any(|f| *f == format!("{name}.py"));
    let data = files.iter().any(|f| {
        let f = f.to_ascii_lowercase();
        [
            ".parquet", ".csv", ".json", ".jsonl", ".arrow", ".txt", ".tsv", ".tar", ".zip",
            ".wav", ".flac", ".mp3", ".jpg", ".png",
        ]
        .iter()
        .any(|e| f.ends_with(e))
    });
    if script && !data {
        return Fit::None("a loading script; Spaceport reads data files only".into());
    }
    if let Some(features) = card.and_then(from_card) {
        let f = fit(&features);
        if f.panel().is_some() {
            return f;
        }
    }
    let has = |t: &str| tags.iter().any(|x| x == t);
    let by_tags = if has("task_categories:automatic-speech-recognition") || has("modality:audio") {
        Some(Panel::Transcribe)
    } else if has("task_categories:image-to-text") {
        Some(Panel::Caption)
    } else if has("task_categories:translation") {
        Some(Panel::Translate)
    } else {
        None
    };
    match by_tags {
        Some(panel) => Fit::Tagged(panel),
        None => Fit::None("no audio, picture or translation column for a demo".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_datasets_features_old_and_new() {
        let meta = r#"{"info": {"features": {
            "audio": {"sampling_rate": 16000, "_type": "Audio"},
            "text": {"dtype": "string", "_type": "Value"},
            "label": {"names": ["neg", "pos"], "_type": "ClassLabel"},
            "captions": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "List"},
            "old": {"feature": {"dtype": "int32", "_type": "Value"}, "length": -1, "_type": "Sequence"},
            "pair": {"languages": ["de", "en"], "_type": "Translation"},
            "nested": {"a": [{"dtype": "float32", "_type": "Value"}]}
        }}}"#;
        let f = from_metadata(Some(meta)).unwrap();
        let d: Vec<String> = f.iter().map(|(_, f)| f.describe()).collect();
        assert_eq!(
            d,
            [
                "Audio(sampling_rate=16000)",
                "string",
                "ClassLabel(names=[neg, pos])",
                "List(string)",
                "List(int32)",
                "Translation(languages=[de, en])",
                "{a: List(float32)}"
            ]
        );
        assert_eq!(fit(&f).explain(), "audio + text → Transcribe");
        assert_eq!(from_metadata(Some("{not json")), None);
    }

    #[test]
    fn reads_a_cards_yaml_features() {
        let card = serde_json::json!({"dataset_info": [{"config_name": "clean", "features": [
            {"name": "audio", "dtype": {"audio": {"sampling_rate": 16000}}},
            {"name": "text", "dtype": "string"},
            {"name": "label", "dtype": {"class_label": {"names": {"1": "pos", "0": "neg"}}}},
            {"name": "captions", "sequence": "string"},
            {"name": "meta", "struct": [{"name": "n", "dtype": "int32"}]}
        ]}]});
        let f = from_card(&card).unwrap();
        let d: Vec<String> = f
            .iter()
            .map(|(n, f)| format!("{n}: {}", f.describe()))
            .collect();
        assert_eq!(
            d,
            [
                "audio: Audio(sampling_rate=16000)",
                "text: string",
                "label: ClassLabel(names=[neg, pos])",
                "captions: List(string)",
                "meta: {n: int32}"
            ]
        );
        assert_eq!(
            fit_of(Some(&card), &[], &[], "a/b").explain(),
            "audio + text → Transcribe"
        );
        let script = fit_of(None, &[], &["README.md".into(), "b.py".into()], "a/b");
        assert_eq!(
            script.explain(),
            "a loading script; Spaceport reads data files only"
        );
        let tagged = fit_of(None, &["task_categories:translation".into()], &[], "a/b");
        assert_eq!(tagged.panel(), Some(Panel::Translate));
    }
}
