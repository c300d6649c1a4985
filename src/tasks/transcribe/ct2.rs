//! faster-whisper's CTranslate2 layout (`model.bin`, `config.json`,
//! `tokenizer.json`, `vocabulary.txt`) read into the Hugging Face tensor
//! names our [`Whisper`] loads: the binary format parsed by hand (versions
//! 5 and 6), float16 and bfloat16 widened, int8 weights dequantised with
//! their per-row scales, fused attention projections split, and the model's
//! sizes read off the tensor shapes. See `shared/reference/ct2-whisper.md`.
//!
//! Only the header is read at first; each variable's bytes are read from
//! the file when its tensor is made, and the model takes each tensor over
//! ([`TakeOnce`](crate::tasks::nn::TakeOnce)) so a layer that packs its
//! weight frees the loaded copy: loading holds about one copy of the
//! weights, not the file plus two (large-v3-turbo in int8: 1.4 GB at the
//! peak, against 2.2 GB reading the file whole).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};

use super::model::{Whisper, WhisperConfig};
use crate::tasks::TaskError;
use crate::tasks::nn::{ModelFileError, Placement};

/// A variable's header; its bytes stay in the file until asked for
/// ([`Vars::bytes`]), so loading never holds the whole file in memory.
struct Var {
    dims: Vec<usize>,
    dtype: u8,
    len: usize,
    data: Data,
}

enum Data {
    /// Read already (a small variable: a scalar, a short vector).
    Here(Vec<u8>),
    /// At this offset of the file.
    At(u64),
}

/// Variables up to this many bytes are read with the header.
const SMALL: usize = 64;

/// A `model.bin`'s variables by name, and the file they are read from.
struct Vars {
    map: HashMap<String, Var>,
    file: std::sync::Mutex<Box<dyn ReadAt>>,
}

/// A source of a model's bytes by offset (the file, or a buffer in the
/// tests).
trait ReadAt: Send {
    fn read_at(&mut self, offset: u64, out: &mut [u8]) -> std::io::Result<()>;
}

impl<T: std::io::Read + std::io::Seek + Send> ReadAt for T {
    fn read_at(&mut self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        self.seek(std::io::SeekFrom::Start(offset))?;
        self.read_exact(out)
    }
}

impl Vars {
    fn get(&self, name: &str) -> Option<&Var> {
        self.map.get(name)
    }

    fn contains_key(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    fn values(&self) -> impl Iterator<Item = &Var> {
        self.map.values()
    }

    /// A variable's bytes, read from the file when they are not here.
    fn bytes<'v>(&self, v: &'v Var) -> Result<std::borrow::Cow<'v, [u8]>, TaskError> {
        match &v.data {
            Data::Here(b) => Ok(std::borrow::Cow::Borrowed(b)),
            Data::At(offset) => {
                let mut out = vec![0u8; v.len];
                let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
                file.read_at(*offset, &mut out)
                    .map_err(|e| malformed(&format!("it could not be read ({e})")))?;
                Ok(std::borrow::Cow::Owned(out))
            }
        }
    }
}

/// Reads the header fields of a `model.bin` in order, counting the
/// offset, and steps over large variables' bytes.
struct Reader<R> {
    r: R,
    pos: u64,
    len: u64,
}

fn malformed(what: &str) -> TaskError {
    TaskError::File(ModelFileError::bad("model.bin", what))
}

impl<R: std::io::Read + std::io::Seek> Reader<R> {
    fn take(&mut self, n: usize) -> Result<Vec<u8>, TaskError> {
        self.room(n)?;
        let mut b = vec![0u8; n];
        self.r
            .read_exact(&mut b)
            .map_err(|_| malformed("it is truncated"))?;
        self.pos += n as u64;
        Ok(b)
    }
    /// Whether `n` more bytes are in the file.
    fn room(&self, n: usize) -> Result<(), TaskError> {
        self.pos
            .checked_add(n as u64)
            .filter(|e| *e <= self.len)
            .map(|_| ())
            .ok_or_else(|| malformed("it is truncated"))
    }
    fn skip(&mut self, n: usize) -> Result<(), TaskError> {
        self.room(n)?;
        self.r
            .seek(std::io::SeekFrom::Current(n as i64))
            .map_err(|_| malformed("it is truncated"))?;
        self.pos += n as u64;
        Ok(())
    }
    fn u8(&mut self) -> Result<u8, TaskError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, TaskError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, TaskError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String, TaskError> {
        let n = self.u16()? as usize;
        let b = self.take(n)?;
        Ok(String::from_utf8_lossy(b.strip_suffix(&[0]).unwrap_or(&b)).into_owned())
    }
}

