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

use super::model::{DecoderState, Marian, first_id, last_logits};
use crate::tasks::TaskError;
use crate::tasks::generation::{Beams, MAX_BEAMS};
pub use crate::tasks::generation::{EarlyStopping, GenerationConfig};
use crate::tasks::nn::argmax;
use crate::work::CancelToken;

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
            num_beams: get("num_beams")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .clamp(1, MAX_BEAMS as u64) as usize,
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
}

fn err(e: candle_core::Error) -> TaskError {
    TaskError::Model(e.to_string())
}

fn tokens_tensor(model: &Marian, last: &[u32]) -> Result<Tensor, TaskError> {
    Tensor::from_slice(last, (last.len(), 1), model.device()).map_err(err)
}

/// Encodes a batch of inputs (padded, with a mask) and prepares `beams`
/// decoder rows for each.
fn prepare(
    model: &Marian,
    cfg: &GenerationConfig,
    inputs: &[Vec<u32>],
    beams: usize,
) -> Result<DecoderState, TaskError> {
    let t = inputs.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let mut ids = Vec::with_capacity(inputs.len() * t);
    for inp in inputs {
        ids.extend_from_slice(inp);
        ids.extend(std::iter::repeat_n(cfg.pad_token_id, t - inp.len()));
    }
    let ids = Tensor::from_vec(ids, (inputs.len(), t), model.device()).map_err(err)?;
    let padded = inputs.iter().any(|i| i.len() < t);
    let mask = if padded {
        let lengths: Vec<usize> = inputs.iter().map(Vec::len).collect();
        Some(model.padding_mask(&lengths, t).map_err(err)?)
    } else {
        None
    };
    let enc = model.encode(&ids, mask.as_ref()).map_err(err)?;
    model.start(&enc, mask.as_ref(), beams).map_err(err)
}

/// Greedy decoding of one input; returns the decoder start token and what
/// follows. `on_token` sees the sequence so far after every step.
pub fn greedy(
    model: &Marian,
    cfg: &GenerationConfig,
    input_ids: &[u32],
    cancel: &CancelToken,
    on_token: &mut dyn FnMut(&[u32]),
) -> Result<Vec<u32>, TaskError> {
    let mut cfg = cfg.clone();
    cfg.num_beams = 1;
    generate_one(model, &cfg, input_ids, cancel, on_token)
}

/// Beam search (or greedy with one beam) of one input.
pub fn beam_search(
    model: &Marian,
    cfg: &GenerationConfig,
    input_ids: &[u32],
    cancel: &CancelToken,
    on_best: &mut dyn FnMut(&[u32]),
) -> Result<Vec<u32>, TaskError> {
    generate_one(model, cfg, input_ids, cancel, on_best)
}

fn generate_one(
    model: &Marian,
    cfg: &GenerationConfig,
    input_ids: &[u32],
    cancel: &CancelToken,
    on_best: &mut dyn FnMut(&[u32]),
) -> Result<Vec<u32>, TaskError> {
    let mut out = generate(model, cfg, &[input_ids.to_vec()], cancel, &mut |best| {
        on_best(&best[0])
    })?;
    Ok(out.swap_remove(0))
}

