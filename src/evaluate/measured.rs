//! What a model was measured to do on this machine, for the Hub and
//! Library pages ("transcribes 22× faster than real time here", "keeps
//! up with live dictation") instead of only a guess from its size: from
//! the latest evaluation run of the model, or from a 10-second
//! measurement on a built-in input (a recorded English passage, a few
//! sentences, a drawn picture) offered from the Library. Kept in the
//! app's data folder as `measured.json` (model → measurement).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::Input;
use super::record::RunRecord;
use crate::catalog::Panel;
use crate::tasks::TaskError;
use crate::work::CancelToken;

/// A recording of four Harvard sentences (espeak-ng, made for Spaceport;
/// the sentences are in the public domain): the speech measured.
pub const SPEECH: &[u8] = include_bytes!("../../assets/examples/harvard-en.ogg");

/// The sentences translated in a measurement.
pub const SENTENCES: &[&str] = &[
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
];

/// How long a measurement runs the model (at least once through).
pub const SECONDS: f64 = 10.0;

/// The speed of live dictation's decoding that keeps up: each utterance
/// is decoded again while it grows (partials), so it needs a margin over
/// real time.
pub const LIVE_RTFX: f64 = 3.0;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    pub panel: Panel,
    /// Audio seconds per second of compute (speech).
    pub rtfx: Option<f64>,
    /// Tokens generated per second (translation, captions).
    pub tokens_per_second: Option<f64>,
    /// Seconds per item (a sentence, a picture, a recording).
    pub seconds_per_item: f64,
    pub load_seconds: f64,
    pub device: String,
    /// Seconds since 1970.
    pub when: u64,
    /// "a 10-second measurement" or "an evaluation on <dataset>".
    pub how: String,
}

impl Measured {
    /// From an evaluation run.
    pub fn of_run(r: &RunRecord) -> Option<Measured> {
        let panel = r.panel()?;
        (r.rows > 0).then(|| Measured {
            panel,
            rtfx: r.speed.rtfx,
            tokens_per_second: r.speed.tokens_per_second,
            seconds_per_item: r.speed.seconds_per_row,
            load_seconds: r.speed.load_seconds,
            device: r.device.clone(),
            when: r.created,
            how: format!("an evaluation on {}", r.dataset),
        })
    }

    /// The model a run's measurement is kept under: its repo id, or the
    /// folder's path for a model outside the cache.
    pub fn name_of(&self, r: &RunRecord) -> String {
        r.model.clone()
    }

    /// In words: "transcribes 22× faster than real time here; keeps up
    /// with live dictation".
    pub fn words(&self) -> String {
        let device = if self.device == "CPU" || self.device.is_empty() {
            String::new()
        } else {
            format!(" on the {}", self.device)
        };
        match (self.panel, self.rtfx, self.tokens_per_second) {
            (Panel::Transcribe, Some(x), _) => {
                let live = if x >= LIVE_RTFX {
                    "keeps up with live dictation"
                } else {
                    "too slow here to keep up with live dictation"
                };
                if x >= 1.0 {
                    format!("transcribes {x:.1}× faster than real time here{device}; {live}")
                } else {
                    format!(
                        "transcribes slower than real time here{device} ({:.1} s a second of speech); {live}",
                        1.0 / x.max(1e-9)
                    )
                }
            }
            (Panel::Translate, _, Some(t)) => format!(
                "translates a sentence in {:.2} s here{device} ({t:.0} tokens a second)",
                self.seconds_per_item
            ),
            (Panel::Caption, _, _) => format!(
                "captions a picture in {:.2} s here{device}",
                self.seconds_per_item
            ),
            _ => format!("{:.2} s an item here{device}", self.seconds_per_item),
        }
    }
}

/// The measurements file.
pub struct MeasuredStore {
    path: PathBuf,
}

impl MeasuredStore {
    pub fn new(data_dir: &Path) -> MeasuredStore {
        MeasuredStore {
            path: data_dir.join("measured.json"),
        }
    }

    /// Every model's measurement (none when the file is missing or
    /// damaged: measurements are made again, nothing is lost).
    pub fn load(&self) -> BTreeMap<String, Measured> {
        std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Records `m` for `model`; the map as it now is.
    pub fn put(&self, model: &str, m: Measured) -> Result<BTreeMap<String, Measured>, String> {
        let mut all = self.load();
        all.insert(model.to_string(), m);
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let tmp = self.path.with_extension("json.part");
        std::fs::write(&tmp, serde_json::to_string_pretty(&all).unwrap_or_default())
            .and_then(|_| std::fs::rename(&tmp, &self.path))
            .map_err(|e| {
                format!(
                    "The measurement could not be kept in {}: {e}.",
                    self.path.display()
                )
            })?;
        Ok(all)
    }
}

/// A picture to caption: soft colour fields and a few shapes.
fn drawn_picture() -> crate::tasks::caption::image::Rgb {
    let (w, h) = (384usize, 384usize);
    let mut data = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let inside = ((x as i64 - 190).pow(2) + (y as i64 - 200).pow(2)) < 90 * 90;
            let (r, g, b) = if inside {
                (220, 120, 40)
            } else if y > 280 {
                (60, 140, 60)
            } else {
                (120 + (x / 4) as u8 / 2, 170, 230)
            };
            data.extend([r, g, b]);
        }
    }
    crate::tasks::caption::image::Rgb {
        width: w,
        height: h,
        data,
    }
}

