//! The Caption page driven through its widgets with the tiny BLIP fixture
//! installed in the cache as Salesforce/blip-image-captioning-base: a
//! picture dropped on the window, or pasted, gets the caption transformers
//! gave for it; a dropped folder of five pictures fills five rows, "Write
//! .txt beside each picture" writes five caption files, Export… writes the
//! five captions as JSON or CSV by the name chosen, and Open a folder…
//! captions the folder chosen. The file dialogs are answered by a stand-in
//! (`App::chooser`) with the paths a person would pick.

use crate::support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use serde_json::Value;
use spaceport::app::dialogs::DialogKind;
use support::ui::{Dropped, answer_dialogs, wait_for, wait_for_file, window_text};

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

    let mut h = support::ui::local_app(&cache);
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
    // One notice says how many and where.
    let said = format!("Wrote {} files in {}.", names.len(), folder.display());
    wait_for(&mut h, "one notice for the files", |h| {
        h.query_by_label(&said).is_some()
    });

    // Export… through the file dialog (a stand-in answers it with a path,
    // as a person would choose one): JSON by the name's ending, then CSV.
    let asked = answer_dialogs(&mut h, vec![tmp.path().join("captions.json")]);
    h.get_by_label("Export…").click();
    let json = wait_for_file(&mut h, &tmp.path().join("captions.json"));
    {
        let asked = asked.lock().unwrap();
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].kind, DialogKind::Save);
        assert_eq!(asked[0].file_name.as_deref(), Some("captions.csv"));
    }
    let rows: Vec<Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(rows.len(), 5, "{json}");
    for n in names {
        let row = rows
            .iter()
            .find(|r| r["image"].as_str().unwrap().ends_with(n))
            .unwrap_or_else(|| panic!("{n} in {json}"));
        let caption = std::fs::read_to_string(folder.join(n).with_extension("txt")).unwrap();
        assert_eq!(row["text"].as_str().unwrap(), caption.trim(), "{n}");
    }
    answer_dialogs(&mut h, vec![tmp.path().join("captions.csv")]);
    h.get_by_label("Export…").click();
    let csv = wait_for_file(&mut h, &tmp.path().join("captions.csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "image,caption");
    assert_eq!(lines.len(), 6, "{csv}");
    assert!(lines.iter().any(|l| l.contains("gray.png")), "{csv}");

    // Open a folder… (answered with another folder of two pictures): its
    // rows replace the batch.
    let more = tmp.path().join("more");
    std::fs::create_dir(&more).unwrap();
    for n in ["frames.gif", "plain.tiff"] {
        std::fs::copy(
            root().join("tests/fixtures/blip/images").join(n),
            more.join(n),
        )
        .unwrap();
    }
    let asked = answer_dialogs(&mut h, vec![more.clone()]);
    h.get_by_label("Open a folder…").click();
    wait_for(&mut h, "the chosen folder's captions", |h| {
        h.query_by_label("frames.gif").is_some()
            && h.query_by_label("plain.tiff").is_some()
            && h.query_all_by_label("waiting…").next().is_none()
    });
    assert_eq!(asked.lock().unwrap()[0].kind, DialogKind::OpenFolder);
    assert!(
        h.query_by_label("gray.png").is_none(),
        "{:?}",
        window_text(&h)
    );
}
