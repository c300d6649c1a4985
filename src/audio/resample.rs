//! Band-limited resampling: each output sample is a windowed-sinc
//! interpolation of the input (a Blackman window over 32 zero crossings of
//! the lower of the two Nyquist frequencies), so that nothing above the new
//! Nyquist frequency folds back into the speech band.

use std::f64::consts::PI;

/// Zero crossings of the sinc on each side.
const ZERO_CROSSINGS: f64 = 32.0;

fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        (PI * x).sin() / (PI * x)
    }
}

/// Table resolution: kernel values per input sample, interpolated
/// linearly in between.
const STEPS: usize = 512;

/// The windowed sinc for one pair of rates, tabulated.
struct Kernel {
    table: Vec<f32>,
    half_width: f64,
}

impl Kernel {
    fn new(ratio: f64) -> Self {
        // The filter's cutoff, as a fraction of the input rate's Nyquist.
        let cutoff = ratio.min(1.0);
        let half_width = ZERO_CROSSINGS / cutoff;
        // The kernel, windowed with Blackman, tabulated from 0 to
        // half_width (it is symmetric).
        let table_len = (half_width * STEPS as f64).ceil() as usize + 2;
        let table = (0..table_len)
            .map(|i| {
                let x = i as f64 / STEPS as f64;
                if x >= half_width {
                    return 0.0;
                }
                let w = 0.42
                    + 0.5 * (PI * x / half_width).cos()
                    + 0.08 * (2.0 * PI * x / half_width).cos();
                (cutoff * sinc(cutoff * x) * w) as f32
            })
            .collect();
        Self { table, half_width }
    }

    fn at(&self, x: f64) -> f32 {
        let pos = x.abs() * STEPS as f64;
        let i = pos as usize;
        if i + 1 >= self.table.len() {
            return 0.0;
        }
        let frac = (pos - i as f64) as f32;
        self.table[i] + (self.table[i + 1] - self.table[i]) * frac
    }
}

/// A resampler fed in chunks (a microphone stream): the output equals
/// [`resample`] of everything pushed, chunk borders leaving no trace. It
/// keeps the last half-window of input for the next chunk.
pub struct StreamResampler {
    /// `None` when the rates are equal (samples pass through).
    kernel: Option<Kernel>,
    ratio: f64,
    /// Input kept, starting at absolute input index `kept_from`.
    kept: Vec<f32>,
    kept_from: usize,
    /// Input samples pushed so far.
    pushed: usize,
    /// Output samples made so far.
    made: usize,
}

impl StreamResampler {
    pub fn new(from_hz: u32, to_hz: u32) -> Self {
        let same = from_hz == to_hz || from_hz == 0 || to_hz == 0;
        let ratio = if same {
            1.0
        } else {
            to_hz as f64 / from_hz as f64
        };
        Self {
            kernel: (!same).then(|| Kernel::new(ratio)),
            ratio,
            kept: Vec::new(),
            kept_from: 0,
            pushed: 0,
            made: 0,
        }
    }

    /// Takes `samples` and returns the output they complete.
    pub fn push(&mut self, samples: &[f32]) -> Vec<f32> {
        self.pushed += samples.len();
        if self.kernel.is_none() {
            return samples.to_vec();
        }
        self.kept.extend_from_slice(samples);
        self.run(false)
    }

    /// The output still owed once the input has ended.
    pub fn finish(&mut self) -> Vec<f32> {
        if self.kernel.is_none() {
            return Vec::new();
        }
        self.run(true)
    }

    fn run(&mut self, end: bool) -> Vec<f32> {
        let Some(kernel) = &self.kernel else {
            return Vec::new();
        };
        let total = ((self.pushed as f64) * self.ratio).round() as usize;
        let mut out = Vec::new();
        while self.made < total && self.pushed > 0 {
            let center = self.made as f64 / self.ratio;
            let hi_wanted = (center + kernel.half_width).floor() as usize;
            // Until the input ends, wait for the whole window.
            if !end && hi_wanted >= self.pushed {
                break;
            }
            let lo = (center - kernel.half_width).ceil().max(0.0) as usize;
            let hi = hi_wanted.min(self.pushed - 1);
            let mut acc = 0.0f32;
            for k in lo.max(self.kept_from)..=hi {
                acc += self.kept[k - self.kept_from] * kernel.at(k as f64 - center);
            }
            out.push(acc);
            self.made += 1;
        }
        // Keep what the next output's window reaches back to.
        let next_lo = (self.made as f64 / self.ratio - kernel.half_width)
            .ceil()
            .max(0.0) as usize;
        let drop = next_lo.saturating_sub(self.kept_from).min(self.kept.len());
        self.kept.drain(..drop);
        self.kept_from += drop;
        out
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
