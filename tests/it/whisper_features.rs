//! Whisper log-mel features against transformers' WhisperFeatureExtractor
//! (recorded by scripts/fixtures/make_whisper.py): the Slaney filter bank
//! and the features of a fixed waveform, 80 and 128 mel bins, within 1e-4;
//! the tiny models' encoder and logits on `support::placement()`'s device.

use std::path::Path;

use spaceport::tasks::transcribe::mel::{FeatureConfig, LogMel, mel_filters};

fn f32s(name: &str) -> Vec<f32> {
    let b = std::fs::read(Path::new("tests/fixtures/whisper").join(name)).unwrap();
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn filter_banks_match() {
    for n in [80, 128] {
        let want = f32s(&format!("mel_filters_{n}_f32le.bin"));
        let got = mel_filters(n, 400, 16000);
        let scale = want.iter().fold(0f32, |a, x| a.max(x.abs()));
        let d = max_diff(&got, &want);
        let at = got
            .iter()
            .zip(&want)
            .position(|(a, b)| (a - b).abs() == d)
            .unwrap();
        assert!(
            d <= 1e-6 * scale,
            "{n} mels: {d} at {at}: {} vs {}",
            got[at],
            want[at]
        );
    }
}

#[test]
fn features_match_the_reference() {
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/whisper/features.json").unwrap(),
    )
    .unwrap();
    let wave = f32s("waveform_f32le.bin");
    let stored = meta["frames_stored"].as_u64().unwrap() as usize;
    for n in [80usize, 128] {
        let cfg = FeatureConfig::from_json(&serde_json::json!({ "feature_size": n }));
        let mel = LogMel::new(cfg.clone());
        let got = mel.chunk(&wave);
        let frames = cfg.chunk_frames();
        assert_eq!(
            frames,
            meta[format!("total_frames_{n}")].as_u64().unwrap() as usize
        );
        assert_eq!(got.len(), n * frames);
        let want = f32s(&format!("features_{n}_f32le.bin"));
        let mut worst = 0f32;
        for m in 0..n {
            for t in 0..stored {
                let (g, w) = (got[m * frames + t], want[m * stored + t]);
                worst = worst.max((g - w).abs() / w.abs().max(1.0));
            }
        }
        assert!(worst <= 1e-4, "{n} mels: worst relative difference {worst}");
        let pad = meta[format!("padding_value_{n}")].as_f64().unwrap() as f32;
        assert!((got[n * frames - 1] - pad).abs() <= 1e-4, "padding frames");
    }
}

fn rows(v: &serde_json::Value) -> Vec<Vec<f32>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

fn assert_close(got: &[Vec<f32>], want: &[Vec<f32>], what: &str) {
    let scale = want
        .iter()
        .flatten()
        .fold(0f32, |a, x| a.max(x.abs()))
        .max(1.0);
    let worst = got
        .iter()
        .flatten()
        .zip(want.iter().flatten())
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert_eq!(got.len(), want.len(), "{what}");
    let tolerance = crate::support::tolerance(&crate::support::placement());
    assert!(
        worst <= tolerance * scale,
        "{what}: max diff {worst} (scale {scale})"
    );
}

#[test]
fn tiny_models_match_transformers() {
    use candle_core::{DType, Tensor};
    use spaceport::tasks::transcribe::model::Whisper;
    let wave = f32s("waveform_f32le.bin");
    let place = crate::support::placement();
    let dev = &place.device;
    for n in [80usize, 128] {
        let dir = Path::new("tests/fixtures/whisper").join(format!("tiny-{n}"));
        let m = Whisper::load_placed(&dir, &place).expect("model loads");
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap())
                .unwrap();
        let mel = LogMel::new(FeatureConfig::from_json(
            &serde_json::json!({ "feature_size": n }),
        ));
        let feats = Tensor::from_vec(mel.chunk(&wave), (1, n, 3000), dev).unwrap();
        let enc = m.encode(&feats).unwrap();
        let enc_rows: Vec<Vec<f32>> = enc
            .squeeze(0)
            .and_then(|e| e.to_dtype(DType::F32))
            .and_then(|e| e.to_vec2())
            .unwrap();
        assert_close(&enc_rows[..4], &rows(&r["encoder_first_frames"]), "encoder");
        assert_close(
            &enc_rows[1499..],
            &[rows(&serde_json::json!([r["encoder_last_frame"]]))[0].clone()],
            "encoder end",
        );
        let ids: Vec<u32> = r["decoder_input_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        let mut state = m.start(&enc, 1).unwrap();
        let t = Tensor::from_slice(&ids, (1, ids.len()), dev).unwrap();
        let logits: Vec<Vec<f32>> = m
            .decode(&t, &mut state)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec2()
            .unwrap();
        assert_close(&logits, &rows(&r["logits"]), "logits");
        // Step by step with the cache gives the same last row.
        let mut state = m.start(&enc, 1).unwrap();
        let mut last = Vec::new();
        for &id in &ids {
            let t = Tensor::from_slice(&[id], (1, 1), dev).unwrap();
            last = m
                .decode(&t, &mut state)
                .unwrap()
                .squeeze(0)
                .unwrap()
                .to_vec2()
                .unwrap();
        }
        assert_close(
            &last,
            &rows(&r["logits"])[ids.len() - 1..],
            "cached decoding",
        );
    }
}
