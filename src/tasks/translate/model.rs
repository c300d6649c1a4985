//! The Marian encoder-decoder in candle, following transformers'
//! `modeling_marian.py` (post-norm layers, sinusoidal positions with the sin
//! half before the cos half, scaled embeddings, `final_logits_bias`). Unlike
//! candle-transformers' `marian.rs` it keeps the decoder's self-attention
//! cache outside the model, so beam search can reorder it, computes the
//! cross-attention keys and values once per input, never caches encoder
//! state between sentences, and takes padding masks for batches.

use std::path::Path;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{LayerNorm, VarBuilder};

pub use crate::tasks::nn::DecoderState;
use crate::tasks::nn::ModelFileError;
use crate::tasks::nn::{
    Act, Attention, FeedForward, Linear, Placement, WeightFormat, causal_mask, load_weights,
};
use serde::Deserialize;
use serde_json::Value;

use crate::tasks::TaskError;

type Result<T> = std::result::Result<T, candle_core::Error>;

/// `config.json`, read leniently with transformers' defaults
/// (`configuration_marian.py`), since old opus-mt configs lack fields.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct MarianConfig {
    pub vocab_size: usize,
    pub decoder_vocab_size: Option<usize>,
    pub max_position_embeddings: usize,
    pub encoder_layers: usize,
    pub encoder_ffn_dim: usize,
    pub encoder_attention_heads: usize,
    pub decoder_layers: usize,
    pub decoder_ffn_dim: usize,
    pub decoder_attention_heads: usize,
    pub activation_function: String,
    pub d_model: usize,
    pub decoder_start_token_id: u32,
    pub scale_embedding: bool,
    pub pad_token_id: Option<u32>,
    pub eos_token_id: Value,
    pub forced_eos_token_id: Value,
    pub share_encoder_decoder_embeddings: bool,
    pub tie_word_embeddings: bool,
}

impl MarianConfig {
    /// Sizes the model can be built with: none zero, heads that divide the
    /// width, positions a sinusoid table can hold (it is computed, not
    /// read, so an absurd count would allocate that much), ids inside the
    /// vocabulary.
    pub fn check(&self) -> std::result::Result<(), String> {
        let sizes = [
            ("vocab_size", self.vocab_size),
            ("d_model", self.d_model),
            ("encoder_layers", self.encoder_layers),
            ("decoder_layers", self.decoder_layers),
            ("encoder_ffn_dim", self.encoder_ffn_dim),
            ("decoder_ffn_dim", self.decoder_ffn_dim),
            ("encoder_attention_heads", self.encoder_attention_heads),
            ("decoder_attention_heads", self.decoder_attention_heads),
        ];
        crate::tasks::nn::no_zero_sizes(&sizes)?;
        if !self.d_model.is_multiple_of(self.encoder_attention_heads)
            || !self.d_model.is_multiple_of(self.decoder_attention_heads)
        {
            return Err("d_model is not a multiple of the attention heads".into());
        }
        if !(2..=65_536).contains(&self.max_position_embeddings) {
            return Err(format!(
                "max_position_embeddings {} is not a usable length",
                self.max_position_embeddings
            ));
        }
        let vocab = self.decoder_vocab_size.unwrap_or(self.vocab_size);
        if vocab == 0 || self.decoder_start_token_id as usize >= vocab {
            return Err("decoder_start_token_id is outside the vocabulary".into());
        }
        Ok(())
    }
}

impl Default for MarianConfig {
    fn default() -> Self {
        Self {
            vocab_size: 58101,
            decoder_vocab_size: None,
            max_position_embeddings: 1024,
            encoder_layers: 12,
            encoder_ffn_dim: 4096,
            encoder_attention_heads: 16,
            decoder_layers: 12,
            decoder_ffn_dim: 4096,
            decoder_attention_heads: 16,
            activation_function: "gelu".into(),
            d_model: 1024,
            decoder_start_token_id: 58100,
            scale_embedding: false,
            pad_token_id: Some(58100),
            eos_token_id: Value::from(0),
            forced_eos_token_id: Value::from(0),
            share_encoder_decoder_embeddings: true,
            tie_word_embeddings: true,
        }
    }
}

/// First id of a field that may be an id or a list of ids.
pub fn first_id(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| n as u32),
        Value::Array(a) => a.first().and_then(first_id),
        _ => None,
    }
}

struct EncoderLayer {
    attn: Attention,
    attn_norm: LayerNorm,
    ffn: FeedForward,
    ffn_norm: LayerNorm,
}

