//! The Whisper encoder-decoder in candle, following transformers'
//! `modeling_whisper.py`: two GELU convolutions (the second with stride 2)
//! and learned positions in front of a pre-norm encoder, a pre-norm decoder
//! with learned positions, and the output projection tied to the token
//! embedding. As for Marian, the decoder's self-attention cache is kept
//! outside the model (so beam search can reorder it) and cross-attention
//! keys and values are computed once per audio window.

use std::path::Path;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{LayerNorm, VarBuilder};
use serde::Deserialize;

use crate::tasks::TaskError;
use crate::tasks::nn::ModelFileError;
use crate::tasks::nn::{
    Act, Attention, DecoderState, FeedForward, Kernels, Linear, Placement, WeightFormat,
    causal_mask, load_weights,
};

type Result<T> = std::result::Result<T, candle_core::Error>;

/// The (layer, head) pairs whose cross-attention scores are wanted, and
/// where each is put (see [`Whisper::decode_aligned`]).
type AlignmentScores<'a> = (&'a [(usize, usize)], &'a mut Vec<Option<Tensor>>);

/// `config.json` with transformers' defaults (`configuration_whisper.py`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct WhisperConfig {
    pub vocab_size: usize,
    pub num_mel_bins: usize,
    pub d_model: usize,
    pub encoder_layers: usize,
    pub decoder_layers: usize,
    pub encoder_attention_heads: usize,
    pub decoder_attention_heads: usize,
    pub encoder_ffn_dim: usize,
    pub decoder_ffn_dim: usize,
    pub max_source_positions: usize,
    pub max_target_positions: usize,
    pub activation_function: String,
    pub decoder_start_token_id: u32,
}

impl Default for WhisperConfig {
    fn default() -> Self {
        Self {
            vocab_size: 51865,
            num_mel_bins: 80,
            d_model: 384,
            encoder_layers: 4,
            decoder_layers: 4,
            encoder_attention_heads: 6,
            decoder_attention_heads: 6,
            encoder_ffn_dim: 1536,
            decoder_ffn_dim: 1536,
            max_source_positions: 1500,
            max_target_positions: 448,
            activation_function: "gelu".into(),
            decoder_start_token_id: 50257,
        }
    }
}

/// A width-3 convolution of Whisper's stem (padding 1), followed by GELU.
enum Conv {
    /// On the CPU with our kernels: windows of three frames laid side by
    /// side (im2col) times the weight as a linear layer `(c_out, 3·c_in)`,
    /// on frames by rows `(b, t, c)`.
    Rows { linear: Box<Linear>, stride: usize },
    /// candle's convolution (GPU, or no fast kernels), on `(b, c, t)`.
    Generic { w: Tensor, b: Tensor, stride: usize },
}

impl Conv {
    fn load(c_in: usize, c_out: usize, stride: usize, vb: VarBuilder) -> Result<Self> {
        let w = vb.get((c_out, c_in, 3), "weight")?;
        let b = vb.get(c_out, "bias")?;
        if Kernels::for_weight(&w) == Kernels::Cpu && crate::tasks::gemm::fast() {
            // Weight (c_out, c_in, 3) as rows of [tap 0 | tap 1 | tap 2],
            // each c_in long: the order the windows are laid out in.
            let rows = w
                .permute((0, 2, 1))?
                .contiguous()?
                .reshape((c_out, 3 * c_in))?;
            return Ok(Self::Rows {
                linear: Box::new(Linear::new_f32(rows, Some(b))),
                stride,
            });
        }
        Ok(Self::Generic { w, b, stride })
    }

    fn by_rows(&self) -> bool {
        matches!(self, Self::Rows { .. })
    }

    /// (b, c_in, t) → GELU(conv) (b, c_out, t / stride); by rows: (b, t,
    /// c_in) → (b, t / stride, c_out).
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Self::Generic { w, b, stride } => {
                let y = xs.conv1d(w, 1, *stride, 1, 1)?;
                y.broadcast_add(&b.reshape((1, (), 1))?)?.gelu_erf()
            }
            Self::Rows { linear, stride } => {
                let (b, t, c) = xs.dims3()?;
                if t == 0 || c == 0 {
                    candle_core::bail!("no frames to convolve");
                }
                let t_out = (t - 1) / stride + 1;
                let x: Vec<f32> = xs.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
                let mut cols = vec![0f32; b * t_out * 3 * c];
                {
                    use rayon::prelude::*;
                    cols.par_chunks_mut(3 * c)
                        .enumerate()
                        .for_each(|(row, out)| {
                            let (bi, to) = (row / t_out, row % t_out);
                            for (tap, out) in out.chunks_exact_mut(c).enumerate() {
                                // Input frame to·stride + tap − 1 (zero
                                // outside: the padding).
                                let src = (to * stride + tap).checked_sub(1).filter(|&s| s < t);
                                if let Some(s) = src {
                                    out.copy_from_slice(&x[(bi * t + s) * c..][..c]);
                                }
                            }
                        });
                }
                let cols = Tensor::from_vec(cols, (b * t_out, 3 * c), xs.device())?;
                let y = linear.forward(&cols)?.reshape((b, t_out, ()))?;
                Act::Gelu.apply(&y, Kernels::Cpu)
            }
        }
    }
}

