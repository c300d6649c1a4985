//! The Silero voice-activity detector, built here from the weights of its
//! ONNX file (the PyPI package `silero-vad`'s `silero_vad.onnx`, the
//! same file as on the Hub): for each 32 ms of 16 kHz audio, the
//! probability that it is speech. Live dictation asks it where speech
//! ends ([`super::live::Segmenter`]), so a pause is known sooner than an
//! energy threshold can tell, and music and room noise are not decoded.
//!
//! The network (Silero VAD v5/v6, 16 kHz branch): the chunk with the last
//! 64 samples before it, reflect-padded by 64 on the right; a short-time
//! Fourier transform as a strided convolution with the model's own basis
//! (its magnitude); four convolutions (kernel 3, padding 1, strides
//! 1, 2, 2, 1) each followed by ReLU; an LSTM cell whose state is carried
//! from chunk to chunk; ReLU, a 1×1 convolution and a sigmoid. Sizes come
//! from the weights' shapes and are checked against each other on load.

use std::path::{Path, PathBuf};

use crate::tasks::TaskError;
use crate::tasks::nn::ModelFileError;
use crate::tasks::onnx::{self, Tensor};

/// Samples a probability is given for (32 ms at 16 kHz).
pub const CHUNK: usize = 512;
/// Samples of the chunk before that each chunk is seen with.
const CONTEXT: usize = 64;
/// The sample rate the detector runs at.
pub const RATE: u32 = 16000;

/// Where the voice-activity model is looked for: `SPACEPORT_SILERO_VAD`
/// (a file), else the Hub repository [`HUB_REPO`]'s [`HUB_FILE`] in the
/// Hugging Face cache once downloaded.
pub fn find_model() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SPACEPORT_SILERO_VAD") {
        return Some(PathBuf::from(p));
    }
    let cache = crate::hub::HubConfig::from_env().cache_dir;
    let (_, snap) = crate::hub::cache::resolve_snapshot(&cache, HUB_REPO, "main")?;
    let file = snap.join(HUB_FILE);
    file.is_file().then_some(file)
}

/// The Hub repository holding the detector's ONNX file (the one the
/// PyPI package `silero-vad` 6 ships, 2.3 MB, MIT licence).
pub const HUB_REPO: &str = "mgonzs13/silero-vad-onnx";
/// Its file in that repository.
pub const HUB_FILE: &str = "silero_vad.onnx";

/// One convolution: weights `[out][in][k]`, bias, and its stride.
struct Conv {
    w: Vec<f32>,
    b: Vec<f32>,
    cin: usize,
    cout: usize,
    k: usize,
    stride: usize,
}

impl Conv {
    /// Output length for an input of `len` with padding `k / 2`.
    fn out_len(&self, len: usize) -> usize {
        let pad = self.k / 2;
        (len + 2 * pad).saturating_sub(self.k) / self.stride + 1
    }

    /// `x`: `[cin][len]` → `[cout][out_len]`, then ReLU.
    fn forward_relu(&self, x: &[f32], len: usize) -> (Vec<f32>, usize) {
        let pad = self.k / 2;
        let n = self.out_len(len);
        let mut y = vec![0.0f32; self.cout * n];
        for o in 0..self.cout {
            for t in 0..n {
                let mut acc = self.b[o];
                for i in 0..self.cin {
                    let w = &self.w[(o * self.cin + i) * self.k..][..self.k];
                    let row = &x[i * len..][..len];
                    for (j, &wj) in w.iter().enumerate() {
                        let p = (t * self.stride + j) as isize - pad as isize;
                        if p >= 0 && (p as usize) < len {
                            acc += wj * row[p as usize];
                        }
                    }
                }
                y[o * n + t] = acc.max(0.0);
            }
        }
        (y, n)
    }
}

