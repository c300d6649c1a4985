//! `spaceport evaluate`: one or more models over the rows of a dataset
//! split, scored against its references and timed ([`crate::evaluate`]).

use clap::Args;

use super::{CliError, outln};
use crate::datasets::Dataset;
use crate::datasets::local::choose;
use crate::evaluate::compare::compare;
use crate::evaluate::record::{MemoryWatch, RunRecord, RunSetup, RunStore, cache_revision};
use crate::evaluate::{Mapping, MetricKind, Runner};
use crate::hub::Hub;
use crate::tasks::device::{self, DeviceChoice};

#[derive(Args, Debug)]
pub struct EvaluateArgs {
    /// A Hub id (from the cache, downloaded when missing) or a folder;
    /// give it again to evaluate several models on the same rows.
    #[arg(long, required = true)]
    pub model: Vec<String>,
    /// A Hub dataset id (cached, else read from the Hub) or a local file
    /// or folder.
    #[arg(long)]
    pub dataset: String,
    #[arg(long)]
    pub config: Option<String>,
    #[arg(long)]
    pub split: Option<String>,
    /// Rows from the start of the split (all of them: 0).
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
    /// wer, cer, bleu, chrf, chrf++, bleu4, cider (the task's usual ones
    /// when not given: WER and CER, BLEU and chrF, BLEU-4 and CIDEr-D).
    #[arg(long)]
    pub metric: Vec<String>,
    /// Normalise predictions and references before scoring: none, basic
    /// (any language) or whisper-en (OpenAI's English normaliser).
    #[arg(long, default_value = "none")]
    pub normalize: String,
    /// The column the model takes (guessed from the features).
    #[arg(long)]
    pub input_column: Option<String>,
    /// The column with the reference text (guessed from the features).
    #[arg(long)]
    pub reference_column: Option<String>,
    /// One object: model(s), dataset, split, rows, metrics, speed and
    /// predictions (row_idx, prediction, reference); for several models
    /// {"runs": [...], "comparison": {...}}.
    #[arg(long)]
    pub json: bool,
    /// Keep the run in the app's history (the Evaluate page lists it).
    #[arg(long)]
    pub keep: bool,
}

pub fn run(
    hub: &Hub,
    choice: DeviceChoice,
    compute: crate::tasks::device::ComputeType,
    args: EvaluateArgs,
) -> Result<(), CliError> {
    let cancel = crate::work::cancel_on_interrupt();
    let dataset = Dataset::open(hub, &args.dataset, "main", &cancel)?;
    let (config, split_name) = choose(
        &dataset.configs(),
        args.config.as_deref(),
        args.split.as_deref(),
    )?;
    let split = dataset.split(&config, &split_name)?;
    let mapping = Mapping::guess(
        &split.features(),
        args.input_column.as_deref(),
        args.reference_column.as_deref(),
    )
    .map_err(CliError::Input)?;
    let metrics: Vec<MetricKind> = if args.metric.is_empty() {
        MetricKind::defaults(mapping.panel)
    } else {
        args.metric
            .iter()
            .map(|m| {
                MetricKind::parse(m).ok_or_else(|| {
                    CliError::Input(format!(
                        "Unknown metric \"{m}\": use wer, cer, bleu, chrf, chrf++, bleu4 or cider."
                    ))
                })
            })
            .collect::<Result<_, _>>()?
    };
    let limit = if args.limit == 0 {
        u64::MAX
    } else {
        args.limit
    };
    let norm =
        crate::metrics::normalize::Normalize::parse(&args.normalize).map_err(CliError::Input)?;
    let selected = device::select(choice);
    if let Some(note) = &selected.fallback_note {
        eprintln!("note: {note}");
    }
    let mut records = Vec::new();
    for model in &args.model {
        let dir = super::translate::model_dir(hub, model, mapping.panel)?;
        let watch = MemoryWatch::start();
        let (runner, load_seconds) =
            Runner::load_placed(&dir, mapping.panel, &super::placement(&selected, compute))?;
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let mut result = crate::evaluate::run(
            &runner,
            load_seconds,
            &split,
            &mapping,
            limit,
            (&metrics, norm),
            &cancel,
            &mut |r, total| {
                if terminal {
                    eprint!("\r{model}: row {} of {total}   ", r.row_idx + 1);
                }
            },
        )?;
        drop(runner);
        (
            result.speed.peak_memory_bytes,
            result.speed.memory_added_bytes,
        ) = watch.finish();
        if terminal {
            eprintln!();
        }
        for (row, why) in &result.skipped {
            eprintln!("note: row {row} was skipped: {why}");
        }
        let stopped = cancel.is_cancelled();
        let setup = RunSetup {
            model: model.clone(),
            model_revision: cache_revision(&dir),
            dataset: args.dataset.clone(),
            dataset_revision: dataset.revision(),
            config: config.clone(),
            split: split_name.clone(),
            mapping: mapping.clone(),
            limit: (limit != u64::MAX).then_some(limit),
            normalize: norm,
            device: selected.describe(),
        };
        let mut record = RunRecord::new(setup, result, stopped);
        if args.keep {
            let store = RunStore::new(&crate::settings::data_dir());
            match store.save(&mut record) {
                Ok(path) => eprintln!("note: the run is kept in {}", path.display()),
                Err(e) => eprintln!("note: {e}"),
            }
        }
        records.push(record);
        if stopped {
            break;
        }
    }
    let refs: Vec<&RunRecord> = records.iter().collect();
    let comparison = (refs.len() > 1).then(|| compare(&refs));
    if args.json {
        let out = if records.len() == 1 {
            records[0].to_json()
        } else {
            let mut o = serde_json::json!({
                "runs": records.iter().map(RunRecord::to_json).collect::<Vec<_>>(),
            });
            match &comparison {
                Some(Ok(c)) => o["comparison"] = c.to_json(),
                Some(Err(e)) => o["comparison_error"] = e.clone().into(),
                None => {}
            }
            o
        };
        outln!("{out}");
    } else {
        for r in &records {
            outln!(
                "{} on {} ({config}/{split_name}, {}):",
                r.model,
                args.dataset,
                crate::format::count(r.rows as u64, "row", "rows")
            );
            for s in &r.scores {
                outln!("  {}", s.describe());
            }
            let sp = &r.speed;
            let memory = sp
                .peak_memory_bytes
                .map(|m| format!(", peak memory {}", crate::format::format_bytes(m)))
                .unwrap_or_default();
            outln!(
                "  speed: {}, {:.2} s a row, loaded in {:.2} s{memory}",
                r.speed_words(),
                sp.seconds_per_row,
                sp.load_seconds
            );
        }
        match &comparison {
            Some(Ok(c)) => {
                outln!("Side by side on the {} rows all finished:", c.rows);
                for m in &c.metrics {
                    for (_, verdict) in &m.against_first {
                        outln!("  {verdict}");
                    }
                }
            }
            Some(Err(e)) => outln!("{e}"),
            None => {}
        }
    }
    Ok(())
}
