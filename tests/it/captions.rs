//! Live captions through a real audio server: speech played to the
//! default output (PulseAudio's null sink) is recorded from "this
//! computer's sound" — not the microphone — transcribed as it is spoken
//! and translated line by line; the translations are exactly what
//! `spaceport translate` gives for the final transcripts. A file played
//! through the same chain at real-time speed gives bilingual subtitles.

use crate::support;

use std::process::Command;

const MARIAN: &str = "tests/fixtures/marian/tiny-en-de";

/// The microphone made a second, silent null sink's monitor for as long
/// as this lives (the default source is put back when it is dropped), so
/// what the microphone hears and what the computer plays differ.
struct QuietMicrophone {
    module: String,
    before: String,
}

impl QuietMicrophone {
    fn new() -> Self {
        let pactl = |args: &[&str]| {
            let out = Command::new("pactl").args(args).output().expect("pactl");
            assert!(out.status.success(), "pactl {args:?}");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        let before = pactl(&["get-default-source"]);
        let module = pactl(&[
            "load-module",
            "module-null-sink",
            "sink_name=spaceport_quiet_mic",
        ]);
        pactl(&["set-default-source", "spaceport_quiet_mic.monitor"]);
        Self { module, before }
    }
}

impl Drop for QuietMicrophone {
    fn drop(&mut self) {
        let _ = Command::new("pactl")
            .args(["set-default-source", &self.before])
            .status();
        let _ = Command::new("pactl")
            .args(["unload-module", &self.module])
            .status();
    }
}

/// What `spaceport translate` gives for `text` with the fixture.
fn translate(text: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args(["translate", "--model", MARIAN, text])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

#[test]
fn alone_this_computers_sound_is_captioned_and_translated_live() {
    let _turn = support::sink_turn();
    let _mic = QuietMicrophone::new();
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("talk.wav");
    let sentences = [
        "The juice of lemons makes fine punch.",
        "Four hours of steady work faced us.",
    ];
    support::speak_with_pauses(&sentences, 1500, &wav);
    let out = crate::mic::transcribe_while_playing(
        &[
            "--system-audio",
            "--live",
            "--seconds",
            "11",
            "--translate-to",
            "de",
            "--translate-model",
            MARIAN,
        ],
        &wav,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Monitor of"),
        "the speakers' monitor: {stderr}"
    );
    assert!(
        stderr.contains("speech end → transcript median"),
        "{stderr}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<(&str, &str)> = stdout
        .lines()
        .map(|l| l.split_once('\t').expect("original, a tab, translation"))
        .collect();
    assert!(!lines.is_empty(), "nothing captioned; {stderr}");
    let heard: String = lines.iter().map(|l| l.0).collect::<Vec<_>>().join(" ");
    let rate = support::wer(&sentences.join(" "), &heard);
    assert!(rate <= 0.35, "WER {rate:.3}: {heard:?}");
    for (original, translation) in &lines {
        assert_eq!(
            *translation,
            translate(original),
            "the translation of {original:?}"
        );
    }

    // The microphone (the quiet sink) heard nothing of it.
    let out = crate::mic::transcribe_while_playing(&["--mic", "--live", "--seconds", "8"], &wav);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).trim().is_empty(),
        "the microphone is not the computer's sound: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_file_through_the_live_chain_gives_bilingual_subtitles() {
    let flac = "tests/fixtures/whisper/words/sentences.flac";
    let run = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_spaceport"))
            .args(["transcribe", "--live", "--translate-to", "de"])
            .args(["--translate-model", MARIAN, "--format", format, "--model"])
            .arg(support::whisper_ct2_dir())
            .arg(flac)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (json, stderr) = run("json");
    assert!(stderr.contains("real-time speed"), "{stderr}");
    let cues: serde_json::Value = serde_json::from_str(&json).unwrap();
    let cues = cues.as_array().unwrap();
    assert!(cues.len() >= 2, "{json}");
    for c in cues {
        let original = c["original"].as_str().unwrap();
        assert_eq!(c["translation"].as_str().unwrap(), translate(original));
        assert!(c["start"].as_f64().unwrap() < c["end"].as_f64().unwrap());
        // Speech end to transcript, and transcript to translation, timed.
        assert!(c["transcript_latency"].as_f64().unwrap() >= 0.0);
        assert!(c["translation_latency"].as_f64().unwrap() >= 0.0);
    }
    // The sentences are where they were spoken (known: 1.2 s apart).
    let starts: Vec<f64> = cues.iter().map(|c| c["start"].as_f64().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
    // Bilingual SRT: each cue the original then its translation (a
    // second live run: its lines may differ from the first's, as live
    // decoding follows the clock).
    let (srt, _) = run("srt");
    let blocks: Vec<&str> = srt.trim().split("\n\n").collect();
    assert!(blocks.len() >= 2, "{srt}");
    for b in &blocks {
        let lines: Vec<&str> = b.lines().collect();
        assert_eq!(lines.len(), 4, "{b}");
        assert!(lines[1].contains(" --> "), "{b}");
        assert_eq!(lines[3], translate(lines[2]), "{b}");
    }
}
