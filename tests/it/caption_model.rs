//! BLIP against transformers: a tiny random `BlipForConditionalGeneration`
//! made by scripts/fixtures/make_blip.py (transformers 5.24.0, committed in
//! tests/fixtures/blip/tiny with what transformers computed): the vision
//! encoder's output and the decoder's logits within 1e-4 (relative to the
//! largest value), greedy captions with and without a prompt exactly, the
//! same from the weights in PyTorch's zip format (pytorch_model.bin). The
//! fixture's config leaves out the text encoder_hidden_size, and its
//! bos/sep ids are not the real checkpoints', so both must come from the
//! files. The parity tests run on the device and in the precision of
//! `SPACEPORT_TEST_DEVICE`/`SPACEPORT_TEST_DTYPE` (`support::placement`).

use std::path::PathBuf;

use crate::support;
use candle_core::{Device, Tensor};
use serde_json::Value;
use spaceport::tasks::caption::generate::{
    CaptionOptions, beam_search, generation_config, greedy, prefix,
};
use spaceport::tasks::caption::model::Blip;
use spaceport::tasks::nn::DecoderState;
use spaceport::work::CancelToken;

pub(crate) fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blip/tiny")
}

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("reference.json")).unwrap()).unwrap()
}

/// The fixture's image, as make_blip.py computes it (in f64, then f32).
fn pixels() -> Tensor {
    pixels_on(&Device::Cpu)
}

pub(crate) fn pixels_on(device: &Device) -> Tensor {
    let mut v = Vec::with_capacity(3 * 384 * 384);
    for c in 0..3 {
        for y in 0..384 {
            for x in 0..384 {
                let (c, y, x) = (c as f64, y as f64, x as f64);
                let p = 1.7 * (0.031 * x + 0.017 * y + 1.3 * c).sin()
                    + 0.4 * (0.11 * x * (c + 1.0) - 0.07 * y).cos();
                v.push(p as f32);
            }
        }
    }
    Tensor::from_vec(v, (1, 3, 384, 384), device).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    let scale = want.iter().fold(0f32, |a, x| a.max(x.abs())).max(1.0);
    let tolerance = support::tolerance(&support::placement());
    let worst = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(
        worst <= tolerance * scale,
        "{what}: max diff {worst} (scale {scale})"
    );
}

