//! OpenAI's English text normaliser (`EnglishTextNormalizer`, as the PyPI
//! package `whisper-normalizer` carries it): the one the Whisper paper and
//! the Open ASR Leaderboard score English WER with. In order: lower case;
//! `<…>`/`[…]` and `(…)` dropped; fillers (hmm, mm, mhm, mmm, uh, um)
//! dropped; contractions and titles spelt out; commas between digits and
//! periods not before a digit dropped; NFKD with diacritics dropped and
//! other marks, symbols and punctuation made spaces (except `.%$¢€£`);
//! spelt-out numbers and currencies written as Arabic numbers ("twenty
//! five dollars" → "$25"); British spellings made American (the table in
//! `assets/normalizer/english.json`, the one Whisper checkpoints ship as
//! `normalizer.json`); stray currency and percent signs dropped; white
//! space collapsed.
//!
//! The rules follow the Python definitions exactly, including their
//! quirks ("nineth" is an ordinal, "ninth" is not; "zero" after the
//! number 0 forgets it), since scores are only comparable when both sides
//! are normalised the same way. Python's regular-expression classes are
//! kept where they differ from Rust's: `\s` includes U+001C–U+001F and
//! `\w` (for `\b`) is letters, numbers and `_`. Numbers have no size
//! limit: they are kept as decimal digit strings.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::{Captures, Regex};
use unicode_general_category::{GeneralCategory as G, get_general_category};
use unicode_normalization_alignments::UnicodeNormalization;

use super::normalize::{drop_bracketed, drop_parenthesised};
use super::{py_space, py_split};

/// Python's `\s` in a regular expression.
const S: &str = r"[\s\x1C-\x1F]";

/// Python's `\w`: `str.isalnum()` or `_`.
fn py_word(c: char) -> bool {
    c == '_'
        || matches!(
            get_general_category(c),
            G::UppercaseLetter
                | G::LowercaseLetter
                | G::TitlecaseLetter
                | G::ModifierLetter
                | G::OtherLetter
                | G::DecimalNumber
                | G::LetterNumber
                | G::OtherNumber
        )
}

fn is_nd(c: char) -> bool {
    get_general_category(c) == G::DecimalNumber
}

/// The value of a decimal digit of any script: Unicode keeps each
/// script's digits as a run of ten code points, 0 to 9.
fn digit_value(c: char) -> u32 {
    if c.is_ascii_digit() {
        return c as u32 - '0' as u32;
    }
    let mut start = c as u32;
    while start > 0 && char::from_u32(start - 1).is_some_and(is_nd) {
        start -= 1;
    }
    (c as u32 - start) % 10
}

