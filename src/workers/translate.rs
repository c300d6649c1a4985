//! Translation jobs: the `spaceport-translate` thread keeps the loaded
//! Marian models (up to two, so a pivot pair through English stays
//! loaded) and serves the newest job; typing replaces the running one.

use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use super::{Event, ModelThread, Sink, newest_job};
use crate::tasks::device::{self, ComputeType, DeviceChoice};
use crate::tasks::translate::{TranslateOptions, Translator};
use crate::work::CancelToken;

/// One translation request: the text through each step in turn (two
/// steps when pivoting through English).
#[derive(Clone, Debug)]
pub struct TranslateJob {
    pub generation: u64,
    pub steps: Vec<TranslateStep>,
    pub text: String,
    pub device: DeviceChoice,
    /// The number format the model computes in.
    pub compute: crate::tasks::device::ComputeType,
}

/// One model folder and how to use it.
#[derive(Clone, Debug)]
pub struct TranslateStep {
    pub model: PathBuf,
    pub options: TranslateOptions,
}

/// Queues a translation on the model thread (started on first use).
pub(crate) fn submit(thread: &mut ModelThread<TranslateJob>, job: TranslateJob, sink: &Sink) {
    let (generation, sink2) = (job.generation, sink.clone());
    if !thread.submit(job, move |rx| translate_loop(rx, sink2)) {
        sink.send(Event::TranslationFailed {
            generation,
            error: "Spaceport could not start translating; try again.".into(),
        });
    }
}

/// The translation thread: keeps the loaded models (one per folder, so a
/// pivot pair stays loaded) and serves jobs, always the newest first.
fn translate_loop(rx: Receiver<(TranslateJob, CancelToken)>, sink: Sink) {
    let mut loaded: Vec<(PathBuf, (DeviceChoice, ComputeType), Translator)> = Vec::new();
    // Where the loaded models run.
    let mut device_name = String::from("CPU");
    while let Some((job, cancel)) = newest_job(&rx) {
        let mut text = job.text.clone();
        let mut result = Ok(());
        for (i, step) in job.steps.iter().enumerate() {
            let dir = &step.model;
            let how = (job.device, job.compute);
            if !loaded.iter().any(|(d, c, _)| d == dir && *c == how) {
                sink.send(Event::TranslationLoading {
                    generation: job.generation,
                    model: dir.clone(),
                });
                match device::load_on(job.device, job.compute, |p| Translator::load_placed(dir, p))
                {
                    Ok((t, used)) => {
                        sink.device_used(&used);
                        device_name = t.model.weight_format().on(&used.describe());
                        loaded.retain(|(_, c, _)| *c == how);
                        if loaded.len() >= 2 {
                            loaded.remove(0);
                        }
                        loaded.push((dir.clone(), how, t));
                    }
                    Err(e) => {
                        result = Err(e.to_string());
                        break;
                    }
                }
            }
            let Some((_, _, t)) = loaded.iter().find(|(d, c, _)| d == dir && *c == how) else {
                break;
            };
            let last = i + 1 == job.steps.len();
            let mut partial = |p: &str| {
                if last {
                    sink.send(Event::TranslationPartial {
                        generation: job.generation,
                        text: p.to_string(),
                    });
                }
            };
            match t.translate(&text, &step.options, &cancel, &mut partial) {
                Ok(out) => text = out.text,
                Err(e) => {
                    result = Err(e.to_string());
                    break;
                }
            }
        }
        sink.send(match result {
            Ok(()) => Event::TranslationDone {
                generation: job.generation,
                text,
                device: device_name.clone(),
            },
            // A cancelled job was replaced or stopped on purpose.
            Err(_) if cancel.is_cancelled() => continue,
            Err(error) => Event::TranslationFailed {
                generation: job.generation,
                error,
            },
        });
    }
}
