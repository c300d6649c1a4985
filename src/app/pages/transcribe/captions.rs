//! Live captions on the Transcribe page: the language a dictation is
//! translated into as it is spoken, the caption window (an always-on-top
//! egui viewport showing the last two lines large, in the size, colours
//! and languages chosen), the stage latencies, and the session as cues
//! for the bilingual exports.

use super::TranscribePage;
use crate::app::pages::Cx;
use crate::settings::{CaptionColors, CaptionShow};
use crate::tasks::captions::Cue;

impl TranscribePage {
    /// This dictation's lines with their translations, as cues.
    pub fn cues(&self) -> Vec<Cue> {
        self.segments
            .iter()
            .enumerate()
            .map(|(i, s)| Cue {
                start: s.start,
                end: s.end,
                original: s.text.clone(),
                translation: self.translations.get(i).cloned().flatten(),
                words: s.words.clone(),
                ..Default::default()
            })
            .collect()
    }

    /// Whether the lines shown have translations (the exports are then
    /// bilingual).
    pub fn translated(&self) -> bool {
        self.translations.iter().any(Option::is_some)
    }

    /// "Translate into" (for the next dictation) and the caption window
    /// switch, with the last line's latencies while captions run.
    pub(super) fn captions_row(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        ui.horizontal(|ui| {
            let label = ui.label("Translate into");
            let mut pick = cx.settings.live_translate_to.clone();
            use crate::tasks::translate::route;
            let installed = route::installed(cx.cached());
            let (_, targets) = route::languages(&installed);
            // What the downloaded models reach from the language spoken
            // (any, while it is detected) comes first.
            let from = match &self.languages {
                Some((_, l)) if l.is_empty() => Some("en".to_string()),
                _ => self.language.clone(),
            };
            let reachable = |to: &str| match &from {
                Some(f) => f != to && route::route(&installed, f, to).steps().is_some(),
                None => route::pairs(&installed).iter().any(|p| p.tgt == to),
            };
            let (ready, rest): (Vec<String>, Vec<String>) = targets
                .into_iter()
                .filter(|c| from.as_deref() != Some(c.as_str()))
                .partition(|c| reachable(c));
            let shown = pick.as_deref().map_or_else(
                || "Don't translate".to_string(),
                crate::catalog::language_name,
            );
            ui.add_enabled_ui(!self.dictating, |ui| {
                egui::ComboBox::from_id_salt("live-translate-to")
                    .selected_text(shown)
                    .width(180.0)
                    .show_ui(ui, |ui| {
                        crate::app::widgets::pick(ui, &mut pick, None, "Don't translate");
                        for code in &ready {
                            let name = crate::catalog::language_name(code);
                            crate::app::widgets::pick(ui, &mut pick, Some(code.clone()), name);
                        }
                        if !rest.is_empty() {
                            ui.separator();
                            ui.weak("Needs a model download:");
                        }
                        for code in &rest {
                            let name = crate::catalog::language_name(code);
                            crate::app::widgets::pick(ui, &mut pick, Some(code.clone()), name);
                        }
                    })
                    .response
                    .labelled_by(label.id)
                    .on_hover_text(
                        "Each line is translated as it is said, with the downloaded \
                         translation models (through English when needed)",
                    );
            });
            cx.settings.live_translate_to = pick;
            if cx.settings.live_translate_to.as_deref() == Some("en") {
                ui.checkbox(&mut cx.settings.live_whisper_translate, "By Whisper")
                    .on_hover_text(
                        "Translate speech into English with Whisper's own translate task \
                         (a multilingual Whisper model) instead of a translation model",
                    );
            }
            ui.checkbox(&mut cx.settings.caption_window, "Caption window")
                .on_hover_text("The last two lines, large, in a window that stays on top");
            if let Some((text, translation)) = self.latency {
                let mut said = format!("Last line: text {text:.2} s after the speech");
                if let Some(t) = translation {
                    said.push_str(&format!(", translation {t:.2} s after the text"));
                }
                ui.small(said);
            }
            match self.learned_vad {
                Some(true) => {
                    ui.small("Pauses: voice detection").on_hover_text(
                        "The Silero voice-activity model tells where speech ends, \
                         so lines come sooner and music or noise is not transcribed",
                    );
                }
                Some(false) => {
                    ui.small("Pauses: by loudness");
                    vad_download_ui(ui, cx);
                }
                None => {}
            }
        });
        if let Some(n) = &self.translate_note {
            ui.colored_label(ui.visuals().warn_fg_color, n);
        }
    }