/// `re.sub` of a literal (or the first of several that fits) with an
/// optional `\b` before and after, Python's word boundaries.
fn sub_words(s: &str, alts: &[&str], lead: bool, trail: bool, rep: &str) -> String {
    let word_before = |i: usize| s[..i].chars().next_back().is_some_and(py_word);
    let word_at = |i: usize| s[i..].chars().next().is_some_and(py_word);
    let boundary = |i: usize| word_before(i) != word_at(i);
    let mut out = String::with_capacity(s.len() + 16);
    let mut i = 0;
    'scan: while i < s.len() {
        if !lead || boundary(i) {
            for alt in alts {
                if s[i..].starts_with(alt) && (!trail || boundary(i + alt.len())) {
                    out.push_str(rep);
                    i += alt.len();
                    continue 'scan;
                }
            }
        }
        let c = s[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// `re.sub(r"\s+'", "'", s)`.
fn join_apostrophes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending = String::new();
    for c in s.chars() {
        if py_space(c) {
            pending.push(c);
            continue;
        }
        if c != '\'' {
            out.push_str(&pending);
        }
        pending.clear();
        out.push(c);
    }
    out.push_str(&pending);
    out
}

/// Contractions and titles, in the order Whisper applies them: (pattern,
/// `\b` before, replacement); every pattern ends at a word boundary.
const REPLACERS: &[(&str, bool, &str)] = &[
    ("won't", true, "will not"),
    ("can't", true, "can not"),
    ("let's", true, "let us"),
    ("ain't", true, "aint"),
    ("y'all", true, "you all"),
    ("wanna", true, "want to"),
    ("kinda", true, "kind of"),
    ("sorta", true, "sort of"),
    ("dunno", true, "do not know"),
    ("gotta", true, "got to"),
    ("gonna", true, "going to"),
    ("i'ma", true, "i am going to"),
    ("imma", true, "i am going to"),
    ("woulda", true, "would have"),
    ("coulda", true, "could have"),
    ("shoulda", true, "should have"),
    ("cause", true, "because"),
    ("ma'am", true, "madam"),
    ("mr", true, "mister "),
    ("mrs", true, "missus "),
    ("st", true, "saint "),
    ("dr", true, "doctor "),
    ("prof", true, "professor "),
    ("capt", true, "captain "),
    ("gov", true, "governor "),
    ("ald", true, "alderman "),
    ("gen", true, "general "),
    ("sen", true, "senator "),
    ("rep", true, "representative "),
    ("pres", true, "president "),
    ("rev", true, "reverend "),
    ("hon", true, "honorable "),
    ("asst", true, "assistant "),
    ("assoc", true, "associate "),
    ("lt", true, "lieutenant "),
    ("col", true, "colonel "),
    ("jr", true, "junior "),
    ("sr", true, "senior "),
    ("esq", true, "esquire "),
    ("'d been", false, " had been"),
    ("'s been", false, " has been"),
    ("'d gone", false, " had gone"),
    ("'s gone", false, " has gone"),
    ("'d done", false, " had done"),
    ("'s got", false, " has got"),
    ("n't", false, " not"),
    ("'re", false, " are"),
    ("'s", false, " is"),
    ("'d", false, " would"),
    ("'ll", false, " will"),
    ("'t", false, " not"),
    ("'ve", false, " have"),
    ("'m", false, " am"),
];

/// Letters NFKD does not split, and what they become.
fn additional_diacritic(c: char) -> Option<&'static str> {
    Some(match c {
        'œ' => "oe",
        'Œ' => "OE",
        'ø' => "o",
        'Ø' => "O",
        'æ' => "ae",
        'Æ' => "AE",
        'ß' => "ss",
        'ẞ' => "SS",
        'đ' | 'ð' => "d",
        'Đ' | 'Ð' => "D",
        'þ' | 'Þ' => "th",
        'ł' => "l",
        'Ł' => "L",
        _ => return None,
    })
}

