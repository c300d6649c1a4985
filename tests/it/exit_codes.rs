//! Every model command of the CLI driven into each failure class, checking
//! the README's exit code and a one-sentence message on stderr: 2 bad
//! arguments or input, 3 a missing file or model, 8 an unusable model,
//! 1 a failure while running (here: output to a full disk), 130 cancelled
//! (Ctrl-C); a model not in the cache while offline is the hub's 5. The
//! hub commands' codes are in `cli.rs`.

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn spaceport(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_spaceport"));
    c.args(args)
        .env(
            "HF_HUB_CACHE",
            std::env::temp_dir().join("spaceport-exit-codes-empty"),
        )
        .env("HF_HUB_OFFLINE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Checks the code and that stderr ends in one sentence naming `words`.
fn check(out: &Output, code: i32, words: &str, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    let last = err
        .lines()
        .rev()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("{what}: no error line in {err}"));
    assert!(
        last.to_lowercase().contains(&words.to_lowercase()),
        "{what}: {last}"
    );
    assert!(
        last.trim_end().ends_with('.') || last.trim_end().ends_with(')'),
        "{what}: not a sentence: {last}"
    );
}

fn run(args: &[&str]) -> Output {
    spaceport(args).output().unwrap()
}

/// With standard output on a full disk (`/dev/full`).
fn run_full(args: &[&str]) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    spaceport(args).stdout(full).output().unwrap()
}

/// A copy of a model folder with `file` replaced by `text` (or removed).
fn damaged_copy(model: &Path, file: &str, text: Option<&str>, to: &Path) -> String {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(model).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    match text {
        Some(t) => std::fs::write(to.join(file), t).unwrap(),
        None => std::fs::remove_file(to.join(file)).unwrap(),
    }
    to.display().to_string()
}

fn interrupt(child: &Child) {
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Reads lines of the child's stdout until `n` have come.
fn wait_for_lines(child: &mut Child, n: usize) -> BufReader<std::process::ChildStdout> {
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for _ in 0..n {
        line.clear();
        reader.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "the command ended early");
    }
    reader
}

#[test]
fn translate_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let de = root().join("tests/fixtures/marian/tiny-en-de");
    let mul = root().join("tests/fixtures/marian/tiny-en-mul");
    let (de, mul) = (de.to_str().unwrap(), mul.to_str().unwrap());
    check(
        &run(&["translate", "--model", mul, "--to", "xx", "Hello."]),
        2,
        "can't translate into \"xx\"",
        "unknown target",
    );
    check(
        &run(&["translate", "--model", mul, ">>xx<< Hello."]),
        2,
        "can't translate into \"xx\"",
        "unknown >>xx<< code",
    );
    check(
        &run(&["translate", "--model", de]),
        2,
        "give the text",
        "no text",
    );
    check(
        &run(&[
            "translate",
            "--model",
            de,
            "--from",
            "de",
            "--to",
            "fr",
            "Hallo.",
        ]),
        2,
        "not both",
        "--model and --from together",
    );
    // Offline, a model that is not in the cache can't be fetched: the
    // hub's class (5, network or offline).
    check(
        &run(&["translate", "--model", "nobody/nothing", "Hello."]),
        5,
        "not in the local cache",
        "a model that is not downloaded, offline",
    );
    let no_config = damaged_copy(Path::new(de), "config.json", None, &tmp.path().join("a"));
    check(
        &run(&["translate", "--model", &no_config, "Hello."]),
        3,
        "no config.json",
        "a model folder without config.json",
    );
    let bad_config = damaged_copy(
        Path::new(de),
        "config.json",
        Some("{\"d_model\": "),
        &tmp.path().join("b"),
    );
    check(
        &run(&["translate", "--model", &bad_config, "Hello."]),
        8,
        "config.json",
        "a damaged config.json",
    );
    check(
        &run_full(&["translate", "--model", de, "Hello."]),
        1,
        "could not write the output",
        "a full disk",
    );
    // Ctrl-C while lines are being translated from standard input.
    let mut child = spaceport(&["translate", "--model", de, "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "The first sentence.").unwrap();
    let _reader = wait_for_lines(&mut child, 1);
    interrupt(&child);
    writeln!(stdin, "The second sentence.").unwrap();
    drop(stdin);
    check(
        &child.wait_with_output().unwrap(),
        130,
        "cancelled",
        "Ctrl-C",
    );
}

#[test]
fn caption_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let model = root().join("tests/fixtures/blip/tiny");
    let m = model.to_str().unwrap();
    let picture = root().join("tests/fixtures/blip/images/gray.png");
    let p = picture.to_str().unwrap();
    let text = tmp.path().join("notes.png");
    std::fs::write(&text, "not a picture").unwrap();
    check(
        &run(&["caption", "--model", m, text.to_str().unwrap()]),
        2,
        "is not a picture",
        "not a picture",
    );
    check(
        &run(&["caption", "--model", m, "/nowhere/cat.jpg"]),
        3,
        "was not found",
        "a missing picture",
    );
    let bad = serde_json::json!({
        "vision_config": { "patch_size": 0 },
        "text_config": {}
    })
    .to_string();
    let zero_patch = damaged_copy(&model, "config.json", Some(&bad), &tmp.path().join("a"));
    check(
        &run(&["caption", "--model", &zero_patch, p]),
        8,
        "patch_size is 0",
        "a zero patch size",
    );
    let no_tokenizer = damaged_copy(&model, "tokenizer.json", None, &tmp.path().join("b"));
    check(
        &run(&["caption", "--model", &no_tokenizer, p]),
        3,
        "tokenizer.json",
        "no tokenizer",
    );
    check(
        &run_full(&["caption", "--model", m, p]),
        1,
        "could not write the output",
        "a full disk",
    );
    // Ctrl-C during a long batch.
    let many: Vec<&str> = std::iter::repeat_n(p, 3000).collect();
    let mut args = vec!["caption", "--model", m];
    args.extend(many);
    let mut child = spaceport(&args).spawn().unwrap();
    let mut reader = wait_for_lines(&mut child, 2);
    interrupt(&child);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    check(&out, 130, "cancelled", "Ctrl-C");
    assert!(rest.lines().count() < 2998, "Ctrl-C stopped the batch");
}

