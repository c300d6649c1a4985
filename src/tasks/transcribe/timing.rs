//! Word-level timestamps, as OpenAI Whisper's `word_timestamps=True`
//! computes them (its `timing.py`; faster-whisper and CTranslate2 follow
//! the same rules): the decoder is run once more over a window's text,
//! teacher-forced, and the cross-attention of the model's alignment heads
//! (from its generation config, or CTranslate2's `config.json`) says which
//! audio frames each token looks at. Per head, the scores over the
//! window's real frames are turned into probabilities, each frame is
//! normalised across the tokens, smoothed along time by a median filter
//! of width 7; the heads are averaged, and dynamic time warping finds the
//! monotonic path through (tokens × frames) of most attention. A token
//! starts where the path first reaches it; a word is its tokens (split at
//! spaces, or at characters for languages written without them), its
//! probability their mean. Then the reference's corrections: words at
//! sentence ends and after pauses no longer than twice the median word,
//! punctuation merged into its neighbours, the segment's edges moved to
//! its first and last words.
//!
//! This module owns those steps as plain functions over numbers and
//! strings; [`super::Transcriber`] runs the model for them.

/// One word with its time (seconds from the start of the audio).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Word {
    pub word: String,
    pub start: f64,
    pub end: f64,
    pub probability: f32,
}

/// A word as the alignment gives it, before it is placed in a segment.
#[derive(Clone, Debug, PartialEq)]
pub struct WordTiming {
    pub word: String,
    pub tokens: Vec<u32>,
    pub start: f64,
    pub end: f64,
    pub probability: f32,
}

/// The median filter's width (the reference's `medfilt_width`).
pub const MEDIAN_WIDTH: usize = 7;

/// Punctuation joined to the word after it.
const PREPEND: &str = "\"'“¿([{-";
/// Punctuation joined to the word before it.
const APPEND: &str = "\"'.。,，!！?？:：”)]}、";
/// What ends a sentence.
const SENTENCE_END: &str = ".。!！?？";
/// Python's `string.punctuation`.
const ASCII_PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
/// Languages written without spaces between words: split at characters.
const NO_SPACES: [&str; 6] = ["zh", "ja", "th", "lo", "my", "yue"];

/// Each row of `x` (`rows` × `cols`, row-major) replaced by its running
/// median over `width` columns, the row reflected at its ends (the
/// reference's `median_filter`); rows no longer than half the width are
/// left as they are.
pub fn median_filter(x: &mut [f32], cols: usize, width: usize) {
    let pad = width / 2;
    if cols == 0 || cols <= pad || width < 2 {
        return;
    }
    let mut padded = vec![0.0f32; cols + 2 * pad];
    let mut window = vec![0.0f32; width];
    for row in x.chunks_exact_mut(cols) {
        // Reflect without repeating the edge: [3 2 1 | 0 1 2 3 … ].
        for (i, p) in padded.iter_mut().enumerate() {
            let j = i as isize - pad as isize;
            let j = if j < 0 {
                -j
            } else if j >= cols as isize {
                2 * (cols as isize - 1) - j
            } else {
                j
            };
            *p = row[j.clamp(0, cols as isize - 1) as usize];
        }
        for (c, out) in row.iter_mut().enumerate() {
            window.copy_from_slice(&padded[c..c + width]);
            window.sort_by(f32::total_cmp);
            *out = window[width / 2];
        }
    }
}

