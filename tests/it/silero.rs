//! The Silero voice-activity detector built from `silero_vad.onnx`'s
//! weights gives, chunk by chunk, the speech probabilities onnxruntime
//! gives for the same file and audio (`tests/fixtures/silero`, made by
//! `scripts/fixtures/make_silero_reference.py`), and its speech/pause
//! decisions lie where the fixture's sentences were spoken.

use crate::support;

use std::path::Path;

use spaceport::audio::decode::decode_file;
use spaceport::tasks::transcribe::silero::{CHUNK, SileroVad, VoiceDetector};

fn reference() -> Vec<f32> {
    let text = std::fs::read_to_string("tests/fixtures/silero/reference.json").unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["chunk"], CHUNK);
    v["probs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap() as f32)
        .collect()
}

fn sentences() -> Vec<f32> {
    decode_file(
        Path::new("tests/fixtures/whisper/words/sentences.flac"),
        16000,
    )
    .unwrap()
    .samples
}

#[test]
fn probabilities_match_onnxruntime_chunk_by_chunk() {
    let theirs = reference();
    let mut vad = SileroVad::load(&support::silero_vad_file()).unwrap();
    let audio = sentences();
    let ours: Vec<f32> = audio.chunks_exact(CHUNK).map(|c| vad.prob(c)).collect();
    assert_eq!(ours.len(), theirs.len());
    let worst = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 2e-4, "largest difference {worst}");
    // Both speech and silence are in the fixture.
    assert!(theirs.iter().any(|&p| p > 0.9) && theirs.iter().any(|&p| p < 0.05));
    // After a reset the same audio gives the same again.
    vad.reset();
    let again: Vec<f32> = audio.chunks_exact(CHUNK).map(|c| vad.prob(c)).collect();
    assert_eq!(again, ours);
}

/// At the device's rate (48 kHz), the detector says "speech" during each
/// sentence and "no speech" in the middle of each 1.2 s silence between.
#[test]
fn speech_and_pauses_at_a_device_rate() {
    let audio = decode_file(
        Path::new("tests/fixtures/whisper/words/sentences.flac"),
        48000,
    )
    .unwrap()
    .samples;
    let words: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/whisper/words/reference.json").unwrap(),
    )
    .unwrap();
    let spans: Vec<(f64, f64)> = words["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s[0].as_f64().unwrap(), s[1].as_f64().unwrap()))
        .collect();
    let mut det = VoiceDetector::new(
        SileroVad::load(&support::silero_vad_file()).unwrap(),
        48000,
        0.5,
    );
    // 10 ms at a time, as a sound card delivers it.
    let mut said = Vec::new();
    for (i, c) in audio.chunks(480).enumerate() {
        said.push(((i + 1) as f64 * 0.01, det.push(c)));
    }
    let at = |t: f64| said.iter().find(|(s, _)| *s >= t).unwrap().1;
    for (i, &(start, end)) in spans.iter().enumerate() {
        assert!(at((start + end) / 2.0), "sentence {i} not heard as speech");
        if let Some(&(next, _)) = spans.get(i + 1) {
            assert!(
                !at((end + next) / 2.0),
                "the pause after sentence {i} heard as speech"
            );
        }
    }
}

/// A minute of music (a house-music loop, loud then soft), a room's
/// noise (rumble, hiss and mains hum) and everyday sounds (a door, a
/// boom, a punch, a whoosh) over it: with the learned detector live
/// dictation decodes none of it and writes no line, where the energy
/// threshold sends it to Whisper.
#[test]
fn a_minute_of_music_and_room_noise_is_not_decoded() {
    use spaceport::tasks::transcribe::Transcriber;
    use spaceport::tasks::transcribe::decode::TranscribeOptions;
    use spaceport::tasks::transcribe::live::{LiveConfig, LiveDictation};
    use spaceport::work::CancelToken;

    const RATE: u32 = 48000;
    let sounds = std::path::PathBuf::from(
        std::env::var("SPACEPORT_TEST_SOUNDS")
            .expect("run scripts/test.sh: it fetches the test sounds (SPACEPORT_TEST_SOUNDS)"),
    );
    let load = |name: &str| decode_file(&sounds.join(name), RATE).unwrap().samples;
    let secs = |s: f64| (s * RATE as f64) as usize;
    // A room: low rumble (integrated noise, its drift removed), hiss and
    // 50 Hz hum with its harmonic.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut noise = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let mut rumble = 0.0f32;
    let mut room: Vec<f32> = (0..secs(60.0))
        .map(|i| {
            let t = i as f32 / RATE as f32;
            rumble = rumble * 0.999 + noise() * 0.05;
            0.3 * rumble
                + 0.01 * noise()
                + 0.01 * (2.0 * std::f32::consts::PI * 50.0 * t).sin()
                + 0.005 * (2.0 * std::f32::consts::PI * 100.0 * t).sin()
        })
        .collect();
    let mix = |into: &mut Vec<f32>, at: usize, sound: &[f32], gain: f32| {
        for (d, s) in into[at..].iter_mut().zip(sound) {
            *d += gain * s;
        }
    };
    let music = load("house_lo.ogg");
    let mut at = secs(1.0);
    for gain in [0.9, 0.9, 0.6, 0.3, 0.3] {
        mix(&mut room, at, &music, gain);
        at += music.len();
    }
    for (i, name) in ["car_door.wav", "boom.wav", "punch.wav", "whiff.wav"]
        .iter()
        .enumerate()
    {
        for gain in [0.8, 0.3] {
            let at = secs(38.0 + 4.0 * i as f64 + if gain < 0.5 { 2.0 } else { 0.0 });
            mix(&mut room, at, &load(name), gain);
        }
    }
    assert!(room.iter().all(|s| s.is_finite()));
    let t = Transcriber::load(&support::whisper_ct2_dir(), &candle_core::Device::Cpu).unwrap();
    let run = |live: &mut LiveDictation| {
        let mut lines = Vec::new();
        for c in room.chunks(secs(0.05)) {
            live.push(c);
            while let Some(ev) = live.step(&t, &CancelToken::new()).unwrap() {
                lines.push(ev);
            }
        }
        live.finish();
        while let Some(ev) = live.step(&t, &CancelToken::new()).unwrap() {
            lines.push(ev);
        }
        lines
    };
    let opts = TranscribeOptions {
        language: Some("en".into()),
        ..Default::default()
    };
    let vad = SileroVad::load(&support::silero_vad_file()).unwrap();
    let mut learned = LiveDictation::new(RATE, opts.clone(), LiveConfig::default()).with_voice(vad);
    let lines = run(&mut learned);
    assert_eq!(learned.decodes, 0, "decoded: {lines:?}");
    assert!(lines.is_empty());
    // The same minute through the energy threshold does reach Whisper.
    let mut energy = LiveDictation::new(RATE, opts, LiveConfig::default());
    run(&mut energy);
    assert!(energy.decodes > 0);
}
