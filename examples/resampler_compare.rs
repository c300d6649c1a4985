//! Spaceport's resampling (`audio::resample`: rubato's sinc resampler, cutoff 1.0, fed
//! in chunks, as the microphone stream is) beside rubato's own whole-clip
//! calls, sinc (its default cutoff) and FFT, on test tones: how much of the band they keep, how
//! much of what lies above the new Nyquist frequency folds back into it
//! (aliasing), and how fast they turn a minute of audio into 16 kHz. Our
//! earlier windowed-sinc resampler measured −107 / −75 dB and 1290 ms here
//! (see `audio/resample.rs`), which is why rubato replaced it.
//! Run: `cargo run --example resampler_compare` (bench/resampler.sh).

use std::f64::consts::PI;
use std::time::Instant;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, Fft, FixedAsync, FixedSync, Resampler, SincInterpolationParameters, WindowFunction,
};
use spaceport::audio::resample::resample;

fn tone(freq: f64, rate: u32, secs: f64) -> Vec<f32> {
    (0..(rate as f64 * secs) as usize)
        .map(|i| (2.0 * PI * freq * i as f64 / rate as f64).sin() as f32 * 0.5)
        .collect()
}

/// Amplitude of `freq` in `x` (a Hann-windowed single-bin DFT).
fn amplitude(x: &[f32], freq: f64, rate: u32) -> f64 {
    let n = x.len() as f64;
    let (mut re, mut im, mut wsum) = (0.0, 0.0, 0.0);
    for (i, &s) in x.iter().enumerate() {
        let w = 0.5 - 0.5 * (2.0 * PI * i as f64 / n).cos();
        let a = 2.0 * PI * freq * i as f64 / rate as f64;
        re += w * s as f64 * a.cos();
        im += w * s as f64 * a.sin();
        wsum += w;
    }
    2.0 * (re * re + im * im).sqrt() / wsum
}

fn db(a: f64) -> f64 {
    20.0 * (a / 0.5).max(1e-12).log10()
}

type Method = (&'static str, fn(&[f32], u32, u32) -> Vec<f32>);

fn ours(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    resample(x, from, to)
}

fn rubato_run(r: &mut dyn Resampler<f32>, x: &[f32]) -> Vec<f32> {
    let input = InterleavedSlice::new(x, 1, x.len()).expect("mono slice");
    r.process_all(&input, x.len(), None)
        .expect("rubato resamples")
        .take_data()
}

fn rubato_sinc(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    let params = SincInterpolationParameters::new(256, WindowFunction::BlackmanHarris2);
    let mut r = Async::<f32>::new_sinc(
        to as f64 / from as f64,
        1.0,
        &params,
        1024,
        1,
        FixedAsync::Input,
    )
    .expect("rubato sinc");
    rubato_run(&mut r, x)
}

fn rubato_fft(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    let mut r =
        Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Input).expect("rubato fft");
    rubato_run(&mut r, x)
}

fn main() {
    let methods: [Method; 3] = [
        ("spaceport", ours),
        ("rubato sinc 256", rubato_sinc),
        ("rubato fft", rubato_fft),
    ];
    println!(
        "{:<16} {:>10} {:>10} {:>12} {:>12} {:>10} {:>10}",
        "method", "440 Hz dB", "7 kHz dB", "12k→4k dB", "9k→7k dB", "44.1k ms", "48k ms"
    );
    for (name, f) in methods {
        let mid = |y: &[f32]| y[y.len() / 8..y.len() * 7 / 8].to_vec();
        let pass_low = db(amplitude(
            &mid(&f(&tone(440.0, 44100, 2.0), 44100, 16000)),
            440.0,
            16000,
        ));
        let pass_high = db(amplitude(
            &mid(&f(&tone(7000.0, 44100, 2.0), 44100, 16000)),
            7000.0,
            16000,
        ));
        // 12 kHz at 44.1 kHz would fold to 4 kHz; 9 kHz at 48 kHz to 7 kHz.
        let alias_a = db(amplitude(
            &mid(&f(&tone(12000.0, 44100, 2.0), 44100, 16000)),
            4000.0,
            16000,
        ));
        let alias_b = db(amplitude(
            &mid(&f(&tone(9000.0, 48000, 2.0), 48000, 16000)),
            7000.0,
            16000,
        ));
        let time = |rate: u32| {
            let minute = tone(1000.0, rate, 60.0);
            (0..3)
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(f(&minute, rate, 16000));
                    t.elapsed().as_secs_f64() * 1e3
                })
                .fold(f64::INFINITY, f64::min)
        };
        println!(
            "{name:<16} {pass_low:>10.3} {pass_high:>10.3} {alias_a:>12.1} {alias_b:>12.1} {:>10.1} {:>10.1}",
            time(44100),
            time(48000)
        );
    }
}
