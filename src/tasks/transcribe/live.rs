//! Live dictation: a voice-activity detector — the learned Silero model
//! ([`super::silero`]) when it is there, else an energy threshold — cuts
//! the microphone stream into utterances ([`Segmenter`]); while one is
//! being spoken its audio so far is decoded about once a second (a partial
//! transcript), once more as soon as a quiet starts, and when a pause ends
//! it, finally ([`LiveDictation`]). The pause that ends an utterance is
//! short when the partial decoded at its start covers all that was said
//! and ends a sentence (Whisper's punctuation as the end-of-utterance
//! signal). Silence is never decoded, a partial is only decoded when new
//! speech arrived since the last one, and a final reuses the last partial
//! when nothing was said after it — so Whisper's 30 s window is filled
//! with padding only as often as a word on screen needs it. With
//! [`LiveDictation::translate_speech`], each final segment is also given
//! in English by Whisper's translate task. [`run_live`] is the loop the
//! app's `spaceport-live` thread, the CLI and the latency benchmark run.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use super::Transcriber;
use super::decode::{Segment, TranscribeOptions};
use super::silero::{SileroVad, VoiceDetector};
use super::vad::rms_db;
use crate::tasks::TaskError;
use crate::work::CancelToken;

/// How the stream is cut; times in seconds.
#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// A partial transcript at most this often while someone speaks.
    pub partial_every: f32,
    /// This much quiet ends an utterance.
    pub pause: f32,
    /// Utterances with less voiced audio than this (a click, a cough) are
    /// dropped without decoding.
    pub min_speech: f32,
    /// An utterance longer than this is cut (Whisper sees 30 s at most).
    pub max_utterance: f32,
    /// Audio kept before the first voiced frame, so soft onsets survive.
    pub pre_roll: f32,
    /// Quiet kept after the last voiced frame.
    pub tail: f32,
    /// A frame is voiced when it is this much louder than the noise floor…
    pub margin_db: f32,
    /// …and louder than this absolute level (dBFS RMS).
    pub min_db: f32,
    /// After this much quiet a partial is decoded at once, so that when
    /// the pause turns out to end the utterance its text is already there
    /// (the final reuses it when nothing was said since).
    pub early: f32,
    /// Encode the utterance plus this much padding, not a 30 s window
    /// (see [`TranscribeOptions::short_window_pad`]); `None`: 30 s.
    pub window_pad: Option<f32>,
    /// Up to this much of the utterances before (their audio) is decoded
    /// again in front of each one, so the model hears it in context as
    /// it would in a file; only the new utterance's words are kept.
    pub context: f32,
    /// With the learned detector ([`LiveDictation::with_voice`]): speech
    /// starts at this probability (and ends below it less 0.15)…
    pub vad_threshold: f32,
    /// …and this much quiet ends an utterance, a partial decoded after
    /// `vad_early` (in place of `pause` and `early`: its decisions are
    /// surer and sooner than the energy threshold's).
    pub vad_pause: f32,
    pub vad_early: f32,
    /// With the learned detector: when the partial decoded in the pause
    /// ends a sentence (Whisper wrote `.`, `?` or `!` after all that was
    /// said), this much quiet is enough to end the utterance.
    pub vad_sentence_pause: f32,
    /// With the learned detector: the context and window padding (its
    /// sooner decisions leave less time to decode; measured best by
    /// `bench/live_latency.sh`).
    pub vad_context: f32,
    pub vad_window_pad: f32,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            partial_every: 1.0,
            pause: 0.6,
            min_speech: 0.2,
            max_utterance: 25.0,
            pre_roll: 0.3,
            tail: 0.2,
            margin_db: 10.0,
            min_db: -50.0,
            window_pad: Some(4.0),
            early: 0.2,
            context: 25.0,
            vad_threshold: 0.5,
            vad_pause: 0.5,
            vad_early: 0.02,
            vad_sentence_pause: 0.15,
            vad_context: 15.0,
            vad_window_pad: 2.0,
        }
    }
}

