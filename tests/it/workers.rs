//! The worker protocol on its own: commands in, events out, against the
//! stand-in Hub — stale searches, deleting a model while it downloads.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use spaceport::hub::{SearchQuery, Sort, TaskFilter};
use spaceport::workers::{Command, Event, Workers};
use support::standin_hub::{Fault, StandinHub};

fn next(rx: &Receiver<Event>, pred: impl Fn(&Event) -> bool) -> Event {
    loop {
        let e = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("an event in time");
        if pred(&e) {
            return e;
        }
    }
}

#[test]
fn every_event_wakes_the_ui_and_searches_carry_their_generation() {
    let s = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let wakes = Arc::new(AtomicUsize::new(0));
    let w2 = wakes.clone();
    let (workers, rx) = Workers::spawn(
        support::config(&s, tmp.path()),
        Arc::new(move || {
            w2.fetch_add(1, Ordering::SeqCst);
        }),
    )
    .unwrap();
    for generation in [1, 2] {
        assert!(workers.send(Command::Search {
            generation,
            query: SearchQuery {
                text: if generation == 1 { "whisper" } else { "opus" }.into(),
                task: TaskFilter::All,
                sort: Sort::Downloads,
                limit: 10,
            },
        }));
    }
    let mut seen = Vec::new();
    while seen.len() < 2 {
        if let Event::SearchResults {
            generation, page, ..
        } = next(&rx, |e| matches!(e, Event::SearchResults { .. }))
        {
            seen.push((
                generation,
                page.models.iter().all(|m| {
                    m.id.contains(if generation == 1 { "whisper" } else { "opus" })
                }),
            ));
        }
    }
    seen.sort();
    assert_eq!(seen, [(1, true), (2, true)]);
    // Each event wakes the UI right after it is queued.
    let start = std::time::Instant::now();
    while wakes.load(Ordering::SeqCst) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the UI was not woken"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn deleting_a_model_while_it_downloads_cancels_then_removes_it() {
    let mut repo = support::marian_repo("Helsinki-NLP/opus-mt-tiny-en-de", 5_000_000);
    repo.files.retain(|f| f.path != "pytorch_model.bin");
    let s = StandinHub::start(vec![repo]);
    s.inject(
        "Helsinki-NLP/opus-mt-tiny-en-de",
        "model.safetensors",
        Fault::Slow(500_000),
    );
    let tmp = tempfile::tempdir().unwrap();
    let (workers, rx) = Workers::spawn(support::config(&s, tmp.path()), Arc::new(|| {})).unwrap();
    let repo = "Helsinki-NLP/opus-mt-tiny-en-de".to_string();
    workers.send(Command::Download {
        repo: repo.clone(),
        revision: "main".into(),
    });
    next(
        &rx,
        |e| matches!(e, Event::DownloadProgress(p) if p.file == "model.safetensors" && p.file_bytes > 100_000),
    );
    workers.send(Command::Delete { repo: repo.clone() });
    let failed = next(&rx, |e| matches!(e, Event::DownloadFailed { .. }));
    assert!(
        matches!(
            failed,
            Event::DownloadFailed {
                cancelled: true,
                ..
            }
        ),
        "{failed:?}"
    );
    let deleted = next(&rx, |e| {
        matches!(e, Event::Deleted { .. } | Event::DeleteFailed { .. })
    });
    assert!(matches!(deleted, Event::Deleted { .. }), "{deleted:?}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !tmp.path()
            .join("models--Helsinki-NLP--opus-mt-tiny-en-de")
            .exists()
    );
}
