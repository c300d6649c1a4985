//! One cache for both tools: a model Spaceport downloaded is found by
//! Python `huggingface_hub` (`hf_hub_download(local_files_only=True)`,
//! `scan_cache_dir`), and a model `huggingface_hub` downloaded from the
//! stand-in Hub (`HF_ENDPOINT`) is listed and opened by Spaceport.
//!
//! The test command installs `huggingface_hub` in a virtual environment
//! and points `SPACEPORT_PYTHON` at its interpreter.

use crate::support;

use std::path::Path;
use std::process::Command;

use spaceport::hub::{Hub, cache};
use spaceport::work::CancelToken;

use support::run_python;

#[test]
fn python_finds_what_spaceport_downloaded() {
    let s = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let repo = "Helsinki-NLP/opus-mt-tiny-en-de";
    let snap = Hub::new(support::config(&s, tmp.path()))
        .download_model(repo, "main", &CancelToken::new(), &mut |_| {})
        .unwrap();
    let script = format!(
        r#"
import json
from huggingface_hub import hf_hub_download, scan_cache_dir
p = hf_hub_download("{repo}", "model.safetensors", local_files_only=True)
info = scan_cache_dir()
repos = [{{"id": r.repo_id, "files": r.nb_files, "size": r.size_on_disk,
          "refs": sorted(x for rev in r.revisions for x in rev.refs),
          "commits": [rev.commit_hash for rev in r.revisions]}} for r in info.repos]
print(json.dumps({{"path": p, "repos": repos, "warnings": [str(w) for w in info.warnings]}}))
"#
    );
    let out: serde_json::Value =
        serde_json::from_str(run_python(&script, &s.url, tmp.path()).trim()).unwrap();
    let path = out["path"].as_str().unwrap();
    assert_eq!(Path::new(path), snap.path.join("model.safetensors"));
    assert_eq!(out["warnings"].as_array().unwrap().len(), 0, "{out}");
    let r = &out["repos"][0];
    assert_eq!(r["id"], repo);
    assert_eq!(r["files"], 8);
    assert_eq!(r["refs"][0], "main");
    assert_eq!(r["commits"][0].as_str().unwrap(), snap.commit);
    let ours = cache::scan_repo(tmp.path(), repo).unwrap();
    assert_eq!(r["size"].as_u64().unwrap(), ours.size_bytes);
}

#[test]
fn spaceport_lists_and_opens_what_python_downloaded() {
    let s = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let repo = "openai/whisper-tiny-test";
    let script = format!(
        r#"
from huggingface_hub import snapshot_download
print(snapshot_download("{repo}"))
"#
    );
    let py_path = run_python(&script, &s.url, tmp.path());
    let models = cache::scan(tmp.path()).unwrap();
    let m = models.iter().find(|m| m.repo == repo).expect("listed");
    assert!(m.verdict.runs_here(), "{:?}", m.verdict);
    assert_eq!(m.main_revision().unwrap().refs, ["main"]);
    // Opened offline: no request reaches the Hub.
    let before = s.requests().len();
    let mut cfg = support::config(&s, tmp.path());
    cfg.offline = true;
    let snap = Hub::new(cfg)
        .download_model(repo, "main", &CancelToken::new(), &mut |_| {})
        .unwrap();
    assert_eq!(snap.path, Path::new(py_path.trim()));
    assert_eq!(s.requests().len(), before);
    // And online, Spaceport sees the files are there and fetches nothing.
    let again = Hub::new(support::config(&s, tmp.path()))
        .download_model(repo, "main", &CancelToken::new(), &mut |_| {})
        .unwrap();
    assert_eq!(again.bytes_fetched, 0);
}

/// Starts `spaceport download REPO` against the stand-in Hub.
fn spaceport_download(endpoint: &str, cache_dir: &Path, repo: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_spaceport"))
        .args(["download", repo])
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HUB_CACHE", cache_dir)
        .env("HF_HOME", cache_dir.join("home"))
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("HF_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// A repo whose weights the stand-in sends slowly, so two downloads of
/// it overlap.
fn slow_hub(repo: &str, weights: usize) -> support::standin_hub::StandinHub {
    let s = support::start_hub();
    s.set_repos(vec![support::marian_repo(repo, weights)]);
    s.inject(
        repo,
        "model.safetensors",
        support::standin_hub::Fault::Slow(400_000),
    );
    s
}

/// The stand-in sent `repo`'s weights once (within a tenth): the second
/// download waited for the first's lock and found the blob done.
fn sent_once(s: &support::standin_hub::StandinHub, repo: &str, weights: usize) {
    let served = s.served(repo, "model.safetensors");
    assert!(
        served <= weights as u64 + weights as u64 / 10,
        "served {served} bytes of a {weights}-byte file"
    );
}

fn succeeded(out: std::process::Output, who: &str) {
    assert!(
        out.status.success(),
        "{who}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn two_spaceport_downloads_of_one_model_wait_for_each_other() {
    let repo = "Helsinki-NLP/opus-mt-twice-en-de";
    let weights = 600_000;
    let s = slow_hub(repo, weights);
    let tmp = tempfile::tempdir().unwrap();
    let a = spaceport_download(&s.url, tmp.path(), repo);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let b = spaceport_download(&s.url, tmp.path(), repo);
    succeeded(a.wait_with_output().unwrap(), "first download");
    succeeded(b.wait_with_output().unwrap(), "second download");
    sent_once(&s, repo, weights);
    let lock_dir = tmp
        .path()
        .join(".locks/models--Helsinki-NLP--opus-mt-twice-en-de");
    assert!(lock_dir.is_dir(), "huggingface_hub's lock folder is used");
    let snap = Hub::new(support::config(&s, tmp.path()))
        .download_model(repo, "main", &CancelToken::new(), &mut |_| {})
        .unwrap();
    let data = std::fs::read(snap.path.join("model.safetensors")).unwrap();
    assert_eq!(data, support::noise(weights, 3));
}

#[test]
fn spaceport_and_python_download_one_model_side_by_side() {
    let repo = "Helsinki-NLP/opus-mt-shared-en-de";
    let weights = 600_000;
    let s = slow_hub(repo, weights);
    let tmp = tempfile::tempdir().unwrap();
    let script = format!(
        r#"
from huggingface_hub import hf_hub_download
print(hf_hub_download("{repo}", "model.safetensors"))
"#
    );
    let (url, cache) = (s.url.clone(), tmp.path().to_path_buf());
    let python = std::thread::spawn(move || run_python(&script, &url, &cache));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let ours = spaceport_download(&s.url, tmp.path(), repo);
    succeeded(ours.wait_with_output().unwrap(), "spaceport download");
    let path = python.join().expect("python downloads too");
    let data = std::fs::read(path.trim()).unwrap();
    assert_eq!(data, support::noise(weights, 3), "the blob is whole");
    sent_once(&s, repo, weights);
    // Both see the same blob, and nothing unfinished is left.
    let blobs = tmp
        .path()
        .join("models--Helsinki-NLP--opus-mt-shared-en-de/blobs");
    let names: Vec<String> = std::fs::read_dir(&blobs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(".incomplete")),
        "{names:?}"
    );
}
