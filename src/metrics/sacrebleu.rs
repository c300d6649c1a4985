//! sacreBLEU's corpus BLEU and chrF/chrF++ (sacrebleu 2.6.0), rule for
//! rule:
//!
//! - BLEU: each segment right-stripped and tokenised with `13a` (drop
//!   `<skipped>`, join `-⏎`, line breaks to spaces, unescape `&quot;
//!   &amp; &lt; &gt;`, then four rules: ASCII punctuation other than
//!   `' , - .` split off; `.`/`,` split unless a digit is before, and
//!   unless one is after; `-` split after a digit), case kept; word 1–4
//!   grams, reference counts the maximum over the references, the
//!   closest reference length (ties: the shorter); statistics summed over
//!   the corpus; `exp` smoothing (each order with no match halves a
//!   pseudo-count: 100 / (2^k · total)); no score when nothing matches;
//!   brevity penalty exp(1 − r/c) when c < r.
//! - chrF: character 1–6 grams of the text without white space (and for
//!   chrF++ word 1–2 grams of the words with a leading or trailing
//!   punctuation mark split off), β = 2; per order precision and recall,
//!   averaged over the orders both sides have, then F-β × 100; with
//!   several references, the statistics of the best-scoring one; a
//!   hypothesis n-gram counts only where the reference has n-grams.
//!
//! The signature strings are sacreBLEU's, so a score says how it was made.

use std::collections::HashMap;

use super::{Metric, py_rstrip, py_split};

/// The sacreBLEU version whose rules these are.
pub const VERSION: &str = "2.6.0";

/// Rule 1's class: `[\{-\~\[-\` -\&\(-\+\:-\@\/]`.
fn splits_off(c: char) -> bool {
    matches!(c, '{'..='~' | '['..='`' | ' '..='&' | '('..='+' | ':'..='@' | '/')
}

fn digit(c: char) -> bool {
    c.is_ascii_digit()
}

fn dot_comma(c: char) -> bool {
    c == '.' || c == ','
}

