//! SentencePiece models (`source.spm`, `target.spm`) read without the
//! sentencepiece library: the `ModelProto` protobuf is parsed by hand, and
//! encoding follows `sentencepiece`'s unigram model — normalisation with the
//! precompiled character map, whitespace handling, Viterbi segmentation,
//! unknown runs merged, byte fallback — and decoding its `DecodePieces`.
//! Ported from sentencepiece's `normalizer.cc`, `unigram_model.cc` and
//! `sentencepiece_processor.cc` (behaviour, not code).

use std::collections::HashMap;

use tokenizers::normalizers::Precompiled;
use tokenizers::{NormalizedString, Normalizer};

/// What a piece is for (sentencepiece's `SentencePiece.Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PieceType {
    Normal,
    Unknown,
    Control,
    UserDefined,
    Unused,
    Byte,
}

#[derive(Clone, Debug)]
pub struct Piece {
    pub text: String,
    pub score: f32,
    pub kind: PieceType,
}

/// Why a `.spm` file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SpmError {
    #[error("the SentencePiece model is damaged ({0})")]
    Malformed(&'static str),
    #[error("the SentencePiece model is a {0} model; only unigram models are supported")]
    NotUnigram(&'static str),
}

/// A parsed SentencePiece unigram model.
pub struct SpmModel {
    pub pieces: Vec<Piece>,
    index: HashMap<String, usize>,
    unk_id: usize,
    byte_fallback: bool,
    add_dummy_prefix: bool,
    remove_extra_whitespaces: bool,
    escape_whitespaces: bool,
    charsmap: Option<Precompiled>,
    min_score: f32,
    max_piece_chars: usize,
}

/// A protobuf field: number and value.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
    Fixed64,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, SpmError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or(SpmError::Malformed("truncated number"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(SpmError::Malformed("overlong number"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], SpmError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or(SpmError::Malformed("truncated field"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, SpmError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = match key & 7 {
            0 => Field::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Field::Fixed64
            }
            2 => {
                let n = usize::try_from(self.varint()?)
                    .map_err(|_| SpmError::Malformed("huge field"))?;
                Field::Bytes(self.take(n)?)
            }
            5 => {
                let b = self.take(4)?;
                Field::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            _ => return Err(SpmError::Malformed("unknown wire type")),
        };
        Ok(Some((key >> 3, field)))
    }
}

fn parse_piece(buf: &[u8]) -> Result<Piece, SpmError> {
    let mut r = Reader::new(buf);
    let mut piece = Piece {
        text: String::new(),
        score: 0.0,
        kind: PieceType::Normal,
    };
    while let Some((num, f)) = r.next()? {
        match (num, f) {
            (1, Field::Bytes(b)) => piece.text = String::from_utf8_lossy(b).into_owned(),
            (2, Field::Fixed32(bits)) => piece.score = f32::from_bits(bits),
            (3, Field::Varint(t)) => {
                piece.kind = match t {
                    2 => PieceType::Unknown,
                    3 => PieceType::Control,
                    4 => PieceType::UserDefined,
                    5 => PieceType::Unused,
                    6 => PieceType::Byte,
                    _ => PieceType::Normal,
                }
            }
            _ => {}
        }
    }
    Ok(piece)
}

/// A lattice node of the Viterbi search: best score to reach a position.
#[derive(Clone, Copy)]
struct Best {
    score: f32,
    /// Start of the last piece, and the piece (`None` = unknown character).
    start: usize,
    piece: Option<usize>,
}

impl SpmModel {
    /// Parses a `.spm` file.
    pub fn parse(bytes: &[u8]) -> Result<Self, SpmError> {
        let mut pieces = Vec::new();
        let mut unk_id = 0usize;
        let mut byte_fallback = false;
        let mut model_type = 1u64;
        let (mut add_dummy_prefix, mut remove_extra_whitespaces, mut escape_whitespaces) =
            (true, true, true);
        let mut charsmap = None;
        let mut r = Reader::new(bytes);
        while let Some((num, f)) = r.next()? {
            match (num, f) {
                (1, Field::Bytes(b)) => pieces.push(parse_piece(b)?),
                (2, Field::Bytes(b)) => {
                    let mut t = Reader::new(b);
                    while let Some((n, f)) = t.next()? {
                        match (n, f) {
                            (3, Field::Varint(v)) => model_type = v,
                            (35, Field::Varint(v)) => byte_fallback = v != 0,
                            (40, Field::Varint(v)) => unk_id = v as usize,
                            _ => {}
                        }
                    }
                }
                (3, Field::Bytes(b)) => {
                    let mut t = Reader::new(b);
                    while let Some((n, f)) = t.next()? {
                        match (n, f) {
                            (2, Field::Bytes(map)) if !map.is_empty() => {
                                charsmap = Some(
                                    Precompiled::from(map)
                                        .map_err(|_| SpmError::Malformed("character map"))?,
                                );
                            }
                            (3, Field::Varint(v)) => add_dummy_prefix = v != 0,
                            (4, Field::Varint(v)) => remove_extra_whitespaces = v != 0,
                            (5, Field::Varint(v)) => escape_whitespaces = v != 0,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        match model_type {
            1 => {}
            2 => return Err(SpmError::NotUnigram("BPE")),
            3 => return Err(SpmError::NotUnigram("word")),
            _ => return Err(SpmError::NotUnigram("character")),
        }
        if pieces.is_empty() || unk_id >= pieces.len() {
            return Err(SpmError::Malformed("no pieces"));
        }
        let index = pieces
            .iter()
            .enumerate()
            .map(|(i, p)| (p.text.clone(), i))
            .collect();
        let min_score = pieces
            .iter()
            .filter(|p| p.kind == PieceType::Normal)
            .map(|p| p.score)
            .fold(f32::INFINITY, f32::min);
        let max_piece_chars = pieces
            .iter()
            .filter(|p| matches!(p.kind, PieceType::Normal | PieceType::UserDefined))
            .map(|p| p.text.chars().count())
            .max()
            .unwrap_or(1);
        Ok(Self {
            pieces,
            index,
            unk_id,
            byte_fallback,
            add_dummy_prefix,
            remove_extra_whitespaces,
            escape_whitespaces,
            charsmap,
            min_score: if min_score.is_finite() {
                min_score
            } else {
                0.0
            },
            max_piece_chars,
        })
    }

    pub fn piece_id(&self, piece: &str) -> Option<usize> {
        self.index.get(piece).copied()
    }

    /// sentencepiece's normaliser: the character map, then whitespace —
    /// leading and trailing removed, runs collapsed, a dummy prefix added —
    /// and spaces shown as `▁`.
    pub fn normalize(&self, text: &str) -> String {
        let mapped = match &self.charsmap {
            Some(map) => {
                let mut n = NormalizedString::from(text);
                match map.normalize(&mut n) {
                    Ok(()) => n.get().to_string(),
                    Err(_) => text.to_string(),
                }
            }
            None => text.to_string(),
        };
        let mut out = String::with_capacity(mapped.len() + 3);
        let mut pending_space = false;
        let mut started = false;
        for c in mapped.chars() {
            if c == ' ' && self.remove_extra_whitespaces {
                pending_space = started;
                continue;
            }
            if !started {
                started = true;
                if self.add_dummy_prefix {
                    out.push(' ');
                }
            } else if pending_space {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
        if !self.remove_extra_whitespaces
            && self.add_dummy_prefix
            && !out.starts_with(' ')
            && !mapped.is_empty()
        {
            out.insert(0, ' ');
        }
        if self.escape_whitespaces {
            out = out.replace(' ', "▁");
        }
        out
    }

    /// The pieces of `text`, as `encode(text, out_type=str)` gives them:
    /// a run of unknown characters is one piece holding their text.
    pub fn encode_pieces(&self, text: &str) -> Vec<String> {
        let norm = self.normalize(text);
        if norm.is_empty() {
            return Vec::new();
        }
        let chars: Vec<(usize, char)> = norm.char_indices().collect();
        let n = chars.len();
        let byte_at = |i: usize| if i == n { norm.len() } else { chars[i].0 };
        let unk_score = self.min_score - 10.0;
        let mut best: Vec<Option<Best>> = vec![None; n + 1];
        best[0] = Some(Best {
            score: 0.0,
            start: 0,
            piece: None,
        });
        for start in 0..n {
            let Some(here) = best[start] else { continue };
            let mut matched_single = false;
            for len in 1..=self.max_piece_chars.min(n - start) {
                let end = start + len;
                let s = &norm[byte_at(start)..byte_at(end)];
                if let Some(&id) = self.index.get(s) {
                    let p = &self.pieces[id];
                    let score = match p.kind {
                        PieceType::Normal => p.score,
                        // User-defined pieces always win where they match.
                        PieceType::UserDefined => 0.0,
                        _ => continue,
                    };
                    if len == 1 {
                        matched_single = true;
                    }
                    let total = here.score + score;
                    if best[end].is_none_or(|b| total > b.score) {
                        best[end] = Some(Best {
                            score: total,
                            start,
                            piece: Some(id),
                        });
                    }
                }
            }
            if !matched_single {
                let total = here.score + unk_score;
                if best[start + 1].is_none_or(|b| total > b.score) {
                    best[start + 1] = Some(Best {
                        score: total,
                        start,
                        piece: None,
                    });
                }
            }
        }
        // Walk back from the end.
        let mut path = Vec::new();
        let mut pos = n;
        while pos > 0 {
            let Some(b) = best[pos] else { break };
            path.push((b.start, pos, b.piece));
            pos = b.start;
        }
        path.reverse();
        let mut out: Vec<String> = Vec::new();
        let mut unk_run: Option<String> = None;
        for (s, e, piece) in path {
            let surface = &norm[byte_at(s)..byte_at(e)];
            match piece {
                Some(id) => {
                    if let Some(run) = unk_run.take() {
                        out.push(run);
                    }
                    out.push(self.pieces[id].text.clone());
                }
                None if self.byte_fallback => {
                    if let Some(run) = unk_run.take() {
                        out.push(run);
                    }
                    for b in surface.bytes() {
                        out.push(format!("<0x{b:02X}>"));
                    }
                }
                None => unk_run.get_or_insert_with(String::new).push_str(surface),
            }
        }
        if let Some(run) = unk_run {
            out.push(run);
        }
        out
    }

    /// `DecodePieces`: pieces joined, `▁` back to spaces, the dummy prefix
    /// removed, byte pieces turned back into UTF-8.
    pub fn decode_pieces(&self, pieces: &[&str]) -> String {
        let mut bytes: Vec<u8> = Vec::new();
        for (i, p) in pieces.iter().enumerate() {
            let kind = self.piece_id(p).map(|id| self.pieces[id].kind);
            match kind {
                Some(PieceType::Control) => {}
                Some(PieceType::Byte) => {
                    if let Some(b) = p
                        .strip_prefix("<0x")
                        .and_then(|h| h.strip_suffix('>'))
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                    {
                        bytes.push(b);
                    }
                }
                Some(PieceType::Unknown) => bytes.extend_from_slice(" ⁇ ".as_bytes()),
                _ => {
                    let mut text = p.replace('▁', " ");
                    if i == 0
                        && self.add_dummy_prefix
                        && let Some(rest) = text.strip_prefix(' ')
                    {
                        text = rest.to_string();
                    }
                    bytes.extend_from_slice(text.as_bytes());
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    pub fn unk_piece(&self) -> &str {
        &self.pieces[self.unk_id].text
    }
}
