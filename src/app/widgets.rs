//! Small drawing helpers the pages share: a download's progress bar, the
//! "runs here" badge, a model picker, and files dropped on the window with
//! the highlighted drop area. They draw and return what was chosen; they
//! keep no state and send nothing.

use std::path::PathBuf;

use crate::catalog::Verdict;
use crate::format::{format_bytes, format_duration};
use crate::hub::DownloadProgress;

/// A progress bar with bytes, rate and time left.
/// A button that also answers its keyboard shortcut while enabled, the
/// keys shown in its tooltip ("Ctrl+Enter"). Whether it was pressed.
pub fn shortcut_button(
    ui: &mut egui::Ui,
    cx: &mut crate::app::pages::Cx,
    enabled: bool,
    text: &str,
    shortcut: crate::app::pages::Shortcut,
) -> bool {
    let keys = ui.ctx().format_shortcut(&shortcut.keys());
    let clicked = ui
        .add_enabled(enabled, egui::Button::new(text))
        .on_hover_text(&keys)
        .on_disabled_hover_text(&keys)
        .clicked();
    clicked || (enabled && cx.take_shortcut(shortcut))
}

pub fn progress_ui(ui: &mut egui::Ui, p: &DownloadProgress) {
    if p.total == 0 {
        // Before the Hub has said which files and how large.
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Asking the Hub for the files…");
        });
        return;
    }
    let frac = p.bytes as f32 / p.total as f32;
    // The first few hundred kilobytes say little about the speed: no time
    // left until a second or so of data has come.
    let eta = match p.eta_secs {
        Some(s) if p.bytes >= 512 * 1024 || frac >= 0.05 => {
            format!("{} left", format_duration(s))
        }
        _ if p.bytes >= p.total => "finishing".into(),
        _ => "estimating time left".into(),
    };
    ui.add(
        egui::ProgressBar::new(frac)
            .desired_width(320.0)
            .text(format!(
                "{} of {} · {}/s · {eta}",
                format_bytes(p.bytes),
                format_bytes(p.total),
                format_bytes(p.rate_bps as u64),
            )),
    );
    if !p.file.is_empty() {
        ui.small(format!(
            "File {}/{}: {} ({} of {})",
            (p.files_done + 1).min(p.files_total.max(1)),
            p.files_total,
            p.file,
            format_bytes(p.file_bytes),
            format_bytes(p.file_total)
        ));
    }
}

/// Whether a model runs here, in a word, with the reason on hover.
pub fn verdict_badge_ui(ui: &mut egui::Ui, v: &Verdict) {
    let (text, color) = match v {
        Verdict::Runs { .. } => (v.short(), egui::Color32::from_rgb(40, 150, 70)),
        Verdict::NotHere { .. } => (v.short(), ui.visuals().weak_text_color()),
    };
    ui.colored_label(color, text).on_hover_text(v.explain());
}

/// A "Model" picker over `models` (not empty): keeps `choice` on one of
/// them (the first by default) and returns its folder.
pub fn model_picker(
    ui: &mut egui::Ui,
    id: &str,
    models: &[(String, PathBuf)],
    choice: &mut Option<String>,
) -> PathBuf {
    let mut chosen = choice
        .clone()
        .filter(|m| models.iter().any(|(r, _)| r == m))
        .unwrap_or_else(|| models[0].0.clone());
    ui.horizontal(|ui| {
        let label = ui.label("Model");
        egui::ComboBox::from_id_salt(id)
            .selected_text(&chosen)
            .show_ui(ui, |ui| {
                for (r, _) in models {
                    pick(ui, &mut chosen, r.clone(), r);
                }
            })
            .response
            .labelled_by(label.id);
    });
    let dir = models
        .iter()
        .find(|(r, _)| *r == chosen)
        .map(|(_, d)| d.clone())
        .unwrap_or_else(|| models[0].1.clone());
    *choice = Some(chosen);
    dir
}

/// An item of a drop-down menu: `selectable_value` that takes the
/// keyboard when the menu opens on it ([`menu_item`]).
pub fn pick<T: PartialEq>(
    ui: &mut egui::Ui,
    current: &mut T,
    value: T,
    text: impl Into<egui::WidgetText>,
) -> egui::Response {
    let selected = *current == value;
    let item = ui.selectable_value(current, value, text);
    menu_item(ui, &item, selected);
    item
}

/// In an open drop-down menu, for each item: when the menu has just
/// opened, its chosen item takes the keyboard, so the arrow keys move
/// through the items and Enter or Space picks one (egui moves the focus
/// with the arrows only from a focused widget, and a menu opens with none).
fn menu_item(ui: &egui::Ui, item: &egui::Response, selected: bool) {
    let key = ui.scope_id().with("menu-opened");
    let pass = ui.ctx().cumulative_pass_nr();
    // (the pass this menu was last drawn in, whether it opened then)
    let (seen, opened) = ui
        .data(|d| d.get_temp::<(u64, bool)>(key))
        .unwrap_or((0, true));
    let opened = if seen == pass {
        opened
    } else {
        let now = seen == 0 || seen + 1 < pass;
        ui.data_mut(|d| d.insert_temp(key, (pass, now)));
        now
    };
    if opened && selected {
        item.request_focus();
    }
}

