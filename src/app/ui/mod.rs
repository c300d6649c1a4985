//! Drawing: the frame around every page (sidebar, offline banner, notices)
//! and one file per page. Drawing functions end in `_ui`; they read state
//! and queue commands, never doing work themselves.

mod caption;
mod demo;
mod hub;
mod library;
mod settings;
mod transcribe;

use super::{App, DownloadState, Page};
use crate::format::{format_bytes, format_duration};
use crate::hub::DownloadProgress;

impl App {
    /// The whole window.
    pub fn app_ui(&mut self, ui: &mut egui::Ui) {
        egui::Panel::left("sidebar")
            .resizable(false)
            .exact_size(150.0)
            .show(ui, |ui| self.sidebar_ui(ui));
        if self.offline() || self.unreachable.is_some() {
            egui::Panel::top("banners").show(ui, |ui| self.banners_ui(ui));
        }
        egui::CentralPanel::default().show(ui, |ui| match self.page {
            Page::Hub => self.hub_page_ui(ui),
            Page::Library => self.library_page_ui(ui),
            Page::Demo(crate::catalog::Panel::Translate) => self.translate_page_ui(ui),
            Page::Demo(crate::catalog::Panel::Transcribe) => self.transcribe_page_ui(ui),
            Page::Demo(crate::catalog::Panel::Caption) => self.caption_page_ui(ui),
            Page::Settings => self.settings_page_ui(ui),
        });
        // Expire first, so the last notice's frame is not drawn empty.
        let now = ui.input(|i| i.time);
        self.notices
            .retain(|n| n.is_error || n.shown_at.is_none_or(|t| now - t < super::NOTICE_SECS));
        if !self.notices.is_empty() {
            // Notices float over the bottom right corner rather than taking a
            // row of the layout, so the page never shifts under the pointer.
            let ctx = ui.ctx().clone();
            egui::Area::new(egui::Id::unique("notices"))
                .anchor(egui::Align2::RIGHT_BOTTOM, [-12.0, -12.0])
                .order(egui::Order::Foreground)
                .show(&ctx, |ui| {
                    egui::Frame::popup(ui.style()).show(ui, |ui| {
                        ui.set_max_width(520.0);
                        self.notices_ui(ui);
                    });
                });
        }
        if self.confirm_delete.is_some() {
            self.confirm_delete_ui(ui);
        }
    }

    fn sidebar_ui(&mut self, ui: &mut egui::Ui) {
        ui.add_space(8.0);
        ui.heading("Spaceport");
        ui.add_space(12.0);
        for page in Page::ALL {
            let selected = self.page == page;
            if ui
                .add_sized(
                    [130.0, 28.0],
                    egui::Button::selectable(selected, page.label()),
                )
                .clicked()
            {
                if page == Page::Hub && self.page == Page::Hub {
                    // Clicking Hub again goes back to the results.
                    self.hub.details = super::DetailsState::Closed;
                }
                self.page = page;
                if page == Page::Library {
                    self.send(crate::workers::Command::ScanCache);
                }
            }
        }
        let running = self
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
        if self.offline() {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "Offline: showing and running what is already downloaded.",
            );
        } else if let Some(e) = &self.unreachable {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("Working offline — the Hub can't be reached. {e}"),
            );
        }
    }

    fn notices_ui(&mut self, ui: &mut egui::Ui) {
        let now = ui.input(|i| i.time);
        let mut dismiss = None;
        for (i, n) in self.notices.iter_mut().enumerate() {
            if !n.is_error {
                let shown = *n.shown_at.get_or_insert(now);
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_secs_f64(
                        (super::NOTICE_SECS - (now - shown)).max(0.05),
                    ));
            }
            ui.horizontal(|ui| {
                let color = if n.is_error {
                    ui.visuals().error_fg_color
                } else {
                    ui.visuals().text_color()
                };
                ui.colored_label(color, &n.text);
                if ui.small_button("Dismiss").clicked() {
                    dismiss = Some(i);
                }
            });
        }
        if let Some(i) = dismiss {
            self.notices.remove(i);
        }
    }
}

/// A progress bar with bytes, rate and time left.
pub fn progress_ui(ui: &mut egui::Ui, p: &DownloadProgress) {
    let frac = if p.total > 0 {
        p.bytes as f32 / p.total as f32
    } else {
        0.0
    };
    let eta = p
        .eta_secs
        .map(format_duration)
        .unwrap_or_else(|| "—".into());
    ui.add(
        egui::ProgressBar::new(frac)
            .desired_width(320.0)
            .text(format!(
                "{} of {} · {}/s · {} left",
                format_bytes(p.bytes),
                format_bytes(p.total),
                format_bytes(p.rate_bps as u64),
                eta
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
