//! Dataset jobs: searching the Datasets Hub (a thread per search, as model
//! searches), and the `spaceport-datasets` thread that keeps the dataset
//! being looked at open (its split's footers read, the remote pieces
//! fetched) and serves the newest page asked for, then reads the next page
//! ahead while nothing newer waits, so "Next" answers at once. Pictures
//! get their thumbnails here, and sounds their length (from the header),
//! off the UI thread. Exports (prepare and write a split) run on a
//! `spaceport-export` thread of their own.

use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use super::{Event, ModelThread, Sink, job, newest_job};
use crate::datasets::features::fit_of;
use crate::datasets::prepare::{self, Prepare};
use crate::datasets::{AnySplit, Dataset, Fit, MediaKind, Row, Value};
use crate::hub::Hub;
use crate::hub::datasets::{DatasetPage, DatasetQuery, DatasetSummary};
use crate::tasks::caption::image::{Thumbnail, decode, thumbnail};
use crate::work::CancelToken;

/// Rows a page shows.
pub const PAGE: usize = 100;
/// The longer side of a row's picture preview.
const THUMB: usize = 96;

/// One search result and the demo it fits.
#[derive(Clone, Debug)]
pub struct DatasetResult {
    pub summary: DatasetSummary,
    pub fit: Fit,
}

/// Show a page of a dataset: open it (a path, a cached or Hub id) unless
/// it is the one open, choose the config and split (the first when not
/// given), read rows `offset..offset + PAGE`.
#[derive(Clone)]
pub struct DatasetJob {
    pub generation: u64,
    pub dataset: String,
    pub config: Option<String>,
    pub split: Option<String>,
    pub offset: u64,
    /// The Hub client in use (token, offline); the dispatcher fills it in.
    pub hub: Option<Hub>,
}

impl std::fmt::Debug for DatasetJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatasetJob")
            .field("generation", &self.generation)
            .field("dataset", &self.dataset)
            .field("config", &self.config)
            .field("split", &self.split)
            .field("offset", &self.offset)
            .finish()
    }
}

/// A page of rows and their pictures' previews (by row, then column).
#[derive(Debug)]
pub struct RowsPage {
    pub config: String,
    pub split: String,
    pub offset: u64,
    pub total: u64,
    pub rows: Vec<Row>,
    pub thumbnails: Vec<Vec<(String, Thumbnail)>>,
    /// Each row's sounds' lengths in seconds, by column.
    pub durations: Vec<Vec<(String, f64)>>,
}

/// Searches on a `spaceport-dataset-search` thread.
pub(crate) fn search(
    hub: Hub,
    generation: u64,
    query: Option<DatasetQuery>,
    more: Option<String>,
    sink: &Sink,
) {
    let sink2 = sink.clone();
    let append = more.is_some();
    job("spaceport-dataset-search", sink, move || {
        let result: Result<DatasetPage, _> = match (&query, &more) {
            (_, Some(url)) => hub.dataset_search_page(url),
            (Some(q), None) => hub.search_datasets(q),
            (None, None) => return,
        };
        sink2.send(match result {
            Ok(page) => Event::DatasetResults {
                generation,
                append,
                next: page.next,
                results: page
                    .datasets
                    .into_iter()
                    .map(|d| DatasetResult {
                        fit: fit_of(d.card_data.as_ref(), &d.tags, &d.files, &d.id),
                        summary: d,
                    })
                    .collect(),
            },
            Err(e) => Event::DatasetSearchFailed {
                generation,
                offline: e.is_offline(),
                error: e.to_string(),
            },
        });
    });
}

/// Queues a page on the datasets thread (started on first use).
pub(crate) fn submit(thread: &mut ModelThread<DatasetJob>, job: DatasetJob, sink: &Sink) {
    let (generation, sink2) = (job.generation, sink.clone());
    if !thread.submit(job, move |rx| datasets_loop(rx, sink2)) {
        sink.send(Event::DatasetFailed {
            generation,
            error: "Spaceport could not start reading the dataset; try again.".into(),
        });
    }
}

/// What the thread keeps between pages.
struct Open {
    name: String,
    dataset: Dataset,
    split: Option<((String, String), AnySplit)>,
    /// The page after the last one sent, read ahead.
    ahead: Option<(u64, Vec<Row>)>,
}

fn datasets_loop(rx: Receiver<(DatasetJob, CancelToken)>, sink: Sink) {
    let mut open: Option<Open> = None;
    while let Some((job, cancel)) = newest_job(&rx) {
        let generation = job.generation;
        match serve(&job, &cancel, &mut open, &sink) {
            Ok(()) => {}
            Err(crate::datasets::DataError::Cancelled) => {}
            Err(e) => {
                sink.send(Event::DatasetFailed {
                    generation,
                    error: e.to_string(),
                });
            }
        }
        // Read the next page ahead, unless something newer waits (a new
        // job cancels this one's token).
        if let Some(o) = &mut open
            && let Some((_, split)) = &o.split
        {
            let next = job.offset + PAGE as u64;
            if next < split.num_rows()
                && !cancel.is_cancelled()
                && let Ok(rows) = split.rows(next, PAGE, &cancel)
            {
                o.ahead = Some((next, rows));
            }
        }
    }
}

