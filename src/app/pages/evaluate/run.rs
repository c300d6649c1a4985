//! One run drawn: its scores with intervals, speed and memory, where it
//! ran, export buttons, the plots (row scores; time against input size)
//! and the rows table — sortable by score or time, the words of each
//! output that differ from the reference marked.

use super::RowOrder;
use crate::app::dialogs::{DialogKind, DialogRequest};
use crate::app::pages::Cx;
use crate::app::widgets::marked_words;
use crate::evaluate::RowResult;
use crate::evaluate::record::RunRecord;
use crate::metrics::MetricKind;
use crate::metrics::normalize::Normalize;
use crate::workers::files::DialogPurpose;

/// The run's summary, plots and rows; `extra` adds buttons beside the
/// export ones.
pub(super) fn record_ui(
    ui: &mut egui::Ui,
    cx: &mut Cx,
    r: &RunRecord,
    order: &mut RowOrder,
    extra: impl FnOnce(&mut egui::Ui),
) {
    ui.strong(format!(
        "{} on {} ({}/{}){}",
        r.model,
        r.dataset,
        r.config,
        r.split,
        if r.stopped { " — stopped" } else { "" }
    ));
    for s in &r.scores {
        ui.heading(s.describe());
    }
    let sp = &r.speed;
    let memory = sp
        .peak_memory_bytes
        .map(|m| {
            format!(
                "; peak memory {}{}",
                crate::format::format_bytes(m),
                sp.memory_added_bytes
                    .filter(|a| *a >= 1 << 20)
                    .map(|a| format!(" ({} more during this run)", crate::format::format_bytes(a)))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    ui.label(format!(
        "{}; {:.2} s a row; loaded in {:.2} s{memory}",
        r.speed_words(),
        sp.seconds_per_row,
        sp.load_seconds,
    ));
    ui.label(format!(
        "{}{} · \"{}\" scored against \"{}\", {} · {} on {} · {}",
        crate::format::count(r.rows as u64, "row", "rows"),
        if r.skipped.is_empty() {
            String::new()
        } else {
            format!(" ({} skipped)", r.skipped.len())
        },
        r.input_column,
        r.reference_column,
        match r.normalizer() {
            Normalize::None => "as written",
            Normalize::Basic => "normalised (basic)",
            Normalize::WhisperEn => "normalised (English)",
        },
        r.device,
        r.machine.describe(),
        crate::format::utc_time(r.created),
    ));
    ui.horizontal(|ui| {
        if ui
            .button("Export JSON…")
            .on_hover_text("Everything about the run: settings, machine, scores, every row")
            .clicked()
        {
            save(cx, r, "json");
        }
        if ui
            .button("Export CSV…")
            .on_hover_text("A line per row: reference, output, row score, seconds")
            .clicked()
        {
            save(cx, r, "csv");
        }
        extra(ui);
    });
    let metric = r.scores.first().map(|s| s.metric);
    plots(ui, r, metric);
    rows_table(ui, &r.predictions, metric, order, r.normalizer(), r.panel());
}

fn save(cx: &mut Cx, r: &RunRecord, ext: &str) {
    cx.open_dialog(
        DialogRequest::new(DialogKind::Save, "Export the run")
            .file_name(format!("{}.{ext}", r.id))
            .filter(&ext.to_uppercase(), &[ext]),
        DialogPurpose::SaveRun(Box::new(r.clone())),
    );
}

/// A histogram of the row scores and the seconds each row took against
/// its input's size.
fn plots(ui: &mut egui::Ui, r: &RunRecord, metric: Option<MetricKind>) {
    let scores: Vec<f64> = r.predictions.iter().filter_map(|p| p.score).collect();
    let size_unit = match r.panel() {
        Some(crate::catalog::Panel::Transcribe) => "audio seconds",
        Some(crate::catalog::Panel::Translate) => "source characters",
        _ => "pictures",
    };
    ui.columns(2, |cols| {
        if let Some(m) = metric
            && !scores.is_empty()
        {
            cols[0].label(format!("Row scores ({})", m.title()));
            let (lo, hi) = scores
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), &s| (a.min(s), b.max(s)));
            let bins = 12usize;
            let width = ((hi - lo) / bins as f64).max(if m.hundred() { 1.0 } else { 0.01 });
            let mut counts = vec![0u32; bins + 1];
            for s in &scores {
                let b = (((s - lo) / width) as usize).min(bins);
                counts[b] += 1;
            }
            let bars: Vec<egui_plot::Bar> = counts
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    egui_plot::Bar::new(lo + (i as f64 + 0.5) * width, c as f64).width(width * 0.95)
                })
                .collect();
            egui_plot::Plot::new("eval-histogram")
                .height(150.0)
                .allow_scroll(false)
                .x_axis_label(m.title())
                .y_axis_label("rows")
                .show(&mut cols[0], |p| {
                    p.bar_chart(egui_plot::BarChart::new("rows", bars));
                });
        }
        if !r.predictions.is_empty() {
            cols[1].label(format!("Seconds a row against {size_unit}"));
            let points: Vec<[f64; 2]> = r
                .predictions
                .iter()
                .map(|p| [p.input_size, p.seconds])
                .collect();
            egui_plot::Plot::new("eval-times")
                .height(150.0)
                .allow_scroll(false)
                .x_axis_label(size_unit)
                .y_axis_label("seconds")
                .show(&mut cols[1], |p| {
                    p.points(egui_plot::Points::new("rows", points).radius(3.0));
                });
        }
    });
}

