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

/// Resamples mono `samples` from `from_hz` to `to_hz`.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Vec<f32> {
    if from_hz == to_hz || samples.is_empty() || from_hz == 0 || to_hz == 0 {
        return samples.to_vec();
    }
    let ratio = to_hz as f64 / from_hz as f64;
    // The filter's cutoff, as a fraction of the input rate's Nyquist.
    let cutoff = ratio.min(1.0);
    let half_width = ZERO_CROSSINGS / cutoff;
    // The kernel, windowed with Blackman, tabulated from 0 to half_width
    // (it is symmetric).
    let table_len = (half_width * STEPS as f64).ceil() as usize + 2;
    let table: Vec<f32> = (0..table_len)
        .map(|i| {
            let x = i as f64 / STEPS as f64;
            if x >= half_width {
                return 0.0;
            }
            let w =
                0.42 + 0.5 * (PI * x / half_width).cos() + 0.08 * (2.0 * PI * x / half_width).cos();
            (cutoff * sinc(cutoff * x) * w) as f32
        })
        .collect();
    let kernel = |x: f64| -> f32 {
        let pos = x.abs() * STEPS as f64;
        let i = pos as usize;
        if i + 1 >= table.len() {
            return 0.0;
        }
        let frac = (pos - i as f64) as f32;
        table[i] + (table[i + 1] - table[i]) * frac
    };
    let out_len = ((samples.len() as f64) * ratio).round() as usize;
    let mut out = Vec::with_capacity(out_len);
    for n in 0..out_len {
        let center = n as f64 / ratio;
        let lo = (center - half_width).ceil().max(0.0) as usize;
        let hi = ((center + half_width).floor() as usize).min(samples.len() - 1);
        let mut acc = 0.0f32;
        for (k, &s) in samples.iter().enumerate().take(hi + 1).skip(lo) {
            acc += s * kernel(k as f64 - center);
        }
        out.push(acc);
    }
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
}