struct EncoderLayer {
    attn_norm: LayerNorm,
    attn: Attention,
    ffn_norm: LayerNorm,
    ffn: FeedForward,
}

struct DecoderLayer {
    attn_norm: LayerNorm,
    attn: Attention,
    cross_norm: LayerNorm,
    cross: Attention,
    ffn_norm: LayerNorm,
    ffn: FeedForward,
}

pub struct Whisper {
    pub config: WhisperConfig,
    conv1: Conv,
    conv2: Conv,
    enc_positions: Tensor,
    encoder: Vec<EncoderLayer>,
    enc_norm: LayerNorm,
    /// The token embedding, unless the output projection keeps it packed
    /// (int8, f16), where tokens are looked up instead.
    embed: Option<Tensor>,
    /// The output projection, tied to the token embedding.
    head: Linear,
    /// The type the model computes in.
    dtype: DType,
    dec_positions: Tensor,
    decoder: Vec<DecoderLayer>,
    dec_norm: LayerNorm,
    device: Device,
}

impl WhisperConfig {
    /// Sizes the model can be built with: none zero, heads that divide the
    /// width (the weights' shapes are checked against these as they load).
    pub fn check(&self) -> std::result::Result<(), String> {
        let sizes = [
            ("d_model", self.d_model),
            ("vocab_size", self.vocab_size),
            ("num_mel_bins", self.num_mel_bins),
            ("encoder_layers", self.encoder_layers),
            ("decoder_layers", self.decoder_layers),
            ("encoder_ffn_dim", self.encoder_ffn_dim),
            ("decoder_ffn_dim", self.decoder_ffn_dim),
            ("max_source_positions", self.max_source_positions),
            ("max_target_positions", self.max_target_positions),
        ];
        crate::tasks::nn::no_zero_sizes(&sizes)?;
        let heads_ok = [self.encoder_attention_heads, self.decoder_attention_heads]
            .iter()
            .all(|&h| h > 0 && self.d_model.is_multiple_of(h));
        if !heads_ok {
            return Err("d_model is not a multiple of the attention heads".into());
        }
        Ok(())
    }
}

fn bad(file: &str, e: impl std::fmt::Display) -> TaskError {
    TaskError::File(ModelFileError::bad(file, e))
}

impl Whisper {
    /// Loads `config.json` and `model.safetensors` (or `pytorch_model.bin`)
    /// from a Hugging Face layout folder.
    pub fn load(dir: &Path, device: &Device) -> std::result::Result<Self, TaskError> {
        Self::load_placed(dir, &Placement::new(device))
    }