/// Whether files hover over the window, and the files dropped on it this
/// frame.
pub fn dropped_files(ui: &egui::Ui) -> (bool, Vec<PathBuf>) {
    ui.ctx().input(|i| {
        (
            !i.raw.hovered_files.is_empty(),
            i.raw
                .dropped_files
                .iter()
                .filter_map(|f| {
                    let p = f.path();
                    (!p.as_os_str().is_empty()).then(|| p.to_path_buf())
                })
                .collect(),
        )
    })
}

/// A labelled one-line field for a path: the field, and whether Enter
/// was pressed in it (which runs the page's job, as its button does).
pub fn path_field(
    ui: &mut egui::Ui,
    label: &str,
    text: &mut String,
    width: f32,
) -> (egui::Response, bool) {
    let label = ui.label(label);
    let field = ui
        .add(egui::TextEdit::singleline(text).desired_width(width))
        .labelled_by(label.id);
    let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    (field, enter)
}

/// The file paths in pasted text: each line an absolute path or a
/// `file://` URI (as file managers copy them, `%20` and the like decoded).
/// Nothing is looked up on disk here; the job that opens them says which
/// cannot be read.
pub fn pasted_paths(text: &str) -> Vec<PathBuf> {
    text.lines()
        .map(str::trim)
        .filter_map(|l| match l.strip_prefix("file://") {
            Some(uri) => percent_decoded(uri),
            None => Some(l.to_string()),
        })
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .collect()
}

/// `%XX` escapes decoded; `None` when the result is not UTF-8.
fn percent_decoded(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The frame around a drop area, highlighted while files hover.
pub fn drop_frame(ui: &egui::Ui, hovering: bool) -> egui::Frame {
    egui::Frame::group(ui.style()).stroke(if hovering {
        egui::Stroke::new(2.0, ui.visuals().selection.bg_fill)
    } else {
        ui.visuals().widgets.noninteractive.bg_stroke
    })
}

/// The output with the words that differ from the reference marked:
/// changed and added words on red, missing reference words struck
/// through in grey.
pub fn marked_words(
    ui: &egui::Ui,
    reference: &str,
    output: &str,
    norm: crate::metrics::normalize::Normalize,
) -> egui::text::LayoutJob {
    // Words are compared at least as the basic normaliser sees them, so
    // case and punctuation alone are not marked.
    let norm = if norm == crate::metrics::normalize::Normalize::None {
        crate::metrics::normalize::Normalize::Basic
    } else {
        norm
    };
    let style = ui.style();
    let font = egui::TextStyle::Body.resolve(style);
    let text = style.visuals.text_color();
    let plain = egui::TextFormat::simple(font.clone(), text);
    let wrong = egui::TextFormat {
        background: egui::Color32::from_rgba_unmultiplied(220, 60, 60, 70),
        ..plain.clone()
    };
    let missing = egui::TextFormat {
        strikethrough: egui::Stroke::new(1.0, style.visuals.weak_text_color()),
        color: style.visuals.weak_text_color(),
        ..plain.clone()
    };
    let mut job = egui::text::LayoutJob::default();
    // The alignment (and normalising each word) is kept from frame to
    // frame while the row is on screen, not redone 60 times a second.
    let steps = ui.ctx().memory_mut(|m| {
        m.caches
            .cache::<egui::cache::FrameCache<Vec<crate::metrics::diff::Step>, Aligner>>()
            .get((reference, output, norm))
            .clone()
    });
    for (i, step) in steps.iter().enumerate() {
        if i > 0 {
            job.append(" ", 0.0, plain.clone());
        }
        match step {
            crate::metrics::diff::Step::Same(w) => job.append(w, 0.0, plain.clone()),
            crate::metrics::diff::Step::Changed { output, .. } => {
                job.append(output, 0.0, wrong.clone())
            }
            crate::metrics::diff::Step::Added(w) => job.append(w, 0.0, wrong.clone()),
            crate::metrics::diff::Step::Missing(w) => job.append(w, 0.0, missing.clone()),
        }
    }
    job
}

/// Word alignments for [`marked_words`], cached by egui.
#[derive(Default)]
struct Aligner;

impl
    egui::cache::ComputerMut<
        (&str, &str, crate::metrics::normalize::Normalize),
        Vec<crate::metrics::diff::Step>,
    > for Aligner
{
    fn compute(
        &mut self,
        (reference, output, norm): (&str, &str, crate::metrics::normalize::Normalize),
    ) -> Vec<crate::metrics::diff::Step> {
        crate::metrics::diff::words(reference, output, norm)
    }
}

#[cfg(test)]
mod tests {
    use super::pasted_paths;
    use std::path::PathBuf;

    #[test]
    fn pasted_text_gives_absolute_paths_and_decoded_uris() {
        assert_eq!(
            pasted_paths("file:///home/a/My%20Photos/cat.jpg\n/tmp/b.wav\nnot a path\nrel/c.png\n"),
            [
                PathBuf::from("/home/a/My Photos/cat.jpg"),
                PathBuf::from("/tmp/b.wav")
            ]
        );
        assert!(pasted_paths("Where is the station?").is_empty());
        assert!(pasted_paths("file:///bad%ff%fe").is_empty());
    }
}
