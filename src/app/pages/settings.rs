//! The Settings page: where the cache is, the access token (masked; saved
//! to the standard token file), offline mode, the compute device and the
//! theme. Changes apply at once and persist across restarts.

use super::{Cx, View};
use crate::hub::Token;
use crate::settings::Theme;
use crate::tasks::device::{self, ComputeType, DeviceChoice};
use crate::workers::{Command, Event};

/// Shows the window in `theme`.
pub fn apply_theme(ctx: &egui::Context, theme: Theme) {
    ctx.set_theme(match theme {
        Theme::System => egui::ThemePreference::System,
        Theme::Light => egui::ThemePreference::Light,
        Theme::Dark => egui::ThemePreference::Dark,
    });
}

/// The Settings page; the settings themselves are the app's
/// ([`Cx::settings`]).
#[derive(Debug, Default)]
pub struct SettingsPage {
    /// A new token being typed.
    pub input: String,
    /// The saved token, masked.
    pub masked: Option<String>,
    /// Why the chosen device is not in this build, if it is not.
    pub device_note: Option<String>,
}

impl SettingsPage {
    pub fn new(cx: &Cx) -> Self {
        Self {
            input: String::new(),
            masked: cx.config.token.as_ref().map(Token::masked),
            device_note: device::build_note(cx.settings.device),
        }
    }
}

impl View for SettingsPage {
    fn on_event(&mut self, event: Event, cx: &mut Cx) -> Option<Event> {
        match event {
            Event::TokenSaved { masked } => {
                cx.notify(match &masked {
                    Some(m) => format!("Token {m} saved to {}.", cx.config.token_path.display()),
                    None => "Token removed.".to_string(),
                });
                self.masked = masked;
            }
            Event::TokenFailed(e) => cx.notify_error(format!("Could not save the token: {e}")),
            other => return Some(other),
        }
        None
    }

    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx) {
        ui.heading("Settings");
        ui.add_space(6.0);
        ui.strong("Model cache");
        ui.label(cx.config.cache_dir.display().to_string());
        ui.small("The standard Hugging Face cache, shared with Python tools. Set HF_HUB_CACHE or HF_HOME to move it.");
        ui.add_space(10.0);

        ui.strong("Access token");
        ui.label(match &self.masked {
            Some(m) => format!("A token is set ({m})."),
            None => "No token set: gated and private models cannot be downloaded.".to_string(),
        });
        ui.horizontal(|ui| {
            let label = ui.label("New token");
            ui.add(
                egui::TextEdit::singleline(&mut self.input)
                    .password(true)
                    .desired_width(280.0),
            )
            .labelled_by(label.id);
            if ui
                .add_enabled(
                    !self.input.trim().is_empty(),
                    egui::Button::new("Save token"),
                )
                .clicked()
            {
                let token = Token::new(&self.input);
                self.input.clear();
                cx.config.token = token.clone();
                cx.send(Command::SaveToken(token));
                cx.reconfigure();
            }
            if self.masked.is_some() && ui.button("Remove token").clicked() {
                cx.config.token = None;
                cx.send(Command::SaveToken(None));
                cx.reconfigure();
            }
        });
        ui.small(format!("Saved to {}", cx.config.token_path.display()));
        ui.add_space(10.0);

        ui.strong("Network");
        let before = cx.settings.offline;
        ui.add_enabled(
            !cx.env_offline,
            egui::Checkbox::new(
                &mut cx.settings.offline,
                "Offline mode: use only downloaded models",
            ),
        );
        if cx.env_offline {
            ui.small("HF_HUB_OFFLINE is set, so Spaceport stays offline.");
        }
        if before != cx.settings.offline {
            cx.reconfigure();
        }
        ui.add_space(10.0);

        ui.strong("Compute device");
        let before = cx.settings.device;
        // Auto, then what this build and machine offer (CUDA GPUs by name
        // and memory), and the current choice even when it is not offered.
        let mut choices: Vec<(DeviceChoice, String)> = vec![(
            DeviceChoice::Auto,
            "auto — the first GPU, else the CPU".into(),
        )];
        match &cx.compute_devices {
            Some((offered, _)) => {
                for o in offered {
                    if let Ok(c) = o.choice.parse() {
                        choices.push((c, o.describe()));
                    }
                }
            }
            None => choices.push((DeviceChoice::Cpu, "cpu".into())),
        }
        if !choices.iter().any(|(c, _)| *c == cx.settings.device) {
            let c = cx.settings.device;
            choices.push((c, format!("{c} (not available here)")));
        }
        let shown = choices
            .iter()
            .find(|(c, _)| *c == cx.settings.device)
            .map(|(_, label)| label.clone())
            .unwrap_or_default();
        egui::ComboBox::from_label("Device")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                for (c, label) in &choices {
                    crate::app::widgets::pick(ui, &mut cx.settings.device, *c, label);
                }
            });
        if before != cx.settings.device {
            self.device_note = device::build_note(cx.settings.device);
        }
        if let Some(note) = &self.device_note {
            ui.colored_label(ui.visuals().warn_fg_color, note);
        }
        match &cx.compute_devices {
            Some((_, notes)) => {
                for n in notes {
                    ui.small(n);
                }
            }
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.small("Looking for GPUs…");
                });
            }
        }
        if let Some(d) = &cx.compute {
            ui.small(format!("The last model ran on the {d}."));
        }
        ui.add_space(10.0);

        ui.strong("Precision");
        egui::ComboBox::from_label("Number format")
            .selected_text(cx.settings.compute.label())
            .show_ui(ui, |ui| {
                for c in ComputeType::ALL {
                    crate::app::widgets::pick(ui, &mut cx.settings.compute, c, c.label());
                }
            });
        ui.small(cx.settings.compute.explain());
        if cx.settings.compute == ComputeType::Auto {
            ui.small(if crate::tasks::nn::int8_fast() {
                "On this computer's processor that means int8."
            } else {
                "This processor has no int8 instructions: on it that means the model's own format."
            });
        }
        ui.small("Models load again in the new format the next time they run.");
        ui.add_space(10.0);

        ui.strong("Long recordings");
        ui.checkbox(
            &mut cx.settings.batched_transcription,
            "Transcribe long recordings in batches",
        );
        ui.small(
            "Finds the speech, cuts it in pauses into pieces of up to 30 seconds and \
             transcribes 8 pieces at once: several times faster on long files. Each piece \
             is transcribed without the text before it.",
        );
        ui.add_space(10.0);

        ui.strong("Theme");
        let before = cx.settings.theme;
        ui.horizontal(|ui| {
            ui.radio_value(&mut cx.settings.theme, Theme::System, "Follow system");
            ui.radio_value(&mut cx.settings.theme, Theme::Light, "Light");
            ui.radio_value(&mut cx.settings.theme, Theme::Dark, "Dark");
        });
        if before != cx.settings.theme {
            apply_theme(ui.ctx(), cx.settings.theme);
        }
    }
}
