//! The Hub client and downloader against the stand-in Hub: search paging,
//! details, downloads into the standard cache layout, resume after a cut,
//! a cancel and a killed process, checksum failures, retries, Hub errors,
//! hostile names, offline mode and deletion.

use crate::support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use spaceport::hub::cache;
use spaceport::hub::{Hub, HubError, SearchQuery, Sort, TaskFilter, Token};
use spaceport::work::CancelToken;
use support::standin_hub::{Fault, FileSpec, RepoSpec, StandinHub};

const MARIAN: &str = "Helsinki-NLP/opus-mt-tiny-en-de";

fn hub_for(s: &StandinHub, cache: &Path) -> Hub {
    Hub::new(support::config(s, cache))
}

fn download(hub: &Hub, repo: &str) -> Result<spaceport::hub::Snapshot, HubError> {
    hub.download_model(repo, "main", &CancelToken::new(), &mut |_| {})
}

/// Bytes served for a file once the stand-in Hub has finished writing to
/// connections that were dropped (a killed or cancelled client).
fn settled_served(s: &StandinHub, repo: &str, path: &str) -> u64 {
    let mut last = s.served(repo, path);
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = s.served(repo, path);
        if now == last {
            return now;
        }
        last = now;
    }
}

fn repo_dir(cache: &Path, repo: &str) -> std::path::PathBuf {
    cache.join(format!("models--{}", repo.replace('/', "--")))
}

#[test]
fn search_pages_through_link_and_filters_by_task() {
    let s = support::start_hub();
    s.cap_page_size(3);
    let tmp = tempfile::tempdir().unwrap();
    let hub = hub_for(&s, tmp.path());
    let q = SearchQuery {
        text: String::new(),
        task: TaskFilter::All,
        sort: Sort::Downloads,
        limit: 3,
    };
    let mut page = hub.search(&q).unwrap();
    let mut ids: Vec<String> = Vec::new();
    let mut pages = 1;
    loop {
        assert!(page.models.len() <= 3);
        ids.extend(page.models.iter().map(|m| m.id.clone()));
        match page.next.take() {
            Some(next) => {
                page = hub.search_page(&next).unwrap();
                pages += 1;
            }
            None => break,
        }
    }
    // 8 repos, one private: 7 visible, in 3 pages, most downloaded first.
    assert_eq!(ids.len(), 7, "{ids:?}");
    assert_eq!(pages, 3);
    assert_eq!(ids[0], "google/bert-tiny-test");
    assert!(!ids.iter().any(|i| i.contains("secret")));

    s.cap_page_size(1000);
    let q = SearchQuery {
        text: "opus".into(),
        task: TaskFilter::Translation,
        sort: Sort::Likes,
        limit: 50,
    };
    let page = hub.search(&q).unwrap();
    assert!(
        page.models
            .iter()
            .all(|m| m.pipeline_tag.as_deref() == Some("translation"))
    );
    assert_eq!(page.models.len(), 3);

    let q = SearchQuery {
        text: "".into(),
        task: TaskFilter::All,
        sort: Sort::Downloads,
        limit: 50,
    };
    let all = hub.search(&q).unwrap().models;
    let get = |id: &str| all.iter().find(|m| m.id == id).unwrap();
    assert!(!get("google/bert-tiny-test").runs_here);
    assert!(
        get("google/bert-tiny-test")
            .verdict
            .explain()
            .contains("BertForMaskedLM")
    );
    assert_eq!(
        get("Systran/faster-whisper-tiny-test").verdict.panel(),
        Some(spaceport::catalog::Panel::Transcribe)
    );
    assert_eq!(
        get(MARIAN).verdict.panel(),
        Some(spaceport::catalog::Panel::Translate)
    );
    assert_eq!(
        get("Salesforce/blip-tiny-test").verdict.panel(),
        Some(spaceport::catalog::Panel::Caption)
    );
    assert!(get(MARIAN).size_bytes.is_some());
}

#[test]
fn details_show_files_card_licence_and_needed_files() {
    let s = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let d = hub_for(&s, tmp.path()).details(MARIAN, "main").unwrap();
    assert_eq!(d.license.as_deref(), Some("cc-by-4.0"));
    let card = d.card.as_deref().unwrap();
    assert!(
        card.starts_with("# Helsinki-NLP"),
        "front matter stripped: {card}"
    );
    assert!(d.files.iter().any(|f| f.path == "onnx/encoder_model.onnx"));
    assert_eq!(
        d.needed,
        [
            "README.md",
            "config.json",
            "generation_config.json",
            "model.safetensors",
            "source.spm",
            "target.spm",
            "tokenizer_config.json",
            "vocab.json"
        ]
    );
    let st = d
        .files
        .iter()
        .find(|f| f.path == "model.safetensors")
        .unwrap();
    assert_eq!(st.size, 200_000);
    assert_eq!(st.lfs_sha256.as_deref().map(str::len), Some(64));
}