/// Opens `model.bin` in `dir` and reads its header.
fn open(dir: &Path) -> Result<Vars, TaskError> {
    let file = std::fs::File::open(dir.join("model.bin"))
        .map_err(|e| TaskError::File(ModelFileError::missing("model.bin", e)))?;
    let len = file
        .metadata()
        .map_err(|e| TaskError::File(ModelFileError::missing("model.bin", e)))?
        .len();
    let header = std::io::BufReader::new(
        file.try_clone()
            .map_err(|e| TaskError::File(ModelFileError::missing("model.bin", e)))?,
    );
    parse(header, len, Box::new(file))
}

/// The variables of a `model.bin` read through `header` (`len` bytes),
/// their bytes later from `source`.
fn parse<R: std::io::Read + std::io::Seek>(
    header: R,
    len: u64,
    source: Box<dyn ReadAt>,
) -> Result<Vars, TaskError> {
    let mut r = Reader {
        r: header,
        pos: 0,
        len,
    };
    let version = r.u32()?;
    if !(5..=6).contains(&version) {
        return Err(TaskError::Unsupported(format!(
            "its model.bin is CTranslate2 format version {version}; versions 5 and 6 are supported"
        )));
    }
    let spec = r.string()?;
    if spec != "WhisperSpec" {
        return Err(TaskError::Unsupported(format!(
            "its model.bin holds a {spec}, not a Whisper model"
        )));
    }
    let _revision = r.u32()?;
    let n = r.u32()?;
    let mut vars = HashMap::new();
    for _ in 0..n {
        let name = r.string()?;
        let rank = r.u8()? as usize;
        let dims = (0..rank)
            .map(|_| r.u32().map(|d| d as usize))
            .collect::<Result<Vec<_>, _>>()?;
        let dtype = r.u8()?;
        let n_bytes = r.u32()? as usize;
        let data = if n_bytes <= SMALL {
            Data::Here(r.take(n_bytes)?)
        } else {
            let at = r.pos;
            r.skip(n_bytes)?;
            Data::At(at)
        };
        // The bytes must hold exactly the shape's elements (a damaged
        // header would otherwise send a wrong size to the tensor code).
        let width = match dtype {
            0 | 3 => 4,
            4 | 5 | 2 => 2,
            1 => 1,
            _ => 0,
        };
        let elements = dims
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| malformed(&format!("{name} has an impossible shape")))?;
        if width > 0 && elements.checked_mul(width) != Some(n_bytes) {
            return Err(malformed(&format!(
                "{name} has {n_bytes} bytes for a shape of {elements} values"
            )));
        }
        vars.insert(
            name,
            Var {
                dims,
                dtype,
                len: n_bytes,
                data,
            },
        );
    }
    let aliases = r.u32().unwrap_or(0);
    for _ in 0..aliases {
        let (alias, target) = (r.string()?, r.string()?);
        if let Some(v) = vars.get(&target) {
            let copy = Var {
                dims: v.dims.clone(),
                dtype: v.dtype,
                len: v.len,
                data: match &v.data {
                    Data::Here(b) => Data::Here(b.clone()),
                    Data::At(at) => Data::At(*at),
                },
            };
            vars.insert(alias, copy);
        }
    }
    Ok(Vars {
        map: vars,
        file: std::sync::Mutex::new(source),
    })
}

