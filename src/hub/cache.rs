//! The standard Hugging Face cache on disk (`models--org--name/{blobs,
//! snapshots/<commit>, refs}`, as `huggingface_hub`'s `file_download.py`
//! writes it): scanning it for the Library, resolving a revision to a local
//! snapshot, and deleting a model or one revision without touching anything
//! outside the cache or a blob another revision still uses.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::client::{ModelDetails, ModelSummary, RepoFile, strip_front_matter};
use super::paths::{
    check_repo_id, check_revision, is_commit, repo_folder_name, repo_id_from_folder,
};
use super::{HubError, Result};
use crate::catalog::{self, ModelFacts, Verdict};

/// One revision (snapshot) of a cached model.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CachedRevision {
    pub commit: String,
    /// Names pointing at this commit (`main`, `refs/pr/1`, …).
    pub refs: Vec<String>,
    pub files: Vec<String>,
    pub size_bytes: u64,
    pub path: PathBuf,
}

/// One model in the cache.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CachedModel {
    pub repo: String,
    pub path: PathBuf,
    /// Bytes in `blobs/`, each blob once (revisions share them).
    pub size_bytes: u64,
    /// Bytes of unfinished downloads (`*.incomplete`), included above.
    pub incomplete_bytes: u64,
    pub revisions: Vec<CachedRevision>,
    /// Seconds since the Unix epoch of the newest snapshot.
    pub modified_secs: u64,
    /// Whether the main revision's files run here, and where.
    pub verdict: Verdict,
    /// For translation models that need one: the target codes they accept
    /// (`fra` for `>>fra<<` in `vocab.json`).
    pub language_codes: Vec<String>,
}

impl CachedModel {
    /// The revision a user means by default: the one `main` points to, else
    /// the newest.
    pub fn main_revision(&self) -> Option<&CachedRevision> {
        self.revisions
            .iter()
            .find(|r| r.refs.iter().any(|n| n == "main"))
            .or_else(|| self.revisions.first())
    }
}

/// Files under `dir` (recursively, not following folder links), as
/// `/`-separated relative paths.
fn walk_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), dir.to_path_buf())];
    while let Some((prefix, d)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push((rel, e.path()));
            } else {
                out.push((rel, e.path()));
            }
        }
    }
    out.sort();
    out
}

fn repo_dir(cache_dir: &Path, repo: &str) -> Result<PathBuf> {
    check_repo_id(repo)?;
    Ok(cache_dir.join(repo_folder_name(repo)))
}

/// Every model in the cache, newest first. A missing cache is empty.
pub fn scan(cache_dir: &Path) -> Result<Vec<CachedModel>> {
    let entries = match std::fs::read_dir(cache_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(HubError::io("read", cache_dir, e)),
    };
    let mut models: Vec<CachedModel> = entries
        .flatten()
        .filter_map(|e| repo_id_from_folder(&e.file_name().to_string_lossy()))
        .filter_map(|repo| scan_repo(cache_dir, &repo))
        .collect();
    models.sort_by(|a, b| {
        b.modified_secs
            .cmp(&a.modified_secs)
            .then(a.repo.cmp(&b.repo))
    });
    Ok(models)
}

