//! The Marian tokenizer, as transformers' `MarianTokenizer`
//! (`tokenization_marian.py`, v5) and its base class behave: special tokens
//! in the text are split out first; a leading `>>xx<<` language code is kept
//! whole; the rest goes through the source SentencePiece model and each
//! piece is looked up in `vocab.json` (unknown pieces become `<unk>`); `</s>`
//! is appended. Decoding maps ids back through the vocabulary and joins the
//! pieces with SentencePiece's `DecodePieces` (the source model, as
//! transformers does for shared vocabularies).

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::spm::SpmModel;
use crate::tasks::TaskError;
use crate::tasks::nn::ModelFileError;

pub struct MarianTokenizer {
    source: SpmModel,
    vocab: HashMap<String, u32>,
    tokens: HashMap<u32, String>,
    /// Tokens split out of the text before SentencePiece, longest first.
    added: Vec<String>,
    special_ids: Vec<u32>,
    pub unk_id: u32,
    pub eos_id: u32,
    pub pad_id: u32,
    /// The `>>xx<<` codes of a multi-target model.
    pub language_codes: Vec<String>,
    clean_up_spaces: bool,
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>, TaskError> {
    std::fs::read(dir.join(name)).map_err(|e| TaskError::File(ModelFileError::missing(name, e)))
}

impl MarianTokenizer {
    /// Loads `source.spm`, `vocab.json` and (if present) `tokenizer_config.json`.
    pub fn load(dir: &Path) -> Result<Self, TaskError> {
        let config: Value = read(dir, "tokenizer_config.json")
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        if config.get("separate_vocabs").and_then(Value::as_bool) == Some(true)
            || dir.join("target_vocab.json").exists()
        {
            return Err(TaskError::Unsupported(
                "it has separate source and target vocabularies, which Spaceport does not support yet".into(),
            ));
        }
        let source = SpmModel::parse(&read(dir, "source.spm")?)
            .map_err(|e| TaskError::File(ModelFileError::bad("source.spm", e)))?;
        let vocab: HashMap<String, u32> = serde_json::from_slice(&read(dir, "vocab.json")?)
            .map_err(|e| TaskError::File(ModelFileError::bad("vocab.json", e)))?;
        let name = |key: &str, default: &str| {
            config
                .get(key)
                .and_then(|v| {
                    v.as_str()
                        .or_else(|| v.get("content").and_then(Value::as_str))
                })
                .unwrap_or(default)
                .to_string()
        };
        let (unk, eos, pad) = (
            name("unk_token", "<unk>"),
            name("eos_token", "</s>"),
            name("pad_token", "<pad>"),
        );
        let id = |t: &str| {
            vocab.get(t).copied().ok_or_else(|| {
                TaskError::File(ModelFileError::bad(
                    "vocab.json",
                    format!("it has no {t} token"),
                ))
            })
        };
        let (unk_id, eos_id, pad_id) = (id(&unk)?, id(&eos)?, id(&pad)?);
        let mut added: Vec<String> = vec![unk.clone(), eos.clone(), pad.clone()];
        let mut special_ids = vec![unk_id, eos_id, pad_id];
        if let Some(map) = config
            .get("added_tokens_decoder")
            .and_then(Value::as_object)
        {
            for (k, v) in map {
                if let Some(content) = v.get("content").and_then(Value::as_str) {
                    if !added.iter().any(|a| a == content) {
                        added.push(content.to_string());
                    }
                    if v.get("special").and_then(Value::as_bool) == Some(true)
                        && let Ok(i) = k.parse::<u32>()
                        && !special_ids.contains(&i)
                    {
                        special_ids.push(i);
                    }
                }
            }
        }
        added.sort_by_key(|a| std::cmp::Reverse(a.len()));
        let mut language_codes: Vec<String> = vocab
            .keys()
            .filter(|k| k.starts_with(">>") && k.ends_with("<<"))
            .cloned()
            .collect();
        language_codes.sort();
        let tokens = vocab.iter().map(|(k, v)| (*v, k.clone())).collect();
        Ok(Self {
            source,
            vocab,
            tokens,
            added,
            special_ids,
            unk_id,
            eos_id,
            pad_id,
            language_codes,
            clean_up_spaces: config
                .get("clean_up_tokenization_spaces")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// Splits `text` around the added tokens (longest match first).
    fn split_added<'a>(&self, text: &'a str) -> Vec<(&'a str, bool)> {
        let mut out = Vec::new();
        let mut rest = text;
        let mut chunk_start = 0;
        let mut i = 0;
        while i < rest.len() {
            if let Some(tok) = self
                .added
                .iter()
                .find(|t| rest[i..].starts_with(t.as_str()))
            {
                if i > chunk_start {
                    out.push((&rest[chunk_start..i], false));
                }
                out.push((&rest[i..i + tok.len()], true));
                rest = &rest[i + tok.len()..];
                i = 0;
                chunk_start = 0;
                continue;
            }
            i += rest[i..].chars().next().map_or(1, char::len_utf8);
        }
        if chunk_start < rest.len() {
            out.push((&rest[chunk_start..], false));
        }
        out
    }

    /// The token strings of `text` (without `</s>`).
    pub fn tokenize(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (chunk, is_added) in self.split_added(text) {
            if is_added {
                out.push(chunk.to_string());
                continue;
            }
            let mut rest = chunk;
            if rest.starts_with(">>")
                && let Some(end) = rest.find("<<")
            {
                out.push(rest[..end + 2].to_string());
                rest = &rest[end + 2..];
            }
            out.extend(self.source.encode_pieces(rest));
        }
        out
    }

    /// Model input ids: the tokens looked up, `</s>` appended.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids: Vec<u32> = self
            .tokenize(text)
            .iter()
            .map(|t| self.vocab.get(t).copied().unwrap_or(self.unk_id))
            .collect();
        ids.push(self.eos_id);
        ids
    }

    pub fn is_special(&self, id: u32) -> bool {
        self.special_ids.contains(&id)
    }

    /// Text for ids, as `tokenizer.decode(ids, skip_special_tokens)`.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> String {
        let mut out = String::new();
        let mut pieces: Vec<&str> = Vec::new();
        for &id in ids {
            if skip_special_tokens && self.is_special(id) {
                continue;
            }
            let token = match self.tokens.get(&id) {
                Some(t) => t.as_str(),
                None => self
                    .source
                    .pieces
                    .get(id as usize)
                    .map(|p| p.text.as_str())
                    .unwrap_or("<unk>"),
            };
            if self.added.iter().any(|a| a == token) && self.is_special_token(token) {
                out.push_str(&self.source.decode_pieces(&pieces));
                out.push_str(token);
                out.push(' ');
                pieces.clear();
            } else {
                pieces.push(token);
            }
        }
        out.push_str(&self.source.decode_pieces(&pieces));
        let text = out.replace('▁', " ").trim().to_string();
        if self.clean_up_spaces {
            clean_up(&text)
        } else {
            text
        }
    }

    fn is_special_token(&self, token: &str) -> bool {
        self.vocab.get(token).is_some_and(|id| self.is_special(*id))
    }
}

/// transformers' `clean_up_tokenization`.
fn clean_up(s: &str) -> String {
    s.replace(" .", ".")
        .replace(" ?", "?")
        .replace(" !", "!")
        .replace(" ,", ",")
        .replace(" ' ", "'")
        .replace(" n't", "n't")
        .replace(" 'm", "'m")
        .replace(" 's", "'s")
        .replace(" 've", "'ve")
        .replace(" 're", "'re")
}