/// sacreBLEU's `13a` tokenisation of one line.
pub fn tokenize_13a(line: &str) -> String {
    let mut line = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if line.contains('&') {
        line = line
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    // Rule 1, a character at a time.
    let mut one = String::with_capacity(line.len() * 2 + 2);
    for c in std::iter::once(' ')
        .chain(line.chars())
        .chain(std::iter::once(' '))
    {
        if splits_off(c) {
            one.push(' ');
            one.push(c);
            one.push(' ');
        } else {
            one.push(c);
        }
    }
    // Rules 2–4 as `re.sub` applies them: matches left to right, none
    // overlapping.
    let pairs =
        |s: &str, hit: &dyn Fn(char, char) -> bool, out: &dyn Fn(&mut String, char, char)| {
            let c: Vec<char> = s.chars().collect();
            let mut o = String::with_capacity(s.len() + 16);
            let mut i = 0;
            while i < c.len() {
                if i + 1 < c.len() && hit(c[i], c[i + 1]) {
                    out(&mut o, c[i], c[i + 1]);
                    i += 2;
                } else {
                    o.push(c[i]);
                    i += 1;
                }
            }
            o
        };
    let two = pairs(&one, &|a, b| !digit(a) && dot_comma(b), &|o, a, b| {
        o.push(a);
        o.push(' ');
        o.push(b);
        o.push(' ');
    });
    let three = pairs(&two, &|a, b| dot_comma(a) && !digit(b), &|o, a, b| {
        o.push(' ');
        o.push(a);
        o.push(' ');
        o.push(b);
    });
    let four = pairs(&three, &|a, b| digit(a) && b == '-', &|o, a, b| {
        o.push(a);
        o.push(' ');
        o.push(b);
        o.push(' ');
    });
    py_split(&four).collect::<Vec<_>>().join(" ")
}

/// n-gram counts of orders 1..=max, keyed by (order, the words).
fn word_ngrams(tokens: &[&str], max: usize) -> HashMap<Vec<String>, usize> {
    let mut out: HashMap<Vec<String>, usize> = HashMap::new();
    for n in 1..=max {
        for w in tokens.windows(n) {
            *out.entry(w.iter().map(|s| s.to_string()).collect())
                .or_default() += 1;
        }
    }
    out
}

/// Corpus BLEU as `sacrebleu.metrics.BLEU()` computes it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bleu;

/// The highest n-gram order.
const ORDER: usize = 4;

impl Bleu {
    /// `nrefs:N|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`
    /// (`nrefs:var` when segments have different numbers).
    pub fn signature(nrefs: Option<usize>) -> String {
        format!(
            "nrefs:{}|case:mixed|eff:no|tok:13a|smooth:exp|version:{VERSION}",
            nrefs.map_or("var".to_string(), |n| n.to_string())
        )
    }
}

impl Metric for Bleu {
    /// `[hyp_len, ref_len, correct1..4, total1..4]`.
    fn segment(&self, hypothesis: &str, references: &[&str]) -> Vec<f64> {
        let hyp = tokenize_13a(py_rstrip(hypothesis));
        let hyp_tokens: Vec<&str> = py_split(&hyp).collect();
        let mut ref_counts: HashMap<Vec<String>, usize> = HashMap::new();
        let mut ref_lens = Vec::new();
        for r in references {
            let tok = tokenize_13a(py_rstrip(r));
            let words: Vec<&str> = py_split(&tok).collect();
            ref_lens.push(words.len());
            for (g, c) in word_ngrams(&words, ORDER) {
                let e = ref_counts.entry(g).or_default();
                *e = (*e).max(c);
            }
        }
        let hyp_len = hyp_tokens.len();
        // The closest reference length; ties go to the shorter.
        let mut closest: Option<(usize, usize)> = None;
        for &len in &ref_lens {
            let diff = hyp_len.abs_diff(len);
            closest = match closest {
                None => Some((diff, len)),
                Some((d, l)) if diff < d || (diff == d && len < l) => Some((diff, len)),
                keep => keep,
            };
        }
        let ref_len = closest.map_or(0, |(_, l)| l);
        let mut correct = [0usize; ORDER];
        let mut total = [0usize; ORDER];
        for (g, c) in word_ngrams(&hyp_tokens, ORDER) {
            let n = g.len() - 1;
            total[n] += c;
            if let Some(r) = ref_counts.get(&g) {
                correct[n] += c.min(*r);
            }
        }
        let mut out = vec![hyp_len as f64, ref_len as f64];
        out.extend(correct.iter().map(|&c| c as f64));
        out.extend(total.iter().map(|&c| c as f64));
        out
    }

    fn score(&self, t: &[f64]) -> f64 {
        if t.len() != 2 + 2 * ORDER {
            return 0.0;
        }
        let (sys_len, ref_len) = (t[0], t[1]);
        let correct = &t[2..2 + ORDER];
        let total = &t[2 + ORDER..];
        let mut bp = 1.0;
        if sys_len < ref_len {
            bp = if sys_len > 0.0 {
                (1.0 - ref_len / sys_len).exp()
            } else {
                0.0
            };
        }
        if correct.iter().all(|&c| c == 0.0) {
            return 0.0;
        }
        let mut precisions = [0.0f64; ORDER];
        let mut smooth = 1.0;
        for n in 0..ORDER {
            if total[n] == 0.0 {
                break;
            }
            if correct[n] == 0.0 {
                smooth *= 2.0;
                precisions[n] = 100.0 / (smooth * total[n]);
            } else {
                precisions[n] = 100.0 * correct[n] / total[n];
            }
        }
        let my_log = |p: f64| if p == 0.0 { -9_999_999_999.0 } else { p.ln() };
        let sum: f64 = precisions.iter().map(|&p| my_log(p)).sum();
        bp * (sum / ORDER as f64).exp()
    }
}

/// sacreBLEU's chrF (`word_order` 0) or chrF++ (`word_order` 2).
#[derive(Clone, Copy, Debug)]
pub struct Chrf {
    pub word_order: usize,
}

const CHAR_ORDER: usize = 6;
const BETA: f64 = 2.0;
const PUNCTS: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

impl Chrf {
    /// `nrefs:N|case:mixed|eff:yes|nc:6|nw:W|space:no|version:2.6.0`.
    pub fn signature(&self, nrefs: Option<usize>) -> String {
        format!(
            "nrefs:{}|case:mixed|eff:yes|nc:{CHAR_ORDER}|nw:{}|space:no|version:{VERSION}",
            nrefs.map_or("var".to_string(), |n| n.to_string()),
            self.word_order
        )
    }

    /// Character n-grams (orders 1..6, no white space) then word n-grams.
    fn ngrams(&self, text: &str) -> Vec<HashMap<String, usize>> {
        let joined: String = py_split(text).collect();
        let idx: Vec<usize> = joined
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(joined.len()))
            .collect();
        let chars = idx.len() - 1;
        let mut out = Vec::with_capacity(CHAR_ORDER + self.word_order);
        for n in 1..=CHAR_ORDER {
            let mut m: HashMap<String, usize> = HashMap::new();
            for i in 0..(chars + 1).saturating_sub(n) {
                *m.entry(joined[idx[i]..idx[i + n]].to_string()).or_default() += 1;
            }
            out.push(m);
        }
        if self.word_order > 0 {
            let words = remove_punctuation(text);
            for n in 1..=self.word_order {
                let mut m: HashMap<String, usize> = HashMap::new();
                for w in words.windows(n) {
                    *m.entry(w.join(" ")).or_default() += 1;
                }
                out.push(m);
            }
        }
        out
    }

    fn f_score(&self, stats: &[f64]) -> f64 {
        let factor = BETA * BETA;
        let (mut avg_prec, mut avg_rec, mut effective) = (0.0, 0.0, 0usize);
        for s in stats.chunks_exact(3) {
            let (n_hyp, n_ref, n_match) = (s[0], s[1], s[2]);
            let eps = 1e-16;
            let prec = if n_hyp > 0.0 { n_match / n_hyp } else { eps };
            let rec = if n_ref > 0.0 { n_match / n_ref } else { eps };
            if n_hyp > 0.0 && n_ref > 0.0 {
                avg_prec += prec;
                avg_rec += rec;
                effective += 1;
            }
        }
        if effective == 0 {
            avg_prec = 0.0;
            avg_rec = 0.0;
        } else {
            avg_prec /= effective as f64;
            avg_rec /= effective as f64;
        }
        if avg_prec + avg_rec != 0.0 {
            let mut score = (1.0 + factor) * avg_prec * avg_rec;
            score /= (factor * avg_prec) + avg_rec;
            100.0 * score
        } else {
            0.0
        }
    }
}

