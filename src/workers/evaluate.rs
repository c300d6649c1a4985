//! Evaluation on `spaceport-evaluate` threads: a split's columns read and
//! the mapping guessed ([`Event::EvalColumns`]); a run of one or more
//! models over a split — the dataset opened, its columns mapped, each
//! model loaded, each row run and reported as it finishes
//! ([`Event::EvalRow`]), then the run kept in the history and handed back
//! ([`Event::EvalDone`]) — also after Stop, for the rows done — or why it
//! could not run; and the history listed or pruned (`spaceport-runs`).

use std::path::PathBuf;

use super::{Event, Sink};
use crate::catalog::Panel;
use crate::datasets::Dataset;
use crate::evaluate::measured::{Measured, MeasuredStore};
use crate::evaluate::record::{MemoryWatch, RunRecord, RunSetup, RunStore, cache_revision};
use crate::evaluate::{Mapping, MetricKind, Runner};
use crate::hub::Hub;
use crate::metrics::normalize::Normalize;
use crate::tasks::device::{self, DeviceChoice};
use crate::work::CancelToken;

/// A model to run: its name as shown, its folder, and the demo it is for
/// (when known: a run on data of another kind is refused in words).
#[derive(Clone, Debug)]
pub struct EvalModel {
    pub name: String,
    pub dir: PathBuf,
    pub panel: Option<Panel>,
}

/// One run: models over a split.
#[derive(Clone)]
pub struct EvalJob {
    pub generation: u64,
    pub models: Vec<EvalModel>,
    pub dataset: String,
    pub split: Option<String>,
    /// The columns chosen on the page (guessed when none).
    pub input_column: Option<String>,
    pub reference_column: Option<String>,
    /// Rows from the start (`u64::MAX`: all).
    pub limit: u64,
    pub normalize: Normalize,
    pub device: DeviceChoice,
    /// The number format the model computes in.
    pub compute: crate::tasks::device::ComputeType,
    /// The app's data folder: finished runs are kept in its `runs/`.
    pub data_dir: PathBuf,
    /// The Hub client in use; the dispatcher fills it in.
    pub hub: Option<Hub>,
}

impl std::fmt::Debug for EvalJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalJob")
            .field("generation", &self.generation)
            .field("models", &self.models)
            .field("dataset", &self.dataset)
            .field("limit", &self.limit)
            .finish()
    }
}

/// Runs `job` on a `spaceport-evaluate` thread (one run at a time).
pub(crate) fn start(runs: &mut super::Solo, job: EvalJob, sink: &Sink) {
    let sink2 = sink.clone();
    runs.start("spaceport-evaluate", sink, move |cancel| {
        let generation = job.generation;
        if let Err(error) = run(&job, &cancel, &sink2) {
            sink2.send(Event::EvalFailed { generation, error });
        }
    });
}

/// A split's name ("config/split"), its columns and the mapping they
/// suggest (or why there is none).
#[derive(Clone, Debug)]
pub struct SplitColumns {
    pub split: String,
    pub names: Vec<String>,
    pub guess: Result<Mapping, String>,
}

/// A split opened for a run.
struct Opened {
    dataset: Dataset,
    config: String,
    split_name: String,
    split: crate::datasets::AnySplit,
    names: Vec<String>,
    mapping: Result<Mapping, String>,
}

/// Opens a split and maps its columns.
fn open(
    hub: &Hub,
    dataset: &str,
    split: Option<&str>,
    columns: (Option<&str>, Option<&str>),
    cancel: &CancelToken,
) -> Result<Opened, String> {
    let dataset = Dataset::open(hub, dataset, "main", cancel).map_err(|e| e.to_string())?;
    let (config, split_name) = crate::datasets::local::choose(&dataset.configs(), None, split)
        .map_err(|e| e.to_string())?;
    let split = dataset
        .split(&config, &split_name)
        .map_err(|e| e.to_string())?;
    let features = split.features();
    let names = features.iter().map(|(n, _)| n.clone()).collect();
    let mapping = Mapping::guess(&features, columns.0, columns.1);
    Ok(Opened {
        dataset,
        config,
        split_name,
        split,
        names,
        mapping,
    })
}

/// Reads a split's columns and the mapping they suggest
/// ([`Event::EvalColumns`]).
pub(crate) fn columns(
    hub: Hub,
    generation: u64,
    dataset: String,
    split: Option<String>,
    sink: &Sink,
) {
    let sink2 = sink.clone();
    super::job("spaceport-evaluate", sink, move || {
        let answer = open(
            &hub,
            &dataset,
            split.as_deref(),
            (None, None),
            &CancelToken::new(),
        )
        .map(|o| SplitColumns {
            split: format!("{}/{}", o.config, o.split_name),
            names: o.names,
            guess: o.mapping,
        });
        sink2.send(Event::EvalColumns { generation, answer });
    });
}

