//! Resampling to the rate a model takes, with rubato (the ecosystem's
//! resampler): its band-limited sinc resampler (256 taps, Blackman-Harris,
//! the cutoff on the lower Nyquist frequency), for whole buffers
//! ([`resample`]) and for a microphone stream fed in chunks of any length
//! ([`StreamResampler`]; its output equals [`resample`] of everything
//! pushed).
//!
//! Why rubato and not our own: Spaceport had a Blackman-windowed-sinc
//! resampler of its own (32 zero crossings, a table-driven kernel, the
//! same cutoff). Measured side by side on test tones (`bench/resampler.sh`,
//! 2 cores): 44.1 kHz → 16 kHz, a 12 kHz tone folds to 4 kHz at −107 dB
//! with ours, −162 dB with this one; 48 kHz → 16 kHz, a 9 kHz tone folds
//! to 7 kHz at −75 dB with ours, −80 dB with this one; a minute of audio
//! took 1290 ms with ours, 355–360 ms with this one; both flat to 7 kHz.
//! Rubato's FFT resampler is faster still (30–60 ms) and rubato's default
//! sinc cutoff aliases less near 8 kHz, but both cut the band from about
//! 7.5 kHz, which Whisper's top mel bands hear: with a cutoff of 0.97 the
//! tiny.en transcripts of the test speech lost words (MP3 WER 0.046 →
//! 0.092, a dictation 12 → 11 of 14 words), with 1.0 they are as before.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, FixedAsync, Indexing, Resampler, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};

/// Input frames per chunk (21 ms at 48 kHz: little delay for dictation).
const CHUNK: usize = 1024;

/// The anti-aliasing filter's cutoff, as a fraction of the lower Nyquist
/// frequency: all of it, so Whisper's top mel bands (up to 8 kHz) keep
/// their energy (see the module doc for what a lower one cost).
const CUTOFF: f32 = 1.0;

/// A resampler fed in chunks: it keeps what does not yet fill a chunk,
/// drops the resampler's start-up delay, and on [`StreamResampler::finish`]
/// flushes the rest, so the output is exactly `ceil(len × to / from)`
/// samples, as [`resample`] gives.
pub struct StreamResampler {
    /// `None` when the rates are equal (samples pass through) or the
    /// resampler can't be made for them.
    inner: Option<Async<f32>>,
    ratio: f64,
    pending: Vec<f32>,
    out: Vec<f32>,
    to_trim: usize,
    pushed: usize,
    made: usize,
}

impl StreamResampler {
    pub fn new(from_hz: u32, to_hz: u32) -> Self {
        let inner = (from_hz != to_hz && from_hz > 0 && to_hz > 0)
            .then(|| {
                let params = SincInterpolationParameters {
                    sinc_len: 256,
                    f_cutoff: Some(CUTOFF),
                    oversampling_factor: 256,
                    interpolation: SincInterpolationType::Linear,
                    window: WindowFunction::BlackmanHarris2,
                };
                let ratio = to_hz as f64 / from_hz as f64;
                Async::<f32>::new_sinc(ratio, 1.0, &params, CHUNK, 1, FixedAsync::Input).ok()
            })
            .flatten();
        let (ratio, to_trim, out) = match &inner {
            Some(r) => (
                to_hz as f64 / from_hz as f64,
                r.output_delay(),
                vec![0.0; r.output_frames_max()],
            ),
            None => (1.0, 0, Vec::new()),
        };
        Self {
            inner,
            ratio,
            pending: Vec::new(),
            out,
            to_trim,
            pushed: 0,
            made: 0,
        }
    }

    /// Takes `samples` and returns the output they complete.
    pub fn push(&mut self, samples: &[f32]) -> Vec<f32> {
        self.pushed += samples.len();
        if self.inner.is_none() {
            return samples.to_vec();
        }
        self.pending.extend_from_slice(samples);
        let mut result = Vec::new();
        // Whole chunks from the front of `pending`, read in place, then
        // what is left moved to the front once.
        let mut at = 0;
        while let Some(r) = &self.inner
            && self.pending.len() - at >= r.input_frames_next()
        {
            let n = r.input_frames_next();
            if !self.chunk(at, Some(n), &mut result) {
                break;
            }
            at += n;
        }
        self.pending.drain(..at);
        result
    }

    /// The output still owed once the input has ended.
    pub fn finish(&mut self) -> Vec<f32> {
        let mut result = Vec::new();
        if self.inner.is_none() {
            return result;
        }
        let expected = (self.ratio * self.pushed as f64).ceil() as usize;
        // The last partial chunk, then zeros until the delay is flushed.
        if !self.pending.is_empty() {
            let partial = self.pending.len();
            self.chunk(0, Some(partial), &mut result);
            self.pending.clear();
        }
        while self.made < expected {
            let before = self.made;
            if !self.chunk(0, Some(0), &mut result) || self.made == before {
                break;
            }
        }
        let extra = self.made.saturating_sub(expected);
        result.truncate(result.len().saturating_sub(extra));
        self.made -= extra.min(self.made);
        result
    }