/// A variable as f32 (as f16 when it is stored so and `keep_f16`), int8
/// ones dequantised with `<name>_scale`.
fn tensor(vars: &Vars, name: &str, device: &Device, keep_f16: bool) -> Result<Tensor, TaskError> {
    let v = vars
        .get(name)
        .ok_or_else(|| malformed(&format!("it has no {name}")))?;
    let shape = v.dims.clone();
    let err = |e: candle_core::Error| malformed(&format!("{name}: {e}"));
    let bytes = vars.bytes(v)?;
    let t = match v.dtype {
        0 => Tensor::from_raw_buffer(&bytes, DType::F32, &shape, device).map_err(err)?,
        4 if keep_f16 => {
            Tensor::from_raw_buffer(&bytes, DType::F16, &shape, device).map_err(err)?
        }
        4 => Tensor::from_raw_buffer(&bytes, DType::F16, &shape, device)
            .map_err(err)?
            .to_dtype(DType::F32)
            .map_err(err)?,
        5 => Tensor::from_raw_buffer(&bytes, DType::BF16, &shape, device)
            .map_err(err)?
            .to_dtype(DType::F32)
            .map_err(err)?,
        1 => {
            let scale = tensor(vars, &format!("{name}_scale"), device, false)?;
            let q: Vec<f32> = bytes.iter().map(|&b| b as i8 as f32).collect();
            let q = Tensor::from_vec(q, shape.clone(), device).map_err(err)?;
            // One scale an output channel: (rows, 1) for a linear layer's
            // weight, (rows, 1, 1) for a convolution's.
            let mut per_row = vec![1; shape.len().max(2)];
            per_row[0] = shape.first().copied().unwrap_or(1);
            q.broadcast_div(&scale.reshape(per_row).map_err(err)?)
                .map_err(err)?
        }
        d => return Err(malformed(&format!("{name} has an unsupported type ({d})"))),
    };
    Ok(t)
}

/// A linear layer's weight as read: values, or int8 bytes (a u8 tensor)
/// and per-row divisors (`value = q / div`).
enum LinearWeight {
    Values(Tensor),
    Int8(Tensor, Tensor),
}

fn scalar(vars: &Vars, name: &str) -> Option<usize> {
    let v = vars.get(name)?;
    let Data::Here(bytes) = &v.data else {
        return None;
    };
    match (v.dtype, bytes.as_slice()) {
        (1, [b, ..]) => Some(*b as usize),
        (2, [a, b, ..]) => Some(i16::from_le_bytes([*a, *b]) as usize),
        (3, [a, b, c, d, ..]) => Some(i32::from_le_bytes([*a, *b, *c, *d]) as usize),
        _ => None,
    }
}

/// Whether `dir` holds a CTranslate2 Whisper conversion.
pub fn is_ct2(dir: &Path) -> bool {
    dir.join("model.bin").is_file() && !dir.join("model.safetensors").exists()
}

/// Loads a CTranslate2 Whisper folder.
pub fn load(dir: &Path, place: &Placement) -> Result<Whisper, TaskError> {
    let vars = open(dir)?;
    let stored = stored_type(&vars);
    let int8 = vars
        .values()
        .filter(|v| v.dtype == 1)
        .map(|v| v.len)
        .sum::<usize>()
        > vars
            .values()
            .filter(|v| v.dtype != 1)
            .map(|v| v.len / 2)
            .sum::<usize>();
    // Where the model keeps packed weights, f16 values stay f16 until each
    // layer takes its own (half the memory while loading).
    let format = place.format_for(stored, int8);
    let keep_f16 = format != crate::tasks::nn::WeightFormat::F32;
    // int8 linear weights go to our int8 kernels as they are stored.
    let keep_int8 = format == crate::tasks::nn::WeightFormat::Int8;
    let (config, tensors) = read(vars, &place.device, keep_f16, keep_int8)?;
    Whisper::from_tensors(config, tensors, stored, int8, place)
}

