//! Model parity with transformers' `MarianMTModel` on tiny random
//! checkpoints made by `scripts/fixtures/make_marian.py`: teacher-forced
//! logits within 1e-4 (relative to the logits' scale), and the generated
//! token ids of greedy and beam search exactly — on the device and in the
//! precision `SPACEPORT_TEST_DEVICE`/`SPACEPORT_TEST_DTYPE` name (see
//! `support::placement`).

use std::path::Path;

use crate::support;
use candle_core::Device;
use serde_json::Value;
use spaceport::tasks::translate::model::Marian;

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn reference(model: &str) -> Value {
    let path = Path::new("tests/fixtures/marian")
        .join(model)
        .join("reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn check_logits(model: &str) {
    let dir = Path::new("tests/fixtures/marian").join(model);
    let place = support::placement();
    let m = Marian::load_placed(&dir, &place).expect("model loads");
    let tolerance = support::tolerance(&place);
    let r = reference(model);
    for s in r["sentences"].as_array().unwrap() {
        let got = m
            .forward(&ids(&s["input_ids"]), &ids(&s["decoder_input_ids"]))
            .unwrap();
        let want: Vec<Vec<f32>> = s["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap() as f32)
                    .collect()
            })
            .collect();
        assert_eq!(got.len(), want.len());
        let scale = want.iter().flatten().fold(0f32, |a, x| a.max(x.abs()));
        let worst = got
            .iter()
            .flatten()
            .zip(want.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            worst <= tolerance * scale.max(1.0),
            "{model} {:?}: max diff {worst} (scale {scale})",
            s["text"]
        );
    }
}

#[test]
fn logits_match_transformers() {
    check_logits("tiny-en-de");
    check_logits("tiny-en-mul");
}

fn check_generation(model: &str) {
    use spaceport::tasks::translate::generate::{GenerationConfig, beam_search, greedy};
    use spaceport::work::CancelToken;
    let dir = Path::new("tests/fixtures/marian").join(model);
    let place = support::placement();
    let m = Marian::load_placed(&dir, &place).unwrap();
    let cfg = GenerationConfig::load(&dir, &m);
    assert_eq!(cfg.num_beams, 4, "read from generation_config.json");
    let r = reference(model);
    let cancel = CancelToken::new();
    for s in r["sentences"].as_array().unwrap() {
        let input = ids(&s["input_ids"]);
        let g = greedy(&m, &cfg, &input, &cancel, &mut |_| {}).unwrap();
        let what = format!("{model} {:?}", s["text"]);
        support::assert_ids(&place, &g, &ids(&s["greedy"]), &format!("greedy {what}"));
        let b = beam_search(&m, &cfg, &input, &cancel, &mut |_| {}).unwrap();
        support::assert_ids(&place, &b, &ids(&s["beam"]), &format!("beam {what}"));
        let mut lp = cfg.clone();
        lp.length_penalty = 0.6;
        let b = beam_search(&m, &lp, &input, &cancel, &mut |_| {}).unwrap();
        let want = ids(&s["beam_length_penalty_0_6"]);
        support::assert_ids(&place, &b, &want, &format!("beam lp 0.6 {what}"));
    }
}

#[test]
fn greedy_and_beam_ids_match_transformers() {
    check_generation("tiny-en-de");
    check_generation("tiny-en-mul");
}

#[test]
fn pytorch_zip_weights_load_the_same() {
    let src = Path::new("tests/fixtures/marian/tiny-en-de");
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "model.safetensors" {
            std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
        }
    }
    let m = Marian::load(tmp.path(), &Device::Cpu).expect("pytorch_model.bin loads");
    let r = reference("tiny-en-de");
    let s = &r["sentences"][1];
    let got = m
        .forward(&ids(&s["input_ids"]), &ids(&s["decoder_input_ids"]))
        .unwrap();
    let want = s["logits"][0][5].as_f64().unwrap() as f32;
    assert!((got[0][5] - want).abs() < 1e-4, "{} vs {want}", got[0][5]);
    // Damaged weights are a sentence, not a panic.
    std::fs::write(tmp.path().join("pytorch_model.bin"), b"not a zip").unwrap();
    let err = Marian::load(tmp.path(), &Device::Cpu)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("pytorch_model.bin"), "{err}");
}

#[test]
fn a_padded_batch_gives_the_reference_beams() {
    use spaceport::tasks::translate::generate::{GenerationConfig, generate};
    use spaceport::tasks::translate::tokenizer::MarianTokenizer;
    use spaceport::work::CancelToken;
    for model in ["tiny-en-de", "tiny-en-mul"] {
        let dir = Path::new("tests/fixtures/marian").join(model);
        let place = support::placement();
        let m = Marian::load_placed(&dir, &place).unwrap();
        let tok = MarianTokenizer::load(&dir).unwrap();
        let cfg = GenerationConfig::load(&dir, &m);
        let r = reference(model);
        let inputs: Vec<Vec<u32>> = r["batch"]["texts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| tok.encode(t.as_str().unwrap()))
            .collect();
        assert!(
            inputs.iter().any(|i| i.len() != inputs[0].len()),
            "the batch needs padding"
        );
        let out = generate(&m, &cfg, &inputs, &CancelToken::new(), &mut |_| {}).unwrap();
        for (got, want) in out.iter().zip(r["batch"]["beam"].as_array().unwrap()) {
            // transformers pads shorter outputs; compare up to their end.
            let want = ids(want);
            if support::full_precision(&place) {
                assert_eq!(got[..], want[..got.len()], "{model}");
                assert!(want[got.len()..].iter().all(|&t| t == cfg.pad_token_id));
            } else {
                support::assert_ids(&place, got, &want[..got.len().min(want.len())], model);
            }
        }
        // Greedy in a batch gives what greedy gives alone.
        let mut g = cfg.clone();
        g.num_beams = 1;
        let batch = generate(&m, &g, &inputs, &CancelToken::new(), &mut |_| {}).unwrap();
        for (i, inp) in inputs.iter().enumerate() {
            let alone = generate(
                &m,
                &g,
                std::slice::from_ref(inp),
                &CancelToken::new(),
                &mut |_| {},
            )
            .unwrap();
            assert_eq!(batch[i], alone[0], "{model} greedy row {i}");
        }
    }
}
