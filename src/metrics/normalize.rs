//! Text normalisation before scoring, as OpenAI's Whisper normalisers do
//! (the PyPI package `whisper-normalizer` carries them). The basic one,
//! for any language (`BasicTextNormalizer`): lower case; text between
//! `<…>`/`[…]` and between `(…)` dropped; NFKC, then every mark, symbol
//! and punctuation character (general category M*, S*, P*) made a space;
//! lower case again; runs of white space made one space.
//!
//! The English normaliser (numbers, currencies, contractions, British
//! spellings) is in `english`.

use unicode_general_category::{GeneralCategory as G, get_general_category};
use unicode_normalization_alignments::UnicodeNormalization;

/// How to normalise both sides before scoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Normalize {
    #[default]
    None,
    Basic,
    /// OpenAI's English normaliser (`super::english`).
    WhisperEn,
}

impl Normalize {
    /// `none`, `basic`, `whisper-en`.
    pub fn parse(s: &str) -> Result<Normalize, String> {
        match s {
            "none" => Ok(Normalize::None),
            "basic" => Ok(Normalize::Basic),
            "whisper-en" | "english" => Ok(Normalize::WhisperEn),
            other => Err(format!(
                "Unknown normaliser \"{other}\": use none, basic or whisper-en."
            )),
        }
    }

    /// The name `parse` takes.
    pub fn label(self) -> &'static str {
        match self {
            Normalize::None => "none",
            Normalize::Basic => "basic",
            Normalize::WhisperEn => "whisper-en",
        }
    }

    pub fn apply(self, s: &str) -> String {
        match self {
            Normalize::None => s.to_string(),
            Normalize::Basic => basic(s),
            Normalize::WhisperEn => super::english::english(s),
        }
    }
}

/// Whether a character's general category starts with M, S or P.
pub(super) fn mark_symbol_punct(c: char) -> bool {
    matches!(
        get_general_category(c),
        G::NonspacingMark
            | G::SpacingMark
            | G::EnclosingMark
            | G::MathSymbol
            | G::CurrencySymbol
            | G::ModifierSymbol
            | G::OtherSymbol
            | G::ConnectorPunctuation
            | G::DashPunctuation
            | G::OpenPunctuation
            | G::ClosePunctuation
            | G::InitialPunctuation
            | G::FinalPunctuation
            | G::OtherPunctuation
    )
}

/// `re.sub(r"[<\[][^>\]]*[>\]]", "", s)`.
pub(super) fn drop_bracketed(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < c.len() {
        if c[i] == '<' || c[i] == '[' {
            // The first > or ] after it ends the match; none: no match.
            if let Some(end) = c[i + 1..].iter().position(|&x| x == '>' || x == ']') {
                i += end + 2;
                continue;
            }
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

/// `re.sub(r"\(([^)]+?)\)", "", s)`.
pub(super) fn drop_parenthesised(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < c.len() {
        if c[i] == '('
            && let Some(end) = c[i + 1..].iter().position(|&x| x == ')')
            && end >= 1
        {
            i += end + 2;
            continue;
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

/// Whisper's `BasicTextNormalizer()` (no diacritics removed, letters not
/// split).
pub fn basic(s: &str) -> String {
    let s = s.to_lowercase();
    let s = drop_parenthesised(&drop_bracketed(&s));
    let cleaned: String = s
        .nfkc()
        .map(|(c, _)| if mark_symbol_punct(c) { ' ' } else { c })
        .collect();
    let lower = cleaned.to_lowercase();
    super::py_collapse_spaces(&lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_normalises_as_whisper() {
        // whisper-normalizer 0.1.15's outputs.
        assert_eq!(
            basic("Hello, World! [noise] (laughs) <b>x</b>"),
            "hello world x"
        );
        assert_eq!(basic("Ｆｕｌｌ－width ½"), "full width 1 2");
        assert_eq!(basic("a () b"), "a b");
    }
}