/// The decoder's logits for `tokens` (one row) after what `state` holds.
fn decode(m: &Blip, tokens: &[u32], state: &mut DecoderState) -> Vec<f32> {
    let t = Tensor::from_slice(tokens, (1, tokens.len()), m.device()).unwrap();
    m.decode(&t, state)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// The vision encoder's output and the logits for the reference tokens
/// (all at once) against transformers'; the image embeddings.
fn features_and_logits_match(m: &Blip, r: &Value, what: &str) -> Tensor {
    let image = m.encode_image(&pixels_on(m.device())).unwrap();
    let got: Vec<f32> = image
        .flatten_all()
        .and_then(|t| t.to_dtype(candle_core::DType::F32))
        .and_then(|t| t.to_vec1())
        .unwrap();
    assert_close(
        &got,
        &floats(&r["vision"]),
        &format!("vision encoder{what}"),
    );
    let mut state = m.start(&image, 1).unwrap();
    let logits = decode(m, &ids(&r["tokens"]), &mut state);
    assert_close(
        &logits,
        &floats(&r["logits"]),
        &format!("logits, all at once{what}"),
    );
    image
}

#[test]
fn vision_features_and_logits_match_transformers() {
    let r = reference();
    let m = Blip::load_placed(&dir(), &support::placement()).unwrap();
    assert_eq!(m.config.text_config.encoder_hidden_size, 32);
    assert_eq!(m.config.text_config.bos_token_id, 998);
    let image = features_and_logits_match(&m, &r, "");
    assert_eq!(image.dims(), [1, 145, 32]);
    let tokens = ids(&r["tokens"]);

    // The same logits a token at a time through the cache.
    let mut state = m.start(&image, 1).unwrap();
    let mut stepped = Vec::new();
    for &tok in &tokens {
        stepped.extend(decode(&m, &[tok], &mut state));
    }
    assert_close(&stepped, &floats(&r["logits"]), "logits, cached steps");
}

#[test]
fn greedy_captions_match_transformers_with_and_without_a_prompt() {
    let r = reference();
    let place = support::placement();
    let m = Blip::load_placed(&dir(), &place).unwrap();
    let image = m.encode_image(&pixels_on(m.device())).unwrap();
    for name in ["greedy", "greedy_prompt"] {
        let run = &r["generate"][name];
        let prompt = run["prompt"].as_array().map(|_| ids(&run["prompt"]));
        let start = prefix(&m, prompt.as_deref());
        let got = greedy(
            &m,
            &image,
            &start,
            &CaptionOptions::default(),
            &CancelToken::new(),
        )
        .unwrap();
        support::assert_ids(&place, &got, &ids(&run["ids"]), name);
    }
}

#[test]
fn beam_search_matches_transformers() {
    let r = reference();
    let place = support::placement();
    let m = Blip::load_placed(&dir(), &place).unwrap();
    let image = m.encode_image(&pixels_on(m.device())).unwrap();
    for name in ["beam3", "beam3_prompt", "beam3_max30"] {
        let run = &r["generate"][name];
        let prompt = run["prompt"].as_array().map(|_| ids(&run["prompt"]));
        let start = prefix(&m, prompt.as_deref());
        let o = &run["options"];
        let opts = CaptionOptions {
            max_length: o["max_length"].as_u64().map(|n| n as usize),
            length_penalty: o["length_penalty"].as_f64().map(|x| x as f32),
        };
        let beams = o["num_beams"].as_u64().unwrap() as usize;
        let cfg = generation_config(&m, start.len(), beams, &opts);
        let got = beam_search(&m, &image, &start, &cfg, &CancelToken::new()).unwrap();
        support::assert_ids(&place, &got, &ids(&run["ids"]), name);
    }
}

#[test]
fn a_missing_or_damaged_model_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Blip::load(tmp.path(), &Device::Cpu).err().unwrap();
    assert!(err.to_string().contains("config.json"), "{err}");
    std::fs::copy(dir().join("config.json"), tmp.path().join("config.json")).unwrap();
    std::fs::write(tmp.path().join("model.safetensors"), b"not weights").unwrap();
    let err = Blip::load(tmp.path(), &Device::Cpu).err().unwrap();
    assert!(err.to_string().contains("model.safetensors"), "{err}");
    // Cut short (the weights are mapped, not read: a short file must be
    // refused, not read past).
    let whole = std::fs::read(dir().join("model.safetensors")).unwrap();
    std::fs::write(
        tmp.path().join("model.safetensors"),
        &whole[..whole.len() / 2],
    )
    .unwrap();
    let err = Blip::load(tmp.path(), &Device::Cpu).err().unwrap();
    assert!(err.to_string().contains("model.safetensors"), "{err}");
}

#[test]
fn pytorch_zip_weights_load_the_same() {
    // The fixture without model.safetensors: the loader reads
    // pytorch_model.bin (torch.save of the same state dict, the tied output
    // weight stored under its own name too).
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(dir()).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "model.safetensors" {
            std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
        }
    }
    let r = reference();
    let m = Blip::load(tmp.path(), &Device::Cpu).expect("pytorch_model.bin loads");
    features_and_logits_match(&m, &r, " from .bin");

    // Damaged weights are a sentence naming the file, not a panic.
    std::fs::write(tmp.path().join("pytorch_model.bin"), b"not a zip").unwrap();
    let err = Blip::load(tmp.path(), &Device::Cpu).err().expect("refused");
    assert!(err.to_string().contains("pytorch_model.bin"), "{err}");
}

#[test]
fn the_vision_encoder_stops_between_layers_when_cancelled() {
    let r = reference();
    let m = Blip::load(&dir(), &Device::Cpu).unwrap();
    let go = CancelToken::new();
    let image = m
        .encode_image_cancellable(&pixels(), &go)
        .unwrap()
        .expect("runs to the end when not cancelled");
    let got: Vec<f32> = image.flatten_all().unwrap().to_vec1().unwrap();
    assert_close(&got, &floats(&r["vision"]), "vision encoder");
    let stop = CancelToken::new();
    stop.cancel();
    assert!(
        m.encode_image_cancellable(&pixels(), &stop)
            .unwrap()
            .is_none()
    );
}
