//! An evaluation run on a `spaceport-evaluate` thread: the dataset opened,
//! its columns mapped, the model loaded, each row run and reported as it
//! finishes ([`Event::EvalRow`]), then the scores ([`Event::EvalDone`]) —
//! also after Stop, for the rows done — or why it could not run.

use std::path::PathBuf;

use super::{Event, Sink};
use crate::datasets::Dataset;
use crate::evaluate::{Mapping, MetricKind, Runner};
use crate::hub::Hub;
use crate::metrics::normalize::Normalize;
use crate::tasks::device::{self, DeviceChoice};
use crate::work::CancelToken;

/// One run: a model over a split.
#[derive(Clone)]
pub struct EvalJob {
    pub generation: u64,
    /// The model's name as shown, its folder, and the demo it is for
    /// (when known: a run on data of another kind is refused in words).
    pub model: String,
    pub dir: PathBuf,
    pub model_panel: Option<crate::catalog::Panel>,
    pub dataset: String,
    pub split: Option<String>,
    /// Rows from the start (`u64::MAX`: all).
    pub limit: u64,
    pub normalize: Normalize,
    pub device: DeviceChoice,
    /// The Hub client in use; the dispatcher fills it in.
    pub hub: Option<Hub>,
}

impl std::fmt::Debug for EvalJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalJob")
            .field("generation", &self.generation)
            .field("model", &self.model)
            .field("dataset", &self.dataset)
            .field("limit", &self.limit)
            .finish()
    }
}

/// The run in progress, if any.
#[derive(Default)]
pub(crate) struct Evaluations {
    running: Option<CancelToken>,
}

impl Evaluations {
    pub(crate) fn start(&mut self, job: EvalJob, sink: &Sink) {
        self.stop();
        let cancel = CancelToken::new();
        self.running = Some(cancel.clone());
        let sink2 = sink.clone();
        super::job("spaceport-evaluate", sink, move || {
            let generation = job.generation;
            if let Err(error) = run(&job, &cancel, &sink2) {
                sink2.send(Event::EvalFailed { generation, error });
            }
        });
    }

    pub(crate) fn stop(&mut self) {
        if let Some(c) = self.running.take() {
            c.cancel();
        }
    }
}

fn run(job: &EvalJob, cancel: &CancelToken, sink: &Sink) -> Result<(), String> {
    let hub = job.hub.as_ref().ok_or("The workers are not ready.")?;
    let dataset = Dataset::open(hub, &job.dataset, "main", cancel).map_err(|e| e.to_string())?;
    let (config, split_name) =
        crate::datasets::local::choose(&dataset.configs(), None, job.split.as_deref())
            .map_err(|e| e.to_string())?;
    let split = dataset
        .split(&config, &split_name)
        .map_err(|e| e.to_string())?;
    let mapping = Mapping::guess(&split.features(), None, None)?;
    if let Some(p) = job.model_panel.filter(|p| *p != mapping.panel) {
        return Err(format!(
            "{} is a {} model, and this split's columns fit {} ({} to {}); pick a {} model.",
            job.model,
            p.label(),
            mapping.panel.label(),
            mapping.input,
            mapping.reference,
            mapping.panel.label()
        ));
    }
    sink.send(Event::EvalStarted {
        generation: job.generation,
        split: format!("{config}/{split_name}"),
        mapping: mapping.clone(),
        total: split.num_rows().min(job.limit),
    });
    let selected = device::select(job.device);
    let (runner, load_seconds) =
        Runner::load(&job.dir, mapping.panel, &selected.device).map_err(|e| e.to_string())?;
    let generation = job.generation;
    let result = crate::evaluate::run(
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
    sink.send(Event::EvalDone {
        generation,
        result: Box::new(result),
    });
    Ok(())
}
