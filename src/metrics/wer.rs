//! Word and character error rates as `jiwer` 4 (and `evaluate`'s `wer`
//! and `cer`) compute them: over a corpus, Σ(S + D + I) / Σ(S + D + H) —
//! the edit distances summed over the reference lengths summed. Words
//! are what jiwer's default transform leaves: runs of two or more white
//! space characters made one space, the ends stripped, then split on the
//! space (a lone tab stays inside a word); characters are the stripped
//! text's characters, spaces included. No lower-casing or punctuation
//! removal. A corpus whose references are all empty scores its
//! insertions. With several references, the first is used.

use super::{Metric, py_space, py_strip};

/// Words or characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Word,
    Char,
}

/// WER or CER.
#[derive(Clone, Copy, Debug)]
pub struct ErrorRate {
    pub unit: Unit,
}

/// jiwer's words: `\s\s+` → " ", strip, split on " ".
pub fn words(s: &str) -> Vec<String> {
    let mut collapsed = String::with_capacity(s.len());
    let mut run = String::new();
    for c in s.chars().chain(std::iter::once('x')) {
        if py_space(c) {
            run.push(c);
            continue;
        }
        // A run of two or more becomes one space; one stays as it is.
        if run.chars().count() >= 2 {
            collapsed.push(' ');
        } else {
            collapsed.push_str(&run);
        }
        run.clear();
        collapsed.push(c);
    }
    collapsed.pop(); // the sentinel
    py_strip(&collapsed)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The Levenshtein distance between two sequences (unit costs).
pub fn distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    if a.is_empty() {
        return b.len();
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = if x == y {
                diag
            } else {
                1 + diag.min(up).min(row[j])
            };
            diag = up;
        }
    }
    row[b.len()]
}

impl Metric for ErrorRate {
    /// `[edits, reference length]`.
    fn segment(&self, hypothesis: &str, references: &[&str]) -> Vec<f64> {
        let reference = references.first().copied().unwrap_or("");
        let (edits, len) = match self.unit {
            Unit::Word => {
                let r = words(reference);
                (distance(&r, &words(hypothesis)), r.len())
            }
            Unit::Char => {
                let r: Vec<char> = py_strip(reference).chars().collect();
                let h: Vec<char> = py_strip(hypothesis).chars().collect();
                (distance(&r, &h), r.len())
            }
        };
        vec![edits as f64, len as f64]
    }

    fn score(&self, t: &[f64]) -> f64 {
        match t {
            [edits, len] if *len > 0.0 => edits / len,
            // Empty references: the insertions themselves.
            [edits, _] => *edits,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_as_jiwer_splits_them() {
        assert_eq!(words("  a  b\tc d\t\te "), ["a", "b\tc", "d", "e"]);
        assert_eq!(words("x"), ["x"]);
        assert!(words(" \t ").is_empty());
    }

    #[test]
    fn corpus_rates_sum_edits_over_reference_lengths() {
        let wer = ErrorRate { unit: Unit::Word };
        let stats = wer.corpus_stats(
            &["x y".into(), "a b".into()],
            &[vec![Some(String::new()), Some("a b".into())]],
        );
        assert_eq!(wer.score(&super::super::totals(&stats)), 1.0);
        let cer = ErrorRate { unit: Unit::Char };
        let stats = cer.corpus_stats(
            &["a".into(), "xy".into()],
            &[vec![Some("ab ".into()), Some(String::new())]],
        );
        assert_eq!(cer.score(&super::super::totals(&stats)), 1.5);
        assert_eq!(distance(&["a", "b", "c"], &["a", "c", "d"]), 2);
    }
}
