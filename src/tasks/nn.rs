//! Building blocks shared by the encoder-decoder models (Marian, Whisper):
//! linear layers computed as `W·xᵀ`, multi-head attention over keys and
//! values kept by the caller (so decoders can cache and reorder them),
//! feed-forward blocks and activations.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

type Result<T> = std::result::Result<T, candle_core::Error>;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Act {
    Silu,
    Gelu,
    GeluTanh,
    Relu,
}

impl Act {
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "swish" | "silu" => Some(Self::Silu),
            "gelu" => Some(Self::Gelu),
            "gelu_new" | "gelu_fast" | "gelu_pytorch_tanh" => Some(Self::GeluTanh),
            "relu" => Some(Self::Relu),
            _ => None,
        }
    }

    pub(crate) fn apply(self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Self::Silu => xs.silu(),
            Self::Gelu => xs.gelu_erf(),
            Self::GeluTanh => xs.gelu(),
            Self::Relu => xs.relu(),
        }
    }
}

/// A linear layer applied as one matrix product over all rows, computed
/// as `W · xᵀ`: decoding has few rows (one per beam) and many output
/// features, and gemm's kernels are efficient when the long side is the
/// row side. (candle's `Linear` on a (b, t, d) input also runs one product
/// per batch row.)
pub(crate) struct Linear {
    w: Tensor,
    b: Option<Tensor>,
}

impl Linear {
    pub(crate) fn load(d_in: usize, d_out: usize, vb: VarBuilder) -> Result<Self> {
        let w = vb.get((d_out, d_in), "weight")?;
        let b = if vb.contains_tensor("bias") {
            Some(vb.get(d_out, "bias")?)
        } else {
            None
        };
        Ok(Self { w, b })
    }

    pub(crate) fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let dims = xs.dims().to_vec();
        let d = dims[dims.len() - 1];
        let rows = xs.elem_count() / d.max(1);
        let y = project(&self.w, &xs.contiguous()?.reshape((rows, d))?)?;
        let y = match &self.b {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        let mut out = dims;
        let last = out.len() - 1;
        out[last] = y.dim(1)?;
        y.reshape(out)
    }
}

/// `x · Wᵀ` for x (rows, in) and W (out, in), as `(W · xᵀ)ᵀ`.
pub(crate) fn project(w: &Tensor, x: &Tensor) -> Result<Tensor> {
    w.matmul(&x.t()?)?.t()?.contiguous()
}

pub(crate) struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    pub(crate) fn load(d: usize, heads: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            q: Linear::load(d, d, vb.pp("q_proj"))?,
            k: Linear::load(d, d, vb.pp("k_proj"))?,
            v: Linear::load(d, d, vb.pp("v_proj"))?,
            out: Linear::load(d, d, vb.pp("out_proj"))?,
            heads,
            head_dim: d / heads,
        })
    }

    /// (b, t, d) → (b, heads, t, head_dim)
    fn split(&self, xs: &Tensor) -> Result<Tensor> {
        let (b, t, _) = xs.dims3()?;
        xs.reshape((b, t, self.heads, self.head_dim))?
            .transpose(1, 2)?
            .contiguous()
    }

    pub(crate) fn keys_values(&self, xs: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((
            self.split(&self.k.forward(xs)?)?,
            self.split(&self.v.forward(xs)?)?,
        ))
    }

    pub(crate) fn attend(
        &self,
        xs: &Tensor,
        k: &Tensor,
        v: &Tensor,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        let (b, t, d) = xs.dims3()?;
        let q = self.split(&self.q.forward(xs)?)?;
        let scaling = (self.head_dim as f64).powf(-0.5);
        let mut w = (q.matmul(&k.t()?)? * scaling)?;
        if let Some(m) = mask {
            w = w.broadcast_add(m)?;
        }
        let p = candle_nn::ops::softmax_last_dim(&w)?;
        let o = p.matmul(v)?.transpose(1, 2)?.reshape((b, t, d))?;
        self.out.forward(&o)
    }
}

pub(crate) struct FeedForward {
    fc1: Linear,
    fc2: Linear,
    act: Act,
}

