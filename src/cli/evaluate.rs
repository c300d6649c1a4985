//! `spaceport evaluate`: one or more models over the rows of a dataset
//! split, scored against its references and timed ([`crate::evaluate`]).

use clap::Args;

use super::{CliError, outln};
use crate::datasets::Dataset;
use crate::datasets::local::choose;
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
    /// predictions (row_idx, prediction, reference).
    #[arg(long)]
    pub json: bool,
}

pub fn run(hub: &Hub, choice: DeviceChoice, args: EvaluateArgs) -> Result<(), CliError> {
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
    let mut reports = Vec::new();
    for model in &args.model {
        let dir = super::translate::model_dir(hub, model, mapping.panel)?;
        let (runner, load_seconds) = Runner::load(&dir, mapping.panel, &selected.device)?;
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let result = crate::evaluate::run(
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
        if terminal {
            eprintln!();
        }
        for (row, why) in &result.skipped {
            eprintln!("note: row {row} was skipped: {why}");
        }
        reports.push((model.clone(), result));
    }
    if args.json {
        let runs: Vec<serde_json::Value> = reports
            .iter()
            .map(|(model, r)| {
                serde_json::json!({
                    "model": model,
                    "dataset": args.dataset,
                    "config": config,
                    "split": split_name,
                    "task": mapping.panel.label(),
                    "input_column": mapping.input,
                    "reference_column": mapping.reference,
                    "rows": r.rows.len(),
                    "skipped": r.skipped.len(),
                    "metrics": r.scores.iter().map(|s| (s.metric.label().to_string(), serde_json::json!(s.score))).collect::<serde_json::Map<_, _>>(),
                    "intervals": r.scores.iter().map(|s| (s.metric.label().to_string(), serde_json::json!(s.interval))).collect::<serde_json::Map<_, _>>(),
                    "speed": r.speed,
                    "predictions": r.rows.iter().map(|row| serde_json::json!({
                        "row_idx": row.row_idx,
                        "prediction": row.prediction,
                        "reference": row.reference,
                        "references": row.references,
                        "seconds": row.seconds,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let out = if runs.len() == 1 {
            runs.into_iter().next().unwrap_or_default()
        } else {
            serde_json::json!({"runs": runs})
        };
        outln!("{out}");
    } else {
        for (model, r) in &reports {
            outln!(
                "{model} on {} ({config}/{split_name}, {} rows):",
                args.dataset,
                r.rows.len()
            );
            for s in &r.scores {
                let ci = s
                    .interval
                    .map(|i| format!(" (95 % interval {:.4}–{:.4})", i.low, i.high))
                    .unwrap_or_default();
                outln!("  {} = {:.4}{ci}", s.metric.label().to_uppercase(), s.score);
            }
            let sp = &r.speed;
            let rate = match (sp.rtfx, sp.tokens_per_second) {
                (Some(x), _) => format!("{x:.1}× faster than real time"),
                (_, Some(t)) => format!("{t:.1} tokens/s"),
                _ => String::new(),
            };
            outln!(
                "  speed: {rate}, {:.2} s a row, loaded in {:.2} s",
                sp.seconds_per_row,
                sp.load_seconds
            );
        }
    }
    Ok(())
}
