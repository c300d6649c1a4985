//! Full-size models with random weights, for measuring speed where no
//! real checkpoint can be fetched (a GPU machine without a network, the
//! benchmarks of bigger sizes): Whisper, Marian and BLIP at the sizes of
//! real checkpoints, written in the Hugging Face layout our loaders read
//! (`config.json`, `model.safetensors`), with the tokenizer and other
//! files copied from a small model of the same kind. Their outputs are
//! noise; their shapes, and so their cost, are the real ones.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde_json::{Value, json};

use super::TaskError;
use super::nn::ModelFileError;

/// A model kind and size: `whisper-tiny`, `whisper-small`,
/// `whisper-large-v3-turbo`, `marian-base`, `marian-big`, `blip-base`,
/// `blip-large`.
pub const PRESETS: &[&str] = &[
    "whisper-tiny",
    "whisper-small",
    "whisper-large-v3-turbo",
    "marian-base",
    "marian-big",
    "blip-base",
    "blip-large",
];

struct Sizes {
    d: usize,
    enc_layers: usize,
    dec_layers: usize,
    heads: usize,
    ffn: usize,
    vocab: usize,
    /// Whisper's mel bins.
    mels: usize,
    /// BLIP's vision encoder (its text decoder is the base size above).
    vision: Option<(usize, usize, usize, usize)>,
}

fn sizes(preset: &str) -> Option<Sizes> {
    let s = |d, enc_layers, dec_layers, heads, ffn, vocab, mels| Sizes {
        d,
        enc_layers,
        dec_layers,
        heads,
        ffn,
        vocab,
        mels,
        vision: None,
    };
    Some(match preset {
        "whisper-tiny" => s(384, 4, 4, 6, 1536, 51865, 80),
        "whisper-small" => s(768, 12, 12, 12, 3072, 51865, 80),
        "whisper-large-v3-turbo" => s(1280, 32, 4, 20, 5120, 51866, 128),
        "marian-base" => s(512, 6, 6, 8, 2048, 58101, 0),
        "marian-big" => s(1024, 6, 6, 16, 4096, 58101, 0),
        "blip-base" => Sizes {
            vision: Some((768, 12, 12, 3072)),
            ..s(768, 0, 12, 12, 3072, 30524, 0)
        },
        "blip-large" => Sizes {
            vision: Some((1024, 24, 16, 4096)),
            ..s(768, 0, 12, 12, 3072, 30524, 0)
        },
        _ => return None,
    })
}

/// Tensors being made, each N(0, 0.02) (layer norms 1 and 0), in `dtype`.
struct Maker {
    tensors: HashMap<String, Tensor>,
    dtype: DType,
}

impl Maker {
    fn w(&mut self, name: &str, shape: &[usize]) -> candle_core::Result<()> {
        let t = Tensor::randn(0f32, 0.02, shape, &Device::Cpu)?.to_dtype(self.dtype)?;
        self.tensors.insert(name.to_string(), t);
        Ok(())
    }

    fn linear(
        &mut self,
        name: &str,
        out: usize,
        inp: usize,
        bias: bool,
    ) -> candle_core::Result<()> {
        self.w(&format!("{name}.weight"), &[out, inp])?;
        if bias {
            self.w(&format!("{name}.bias"), &[out])?;
        }
        Ok(())
    }

    fn norm(&mut self, name: &str, d: usize) -> candle_core::Result<()> {
        let one = Tensor::ones(d, self.dtype, &Device::Cpu)?;
        let zero = Tensor::zeros(d, self.dtype, &Device::Cpu)?;
        self.tensors.insert(format!("{name}.weight"), one);
        self.tensors.insert(format!("{name}.bias"), zero);
        Ok(())
    }

    /// The encoder's and decoder's layers as BART-family models name them
    /// (Whisper's keys without a bias, Marian's with one).
    fn layers(&mut self, s: &Sizes, k_bias: bool) -> candle_core::Result<()> {
        let (d, ffn) = (s.d, s.ffn);
        for (side, layers) in [("encoder", s.enc_layers), ("decoder", s.dec_layers)] {
            for i in 0..layers {
                let l = format!("model.{side}.layers.{i}");
                self.attention(&format!("{l}.self_attn"), d, k_bias)?;
                self.norm(&format!("{l}.self_attn_layer_norm"), d)?;
                if side == "decoder" {
                    self.attention(&format!("{l}.encoder_attn"), d, k_bias)?;
                    self.norm(&format!("{l}.encoder_attn_layer_norm"), d)?;
                }
                self.linear(&format!("{l}.fc1"), ffn, d, true)?;
                self.linear(&format!("{l}.fc2"), d, ffn, true)?;
                self.norm(&format!("{l}.final_layer_norm"), d)?;
            }
        }
        Ok(())
    }

