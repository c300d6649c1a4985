//! Whisper's input features, as transformers' `WhisperFeatureExtractor`
//! computes them with PyTorch (`feature_extraction_whisper.py`,
//! `_torch_extract_fbank_features`): audio padded to the chunk length, a
//! centred STFT (reflect padding, periodic Hann window), the power
//! spectrum through a mel filter bank computed — not shipped — with the
//! Slaney scale and area normalisation (`audio_utils.mel_filter_bank`),
//! `log10` floored at 1e-10, values below the maximum − 8 raised to it,
//! then `(x + 4) / 4`.

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use serde_json::Value;

/// The feature settings, from `preprocessor_config.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureConfig {
    pub n_mels: usize,
    pub n_fft: usize,
    pub hop_length: usize,
    pub sampling_rate: usize,
    /// Samples in one window of audio (30 s for Whisper).
    pub chunk_samples: usize,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            n_mels: 80,
            n_fft: 400,
            hop_length: 160,
            sampling_rate: 16000,
            chunk_samples: 30 * 16000,
        }
    }
}

impl FeatureConfig {
    /// Reads `preprocessor_config.json` (transformers' keys), keeping the
    /// defaults for what it lacks.
    pub fn from_json(v: &Value) -> Self {
        let d = Self::default();
        let get =
            |k: &str, def: usize| v.get(k).and_then(Value::as_u64).map_or(def, |x| x as usize);
        let sampling_rate = get("sampling_rate", d.sampling_rate);
        let chunk_length = get("chunk_length", 30);
        Self {
            n_mels: get("feature_size", d.n_mels),
            n_fft: get("n_fft", d.n_fft),
            hop_length: get("hop_length", d.hop_length),
            sampling_rate,
            chunk_samples: get("n_samples", chunk_length * sampling_rate),
        }
    }

    /// Sizes the features can be computed with: none zero, the FFT no
    /// longer than a window, nothing absurd (a damaged file).
    pub fn check(&self) -> Result<(), String> {
        let sizes = [
            ("feature_size", self.n_mels),
            ("n_fft", self.n_fft),
            ("hop_length", self.hop_length),
            ("sampling_rate", self.sampling_rate),
            ("n_samples", self.chunk_samples),
        ];
        crate::tasks::nn::no_zero_sizes(&sizes)?;
        if self.n_fft > 1 << 16 || self.n_mels > 4096 || self.sampling_rate > 384_000 {
            return Err("its feature sizes are far beyond any audio model".into());
        }
        if self.chunk_samples > self.sampling_rate * 600 || self.chunk_samples < self.n_fft {
            return Err(format!(
                "a window of {} samples does not fit an FFT of {}",
                self.chunk_samples, self.n_fft
            ));
        }
        Ok(())
    }

    /// Feature frames in one chunk.
    pub fn chunk_frames(&self) -> usize {
        self.chunk_samples / self.hop_length
    }
}

fn hertz_to_mel(f: f64) -> f64 {
    let logstep = 27.0 / 6.4f64.ln();
    if f >= 1000.0 {
        15.0 + (f / 1000.0).ln() * logstep
    } else {
        3.0 * f / 200.0
    }
}

fn mel_to_hertz(m: f64) -> f64 {
    let logstep = 6.4f64.ln() / 27.0;
    if m >= 15.0 {
        1000.0 * (logstep * (m - 15.0)).exp()
    } else {
        200.0 * m / 3.0
    }
}

fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![a];
    }
    let step = (b - a) / (n - 1) as f64;
    (0..n).map(|i| a + step * i as f64).collect()
}

