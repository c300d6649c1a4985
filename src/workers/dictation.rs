//! Dictation: one `spaceport-dictation` thread per dictation owns its
//! [`Recorder`] (16 kHz chunks over a bounded channel), loads the Whisper
//! model through the shared [`WhisperCache`], and runs live dictation
//! (`tasks::transcribe::live`) on the chunks as they come, reporting the
//! level, partial and final text. Whatever ends it — Stop, the microphone
//! failing, the model failing — the recorder is stopped here and exactly
//! one [`Event::DictationDone`] is sent.

use std::path::PathBuf;

use super::transcribe::WhisperCache;
use super::{Event, Sink};
use crate::audio::recorder::{RATE_HZ, Recorded, Recorder};
use crate::tasks::device::DeviceChoice;
use crate::tasks::transcribe::decode::TranscribeOptions;
use crate::tasks::transcribe::live::{LiveConfig, LiveDictation, LiveEvent, run_live};
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
    sink.send(Event::LiveReady { generation });
    let mut live = LiveDictation::new(RATE_HZ, job.options.clone(), LiveConfig::default());
    let (mut note, mut lost) = (None, 0);
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
        &mut |ev| {
            sink.send(match ev {
                LiveEvent::Partial { text, .. } => Event::LivePartial { generation, text },
                LiveEvent::Final { segments, .. } => Event::LiveFinal {
                    generation,
                    segments,
                },
            });
        },
    );
    recorder.stop();
    if note.is_none() && lost > 0 {
        note = Some(format!(
            "{lost} samples were lost because the computer fell behind."
        ));
    }
    let language = live.language.clone().unwrap_or_else(|| "en".into());
    (language, result.err().map(|e| e.to_string()), note)
}