/// Audio to decode, `start` seconds after the recording began.
#[derive(Clone, Debug, PartialEq)]
pub enum Work {
    Partial {
        samples: Vec<f32>,
        start: f64,
    },
    /// `fresh`: voiced audio came after the last partial was taken (or
    /// none was), so the partial's text does not cover it all.
    Final {
        samples: Vec<f32>,
        start: f64,
        fresh: bool,
        /// Where its speech ended (the last voiced frame), in seconds.
        speech_end: f64,
    },
}

enum State {
    Idle,
    Speech {
        /// Absolute index (in samples) of `buf[0]`.
        start: u64,
        voiced: usize,
        silence_run: usize,
        /// `buf` length just after the last voiced frame.
        voiced_end: usize,
        since_partial: usize,
        voiced_since_partial: bool,
    },
}

/// The voice-activity detector and utterance cutter, at the device's rate.
pub struct Segmenter {
    cfg: LiveConfig,
    rate: u32,
    frame: usize,
    pending: Vec<f32>,
    pre: VecDeque<f32>,
    buf: Vec<f32>,
    state: State,
    total: u64,
    floor_db: f32,
    finals: VecDeque<Work>,
    partial_ready: bool,
    /// The learned detector, when there is one (else the energy rule).
    voice: Option<VoiceDetector>,
    /// The last partial covered all that was said and ended a sentence:
    /// the shorter pause ends the utterance.
    sentence_ended: bool,
}

impl Segmenter {
    pub fn new(rate: u32, cfg: LiveConfig) -> Self {
        Self {
            frame: (rate as usize / 50).max(1), // 20 ms
            cfg,
            rate: rate.max(1),
            pending: Vec::new(),
            pre: VecDeque::new(),
            buf: Vec::new(),
            state: State::Idle,
            total: 0,
            floor_db: -100.0,
            finals: VecDeque::new(),
            partial_ready: false,
            voice: None,
            sentence_ended: false,
        }
    }

    /// Tells speech by the learned detector `vad` from now on, with its
    /// pause and early-partial times.
    pub fn with_voice(mut self, vad: SileroVad) -> Self {
        self.voice = Some(VoiceDetector::new(vad, self.rate, self.cfg.vad_threshold));
        self.cfg.pause = self.cfg.vad_pause;
        self.cfg.early = self.cfg.vad_early;
        self
    }

    /// Whether the learned detector tells speech.
    pub fn learned(&self) -> bool {
        self.voice.is_some()
    }

    fn secs(&self, s: f32) -> usize {
        (s * self.rate as f32) as usize
    }

    /// Seconds of audio taken in so far.
    pub fn heard(&self) -> f64 {
        (self.total + self.pending.len() as u64) as f64 / self.rate as f64
    }

    /// Whether a final is waiting to be decoded.
    pub fn has_final(&self) -> bool {
        !self.finals.is_empty()
    }

    /// Whether an utterance is being spoken now.
    pub fn in_speech(&self) -> bool {
        matches!(self.state, State::Speech { .. })
    }

    /// Takes the next stretch of audio.
    pub fn push(&mut self, samples: &[f32]) {
        self.pending.extend_from_slice(samples);
        let n = self.pending.len() / self.frame * self.frame;
        let frames: Vec<f32> = self.pending.drain(..n).collect();
        for f in frames.chunks(self.frame) {
            self.frame_in(f);
        }
    }

