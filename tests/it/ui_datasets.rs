//! The Datasets page driven through its widgets (egui_kittest) against
//! the stand-in Hub's dataset repos: search, see which demo each result
//! fits, open one, read its details (licence, card) and see its rows with
//! picture thumbnails, one enlarged on a click; download the split into
//! the cache; page through a three-shard split with Next and Previous;
//! open a local folder by typing its path. A local audiofolder's sound
//! played reaches the speakers (the PulseAudio null sink's monitor,
//! recorded); a prepared export is written and opened.

use crate::support;

use egui_kittest::kittest::Queryable;
use spaceport::settings::Settings;
use support::standin_hub::{FileSpec, RepoSpec, StandinHub};
use support::ui::{app_harness, wait_for, window_text};

fn export(id: &str, dir: &str, files: &[&str], tags: &[&str]) -> RepoSpec {
    let root = support::dataset_fixtures();
    let export = files
        .iter()
        .map(|f| FileSpec::new(f, std::fs::read(root.join(dir).join(f)).unwrap(), true))
        .collect();
    let mut r = RepoSpec::dataset(
        id,
        vec![FileSpec::new("README.md", "# data\n", false)],
        export,
    );
    r.tags = tags.iter().map(|t| t.to_string()).collect();
    r
}

#[test]
fn search_open_rows_with_pictures_and_page_through() {
    // The pictures fixture's file stands as its export.
    let root = support::dataset_fixtures();
    let mut pictures = RepoSpec::dataset(
        "org/pictures",
        vec![FileSpec::new(
            "README.md",
            "---\nlicense: cc-by-4.0\n---\n# Pictures of patterns\n\nStripes, made by a script.\n",
            false,
        )],
        vec![FileSpec::new(
            "default/train/0000.parquet",
            std::fs::read(root.join("pictures/data/train-00000-of-00001.parquet")).unwrap(),
            true,
        )],
    );
    pictures.tags = vec![
        "task_categories:image-to-text".into(),
        "modality:image".into(),
    ];
    pictures.downloads = 50;
    let multishard = export(
        "org/multishard",
        "multishard",
        &[
            "default/train/0000.parquet",
            "default/train/0001.parquet",
            "default/train/0002.parquet",
        ],
        &["modality:text"],
    );
    let hub = StandinHub::start(vec![pictures, multishard]);
    let cache = tempfile::tempdir().unwrap();
    let mut h = app_harness(support::config(&hub, cache.path()), Settings::default());
    h.step();
    h.get_by_label("Datasets").click();
    h.step();
    h.get_by_label("Search").click();
    wait_for(&mut h, "dataset results", |h| {
        h.query_by_label("org/pictures").is_some() && h.query_by_label("org/multishard").is_some()
    });
    assert!(
        h.query_by_label("Caption (by its tags)").is_some(),
        "{:#?}",
        window_text(&h)
    );

    h.get_by_label("org/pictures").click();
    wait_for(&mut h, "rows with pictures", |h| {
        h.query_by_label("rows 1–7 of 7").is_some()
            && h.query_all_by_label_contains("picture in row").count() == 7
    });
    assert!(h.query_by_label("Fits: Caption (image + text)").is_some());
    assert!(
        h.query_by_label_contains("captions: List(string)")
            .is_some()
    );
    // ClassLabel cells by name, float32 cells as float32.
    assert_eq!(
        h.query_all_by_label("green (1)").count(),
        2,
        "{:#?}",
        window_text(&h)
    );
    assert!(
        h.query_by_label("0.33333334").is_some(),
        "{:#?}",
        window_text(&h)
    );
    // Details: the licence from the card's front matter, the card itself.
    h.get_by_label("Details").click();
    wait_for(&mut h, "the details", |h| {
        h.query_by_label("Licence: cc-by-4.0").is_some()
            && h.query_by_label_contains("Stripes, made by a script.")
                .is_some()
    });
    // A thumbnail opens the picture larger in its own window.
    h.get_by_label("picture in row 2").click();
    wait_for(&mut h, "the larger picture", |h| {
        h.query_all_by_label("image in row 2").count() >= 2 && h.query_by_label("Close").is_some()
    });
    h.get_by_label("Close").click();
    wait_for(&mut h, "the window closed", |h| {
        h.query_by_label("Close").is_none()
    });
    // Download split: its parquet file lands in the cache, as Python's
    // datasets keeps it.
    h.get_by_label("Download split").click();
    wait_for(&mut h, "the split downloaded", |h| {
        h.query_by_label("Downloaded: it opens offline.").is_some()
    });
    let snapshots = cache.path().join("datasets--org--pictures/snapshots");
    let commit = std::fs::read_dir(&snapshots)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(
        std::fs::read(commit.path().join("default/train/0000.parquet")).unwrap(),
        std::fs::read(root.join("pictures/data/train-00000-of-00001.parquet")).unwrap()
    );

    h.get_by_label("Back to results").click();
    wait_for(&mut h, "the results again", |h| {
        h.query_by_label("org/multishard").is_some()
    });
    h.get_by_label("org/multishard").click();
    wait_for(&mut h, "the first page", |h| {
        h.query_by_label("rows 1–100 of 750").is_some()
    });
    h.get_by_label("Next").click();
    wait_for(&mut h, "the second page", |h| {
        h.query_by_label("rows 101–200 of 750").is_some()
    });
    assert!(h.query_by_label_contains("row 150 says").is_some());
    assert!(h.query_by_label_contains("row 50 says").is_none());
    h.get_by_label("Previous").click();
    wait_for(&mut h, "back to the first page", |h| {
        h.query_by_label("rows 1–100 of 750").is_some()
    });

    // A local folder, typed in.
    h.get_by_label("Back to results").click();
    wait_for(&mut h, "the results again", |h| {
        h.query_by_label("Open").is_some()
    });
    let speech = root.join("speech").display().to_string();
    h.get_by_label("Open").focus();
    h.step();
    h.get_by_label("Open").type_text(&speech);
    h.step();
    h.get_by_label("Open dataset").click();
    wait_for(&mut h, "the local dataset's rows", |h| {
        h.query_by_label("rows 1–6 of 6").is_some()
    });
    assert!(
        h.query_by_label("Fits: Transcribe (audio + text)")
            .is_some()
    );
    assert!(
        h.query_by_label("The birch canoe slid on the smooth planks.")
            .is_some()
    );
}

