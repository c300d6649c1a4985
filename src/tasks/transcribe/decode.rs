//! Long-form transcription following OpenAI's reference
//! (`whisper/transcribe.py` `transcribe`, `decoding.py`): features for the
//! whole audio, 30 s windows that advance to the last complete timestamp
//! (not fixed cuts), timestamp tokens under the reference rules (pairs,
//! monotonic, the timestamp-vs-text log-sum-exp rule, max initial
//! timestamp 1 s), blank and listed tokens suppressed, temperature fallback
//! on compression ratio and average log-probability, no-speech skipping,
//! the previous text as a prompt, and segment times with the reference
//! formula (`(token − timestamp_begin) × 0.02` s).

use std::io::Write;

use candle_core::Tensor;

use super::timing::{self, Word};
use super::vad::{self, VadConfig};
use super::{Specials, Transcriber};
use crate::tasks::TaskError;
use crate::work::CancelToken;

/// Speech recognition or translation into English.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    #[default]
    Transcribe,
    Translate,
}

/// How to transcribe (the reference's defaults).
#[derive(Clone, Debug)]
pub struct TranscribeOptions {
    /// A language code (`en`, `de`); `None` detects it on the first window.
    pub language: Option<String>,
    pub task: Task,
    pub temperatures: Vec<f32>,
    pub compression_ratio_threshold: f32,
    pub logprob_threshold: f32,
    pub no_speech_threshold: f32,
    pub condition_on_previous_text: bool,
    pub initial_prompt: Option<String>,
    /// Beam search width at temperature 0; `None` decodes greedily (the
    /// reference `transcribe()` default; its command line uses 5).
    pub beam_size: Option<usize>,
    /// Encode only the audio plus this many seconds of padding instead of
    /// a full 30 s window (whisper.cpp's reduced audio context): much less
    /// work for the short utterances of live dictation. `None`: 30 s, as
    /// the reference.
    pub short_window_pad: Option<f32>,
    /// Decode this many windows together when the audio is longer than
    /// one window (shorter audio is one window either way): the speech is
    /// found first ([`super::vad`]) and grouped into windows of at most
    /// 30 s, cut in pauses, and each group of windows is encoded and
    /// decoded as one batch, without the previous text as a prompt (as
    /// faster-whisper's `BatchedInferencePipeline`). `None` or 1: one
    /// window after another, as the reference.
    pub batch_size: Option<usize>,
    /// Word-level timestamps (see [`super::timing`]): each segment's
    /// `words`, and its edges moved to its first and last word, as the
    /// reference's `word_timestamps=True`.
    pub word_timestamps: bool,
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        Self {
            language: None,
            task: Task::Transcribe,
            temperatures: vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            compression_ratio_threshold: 2.4,
            logprob_threshold: -1.0,
            no_speech_threshold: 0.6,
            condition_on_previous_text: true,
            initial_prompt: None,
            beam_size: None,
            short_window_pad: None,
            batch_size: None,
            word_timestamps: false,
        }
    }
}

/// One timed piece of the transcript.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub text: String,
    #[serde(skip)]
    pub tokens: Vec<u32>,
    pub avg_logprob: f32,
    pub no_speech_prob: f32,
    pub compression_ratio: f32,
    pub temperature: f32,
    /// The words and their times, when word timestamps were asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<Word>,
}

/// A whole transcript.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Transcript {
    pub text: String,
    pub language: String,
    pub segments: Vec<Segment>,
}

impl Transcript {
    /// A transcript of `segments` (a dictation's finals), their texts
    /// joined by spaces.
    pub fn from_segments(segments: Vec<Segment>, language: String) -> Self {
        let text = segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            text,
            language,
            segments,
        }
    }
}

struct Decoded {
    tokens: Vec<u32>,
    avg_logprob: f32,
    no_speech_prob: f32,
    compression_ratio: f32,
    temperature: f32,
}

/// `len(text) / len(zlib.compress(text))`, the reference's repetition gauge.
fn compression_ratio(text: &str) -> f32 {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return 0.0;
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let compressed = z
        .write_all(bytes)
        .and_then(|_| z.finish())
        .map(|v| v.len())
        .unwrap_or(bytes.len());
    bytes.len() as f32 / compressed.max(1) as f32
}

fn log_softmax(row: &[f32]) -> Vec<f32> {
    let lse = crate::tasks::nn::log_sum_exp(row);
    row.iter().map(|x| x - lse).collect()
}

/// A small deterministic generator for temperature sampling.
struct Rng(u64);

