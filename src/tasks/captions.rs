//! Live captions: what is said, transcribed as it is spoken
//! ([`super::transcribe::live`]), then translated — the translation
//! stage of that chain and the captions it makes.
//!
//! Each final utterance becomes a [`Cue`] (its time, the original, and
//! the translation once it comes). The translation runs on its own
//! `spaceport-captions-translate` thread ([`TranslationStage`]) so the
//! transcription never waits for it: finals are translated in order, and
//! between them only the newest partial (a partial that a newer one
//! replaced before the stage got to it is never translated, so the stage
//! never falls behind the speaker). Each stage's latency is measured:
//! speech end → transcript, transcript → translation. Cues are written
//! as bilingual SRT and WebVTT (the original, then the translation, in
//! each cue) and JSON by [`render_cues`].

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use super::TaskError;
use super::transcribe::formats::{Format, stamp};
use super::transcribe::timing::Word;
use super::translate::{TranslateOptions, Translator};
use crate::work::CancelToken;

/// One caption: an utterance and its translation.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Cue {
    /// Seconds from the start of the session.
    pub start: f64,
    pub end: f64,
    pub original: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<Word>,
    /// Seconds from the end of the speech to the transcript.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript_latency: Option<f64>,
    /// Seconds from the transcript to its translation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub translation_latency: Option<f64>,
}

/// What the translation stage gives back.
#[derive(Clone, Debug, PartialEq)]
pub enum Translated {
    /// The translation of final `index`, `latency` seconds after it was
    /// handed over.
    Final {
        index: usize,
        text: String,
        latency: f64,
    },
    /// The translation of partial `seq` (the newest handed over then).
    Partial { seq: u64, text: String },
    /// Why a text could not be translated.
    Failed { index: Option<usize>, error: String },
}

/// The models a text goes through in turn (two for a pivot through
/// English), each with its options.
pub type Steps = Vec<(Translator, TranslateOptions)>;

/// Translates `text` through `steps`.
pub fn translate_through(
    steps: &Steps,
    text: &str,
    cancel: &CancelToken,
) -> Result<String, TaskError> {
    let mut text = text.to_string();
    for (t, opts) in steps {
        text = t.translate(&text, opts, cancel, &mut |_| {})?.text;
    }
    Ok(text)
}

#[derive(Default)]
struct Pending {
    finals: VecDeque<(usize, String, Instant)>,
    partial: Option<(u64, String)>,
    closed: bool,
}

/// The translation stage's thread and its inbox.
pub struct TranslationStage {
    inbox: Arc<(Mutex<Pending>, Condvar)>,
    cancel: CancelToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TranslationStage {
    /// Starts the stage on `steps`; `out` sees each result (on the
    /// stage's thread).
    pub fn start(
        steps: Steps,
        mut out: impl FnMut(Translated) + Send + 'static,
    ) -> std::io::Result<Self> {
        let inbox: Arc<(Mutex<Pending>, Condvar)> = Arc::default();
        let cancel = CancelToken::new();
        let (inbox2, cancel2) = (inbox.clone(), cancel.clone());
        let thread = crate::work::spawn_named("spaceport-captions-translate", move || {
            loop {
                let next = {
                    let (lock, ready) = &*inbox2;
                    let mut p = lock.lock().unwrap_or_else(|e| e.into_inner());
                    loop {
                        if cancel2.is_cancelled() {
                            return;
                        }
                        if let Some(f) = p.finals.pop_front() {
                            break Ok(f);
                        }
                        if let Some(partial) = p.partial.take() {
                            break Err(partial);
                        }
                        if p.closed {
                            return;
                        }
                        p = ready.wait(p).unwrap_or_else(|e| e.into_inner());
                    }
                };
                match next {
                    Ok((index, text, handed)) => {
                        out(match translate_through(&steps, &text, &cancel2) {
                            Ok(text) => Translated::Final {
                                index,
                                text,
                                latency: handed.elapsed().as_secs_f64(),
                            },
                            Err(e) => Translated::Failed {
                                index: Some(index),
                                error: e.to_string(),
                            },
                        })
                    }
                    Err((seq, text)) => {
                        // A partial whose translation fails is simply not
                        // shown; the final says what went wrong.
                        if let Ok(text) = translate_through(&steps, &text, &cancel2) {
                            out(Translated::Partial { seq, text });
                        }
                    }
                }
            }
        })?;
        Ok(Self {
            inbox,
            cancel,
            thread: Some(thread),
        })
    }

    fn with(&self, f: impl FnOnce(&mut Pending)) {
        let (lock, ready) = &*self.inbox;
        f(&mut lock.lock().unwrap_or_else(|e| e.into_inner()));
        ready.notify_one();
    }

    /// Hands over final `index`; the partial waiting (older) is dropped.
    pub fn final_text(&self, index: usize, text: &str) {
        let text = text.to_string();
        self.with(|p| {
            p.partial = None;
            p.finals.push_back((index, text, Instant::now()));
        });
    }

    /// Hands over partial `seq`, replacing one not yet taken.
    pub fn partial(&self, seq: u64, text: &str) {
        let text = text.to_string();
        self.with(|p| p.partial = Some((seq, text)));
    }

    /// Translates what is handed over, then ends.
    pub fn finish(mut self) {
        self.with(|p| {
            p.closed = true;
            p.partial = None;
        });
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TranslationStage {
    /// Dropped without [`Self::finish`]: stops at once.
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.cancel.cancel();
            self.with(|p| p.closed = true);
        }
    }
}

/// The cue's lines: the original, then the translation when there is one.
fn lines(c: &Cue) -> String {
    match c.translation.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(t) => format!("{}\n{}", c.original.trim(), t.trim()),
        None => c.original.trim().to_string(),
    }
}

