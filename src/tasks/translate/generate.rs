//! Generation for the Marian decoder, following transformers v5
//! (`generation/utils.py`: `_sample` without sampling for greedy,
//! `_beam_search` for beams, with its early-stopping heuristic, length
//! penalty and top-k bookkeeping) and the logits processors a Marian
//! generation config turns on (`min_length`, `bad_words_ids`,
//! `forced_eos_token_id`). Scores are kept in f32 as the reference keeps
//! them, so that the same token ids come out.

use std::path::Path;

use candle_core::Tensor;
use serde_json::Value;

use super::TranslateError;
use super::model::{DecoderState, Marian, first_id, last_logits, log_softmax};
use crate::tasks::CancelToken;

/// `early_stopping` of a generation config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyStopping {
    Heuristic,
    Always,
    Never,
}

/// The generation settings, from `generation_config.json` (falling back
/// to the same keys in `config.json`, as old checkpoints keep them there).
#[derive(Clone, Debug)]
pub struct GenerationConfig {
    pub num_beams: usize,
    /// Total decoder length, the start token included.
    pub max_length: usize,
    pub min_length: usize,
    pub length_penalty: f32,
    pub early_stopping: EarlyStopping,
    pub bad_words_ids: Vec<Vec<u32>>,
    pub forced_eos_token_id: Option<u32>,
    pub eos_token_ids: Vec<u32>,
    pub decoder_start_token_id: u32,
    pub pad_token_id: u32,
}

fn ids_of(v: &Value) -> Vec<u32> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| vec![n as u32]).unwrap_or_default(),
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_u64())
            .map(|n| n as u32)
            .collect(),
        _ => Vec::new(),
    }
}

impl GenerationConfig {
    pub fn load(dir: &Path, model: &Marian) -> Self {
        let read = |name: &str| -> Value {
            std::fs::read_to_string(dir.join(name))
                .ok()
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or(Value::Null)
        };
        let (gen_cfg, cfg) = (read("generation_config.json"), read("config.json"));
        let get = |k: &str| {
            gen_cfg
                .get(k)
                .filter(|v| !v.is_null())
                .or_else(|| cfg.get(k).filter(|v| !v.is_null()))
        };
        let c = &model.config;
        let pad = get("pad_token_id")
            .and_then(first_id)
            .or(c.pad_token_id)
            .unwrap_or(c.decoder_start_token_id);
        let mut eos = get("eos_token_id").map(ids_of).unwrap_or_default();
        if eos.is_empty() {
            eos = ids_of(&c.eos_token_id);
        }
        Self {
            num_beams: get("num_beams").and_then(Value::as_u64).unwrap_or(1).max(1) as usize,
            max_length: (get("max_length").and_then(Value::as_u64).unwrap_or(20) as usize)
                .min(model.max_positions()),
            min_length: get("min_length").and_then(Value::as_u64).unwrap_or(0) as usize,
            length_penalty: get("length_penalty").and_then(Value::as_f64).unwrap_or(1.0) as f32,
            early_stopping: match get("early_stopping") {
                Some(Value::Bool(true)) => EarlyStopping::Always,
                Some(Value::String(s)) if s == "never" => EarlyStopping::Never,
                _ => EarlyStopping::Heuristic,
            },
            bad_words_ids: get("bad_words_ids")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(ids_of).filter(|w| !w.is_empty()).collect())
                .unwrap_or_default(),
            forced_eos_token_id: get("forced_eos_token_id").and_then(first_id),
            eos_token_ids: eos,
            decoder_start_token_id: get("decoder_start_token_id")
                .and_then(first_id)
                .unwrap_or(c.decoder_start_token_id),
            pad_token_id: pad,
        }
    }

    /// transformers' logits processors, in their order, on one row.
    fn process(&self, seq: &[u32], scores: &mut [f32]) {
        let cur_len = seq.len();
        if cur_len < self.min_length {
            for &e in &self.eos_token_ids {
                if let Some(s) = scores.get_mut(e as usize) {
                    *s = f32::NEG_INFINITY;
                }
            }
        }
        for word in &self.bad_words_ids {
            if let Some((last, prefix)) = word.split_last()
                && seq.ends_with(prefix)
                && let Some(s) = scores.get_mut(*last as usize)
            {
                *s = f32::NEG_INFINITY;
            }
        }
        if let Some(eos) = self.forced_eos_token_id
            && cur_len + 1 == self.max_length
        {
            scores.iter_mut().for_each(|s| *s = f32::NEG_INFINITY);
            if let Some(s) = scores.get_mut(eos as usize) {
                *s = 0.0;
            }
        }
    }

    fn is_eos(&self, t: u32) -> bool {
        self.eos_token_ids.contains(&t)
    }
}