/// Generates for a batch of inputs at once (greedy when `num_beams` is 1):
/// the encoder runs on the padded batch, the decoder on the rows (beams ×
/// inputs) of the inputs not yet finished at each step — a finished input
/// leaves the batch rather than being fed padding. Returns each input's
/// best sequence, the decoder start token first; `on_step` sees the best
/// running sequence of each.
pub fn generate(
    model: &Marian,
    cfg: &GenerationConfig,
    inputs: &[Vec<u32>],
    cancel: &CancelToken,
    on_step: &mut dyn FnMut(&[Vec<u32>]),
) -> Result<Vec<Vec<u32>>, TaskError> {
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    let beams = cfg.num_beams.clamp(1, MAX_BEAMS);
    let start = cfg.decoder_start_token_id;
    let mut state = prepare(model, cfg, inputs, beams)?;
    // The inputs whose rows are in the batch, in row order.
    let mut active: Vec<usize> = (0..inputs.len()).collect();
    // Drops the rows of the inputs that finished at this step.
    let leave = |state: &mut DecoderState,
                 active: &mut Vec<usize>,
                 done: &dyn Fn(usize) -> bool|
     -> Result<(), TaskError> {
        if !active.iter().any(|&i| done(i)) {
            return Ok(());
        }
        let rows: Vec<u32> = active
            .iter()
            .enumerate()
            .filter(|(_, i)| !done(**i))
            .flat_map(|(a, _)| (0..beams).map(move |b| (a * beams + b) as u32))
            .collect();
        active.retain(|&i| !done(i));
        if rows.is_empty() {
            return Ok(());
        }
        state.keep(&rows).map_err(err)
    };
    if beams == 1 {
        let mut seqs: Vec<Vec<u32>> = vec![vec![start]; inputs.len()];
        let mut done = vec![false; inputs.len()];
        let mut len = 1;
        while len < cfg.max_length && !active.is_empty() {
            if cancel.is_cancelled() {
                return Err(TaskError::Cancelled);
            }
            let last: Vec<u32> = active.iter().map(|&i| seqs[i][seqs[i].len() - 1]).collect();
            let logits = model
                .decode(&tokens_tensor(model, &last)?, &mut state)
                .map_err(err)?;
            let rows = last_logits(&logits)?;
            for (&i, mut row) in active.iter().zip(rows) {
                cfg.process(&seqs[i], &mut row);
                let next = argmax(&row) as u32;
                seqs[i].push(next);
                done[i] = cfg.is_eos(next);
            }
            len += 1;
            on_step(&seqs);
            leave(&mut state, &mut active, &|i| done[i])?;
        }
        return Ok(seqs);
    }
    let mut items: Vec<Beams> = (0..inputs.len())
        .map(|_| Beams::new(&[start], beams))
        .collect();
    let mut cur_len = 1usize;
    loop {
        if cancel.is_cancelled() {
            return Err(TaskError::Cancelled);
        }
        let last: Vec<u32> = active
            .iter()
            .flat_map(|&i| items[i].running.iter().map(|s| s[s.len() - 1]))
            .collect();
        let logits = model
            .decode(&tokens_tensor(model, &last)?, &mut state)
            .map_err(err)?;
        let rows = last_logits(&logits)?;
        let mut order: Vec<u32> = Vec::with_capacity(rows.len());
        let mut all_hit = true;
        for (a, &i) in active.iter().enumerate() {
            let base = (a * beams) as u32;
            let (origins, hit) = items[i].step(cfg, &rows[a * beams..(a + 1) * beams], cur_len);
            all_hit &= hit;
            order.extend(origins.iter().map(|o| base + o));
        }
        state.reorder(&order).map_err(err)?;
        cur_len += 1;
        let best: Vec<Vec<u32>> = items.iter().map(|it| it.running[0].clone()).collect();
        on_step(&best);
        if items.iter().all(|it| it.done) || all_hit {
            break;
        }
        leave(&mut state, &mut active, &|i| items[i].done)?;
    }
    Ok(items
        .into_iter()
        .map(|mut it| it.finished.swap_remove(0))
        .collect())
}

#[cfg(test)]
mod tests {
    use crate::tasks::nn::top_k;

    #[test]
    fn top_k_orders_by_value_then_index() {
        let v = [1.0, 5.0, 3.0, 5.0, f32::NEG_INFINITY, 4.0, 3.0];
        assert_eq!(top_k(&v, 4), [1, 3, 5, 2]);
        assert_eq!(top_k(&v, 10).len(), 7);
        assert_eq!(top_k(&[], 3), Vec::<usize>::new());
    }
}