#[test]
fn download_writes_the_standard_cache_layout_with_only_needed_files() {
    let s = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let hub = hub_for(&s, tmp.path());
    let mut events = 0;
    let snap = hub
        .download_model(MARIAN, "main", &CancelToken::new(), &mut |p| {
            events += 1;
            assert!(p.bytes <= p.total);
            assert_eq!(p.files_total, 8);
        })
        .unwrap();
    assert!(events > 0);
    let dir = repo_dir(tmp.path(), MARIAN);
    assert_eq!(snap.path, dir.join("snapshots").join(&snap.commit));
    assert_eq!(
        std::fs::read_to_string(dir.join("refs/main")).unwrap(),
        snap.commit
    );
    let mut files: Vec<String> = std::fs::read_dir(&snap.path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 8, "{files:?}");
    assert!(!files.contains(&"pytorch_model.bin".to_string()));
    assert_eq!(s.served(MARIAN, "pytorch_model.bin"), 0);
    assert_eq!(s.served(MARIAN, "tf_model.h5"), 0);
    // Each file is a relative link to a blob named by its etag.
    let link = std::fs::read_link(snap.path.join("model.safetensors")).unwrap();
    let data = support::noise(200_000, 3);
    let sha = format!("{:x}", Sha256::digest(&data));
    assert_eq!(link, Path::new("../../blobs").join(&sha));
    assert_eq!(
        std::fs::read(snap.path.join("model.safetensors")).unwrap(),
        data
    );
    // The token is never sent to the CDN host.
    // Nothing is fetched a second time.
    let again = download(&hub, MARIAN).unwrap();
    assert_eq!(again.bytes_fetched, 0);
    assert_eq!(s.served(MARIAN, "model.safetensors"), 200_000);
}

#[test]
fn a_cut_connection_resumes_from_the_cut() {
    let s = support::start_hub();
    s.inject(MARIAN, "model.safetensors", Fault::CutAfter(120_000));
    let tmp = tempfile::tempdir().unwrap();
    let snap = download(&hub_for(&s, tmp.path()), MARIAN).unwrap();
    // Every byte was served once: the second request continued at the cut.
    assert_eq!(s.served(MARIAN, "model.safetensors"), 200_000);
    let reqs = s.requests();
    assert!(
        reqs.iter()
            .any(|r| r.starts_with("GET /cdn/") && r.contains("range=bytes=120000-")),
        "{reqs:#?}"
    );
    assert_eq!(
        std::fs::read(snap.path.join("model.safetensors")).unwrap(),
        support::noise(200_000, 3)
    );
}

#[test]
fn a_500_is_retried_and_a_corrupt_body_is_fetched_again() {
    let s = support::start_hub();
    s.inject(MARIAN, "config.json", Fault::Status500);
    s.inject(MARIAN, "vocab.json", Fault::RateLimited);
    s.inject(MARIAN, "model.safetensors", Fault::Corrupt);
    let tmp = tempfile::tempdir().unwrap();
    let snap = download(&hub_for(&s, tmp.path()), MARIAN).unwrap();
    assert_eq!(
        s.served(MARIAN, "model.safetensors"),
        400_000,
        "fetched twice"
    );
    assert_eq!(
        std::fs::read(snap.path.join("model.safetensors")).unwrap(),
        support::noise(200_000, 3)
    );
    assert!(snap.path.join("config.json").exists());
}