struct DecoderLayer {
    attn: Attention,
    attn_norm: LayerNorm,
    cross: Attention,
    cross_norm: LayerNorm,
    ffn: FeedForward,
    ffn_norm: LayerNorm,
}

pub struct Marian {
    pub config: MarianConfig,
    /// The token embeddings; `None` where they are tied to the output
    /// layer and it keeps them packed (int8, f16): tokens are looked up
    /// there.
    enc_embed: Option<Tensor>,
    dec_embed: Option<Tensor>,
    /// The output layer, with `final_logits_bias` as its bias.
    lm_head: Linear,
    positions: Tensor,
    embed_scale: f64,
    encoder: Vec<EncoderLayer>,
    decoder: Vec<DecoderLayer>,
    device: Device,
}

fn sinusoidal(n_pos: usize, dim: usize, device: &Device) -> Result<Tensor> {
    let sentinel = dim.div_ceil(2);
    let mut out = vec![0f32; n_pos * dim];
    for pos in 0..n_pos {
        for j in 0..dim {
            let angle = pos as f64 / 10000f64.powf(2.0 * (j / 2) as f64 / dim as f64);
            let col = if j % 2 == 0 { j / 2 } else { sentinel + j / 2 };
            out[pos * dim + col] = if j % 2 == 0 { angle.sin() } else { angle.cos() } as f32;
        }
    }
    Tensor::from_vec(out, (n_pos, dim), device)
}

fn model_err(e: candle_core::Error) -> TaskError {
    TaskError::Model(e.to_string())
}

impl Marian {
    /// Loads `config.json` and `model.safetensors` (or `pytorch_model.bin`).
    pub fn load(dir: &Path, device: &Device) -> std::result::Result<Self, TaskError> {
        Self::load_placed(dir, &Placement::new(device))
    }