    /// The caption window, while it is switched on: the last two lines
    /// (the one being said last), original and translation as chosen, in
    /// the chosen size and colours; its own settings under "⚙". Closing
    /// it switches it off. Drawn whichever page the main window shows.
    pub fn caption_window(&mut self, ctx: &egui::Context, cx: &mut Cx) {
        if !cx.settings.caption_window {
            return;
        }
        let mut lines: Vec<(String, Option<String>)> = self
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    s.text.trim().to_string(),
                    self.translations.get(i).cloned().flatten(),
                )
            })
            .collect();
        if let Some(p) = &self.partial {
            lines.push((format!("{} …", p.trim()), self.partial_translation.clone()));
        }
        let last_two = lines[lines.len().saturating_sub(2)..].to_vec();
        let settings = &mut cx.settings;
        let mut open = true;
        let monitor = ctx.input(|i| i.viewport().monitor_size);
        let mut builder = egui::ViewportBuilder::default()
            .with_title("Live captions")
            .with_always_on_top()
            .with_resizable(true)
            .with_inner_size([960.0, 260.0]);
        if let Some([x, y, w, h]) = settings
            .caption_window_rect
            .filter(|r| remembered_rect_fits(*r, monitor))
        {
            builder = builder.with_position([x, y]).with_inner_size([w, h]);
        }
        ctx.show_viewport_immediate(
            egui::ViewportId::from_hash_of("spaceport-captions"),
            builder,
            |ui, class| {
                let (fg, tr, bg) = settings.caption_colors.rgb();
                let color = |c: [u8; 3]| egui::Color32::from_rgb(c[0], c[1], c[2]);
                let mut body = |ui: &mut egui::Ui| {
                    ui.vertical(|ui| {
                        if last_two.is_empty() {
                            ui.label(
                                egui::RichText::new("Captions appear here as words are said.")
                                    .size(settings.caption_size * 0.6)
                                    .color(color(fg)),
                            );
                        }
                        for (original, translation) in &last_two {
                            let show = settings.caption_show;
                            if show != CaptionShow::Translation || translation.is_none() {
                                ui.label(
                                    egui::RichText::new(original)
                                        .size(settings.caption_size)
                                        .color(color(fg)),
                                );
                            }
                            if show != CaptionShow::Original
                                && let Some(t) = translation
                            {
                                ui.label(
                                    egui::RichText::new(t)
                                        .size(settings.caption_size)
                                        .color(color(tr)),
                                );
                            }
                        }
                        ui.collapsing("⚙ Caption settings", |ui| {
                            ui.horizontal(|ui| {
                                ui.add(
                                    egui::Slider::new(&mut settings.caption_size, 16.0..=96.0)
                                        .text("Text size"),
                                );
                                egui::ComboBox::from_label("Show")
                                    .selected_text(settings.caption_show.label())
                                    .show_ui(ui, |ui| {
                                        for s in CaptionShow::ALL {
                                            crate::app::widgets::pick(
                                                ui,
                                                &mut settings.caption_show,
                                                s,
                                                s.label(),
                                            );
                                        }
                                    });
                                egui::ComboBox::from_label("Colours")
                                    .selected_text(settings.caption_colors.label())
                                    .show_ui(ui, |ui| {
                                        for c in CaptionColors::ALL {
                                            crate::app::widgets::pick(
                                                ui,
                                                &mut settings.caption_colors,
                                                c,
                                                c.label(),
                                            );
                                        }
                                    });
                            });
                        });
                    });
                };
                egui::Frame::new()
                    .fill(color(bg))
                    .inner_margin(16.0)
                    .show(ui, |ui| {
                        ui.set_min_size(ui.available_size());
                        body(ui)
                    });
                if class != egui::ViewportClass::EmbeddedWindow {
                    if ui.input(|i| i.viewport().close_requested()) {
                        open = false;
                    }
                    // Remembered where it is now, for the next time.
                    let (outer, inner) =
                        ui.input(|i| (i.viewport().outer_rect, i.viewport().inner_rect));
                    if let (Some(o), Some(i)) = (outer, inner) {
                        let rect = [o.min.x, o.min.y, i.width(), i.height()];
                        if settings.caption_window_rect != Some(rect) {
                            settings.caption_window_rect = Some(rect);
                        }
                    }
                }
            },
        );
        if !open {
            cx.settings.caption_window = false;
        }
    }
}