fn err(e: candle_core::Error) -> TranslateError {
    TranslateError::Model(e.to_string())
}

fn tokens_tensor(model: &Marian, last: &[u32]) -> Result<Tensor, TranslateError> {
    Tensor::from_slice(last, (last.len(), 1), model.device()).map_err(err)
}

/// Index of the largest value; the first one on ties (as `argmax`).
fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Indices of the `k` largest values, largest first; on ties the lower
/// index first.
fn top_k(values: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    let k = k.min(idx.len());
    idx.select_nth_unstable_by(k.saturating_sub(1), |&a, &b| {
        values[b].total_cmp(&values[a]).then(a.cmp(&b))
    });
    idx.truncate(k);
    idx.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    idx
}

/// Encodes one sentence's ids and prepares `rows` decoder rows for it.
fn prepare(model: &Marian, input_ids: &[u32], rows: usize) -> Result<DecoderState, TranslateError> {
    let ids = Tensor::from_slice(input_ids, (1, input_ids.len()), model.device()).map_err(err)?;
    let enc = model.encode(&ids, None).map_err(err)?;
    model.start(&enc, None, rows).map_err(err)
}

/// Greedy decoding; returns the decoder start token and what follows.
/// `on_token` sees the sequence so far after every step.
pub fn greedy(
    model: &Marian,
    cfg: &GenerationConfig,
    input_ids: &[u32],
    cancel: &CancelToken,
    on_token: &mut dyn FnMut(&[u32]),
) -> Result<Vec<u32>, TranslateError> {
    let mut state = prepare(model, input_ids, 1)?;
    let mut seq = vec![cfg.decoder_start_token_id];
    while seq.len() < cfg.max_length {
        if cancel.is_cancelled() {
            return Err(TranslateError::Cancelled);
        }
        let last = tokens_tensor(model, &seq[seq.len() - 1..])?;
        let logits = model.decode(&last, &mut state).map_err(err)?;
        let mut row = last_logits(&logits)?.swap_remove(0);
        cfg.process(&seq, &mut row);
        let next = argmax(&row) as u32;
        seq.push(next);
        on_token(&seq);
        if cfg.is_eos(next) {
            break;
        }
    }
    Ok(seq)
}

/// `a / b` the way PyTorch divides an f32 tensor by a Python float.
fn div(a: f32, b: f64) -> f32 {
    a * (1.0f32 / b as f32)
}