/// One model's cache entry, if it has any files.
pub fn scan_repo(cache_dir: &Path, repo: &str) -> Option<CachedModel> {
    let dir = repo_dir(cache_dir, repo).ok()?;
    if !dir.symlink_metadata().ok()?.is_dir() {
        return None;
    }
    let mut size_bytes = 0;
    let mut incomplete_bytes = 0;
    for (name, path) in walk_files(&dir.join("blobs")) {
        let len = path.symlink_metadata().map(|m| m.len()).unwrap_or(0);
        size_bytes += len;
        if name.ends_with(".incomplete") {
            incomplete_bytes += len;
        }
    }
    let refs: Vec<(String, String)> = walk_files(&dir.join("refs"))
        .into_iter()
        .filter_map(|(name, path)| {
            let commit = std::fs::read_to_string(path).ok()?.trim().to_string();
            Some((name, commit))
        })
        .collect();
    let mut modified_secs = 0;
    let mut revisions = Vec::new();
    if let Ok(snaps) = std::fs::read_dir(dir.join("snapshots")) {
        for s in snaps.flatten() {
            let commit = s.file_name().to_string_lossy().into_owned();
            let path = s.path();
            let files: Vec<(String, PathBuf)> = walk_files(&path);
            let size = files
                .iter()
                .filter_map(|(_, p)| std::fs::metadata(p).ok())
                .map(|m| m.len())
                .sum();
            let mtime = s
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs())
                .unwrap_or(0);
            modified_secs = modified_secs.max(mtime);
            revisions.push(CachedRevision {
                refs: refs
                    .iter()
                    .filter(|(_, c)| *c == commit)
                    .map(|(n, _)| n.clone())
                    .collect(),
                commit,
                files: files.into_iter().map(|(n, _)| n).collect(),
                size_bytes: size,
                path,
            });
        }
    }
    revisions.sort_by(|a, b| {
        b.refs
            .len()
            .cmp(&a.refs.len())
            .then(a.commit.cmp(&b.commit))
    });
    if revisions.is_empty() && size_bytes == 0 {
        return None;
    }
    let main = revisions
        .iter()
        .find(|r| r.refs.iter().any(|n| n == "main"))
        .or_else(|| revisions.first());
    let verdict = main
        .map(|r| snapshot_verdict(repo, &r.path, &r.files))
        .unwrap_or_else(|| Verdict::NotHere {
            reason: "The download did not finish; download it again to resume.".into(),
        });
    let language_codes = match (&verdict, main) {
        (
            Verdict::Runs {
                panel: catalog::Panel::Translate,
                ..
            },
            Some(r),
        ) => target_codes(&r.path),
        _ => Vec::new(),
    };
    Some(CachedModel {
        language_codes,
        verdict,
        repo: repo.to_string(),
        path: dir,
        size_bytes,
        incomplete_bytes,
        revisions,
        modified_secs,
    })
}