/// The detector: weights and the state it carries between chunks.
pub struct SileroVad {
    /// `[2·bins][n_fft]`: the real parts' filters, then the imaginary.
    basis: Vec<f32>,
    n_fft: usize,
    hop: usize,
    convs: Vec<Conv>,
    hidden: usize,
    /// `[4·hidden][input]` and `[4·hidden][hidden]`, gates in PyTorch's
    /// order (input, forget, cell, output); the two biases summed.
    w_ih: Vec<f32>,
    w_hh: Vec<f32>,
    bias: Vec<f32>,
    out_w: Vec<f32>,
    out_b: f32,
    h: Vec<f32>,
    c: Vec<f32>,
    context: Vec<f32>,
}

impl SileroVad {
    /// Loads the detector from an ONNX file.
    pub fn load(path: &Path) -> Result<Self, TaskError> {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let bytes = std::fs::read(path).map_err(|e| ModelFileError::missing(&file, e))?;
        let tensors = onnx::float_tensors(&bytes).map_err(|e| ModelFileError::bad(&file, e))?;
        Self::from_tensors(&tensors).map_err(|e| {
            TaskError::Unsupported(format!(
                "{file} is not a Silero voice-activity model Spaceport knows ({e})"
            ))
        })
    }

    fn from_tensors(t: &std::collections::HashMap<String, Tensor>) -> Result<Self, String> {
        const BASIS: &str = "stft.forward_basis_buffer";
        // The 16 kHz branch: the basis with the most filters (a file with
        // an 8 kHz branch too has a half-size one).
        let (basis_name, basis) = t
            .iter()
            .filter(|(n, v)| n.ends_with(BASIS) && v.dims.len() == 3 && v.dims[1] == 1)
            .max_by_key(|(n, v)| (v.dims[2], n.len()))
            .ok_or("no STFT basis")?;
        let prefix = &basis_name[..basis_name.len() - BASIS.len()];
        let get = |name: &str| {
            t.get(&format!("{prefix}{name}"))
                .ok_or_else(|| format!("no {name}"))
        };
        let n_fft = basis.dims[2];
        let bins = basis.dims[0] / 2;
        if n_fft < 2 || basis.dims[0] != 2 * (n_fft / 2 + 1) {
            return Err(format!("an STFT basis of shape {:?}", basis.dims));
        }
        let hop = n_fft / 2;
        let mut convs = Vec::new();
        let mut channels = bins;
        for (i, stride) in [1, 2, 2, 1].into_iter().enumerate() {
            let w = get(&format!("encoder.{i}.reparam_conv.weight"))?;
            let b = get(&format!("encoder.{i}.reparam_conv.bias"))?;
            let [cout, cin, k] = w.dims[..] else {
                return Err(format!("encoder {i}'s weight has shape {:?}", w.dims));
            };
            if cin != channels || k == 0 || k % 2 == 0 || b.dims != [cout] {
                return Err(format!("encoder {i}'s shapes {:?} {:?}", w.dims, b.dims));
            }
            channels = cout;
            convs.push(Conv {
                w: w.data.clone(),
                b: b.data.clone(),
                cin,
                cout,
                k,
                stride,
            });
        }
        let (w_ih, w_hh) = (get("decoder.rnn.weight_ih")?, get("decoder.rnn.weight_hh")?);
        let (b_ih, b_hh) = (get("decoder.rnn.bias_ih")?, get("decoder.rnn.bias_hh")?);
        let hidden = w_hh.dims.get(1).copied().unwrap_or(0);
        if hidden == 0
            || w_hh.dims != [4 * hidden, hidden]
            || w_ih.dims != [4 * hidden, channels]
            || b_ih.dims != [4 * hidden]
            || b_hh.dims != [4 * hidden]
        {
            return Err(format!(
                "LSTM shapes {:?} {:?} for {channels} inputs",
                w_ih.dims, w_hh.dims
            ));
        }
        let (out_w, out_b) = (
            get("decoder.decoder.2.weight")?,
            get("decoder.decoder.2.bias")?,
        );
        if out_w.dims != [1, hidden, 1] || out_b.dims != [1] {
            return Err(format!("output layer shape {:?}", out_w.dims));
        }
        let vad = Self {
            basis: basis.data.clone(),
            n_fft,
            hop,
            convs,
            hidden,
            w_ih: w_ih.data.clone(),
            w_hh: w_hh.data.clone(),
            bias: b_ih
                .data
                .iter()
                .zip(&b_hh.data)
                .map(|(a, b)| a + b)
                .collect(),
            out_w: out_w.data.clone(),
            out_b: out_b.data[0],
            h: vec![0.0; hidden],
            c: vec![0.0; hidden],
            context: vec![0.0; CONTEXT],
        };
        // The chunk must come out of the encoder as one step.
        let mut len = vad.frames();
        for c in &vad.convs {
            len = c.out_len(len);
        }
        if len != 1 {
            return Err(format!("the encoder gives {len} steps a chunk, not 1"));
        }
        Ok(vad)
    }

