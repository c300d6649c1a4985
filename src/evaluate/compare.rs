//! Runs side by side: two or more kept runs over the same split, scored
//! again on the rows they all finished (normalised as the first run was),
//! each against the first by sacreBLEU's paired bootstrap test (a verdict
//! in words with its p-value), with their speed and memory, and the rows
//! where their outputs score furthest apart.

use super::RowResult;
use super::record::RunRecord;
use crate::metrics::bootstrap::{self, Interval, Paired};
use crate::metrics::{MetricKind, totals};

/// One metric across the runs.
#[derive(Clone, Debug)]
pub struct MetricLine {
    pub metric: MetricKind,
    /// Each run's score and interval on the shared rows.
    pub scores: Vec<(f64, Interval)>,
    /// Run i (i ≥ 1) against the first: the test and its verdict.
    pub against_first: Vec<(Paired, String)>,
}

/// A row the runs disagree on.
#[derive(Clone, Debug)]
pub struct Disagreement {
    pub row_idx: u64,
    pub reference: String,
    pub outputs: Vec<String>,
    /// The first metric on the row, per run.
    pub scores: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct Comparison {
    /// The runs' names as shown (short model names, numbered when two
    /// runs share one).
    pub names: Vec<String>,
    /// How many rows all runs finished (the ones compared).
    pub rows: usize,
    pub metrics: Vec<MetricLine>,
    /// Rows by how far apart the runs' row scores are, widest first.
    pub disagreements: Vec<Disagreement>,
}

/// How many disagreeing rows are kept.
pub const DISAGREEMENTS: usize = 20;

/// Compares `runs` (the first is the baseline); a sentence when they
/// cannot be compared.
pub fn compare(runs: &[&RunRecord]) -> Result<Comparison, String> {
    let [first, rest @ ..] = runs else {
        return Err("Pick two or more runs to compare.".into());
    };
    if rest.is_empty() {
        return Err("Pick two or more runs to compare.".into());
    }
    for r in rest {
        if (&r.dataset, &r.config, &r.split, &r.reference_column)
            != (
                &first.dataset,
                &first.config,
                &first.split,
                &first.reference_column,
            )
        {
            return Err(format!(
                "{} ran on {} ({}/{}) and {} on {} ({}/{}); runs compare only on the same split.",
                first.short_model(),
                first.dataset,
                first.config,
                first.split,
                r.short_model(),
                r.dataset,
                r.config,
                r.split
            ));
        }
    }
    // The rows every run finished, in row order.
    let common: Vec<u64> = first
        .predictions
        .iter()
        .map(|p| p.row_idx)
        .filter(|i| {
            rest.iter()
                .all(|r| r.predictions.iter().any(|p| p.row_idx == *i))
        })
        .collect();
    if common.is_empty() {
        return Err("These runs have no finished row in common.".into());
    }
    let rows_of = |r: &RunRecord| -> Vec<RowResult> {
        common
            .iter()
            .filter_map(|i| r.predictions.iter().find(|p| p.row_idx == *i).cloned())
            .collect()
    };
    let norm = first.normalizer();
    let texts: Vec<_> = runs
        .iter()
        .map(|r| super::normalised(&rows_of(r), norm))
        .collect();
    let names = names(runs);
    let mut metrics = Vec::new();
    let mut row_scores: Vec<Vec<f64>> = Vec::new();
    for (k, s) in first.scores.iter().enumerate() {
        let metric = s.metric.metric();
        let stats: Vec<Vec<Vec<f64>>> = texts
            .iter()
            .map(|(hyps, refs)| metric.corpus_stats(hyps, refs))
            .collect();
        if k == 0 {
            row_scores = stats
                .iter()
                .map(|st| st.iter().map(|row| metric.score(row)).collect())
                .collect();
        }
        let scores = stats
            .iter()
            .map(|st| {
                (
                    metric.score(&totals(st)),
                    bootstrap::confidence(metric.as_ref(), st, bootstrap::SAMPLES, bootstrap::SEED),
                )
            })
            .collect();
        let against_first = stats[1..]
            .iter()
            .zip(&names[1..])
            .map(|(st, name)| {
                let p = bootstrap::paired(
                    metric.as_ref(),
                    &stats[0],
                    st,
                    bootstrap::SAMPLES,
                    bootstrap::SEED,
                );
                let v = bootstrap::verdict(s.metric, &p, &names[0], name);
                (p, v)
            })
            .collect();
        metrics.push(MetricLine {
            metric: s.metric,
            scores,
            against_first,
        });
    }
    let per_run: Vec<Vec<RowResult>> = runs.iter().map(|r| rows_of(r)).collect();
    let mut disagreements: Vec<Disagreement> = common
        .iter()
        .enumerate()
        .map(|(i, &row_idx)| Disagreement {
            row_idx,
            reference: per_run[0][i].reference.clone(),
            outputs: per_run
                .iter()
                .map(|rows| rows[i].prediction.clone())
                .collect(),
            scores: row_scores.iter().map(|s| s[i]).collect(),
        })
        .filter(|d| d.outputs.iter().any(|o| *o != d.outputs[0]))
        .collect();
    let spread = |d: &Disagreement| {
        let max = d.scores.iter().cloned().fold(f64::MIN, f64::max);
        let min = d.scores.iter().cloned().fold(f64::MAX, f64::min);
        max - min
    };
    disagreements.sort_by(|a, b| {
        spread(b)
            .total_cmp(&spread(a))
            .then(a.row_idx.cmp(&b.row_idx))
    });
    disagreements.truncate(DISAGREEMENTS);
    Ok(Comparison {
        names,
        rows: common.len(),
        metrics,
        disagreements,
    })
}

/// Short model names, numbered where two runs share one.
fn names(runs: &[&RunRecord]) -> Vec<String> {
    let short: Vec<&str> = runs.iter().map(|r| r.short_model()).collect();
    short
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if short.iter().filter(|t| *t == s).count() > 1 {
                let n = short[..=i].iter().filter(|t| *t == s).count();
                format!("{s} ({n})")
            } else {
                s.to_string()
            }
        })
        .collect()
}

