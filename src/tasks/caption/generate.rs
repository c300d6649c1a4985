//! Caption generation for BLIP as transformers runs it: the decoder starts
//! from the text config's bos token followed by the prompt's tokens (the
//! tokenizer's trailing [SEP] dropped, as `BlipForConditionalGeneration.
//! generate` does) and stops at the sep token or the length limit; by
//! default 20 new tokens (transformers v5's default when no `max_length`
//! is set). Greedy, or beam search with the shared `_beam_search` port.

use candle_core::Tensor;

use super::model::Blip;
use crate::tasks::TaskError;
use crate::tasks::generation::{Beams, EarlyStopping, GenerationConfig, MAX_BEAMS};
use crate::tasks::nn::argmax;
use crate::work::CancelToken;

/// How to caption.
#[derive(Clone, Debug, Default)]
pub struct CaptionOptions {
    /// Total length of the caption's token sequence, bos and prompt
    /// included; `None`: the prompt plus 20 new tokens.
    pub max_length: Option<usize>,
    /// Beam search's length penalty (1.0 by default).
    pub length_penalty: Option<f32>,
}

/// The decoder's first tokens: bos, then the prompt's ids without the
/// tokenizer's leading [CLS] and trailing [SEP] (transformers replaces
/// the first with bos and drops the last).
pub fn prefix(model: &Blip, prompt_ids: Option<&[u32]>) -> Vec<u32> {
    let c = &model.config.text_config;
    let mut ids = vec![c.bos_token_id];
    if let Some(p) = prompt_ids
        && p.len() >= 2
    {
        ids.extend_from_slice(&p[1..p.len() - 1]);
    }
    ids
}

/// The whole sequence's length limit: as asked, or the prefix and 20 new
/// tokens; never past the model's positions.
fn max_length(model: &Blip, prefix_len: usize, opts: &CaptionOptions) -> usize {
    opts.max_length
        .unwrap_or(prefix_len + 20)
        .min(model.config.text_config.max_position_embeddings)
}

/// Greedy captioning of one image (its embeddings, (1, n, d)); returns the
/// whole sequence, the prefix included.
pub fn greedy(
    model: &Blip,
    image: &Tensor,
    prefix: &[u32],
    opts: &CaptionOptions,
    cancel: &CancelToken,
) -> Result<Vec<u32>, TaskError> {
    let c = &model.config.text_config;
    let max_length = max_length(model, prefix.len(), opts);
    let mut state = model.start(image, 1)?;
    let mut seq = prefix.to_vec();
    let mut input = seq.clone();
    while seq.len() < max_length {
        if cancel.is_cancelled() {
            return Err(TaskError::Cancelled);
        }
        let t = Tensor::from_slice(&input, (1, input.len()), model.device())?;
        let logits = model.decode(&t, &mut state)?;
        let n = logits.dim(1)?;
        let row: Vec<f32> = logits.get(0)?.get(n - 1)?.to_vec1()?;
        let next = argmax(&row) as u32;
        seq.push(next);
        if next == c.sep_token_id {
            break;
        }
        input = vec![next];
    }
    Ok(seq)
}

/// The generation settings transformers uses for BLIP captions: `beams`
/// beams, stopping at the sep token, `max_length` in all (the prefix and
/// 20 new tokens by default), no other logits processors.
pub fn generation_config(
    model: &Blip,
    prefix_len: usize,
    beams: usize,
    opts: &CaptionOptions,
) -> GenerationConfig {
    let c = &model.config.text_config;
    GenerationConfig {
        num_beams: beams.clamp(1, MAX_BEAMS),
        max_length: max_length(model, prefix_len, opts),
        min_length: 0,
        length_penalty: opts.length_penalty.unwrap_or(1.0),
        early_stopping: EarlyStopping::Heuristic,
        bad_words_ids: Vec::new(),
        forced_eos_token_id: None,
        eos_token_ids: vec![c.sep_token_id],
        decoder_start_token_id: c.bos_token_id,
        pad_token_id: c.pad_token_id,
    }
}

/// Beam search over one image (its embeddings, (1, n, d)) as transformers'
/// `_beam_search`; returns the best sequence, the prefix included.
pub fn beam_search(
    model: &Blip,
    image: &Tensor,
    prefix: &[u32],
    cfg: &GenerationConfig,
    cancel: &CancelToken,
) -> Result<Vec<u32>, TaskError> {
    let beams = cfg.num_beams.clamp(1, MAX_BEAMS);
    let mut state = model.start(image, beams)?;
    let mut item = Beams::new(prefix, beams);
    // Every row reads the whole prefix first, then its last token.
    let mut input: Vec<u32> = item.running.iter().flatten().copied().collect();
    let mut width = prefix.len();
    let mut cur_len = prefix.len();
    loop {
        if cancel.is_cancelled() {
            return Err(TaskError::Cancelled);
        }
        let t = Tensor::from_vec(input, (beams, width), model.device())?;
        let logits = model.decode(&t, &mut state)?;
        let rows: Vec<Vec<f32>> = logits.narrow(1, width - 1, 1)?.squeeze(1)?.to_vec2()?;
        let (origins, all_hit) = item.step(cfg, &rows, cur_len);
        state.reorder(&origins)?;
        cur_len += 1;
        if item.done || all_hit {
            break;
        }
        input = item.running.iter().map(|s| s[s.len() - 1]).collect();
        width = 1;
    }
    Ok(item.finished.swap_remove(0))
}
