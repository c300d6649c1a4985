//! BLIP for captioning in candle, following transformers'
//! `modeling_blip.py` and `modeling_blip_text.py`: a ViT (patch
//! convolution, class token, learned positions, pre-norm layers with a
//! fused qkv projection, a final layer norm) and a BERT decoder (post-norm
//! layers with causal self-attention and cross-attention to the image,
//! the language-model head's transform, the output tied to the word
//! embedding unless the checkpoint has its own). The decoder's caches are
//! kept outside the model, as for Marian and Whisper.

use std::path::Path;

use candle_core::{Device, Module, Tensor};
use candle_nn::{LayerNorm, VarBuilder};
use serde::Deserialize;

use crate::tasks::TaskError;
use crate::tasks::nn::ModelFileError;
use crate::tasks::nn::{
    Act, Attention, DecoderState, FeedForward, Linear, Placement, WeightFormat, causal_mask,
    load_weights,
};
use crate::work::CancelToken;

type Result<T> = std::result::Result<T, candle_core::Error>;

/// `vision_config` with transformers' defaults (`BlipVisionConfig`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct VisionConfig {
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub image_size: usize,
    pub patch_size: usize,
    pub hidden_act: String,
    pub layer_norm_eps: f64,
}

impl Default for VisionConfig {
    fn default() -> Self {
        Self {
            hidden_size: 768,
            intermediate_size: 3072,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            image_size: 384,
            patch_size: 16,
            hidden_act: "gelu".into(),
            layer_norm_eps: 1e-5,
        }
    }
}

/// `text_config` with transformers' defaults (`BlipTextConfig`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct TextConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    /// Always the vision hidden size (transformers sets it so whatever
    /// the file says; the base checkpoint's file leaves it out).
    pub encoder_hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub max_position_embeddings: usize,
    pub hidden_act: String,
    pub layer_norm_eps: f64,
    pub bos_token_id: u32,
    pub eos_token_id: u32,
    pub pad_token_id: u32,
    pub sep_token_id: u32,
}

impl Default for TextConfig {
    fn default() -> Self {
        Self {
            vocab_size: 30524,
            hidden_size: 768,
            encoder_hidden_size: 768,
            intermediate_size: 3072,
            num_hidden_layers: 12,
            num_attention_heads: 8,
            max_position_embeddings: 512,
            hidden_act: "gelu".into(),
            layer_norm_eps: 1e-12,
            bos_token_id: 30522,
            eos_token_id: 2,
            pad_token_id: 0,
            sep_token_id: 102,
        }
    }
}

/// `config.json` of a `BlipForConditionalGeneration` checkpoint.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct BlipConfig {
    pub vision_config: VisionConfig,
    pub text_config: TextConfig,
}

impl BlipConfig {
    /// Sizes the model can be built with: none zero, heads that divide the
    /// widths, pictures a whole number of patches across, ids inside the
    /// vocabulary (the weights' shapes are checked as they load).
    pub fn check(&self) -> std::result::Result<(), String> {
        let (v, t) = (&self.vision_config, &self.text_config);
        let sizes = [
            ("vision hidden_size", v.hidden_size),
            ("vision intermediate_size", v.intermediate_size),
            ("vision num_hidden_layers", v.num_hidden_layers),
            ("vision num_attention_heads", v.num_attention_heads),
            ("image_size", v.image_size),
            ("patch_size", v.patch_size),
            ("text vocab_size", t.vocab_size),
            ("text hidden_size", t.hidden_size),
            ("text intermediate_size", t.intermediate_size),
            ("text num_hidden_layers", t.num_hidden_layers),
            ("text num_attention_heads", t.num_attention_heads),
            ("max_position_embeddings", t.max_position_embeddings),
        ];
        crate::tasks::nn::no_zero_sizes(&sizes)?;
        if !v.hidden_size.is_multiple_of(v.num_attention_heads)
            || !t.hidden_size.is_multiple_of(t.num_attention_heads)
        {
            return Err("a hidden size is not a multiple of its attention heads".into());
        }
        if v.patch_size > v.image_size || v.image_size > 16_384 {
            return Err(format!(
                "pictures of {} pixels in patches of {} can't be made",
                v.image_size, v.patch_size
            ));
        }
        let ids = [
            t.bos_token_id,
            t.eos_token_id,
            t.pad_token_id,
            t.sep_token_id,
        ];
        if ids.iter().any(|&i| i as usize >= t.vocab_size) {
            return Err(format!(
                "a special token id is outside the vocabulary of {}",
                t.vocab_size
            ));
        }
        Ok(())
    }

