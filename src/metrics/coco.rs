//! The COCO caption metrics as `pycocoevalcap` 1.2 computes them on
//! tokenised lower-case text:
//!
//! - BLEU-4 (`bleu_scorer.py`): word 1–4 grams, reference counts the
//!   maximum over the references, the closest reference length (ties:
//!   the shorter), corpus counts summed; the cumulative product of
//!   (correct + 1e-15) / (guessed + 1e-9) to the power 1/4, times
//!   exp(1 − 1/ratio) when the ratio (hyp + 1e-15) / (ref + 1e-9) is below
//!   one. On a 0–1 scale.
//! - CIDEr-D (`cider_scorer.py`): 1–4 gram TF-IDF vectors with the
//!   document frequencies of the evaluated set's own references (log of
//!   the number of images minus log df, df at least 1), per order the
//!   clipped cosine Σ min(h, r)·r / (|h|·|r|) times a Gaussian penalty
//!   exp(−δ²/2σ²), σ = 6, on the difference of the two sides' *bigram*
//!   counts (as the package counts length), averaged over the orders and
//!   the references, × 10; the corpus score is the mean over images.
//!
//! Captions are tokenised first ([`tokenize`]): lower case, PTB-style
//! punctuation dropped — an approximation of the Java PTB tokenizer the
//! package calls; already tokenised lower-case text passes unchanged.

use std::collections::HashMap;

use super::{Metric, py_split};

/// The punctuation pycocoevalcap's tokenizer drops, and the characters
/// split off words here to find it.
const DROPPED: &[&str] = &[
    "''", "'", "``", "`", "-lrb-", "-rrb-", "-lcb-", "-rcb-", ".", "?", "!", ",", ":", "-", "--",
    "...", ";",
];

/// Lower case, punctuation marks split off words and dropped.
pub fn tokenize(s: &str) -> String {
    let lower = s.to_lowercase();
    let mut spaced = String::with_capacity(lower.len() + 8);
    for c in lower.chars() {
        if matches!(
            c,
            '.' | '?' | '!' | ',' | ':' | ';' | '"' | '(' | ')' | '[' | ']' | '{' | '}'
        ) {
            spaced.push(' ');
            spaced.push(c);
            spaced.push(' ');
        } else {
            spaced.push(c);
        }
    }
    py_split(&spaced)
        .filter(|w| !DROPPED.contains(w) && !matches!(*w, "\"" | "(" | ")" | "[" | "]" | "{" | "}"))
        .collect::<Vec<_>>()
        .join(" ")
}

type Counts = HashMap<Vec<String>, f64>;
/// n-gram counts in the order first seen.
type Grams = Vec<(Vec<String>, f64)>;

/// n-gram counts of orders 1..=4 (insertion order kept for sums).
fn precook(s: &str) -> Grams {
    let words: Vec<&str> = py_split(s).collect();
    let mut order: Vec<(Vec<String>, f64)> = Vec::new();
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    for k in 1..=4 {
        for w in words.windows(k) {
            let g: Vec<String> = w.iter().map(|s| s.to_string()).collect();
            match index.get(&g) {
                Some(&i) => order[i].1 += 1.0,
                None => {
                    index.insert(g.clone(), order.len());
                    order.push((g, 1.0));
                }
            }
        }
    }
    order
}

/// COCO BLEU-4.
#[derive(Clone, Copy, Debug, Default)]
pub struct CocoBleu;

const TINY: f64 = 1e-15;
const SMALL: f64 = 1e-9;

impl Metric for CocoBleu {
    /// `[testlen, reflen, guess1..4, correct1..4]`.
    fn segment(&self, hypothesis: &str, references: &[&str]) -> Vec<f64> {
        let hyp = tokenize(hypothesis);
        let test_words = py_split(&hyp).count();
        let mut max: Counts = HashMap::new();
        let mut lens = Vec::new();
        for r in references {
            let r = tokenize(r);
            lens.push(py_split(&r).count());
            for (g, c) in precook(&r) {
                let e = max.entry(g).or_default();
                *e = e.max(c);
            }
        }
        // min((|l − testlen|, l)): the closest, ties to the shorter.
        let reflen = lens
            .iter()
            .map(|&l| (l.abs_diff(test_words), l))
            .min()
            .map_or(0, |(_, l)| l);
        let mut correct = [0.0; 4];
        for (g, c) in precook(&hyp) {
            correct[g.len() - 1] += c.min(max.get(&g).copied().unwrap_or(0.0));
        }
        let mut out = vec![test_words as f64, reflen as f64];
        out.extend((1..=4).map(|k| (test_words + 1).saturating_sub(k) as f64));
        out.extend(correct);
        out
    }

    fn score(&self, t: &[f64]) -> f64 {
        if t.len() != 10 {
            return 0.0;
        }
        let mut bleu = 1.0;
        let mut last = 0.0;
        for k in 0..4 {
            bleu *= (t[6 + k] + TINY) / (t[2 + k] + SMALL);
            last = bleu.powf(1.0 / (k as f64 + 1.0));
        }
        let ratio = (t[0] + TINY) / (t[1] + SMALL);
        if ratio < 1.0 {
            last *= (1.0 - 1.0 / ratio).exp();
        }
        last
    }
}