/// A captions session as a file: bilingual SRT or WebVTT (the original,
/// then the translation, in each cue), JSON (every cue with its words and
/// latencies), or text (original and translation a line, tab between).
pub fn render_cues(cues: &[Cue], format: Format) -> String {
    match format {
        Format::Txt => cues
            .iter()
            .map(|c| match &c.translation {
                Some(t) => format!("{}\t{}\n", c.original.trim(), t.trim()),
                None => format!("{}\n", c.original.trim()),
            })
            .collect(),
        Format::Srt => cues
            .iter()
            .enumerate()
            .map(|(i, c)| {
                format!(
                    "{}\n{} --> {}\n{}\n\n",
                    i + 1,
                    stamp(c.start, ','),
                    stamp(c.end, ','),
                    lines(c)
                )
            })
            .collect(),
        Format::Vtt => {
            let mut s = String::from("WEBVTT\n\n");
            for c in cues {
                s.push_str(&format!(
                    "{} --> {}\n{}\n\n",
                    stamp(c.start, '.'),
                    stamp(c.end, '.'),
                    lines(c)
                ));
            }
            s
        }
        Format::Json => serde_json::to_string_pretty(cues).unwrap_or_default() + "\n",
    }
}

/// Median and worst of `values` (seconds); `None` when empty.
pub fn median_and_worst(values: &[f64]) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some((median, v[n - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilingual_files_have_both_lines_in_each_cue() {
        let cues = vec![
            Cue {
                start: 1.0,
                end: 2.5,
                original: "Good morning.".into(),
                translation: Some("Guten Morgen.".into()),
                ..Default::default()
            },
            Cue {
                start: 3.0,
                end: 4.0,
                original: "Thanks.".into(),
                ..Default::default()
            },
        ];
        assert_eq!(
            render_cues(&cues, Format::Srt),
            "1\n00:00:01,000 --> 00:00:02,500\nGood morning.\nGuten Morgen.\n\n\
             2\n00:00:03,000 --> 00:00:04,000\nThanks.\n\n"
        );
        let vtt = render_cues(&cues, Format::Vtt);
        assert!(vtt.starts_with(
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nGood morning.\nGuten Morgen.\n"
        ));
        assert_eq!(
            render_cues(&cues, Format::Txt),
            "Good morning.\tGuten Morgen.\nThanks.\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render_cues(&cues, Format::Json)).unwrap();
        assert_eq!(json[0]["translation"], "Guten Morgen.");
        assert!(json[1].get("translation").is_none());
    }

    #[test]
    fn medians_and_worst() {
        assert_eq!(median_and_worst(&[0.3, 0.1, 0.2]), Some((0.2, 0.3)));
        assert_eq!(
            median_and_worst(&[0.4, 0.2]),
            Some((0.30000000000000004, 0.4))
        );
        assert_eq!(median_and_worst(&[]), None);
    }
}
