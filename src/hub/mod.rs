//! The Hugging Face Hub side of Spaceport: where the cache and token live
//! ([`HubConfig`]), the REST client ([`client`]), resumable and verified
//! downloads into the standard cache layout ([`download`]), scanning and
//! deleting cached models ([`cache`]), and the error type every hub call
//! returns ([`HubError`]), whose `Display` is the sentence shown to a person.
//!
//! Layout and environment follow Python `huggingface_hub`
//! (`constants.py`, `file_download.py`) so both tools share one cache.

pub mod cache;
pub mod client;
pub mod datasets;
pub mod download;
pub mod paths;
pub mod range;
pub mod token;

use std::path::{Path, PathBuf};

pub use client::{Hub, ModelDetails, ModelSummary, SearchPage, SearchQuery, Sort, TaskFilter};
pub use download::{DownloadProgress, Snapshot};
pub use token::Token;

/// The Hub that answers when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Where the Hub is, where the cache is, which token to send, and whether to
/// touch the network at all. Built from the environment as `huggingface_hub`
/// does; the GUI's settings may then override `offline` and the token.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// Base URL without a trailing slash.
    pub endpoint: String,
    /// The `hub` cache folder holding `models--org--name` folders.
    pub cache_dir: PathBuf,
    /// Where a token saved from Settings goes (the standard token file).
    pub token_path: PathBuf,
    pub token: Option<Token>,
    /// No network at all: only what is in the cache.
    pub offline: bool,
}

impl HubConfig {
    /// Reads `HF_ENDPOINT`, `HF_HOME`, `HF_HUB_CACHE` (and the legacy
    /// `HUGGINGFACE_HUB_CACHE`), `XDG_CACHE_HOME`, `HF_TOKEN`,
    /// `HF_TOKEN_PATH`, `HF_HUB_DISABLE_IMPLICIT_TOKEN` and `HF_HUB_OFFLINE`
    /// (or `TRANSFORMERS_OFFLINE`).
    pub fn from_env() -> Self {
        Self::from_vars(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// [`Self::from_env`] over any variable source, so tests need not touch
    /// the process environment.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let hf_home = var("HF_HOME").map(PathBuf::from).unwrap_or_else(|| {
            let cache = var("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| home_dir(&var).join(".cache"));
            cache.join("huggingface")
        });
        let cache_dir = var("HF_HUB_CACHE")
            .or_else(|| var("HUGGINGFACE_HUB_CACHE"))
            .map(PathBuf::from)
            .unwrap_or_else(|| hf_home.join("hub"));
        let token_path = var("HF_TOKEN_PATH")
            .map(PathBuf::from)
            .unwrap_or_else(|| hf_home.join("token"));
        let implicit = !is_true(var("HF_HUB_DISABLE_IMPLICIT_TOKEN").as_deref());
        let token = var("HF_TOKEN").and_then(|t| Token::new(&t)).or_else(|| {
            implicit
                .then(|| token::read_token_file(&token_path))
                .flatten()
        });
        let endpoint = var("HF_ENDPOINT")
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
            .trim_end_matches('/')
            .to_string();
        let offline = is_true(var("HF_HUB_OFFLINE").as_deref())
            || is_true(var("TRANSFORMERS_OFFLINE").as_deref());
        Self {
            endpoint,
            cache_dir,
            token_path,
            token,
            offline,
        }
    }

    /// A configuration for tests: a given endpoint and cache, no token.
    pub fn local(endpoint: &str, cache_dir: &Path) -> Self {
        Self {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            cache_dir: cache_dir.to_path_buf(),
            token_path: cache_dir.join("token"),
            token: None,
            offline: false,
        }
    }
}

fn is_true(v: Option<&str>) -> bool {
    matches!(
        v.map(|s| s.trim().to_ascii_lowercase()).as_deref(),
        Some("1" | "true" | "yes" | "on")
    )
}

fn home_dir(var: &impl Fn(&str) -> Option<String>) -> PathBuf {
    var("HOME")
        .or_else(|| var("USERPROFILE"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Every way a Hub operation can fail. The `Display` text is what the user
/// reads: it says what happened and what to do.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(
        "You are offline (offline mode is on, or HF_HUB_OFFLINE is set), so Spaceport can't {what}. Turn off offline mode in Settings, or unset HF_HUB_OFFLINE."
    )]
    Offline { what: String },
    #[error(
        "Could not reach the Hub at {endpoint}: {reason}. Check your connection; models already downloaded still work offline."
    )]
    Network { endpoint: String, reason: String },
    #[error(
        "{repo} is gated: accept its licence on its Hub page ({url}), then set an access token in Settings or HF_TOKEN."
    )]
    Gated { repo: String, url: String },
    #[error(
        "{repo} was not found on the Hub, or it is private. Check the name; for a private model, set a token that has access in Settings or HF_TOKEN."
    )]
    RepoNotFound { repo: String },
    #[error("{repo} has no revision \"{revision}\".")]
    RevisionNotFound { repo: String, revision: String },
    #[error("{repo} has no file \"{path}\".")]
    EntryNotFound { repo: String, path: String },
    #[error(
        "The Hub rejected your access token. Set a valid one in Settings (or HF_TOKEN); tokens are at huggingface.co/settings/tokens."
    )]
    BadToken,
    #[error(
        "Your token has no access to {repo}. Accept the model's terms on the Hub or use a token with read access."
    )]
    Forbidden { repo: String },
    #[error("The Hub is rate limiting requests{}. Wait a little and try again; setting a token raises the limit.", retry_after_secs.map(|s| format!(" (retry in {s} s)")).unwrap_or_default())]
    RateLimited { retry_after_secs: Option<u64> },
    #[error("The disk is full while writing {}. Free some space (Library shows what models take) and try again; the download resumes where it stopped.", path.display())]
    DiskFull { path: PathBuf },
    #[error("Permission denied writing {}. Check that the cache folder is writable, or point HF_HUB_CACHE elsewhere.", path.display())]
    PermissionDenied { path: PathBuf },
    #[error("Could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("The Hub answered {status} for {url}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Http {
        status: u16,
        url: String,
        message: Option<String>,
    },
    #[error(
        "{path} from {repo} failed its checksum twice (expected sha256 {expected}). The download is not kept; try again later."
    )]
    Corrupt {
        repo: String,
        path: String,
        expected: String,
    },
    #[error("Refused an unsafe {what} from the Hub: \"{value}\" could write outside the cache.")]
    Unsafe { what: &'static str, value: String },
    #[error(
        "\"{0}\" is not a valid model id. Use the form owner/name, for example Helsinki-NLP/opus-mt-en-de."
    )]
    BadRepoId(String),
    #[error("{0} is not downloaded.")]
    NotDownloaded(String),
    #[error("The Hub sent an answer Spaceport could not read ({what}).")]
    Malformed { what: String },
    #[error("Cancelled.")]
    Cancelled,
}