#[test]
fn a_body_corrupt_twice_is_refused_and_not_kept() {
    let s = support::start_hub();
    s.inject(MARIAN, "model.safetensors", Fault::Corrupt);
    s.inject(MARIAN, "model.safetensors", Fault::Corrupt);
    let tmp = tempfile::tempdir().unwrap();
    let err = download(&hub_for(&s, tmp.path()), MARIAN).unwrap_err();
    assert!(matches!(err, HubError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("checksum"));
    let dir = repo_dir(tmp.path(), MARIAN);
    let blobs: Vec<String> = std::fs::read_dir(dir.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let sha = format!("{:x}", Sha256::digest(support::noise(200_000, 3)));
    assert!(!blobs.iter().any(|b| b.starts_with(&sha)), "{blobs:?}");
    assert!(!dir.join("refs/main").exists());
}

#[test]
fn cancel_leaves_a_consistent_cache_and_the_next_download_resumes() {
    let mut repo = support::marian_repo(MARIAN, 600_000);
    repo.files.retain(|f| f.path != "pytorch_model.bin");
    let s = StandinHub::start(vec![repo]);
    s.inject(MARIAN, "model.safetensors", Fault::Slow(400_000));
    let tmp = tempfile::tempdir().unwrap();
    let hub = hub_for(&s, tmp.path());
    let cancel = CancelToken::new();
    let c2 = cancel.clone();
    let err = hub
        .download_model(MARIAN, "main", &cancel, &mut |p| {
            if p.file == "model.safetensors" && p.file_bytes > 150_000 {
                c2.cancel();
            }
        })
        .unwrap_err();
    assert!(matches!(err, HubError::Cancelled));
    let dir = repo_dir(tmp.path(), MARIAN);
    let sha = format!("{:x}", Sha256::digest(support::noise(600_000, 3)));
    let partial = dir.join("blobs").join(format!("{sha}.incomplete"));
    let kept = std::fs::metadata(&partial).unwrap().len();
    assert!((150_000..600_000).contains(&kept), "{kept}");
    // Consistent: no link to an unfinished blob, no ref yet, and the
    // Library shows it as unfinished.
    let commit = &RepoSpec::new(MARIAN, vec![]).commit;
    assert!(
        !dir.join("snapshots")
            .join(commit)
            .join("model.safetensors")
            .exists()
    );
    assert!(!dir.join("refs/main").exists());
    let m = cache::scan_repo(tmp.path(), MARIAN).unwrap();
    assert_eq!(m.incomplete_bytes, kept);
    assert!(!m.verdict.runs_here());

    s.clear_faults();
    let before = settled_served(&s, MARIAN, "model.safetensors");
    let snap = download(&hub, MARIAN).unwrap();
    assert_eq!(
        s.served(MARIAN, "model.safetensors") - before,
        600_000 - kept
    );
    assert_eq!(
        std::fs::read(snap.path.join("model.safetensors")).unwrap(),
        support::noise(600_000, 3)
    );
    assert!(!partial.exists());
    assert!(
        cache::scan_repo(tmp.path(), MARIAN)
            .unwrap()
            .verdict
            .runs_here()
    );
}

#[test]
fn a_killed_process_resumes_where_it_stopped() {
    let mut repo = support::marian_repo(MARIAN, 2_000_000);
    repo.files.retain(|f| f.path != "pytorch_model.bin");
    let s = StandinHub::start(vec![repo]);
    s.inject(MARIAN, "model.safetensors", Fault::Slow(500_000));
    let tmp = tempfile::tempdir().unwrap();
    let run = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_spaceport"));
        c.args(["download", MARIAN])
            .env("HF_ENDPOINT", &s.url)
            .env("HF_HUB_CACHE", tmp.path())
            .env_remove("HF_TOKEN")
            .env("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    };
    let mut child = run().spawn().unwrap();
    let sha = format!("{:x}", Sha256::digest(support::noise(2_000_000, 3)));
    let partial = repo_dir(tmp.path(), MARIAN)
        .join("blobs")
        .join(format!("{sha}.incomplete"));
    let start = Instant::now();
    while std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0) < 300_000 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "download never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = std::fs::metadata(&partial).unwrap().len();
    s.clear_faults();
    let before = settled_served(&s, MARIAN, "model.safetensors");
    let status = run().status().unwrap();
    assert!(status.success());
    assert_eq!(
        s.served(MARIAN, "model.safetensors") - before,
        2_000_000 - kept
    );
}

#[test]
fn hub_errors_are_plain_words_and_tokens_stay_secret() {
    let s = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let hub = hub_for(&s, tmp.path());
    let gated = download(&hub, "gated-org/opus-mt-gated").unwrap_err();
    assert!(matches!(gated, HubError::Gated { .. }), "{gated}");
    assert!(gated.to_string().contains("accept its licence"));
    assert_eq!(gated.exit_code(), 4);
    let private = download(&hub, "private-org/opus-mt-secret").unwrap_err();
    assert!(
        matches!(private, HubError::RepoNotFound { .. }),
        "{private}"
    );
    assert!(private.to_string().contains("private"));
    let missing = hub.details("nobody/nothing", "main").unwrap_err();
    assert!(matches!(missing, HubError::RepoNotFound { .. }));
    let badrev = hub.details(MARIAN, "v9").unwrap_err();
    assert!(
        matches!(badrev, HubError::RevisionNotFound { .. }),
        "{badrev}"
    );

    // A token that is not valid: said so, and never printed.
    let mut cfg = support::config(&s, tmp.path());
    cfg.token = Token::new("hf_NotAValidToken123");
    let bad = Hub::new(cfg.clone()).details(MARIAN, "main").unwrap_err();
    assert!(matches!(bad, HubError::BadToken), "{bad}");
    assert!(!format!("{bad} {bad:?} {cfg:?}").contains("NotAValid"));

    // A valid token without access to the gated model: 403 GatedRepo.
    s.allow_token_without_access("hf_NoAccess000");
    cfg.token = Token::new("hf_NoAccess000");
    let e = download(&Hub::new(cfg.clone()), "gated-org/opus-mt-gated").unwrap_err();
    assert!(matches!(e, HubError::Gated { .. }), "{e}");
    assert!(
        s.requests()
            .iter()
            .any(|r| r.contains("gated") && r.ends_with("[auth]"))
    );

    // With a token that has access, gated and private models download, and
    // the token is sent to the Hub but never to the CDN host.
    s.allow_token("hf_GoodToken456");
    cfg.token = Token::new("hf_GoodToken456");
    let good = Hub::new(cfg);
    download(&good, "gated-org/opus-mt-gated").unwrap();
    download(&good, "private-org/opus-mt-secret").unwrap();
    let reqs = s.requests();
    assert!(
        reqs.iter()
            .any(|r| r.contains("/resolve/") && r.ends_with("[auth]"))
    );
    assert!(
        reqs.iter()
            .filter(|r| r.starts_with("GET /cdn/"))
            .all(|r| !r.contains("[auth]")),
        "{reqs:#?}"
    );
}

#[test]
fn hostile_names_never_write_outside_the_cache() {
    let mut evil_commit = support::marian_repo("evil/commit", 100);
    evil_commit.commit = "../../../../escaped".into();
    let mut evil_etag = support::marian_repo("evil/etag", 100);
    for f in &mut evil_etag.files {
        if f.path == "config.json" {
            f.etag_override = Some("../../../escaped-etag".into());
        }
    }
    let mut evil_path = RepoSpec::new("evil/path", vec![FileSpec::new("config.json", "{}", false)]);
    evil_path
        .files
        .push(FileSpec::new("../../../escaped.json", "{}", false));
    let s = StandinHub::start(vec![
        evil_commit,
        evil_etag,
        evil_path,
        support::marian_repo(MARIAN, 100),
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let cache_dir = tmp.path().join("hub");
    let hub = Hub::new(support::config(&s, &cache_dir));
    for repo in ["evil/commit", "evil/etag"] {
        let e = download(&hub, repo).unwrap_err();
        assert!(matches!(e, HubError::Unsafe { .. }), "{repo}: {e}");
    }
    // The unsafe path is not a needed file, so it is never fetched.
    let _ = download(&hub, "evil/path");
    assert!(!s.requests().iter().any(|r| r.contains("escaped.json")));
    // A planted symlink inside the cache is not followed.
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let dir = repo_dir(&cache_dir, MARIAN);
    std::fs::create_dir_all(&dir).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&outside, dir.join("snapshots")).unwrap();
        let e = download(&hub, MARIAN).unwrap_err();
        assert!(matches!(e, HubError::Unsafe { .. }), "{e}");
    }
    let leaked: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leaked.len(), 2, "only hub/ and outside/: {leaked:?}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert!(matches!(
        hub.details("../etc", "main"),
        Err(HubError::BadRepoId(_))
    ));
}