/// CIDEr-D; its per-image scores are its statistics (`[score, 1]`), so
/// a bootstrap resample averages them (the IDF stays the whole set's).
#[derive(Clone, Copy, Debug, Default)]
pub struct Cider;

const SIGMA: f64 = 6.0;

impl Cider {
    /// The per-image scores of `hyps` against `refs` (each image's
    /// references), IDF from these references.
    pub fn image_scores(hyps: &[String], refs: &[Vec<String>]) -> Vec<f64> {
        let tests: Vec<Grams> = hyps.iter().map(|h| precook(&tokenize(h))).collect();
        let crefs: Vec<Vec<Grams>> = refs
            .iter()
            .map(|rs| rs.iter().map(|r| precook(&tokenize(r))).collect())
            .collect();
        let mut df: HashMap<&[String], f64> = HashMap::new();
        for rs in &crefs {
            let mut seen: std::collections::HashSet<&[String]> = Default::default();
            for r in rs {
                for (g, _) in r {
                    seen.insert(g.as_slice());
                }
            }
            for g in seen {
                *df.entry(g).or_default() += 1.0;
            }
        }
        let ref_len = (crefs.len() as f64).ln();
        let vec = |cnts| tfidf(cnts, &df, ref_len);
        tests
            .iter()
            .zip(&crefs)
            .map(|(t, rs)| {
                let (vh, nh, lh) = vec(t);
                let mut score = [0.0f64; 4];
                for r in rs {
                    let (vr, nr, lr) = vec(r);
                    let delta: f64 = lh - lr;
                    for n in 0..4 {
                        let mut val = 0.0;
                        for (g, h) in &vh[n] {
                            let rv = vr[n].get(g).copied().unwrap_or(0.0);
                            val += h.min(rv) * rv;
                        }
                        if nh[n] != 0.0 && nr[n] != 0.0 {
                            val /= nh[n] * nr[n];
                        }
                        val *= std::f64::consts::E.powf(-(delta * delta) / (2.0 * SIGMA * SIGMA));
                        score[n] += val;
                    }
                }
                let mean = score.iter().sum::<f64>() / 4.0;
                mean / rs.len().max(1) as f64 * 10.0
            })
            .collect()
    }
}

/// TF-IDF vectors by order, their norms, and the bigram count (the
/// package's "length").
#[allow(clippy::type_complexity)]
fn tfidf<'a>(
    cnts: &'a [(Vec<String>, f64)],
    df: &HashMap<&[String], f64>,
    ref_len: f64,
) -> (Vec<HashMap<&'a [String], f64>>, [f64; 4], f64) {
    let mut v: Vec<HashMap<&[String], f64>> = vec![HashMap::new(); 4];
    let mut norm = [0.0f64; 4];
    let mut length = 0.0;
    for (g, tf) in cnts {
        let d = df.get(g.as_slice()).copied().unwrap_or(0.0).max(1.0).ln();
        let n = g.len() - 1;
        let w = tf * (ref_len - d);
        v[n].insert(g.as_slice(), w);
        norm[n] += w.powi(2);
        if n == 1 {
            length += tf;
        }
    }
    (v, norm.map(f64::sqrt), length)
}

impl Metric for Cider {
    fn segment(&self, hypothesis: &str, references: &[&str]) -> Vec<f64> {
        let s = Cider::image_scores(
            &[hypothesis.to_string()],
            &[references.iter().map(|r| r.to_string()).collect()],
        );
        vec![s[0], 1.0]
    }

    fn corpus_stats(
        &self,
        hypotheses: &[String],
        references: &[Vec<Option<String>>],
    ) -> Vec<Vec<f64>> {
        let refs: Vec<Vec<String>> = (0..hypotheses.len())
            .map(|i| {
                references
                    .iter()
                    .filter_map(|stream| stream.get(i).and_then(|r| r.clone()))
                    .collect()
            })
            .collect();
        Cider::image_scores(hypotheses, &refs)
            .into_iter()
            .map(|s| vec![s, 1.0])
            .collect()
    }

    fn score(&self, t: &[f64]) -> f64 {
        match t {
            [sum, n] if *n > 0.0 => sum / n,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_a_small_set_as_pycocoevalcap() {
        // pycocoevalcap 1.2 on these captions: BLEU-4 0.00012014057066043359,
        // CIDEr-D 3.314105889414139.
        let hyps = vec!["a cat on a mat".to_string(), "a dog running".to_string()];
        let refs = vec![
            vec![
                Some("a cat sits on a mat".to_string()),
                Some("a dog runs".to_string()),
            ],
            vec![
                Some("a cat on the mat".to_string()),
                Some("the dog is running fast".to_string()),
            ],
        ];
        let b = CocoBleu.score(&super::super::totals(&CocoBleu.corpus_stats(&hyps, &refs)));
        assert!((b - 0.00012014057066043359).abs() < 1e-12, "{b}");
        let c = Cider.score(&super::super::totals(&Cider.corpus_stats(&hyps, &refs)));
        assert!((c - 3.314105889414139).abs() < 1e-9, "{c}");
        assert_eq!(tokenize("A man, riding (a) horse."), "a man riding a horse");
    }
}