    /// STFT frames a chunk gives.
    fn frames(&self) -> usize {
        (CONTEXT + CHUNK + CONTEXT).saturating_sub(self.n_fft) / self.hop + 1
    }

    /// Forgets the stream so far (a new recording).
    pub fn reset(&mut self) {
        self.h.fill(0.0);
        self.c.fill(0.0);
        self.context.fill(0.0);
    }

    /// The probability that `chunk` ([`CHUNK`] samples at 16 kHz; shorter
    /// is padded with zeros) is speech, given the chunks before it.
    pub fn prob(&mut self, chunk: &[f32]) -> f32 {
        // The context, the chunk, and a reflection of the end.
        let mut x = Vec::with_capacity(CONTEXT + CHUNK + CONTEXT);
        x.extend_from_slice(&self.context);
        x.extend(
            chunk
                .iter()
                .copied()
                .chain(std::iter::repeat(0.0))
                .take(CHUNK),
        );
        let n = x.len();
        for i in 0..CONTEXT {
            x.push(x[n - 2 - i]);
        }
        self.context.copy_from_slice(&x[n - CONTEXT..n]);
        // Magnitude spectrum: [bins][frames].
        let frames = self.frames();
        let bins = self.basis.len() / self.n_fft / 2;
        let mut spec = vec![0.0f32; bins * frames];
        for t in 0..frames {
            let seg = &x[t * self.hop..][..self.n_fft];
            for b in 0..bins {
                let dot = |row: usize| -> f32 {
                    self.basis[row * self.n_fft..][..self.n_fft]
                        .iter()
                        .zip(seg)
                        .map(|(w, s)| w * s)
                        .sum()
                };
                let (re, im) = (dot(b), dot(bins + b));
                spec[b * frames + t] = (re * re + im * im).sqrt();
            }
        }
        let (mut y, mut len) = (spec, frames);
        for c in &self.convs {
            (y, len) = c.forward_relu(&y, len);
        }
        // LSTM cell (one step; `y` is [channels][1]).
        let hsz = self.hidden;
        let input = y.len();
        let mut gates = self.bias.clone();
        for (g, gate) in gates.iter_mut().enumerate() {
            let wi = &self.w_ih[g * input..][..input];
            let wh = &self.w_hh[g * hsz..][..hsz];
            *gate += wi.iter().zip(&y).map(|(a, b)| a * b).sum::<f32>()
                + wh.iter().zip(&self.h).map(|(a, b)| a * b).sum::<f32>();
        }
        let sigmoid = |v: f32| 1.0 / (1.0 + (-v).exp());
        for j in 0..hsz {
            let i = sigmoid(gates[j]);
            let f = sigmoid(gates[hsz + j]);
            let g = gates[2 * hsz + j].tanh();
            let o = sigmoid(gates[3 * hsz + j]);
            self.c[j] = f * self.c[j] + i * g;
            self.h[j] = o * self.c[j].tanh();
        }
        let logit = self.out_b
            + self
                .out_w
                .iter()
                .zip(&self.h)
                .map(|(w, h)| w * h.max(0.0))
                .sum::<f32>();
        sigmoid(logit)
    }
}

/// Speech and its end as Silero's own streaming rule tells them: speech
/// starts when a chunk's probability reaches `threshold`, and is over once
/// it stays below `threshold − 0.15` (hysteresis), chunk by chunk at
/// 16 kHz from audio at any rate.
pub struct VoiceDetector {
    vad: SileroVad,
    resampler: crate::audio::resample::StreamResampler,
    pending: Vec<f32>,
    speaking: bool,
    threshold: f32,
    /// Chunks judged so far, and the last probability.
    pub chunks: usize,
    pub last_prob: f32,
}

