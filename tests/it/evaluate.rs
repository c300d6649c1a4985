//! `spaceport evaluate` end to end: the real Whisper tiny.en over an
//! audiofolder of espeak-ng speech gives, row by row, the text
//! `spaceport transcribe` gives for the same file, and the WER and CER it
//! prints equal jiwer's on the printed predictions and references; the
//! tiny Marian model over a translation split prints BLEU and chrF equal
//! to sacreBLEU's, and the tiny BLIP model over a picture split BLEU-4 and
//! CIDEr-D equal to pycocoevalcap's, on their printed predictions (the tiny models' words are random; the scoring is
//! what is checked).

use crate::support;

use serde_json::Value;

fn spaceport(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .expect("run spaceport")
}

fn evaluate(args: &[&str]) -> Value {
    let mut all = vec!["evaluate"];
    all.extend(args);
    all.push("--json");
    let out = spaceport(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What the reference packages say of the run's printed predictions:
/// `{wer, cer, bleu, chrf}`.
fn reference_scores(run: &Value) -> Value {
    let preds: Vec<&str> = run["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["prediction"].as_str().unwrap())
        .collect();
    let refs: Vec<&str> = run["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reference"].as_str().unwrap())
        .collect();
    let script = format!(
        "import json, jiwer\n\
         from sacrebleu.metrics import BLEU, CHRF\n\
         h = json.loads({h:?}); r = json.loads({r:?})\n\
         print(json.dumps({{'wer': jiwer.wer(r, h), 'cer': jiwer.cer(r, h), \
         'bleu': BLEU().corpus_score(h, [r]).score, 'chrf': CHRF().corpus_score(h, [r]).score}}))",
        h = serde_json::to_string(&preds).unwrap(),
        r = serde_json::to_string(&refs).unwrap(),
    );
    support::python_json(&["-c", &script])
}

fn close(a: &Value, b: &Value, what: &str) {
    let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
    assert!((a - b).abs() <= 1e-9, "{what}: {a} against {b}");
}

#[test]
fn whisper_over_an_audiofolder_scores_as_jiwer_on_what_transcribe_says() {
    let root = support::dataset_fixtures();
    let model = support::whisper_ct2_dir();
    let folder = root.join("audiofolder");
    let run = evaluate(&[
        "--model",
        model.to_str().unwrap(),
        "--dataset",
        folder.to_str().unwrap(),
        "--split",
        "train",
    ]);
    assert_eq!(run["rows"], 4);
    assert_eq!(run["task"], "Transcribe");
    assert_eq!(run["input_column"], "audio");
    assert_eq!(run["reference_column"], "transcription");
    assert!(run["speed"]["rtfx"].as_f64().unwrap() > 0.0);
    // Row by row, what `spaceport transcribe` says of the same file.
    let files = ["clip0.wav", "clip1.flac", "clip2.wav", "clip3.flac"];
    for (p, f) in run["predictions"].as_array().unwrap().iter().zip(files) {
        let out = spaceport(&[
            "transcribe",
            "--model",
            model.to_str().unwrap(),
            folder.join("train").join(f).to_str().unwrap(),
        ]);
        assert!(out.status.success());
        assert_eq!(
            p["prediction"].as_str().unwrap(),
            String::from_utf8_lossy(&out.stdout).trim(),
            "{f}"
        );
    }
    let theirs = reference_scores(&run);
    close(&run["metrics"]["wer"], &theirs["wer"], "WER");
    close(&run["metrics"]["cer"], &theirs["cer"], "CER");
    // Real speech, a real model: most characters are right (espeak-ng's
    // voice is hard for tiny.en; the scores are unnormalised).
    assert!(run["metrics"]["cer"].as_f64().unwrap() < 0.5, "{run}");
}

#[test]
fn marian_and_blip_runs_score_as_sacrebleu_on_their_predictions() {
    let root = support::dataset_fixtures();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = evaluate(&[
        "--model",
        repo.join("tests/fixtures/marian/tiny-en-de")
            .to_str()
            .unwrap(),
        "--dataset",
        root.join("translation").to_str().unwrap(),
        "--split",
        "train",
    ]);
    assert_eq!(run["rows"], 3);
    assert_eq!(run["task"], "Translate");
    assert!(run["metrics"]["bleu"].is_number() && run["metrics"]["chrf"].is_number());
    assert_eq!(run["predictions"][0]["reference"], "Good morning.");
    let theirs = reference_scores(&run);
    close(&run["metrics"]["bleu"], &theirs["bleu"], "BLEU");
    close(&run["metrics"]["chrf"], &theirs["chrf"], "chrF");

    let run = evaluate(&[
        "--model",
        repo.join("tests/fixtures/blip/tiny").to_str().unwrap(),
        "--dataset",
        root.join("pictures").to_str().unwrap(),
        "--limit",
        "3",
    ]);
    assert_eq!(run["rows"], 3);
    assert_eq!(run["task"], "Caption");
    assert_eq!(run["predictions"][1]["reference"], "a pattern number 1");
    // Every caption of a picture is a reference: pycocoevalcap's BLEU-4
    // and CIDEr-D on the printed (lower-case, word) predictions.
    assert_eq!(
        run["predictions"][1]["references"],
        serde_json::json!(["a pattern number 1", "stripes 1"])
    );
    let script = format!(
        "import json\n\
         from pycocoevalcap.bleu.bleu import Bleu\n\
         from pycocoevalcap.cider.cider import Cider\n\
         p = json.loads({p:?})\n\
         gts = {{i: x['references'] for i, x in enumerate(p)}}\n\
         res = {{i: [x['prediction']] for i, x in enumerate(p)}}\n\
         print(json.dumps({{'bleu4': Bleu(4).compute_score(gts, res, verbose=0)[0][3], \
         'cider': float(Cider().compute_score(gts, res)[0])}}))",
        p = run["predictions"].to_string()
    );
    let theirs = support::python_json(&["-c", &script]);
    close(&run["metrics"]["bleu4"], &theirs["bleu4"], "BLEU-4");
    close(&run["metrics"]["cider"], &theirs["cider"], "CIDEr-D");
}

/// Two models in one `evaluate`: both runs, and the comparison's paired
/// test of the second against the first is `spaceport score
/// --paired-with` on the printed predictions (same resamples, same seed);
/// the plain output ends with the verdicts.
#[test]
fn two_models_are_compared_as_score_paired_with_does() {
    let root = support::dataset_fixtures();
    let tmp = tempfile::tempdir().unwrap();
    let noisy = tmp.path().join("noisy");
    crate::ui_evaluate::noisy_marian(&noisy);
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let marian = repo.join("tests/fixtures/marian/tiny-en-de");
    let dataset = root.join("translation");
    let args = [
        "--model",
        marian.to_str().unwrap(),
        "--model",
        noisy.to_str().unwrap(),
        "--dataset",
        dataset.to_str().unwrap(),
        "--split",
        "train",
    ];
    let out = evaluate(&args);
    let runs = out["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let c = &out["comparison"];
    assert_eq!(c["names"], serde_json::json!(["tiny-en-de", "noisy"]));
    let lines = |run: &Value, key: &str| -> String {
        run["predictions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| format!("{}\n", p[key].as_str().unwrap()))
            .collect()
    };
    std::fs::write(tmp.path().join("a.txt"), lines(&runs[0], "prediction")).unwrap();
    std::fs::write(tmp.path().join("b.txt"), lines(&runs[1], "prediction")).unwrap();
    std::fs::write(tmp.path().join("r.txt"), lines(&runs[0], "reference")).unwrap();
    for metric in ["bleu", "chrf"] {
        let path = |f: &str| tmp.path().join(f).display().to_string();
        let score = spaceport(&[
            "score",
            "--metric",
            metric,
            "--predictions",
            &path("b.txt"),
            "--references",
            &path("r.txt"),
            "--paired-with",
            &path("a.txt"),
            "--json",
        ]);
        assert!(
            score.status.success(),
            "{}",
            String::from_utf8_lossy(&score.stderr)
        );
        let score: Value = serde_json::from_slice(&score.stdout).unwrap();
        let ours = &c["metrics"][metric]["against_first"][0];
        assert_eq!(ours["p_value"], score["paired"]["p_value"], "{metric}");
        assert_eq!(
            c["metrics"][metric]["scores"][1], score["score"],
            "{metric}"
        );
        assert!(ours["verdict"].as_str().unwrap().contains("noisy"));
    }
    // Without --json: the scores, then the verdicts.
    let mut plain = vec!["evaluate"];
    plain.extend(args);
    let text = String::from_utf8(spaceport(&plain).stdout).unwrap();
    assert!(text.contains("Side by side on the"), "{text}");
    assert!(
        text.trim_end().lines().last().unwrap().contains("on chrF"),
        "{text}"
    );
}