    /// [`Self::load`] with the device, precision and kernels of `place`.
    pub fn load_placed(dir: &Path, place: &Placement) -> std::result::Result<Self, TaskError> {
        let text = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| TaskError::File(ModelFileError::missing("config.json", e)))?;
        let config: MarianConfig = serde_json::from_str(&text)
            .map_err(|e| TaskError::File(ModelFileError::bad("config.json", e)))?;
        if !config.share_encoder_decoder_embeddings {
            return Err(TaskError::Unsupported(
                "its encoder and decoder have separate vocabularies, which Spaceport does not support yet".into(),
            ));
        }
        let act = Act::parse(&config.activation_function).ok_or_else(|| {
            TaskError::Unsupported(format!(
                "its activation \"{}\" is unknown",
                config.activation_function
            ))
        })?;
        config
            .check()
            .map_err(|e| TaskError::File(ModelFileError::bad("config.json", e)))?;
        let (vb, format) = load_weights(dir, place)?;
        place
            .build(format, || Self::from_vb(config, act, vb, &place.device))
            .map_err(|e| TaskError::File(ModelFileError::bad("the weights", e)))
    }

    fn from_vb(config: MarianConfig, act: Act, vb: VarBuilder, device: &Device) -> Result<Self> {
        let (d, vocab) = (config.d_model, config.vocab_size);
        // transformers ties the encoder and decoder embeddings to
        // `model.shared` (and the output layer to it when
        // `tie_word_embeddings`); untied checkpoints store each separately.
        let get = |names: &[&str]| -> Result<Tensor> {
            let name = names
                .iter()
                .find(|n| vb.contains_tensor(n))
                .unwrap_or(&names[0]);
            vb.get((vocab, d), name)
        };
        let tied = config.tie_word_embeddings;
        let shared = [
            "model.shared.weight",
            "model.encoder.embed_tokens.weight",
            "model.decoder.embed_tokens.weight",
        ];
        let enc_embed = if tied {
            get(&shared)?
        } else {
            get(&["model.encoder.embed_tokens.weight", "model.shared.weight"])?
        };
        let dec_embed = if tied {
            enc_embed.clone()
        } else {
            get(&["model.decoder.embed_tokens.weight", "model.shared.weight"])?
        };
        let lm_head = if !tied && vb.contains_tensor("lm_head.weight") {
            vb.get(
                (config.decoder_vocab_size.unwrap_or(vocab), d),
                "lm_head.weight",
            )?
        } else {
            dec_embed.clone()
        };
        let final_logits_bias = if vb.contains_tensor("final_logits_bias") {
            vb.get((1, lm_head.dim(0)?), "final_logits_bias")?
        } else {
            Tensor::zeros((1, lm_head.dim(0)?), lm_head.dtype(), device)?
        };
        let dtype = lm_head.dtype();
        let tied_head = lm_head.id() == dec_embed.id() && dec_embed.id() == enc_embed.id();
        let lm_head = Linear::new(lm_head, Some(final_logits_bias.flatten_all()?));
        let packed = lm_head.is_packed();
        let (enc_embed, dec_embed) = if tied_head && packed {
            // Freed now, not when loading ends: the layers below are
            // loaded without the table's second copy in memory.
            drop((enc_embed, dec_embed));
            (None, None)
        } else {
            (Some(enc_embed), Some(dec_embed))
        };
        let ln = |vb: VarBuilder| candle_nn::layer_norm(d, 1e-5, vb);
        let mut encoder = Vec::new();
        for i in 0..config.encoder_layers {
            let vb = vb.pp(format!("model.encoder.layers.{i}"));
            encoder.push(EncoderLayer {
                attn: Attention::load(d, config.encoder_attention_heads, vb.pp("self_attn"))?,
                attn_norm: ln(vb.pp("self_attn_layer_norm"))?,
                ffn: FeedForward::load(d, config.encoder_ffn_dim, act, &vb)?,
                ffn_norm: ln(vb.pp("final_layer_norm"))?,
            });
        }
        let mut decoder = Vec::new();
        for i in 0..config.decoder_layers {
            let vb = vb.pp(format!("model.decoder.layers.{i}"));
            decoder.push(DecoderLayer {
                attn: Attention::load(d, config.decoder_attention_heads, vb.pp("self_attn"))?,
                attn_norm: ln(vb.pp("self_attn_layer_norm"))?,
                cross: Attention::load(d, config.decoder_attention_heads, vb.pp("encoder_attn"))?,
                cross_norm: ln(vb.pp("encoder_attn_layer_norm"))?,
                ffn: FeedForward::load(d, config.decoder_ffn_dim, act, &vb)?,
                ffn_norm: ln(vb.pp("final_layer_norm"))?,
            });
        }
        Ok(Self {
            positions: sinusoidal(config.max_position_embeddings, d, device)?.to_dtype(dtype)?,
            embed_scale: if config.scale_embedding {
                (d as f64).sqrt()
            } else {
                1.0
            },
            enc_embed,
            dec_embed,
            lm_head,
            encoder,
            decoder,
            device: device.clone(),
            config,
        })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The most positions the model has embeddings for.
    pub fn max_positions(&self) -> usize {
        self.config.max_position_embeddings
    }

    /// The format the linear layers keep their weights in.
    pub fn weight_format(&self) -> WeightFormat {
        self.lm_head.format()
    }

    fn embed(&self, table: Option<&Tensor>, ids: &Tensor, offset: usize) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let flat = ids.flatten_all()?;
        let x = match table {
            Some(table) => table.index_select(&flat, 0)?,
            None => {
                let ids: Vec<u32> = flat.to_dtype(DType::U32)?.to_vec1()?;
                self.lm_head
                    .packed_rows(&ids, &self.device)
                    .ok_or_else(|| {
                        candle_core::Error::Msg("a token id is past the vocabulary".into())
                    })?
            }
        };
        let x = x.reshape((b, t, self.config.d_model))?;
        let x = (x * self.embed_scale)?;
        x.broadcast_add(&self.positions.narrow(0, offset, t)?.unsqueeze(0)?)
    }

    /// An additive mask (b, 1, 1, t) from 1/0 padding flags (b, t).
    pub fn padding_mask(&self, lengths: &[usize], t: usize) -> Result<Tensor> {
        let mut m = vec![0f32; lengths.len() * t];
        for (row, &len) in lengths.iter().enumerate() {
            for j in len..t {
                m[row * t + j] = f32::MIN;
            }
        }
        Tensor::from_vec(m, (lengths.len(), 1, 1, t), &self.device)
    }

    /// Encodes `ids` (b, t); `mask` from [`Self::padding_mask`] when padded.
    pub fn encode(&self, ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let mut x = self.embed(self.enc_embed.as_ref(), ids, 0)?;
        for l in &self.encoder {
            let h = match mask {
                None => l.attn.self_attend(&x)?,
                Some(_) => {
                    let (k, v) = l.attn.keys_values(&x)?;
                    l.attn.attend(&x, &k, &v, mask)?
                }
            };
            x = l.attn_norm.forward(&(x + h)?)?;
            let h = l.ffn.forward(&x)?;
            x = l.ffn_norm.forward(&(x + h)?)?;
        }
        Ok(x)
    }

    /// Decoder state for `encoded` (b, t, d), each row repeated `repeat`
    /// times (one per beam).
    pub fn start(
        &self,
        encoded: &Tensor,
        mask: Option<&Tensor>,
        repeat: usize,
    ) -> Result<DecoderState> {
        DecoderState::start(self.decoder.iter().map(|l| &l.cross), encoded, mask, repeat)
    }

    /// Runs the decoder on `tokens` (rows, t) after what `state` has seen and
    /// returns the logits (rows, t, vocab).
    pub fn decode(&self, tokens: &Tensor, state: &mut DecoderState) -> Result<Tensor> {
        let (_, t) = tokens.dims2()?;
        let past = state.len;
        let mut x = self.embed(self.dec_embed.as_ref(), tokens, past)?;
        let causal = causal_mask(t, past, &self.device)?;
        for (i, l) in self.decoder.iter().enumerate() {
            let (k, v) = l.attn.keys_values(&x)?;
            let (k, v) = match &state.self_kv[i] {
                Some((pk, pv)) => (Tensor::cat(&[pk, &k], 2)?, Tensor::cat(&[pv, &v], 2)?),
                None => (k, v),
            };
            let h = l.attn.attend(&x, &k, &v, causal.as_ref())?;
            state.self_kv[i] = Some((k, v));
            x = l.attn_norm.forward(&(x + h)?)?;
            let (ck, cv) = &state.cross_kv[i];
            let h = l.cross.attend_kt(&x, ck, cv, state.cross_mask.as_ref())?;
            x = l.cross_norm.forward(&(x + h)?)?;
            let h = l.ffn.forward(&x)?;
            x = l.ffn_norm.forward(&(x + h)?)?;
        }
        state.len += t;
        let (rows, t, d) = x.dims3()?;
        let logits = self.lm_head.forward(&x.reshape((rows * t, d))?)?;
        logits.to_dtype(DType::F32)?.reshape((rows, t, ()))
    }

    /// Teacher-forced logits for one sentence (for parity checks).
    pub fn forward(
        &self,
        input_ids: &[u32],
        decoder_ids: &[u32],
    ) -> std::result::Result<Vec<Vec<f32>>, TaskError> {
        let run = || -> Result<Vec<Vec<f32>>> {
            let ids = Tensor::from_slice(input_ids, (1, input_ids.len()), &self.device)?;
            let enc = self.encode(&ids, None)?;
            let mut state = self.start(&enc, None, 1)?;
            let dec = Tensor::from_slice(decoder_ids, (1, decoder_ids.len()), &self.device)?;
            self.decode(&dec, &mut state)?
                .squeeze(0)?
                .to_dtype(DType::F32)?
                .to_vec2()
        };
        run().map_err(model_err)
    }
}