impl Rng {
    fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

const SAMPLE_LEN_DIV: usize = 2;
/// Seconds a timestamp token stands for.
const TIME_PRECISION: f64 = 0.02;

/// What one decoded window gives: its segments (start and end in seconds,
/// tokens) and how many mel frames to seek on.
#[derive(Debug, PartialEq)]
pub struct WindowCut {
    pub segments: Vec<(f64, f64, Vec<u32>)>,
    pub advance: usize,
}

/// Mel frames per encoder position (the second convolution's stride),
/// the unit of the timestamp tokens' positions.
const INPUT_STRIDE: usize = 2;

/// Cuts a window's tokens into segments at its timestamp tokens and says
/// where the next window starts (transcribe.py: `consecutive` timestamp
/// pairs end segments; a window that ends on a single timestamp is done
/// whole, else the next window starts at the last timestamp; without
/// pairs, the window is one segment lasting to its last timestamp).
/// `size` is the window's length in mel frames of `frame_secs` each.
pub fn cut_window(
    tokens: &[u32],
    timestamp_begin: u32,
    time_offset: f64,
    size: usize,
    frame_secs: f64,
) -> WindowCut {
    let is_ts: Vec<bool> = tokens.iter().map(|&t| t >= timestamp_begin).collect();
    let single_ending = is_ts.len() >= 2 && !is_ts[is_ts.len() - 2] && is_ts[is_ts.len() - 1];
    let consecutive: Vec<usize> = (1..is_ts.len())
        .filter(|&i| is_ts[i - 1] && is_ts[i])
        .collect();
    let pos = |t: u32| (t - timestamp_begin) as f64;
    let mut segments = Vec::new();
    if consecutive.is_empty() {
        let mut duration = size as f64 * frame_secs;
        if let Some(&t) = tokens.iter().rev().find(|&&t| t >= timestamp_begin)
            && t != timestamp_begin
        {
            duration = pos(t) * TIME_PRECISION;
        }
        segments.push((time_offset, time_offset + duration, tokens.to_vec()));
        return WindowCut {
            segments,
            advance: size,
        };
    }
    let mut slices = consecutive;
    if single_ending {
        slices.push(tokens.len());
    }
    let mut last = 0;
    for cur in slices {
        let sliced = &tokens[last..cur];
        if let (Some(&a), Some(&b)) = (sliced.first(), sliced.last())
            && a >= timestamp_begin
            && b >= timestamp_begin
        {
            segments.push((
                time_offset + pos(a) * TIME_PRECISION,
                time_offset + pos(b) * TIME_PRECISION,
                sliced.to_vec(),
            ));
        }
        last = cur;
    }
    let advance = if single_ending {
        size
    } else {
        ((pos(tokens[last - 1]) as usize) * INPUT_STRIDE).max(1)
    };
    WindowCut { segments, advance }
}

/// Whether a window's tokens end on one timestamp after text (the window
/// was decoded to its end).
fn single_timestamp_ending(tokens: &[u32], timestamp_begin: u32) -> bool {
    let n = tokens.len();
    n >= 2 && tokens[n - 2] < timestamp_begin && tokens[n - 1] >= timestamp_begin
}

/// Whether a window's decoding should be retried at the next temperature:
/// too repetitive or too unlikely, unless it is silence.
fn needs_fallback(d: &Decoded, opts: &TranscribeOptions) -> bool {
    let poor = d.compression_ratio > opts.compression_ratio_threshold
        || d.avg_logprob < opts.logprob_threshold;
    let silence =
        d.no_speech_prob > opts.no_speech_threshold && d.avg_logprob < opts.logprob_threshold;
    poor && !silence
}

/// Whether a window is skipped as silence (no text kept).
fn is_silent(d: &Decoded, opts: &TranscribeOptions) -> bool {
    d.no_speech_prob > opts.no_speech_threshold && d.avg_logprob <= opts.logprob_threshold
}

/// The decoder's start: `<|startoftranscript|>`, then for a multilingual
/// model the language and the task.
fn initial_tokens(s: &Specials, language: &str, task: Task) -> Vec<u32> {
    let mut initial = vec![s.sot];
    if !s.languages.is_empty() {
        if let Some((_, id)) = s.languages.iter().find(|(c, _)| c == language) {
            initial.push(*id);
        }
        initial.push(if task == Task::Translate {
            s.translate
        } else {
            s.transcribe
        });
    }
    initial
}

impl Transcriber {
    fn err(e: candle_core::Error) -> TaskError {
        TaskError::Model(e.to_string())
    }

    /// The language codes this model knows (`<|en|>` …), with their ids.
    pub fn languages(&self) -> &[(String, u32)] {
        &self.specials.languages
    }

    fn window_tensor(
        &self,
        mel: &[f32],
        total_frames: usize,
        seek: usize,
        size: usize,
        pad: Option<f32>,
    ) -> Result<Tensor, TaskError> {
        let cfg = &self.mel.config;
        let full = cfg.chunk_frames();
        let frames = match pad {
            // Even, for the encoder's stride-2 convolution.
            Some(p) => {
                let extra =
                    (p.max(0.0) * cfg.sampling_rate as f32 / cfg.hop_length as f32) as usize;
                (size + extra).div_ceil(2).saturating_mul(2).min(full)
            }
            None => full,
        };
        let mut w = vec![0f32; cfg.n_mels * frames];
        for m in 0..cfg.n_mels {
            let src = &mel[m * total_frames + seek..m * total_frames + seek + size];
            w[m * frames..m * frames + size].copy_from_slice(src);
        }
        Tensor::from_vec(w, (1, cfg.n_mels, frames), self.model.device()).map_err(Self::err)
    }

    /// The most likely language of an encoded window.
    fn detect_language(&self, enc: &Tensor) -> Result<String, TaskError> {
        let langs = &self.specials.languages;
        let Some(first) = langs.first() else {
            return Ok("en".into());
        };
        let mut state = self.model.start(enc, 1).map_err(Self::err)?;
        let t = Tensor::from_slice(&[self.specials.sot], (1, 1), self.model.device())
            .map_err(Self::err)?;
        let row: Vec<f32> = self
            .model
            .decode(&t, &mut state)
            .and_then(|l| l.flatten_all())
            .and_then(|l| l.to_vec1())
            .map_err(Self::err)?;
        let best = langs
            .iter()
            .max_by(|a, b| row[a.1 as usize].total_cmp(&row[b.1 as usize]))
            .unwrap_or(first);
        Ok(best.0.clone())
    }

    /// The reference logit filters for one row, given the tokens sampled
    /// so far in this window: SuppressBlank, SuppressTokens and
    /// ApplyTimestampRules (`decoding.py`).
    fn filter(&self, row: &mut [f32], out: &[u32]) {
        let s = &self.specials;
        let vocab = row.len();
        let tb = s.timestamp_begin as usize;
        // SuppressBlank, SuppressTokens.
        if out.is_empty() {
            for &b in &s.blank {
                if let Some(v) = row.get_mut(b as usize) {
                    *v = f32::NEG_INFINITY;
                }
            }
            if let Some(v) = row.get_mut(s.eot as usize) {
                *v = f32::NEG_INFINITY;
            }
        }
        for &t in &s.suppress {
            if let Some(v) = row.get_mut(t as usize) {
                *v = f32::NEG_INFINITY;
            }
        }
        // ApplyTimestampRules.
        if let Some(v) = row.get_mut(s.no_timestamps as usize) {
            *v = f32::NEG_INFINITY;
        }
        let last_ts = out.last().is_some_and(|&t| t >= s.timestamp_begin);
        let penult_ts = out.len() < 2 || out[out.len() - 2] >= s.timestamp_begin;
        if last_ts {
            if penult_ts {
                row[tb.min(vocab)..]
                    .iter_mut()
                    .for_each(|v| *v = f32::NEG_INFINITY);
            } else {
                row[..(s.eot as usize).min(vocab)]
                    .iter_mut()
                    .for_each(|v| *v = f32::NEG_INFINITY);
            }
        }
        if let Some(&last) = out.iter().rev().find(|&&t| t >= s.timestamp_begin) {
            let floor = if last_ts && !penult_ts {
                last
            } else {
                last + 1
            } as usize;
            row[tb.min(vocab)..floor.min(vocab)]
                .iter_mut()
                .for_each(|v| *v = f32::NEG_INFINITY);
        }
        if out.is_empty() {
            row[..tb.min(vocab)]
                .iter_mut()
                .for_each(|v| *v = f32::NEG_INFINITY);
            // max_initial_timestamp = 1.0 s
            let last_allowed = tb + (1.0 / TIME_PRECISION).round() as usize;
            row[(last_allowed + 1).min(vocab)..]
                .iter_mut()
                .for_each(|v| *v = f32::NEG_INFINITY);
        }
        let lp = log_softmax(row);
        if tb < vocab {
            let ts = &lp[tb..];
            let ts_lse = crate::tasks::nn::log_sum_exp(ts);
            let text_max = lp[..tb].iter().copied().fold(f32::NEG_INFINITY, f32::max);
            if ts_lse > text_max {
                row[..tb].iter_mut().for_each(|v| *v = f32::NEG_INFINITY);
            }
        }
    }

