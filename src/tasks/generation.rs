//! Generation shared by the encoder-decoder models (Marian, BLIP): the
//! generation settings and the logits processors they turn on
//! (`min_length`, `bad_words_ids`, `forced_eos_token_id`), and one input's
//! beams in transformers v5's `_beam_search` (top-k bookkeeping, length
//! penalty, the early-stopping heuristic), its scores kept in f32 as the
//! reference keeps them so that the same token ids come out.

use crate::tasks::nn::top_k;
use crate::tasks::translate::model::log_softmax;

/// `early_stopping` of a generation config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyStopping {
    Heuristic,
    Always,
    Never,
}

/// The most beams any search keeps (a model's config or a person may ask
/// for more; each beam holds a decoder cache, so a damaged config asking
/// for millions would exhaust the memory).
pub const MAX_BEAMS: usize = 64;

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

impl GenerationConfig {
    /// transformers' logits processors, in their order, on one row.
    pub(crate) fn process(&self, seq: &[u32], scores: &mut [f32]) {
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

    pub(crate) fn is_eos(&self, t: u32) -> bool {
        self.eos_token_ids.contains(&t)
    }
}

/// `a / b` the way PyTorch divides an f32 tensor by a Python float.
fn div(a: f32, b: f64) -> f32 {
    a * (1.0f32 / b as f32)
}

/// One input's beams during beam search (transformers keeps the same
/// tensors batched; each item is independent but for the model call).
pub(crate) struct Beams {
    /// Tokens every sequence starts with (the decoder start, a prompt).
    prompt_len: usize,
    pub(crate) running: Vec<Vec<u32>>,
    running_scores: Vec<f32>,
    pub(crate) finished: Vec<Vec<u32>>,
    finished_scores: Vec<f32>,
    is_finished: Vec<bool>,
    improvable: bool,
    pub(crate) done: bool,
}

impl Beams {
    /// `beams` hypotheses, all starting with `prefix`.
    pub(crate) fn new(prefix: &[u32], beams: usize) -> Self {
        Self {
            prompt_len: prefix.len(),
            running: vec![prefix.to_vec(); beams],
            running_scores: (0..beams)
                .map(|i| if i == 0 { 0.0 } else { -1e9 })
                .collect(),
            finished: vec![prefix.to_vec(); beams],
            finished_scores: vec![-1e9; beams],
            is_finished: vec![false; beams],
            improvable: true,
            done: false,
        }
    }

    /// One step of `_beam_search` for this item, from its rows' logits.
    /// Returns the source row (within the item) of each new running beam,
    /// and whether every top-k continuation hit a stopping criterion.
    pub(crate) fn step(
        &mut self,
        cfg: &GenerationConfig,
        rows: &[Vec<f32>],
        cur_len: usize,
    ) -> (Vec<u32>, bool) {
        let beams = self.running.len();
        let prompt_len = self.prompt_len;
        let keep = (1 + cfg.eos_token_ids.len()).max(2) * beams;
        // The best `keep` of all beams' (score + log-probability) are
        // among the best `keep` of each beam's row: those are found row by
        // row (no beams × vocabulary array), then ranked together in the
        // order of (beam, token), so that ties go to the same candidate as
        // one ranking of the whole array would give.
        let mut found: Vec<(usize, u32, f32)> = Vec::with_capacity(beams * keep);
        for (b, row) in rows.iter().enumerate() {
            let mut lp = log_softmax(row);
            cfg.process(&self.running[b], &mut lp);
            let score = self.running_scores[b];
            lp.iter_mut().for_each(|x| *x += score);
            let mut best = top_k(&lp, keep);
            best.sort_unstable();
            found.extend(best.into_iter().map(|t| (b, t as u32, lp[t])));
        }
        let values: Vec<f32> = found.iter().map(|f| f.2).collect();
        let cand: Vec<(f32, usize, Vec<u32>)> = top_k(&values, keep)
            .into_iter()
            .map(|i| {
                let (b, t, v) = found[i];
                let mut s = self.running[b].clone();
                s.push(t);
                (v, b, s)
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
        // Finished hypotheses: the old ones merged with those that just
        // stopped among the top `beams`, length-penalised.
        let lp_div = ((cur_len + 1 - prompt_len) as f64).powf(cfg.length_penalty as f64);
        let all_full =
            self.is_finished.iter().all(|&f| f) && cfg.early_stopping == EarlyStopping::Always;
        let mut merged = self.finished_scores.clone();
        for (i, (sc, _, _)) in cand.iter().enumerate() {
            let mut s = div(*sc, lp_div);
            if all_full {
                s += -1e9;
            }
            if !self.improvable {
                s += -1e9;
            }
            if !(hits[i] && i < beams) {
                s += -1e9;
            }
            merged.push(s);
        }
        let best = top_k(&merged, beams);
        let (mut nf, mut nfs, mut nfin) = (Vec::new(), Vec::new(), Vec::new());
        for &j in &best {
            if j < beams {
                nf.push(self.finished[j].clone());
                nfin.push(self.is_finished[j]);
            } else {
                let i = j - beams;
                nf.push(cand[i].2.clone());
                nfin.push(hits[i] && i < beams);
            }
            nfs.push(merged[j]);
        }
        (self.finished, self.finished_scores, self.is_finished) = (nf, nfs, nfin);
        let origins: Vec<u32> = go.iter().map(|&g| cand[g].1 as u32).collect();
        self.running = go.iter().map(|&g| cand[g].2.clone()).collect();
        self.running_scores = go.iter().map(|&g| go_scores[g]).collect();
        // transformers' `_check_early_stop_heuristic`, for the next length.
        let next_len = cur_len + 1;
        let best_len = if cfg.early_stopping == EarlyStopping::Never && cfg.length_penalty > 0.0 {
            cfg.max_length - prompt_len
        } else {
            next_len - prompt_len
        };
        let best_possible = div(
            self.running_scores[0],
            (best_len as f64).powf(cfg.length_penalty as f64),
        );
        let worst = self
            .finished_scores
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min);
        self.improvable = self.improvable
            && self
                .is_finished
                .iter()
                .any(|&f| best_possible > if f { worst } else { -1e9 });
        let open_beam =
            !(self.is_finished.iter().all(|&f| f) && cfg.early_stopping == EarlyStopping::Always);
        self.done = !(self.improvable && open_beam);
        (origins, hits.iter().all(|&h| h))
    }
}