/// Beam search; returns the best finished sequence (decoder start token
/// first). `on_best` sees the best running beam after every step.
pub fn beam_search(
    model: &Marian,
    cfg: &GenerationConfig,
    input_ids: &[u32],
    cancel: &CancelToken,
    on_best: &mut dyn FnMut(&[u32]),
) -> Result<Vec<u32>, TranslateError> {
    let beams = cfg.num_beams;
    if beams <= 1 {
        return greedy(model, cfg, input_ids, cancel, on_best);
    }
    let keep = (1 + cfg.eos_token_ids.len()).max(2) * beams;
    let prompt_len = 1usize;
    let mut state = prepare(model, input_ids, beams)?;
    let start = cfg.decoder_start_token_id;
    let mut running: Vec<Vec<u32>> = vec![vec![start]; beams];
    let mut running_scores: Vec<f32> = (0..beams)
        .map(|i| if i == 0 { 0.0 } else { -1e9 })
        .collect();
    let mut finished: Vec<Vec<u32>> = vec![vec![start]; beams];
    let mut finished_scores = vec![-1e9f32; beams];
    let mut is_finished = vec![false; beams];
    let mut improvable = true;
    let mut cur_len = prompt_len;
    loop {
        if cancel.is_cancelled() {
            return Err(TranslateError::Cancelled);
        }
        let last: Vec<u32> = running.iter().map(|s| s[s.len() - 1]).collect();
        let logits = model
            .decode(&tokens_tensor(model, &last)?, &mut state)
            .map_err(err)?;
        let rows = last_logits(&logits)?;
        let vocab = rows[0].len();
        let mut acc = Vec::with_capacity(beams * vocab);
        for (b, row) in rows.iter().enumerate() {
            let mut lp = log_softmax(row);
            cfg.process(&running[b], &mut lp);
            acc.extend(lp.iter().map(|x| x + running_scores[b]));
        }
        // The top `keep` continuations over all beams.
        let top = top_k(&acc, keep);
        let cand: Vec<(f32, usize, Vec<u32>)> = top
            .iter()
            .map(|&i| {
                let (b, t) = (i / vocab, (i % vocab) as u32);
                let mut s = running[b].clone();
                s.push(t);
                (acc[i], b, s)
            })
            .collect();
        let hits: Vec<bool> = cand
            .iter()
            .map(|(_, _, s)| cfg.is_eos(s[s.len() - 1]) || s.len() >= cfg.max_length)
            .collect();
        // Beams that go on: the best `beams` that did not stop.
        let go_scores: Vec<f32> = cand
            .iter()
            .zip(&hits)
            .map(|((sc, _, _), &h)| sc + if h { -1e9 } else { 0.0 })
            .collect();
        let go = top_k(&go_scores, beams);
        // Finished hypotheses: merge the old ones with those that just
        // stopped among the top `beams`, length-penalised.
        let lp_div = ((cur_len + 1 - prompt_len) as f64).powf(cfg.length_penalty as f64);
        let all_full =
            is_finished.iter().all(|&f| f) && cfg.early_stopping == EarlyStopping::Always;
        let mut merged_scores = finished_scores.clone();
        for (i, (sc, _, _)) in cand.iter().enumerate() {
            let just = hits[i] && i < beams;
            let mut s = div(*sc, lp_div);
            if all_full {
                s += -1e9;
            }
            if !improvable {
                s += -1e9;
            }
            if !just {
                s += -1e9;
            }
            merged_scores.push(s);
        }
        let best = top_k(&merged_scores, beams);
        let (mut nf, mut nfs, mut nfin) = (Vec::new(), Vec::new(), Vec::new());
        for &j in &best {
            if j < beams {
                nf.push(finished[j].clone());
                nfin.push(is_finished[j]);
            } else {
                let i = j - beams;
                nf.push(cand[i].2.clone());
                nfin.push(hits[i] && i < beams);
            }
            nfs.push(merged_scores[j]);
        }
        (finished, finished_scores, is_finished) = (nf, nfs, nfin);
        let origins: Vec<u32> = go.iter().map(|&g| cand[g].1 as u32).collect();
        running = go.iter().map(|&g| cand[g].2.clone()).collect();
        running_scores = go.iter().map(|&g| go_scores[g]).collect();
        state.reorder(&origins).map_err(err)?;
        on_best(&running[0]);
        cur_len += 1;
        // transformers' `_check_early_stop_heuristic`.
        let best_len = if cfg.early_stopping == EarlyStopping::Never && cfg.length_penalty > 0.0 {
            cfg.max_length - prompt_len
        } else {
            cur_len - prompt_len
        };
        let best_possible = div(
            running_scores[0],
            (best_len as f64).powf(cfg.length_penalty as f64),
        );
        let worst = finished_scores
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min);
        improvable = improvable
            && is_finished
                .iter()
                .any(|&f| best_possible > if f { worst } else { -1e9 });
        let open_beam =
            !(is_finished.iter().all(|&f| f) && cfg.early_stopping == EarlyStopping::Always);
        let can_continue = !hits.iter().all(|&h| h);
        if !(improvable && open_beam && can_continue) {
            break;
        }
    }
    Ok(finished.swap_remove(0))
}
