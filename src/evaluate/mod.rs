//! Evaluation runs: a model over the rows of a dataset split — its input
//! column through the model, its output scored against the reference
//! column with [`crate::metrics`] — timed per row. Which demo the data
//! fits (audio + text → Transcribe, a translation pair → Translate, a
//! picture + captions → Caption) and which columns feed it come from the
//! dataset's features ([`crate::datasets::features::fit`]), or are given.
//! The CLI's `evaluate` and the Evaluate page share it; it knows no
//! window and no worker. Finished runs are kept as [`record::RunRecord`]s
//! (with what was run, on what, and where) and set side by side by
//! [`compare`].

pub mod compare;
pub mod measured;
pub mod record;

use std::path::Path;
use std::time::Instant;

use crate::catalog::Panel;
use crate::datasets::{AnySplit, DataError, Feature, Fit, Row, Value};
pub use crate::metrics::MetricKind;
use crate::metrics::bootstrap::{self, Interval};
use crate::metrics::normalize::Normalize;
use crate::metrics::totals;
use crate::tasks::TaskError;
use crate::work::CancelToken;

/// Which columns feed the model, and which demo it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    pub panel: Panel,
    pub input: String,
    pub reference: String,
    /// For a translation pair: the source and target language codes.
    pub languages: Option<(String, String)>,
}

impl Mapping {
    /// The mapping the features suggest, with the given columns put in.
    pub fn guess(
        features: &[(String, Feature)],
        input: Option<&str>,
        reference: Option<&str>,
    ) -> Result<Mapping, String> {
        let fit = crate::datasets::features::fit(features);
        let (panel, guessed_input, guessed_ref) = match &fit {
            Fit::Demo {
                panel,
                input,
                reference,
            } => (*panel, input.clone(), reference.clone()),
            other => {
                if input.is_none() {
                    return Err(format!(
                        "Which columns to evaluate on is not clear ({}); name them with --input-column and --reference-column.",
                        other.explain()
                    ));
                }
                (Panel::Translate, String::new(), None)
            }
        };
        let input = input.map(str::to_string).unwrap_or(guessed_input);
        let feature = |c: &str| features.iter().find(|(n, _)| n == c).map(|(_, f)| f);
        let Some(input_feature) = feature(&input) else {
            return Err(format!("There is no column \"{input}\"."));
        };
        let panel = match input_feature {
            Feature::Audio { .. } => Panel::Transcribe,
            Feature::Image => Panel::Caption,
            _ => panel,
        };
        let languages = match input_feature {
            Feature::Translation(l) if l.len() >= 2 => Some((l[0].clone(), l[1].clone())),
            _ => None,
        };
        let reference = match (reference, guessed_ref, &languages) {
            (Some(r), _, _) => r.to_string(),
            (None, _, Some(_)) => input.clone(),
            (None, Some(r), None) => r,
            (None, None, None) => {
                return Err(format!(
                    "This split has no column to use as the reference for \"{input}\"; name one with --reference-column."
                ));
            }
        };
        if feature(&reference).is_none() {
            return Err(format!("There is no column \"{reference}\"."));
        }
        Ok(Mapping {
            panel,
            input,
            reference,
            languages,
        })
    }

    /// Every reference text of a row (a list of captions gives them all).
    pub fn references_of(&self, row: &Row) -> Vec<String> {
        match row.get(&self.reference) {
            Some(Value::List(items)) if self.languages.is_none() => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => self.reference_of(row).into_iter().collect(),
        }
    }

    /// The reference text of a row (a list of captions gives its first;
    /// a translation pair its target side).
    pub fn reference_of(&self, row: &Row) -> Option<String> {
        let v = row.get(&self.reference)?;
        if let Some((_, to)) = &self.languages
            && self.reference == self.input
        {
            return v.field(to).and_then(Value::as_str).map(str::to_string);
        }
        match v {
            Value::Str(s) => Some(s.clone()),
            Value::List(items) => items.iter().find_map(|i| i.as_str().map(str::to_string)),
            _ => None,
        }
    }
}

/// A model loaded for one demo.
pub enum Runner {
    Transcribe(
        crate::tasks::transcribe::Transcriber,
        crate::tasks::transcribe::decode::TranscribeOptions,
    ),
    Translate(
        crate::tasks::translate::Translator,
        crate::tasks::translate::TranslateOptions,
    ),
    Caption(crate::tasks::caption::Captioner),
}