    fn frame_in(&mut self, f: &[f32]) {
        let db = rms_db(f);
        // The floor follows quiet frames down at once and creeps up half a
        // decibel a second, so a louder room is learnt but speech is not.
        self.floor_db = if db < self.floor_db {
            db
        } else {
            self.floor_db + 0.01
        };
        let voiced = match &mut self.voice {
            Some(v) => v.push(f),
            None => db > (self.floor_db + self.cfg.margin_db).max(self.cfg.min_db),
        };
        self.total += f.len() as u64;
        let early = self.secs(self.cfg.early);
        let sentence_pause = self.secs(self.cfg.vad_sentence_pause);
        let (pause, min_speech, max_len, pre_roll, every) = (
            self.secs(self.cfg.pause),
            self.secs(self.cfg.min_speech),
            self.secs(self.cfg.max_utterance),
            self.secs(self.cfg.pre_roll),
            self.secs(self.cfg.partial_every),
        );
        match &mut self.state {
            State::Idle => {
                self.pre.extend(f.iter().copied());
                while self.pre.len() > pre_roll {
                    self.pre.pop_front();
                }
                if voiced {
                    self.buf = self.pre.drain(..).collect();
                    let start = self.total - self.buf.len() as u64;
                    self.state = State::Speech {
                        start,
                        voiced: f.len(),
                        silence_run: 0,
                        voiced_end: self.buf.len(),
                        since_partial: f.len(),
                        voiced_since_partial: true,
                    };
                }
            }
            State::Speech {
                start,
                voiced: v,
                silence_run,
                voiced_end,
                since_partial,
                voiced_since_partial,
            } => {
                self.buf.extend_from_slice(f);
                *since_partial += f.len();
                if voiced {
                    *v += f.len();
                    *silence_run = 0;
                    *voiced_end = self.buf.len();
                    *voiced_since_partial = true;
                } else {
                    *silence_run += f.len();
                }
                let at = *start as f64 / self.rate as f64;
                if voiced {
                    self.sentence_ended = false;
                }
                let pause = if self.sentence_ended {
                    sentence_pause.min(pause)
                } else {
                    pause
                };
                if *silence_run >= pause {
                    self.end_utterance();
                } else if self.buf.len() >= max_len {
                    self.finals.push_back(Work::Final {
                        samples: std::mem::take(&mut self.buf),
                        start: at,
                        fresh: *voiced_since_partial,
                        speech_end: self.total as f64 / self.rate as f64,
                    });
                    *start = self.total;
                    *v = 0;
                    *voiced_end = 0;
                    *since_partial = 0;
                    *voiced_since_partial = false;
                    self.partial_ready = false;
                } else if *voiced_since_partial
                    && *v >= min_speech
                    && ((voiced && *since_partial >= every)
                        || (!voiced && *silence_run >= early && *silence_run - f.len() < early))
                {
                    self.partial_ready = true;
                }
            }
        }
    }

    /// A pause ended the utterance being spoken: it becomes final
    /// (unless it held too little speech), and the quiet at its end is
    /// kept as the next one's pre-roll.
    fn end_utterance(&mut self) {
        let State::Speech {
            start,
            voiced,
            voiced_end,
            voiced_since_partial,
            ..
        } = self.state
        else {
            return;
        };
        if voiced >= self.secs(self.cfg.min_speech) {
            let end = (voiced_end + self.secs(self.cfg.tail)).min(self.buf.len());
            self.finals.push_back(Work::Final {
                samples: self.buf[..end].to_vec(),
                start: start as f64 / self.rate as f64,
                fresh: voiced_since_partial,
                speech_end: (start + voiced_end as u64) as f64 / self.rate as f64,
            });
        }
        let keep = self.buf.len().saturating_sub(self.secs(self.cfg.pre_roll));
        self.pre = self.buf.drain(keep..).collect();
        self.buf.clear();
        self.state = State::Idle;
        self.partial_ready = false;
        self.sentence_ended = false;
    }

    /// The partial last taken has been decoded; `ends_sentence`: its text
    /// ends a sentence. With the learned detector, when nothing was said
    /// after it, the utterance then ends after the shorter
    /// [`LiveConfig::vad_sentence_pause`] — at once if that much quiet has
    /// already passed.
    pub fn partial_decoded(&mut self, start: f64, ends_sentence: bool) {
        let State::Speech {
            start: s,
            silence_run,
            voiced_since_partial,
            ..
        } = self.state
        else {
            return;
        };
        if self.voice.is_none()
            || !ends_sentence
            || voiced_since_partial
            || (s as f64 / self.rate as f64 - start).abs() > 1e-9
        {
            return;
        }
        self.sentence_ended = true;
        if silence_run >= self.secs(self.cfg.vad_sentence_pause) {
            self.end_utterance();
        }
    }

    /// The recording ended: what is being said becomes final.
    pub fn finish(&mut self) {
        let rest = std::mem::take(&mut self.pending);
        if !rest.is_empty() {
            self.frame_in(&rest);
        }
        self.end_utterance();
    }

