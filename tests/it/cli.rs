//! The `spaceport` binary's hub commands against the stand-in Hub: JSON
//! shapes, messages and exit codes fit for scripts.

use crate::support;

use std::process::{Command, Output};

use serde_json::Value;
use support::standin_hub::StandinHub;

fn spaceport(hub: &StandinHub, cache: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args(args)
        .env("HF_ENDPOINT", &hub.url)
        .env("HF_HUB_CACHE", cache)
        .env("HF_HOME", cache.join("home"))
        .env_remove("HF_TOKEN")
        .env_remove("HF_HUB_OFFLINE")
        .output()
        .expect("run spaceport")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn search_info_download_models_rm_round_trip() {
    let hub = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path();

    let found = json(&spaceport(
        &hub,
        cache,
        &[
            "search",
            "whisper",
            "--task",
            "automatic-speech-recognition",
            "--json",
        ],
    ));
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 2);
    for m in found {
        for key in ["id", "pipeline_tag", "downloads", "likes", "runs_here"] {
            assert!(m.get(key).is_some(), "{key} in {m}");
        }
        assert_eq!(m["runs_here"], true);
    }
    // Sorted by downloads, descending.
    assert_eq!(found[0]["id"], "openai/whisper-tiny-test");

    // --limit pages through the Link header when needed.
    hub.cap_page_size(2);
    let five = json(&spaceport(
        &hub,
        cache,
        &["search", "", "--limit", "5", "--json"],
    ));
    assert_eq!(five.as_array().unwrap().len(), 5);

    let info = json(&spaceport(
        &hub,
        cache,
        &["info", "Helsinki-NLP/opus-mt-tiny-en-de", "--json"],
    ));
    assert_eq!(info["summary"]["runs_here"], true);
    assert_eq!(info["license"], "cc-by-4.0");

    let dl = json(&spaceport(
        &hub,
        cache,
        &["download", "Helsinki-NLP/opus-mt-tiny-en-de", "--json"],
    ));
    let path = dl["path"].as_str().unwrap();
    assert!(dl["commit"].as_str().unwrap().len() == 40);
    assert_eq!(dl["repo"], "Helsinki-NLP/opus-mt-tiny-en-de");
    assert!(std::path::Path::new(path).join("config.json").is_file());
    assert!(path.starts_with(cache.to_str().unwrap()));

    let models = json(&spaceport(&hub, cache, &["models", "--json"]));
    assert_eq!(models[0]["repo"], "Helsinki-NLP/opus-mt-tiny-en-de");
    assert!(models[0]["size_bytes"].as_u64().unwrap() > 200_000);

    let text = spaceport(&hub, cache, &["models"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("1 model,"));

    let rm = json(&spaceport(
        &hub,
        cache,
        &["rm", "Helsinki-NLP/opus-mt-tiny-en-de", "--json"],
    ));
    assert!(rm["freed_bytes"].as_u64().unwrap() > 200_000);
    let models = json(&spaceport(&hub, cache, &["models", "--json"]));
    assert_eq!(models.as_array().unwrap().len(), 0);
}

#[test]
fn failures_exit_with_script_friendly_codes_and_sentences() {
    let hub = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path();
    let cases: [(&[&str], i32, &str); 5] = [
        (&["download", "nobody/nothing"], 3, "not found"),
        (&["download", "gated-org/opus-mt-gated"], 4, "gated"),
        (&["info", "not a repo"], 3, "not a valid model id"),
        (
            &["rm", "Helsinki-NLP/opus-mt-tiny-en-de"],
            3,
            "not downloaded",
        ),
        (&["search", "x", "--offline"], 5, "offline"),
    ];
    for (args, code, words) in cases {
        let out = spaceport(&hub, cache, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.to_lowercase().contains(words), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // Offline through the environment, as huggingface_hub reads it.
    let before = hub.requests().len();
    let out = Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args(["download", "Helsinki-NLP/opus-mt-tiny-en-de"])
        .env("HF_HUB_CACHE", cache)
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_ENDPOINT", &hub.url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(hub.requests().len(), before, "offline sends nothing");
}
