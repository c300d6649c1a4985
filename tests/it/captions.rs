//! Live captions through a real audio server: speech played to the
//! default output (PulseAudio's null sink) is recorded from "this
//! computer's sound" — not the microphone — transcribed as it is spoken
//! and translated line by line; the translations are exactly what
//! `spaceport translate` gives for the final transcripts. A file played
//! through the same chain at real-time speed gives bilingual subtitles.
//! German speech goes through the same chain (with the stand-in models).

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

/// Plays `wav` to the speakers while `spaceport transcribe --system-audio
/// --live` captions it into German with the fixture; its lines (original,
/// translation) and its standard error. Each translation is checked to be
/// exactly `spaceport translate` of its line.
fn caption_the_speakers(wav: &std::path::Path) -> (Vec<(String, String)>, String) {
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
        wav,
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<(String, String)> = stdout
        .lines()
        .map(|l| l.split_once('\t').expect("original, a tab, translation"))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert!(!lines.is_empty(), "nothing captioned; {stderr}");
    for (original, translation) in &lines {
        assert!(!original.trim().is_empty());
        assert_eq!(
            *translation,
            translate(original),
            "the translation of {original:?}"
        );
    }
    (lines, stderr)
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
    let (lines, stderr) = caption_the_speakers(&wav);
    assert!(
        stderr.contains("Monitor of"),
        "the speakers' monitor: {stderr}"
    );
    assert!(
        stderr.contains("speech end → transcript median"),
        "{stderr}"
    );
    let heard: String = lines
        .iter()
        .map(|l| l.0.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let rate = support::wer(&sentences.join(" "), &heard);
    assert!(rate <= 0.35, "WER {rate:.3}: {heard:?}");

    // The microphone (the quiet sink) heard nothing of it.
    let out = crate::mic::transcribe_while_playing(&["--mic", "--live", "--seconds", "8"], &wav);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).trim().is_empty(),
        "the microphone is not the computer's sound: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// German speech played to the speakers: the stand-in chain (tiny.en
/// hears it as it can, the tiny Marian fixture translates) still gives,
/// line by line, exactly `spaceport translate` of each final transcript,
/// and the learned detector finds the sentences in it.
#[test]
fn alone_german_speech_from_this_computers_sound_is_translated_line_by_line() {
    let _turn = support::sink_turn();
    let _mic = QuietMicrophone::new();
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("rede.wav");
    let sentences = [
        "Der Zug fährt um acht Uhr vom Hauptbahnhof ab.",
        "Morgen wird es in Berlin regnen und kalt sein.",
    ];
    support::speak_with_pauses_in("de", &sentences, 1500, &wav);
    caption_the_speakers(&wav);
}

/// Whisper's translate task as the route into English: asked of an
/// English-only model, or into another language, it is refused in words
/// before anything is recorded.
#[test]
fn whisper_translate_needs_english_and_a_multilingual_model() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("a.wav");
    support::speak("Hello there.", &wav);
    let run = |to: &str| {
        Command::new(env!("CARGO_BIN_EXE_spaceport"))
            .args([
                "transcribe",
                "--live",
                "--translate-to",
                to,
                "--whisper-translate",
            ])
            .arg("--model")
            .arg(support::whisper_ct2_dir())
            .arg(&wav)
            .output()
            .unwrap()
    };
    let out = run("en");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("multilingual Whisper model"), "{err}");
    let out = run("de");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("into English only"), "{err}");
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
