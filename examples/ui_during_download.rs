//! Benchmark: how long the UI thread spends per frame while a large model
//! downloads. Drives the real `App` (egui_kittest, no GPU) against the
//! stand-in Hub: opens `bench/big-model`, presses Download, and steps a
//! frame every 16 ms until it is done, timing each frame's logic + ui.
//!
//!     cargo run --example ui_during_download -- --mb 1000

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use spaceport::app::App;
use spaceport::settings::Settings;
use support::standin_hub::StandinHub;

fn main() {
    let mb = support::arg_mb(1000);
    let hub = StandinHub::start(vec![support::big_repo(mb)]);
    let cache = std::env::temp_dir().join(format!("spaceport-ui-bench-{}", std::process::id()));
    let cfg = spaceport::hub::HubConfig::local(&hub.url, &cache);
    let mut h: Harness<'_, App> = Harness::builder()
        .with_size(egui::Vec2::new(1120.0, 740.0))
        .build_eframe(move |cc| {
            App::with_settings(&cc.egui_ctx, cfg, Settings::default()).expect("workers start")
        });
    let wait = |h: &mut Harness<'_, App>, f: &dyn Fn(&Harness<'_, App>) -> bool| {
        let start = Instant::now();
        while !f(h) {
            h.step();
            std::thread::sleep(Duration::from_millis(16));
            assert!(start.elapsed() < Duration::from_secs(600), "timed out");
        }
    };
    h.get_by_label("Search").click();
    wait(&mut h, &|h| h.query_by_label("bench/big-model").is_some());
    h.get_by_label("bench/big-model").click();
    wait(&mut h, &|h| {
        h.query_by_label_contains("Download (").is_some()
    });
    h.get_by_label_contains("Download (").click();
    let started = Instant::now();
    let mut frames = Vec::new();
    while h.query_by_label("✔ Downloaded").is_none() {
        let t = Instant::now();
        h.step();
        frames.push(t.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(16));
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "download timed out"
        );
    }
    let secs = started.elapsed().as_secs_f64();
    frames.sort_by(f64::total_cmp);
    let pct = |p: f64| frames[((frames.len() - 1) as f64 * p) as usize];
    println!(
        "UI during a {mb} MB download ({:.1} s, {:.0} MB/s): {} frames, frame time median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        secs,
        mb as f64 / secs,
        frames.len(),
        pct(0.5),
        pct(0.99),
        frames.last().copied().unwrap_or(0.0)
    );
    let _ = std::fs::remove_dir_all(&cache);
}
