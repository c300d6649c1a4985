//! The Evaluate page driven through its widgets. Whisper tiny.en (in the
//! cache) over a local audiofolder's test split: the columns read and
//! shown, the model ticked and run, rows, scores and the plots' captions
//! appear, and the run exported as JSON has the CLI's `evaluate` scores
//! and predictions for the same rows. Two Marian models (the tiny fixture
//! and a copy with its output bias disturbed) over a translation split:
//! both run at once, then compared — scores, a paired-bootstrap verdict
//! and the rows where they disagree.

use crate::support;

use egui_kittest::kittest::{NodeT, Queryable};
use support::ui::{answer_dialogs, wait_for, wait_for_file, window_text};

const TINY_EN: &str = "Systran/faster-whisper-tiny.en";
const MARIAN: &str = "Helsinki-NLP/opus-mt-tiny-en-de";
const NOISY: &str = "me/opus-mt-tiny-en-de-noisy";

/// What `spaceport ARGS` prints (offline), after checking it succeeded.
fn spaceport(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Types into a labelled text field.
fn type_into(h: &mut egui_kittest::Harness<'_, spaceport::app::App>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.step();
    h.get_by_label(label).type_text(text);
    h.step();
}

#[test]
fn run_a_model_see_rows_plots_and_export_the_clis_scores() {
    let root = support::dataset_fixtures();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    support::install_fixture(&cache, TINY_EN, &support::whisper_ct2_dir());
    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Evaluate").click();
    wait_for(&mut h, "the page with the model", |h| {
        h.query_by_label_contains(TINY_EN).is_some()
    });
    let folder = root.join("audiofolder").display().to_string();
    h.get_by_label("Dataset").focus();
    h.step();
    h.get_by_label("Dataset").type_text(&folder);
    h.step();
    h.get_by_label("Split").focus();
    h.step();
    h.get_by_label("Split").type_text("test");
    h.step();
    h.get_by_label("Read columns").click();
    wait_for(&mut h, "the columns", |h| {
        h.query_by_label("Input column").is_some()
    });
    let text = window_text(&h);
    assert!(text.iter().any(|t| t == "default/test:"), "{text:#?}");
    assert!(
        text.iter().any(|t| t == "audio") && text.iter().any(|t| t == "transcription"),
        "{text:#?}"
    );
    assert!(text.iter().any(|t| t == "(Transcribe)"), "{text:#?}");

    h.get_by_label(&format!("{TINY_EN} (Transcribe)")).click();
    h.step();
    h.get_by_label("Run").click();
    wait_for(&mut h, "the run", |h| {
        h.query_by_label("Export JSON…").is_some()
    });
    let text = window_text(&h);
    assert!(text.iter().any(|t| t.starts_with("WER ")), "{text:#?}");
    assert!(text.iter().any(|t| t == "Row scores (WER)"), "{text:#?}");
    assert!(
        text.iter()
            .any(|t| t == "Seconds a row against audio seconds"),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t == "Rice is often served in round bowls."),
        "the reference in the rows table: {text:#?}"
    );
    assert!(
        text.iter().any(|t| t.starts_with("History (1)")),
        "{text:#?}"
    );

    let out = tmp.path().join("run.json");
    answer_dialogs(&mut h, vec![out.clone()]);
    h.get_by_label("Export JSON…").click();
    let exported: serde_json::Value = serde_json::from_str(&wait_for_file(&mut h, &out)).unwrap();
    assert_eq!(exported["model"], TINY_EN);
    assert!(exported["machine"]["threads"].as_u64().unwrap() >= 1);
    assert!(exported["model_revision"].is_string());
    assert_eq!(exported["input_column"], "audio");

    // The same model over the same rows through the CLI: the same scores.
    let model_dir = support::whisper_ct2_dir();
    let cli: serde_json::Value = serde_json::from_str(&spaceport(&[
        "evaluate",
        "--model",
        model_dir.to_str().unwrap(),
        "--dataset",
        &folder,
        "--split",
        "test",
        "--json",
    ]))
    .unwrap();
    assert_eq!(exported["metrics"], cli["metrics"]);
    assert_eq!(exported["rows"], cli["rows"]);
    let preds = |v: &serde_json::Value| -> Vec<String> {
        v["predictions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["prediction"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(preds(&exported), preds(&cli));

    // Kept in the data folder.
    let data_dir = h.state().cx.data_dir.clone();
    let (runs, problems) = spaceport::evaluate::record::RunStore::new(&data_dir).list();
    assert_eq!(runs.len(), 1, "{problems:?}");
    assert_eq!(runs[0].metrics_json(), exported["metrics"]);
}

/// A copy of the tiny Marian model with noise added to its output bias:
/// another model with other outputs.
pub(crate) fn noisy_marian(to: &std::path::Path) {
    let from =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/marian/tiny-en-de");
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(&from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name != "pytorch_model.bin" && name != "model.safetensors" {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
    let mut tensors =
        candle_core::safetensors::load(from.join("model.safetensors"), &candle_core::Device::Cpu)
            .unwrap();
    let bias = tensors.get("final_logits_bias").unwrap();
    let n = bias.elem_count();
    let mut state = 7u64;
    let noise: Vec<f32> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 6.0
        })
        .collect();
    let noise =
        candle_core::Tensor::from_vec(noise, bias.shape(), &candle_core::Device::Cpu).unwrap();
    let noisy = bias.add(&noise).unwrap();
    tensors.insert("final_logits_bias".into(), noisy);
    candle_core::safetensors::save(&tensors, to.join("model.safetensors")).unwrap();
}

#[test]
fn run_two_models_at_once_and_compare_them() {
    let root = support::dataset_fixtures();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let noisy = tmp.path().join("noisy");
    noisy_marian(&noisy);
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    support::install_fixture(
        &cache,
        MARIAN,
        &repo.join("tests/fixtures/marian/tiny-en-de"),
    );
    support::install_fixture(&cache, NOISY, &noisy);
    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Evaluate").click();
    wait_for(&mut h, "the page with the models", |h| {
        h.query_by_label_contains(MARIAN).is_some() && h.query_by_label_contains(NOISY).is_some()
    });
    type_into(
        &mut h,
        "Dataset",
        &root.join("translation").display().to_string(),
    );
    type_into(&mut h, "Split", "test");
    h.get_by_label("Read columns").click();
    wait_for(&mut h, "the columns", |h| {
        h.query_by_label("Input column").is_some()
    });
    h.get_by_label(&format!("{MARIAN} (Translate)")).click();
    h.step();
    h.get_by_label(&format!("{NOISY} (Translate)")).click();
    h.step();
    h.get_by_label("Run").click();
    wait_for(&mut h, "both runs", |h| {
        h.query_by_label("Compare these runs").is_some()
    });
    assert!(window_text(&h).iter().any(|t| t.starts_with("History (2)")));
    h.get_by_label("Compare these runs").click();
    wait_for(&mut h, "the comparison", |h| {
        h.query_by_label_contains("on BLEU").is_some()
    });
    let text = window_text(&h);
    let verdict = text.iter().find(|t| t.contains("on BLEU")).unwrap();
    assert!(
        verdict.contains("opus-mt-tiny-en-de-noisy") && verdict.contains("opus-mt-tiny-en-de "),
        "{verdict}"
    );
    assert!(text.iter().any(|t| t == "Peak memory"), "{text:#?}");
    assert!(
        text.iter()
            .any(|t| t.starts_with("Where they disagree most")),
        "the noisy copy translates differently: {text:#?}"
    );
    // The verdict is the library's on the two kept runs.
    let page = &h.state().evaluate;
    let runs: Vec<_> = page
        .picked
        .iter()
        .map(|id| page.history.iter().find(|r| r.id == *id).unwrap())
        .collect();
    let c = spaceport::evaluate::compare::compare(&runs).unwrap();
    assert!(text.contains(&c.metrics[0].against_first[0].1));
    assert_eq!(c.names, ["opus-mt-tiny-en-de", "opus-mt-tiny-en-de-noisy"]);

    // The Library now says what each model was measured to do here.
    h.get_by_label("Library").click();
    wait_for(&mut h, "the measured speeds", |h| {
        h.query_all_by_label_contains("translates a sentence in")
            .count()
            == 2
    });
}

/// "Measure speed" in the Library runs the model for about ten seconds
/// and says how fast it was; the measurement is kept in the data folder.
#[test]
fn measure_a_models_speed_from_the_library() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    support::install_fixture(
        &cache,
        MARIAN,
        &repo.join("tests/fixtures/marian/tiny-en-de"),
    );
    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Library").click();
    wait_for(&mut h, "the model", |h| {
        h.query_by_label("Measure speed").is_some()
    });
    h.get_by_label("Measure speed").click();
    wait_for(&mut h, "measuring", |h| {
        h.query_by_label("measuring…").is_some()
    });
    wait_for(&mut h, "the measurement", |h| {
        h.query_by_label_contains("translates a sentence in")
            .is_some()
    });
    let kept = spaceport::evaluate::measured::MeasuredStore::new(&h.state().cx.data_dir).load();
    let m = &kept[MARIAN];
    assert!(m.tokens_per_second.unwrap() > 0.0);
    assert!(m.seconds_per_item > 0.0 && m.seconds_per_item < 10.0);
    assert!(m.how.contains("10-second"));
}

/// A demo's "Compare models…": the Translate page's text through two
/// models side by side — each output the one `spaceport translate` gives
/// with that model, with its time.
#[test]
fn compare_models_from_a_demo_panel() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let noisy = tmp.path().join("noisy");
    noisy_marian(&noisy);
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let marian = repo.join("tests/fixtures/marian/tiny-en-de");
    support::install_fixture(&cache, MARIAN, &marian);
    support::install_fixture(&cache, NOISY, &noisy);
    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Translate").click();
    wait_for(&mut h, "the page", |h| {
        h.query_by_label("Text to translate").is_some()
    });
    let sentence = "The cat sleeps on the warm stones.";
    type_into(&mut h, "Text to translate", sentence);
    // The button shows once the cache scan (a worker) has found both
    // models, which can come after the page on a loaded machine.
    wait_for(&mut h, "the compare button", |h| {
        h.query_by_label("Compare models…").is_some()
    });
    h.get_by_label("Compare models…").click();
    wait_for(&mut h, "the comparison window", |h| {
        h.query_by_label(MARIAN).is_some()
    });
    // kittest clicks where a widget was last drawn: each tick is waited
    // for before the next click.
    for name in [MARIAN, NOISY] {
        h.get_by_label(name).click();
        wait_for(&mut h, name, |h| {
            h.get_by_label(name).accesskit_node().toggled() == Some(egui::accesskit::Toggled::True)
        });
    }
    h.get_by_label("Run the comparison").click();
    wait_for(&mut h, "both outputs", |h| {
        let c = &h.state().translate.compare;
        !c.running && c.results.len() == 2 && c.results.iter().all(|r| r.is_some())
    });
    let c = &h.state().translate.compare;
    assert_eq!(c.names, [MARIAN, NOISY]);
    for (dir, result) in [&marian, &noisy].iter().zip(&c.results) {
        let out = result.as_ref().unwrap().as_ref().unwrap();
        assert!(out.seconds > 0.0);
        let cli = spaceport(&["translate", "--model", dir.to_str().unwrap(), sentence]);
        assert_eq!(out.text, cli.trim());
    }
    let text = window_text(&h);
    assert!(text.iter().any(|t| t == "On the text typed:"), "{text:#?}");
    assert_ne!(
        c.results[0].as_ref().unwrap().as_ref().unwrap().text,
        c.results[1].as_ref().unwrap().as_ref().unwrap().text,
        "the noisy copy translates differently"
    );
}