    /// Resamples one chunk of `pending` from `at` (`valid` frames of it,
    /// the rest taken as silence) into `result`, dropping what is still
    /// owed to the start-up delay; false if the resampler refused.
    fn chunk(&mut self, at: usize, valid: Option<usize>, result: &mut Vec<f32>) -> bool {
        let Some(r) = &mut self.inner else {
            return false;
        };
        let need = r.input_frames_next();
        let mut input = vec![0.0f32; need];
        let take = valid
            .unwrap_or(need)
            .min(need)
            .min(self.pending.len().saturating_sub(at));
        input[..take].copy_from_slice(&self.pending[at..at + take]);
        let partial = valid.filter(|&v| v < need);
        let indexing = Indexing {
            input_offset: 0,
            output_offset: 0,
            active_channels_mask: None,
            partial_len: partial,
        };
        let frames_out = self.out.len();
        let (Ok(inp), Ok(mut outp)) = (
            InterleavedSlice::new(&input[..], 1, need),
            InterleavedSlice::new_mut(&mut self.out[..], 1, frames_out),
        ) else {
            return false;
        };
        let Ok((_, produced)) = r.process_into_buffer(&inp, &mut outp, Some(&indexing)) else {
            return false;
        };
        let skip = self.to_trim.min(produced);
        self.to_trim -= skip;
        result.extend_from_slice(&self.out[skip..produced]);
        self.made += produced - skip;
        true
    }
}

/// Resamples mono `samples` from `from_hz` to `to_hz`.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Vec<f32> {
    let mut r = StreamResampler::new(from_hz, to_hz);
    let mut out = r.push(samples);
    out.extend(r.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn tone(freq: f64, rate: u32, secs: f64) -> Vec<f32> {
        (0..(rate as f64 * secs) as usize)
            .map(|i| (2.0 * PI * freq * i as f64 / rate as f64).sin() as f32 * 0.5)
            .collect()
    }

    /// Amplitude of `freq` in `x` (a single-bin DFT).
    fn amplitude(x: &[f32], freq: f64, rate: u32) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &s) in x.iter().enumerate() {
            let a = 2.0 * PI * freq * i as f64 / rate as f64;
            re += s as f64 * a.cos();
            im += s as f64 * a.sin();
        }
        2.0 * (re * re + im * im).sqrt() / x.len() as f64
    }

    #[test]
    fn keeps_the_band_and_removes_what_would_alias() {
        let x: Vec<f32> = tone(440.0, 44100, 1.0)
            .iter()
            .zip(tone(12000.0, 44100, 1.0))
            .map(|(a, b)| a + b)
            .collect();
        let y = resample(&x, 44100, 16000);
        assert_eq!(y.len(), 16000);
        let mid = &y[2000..14000];
        assert!((amplitude(mid, 440.0, 16000) - 0.5).abs() < 0.01);
        // 12 kHz would fold to 4 kHz without the filter.
        assert!(
            amplitude(mid, 4000.0, 16000) < 0.005,
            "{}",
            amplitude(mid, 4000.0, 16000)
        );
        // Up-sampling keeps a tone too.
        let z = resample(&tone(1000.0, 8000, 0.5), 8000, 16000);
        assert_eq!(z.len(), 8000);
        assert!((amplitude(&z[1000..7000], 1000.0, 16000) - 0.5).abs() < 0.01);
    }

    #[test]
    fn a_stream_in_chunks_gives_the_whole_buffers_result() {
        let x: Vec<f32> = tone(440.0, 44100, 0.7)
            .iter()
            .zip(tone(9000.0, 44100, 0.7))
            .map(|(a, b)| a + b)
            .collect();
        for (from, to) in [
            (44100, 16000),
            (48000, 16000),
            (8000, 16000),
            (16000, 16000),
        ] {
            let whole = resample(&x, from, to);
            let mut r = StreamResampler::new(from, to);
            let mut streamed = Vec::new();
            // Uneven chunks, one empty, one a single sample.
            let mut at = 0;
            for (i, n) in [0usize, 1, 441, 2205, 7, 4410].iter().cycle().enumerate() {
                if at >= x.len() || i > 10_000 {
                    break;
                }
                let end = (at + n).min(x.len());
                streamed.extend(r.push(&x[at..end]));
                at = end;
            }
            streamed.extend(r.finish());
            assert_eq!(streamed.len(), whole.len(), "{from} → {to}");
            let worst = streamed
                .iter()
                .zip(&whole)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(worst < 1e-6, "{from} → {to}: {worst}");
        }
    }
}