    /// Reads and completes `config.json` as transformers does.
    pub fn from_json(text: &str) -> serde_json::Result<Self> {
        let mut c: Self = serde_json::from_str(text)?;
        c.text_config.encoder_hidden_size = c.vision_config.hidden_size;
        Ok(c)
    }
}

fn layer_norm(d: usize, eps: f64, vb: VarBuilder) -> Result<LayerNorm> {
    candle_nn::layer_norm(d, eps, vb)
}

/// A linear layer from rows `from..from + n` of a fused weight.
fn rows_of(w: &Tensor, b: &Tensor, from: usize, n: usize) -> Result<Linear> {
    Ok(Linear::new(
        w.narrow(0, from, n)?.contiguous()?,
        Some(b.narrow(0, from, n)?.contiguous()?),
    ))
}

struct VisionLayer {
    norm1: LayerNorm,
    attn: Attention,
    norm2: LayerNorm,
    mlp: FeedForward,
}

struct Vision {
    patch_w: Tensor,
    patch_b: Tensor,
    class: Tensor,
    positions: Tensor,
    layers: Vec<VisionLayer>,
    post_norm: LayerNorm,
    patch: usize,
}

impl Vision {
    fn load(c: &VisionConfig, vb: VarBuilder) -> Result<Self> {
        let d = c.hidden_size;
        let act = Act::parse(&c.hidden_act)
            .ok_or_else(|| candle_core::Error::Msg(format!("activation {}", c.hidden_act)))?;
        let emb = vb.pp("embeddings");
        let n = (c.image_size / c.patch_size).pow(2) + 1;
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let l = vb.pp(format!("encoder.layers.{i}"));
                let a = l.pp("self_attn");
                let (w, b) = (a.get((3 * d, d), "qkv.weight")?, a.get(3 * d, "qkv.bias")?);
                Ok(VisionLayer {
                    norm1: layer_norm(d, c.layer_norm_eps, l.pp("layer_norm1"))?,
                    attn: Attention::from_parts(
                        rows_of(&w, &b, 0, d)?,
                        rows_of(&w, &b, d, d)?,
                        rows_of(&w, &b, 2 * d, d)?,
                        Linear::load(d, d, a.pp("projection"))?,
                        c.num_attention_heads,
                    ),
                    norm2: layer_norm(d, c.layer_norm_eps, l.pp("layer_norm2"))?,
                    mlp: FeedForward::load(d, c.intermediate_size, act, &l.pp("mlp"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            patch_w: emb.get((d, 3, c.patch_size, c.patch_size), "patch_embedding.weight")?,
            patch_b: emb.get(d, "patch_embedding.bias")?,
            class: emb.get((1, 1, d), "class_embedding")?,
            positions: emb.get((1, n, d), "position_embedding")?,
            layers,
            post_norm: layer_norm(d, c.layer_norm_eps, vb.pp("post_layernorm"))?,
            patch: c.patch_size,
        })
    }

    /// (b, 3, h, w) pixels → (b, 1 + patches, d); `None` when `cancel`
    /// is set (checked between layers).
    fn forward(&self, pixels: &Tensor, cancel: Option<&CancelToken>) -> Result<Option<Tensor>> {
        let b = pixels.dim(0)?;
        let x = pixels
            .to_dtype(self.patch_w.dtype())?
            .conv2d(&self.patch_w, 0, self.patch, 1, 1)?
            .broadcast_add(&self.patch_b.reshape((1, (), 1, 1))?)?;
        let x = x.flatten_from(2)?.transpose(1, 2)?;
        let d = x.dim(2)?;
        let class = self.class.expand((b, 1, d))?;
        let x = Tensor::cat(&[&class, &x], 1)?;
        let n = x.dim(1)?;
        let mut x = x.broadcast_add(&self.positions.narrow(1, 0, n)?)?;
        for l in &self.layers {
            if cancel.is_some_and(CancelToken::is_cancelled) {
                return Ok(None);
            }
            let h = l.norm1.forward(&x)?;
            x = (&x + l.attn.self_attend(&h)?)?;
            let h = l.norm2.forward(&x)?;
            x = (&x + l.mlp.forward(&h)?)?;
        }
        self.post_norm.forward(&x).map(Some)
    }
}

struct TextLayer {
    attn: Attention,
    attn_norm: LayerNorm,
    cross: Attention,
    cross_norm: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    ffn_norm: LayerNorm,
}

struct TextDecoder {
    /// The word embeddings; `None` where they are tied to the output
    /// layer and it keeps them packed (int8, f16): words are looked up
    /// there.
    words: Option<Tensor>,
    positions: Tensor,
    emb_norm: LayerNorm,
    layers: Vec<TextLayer>,
    head_dense: Linear,
    head_norm: LayerNorm,
    /// The output layer over the vocabulary.
    head: Linear,
    act: Act,
}

impl TextDecoder {
    fn load(c: &TextConfig, vb: VarBuilder) -> Result<Self> {
        let (d, e, eps) = (c.hidden_size, c.encoder_hidden_size, c.layer_norm_eps);
        let act = Act::parse(&c.hidden_act)
            .ok_or_else(|| candle_core::Error::Msg(format!("activation {}", c.hidden_act)))?;
        let bert = vb.pp("bert");
        let attention = |a: VarBuilder, kv_in: usize| -> Result<(Attention, LayerNorm)> {
            let s = a.pp("self");
            Ok((
                Attention::from_parts(
                    Linear::load(d, d, s.pp("query"))?,
                    Linear::load(kv_in, d, s.pp("key"))?,
                    Linear::load(kv_in, d, s.pp("value"))?,
                    Linear::load(d, d, a.pp("output.dense"))?,
                    c.num_attention_heads,
                ),
                layer_norm(d, eps, a.pp("output.LayerNorm"))?,
            ))
        };
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let l = bert.pp(format!("encoder.layer.{i}"));
                let (attn, attn_norm) = attention(l.pp("attention"), d)?;
                let (cross, cross_norm) = attention(l.pp("crossattention"), e)?;
                Ok(TextLayer {
                    attn,
                    attn_norm,
                    cross,
                    cross_norm,
                    fc1: Linear::load(d, c.intermediate_size, l.pp("intermediate.dense"))?,
                    fc2: Linear::load(c.intermediate_size, d, l.pp("output.dense"))?,
                    ffn_norm: layer_norm(d, eps, l.pp("output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let emb = bert.pp("embeddings");
        let words = emb.get((c.vocab_size, d), "word_embeddings.weight")?;
        let pred = vb.pp("cls.predictions");
        let out_w = if pred.contains_tensor("decoder.weight") {
            pred.get((c.vocab_size, d), "decoder.weight")?
        } else {
            words.clone()
        };
        let out_b = if pred.contains_tensor("bias") {
            pred.get(c.vocab_size, "bias")?
        } else {
            pred.get(c.vocab_size, "decoder.bias")?
        };
        let tied = out_w.id() == words.id();
        let head = Linear::new(out_w, Some(out_b));
        Ok(Self {
            positions: emb.get((c.max_position_embeddings, d), "position_embeddings.weight")?,
            emb_norm: layer_norm(d, eps, emb.pp("LayerNorm"))?,
            words: (!tied || !head.is_packed()).then_some(words),
            layers,
            head_dense: Linear::load(d, d, pred.pp("transform.dense"))?,
            head_norm: layer_norm(d, eps, pred.pp("transform.LayerNorm"))?,
            head,
            act,
        })
    }
}

/// A loaded BLIP captioning model.
pub struct Blip {
    pub config: BlipConfig,
    vision: Vision,
    text: TextDecoder,
    device: Device,
}

impl Blip {
    /// Loads a model folder: `config.json` and `model.safetensors` or a
    /// zip-format `pytorch_model.bin`.
    pub fn load(dir: &Path, device: &Device) -> std::result::Result<Self, TaskError> {
        Self::load_placed(dir, &Placement::new(device))
    }

    /// [`Self::load`] with the device, precision and kernels of `place`.
    pub fn load_placed(dir: &Path, place: &Placement) -> std::result::Result<Self, TaskError> {
        let text = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| TaskError::File(ModelFileError::missing("config.json", e)))?;
        let config = BlipConfig::from_json(&text)
            .map_err(|e| TaskError::File(ModelFileError::bad("config.json", e)))?;
        config
            .check()
            .map_err(|e| TaskError::File(ModelFileError::bad("config.json", e)))?;
        let (vb, format) = load_weights(dir, place)?;
        let bad = |e: candle_core::Error| TaskError::File(ModelFileError::bad("the weights", e));
        let (vision, text) = place.build(format, || {
            let vision = Vision::load(&config.vision_config, vb.pp("vision_model")).map_err(bad)?;
            let text =
                TextDecoder::load(&config.text_config, vb.pp("text_decoder")).map_err(bad)?;
            Ok::<_, TaskError>((vision, text))
        })?;
        Ok(Self {
            config,
            vision,
            text,
            device: place.device.clone(),
        })
    }

    /// The format the linear layers keep their weights in.
    pub fn weight_format(&self) -> WeightFormat {
        self.text.head.format()
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// (b, 3, size, size) normalised pixels → image embeddings
    /// (b, 1 + patches, vision hidden size).
    pub fn encode_image(&self, pixels: &Tensor) -> Result<Tensor> {
        self.vision
            .forward(pixels, None)?
            .ok_or_else(|| candle_core::Error::Msg("cancelled".into()))
    }

    /// [`Self::encode_image`], stopping between layers once `cancel` is
    /// set (`None` then): a large ViT takes seconds on a CPU.
    pub fn encode_image_cancellable(
        &self,
        pixels: &Tensor,
        cancel: &CancelToken,
    ) -> Result<Option<Tensor>> {
        self.vision.forward(pixels, Some(cancel))
    }

    /// Decoder state for `image` (b, n, d), each row repeated `repeat`
    /// times (one per beam).
    pub fn start(&self, image: &Tensor, repeat: usize) -> Result<DecoderState> {
        DecoderState::start(
            self.text.layers.iter().map(|l| &l.cross),
            image,
            None,
            repeat,
        )
    }

    /// Runs the decoder on `tokens` (rows, t) after what `state` has seen;
    /// returns the logits (rows, t, vocab).
    pub fn decode(&self, tokens: &Tensor, state: &mut DecoderState) -> Result<Tensor> {
        let (rows, t) = tokens.dims2()?;
        let past = state.len;
        let t_cfg = &self.config.text_config;
        if past + t > t_cfg.max_position_embeddings {
            candle_core::bail!(
                "more than the model's {} tokens",
                t_cfg.max_position_embeddings
            );
        }
        let d = t_cfg.hidden_size;
        let flat = tokens.flatten_all()?;
        let x = match &self.text.words {
            Some(words) => words.index_select(&flat, 0)?,
            None => {
                let ids: Vec<u32> = flat.to_dtype(candle_core::DType::U32)?.to_vec1()?;
                self.text
                    .head
                    .packed_rows(&ids, &self.device)
                    .ok_or_else(|| {
                        candle_core::Error::Msg("a token id is past the vocabulary".into())
                    })?
            }
        };
        let x = x.reshape((rows, t, d))?;
        let x = x.broadcast_add(&self.text.positions.narrow(0, past, t)?.unsqueeze(0)?)?;
        let mut x = self.text.emb_norm.forward(&x)?;
        let causal = causal_mask(t, past, &self.device)?;
        for (i, l) in self.text.layers.iter().enumerate() {
            let (k, v) = l.attn.keys_values(&x)?;
            let (k, v) = match &state.self_kv[i] {
                Some((pk, pv)) => (Tensor::cat(&[pk, &k], 2)?, Tensor::cat(&[pv, &v], 2)?),
                None => (k, v),
            };
            let a = l.attn.attend(&x, &k, &v, causal.as_ref())?;
            state.self_kv[i] = Some((k, v));
            x = l.attn_norm.forward(&(a + &x)?)?;
            let (ck, cv) = &state.cross_kv[i];
            let a = l.cross.attend_kt(&x, ck, cv, None)?;
            x = l.cross_norm.forward(&(a + &x)?)?;
            let h = l
                .fc2
                .forward(&self.text.act.apply(&l.fc1.forward(&x)?, l.fc1.kernels())?)?;
            x = l.ffn_norm.forward(&(h + &x)?)?;
        }
        state.len += t;
        let h = self.text.head_dense.forward(&x)?;
        let kernels = self.text.head_dense.kernels();
        let h = self
            .text
            .head_norm
            .forward(&self.text.act.apply(&h, kernels)?)?;
        self.text
            .head
            .forward(&h.reshape((rows * t, d))?)?
            .to_dtype(candle_core::DType::F32)?
            .reshape((rows, t, ()))
    }
}
