//! The frame around every page: the sidebar, the offline banner along the
//! bottom and the notices floating over the bottom right corner above it.
//! The page itself is drawn by its [`super::View`].

use super::{App, DownloadState, NOTICE_SECS, Page};

impl App {
    /// The whole window.
    pub fn app_ui(&mut self, ui: &mut egui::Ui) {
        self.open_files();
        egui::Panel::left("sidebar")
            .resizable(false)
            .exact_size(150.0)
            .show(ui, |ui| self.sidebar_ui(ui));
        // The offline banner is a status line along the bottom: it comes
        // when a Hub request fails, seconds after the page was drawn, and
        // at the top it would push the page down under the pointer.
        let banner_height = if self.cx.offline() || self.cx.unreachable.is_some() {
            egui::Panel::bottom("banners")
                .show(ui, |ui| self.banners_ui(ui))
                .response
                .rect
                .height()
        } else {
            0.0
        };
        egui::CentralPanel::default().show(ui, |ui| self.page_ui(ui));
        // Live captions float in their own window over whatever is shown.
        let ctx = ui.ctx().clone();
        self.transcribe.caption_window(&ctx, &mut self.cx);
        // Expire first, so the last notice's frame is not drawn empty.
        let now = ui.input(|i| i.time);
        self.cx
            .notices
            .retain(|n| n.is_error || n.shown_at.is_none_or(|t| now - t < NOTICE_SECS));
        if !self.cx.notices.is_empty() {
            // Notices float over the bottom right corner rather than taking a
            // row of the layout, so the page never shifts under the pointer.
            let ctx = ui.ctx().clone();
            egui::Area::new(egui::Id::unique("notices"))
                .anchor(egui::Align2::RIGHT_BOTTOM, [-12.0, -12.0 - banner_height])
                .order(egui::Order::Foreground)
                .show(&ctx, |ui| {
                    egui::Frame::popup(ui.style()).show(ui, |ui| {
                        ui.set_max_width(
                            520.0_f32.min(ctx.content_rect().width() - 190.0).max(200.0),
                        );
                        self.notices_ui(ui);
                    });
                });
        }
    }

    fn sidebar_ui(&mut self, ui: &mut egui::Ui) {
        ui.add_space(8.0);
        ui.heading("Spaceport");
        ui.add_space(12.0);
        for (n, page) in Page::ALL.into_iter().enumerate() {
            let selected = self.page == page;
            // Ctrl+1…9, F1 for Help (App::page_ui takes the keys).
            let keys = if page == Page::Help {
                Some("F1".to_string())
            } else {
                egui::Key::from_name(&(n + 1).to_string()).map(|k| {
                    ui.ctx()
                        .format_shortcut(&egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, k))
                })
            };
            if ui
                .add_sized(
                    [130.0, 28.0],
                    egui::Button::selectable(selected, page.label()),
                )
                .on_hover_text(keys.unwrap_or_default())
                .clicked()
            {
                self.open_page(page);
            }
        }
        let running = self
            .cx
            .downloads
            .values()
            .filter(|d| matches!(d, DownloadState::Running(_)))
            .count();
        if running > 0 {
            ui.add_space(12.0);
            ui.label(format!("{running} downloading…"));
        }
    }

    fn banners_ui(&mut self, ui: &mut egui::Ui) {
        if self.cx.offline() {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "Offline: showing and running what is already downloaded.",
            );
        } else if let Some(e) = &self.cx.unreachable {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("Working offline — the Hub can't be reached. {e}"),
            );
        }
    }

    fn notices_ui(&mut self, ui: &mut egui::Ui) {
        let now = ui.input(|i| i.time);
        let mut dismiss = None;
        for (i, n) in self.cx.notices.iter_mut().enumerate() {
            if !n.is_error {
                let shown = *n.shown_at.get_or_insert(now);
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_secs_f64(
                        (NOTICE_SECS - (now - shown)).max(0.05),
                    ));
            }
            ui.horizontal(|ui| {
                let color = if n.is_error {
                    ui.visuals().error_fg_color
                } else {
                    ui.visuals().text_color()
                };
                if ui.small_button("Dismiss").clicked() {
                    dismiss = Some(i);
                }
                // Long notices wrap inside the box rather than run off
                // the window.
                ui.add(egui::Label::new(egui::RichText::new(&n.text).color(color)).wrap());
            });
        }
        if let Some(i) = dismiss {
            self.cx.notices.remove(i);
        }
    }
}