/// The type most of a model's values are stored in. int8 weights count as
/// f16: on a GPU they run in f16 (an int8 value times its row's scale
/// loses nothing in f16's 11 bits that int8 had); on the CPU everything
/// runs in f32.
fn stored_type(vars: &Vars) -> Option<DType> {
    let mut values = [0usize; 3];
    for v in vars.values() {
        match v.dtype {
            0 => values[0] += v.len / 4,
            1 => values[1] += v.len,
            4 => values[1] += v.len / 2,
            5 => values[2] += v.len / 2,
            _ => {}
        }
    }
    let types = [DType::F32, DType::F16, DType::BF16];
    (0..3)
        .filter(|&i| values[i] > 0)
        .max_by_key(|&i| values[i])
        .map(|i| types[i])
}

/// Writes a CTranslate2 Whisper folder out in the Hugging Face layout:
/// `model.safetensors` (float32), `config.json`, and the tokenizer files.
pub fn convert_to_hf(dir: &Path, out: &Path) -> Result<(), TaskError> {
    let (config, tensors) = read(open(dir)?, &Device::Cpu, false, false)?;
    let io = |file: &str, e: &dyn std::fmt::Display| TaskError::File(ModelFileError::bad(file, e));
    std::fs::create_dir_all(out).map_err(|e| io("the output folder", &e))?;
    candle_core::safetensors::save(&tensors, out.join("model.safetensors"))
        .map_err(|e| io("model.safetensors", &e))?;
    let c = &config;
    let hf = serde_json::json!({
        "model_type": "whisper",
        "architectures": ["WhisperForConditionalGeneration"],
        "vocab_size": c.vocab_size,
        "num_mel_bins": c.num_mel_bins,
        "d_model": c.d_model,
        "encoder_layers": c.encoder_layers,
        "decoder_layers": c.decoder_layers,
        "encoder_attention_heads": c.encoder_attention_heads,
        "decoder_attention_heads": c.decoder_attention_heads,
        "encoder_ffn_dim": c.encoder_ffn_dim,
        "decoder_ffn_dim": c.decoder_ffn_dim,
        "max_source_positions": c.max_source_positions,
        "max_target_positions": c.max_target_positions,
        "activation_function": c.activation_function,
        "decoder_start_token_id": c.decoder_start_token_id,
    });
    let text = serde_json::to_string_pretty(&hf).map_err(|e| io("config.json", &e))?;
    std::fs::write(out.join("config.json"), text).map_err(|e| io("config.json", &e))?;
    // The tokenizer and CTranslate2's suppression lists travel along.
    for f in ["tokenizer.json", "vocabulary.txt"] {
        if dir.join(f).exists() {
            std::fs::copy(dir.join(f), out.join(f)).map_err(|e| io(f, &e))?;
        }
    }
    // A generation config as transformers expects for Whisper, with the ids
    // from CTranslate2's vocabulary and its suppression lists.
    let ct2_cfg: serde_json::Value = std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let vocab: Vec<String> = std::fs::read_to_string(dir.join("vocabulary.txt"))
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default();
    let id = |t: &str| vocab.iter().position(|v| v == t);
    let eot = id("<|endoftext|>");
    let gen_cfg = serde_json::json!({
        "decoder_start_token_id": id("<|startoftranscript|>"),
        "eos_token_id": eot,
        "pad_token_id": eot,
        "bos_token_id": eot,
        "no_timestamps_token_id": id("<|notimestamps|>"),
        "prev_sot_token_id": id("<|startofprev|>"),
        "is_multilingual": c.vocab_size >= 51865,
        "max_initial_timestamp_index": 50,
        "max_length": c.max_target_positions,
        "suppress_tokens": ct2_cfg.get("suppress_ids"),
        "begin_suppress_tokens": ct2_cfg.get("suppress_ids_begin"),
    });
    let text =
        serde_json::to_string_pretty(&gen_cfg).map_err(|e| io("generation_config.json", &e))?;
    std::fs::write(out.join("generation_config.json"), text)
        .map_err(|e| io("generation_config.json", &e))?;
    Ok(())
}