/// The monotonic path of least total cost through `cost` (`n` × `m`,
/// row-major) from (0, 0) to (n − 1, m − 1), as (row, column) pairs in
/// order — the reference's `dtw_cpu` with its tie-breaking (diagonal,
/// then down, else from the left).
pub fn dtw(cost: &[f32], n: usize, m: usize) -> Vec<(usize, usize)> {
    if n == 0 || m == 0 || cost.len() < n * m {
        return Vec::new();
    }
    let w = m + 1;
    let mut acc = vec![f32::INFINITY; (n + 1) * w];
    let mut trace = vec![0u8; (n + 1) * w];
    acc[0] = 0.0;
    for j in 1..=m {
        for i in 1..=n {
            let c0 = acc[(i - 1) * w + j - 1];
            let c1 = acc[(i - 1) * w + j];
            let c2 = acc[i * w + j - 1];
            let (c, t) = if c0 < c1 && c0 < c2 {
                (c0, 0)
            } else if c1 < c0 && c1 < c2 {
                (c1, 1)
            } else {
                (c2, 2)
            };
            acc[i * w + j] = cost[(i - 1) * m + j - 1] + c;
            trace[i * w + j] = t;
        }
    }
    trace[..=m].fill(2);
    for row in trace.chunks_exact_mut(w) {
        row[0] = 1;
    }
    let (mut i, mut j) = (n, m);
    let mut path = Vec::with_capacity(n + m);
    while i > 0 || j > 0 {
        path.push((i.wrapping_sub(1), j.wrapping_sub(1)));
        match trace[i * w + j] {
            0 => {
                i -= 1;
                j -= 1;
            }
            1 => i -= 1,
            _ => j -= 1,
        }
    }
    path.reverse();
    // The path's first step from (1, 1) is always diagonal to (0, 0):
    // nothing outside the matrix is kept.
    path.retain(|&(i, j)| i < n && j < m);
    path
}

/// The alignment matrix from the heads' scores: each head's
/// `scores` (`tokens` × `frames`, scaled, before the softmax) over its
/// first `frames_used` frames as probabilities, each frame normalised
/// across the tokens (mean 0, deviation 1), median-filtered along time,
/// then the mean over the heads (`tokens` × `frames_used`).
pub fn alignment_matrix(
    heads: &[Vec<f32>],
    tokens: usize,
    frames: usize,
    frames_used: usize,
) -> Vec<f32> {
    let used = frames_used.min(frames);
    let mut mean = vec![0.0f32; tokens * used];
    if heads.is_empty() || used == 0 || tokens == 0 {
        return mean;
    }
    for scores in heads {
        let mut w = vec![0.0f32; tokens * used];
        for (t, row) in w.chunks_exact_mut(used).enumerate() {
            let src = &scores[t * frames..t * frames + used];
            let max = src.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0f32;
            for (o, &s) in row.iter_mut().zip(src) {
                *o = (s - max).exp();
                sum += *o;
            }
            for o in row.iter_mut() {
                *o /= sum;
            }
        }
        for f in 0..used {
            let col = (0..tokens).map(|t| w[t * used + f] as f64);
            let mu = col.clone().sum::<f64>() / tokens as f64;
            let var = col.map(|v| (v - mu) * (v - mu)).sum::<f64>() / tokens as f64;
            let sd = var.sqrt();
            for t in 0..tokens {
                let v = &mut w[t * used + f];
                *v = if sd > 0.0 {
                    ((*v as f64 - mu) / sd) as f32
                } else {
                    0.0
                };
            }
        }
        median_filter(&mut w, used, MEDIAN_WIDTH);
        for (m, v) in mean.iter_mut().zip(&w) {
            *m += v / heads.len() as f32;
        }
    }
    mean
}

/// Splits `tokens` into whole characters: runs of tokens that decode
/// without a broken UTF-8 sequence (the reference's
/// `split_tokens_on_unicode`). `decode` gives a run's text, with
/// U+FFFD where bytes are missing.
pub fn split_on_unicode(
    tokens: &[u32],
    decode: &dyn Fn(&[u32]) -> String,
) -> (Vec<String>, Vec<Vec<u32>>) {
    let full: Vec<char> = decode(tokens).chars().collect();
    let (mut words, mut pieces) = (Vec::new(), Vec::new());
    let mut current: Vec<u32> = Vec::new();
    let mut offset = 0usize;
    for &t in tokens {
        current.push(t);
        let text = decode(&current);
        let chars: Vec<char> = text.chars().collect();
        let whole = match chars.iter().position(|&c| c == '\u{fffd}') {
            None => true,
            Some(at) => full.get(offset + at) == Some(&'\u{fffd}'),
        };
        if whole {
            offset += chars.len();
            words.push(text);
            pieces.push(std::mem::take(&mut current));
        }
    }
    (words, pieces)
}