/// Runs the model in `dir` for `panel` on the built-in input for about
/// [`SECONDS`] (at least once through) and says how fast it went.
pub fn measure(
    dir: &Path,
    panel: Panel,
    device: &crate::tasks::device::Selected,
    compute: crate::tasks::device::ComputeType,
    cancel: &CancelToken,
) -> Result<Measured, TaskError> {
    let place = crate::tasks::nn::Placement {
        compute,
        ..crate::tasks::nn::Placement::new(&device.device)
    };
    measure_placed(dir, panel, &place, &device.describe(), SECONDS, 1, cancel)
}

/// [`measure`] with a placement (device, precision, kernels), named
/// `device_name`, running for `seconds` (at least once through); a
/// translation item is `batch` sentences given at once (translated
/// together, [`crate::tasks::translate::BATCH`] at a time).
pub fn measure_placed(
    dir: &Path,
    panel: Panel,
    place: &crate::tasks::nn::Placement,
    device_name: &str,
    seconds: f64,
    batch: usize,
    cancel: &CancelToken,
) -> Result<Measured, TaskError> {
    let (runner, load_seconds) = super::Runner::load_placed(dir, panel, place)?;
    let speech = match panel {
        Panel::Transcribe => Some(
            crate::audio::decode::decode_bytes(SPEECH.to_vec(), "harvard-en.ogg", 16_000)
                .map_err(|e| TaskError::Model(e.to_string()))?,
        ),
        _ => None,
    };
    let picture = drawn_picture();
    let mut target: Option<String> = None;
    let start = Instant::now();
    let (mut items, mut input, mut tokens) = (0u64, 0.0f64, 0u64);
    while items == 0 || start.elapsed().as_secs_f64() < seconds {
        if cancel.is_cancelled() {
            return Err(TaskError::Cancelled);
        }
        let out = match (&runner, &speech) {
            (super::Runner::Transcribe(..), Some(audio)) => {
                input += audio.duration_secs();
                runner.run_one(Input::Audio(&audio.samples), cancel)?
            }
            (super::Runner::Translate(..), _) => {
                let first = items as usize * batch.max(1);
                let s: Vec<&str> = (first..first + batch.max(1))
                    .map(|i| SENTENCES[i % SENTENCES.len()])
                    .collect();
                let s = s.join(" ");
                match runner.run_one(Input::Text(&s, target.as_deref()), cancel) {
                    // A multi-target model: into the first it offers.
                    Err(TaskError::NeedsTarget(offered)) => {
                        target = offered.split(", ").next().map(str::to_string);
                        runner.run_one(Input::Text(&s, target.as_deref()), cancel)?
                    }
                    other => other?,
                }
            }
            _ => runner.run_one(Input::Picture(&picture), cancel)?,
        };
        tokens += out.tokens;
        items += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok(Measured {
        panel,
        rtfx: (panel == Panel::Transcribe && elapsed > 0.0).then(|| input / elapsed),
        tokens_per_second: (panel != Panel::Transcribe && elapsed > 0.0)
            .then(|| tokens as f64 / elapsed),
        seconds_per_item: elapsed / items as f64,
        load_seconds,
        device: device_name.to_string(),
        when: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        // Named by the time asked for: the last item may run past it.
        how: format!("a {seconds:.0}-second measurement"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_say_what_was_measured() {
        let mut m = Measured {
            panel: Panel::Transcribe,
            rtfx: Some(22.4),
            tokens_per_second: None,
            seconds_per_item: 0.5,
            load_seconds: 0.2,
            device: "CPU".into(),
            when: 0,
            how: "x".into(),
        };
        assert_eq!(
            m.words(),
            "transcribes 22.4× faster than real time here; keeps up with live dictation"
        );
        m.rtfx = Some(0.5);
        assert!(
            m.words()
                .starts_with("transcribes slower than real time here (2.0 s a second")
        );
        let tmp = tempfile::tempdir().unwrap();
        let store = MeasuredStore::new(tmp.path());
        assert!(store.load().is_empty());
        store.put("a/b", m.clone()).unwrap();
        assert_eq!(store.load()["a/b"], m);
        std::fs::write(tmp.path().join("measured.json"), "{damaged").unwrap();
        assert!(store.load().is_empty());
    }
}