    /// The next thing to decode: finals in order first, then the latest
    /// partial (an older one is never decoded once newer audio is in).
    pub fn next_work(&mut self) -> Option<Work> {
        if let Some(w) = self.finals.pop_front() {
            return Some(w);
        }
        if !self.partial_ready {
            return None;
        }
        self.partial_ready = false;
        let State::Speech {
            start,
            since_partial,
            voiced_since_partial,
            ..
        } = &mut self.state
        else {
            return None;
        };
        *since_partial = 0;
        *voiced_since_partial = false;
        Some(Work::Partial {
            samples: self.buf.clone(),
            start: *start as f64 / self.rate as f64,
        })
    }
}

/// What live dictation reports.
#[derive(Clone, Debug)]
pub enum LiveEvent {
    /// The utterance being spoken, so far (replaces the previous partial).
    Partial { text: String, start: f64 },
    /// An utterance is done: its segments, timed from the recording
    /// start, and the language spoken.
    Final {
        segments: Vec<Segment>,
        language: String,
        /// Seconds of audio heard after the utterance's speech ended by
        /// the time its text was ready: the line's latency.
        behind: f64,
    },
    /// Final segment `index` (counted over the session) in English, by
    /// Whisper's translate task ([`LiveDictation::translate_speech`]),
    /// `seconds` after its transcript.
    Translated {
        index: usize,
        text: String,
        seconds: f64,
        /// The audio translated (the segment and a little quiet either
        /// side), in seconds from the recording start.
        span: (f64, f64),
    },
}

/// A final segment's audio waiting for Whisper's translate task.
struct SpeechToTranslate {
    index: usize,
    audio: Vec<f32>,
    span: (f64, f64),
    language: String,
    since: std::time::Instant,
}

/// A segmenter plus the decoding of its work with a [`Transcriber`].
pub struct LiveDictation {
    seg: Segmenter,
    rate: u32,
    opts: TranscribeOptions,
    /// The last partial: its start, how far its audio went, its segments,
    /// and whether it would have passed without temperature fallback.
    last_partial: Option<(f64, Vec<Segment>, bool)>,
    /// Text finalised so far (the next utterance's prompt).
    said: String,
    /// The last utterances (16 kHz audio and their text's tokens),
    /// newest last, at most `context_secs` of audio: heard again before
    /// the next one.
    context: VecDeque<(Vec<f32>, Vec<u32>)>,
    context_secs: f32,
    /// How many bytes of `said` each final added (its text and a space).
    said_lengths: Vec<usize>,
    window_pad: Option<f32>,
    /// Decoder runs so far.
    pub decodes: usize,
    /// The language, once found (then kept for the rest of the session).
    pub language: Option<String>,
    /// Also give each final segment in English by Whisper's own translate
    /// task (a second, short decode of its audio, after the finals and
    /// before the next partial), when the language spoken is not English
    /// and the model is multilingual.
    pub translate_speech: bool,
    to_translate: VecDeque<SpeechToTranslate>,
    /// Final segments so far.
    segments_done: usize,
}

impl LiveDictation {
    /// `rate`: the device's sample rate; audio is resampled per utterance.
    pub fn new(rate: u32, opts: TranscribeOptions, cfg: LiveConfig) -> Self {
        Self {
            window_pad: cfg.window_pad,
            context_secs: cfg.context,
            seg: Segmenter::new(rate, cfg),
            rate,
            language: opts.language.clone(),
            opts,
            last_partial: None,
            said: String::new(),
            context: VecDeque::new(),
            said_lengths: Vec::new(),
            decodes: 0,
            translate_speech: false,
            to_translate: VecDeque::new(),
            segments_done: 0,
        }
    }

    /// Tells speech by the learned detector (see [`Segmenter::with_voice`]).
    pub fn with_voice(mut self, vad: SileroVad) -> Self {
        self.seg = self.seg.with_voice(vad);
        self.context_secs = self.seg.cfg.vad_context;
        self.window_pad = Some(self.seg.cfg.vad_window_pad);
        self
    }

    /// Whether the learned detector tells speech.
    pub fn learned(&self) -> bool {
        self.seg.learned()
    }

    pub fn push(&mut self, samples: &[f32]) {
        self.seg.push(samples);
    }

    pub fn finish(&mut self) {
        self.seg.finish();
    }