/// Splits `tokens` into words (the reference's `split_to_word_tokens`):
/// a new word at a leading space, at punctuation and at special tokens
/// (ids from `eot` on); by characters for languages without spaces.
pub fn split_words(
    tokens: &[u32],
    eot: u32,
    language: &str,
    decode: &dyn Fn(&[u32]) -> String,
) -> (Vec<String>, Vec<Vec<u32>>) {
    let (pieces, piece_tokens) = split_on_unicode(tokens, decode);
    if NO_SPACES.contains(&language) {
        return (pieces, piece_tokens);
    }
    let (mut words, mut word_tokens): (Vec<String>, Vec<Vec<u32>>) = (Vec::new(), Vec::new());
    for (piece, toks) in pieces.into_iter().zip(piece_tokens) {
        let special = toks.first().is_some_and(|&t| t >= eot);
        let with_space = piece.starts_with(' ');
        // Python's `in` on strings: a substring of the punctuation.
        let punctuation = ASCII_PUNCTUATION.contains(piece.trim());
        match (words.last_mut(), word_tokens.last_mut()) {
            (Some(w), Some(t)) if !(special || with_space || punctuation) => {
                w.push_str(&piece);
                t.extend(toks);
            }
            _ => {
                words.push(piece);
                word_tokens.push(toks);
            }
        }
    }
    (words, word_tokens)
}

/// Words and their times from a path through the alignment matrix: the
/// time a token is first reached (`frame_secs` a frame), each word from
/// its first token's to the next word's; `probs` are the text tokens'.
pub fn words_from_path(
    words: Vec<String>,
    word_tokens: Vec<Vec<u32>>,
    path: &[(usize, usize)],
    probs: &[f32],
    frame_secs: f64,
) -> Vec<WordTiming> {
    // The time of each token row: where the path first enters it.
    let mut jump_times = Vec::new();
    let mut last_row = None;
    for &(i, j) in path {
        if last_row != Some(i) {
            jump_times.push(j as f64 * frame_secs);
            last_row = Some(i);
        }
    }
    let mut out = Vec::new();
    let mut at = 0usize;
    // The last "word" is the end of text: its start ends the word before.
    let n = word_tokens.len().saturating_sub(1);
    for (word, tokens) in words.into_iter().zip(word_tokens).take(n) {
        let next = at + tokens.len();
        let (Some(&start), Some(&end)) = (jump_times.get(at), jump_times.get(next)) else {
            break;
        };
        let p = &probs[at.min(probs.len())..next.min(probs.len())];
        let probability = if p.is_empty() {
            0.0
        } else {
            p.iter().sum::<f32>() / p.len() as f32
        };
        out.push(WordTiming {
            word,
            tokens,
            start,
            end,
            probability,
        });
        at = next;
    }
    out
}

/// Joins opening punctuation to the word after it and closing
/// punctuation to the word before it (the reference's
/// `merge_punctuations`); the emptied entries stay, with no text.
pub fn merge_punctuation(words: &mut [WordTiming]) {
    if words.len() < 2 {
        return;
    }
    // Opening marks, from the end.
    let mut j = words.len() - 1;
    for i in (0..words.len() - 1).rev() {
        let previous = &words[i];
        if previous.word.starts_with(' ') && PREPEND.contains(previous.word.trim()) {
            let (head, tail) = words.split_at_mut(j);
            let (previous, following) = (&mut head[i], &mut tail[0]);
            following.word = format!("{}{}", previous.word, following.word);
            let mut tokens = std::mem::take(&mut previous.tokens);
            tokens.append(&mut following.tokens);
            following.tokens = tokens;
            previous.word.clear();
        } else {
            j = i;
        }
    }
    // Closing marks, from the start.
    let mut i = 0;
    for j in 1..words.len() {
        let (head, tail) = words.split_at_mut(j);
        let (previous, following) = (&mut head[i], &mut tail[0]);
        if !previous.word.ends_with(' ') && is_in(APPEND, &following.word) {
            previous.word.push_str(&following.word);
            previous.tokens.append(&mut following.tokens);
            following.word.clear();
        } else {
            i = j;
        }
    }
}

/// Python's `s in chars` for strings: `s` is a substring of `chars`.
fn is_in(chars: &str, s: &str) -> bool {
    chars.contains(s)
}

