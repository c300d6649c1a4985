//! The microphone end to end through a real audio server: PulseAudio with
//! a null sink (set up by the test command), espeak-ng speech played into
//! it, and `spaceport transcribe --mic` recording the sink's monitor
//! through cpal — recorded, then transcribed; and dictated live.

use crate::support;

/// Runs `spaceport transcribe ARGS --model tiny.en` while `wav` plays
/// into the test sink (the default output), a second after it says it
/// records; take `support::sink_turn` first.
pub(crate) fn transcribe_while_playing(
    args: &[&str],
    wav: &std::path::Path,
) -> std::process::Output {
    use std::io::{BufRead, Read};
    let sink = support::test_sink();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .arg("transcribe")
        .args(args)
        .arg("--model")
        .arg(support::whisper_ct2_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Play once it says it records (a sound server's stream can take a
    // moment to deliver), and a second more, as a person would start
    // talking.
    let (said, started) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            if line.starts_with("recording ") {
                let _ = said.send(());
            }
            all.extend_from_slice(line.as_bytes());
            all.push(b'\n');
        }
        all
    });
    let mut out = child.stdout.take().unwrap();
    let output = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = out.read_to_end(&mut all);
        all
    });
    let _ = started.recv_timeout(std::time::Duration::from_secs(30));
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let played = std::process::Command::new("paplay")
        .args(["-d", &sink])
        .arg(wav)
        .status()
        .unwrap();
    assert!(played.success(), "paplay");
    let status = child.wait().unwrap();
    std::process::Output {
        status,
        stdout: output.join().unwrap(),
        stderr: errors.join().unwrap(),
    }
}

/// Runs `spaceport transcribe --mic ARGS` while `wav` plays into the
/// test sink.
fn record_while_playing(args: &[&str], wav: &std::path::Path) -> std::process::Output {
    let _turn = support::sink_turn();
    let mut all = vec!["--mic"];
    all.extend_from_slice(args);
    transcribe_while_playing(&all, wav)
}

#[test]
fn alone_dictation_through_the_microphone() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("say.wav");
    let said = "Rice is often served in round bowls. The juice of lemons makes fine punch.";
    support::speak_clearly(said, &wav);
    let out = record_while_playing(&["--seconds", "11", "--format", "json"], &wav);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("recording"), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = v["text"].as_str().unwrap();
    let rate = support::wer(said, text);
    eprintln!("microphone WER {rate:.3}: {text:?}");
    assert!(rate <= 0.15, "WER {rate:.3}: heard {text:?}");
}

#[test]
fn alone_live_dictation_through_the_microphone() {
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("live.wav");
    let said =
        "The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage.";
    support::speak_clearly(said, &wav);
    let out = record_while_playing(&["--live", "--seconds", "12"], &wav);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Words showed while speaking, before the sentence was final.
    assert!(stderr.contains("partial "), "{stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() >= 2, "a line per sentence: {text:?}");
    let rate = support::wer(said, &text);
    eprintln!("live microphone WER {rate:.3}: {text:?}\n{stderr}");
    assert!(rate <= 0.15, "WER {rate:.3}: heard {text:?}");
}
