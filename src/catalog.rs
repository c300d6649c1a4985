//! What runs here. Owns `models.toml` (the recommended models each panel
//! offers first) and the rules that read a Hub model's own files — its
//! `config.json` (`model_type`, `architectures`) and its file list — to
//! decide which panel runs it, or why none can, and which files a download
//! needs. Model identity lives here and nowhere else.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The demo panels a model can run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Panel {
    Translate,
    Caption,
    Transcribe,
}

impl Panel {
    pub const ALL: [Panel; 3] = [Self::Translate, Self::Caption, Self::Transcribe];

    pub fn label(self) -> &'static str {
        match self {
            Self::Translate => "Translate",
            Self::Caption => "Caption",
            Self::Transcribe => "Transcribe",
        }
    }
}

/// How the weights are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightFormat {
    Safetensors,
    PytorchBin,
    /// faster-whisper's CTranslate2 conversion: `model.bin` + `vocabulary.*`.
    CTranslate2,
}

/// Whether a model runs here, and where, or in plain words why not.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verdict {
    Runs { panel: Panel, format: WeightFormat },
    NotHere { reason: String },
}

impl Verdict {
    pub fn runs_here(&self) -> bool {
        matches!(self, Self::Runs { .. })
    }

    pub fn panel(&self) -> Option<Panel> {
        match self {
            Self::Runs { panel, .. } => Some(*panel),
            Self::NotHere { .. } => None,
        }
    }

    /// One short line for a badge or a table cell.
    pub fn short(&self) -> String {
        match self {
            Self::Runs { panel, .. } => format!("Runs here: {}", panel.label()),
            Self::NotHere { .. } => "Doesn't run here".to_string(),
        }
    }

    /// The full sentence.
    pub fn explain(&self) -> String {
        match self {
            Self::Runs { panel, format } => {
                let fmt = match format {
                    WeightFormat::Safetensors => "safetensors",
                    WeightFormat::PytorchBin => "PyTorch",
                    WeightFormat::CTranslate2 => "CTranslate2 (faster-whisper)",
                };
                format!("Runs here in the {} panel ({fmt} weights).", panel.label())
            }
            Self::NotHere { reason } => reason.clone(),
        }
    }
}

/// What the verdict is decided from: the model's own files.
#[derive(Clone, Debug, Default)]
pub struct ModelFacts {
    pub id: String,
    /// `config.json` (or the Hub's digest of it); `None` when absent.
    pub config: Option<Value>,
    /// Repo-relative paths; empty when unknown.
    pub files: Vec<String>,
    pub tags: Vec<String>,
    pub pipeline_tag: Option<String>,
}

/// The architectures each panel runs, by `model_type` and by the
/// `architectures` class that must accompany it.
struct Arch {
    model_type: &'static str,
    architectures: &'static [&'static str],
    panel: Panel,
    /// Tokenizer files: at least one of these groups must be all present.
    tokenizer: &'static [&'static [&'static str]],
}

const ARCHES: [Arch; 3] = [
    Arch {
        model_type: "marian",
        architectures: &["MarianMTModel"],
        panel: Panel::Translate,
        tokenizer: &[&["source.spm", "target.spm", "vocab.json"]],
    },
    Arch {
        model_type: "blip",
        architectures: &["BlipForConditionalGeneration"],
        panel: Panel::Caption,
        tokenizer: &[&["tokenizer.json"], &["vocab.txt"]],
    },
    Arch {
        model_type: "whisper",
        architectures: &["WhisperForConditionalGeneration"],
        panel: Panel::Transcribe,
        tokenizer: &[&["tokenizer.json"], &["vocab.json", "merges.txt"]],
    },
];

fn is_top_level(f: &str) -> bool {
    !f.contains('/')
}

fn is_shard(f: &str, stem: &str, ext: &str) -> bool {
    // e.g. model-00001-of-00002.safetensors
    f.strip_prefix(stem)
        .and_then(|r| r.strip_suffix(ext))
        .is_some_and(|mid| {
            let parts: Vec<&str> = mid.split('-').collect();
            parts.len() == 4
                && parts[0].is_empty()
                && parts[2] == "of"
                && [parts[1], parts[3]]
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        })
}

fn safetensors_files(files: &[String]) -> Vec<String> {
    files
        .iter()
        .filter(|f| {
            is_top_level(f)
                && (*f == "model.safetensors"
                    || *f == "model.safetensors.index.json"
                    || is_shard(f, "model", ".safetensors"))
        })
        .cloned()
        .collect()
}