/// Median and longest allowed word (seconds) from the aligned words:
/// the median of the nonzero durations, at most 0.7 s, and twice that;
/// `None` when no word has a length.
pub fn durations(alignment: &[WordTiming]) -> Option<(f64, f64)> {
    let mut d: Vec<f64> = alignment
        .iter()
        .map(|w| w.end - w.start)
        .filter(|&d| d != 0.0)
        .collect();
    if d.is_empty() {
        return None;
    }
    d.sort_by(f64::total_cmp);
    let n = d.len();
    let median = if n % 2 == 1 {
        d[n / 2]
    } else {
        (d[n / 2 - 1] + d[n / 2]) / 2.0
    };
    let median = median.min(0.7);
    Some((median, median * 2.0))
}

/// Shortens words at sentence boundaries longer than `max` (the
/// reference's first hack): a sentence-ending mark's end, or the word
/// after one's start.
pub fn clip_sentence_edges(alignment: &mut [WordTiming], max: f64) {
    for i in 1..alignment.len() {
        if alignment[i].end - alignment[i].start > max {
            if is_sentence_end(&alignment[i].word) {
                alignment[i].end = alignment[i].start + max;
            } else if is_sentence_end(&alignment[i - 1].word) {
                alignment[i].start = alignment[i].end - max;
            }
        }
    }
}

fn is_sentence_end(word: &str) -> bool {
    SENTENCE_END.contains(word)
}

