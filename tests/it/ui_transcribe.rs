//! The Transcribe page driven through its widgets with the real tiny.en
//! weights (CTranslate2, fetched by the test command) installed in the
//! cache: a WAV dropped on the window is transcribed, its segments appear,
//! "Save .srt" writes subtitles beside it, "Save as…" writes WebVTT to the
//! name chosen in the file dialog (a stand-in answers it), and "Translate" carries the text
//! to the Translate panel; and dictation through a real sound server shows
//! partial words while speaking and final segments at each pause.

use crate::support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::kittest::{NodeT, Queryable};
use support::ui::{Dropped, answer_dialogs, wait_for, wait_for_file, window_text};

#[test]
fn drop_a_recording_see_segments_save_subtitles() {
    let model = support::whisper_ct2_dir();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    support::install_fixture(&cache, "Systran/faster-whisper-tiny.en", &model);
    let wav = tmp.path().join("dictation.wav");
    support::speak("Rice is often served in round bowls.", &wav);

    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Transcribe").click();
    wait_for(&mut h, "the page", |h| {
        h.query_by_label("Audio file").is_some()
    });
    // Open… waits for the system's file dialog on a worker (here there is
    // none: no desktop portal), and the window keeps drawing.
    h.get_by_label("Open…").click();
    for _ in 0..10 {
        h.step();
    }
    assert!(h.query_by_label("Audio file").is_some());
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(wav.clone())));
    wait_for(&mut h, "the transcript", |h| {
        h.query_by_label("Save .srt").is_some()
    });
    assert!(
        h.query_by_label_contains("bowls").is_some(),
        "a segment with the words"
    );
    h.get_by_label("Save .srt").click();
    let srt = wav.with_extension("srt");
    let start = Instant::now();
    while !srt.exists() {
        h.step();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no subtitles written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&srt).unwrap();
    assert!(
        text.starts_with("1\n00:00:0") && text.contains(" --> "),
        "{text}"
    );
    assert!(text.to_lowercase().contains("bowls"));

    // Save as… through the file dialog (a stand-in answers with a .vtt
    // name, as a person would type one): WebVTT, by the ending chosen.
    let asked = answer_dialogs(&mut h, vec![tmp.path().join("talk.vtt")]);
    h.get_by_label("Save as…").click();
    let vtt = wait_for_file(&mut h, &tmp.path().join("talk.vtt"));
    assert!(
        vtt.starts_with("WEBVTT") && vtt.to_lowercase().contains("bowls"),
        "{vtt}"
    );
    {
        let asked = asked.lock().unwrap();
        assert_eq!(asked[0].file_name.as_deref(), Some("dictation.srt"));
        assert_eq!(asked[0].directory.as_deref(), Some(tmp.path()));
    }

    // "Translate" beside the transcript (the side bar's page button shares
    // the name and comes first) opens the Translate panel with the text.
    // The "Saved …" notice floats in the corner; the page stays put.
    wait_for(&mut h, "the saved notice", |h| {
        let shown = window_text(h);
        shown
            .iter()
            .any(|t| t.starts_with("Saved ") && t.contains("talk.vtt"))
    });
    h.query_all_by_label("Translate")
        .last()
        .expect("the Translate action")
        .click();
    wait_for(&mut h, "the Translate panel", |h| {
        h.query_by_label("Audio file").is_none()
    });
    let carried = h
        .query_all_by(|_| true)
        .filter_map(|n| n.accesskit_node().value())
        .any(|v| v.to_lowercase().contains("bowls"));
    assert!(carried, "the transcript is in the Translate input");
}