    pub fn in_speech(&self) -> bool {
        self.seg.in_speech()
    }

    fn options(&self, partial: bool) -> TranscribeOptions {
        let mut o = self.opts.clone();
        o.language = self.language.clone();
        o.condition_on_previous_text = false;
        o.short_window_pad = self.window_pad;
        if partial {
            o.word_timestamps = false;
        }
        // The text before the audio heard again as context.
        let heard_again: usize = self
            .said_lengths
            .iter()
            .rev()
            .take(self.context.len())
            .sum();
        let mut cut = self.said.len().saturating_sub(heard_again);
        while !self.said.is_char_boundary(cut) {
            cut -= 1;
        }
        let before = &self.said[..cut];
        let tail: String = {
            let chars: Vec<char> = before.chars().collect();
            chars[chars.len().saturating_sub(200)..].iter().collect()
        };
        o.initial_prompt = match (&self.opts.initial_prompt, tail.trim().is_empty()) {
            (_, false) => Some(tail.trim().to_string()),
            (p, true) => p.clone(),
        };
        if partial {
            // A partial is a glimpse: one pass, greedy, no fallback.
            o.temperatures.truncate(1);
            o.beam_size = None;
        }
        o
    }

    /// Decodes `audio` (16 kHz) after the context — the last utterances'
    /// audio, a short quiet gap after each, their words given to the
    /// decoder as already said ([`Transcriber::transcribe_continuing`]) —
    /// so the model hears it as it would in a file; times from `audio`'s
    /// start. Without context (or when it does not fit one window),
    /// `audio` alone.
    fn decode(
        &mut self,
        t: &Transcriber,
        audio: &[f32],
        opts: &TranscribeOptions,
        cancel: &CancelToken,
    ) -> Result<super::decode::Transcript, TaskError> {
        const GAP: usize = 16000 * 3 / 10;
        self.decodes += 1;
        if !self.context.is_empty() {
            let mut input: Vec<f32> = Vec::new();
            let mut heard = Vec::new();
            for (a, tokens) in &self.context {
                let start = input.len() as f64 / 16000.0;
                input.extend_from_slice(a);
                heard.push((start, input.len() as f64 / 16000.0, tokens.clone()));
                input.extend(std::iter::repeat_n(0.0, GAP));
            }
            let offset = input.len() as f64 / 16000.0;
            input.extend_from_slice(audio);
            if let Some(mut out) = t.transcribe_continuing(&input, &heard, opts, cancel)? {
                for s in &mut out.segments {
                    s.start = (s.start - offset).max(0.0);
                    s.end = (s.end - offset).max(s.start);
                    for w in &mut s.words {
                        w.start = (w.start - offset).max(0.0);
                        w.end = (w.end - offset).max(w.start);
                    }
                }
                return Ok(out);
            }
        }
        t.transcribe(audio, opts, cancel, &mut |_, _| {})
    }

    /// Remembers a final utterance (its audio and text tokens) as
    /// context for the next ones.
    fn remember(&mut self, audio: Vec<f32>, tokens: Vec<u32>) {
        self.context.push_back((audio, tokens));
        let limit = (self.context_secs.max(0.0) * 16000.0) as usize;
        while self.context.iter().map(|(a, _)| a.len()).sum::<usize>() > limit {
            self.context.pop_front();
        }
    }

    /// Whisper's translate task over one final segment's audio, alone
    /// (the context is in the spoken language), greedy.
    fn translate_segment(
        &mut self,
        t: &Transcriber,
        job: SpeechToTranslate,
        cancel: &CancelToken,
    ) -> Result<Option<LiveEvent>, TaskError> {
        let mut o = self.options(true);
        o.task = super::decode::Task::Translate;
        o.language = Some(job.language);
        o.initial_prompt = None;
        self.decodes += 1;
        let out = t.transcribe(&job.audio, &o, cancel, &mut |_, _| {})?;
        Ok(Some(LiveEvent::Translated {
            index: job.index,
            text: out.text.trim().to_string(),
            seconds: job.since.elapsed().as_secs_f64(),
            span: job.span,
        }))
    }

