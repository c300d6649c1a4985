//! `spaceport score` against the reference packages: on generated corpora
//! (mixed case and punctuation, digits, unicode, HTML entities, empty and
//! one-word and long lines, one and two references with gaps) WER and CER
//! equal jiwer's and BLEU, chrF and chrF++ equal sacreBLEU's
//! full-precision scores, with sacreBLEU's signatures; the paired
//! bootstrap's verdict and p-value agree with sacreBLEU's within its
//! sampling noise (1000 resamples each), and so does the interval;
//! BLEU-4 and CIDEr-D equal pycocoevalcap's on tokenised captions with one
//! to five references.

use crate::support;

use serde_json::Value;

fn score(dir: &std::path::Path, args: &[&str]) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .current_dir(dir)
        .arg("score")
        .args(args)
        .arg("--json")
        .output()
        .expect("run spaceport");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn scores_equal_jiwer_and_sacrebleu_on_generated_corpora() {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/fixtures/metric_reference.py"
    );
    let out = std::process::Command::new(support::python())
        .arg(script)
        .arg(dir.path())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "metric_reference.py failed — run the README's test command, which installs sacrebleu and jiwer.\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: Value = serde_json::from_slice(&out.stdout).unwrap();
    for corpus in ["single", "double", "small"] {
        let mut refs = vec!["--references".to_string(), format!("{corpus}.ref0")];
        if dir.path().join(format!("{corpus}.ref1")).exists() {
            refs.extend(["--references".to_string(), format!("{corpus}.ref1")]);
        }
        for metric in ["wer", "cer", "bleu", "chrf", "chrf++"] {
            let hyp = format!("{corpus}.hyp");
            let mut args = vec!["--metric", metric, "--predictions", &hyp, "--samples", "0"];
            args.extend(refs.iter().map(String::as_str));
            let ours = score(dir.path(), &args);
            let theirs = reference[corpus][metric].as_f64().unwrap();
            let got = ours["score"].as_f64().unwrap();
            assert!(
                (got - theirs).abs() <= 1e-9,
                "{corpus} {metric}: {got} against {theirs}"
            );
            if ["bleu", "chrf", "chrf++"].contains(&metric) {
                let nrefs = if refs.len() > 2 { "var" } else { "1" };
                let sig = ours["signature"].as_str().unwrap();
                assert!(
                    sig.starts_with(&format!("nrefs:{nrefs}|case:mixed|"))
                        && sig.ends_with("version:2.6.0"),
                    "{sig}"
                );
            }
        }
    }
    // Both sides normalised by Whisper's basic or English normaliser first.
    for (metric, normalizer) in [
        ("wer", "basic"),
        ("cer", "basic"),
        ("wer", "whisper-en"),
        ("cer", "whisper-en"),
    ] {
        let ours = score(
            dir.path(),
            &[
                "--metric",
                metric,
                "--predictions",
                "single.hyp",
                "--references",
                "single.ref0",
                "--normalize",
                normalizer,
                "--samples",
                "0",
            ],
        )["score"]
            .as_f64()
            .unwrap();
        let theirs = reference[format!("single_{normalizer}")][metric]
            .as_f64()
            .unwrap();
        assert!(
            (ours - theirs).abs() <= 1e-9,
            "{normalizer}-normalised {metric}: {ours} against {theirs}"
        );
    }
    // Captions with one to five references: pycocoevalcap's BLEU-4 and
    // CIDEr-D.
    for metric in ["bleu4", "cider"] {
        let mut args = vec![
            "--metric",
            metric,
            "--predictions",
            "captions.hyp",
            "--samples",
            "0",
        ];
        let refs: Vec<String> = (0..5).map(|k| format!("captions.ref{k}")).collect();
        for r in &refs {
            args.extend(["--references", r.as_str()]);
        }
        let ours = score(dir.path(), &args)["score"].as_f64().unwrap();
        let theirs = reference["captions"][metric].as_f64().unwrap();
        assert!(
            (ours - theirs).abs() <= 1e-9,
            "captions {metric}: {ours} against {theirs}"
        );
    }
    // Paired bootstrap: a clear winner, then two close systems.
    for (baseline, key) in [("paired.bad", "paired"), ("paired.close", "paired_close")] {
        let ours = score(
            dir.path(),
            &[
                "--metric",
                "bleu",
                "--predictions",
                "paired.good",
                "--references",
                "paired.ref0",
                "--paired-with",
                baseline,
            ],
        );
        let theirs = &reference[key];
        for k in ["baseline", "system"] {
            assert!(
                (ours["paired"][k].as_f64().unwrap() - theirs[k].as_f64().unwrap()).abs() <= 1e-9
            );
        }
        let (p, q) = (
            ours["paired"]["p_value"].as_f64().unwrap(),
            theirs["p_value"].as_f64().unwrap(),
        );
        assert!(
            (p - q).abs() <= 0.03,
            "{key}: p = {p} against sacreBLEU's {q}"
        );
        assert_eq!(p < 0.05, q < 0.05, "{key}: the verdict at 0.05");
        if key == "paired" {
            // Its interval, as sacreBLEU's "μ ± half-width".
            let (mean, half) = (
                ours["ci_mean"].as_f64().unwrap(),
                ours["ci_half_width"].as_f64().unwrap(),
            );
            let (tm, th) = (
                reference["interval"]["mean"].as_f64().unwrap(),
                reference["interval"]["half_width"].as_f64().unwrap(),
            );
            assert!(
                (mean - tm).abs() < 1.0 && (half - th).abs() < 0.15 * th,
                "{mean} ± {half} against {tm} ± {th}"
            );
        }
    }
}

