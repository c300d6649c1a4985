//! Kept runs: a finished (or stopped) evaluation with everything needed to
//! read it later or repeat it — the model and its revision, the dataset,
//! its revision, config, split and columns, the settings (rows asked for,
//! normaliser, device), the machine, every row and the scores — stored as
//! one JSON file each under the app's data folder (`runs/`), listed as a
//! history, and exported as JSON (the same object `spaceport evaluate
//! --json` prints) or CSV (a row per dataset row). Peak memory is
//! measured here too ([`MemoryWatch`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Mapping, RowResult, RunResult, Score, Speed};
use crate::catalog::Panel;
use crate::metrics::normalize::Normalize;

/// Where a run ran.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// The processor's name (`/proc/cpuinfo`), or the architecture.
    pub cpu: String,
    pub threads: usize,
    pub os: String,
    /// Physical memory, where known.
    pub memory_bytes: Option<u64>,
}

impl Machine {
    pub fn here() -> Machine {
        let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = info
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "model name").then(|| v.trim().to_string())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        let memory_bytes = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| proc_kib(&m, "MemTotal:"));
        Machine {
            cpu,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: std::env::consts::OS.to_string(),
            memory_bytes,
        }
    }

    /// "AMD EPYC 7B13, 2 threads, linux".
    pub fn describe(&self) -> String {
        format!(
            "{}, {}, {}",
            self.cpu,
            crate::format::count(self.threads as u64, "thread", "threads"),
            self.os
        )
    }
}

/// A `/proc` field given in kB, in bytes.
fn proc_kib(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line[key.len()..].split_whitespace().next()?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The process's peak resident memory over a stretch of work: the peak
/// counter is reset at the start (Linux's `clear_refs`), read at the end.
pub struct MemoryWatch {
    before: Option<u64>,
}

impl MemoryWatch {
    pub fn start() -> MemoryWatch {
        // Writing 5 resets VmHWM to the current resident size.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        MemoryWatch {
            before: status_field("VmRSS:"),
        }
    }

    /// (peak, peak minus the resident memory at the start).
    pub fn finish(&self) -> (Option<u64>, Option<u64>) {
        let peak = status_field("VmHWM:");
        let added = match (peak, self.before) {
            (Some(p), Some(b)) => Some(p.saturating_sub(b)),
            _ => None,
        };
        (peak, added)
    }
}

fn status_field(key: &str) -> Option<u64> {
    proc_kib(&std::fs::read_to_string("/proc/self/status").ok()?, key)
}

pub use crate::hub::paths::snapshot_commit as cache_revision;

/// What was run, on what, how.
#[derive(Clone, Debug)]
pub struct RunSetup {
    pub model: String,
    pub model_revision: Option<String>,
    pub dataset: String,
    pub dataset_revision: Option<String>,
    pub config: String,
    pub split: String,
    pub mapping: Mapping,
    /// Rows asked for (`None`: all).
    pub limit: Option<u64>,
    pub normalize: Normalize,
    pub device: String,
}

