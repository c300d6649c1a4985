//! Model parity with transformers' `MarianMTModel` on tiny random
//! checkpoints made by `scripts/fixtures/make_marian.py`: teacher-forced
//! logits within 1e-4 (relative to the logits' scale), and the generated
//! token ids of greedy and beam search exactly.

use std::path::Path;

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
    let m = Marian::load(&dir, &Device::Cpu).expect("model loads");
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
            worst <= 1e-4 * scale.max(1.0),
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