#[test]
fn offline_lists_and_opens_what_is_cached() {
    let s = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let online = hub_for(&s, tmp.path());
    let snap = download(&online, "Systran/faster-whisper-tiny-test").unwrap();
    let names: Vec<String> = std::fs::read_dir(&snap.path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains(&"model.bin".to_string()) && names.contains(&"vocabulary.txt".to_string())
    );

    let mut cfg = support::config(&s, tmp.path());
    cfg.offline = true;
    let offline = Hub::new(cfg);
    let requests_before = s.requests().len();
    let e = offline
        .search(&SearchQuery {
            text: "x".into(),
            task: TaskFilter::All,
            sort: Sort::Likes,
            limit: 5,
        })
        .unwrap_err();
    assert!(e.is_offline() && e.to_string().contains("offline"));
    let again = download(&offline, "Systran/faster-whisper-tiny-test").unwrap();
    assert_eq!(again.path, snap.path);
    let d = offline
        .details("Systran/faster-whisper-tiny-test", "main")
        .unwrap();
    assert!(d.from_cache && d.summary.runs_here);
    assert!(matches!(
        download(&offline, MARIAN),
        Err(HubError::Offline { .. })
    ));
    assert_eq!(s.requests().len(), requests_before, "offline sends nothing");

    // An unreachable Hub reads as "offline", not as a crash.
    let url = s.url.clone();
    drop(s);
    std::thread::sleep(Duration::from_millis(100));
    let gone = Hub::new(spaceport::hub::HubConfig::local(
        "http://127.0.0.1:9",
        tmp.path(),
    ));
    let e = gone.details(MARIAN, "main").unwrap_err();
    assert!(e.is_offline(), "{e} ({url})");
}

