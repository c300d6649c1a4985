//! Word timestamps on the real tiny.en weights: three espeak-ng sentences
//! joined by 1.2 s of silence (`tests/fixtures/whisper/words`, made with
//! the reference by `scripts/fixtures/make_word_timestamps.py`). The words
//! are faster-whisper's (OpenAI Whisper's algorithm) and at its times; the
//! sentences' words lie where the sentences were spoken; the command line
//! writes them in JSON, karaoke SRT and VTT.

use crate::support;

use std::path::Path;
use std::process::Command;

use candle_core::Device;
use spaceport::audio::decode::decode_file;
use spaceport::tasks::device::ComputeType;
use spaceport::tasks::nn::Placement;
use spaceport::tasks::transcribe::Transcriber;
use spaceport::tasks::transcribe::decode::{Segment, TranscribeOptions};
use spaceport::work::CancelToken;

const DIR: &str = "tests/fixtures/whisper/words";

fn reference() -> serde_json::Value {
    let text = std::fs::read_to_string(Path::new(DIR).join("reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn transcribe(opts: &TranscribeOptions) -> Vec<Segment> {
    let place = Placement {
        compute: ComputeType::Float32,
        ..Placement::new(&Device::Cpu)
    };
    let t = Transcriber::load_placed(&support::whisper_ct2_dir(), &place).unwrap();
    let audio = decode_file(&Path::new(DIR).join("sentences.flac"), 16000).unwrap();
    t.transcribe(&audio.samples, opts, &CancelToken::new(), &mut |_, _| {})
        .unwrap()
        .segments
}

fn options() -> TranscribeOptions {
    TranscribeOptions {
        language: Some("en".into()),
        word_timestamps: true,
        ..Default::default()
    }
}

#[test]
fn words_and_times_match_the_reference() {
    let reference = reference();
    let segments = transcribe(&options());
    let ours: Vec<(String, f64, f64)> = segments
        .iter()
        .flat_map(|s| s.words.iter())
        .map(|w| (w.word.clone(), w.start, w.end))
        .collect();
    let theirs: Vec<(String, f64, f64)> = reference["segments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["words"].as_array().unwrap().iter())
        .map(|w| {
            (
                w["word"].as_str().unwrap().to_string(),
                w["start"].as_f64().unwrap(),
                w["end"].as_f64().unwrap(),
            )
        })
        .collect();
    let words = |v: &[(String, f64, f64)]| v.iter().map(|w| w.0.clone()).collect::<Vec<_>>();
    assert_eq!(words(&ours), words(&theirs), "the same words");
    let close = ours
        .iter()
        .zip(&theirs)
        .filter(|(a, b)| (a.1 - b.1).abs() <= 0.1 && (a.2 - b.2).abs() <= 0.1)
        .count();
    assert!(
        close as f64 >= 0.95 * theirs.len() as f64,
        "{close} of {} words within 0.1 s:\nours   {ours:?}\ntheirs {theirs:?}",
        theirs.len()
    );
    // Probabilities are the tokens' under the model (mean a word).
    for s in &segments {
        for w in &s.words {
            assert!(w.probability > 0.0 && w.probability <= 1.0, "{w:?}");
            assert!(w.start <= w.end, "{w:?}");
        }
        // A segment spans its words.
        let (first, last) = (&s.words[0], &s.words[s.words.len() - 1]);
        assert!((s.start - first.start).abs() < 1e-9 || s.start > first.start);
        assert!((s.end - last.end).abs() < 1e-9 || s.end < last.end);
    }
}

#[test]
fn words_are_where_the_sentences_were_spoken() {
    let reference = reference();
    let spans: Vec<(f64, f64)> = reference["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s[0].as_f64().unwrap(), s[1].as_f64().unwrap()))
        .collect();
    let segments = transcribe(&options());
    let words: Vec<_> = segments.iter().flat_map(|s| s.words.iter()).collect();
    assert!(words.len() >= 20, "{words:?}");
    // No word in the silences between sentences (a word may reach 0.25 s
    // past the voice: espeak's quiet edges).
    for w in &words {
        let mid = (w.start + w.end) / 2.0;
        assert!(
            spans
                .iter()
                .any(|&(a, b)| mid >= a - 0.25 && mid <= b + 0.25),
            "{w:?} is in a silence; sentences at {spans:?}"
        );
    }
    // Each sentence's first word starts, and its last word ends, near
    // where its voice does.
    for &(a, b) in &spans {
        let inside: Vec<_> = words
            .iter()
            .filter(|w| w.end > a - 0.3 && w.start < b + 0.3)
            .collect();
        let (first, last) = (inside.first().unwrap(), inside.last().unwrap());
        assert!(
            (first.start - a).abs() <= 0.3,
            "sentence at {a:.2}–{b:.2} s starts with {first:?}"
        );
        assert!(
            (last.end - b).abs() <= 0.3,
            "sentence at {a:.2}–{b:.2} s ends with {last:?}"
        );
    }
    // The same words when the windows are decoded in a batch.
    let batched = transcribe(&TranscribeOptions {
        batch_size: Some(4),
        ..options()
    });
    let count = batched.iter().map(|s| s.words.len()).sum::<usize>();
    assert!(count > 0);
    // Without word timestamps, no words.
    let plain = transcribe(&TranscribeOptions {
        language: Some("en".into()),
        ..Default::default()
    });
    assert!(plain.iter().all(|s| s.words.is_empty()));
}

#[test]
fn the_cli_writes_words_in_json_srt_and_vtt() {
    let flac = Path::new(DIR).join("sentences.flac");
    let run = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_spaceport"))
            .args(["transcribe", "--model"])
            .arg(support::whisper_ct2_dir())
            .args([
                "--compute-type",
                "float32",
                "--word-timestamps",
                "--format",
                format,
            ])
            .arg(&flac)
            .env("HF_HUB_OFFLINE", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let v: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let words = v["segments"][0]["words"].as_array().expect("words");
    assert!(words.len() >= 5, "{v}");
    for w in words {
        assert!(w["word"].is_string(), "{w}");
        assert!(w["start"].as_f64().unwrap() <= w["end"].as_f64().unwrap());
        assert!(w["probability"].as_f64().unwrap() > 0.0);
    }
    // SRT: a cue a word, the word said underlined.
    let srt = run("srt");
    assert!(srt.contains("<u>"), "{srt}");
    let cues = srt.matches(" --> ").count();
    let total: usize = v["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["words"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(cues, total, "{srt}");
    // VTT: karaoke timestamps inside each cue.
    let vtt = run("vtt");
    assert!(vtt.starts_with("WEBVTT"));
    assert!(
        vtt.lines()
            .any(|l| !l.contains(" --> ") && l.contains("<00:00:")),
        "{vtt}"
    );
}