/// `remove_symbols_and_diacritics(s, keep=".%$¢€£")`.
fn remove_symbols_and_diacritics(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (c, _) in s.nfkd() {
        if ".%$¢€£".contains(c) {
            out.push(c);
        } else if let Some(r) = additional_diacritic(c) {
            out.push_str(r);
        } else if get_general_category(c) == G::NonspacingMark {
        } else if super::normalize::mark_symbol_punct(c) {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// The English normaliser.
pub fn english(s: &str) -> String {
    let r = regexes();
    let s = s.to_lowercase();
    let s = drop_parenthesised(&drop_bracketed(&s));
    let s = sub_words(&s, &["hmm", "mm", "mhm", "mmm", "uh", "um"], true, true, "");
    let mut s = join_apostrophes(&s);
    for (pattern, lead, rep) in REPLACERS {
        s = sub_words(&s, &[pattern], *lead, true, rep);
    }
    let s = r.digit_comma.replace_all(&s, "${1}${2}");
    let s = r.period.replace_all(&s, " ${1}");
    let s = remove_symbols_and_diacritics(&s);
    let s = numbers(&s);
    let spelling = spellings();
    let words: Vec<&str> = py_split(&s)
        .map(|w| spelling.get(w).map(String::as_str).unwrap_or(w))
        .collect();
    let s = words.join(" ");
    let s = r.stray_prefix.replace_all(&s, " ${1}");
    let s = r.stray_percent.replace_all(&s, "${1} ");
    super::py_collapse_spaces(&s)
}

struct Regexes {
    digit_comma: Regex,
    period: Regex,
    and_a_half: Regex,
    letter_digit: Regex,
    digit_letter: Regex,
    suffix: Regex,
    cents: Regex,
    only_cents: Regex,
    one: Regex,
    stray_prefix: Regex,
    stray_percent: Regex,
}

fn regexes() -> &'static Regexes {
    static R: OnceLock<Regexes> = OnceLock::new();
    R.get_or_init(|| {
        let re = |p: &str| Regex::new(&p.replace("\\s", S)).expect("a valid pattern");
        Regexes {
            digit_comma: re(r"(\d),(\d)"),
            period: re(r"\.([^0-9]|$)"),
            and_a_half: re(r"\band\s+a\s+half\b"),
            letter_digit: re(r"([a-z])([0-9])"),
            digit_letter: re(r"([0-9])([a-z])"),
            suffix: re(r"([0-9])\s+(st|nd|rd|th|s)\b"),
            cents: re(r"([€£$])([0-9]+) (?:and )?¢([0-9]{1,2})\b"),
            only_cents: re(r"[€£$]0.([0-9]{1,2})\b"),
            one: re(r"\b1(s?)\b"),
            stray_prefix: re(r"[.$¢€£]([^0-9])"),
            stray_percent: re(r"([^0-9])%"),
        }
    })
}

/// The British → American spelling table.
fn spellings() -> &'static HashMap<String, String> {
    static T: OnceLock<HashMap<String, String>> = OnceLock::new();
    T.get_or_init(|| {
        serde_json::from_str(include_str!("../../assets/normalizer/english.json"))
            .unwrap_or_default()
    })
}

// ---------------------------------------------------------------------
// Numbers (`EnglishNumberNormalizer`)

const ONES: [&str; 19] = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
/// Multipliers as powers of ten.
const MULTIPLIERS: [(&str, usize); 12] = [
    ("hundred", 2),
    ("thousand", 3),
    ("million", 6),
    ("billion", 9),
    ("trillion", 12),
    ("quadrillion", 15),
    ("quintillion", 18),
    ("sextillion", 21),
    ("septillion", 24),
    ("octillion", 27),
    ("nonillion", 30),
    ("decillion", 33),
];

struct Words {
    ones: HashMap<String, u32>,
    ones_suffixed: HashMap<String, (u32, &'static str)>,
    tens: HashMap<String, u32>,
    tens_suffixed: HashMap<String, (u32, &'static str)>,
    multipliers: HashMap<String, usize>,
    multipliers_suffixed: HashMap<String, (usize, &'static str)>,
}

impl Words {
    fn zero(w: &str) -> bool {
        matches!(w, "o" | "oh" | "zero")
    }
    fn preceding(w: &str) -> Option<&'static str> {
        Some(match w {
            "minus" | "negative" => "-",
            "plus" | "positive" => "+",
            _ => return None,
        })
    }
    fn following(w: &str) -> Option<&'static str> {
        Some(match w {
            "pound" | "pounds" => "£",
            "euro" | "euros" => "€",
            "dollar" | "dollars" => "$",
            "cent" | "cents" => "¢",
            _ => return None,
        })
    }
    fn special(w: &str) -> bool {
        matches!(w, "and" | "double" | "triple" | "point")
    }
    fn contains(&self, w: &str) -> bool {
        Self::zero(w)
            || self.ones.contains_key(w)
            || self.ones_suffixed.contains_key(w)
            || self.tens.contains_key(w)
            || self.tens_suffixed.contains_key(w)
            || self.multipliers.contains_key(w)
            || self.multipliers_suffixed.contains_key(w)
            || Self::preceding(w).is_some()
            || Self::following(w).is_some()
            || matches!(w, "per" | "percent")
            || Self::special(w)
    }
    fn decimal(&self, w: &str) -> bool {
        self.ones.contains_key(w) || self.tens.contains_key(w) || Self::zero(w)
    }
}

fn words() -> &'static Words {
    static W: OnceLock<Words> = OnceLock::new();
    W.get_or_init(|| {
        let ones: HashMap<String, u32> = ONES
            .iter()
            .enumerate()
            .map(|(i, w)| (w.to_string(), i as u32 + 1))
            .collect();
        let mut ones_suffixed = HashMap::new();
        for (i, w) in ONES.iter().enumerate() {
            let v = i as u32 + 1;
            let plural = if *w == "six" {
                "sixes".to_string()
            } else {
                format!("{w}s")
            };
            ones_suffixed.insert(plural, (v, "s"));
        }
        for (w, v, s) in [
            ("zeroth", 0, "th"),
            ("first", 1, "st"),
            ("second", 2, "nd"),
            ("third", 3, "rd"),
            ("fifth", 5, "th"),
            ("twelfth", 12, "th"),
        ] {
            ones_suffixed.insert(w.to_string(), (v, s));
        }
        for (i, w) in ONES.iter().enumerate() {
            let v = i as u32 + 1;
            if v > 3 && v != 5 && v != 12 {
                let end = if w.ends_with('t') { "h" } else { "th" };
                ones_suffixed.insert(format!("{w}{end}"), (v, "th"));
            }
        }
        let tens: HashMap<String, u32> = TENS
            .iter()
            .enumerate()
            .map(|(i, w)| (w.to_string(), 20 + 10 * i as u32))
            .collect();
        let mut tens_suffixed = HashMap::new();
        for (w, &v) in &tens {
            tens_suffixed.insert(w.replace('y', "ies"), (v, "s"));
        }
        for (w, &v) in &tens {
            tens_suffixed.insert(w.replace('y', "ieth"), (v, "th"));
        }
        let multipliers: HashMap<String, usize> = MULTIPLIERS
            .iter()
            .map(|(w, k)| (w.to_string(), *k))
            .collect();
        let mut multipliers_suffixed = HashMap::new();
        for (w, k) in MULTIPLIERS {
            multipliers_suffixed.insert(format!("{w}s"), (k, "s"));
        }
        for (w, k) in MULTIPLIERS {
            multipliers_suffixed.insert(format!("{w}th"), (k, "th"));
        }
        Words {
            ones,
            ones_suffixed,
            tens,
            tens_suffixed,
            multipliers,
            multipliers_suffixed,
        }
    })
}

/// Python's `int` kept as its decimal digits (no leading zeros), or a
/// string being built ("5.", "101", "1.2.3").
#[derive(Clone, Debug)]
enum Val {
    Int(String),
    Str(String),
}

impl Val {
    fn int(n: u64) -> Val {
        Val::Int(n.to_string())
    }
    fn text(&self) -> &str {
        match self {
            Val::Int(s) | Val::Str(s) => s,
        }
    }
    fn is_int_zero(&self) -> bool {
        matches!(self, Val::Int(s) if s == "0")
    }
}

/// `str(value or "")`.
fn or_empty(v: &Option<Val>) -> String {
    match v {
        None => String::new(),
        Some(v) if v.is_int_zero() => String::new(),
        Some(v) => v.text().to_string(),
    }
}

fn canon(digits: &str) -> String {
    let t = digits.trim_start_matches('0');
    if t.is_empty() { "0".into() } else { t.into() }
}

/// The sum of two non-negative decimal numbers.
fn add(a: &str, b: &str) -> String {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0u8);
    while i > 0 || j > 0 || carry > 0 {
        let mut d = carry;
        if i > 0 {
            i -= 1;
            d += a[i] - b'0';
        }
        if j > 0 {
            j -= 1;
            d += b[j] - b'0';
        }
        out.push(b'0' + d % 10);
        carry = d / 10;
    }
    out.reverse();
    canon(&String::from_utf8(out).unwrap_or_default())
}