/// A kept run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// Its file name without `.json`; unique in the history.
    pub id: String,
    /// Seconds since 1970 when it finished.
    pub created: u64,
    pub model: String,
    pub model_revision: Option<String>,
    pub dataset: String,
    pub dataset_revision: Option<String>,
    pub config: String,
    pub split: String,
    /// The demo: Translate, Caption or Transcribe.
    pub task: String,
    pub input_column: String,
    pub reference_column: String,
    pub languages: Option<(String, String)>,
    pub limit: Option<u64>,
    /// none, basic or whisper-en.
    pub normalize: String,
    pub device: String,
    pub machine: Machine,
    /// Rows evaluated.
    pub rows: usize,
    /// Rows skipped, with why.
    pub skipped: Vec<(u64, String)>,
    /// Stopped before the rows asked for were done.
    pub stopped: bool,
    pub scores: Vec<Score>,
    pub speed: Speed,
    pub predictions: Vec<RowResult>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl RunRecord {
    pub fn new(setup: RunSetup, result: RunResult, stopped: bool) -> RunRecord {
        let created = now();
        let id = format!(
            "{}-{}",
            crate::format::utc_stamp(created),
            slug(short_name(&setup.model))
        );
        RunRecord {
            id,
            created,
            model: setup.model,
            model_revision: setup.model_revision,
            dataset: setup.dataset,
            dataset_revision: setup.dataset_revision,
            config: setup.config,
            split: setup.split,
            task: setup.mapping.panel.label().to_string(),
            input_column: setup.mapping.input,
            reference_column: setup.mapping.reference,
            languages: setup.mapping.languages,
            limit: setup.limit,
            normalize: setup.normalize.label().to_string(),
            device: setup.device,
            machine: Machine::here(),
            rows: result.rows.len(),
            skipped: result.skipped,
            stopped,
            scores: result.scores,
            speed: result.speed,
            predictions: result.rows,
        }
    }

    pub fn panel(&self) -> Option<Panel> {
        Panel::ALL.into_iter().find(|p| p.label() == self.task)
    }

    pub fn normalizer(&self) -> Normalize {
        Normalize::parse(&self.normalize).unwrap_or_default()
    }

    /// The model's short name ("whisper-tiny.en").
    pub fn short_model(&self) -> &str {
        short_name(&self.model)
    }

    pub fn score(&self, metric: crate::metrics::MetricKind) -> Option<&Score> {
        self.scores.iter().find(|s| s.metric == metric)
    }

    /// The JSON `spaceport evaluate --json` prints and the page exports:
    /// the record plus `metrics` (metric → score) and `intervals`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        let metrics: serde_json::Map<_, _> = self
            .scores
            .iter()
            .map(|s| (s.metric.label().to_string(), serde_json::json!(s.score)))
            .collect();
        let intervals: serde_json::Map<_, _> = self
            .scores
            .iter()
            .map(|s| (s.metric.label().to_string(), serde_json::json!(s.interval)))
            .collect();
        v["metrics"] = metrics.into();
        v["intervals"] = intervals.into();
        v
    }

    /// `metrics` of [`Self::to_json`]: metric → score.
    pub fn metrics_json(&self) -> serde_json::Value {
        self.to_json()["metrics"].clone()
    }

    pub fn from_json(text: &str) -> Result<RunRecord, String> {
        serde_json::from_str(text).map_err(|e| format!("not a Spaceport run ({e})"))
    }

    /// One line per row: row, input (source text or file name),
    /// reference, prediction, the first metric on the row, seconds, input
    /// size.
    pub fn to_csv(&self) -> String {
        let metric = self
            .scores
            .first()
            .map(|s| s.metric.label())
            .unwrap_or("score");
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record([
            "row_idx",
            "input",
            "reference",
            "prediction",
            metric,
            "seconds",
            "input_size",
        ]);
        for r in &self.predictions {
            let _ = w.write_record([
                r.row_idx.to_string(),
                r.input.clone().unwrap_or_default(),
                r.reference.clone(),
                r.prediction.clone(),
                r.score.map(|s| s.to_string()).unwrap_or_default(),
                r.seconds.to_string(),
                r.input_size.to_string(),
            ]);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// What was measured in words: "12.3× faster than real time", "41
    /// tokens/s", "0.52 s a picture".
    pub fn speed_words(&self) -> String {
        match (self.speed.rtfx, self.speed.tokens_per_second, self.panel()) {
            (Some(x), _, _) => format!("{x:.1}× faster than real time"),
            (_, _, Some(Panel::Caption)) => {
                format!("{:.2} s a picture", self.speed.seconds_per_row)
            }
            (_, Some(t), _) => format!("{t:.1} tokens/s"),
            _ => String::new(),
        }
    }
}

/// The last part of a repo id or path.
pub fn short_name(model: &str) -> &str {
    model
        .trim_end_matches(['/', '\\'])
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(model)
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect()
}

/// The runs folder.
#[derive(Clone, Debug)]
pub struct RunStore {
    pub dir: PathBuf,
}

impl RunStore {
    /// `runs/` in the app's data folder.
    pub fn new(data_dir: &Path) -> RunStore {
        RunStore {
            dir: data_dir.join("runs"),
        }
    }

    /// Writes `record` (a new id if one with its id is there already).
    pub fn save(&self, record: &mut RunRecord) -> Result<PathBuf, String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            format!(
                "The run could not be kept: {} could not be made ({e}).",
                self.dir.display()
            )
        })?;
        let base = record.id.clone();
        let mut n = 1;
        while self.dir.join(format!("{}.json", record.id)).exists() {
            n += 1;
            record.id = format!("{base}-{n}");
        }
        let path = self.dir.join(format!("{}.json", record.id));
        let text = serde_json::to_string_pretty(&record.to_json()).unwrap_or_default();
        let tmp = path.with_extension("json.part");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                format!("The run could not be kept in {}: {e}.", self.dir.display())
            })?;
        Ok(path)
    }

    /// Every kept run, newest first, and a sentence for each file that
    /// could not be read.
    pub fn list(&self) -> (Vec<RunRecord>, Vec<String>) {
        let mut runs = Vec::new();
        let mut problems = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return (runs, problems);
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            match std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|t| RunRecord::from_json(&t))
            {
                Ok(mut r) => {
                    if let Some(stem) = path.file_stem() {
                        r.id = stem.to_string_lossy().into_owned();
                    }
                    runs.push(r)
                }
                Err(e) => problems.push(format!("{} was skipped: {e}", path.display())),
            }
        }
        runs.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
        (runs, problems)
    }

    pub fn delete(&self, id: &str) -> Result<(), String> {
        let path = self.dir.join(format!("{id}.json"));
        std::fs::remove_file(&path)
            .map_err(|e| format!("{} could not be removed: {e}.", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_come_from_cache_paths() {
        let c = "0123456789abcdef0123456789abcdef01234567";
        let p = PathBuf::from(format!("/c/models--a--b/snapshots/{c}"));
        assert_eq!(cache_revision(&p).as_deref(), Some(c));
        assert_eq!(cache_revision(Path::new("/home/me/model")), None);
        assert_eq!(short_name("openai/whisper-tiny.en"), "whisper-tiny.en");
        assert_eq!(short_name("/tmp/model/"), "model");
    }

    #[test]
    fn peak_memory_sees_an_allocation() {
        let watch = MemoryWatch::start();
        let big = vec![1u8; 64 << 20];
        std::hint::black_box(&big);
        let (peak, added) = watch.finish();
        if cfg!(target_os = "linux") {
            assert!(peak.unwrap() >= 64 << 20);
            assert!(added.unwrap() >= 60 << 20, "{added:?}");
        }
    }
}