#[test]
fn alone_dictate_through_the_microphone_and_see_words_while_speaking() {
    let _turn = support::sink_turn();
    let sink = support::test_sink();
    let tmp = tempfile::tempdir().unwrap();
    let cache = support::tiny_en_cache(tmp.path());
    let wav = tmp.path().join("say.wav");
    let sentences = [
        "The juice of lemons makes fine punch.",
        "Four hours of steady work faced us.",
    ];
    support::speak_with_pauses(&sentences, 1500, &wav);
    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Transcribe").click();
    // The page has read the model's languages (tiny.en: English only).
    wait_for(&mut h, "the page", |h| {
        h.query_by_label("Record").is_some()
            && h.query_by_label("This model knows English only.").is_some()
    });
    // The microphone picker offers the system default.
    assert!(
        h.query_all_by(|_| true).any(|n| {
            let n = n.accesskit_node();
            n.value().as_deref() == Some("System default")
                || n.label().as_deref() == Some("System default")
        }),
        "the microphone picker shows the system default"
    );
    let player = record_then_play(&mut h, sink, wav);
    // While the sound plays: a partial line ("…") shows words before the
    // first sentence is final, and the first sentence becomes a timed
    // segment during the pause, before the recording stops.
    let mut saw_partial = false;
    let mut first_final_while_recording = false;
    while !player.is_finished() {
        h.step();
        saw_partial |= h.query_by_label("  …").is_some();
        first_final_while_recording |=
            h.query_by_label_contains("punch").is_some() && h.query_by_label("Stop").is_some();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(player.join().unwrap(), "paplay");
    assert!(saw_partial, "no partial text while speaking");
    assert!(
        first_final_while_recording,
        "the first sentence was not final before the recording stopped"
    );
    h.get_by_label("Stop").click();
    wait_for(&mut h, "the transcript", |h| {
        h.query_by_label("Copy text").is_some()
    });
    let shown = window_text(&h).join(" ");
    eprintln!("shown: {shown}");
    let heard: Vec<String> = sentences
        .iter()
        .flat_map(|s| support::words(s))
        .filter(|w| support::words(&shown).contains(w))
        .collect();
    // tiny.en on synthetic speech through a sound server: nearly all words.
    assert!(heard.len() >= 12, "heard {heard:?} in: {shown}");
}

#[test]
fn an_example_then_a_failed_file_keeps_the_transcript_on_screen() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = support::tiny_en_cache(tmp.path());
    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Transcribe").click();
    // The example under the demo (tiny.en: the English one only).
    wait_for(&mut h, "the examples", |h| {
        h.query_by_label_contains("harvard-en.ogg (English")
            .is_some()
    });
    h.get_by_label_contains("harvard-en.ogg (English").click();
    wait_for(&mut h, "the transcript", |h| {
        h.query_by_label("Copy text").is_some()
    });
    assert!(
        h.query_by_label_contains("Done: 0:1").is_some()
            && h.query_by_label_contains("with Systran/faster-whisper-tiny.en")
                .is_some(),
        "says it finished, how long and with what: {:?}",
        window_text(&h)
    );
    assert!(window_text(&h).iter().any(|t| t.contains("birch canoe")));
    // A file that is not sound, run with Enter in the path field.
    let bad = tmp.path().join("notes.wav");
    std::fs::write(&bad, "these are notes, not sound").unwrap();
    assert_eq!(
        h.get_by_label("Audio file").value().as_deref(),
        Some(""),
        "an example's name is not put in the path field"
    );
    h.get_by_label("Audio file").focus();
    h.step();
    h.get_by_label("Audio file")
        .type_text(&bad.display().to_string());
    h.step();
    h.key_press(egui::Key::Enter);
    wait_for(&mut h, "the error", |h| {
        h.state().transcribe.status != spaceport::app::TranscribeStatus::LoadingModel
            && matches!(
                h.state().transcribe.status,
                spaceport::app::TranscribeStatus::Failed(_)
            )
    });
    // The words are still there, said to be the previous transcript.
    assert!(
        window_text(&h).iter().any(|t| t.contains("birch canoe")),
        "the transcript stayed: {:?}",
        window_text(&h)
    );
    assert!(
        h.query_by_label_contains("the previous transcript")
            .is_some()
    );
}