/// `n % m` for m = 10 or 100.
fn modulo(n: &str, m: u32) -> u32 {
    let keep = if m == 10 { 1 } else { 2 };
    let tail = &n[n.len().saturating_sub(keep)..];
    tail.parse::<u32>().unwrap_or(0) % m
}

/// `n // 1000 * 1000 + n % 1000 * 10**k`.
fn times_power(n: &str, k: usize) -> String {
    let split = n.len().saturating_sub(3);
    let before = if split == 0 {
        "0".to_string()
    } else {
        format!("{}000", &n[..split])
    };
    let residual = canon(&n[split..]);
    let scaled = if residual == "0" {
        residual
    } else {
        format!("{residual}{}", "0".repeat(k))
    };
    add(&before, &scaled)
}

/// `^\d+(\.\d+)?$`.
fn numeric(s: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.chars().all(is_nd);
    match s.split_once('.') {
        None => digits(s),
        Some((a, b)) => digits(a) && digits(b),
    }
}

/// `Fraction(s)` for what the number builder makes (digits and dots):
/// the digits as an integer and how many of them follow the point.
fn fraction(s: &str) -> Option<(String, usize)> {
    let (int, frac) = match s.split_once('.') {
        None => (s, ""),
        Some((a, b)) => (a, b),
    };
    if !int.chars().all(is_nd) || !frac.chars().all(is_nd) {
        return None;
    }
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let digits: String = int
        .chars()
        .chain(frac.chars())
        .map(|c| char::from_digit(digit_value(c), 10).unwrap_or('0'))
        .collect();
    Some((canon(&digits), frac.chars().count()))
}

