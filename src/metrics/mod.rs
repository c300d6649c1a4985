//! How good an output is against references, computed exactly as the
//! packages people trust compute it: word and character error rates as
//! `jiwer` (and `evaluate`) do ([`wer`]), sacreBLEU's BLEU with its 13a
//! tokenisation and chrF/chrF++ ([`sacrebleu`]), COCO's BLEU-4 and
//! CIDEr-D as `pycocoevalcap` does ([`coco`]), and confidence intervals
//! and paired significance by bootstrap resampling as sacreBLEU does them
//! ([`bootstrap`]). Every metric works on per-segment sufficient
//! statistics that sum over a corpus, so a resample re-scores without
//! re-reading the text. No egui, no models: text in, numbers out.

pub mod bootstrap;
pub mod coco;
pub mod diff;
pub mod english;
pub mod normalize;
pub mod sacrebleu;
pub mod wer;

use sacrebleu::{Bleu, Chrf};
use wer::{ErrorRate, Unit};

/// The metrics Spaceport computes, by the names the CLI takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    Wer,
    Cer,
    Bleu,
    Chrf,
    #[serde(rename = "chrf++")]
    ChrfPlusPlus,
    Bleu4,
    Cider,
}

impl MetricKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "wer" => Self::Wer,
            "cer" => Self::Cer,
            "bleu" => Self::Bleu,
            "chrf" => Self::Chrf,
            "chrf++" => Self::ChrfPlusPlus,
            "bleu4" => Self::Bleu4,
            "cider" => Self::Cider,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Wer => "wer",
            Self::Cer => "cer",
            Self::Bleu => "bleu",
            Self::Chrf => "chrf",
            Self::ChrfPlusPlus => "chrf++",
            Self::Bleu4 => "bleu4",
            Self::Cider => "cider",
        }
    }

    pub fn metric(self) -> Box<dyn Metric> {
        match self {
            Self::Wer => Box::new(ErrorRate { unit: Unit::Word }),
            Self::Cer => Box::new(ErrorRate { unit: Unit::Char }),
            Self::Bleu => Box::new(Bleu),
            Self::Chrf => Box::new(Chrf { word_order: 0 }),
            Self::ChrfPlusPlus => Box::new(Chrf { word_order: 2 }),
            Self::Bleu4 => Box::new(coco::CocoBleu),
            Self::Cider => Box::new(coco::Cider),
        }
    }

    /// The name people know it by.
    pub fn title(self) -> &'static str {
        match self {
            Self::Wer => "WER",
            Self::Cer => "CER",
            Self::Bleu => "BLEU",
            Self::Chrf => "chrF",
            Self::ChrfPlusPlus => "chrF++",
            Self::Bleu4 => "BLEU-4",
            Self::Cider => "CIDEr-D",
        }
    }

    /// A score as the reference package prints it: sacreBLEU's 0–100
    /// scores to two places, fractions (WER, CER, BLEU-4, CIDEr) to four.
    pub fn show(self, score: f64) -> String {
        if self.hundred() {
            format!("{score:.2}")
        } else {
            format!("{score:.4}")
        }
    }

    /// Whether the score is on sacreBLEU's 0–100 scale.
    pub fn hundred(self) -> bool {
        matches!(self, Self::Bleu | Self::Chrf | Self::ChrfPlusPlus)
    }

    /// Whether a lower score is better.
    pub fn lower_is_better(self) -> bool {
        matches!(self, Self::Wer | Self::Cer)
    }

    /// What a task is scored with unless told otherwise.
    pub fn defaults(panel: crate::catalog::Panel) -> Vec<MetricKind> {
        match panel {
            crate::catalog::Panel::Transcribe => vec![Self::Wer, Self::Cer],
            crate::catalog::Panel::Translate => vec![Self::Bleu, Self::Chrf],
            crate::catalog::Panel::Caption => vec![Self::Bleu4, Self::Cider],
        }
    }
}

/// A corpus metric over per-segment statistics that add up.
pub trait Metric {
    /// The statistics of one segment: a hypothesis against its
    /// references (one or more).
    fn segment(&self, hypothesis: &str, references: &[&str]) -> Vec<f64>;
    /// The corpus score from summed statistics.
    fn score(&self, totals: &[f64]) -> f64;
    /// The statistics of every segment, `references[k][i]` being the
    /// k-th reference of segment i (`None`: that segment has fewer).
    fn corpus_stats(
        &self,
        hypotheses: &[String],
        references: &[Vec<Option<String>>],
    ) -> Vec<Vec<f64>> {
        hypotheses
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let refs: Vec<&str> = references
                    .iter()
                    .filter_map(|stream| stream.get(i).and_then(|r| r.as_deref()))
                    .collect();
                self.segment(h, &refs)
            })
            .collect()
    }
}

/// Sums segment statistics.
pub fn totals(stats: &[Vec<f64>]) -> Vec<f64> {
    let width = stats.first().map_or(0, Vec::len);
    let mut out = vec![0.0; width];
    for s in stats {
        for (o, v) in out.iter_mut().zip(s) {
            *o += v;
        }
    }
    out
}

/// Python's `str.isspace` for one character: Unicode white space and the
/// four information separators (U+001C–U+001F) that Python counts too.
pub fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `re.sub(r"\s+", " ", s)` with Python's white space.
pub fn py_collapse_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_space = false;
    for c in s.chars() {
        if py_space(c) {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

/// Python's `str.split()` (no argument): runs of white space separate,
/// none at the ends.
pub fn py_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(py_space).filter(|w| !w.is_empty())
}

/// Python's `str.strip()` / `rstrip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(py_space)
}

pub fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(py_space)
}