    /// One window, one temperature (`DecodingTask.run` with a greedy or
    /// sampling decoder and the reference logit filters).
    fn decode_window(
        &self,
        enc: &Tensor,
        prompt: &[u32],
        initial: &[u32],
        temperature: f32,
        rng: &mut Rng,
    ) -> Result<Decoded, TaskError> {
        self.decode_window_after(enc, prompt, initial, &[], temperature, rng)
    }

    /// [`Self::decode_window`] with `forced` tokens taken as already
    /// decoded (what the window's first part is known to say, timestamps
    /// around each piece): they are read in one pass and the decoding
    /// goes on after them. The result's tokens start with them; its
    /// scores are the new tokens' only.
    fn decode_window_after(
        &self,
        enc: &Tensor,
        prompt: &[u32],
        initial: &[u32],
        forced: &[u32],
        temperature: f32,
        rng: &mut Rng,
    ) -> Result<Decoded, TaskError> {
        let s = &self.specials;
        let (mut tokens, sot_index) = self.start_tokens(prompt, initial);
        tokens.extend_from_slice(forced);
        let sample_begin = tokens.len();
        let sample_len = self.model.config.max_target_positions / SAMPLE_LEN_DIV;
        let mut state = self.model.start(enc, 1).map_err(Self::err)?;
        let input = Tensor::from_slice(&tokens, (1, tokens.len()), self.model.device())
            .map_err(Self::err)?;
        // Scores only where they are read: at <|startoftranscript|> (for
        // no-speech) and at the last token.
        let logits = self
            .model
            .decode_at(&input, &mut state, Some(&[sot_index, tokens.len() - 1]))
            .map_err(Self::err)?
            .squeeze(0)
            .map_err(Self::err)?;
        let no_speech_prob = match s.no_speech {
            Some(ns) => {
                let row: Vec<f32> = logits.get(0).and_then(|r| r.to_vec1()).map_err(Self::err)?;
                log_softmax(&row)[ns as usize].exp()
            }
            None => 0.0,
        };
        let mut row: Vec<f32> = logits.get(1).and_then(|r| r.to_vec1()).map_err(Self::err)?;
        let mut sum_logprob = 0f32;
        let mut out: Vec<u32> = forced.to_vec();
        let sample_begin = sample_begin - forced.len();
        while out.len() < sample_len + forced.len() {
            self.filter(&mut row, &out);
            let lp = log_softmax(&row);
            let next = if temperature <= 0.0 {
                crate::tasks::nn::argmax(&row)
            } else {
                let probs: Vec<f32> = lp.iter().map(|l| (l / temperature).exp()).collect();
                let total: f32 = probs.iter().sum();
                let mut r = rng.next_f32() * total;
                let mut pick = probs.len() - 1;
                for (i, p) in probs.iter().enumerate() {
                    if r < *p {
                        pick = i;
                        break;
                    }
                    r -= p;
                }
                pick
            } as u32;
            sum_logprob += lp[next as usize];
            if next == s.eot {
                break;
            }
            out.push(next);
            if sample_begin + out.len() >= self.model.config.max_target_positions {
                break;
            }
            let t = Tensor::from_slice(&[next], (1, 1), self.model.device()).map_err(Self::err)?;
            row = self
                .model
                .decode(&t, &mut state)
                .and_then(|l| l.flatten_all())
                .and_then(|l| l.to_vec1())
                .map_err(Self::err)?;
        }
        let new = &out[forced.len()..];
        let text = self.text_of(new)?;
        Ok(Decoded {
            avg_logprob: sum_logprob / (new.len() + 1) as f32,
            compression_ratio: compression_ratio(&text),
            tokens: out,
            no_speech_prob,
            temperature,
        })
    }