fn run(job: &EvalJob, cancel: &CancelToken, sink: &Sink) -> Result<(), String> {
    let hub = job.hub.as_ref().ok_or("The workers are not ready.")?;
    let Opened {
        dataset,
        config,
        split_name,
        split,
        mapping,
        ..
    } = open(
        hub,
        &job.dataset,
        job.split.as_deref(),
        (job.input_column.as_deref(), job.reference_column.as_deref()),
        cancel,
    )?;
    let mapping = mapping?;
    if job.models.is_empty() {
        return Err("Pick a model to evaluate.".into());
    }
    for m in &job.models {
        if let Some(p) = m.panel.filter(|p| *p != mapping.panel) {
            return Err(format!(
                "{} is a {} model, and this split's columns fit {} ({} to {}); pick a {} model.",
                m.name,
                p.label(),
                mapping.panel.label(),
                mapping.input,
                mapping.reference,
                mapping.panel.label()
            ));
        }
    }
    let store = RunStore::new(&job.data_dir);
    let generation = job.generation;
    for (index, m) in job.models.iter().enumerate() {
        sink.send(Event::EvalStarted {
            generation,
            split: format!("{config}/{split_name}"),
            mapping: mapping.clone(),
            total: split.num_rows().min(job.limit),
            model: m.name.clone(),
            index,
            of: job.models.len(),
        });
        let watch = MemoryWatch::start();
        // A model the GPU cannot hold runs on the CPU, said in a sentence.
        let ((runner, load_seconds), used) = device::load_on(job.device, job.compute, |p| {
            Runner::load_placed(&m.dir, mapping.panel, p)
        })
        .map_err(|e| format!("{}: {e}", m.name))?;
        sink.device_used(&used);
        let mut result = crate::evaluate::run(
            &runner,
            load_seconds,
            &split,
            &mapping,
            job.limit,
            (&MetricKind::defaults(mapping.panel), job.normalize),
            cancel,
            &mut |row, total| {
                sink.send(Event::EvalRow {
                    generation,
                    row: row.clone(),
                    total,
                });
            },
        )
        .map_err(|e| e.to_string())?;
        drop(runner);
        (
            result.speed.peak_memory_bytes,
            result.speed.memory_added_bytes,
        ) = watch.finish();
        let stopped = cancel.is_cancelled();
        let setup = RunSetup {
            model: m.name.clone(),
            model_revision: cache_revision(&m.dir),
            dataset: job.dataset.clone(),
            dataset_revision: dataset.revision(),
            config: config.clone(),
            split: split_name.clone(),
            mapping: mapping.clone(),
            limit: (job.limit != u64::MAX).then_some(job.limit),
            normalize: job.normalize,
            device: used.describe(),
        };
        let mut record = RunRecord::new(setup, result, stopped);
        let kept = store.save(&mut record);
        // What it measured, for the Hub and Library pages.
        if let Some(m) = Measured::of_run(&record)
            && let Ok(all) = MeasuredStore::new(&job.data_dir).put(&m.name_of(&record), m)
        {
            sink.send(Event::Measured { repo: None, all });
        }
        let last = stopped || index + 1 == job.models.len();
        sink.send(Event::EvalDone {
            generation,
            record: Box::new(record),
            kept: kept.err(),
            last,
        });
        if last {
            break;
        }
    }
    Ok(())
}

/// Lists the kept runs ([`Event::RunHistory`]), after deleting `delete`.
pub(crate) fn history(data_dir: PathBuf, delete: Option<String>, sink: &Sink) {
    let sink2 = sink.clone();
    super::job("spaceport-runs", sink, move || {
        let store = RunStore::new(&data_dir);
        let mut problems = Vec::new();
        if let Some(id) = delete
            && let Err(e) = store.delete(&id)
        {
            problems.push(e);
        }
        let (runs, more) = store.list();
        problems.extend(more);
        sink2.send(Event::RunHistory { runs, problems });
    });
}

/// Measures a model's speed on a `spaceport-measure` thread
/// ([`Event::Measured`]).
pub(crate) fn measure(
    repo: String,
    dir: PathBuf,
    panel: Panel,
    choice: DeviceChoice,
    compute: crate::tasks::device::ComputeType,
    data_dir: PathBuf,
    sink: &Sink,
) {
    let sink2 = sink.clone();
    super::job("spaceport-measure", sink, move || {
        let selected = device::select(choice);
        sink2.device_used(&selected);
        let store = MeasuredStore::new(&data_dir);
        let outcome = crate::evaluate::measured::measure(
            &dir,
            panel,
            &selected,
            compute,
            &CancelToken::new(),
        )
        .map_err(|e| format!("{repo} could not be measured: {e}"))
        .and_then(|m| store.put(&repo, m));
        let (result, all) = match outcome {
            Ok(all) => (Ok(()), all),
            Err(e) => (Err(e), store.load()),
        };
        sink2.send(Event::Measured {
            repo: Some((repo, result)),
            all,
        });
    });
}

/// Reads the kept measurements ([`Event::Measured`]).
pub(crate) fn load_measured(data_dir: PathBuf, sink: &Sink) {
    let sink2 = sink.clone();
    super::job("spaceport-measure", sink, move || {
        let all = MeasuredStore::new(&data_dir).load();
        sink2.send(Event::Measured { repo: None, all });
    });
}

/// Sets kept runs side by side on a `spaceport-compare` thread (scoring
/// and bootstrap resampling take a while on large runs);
/// [`Event::RunsCompared`].
pub(crate) fn compare_runs(generation: u64, runs: Vec<RunRecord>, sink: &Sink) {
    let sink2 = sink.clone();
    super::job("spaceport-compare", sink, move || {
        let refs: Vec<&RunRecord> = runs.iter().collect();
        let result = crate::evaluate::compare::compare(&refs).map(Box::new);
        sink2.send(Event::RunsCompared { generation, result });
    });
}