impl FeedForward {
    pub(crate) fn load(d: usize, ffn: usize, act: Act, vb: &VarBuilder) -> Result<Self> {
        Ok(Self {
            fc1: Linear::load(d, ffn, vb.pp("fc1"))?,
            fc2: Linear::load(ffn, d, vb.pp("fc2"))?,
            act,
        })
    }

    pub(crate) fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.fc2.forward(&self.act.apply(&self.fc1.forward(xs)?)?)
    }
}

/// The decoder's running state for a batch of rows (beams × sentences).
pub struct DecoderState {
    pub(crate) self_kv: Vec<Option<(Tensor, Tensor)>>,
    pub(crate) cross_kv: Vec<(Tensor, Tensor)>,
    pub(crate) cross_mask: Option<Tensor>,
    /// Tokens decoded so far (the position of the next one).
    pub len: usize,
}

impl DecoderState {
    /// Keeps rows `rows` (in that order) of the self-attention cache: the
    /// beams chosen at this step, possibly repeated.
    pub fn reorder(&mut self, rows: &[u32]) -> Result<()> {
        let device = self
            .cross_kv
            .first()
            .map(|(k, _)| k.device().clone())
            .unwrap_or(Device::Cpu);
        let idx = Tensor::from_slice(rows, rows.len(), &device)?;
        for kv in self.self_kv.iter_mut().flatten() {
            *kv = (kv.0.index_select(&idx, 0)?, kv.1.index_select(&idx, 0)?);
        }
        Ok(())
    }
}

/// Why a model folder's weights could not be opened: the file and reason.
pub(crate) struct WeightsError {
    pub missing: bool,
    pub file: String,
    pub reason: String,
}

/// The weights of a Hugging Face model folder: `model.safetensors`, else a
/// zip-format `pytorch_model.bin`, as float32.
pub(crate) fn load_weights(
    dir: &Path,
    device: &Device,
) -> std::result::Result<VarBuilder<'static>, WeightsError> {
    let fail = |missing, file: &str, reason: String| WeightsError {
        missing,
        file: file.into(),
        reason,
    };
    if dir.join("model.safetensors").exists() {
        let bytes = std::fs::read(dir.join("model.safetensors"))
            .map_err(|e| fail(true, "model.safetensors", e.to_string()))?;
        VarBuilder::from_buffered_safetensors(bytes, DType::F32, device)
            .map_err(|e| fail(false, "model.safetensors", e.to_string()))
    } else if dir.join("pytorch_model.bin").exists() {
        VarBuilder::from_pth(dir.join("pytorch_model.bin"), DType::F32, device)
            .map_err(|e| fail(false, "pytorch_model.bin", e.to_string()))
    } else {
        Err(fail(
            true,
            "model.safetensors or pytorch_model.bin",
            "no weights".into(),
        ))
    }
}

/// The additive causal mask for `t` new positions after `past` cached ones,
/// or `None` for a single position.
pub(crate) fn causal_mask(t: usize, past: usize, device: &Device) -> Result<Option<Tensor>> {
    if t <= 1 {
        return Ok(None);
    }
    let mut m = vec![0f32; t * (past + t)];
    for i in 0..t {
        for j in past + i + 1..past + t {
            m[i * (past + t) + j] = f32::MIN;
        }
    }
    Ok(Some(Tensor::from_vec(m, (1, 1, t, past + t), device)?))
}

/// Indices of the `k` largest values, largest first; on ties the lower
/// index first.
pub(crate) fn top_k(values: &[f32], k: usize) -> Vec<usize> {
    // One pass keeping the best `k` in order: k is small (beams × 2) and
    // the values many (beams × vocabulary).
    let k = k.min(values.len());
    let mut best: Vec<usize> = Vec::with_capacity(k + 1);
    for (i, &v) in values.iter().enumerate() {
        if best.len() == k {
            let last = values[best[k - 1]];
            // Ties keep the earlier index, so only strictly greater enters.
            if v.total_cmp(&last) != std::cmp::Ordering::Greater {
                continue;
            }
        }
        let pos = best.partition_point(|&j| values[j].total_cmp(&v) != std::cmp::Ordering::Less);
        best.insert(pos, i);
        best.truncate(k);
    }
    best
}