fn pytorch_files(files: &[String]) -> Vec<String> {
    files
        .iter()
        .filter(|f| {
            is_top_level(f)
                && (*f == "pytorch_model.bin"
                    || *f == "pytorch_model.bin.index.json"
                    || is_shard(f, "pytorch_model", ".bin"))
        })
        .cloned()
        .collect()
}

fn has_weights(list: &[String]) -> bool {
    list.iter().any(|f| !f.ends_with(".json"))
}

/// Whether the files look like a CTranslate2 Whisper conversion
/// (faster-whisper: `model.bin`, `config.json` with `suppress_ids`/`lang_ids`,
/// and a vocabulary or tokenizer file).
fn is_ct2_whisper(facts: &ModelFacts) -> bool {
    let has = |n: &str| facts.files.iter().any(|f| f == n);
    let vocab = has("vocabulary.txt") || has("vocabulary.json") || has("tokenizer.json");
    let config_says = facts.config.as_ref().is_some_and(|c| {
        c.get("suppress_ids").is_some()
            || c.get("lang_ids").is_some()
            || c.get("alignment_heads").is_some()
    });
    let named = facts.tags.iter().any(|t| t == "ctranslate2")
        && (facts.id.to_ascii_lowercase().contains("whisper")
            || facts.pipeline_tag.as_deref() == Some("automatic-speech-recognition"));
    has("model.bin") && vocab && (config_says || named)
}

fn other_formats(files: &[String]) -> Vec<&'static str> {
    let mut out = Vec::new();
    let any = |pred: &dyn Fn(&str) -> bool| files.iter().any(|f| pred(f));
    if any(&|f| f.ends_with(".h5")) {
        out.push("TensorFlow");
    }
    if any(&|f| f.ends_with(".msgpack")) {
        out.push("Flax");
    }
    if any(&|f| f.ends_with(".onnx")) {
        out.push("ONNX");
    }
    if any(&|f| f.ends_with(".gguf")) {
        out.push("GGUF");
    }
    if any(&|f| f.ends_with(".mlmodel") || f.ends_with(".mlpackage")) {
        out.push("Core ML");
    }
    if any(&|f| f.ends_with(".ggml") || (f.starts_with("ggml-") && f.ends_with(".bin"))) {
        out.push("GGML");
    }
    out
}

/// Decides whether a model runs here, from its config and files.
pub fn verdict(facts: &ModelFacts) -> Verdict {
    let not = |reason: String| Verdict::NotHere { reason };
    if is_ct2_whisper(facts) {
        return Verdict::Runs {
            panel: Panel::Transcribe,
            format: WeightFormat::CTranslate2,
        };
    }
    let Some(config) = &facts.config else {
        let formats = other_formats(&facts.files);
        return not(if formats.is_empty() {
            "It has no config.json, so it is not a transformers model Spaceport can load.".into()
        } else {
            format!(
                "It only has {} files and no config.json; Spaceport runs transformers models with safetensors or PyTorch weights.",
                formats.join("/")
            )
        });
    };
    let model_type = config
        .get("model_type")
        .and_then(Value::as_str)
        .unwrap_or("");
    let architectures: Vec<&str> = config
        .get("architectures")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let arch_name = architectures.first().copied().unwrap_or(model_type);
    let Some(arch) = ARCHES.iter().find(|a| a.model_type == model_type) else {
        let what = if arch_name.is_empty() {
            "this architecture"
        } else {
            arch_name
        };
        return not(format!(
            "Spaceport has no demo for {what} models yet (it runs Marian translation, BLIP captioning and Whisper speech recognition)."
        ));
    };
    if !architectures.is_empty() && !architectures.iter().any(|a| arch.architectures.contains(a)) {
        return not(format!(
            "{arch_name} is a {model_type} model for another task; the {} panel needs {}.",
            arch.panel.label(),
            arch.architectures.join(" or ")
        ));
    }
    if facts.files.is_empty() {
        // Files unknown (a digest without a file list): judge on the config.
        return Verdict::Runs {
            panel: arch.panel,
            format: WeightFormat::Safetensors,
        };
    }
    let format = if has_weights(&safetensors_files(&facts.files)) {
        WeightFormat::Safetensors
    } else if has_weights(&pytorch_files(&facts.files)) {
        WeightFormat::PytorchBin
    } else {
        let formats = other_formats(&facts.files);
        return not(if formats.is_empty() {
            "It has no weight files Spaceport can read (safetensors or pytorch_model.bin).".into()
        } else {
            format!(
                "It only has {} weights; Spaceport needs safetensors or PyTorch (pytorch_model.bin) weights.",
                formats.join("/")
            )
        });
    };
    let has = |n: &&str| facts.files.iter().any(|f| f == n);
    if !arch.tokenizer.iter().any(|group| group.iter().all(has)) {
        let wanted: Vec<String> = arch.tokenizer.iter().map(|g| g.join(" + ")).collect();
        return not(format!(
            "Its tokenizer files are missing (it needs {}).",
            wanted.join(", or ")
        ));
    }
    Verdict::Runs {
        panel: arch.panel,
        format,
    }
}