    /// One window by beam search (`BeamSearchDecoder` with patience 1 and
    /// `MaximumLikelihoodRanker` without a length penalty).
    fn decode_window_beam(
        &self,
        enc: &Tensor,
        prompt: &[u32],
        initial: &[u32],
        beam: usize,
    ) -> Result<Decoded, TaskError> {
        let s = &self.specials;
        let mut prefix: Vec<u32> = Vec::new();
        if !prompt.is_empty() {
            prefix.push(s.sot_prev);
            let keep = self.model.config.max_target_positions / 2 - 1;
            prefix.extend_from_slice(&prompt[prompt.len().saturating_sub(keep)..]);
        }
        let sot_index = prefix.len();
        prefix.extend_from_slice(initial);
        let sample_len = self.model.config.max_target_positions / SAMPLE_LEN_DIV;
        let dev = self.model.device();
        let mut state = self.model.start(enc, beam).map_err(Self::err)?;
        let rep: Vec<u32> = (0..beam).flat_map(|_| prefix.iter().copied()).collect();
        let input = Tensor::from_vec(rep, (beam, prefix.len()), dev).map_err(Self::err)?;
        let logits = self
            .model
            .decode_at(&input, &mut state, Some(&[sot_index, prefix.len() - 1]))
            .map_err(Self::err)?;
        let no_speech_prob = match s.no_speech {
            Some(ns) => {
                let row: Vec<f32> = logits
                    .get(0)
                    .and_then(|l| l.get(0))
                    .and_then(|r| r.to_vec1())
                    .map_err(Self::err)?;
                log_softmax(&row)[ns as usize].exp()
            }
            None => 0.0,
        };
        let last = |l: &Tensor| -> Result<Vec<Vec<f32>>, TaskError> {
            let n = l.dim(1).map_err(Self::err)?;
            l.narrow(1, n - 1, 1)
                .and_then(|x| x.squeeze(1))
                .and_then(|x| x.to_vec2())
                .map_err(Self::err)
        };
        let mut rows = last(&logits)?;
        let mut seqs: Vec<Vec<u32>> = vec![Vec::new(); beam];
        let mut sums = vec![0f32; beam];
        let mut finished: Vec<(Vec<u32>, f32)> = Vec::new();
        for _ in 0..sample_len {
            // Candidates: the beam + 1 best continuations of each beam, the
            // same sequence counted once.
            let mut cands: Vec<(Vec<u32>, f32, usize)> = Vec::new();
            for (j, row) in rows.iter_mut().enumerate() {
                self.filter(row, &seqs[j]);
                let lp = log_softmax(row);
                for t in crate::tasks::nn::top_k(&lp, beam + 1) {
                    let mut seq = seqs[j].clone();
                    seq.push(t as u32);
                    let score = sums[j] + lp[t];
                    match cands.iter_mut().find(|c| c.0 == seq) {
                        Some(c) => *c = (seq, score, j),
                        None => cands.push((seq, score, j)),
                    }
                }
            }
            cands.sort_by(|a, b| b.1.total_cmp(&a.1));
            let mut next: Vec<(Vec<u32>, f32, usize)> = Vec::new();
            let mut newly: Vec<(Vec<u32>, f32)> = Vec::new();
            for c in cands {
                if c.0.last() == Some(&s.eot) {
                    newly.push((c.0, c.1));
                } else {
                    next.push(c);
                    if next.len() == beam {
                        break;
                    }
                }
            }
            for f in newly {
                if finished.len() >= beam {
                    break;
                }
                finished.push(f);
            }
            if finished.len() >= beam
                || next.is_empty()
                || prefix.len() + seqs[0].len() + 1 >= self.model.config.max_target_positions
            {
                break;
            }
            while next.len() < beam {
                next.push(next[0].clone());
            }
            let sources: Vec<u32> = next.iter().map(|c| c.2 as u32).collect();
            state.reorder(&sources).map_err(Self::err)?;
            let last_tokens: Vec<u32> =
                next.iter().map(|c| *c.0.last().unwrap_or(&s.eot)).collect();
            let t = Tensor::from_vec(last_tokens, (beam, 1), dev).map_err(Self::err)?;
            rows = last(&self.model.decode(&t, &mut state).map_err(Self::err)?)?;
            seqs = next.iter().map(|c| c.0.clone()).collect();
            sums = next.iter().map(|c| c.1).collect();
        }
        // Not enough finished: the running ones count, best first.
        let mut order: Vec<usize> = (0..seqs.len()).collect();
        order.sort_by(|&a, &b| sums[b].total_cmp(&sums[a]));
        for j in order {
            if finished.len() >= beam {
                break;
            }
            finished.push((seqs[j].clone(), sums[j]));
        }
        // MaximumLikelihoodRanker: log-probability over length.
        let text_len = |seq: &Vec<u32>| seq.iter().filter(|&&t| t != s.eot).count().max(1) as f32;
        let best = finished
            .into_iter()
            .max_by(|a, b| (a.1 / text_len(&a.0)).total_cmp(&(b.1 / text_len(&b.0))))
            .unwrap_or_default();
        let tokens: Vec<u32> = best.0.into_iter().filter(|&t| t != s.eot).collect();
        let text = self.text_of(&tokens)?;
        Ok(Decoded {
            avg_logprob: best.1 / (tokens.len() + 1) as f32,
            compression_ratio: compression_ratio(&text),
            tokens,
            no_speech_prob,
            temperature: 0.0,
        })
    }

    fn text_of(&self, tokens: &[u32]) -> Result<String, TaskError> {
        let text: Vec<u32> = tokens
            .iter()
            .copied()
            .filter(|&t| t < self.specials.eot)
            .collect();
        self.tokenizer
            .decode(&text, true)
            .map_err(|e| TaskError::Model(e.to_string()))
    }

    /// Transcribes 16 kHz mono `samples`; `on_segment` sees each segment as
    /// it is decoded (with the fraction of the audio done).
    pub fn transcribe(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
        cancel: &CancelToken,
        on_segment: &mut dyn FnMut(&Segment, f32),
    ) -> Result<Transcript, TaskError> {
        let one_window = samples.len() <= self.mel.config.chunk_samples;
        if let Some(batch) = opts.batch_size.filter(|&b| b > 1 && !one_window) {
            return self.transcribe_batched(samples, opts, batch, cancel, on_segment);
        }
        let cfg = self.mel.config.clone();
        let n_frames = cfg.chunk_frames();
        let (mel, total_frames) = self.padded_features(samples, opts);
        let content_frames = samples.len() / cfg.hop_length;
        let frame_secs = cfg.hop_length as f64 / cfg.sampling_rate as f64;
        let s = &self.specials;
        let mut language = opts.language.clone();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut segments: Vec<Segment> = Vec::new();
        let mut prompt_tokens: Vec<u32> = self.initial_prompt_tokens(opts);
        let mut seek = 0usize;
        // The end of the speech so far (word timestamps).
        let mut last_speech = 0.0f64;
        while seek < content_frames {
            if cancel.is_cancelled() {
                return Err(TaskError::Cancelled);
            }
            let size = n_frames.min(content_frames - seek).min(total_frames - seek);
            let window =
                self.window_tensor(&mel, total_frames, seek, size, opts.short_window_pad)?;
            let enc = self.model.encode(&window).map_err(Self::err)?;
            let lang = match &language {
                Some(l) => l.clone(),
                None => {
                    let l = self.detect_language(&enc)?;
                    language = Some(l.clone());
                    l
                }
            };
            let initial = initial_tokens(s, &lang, opts.task);
            let prompt = if opts.condition_on_previous_text {
                prompt_tokens.as_slice()
            } else {
                &[]
            };
            let mut result = None;
            for &t in &opts.temperatures {
                let d = match opts.beam_size {
                    Some(b) if b > 1 && t <= 0.0 => {
                        let b = b.min(crate::tasks::generation::MAX_BEAMS);
                        self.decode_window_beam(&enc, prompt, &initial, b)?
                    }
                    _ => self.decode_window(&enc, prompt, &initial, t, &mut rng)?,
                };
                let fallback = needs_fallback(&d, opts);
                result = Some(d);
                if !fallback {
                    break;
                }
            }
            let Some(d) = result else { break };
            let time_offset = seek as f64 * frame_secs;
            let seg_secs = size as f64 * frame_secs;
            if is_silent(&d, opts) {
                seek += size;
                continue;
            }
            let cut = cut_window(&d.tokens, s.timestamp_begin, time_offset, size, frame_secs);
            seek += cut.advance;
            let mut found = Vec::new();
            for (start, end, tokens) in cut.segments {
                // The model may place a timestamp in the padding after the
                // audio (the reference keeps it); a subtitle never outlasts
                // the sound it belongs to.
                let window_end = time_offset + seg_secs;
                if let Some(seg) = self.segment(&d, (start, end), tokens, window_end, None)? {
                    found.push(seg);
                }
            }
            if opts.word_timestamps && !found.is_empty() {
                let initial = initial_tokens(s, &lang, opts.task);
                self.add_word_timestamps(
                    &enc,
                    &initial,
                    &lang,
                    &mut found,
                    (time_offset, size),
                    &mut last_speech,
                )?;
                // The next window starts after the last word, unless the
                // window ended on a single timestamp (the reference).
                if !single_timestamp_ending(&d.tokens, s.timestamp_begin)
                    && let Some(end) = found.iter().rev().find_map(|s| s.words.last())
                    && end.end > time_offset
                {
                    seek = (end.end / frame_secs).round() as usize;
                }
            }
            for seg in found {
                on_segment(
                    &seg,
                    (seek.min(content_frames) as f32) / content_frames.max(1) as f32,
                );
                segments.push(seg);
            }
            if opts.condition_on_previous_text && d.temperature <= 0.5 {
                prompt_tokens.extend(d.tokens.iter().copied());
            } else {
                prompt_tokens.clear();
            }
        }
        let text = segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Transcript {
            text,
            language: language.unwrap_or_else(|| "en".into()),
            segments,
        })
    }
}