impl Comparison {
    /// What `spaceport evaluate --json` prints for several models.
    pub fn to_json(&self) -> serde_json::Value {
        let metrics: serde_json::Map<_, _> = self
            .metrics
            .iter()
            .map(|m| {
                (
                    m.metric.label().to_string(),
                    serde_json::json!({
                        "scores": m.scores.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
                        "intervals": m.scores.iter().map(|(_, i)| *i).collect::<Vec<_>>(),
                        "against_first": m.against_first.iter().zip(&self.names[1..]).map(|((p, v), name)| serde_json::json!({
                            "system": name,
                            "baseline": self.names[0],
                            "p_value": p.p_value,
                            "verdict": v,
                        })).collect::<Vec<_>>(),
                    }),
                )
            })
            .collect();
        serde_json::json!({
            "names": self.names,
            "rows": self.rows,
            "metrics": metrics,
            "disagreements": self.disagreements.iter().map(|d| serde_json::json!({
                "row_idx": d.row_idx,
                "reference": d.reference,
                "outputs": d.outputs,
                "scores": d.scores,
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::record::{RunRecord, RunSetup};
    use crate::evaluate::{Mapping, RunResult, score_rows};
    use crate::metrics::normalize::Normalize;

    fn record(model: &str, outputs: &[&str], refs: &[&str]) -> RunRecord {
        let mut rows: Vec<RowResult> = outputs
            .iter()
            .zip(refs)
            .enumerate()
            .map(|(i, (o, r))| RowResult {
                row_idx: i as u64,
                prediction: o.to_string(),
                reference: r.to_string(),
                references: vec![r.to_string()],
                seconds: 0.1,
                input_size: 1.0,
                input: None,
                tokens: 3,
                score: None,
            })
            .collect();
        let scores = score_rows(&mut rows, &[MetricKind::Wer], Normalize::None);
        let setup = RunSetup {
            model: model.into(),
            model_revision: None,
            dataset: "d".into(),
            dataset_revision: None,
            config: "default".into(),
            split: "test".into(),
            mapping: Mapping {
                panel: crate::catalog::Panel::Transcribe,
                input: "audio".into(),
                reference: "text".into(),
                languages: None,
            },
            limit: None,
            normalize: Normalize::None,
            device: "CPU".into(),
        };
        let result = RunResult {
            rows,
            skipped: vec![],
            scores,
            speed: Default::default(),
        };
        RunRecord::new(setup, result, false)
    }

    #[test]
    fn the_better_run_wins_in_words_and_rows_are_ranked() {
        let refs: Vec<String> = (0..40)
            .map(|i| format!("the quick brown fox {i}"))
            .collect();
        let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
        let good: Vec<&str> = refs.clone();
        let bad: Vec<String> = refs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                if i % 2 == 0 {
                    format!("a slow red cat {i}")
                } else {
                    r.to_string()
                }
            })
            .collect();
        let bad: Vec<&str> = bad.iter().map(String::as_str).collect();
        let a = record("org/whisper-base", &good, &refs);
        let b = record("org/whisper-tiny.en", &bad, &refs);
        let c = compare(&[&b, &a]).unwrap();
        assert_eq!(c.names, ["whisper-tiny.en", "whisper-base"]);
        assert_eq!(c.rows, 40);
        let (p, verdict) = &c.metrics[0].against_first[0];
        assert!(p.p_value < 0.05);
        assert!(
            verdict.starts_with("whisper-base is better than whisper-tiny.en on WER, p = "),
            "{verdict}"
        );
        // The rows that differ, the widest gap first.
        assert_eq!(c.disagreements.len(), 20);
        assert_eq!(c.disagreements[0].scores, vec![0.8, 0.0]);
        // The same run twice: no difference, in words.
        let same = compare(&[&a, &a]).unwrap();
        assert_eq!(
            same.metrics[0].against_first[0].1,
            "whisper-base (2) and whisper-base (1) score the same on WER"
        );
        assert_eq!(same.names, ["whisper-base (1)", "whisper-base (2)"]);
        assert!(same.disagreements.is_empty());
        // A record survives its JSON.
        let back = RunRecord::from_json(&a.to_json().to_string()).unwrap();
        assert_eq!(back.metrics_json(), a.metrics_json());
        assert_eq!(back.predictions.len(), 40);
        // And its CSV: a header and a line a row, read back by a CSV reader.
        let csv_text = a.to_csv();
        assert!(
            csv_text.starts_with("row_idx,input,reference,prediction,wer,seconds,input_size\n")
        );
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv_text.as_bytes())
            .records()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(rows.len(), 40);
        assert_eq!(&rows[3][2], "the quick brown fox 3");
        assert!(compare(&[&a]).is_err());
        // Kept, listed newest first, a damaged file said in words, deleted.
        let tmp = tempfile::tempdir().unwrap();
        let store = crate::evaluate::record::RunStore::new(tmp.path());
        let (mut a2, mut b2) = (a.clone(), b.clone());
        b2.created += 1;
        store.save(&mut a2).unwrap();
        store.save(&mut b2).unwrap();
        let mut again = a.clone();
        store.save(&mut again).unwrap();
        assert_ne!(
            again.id, a2.id,
            "a second run with the same id gets its own"
        );
        std::fs::write(tmp.path().join("runs/broken.json"), "{").unwrap();
        let (runs, problems) = store.list();
        assert_eq!(runs.len(), 3);
        assert_eq!(runs[0].id, b2.id);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("broken.json was skipped: not a Spaceport run"));
        store.delete(&b2.id).unwrap();
        assert_eq!(store.list().0.len(), 2);
        assert!(store.delete("no-such-run").is_err());
    }
}