    /// Decodes the most urgent pending work, if there is any.
    pub fn step(
        &mut self,
        t: &Transcriber,
        cancel: &CancelToken,
    ) -> Result<Option<LiveEvent>, TaskError> {
        if !self.seg.has_final()
            && let Some(job) = self.to_translate.pop_front()
        {
            return self.translate_segment(t, job, cancel);
        }
        let Some(work) = self.seg.next_work() else {
            return Ok(None);
        };
        match work {
            Work::Partial { samples, start } => {
                let opts = self.options(true);
                let audio = crate::audio::resample::resample(&samples, self.rate, 16000);
                let out = self.decode(t, &audio, &opts, cancel)?;
                let clean = out.segments.iter().all(|s| {
                    s.avg_logprob >= opts.logprob_threshold
                        && s.compression_ratio <= opts.compression_ratio_threshold
                }) && opts.beam_size == self.opts.beam_size;
                let text = out.text.clone();
                let ends_sentence = text
                    .trim_end()
                    .ends_with(['.', '?', '!', '。', '？', '！', '…']);
                self.seg.partial_decoded(start, clean && ends_sentence);
                self.last_partial = Some((start, out.segments, clean));
                Ok(Some(LiveEvent::Partial { text, start }))
            }
            Work::Final {
                samples,
                start,
                fresh,
                speech_end,
            } => {
                // Nothing was said after the last partial: its text is final.
                let reuse = match self.last_partial.take() {
                    Some((s, segs, true)) if s == start && !fresh && !segs.is_empty() => Some(segs),
                    _ => None,
                };
                let audio = crate::audio::resample::resample(&samples, self.rate, 16000);
                let mut segments = match reuse {
                    Some(segs) => segs,
                    None => {
                        let opts = self.options(false);
                        let out = self.decode(t, &audio, &opts, cancel)?;
                        if self.language.is_none() {
                            self.language = Some(out.language.clone());
                        }
                        out.segments
                    }
                };
                let language = self.language.clone().unwrap_or_else(|| "en".into());
                if self.translate_speech && language != "en" && t.is_multilingual() {
                    for (i, s) in segments.iter().enumerate() {
                        // The segment's audio, a little quiet either side.
                        let from = ((s.start - 0.1).max(0.0) * 16000.0) as usize;
                        let to = (((s.end + 0.2) * 16000.0) as usize).min(audio.len());
                        if from < to {
                            self.to_translate.push_back(SpeechToTranslate {
                                index: self.segments_done + i,
                                audio: audio[from..to].to_vec(),
                                span: (start + from as f64 / 16000.0, start + to as f64 / 16000.0),
                                language: language.clone(),
                                since: std::time::Instant::now(),
                            });
                        }
                    }
                }
                self.segments_done += segments.len();
                let tokens: Vec<u32> = segments.iter().flat_map(|s| s.tokens.clone()).collect();
                if !segments.is_empty() {
                    self.remember(audio, tokens);
                }
                for s in &mut segments {
                    s.start += start;
                    s.end += start;
                }
                let before = self.said.len();
                for s in &segments {
                    if !self.said.is_empty() {
                        self.said.push(' ');
                    }
                    self.said.push_str(&s.text);
                }
                if !segments.is_empty() {
                    self.said_lengths.push(self.said.len() - before);
                }
                // How much audio has come in since the speech ended: the
                // line's delay, on the recording's own clock.
                let behind = (self.seg.heard() - speech_end).max(0.0);
                Ok(Some(LiveEvent::Final {
                    segments,
                    language,
                    behind,
                }))
            }
        }
    }
}

/// Live dictation at `rate` with the learned voice-activity detector when
/// its model is found ([`super::silero::find_model`]), else with the
/// energy threshold. The note says in words why a model that is there
/// could not be used.
pub fn with_best_detector(
    rate: u32,
    opts: TranscribeOptions,
    cfg: LiveConfig,
) -> (LiveDictation, Option<String>) {
    let live = LiveDictation::new(rate, opts, cfg);
    let Some(path) = super::silero::find_model() else {
        return (live, None);
    };
    match SileroVad::load(&path) {
        Ok(vad) => (live.with_voice(vad), None),
        Err(e) => (
            live,
            Some(format!(
                "The voice-activity model could not be used, so pauses are told by loudness: {e}"
            )),
        ),
    }
}

