//! The layer rules of ARCHITECTURE.md, checked on the source: nothing
//! below `app/` names egui or eframe; `hub/` neither loads nor runs a
//! model and knows nothing of the workers or the window; the lower layers never reach up into the
//! workers or the app; `work.rs` stands on nothing of Spaceport's.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The code of a line: what comes before a `//` comment.
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

/// (file, line number, line) for every code line under `src/` whose path
/// relative to `src/` starts with one of `under` and that contains one
/// of `words`.
fn offending(under: &[&str], words: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if !under.iter().any(|u| rel.starts_with(u)) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let c = code(line);
            if words.iter().any(|w| c.contains(w)) {
                found.push(format!("src/{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    found
}

const BELOW_APP: [&str; 9] = [
    "datasets/",
    "hub/",
    "tasks/",
    "audio/",
    "workers/",
    "work.rs",
    "catalog.rs",
    "format.rs",
    "settings.rs",
];

#[test]
fn nothing_below_the_app_names_egui() {
    let words = ["egui", "eframe"];
    let found = offending(&BELOW_APP, &words);
    assert!(found.is_empty(), "egui below app/:\n{}", found.join("\n"));
    // The CLI opens the window through `app::run` and nothing else.
    let cli = offending(&["cli/", "main.rs", "lib.rs"], &words);
    assert!(cli.is_empty(), "egui in the CLI:\n{}", cli.join("\n"));
}

#[test]
fn the_lower_layers_never_reach_up() {
    let up = offending(
        &[
            "hub/",
            "tasks/",
            "audio/",
            "datasets/",
            "catalog.rs",
            "work.rs",
            "format.rs",
        ],
        &["crate::app", "crate::workers", "crate::cli"],
    );
    assert!(
        up.is_empty(),
        "a lower layer reaches up:\n{}",
        up.join("\n")
    );
    // hub/ may ask the catalog whether a model runs here (search results
    // carry the verdict), but never loads or runs one.
    let hub = offending(&["hub/"], &["crate::tasks", "crate::audio"]);
    assert!(
        hub.is_empty(),
        "hub/ knows about models:\n{}",
        hub.join("\n")
    );
    let work = offending(&["work.rs"], &["crate::"]);
    assert!(
        work.is_empty(),
        "work.rs stands on Spaceport:\n{}",
        work.join("\n")
    );
}
