//! Audio files in every format the Transcribe panel takes, decoded to
//! 16 kHz mono: the tone comes through at the right pitch and length;
//! not-audio, empty and truncated files get a sentence. FLAC, MP3 and
//! OGG/Vorbis copies are made with `sox` and speech with `espeak-ng`, which
//! the test command installs.

use crate::support;

use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::process::Command;

use spaceport::audio::decode::{AudioError, decode_file};

/// A 16-bit PCM WAV with `channels` channels of a `freq` tone; the header
/// can claim more data than there is (a truncated file).
fn write_wav(path: &Path, rate: u32, channels: u16, secs: f64, freq: f64, claim_secs: f64) {
    let frames = (rate as f64 * secs) as u32;
    let claimed = (rate as f64 * claim_secs) as u32 * channels as u32 * 2;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + claimed).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * channels as u32 * 2).to_le_bytes());
    b.extend_from_slice(&(channels * 2).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&claimed.to_le_bytes());
    for i in 0..frames {
        let v = ((2.0 * PI * freq * i as f64 / rate as f64).sin() * 0.5 * 32767.0) as i16;
        for c in 0..channels {
            // The second channel is silent: the mix halves the amplitude.
            let s = if c == 0 { v } else { 0 };
            b.extend_from_slice(&s.to_le_bytes());
        }
    }
    std::fs::write(path, b).unwrap();
}

fn amplitude(x: &[f32], freq: f64, rate: u32) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (i, &s) in x.iter().enumerate() {
        let a = 2.0 * PI * freq * i as f64 / rate as f64;
        re += s as f64 * a.cos();
        im += s as f64 * a.sin();
    }
    2.0 * (re * re + im * im).sqrt() / x.len() as f64
}

fn sox(args: &[&str]) {
    let ok = Command::new("sox")
        .args(args)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "sox failed or is missing (scripts/test.sh installs it): sox {args:?}"
    );
}

#[test]
fn every_format_gives_the_same_tone() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("tone.wav");
    write_wav(&wav, 44100, 2, 2.0, 440.0, 2.0);
    let mut files: Vec<PathBuf> = vec![wav.clone()];
    for ext in ["flac", "mp3", "ogg"] {
        let out = tmp.path().join(format!("tone.{ext}"));
        sox(&[wav.to_str().unwrap(), out.to_str().unwrap()]);
        files.push(out);
    }
    for f in &files {
        let a = decode_file(f, 16000).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(a.sample_rate_hz, 16000);
        assert_eq!(
            (a.source_rate_hz, a.source_channels),
            (44100, 2),
            "{}",
            f.display()
        );
        assert!(
            (a.duration_secs() - 2.0).abs() < 0.1,
            "{}: {} s",
            f.display(),
            a.duration_secs()
        );
        let mid = &a.samples[4000..28000];
        let amp = amplitude(mid, 440.0, 16000);
        assert!(
            (amp - 0.25).abs() < 0.03,
            "{}: 440 Hz at {amp}",
            f.display()
        );
        assert!(amplitude(mid, 1000.0, 16000) < 0.01, "{}", f.display());
        assert!(!a.damaged, "{}", f.display());
    }
}

#[test]
fn speech_decodes() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("speech.wav");
    support::speak("The birch canoe slid on the smooth planks.", &wav);
    let a = decode_file(&wav, 16000).unwrap();
    assert!(
        a.duration_secs() > 1.5 && a.duration_secs() < 6.0,
        "{}",
        a.duration_secs()
    );
    let energy: f32 = a.samples.iter().map(|s| s * s).sum::<f32>() / a.samples.len() as f32;
    assert!(energy > 1e-4, "speech has energy: {energy}");
}

#[test]
fn bad_files_are_said_in_words() {
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("notes.wav");
    std::fs::write(&text, "these are not samples, just words").unwrap();
    let e = decode_file(&text, 16000).unwrap_err();
    assert!(matches!(e, AudioError::NotAudio { .. }), "{e}");
    assert!(e.to_string().contains("not an audio file"));

    let empty = tmp.path().join("empty.mp3");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        decode_file(&empty, 16000),
        Err(AudioError::Empty { .. })
    ));

    let missing = tmp.path().join("missing.flac");
    let err = decode_file(&missing, 16000).unwrap_err();
    assert!(err.is_missing());
    assert!(err.to_string().contains("was not found"));

    // A WAV whose header promises 3 s but holds 1 s: what is there is kept.
    let cut = tmp.path().join("cut.wav");
    write_wav(&cut, 22050, 1, 1.0, 300.0, 3.0);
    let a = decode_file(&cut, 16000).unwrap();
    assert!(a.damaged);
    assert!(
        (a.duration_secs() - 1.0).abs() < 0.05,
        "{}",
        a.duration_secs()
    );
}

/// An Ogg page (RFC 3533) holding `payload`, its CRC computed.
fn ogg_page(payload: &[u8], seq: u32, header_type: u8, granule: i64) -> Vec<u8> {
    let mut segments = vec![255u8; payload.len() / 255];
    segments.push((payload.len() % 255) as u8);
    let mut page = b"OggS".to_vec();
    page.extend([0, header_type]);
    page.extend(granule.to_le_bytes());
    page.extend(0x1234u32.to_le_bytes());
    page.extend(seq.to_le_bytes());
    page.extend([0; 4]);
    page.push(segments.len() as u8);
    page.extend(&segments);
    page.extend(payload);
    let mut crc = 0u32;
    for &b in &page {
        crc ^= (b as u32) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    page
}

#[test]
fn opus_audio_is_named_as_such() {
    // A minimal Ogg Opus stream: the OpusHead and OpusTags headers and one
    // packet (RFC 7845).
    let mut head = b"OpusHead".to_vec();
    head.extend([1, 1]);
    head.extend(312u16.to_le_bytes());
    head.extend(48000u32.to_le_bytes());
    head.extend([0, 0, 0]);
    let mut tags = b"OpusTags".to_vec();
    tags.extend(4u32.to_le_bytes());
    tags.extend(b"test");
    tags.extend(0u32.to_le_bytes());
    let mut packet = vec![0x08];
    packet.extend([0; 20]);
    let bytes = [
        ogg_page(&head, 0, 2, 0),
        ogg_page(&tags, 1, 0, 0),
        ogg_page(&packet, 2, 4, 960),
    ]
    .concat();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("voice.opus");
    std::fs::write(&file, &bytes).unwrap();
    let err = decode_file(&file, 16000).unwrap_err();
    assert!(matches!(err, AudioError::Opus { .. }), "{err:?}");
    assert!(
        err.to_string().contains("voice.opus is Opus audio"),
        "{err}"
    );
    let err = spaceport::audio::decode::decode_bytes(bytes, "row 3.opus", 16000).unwrap_err();
    assert!(
        err.to_string().contains("row 3.opus is Opus audio"),
        "{err}"
    );
}
