//! The Caption page driven through its widgets with the tiny BLIP fixture
//! installed in the cache as Salesforce/blip-image-captioning-base: a
//! picture dropped on the window, or pasted, gets the caption transformers
//! gave for it; a dropped folder of five pictures fills five rows, and "Write .txt
//! beside each picture" writes five caption files.

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use serde_json::Value;
use spaceport::app::App;
use spaceport::settings::Settings;
use support::ui::{Dropped, wait_for, window_text};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn drop_a_picture_then_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    support::install_fixture(
        &cache,
        "Salesforce/blip-image-captioning-base",
        &root().join("tests/fixtures/blip/tiny"),
    );
    let r: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/blip/tiny/reference.json")).unwrap(),
    )
    .unwrap();
    let picture = root().join(r["end_to_end"]["picture"].as_str().unwrap());
    let expected = r["end_to_end"]["runs"]["greedy"]["text"]
        .as_str()
        .unwrap()
        .to_string();

    let cfg = spaceport::hub::HubConfig::local("http://127.0.0.1:9", &cache);
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1280.0, 900.0))
        .build_eframe(move |cc| {
            App::with_settings(&cc.egui_ctx, cfg, Settings::default()).unwrap()
        });
    h.get_by_label("Caption").click();
    wait_for(&mut h, "the page", |h| {
        h.query_by_label("Open pictures…").is_some()
    });
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(picture.clone())));
    let want = expected.clone();
    wait_for(&mut h, "the caption", move |h| {
        h.query_by_label(&want).is_some()
    });
    assert!(h.query_by_label("Copy caption").is_some());

    // The same picture pasted from the clipboard gets the same caption.
    let img = image::open(&picture).unwrap().to_rgba8();
    let size = [img.width() as usize, img.height() as usize];
    let pasted = egui::ColorImage::from_rgba_unmultiplied(size, img.as_raw());
    h.input_mut()
        .events
        .push(egui::Event::PasteImage(Arc::new(pasted)));
    let want = expected.clone();
    wait_for(&mut h, "the pasted picture's caption", move |h| {
        h.query_by_label("Pasted picture").is_some() && h.query_by_label(&want).is_some()
    });

    // A folder of five pictures: five rows, each with its caption.
    let folder = tmp.path().join("holiday");
    std::fs::create_dir(&folder).unwrap();
    let names = [
        "gray.png",
        "rgba.png",
        "one.png",
        "plain.bmp",
        "lossless.webp",
    ];
    for n in names {
        std::fs::copy(
            root().join("tests/fixtures/blip/images").join(n),
            folder.join(n),
        )
        .unwrap();
    }
    std::fs::write(folder.join("notes.txt"), "not a picture").unwrap();
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(folder.clone())));
    wait_for(&mut h, "five captions", |h| {
        names.iter().all(|n| h.query_by_label(n).is_some())
            && h.query_all_by_label("waiting…").next().is_none()
    });
    let shown = window_text(&h);
    assert!(
        !shown.iter().any(|t| t == "notes.txt"),
        "only pictures: {shown:?}"
    );
    h.get_by_label("Write .txt beside each picture").click();
    let start = Instant::now();
    while !names
        .iter()
        .all(|n| folder.join(n).with_extension("txt").exists())
    {
        h.step();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no caption files"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(folder.join("gray.txt")).unwrap();
    assert!(
        shown.iter().any(|t| t == text.trim()),
        "the file holds the caption shown: {text:?}"
    );
}