/// What came before the audio of [`Transcriber::transcribe_continuing`]:
/// each piece's place in that audio (seconds) and its text's tokens.
pub type Heard = [(f64, f64, Vec<u32>)];

impl Transcriber {
    /// Transcribes the end of `samples` (16 kHz, one window of at most
    /// 30 s) whose beginning is already known: `heard` says where each
    /// earlier piece is in `samples` and what it says. Those words are
    /// given to the decoder as already decoded (timestamps around each),
    /// so it hears the new words in context, as in a file, without
    /// decoding the old ones again; only the segments after them are
    /// returned, timed from the start of `samples`. `None` when it does
    /// not fit one window or the options ask for beam search.
    pub fn transcribe_continuing(
        &self,
        samples: &[f32],
        heard: &Heard,
        opts: &TranscribeOptions,
        cancel: &CancelToken,
    ) -> Result<Option<Transcript>, TaskError> {
        let cfg = self.mel.config.clone();
        if samples.len() > cfg.chunk_samples || opts.beam_size.is_some_and(|b| b > 1) {
            return Ok(None);
        }
        let s = &self.specials;
        let last_ts = self.model.config.vocab_size as u32 - 1;
        let ts = |t: f64| {
            let n = (t.max(0.0) / TIME_PRECISION).round() as u32;
            (s.timestamp_begin + n).min(last_ts)
        };
        let mut forced = Vec::new();
        for (start, end, tokens) in heard {
            forced.push(ts(*start));
            forced.extend(tokens.iter().copied().filter(|&t| t < s.eot));
            forced.push(ts(*end));
        }
        // The prompt, the start, what was heard, then as many new tokens
        // as a window may have: all within the decoder's positions.
        let max = self.model.config.max_target_positions;
        let prompt = self.initial_prompt_tokens(opts);
        let before = prompt.len().min(max / 2 - 1) + 1 + 3 + forced.len();
        if before + max / SAMPLE_LEN_DIV > max {
            return Ok(None);
        }
        let frame_secs = cfg.hop_length as f64 / cfg.sampling_rate as f64;
        let (mel, total_frames) = self.padded_features(samples, opts);
        let size = (samples.len() / cfg.hop_length)
            .min(cfg.chunk_frames())
            .min(total_frames);
        if cancel.is_cancelled() {
            return Err(TaskError::Cancelled);
        }
        let window = self.window_tensor(&mel, total_frames, 0, size, opts.short_window_pad)?;
        let enc = self.model.encode(&window).map_err(Self::err)?;
        let lang = match &opts.language {
            Some(l) => l.clone(),
            None => self.detect_language(&enc)?,
        };
        let initial = initial_tokens(s, &lang, opts.task);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut result = None;
        for &t in &opts.temperatures {
            let d = self.decode_window_after(&enc, &prompt, &initial, &forced, t, &mut rng)?;
            let fallback = needs_fallback(&d, opts);
            result = Some(d);
            if !fallback {
                break;
            }
        }
        let Some(d) = result else {
            return Ok(None);
        };
        let mut segments = Vec::new();
        if !is_silent(&d, opts) {
            let window_end = size as f64 * frame_secs;
            // The segments of the new tokens: those after the forced ones.
            let new = &d.tokens[forced.len()..];
            let start_at = heard.last().map_or(0.0, |h| h.1);
            let mut tokens = vec![ts(start_at)];
            tokens.extend_from_slice(new);
            if new.first().is_some_and(|&t| t >= s.timestamp_begin) {
                tokens.remove(0);
            }
            for (start, end, toks) in
                whole_window_segments(&tokens, s.timestamp_begin, 0.0, size, frame_secs)
            {
                if let Some(seg) = self.segment(&d, (start, end), toks, window_end, None)? {
                    segments.push(seg);
                }
            }
            if opts.word_timestamps && !segments.is_empty() {
                let mut last_speech = start_at;
                self.add_word_timestamps(
                    &enc,
                    &initial,
                    &lang,
                    &mut segments,
                    (0.0, size),
                    &mut last_speech,
                )?;
            }
        }
        Ok(Some(Transcript::from_segments(segments, lang)))
    }
}

/// The segments of a window decoded as a whole (no seeking on): those
/// [`cut_window`] finds, and the words after the last complete pair of
/// timestamps (which the sequential decoding would decode again in the
/// next window), lasting to the window's end.
fn whole_window_segments(
    tokens: &[u32],
    timestamp_begin: u32,
    time_offset: f64,
    size: usize,
    frame_secs: f64,
) -> Vec<(f64, f64, Vec<u32>)> {
    let mut cut = cut_window(tokens, timestamp_begin, time_offset, size, frame_secs);
    if cut.advance < size {
        let last_pair = (1..tokens.len())
            .rev()
            .find(|&i| tokens[i - 1] >= timestamp_begin && tokens[i] >= timestamp_begin);
        if let Some(i) = last_pair {
            let rest = &tokens[i..];
            if rest.iter().any(|&t| t < timestamp_begin) {
                let start = time_offset + (rest[0] - timestamp_begin) as f64 * TIME_PRECISION;
                cut.segments
                    .push((start, time_offset + size as f64 * frame_secs, rest.to_vec()));
            }
        }
    }
    cut.segments
}

impl Transcriber {
    /// The log-mel features of `samples` with the padding a window needs
    /// after them (a full window, or the options' short padding, and a
    /// second for the STFT's edge), and their frame count.
    fn padded_features(&self, samples: &[f32], opts: &TranscribeOptions) -> (Vec<f32>, usize) {
        let cfg = &self.mel.config;
        let pad = match opts.short_window_pad {
            Some(p) => cfg
                .chunk_samples
                .min(((p.max(0.0) + 1.0) * cfg.sampling_rate as f32) as usize),
            None => cfg.chunk_samples,
        };
        let mut padded = samples.to_vec();
        padded.resize(samples.len() + pad, 0.0);
        let mel = self.mel.features(&padded);
        let frames = mel.len() / cfg.n_mels.max(1);
        (mel, frames)
    }