/// `Fraction(s) * 10**k` when it is a whole number.
fn whole_times(s: &str, k: usize) -> Option<String> {
    let (n, d) = fraction(s)?;
    if n == "0" {
        return Some(n);
    }
    if d <= k {
        return Some(format!("{n}{}", "0".repeat(k - d)));
    }
    let drop = d - k;
    let zeros = n.len() - n.trim_end_matches('0').len();
    (zeros >= drop).then(|| n[..n.len() - drop].to_string())
}

/// `EnglishNumberNormalizer.__call__`.
fn numbers(s: &str) -> String {
    let r = regexes();
    let w = words();
    // "<number> and a half" → "<number> point five".
    let segments: Vec<&str> = r.and_a_half.split(s).collect();
    let mut results: Vec<&str> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        if py_split(segment).next().is_none() {
            continue;
        }
        results.push(segment);
        if i + 1 < segments.len() {
            let last = py_split(segment).last().unwrap_or("");
            if w.decimal(last) || w.multipliers.contains_key(last) {
                results.push("point five");
            } else {
                results.push("and a half");
            }
        }
    }
    let s = results.join(" ");
    let s = r.letter_digit.replace_all(&s, "${1} ${2}");
    let s = r.digit_letter.replace_all(&s, "${1} ${2}");
    let s = r.suffix.replace_all(&s, "${1}${2}");
    let tokens: Vec<&str> = py_split(&s).collect();
    let s = process_words(&tokens).join(" ");
    // "$2 and ¢7" → "$2.07"; "$0.07" → "¢7".
    let s = r.cents.replace_all(&s, |c: &Captures| {
        let cents: u32 = c[3].parse().unwrap_or(0);
        format!("{}{}.{cents:02}", &c[1], &c[2])
    });
    let s = r.only_cents.replace_all(&s, |c: &Captures| {
        format!("¢{}", c[1].parse::<u32>().unwrap_or(0))
    });
    r.one.replace_all(&s, "one${1}").into_owned()
}