impl Runner {
    /// Loads the model in `dir` for `panel`; the seconds it took.
    pub fn load(
        dir: &Path,
        panel: Panel,
        device: &candle_core::Device,
    ) -> Result<(Runner, f64), TaskError> {
        Self::load_placed(dir, panel, &crate::tasks::nn::Placement::new(device))
    }

    /// [`Self::load`] with the device, precision and kernels of `place`.
    pub fn load_placed(
        dir: &Path,
        panel: Panel,
        place: &crate::tasks::nn::Placement,
    ) -> Result<(Runner, f64), TaskError> {
        let start = Instant::now();
        let runner = match panel {
            Panel::Transcribe => Runner::Transcribe(
                crate::tasks::transcribe::Transcriber::load_placed(dir, place)?,
                Default::default(),
            ),
            Panel::Translate => Runner::Translate(
                crate::tasks::translate::Translator::load_placed(dir, place)?,
                Default::default(),
            ),
            Panel::Caption => {
                Runner::Caption(crate::tasks::caption::Captioner::load_placed(dir, place)?)
            }
        };
        Ok((runner, start.elapsed().as_secs_f64()))
    }

    /// The model's output for one row's input cell, the input's size
    /// (audio seconds; source characters; 1 picture), the tokens (words
    /// for speech) made, and the seconds the model took (decoding the
    /// media is not counted).
    fn run(
        &self,
        cell: &Value,
        mapping: &Mapping,
        cancel: &CancelToken,
    ) -> Result<(String, f64, u64, f64), RowError> {
        let target = mapping.languages.as_ref().map(|(_, to)| to.as_str());
        match (self, cell) {
            (Runner::Transcribe(..), Value::Media(m)) => {
                let bytes = m.bytes.clone().ok_or(RowError::NoInput)?;
                let name = m.path.clone().unwrap_or_else(|| "audio".into());
                let audio = crate::audio::decode::decode_bytes(bytes, &name, 16_000)
                    .map_err(|e| RowError::Input(e.to_string()))?;
                let out = self.run_one(Input::Audio(&audio.samples), cancel)?;
                Ok((out.text, audio.duration_secs(), out.tokens, out.seconds))
            }
            (Runner::Translate(..), v) => {
                let text = match (&mapping.languages, v) {
                    (Some((from, _)), v) => v.field(from).and_then(Value::as_str),
                    (None, v) => v.as_str(),
                }
                .ok_or(RowError::NoInput)?;
                let out = self.run_one(Input::Text(text, target), cancel)?;
                Ok((
                    out.text,
                    text.chars().count() as f64,
                    out.tokens,
                    out.seconds,
                ))
            }
            (Runner::Caption(_), Value::Media(m)) => {
                let bytes = m.bytes.as_deref().ok_or(RowError::NoInput)?;
                let name = m.path.clone().unwrap_or_else(|| "picture".into());
                let img = crate::tasks::caption::image::decode(bytes, &name)
                    .map_err(|e| RowError::Input(e.to_string()))?;
                let out = self.run_one(Input::Picture(&img), cancel)?;
                Ok((out.text, 1.0, out.tokens, out.seconds))
            }
            _ => Err(RowError::NoInput),
        }
    }

    /// The model on one input already decoded: its output, the tokens
    /// (words for speech) made and the seconds it took.
    pub fn run_one(&self, input: Input<'_>, cancel: &CancelToken) -> Result<Output, TaskError> {
        let start = Instant::now();
        let (text, tokens) = match (self, input) {
            (Runner::Transcribe(t, opts), Input::Audio(samples)) => {
                let out = t.transcribe(samples, opts, cancel, &mut |_, _| {})?;
                let text = out.text.trim().to_string();
                let words = text.split_whitespace().count() as u64;
                (text, words)
            }
            (Runner::Translate(t, opts), Input::Text(text, target)) => {
                // A single-target model ignores the target; a multi-target
                // one needs it.
                let mut o = opts.clone();
                if o.target.is_none() {
                    o.target = target.map(str::to_string);
                }
                let out = t.translate(text, &o, cancel, &mut |_| {})?;
                let tokens = out.token_ids().len() as u64;
                (out.text, tokens)
            }
            (Runner::Caption(c), Input::Picture(img)) => {
                let out = c.caption(img, &Default::default(), cancel)?;
                let tokens = out.token_ids.len() as u64;
                (out.text, tokens)
            }
            _ => {
                return Err(TaskError::Model(
                    "this model takes another kind of input".into(),
                ));
            }
        };
        Ok(Output {
            text,
            tokens,
            seconds: start.elapsed().as_secs_f64(),
        })
    }
}