/// "Time each word" on, a recording of three sentences transcribed: its
/// SRT is karaoke (a cue a word), and Play sounds it through the speakers
/// while the words of the sentence being said are shown one by one —
/// the second sentence's words once the playback reaches it; Stop
/// playing ends it.
#[test]
fn alone_words_are_timed_and_followed_while_the_recording_plays() {
    let _turn = support::sink_turn();
    let _sink = support::test_sink();
    let model = support::whisper_ct2_dir();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    support::install_fixture(&cache, "Systran/faster-whisper-tiny.en", &model);
    let flac = tmp.path().join("sentences.flac");
    std::fs::copy("tests/fixtures/whisper/words/sentences.flac", &flac).unwrap();

    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Transcribe").click();
    wait_for(&mut h, "the page", |h| {
        h.query_by_label("Time each word").is_some()
    });
    h.get_by_label("Time each word").click();
    wait_for(&mut h, "word timings on", |h| {
        h.state().cx.settings.word_timestamps
    });
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(flac.clone())));
    wait_for(&mut h, "the transcript", |h| {
        h.query_by_label("Save .srt").is_some()
    });
    let t = h.state().transcribe.transcript.clone().unwrap();
    assert!(t.segments.iter().all(|s| !s.words.is_empty()), "{t:?}");
    h.get_by_label("Save .srt").click();
    let srt = wait_for_file(&mut h, &flac.with_extension("srt"));
    assert!(
        srt.contains("<u>") && srt.matches(" --> ").count() > 15,
        "{srt}"
    );

    // The second sentence's words, each its own label while it is said.
    let second = &t.segments[1];
    let elsewhere = |w: &str| {
        t.segments
            .iter()
            .enumerate()
            .any(|(i, s)| i != 1 && s.words.iter().any(|o| o.word == w))
    };
    let word = second
        .words
        .iter()
        .map(|w| w.word.clone())
        .filter(|w| !elsewhere(w))
        .max_by_key(String::len)
        .expect("a word only the second sentence has");
    assert!(
        h.query_by_label(&word).is_none(),
        "one line a segment until played"
    );
    h.get_by_label("▶ Play").click();
    wait_for(&mut h, "playing", |h| {
        h.query_by_label("■ Stop playing").is_some()
    });
    let start = Instant::now();
    loop {
        h.step();
        if h.query_by_label(&word).is_some() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{word:?} never shown on its own; at {:?}: {:?}",
            h.state().transcribe.playing,
            window_text(&h)
        );
        std::thread::sleep(Duration::from_millis(30));
    }
    let at = h.state().transcribe.playing.map_or(0.0, |p| p.1);
    assert!(
        at >= second.start - 0.6 && at <= second.end + 0.6,
        "shown at {at:.2} s; the sentence is {:.2}–{:.2} s",
        second.start,
        second.end
    );
    h.get_by_label("■ Stop playing").click();
    wait_for(&mut h, "stopped", |h| h.query_by_label("▶ Play").is_some());
}