/// The model's configuration and its tensors under Hugging Face names.
fn read(
    vars: Vars,
    device: &Device,
    keep_f16: bool,
    keep_int8: bool,
) -> Result<(WhisperConfig, HashMap<String, Tensor>), TaskError> {
    // A variable's shape, of the rank the layout has, no size zero.
    let dims = |n: &str, rank: usize| {
        let d = vars
            .get(n)
            .map(|v| v.dims.clone())
            .ok_or_else(|| malformed(&format!("it has no {n}")))?;
        if d.len() != rank || d.contains(&0) {
            return Err(malformed(&format!("{n} has the shape {d:?}")));
        }
        Ok(d)
    };
    let emb = dims("decoder/embeddings/weight", 2)?;
    let conv1 = dims("encoder/conv1/weight", 3)?;
    let count = |prefix: &str| {
        (0..)
            .take_while(|i| vars.contains_key(&format!("{prefix}/layer_{i}/ffn/linear_0/weight")))
            .count()
    };
    let config = WhisperConfig {
        vocab_size: emb[0],
        d_model: emb[1],
        num_mel_bins: conv1[1],
        encoder_layers: count("encoder"),
        decoder_layers: count("decoder"),
        encoder_attention_heads: scalar(&vars, "encoder/num_heads").unwrap_or(emb[1] / 64),
        decoder_attention_heads: scalar(&vars, "decoder/num_heads").unwrap_or(emb[1] / 64),
        encoder_ffn_dim: dims("encoder/layer_0/ffn/linear_0/weight", 2)?[0],
        decoder_ffn_dim: dims("decoder/layer_0/ffn/linear_0/weight", 2)?[0],
        max_source_positions: dims("encoder/position_encodings/encodings", 2)?[0],
        max_target_positions: dims("decoder/position_encodings/encodings", 2)?[0],
        activation_function: "gelu".into(),
        decoder_start_token_id: 50257,
    };
    let d = config.d_model;
    let mut out: HashMap<String, Tensor> = HashMap::new();
    let get = |n: &str| tensor(&vars, n, device, keep_f16);
    let split = |t: &Tensor, i: usize| t.narrow(0, i * d, d).map_err(|e| malformed(&e.to_string()));
    let put_norm =
        |out: &mut HashMap<String, Tensor>, from: &str, to: &str| -> Result<(), TaskError> {
            out.insert(format!("{to}.weight"), get(&format!("{from}/gamma"))?);
            out.insert(format!("{to}.bias"), get(&format!("{from}/beta"))?);
            Ok(())
        };
    // A linear layer's weight: an int8 one kept as its bytes (a u8
    // tensor) and per-row divisors when `keep_int8`, else as values.
    let weight = |n: &str| -> Result<LinearWeight, TaskError> {
        match vars.get(n) {
            Some(v) if keep_int8 && v.dtype == 1 && v.dims.len() == 2 => {
                let e = |e: candle_core::Error| malformed(&format!("{n}: {e}"));
                let q = Tensor::from_vec(vars.bytes(v)?.into_owned(), v.dims.clone(), device)
                    .map_err(e)?;
                let div = tensor(&vars, &format!("{n}_scale"), device, false)?
                    .flatten_all()
                    .map_err(e)?;
                if div.elem_count() != v.dims[0] {
                    return Err(malformed(&format!("{n}_scale has the wrong length")));
                }
                Ok(LinearWeight::Int8(q, div))
            }
            _ => Ok(LinearWeight::Values(get(n)?)),
        }
    };
    // Puts a weight (or its `part`-th block of `d` rows) under `to`.
    let put_weight = |out: &mut HashMap<String, Tensor>,
                      to: &str,
                      w: &LinearWeight,
                      part: Option<usize>|
     -> Result<(), TaskError> {
        let cut = |t: &Tensor| part.map_or(Ok(t.clone()), |j| split(t, j));
        match w {
            LinearWeight::Values(t) => {
                out.insert(format!("{to}.weight"), cut(t)?);
            }
            LinearWeight::Int8(q, div) => {
                out.insert(format!("{to}.weight"), cut(q)?);
                out.insert(format!("{to}.weight_scale"), cut(div)?);
            }
        }
        Ok(())
    };
    let put_linear =
        |out: &mut HashMap<String, Tensor>, from: &str, to: &str| -> Result<(), TaskError> {
            put_weight(out, to, &weight(&format!("{from}/weight"))?, None)?;
            if vars.contains_key(&format!("{from}/bias")) {
                out.insert(format!("{to}.bias"), get(&format!("{from}/bias"))?);
            }
            Ok(())
        };
    for side in ["encoder", "decoder"] {
        let hf = format!("model.{side}");
        let layers = if side == "encoder" {
            config.encoder_layers
        } else {
            config.decoder_layers
        };
        for i in 0..layers {
            let (c, h) = (format!("{side}/layer_{i}"), format!("{hf}.layers.{i}"));
            put_norm(
                &mut out,
                &format!("{c}/self_attention/layer_norm"),
                &format!("{h}.self_attn_layer_norm"),
            )?;
            let w = weight(&format!("{c}/self_attention/linear_0/weight"))?;
            let b = get(&format!("{c}/self_attention/linear_0/bias"))?;
            for (j, p) in ["q_proj", "k_proj", "v_proj"].iter().enumerate() {
                put_weight(&mut out, &format!("{h}.self_attn.{p}"), &w, Some(j))?;
                if *p != "k_proj" {
                    out.insert(format!("{h}.self_attn.{p}.bias"), split(&b, j)?);
                }
            }
            put_linear(
                &mut out,
                &format!("{c}/self_attention/linear_1"),
                &format!("{h}.self_attn.out_proj"),
            )?;
            put_norm(
                &mut out,
                &format!("{c}/ffn/layer_norm"),
                &format!("{h}.final_layer_norm"),
            )?;
            put_linear(&mut out, &format!("{c}/ffn/linear_0"), &format!("{h}.fc1"))?;
            put_linear(&mut out, &format!("{c}/ffn/linear_1"), &format!("{h}.fc2"))?;
            if side == "decoder" {
                put_norm(
                    &mut out,
                    &format!("{c}/attention/layer_norm"),
                    &format!("{h}.encoder_attn_layer_norm"),
                )?;
                put_linear(
                    &mut out,
                    &format!("{c}/attention/linear_0"),
                    &format!("{h}.encoder_attn.q_proj"),
                )?;
                let w = weight(&format!("{c}/attention/linear_1/weight"))?;
                let b = get(&format!("{c}/attention/linear_1/bias"))?;
                put_weight(&mut out, &format!("{h}.encoder_attn.k_proj"), &w, Some(0))?;
                put_weight(&mut out, &format!("{h}.encoder_attn.v_proj"), &w, Some(1))?;
                out.insert(format!("{h}.encoder_attn.v_proj.bias"), split(&b, 1)?);
                put_linear(
                    &mut out,
                    &format!("{c}/attention/linear_2"),
                    &format!("{h}.encoder_attn.out_proj"),
                )?;
            }
        }
        put_norm(
            &mut out,
            &format!("{side}/layer_norm"),
            &format!("{hf}.layer_norm"),
        )?;
        out.insert(
            format!("{hf}.embed_positions.weight"),
            get(&format!("{side}/position_encodings/encodings"))?,
        );
    }
    for conv in ["conv1", "conv2"] {
        out.insert(
            format!("model.encoder.{conv}.weight"),
            get(&format!("encoder/{conv}/weight"))?,
        );
        out.insert(
            format!("model.encoder.{conv}.bias"),
            get(&format!("encoder/{conv}/bias"))?,
        );
    }
    out.insert(
        "model.decoder.embed_tokens.weight".into(),
        get("decoder/embeddings/weight")?,
    );
    Ok((config, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `model.bin` (version 6) with the given variables and aliases.
    fn model_bin(vars: &[(&str, &[u32], u8, Vec<u8>)], aliases: &[(&str, &str)]) -> Vec<u8> {
        let mut b = Vec::new();
        let string = |b: &mut Vec<u8>, s: &str| {
            b.extend((s.len() as u16 + 1).to_le_bytes());
            b.extend(s.as_bytes());
            b.push(0);
        };
        b.extend(6u32.to_le_bytes());
        string(&mut b, "WhisperSpec");
        b.extend(1u32.to_le_bytes());
        b.extend((vars.len() as u32).to_le_bytes());
        for (name, dims, dtype, bytes) in vars {
            string(&mut b, name);
            b.push(dims.len() as u8);
            for d in *dims {
                b.extend(d.to_le_bytes());
            }
            b.push(*dtype);
            b.extend((bytes.len() as u32).to_le_bytes());
            b.extend(bytes);
        }
        b.extend((aliases.len() as u32).to_le_bytes());
        for (alias, target) in aliases {
            string(&mut b, alias);
            string(&mut b, target);
        }
        b
    }

    fn parse_buffer(buf: Vec<u8>) -> Result<Vars, TaskError> {
        let len = buf.len() as u64;
        parse(
            std::io::Cursor::new(buf.clone()),
            len,
            Box::new(std::io::Cursor::new(buf)),
        )
    }

    /// Large variables stay in the file until asked for and come back as
    /// written (aliases too); a cut file is refused in words.
    #[test]
    fn variables_are_read_from_the_file_when_asked_for() {
        let big: Vec<u8> = (0..400u32).map(|i| (i * 7 % 251) as u8).collect();
        let heads = 6i32.to_le_bytes().to_vec();
        let buf = model_bin(
            &[
                ("w", &[10, 10], 0, big.clone()),
                ("decoder/num_heads", &[], 3, heads),
            ],
            &[("w_alias", "w")],
        );
        let vars = parse_buffer(buf.clone()).unwrap();
        for name in ["w", "w_alias"] {
            let v = vars.get(name).unwrap();
            assert!(matches!(v.data, Data::At(_)), "{name} read at once");
            assert_eq!(vars.bytes(v).unwrap().as_ref(), &big[..], "{name}");
        }
        assert_eq!(scalar(&vars, "decoder/num_heads"), Some(6));
        let t = tensor(&vars, "w", &Device::Cpu, false).unwrap();
        assert_eq!(t.dims(), &[10, 10]);
        for cut in [buf.len() - 30, 40, 3] {
            let e = parse_buffer(buf[..cut].to_vec()).err().expect("a cut file");
            assert!(e.to_string().contains("truncated"), "{cut}: {e}");
        }
        // A size that does not fit the shape.
        let bad = model_bin(&[("w", &[10, 11], 0, big)], &[]);
        let e = parse_buffer(bad).err().unwrap().to_string();
        assert!(e.contains("400 bytes for a shape of 110 values"), "{e}");
    }

    /// CTranslate2's int8 models quantise the convolutions too: a
    /// (out, in, width) weight with one scale an output channel.
    #[test]
    fn int8_weights_of_any_rank_are_dequantised_per_output_channel() {
        let f32_bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let q: Vec<i8> = vec![1, -2, 3, 4, 5, -6, 7, 8, -9, 10, 11, 12];
        let here = |dims, dtype, bytes: Vec<u8>| Var {
            dims,
            dtype,
            len: bytes.len(),
            data: Data::Here(bytes),
        };
        let mut vars = Vars {
            map: HashMap::new(),
            file: std::sync::Mutex::new(Box::new(std::io::Cursor::new(Vec::new()))),
        };
        for (name, dims) in [("conv", vec![2, 3, 2]), ("linear", vec![2, 6])] {
            vars.map.insert(
                name.to_string(),
                here(dims, 1, q.iter().map(|&v| v as u8).collect()),
            );
            vars.map.insert(
                format!("{name}_scale"),
                here(vec![2], 0, f32_bytes(&[2.0, 4.0])),
            );
        }
        for name in ["conv", "linear"] {
            let t = tensor(&vars, name, &Device::Cpu, false).unwrap();
            let got: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
            let want: Vec<f32> = q
                .iter()
                .enumerate()
                .map(|(i, &v)| v as f32 / if i < 6 { 2.0 } else { 4.0 })
                .collect();
            assert_eq!(got, want, "{name}");
        }
        // A scale count that does not match the channels is refused in words.
        vars.map.insert(
            "conv_scale".into(),
            here(vec![3], 0, f32_bytes(&[2.0, 4.0, 8.0])),
        );
        assert!(tensor(&vars, "conv", &Device::Cpu, false).is_err());
    }
}
