//! Translation with Marian (`Helsinki-NLP/opus-mt-*`) models: the
//! SentencePiece reader ([`spm`]), the `MarianTokenizer` twin
//! ([`tokenizer`]), the model in candle ([`model`]), generation
//! ([`generate`]), and [`Translator`], which ties them together: long text
//! is split into sentences, translated one by one (so output streams and
//! Cancel is prompt) and joined back with its paragraph breaks.

pub mod generate;
pub mod model;
pub mod route;
pub mod spm;
pub mod tokenizer;

use std::path::{Path, PathBuf};

use candle_core::Device;

use crate::tasks::TaskError;
use crate::tasks::nn::ModelFileError;
use crate::work::CancelToken;
use generate::GenerationConfig;
use model::Marian;
use tokenizer::MarianTokenizer;

/// How to translate.
#[derive(Clone, Debug, Default)]
pub struct TranslateOptions {
    /// Beams; `None` uses the model's generation config (1 = greedy).
    pub num_beams: Option<usize>,
    /// Most tokens generated per sentence; `None` uses the model's limit.
    pub max_new_tokens: Option<usize>,
    /// Target language code for multi-target models (`fra`, `de`, …).
    pub target: Option<String>,
}

/// One translated sentence.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TranslatedSentence {
    pub source: String,
    pub text: String,
    /// Generated ids, without the decoder start token.
    pub token_ids: Vec<u32>,
}

/// A translated text.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Translation {
    pub text: String,
    pub sentences: Vec<TranslatedSentence>,
}

impl Translation {
    /// Every generated id, sentence after sentence.
    pub fn token_ids(&self) -> Vec<u32> {
        self.sentences
            .iter()
            .flat_map(|s| s.token_ids.iter().copied())
            .collect()
    }
}

/// A loaded Marian model, ready to translate many texts.
pub struct Translator {
    pub dir: PathBuf,
    pub tokenizer: MarianTokenizer,
    pub model: Marian,
    pub generation: GenerationConfig,
}