/// The rows, in `order` (the headers change it).
pub(super) fn rows_table(
    ui: &mut egui::Ui,
    rows: &[RowResult],
    metric: Option<MetricKind>,
    order: &mut RowOrder,
    norm: Normalize,
    panel: Option<crate::catalog::Panel>,
) {
    let lower_better = metric.is_some_and(MetricKind::lower_is_better);
    let mut sorted: Vec<&RowResult> = rows.iter().collect();
    let key = |r: &RowResult| r.score.unwrap_or(f64::NAN);
    match order {
        RowOrder::Row => {}
        RowOrder::WorstFirst | RowOrder::BestFirst => {
            let worst_first = *order == RowOrder::WorstFirst;
            sorted.sort_by(|a, b| {
                let (a, b) = (key(a), key(b));
                // Higher WER is worse; lower BLEU is worse.
                let high_first = worst_first == lower_better;
                if high_first {
                    b.total_cmp(&a)
                } else {
                    a.total_cmp(&b)
                }
            });
        }
        RowOrder::Slowest => sorted.sort_by(|a, b| b.seconds.total_cmp(&a.seconds)),
    }
    ui.horizontal(|ui| {
        ui.label("Order");
        ui.selectable_value(order, RowOrder::Row, "By row");
        ui.selectable_value(order, RowOrder::WorstFirst, "Worst first");
        ui.selectable_value(order, RowOrder::BestFirst, "Best first");
        ui.selectable_value(order, RowOrder::Slowest, "Slowest first");
    });
    let score_title = metric.map_or("Score", MetricKind::title);
    egui::ScrollArea::vertical()
        .id_salt("eval-rows-scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::Grid::new("eval-rows")
                .striped(true)
                .spacing([12.0, 4.0])
                .show(ui, |ui| {
                    if !sorted.is_empty() {
                        for h in ["#", "Input", "Output", "Reference", score_title, "Seconds"] {
                            ui.strong(h);
                        }
                        ui.end_row();
                    }
                    for r in sorted {
                        ui.monospace(r.row_idx.to_string());
                        let size = match panel {
                            Some(crate::catalog::Panel::Transcribe) => {
                                format!("{:.1} s of speech", r.input_size)
                            }
                            Some(crate::catalog::Panel::Translate) => {
                                format!("{:.0} characters", r.input_size)
                            }
                            Some(crate::catalog::Panel::Caption) => "a picture".into(),
                            None => String::new(),
                        };
                        ui.scope(|ui| {
                            ui.set_max_width(220.0);
                            match &r.input {
                                Some(input) if panel == Some(crate::catalog::Panel::Translate) => {
                                    ui.add(egui::Label::new(input.as_str()).wrap());
                                }
                                Some(name) => {
                                    ui.add(egui::Label::new(format!("{name} ({size})")).wrap());
                                }
                                None => {
                                    ui.label(size);
                                }
                            }
                        });
                        ui.scope(|ui| {
                            ui.set_max_width(330.0);
                            ui.add(
                                egui::Label::new(marked_words(
                                    ui,
                                    &r.reference,
                                    &r.prediction,
                                    norm,
                                ))
                                .wrap(),
                            );
                        });
                        ui.scope(|ui| {
                            ui.set_max_width(330.0);
                            ui.add(egui::Label::new(r.reference.as_str()).wrap());
                        });
                        match (r.score, metric) {
                            (Some(s), Some(m)) => ui.label(m.show(s)),
                            _ => ui.label("–"),
                        };
                        ui.label(format!("{:.2}", r.seconds));
                        ui.end_row();
                    }
                });
        });
}