#[test]
fn deleting_frees_the_space_and_lists_nothing() {
    let s = support::start_hub();
    let tmp = tempfile::tempdir().unwrap();
    let hub = hub_for(&s, tmp.path());
    download(&hub, MARIAN).unwrap();
    download(&hub, "openai/whisper-tiny-test").unwrap();
    let models = cache::scan(tmp.path()).unwrap();
    assert_eq!(models.len(), 2);
    let m = models.iter().find(|m| m.repo == MARIAN).unwrap();
    assert!(m.size_bytes > 200_000);
    assert_eq!(m.main_revision().unwrap().refs, ["main"]);
    let freed = cache::delete_model(tmp.path(), MARIAN).unwrap();
    assert_eq!(freed, m.size_bytes);
    let left: Vec<String> = cache::scan(tmp.path())
        .unwrap()
        .into_iter()
        .map(|m| m.repo)
        .collect();
    assert_eq!(left, ["openai/whisper-tiny-test"]);
}

#[test]
fn progress_reports_rate_and_time_left_while_slow() {
    let mut repo = support::marian_repo(MARIAN, 300_000);
    repo.files.retain(|f| f.path != "pytorch_model.bin");
    let s = StandinHub::start(vec![repo]);
    s.inject(MARIAN, "model.safetensors", Fault::Slow(300_000));
    let tmp = tempfile::tempdir().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    download_with(&hub_for(&s, tmp.path()), &move |p| {
        seen2.lock().unwrap().push(p.clone())
    });
    let seen = seen.lock().unwrap();
    let mid: Vec<_> = seen
        .iter()
        .filter(|p| p.file == "model.safetensors" && p.rate_bps > 0.0)
        .collect();
    assert!(!mid.is_empty());
    assert!(mid.iter().any(|p| p.eta_secs.is_some_and(|e| e > 0.0)));
    // The rate is near what the server allows.
    let rate = mid.last().unwrap().rate_bps;
    assert!(rate > 100_000.0 && rate < 1_000_000.0, "{rate}");
}

fn download_with(hub: &Hub, f: &dyn Fn(&spaceport::hub::DownloadProgress)) {
    hub.download_model(MARIAN, "main", &CancelToken::new(), &mut |p| f(p))
        .unwrap();
}

#[test]
fn a_full_disk_is_said_in_words_and_the_download_resumes_after() {
    // A 1 MB tmpfs stands for a full disk; mounting needs root (CI runs as
    // root; elsewhere this test says so and checks nothing).
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root {
        eprintln!("SKIPPED: mounting a small tmpfs needs root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("small");
    std::fs::create_dir_all(&mnt).unwrap();
    let mount = |opts: &str| {
        std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(&mnt)
            .status()
            .unwrap()
    };
    assert!(mount("size=1m").success(), "mount tmpfs");
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mnt);
    let mut repo = support::marian_repo(MARIAN, 2_000_000);
    repo.files.retain(|f| f.path != "pytorch_model.bin");
    let s = StandinHub::start(vec![repo]);
    let hub = hub_for(&s, &mnt);
    let e = download(&hub, MARIAN).unwrap_err();
    assert!(matches!(e, HubError::DiskFull { .. }), "{e}");
    assert!(e.to_string().contains("disk is full"), "{e}");
    let served_before = s.served(MARIAN, "model.safetensors");
    assert!(served_before > 0);
    // More room: the download goes on from what was written.
    let remount = std::process::Command::new("mount")
        .args(["-o", "remount,size=8m"])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(remount.success());
    let snap = download(&hub, MARIAN).unwrap();
    assert_eq!(
        std::fs::read(snap.path.join("model.safetensors")).unwrap(),
        support::noise(2_000_000, 3)
    );
    assert!(s.served(MARIAN, "model.safetensors") < 2 * 2_000_000);
}
