//! A demo's input through several models, side by side, on a
//! `spaceport-compare` thread: the input decoded once (a recording, a
//! picture, or text), each chosen model loaded and run in turn, and each
//! output reported as it comes ([`Event::CompareOutput`]) with its time
//! and load time, then [`Event::CompareDone`].

use std::path::PathBuf;

use super::{Event, Sink};
use crate::catalog::Panel;
use crate::evaluate::{Input, Runner};
use crate::tasks::device::{self, DeviceChoice};
use crate::work::CancelToken;

/// What the demo's input is.
#[derive(Clone, Debug)]
pub enum DemoInput {
    /// Text and the language to translate into.
    Text { text: String, to: Option<String> },
    /// A picture file.
    Picture(PathBuf),
    /// An audio file.
    Audio(PathBuf),
}

/// One comparison: an input through each of `models` (repo, folder).
#[derive(Clone, Debug)]
pub struct CompareJob {
    pub generation: u64,
    pub panel: Panel,
    pub input: DemoInput,
    pub models: Vec<(String, PathBuf)>,
    pub device: DeviceChoice,
    /// The number format the model computes in.
    pub compute: crate::tasks::device::ComputeType,
}

/// One model's answer.
#[derive(Clone, Debug)]
pub struct CompareOutput {
    pub text: String,
    pub seconds: f64,
    pub load_seconds: f64,
}

/// Runs `job` on a `spaceport-compare` thread (one at a time).
pub(crate) fn start(comparisons: &mut super::Solo, job: CompareJob, sink: &Sink) {
    let sink2 = sink.clone();
    comparisons.start("spaceport-compare", sink, move |cancel| {
        run(job, &cancel, &sink2)
    });
}

/// The decoded input.
enum Decoded {
    Audio(Vec<f32>),
    Picture(crate::tasks::caption::image::Rgb),
    Text(String, Option<String>),
}

fn decode(input: &DemoInput) -> Result<Decoded, String> {
    Ok(match input {
        DemoInput::Text { text, to } => Decoded::Text(text.clone(), to.clone()),
        DemoInput::Audio(path) => Decoded::Audio(
            crate::audio::decode::decode_file(path, 16_000)
                .map_err(|e| e.to_string())?
                .samples,
        ),
        DemoInput::Picture(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("{} could not be read: {e}.", path.display()))?;
            Decoded::Picture(
                crate::tasks::caption::image::decode(&bytes, &path.display().to_string())
                    .map_err(|e| e.to_string())?,
            )
        }
    })
}

fn run(job: CompareJob, cancel: &CancelToken, sink: &Sink) {
    let generation = job.generation;
    let panel = job.panel;
    let send = |index: usize, result: Result<CompareOutput, String>| {
        sink.send(Event::CompareOutput {
            panel,
            generation,
            index,
            result,
        });
    };
    match decode(&job.input) {
        Err(e) => {
            for i in 0..job.models.len() {
                send(i, Err(e.clone()));
            }
        }
        Ok(decoded) => {
            for (i, (name, dir)) in job.models.iter().enumerate() {
                if cancel.is_cancelled() {
                    break;
                }
                let result = device::load_on(job.device, job.compute, |p| {
                    Runner::load_placed(dir, panel, p)
                })
                .and_then(|((runner, load_seconds), used)| {
                    sink.device_used(&used);
                    let input = match &decoded {
                        Decoded::Audio(s) => Input::Audio(s),
                        Decoded::Picture(p) => Input::Picture(p),
                        Decoded::Text(t, to) => Input::Text(t, to.as_deref()),
                    };
                    let out = runner.run_one(input, cancel)?;
                    Ok(CompareOutput {
                        text: out.text,
                        seconds: out.seconds,
                        load_seconds,
                    })
                })
                .map_err(|e| format!("{name}: {e}"));
                send(i, result);
            }
        }
    }
    sink.send(Event::CompareDone { panel, generation });
}
