//! Speech recognition with Whisper: log-mel features ([`mel`]), the model
//! ([`model`]) from the Hugging Face layout or faster-whisper's CTranslate2
//! conversion ([`ct2`]), and [`Transcriber`], whose long-form decoding
//! follows OpenAI's reference ([`decode`]), or groups a long file's
//! speech ([`vad`]) into windows decoded together.

pub mod ct2;
pub mod decode;
pub mod formats;
pub mod live;
pub mod mel;
pub mod model;
pub mod silero;
pub mod timing;
pub mod vad;
pub mod wer;

use std::path::Path;

use candle_core::Device;
use serde_json::Value;

use crate::tasks::TaskError;
use crate::tasks::nn::{ModelFileError, Placement};
use mel::{FeatureConfig, LogMel};
use model::Whisper;

/// The special tokens decoding needs, read from the model's own files.
pub(crate) struct Specials {
    sot: u32,
    eot: u32,
    sot_prev: u32,
    transcribe: u32,
    translate: u32,
    no_timestamps: u32,
    timestamp_begin: u32,
    no_speech: Option<u32>,
    /// `(code, id)` of each `<|xx|>` language token (multilingual models).
    languages: Vec<(String, u32)>,
    /// Not generated first: the space and the end of text.
    blank: Vec<u32>,
    /// Never generated.
    suppress: Vec<u32>,
}

/// A loaded Whisper model with its tokenizer and features.
pub struct Transcriber {
    pub model: Whisper,
    tokenizer: tokenizers::Tokenizer,
    mel: LogMel,
    specials: Specials,
    /// The decoder's (layer, head) pairs whose cross-attention follows
    /// the words in time (word timestamps).
    alignment_heads: Vec<(usize, usize)>,
}

fn read_json(dir: &Path, name: &str) -> Value {
    std::fs::read_to_string(dir.join(name))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

fn ids(v: Option<&Value>) -> Vec<u32> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_u64)
                .map(|x| x as u32)
                .collect()
        })
        .unwrap_or_default()
}

impl Transcriber {
    /// Whether the model knows several languages (and so can translate
    /// speech into English with its translate task).
    pub fn is_multilingual(&self) -> bool {
        !self.specials.languages.is_empty()
    }

    /// Loads a model folder in either layout.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, TaskError> {
        Self::load_placed(dir, &Placement::new(device))
    }

    /// [`Self::load`] with the device, precision and kernels of `place`.
    pub fn load_placed(dir: &Path, place: &Placement) -> Result<Self, TaskError> {
        let model = if ct2::is_ct2(dir) {
            ct2::load(dir, place)?
        } else {
            Whisper::load_placed(dir, place)?
        };
        let tokenizer = crate::tasks::nn::load_tokenizer(dir)?;
        // Special ids: from the tokenizer, or CTranslate2's vocabulary.txt
        // (which also has the timestamp tokens).
        let vocab: Vec<String> = std::fs::read_to_string(dir.join("vocabulary.txt"))
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default();
        let id = |t: &str| {
            tokenizer
                .token_to_id(t)
                .or_else(|| vocab.iter().position(|v| v == t).map(|i| i as u32))
                .ok_or_else(|| {
                    TaskError::File(ModelFileError::bad(
                        "tokenizer.json",
                        format!("it has no {t}"),
                    ))
                })
        };
        let token = |i: u32| {
            tokenizer
                .id_to_token(i)
                .or_else(|| vocab.get(i as usize).cloned())
                .unwrap_or_default()
        };
        let (sot, eot, no_timestamps) = (
            id("<|startoftranscript|>")?,
            id("<|endoftext|>")?,
            id("<|notimestamps|>")?,
        );
        let translate = id("<|translate|>")?;
        // Multilingual models (a vocabulary of 51865 or more) have language
        // tokens between <|startoftranscript|> and <|translate|>.
        let languages = if model.config.vocab_size >= 51865 {
            (sot + 1..translate)
                .filter_map(|i| {
                    let t = token(i);
                    let code = t.strip_prefix("<|")?.strip_suffix("|>")?.to_string();
                    Some((code, i))
                })
                .collect()
        } else {
            Vec::new()
        };
        let (ct2_cfg, gen_cfg, pre) = (
            read_json(dir, "config.json"),
            read_json(dir, "generation_config.json"),
            read_json(dir, "preprocessor_config.json"),
        );
        let mut suppress = ids(gen_cfg.get("suppress_tokens"));
        suppress.extend(ids(ct2_cfg.get("suppress_ids")));
        let mut blank = ids(gen_cfg.get("begin_suppress_tokens"));
        blank.extend(ids(ct2_cfg.get("suppress_ids_begin")));
        if let Ok(e) = tokenizer.encode(" ", false) {
            blank.extend(e.get_ids());
        }
        blank.push(eot);
        let mut features = if pre.is_null() {
            FeatureConfig::default()
        } else {
            FeatureConfig::from_json(&pre)
        };
        features.n_mels = model.config.num_mel_bins;
        features
            .check()
            .map_err(|e| TaskError::File(ModelFileError::bad("preprocessor_config.json", e)))?;
        // Every id the decoder will index its logits with must be one of
        // the model's (a damaged or mismatched file could name others).
        let vocab_size = model.config.vocab_size as u32;
        suppress.retain(|&i| i < vocab_size);
        blank.retain(|&i| i < vocab_size);
        let outside = [sot, eot, no_timestamps, translate]
            .into_iter()
            .find(|&i| i >= vocab_size);
        if let Some(i) = outside.or((no_timestamps + 1 >= vocab_size).then_some(no_timestamps)) {
            return Err(TaskError::File(ModelFileError::bad(
                "tokenizer.json",
                format!("its special token {i} is outside the model's {vocab_size} tokens"),
            )));
        }
        let alignment_heads = alignment_heads(
            gen_cfg
                .get("alignment_heads")
                .or_else(|| ct2_cfg.get("alignment_heads")),
            model.config.decoder_layers,
            model.config.decoder_attention_heads,
        );
        let specials = Specials {
            sot,
            eot,
            sot_prev: id("<|startofprev|>")?,
            transcribe: id("<|transcribe|>")?,
            translate,
            no_timestamps,
            timestamp_begin: no_timestamps + 1,
            no_speech: id("<|nospeech|>").or_else(|_| id("<|nocaptions|>")).ok(),
            languages,
            blank,
            suppress,
        };
        Ok(Self {
            tokenizer,
            mel: LogMel::new(features),
            specials,
            alignment_heads,
            model,
        })
    }
}