    /// q, k, v and out projections named `{q,k,v,out}_proj`.
    fn attention(&mut self, name: &str, d: usize, k_bias: bool) -> candle_core::Result<()> {
        self.linear(&format!("{name}.q_proj"), d, d, true)?;
        self.linear(&format!("{name}.k_proj"), d, d, k_bias)?;
        self.linear(&format!("{name}.v_proj"), d, d, true)?;
        self.linear(&format!("{name}.out_proj"), d, d, true)
    }
}

fn io(file: &str, e: impl std::fmt::Display) -> TaskError {
    TaskError::File(ModelFileError::bad(file, e))
}

/// Writes the `preset` model with random weights (stored as `dtype`) into
/// `out`, copying every file but the weights and config from `like` (a
/// model of the same kind: its tokenizer, generation settings and the
/// token ids of its config).
pub fn write(preset: &str, like: &Path, out: &Path, dtype: DType) -> Result<(), TaskError> {
    let s = sizes(preset).ok_or_else(|| {
        TaskError::Unsupported(format!(
            "\"{preset}\" is not a preset (one of {})",
            PRESETS.join(", ")
        ))
    })?;
    let like_config: Value = std::fs::read_to_string(like.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| json!({}));
    std::fs::create_dir_all(out).map_err(|e| io("the output folder", e))?;
    for entry in std::fs::read_dir(like).map_err(|e| io("the model to copy from", e))? {
        let entry = entry.map_err(|e| io("the model to copy from", e))?;
        let name = entry.file_name();
        let skip = [
            "config.json",
            "model.safetensors",
            "pytorch_model.bin",
            "model.bin",
            "reference.json",
        ];
        if entry.path().is_file() && !skip.iter().any(|s| name == *s) {
            std::fs::copy(entry.path(), out.join(&name)).map_err(|e| io("a copied file", e))?;
        }
    }
    let mut m = Maker {
        tensors: HashMap::new(),
        dtype,
    };
    let mut made = || -> candle_core::Result<Value> {
        let (d, ffn) = (s.d, s.ffn);
        let config = if preset.starts_with("whisper") {
            m.layers(&s, false)?;
            for side in ["encoder", "decoder"] {
                m.norm(&format!("model.{side}.layer_norm"), d)?;
            }
            m.w("model.encoder.conv1.weight", &[d, s.mels, 3])?;
            m.w("model.encoder.conv1.bias", &[d])?;
            m.w("model.encoder.conv2.weight", &[d, d, 3])?;
            m.w("model.encoder.conv2.bias", &[d])?;
            m.w("model.encoder.embed_positions.weight", &[1500, d])?;
            m.w("model.decoder.embed_tokens.weight", &[s.vocab, d])?;
            m.w("model.decoder.embed_positions.weight", &[448, d])?;
            json!({
                "model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"],
                "d_model": d, "encoder_layers": s.enc_layers, "decoder_layers": s.dec_layers,
                "encoder_attention_heads": s.heads, "decoder_attention_heads": s.heads,
                "encoder_ffn_dim": ffn, "decoder_ffn_dim": ffn, "vocab_size": s.vocab,
                "num_mel_bins": s.mels, "max_source_positions": 1500, "max_target_positions": 448,
                "activation_function": "gelu",
                "decoder_start_token_id": like_config.get("decoder_start_token_id").cloned().unwrap_or(json!(50258)),
            })
        } else if preset.starts_with("marian") {
            m.layers(&s, true)?;
            m.w("model.shared.weight", &[s.vocab, d])?;
            m.w("final_logits_bias", &[1, s.vocab])?;
            let mut c = like_config.clone();
            let sizes = json!({
                "d_model": d, "encoder_layers": s.enc_layers, "decoder_layers": s.dec_layers,
                "encoder_attention_heads": s.heads, "decoder_attention_heads": s.heads,
                "encoder_ffn_dim": ffn, "decoder_ffn_dim": ffn, "vocab_size": s.vocab,
                "decoder_vocab_size": s.vocab, "max_position_embeddings": 512,
            });
            if let (Some(c), Some(sizes)) = (c.as_object_mut(), sizes.as_object()) {
                c.extend(sizes.clone());
            }
            c
        } else {
            let (vd, vl, vh, vf) = s.vision.unwrap_or((d, 12, s.heads, ffn));
            let patch = 16;
            let n = (384 / patch) * (384 / patch) + 1;
            for i in 0..vl {
                let l = format!("vision_model.encoder.layers.{i}");
                m.linear(&format!("{l}.self_attn.qkv"), 3 * vd, vd, true)?;
                m.linear(&format!("{l}.self_attn.projection"), vd, vd, true)?;
                m.norm(&format!("{l}.layer_norm1"), vd)?;
                m.norm(&format!("{l}.layer_norm2"), vd)?;
                m.linear(&format!("{l}.mlp.fc1"), vf, vd, true)?;
                m.linear(&format!("{l}.mlp.fc2"), vd, vf, true)?;
            }
            m.w("vision_model.embeddings.class_embedding", &[1, 1, vd])?;
            m.w(
                "vision_model.embeddings.patch_embedding.weight",
                &[vd, 3, patch, patch],
            )?;
            m.w("vision_model.embeddings.patch_embedding.bias", &[vd])?;
            m.w("vision_model.embeddings.position_embedding", &[1, n, vd])?;
            m.norm("vision_model.post_layernorm", vd)?;
            let t = "text_decoder.bert";
            for i in 0..s.dec_layers {
                let l = format!("{t}.encoder.layer.{i}");
                for (a, kv) in [("attention", d), ("crossattention", vd)] {
                    m.linear(&format!("{l}.{a}.self.query"), d, d, true)?;
                    m.linear(&format!("{l}.{a}.self.key"), d, kv, true)?;
                    m.linear(&format!("{l}.{a}.self.value"), d, kv, true)?;
                    m.linear(&format!("{l}.{a}.output.dense"), d, d, true)?;
                    m.norm(&format!("{l}.{a}.output.LayerNorm"), d)?;
                }
                m.linear(&format!("{l}.intermediate.dense"), ffn, d, true)?;
                m.linear(&format!("{l}.output.dense"), d, ffn, true)?;
                m.norm(&format!("{l}.output.LayerNorm"), d)?;
            }
            m.w(
                &format!("{t}.embeddings.word_embeddings.weight"),
                &[s.vocab, d],
            )?;
            m.w(
                &format!("{t}.embeddings.position_embeddings.weight"),
                &[512, d],
            )?;
            m.norm(&format!("{t}.embeddings.LayerNorm"), d)?;
            m.w("text_decoder.cls.predictions.bias", &[s.vocab])?;
            m.linear("text_decoder.cls.predictions.transform.dense", d, d, true)?;
            m.norm("text_decoder.cls.predictions.transform.LayerNorm", d)?;
            let text = like_config
                .get("text_config")
                .cloned()
                .unwrap_or_else(|| json!({}));
            let mut text = text.as_object().cloned().unwrap_or_default();
            for (k, v) in [
                ("hidden_size", d),
                ("intermediate_size", ffn),
                ("num_attention_heads", s.heads),
                ("num_hidden_layers", s.dec_layers),
                ("vocab_size", s.vocab),
                ("max_position_embeddings", 512),
                ("encoder_hidden_size", vd),
            ] {
                text.insert(k.into(), json!(v));
            }
            json!({
                "model_type": "blip", "architectures": ["BlipForConditionalGeneration"],
                "vision_config": {
                    "hidden_size": vd, "intermediate_size": vf, "num_attention_heads": vh,
                    "num_hidden_layers": vl, "image_size": 384, "patch_size": patch,
                    "layer_norm_eps": 1e-5,
                },
                "text_config": text,
            })
        };
        Ok(config)
    };
    let config = made().map_err(|e| io("the random weights", e))?;
    let text = serde_json::to_string_pretty(&config).map_err(|e| io("config.json", e))?;
    std::fs::write(out.join("config.json"), text).map_err(|e| io("config.json", e))?;
    if preset.starts_with("whisper") {
        // The mel bins the feature extractor makes must be the model's.
        let pre = json!({
            "feature_size": s.mels, "sampling_rate": 16000, "hop_length": 160,
            "n_fft": 400, "chunk_length": 30, "n_samples": 480000, "nb_max_frames": 3000,
        });
        std::fs::write(out.join("preprocessor_config.json"), pre.to_string())
            .map_err(|e| io("preprocessor_config.json", e))?;
    }
    candle_core::safetensors::save(&m.tensors, out.join("model.safetensors"))
        .map_err(|e| io("model.safetensors", e))
}
