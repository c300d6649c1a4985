//! The Help page (F1): the keyboard, where Spaceport keeps the cache, its
//! settings and its runs, the version and build, the licences of the
//! bundled examples and fonts, and "Report a problem" — a text with the
//! version, system, device and last error to copy into a bug report.

use super::{Cx, View};
use crate::app::examples::{PICTURES, RECORDINGS};

/// The Help page.
#[derive(Debug, Default)]
pub struct HelpPage;

/// Every shortcut, in words: (keys, what they do).
pub const KEYS: &[(&str, &str)] = &[
    (
        "Ctrl+1 … Ctrl+9",
        "Show the pages of the sidebar, top to bottom",
    ),
    ("F1", "This page"),
    ("Ctrl+O", "Open files (a picture, a recording, a dataset)"),
    ("Ctrl+V", "Paste a picture to caption, or text to translate"),
    (
        "Ctrl+Enter",
        "Run the page: translate, caption, transcribe, evaluate",
    ),
    (
        "Ctrl+C",
        "Copy the result (when no text field is being edited)",
    ),
    ("Esc", "Stop what runs; close a menu"),
    (
        "Space (hold)",
        "In Transcribe: talk while it is held (push to talk)",
    ),
    (
        "Ctrl+Plus / Ctrl+Minus",
        "Make everything larger or smaller",
    ),
    ("Tab, arrows", "Move between controls and through menus"),
];

/// What this copy of Spaceport is: name, version, build, system.
pub fn version_line() -> String {
    let mut gpus = Vec::new();
    if cfg!(feature = "cuda") {
        gpus.push("CUDA");
    }
    if cfg!(feature = "metal") {
        gpus.push("Metal");
    }
    format!(
        "Spaceport {} ({}, {} {}; GPU support: {})",
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        },
        std::env::consts::OS,
        std::env::consts::ARCH,
        if gpus.is_empty() {
            "none".to_string()
        } else {
            gpus.join(", ")
        }
    )
}

/// The text "Report a problem" copies: what a maintainer needs first.
pub fn problem_report(cx: &Cx) -> String {
    let mut s = String::new();
    s.push_str(&version_line());
    s.push('\n');
    s.push_str(&format!(
        "Compute device: {:?}{}\n",
        cx.settings.device,
        cx.compute
            .as_ref()
            .map(|d| format!(" (the last model ran on the {d})"))
            .unwrap_or_default()
    ));
    s.push_str(&format!("Number format: {}\n", cx.settings.compute));
    s.push_str(&format!(
        "Offline mode: {}\n",
        if cx.offline() { "on" } else { "off" }
    ));
    s.push_str(&format!("Models downloaded: {}\n", cx.cached().len()));
    s.push_str(&format!(
        "Last error: {}\n",
        cx.last_error.as_deref().unwrap_or("none this session")
    ));
    s
}

impl View for HelpPage {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.heading("Help");
                ui.strong("Keyboard");
                egui::Grid::new("help-keys")
                    .striped(true)
                    .spacing([18.0, 4.0])
                    .show(ui, |ui| {
                        for (keys, what) in KEYS {
                            ui.monospace(*keys);
                            ui.label(*what);
                            ui.end_row();
                        }
                    });
                ui.add_space(10.0);
                ui.strong("Where Spaceport keeps things");
                let settings = eframe::storage_dir("spaceport")
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|| "nowhere (no settings folder on this system)".into());
                egui::Grid::new("help-places")
                    .spacing([18.0, 4.0])
                    .show(ui, |ui| {
                        for (what, place) in [
                            (
                                "Models and datasets (the Hugging Face cache)",
                                cx.config.cache_dir.display().to_string(),
                            ),
                            ("Settings and the window", settings),
                            (
                                "Evaluation runs and speed measurements",
                                cx.data_dir.display().to_string(),
                            ),
                            (
                                "Hugging Face token",
                                cx.config.token_path.display().to_string(),
                            ),
                        ] {
                            ui.label(what);
                            ui.add(egui::Label::new(egui::RichText::new(place).monospace()).wrap());
                            ui.end_row();
                        }
                    });
                ui.add_space(10.0);
                ui.strong("Report a problem");
                ui.label("Copy this into a bug report, with what you did and what you expected:");
                let mut report = problem_report(cx);
                ui.add(
                    egui::TextEdit::multiline(&mut report)
                        .desired_rows(5)
                        .desired_width(f32::INFINITY)
                        .font(egui::TextStyle::Monospace),
                );
                if ui.button("Copy the report").clicked() {
                    ui.ctx().copy_text(report);
                    cx.notify("The report is copied; paste it into your bug report.".into());
                }
                ui.add_space(10.0);
                ui.strong("About");
                ui.label(version_line());
                ui.label(
                    "Spaceport is licensed under the Apache License 2.0. Models keep their own \
                     licences, shown on each model's page.",
                );
                ui.add_space(6.0);
                ui.label("The examples built into Spaceport:");
                for p in &PICTURES {
                    ui.label(format!("• {} — {}", p.name, p.what));
                }
                for r in &RECORDINGS {
                    ui.label(format!(
                        "• {} — speech made for Spaceport with espeak-ng (GPL-3.0 program; the \
                         recording is free to use for any purpose)",
                        r.name
                    ));
                }
                ui.label("• The example sentences were written for Spaceport and are free to use.");
                ui.add_space(6.0);
                ui.label("Fonts:");
                ui.label(
                    "• Ubuntu Light (Ubuntu Font Licence 1.0), Hack (MIT), Noto Emoji (SIL Open \
                     Font Licence 1.1) and emoji-icon-font (MIT, OFL), built into egui",
                );
                for (script, file) in crate::app::fonts::loaded() {
                    ui.label(format!(
                        "• {script}: {} (from this system, under its own licence)",
                        file.display()
                    ));
                }
                let unsupported = crate::app::fonts::unsupported();
                if !unsupported.is_empty() {
                    ui.label(format!(
                        "This system has no font for {}: text in them shows as boxes. Installing \
                         the Noto fonts (on Debian and Ubuntu: fonts-noto-core and \
                         fonts-noto-cjk) and restarting Spaceport fixes that.",
                        unsupported.join(", ")
                    ));
                }
            });
    }
}