/// The Silero voice-activity model's download: a button (with what it
/// brings), its progress while it runs, what went wrong, or that it is
/// there for the next recording.
fn vad_download_ui(ui: &mut egui::Ui, cx: &mut Cx) {
    use crate::app::DownloadState;
    use crate::tasks::transcribe::silero::HUB_REPO;
    match cx.downloads.get(HUB_REPO).cloned() {
        Some(DownloadState::Running(p) | DownloadState::Cancelling(p)) => {
            crate::app::widgets::progress_ui(ui, &p);
            if ui.small_button("Cancel").clicked() {
                cx.cancel_download(HUB_REPO);
            }
        }
        Some(DownloadState::Done { .. }) => {
            ui.small("Voice detection downloaded: used from the next recording");
        }
        state => {
            if let Some(DownloadState::Failed(why)) = &state {
                ui.colored_label(ui.visuals().warn_fg_color, why);
            }
            if ui
                .add_enabled(
                    !cx.offline(),
                    egui::Button::new("Get voice detection (2.3 MB)"),
                )
                .on_hover_text(
                    "The Silero voice-activity model: lines come sooner after you stop \
                     speaking, and music or noise is not transcribed",
                )
                .clicked()
            {
                cx.start_vad_download();
            }
        }
    }
}

/// Whether a remembered caption window (`[left, top, width, height]`)
/// can be opened there again: finite, big enough to read, and — where the
/// monitor's size is known — with its title bar on the screen.
fn remembered_rect_fits(r: [f32; 4], monitor: Option<egui::Vec2>) -> bool {
    let [x, y, w, h] = r;
    if !r.iter().all(|v| v.is_finite()) || w < 200.0 || h < 80.0 {
        return false;
    }
    match monitor {
        Some(m) => x > -w + 100.0 && x < m.x - 100.0 && y >= 0.0 && y < m.y - 40.0,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::remembered_rect_fits;

    #[test]
    fn a_remembered_caption_window_opens_again_only_where_it_can_be_seen() {
        let screen = Some(egui::vec2(1920.0, 1080.0));
        assert!(remembered_rect_fits([100.0, 700.0, 960.0, 260.0], screen));
        assert!(remembered_rect_fits([100.0, 700.0, 960.0, 260.0], None));
        // Off the screen (a monitor since unplugged), too small, or NaN.
        assert!(!remembered_rect_fits([2500.0, 700.0, 960.0, 260.0], screen));
        assert!(!remembered_rect_fits([100.0, 1070.0, 960.0, 260.0], screen));
        assert!(!remembered_rect_fits([-950.0, 10.0, 960.0, 260.0], screen));
        assert!(!remembered_rect_fits([100.0, 100.0, 50.0, 20.0], screen));
        assert!(!remembered_rect_fits(
            [f32::NAN, 100.0, 960.0, 260.0],
            screen
        ));
    }
}
