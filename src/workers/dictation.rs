//! Dictation: one `spaceport-dictation` thread per dictation owns its
//! [`Recorder`] (16 kHz chunks over a bounded channel), loads the Whisper
//! model through the shared [`WhisperCache`], and runs live dictation
//! (`tasks::transcribe::live`) on the chunks as they come, reporting the
//! level, partial and final text; for live captions it also translates
//! each line on the caption translation stage (`tasks::captions`). Whatever ends it — Stop, the microphone
//! failing, the model failing — the recorder is stopped here and exactly
//! one [`Event::DictationDone`] is sent.

use std::path::PathBuf;

use super::transcribe::WhisperCache;
use super::{Event, Sink};
use crate::audio::recorder::{RATE_HZ, Recorded, Recorder};
use crate::tasks::captions::{Translated, TranslationStage};
use crate::tasks::device::DeviceChoice;
use crate::tasks::transcribe::decode::TranscribeOptions;
use crate::tasks::transcribe::live::{LiveConfig, LiveEvent, run_live, with_best_detector};
use crate::tasks::translate::{TranslateOptions, Translator};
use crate::work::CancelToken;

/// One dictation: the microphone, the model and how to decode.
#[derive(Clone, Debug)]
pub struct DictationJob {
    pub generation: u64,
    /// The input device's name; `None` for the system's default.
    pub input: Option<String>,
    pub model: PathBuf,
    pub options: TranscribeOptions,
    pub device: DeviceChoice,
    /// The number format the model computes in.
    pub compute: crate::tasks::device::ComputeType,
    /// Live captions: translate each line into this language, with the
    /// downloaded translation models `installed` (routed once the spoken
    /// language is known).
    pub translate_to: Option<String>,
    pub installed: Vec<crate::tasks::translate::route::InstalledModel>,
    /// Into English by Whisper's own translate task (when the model is
    /// multilingual and the language spoken is not English).
    pub whisper_translate: bool,
}

/// The dictation running, if any: cancelling its token stops it, and the
/// thread cancels it itself when it ends.
#[derive(Default)]
pub(crate) struct Dictations {
    running: Option<CancelToken>,
}

impl Dictations {
    /// Starts `job` unless a dictation is running.
    pub(crate) fn start(&mut self, job: DictationJob, whisper: &WhisperCache, sink: &Sink) {
        if self.running.as_ref().is_some_and(|r| !r.is_cancelled()) {
            return;
        }
        let stop = CancelToken::new();
        self.running = Some(stop.clone());
        let (cache, sink2) = (whisper.clone(), sink.clone());
        super::job("spaceport-dictation", sink, move || {
            let generation = job.generation;
            let (language, error, note) = dictate(&job, &stop, &cache, &sink2);
            stop.cancel();
            sink2.send(Event::DictationDone {
                generation,
                language,
                error,
                note,
            });
        });
    }

    /// Ends the running dictation (what was being said is finalised).
    pub(crate) fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.cancel();
        }
    }
}

/// The live translation of a dictation: not started until the spoken
/// language is known, then running, or impossible (said once).
enum Translation {
    Waiting,
    Running(TranslationStage),
    /// Whisper's translate task gives the English
    /// ([`LiveEvent::Translated`]).
    Whisper,
    Off,
}

/// Routes `from` → `to` over the downloaded models, loads them and starts
/// the translation stage, whose results go to the page as events; what
/// is missing is said in words.
fn start_translation(job: &DictationJob, from: &str, to: &str, sink: &Sink) -> Translation {
    let generation = job.generation;
    let fail = |error: String| {
        sink.send(Event::LiveTranslateFailed { generation, error });
        Translation::Off
    };
    if from == to {
        return Translation::Off;
    }
    let route = crate::tasks::translate::route::route(&job.installed, from, to);
    let Some(steps) = route.steps() else {
        let name = crate::catalog::language_name;
        return fail(match route {
            crate::tasks::translate::route::Route::Get { repo, .. } => format!(
                "No downloaded model translates {} into {}: download {repo} (Hub page).",
                name(from),
                name(to)
            ),
            _ => "No translation model for these languages.".into(),
        });
    };
    let mut loaded = Vec::new();
    for p in steps {
        let opts = TranslateOptions {
            target: p.code.clone(),
            ..Default::default()
        };
        match crate::tasks::device::load_on(job.device, job.compute, |place| {
            Translator::load_placed(&p.dir, place)
        }) {
            Ok((t, _)) => loaded.push((t, opts)),
            Err(e) => return fail(e.to_string()),
        }
    }
    let sink2 = sink.clone();
    match TranslationStage::start(loaded, move |done| {
        sink2.send(match done {
            Translated::Final {
                index,
                text,
                latency,
            } => Event::LiveTranslated {
                generation,
                index,
                text,
                latency,
            },
            Translated::Partial { text, .. } => Event::LivePartialTranslated { generation, text },
            Translated::Failed { error, .. } => Event::LiveTranslateFailed { generation, error },
        });
    }) {
        Ok(stage) => Translation::Running(stage),
        Err(e) => fail(format!("Translating could not start: {e}.")),
    }
}