    /// The tokens of the options' initial prompt (none without one).
    fn initial_prompt_tokens(&self, opts: &TranscribeOptions) -> Vec<u32> {
        match &opts.initial_prompt {
            Some(p) => self
                .tokenizer
                .encode(format!(" {}", p.trim()), false)
                .map(|e| e.get_ids().to_vec())
                .unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// The decoder's input before the first sampled token: the end of
    /// `prompt` after `<|startofprev|>` (at most half the context), then
    /// `initial`; and where `<|startoftranscript|>` is in it.
    fn start_tokens(&self, prompt: &[u32], initial: &[u32]) -> (Vec<u32>, usize) {
        let mut tokens: Vec<u32> = Vec::new();
        if !prompt.is_empty() {
            tokens.push(self.specials.sot_prev);
            let keep = self.model.config.max_target_positions / 2 - 1;
            tokens.extend_from_slice(&prompt[prompt.len().saturating_sub(keep)..]);
        }
        let sot_index = tokens.len();
        tokens.extend_from_slice(initial);
        (tokens, sot_index)
    }

    /// A segment of `tokens` over `span` (seconds) decoded as `d`: ending
    /// by `window_end` (the model may place a timestamp in the padding),
    /// its edges moved out of the quiet when the `speech` regions are
    /// known; `None` when it has no text or no length.
    fn segment(
        &self,
        d: &Decoded,
        span: (f64, f64),
        tokens: Vec<u32>,
        window_end: f64,
        speech: Option<&[(f64, f64)]>,
    ) -> Result<Option<Segment>, TaskError> {
        let (start, end) = (span.0.min(window_end), span.1.min(window_end));
        let text = self.text_of(&tokens)?;
        if text.trim().is_empty() || start >= end {
            return Ok(None);
        }
        let (start, end) = match speech {
            Some(regions) => vad::snap(start, end, regions),
            None => (start, end),
        };
        Ok(Some(Segment {
            start,
            end,
            text: text.trim().to_string(),
            tokens,
            avg_logprob: d.avg_logprob,
            no_speech_prob: d.no_speech_prob,
            compression_ratio: d.compression_ratio,
            temperature: d.temperature,
            words: Vec::new(),
        }))
    }

    /// Word timings for the segments one window `enc` gave (see
    /// [`super::timing`]): its text run once more through the decoder
    /// after `initial` (the start of transcript, language and task), the
    /// alignment heads' attention over the window's `frames` mel frames
    /// (of `offset` seconds in) aligned by dynamic time warping, then the
    /// reference's corrections; each segment gets its words and its
    /// edges from them. `last_speech` is the end of the speech before.
    fn add_word_timestamps(
        &self,
        enc: &Tensor,
        initial: &[u32],
        language: &str,
        segments: &mut [Segment],
        (offset, frames): (f64, usize),
        last_speech: &mut f64,
    ) -> Result<(), TaskError> {
        let s = &self.specials;
        let per_segment: Vec<Vec<u32>> = segments
            .iter()
            .map(|seg| seg.tokens.iter().copied().filter(|&t| t < s.eot).collect())
            .collect();
        let text: Vec<u32> = per_segment.iter().flatten().copied().collect();
        if text.is_empty() || self.alignment_heads.is_empty() {
            return Ok(());
        }
        let mut tokens = initial.to_vec();
        tokens.push(s.no_timestamps);
        tokens.extend_from_slice(&text);
        tokens.push(s.eot);
        let n = tokens.len();
        if n > self.model.config.max_target_positions {
            return Ok(()); // longer than the decoder can take: no words
        }
        let mut state = self.model.start(enc, 1).map_err(Self::err)?;
        let input = Tensor::from_slice(&tokens, (1, n), self.model.device()).map_err(Self::err)?;
        let (logits, scores) = self
            .model
            .decode_aligned(&input, &mut state, &self.alignment_heads)
            .map_err(Self::err)?;
        let logits: Vec<Vec<f32>> = logits
            .squeeze(0)
            .and_then(|l| l.to_vec2())
            .map_err(Self::err)?;
        // Each text token's probability among the text tokens (ids below
        // the end of text), where it was predicted.
        let sot_len = initial.len();
        let eot = s.eot as usize;
        let probs: Vec<f32> = text
            .iter()
            .enumerate()
            .map(|(k, &t)| {
                let row = &logits[sot_len + k];
                let text_part = &row[..eot.min(row.len())];
                let (max, log_sum) = crate::tasks::nn::max_and_log_sum(text_part);
                text_part
                    .get(t as usize)
                    .map_or(0.0, |&l| ((l - max) - log_sum).exp())
            })
            .collect();
        let enc_frames = scores
            .first()
            .and_then(|t| t.dims().last().copied())
            .unwrap_or(0);
        let heads: Vec<Vec<f32>> = scores
            .iter()
            .map(|t| t.flatten_all().and_then(|t| t.to_vec1()))
            .collect::<candle_core::Result<_>>()
            .map_err(Self::err)?;
        let used = (frames / 2).min(enc_frames);
        if used == 0 {
            return Ok(());
        }
        let matrix = timing::alignment_matrix(&heads, n, enc_frames, used);
        let rows = text.len() + 1;
        let cost: Vec<f32> = matrix[sot_len * used..(sot_len + rows) * used]
            .iter()
            .map(|v| -v)
            .collect();
        let path = timing::dtw(&cost, rows, used);
        let decode = |ids: &[u32]| self.tokenizer.decode(ids, false).unwrap_or_default();
        let mut with_end = text.clone();
        with_end.push(s.eot);
        let (words, word_tokens) = timing::split_words(&with_end, s.eot, language, &decode);
        let cfg = &self.mel.config;
        let token_secs = 2.0 * cfg.hop_length as f64 / cfg.sampling_rate as f64;
        let mut alignment = timing::words_from_path(words, word_tokens, &path, &probs, token_secs);
        let lengths = timing::durations(&alignment);
        if let Some((_, max)) = lengths {
            timing::clip_sentence_edges(&mut alignment, max);
        }
        timing::merge_punctuation(&mut alignment);
        let lengths = lengths.unwrap_or((0.0, 0.0));
        let mut at = 0;
        for (seg, text) in segments.iter_mut().zip(&per_segment) {
            let mut taken = 0;
            let first = at;
            while at < alignment.len() && taken < text.len() {
                taken += alignment[at].tokens.len();
                at += 1;
            }
            let (words, start, end) = timing::place_segment_words(
                &alignment[first..at],
                offset,
                (seg.start, seg.end),
                *last_speech,
                lengths,
            );
            if !words.is_empty() {
                seg.start = start;
                seg.end = end;
                *last_speech = end;
            }
            seg.words = words;
        }
        Ok(())
    }

    /// [`Self::transcribe`] with windows decoded `batch` at a time (see
    /// [`TranscribeOptions::batch_size`]).
    fn transcribe_batched(
        &self,
        samples: &[f32],
        opts: &TranscribeOptions,
        batch: usize,
        cancel: &CancelToken,
        on_segment: &mut dyn FnMut(&Segment, f32),
    ) -> Result<Transcript, TaskError> {
        let cfg = self.mel.config.clone();
        let rate = cfg.sampling_rate;
        let frame_secs = cfg.hop_length as f64 / rate as f64;
        let regions = vad::speech_regions(samples, rate as u32, &VadConfig::default());
        let windows = vad::windows(&regions, samples, rate as u32, cfg.chunk_samples);
        let speech: Vec<(f64, f64)> = regions
            .iter()
            .map(|r| (r.start as f64 / rate as f64, r.end as f64 / rate as f64))
            .collect();
        let s = &self.specials;
        let mut language = opts.language.clone();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let prompt: Vec<u32> = self.initial_prompt_tokens(opts);
        let mut segments: Vec<Segment> = Vec::new();
        for group in windows.chunks(batch.max(1)) {
            if cancel.is_cancelled() {
                return Err(TaskError::Cancelled);
            }
            // Each window's features as the sequential decoding makes a
            // window's: its audio (and a second for the STFT's edge), the
            // frames past its end zero.
            let mut feats = Vec::with_capacity(group.len());
            let mut sizes = Vec::with_capacity(group.len());
            for w in group {
                let mut audio = samples[w.clone()].to_vec();
                let content = (audio.len() / cfg.hop_length).min(cfg.chunk_frames());
                audio.resize(audio.len() + rate, 0.0);
                let mel = self.mel.features(&audio);
                let total = mel.len() / cfg.n_mels;
                feats.push(self.window_tensor(&mel, total, 0, content.min(total), None)?);
                sizes.push(content.min(total));
            }
            // A window at a time: the weights are packed once, so the
            // products lose nothing, and each layer's activations stay
            // small enough for the allocator to reuse (a batch's FFN
            // activations are fresh pages from the kernel each layer).
            let mut encoded = Vec::with_capacity(feats.len());
            for f in &feats {
                encoded.push(self.model.encode(f).map_err(Self::err)?);
                if cancel.is_cancelled() {
                    return Err(TaskError::Cancelled);
                }
            }
            drop(feats);
            let enc = Tensor::cat(&encoded, 0).map_err(Self::err)?;
            drop(encoded);
            let lang = match &language {
                Some(l) => l.clone(),
                None => {
                    let first = enc.narrow(0, 0, 1).map_err(Self::err)?;
                    let l = self.detect_language(&first)?;
                    language = Some(l.clone());
                    l
                }
            };
            let initial = initial_tokens(s, &lang, opts.task);
            let beam = opts.beam_size.filter(|&b| b > 1);
            let first_t = opts.temperatures.first().copied().unwrap_or(0.0);
            let mut decoded = match beam {
                Some(b) if first_t <= 0.0 => {
                    let b = b.min(crate::tasks::generation::MAX_BEAMS);
                    let mut v = Vec::with_capacity(group.len());
                    for i in 0..group.len() {
                        let one = enc.narrow(0, i, 1).map_err(Self::err)?;
                        v.push(self.decode_window_beam(&one, &prompt, &initial, b)?);
                    }
                    v
                }
                _ if first_t <= 0.0 => self.decode_batch(&enc, &prompt, &initial, cancel)?,
                _ => {
                    let mut v = Vec::with_capacity(group.len());
                    for i in 0..group.len() {
                        let one = enc.narrow(0, i, 1).map_err(Self::err)?;
                        v.push(self.decode_window(&one, &prompt, &initial, first_t, &mut rng)?);
                    }
                    v
                }
            };
            // Temperature fallback, window by window.
            for (i, d) in decoded.iter_mut().enumerate() {
                if !needs_fallback(d, opts) {
                    continue;
                }
                let one = enc.narrow(0, i, 1).map_err(Self::err)?;
                for &t in opts.temperatures.iter().skip(1) {
                    if cancel.is_cancelled() {
                        return Err(TaskError::Cancelled);
                    }
                    *d = self.decode_window(&one, &prompt, &initial, t, &mut rng)?;
                    if !needs_fallback(d, opts) {
                        break;
                    }
                }
            }
            for (i, ((w, d), &size)) in group.iter().zip(&decoded).zip(&sizes).enumerate() {
                if is_silent(d, opts) {
                    continue;
                }
                let offset = w.start as f64 / rate as f64;
                let window_end = offset + size as f64 * frame_secs;
                let mut found = Vec::new();
                for (start, end, tokens) in
                    whole_window_segments(&d.tokens, s.timestamp_begin, offset, size, frame_secs)
                {
                    let span = (start, end);
                    if let Some(seg) = self.segment(d, span, tokens, window_end, Some(&speech))? {
                        found.push(seg);
                    }
                }
                if opts.word_timestamps && !found.is_empty() {
                    let one = enc.narrow(0, i, 1).map_err(Self::err)?;
                    // Each window follows a pause the voice detector found.
                    let mut last_speech = offset;
                    self.add_word_timestamps(
                        &one,
                        &initial,
                        &lang,
                        &mut found,
                        (offset, size),
                        &mut last_speech,
                    )?;
                }
                for seg in found {
                    on_segment(&seg, w.end as f32 / samples.len().max(1) as f32);
                    segments.push(seg);
                }
            }
        }
        Ok(Transcript::from_segments(
            segments,
            language.unwrap_or_else(|| "en".into()),
        ))
    }

    /// Greedy decoding of a batch of encoded windows `enc` (b, frames, d)
    /// together, each under the reference's logit filters: one decoder
    /// step for all of them, and a window leaves the batch when it ends.
    fn decode_batch(
        &self,
        enc: &Tensor,
        prompt: &[u32],
        initial: &[u32],
        cancel: &CancelToken,
    ) -> Result<Vec<Decoded>, TaskError> {
        let s = &self.specials;
        let dev = self.model.device();
        let b = enc.dim(0).map_err(Self::err)?;
        let (tokens, sot_index) = self.start_tokens(prompt, initial);
        let sample_begin = tokens.len();
        let max_positions = self.model.config.max_target_positions;
        let sample_len = max_positions / SAMPLE_LEN_DIV;
        let mut state = self.model.start(enc, 1).map_err(Self::err)?;
        let all: Vec<u32> = (0..b).flat_map(|_| tokens.iter().copied()).collect();
        let input = Tensor::from_vec(all, (b, tokens.len()), dev).map_err(Self::err)?;
        let logits = self
            .model
            .decode_at(&input, &mut state, Some(&[sot_index, tokens.len() - 1]))
            .map_err(Self::err)?;
        let mut no_speech = vec![0f32; b];
        let mut rows: Vec<Vec<f32>> = Vec::with_capacity(b);
        for (i, p) in no_speech.iter_mut().enumerate() {
            let l = logits.get(i).map_err(Self::err)?;
            if let Some(ns) = s.no_speech {
                let row: Vec<f32> = l.get(0).and_then(|r| r.to_vec1()).map_err(Self::err)?;
                *p = log_softmax(&row)[ns as usize].exp();
            }
            rows.push(l.get(1).and_then(|r| r.to_vec1()).map_err(Self::err)?);
        }
        let mut outs: Vec<Vec<u32>> = vec![Vec::new(); b];
        let mut sums = vec![0f32; b];
        let mut done = vec![false; b];
        // The windows whose rows the decoder state holds, in its order.
        let mut present: Vec<usize> = (0..b).collect();
        loop {
            if cancel.is_cancelled() {
                return Err(TaskError::Cancelled);
            }
            for (row, &w) in rows.iter_mut().zip(&present) {
                if done[w] {
                    continue;
                }
                self.filter(row, &outs[w]);
                let lp = log_softmax(row);
                let next = crate::tasks::nn::argmax(row) as u32;
                sums[w] += lp[next as usize];
                if next == s.eot {
                    done[w] = true;
                    continue;
                }
                outs[w].push(next);
                if outs[w].len() >= sample_len || sample_begin + outs[w].len() >= max_positions {
                    done[w] = true;
                }
            }
            let live: Vec<usize> = (0..present.len()).filter(|&p| !done[present[p]]).collect();
            if live.is_empty() {
                break;
            }
            // Finished windows leave the batch once a quarter of it has
            // (each leaving copies the others' cached keys and values).
            if (present.len() - live.len()) * 4 >= present.len() {
                let keep: Vec<u32> = live.iter().map(|&p| p as u32).collect();
                state.keep(&keep).map_err(Self::err)?;
                present = live.iter().map(|&p| present[p]).collect();
            }
            let next: Vec<u32> = present
                .iter()
                .map(|&w| *outs[w].last().unwrap_or(&s.eot))
                .collect();
            let t = Tensor::from_vec(next, (present.len(), 1), dev).map_err(Self::err)?;
            let logits = self.model.decode(&t, &mut state).map_err(Self::err)?;
            rows = (0..present.len())
                .map(|i| {
                    logits
                        .get(i)
                        .and_then(|l| l.flatten_all())
                        .and_then(|l| l.to_vec1())
                })
                .collect::<candle_core::Result<_>>()
                .map_err(Self::err)?;
        }
        outs.into_iter()
            .zip(sums)
            .zip(no_speech)
            .map(|((out, sum), ns)| {
                let text = self.text_of(&out)?;
                Ok(Decoded {
                    avg_logprob: sum / (out.len() + 1) as f32,
                    compression_ratio: compression_ratio(&text),
                    tokens: out,
                    no_speech_prob: ns,
                    temperature: 0.0,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod window_tests {
    use super::*;

    /// tiny.en's first timestamp token; 0.02 s a position, 0.01 s a frame.
    const TB: u32 = 50363;
    const FRAME: f64 = 0.01;

    fn ts(secs: f64) -> u32 {
        TB + (secs / TIME_PRECISION).round() as u32
    }

    #[test]
    fn pairs_of_timestamps_cut_segments_and_a_single_ending_finishes_the_window() {
        // <0.0> a b <2.0><2.0> c <4.5> (ends on a single timestamp)
        let toks = [ts(0.0), 1, 2, ts(2.0), ts(2.0), 3, ts(4.5)];
        let cut = cut_window(&toks, TB, 30.0, 3000, FRAME);
        assert_eq!(cut.advance, 3000, "the whole window is done");
        assert_eq!(cut.segments.len(), 2);
        assert_eq!(cut.segments[0].0, 30.0);
        assert!((cut.segments[0].1 - 32.0).abs() < 1e-9);
        assert_eq!(cut.segments[0].2, vec![ts(0.0), 1, 2, ts(2.0)]);
        assert!((cut.segments[1].0 - 32.0).abs() < 1e-9);
        assert!((cut.segments[1].1 - 34.5).abs() < 1e-9);
    }

    #[test]
    fn a_window_cut_mid_sentence_seeks_to_its_last_timestamp() {
        // <0.0> a <1.5><1.5> b c (no closing timestamp: b c is unfinished)
        let toks = [ts(0.0), 1, ts(1.5), ts(1.5), 2, 3];
        let cut = cut_window(&toks, TB, 0.0, 3000, FRAME);
        assert_eq!(cut.segments.len(), 1);
        assert!((cut.segments[0].1 - 1.5).abs() < 1e-9);
        // 1.5 s is position 75, 150 mel frames.
        assert_eq!(cut.advance, 150);
    }

    #[test]
    fn without_pairs_the_window_is_one_segment_to_its_last_timestamp() {
        let toks = [ts(0.0), 1, 2, ts(3.2)];
        let cut = cut_window(&toks, TB, 10.0, 2000, FRAME);
        assert_eq!(cut.advance, 2000);
        assert_eq!(cut.segments.len(), 1);
        assert!((cut.segments[0].1 - 13.2).abs() < 1e-9);
        // No timestamps at all: the window's length.
        let cut = cut_window(&[1, 2, 3], TB, 10.0, 2000, FRAME);
        assert!((cut.segments[0].1 - 30.0).abs() < 1e-9);
        assert_eq!(cut.advance, 2000);
    }

    fn decoded(logprob: f32, no_speech: f32, ratio: f32) -> Decoded {
        Decoded {
            tokens: Vec::new(),
            avg_logprob: logprob,
            no_speech_prob: no_speech,
            compression_ratio: ratio,
            temperature: 0.0,
        }
    }

    #[test]
    fn fallback_and_silence_follow_the_thresholds() {
        let o = TranscribeOptions::default();
        assert!(
            !needs_fallback(&decoded(-0.3, 0.1, 1.5), &o),
            "a good window"
        );
        assert!(needs_fallback(&decoded(-0.3, 0.1, 3.0), &o), "repetitive");
        assert!(needs_fallback(&decoded(-1.5, 0.1, 1.5), &o), "unlikely");
        assert!(!needs_fallback(&decoded(-1.5, 0.9, 1.5), &o), "silence");
        assert!(is_silent(&decoded(-1.5, 0.9, 1.5), &o));
        assert!(!is_silent(&decoded(-0.3, 0.9, 1.5), &o), "confident speech");
    }
}