/// Small files a model may need besides its weights: configs, tokenizers,
/// vocabularies and the model card (for offline viewing).
const SUPPORT_FILES: [&str; 17] = [
    "config.json",
    "generation_config.json",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "normalizer.json",
    "source.spm",
    "target.spm",
    "target_vocab.json",
    "vocabulary.txt",
    "vocabulary.json",
    "README.md",
];

/// The files a download fetches: the support files present and one weight
/// format (CTranslate2 `model.bin` for faster-whisper conversions, else
/// safetensors in preference to `pytorch_model.bin`).
pub fn needed_files(verdict: &Verdict, files: &[String]) -> Vec<String> {
    let mut out: Vec<String> = files
        .iter()
        .filter(|f| SUPPORT_FILES.contains(&f.as_str()))
        .cloned()
        .collect();
    let ct2 = matches!(
        verdict,
        Verdict::Runs {
            format: WeightFormat::CTranslate2,
            ..
        }
    );
    if ct2 {
        out.push("model.bin".to_string());
    } else {
        let st = safetensors_files(files);
        if has_weights(&st) {
            out.extend(st);
        } else {
            out.extend(pytorch_files(files));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The (source, target) languages of a Marian repo named the opus-mt way
/// (`Helsinki-NLP/opus-mt-en-de`, `opus-mt-tc-big-fr-en`, `opus-mt-mul-en`).
pub fn marian_pair(repo: &str) -> Option<(String, String)> {
    let name = repo.rsplit('/').next()?;
    let rest = ["opus-mt-tc-big-", "opus-mt-tc-base-", "opus-mt-"]
        .iter()
        .find_map(|p| name.strip_prefix(p))?;
    let (src, tgt) = rest.split_once('-')?;
    let ok = |s: &str| {
        !s.is_empty() && s.len() <= 12 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    (ok(src) && ok(tgt)).then(|| (src.to_string(), tgt.to_string()))
}

/// ISO 639-1 codes and the ISO 639-3 codes multi-target opus-mt models use
/// for the same languages (`>>fra<<`): the languages Spaceport names.
pub const LANGUAGES: [(&str, &str); 20] = [
    ("en", "eng"),
    ("de", "deu"),
    ("fr", "fra"),
    ("es", "spa"),
    ("it", "ita"),
    ("nl", "nld"),
    ("pt", "por"),
    ("ru", "rus"),
    ("zh", "zho"),
    ("ja", "jpn"),
    ("ko", "kor"),
    ("ar", "ara"),
    ("pl", "pol"),
    ("sv", "swe"),
    ("fi", "fin"),
    ("da", "dan"),
    ("tr", "tur"),
    ("uk", "ukr"),
    ("cs", "ces"),
    ("hi", "hin"),
];

/// The two-letter code for a model's target code, when there is one.
pub fn short_code(code: &str) -> &str {
    LANGUAGES
        .iter()
        .find(|(_, three)| *three == code)
        .map_or(code, |(two, _)| two)
}

/// A language's name for a code, or the code itself.
pub fn language_name(code: &str) -> String {
    let code = short_code(code);
    let name = match code {
        "en" => "English",
        "de" => "German",
        "fr" => "French",
        "es" => "Spanish",
        "it" => "Italian",
        "nl" => "Dutch",
        "pt" => "Portuguese",
        "ru" => "Russian",
        "zh" => "Chinese",
        "ja" => "Japanese",
        "ko" => "Korean",
        "ar" => "Arabic",
        "pl" => "Polish",
        "sv" => "Swedish",
        "fi" => "Finnish",
        "da" => "Danish",
        "tr" => "Turkish",
        "uk" => "Ukrainian",
        "cs" => "Czech",
        "hi" => "Hindi",
        "mul" => "Many languages",
        _ => return code.to_string(),
    };
    name.to_string()
}

/// One recommended model from `models.toml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct CatalogEntry {
    pub repo: String,
    pub name: String,
    pub panel: Panel,
    /// Translate: `[source, target]`; others: the languages it handles.
    pub languages: Vec<String>,
    /// Approximate download size in megabytes.
    pub size_mb: u64,
    /// The one each panel offers first.
    #[serde(default)]
    pub recommended: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Catalog {
    #[serde(rename = "model")]
    pub models: Vec<CatalogEntry>,
}

impl Catalog {
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// The model a panel offers first.
    pub fn recommended(&self, panel: Panel) -> Option<&CatalogEntry> {
        self.models
            .iter()
            .find(|m| m.panel == panel && m.recommended)
            .or_else(|| self.models.iter().find(|m| m.panel == panel))
    }

    pub fn for_panel(&self, panel: Panel) -> impl Iterator<Item = &CatalogEntry> {
        self.models.iter().filter(move |m| m.panel == panel)
    }

    pub fn get(&self, repo: &str) -> Option<&CatalogEntry> {
        self.models.iter().find(|m| m.repo == repo)
    }
}

/// The catalog compiled into the binary from `models.toml`.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        // models.toml is part of the source tree; `catalog_parses` below
        // keeps it valid, so a failure here is a build mistake.
        Catalog::parse(include_str!("../models.toml")).unwrap_or(Catalog { models: Vec::new() })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts(config: Option<Value>, files: &[&str]) -> ModelFacts {
        ModelFacts {
            id: "x/y".into(),
            config,
            files: files.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn catalog_parses() {
        let c = Catalog::parse(include_str!("../models.toml")).expect("models.toml parses");
        for p in Panel::ALL {
            assert!(c.recommended(p).is_some(), "{p:?} has a recommended model");
        }
        for m in &c.models {
            crate::hub::paths::check_repo_id(&m.repo).expect("valid repo id");
        }
    }

    #[test]
    fn verdicts() {
        let marian = json!({"model_type": "marian", "architectures": ["MarianMTModel"]});
        let v = verdict(&facts(
            Some(marian.clone()),
            &[
                "config.json",
                "pytorch_model.bin",
                "tf_model.h5",
                "source.spm",
                "target.spm",
                "vocab.json",
            ],
        ));
        assert_eq!(
            v,
            Verdict::Runs {
                panel: Panel::Translate,
                format: WeightFormat::PytorchBin
            }
        );
        let v = verdict(&facts(
            Some(marian),
            &[
                "config.json",
                "tf_model.h5",
                "source.spm",
                "target.spm",
                "vocab.json",
            ],
        ));
        assert!(v.explain().contains("TensorFlow"), "{v:?}");

        let vqa = json!({"model_type": "blip", "architectures": ["BlipForQuestionAnswering"]});
        let v = verdict(&facts(
            Some(vqa),
            &["config.json", "model.safetensors", "tokenizer.json"],
        ));
        assert!(
            !v.runs_here() && v.explain().contains("BlipForConditionalGeneration"),
            "{v:?}"
        );

        let bert = json!({"model_type": "bert", "architectures": ["BertModel"]});
        assert!(
            verdict(&facts(Some(bert), &["model.safetensors"]))
                .explain()
                .contains("BertModel")
        );

        let ct2 = json!({"alignment_heads": [[1, 0]], "lang_ids": [], "suppress_ids": [1]});
        let v = verdict(&facts(
            Some(ct2),
            &[
                "config.json",
                "model.bin",
                "tokenizer.json",
                "vocabulary.txt",
            ],
        ));
        assert_eq!(
            v,
            Verdict::Runs {
                panel: Panel::Transcribe,
                format: WeightFormat::CTranslate2
            }
        );

        let v = verdict(&facts(None, &["model.gguf"]));
        assert!(v.explain().contains("GGUF"), "{v:?}");
    }

    #[test]
    fn opus_mt_names() {
        assert_eq!(
            marian_pair("Helsinki-NLP/opus-mt-en-de"),
            Some(("en".into(), "de".into()))
        );
        assert_eq!(
            marian_pair("Helsinki-NLP/opus-mt-tc-big-fr-en"),
            Some(("fr".into(), "en".into()))
        );
        assert_eq!(
            marian_pair("Helsinki-NLP/opus-mt-mul-en"),
            Some(("mul".into(), "en".into()))
        );
        assert_eq!(marian_pair("openai/whisper-tiny"), None);
        assert_eq!(language_name("de"), "German");
    }

    #[test]
    fn needed_files_pick_one_format() {
        let files: Vec<String> = [
            "config.json",
            "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors",
            "model.safetensors.index.json",
            "pytorch_model.bin",
            "tf_model.h5",
            "onnx/model.onnx",
            "tokenizer.json",
            ".gitattributes",
            "generation_config.json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let v = Verdict::Runs {
            panel: Panel::Caption,
            format: WeightFormat::Safetensors,
        };
        assert_eq!(
            needed_files(&v, &files),
            [
                "config.json",
                "generation_config.json",
                "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors",
                "model.safetensors.index.json",
                "tokenizer.json",
            ]
        );
    }
}