/// Rounds to hundredths, as the reference reports times.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A segment's words and its corrected edges: `words` (times relative
/// to the window, `offset` seconds in), the segment's `start` and `end`,
/// the end of the speech before it; returns the words (absolute times)
/// and the segment's new (start, end) — the reference's per-segment
/// loop in `add_word_timestamps`.
pub fn place_segment_words(
    words: &[WordTiming],
    offset: f64,
    (start, end): (f64, f64),
    last_speech: f64,
    (median, max): (f64, f64),
) -> (Vec<Word>, f64, f64) {
    let mut out: Vec<Word> = words
        .iter()
        .filter(|w| !w.word.is_empty())
        .map(|w| Word {
            word: w.word.clone(),
            start: round2(offset + w.start),
            end: round2(offset + w.end),
            probability: w.probability,
        })
        .collect();
    let (mut start, mut end) = (start, end);
    if out.is_empty() {
        return (out, start, end);
    }
    // The first and second word after a pause: no longer than twice the
    // median word.
    let long_first =
        out[0].end - out[0].start > max || (out.len() > 1 && out[1].end - out[0].start > max * 2.0);
    if out[0].end - last_speech > median * 4.0 && long_first {
        if out.len() > 1 && out[1].end - out[1].start > max {
            let boundary = (out[1].end / 2.0).max(out[1].end - max);
            out[0].end = boundary;
            out[1].start = boundary;
        }
        out[0].start = (out[0].end - max).max(0.0);
    }
    // The segment's own start when the first word is too long.
    if start < out[0].end && start - 0.5 > out[0].start {
        out[0].start = (out[0].end - median).min(start).max(0.0);
    } else {
        start = out[0].start;
    }
    let last = out.len() - 1;
    if end > out[last].start && end + 0.5 < out[last].end {
        out[last].end = (out[last].start + median).max(end);
    } else {
        end = out[last].end;
    }
    (out, start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_filter_reflects_at_the_edges() {
        // Width 3 over [5 1 4 2 3]: padded [1 5 1 4 2 3 2].
        let mut x = vec![5.0, 1.0, 4.0, 2.0, 3.0];
        median_filter(&mut x, 5, 3);
        assert_eq!(x, vec![1.0, 4.0, 2.0, 3.0, 2.0]);
        // Too short a row is left alone.
        let mut y = vec![2.0, 1.0];
        median_filter(&mut y, 2, 7);
        assert_eq!(y, vec![2.0, 1.0]);
    }

    #[test]
    fn dtw_follows_the_cheap_cells() {
        // Two tokens over four frames: token 0 is cheap on frames 0–1,
        // token 1 on frames 2–3.
        let cost = [-1.0, -1.0, 0.0, 0.0, 0.0, 0.0, -1.0, -1.0];
        let path = dtw(&cost, 2, 4);
        // (Entering token 1 at frame 1 costs the same as at frame 2: a
        // tie, taken from the left.)
        assert_eq!(path, vec![(0, 0), (0, 1), (1, 1), (1, 2), (1, 3)]);
        // When the diagonal and the step from above tie, the step from
        // the left is taken even where it costs more: the reference's
        // (and CTranslate2's) rule, kept so the times are theirs.
        let cost = [-1.0, -1.0, 0.0, 0.0, 1.0, 1.0, -1.0, -1.0];
        assert_eq!(
            dtw(&cost, 2, 4),
            vec![(0, 0), (0, 1), (1, 1), (1, 2), (1, 3)]
        );
        let cost = [
            -1.0, -1.0, 0.0, 0.0, 1.0, 1.0, -1.0, -1.0, 5.0, 5.0, 5.0, -1.0,
        ];
        assert_eq!(
            dtw(&cost, 3, 4),
            vec![(0, 0), (0, 1), (1, 1), (1, 2), (1, 3), (2, 3)],
            "three tokens over four frames"
        );
        // (Each expected path is what the reference's `dtw_cpu` gives.)
        let cost = [
            -3.0, 0.0, 0.0, 0.0, 0.0, -3.0, 0.0, 0.0, 0.0, 0.0, -3.0, -3.0,
        ];
        assert_eq!(
            dtw(&cost, 3, 4),
            vec![(0, 0), (1, 0), (1, 1), (2, 1), (2, 2), (2, 3)]
        );
        // A three-way tie takes the step from the left (as the
        // reference's `else` branch does).
        assert_eq!(dtw(&[0.0; 4], 2, 2), vec![(0, 0), (1, 0), (1, 1)]);
        assert!(dtw(&[], 0, 3).is_empty());
    }

    fn timing(word: &str, start: f64, end: f64) -> WordTiming {
        WordTiming {
            word: word.into(),
            tokens: vec![1],
            start,
            end,
            probability: 1.0,
        }
    }

    #[test]
    fn punctuation_joins_its_neighbours() {
        let mut w = vec![
            timing(" \"", 0.0, 0.1),
            timing(" Hello", 0.1, 0.5),
            timing(",", 0.5, 0.6),
            timing(" world", 0.6, 1.0),
            timing(".", 1.0, 1.1),
        ];
        merge_punctuation(&mut w);
        let words: Vec<&str> = w.iter().map(|w| w.word.as_str()).collect();
        assert_eq!(words, vec!["", " \" Hello,", "", " world.", ""]);
        assert_eq!(w[1].tokens.len(), 3);
    }

    #[test]
    fn words_split_at_spaces_and_punctuation() {
        // Tokens decode to these pieces; 9 is the end of text.
        let piece = |t: u32| match t {
            1 => " Hel",
            2 => "lo",
            3 => ",",
            4 => " world",
            9 => "<|endoftext|>",
            _ => "?",
        };
        let decode = |ts: &[u32]| ts.iter().map(|&t| piece(t)).collect::<String>();
        let (words, tokens) = split_words(&[1, 2, 3, 4, 9], 9, "en", &decode);
        assert_eq!(words, vec![" Hello", ",", " world", "<|endoftext|>"]);
        assert_eq!(tokens, vec![vec![1, 2], vec![3], vec![4], vec![9]]);
        // Path: token rows 0..4 first reached at frames 0, 10, 12, 20, 30.
        let path = [(0, 0), (1, 10), (2, 12), (3, 20), (4, 30)];
        let timed = words_from_path(words, tokens, &path, &[0.5, 1.0, 0.9, 0.8], 0.02);
        assert_eq!(timed.len(), 3);
        assert_eq!((timed[0].start, timed[0].end), (0.0, 0.24));
        assert!((timed[0].probability - 0.75).abs() < 1e-6);
        assert_eq!((timed[2].start, timed[2].end), (0.4, 0.6));
    }

    #[test]
    fn a_long_first_word_after_a_pause_is_shortened() {
        // A word stretched over the silence before it: 2.0–4.0 s, median
        // 0.3 s, nothing spoken before.
        let words = vec![timing(" Hi", 2.0, 4.0), timing(" there", 4.0, 4.3)];
        let (placed, start, end) = place_segment_words(&words, 0.0, (2.0, 4.3), 0.0, (0.3, 0.6));
        assert_eq!(placed[0].start, 3.4);
        assert_eq!(start, 3.4);
        assert_eq!(end, 4.3);
    }
}