fn serve(
    job: &DatasetJob,
    cancel: &CancelToken,
    open: &mut Option<Open>,
    sink: &Sink,
) -> Result<(), crate::datasets::DataError> {
    if open.as_ref().is_none_or(|o| o.name != job.dataset) {
        *open = None;
        let Some(hub) = &job.hub else {
            return Ok(());
        };
        let dataset = Dataset::open(hub, &job.dataset, "main", cancel)?;
        let info = dataset.info()?;
        let (card, remote) = match &dataset {
            Dataset::Remote(d) => (
                hub.text_file(&format!("datasets/{}", d.id), "main", "README.md")
                    .ok()
                    .flatten(),
                true,
            ),
            Dataset::Local(d) => (
                std::fs::metadata(d.root.join("README.md"))
                    .ok()
                    .filter(|m| m.len() < 4 << 20)
                    .and_then(|_| std::fs::read_to_string(d.root.join("README.md")).ok()),
                false,
            ),
        };
        sink.send(Event::DatasetOpened {
            generation: job.generation,
            info: Box::new(info),
            card,
            remote,
        });
        *open = Some(Open {
            name: job.dataset.clone(),
            dataset,
            split: None,
            ahead: None,
        });
    }
    let Some(o) = open.as_mut() else {
        return Ok(());
    };
    let configs = o.dataset.configs();
    let (c, s) =
        crate::datasets::local::choose(&configs, job.config.as_deref(), job.split.as_deref())?;
    let key = (c.clone(), s.clone());
    if o.split.as_ref().is_none_or(|(k, _)| *k != key) {
        o.ahead = None;
        o.split = Some((key.clone(), o.dataset.split(&c, &s)?));
    }
    let Some((_, split)) = &o.split else {
        return Ok(());
    };
    let mut rows = match o.ahead.take() {
        Some((at, rows)) if at == job.offset => rows,
        _ => split.rows(job.offset, PAGE, cancel)?,
    };
    // Pictures and sounds stored as hf:// paths, fetched to be shown.
    if let Some(hub) = &job.hub {
        for row in &mut rows {
            crate::datasets::remote::fetch_hf_media(hub, row, cancel);
        }
    }
    let thumbnails = rows.iter().map(row_thumbnails).collect();
    let durations = rows.iter().map(row_durations).collect();
    sink.send(Event::DatasetRows {
        generation: job.generation,
        page: Box::new(RowsPage {
            config: c,
            split: s,
            offset: job.offset,
            total: split.num_rows(),
            rows,
            thumbnails,
            durations,
        }),
    });
    Ok(())
}

/// The lengths of a row's sounds (from their headers), by column.
fn row_durations(row: &Row) -> Vec<(String, f64)> {
    row.cells
        .iter()
        .filter_map(|(name, v)| match v {
            Value::Media(m) if m.kind == MediaKind::Audio => {
                let bytes = m.bytes.as_deref()?;
                let file = m.path.as_deref().unwrap_or(name);
                Some((
                    name.clone(),
                    crate::audio::decode::duration_of(bytes, file)?,
                ))
            }
            _ => None,
        })
        .collect()
}

/// Previews of a row's pictures (top-level picture cells), by column.
fn row_thumbnails(row: &Row) -> Vec<(String, Thumbnail)> {
    row.cells
        .iter()
        .filter_map(|(name, v)| match v {
            Value::Media(m) if m.kind == MediaKind::Image => {
                let bytes = m.bytes.as_deref()?;
                let img = decode(bytes, name).ok()?;
                Some((name.clone(), thumbnail(&img, THUMB)))
            }
            _ => None,
        })
        .collect()
}

/// Prepare a split and write it out ([`crate::datasets::prepare`]).
#[derive(Clone)]
pub struct ExportJob {
    pub generation: u64,
    pub dataset: String,
    pub config: Option<String>,
    pub split: Option<String>,
    pub prepare: Prepare,
    pub to: PathBuf,
    /// The Hub client in use; the dispatcher fills it in.
    pub hub: Option<Hub>,
}

impl std::fmt::Debug for ExportJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportJob")
            .field("generation", &self.generation)
            .field("dataset", &self.dataset)
            .field("prepare", &self.prepare)
            .field("to", &self.to)
            .finish()
    }
}

/// Runs `job` on a `spaceport-export` thread (one export at a time).
pub(crate) fn start_export(exports: &mut super::Solo, job: ExportJob, sink: &Sink) {
    let sink2 = sink.clone();
    exports.start("spaceport-export", sink, move |cancel| {
        let generation = job.generation;
        let result = export(&job, &cancel, &sink2);
        sink2.send(match result {
            Ok(files) => Event::ExportDone { generation, files },
            Err(e) => Event::ExportFailed {
                generation,
                error: e.to_string(),
            },
        });
    });
}

fn export(
    job: &ExportJob,
    cancel: &CancelToken,
    sink: &Sink,
) -> Result<Vec<(PathBuf, u64)>, crate::datasets::DataError> {
    let Some(hub) = &job.hub else {
        return Err(crate::datasets::DataError::Cancelled);
    };
    let dataset = Dataset::open(hub, &job.dataset, "main", cancel)?;
    let (c, s) = crate::datasets::local::choose(
        &dataset.configs(),
        job.config.as_deref(),
        job.split.as_deref(),
    )?;
    let split = dataset.split(&c, &s)?;
    let generation = job.generation;
    let mut throttle = crate::work::Throttle::new(std::time::Duration::from_millis(100));
    let mut report = |stage: &'static str, done: u64, total: u64| {
        if done == total || throttle.ready() {
            sink.send(Event::ExportProgress {
                generation,
                stage,
                done,
                total,
            });
        }
    };
    let chosen = prepare::select(&split, &job.prepare, cancel, &mut |d, t| {
        report("Filtering", d, t)
    })?;
    prepare::export(&split, &chosen, &job.to, cancel, &mut |d, t| {
        report("Writing", d, t)
    })
}
