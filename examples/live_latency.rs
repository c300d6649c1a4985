//! Live dictation latency: sentences (one WAV each) are fed in real time,
//! at a microphone's 48 kHz in 50 ms chunks as the app's recorder reads
//! them, to the same live loop the app's `spaceport-live` thread runs; for
//! each sentence, the time from its last voiced sample to its final text.
//! The word error rate is printed too when a `SENTENCE.txt` holds the text.
//!   live_latency MODEL_DIR SENTENCE.wav...   (bench/live_latency.sh)

use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use candle_core::Device;
use spaceport::audio::decode::decode_file;
use spaceport::tasks::captions::{Translated, TranslationStage};
use spaceport::tasks::transcribe::Transcriber;
use spaceport::tasks::transcribe::decode::TranscribeOptions;
use spaceport::tasks::transcribe::live::{LiveConfig, LiveDictation, LiveEvent, run_live};
use spaceport::tasks::translate::{TranslateOptions, Translator};
use spaceport::work::CancelToken;

const RATE: u32 = 48000;
const GAP_SECS: f64 = 1.2;

fn main() {
    spaceport::tasks::tune_runtime();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model, wavs) = args
        .split_first()
        .expect("live_latency MODEL_DIR SENTENCE.wav...");
    // LIVE_COMPUTE: the compute type (auto, float32, float16, int8).
    let place = spaceport::tasks::nn::Placement {
        compute: std::env::var("LIVE_COMPUTE")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or_default(),
        ..spaceport::tasks::nn::Placement::new(&Device::Cpu)
    };
    let t = Transcriber::load_placed(std::path::Path::new(model), &place).expect("model loads");
    // The stream: half a second of quiet, then each sentence and a pause.
    let mut audio: Vec<f32> = vec![0.0; RATE as usize / 2];
    let mut ends = Vec::new();
    for w in wavs {
        let a = decode_file(std::path::Path::new(w), RATE)
            .expect("audio")
            .samples;
        let last = a.iter().rposition(|x| x.abs() > 0.01).unwrap_or(a.len());
        ends.push((audio.len() + last) as f64 / RATE as f64);
        audio.extend(&a);
        audio.extend(std::iter::repeat_n(0.0, (GAP_SECS * RATE as f64) as usize));
    }
    // The same audio as a file, for the word error rate to compare with.
    let file_text = {
        let audio16 = spaceport::audio::resample::resample(&audio, RATE, 16000);
        t.transcribe(
            &audio16,
            &TranscribeOptions::default(),
            &CancelToken::new(),
            &mut |_, _| {},
        )
        .expect("file decoding")
        .text
    };
    // LIVE_TRANSLATE: a Marian model folder; each final line is translated
    // as the app's caption chain does, and that stage timed too.
    let stage = std::env::var_os("LIVE_TRANSLATE").map(|dir| {
        let model = Translator::load(std::path::Path::new(&dir), &Device::Cpu)
            .expect("the translation model loads");
        let (ttx, trx) = channel::<f64>();
        let stage =
            TranslationStage::start(vec![(model, TranslateOptions::default())], move |done| {
                if let Translated::Final { latency, .. } = done {
                    let _ = ttx.send(latency);
                }
            })
            .expect("the translation stage starts");
        (stage, trx)
    });
    let (tx, rx) = channel::<Vec<f32>>();
    let (etx, erx) = channel::<(Instant, LiveEvent)>();
    let (stage, translations) = match stage {
        Some((s, r)) => (Some(s), Some(r)),
        None => (None, None),
    };
    let decoder = std::thread::spawn(move || {
        let mut lines = 0;
        let mut cfg = LiveConfig::default();
        // Each setting for both detectors (the learned one's own fields).
        if let Ok(p) = std::env::var("LIVE_PAD") {
            cfg.window_pad = p.parse().ok();
            cfg.vad_window_pad = p.parse().unwrap_or(cfg.vad_window_pad);
        }
        if let Ok(p) = std::env::var("LIVE_CONTEXT") {
            cfg.context = p.parse().unwrap_or(cfg.context);
            cfg.vad_context = p.parse().unwrap_or(cfg.vad_context);
        }
        if let Ok(p) = std::env::var("LIVE_EARLY") {
            cfg.early = p.parse().unwrap_or(cfg.early);
        }
        if let Ok(p) = std::env::var("LIVE_PAUSE") {
            cfg.pause = p.parse().unwrap_or(cfg.pause);
        }
        if let Ok(p) = std::env::var("LIVE_VAD_PAUSE") {
            cfg.vad_pause = p.parse().unwrap_or(cfg.vad_pause);
        }
        if let Ok(p) = std::env::var("LIVE_VAD_SENTENCE") {
            cfg.vad_sentence_pause = p.parse().unwrap_or(cfg.vad_sentence_pause);
        }
        if let Ok(p) = std::env::var("LIVE_VAD_EARLY") {
            cfg.vad_early = p.parse().unwrap_or(cfg.vad_early);
        }
        let mut live = LiveDictation::new(RATE, TranscribeOptions::default(), cfg);
        if let Ok(p) = std::env::var("SPACEPORT_SILERO_VAD") {
            let vad = spaceport::tasks::transcribe::silero::SileroVad::load(p.as_ref())
                .expect("the Silero model loads");
            live = live.with_voice(vad);
        }
        run_live(
            &rx,
            &mut Some,
            &mut live,
            &t,
            &CancelToken::new(),
            &mut |ev| {
                if let (Some(stage), LiveEvent::Final { segments, .. }) = (&stage, &ev) {
                    for seg in segments {
                        stage.final_text(lines, &seg.text);
                        lines += 1;
                    }
                }
                let _ = etx.send((Instant::now(), ev));
            },
        )
        .expect("decoding");
        if let Some(stage) = stage {
            stage.finish();
        }
        live.decodes
    });
    let t0 = Instant::now();
    let chunk = RATE as usize / 20;
    for (i, c) in audio.chunks(chunk).enumerate() {
        let due = t0 + Duration::from_secs_f64(((i + 1) * chunk) as f64 / RATE as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        tx.send(c.to_vec()).unwrap();
    }
    drop(tx);
    let decodes = decoder.join().unwrap();
    let events: Vec<(Instant, LiveEvent)> = erx.iter().collect();
    let at = |i: &Instant| i.duration_since(t0).as_secs_f64();
    let partials: Vec<f64> = events
        .iter()
        .filter(|(_, e)| matches!(e, LiveEvent::Partial { .. }))
        .map(|(i, _)| at(i))
        .collect();
    let finals: Vec<(f64, String)> = events
        .iter()
        .filter_map(|(i, e)| match e {
            LiveEvent::Final { segments, .. } => Some((
                at(i),
                segments
                    .iter()
                    .map(|s| s.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            )),
            _ => None,
        })
        .collect();
    let said: Vec<String> = wavs
        .iter()
        .filter_map(|w| std::fs::read_to_string(std::path::Path::new(w).with_extension("txt")).ok())
        .collect();
    if std::env::var_os("LIVE_TRACE").is_some() {
        for (i, e) in &events {
            let kind = match e {
                LiveEvent::Partial { .. } => "partial",
                LiveEvent::Final { .. } => "final",
                LiveEvent::Translated { .. } => "translated",
            };
            eprintln!("{:7.2} {kind}", at(i));
        }
        for e in &ends {
            eprintln!("{e:7.2} END");
        }
    }
    let mut latencies = Vec::new();
    for (n, end) in ends.iter().enumerate() {
        // The first final after the sentence ended is its own.
        match finals.iter().find(|(f, _)| f > end) {
            Some((f, text)) => {
                println!(
                    "sentence {}: final {:.2} s after it ended: {text:?}",
                    n + 1,
                    f - end
                );
                latencies.push(f - end);
            }
            None => println!("sentence {}: no final text", n + 1),
        }
    }
    let mut gaps: Vec<f64> = partials
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|g| *g < 2.5)
        .collect();
    gaps.sort_by(f64::total_cmp);
    latencies.sort_by(f64::total_cmp);
    let median = |v: &[f64]| {
        if v.is_empty() {
            f64::NAN
        } else {
            v[v.len() / 2]
        }
    };
    println!(
        "partials: {} (median {:.2} s apart while speaking); finals: {}; decodes: {decodes} for {:.1} s of audio",
        partials.len(),
        median(&gaps),
        finals.len(),
        audio.len() as f64 / RATE as f64
    );
    if said.len() == wavs.len() {
        let heard: Vec<&str> = finals.iter().map(|(_, t)| t.as_str()).collect();
        let wer = spaceport::tasks::transcribe::wer::word_error_rate;
        println!(
            "word error rate: live {:.3}, the same audio as a file {:.3}",
            wer(&said.join(" "), &heard.join(" ")),
            wer(&said.join(" "), &file_text)
        );
    }
    println!(
        "latency, end of sentence to final text: median {:.2} s, worst {:.2} s (aim: median ≤ 0.4 s, worst ≤ 0.8 s)",
        median(&latencies),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    if let Some(trx) = translations {
        let mut t: Vec<f64> = trx.iter().collect();
        t.sort_by(f64::total_cmp);
        println!(
            "latency, final text to its translation: median {:.3} s, worst {:.3} s over {} lines (aim ≤ 0.3 s)",
            median(&t),
            t.last().copied().unwrap_or(f64::NAN),
            t.len()
        );
    }
}