/// The verdict on a snapshot's own files. A snapshot missing its weights
/// (an unfinished download) says so.
fn snapshot_verdict(repo: &str, snap: &Path, files: &[String]) -> Verdict {
    let config: Option<Value> = std::fs::read_to_string(snap.join("config.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok());
    catalog::verdict(&ModelFacts {
        id: repo.to_string(),
        config,
        files: files.to_vec(),
        tags: Vec::new(),
        pipeline_tag: None,
    })
}

/// The `>>xx<<` target codes in a Marian snapshot's `vocab.json`.
fn target_codes(snap: &Path) -> Vec<String> {
    let Some(vocab) = std::fs::read(snap.join("vocab.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<std::collections::HashMap<String, Value>>(&b).ok())
    else {
        return Vec::new();
    };
    let mut codes: Vec<String> = vocab
        .keys()
        .filter_map(|k| k.strip_prefix(">>")?.strip_suffix("<<").map(str::to_string))
        .filter(|c| !c.is_empty())
        .collect();
    codes.sort();
    codes
}

/// The commit and snapshot folder `revision` names in the cache.
pub fn resolve_snapshot(cache_dir: &Path, repo: &str, revision: &str) -> Option<(String, PathBuf)> {
    let dir = repo_dir(cache_dir, repo).ok()?;
    check_revision(revision).ok()?;
    let commit = if is_commit(revision) {
        revision.to_string()
    } else {
        std::fs::read_to_string(dir.join("refs").join(revision))
            .ok()?
            .trim()
            .to_string()
    };
    super::paths::check_token_name("commit", &commit).ok()?;
    let snap = dir.join("snapshots").join(&commit);
    snap.is_dir().then_some((commit, snap))
}

/// Details of a cached model, for the details view when offline.
pub fn local_details(cache_dir: &Path, repo: &str, revision: &str) -> Option<ModelDetails> {
    let (commit, snap) = resolve_snapshot(cache_dir, repo, revision)?;
    let files: Vec<RepoFile> = walk_files(&snap)
        .into_iter()
        .map(|(path, p)| RepoFile {
            size: std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0),
            path,
            lfs_sha256: None,
        })
        .collect();
    let config: Option<Value> = std::fs::read_to_string(snap.join("config.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok());
    let card = std::fs::read_to_string(snap.join("README.md"))
        .ok()
        .map(|c| strip_front_matter(&c).to_string());
    let names: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    let verdict = snapshot_verdict(repo, &snap, &names);
    let needed = catalog::needed_files(&verdict, &names);
    let download_bytes = files.iter().map(|f| f.size).sum();
    Some(ModelDetails {
        summary: ModelSummary {
            id: repo.to_string(),
            pipeline_tag: None,
            library_name: None,
            downloads: 0,
            likes: 0,
            last_modified: None,
            size_bytes: Some(download_bytes),
            gated: false,
            private: false,
            runs_here: verdict.runs_here(),
            verdict,
        },
        commit,
        files,
        needed,
        download_bytes,
        card,
        config,
        license: None,
        gated_mode: None,
        from_cache: true,
    })
}

/// Deletes a model's whole cache folder; returns the bytes freed.
pub fn delete_model(cache_dir: &Path, repo: &str) -> Result<u64> {
    let dir = repo_dir(cache_dir, repo)?;
    let meta = match dir.symlink_metadata() {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(HubError::NotDownloaded(repo.to_string()));
        }
        Err(e) => return Err(HubError::io("inspect", &dir, e)),
    };
    let freed = scan_repo(cache_dir, repo)
        .map(|m| m.size_bytes)
        .unwrap_or(0);
    if meta.file_type().is_symlink() || !meta.is_dir() {
        // Never follow a link out of the cache: remove the link itself.
        std::fs::remove_file(&dir).map_err(|e| HubError::io("delete", &dir, e))?;
        return Ok(0);
    }
    // `remove_dir_all` does not follow symlinks, so snapshot links to blobs
    // (or anything planted) are removed as links.
    std::fs::remove_dir_all(&dir).map_err(|e| HubError::io("delete", &dir, e))?;
    let lock_dir = cache_dir.join(".locks").join(repo_folder_name(repo));
    let _ = std::fs::remove_dir_all(lock_dir);
    Ok(freed)
}

/// Deletes one revision: its snapshot, the refs naming it, and the blobs no
/// remaining snapshot links to. Deleting the last revision deletes the model.
pub fn delete_revision(cache_dir: &Path, repo: &str, commit: &str) -> Result<u64> {
    super::paths::check_token_name("commit", commit)?;
    let model =
        scan_repo(cache_dir, repo).ok_or_else(|| HubError::NotDownloaded(repo.to_string()))?;
    let Some(rev) = model.revisions.iter().find(|r| r.commit == commit) else {
        return Err(HubError::NotDownloaded(format!("{repo} at {commit}")));
    };
    if model.revisions.len() == 1 {
        return delete_model(cache_dir, repo);
    }
    let dir = &model.path;
    let blob_of = |link: &Path| -> Option<String> {
        let target = std::fs::read_link(link).ok()?;
        Some(target.file_name()?.to_string_lossy().into_owned())
    };
    let kept: HashSet<String> = model
        .revisions
        .iter()
        .filter(|r| r.commit != commit)
        .flat_map(|r| walk_files(&r.path))
        .filter_map(|(_, p)| blob_of(&p))
        .collect();
    let mut freed = 0;
    for (_, p) in walk_files(&rev.path) {
        if let Some(blob) = blob_of(&p)
            && !kept.contains(&blob)
            && super::paths::check_token_name("blob", &blob).is_ok()
        {
            let bp = dir.join("blobs").join(&blob);
            if let Ok(m) = bp.symlink_metadata() {
                freed += m.len();
                std::fs::remove_file(&bp).map_err(|e| HubError::io("delete", &bp, e))?;
            }
        }
    }
    std::fs::remove_dir_all(&rev.path).map_err(|e| HubError::io("delete", &rev.path, e))?;
    for name in &rev.refs {
        let rp = dir.join("refs").join(name);
        std::fs::remove_file(&rp).map_err(|e| HubError::io("delete", &rp, e))?;
    }
    Ok(freed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(target: &str, at: &Path) {
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(target, at).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn shared_blobs_survive_deleting_one_revision() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = tmp.path().join("hub");
        let dir = cache.join("models--o--m");
        std::fs::create_dir_all(dir.join("blobs")).unwrap();
        std::fs::write(dir.join("blobs/shared"), b"12345").unwrap();
        std::fs::write(dir.join("blobs/only1"), b"abc").unwrap();
        std::fs::write(dir.join("blobs/only2"), b"xy").unwrap();
        let c1 = "1".repeat(40);
        let c2 = "2".repeat(40);
        link(
            "../../blobs/shared",
            &dir.join(format!("snapshots/{c1}/config.json")),
        );
        link(
            "../../blobs/only1",
            &dir.join(format!("snapshots/{c1}/a.bin")),
        );
        link(
            "../../blobs/shared",
            &dir.join(format!("snapshots/{c2}/config.json")),
        );
        link(
            "../../blobs/only2",
            &dir.join(format!("snapshots/{c2}/a.bin")),
        );
        std::fs::create_dir_all(dir.join("refs")).unwrap();
        std::fs::write(dir.join("refs/main"), &c2).unwrap();
        // Something outside the cache that a link points to must survive.
        let outside = tmp.path().join("precious.txt");
        std::fs::write(&outside, b"keep").unwrap();
        link(
            outside.to_str().unwrap(),
            &dir.join(format!("snapshots/{c1}/evil")),
        );

        let m = scan_repo(&cache, "o/m").unwrap();
        assert_eq!(m.size_bytes, 10);
        assert_eq!(m.main_revision().unwrap().commit, c2);
        assert_eq!(resolve_snapshot(&cache, "o/m", "main").unwrap().0, c2);

        let freed = delete_revision(&cache, "o/m", &c1).unwrap();
        assert_eq!(freed, 3);
        assert!(dir.join("blobs/shared").exists());
        assert!(!dir.join("blobs/only1").exists());
        assert!(outside.exists());

        assert_eq!(delete_model(&cache, "o/m").unwrap(), 7);
        assert!(!dir.exists());
        assert!(outside.exists());
        assert!(scan(&cache).unwrap().is_empty());
        assert!(matches!(
            delete_model(&cache, "../etc"),
            Err(HubError::BadRepoId(_))
        ));
    }
}

/// A dataset in the cache (`datasets--org--name`): what Spaceport or
/// Python downloaded.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CachedDataset {
    pub id: String,
    /// Bytes in `blobs/`, each blob once.
    pub size_bytes: u64,
    /// The refs it holds (`main`, `refs/convert/parquet`).
    pub refs: Vec<String>,
}

/// The datasets in the cache, largest first.
pub fn scan_datasets(cache_dir: &Path) -> Vec<CachedDataset> {
    let Ok(entries) = std::fs::read_dir(cache_dir) else {
        return Vec::new();
    };
    let mut out: Vec<CachedDataset> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = name.strip_prefix("datasets--")?.replacen("--", "/", 1);
            let dir = e.path();
            if !dir.symlink_metadata().ok()?.is_dir() {
                return None;
            }
            let size_bytes = walk_files(&dir.join("blobs"))
                .iter()
                .map(|(_, p)| p.symlink_metadata().map(|m| m.len()).unwrap_or(0))
                .sum();
            let mut refs: Vec<String> = walk_files(&dir.join("refs"))
                .into_iter()
                .map(|(name, _)| name)
                .collect();
            refs.sort();
            Some(CachedDataset {
                id,
                size_bytes,
                refs,
            })
        })
        .collect();
    out.sort_by(|a, b| b.size_bytes.cmp(&a.size_bytes).then(a.id.cmp(&b.id)));
    out
}