#[test]
fn transcribe_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let model = support::whisper_ct2_dir();
    let m = model.to_str().unwrap();
    let wav = tmp.path().join("speech.wav");
    support::speak(
        "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. \
         It is easy to tell the depth of a well. These days a chicken leg is a rare dish. \
         Rice is often served in round bowls. The juice of lemons makes fine punch.",
        &wav,
    );
    let w = wav.to_str().unwrap();
    let text = tmp.path().join("notes.wav");
    std::fs::write(&text, "not audio at all").unwrap();
    check(
        &run(&["transcribe", "--model", m, text.to_str().unwrap()]),
        2,
        "is not an audio file",
        "not audio",
    );
    check(
        &run(&["transcribe", "--model", m, "--format", "doc", w]),
        2,
        "unknown format",
        "a bad format",
    );
    check(
        &run(&["transcribe", "--model", m, "/nowhere/talk.wav"]),
        3,
        "was not found",
        "a missing file",
    );
    let short = tmp.path().join("short");
    std::fs::create_dir_all(&short).unwrap();
    for e in std::fs::read_dir(&model).unwrap().flatten() {
        std::fs::copy(e.path(), short.join(e.file_name())).unwrap();
    }
    let bin = std::fs::read(model.join("model.bin")).unwrap();
    std::fs::write(short.join("model.bin"), &bin[..bin.len() / 3]).unwrap();
    check(
        &run(&["transcribe", "--model", short.to_str().unwrap(), w]),
        8,
        "model.bin",
        "a truncated model.bin",
    );
    check(
        &run_full(&["transcribe", "--model", m, w]),
        1,
        "could not write the output",
        "a full disk",
    );
    // Ctrl-C a second into two minutes of speech (several seconds of work
    // even on a fast machine).
    let long = tmp.path().join("long.wav");
    let joined = Command::new("sox")
        .args(std::iter::repeat_n(w, 8))
        .arg(&long)
        .status()
        .unwrap();
    assert!(joined.success(), "sox joins the clips");
    let child = spaceport(&["transcribe", "--model", m, long.to_str().unwrap()])
        .spawn()
        .unwrap();
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(1000));
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    check(&out, 130, "cancelled", "Ctrl-C");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn download_is_cancelled_by_ctrl_c() {
    use support::standin_hub::Fault;
    let hub = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let repo = support::marian_repo("Helsinki-NLP/opus-mt-slow-en-de", 400_000);
    hub.set_repos(vec![repo]);
    hub.inject(
        "Helsinki-NLP/opus-mt-slow-en-de",
        "model.safetensors",
        Fault::Slow(50_000),
    );
    let child = Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args(["download", "Helsinki-NLP/opus-mt-slow-en-de"])
        .env("HF_ENDPOINT", &hub.url)
        .env("HF_HUB_CACHE", tmp.path())
        .env("HF_HOME", tmp.path().join("home"))
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("HF_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while hub.served("Helsinki-NLP/opus-mt-slow-en-de", "model.safetensors") == 0 {
        assert!(Instant::now() < deadline, "the download never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    check(&out, 130, "cancelled", "Ctrl-C");
    // What was fetched stays for resuming.
    let partial = walk(tmp.path())
        .into_iter()
        .any(|p| p.to_string_lossy().ends_with(".incomplete"));
    assert!(partial, "the partial download is kept");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