/// `log_softmax` of one row of logits, in f32 as the reference computes it.
pub fn log_softmax(row: &[f32]) -> Vec<f32> {
    let (max, log_sum) = crate::tasks::nn::max_and_log_sum(row);
    row.iter().map(|x| (x - max) - log_sum).collect()
}

/// Last-position logits of each row as plain vectors.
pub fn last_logits(logits: &Tensor) -> std::result::Result<Vec<Vec<f32>>, TaskError> {
    let run = || -> Result<Vec<Vec<f32>>> {
        let t = logits.dim(1)?;
        logits
            .narrow(1, t - 1, 1)?
            .squeeze(1)?
            .to_dtype(DType::F32)?
            .to_vec2()
    };
    run().map_err(model_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_configs_get_transformers_defaults() {
        let c: MarianConfig =
            serde_json::from_str(r#"{"d_model": 512, "vocab_size": 100, "pad_token_id": 99}"#)
                .expect("a sparse config reads");
        assert_eq!(c.d_model, 512);
        assert_eq!(c.encoder_layers, 12);
        assert_eq!(c.activation_function, "gelu");
        assert!(c.share_encoder_decoder_embeddings && c.tie_word_embeddings);
        assert_eq!(first_id(&c.eos_token_id), Some(0));
        assert_eq!(first_id(&serde_json::json!([5, 6])), Some(5));
    }

    #[test]
    fn positions_put_sines_before_cosines() {
        let p = sinusoidal(3, 4, &Device::Cpu)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        // pos 1: angles 1/10000^(0/4)=1 and 1/10000^(2/4)=0.01
        assert!((p[1][0] - 1f32.sin()).abs() < 1e-6);
        assert!((p[1][1] - 0.01f32.sin()).abs() < 1e-6);
        assert!((p[1][2] - 1f32.cos()).abs() < 1e-6);
        assert!((p[1][3] - 0.01f32.cos()).abs() < 1e-6);
    }
}