#[test]
fn mismatched_or_missing_files_get_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("h.txt"), "a\nb\n").unwrap();
    std::fs::write(dir.path().join("r.txt"), "a\n").unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_spaceport"))
            .current_dir(dir.path())
            .arg("score")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&[
        "--metric",
        "wer",
        "--predictions",
        "h.txt",
        "--references",
        "r.txt",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must match line for line"));
    let out = run(&[
        "--metric",
        "bleu",
        "--predictions",
        "nope.txt",
        "--references",
        "r.txt",
    ]);
    assert_eq!(out.status.code(), Some(3));
}

/// What whisper-normalizer makes of the reference script's lines, and
/// which of them ours makes differently ("input: ours …, theirs …").
fn normaliser_differences(mode: &str, ours: fn(&str) -> String) -> (usize, Vec<String>) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/fixtures/normalizer_reference.py"
    );
    let out = std::process::Command::new(support::python())
        .args([script, mode])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "normalizer_reference.py failed — the README's test command installs whisper-normalizer.\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pairs: Vec<(String, String)> = serde_json::from_slice(&out.stdout).unwrap();
    let wrong = pairs
        .iter()
        .filter(|(input, expected)| ours(input) != *expected)
        .map(|(input, expected)| format!("{input:?}: ours {:?}, theirs {expected:?}", ours(input)))
        .collect();
    (pairs.len(), wrong)
}

/// The basic normaliser equals whisper-normalizer's `BasicTextNormalizer`
/// line for line on 609 varied lines (scripts, full-width forms,
/// fractions, currencies, emoji, brackets, punctuation, white space).
#[test]
fn the_basic_normaliser_equals_whisper_normalizer() {
    let (n, wrong) = normaliser_differences("basic", spaceport::metrics::normalize::basic);
    assert!(n >= 500);
    assert!(
        wrong.is_empty(),
        "{} of {n} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The English normaliser equals whisper-normalizer's
/// `EnglishTextNormalizer` line for line on 720 English-like lines
/// (numbers spelt out and written, currencies, percentages, contractions,
/// titles, fillers, British spellings from the package's table).
#[test]
fn the_english_normaliser_equals_whisper_normalizer() {
    let (n, wrong) = normaliser_differences("english", spaceport::metrics::english::english);
    assert!(n >= 500);
    assert!(
        wrong.is_empty(),
        "{} of {n} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