/// The alignment heads a model's files name (`[[layer, head], …]`), those
/// outside its `layers` × `heads` left out; without any, every head of
/// the second half of the layers (the reference's default).
fn alignment_heads(named: Option<&Value>, layers: usize, heads: usize) -> Vec<(usize, usize)> {
    let listed: Vec<(usize, usize)> = named
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    let p = p.as_array()?;
                    Some((p.first()?.as_u64()? as usize, p.get(1)?.as_u64()? as usize))
                })
                .filter(|&(l, h)| l < layers && h < heads)
                .collect()
        })
        .unwrap_or_default();
    if !listed.is_empty() {
        return listed;
    }
    (layers / 2..layers)
        .flat_map(|l| (0..heads).map(move |h| (l, h)))
        .collect()
}

/// The language codes a Whisper model folder can be told to use (its
/// `<|xx|>` tokens between `<|startoftranscript|>` and `<|translate|>`),
/// read from its files without loading the weights; empty for an
/// English-only model (a vocabulary under 51865, as [`Transcriber::load`]
/// decides).
pub fn model_languages(dir: &Path) -> Vec<String> {
    let vocab_size = read_json(dir, "config.json")
        .get("vocab_size")
        .and_then(Value::as_u64)
        .or_else(|| {
            std::fs::read_to_string(dir.join("vocabulary.txt"))
                .ok()
                .map(|s| s.lines().count() as u64)
        })
        .unwrap_or(0);
    if vocab_size < 51865 {
        return Vec::new();
    }
    let tok = read_json(dir, "tokenizer.json");
    let added: Vec<(u64, &str)> = tok
        .get("added_tokens")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| Some((t.get("id")?.as_u64()?, t.get("content")?.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    let find = |name: &str| added.iter().find(|(_, c)| *c == name).map(|(i, _)| *i);
    let (Some(sot), Some(translate)) = (find("<|startoftranscript|>"), find("<|translate|>"))
    else {
        return Vec::new();
    };
    let mut langs: Vec<(u64, String)> = added
        .iter()
        .filter(|(i, _)| *i > sot && *i < translate)
        .filter_map(|(i, c)| Some((*i, c.strip_prefix("<|")?.strip_suffix("|>")?.to_string())))
        .collect();
    langs.sort();
    langs.into_iter().map(|(_, c)| c).collect()
}
