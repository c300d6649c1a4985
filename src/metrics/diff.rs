//! Word-level differences between a reference and an output, for showing
//! where a row went wrong: the minimum-edit alignment (as WER counts it)
//! of the two texts' words, words compared after a normaliser (so case
//! and punctuation alone do not count as a difference).

use super::normalize::Normalize;

/// One step of the alignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The same word in both (the output's spelling).
    Same(String),
    /// The reference's word replaced by the output's.
    Changed { reference: String, output: String },
    /// A word only in the output.
    Added(String),
    /// A word of the reference the output left out.
    Missing(String),
}

/// Aligns `output`'s words to `reference`'s (split on white space),
/// words equal when `norm` makes them so.
pub fn words(reference: &str, output: &str, norm: Normalize) -> Vec<Step> {
    let r: Vec<&str> = reference.split_whitespace().collect();
    let h: Vec<&str> = output.split_whitespace().collect();
    // Long texts: not worth a quadratic table.
    if r.len().saturating_mul(h.len()) > 250_000 {
        return h.iter().map(|w| Step::Same(w.to_string())).collect();
    }
    let rn: Vec<String> = r.iter().map(|w| norm.apply(w).trim().to_string()).collect();
    let hn: Vec<String> = h.iter().map(|w| norm.apply(w).trim().to_string()).collect();
    let (n, m) = (r.len(), h.len());
    // d[i][j]: edits between r[..i] and h[..j].
    let mut d = vec![vec![0u32; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i as u32;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j as u32;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = d[i - 1][j - 1] + u32::from(rn[i - 1] != hn[j - 1]);
            d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    let mut steps = Vec::new();
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        if i > 0 && j > 0 && d[i][j] == d[i - 1][j - 1] + u32::from(rn[i - 1] != hn[j - 1]) {
            steps.push(if rn[i - 1] == hn[j - 1] {
                Step::Same(h[j - 1].to_string())
            } else {
                Step::Changed {
                    reference: r[i - 1].to_string(),
                    output: h[j - 1].to_string(),
                }
            });
            i -= 1;
            j -= 1;
        } else if j > 0 && d[i][j] == d[i][j - 1] + 1 {
            steps.push(Step::Added(h[j - 1].to_string()));
            j -= 1;
        } else {
            steps.push(Step::Missing(r[i - 1].to_string()));
            i -= 1;
        }
    }
    steps.reverse();
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_like_an_edit_distance() {
        let s = words(
            "The cat sat on the mat.",
            "the cat sit on mat",
            Normalize::Basic,
        );
        assert_eq!(
            s,
            vec![
                Step::Same("the".into()),
                Step::Same("cat".into()),
                Step::Changed {
                    reference: "sat".into(),
                    output: "sit".into()
                },
                Step::Same("on".into()),
                Step::Missing("the".into()),
                Step::Same("mat".into()),
            ]
        );
        let errors = s.iter().filter(|x| !matches!(x, Step::Same(_))).count();
        // As many steps off as WER counts errors.
        assert_eq!(errors, 2);
        assert_eq!(
            words("", "a b", Normalize::None),
            vec![Step::Added("a".into()), Step::Added("b".into())]
        );
    }
}
