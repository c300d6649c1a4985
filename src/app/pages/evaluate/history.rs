//! The kept runs (newest first: open, export, delete, tick two or more to
//! compare) and the comparison of the runs ticked: scores with intervals,
//! the paired-bootstrap verdicts against the first, speed and memory, and
//! the rows where they disagree most, each output's differing words
//! marked.

use super::{EvaluatePage, Tab};
use crate::app::pages::Cx;

pub(super) fn history_ui(page: &mut EvaluatePage, ui: &mut egui::Ui, cx: &mut Cx) {
    if page.history.is_empty() {
        ui.label("No runs yet: the runs you make on the Run tab are kept here.");
        return;
    }
    ui.horizontal(|ui| {
        ui.label("Tick two or more runs over the same split to compare them (the first ticked is the baseline).");
        if ui
            .add_enabled(page.picked.len() >= 2, egui::Button::new(format!("Compare {}", page.picked.len())))
            .clicked()
        {
            page.compare(cx);
        }
    });
    let mut open = None;
    let mut delete = None;
    egui::ScrollArea::vertical()
        .id_salt("eval-history")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::Grid::new("eval-history-grid")
                .striped(true)
                .spacing([12.0, 4.0])
                .show(ui, |ui| {
                    for h in ["", "When", "Model", "Data", "Rows", "Score", "Speed", ""] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for r in &page.history {
                        let mut on = page.picked.contains(&r.id);
                        if ui
                            .checkbox(&mut on, "")
                            .on_hover_text(format!("Compare {}", r.id))
                            .changed()
                        {
                            if on {
                                page.picked.push(r.id.clone());
                            } else {
                                page.picked.retain(|p| *p != r.id);
                            }
                        }
                        ui.label(crate::format::utc_time(r.created));
                        ui.label(&r.model);
                        ui.label(format!("{} ({}/{})", r.dataset, r.config, r.split));
                        ui.label(format!(
                            "{}{}",
                            r.rows,
                            if r.stopped { " (stopped)" } else { "" }
                        ));
                        ui.label(
                            r.scores
                                .first()
                                .map(|s| format!("{} {}", s.metric.title(), s.metric.show(s.score)))
                                .unwrap_or_default(),
                        );
                        ui.label(r.speed_words());
                        ui.horizontal(|ui| {
                            if ui
                                .button("Open")
                                .on_hover_text(format!("Open {}", r.id))
                                .clicked()
                            {
                                open = Some(r.clone());
                            }
                            if ui
                                .button("Delete")
                                .on_hover_text(format!("Delete {}", r.id))
                                .clicked()
                            {
                                delete = Some(r.id.clone());
                            }
                        });
                        ui.end_row();
                    }
                });
        });
    if let Some(r) = open {
        page.shown = Some(r);
        page.batch.clear();
        page.tab = Tab::Run;
    }
    if let Some(id) = delete {
        page.picked.retain(|p| *p != id);
        page.history.retain(|r| r.id != id);
        page.ask_history(cx, Some(id));
    }
}

pub(super) fn compare_ui(page: &mut EvaluatePage, ui: &mut egui::Ui) {
    if page.comparing.is_some() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Comparing (scoring each run again on the rows they share, 1000 resamples)…");
        });
        return;
    }
    let Some(comparison) = &page.comparison else {
        ui.label("Tick two or more runs in the History tab, or run several models at once, to compare them here.");
        return;
    };
    let c = match comparison {
        Ok(c) => c,
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
            return;
        }
    };
    let runs: Vec<&crate::evaluate::record::RunRecord> = page
        .picked
        .iter()
        .filter_map(|id| page.history.iter().find(|r| r.id == *id))
        .collect();
    ui.label(format!(
        "{} side by side on the {} rows all of them finished (the first is the baseline).",
        c.names.join(", "),
        c.rows
    ));
    egui::ScrollArea::vertical()
        .id_salt("eval-compare")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::Grid::new("eval-compare-scores")
                .striped(true)
                .spacing([16.0, 4.0])
                .show(ui, |ui| {
                    ui.strong("");
                    for n in &c.names {
                        ui.strong(n);
                    }
                    ui.end_row();
                    for m in &c.metrics {
                        ui.strong(m.metric.title());
                        for (score, i) in &m.scores {
                            ui.label(format!(
                                "{} ({}–{})",
                                m.metric.show(*score),
                                m.metric.show(i.low),
                                m.metric.show(i.high)
                            ));
                        }
                        ui.end_row();
                    }
                    ui.strong("Speed");
                    for r in &runs {
                        ui.label(r.speed_words());
                    }
                    ui.end_row();
                    ui.strong("Peak memory");
                    for r in &runs {
                        ui.label(
                            r.speed
                                .peak_memory_bytes
                                .map(crate::format::format_bytes)
                                .unwrap_or_else(|| "–".into()),
                        );
                    }
                    ui.end_row();
                    ui.strong("Load");
                    for r in &runs {
                        ui.label(format!("{:.2} s", r.speed.load_seconds));
                    }
                    ui.end_row();
                });
            ui.add_space(6.0);
            for m in &c.metrics {
                for (_, verdict) in &m.against_first {
                    ui.strong(verdict);
                }
            }
            ui.add_space(6.0);
            if c.disagreements.is_empty() {
                ui.label("Their outputs are the same on every row.");
                return;
            }
            let norm = runs.first().map(|r| r.normalizer()).unwrap_or_default();
            let metric = c.metrics.first().map(|m| m.metric);
            ui.label(format!(
                "Where they disagree most ({} of each row):",
                metric.map_or("score", |m| m.title())
            ));
            egui::Grid::new("eval-compare-rows")
                .striped(true)
                .spacing([12.0, 4.0])
                .show(ui, |ui| {
                    ui.strong("#");
                    ui.strong("Reference");
                    for n in &c.names {
                        ui.strong(n);
                    }
                    ui.end_row();
                    for d in &c.disagreements {
                        ui.monospace(d.row_idx.to_string());
                        ui.scope(|ui| {
                            ui.set_max_width(260.0);
                            ui.add(egui::Label::new(d.reference.as_str()).wrap());
                        });
                        for (out, score) in d.outputs.iter().zip(&d.scores) {
                            ui.vertical(|ui| {
                                ui.set_max_width(260.0);
                                ui.add(
                                    egui::Label::new(crate::app::widgets::marked_words(
                                        ui,
                                        &d.reference,
                                        out,
                                        norm,
                                    ))
                                    .wrap(),
                                );
                                if let Some(m) = metric {
                                    ui.weak(m.show(*score));
                                }
                            });
                        }
                        ui.end_row();
                    }
                });
        });
}
