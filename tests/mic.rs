//! The microphone end to end through a real audio server: PulseAudio with
//! a null sink (set up by the test command), espeak-ng speech played into
//! it, and `spaceport transcribe --mic` recording the sink's monitor
//! through cpal.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn dictation_through_the_microphone() {
    let sink = std::env::var("SPACEPORT_TEST_SINK")
        .expect("run scripts/test.sh: it starts PulseAudio with a null sink for this test");
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("say.wav");
    let said = "Rice is often served in round bowls. The juice of lemons makes fine punch.";
    support::speak_clearly(said, &wav);
    let model = support::whisper_ct2_dir();
    let child = Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args([
            "transcribe",
            "--mic",
            "--seconds",
            "11",
            "--format",
            "json",
            "--model",
        ])
        .arg(&model)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let played = Command::new("paplay")
        .args(["-d", &sink])
        .arg(&wav)
        .status()
        .unwrap();
    assert!(played.success(), "paplay");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("recording"), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = v["text"].as_str().unwrap();
    let rate = support::wer(said, text);
    eprintln!("microphone WER {rate:.3}: {text:?}");
    assert!(rate <= 0.15, "WER {rate:.3}: heard {text:?}");
}