/// Splits a paragraph into sentences after `.`, `!`, `?`, `…` (and their
/// CJK forms) followed by a space, keeping the punctuation.
pub fn split_sentences(paragraph: &str) -> Vec<String> {
    let chars: Vec<char> = paragraph.chars().collect();
    let closing = |c: char| matches!(c, '"' | '\'' | '”' | '’' | ')' | ']' | '»');
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        cur.push(c);
        i += 1;
        if !matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？') {
            continue;
        }
        // Closing quotes and brackets stay with the sentence.
        let mut j = i;
        while j < chars.len() && closing(chars[j]) {
            j += 1;
        }
        let cjk = matches!(c, '。' | '！' | '？');
        if cjk || j == chars.len() || chars[j].is_whitespace() {
            cur.extend(&chars[i..j]);
            i = j;
            if !cur.trim().is_empty() {
                out.push(cur.trim().to_string());
            }
            cur.clear();
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

impl Translator {
    pub fn load(dir: &Path, device: &Device) -> Result<Self, TaskError> {
        Self::load_placed(dir, &crate::tasks::nn::Placement::new(device))
    }

    /// [`Self::load`] with the device, precision and kernels of `place`.
    pub fn load_placed(dir: &Path, place: &crate::tasks::nn::Placement) -> Result<Self, TaskError> {
        let tokenizer = MarianTokenizer::load(dir)?;
        let model = Marian::load_placed(dir, place)?;
        if tokenizer.vocab_size() > model.config.vocab_size {
            return Err(TaskError::File(ModelFileError::Bad {
                file: "vocab.json".into(),
                reason: format!(
                    "it has {} entries but the model only {}",
                    tokenizer.vocab_size(),
                    model.config.vocab_size
                ),
            }));
        }
        let generation = GenerationConfig::load(dir, &model);
        Ok(Self {
            dir: dir.to_path_buf(),
            tokenizer,
            model,
            generation,
        })
    }

    /// The `>>xx<<` prefix for `target`, if this model needs one.
    fn target_prefix(&self, target: Option<&str>) -> Result<String, TaskError> {
        let codes = &self.tokenizer.language_codes;
        if codes.is_empty() {
            return Ok(String::new());
        }
        let offered = || {
            codes
                .iter()
                .map(|c| c.trim_start_matches(">>").trim_end_matches("<<"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some(t) = target else {
            return Err(TaskError::NeedsTarget(offered()));
        };
        let code = format!(">>{}<<", t.trim_start_matches(">>").trim_end_matches("<<"));
        if codes.contains(&code) {
            Ok(format!("{code} "))
        } else {
            Err(TaskError::UnknownTarget {
                wanted: t.to_string(),
                offered: offered(),
            })
        }
    }

    /// The text to translate and its target: a multi-target model's text
    /// may start with its own `>>xx<<` code, as transformers users write
    /// it, which then stands for the target (unless one was given).
    fn text_and_target<'a>(
        &self,
        text: &'a str,
        target: Option<&'a str>,
    ) -> (&'a str, Option<&'a str>) {
        if target.is_some() || self.tokenizer.language_codes.is_empty() {
            return (text, target);
        }
        let trimmed = text.trim_start();
        if let Some(rest) = trimmed.strip_prefix(">>")
            && let Some(end) = rest.find("<<")
            && end > 0
            && !rest[..end].contains(char::is_whitespace)
        {
            return (rest[end + 2..].trim_start(), Some(&rest[..end]));
        }
        (text, None)
    }

    /// The generation settings for `opts`.
    fn generation_for(&self, opts: &TranslateOptions) -> GenerationConfig {
        let mut cfg = self.generation.clone();
        if let Some(b) = opts.num_beams {
            cfg.num_beams = b.max(1);
        }
        if let Some(n) = opts.max_new_tokens {
            cfg.max_length = (n + 1).min(self.model.max_positions());
        }
        cfg
    }

    /// Model input for one sentence: the target code, the tokens, cut to
    /// the model's positions as the tokenizer's truncation would.
    fn input_ids(&self, prefix: &str, sentence: &str) -> Vec<u32> {
        let mut input = self.tokenizer.encode(&format!("{prefix}{sentence}"));
        let max_in = self.model.max_positions();
        if input.len() > max_in {
            input.truncate(max_in - 1);
            input.push(self.tokenizer.eos_id);
        }
        input
    }

    /// Translates one sentence.
    pub fn translate_sentence(
        &self,
        sentence: &str,
        opts: &TranslateOptions,
        cancel: &CancelToken,
        on_partial: &mut dyn FnMut(&str),
    ) -> Result<TranslatedSentence, TaskError> {
        let (sentence, target) = self.text_and_target(sentence, opts.target.as_deref());
        let prefix = self.target_prefix(target)?;
        let input = self.input_ids(&prefix, sentence);
        let cfg = self.generation_for(opts);
        let tok = &self.tokenizer;
        let mut partial = |best: &[Vec<u32>]| on_partial(&tok.decode(&best[0], true));
        let mut out = generate::generate(&self.model, &cfg, &[input], cancel, &mut partial)?;
        let token_ids = out.swap_remove(0).get(1..).unwrap_or_default().to_vec();
        Ok(TranslatedSentence {
            source: sentence.to_string(),
            text: self.tokenizer.decode(&token_ids, true),
            token_ids,
        })
    }

    /// Translates a text: paragraphs (line breaks) kept, each split into
    /// sentences, translated [`BATCH`] sentences of about the same length
    /// at a time. `on_partial`
    /// sees the whole translation so far after every decoding step.
    pub fn translate(
        &self,
        text: &str,
        opts: &TranslateOptions,
        cancel: &CancelToken,
        on_partial: &mut dyn FnMut(&str),
    ) -> Result<Translation, TaskError> {
        let (text, target) = self.text_and_target(text, opts.target.as_deref());
        let prefix = self.target_prefix(target)?;
        let cfg = self.generation_for(opts);
        let lines: Vec<Vec<String>> = text.split('\n').map(split_sentences).collect();
        let flat: Vec<(usize, &String)> = lines
            .iter()
            .enumerate()
            .flat_map(|(i, ss)| ss.iter().map(move |s| (i, s)))
            .collect();
        let assemble = |parts: &[String]| -> String {
            let mut out: Vec<String> = vec![String::new(); lines.len()];
            for ((line, _), part) in flat.iter().zip(parts) {
                if part.is_empty() {
                    continue;
                }
                if !out[*line].is_empty() {
                    out[*line].push(' ');
                }
                out[*line].push_str(part);
            }
            out.join("\n")
        };
        let mut parts: Vec<String> = vec![String::new(); flat.len()];
        let mut sentences: Vec<Option<TranslatedSentence>> = vec![None; flat.len()];
        // Sentences of about the same length share a batch (less padding;
        // CTranslate2 sorts the same way), each put back in its place.
        let inputs: Vec<Vec<u32>> = flat
            .iter()
            .map(|(_, s)| self.input_ids(&prefix, s))
            .collect();
        let mut by_length: Vec<usize> = (0..flat.len()).collect();
        by_length.sort_by_key(|&i| inputs[i].len());
        for chunk in by_length.chunks(BATCH) {
            let batch: Vec<Vec<u32>> = chunk.iter().map(|&i| inputs[i].clone()).collect();
            let outs = generate::generate(&self.model, &cfg, &batch, cancel, &mut |best| {
                for (&i, b) in chunk.iter().zip(best) {
                    parts[i] = self.tokenizer.decode(b, true);
                }
                on_partial(&assemble(&parts));
            })?;
            for (&i, out) in chunk.iter().zip(outs) {
                let token_ids = out.get(1..).unwrap_or_default().to_vec();
                let text = self.tokenizer.decode(&token_ids, true);
                parts[i] = text.clone();
                sentences[i] = Some(TranslatedSentence {
                    source: flat[i].1.clone(),
                    text,
                    token_ids,
                });
            }
        }
        let sentences: Vec<TranslatedSentence> = sentences.into_iter().flatten().collect();
        let text = assemble(&parts);
        on_partial(&text);
        Ok(Translation { text, sentences })
    }
}

/// Sentences translated together in one batch.
pub const BATCH: usize = 8;

#[cfg(test)]
mod tests {
    use super::split_sentences;

    #[test]
    fn sentences_split_at_ends_keeping_quotes() {
        assert_eq!(
            split_sentences("Hello there. How are you? \"Fine!\" he said. 3.14 is pi"),
            [
                "Hello there.",
                "How are you?",
                "\"Fine!\"",
                "he said.",
                "3.14 is pi"
            ]
        );
        assert_eq!(
            split_sentences("日本語です。次の文。"),
            ["日本語です。", "次の文。"]
        );
        assert!(split_sentences("   ").is_empty());
    }
}
