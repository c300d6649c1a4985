//! Validation of everything from outside that becomes part of a path or a
//! URL: repo ids, revisions, file names, commits and etags. The Hub is
//! treated as untrusted: a name with `..`, an absolute path or a separator
//! where none belongs is refused before it touches the disk.

use std::path::{Path, PathBuf};

use super::{HubError, Result};

/// Checks a model id (`owner/name` or a bare legacy `name`) against the
/// Hub's own rules: letters, digits, `-`, `_`, `.`; no `--` or `..`.
pub fn check_repo_id(id: &str) -> Result<()> {
    let bad = || HubError::BadRepoId(id.to_string());
    if id.is_empty() || id.len() > 96 || id.contains("--") || id.contains("..") {
        return Err(bad());
    }
    let parts: Vec<&str> = id.split('/').collect();
    if parts.len() > 2 {
        return Err(bad());
    }
    for p in parts {
        let ok_chars = p
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if p.is_empty() || !ok_chars || p.starts_with(['-', '.']) || p.ends_with(['-', '.']) {
            return Err(bad());
        }
    }
    Ok(())
}

/// The cache folder name of a model: `models--org--name`.
pub fn repo_folder_name(id: &str) -> String {
    hf_hub::Repo::model(id.to_string()).folder_name()
}

/// The model id a cache folder name stands for, if it is a model folder.
pub fn repo_id_from_folder(name: &str) -> Option<String> {
    let rest = name.strip_prefix("models--")?;
    let id = rest.replace("--", "/");
    check_repo_id(&id).ok().map(|_| id)
}

/// A relative path inside a repo, as the Hub names files: `/`-separated,
/// no empty, `.` or `..` parts, no backslashes, drive letters or NULs.
pub fn check_repo_path(path: &str) -> Result<PathBuf> {
    let unsafe_path = || HubError::Unsafe {
        what: "file name",
        value: path.to_string(),
    };
    if path.is_empty() || path.len() > 1024 || path.starts_with('/') {
        return Err(unsafe_path());
    }
    let mut out = PathBuf::new();
    for part in path.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains(['\\', '\0', ':']) {
            return Err(unsafe_path());
        }
        out.push(part);
    }
    Ok(out)
}

/// A revision (branch, tag, `refs/pr/N` or commit) that will name a file
/// under `refs/`: each `/` part must be a plain name.
pub fn check_revision(rev: &str) -> Result<()> {
    let ok = !rev.is_empty()
        && rev.len() <= 256
        && rev
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != ".." && !p.contains(['\\', '\0', ':']));
    if ok {
        Ok(())
    } else {
        Err(HubError::Unsafe {
            what: "revision",
            value: rev.to_string(),
        })
    }
}

/// A commit hash or etag that becomes one file name: only `[A-Za-z0-9_-]`.
pub fn check_token_name(what: &'static str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(HubError::Unsafe {
            what,
            value: value.to_string(),
        })
    }
}

/// Whether `rev` is a full commit hash.
pub fn is_commit(rev: &str) -> bool {
    rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit())
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Encodes a repo path for a URL, keeping its `/` separators.
pub fn url_encode_path(path: &str) -> String {
    path.split('/')
        .map(url_encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// Refuses to go on if any existing folder between `root` and `path` is a
/// symlink: a planted link could otherwise redirect writes outside the cache.
pub fn check_no_symlink_between(root: &Path, path: &Path) -> Result<()> {
    let rel = path.strip_prefix(root).map_err(|_| HubError::Unsafe {
        what: "path",
        value: path.display().to_string(),
    })?;
    let mut cur = root.to_path_buf();
    let comps: Vec<_> = rel.components().collect();
    for (i, comp) in comps.iter().enumerate() {
        cur.push(comp);
        let last = i + 1 == comps.len();
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() && !last => {
                return Err(HubError::Unsafe {
                    what: "folder link",
                    value: cur.display().to_string(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// `%XX` escapes decoded (a file path or revision in a URL); anything
/// else kept as it is.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(hex) = b.get(i + 1..i + 3)
            && let Some(v) = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The commit of a model or dataset folder in the Hugging Face cache
/// (`…/snapshots/<commit>/…`), if it is one.
pub fn snapshot_commit(path: &std::path::Path) -> Option<String> {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let at = parts.iter().rposition(|p| p == "snapshots")?;
    parts.get(at + 1).filter(|c| is_commit(c)).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_ids() {
        for ok in [
            "gpt2",
            "Helsinki-NLP/opus-mt-en-de",
            "openai/whisper-large-v3",
            "a/b.c_d",
        ] {
            assert!(check_repo_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a/b/c", "../x", "a/..", "a--b/c", "/abs", "a/", "a b/c", "a/b\\c", ".a/b",
        ] {
            assert!(check_repo_id(bad).is_err(), "{bad}");
        }
        assert_eq!(
            repo_folder_name("openai/whisper-tiny"),
            "models--openai--whisper-tiny"
        );
        assert_eq!(
            repo_id_from_folder("models--openai--whisper-tiny").as_deref(),
            Some("openai/whisper-tiny")
        );
        assert_eq!(repo_id_from_folder("datasets--a--b"), None);
    }

    #[test]
    fn repo_paths() {
        assert!(check_repo_path("config.json").is_ok());
        assert!(check_repo_path("onnx/model.onnx").is_ok());
        for bad in [
            "../evil",
            "a/../../b",
            "/etc/passwd",
            "a//b",
            "a\\..\\b",
            "C:evil",
            "./x",
            "",
        ] {
            assert!(check_repo_path(bad).is_err(), "{bad}");
        }
        assert!(check_revision("refs/pr/1").is_ok());
        assert!(check_revision("../main").is_err());
        assert!(check_token_name("etag", "abc123").is_ok());
        assert!(check_token_name("etag", "../x").is_err());
        assert_eq!(url_encode("refs/pr/1"), "refs%2Fpr%2F1");
        assert_eq!(url_encode_path("a b/c.json"), "a%20b/c.json");
    }
}