/// One input for [`Runner::run_one`].
#[derive(Clone, Copy)]
pub enum Input<'a> {
    /// 16 kHz mono samples.
    Audio(&'a [f32]),
    /// A text, and the language to translate into (for models with
    /// several targets).
    Text(&'a str, Option<&'a str>),
    Picture(&'a crate::tasks::caption::image::Rgb),
}

/// What [`Runner::run_one`] gives.
#[derive(Clone, Debug)]
pub struct Output {
    pub text: String,
    pub tokens: u64,
    pub seconds: f64,
}

/// Why one row was not evaluated.
#[derive(Debug, thiserror::Error)]
enum RowError {
    #[error("the row has no input the model can take")]
    NoInput,
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Task(#[from] TaskError),
}

/// One row's outcome.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RowResult {
    pub row_idx: u64,
    pub prediction: String,
    pub reference: String,
    /// Every reference (several captions of a picture); the first is
    /// `reference`.
    pub references: Vec<String>,
    /// Seconds the model took on it.
    pub seconds: f64,
    /// Audio seconds (speech), source characters (text) or 1 (a picture).
    pub input_size: f64,
    /// What the input was, to show: the source text (its first 300
    /// characters), or the file name of a recording or picture.
    #[serde(default)]
    pub input: Option<String>,
    /// Words (speech) or tokens generated.
    pub tokens: u64,
    /// The first metric on this row alone (its statistics within the
    /// run's corpus: CIDEr's IDF is the run's); none before scoring.
    #[serde(default)]
    pub score: Option<f64>,
}

/// A metric's corpus score and its interval.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Score {
    pub metric: MetricKind,
    pub score: f64,
    pub interval: Option<Interval>,
}

impl Score {
    /// "WER 0.1234 (95 % interval 0.1020–0.1460)".
    pub fn describe(&self) -> String {
        let m = self.metric;
        let ci = self
            .interval
            .map(|i| format!(" (95 % interval {}–{})", m.show(i.low), m.show(i.high)))
            .unwrap_or_default();
        format!("{} {}{ci}", m.title(), m.show(self.score))
    }
}

/// How fast the model ran, and in how much memory.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Speed {
    pub load_seconds: f64,
    pub model_seconds: f64,
    /// Audio seconds per second of compute (speech), else null.
    pub rtfx: Option<f64>,
    /// Tokens generated per second (translation, captions).
    pub tokens_per_second: Option<f64>,
    pub seconds_per_row: f64,
    /// The whole run from its first row read to its scores (the load
    /// not counted): what is not `model_seconds` is reading rows,
    /// decoding media and scoring.
    #[serde(default)]
    pub run_seconds: f64,
    /// The process's peak resident memory from the load to the end
    /// (Linux; none elsewhere), and how much above the resident memory
    /// before the load that is.
    #[serde(default)]
    pub peak_memory_bytes: Option<u64>,
    #[serde(default)]
    pub memory_added_bytes: Option<u64>,
}

/// A finished (or stopped) run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunResult {
    pub rows: Vec<RowResult>,
    /// Rows skipped, with why.
    pub skipped: Vec<(u64, String)>,
    pub scores: Vec<Score>,
    pub speed: Speed,
}

/// Scores `rows` with `metrics` (with a bootstrap interval), both sides
/// normalised by `norm` first; every reference of a row counts (a
/// picture's captions). Each row's `score` becomes the first metric's on
/// that row.
pub fn score_rows(rows: &mut [RowResult], metrics: &[MetricKind], norm: Normalize) -> Vec<Score> {
    let (hyps, refs) = normalised(rows, norm);
    let mut scores = Vec::new();
    for (i, &m) in metrics.iter().enumerate() {
        let metric = m.metric();
        let stats = metric.corpus_stats(&hyps, &refs);
        if i == 0 {
            for (row, s) in rows.iter_mut().zip(&stats) {
                row.score = Some(metric.score(s));
            }
        }
        scores.push(Score {
            metric: m,
            score: metric.score(&totals(&stats)),
            interval: (!stats.is_empty()).then(|| {
                bootstrap::confidence(metric.as_ref(), &stats, bootstrap::SAMPLES, bootstrap::SEED)
            }),
        });
    }
    scores
}