/// Live captions from this computer's sound (the null sink's monitor)
/// into German with the tiny Marian fixture: the caption window shows the
/// words being said (a partial line, "…") and then each final line with
/// its translation, which equals the translation of that line; Stop
/// keeps everything; Save as… writes bilingual SRT, read back.
#[test]
fn alone_live_captions_with_translations_in_the_caption_window() {
    use spaceport::tasks::translate::{TranslateOptions, Translator};
    let _turn = support::sink_turn();
    let sink = support::test_sink();
    let tmp = tempfile::tempdir().unwrap();
    let cache = support::tiny_en_cache(tmp.path());
    let marian = std::path::Path::new("tests/fixtures/marian/tiny-en-de");
    support::install_fixture(&cache, "Helsinki-NLP/opus-mt-en-de", marian);
    let wav = tmp.path().join("say.wav");
    let sentences = [
        "The juice of lemons makes fine punch.",
        "Four hours of steady work faced us.",
    ];
    support::speak_with_pauses(&sentences, 1500, &wav);
    let mut h = support::ui::local_app(&cache);
    h.get_by_label("Transcribe").click();
    wait_for(&mut h, "the inputs and the translation model", |h| {
        h.state()
            .transcribe
            .input_devices
            .as_ref()
            .is_some_and(|d| d.iter().any(|n| n == "This computer's sound"))
            && h.query_by_label("Translate into").is_some()
            && h.state().cx.is_cached("Helsinki-NLP/opus-mt-en-de")
    });
    // The input: this computer's sound; into German; the caption window.
    h.get_by_label("Microphone").click();
    wait_for(&mut h, "the inputs listed", |h| {
        h.query_by_label("This computer's sound").is_some()
    });
    h.get_by_label("This computer's sound").click();
    h.get_by_label("Translate into").click();
    wait_for(&mut h, "the languages listed", |h| {
        h.query_by_label("German").is_some()
    });
    h.get_by_label("German").click();
    h.get_by_label("Caption window").click();
    wait_for(&mut h, "the choices made", |h| {
        let s = &h.state().cx.settings;
        s.caption_window
            && s.live_translate_to.as_deref() == Some("de")
            && h.state().transcribe.input_device.as_deref() == Some("This computer's sound")
    });
    wait_for(&mut h, "the caption window", |h| {
        h.query_by_label_contains("Captions appear here").is_some()
    });
    // Here (no second native window) it floats inside the main one: drag
    // it by its title to the bottom, off the page's buttons, as a person
    // would.
    let window = h.get_by_label("Live captions").rect();
    let title = egui::pos2(window.center().x, window.top() + 8.0);
    let to = egui::pos2(title.x, 820.0);
    for e in [
        egui::Event::PointerMoved(title),
        egui::Event::PointerButton {
            pos: title,
            button: egui::PointerButton::Primary,
            pressed: true,
            modifiers: egui::Modifiers::NONE,
        },
    ] {
        h.input_mut().events.push(e);
        h.step();
    }
    for i in 1..=10 {
        let p = title + (to - title) * (i as f32 / 10.0);
        h.input_mut().events.push(egui::Event::PointerMoved(p));
        h.step();
    }
    h.input_mut().events.push(egui::Event::PointerButton {
        pos: to,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
    h.step();
    assert!(
        h.get_by_label("Live captions").rect().center().y > 700.0,
        "the caption window moved"
    );
    let player = record_then_play(&mut h, sink, wav);
    let mut saw_partial = false;
    while !player.is_finished() {
        h.step();
        saw_partial |= window_text(&h).iter().any(|t| t.ends_with(" …"));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(player.join().unwrap(), "paplay");
    assert!(saw_partial, "no partial line in the caption window");
    h.get_by_label("Stop").click();
    wait_for(&mut h, "every line translated", |h| {
        let t = &h.state().transcribe;
        !t.dictating
            && !t.segments.is_empty()
            && t.translations.len() == t.segments.len()
            && t.translations.iter().all(Option::is_some)
    });
    // Each translation is the line's own, and the caption window shows
    // the last one with its original.
    let translator = Translator::load(marian, &candle_core::Device::Cpu).unwrap();
    let cues = h.state().transcribe.cues();
    for c in &cues {
        let expected = translator
            .translate(
                &c.original,
                &TranslateOptions::default(),
                &spaceport::work::CancelToken::new(),
                &mut |_| {},
            )
            .unwrap()
            .text;
        assert_eq!(c.translation.as_deref(), Some(expected.as_str()), "{c:?}");
    }
    let last = cues.last().unwrap();
    for _ in 0..3 {
        h.step();
    }
    let shown = window_text(&h);
    assert!(
        shown.iter().any(|t| t == last.original.trim())
            && shown
                .iter()
                .any(|t| Some(t.as_str()) == last.translation.as_deref()),
        "the caption window shows the last line and its translation: {shown:?}"
    );
    let heard: String = cues
        .iter()
        .map(|c| c.original.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        support::wer(&sentences.join(" "), &heard) <= 0.35,
        "{heard:?}"
    );
    // Bilingual SRT through Save as….
    let srt_path = tmp.path().join("captions.srt");
    let _asked = answer_dialogs(&mut h, vec![srt_path.clone()]);
    h.get_by_label("Save as…").click();
    let srt = wait_for_file(&mut h, &srt_path);
    let blocks: Vec<&str> = srt.trim().split("\n\n").collect();
    assert_eq!(blocks.len(), cues.len(), "{srt}");
    for (b, c) in blocks.iter().zip(&cues) {
        let lines: Vec<&str> = b.lines().collect();
        assert_eq!(lines[2], c.original.trim(), "{srt}");
        assert_eq!(
            Some(lines[3]),
            c.translation.as_deref().map(str::trim),
            "{srt}"
        );
    }
}

/// A dictation that tells pauses by loudness (the voice-activity model is
/// not in the cache) says so and offers the model; clicking the button
/// downloads `silero_vad.onnx` from the (stand-in) Hub into the standard
/// cache, where the next dictation finds it, and the page says so.
#[test]
fn the_voice_activity_model_is_offered_and_downloaded_from_the_page() {
    use spaceport::tasks::transcribe::silero::{HUB_FILE, HUB_REPO, SileroVad};
    use support::standin_hub::{FileSpec, RepoSpec, StandinHub};
    let tmp = tempfile::tempdir().unwrap();
    let cache = support::tiny_en_cache(tmp.path());
    let onnx = std::fs::read(support::silero_vad_file()).unwrap();
    let hub = StandinHub::start(vec![RepoSpec::new(
        HUB_REPO,
        vec![FileSpec::new(HUB_FILE, onnx.clone(), true)],
    )]);
    let mut h = support::ui::app_harness(support::config(&hub, &cache), Default::default());
    h.get_by_label("Transcribe").click();
    wait_for(&mut h, "the Record button", |h| {
        h.query_by_label("Record").is_some()
    });
    // What a dictation without the model reports when it starts.
    {
        use spaceport::app::pages::View;
        let app = h.state_mut();
        let ready = spaceport::workers::Event::LiveReady {
            generation: app.transcribe.generation,
            learned_vad: false,
        };
        assert!(app.transcribe.on_event(ready, &mut app.cx).is_none());
    }
    wait_for(&mut h, "the offer", |h| {
        h.query_by_label("Pauses: by loudness").is_some()
            && h.query_by_label("Get voice detection (2.3 MB)").is_some()
    });
    h.get_by_label("Get voice detection (2.3 MB)").click();
    wait_for(&mut h, "the download", |h| {
        h.query_by_label_contains("Voice detection downloaded")
            .is_some()
    });
    let (_, snap) = spaceport::hub::cache::resolve_snapshot(&cache, HUB_REPO, "main")
        .expect("the model's snapshot in the cache");
    assert_eq!(std::fs::read(snap.join(HUB_FILE)).unwrap(), onnx);
    SileroVad::load(&snap.join(HUB_FILE)).expect("the downloaded model loads");
}

/// Clicks Record, waits until the page records, then plays `wav` into
/// the test sink on a thread (whose result says paplay succeeded) after a
/// moment — a freshly started sound server needs it to deliver its first
/// buffers, so the start of the speech is not clipped.
fn record_then_play(
    h: &mut egui_kittest::Harness<'_, spaceport::app::App>,
    sink: String,
    wav: std::path::PathBuf,
) -> std::thread::JoinHandle<bool> {
    h.get_by_label("Record").click();
    wait_for(h, "recording", |h| {
        h.state().transcribe.recording.is_some() && h.query_by_label("Stop").is_some()
    });
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1200));
        std::process::Command::new("paplay")
            .args(["-d", &sink])
            .arg(&wav)
            .status()
            .unwrap()
            .success()
    })
}