/// Records and decodes until `stop` fires or something fails; returns the
/// language, the error that ended it, and a note on the recording.
fn dictate(
    job: &DictationJob,
    stop: &CancelToken,
    cache: &WhisperCache,
    sink: &Sink,
) -> (String, Option<String>, Option<String>) {
    let generation = job.generation;
    // The microphone first: without one there is nothing to load a model for.
    let recorder = match Recorder::start_with(job.input.as_deref(), stop.clone()) {
        Ok(r) => r,
        Err(e) => return (String::new(), Some(e.to_string()), None),
    };
    let t = match cache.get(&job.model, job.device, job.compute, sink, || {
        sink.send(Event::TranscriptionLoading { generation });
    }) {
        Ok(t) => t,
        // Dropping the recorder releases the microphone.
        Err(e) => return (String::new(), Some(e), None),
    };
    let (mut live, vad_note) =
        with_best_detector(RATE_HZ, job.options.clone(), LiveConfig::default());
    sink.send(Event::LiveReady {
        generation,
        learned_vad: live.learned(),
    });
    live.translate_speech =
        job.whisper_translate && job.translate_to.as_deref() == Some("en") && t.is_multilingual();
    let whisper_route = live.translate_speech;
    let mut translation = Translation::Waiting;
    let (mut finals, mut partials) = (0usize, 0u64);
    let (mut note, mut lost) = (vad_note, 0);
    let mut take = |r: Recorded| match r {
        Recorded::Audio(c) => {
            lost = c.lost;
            sink.send(Event::RecordingLevel {
                generation,
                dbfs: c.dbfs,
                seconds: c.seconds,
                overflow: c.lost,
            });
            Some(c.samples)
        }
        Recorded::Failed(e) => {
            note = Some(e.to_string());
            None
        }
    };
    let result = run_live(
        recorder.chunks(),
        &mut take,
        &mut live,
        &t,
        &CancelToken::new(),
        &mut |ev| match ev {
            LiveEvent::Partial { text, .. } => {
                if let Translation::Running(stage) = &translation {
                    partials += 1;
                    stage.partial(partials, &text);
                }
                sink.send(Event::LivePartial { generation, text });
            }
            LiveEvent::Final {
                segments,
                language,
                behind: latency,
            } => {
                if let (Some(to), Translation::Waiting) = (&job.translate_to, &translation) {
                    translation = if whisper_route && language != "en" {
                        Translation::Whisper
                    } else {
                        start_translation(job, &language, to, sink)
                    };
                }
                if let Translation::Running(stage) = &translation {
                    for (i, s) in segments.iter().enumerate() {
                        stage.final_text(finals + i, s.text.trim());
                    }
                }
                finals += segments.len();
                sink.send(Event::LiveFinal {
                    generation,
                    segments,
                    latency,
                });
            }
            LiveEvent::Translated {
                index,
                text,
                seconds,
                ..
            } => {
                sink.send(Event::LiveTranslated {
                    generation,
                    index,
                    text,
                    latency: seconds,
                });
            }
        },
    );
    recorder.stop();
    // What was handed over is still translated.
    if let Translation::Running(stage) = translation {
        stage.finish();
    }
    if note.is_none() && lost > 0 {
        note = Some(format!(
            "{lost} samples were lost because the computer fell behind."
        ));
    }
    let language = live.language.clone().unwrap_or_else(|| "en".into());
    (language, result.err().map(|e| e.to_string()), note)
}