/// sacreBLEU's chrF++ words: a leading or trailing punctuation mark of a
/// word longer than one character split off (the trailing one first).
fn remove_punctuation(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for w in py_split(s) {
        let mut chars = w.chars();
        let (first, last) = (chars.next(), w.chars().next_back());
        if w.chars().count() == 1 {
            out.push(w.to_string());
        } else if let Some(l) = last.filter(|c| PUNCTS.contains(*c)) {
            out.push(w[..w.len() - l.len_utf8()].to_string());
            out.push(l.to_string());
        } else if let Some(f) = first.filter(|c| PUNCTS.contains(*c)) {
            out.push(f.to_string());
            out.push(w[f.len_utf8()..].to_string());
        } else {
            out.push(w.to_string());
        }
    }
    out
}

impl Metric for Chrf {
    /// `[hyp, ref, match]` for each order.
    fn segment(&self, hypothesis: &str, references: &[&str]) -> Vec<f64> {
        let hyp = self.ngrams(hypothesis);
        let mut best: Vec<f64> = vec![0.0; 3 * hyp.len()];
        let mut best_f = -1.0;
        for r in references {
            let refs = self.ngrams(r);
            let mut stats = Vec::with_capacity(3 * hyp.len());
            for (h, r) in hyp.iter().zip(&refs) {
                let (mut matched, mut count) = (0usize, 0usize);
                for (g, c) in h {
                    count += c;
                    if let Some(rc) = r.get(g) {
                        matched += (*c).min(*rc);
                    }
                }
                let ref_count: usize = r.values().sum();
                stats.push(if r.is_empty() { 0.0 } else { count as f64 });
                stats.push(ref_count as f64);
                stats.push(matched as f64);
            }
            let f = self.f_score(&stats);
            if f > best_f {
                best_f = f;
                best = stats;
            }
        }
        best
    }

    fn score(&self, totals: &[f64]) -> f64 {
        self.f_score(totals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_as_13a() {
        assert_eq!(tokenize_13a("Hello, world."), "Hello , world .");
        assert_eq!(
            tokenize_13a("It costs $3,000.50 (net)"),
            "It costs $ 3,000.50 ( net )"
        );
        assert_eq!(tokenize_13a("a 1-2 x-y don't"), "a 1 - 2 x-y don't");
        assert_eq!(tokenize_13a("&quot;a&quot; &amp; b"), "\" a \" & b");
        assert_eq!(tokenize_13a("end..."), "end . . .");
    }

    #[test]
    fn a_short_corpus_scores_as_sacrebleu() {
        // Figures printed by sacrebleu 2.6.0 for these lines.
        let hyps = vec!["the cat sat".to_string()];
        let refs = vec![
            vec![Some("the cat sat on".to_string())],
            vec![Some("a cat".to_string())],
        ];
        let stats = Bleu.corpus_stats(&hyps, &refs);
        let t = super::super::totals(&stats);
        assert_eq!(&t[..2], &[3.0, 2.0]);
        assert_eq!(Bleu.score(&t), 0.0);
        let chrf = Chrf { word_order: 0 };
        let stats = chrf.corpus_stats(&["the cat".into()], &[vec![Some("the cat!".into())]]);
        assert_eq!(
            format!("{:.2}", chrf.score(&super::super::totals(&stats))),
            "77.57"
        );
        let chrfpp = Chrf { word_order: 2 };
        let stats = chrfpp.corpus_stats(&["the cat".into()], &[vec![Some("the cat!".into())]]);
        assert_eq!(
            format!("{:.2}", chrfpp.score(&super::super::totals(&stats))),
            "74.17"
        );
    }
}