/// The Slaney mel filter bank, `n_mels` rows of `n_fft / 2 + 1` weights,
/// from 0 Hz to 8 kHz as Whisper uses.
pub fn mel_filters(n_mels: usize, n_fft: usize, sampling_rate: usize) -> Vec<f32> {
    let bins = n_fft / 2 + 1;
    let mels = linspace(hertz_to_mel(0.0), hertz_to_mel(8000.0), n_mels + 2);
    let filter_freqs: Vec<f64> = mels.into_iter().map(mel_to_hertz).collect();
    let fft_freqs = linspace(0.0, (sampling_rate / 2) as f64, bins);
    let mut out = vec![0f32; n_mels * bins];
    for m in 0..n_mels {
        let (lo, mid, hi) = (filter_freqs[m], filter_freqs[m + 1], filter_freqs[m + 2]);
        let enorm = 2.0 / (hi - lo);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let down = (f - lo) / (mid - lo);
            let up = (hi - f) / (hi - mid);
            out[m * bins + k] = (down.min(up).max(0.0) * enorm) as f32;
        }
    }
    out
}

/// Computes log-mel features; reusable across calls.
pub struct LogMel {
    pub config: FeatureConfig,
    filters: Vec<f32>,
    window: Vec<f64>,
    fft: Arc<dyn Fft<f64>>,
}

impl LogMel {
    pub fn new(config: FeatureConfig) -> Self {
        let n = config.n_fft;
        let window = (0..n)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
            .collect();
        Self {
            filters: mel_filters(config.n_mels, n, config.sampling_rate),
            window,
            fft: FftPlanner::new().plan_fft_forward(n),
            config,
        }
    }

    /// Features for `samples` (16 kHz mono) padded with silence, or cut, to
    /// one chunk: `n_mels` rows of `chunk_frames` values, row-major.
    pub fn chunk(&self, samples: &[f32]) -> Vec<f32> {
        let mut padded = samples[..samples.len().min(self.config.chunk_samples)].to_vec();
        padded.resize(self.config.chunk_samples, 0.0);
        self.features(&padded)
    }

    /// Features for exactly `samples`: `n_mels` rows of `len / hop` frames.
    pub fn features(&self, samples: &[f32]) -> Vec<f32> {
        let (n_fft, hop, n_mels) = (
            self.config.n_fft,
            self.config.hop_length,
            self.config.n_mels,
        );
        let bins = n_fft / 2 + 1;
        let frames = samples.len() / hop;
        if frames == 0 {
            return Vec::new();
        }
        // torch.stft(center=True): reflect-pad n_fft/2 on both sides.
        let half = n_fft / 2;
        let reflect = |i: isize| -> f64 {
            let n = samples.len() as isize;
            let mut j = i;
            if n > 1 {
                let period = 2 * (n - 1);
                j = j.rem_euclid(period);
                if j >= n {
                    j = period - j;
                }
            } else {
                j = 0;
            }
            samples[j as usize] as f64
        };
        let mut power = vec![0f32; bins * frames];
        let mut buf = vec![Complex::new(0.0f64, 0.0); n_fft];
        for t in 0..frames {
            let start = (t * hop) as isize - half as isize;
            for (i, c) in buf.iter_mut().enumerate() {
                *c = Complex::new(reflect(start + i as isize) * self.window[i], 0.0);
            }
            self.fft.process(&mut buf);
            for k in 0..bins {
                power[k * frames + t] = buf[k].norm_sqr() as f32;
            }
        }
        let mut out = vec![0f32; n_mels * frames];
        for m in 0..n_mels {
            let row = &self.filters[m * bins..(m + 1) * bins];
            let dst = &mut out[m * frames..(m + 1) * frames];
            for (k, &w) in row.iter().enumerate() {
                if w == 0.0 {
                    continue;
                }
                let src = &power[k * frames..(k + 1) * frames];
                for (d, &p) in dst.iter_mut().zip(src) {
                    *d += w * p;
                }
            }
        }
        let mut max = f32::NEG_INFINITY;
        for v in out.iter_mut() {
            *v = v.max(1e-10).log10();
            max = max.max(*v);
        }
        for v in out.iter_mut() {
            *v = (v.max(max - 8.0) + 4.0) / 4.0;
        }
        out
    }
}
