//! The device-generic path — candle's operations, which are what runs on
//! CUDA and Metal — run here on the CPU against our CPU kernels: the same
//! token ids from the same models, without entering a CPU kernel (on a GPU
//! each would be a copy to the CPU and back); and f16, as a GPU runs an
//! f16 checkpoint, keeping the real Whisper weights' words.

use std::path::Path;

use candle_core::{DType, Device};
use spaceport::tasks::nn::{Placement, cpu_kernel_runs};
use spaceport::work::CancelToken;

use crate::support;

fn fast() -> Placement {
    Placement::new(&Device::Cpu)
}

fn generic() -> Placement {
    Placement {
        generic: true,
        ..Placement::new(&Device::Cpu)
    }
}

/// Runs `f`, returning its result and how many CPU kernels it entered.
fn counted<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = cpu_kernel_runs();
    let out = f();
    (out, cpu_kernel_runs() - before)
}

#[test]
fn marian_generic_and_cpu_kernels_give_the_same_beams() {
    use spaceport::tasks::translate::generate::{GenerationConfig, generate};
    use spaceport::tasks::translate::model::Marian;
    use spaceport::tasks::translate::tokenizer::MarianTokenizer;
    for model in ["tiny-en-de", "tiny-en-mul"] {
        let dir = Path::new("tests/fixtures/marian").join(model);
        let tok = MarianTokenizer::load(&dir).unwrap();
        let inputs: Vec<Vec<u32>> = ["The cat sleeps.", "A longer sentence, with a comma."]
            .iter()
            .map(|t| tok.encode(t))
            .collect();
        let run = |place: &Placement, beams: usize| {
            let m = Marian::load_placed(&dir, place).unwrap();
            let mut cfg = GenerationConfig::load(&dir, &m);
            cfg.num_beams = beams;
            counted(|| generate(&m, &cfg, &inputs, &CancelToken::new(), &mut |_| {}).unwrap())
        };
        for beams in [1, 4] {
            let (want, cpu_runs) = run(&fast(), beams);
            let (got, generic_runs) = run(&generic(), beams);
            assert_eq!(got, want, "{model}, {beams} beams");
            assert!(cpu_runs > 0, "the fast path uses our kernels");
            assert_eq!(
                generic_runs, 0,
                "{model}: the generic path entered a CPU kernel"
            );
        }
    }
}

#[test]
fn blip_generic_and_cpu_kernels_give_the_same_caption() {
    use spaceport::tasks::caption::{CaptionRequest, Captioner};
    let dir = Path::new("tests/fixtures/blip/tiny");
    let img =
        spaceport::tasks::caption::image::open(Path::new("tests/fixtures/blip/images/phone.jpg"))
            .unwrap();
    let run = |place: &Placement, beams| {
        let c = Captioner::load_placed(dir, place).unwrap();
        let req = CaptionRequest {
            beams: Some(beams),
            ..Default::default()
        };
        counted(|| {
            c.caption(&img, &req, &CancelToken::new())
                .unwrap()
                .token_ids
        })
    };
    let (want, cpu_runs) = run(&fast(), 1);
    let (got, generic_runs) = run(&generic(), 1);
    assert_eq!(got, want);
    assert_eq!(run(&generic(), 3).0, run(&fast(), 3).0, "beam search");
    assert!(cpu_runs > 0);
    assert_eq!(generic_runs, 0, "the generic path entered a CPU kernel");
}

#[test]
fn whisper_generic_f32_and_f16_keep_the_real_models_words() {
    use spaceport::tasks::transcribe::Transcriber;
    use spaceport::tasks::transcribe::decode::{TranscribeOptions, Transcript};
    let audio =
        spaceport::audio::decode::decode_file(Path::new("assets/examples/harvard-en.ogg"), 16000)
            .unwrap();
    let dir = support::whisper_ct2_dir();
    let run = |place: &Placement| {
        let t = Transcriber::load_placed(&dir, place).unwrap();
        counted(|| {
            t.transcribe(
                &audio.samples,
                &TranscribeOptions::default(),
                &CancelToken::new(),
                &mut |_, _| {},
            )
            .unwrap()
        })
    };
    let (want, cpu_runs) = run(&fast());
    let (got, generic_runs) = run(&generic());
    assert!(cpu_runs > 0);
    assert_eq!(generic_runs, 0, "the generic path entered a CPU kernel");
    let tokens = |t: &Transcript| {
        t.segments
            .iter()
            .flat_map(|s| s.tokens.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(tokens(&got), tokens(&want), "same ids in f32");
    assert_eq!(got.text, want.text);
    let (half, _) = run(&Placement {
        dtype: Some(DType::F16),
        ..generic()
    });
    let said = "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue \
        background. It's easy to tell the depth of a well. These days a chicken leg is a rare \
        dish.";
    let (full, reduced) = (
        support::wer(said, &want.text),
        support::wer(said, &half.text),
    );
    assert!(full < 0.45, "WER {full}: {:?}", want.text);
    // This espeak voice is at the edge of what tiny.en hears, where f16's
    // rounding (4.9e-4 of each value) tips close calls either way: f16
    // may not be worse by more than two words of the 35 (on this clip it
    // gets more right than f32).
    assert!(
        reduced <= full + 2.0 / 35.0 + 1e-9,
        "f16 WER {reduced} against f32's {full}: {:?}",
        half.text
    );
}

/// The random-weight models the GPU check makes load as their kind, at
/// the preset's sizes (their weights in f16, as they are made there).
#[test]
fn random_weight_models_load_at_their_sizes() {
    use spaceport::tasks::random_model::write;
    let tmp = tempfile::tempdir().unwrap();
    let whisper = tmp.path().join("whisper");
    write(
        "whisper-tiny",
        &support::whisper_ct2_dir(),
        &whisper,
        DType::F16,
    )
    .unwrap();
    let t = spaceport::tasks::transcribe::Transcriber::load(&whisper, &Device::Cpu).unwrap();
    let c = &t.model.config;
    assert_eq!((c.d_model, c.encoder_layers, c.vocab_size), (384, 4, 51865));
    let marian = tmp.path().join("marian");
    let like = Path::new("tests/fixtures/marian/tiny-en-de");
    write("marian-base", like, &marian, DType::F16).unwrap();
    let m = spaceport::tasks::translate::Translator::load(&marian, &Device::Cpu).unwrap();
    let out = m
        .translate(
            "The cat sleeps.",
            &Default::default(),
            &CancelToken::new(),
            &mut |_| {},
        )
        .unwrap();
    assert!(!out.token_ids().is_empty());
    assert!(write("whisper-huge", like, &tmp.path().join("x"), DType::F16).is_err());
}
