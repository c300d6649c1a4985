//! The Settings page: where the cache is, the access token (masked; saved
//! to the standard token file), offline mode, the compute device and the
//! theme. Changes apply at once and persist across restarts.

use crate::app::App;
use crate::hub::Token;
use crate::settings::Theme;
use crate::tasks::device::{self, DeviceChoice};
use crate::workers::Command;

impl App {
    pub(super) fn settings_page_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Settings");
        ui.add_space(6.0);
        ui.strong("Model cache");
        ui.label(self.config.cache_dir.display().to_string());
        ui.small("The standard Hugging Face cache, shared with Python tools. Set HF_HUB_CACHE or HF_HOME to move it.");
        ui.add_space(10.0);

        ui.strong("Access token");
        ui.label(match &self.token_masked {
            Some(m) => format!("A token is set ({m})."),
            None => "No token set: gated and private models cannot be downloaded.".to_string(),
        });
        ui.horizontal(|ui| {
            let label = ui.label("New token");
            ui.add(
                egui::TextEdit::singleline(&mut self.token_input)
                    .password(true)
                    .desired_width(280.0),
            )
            .labelled_by(label.id);
            if ui
                .add_enabled(
                    !self.token_input.trim().is_empty(),
                    egui::Button::new("Save token"),
                )
                .clicked()
            {
                let token = Token::new(&self.token_input);
                self.token_input.clear();
                self.config.token = token.clone();
                self.send(Command::SaveToken(token));
                self.reconfigure();
            }
            if self.token_masked.is_some() && ui.button("Remove token").clicked() {
                self.config.token = None;
                self.send(Command::SaveToken(None));
                self.reconfigure();
            }
        });
        ui.small(format!("Saved to {}", self.config.token_path.display()));
        ui.add_space(10.0);

        ui.strong("Network");
        let before = self.settings.offline;
        ui.add_enabled(
            !self.env_offline,
            egui::Checkbox::new(
                &mut self.settings.offline,
                "Offline mode: use only downloaded models",
            ),
        );
        if self.env_offline {
            ui.small("HF_HUB_OFFLINE is set, so Spaceport stays offline.");
        }
        if before != self.settings.offline {
            self.reconfigure();
        }
        ui.add_space(10.0);

        ui.strong("Compute device");
        let before = self.settings.device;
        egui::ComboBox::from_label("Device")
            .selected_text(self.settings.device.to_string())
            .show_ui(ui, |ui| {
                for d in [
                    DeviceChoice::Auto,
                    DeviceChoice::Cpu,
                    DeviceChoice::Cuda(0),
                    DeviceChoice::Metal,
                ] {
                    ui.selectable_value(&mut self.settings.device, d, d.to_string());
                }
            });
        if before != self.settings.device {
            self.device_note = device::build_note(self.settings.device);
        }
        if let Some(note) = &self.device_note {
            ui.colored_label(ui.visuals().warn_fg_color, note);
        }
        ui.small(format!(
            "This build: CPU{}{}.",
            if device::BUILT_WITH_CUDA {
                ", CUDA"
            } else {
                ""
            },
            if device::BUILT_WITH_METAL {
                ", Metal"
            } else {
                ""
            }
        ));
        ui.add_space(10.0);

        ui.strong("Theme");
        let before = self.settings.theme;
        ui.horizontal(|ui| {
            ui.radio_value(&mut self.settings.theme, Theme::System, "Follow system");
            ui.radio_value(&mut self.settings.theme, Theme::Light, "Light");
            ui.radio_value(&mut self.settings.theme, Theme::Dark, "Dark");
        });
        if before != self.settings.theme {
            self.apply_theme(ui.ctx());
        }
    }
}