/// The live loop: takes chunks from `rx` until the sender hangs up, `take`
/// says the stream ended (it turns a chunk into 16 kHz samples, or `None`
/// for an end such as a device failure), or `cancel` fires, decoding as it
/// goes. All audio that has arrived is taken in before deciding what to
/// decode next, so a slow decode is followed by the newest partial, not a
/// backlog of stale ones. When the stream ends, what was being said is
/// finalised.
pub fn run_live<C>(
    rx: &Receiver<C>,
    take: &mut dyn FnMut(C) -> Option<Vec<f32>>,
    live: &mut LiveDictation,
    t: &Transcriber,
    cancel: &CancelToken,
    on_event: &mut dyn FnMut(LiveEvent),
) -> Result<(), TaskError> {
    let mut closed = false;
    loop {
        let mut feed = |c: C, closed: &mut bool| match take(c) {
            Some(samples) => live.push(&samples),
            None => *closed = true,
        };
        if !closed {
            match rx.recv_timeout(Duration::from_millis(30)) {
                Ok(c) => feed(c, &mut closed),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => closed = true,
            }
        }
        while !closed {
            match rx.try_recv() {
                Ok(c) => feed(c, &mut closed),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => closed = true,
            }
        }
        if cancel.is_cancelled() {
            return Ok(());
        }
        if closed {
            live.finish();
            while let Some(ev) = live.step(t, cancel)? {
                on_event(ev);
            }
            return Ok(());
        }
        if let Some(ev) = live.step(t, cancel)? {
            on_event(ev);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 48000;

    /// White noise at `amp` (a stand-in for a voice) or silence.
    fn sound(secs: f32, amp: f32, seed: &mut u64) -> Vec<f32> {
        (0..(secs * RATE as f32) as usize)
            .map(|_| {
                *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                ((*seed >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 2.0 * amp
            })
            .collect()
    }

    /// Feeds `audio` in 100 ms chunks and takes all work after each, as an
    /// instant decoder would: (stream time, work).
    fn run(seg: &mut Segmenter, audio: &[f32]) -> Vec<(f64, Work)> {
        let mut out = Vec::new();
        let mut fed = 0;
        for c in audio.chunks(RATE as usize / 10) {
            seg.push(c);
            fed += c.len();
            while let Some(w) = seg.next_work() {
                out.push((fed as f64 / RATE as f64, w));
            }
        }
        seg.finish();
        while let Some(w) = seg.next_work() {
            out.push((fed as f64 / RATE as f64, w));
        }
        out
    }

    fn describe(w: &[(f64, Work)]) -> Vec<(f64, &'static str, f64, f64)> {
        w.iter()
            .map(|(t, w)| match w {
                Work::Partial { samples, start } => {
                    (*t, "partial", *start, samples.len() as f64 / RATE as f64)
                }
                Work::Final { samples, start, .. } => {
                    (*t, "final", *start, samples.len() as f64 / RATE as f64)
                }
            })
            .collect()
    }

    #[test]
    fn partials_each_second_and_a_final_at_each_pause() {
        let mut seed = 7;
        let mut audio = sound(0.5, 0.0, &mut seed);
        audio.extend(sound(2.5, 0.1, &mut seed));
        audio.extend(sound(1.0, 0.0, &mut seed));
        audio.extend(sound(1.5, 0.1, &mut seed));
        audio.extend(sound(0.3, 0.0, &mut seed));
        let mut seg = Segmenter::new(RATE, LiveConfig::default());
        let got = describe(&run(&mut seg, &audio));
        let kinds: Vec<_> = got.iter().map(|g| g.1).collect();
        assert_eq!(
            kinds,
            [
                "partial", "partial", "partial", "final", "partial", "partial", "final"
            ],
            "{got:?}"
        );
        let near = |a: f64, b: f64| (a - b).abs() < 0.06;
        // Partials a second apart while speaking, and one 0.2 s into each
        // quiet, in case it is the end.
        assert!(near(got[0].0, 1.5) && near(got[1].0, 2.5), "{got:?}");
        assert!(near(got[2].0, 3.2), "{got:?}");
        // The first utterance ends 0.6 s into the pause, with 0.3 s before
        // and 0.2 s after the voice.
        assert!(near(got[3].0, 3.6) && near(got[3].2, 0.2), "{got:?}");
        assert!(near(got[3].3, 0.3 + 2.5 + 0.2), "{got:?}");
        // The second one starts 0.3 s before its voice; stopping keeps it.
        assert!(near(got[6].2, 3.7) && near(got[6].0, 5.8), "{got:?}");
    }

    #[test]
    fn quiet_clicks_and_room_noise_are_not_decoded() {
        let mut seed = 11;
        let mut audio = sound(2.0, 0.002, &mut seed); // about -60 dBFS
        let click = sound(0.04, 0.5, &mut seed);
        audio.extend(&click);
        audio.extend(sound(3.0, 0.002, &mut seed));
        let mut seg = Segmenter::new(RATE, LiveConfig::default());
        assert!(run(&mut seg, &audio).is_empty());
        // A voice over the same room noise is heard.
        let mut audio = sound(2.0, 0.002, &mut seed);
        let voice: Vec<f32> = sound(1.5, 0.1, &mut seed);
        audio.extend(&voice);
        audio.extend(sound(1.0, 0.002, &mut seed));
        let mut seg = Segmenter::new(RATE, LiveConfig::default());
        let got = describe(&run(&mut seg, &audio));
        assert_eq!(got.iter().filter(|g| g.1 == "final").count(), 1, "{got:?}");
    }

    #[test]
    fn a_final_reuses_the_partial_only_when_nothing_was_said_after_it() {
        let mut seed = 3;
        let mut audio = sound(0.5, 0.0, &mut seed);
        audio.extend(sound(1.0, 0.1, &mut seed));
        audio.extend(sound(1.0, 0.0, &mut seed));
        let mut seg = Segmenter::new(RATE, LiveConfig::default());
        let got = run(&mut seg, &audio);
        assert!(
            matches!(got[0].1, Work::Partial { .. }),
            "{:?}",
            describe(&got)
        );
        assert!(matches!(got[1].1, Work::Final { fresh: false, .. }));
        // Speech after the partial, then a pause: the early partial in the
        // quiet covers it.
        let mut audio = sound(0.5, 0.0, &mut seed);
        audio.extend(sound(1.3, 0.1, &mut seed));
        audio.extend(sound(1.0, 0.0, &mut seed));
        let mut seg = Segmenter::new(RATE, LiveConfig::default());
        let got = run(&mut seg, &audio);
        assert!(matches!(got[1].1, Work::Partial { .. }));
        assert!(matches!(got[2].1, Work::Final { fresh: false, .. }));
        // Stopped while speaking: the last words are not in any partial.
        let audio = sound(1.8, 0.1, &mut seed);
        let mut seg = Segmenter::new(RATE, LiveConfig::default());
        let got = run(&mut seg, &audio);
        assert!(matches!(
            got.last().unwrap().1,
            Work::Final { fresh: true, .. }
        ));
    }

    #[test]
    fn a_long_utterance_is_cut_before_whisper_s_window_fills() {
        let mut seed = 5;
        let audio = sound(32.0, 0.1, &mut seed);
        let mut seg = Segmenter::new(
            RATE,
            LiveConfig {
                partial_every: 100.0,
                ..Default::default()
            },
        );
        let got = describe(&run(&mut seg, &audio));
        assert_eq!(got.len(), 2, "{got:?}");
        assert!((got[0].3 - 25.0).abs() < 0.05 && (got[1].2 - 25.0).abs() < 0.05);
        assert!((got[1].3 - 7.0).abs() < 0.05, "{got:?}");
    }

    #[test]
    fn when_decoding_lags_only_the_newest_partial_is_decoded() {
        let mut seed = 9;
        let audio = sound(3.5, 0.1, &mut seed);
        let mut seg = Segmenter::new(RATE, LiveConfig::default());
        seg.push(&audio);
        let w = seg.next_work();
        assert!(
            matches!(&w, Some(Work::Partial { samples, .. }) if samples.len() >= 3 * RATE as usize)
        );
        assert!(seg.next_work().is_none());
    }
}