/// The rows' predictions and references (one list per reference
/// position, `None` where a row has fewer), normalised.
pub fn normalised(rows: &[RowResult], norm: Normalize) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let hyps = rows.iter().map(|r| norm.apply(&r.prediction)).collect();
    let most = rows
        .iter()
        .map(|r| r.references.len().max(1))
        .max()
        .unwrap_or(1);
    let refs = (0..most)
        .map(|k| {
            rows.iter()
                .map(|r| {
                    if r.references.is_empty() && k == 0 {
                        Some(norm.apply(&r.reference))
                    } else {
                        r.references.get(k).map(|t| norm.apply(t))
                    }
                })
                .collect()
        })
        .collect();
    (hyps, refs)
}

/// A row's input to show beside its output.
fn preview(cell: &Value, mapping: &Mapping) -> Option<String> {
    match cell {
        Value::Media(m) => m.path.clone(),
        v => {
            let text = match &mapping.languages {
                Some((from, _)) => v.field(from).and_then(Value::as_str),
                None => v.as_str(),
            }?;
            Some(text.chars().take(300).collect())
        }
    }
}

/// The first metric on one row alone, for the table while a run streams
/// (CIDEr needs the whole run's IDF: none until the end).
fn row_score(row: &RowResult, metric: MetricKind, norm: Normalize) -> Option<f64> {
    if metric == MetricKind::Cider {
        return None;
    }
    let m = metric.metric();
    let hyp = norm.apply(&row.prediction);
    let refs: Vec<String> = row.references.iter().map(|r| norm.apply(r)).collect();
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    Some(m.score(&m.segment(&hyp, &refs)))
}

/// Runs `runner` over rows `0..limit` of `split`: each row handed to
/// `on_row` as it finishes (`on_skip` for one that could not be run).
#[allow(clippy::too_many_arguments)]
pub fn run(
    runner: &Runner,
    load_seconds: f64,
    split: &AnySplit,
    mapping: &Mapping,
    limit: u64,
    (metrics, norm): (&[MetricKind], Normalize),
    cancel: &CancelToken,
    on_row: &mut dyn FnMut(&RowResult, u64),
) -> Result<RunResult, DataError> {
    let began = Instant::now();
    let total = split.num_rows().min(limit);
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    let mut failure: Option<TaskError> = None;
    split
        .for_each_row(0, total, cancel, &mut |row| {
            let references = mapping.references_of(&row);
            let Some(reference) = references.first().cloned() else {
                skipped.push((row.index, "no reference text".to_string()));
                return Ok(());
            };
            let Some(cell) = row.get(&mapping.input) else {
                skipped.push((row.index, "no input".to_string()));
                return Ok(());
            };
            match runner.run(cell, mapping, cancel) {
                Ok((prediction, input_size, tokens, seconds)) => {
                    let mut r = RowResult {
                        row_idx: row.index,
                        prediction,
                        reference,
                        references,
                        seconds,
                        input_size,
                        input: preview(cell, mapping),
                        tokens,
                        score: None,
                    };
                    r.score = metrics.first().and_then(|&m| row_score(&r, m, norm));
                    on_row(&r, total);
                    rows.push(r);
                    Ok(())
                }
                Err(RowError::Task(TaskError::Cancelled)) => Err(DataError::Cancelled),
                Err(RowError::Task(e)) if !matches!(e, TaskError::Model(_)) => {
                    // Not this row but the model (its files, its target
                    // language): stop, and say so.
                    failure = Some(e);
                    Err(DataError::Cancelled)
                }
                Err(e) => {
                    skipped.push((row.index, e.to_string()));
                    Ok(())
                }
            }
        })
        .or_else(|e| match (&e, &failure) {
            (DataError::Cancelled, None) if !rows.is_empty() => Ok(()),
            _ => Err(e),
        })?;
    if let Some(e) = failure {
        return Err(DataError::Unsupported(e.to_string()));
    }
    let model_seconds: f64 = rows.iter().map(|r| r.seconds).sum();
    let input: f64 = rows.iter().map(|r| r.input_size).sum();
    let tokens: u64 = rows.iter().map(|r| r.tokens).sum();
    let mut speed = Speed {
        load_seconds,
        model_seconds,
        rtfx: (mapping.panel == Panel::Transcribe && model_seconds > 0.0)
            .then(|| input / model_seconds),
        tokens_per_second: (mapping.panel != Panel::Transcribe && model_seconds > 0.0)
            .then(|| tokens as f64 / model_seconds),
        seconds_per_row: model_seconds / rows.len().max(1) as f64,
        ..Default::default()
    };
    let scores = score_rows(&mut rows, metrics, norm);
    speed.run_seconds = began.elapsed().as_secs_f64();
    Ok(RunResult {
        scores,
        rows,
        skipped,
        speed,
    })
}