impl VoiceDetector {
    pub fn new(vad: SileroVad, rate: u32, threshold: f32) -> Self {
        Self {
            vad,
            resampler: crate::audio::resample::StreamResampler::new(rate, RATE),
            pending: Vec::new(),
            speaking: false,
            threshold,
            chunks: 0,
            last_prob: 0.0,
        }
    }

    /// Takes audio at the device's rate; returns whether speech is going
    /// on after it.
    pub fn push(&mut self, samples: &[f32]) -> bool {
        let more = self.resampler.push(samples);
        self.pending.extend_from_slice(&more);
        let whole = self.pending.len() / CHUNK * CHUNK;
        for i in (0..whole).step_by(CHUNK) {
            let p = self.vad.prob(&self.pending[i..i + CHUNK]);
            self.chunks += 1;
            self.last_prob = p;
            if p >= self.threshold {
                self.speaking = true;
            } else if p < self.threshold - 0.15 {
                self.speaking = false;
            }
        }
        self.pending.drain(..whole);
        self.speaking
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A small detector with made-up weights: n_fft 8, 3 channels.
    fn tiny() -> HashMap<String, Tensor> {
        let mut t = HashMap::new();
        let mut put = |name: &str, dims: &[usize]| {
            let n: usize = dims.iter().product();
            let data = (0..n).map(|i| ((i * 7 % 13) as f32 - 6.0) / 20.0).collect();
            t.insert(
                format!("p_{name}"),
                Tensor {
                    dims: dims.to_vec(),
                    data,
                },
            );
        };
        put("stft.forward_basis_buffer", &[10, 1, 8]);
        put("encoder.0.reparam_conv.weight", &[3, 5, 3]);
        put("encoder.0.reparam_conv.bias", &[3]);
        for i in 1..4 {
            put(&format!("encoder.{i}.reparam_conv.weight"), &[3, 3, 3]);
            put(&format!("encoder.{i}.reparam_conv.bias"), &[3]);
        }
        put("decoder.rnn.weight_ih", &[8, 3]);
        put("decoder.rnn.weight_hh", &[8, 2]);
        put("decoder.rnn.bias_ih", &[8]);
        put("decoder.rnn.bias_hh", &[8]);
        put("decoder.decoder.2.weight", &[1, 2, 1]);
        put("decoder.decoder.2.bias", &[1]);
        t
    }

    #[test]
    fn weights_of_the_wrong_shape_are_refused_in_words() {
        // n_fft 8 gives 159 frames, not one step after the encoder.
        let e = SileroVad::from_tensors(&tiny()).err().unwrap();
        assert!(e.contains("steps a chunk"), "{e}");
        let mut t = tiny();
        t.get_mut("p_decoder.rnn.weight_hh").unwrap().dims = vec![8, 3];
        assert!(SileroVad::from_tensors(&t).err().unwrap().contains("LSTM"));
        let mut t = tiny();
        t.remove("p_encoder.2.reparam_conv.bias");
        assert!(
            SileroVad::from_tensors(&t)
                .err()
                .unwrap()
                .contains("encoder.2")
        );
        assert!(
            SileroVad::from_tensors(&HashMap::new())
                .err()
                .unwrap()
                .contains("basis")
        );
    }

    #[test]
    fn a_missing_or_damaged_file_is_an_error_not_a_panic() {
        let dir = std::env::temp_dir().join(format!("spaceport-silero-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("silero_vad.onnx");
        std::fs::write(&bad, b"\x0a\x05hello\x3a\xff\xff").unwrap();
        let e = SileroVad::load(&bad).err().unwrap().to_string();
        assert!(e.contains("silero_vad.onnx"), "{e}");
        let e = SileroVad::load(&dir.join("absent.onnx")).err().unwrap();
        assert!(matches!(e, TaskError::File(ModelFileError::Missing { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
