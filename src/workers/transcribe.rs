//! Transcription jobs: the `spaceport-transcribe` thread decodes an audio
//! file, transcribes it with the loaded Whisper model and streams each
//! segment; a new job cancels the running one. [`WhisperCache`] holds the
//! one loaded Whisper model that file transcription and dictation share.

use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, PoisonError};

use super::{Event, ModelThread, Sink, newest_job};
use crate::tasks::device::{self, ComputeType, DeviceChoice};
use crate::tasks::transcribe::Transcriber;
use crate::tasks::transcribe::decode::{Segment, TranscribeOptions};
use crate::work::CancelToken;

/// One transcription request.
#[derive(Clone, Debug)]
pub struct TranscribeJob {
    pub generation: u64,
    pub model: PathBuf,
    /// The audio file (or, with `audio`, the name its bytes go by).
    pub file: PathBuf,
    /// The file's bytes, when they are in memory (a dataset's audio cell).
    pub audio: Option<std::sync::Arc<Vec<u8>>>,
    pub options: TranscribeOptions,
    pub device: DeviceChoice,
    /// The number format the model computes in.
    pub compute: crate::tasks::device::ComputeType,
}

/// Queues a transcription on the model thread (started on first use).
pub(crate) fn submit(
    thread: &mut ModelThread<TranscribeJob>,
    job: TranscribeJob,
    whisper: &WhisperCache,
    sink: &Sink,
) {
    let (generation, sink2, cache) = (job.generation, sink.clone(), whisper.clone());
    if !thread.submit(job, move |rx| transcribe_loop(rx, cache, sink2)) {
        sink.send(Event::TranscriptionFailed {
            generation,
            error: "Spaceport could not start transcribing; try again.".into(),
        });
    }
}

/// The transcription thread: keeps the loaded Whisper model and serves
/// jobs, newest first; decodes the file, streams segments.
fn transcribe_loop(rx: Receiver<(TranscribeJob, CancelToken)>, cache: WhisperCache, sink: Sink) {
    while let Some((job, cancel)) = newest_job(&rx) {
        let fail = |error: String| Event::TranscriptionFailed {
            generation: job.generation,
            error,
        };
        let t = match cache.get(&job.model, job.device, job.compute, &sink, || {
            sink.send(Event::TranscriptionLoading {
                generation: job.generation,
            });
        }) {
            Ok(t) => t,
            Err(e) => {
                sink.send(fail(e));
                continue;
            }
        };
        let decoded = match &job.audio {
            Some(bytes) => crate::audio::decode::decode_bytes(
                bytes.as_ref().clone(),
                &job.file.display().to_string(),
                16000,
            ),
            None => crate::audio::decode::decode_file(&job.file, 16000),
        };
        let (samples, note) = match decoded {
            Ok(a) => {
                let note = a.damaged.then(|| {
                    format!(
                        "The file is damaged or ends early; this is the {:.1} s that could be read.",
                        a.duration_secs()
                    )
                });
                (a.samples, note)
            }
            Err(e) => {
                sink.send(fail(e.to_string()));
                continue;
            }
        };
        let mut on_segment = |seg: &Segment, progress: f32| {
            sink.send(Event::TranscriptionSegment {
                generation: job.generation,
                segment: seg.clone(),
                progress,
            });
        };
        match t.transcribe(&samples, &job.options, &cancel, &mut on_segment) {
            Ok(transcript) => {
                sink.send(Event::TranscriptionDone {
                    generation: job.generation,
                    transcript,
                    note,
                });
            }
            Err(_) if cancel.is_cancelled() => {}
            Err(e) => {
                sink.send(fail(e.to_string()));
            }
        }
    }
}

/// The loaded Whisper model, shared by the transcription and live
/// threads (one copy in memory).
#[derive(Clone, Default)]
pub(crate) struct WhisperCache(Arc<Mutex<Option<HeldWhisper>>>);

/// A loaded model: its folder, the device asked for, the model.
type HeldWhisper = (PathBuf, (DeviceChoice, ComputeType), Arc<Transcriber>);

impl WhisperCache {
    /// The model in `dir`, loaded (calling `loading` first) when it is not
    /// the one held.
    pub(crate) fn get(
        &self,
        dir: &std::path::Path,
        choice: DeviceChoice,
        compute: ComputeType,
        sink: &Sink,
        loading: impl FnOnce(),
    ) -> Result<Arc<Transcriber>, String> {
        // A panic while another thread held the lock leaves nothing
        // half-done worth refusing: the slot is replaced below anyway.
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((d, c, t)) = held.as_ref()
            && d == dir
            && *c == (choice, compute)
        {
            return Ok(t.clone());
        }
        loading();
        *held = None; // free the old model before loading the next
        let (t, used) = device::load_on(choice, compute, |p| Transcriber::load_placed(dir, p))
            .map_err(|e| e.to_string())?;
        sink.device_used(&used);
        let t = Arc::new(t);
        *held = Some((dir.to_path_buf(), (choice, compute), t.clone()));
        Ok(t)
    }
}