impl HubError {
    /// Wraps an I/O error, turning "disk full" and "permission denied" into
    /// their own variants so the message says what to do.
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        match source.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => Self::DiskFull {
                path: path.to_path_buf(),
            },
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                Self::PermissionDenied {
                    path: path.to_path_buf(),
                }
            }
            _ => Self::Io {
                action,
                path: path.to_path_buf(),
                source,
            },
        }
    }

    /// Whether trying again (after a pause) may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network { .. } | Self::RateLimited { .. } => true,
            Self::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Whether this means the Hub could not be reached at all, so the app
    /// should say it is working offline.
    pub fn is_offline(&self) -> bool {
        matches!(self, Self::Offline { .. } | Self::Network { .. })
    }

    /// The process exit code the CLI uses for this error (documented in the
    /// README): 3 not found, 4 access, 5 network/offline, 6 local disk,
    /// 7 integrity, 130 cancelled, 1 anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::RepoNotFound { .. }
            | Self::RevisionNotFound { .. }
            | Self::EntryNotFound { .. }
            | Self::NotDownloaded(_)
            | Self::BadRepoId(_) => 3,
            Self::Gated { .. } | Self::BadToken | Self::Forbidden { .. } => 4,
            Self::Offline { .. } | Self::Network { .. } | Self::RateLimited { .. } => 5,
            Self::DiskFull { .. } | Self::PermissionDenied { .. } | Self::Io { .. } => 6,
            Self::Corrupt { .. } | Self::Unsafe { .. } | Self::Malformed { .. } => 7,
            Self::Cancelled => 130,
            Self::Http { .. } => 1,
        }
    }
}

pub type Result<T, E = HubError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> HubConfig {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HubConfig::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn environment_is_read_as_huggingface_hub_does() {
        let c = cfg(&[("HOME", "/home/u")]);
        assert_eq!(c.cache_dir, PathBuf::from("/home/u/.cache/huggingface/hub"));
        assert_eq!(
            c.token_path,
            PathBuf::from("/home/u/.cache/huggingface/token")
        );
        assert_eq!(c.endpoint, DEFAULT_ENDPOINT);
        assert!(!c.offline && c.token.is_none());

        let c = cfg(&[("HOME", "/h"), ("XDG_CACHE_HOME", "/x")]);
        assert_eq!(c.cache_dir, PathBuf::from("/x/huggingface/hub"));
        let c = cfg(&[
            ("HF_HOME", "/hf"),
            ("HF_ENDPOINT", "http://mirror/"),
            ("HF_HUB_OFFLINE", "1"),
        ]);
        assert_eq!(c.cache_dir, PathBuf::from("/hf/hub"));
        assert_eq!(c.endpoint, "http://mirror");
        assert!(c.offline);
        let c = cfg(&[("HF_HOME", "/hf"), ("HUGGINGFACE_HUB_CACHE", "/legacy")]);
        assert_eq!(c.cache_dir, PathBuf::from("/legacy"));
        let c = cfg(&[
            ("HF_HUB_CACHE", "/new"),
            ("HUGGINGFACE_HUB_CACHE", "/legacy"),
            ("TRANSFORMERS_OFFLINE", "true"),
        ]);
        assert_eq!(c.cache_dir, PathBuf::from("/new"));
        assert!(c.offline);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "hf_fromfile\n").unwrap();
        let path = file.to_str().unwrap();
        let c = cfg(&[("HF_TOKEN_PATH", path)]);
        assert_eq!(c.token.as_ref().map(Token::secret), Some("hf_fromfile"));
        let c = cfg(&[("HF_TOKEN_PATH", path), ("HF_TOKEN", "hf_env")]);
        assert_eq!(c.token.as_ref().map(Token::secret), Some("hf_env"));
        let c = cfg(&[
            ("HF_TOKEN_PATH", path),
            ("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1"),
        ]);
        assert!(c.token.is_none());
    }

    #[test]
    fn disk_errors_say_what_to_do() {
        let p = Path::new("/cache/blob");
        let full = HubError::io(
            "write",
            p,
            std::io::Error::from(std::io::ErrorKind::StorageFull),
        );
        assert!(matches!(full, HubError::DiskFull { .. }));
        assert!(full.to_string().contains("disk is full"));
        let denied = HubError::io(
            "write",
            p,
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
        assert!(denied.to_string().contains("HF_HUB_CACHE"));
        assert_eq!(denied.exit_code(), 6);
    }
}