/// `EnglishNumberNormalizer.process_words`.
fn process_words(words: &[&str]) -> Vec<String> {
    let w = self::words();
    let mut out = Vec::new();
    let mut prefix: Option<String> = None;
    let mut value: Option<Val> = None;
    let mut skip = false;

    // `output(result)`: the prefix put before it, value and prefix reset.
    fn emit(out: &mut Vec<String>, prefix: &mut Option<String>, value: &mut Option<Val>, r: &str) {
        let mut s = prefix.take().unwrap_or_default();
        s.push_str(r);
        out.push(s);
        *value = None;
    }
    macro_rules! output {
        ($r:expr) => {{
            let r: String = $r;
            emit(&mut out, &mut prefix, &mut value, &r)
        }};
    }
    macro_rules! flush {
        () => {
            if let Some(v) = value.clone() {
                output!(v.text().to_string());
            }
        };
    }

    for i in 0..words.len() {
        let prev = if i > 0 { Some(words[i - 1]) } else { None };
        let current = words[i];
        let next = words.get(i + 1).copied();
        if skip {
            skip = false;
            continue;
        }
        let next_numeric = next.is_some_and(numeric);
        let next_word = next.is_some_and(|n| w.contains(n));
        let prev_in = |m: &HashMap<String, u32>| prev.is_some_and(|p| m.contains_key(p));
        let first = current.chars().next().unwrap_or(' ');
        let has_prefix = "-+£€$¢".contains(first);
        let bare = if has_prefix {
            &current[first.len_utf8()..]
        } else {
            current
        };
        if numeric(bare) {
            // Arabic numbers, perhaps with a sign or currency and decimals.
            if let Some(v) = &value {
                if let Val::Str(t) = v
                    && t.ends_with('.')
                {
                    // Decimals / the parts of an IP address.
                    value = Some(Val::Str(format!("{t}{current}")));
                    continue;
                }
                output!(v.text().to_string());
            }
            if has_prefix {
                prefix = Some(first.to_string());
            }
            value = Some(match whole_times(bare, 0) {
                Some(n) => Val::Int(n),
                None => Val::Str(bare.to_string()),
            });
        } else if !w.contains(current) {
            flush!();
            output!(current.to_string());
        } else if Words::zero(current) {
            value = Some(Val::Str(or_empty(&value) + "0"));
        } else if let Some(&ones) = w.ones.get(current) {
            value = Some(match value.take() {
                None => Val::int(ones as u64),
                Some(v) if matches!(v, Val::Str(_)) || prev_in(&w.ones) => {
                    let mut t = v.text().to_string();
                    if prev_in(&w.tens) && ones < 10 {
                        t.pop();
                    }
                    Val::Str(format!("{t}{ones}"))
                }
                Some(Val::Int(n)) => {
                    let whole = if ones < 10 { 10 } else { 100 };
                    if modulo(&n, whole) == 0 {
                        Val::Int(add(&n, &ones.to_string()))
                    } else {
                        Val::Str(format!("{n}{ones}"))
                    }
                }
                Some(v) => v,
            });
        } else if let Some(&(ones, suffix)) = w.ones_suffixed.get(current) {
            let text = match value.clone() {
                None => format!("{ones}{suffix}"),
                Some(v) if matches!(v, Val::Str(_)) || prev_in(&w.ones) => {
                    let mut t = v.text().to_string();
                    if prev_in(&w.tens) && ones < 10 {
                        t.pop();
                    }
                    format!("{t}{ones}{suffix}")
                }
                Some(v) => {
                    let n = v.text();
                    let whole = if ones < 10 { 10 } else { 100 };
                    if modulo(n, whole) == 0 {
                        format!("{}{suffix}", add(n, &ones.to_string()))
                    } else {
                        format!("{n}{ones}{suffix}")
                    }
                }
            };
            output!(text);
            value = None;
        } else if let Some(&tens) = w.tens.get(current) {
            value = Some(match value.take() {
                None => Val::int(tens as u64),
                Some(Val::Str(t)) => Val::Str(format!("{t}{tens}")),
                Some(Val::Int(n)) => {
                    if modulo(&n, 100) == 0 {
                        Val::Int(add(&n, &tens.to_string()))
                    } else {
                        Val::Str(format!("{n}{tens}"))
                    }
                }
            });
        } else if let Some(&(tens, suffix)) = w.tens_suffixed.get(current) {
            let text = match value.clone() {
                None => format!("{tens}{suffix}"),
                Some(Val::Str(t)) => format!("{t}{tens}{suffix}"),
                Some(Val::Int(n)) => {
                    if modulo(&n, 100) == 0 {
                        format!("{}{suffix}", add(&n, &tens.to_string()))
                    } else {
                        format!("{n}{tens}{suffix}")
                    }
                }
            };
            output!(text);
        } else if let Some(&k) = w.multipliers.get(current) {
            let multiplier = format!("1{}", "0".repeat(k));
            match value.clone() {
                None => value = Some(Val::Int(multiplier)),
                Some(v) if matches!(v, Val::Str(_)) || v.is_int_zero() => {
                    match whole_times(v.text(), k) {
                        Some(p) => value = Some(Val::Int(p)),
                        None => {
                            output!(v.text().to_string());
                            value = Some(Val::Int(multiplier));
                        }
                    }
                }
                Some(v) => value = Some(Val::Int(times_power(v.text(), k))),
            }
        } else if let Some(&(k, suffix)) = w.multipliers_suffixed.get(current) {
            let multiplier = format!("1{}", "0".repeat(k));
            match value.clone() {
                None => output!(format!("{multiplier}{suffix}")),
                Some(Val::Str(t)) => match whole_times(&t, k) {
                    Some(p) => output!(format!("{p}{suffix}")),
                    None => {
                        output!(t);
                        output!(format!("{multiplier}{suffix}"));
                    }
                },
                Some(Val::Int(n)) => output!(format!("{}{suffix}", times_power(&n, k))),
            }
            value = None;
        } else if let Some(sign) = Words::preceding(current) {
            flush!();
            if next_word || next_numeric {
                prefix = Some(sign.to_string());
            } else {
                output!(current.to_string());
            }
        } else if let Some(sign) = Words::following(current) {
            if let Some(v) = value.clone() {
                prefix = Some(sign.to_string());
                output!(v.text().to_string());
            } else {
                output!(current.to_string());
            }
        } else if current == "per" || current == "percent" {
            match value.clone() {
                Some(v) if current == "per" => {
                    if next == Some("cent") {
                        output!(format!("{}%", v.text()));
                        skip = true;
                    } else {
                        output!(v.text().to_string());
                        output!(current.to_string());
                    }
                }
                Some(v) => output!(format!("{}%", v.text())),
                None => output!(current.to_string()),
            }
        } else if !next_word && !next_numeric {
            // A special word ("and", "double", "triple", "point") before
            // something that cannot be a number.
            flush!();
            output!(current.to_string());
        } else if current == "and" {
            // "and" after hundreds, thousands … is dropped.
            if !prev.is_some_and(|p| w.multipliers.contains_key(p)) {
                flush!();
                output!(current.to_string());
            }
        } else if current == "double" || current == "triple" {
            let n = next.unwrap_or("");
            if w.ones.contains_key(n) || Words::zero(n) {
                let repeats = if current == "double" { 2 } else { 3 };
                let ones = w.ones.get(n).copied().unwrap_or(0);
                value = Some(Val::Str(
                    or_empty(&value) + &ones.to_string().repeat(repeats),
                ));
                skip = true;
            } else {
                flush!();
                output!(current.to_string());
            }
        } else if current == "point" && (next.is_some_and(|n| w.decimal(n)) || next_numeric) {
            value = Some(Val::Str(or_empty(&value) + "."));
        }
    }
    if let Some(v) = value.clone() {
        output!(v.text().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_currencies_and_spellings() {
        for (input, expected) in [
            ("Twenty five dollars", "$25"),
            ("one hundred and twenty three", "123"),
            ("I won't go, Mr. Smith.", "i will not go mister smith "),
            ("the colour of the theatre", "the color of the theater"),
            ("two point five percent", "2.5%"),
            ("one oh one", "101"),
            ("uh, um, hmm yes", "yes"),
            ("three and a half million", "3500000"),
            ("twenty first of may", "21st of may"),
            ("$20 million", "$20000000"),
        ] {
            assert_eq!(english(input).trim(), expected.trim(), "{input}");
        }
    }

    #[test]
    fn big_numbers_stay_exact() {
        assert_eq!(
            english("nine hundred ninety nine decillion"),
            "999000000000000000000000000000000000"
        );
        assert_eq!(add("999", "1"), "1000");
        assert_eq!(times_power("12345", 6), "345012000");
        assert_eq!(whole_times("1.50", 1).as_deref(), Some("15"));
        assert_eq!(whole_times("1.55", 1), None);
        assert_eq!(digit_value('٣'), 3);
    }
}