#[test]
fn a_rows_picture_and_translation_pair_go_to_their_demos() {
    use spaceport::tasks::caption::{CaptionRequest, Captioner, image};
    let root = support::dataset_fixtures();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    support::install_fixture(
        &cache,
        "Salesforce/blip-image-captioning-base",
        &repo.join("tests/fixtures/blip/tiny"),
    );
    support::install_fixture(
        &cache,
        "Helsinki-NLP/opus-mt-de-en",
        &repo.join("tests/fixtures/marian/tiny-en-de"),
    );
    // What the captioner says of row 0's picture, read through the
    // library (the window must show the same).
    let pictures = root.join("pictures");
    let local = spaceport::datasets::local::LocalDataset::open(&pictures).unwrap();
    let rows = local
        .split("default", "train")
        .unwrap()
        .rows(0, 1, &spaceport::work::CancelToken::new())
        .unwrap();
    let Some(spaceport::datasets::Value::Media(m)) = rows[0].get("image") else {
        panic!("row 0 has a picture");
    };
    let captioner = Captioner::load(
        &repo.join("tests/fixtures/blip/tiny"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let expected = captioner
        .caption(
            &image::decode(m.bytes.as_ref().unwrap(), "pic0.bmp").unwrap(),
            &CaptionRequest {
                prompt: None,
                beams: None,
                max_new_tokens: None,
            },
            &spaceport::work::CancelToken::new(),
        )
        .unwrap()
        .text;

    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Datasets").click();
    h.step();
    let open = |h: &mut egui_kittest::Harness<'_, spaceport::app::App>, path: &std::path::Path| {
        h.get_by_label("Open").focus();
        h.step();
        h.get_by_label("Open")
            .type_text(&path.display().to_string());
        h.step();
        h.get_by_label("Open dataset").click();
    };
    open(&mut h, &pictures);
    wait_for(&mut h, "the rows", |h| {
        h.query_by_label("rows 1–7 of 7").is_some()
    });
    h.query_all_by_label("Try in Caption")
        .next()
        .unwrap()
        .click();
    let want = expected.clone();
    wait_for(&mut h, "the row's caption beside its reference", move |h| {
        h.query_by_label("Reference (from the dataset): a pattern number 0")
            .is_some()
            && h.query_by_label(&want).is_some()
    });

    // A translation pair: German in, the English side as the reference.
    h.get_by_label("Datasets").click();
    wait_for(&mut h, "the dataset", |h| {
        h.query_by_label("Back to results").is_some()
    });
    h.get_by_label("Back to results").click();
    wait_for(&mut h, "the search", |h| h.query_by_label("Open").is_some());
    // Select what was typed before, so the new path replaces it.
    h.get_by_label("Open").focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.key_press(egui::Key::Backspace);
    h.step();
    open(&mut h, &root.join("translation"));
    wait_for(&mut h, "the pairs", |h| {
        h.query_by_label("rows 1–3 of 3").is_some()
    });
    h.query_all_by_label("Try in Translate")
        .next()
        .unwrap()
        .click();
    wait_for(&mut h, "the Translate page with the pair", |h| {
        h.query_by_label("Reference (from the dataset): Good morning.")
            .is_some()
            && window_text(h).iter().any(|t| t == "Guten Morgen.")
    });
}

#[test]
fn the_library_lists_cached_datasets_and_opens_them() {
    let root = support::dataset_fixtures();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    // A dataset as huggingface_hub stores a downloaded export.
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let repo = cache.join("datasets--org--pairs");
    let snap = repo.join("snapshots").join(commit).join("default/test");
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::copy(
        root.join("translation/default/test/0000.parquet"),
        repo.join("blobs/b1"),
    )
    .unwrap();
    std::os::unix::fs::symlink("../../../../blobs/b1", snap.join("0000.parquet")).unwrap();
    std::fs::create_dir_all(repo.join("refs/refs/convert")).unwrap();
    std::fs::write(repo.join("refs/refs/convert/parquet"), commit).unwrap();

    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Library").click();
    wait_for(&mut h, "the cached dataset", |h| {
        h.query_by_label("org/pairs").is_some()
    });
    assert!(
        h.query_by_label("refs/convert/parquet").is_some(),
        "{:#?}",
        window_text(&h)
    );
    h.get_by_label("Open in Datasets").click();
    wait_for(&mut h, "its rows", |h| {
        h.query_by_label("rows 1–1 of 1").is_some()
    });
    assert!(h.query_by_label_contains("Ich lese ein Buch.").is_some());
}

/// A local audiofolder typed in: each sound with its length and Play;
/// Play reaches the speakers (the null sink's monitor, recorded with
/// parec, is silent before and loud while it plays) and the button says
/// Stop until the sound ends. Then the split is prepared (a filter) and
/// exported through the save dialog, and the export opened.
#[test]
fn alone_play_a_rows_sound_and_export_a_prepared_split() {
    let _turn = support::sink_turn();
    let sink = support::test_sink();
    let root = support::dataset_fixtures();
    let cache = tempfile::tempdir().unwrap();
    let mut h = support::ui::local_app(&cache.path().join("hub"));
    h.get_by_label("Datasets").click();
    h.step();
    let folder = root.join("audiofolder").display().to_string();
    h.get_by_label("Open").focus();
    h.step();
    h.get_by_label("Open").type_text(&folder);
    h.step();
    h.get_by_label("Open dataset").click();
    wait_for(&mut h, "the audiofolder's rows", |h| {
        h.query_by_label("rows 1–4 of 4").is_some() && h.query_all_by_label("Play").count() == 4
    });
    assert!(
        h.query_by_label("Fits: Transcribe (audio + text)")
            .is_some()
    );
    // Lengths from the sounds' headers: espeak's sentences last 2–4 s.
    let lengths = h.query_all_by_label_contains("0:0").count();
    assert_eq!(lengths, 4, "{:#?}", window_text(&h));

    let out = tempfile::tempdir().unwrap();
    let recording = out.path().join("monitor.raw");
    let mut parec = std::process::Command::new("parec")
        .args([
            &format!("--device={sink}.monitor"),
            "--latency-msec=50",
            "--format=s16le",
            "--rate=16000",
            "--channels=1",
            "--raw",
        ])
        .stdout(std::fs::File::create(&recording).unwrap())
        .stderr(std::fs::File::create(out.path().join("parec.log")).unwrap())
        .spawn()
        .expect("parec (pulseaudio-utils, installed by the test command)");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let before = std::fs::metadata(&recording).unwrap().len() as usize;
    h.get_all_by_label("Play").next().unwrap().click();
    wait_for(&mut h, "playing", |h| h.query_by_label("Stop").is_some());
    wait_for(&mut h, "the sound's end", |h| {
        h.query_by_label("Stop").is_none()
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SIGINT, so parec writes out what it holds.
    let _ = std::process::Command::new("kill")
        .args(["-INT", &parec.id().to_string()])
        .status();
    let _ = parec.wait();
    let raw = std::fs::read(&recording).unwrap();
    let samples: Vec<f32> = raw
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect();
    let rms = |s: &[f32]| (s.iter().map(|x| x * x).sum::<f32>() / s.len().max(1) as f32).sqrt();
    let (quiet, played) = samples.split_at((before / 2).min(samples.len()));
    assert!(
        played.len() > 16_000,
        "recorded {} samples; parec said: {}",
        played.len(),
        std::fs::read_to_string(out.path().join("parec.log")).unwrap_or_default()
    );
    assert!(
        rms(played) > 0.01 && rms(played) > 10.0 * rms(quiet).max(1e-4),
        "the monitor heard {} while playing and {} before",
        rms(played),
        rms(quiet)
    );
    assert!(
        window_text(&h).iter().all(|t| !t.contains("could not")),
        "{:#?}",
        window_text(&h)
    );

    // Prepare: keep one sentence; export through the save dialog.
    h.get_by_label("Prepare and export…").click();
    h.step();
    h.get_by_label("Keep rows where").focus();
    h.step();
    h.get_by_label("Keep rows where")
        .type_text("transcription contains canoe");
    h.step();
    let to = out.path().join("canoe.parquet");
    let asked = support::ui::answer_dialogs(&mut h, vec![to.clone()]);
    h.get_by_label("Export…").click();
    wait_for(&mut h, "the export", |h| {
        h.query_by_label_contains("(1 rows)").is_some()
    });
    assert!(asked.lock().unwrap()[0].file_name.as_deref() == Some("audiofolder-prepared.parquet"));
    assert!(to.exists());
    h.get_by_label("Open it").click();
    wait_for(&mut h, "the export's rows", |h| {
        h.query_by_label("rows 1–1 of 1").is_some()
            && h.query_by_label("The birch canoe slid on the smooth planks.")
                .is_some()
    });
}

/// A dataset whose picture cells are only `hf://datasets/…` paths (and
/// which has no parquet export: its parquet on main is read): the
/// pictures are fetched from the Hub and shown as thumbnails.
#[test]
fn pictures_given_as_hf_paths_are_fetched_and_shown() {
    let root = support::dataset_fixtures().join("hfpaths");
    let mut files = vec![FileSpec::new("README.md", "# hf paths\n", false)];
    for f in [
        "data/train-00000-of-00001.parquet",
        "images/pic0.png",
        "images/pic1.png",
        "images/pic2.png",
    ] {
        files.push(FileSpec::new(f, std::fs::read(root.join(f)).unwrap(), true));
    }
    let hub = StandinHub::start(vec![RepoSpec::dataset("org/hfpaths", files, Vec::new())]);
    let cache = tempfile::tempdir().unwrap();
    let mut h = app_harness(support::config(&hub, cache.path()), Settings::default());
    h.step();
    h.get_by_label("Datasets").click();
    h.step();
    h.get_by_label("Open").focus();
    h.step();
    h.get_by_label("Open").type_text("org/hfpaths");
    h.step();
    h.get_by_label("Open dataset").click();
    wait_for(&mut h, "the pictures fetched", |h| {
        h.query_by_label("rows 1–3 of 3").is_some()
            && h.query_all_by_label_contains("picture in row").count() == 3
    });
    assert!(h.query_by_label("pattern 1").is_some());
}