    /// [`Self::load`] with the device, precision and kernels of `place`.
    pub fn load_placed(dir: &Path, place: &Placement) -> std::result::Result<Self, TaskError> {
        let text = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| TaskError::File(ModelFileError::missing("config.json", e)))?;
        let config: WhisperConfig =
            serde_json::from_str(&text).map_err(|e| bad("config.json", e))?;
        let act = Act::parse(&config.activation_function).ok_or_else(|| {
            TaskError::Unsupported(format!(
                "its activation \"{}\" is unknown",
                config.activation_function
            ))
        })?;
        config.check().map_err(|e| bad("config.json", e))?;
        let (vb, format) = load_weights(dir, place)?;
        place
            .build(format, || Self::from_vb(config, act, vb, &place.device))
            .map_err(|e| bad("the weights", e))
    }

    /// Builds the model from tensors named as in the Hugging Face layout
    /// (the CTranslate2 reader produces these), stored as `stored` (`int8`:
    /// the linear weights were int8).
    pub fn from_tensors(
        config: WhisperConfig,
        tensors: std::collections::HashMap<String, Tensor>,
        stored: Option<DType>,
        int8: bool,
        place: &Placement,
    ) -> std::result::Result<Self, TaskError> {
        let act = Act::parse(&config.activation_function).ok_or_else(|| {
            TaskError::Unsupported(format!(
                "its activation \"{}\" is unknown",
                config.activation_function
            ))
        })?;
        config.check().map_err(|e| bad("the weights", e))?;
        let vb = crate::tasks::nn::TakeOnce::var_builder(
            tensors,
            place.dtype_for(stored),
            &place.device,
        );
        let format = place.format_for(stored, int8);
        place
            .build(format, || Self::from_vb(config, act, vb, &place.device))
            .map_err(|e| bad("the weights", e))
    }

    fn from_vb(config: WhisperConfig, act: Act, vb: VarBuilder, device: &Device) -> Result<Self> {
        let d = config.d_model;
        let ln = |vb: VarBuilder| candle_nn::layer_norm(d, 1e-5, vb);
        let enc = vb.pp("model.encoder");
        let mut encoder = Vec::new();
        for i in 0..config.encoder_layers {
            let vb = enc.pp(format!("layers.{i}"));
            encoder.push(EncoderLayer {
                attn_norm: ln(vb.pp("self_attn_layer_norm"))?,
                attn: Attention::load(d, config.encoder_attention_heads, vb.pp("self_attn"))?,
                ffn_norm: ln(vb.pp("final_layer_norm"))?,
                ffn: FeedForward::load(d, config.encoder_ffn_dim, act, &vb)?,
            });
        }
        let dec = vb.pp("model.decoder");
        let mut decoder = Vec::new();
        for i in 0..config.decoder_layers {
            let vb = dec.pp(format!("layers.{i}"));
            decoder.push(DecoderLayer {
                attn_norm: ln(vb.pp("self_attn_layer_norm"))?,
                attn: Attention::load(d, config.decoder_attention_heads, vb.pp("self_attn"))?,
                cross_norm: ln(vb.pp("encoder_attn_layer_norm"))?,
                cross: Attention::load(d, config.decoder_attention_heads, vb.pp("encoder_attn"))?,
                ffn_norm: ln(vb.pp("final_layer_norm"))?,
                ffn: FeedForward::load(d, config.decoder_ffn_dim, act, &vb)?,
            });
        }
        let embed = dec.get((config.vocab_size, d), "embed_tokens.weight")?;
        let head = Linear::new(embed.clone(), None);
        Ok(Self {
            dtype: embed.dtype(),
            embed: (!head.is_packed()).then_some(embed),
            head,
            conv1: Conv::load(config.num_mel_bins, d, 1, enc.pp("conv1"))?,
            conv2: Conv::load(d, d, 2, enc.pp("conv2"))?,
            enc_positions: enc.get((config.max_source_positions, d), "embed_positions.weight")?,
            encoder,
            enc_norm: ln(enc.pp("layer_norm"))?,
            dec_positions: dec.get((config.max_target_positions, d), "embed_positions.weight")?,
            decoder,
            dec_norm: ln(dec.pp("layer_norm"))?,
            device: device.clone(),
            config,
        })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The format the linear layers keep their weights in.
    pub fn weight_format(&self) -> WeightFormat {
        self.head.format()
    }

    /// The embeddings of `tokens`, (n, d) for n tokens.
    fn embed_tokens(&self, tokens: &Tensor) -> Result<Tensor> {
        let flat = tokens.flatten_all()?;
        match &self.embed {
            Some(e) => e.index_select(&flat, 0),
            None => {
                let ids: Vec<u32> = flat.to_dtype(DType::U32)?.to_vec1()?;
                self.head.packed_rows(&ids, &self.device).ok_or_else(|| {
                    candle_core::Error::Msg("a token id is past the vocabulary".into())
                })
            }
        }
    }

    /// Encodes log-mel features (b, n_mels, frames) → (b, frames / 2, d).
    pub fn encode(&self, features: &Tensor) -> Result<Tensor> {
        let features = features.to_dtype(self.dtype)?;
        let x = if self.conv1.by_rows() && self.conv2.by_rows() {
            let frames = features.transpose(1, 2)?.contiguous()?;
            self.conv2.forward(&self.conv1.forward(&frames)?)?
        } else {
            self.conv2
                .forward(&self.conv1.forward(&features)?)?
                .transpose(1, 2)?
        };
        let t = x.dim(1)?;
        if t > self.config.max_source_positions {
            candle_core::bail!(
                "{t} frames is more than the model's {}",
                self.config.max_source_positions
            );
        }
        let mut x = x.broadcast_add(&self.enc_positions.narrow(0, 0, t)?.unsqueeze(0)?)?;
        for l in &self.encoder {
            let h = l.attn_norm.forward(&x)?;
            x = (x + l.attn.self_attend(&h)?)?;
            let h = l.ffn_norm.forward(&x)?;
            x = (&x + l.ffn.forward(&h)?)?;
        }
        self.enc_norm.forward(&x)
    }

    /// Decoder state for `encoded` (b, t, d), each row repeated `repeat`
    /// times (one per beam).
    pub fn start(&self, encoded: &Tensor, repeat: usize) -> Result<DecoderState> {
        let mut state =
            DecoderState::start(self.decoder.iter().map(|l| &l.cross), encoded, None, repeat)?;
        if self.head.format() != WeightFormat::F32 {
            state.narrow_cross()?;
        }
        Ok(state)
    }

    /// Runs the decoder on `tokens` (rows, t) after what `state` has seen;
    /// returns the logits (rows, t, vocab).
    pub fn decode(&self, tokens: &Tensor, state: &mut DecoderState) -> Result<Tensor> {
        self.decode_at(tokens, state, None)
    }

    /// As [`Self::decode`], with the logits only at `positions` (of the `t`
    /// given): a prompt of 200 tokens needs two rows of 51864 scores, not
    /// 200.
    pub fn decode_at(
        &self,
        tokens: &Tensor,
        state: &mut DecoderState,
        positions: Option<&[usize]>,
    ) -> Result<Tensor> {
        self.decode_inner(tokens, state, positions, None)
    }

    /// As [`Self::decode`], also giving the cross-attention scores of the
    /// `(layer, head)` pairs in `heads` (each (rows, t, frames), scaled,
    /// before the softmax), in that order: the alignment of the tokens
    /// with the audio that word timings are read from.
    pub fn decode_aligned(
        &self,
        tokens: &Tensor,
        state: &mut DecoderState,
        heads: &[(usize, usize)],
    ) -> Result<(Tensor, Vec<Tensor>)> {
        let mut scores = vec![None; heads.len()];
        let logits = self.decode_inner(tokens, state, None, Some((heads, &mut scores)))?;
        let scores = scores
            .into_iter()
            .map(|s| s.ok_or_else(|| candle_core::Error::Msg("no such alignment head".into())))
            .collect::<Result<Vec<_>>>()?;
        Ok((logits, scores))
    }

    /// The decoder's inner loop (see [`Self::decode_at`] and
    /// [`Self::decode_aligned`]).
    fn decode_inner(
        &self,
        tokens: &Tensor,
        state: &mut DecoderState,
        positions: Option<&[usize]>,
        mut align: Option<AlignmentScores<'_>>,
    ) -> Result<Tensor> {
        let (rows, t) = tokens.dims2()?;
        let past = state.len;
        if past + t > self.config.max_target_positions {
            candle_core::bail!(
                "more than the model's {} tokens",
                self.config.max_target_positions
            );
        }
        let d = self.config.d_model;
        let x = self.embed_tokens(tokens)?.reshape((rows, t, d))?;
        let mut x = x.broadcast_add(&self.dec_positions.narrow(0, past, t)?.unsqueeze(0)?)?;
        let causal = causal_mask(t, past, &self.device)?;
        for (i, l) in self.decoder.iter().enumerate() {
            let h = l.attn_norm.forward(&x)?;
            let (k, v) = l.attn.keys_values(&h)?;
            let (k, v) = match &state.self_kv[i] {
                Some((pk, pv)) => (Tensor::cat(&[pk, &k], 2)?, Tensor::cat(&[pv, &v], 2)?),
                None => (k, v),
            };
            x = (&x + l.attn.attend(&h, &k, &v, causal.as_ref())?)?;
            state.self_kv[i] = Some((k, v));
            let h = l.cross_norm.forward(&x)?;
            let (ck, cv) = &state.cross_kv[i];
            if let Some((heads, out)) = align.as_mut() {
                let (slots, wanted): (Vec<usize>, Vec<usize>) = heads
                    .iter()
                    .enumerate()
                    .filter(|(_, (layer, _))| *layer == i)
                    .map(|(n, &(_, head))| (n, head))
                    .unzip();
                if !wanted.is_empty() {
                    for (n, s) in slots.into_iter().zip(l.cross.head_scores(&h, ck, &wanted)?) {
                        out[n] = Some(s);
                    }
                }
            }
            x = (&x + l.cross.attend_kt(&h, ck, cv, None)?)?;
            let h = l.ffn_norm.forward(&x)?;
            x = (&x + l.ffn.forward(&h)?)?;
        }
        state.len += t;
        let x = match positions {
            Some(p) => {
                let idx: Vec<u32> = p.iter().map(|&i| i as u32).collect();
                let idx = Tensor::from_vec(idx, p.len(), &self.device)?;
                x.index_select(&idx, 1)?
            }
            None => x,
        };
        let n = x.dim(1)?;
        let x = self.dec_norm.forward(&x)?;
        self.head
            .forward(&x.reshape((rows * n, d))?)?
            .to_dtype(DType::F32)?
            .reshape((rows, n, ()))
    }
}
