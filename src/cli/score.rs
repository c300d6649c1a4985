//! `spaceport score`: a metric over a predictions file against one or
//! more reference files, line by line — as `jiwer`, sacreBLEU compute it
//! ([`crate::metrics`]), with a bootstrap 95 % interval.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{CliError, outln};
use crate::metrics::bootstrap::{self, Interval};
use crate::metrics::sacrebleu::{Bleu, Chrf};
use crate::metrics::{MetricKind, totals};

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// wer, cer (fractions, as jiwer), bleu, chrf, chrf++ (0–100, as
    /// sacreBLEU), bleu4 (0–1) and cider (as pycocoevalcap, on tokenised
    /// lower-case text).
    #[arg(long)]
    pub metric: String,
    /// One prediction a line.
    #[arg(long)]
    pub predictions: PathBuf,
    /// One reference a line, aligned with the predictions; give it again
    /// for more references (an empty line in a second file: none there).
    #[arg(long, required = true)]
    pub references: Vec<PathBuf>,
    /// Normalise predictions and references first: none, basic (Whisper's
    /// BasicTextNormalizer: lower case, bracketed text, symbols and
    /// punctuation dropped), whisper-en (OpenAI's English normaliser:
    /// also numbers, currencies, contractions, British spellings).
    #[arg(long, default_value = "none")]
    pub normalize: String,
    /// Bootstrap resamples for the interval (0: none).
    #[arg(long, default_value_t = bootstrap::SAMPLES)]
    pub samples: usize,
    /// A baseline's predictions: sacreBLEU's paired bootstrap test of the
    /// predictions against it (`paired`: baseline, system, p_value).
    #[arg(long)]
    pub paired_with: Option<PathBuf>,
    /// metric, score, ci_low, ci_high, ci_mean, ci_half_width, segments,
    /// and signature for sacreBLEU's metrics.
    #[arg(long)]
    pub json: bool,
}

/// A file's lines: split on `\n`, a `\r` before it dropped, no last empty
/// line for a file that ends with a line break.
pub fn read_lines(path: &Path) -> Result<Vec<String>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            CliError::Missing(format!("{} was not found.", path.display()))
        }
        std::io::ErrorKind::InvalidData => {
            CliError::Input(format!("{} is not UTF-8 text.", path.display()))
        }
        _ => CliError::Missing(format!("Could not read {}: {e}.", path.display())),
    })?;
    let mut lines: Vec<String> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect();
    if text.ends_with('\n') || text.is_empty() {
        lines.pop();
    }
    Ok(lines)
}

pub fn run(args: ScoreArgs) -> Result<(), CliError> {
    let kind = MetricKind::parse(&args.metric).ok_or_else(|| {
        CliError::Input(format!(
            "Unknown metric \"{}\": use wer, cer, bleu, chrf, chrf++, bleu4 or cider.",
            args.metric
        ))
    })?;
    let norm =
        crate::metrics::normalize::Normalize::parse(&args.normalize).map_err(CliError::Input)?;
    let predictions: Vec<String> = read_lines(&args.predictions)?
        .iter()
        .map(|l| norm.apply(l))
        .collect();
    let mut references = Vec::new();
    for (k, path) in args.references.iter().enumerate() {
        let lines = read_lines(path)?;
        if lines.len() != predictions.len() {
            return Err(CliError::Input(format!(
                "{} has {} lines and {} has {}; they must match line for line.",
                args.predictions.display(),
                predictions.len(),
                path.display(),
                lines.len()
            )));
        }
        // A second or later reference file may leave a line empty: that
        // segment has fewer references (as sacreBLEU's None).
        references.push(
            lines
                .into_iter()
                .map(|l| (k == 0 || !l.is_empty()).then(|| norm.apply(&l)))
                .collect::<Vec<_>>(),
        );
    }
    let metric = kind.metric();
    let stats = metric.corpus_stats(&predictions, &references);
    let score = metric.score(&totals(&stats));
    let interval = (args.samples > 0 && !stats.is_empty())
        .then(|| bootstrap::confidence(metric.as_ref(), &stats, args.samples, bootstrap::SEED));
    let nrefs = {
        let counts: std::collections::BTreeSet<usize> = (0..predictions.len())
            .map(|i| references.iter().filter(|r| r[i].is_some()).count())
            .collect();
        (counts.len() <= 1).then(|| counts.into_iter().next().unwrap_or(references.len()))
    };
    let signature = match kind {
        MetricKind::Bleu => Some(Bleu::signature(nrefs)),
        MetricKind::Chrf => Some(Chrf { word_order: 0 }.signature(nrefs)),
        MetricKind::ChrfPlusPlus => Some(Chrf { word_order: 2 }.signature(nrefs)),
        _ => None,
    };
    // Fractions to four places; sacreBLEU's 0–100 scores to two.
    let fraction = !matches!(
        kind,
        MetricKind::Bleu | MetricKind::Chrf | MetricKind::ChrfPlusPlus
    );
    let paired = match &args.paired_with {
        Some(path) => {
            let baseline: Vec<String> = read_lines(path)?.iter().map(|l| norm.apply(l)).collect();
            if baseline.len() != predictions.len() {
                return Err(CliError::Input(format!(
                    "{} has {} lines and {} has {}; they must match line for line.",
                    path.display(),
                    baseline.len(),
                    args.predictions.display(),
                    predictions.len()
                )));
            }
            let base_stats = metric.corpus_stats(&baseline, &references);
            Some(bootstrap::paired(
                metric.as_ref(),
                &base_stats,
                &stats,
                args.samples.max(1),
                bootstrap::SEED,
            ))
        }
        None => None,
    };
    if args.json {
        let mut o = serde_json::json!({
            "metric": kind.label(),
            "score": score,
            "segments": predictions.len(),
        });
        if let Some(Interval {
            mean,
            half_width,
            low,
            high,
        }) = interval
        {
            o["ci_low"] = low.into();
            o["ci_high"] = high.into();
            o["ci_mean"] = mean.into();
            o["ci_half_width"] = half_width.into();
            o["ci_samples"] = args.samples.into();
        }
        if let Some(s) = &signature {
            o["signature"] = s.clone().into();
        }
        if let Some(p) = &paired {
            o["paired"] = serde_json::json!({
                "baseline": p.baseline, "system": p.system, "p_value": p.p_value,
            });
        }
        outln!("{o}");
    } else {
        let shown = if fraction {
            format!("{score:.4}")
        } else {
            format!("{score:.2}")
        };
        let ci = interval
            .map(|i| {
                if fraction {
                    format!(" (95 % interval {:.4}–{:.4})", i.low, i.high)
                } else {
                    format!(" (95 % interval {:.2}–{:.2})", i.low, i.high)
                }
            })
            .unwrap_or_default();
        outln!(
            "{} = {shown}{ci}{}",
            kind.label().to_uppercase(),
            signature.map(|s| format!("  {s}")).unwrap_or_default()
        );
        if let Some(p) = paired {
            outln!(
                "against the baseline ({}): {}",
                kind.show(p.baseline),
                bootstrap::verdict(kind, &p, "the baseline", "these predictions")
            );
        }
    }
    Ok(())
}
