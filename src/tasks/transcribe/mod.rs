//! Speech recognition with Whisper: log-mel features ([`mel`]), the model
//! ([`model`]) from the Hugging Face layout or faster-whisper's CTranslate2
//! conversion ([`ct2`]), and [`Transcriber`]. Decoding is, so far, greedy
//! over fixed 30 s windows without timestamps; the reference decoding
//! (beams, timestamp rules, fallback, seeking) comes next (issue 3).

pub mod ct2;
pub mod mel;
pub mod model;

use std::path::Path;

use candle_core::{Device, Tensor};
use serde_json::Value;

use crate::tasks::CancelToken;
use mel::{FeatureConfig, LogMel};
use model::{Whisper, WhisperError};

/// A loaded Whisper model with its tokenizer and features.
pub struct Transcriber {
    pub model: Whisper,
    tokenizer: tokenizers::Tokenizer,
    mel: LogMel,
    sot: u32,
    eot: u32,
    no_timestamps: u32,
    /// Tokens never generated, and those not generated first.
    suppress: Vec<u32>,
    suppress_begin: Vec<u32>,
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
    /// Loads a model folder in either layout.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, WhisperError> {
        let model = if ct2::is_ct2(dir) {
            ct2::load(dir, device)?
        } else {
            Whisper::load(dir, device)?
        };
        let tokenizer =
            tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| {
                WhisperError::BadFile {
                    file: "tokenizer.json".into(),
                    reason: e.to_string(),
                }
            })?;
        // Special ids: from the tokenizer, or CTranslate2's vocabulary.txt.
        let vocab: Vec<String> = std::fs::read_to_string(dir.join("vocabulary.txt"))
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default();
        let id = |t: &str| {
            tokenizer
                .token_to_id(t)
                .or_else(|| vocab.iter().position(|v| v == t).map(|i| i as u32))
                .ok_or_else(|| WhisperError::BadFile {
                    file: "tokenizer.json".into(),
                    reason: format!("it has no {t}"),
                })
        };
        let (sot, eot, no_timestamps) = (
            id("<|startoftranscript|>")?,
            id("<|endoftext|>")?,
            id("<|notimestamps|>")?,
        );
        let (ct2_cfg, gen_cfg, pre) = (
            read_json(dir, "config.json"),
            read_json(dir, "generation_config.json"),
            read_json(dir, "preprocessor_config.json"),
        );
        let mut suppress = ids(gen_cfg.get("suppress_tokens"));
        suppress.extend(ids(ct2_cfg.get("suppress_ids")));
        let mut suppress_begin = ids(gen_cfg.get("begin_suppress_tokens"));
        suppress_begin.extend(ids(ct2_cfg.get("suppress_ids_begin")));
        let mut features = if pre.is_null() {
            FeatureConfig::default()
        } else {
            FeatureConfig::from_json(&pre)
        };
        features.n_mels = model.config.num_mel_bins;
        Ok(Self {
            tokenizer,
            mel: LogMel::new(features),
            sot,
            eot,
            no_timestamps,
            suppress,
            suppress_begin,
            model,
        })
    }

    /// Greedy transcript of 16 kHz mono `samples`, 30 s at a time.
    pub fn transcribe_greedy(
        &self,
        samples: &[f32],
        cancel: &CancelToken,
    ) -> Result<String, WhisperError> {
        let err = |e: candle_core::Error| WhisperError::Model(e.to_string());
        let cfg = &self.mel.config;
        let mut text = String::new();
        let frames = cfg.chunk_frames();
        for window in samples.chunks(cfg.chunk_samples) {
            if cancel.is_cancelled() {
                return Err(WhisperError::Model("cancelled".into()));
            }
            let feats = Tensor::from_vec(
                self.mel.chunk(window),
                (1, cfg.n_mels, frames),
                self.model.device(),
            )
            .map_err(err)?;
            let enc = self.model.encode(&feats).map_err(err)?;
            let mut state = self.model.start(&enc, 1).map_err(err)?;
            let mut tokens = vec![self.sot, self.no_timestamps];
            let mut out: Vec<u32> = Vec::new();
            let limit = self.model.config.max_target_positions / 2;
            let mut input = tokens.clone();
            while out.len() < limit {
                let t = Tensor::from_slice(&input, (1, input.len()), self.model.device())
                    .map_err(err)?;
                let logits = self.model.decode(&t, &mut state).map_err(err)?;
                let n = logits.dim(1).map_err(err)?;
                let mut row: Vec<f32> = logits
                    .narrow(1, n - 1, 1)
                    .and_then(|l| l.flatten_all())
                    .and_then(|l| l.to_vec1())
                    .map_err(err)?;
                for &s in self.suppress.iter().chain(if out.is_empty() {
                    self.suppress_begin.iter()
                } else {
                    [].iter()
                }) {
                    if let Some(v) = row.get_mut(s as usize) {
                        *v = f32::NEG_INFINITY;
                    }
                }
                // No timestamps in this mode.
                for v in row.iter_mut().skip(self.no_timestamps as usize + 1) {
                    *v = f32::NEG_INFINITY;
                }
                let next = row
                    .iter()
                    .enumerate()
                    .fold((0usize, f32::NEG_INFINITY), |b, (i, &v)| {
                        if v > b.1 { (i, v) } else { b }
                    })
                    .0 as u32;
                if next == self.eot {
                    break;
                }
                out.push(next);
                tokens.push(next);
                input = vec![next];
            }
            let piece = self
                .tokenizer
                .decode(&out, true)
                .map_err(|e| WhisperError::Model(e.to_string()))?;
            if !text.is_empty() && !piece.trim().is_empty() {
                text.push(' ');
            }
            text.push_str(piece.trim());
        }
        Ok(text)
    }
}
