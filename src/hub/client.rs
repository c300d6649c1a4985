//! The Hub's REST API over one blocking HTTP agent (`ureq`): model search
//! with `Link` paging, model details (info, file tree, card, config), and the
//! request plumbing the downloader shares — redirects followed by hand so a
//! token never leaves the Hub's host, and Hub answers mapped to [`HubError`]
//! by their `X-Error-Code` (as `huggingface_hub`'s `utils/_http.py` does).

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::paths::{check_repo_id, check_revision, url_encode, url_encode_path};
use super::{HubConfig, HubError, Result, cache};
use crate::catalog::{self, ModelFacts, Verdict};

/// Which pipeline tag to search for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TaskFilter {
    All,
    Translation,
    ImageToText,
    SpeechRecognition,
}

impl TaskFilter {
    pub const ALL: [TaskFilter; 4] = [
        Self::All,
        Self::Translation,
        Self::ImageToText,
        Self::SpeechRecognition,
    ];

    /// The Hub's `pipeline_tag`, `None` for all tasks.
    pub fn pipeline_tag(self) -> Option<&'static str> {
        match self {
            Self::All => None,
            Self::Translation => Some("translation"),
            Self::ImageToText => Some("image-to-text"),
            Self::SpeechRecognition => Some("automatic-speech-recognition"),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::All => "All tasks",
            Self::Translation => "Translation",
            Self::ImageToText => "Image to text",
            Self::SpeechRecognition => "Speech recognition",
        }
    }

    /// Parses a CLI value: a pipeline tag, a short name, or `all`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| {
            t.pipeline_tag().unwrap_or("all") == s
                || match t {
                    Self::All => false,
                    Self::Translation => s == "translate",
                    Self::ImageToText => s == "caption",
                    Self::SpeechRecognition => s == "asr" || s == "transcribe",
                }
        })
    }
}

/// Search order; always descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Sort {
    Downloads,
    Likes,
    Updated,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Self::Downloads, Self::Likes, Self::Updated];

    pub fn api_name(self) -> &'static str {
        match self {
            Self::Downloads => "downloads",
            Self::Likes => "likes",
            Self::Updated => "lastModified",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Downloads => "Most downloaded",
            Self::Likes => "Most liked",
            Self::Updated => "Recently updated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "downloads" => Some(Self::Downloads),
            "likes" => Some(Self::Likes),
            "updated" | "lastModified" | "recent" => Some(Self::Updated),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SearchQuery {
    pub text: String,
    pub task: TaskFilter,
    pub sort: Sort,
    /// Results per page.
    pub limit: usize,
}

/// One search result, with the verdict on whether it runs here.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModelSummary {
    pub id: String,
    pub pipeline_tag: Option<String>,
    pub library_name: Option<String>,
    pub downloads: u64,
    pub likes: u64,
    pub last_modified: Option<String>,
    /// Weight bytes estimated from the safetensors parameter counts.
    pub size_bytes: Option<u64>,
    pub gated: bool,
    pub private: bool,
    pub runs_here: bool,
    pub verdict: Verdict,
}

#[derive(Clone, Debug)]
pub struct SearchPage {
    pub models: Vec<ModelSummary>,
    /// The `Link: <…>; rel="next"` URL, for "load more".
    pub next: Option<String>,
}

/// One file of a repo at a commit.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RepoFile {
    pub path: String,
    pub size: u64,
    /// sha256 of an LFS file: what its download is checked against.
    pub lfs_sha256: Option<String>,
}

/// Everything the details view and the downloader need about one model.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModelDetails {
    pub summary: ModelSummary,
    pub commit: String,
    pub files: Vec<RepoFile>,
    /// The files a download fetches (see [`catalog::needed_files`]).
    pub needed: Vec<String>,
    pub download_bytes: u64,
    /// The model card, YAML front matter removed.
    pub card: Option<String>,
    pub config: Option<Value>,
    pub license: Option<String>,
    /// `None`, `Some("auto")` or `Some("manual")`.
    pub gated_mode: Option<String>,
    /// Whether this came from the local cache rather than the Hub.
    pub from_cache: bool,
}

#[derive(Deserialize, Default)]
struct ApiModel {
    id: String,
    #[serde(default)]
    sha: Option<String>,
    #[serde(default)]
    pipeline_tag: Option<String>,
    #[serde(default)]
    library_name: Option<String>,
    #[serde(default)]
    downloads: Option<u64>,
    #[serde(default)]
    likes: Option<u64>,
    #[serde(default, rename = "lastModified")]
    last_modified: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    config: Option<Value>,
    #[serde(default)]
    siblings: Vec<ApiSibling>,
    #[serde(default)]
    safetensors: Option<ApiSafetensors>,
    #[serde(default)]
    gated: Value,
    #[serde(default)]
    private: bool,
    #[serde(default, rename = "cardData")]
    card_data: Option<Value>,
}

#[derive(Deserialize)]
struct ApiSibling {
    rfilename: String,
}

#[derive(Deserialize)]
struct ApiSafetensors {
    #[serde(default)]
    parameters: BTreeMap<String, u64>,
}

#[derive(Deserialize)]
struct ApiTreeEntry {
    #[serde(rename = "type")]
    kind: String,
    path: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    lfs: Option<ApiLfs>,
}

#[derive(Deserialize)]
struct ApiLfs {
    oid: String,
}

/// The fields of `/api/models` answers that Spaceport reads.
const SEARCH_EXPAND: [&str; 11] = [
    "pipeline_tag",
    "library_name",
    "downloads",
    "likes",
    "lastModified",
    "tags",
    "config",
    "siblings",
    "safetensors",
    "gated",
    "private",
];

pub(crate) fn gated_mode(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("auto".into()),
        _ => None,
    }
}

fn dtype_bytes(dtype: &str) -> u64 {
    match dtype.to_ascii_uppercase().as_str() {
        "F64" | "I64" | "U64" => 8,
        "F32" | "I32" | "U32" => 4,
        "F16" | "BF16" | "I16" | "U16" => 2,
        _ => 1,
    }
}

impl ApiModel {
    fn facts(&self) -> ModelFacts {
        ModelFacts {
            id: self.id.clone(),
            config: self.config.clone(),
            files: self.siblings.iter().map(|s| s.rfilename.clone()).collect(),
            tags: self.tags.clone(),
            pipeline_tag: self.pipeline_tag.clone(),
        }
    }

    fn summary(&self) -> ModelSummary {
        let verdict = catalog::verdict(&self.facts());
        let size_bytes = self.safetensors.as_ref().map(|s| {
            s.parameters
                .iter()
                .map(|(dtype, n)| n * dtype_bytes(dtype))
                .sum()
        });
        ModelSummary {
            id: self.id.clone(),
            pipeline_tag: self.pipeline_tag.clone(),
            library_name: self.library_name.clone(),
            downloads: self.downloads.unwrap_or(0),
            likes: self.likes.unwrap_or(0),
            last_modified: self.last_modified.clone(),
            size_bytes,
            gated: gated_mode(&self.gated).is_some(),
            private: self.private,
            runs_here: verdict.runs_here(),
            verdict,
        }
    }
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_string())
    })
}

/// Removes a leading `---` YAML block from a model card.
pub fn strip_front_matter(card: &str) -> &str {
    let body = card.trim_start_matches('\u{feff}');
    let Some(rest) = body
        .strip_prefix("---\n")
        .or_else(|| body.strip_prefix("---\r\n"))
    else {
        return body;
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        if line.trim_end() == "---" {
            return rest[offset..].trim_start_matches(['\r', '\n']);
        }
    }
    body
}

pub(crate) fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// Resolves a `Location` header against the URL that sent it.
pub(crate) fn resolve_location(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        location.to_string()
    } else if location.starts_with('/') {
        format!("{}{location}", origin(base))
    } else {
        let dir = base.rsplit_once('/').map(|(d, _)| d).unwrap_or(base);
        format!("{dir}/{location}")
    }
}

/// A client for one Hub endpoint. Cheap to clone; safe to share.
#[derive(Clone)]
pub struct Hub {
    pub config: HubConfig,
    agent: ureq::Agent,
}

/// What a request is about, so that errors can name it.
pub(crate) struct Ctx<'a> {
    pub repo: &'a str,
    pub revision: Option<&'a str>,
    pub path: Option<&'a str>,
}

impl Hub {
    pub fn new(config: HubConfig) -> Self {
        let agent = ureq::AgentBuilder::new()
            .redirects(0)
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(Duration::from_secs(30))
            .user_agent(concat!("spaceport/", env!("CARGO_PKG_VERSION")))
            .build();
        Self { config, agent }
    }

    fn offline_check(&self, what: &str) -> Result<()> {
        if self.config.offline {
            Err(HubError::Offline {
                what: what.to_string(),
            })
        } else {
            Ok(())
        }
    }

    /// One request, redirects not followed (a 3xx comes back as `Ok`). The
    /// token goes only to the Hub's own origin, never to a CDN.
    pub(crate) fn send_no_follow(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        ctx: &Ctx<'_>,
    ) -> Result<ureq::Response> {
        let mut req = self.agent.request(method, url);
        for (k, v) in headers {
            req = req.set(k, v);
        }
        if let Some(t) = &self.config.token
            && origin(url) == origin(&self.config.endpoint)
        {
            req = req.set("Authorization", &format!("Bearer {}", t.secret()));
        }
        match req.call() {
            Ok(r) => Ok(r),
            Err(ureq::Error::Status(code, resp)) => Err(self.status_error(code, resp, ctx)),
            Err(ureq::Error::Transport(t)) => Err(HubError::Network {
                endpoint: origin(url).to_string(),
                reason: t
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| t.kind().to_string()),
            }),
        }
    }

    /// Sends one request, following up to 10 redirects by hand so that the
    /// token is dropped when one leaves the Hub's origin.
    pub(crate) fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        ctx: &Ctx<'_>,
    ) -> Result<ureq::Response> {
        let mut url = url.to_string();
        for _ in 0..10 {
            let resp = self.send_no_follow(method, &url, headers, ctx)?;
            if (300..400).contains(&resp.status()) {
                let Some(loc) = resp.header("location") else {
                    return Err(HubError::Malformed {
                        what: format!("redirect without a location from {url}"),
                    });
                };
                url = resolve_location(&url, loc);
                continue;
            }
            return Ok(resp);
        }
        Err(HubError::Malformed {
            what: format!("too many redirects for {url}"),
        })
    }

    /// Maps a Hub error answer to what it means for the user.
    fn status_error(&self, code: u16, resp: ureq::Response, ctx: &Ctx<'_>) -> HubError {
        let error_code = resp.header("x-error-code").map(str::to_string);
        let header_msg = resp.header("x-error-message").map(str::to_string);
        let retry_after = resp
            .header("retry-after")
            .and_then(|s| s.trim().parse().ok());
        let url = resp.get_url().to_string();
        let mut body = String::new();
        let _ = resp.into_reader().take(64 * 1024).read_to_string(&mut body);
        let body_msg = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string));
        let message = header_msg.or(body_msg);
        let repo = ctx.repo.to_string();
        match error_code.as_deref() {
            Some("GatedRepo") => {
                return HubError::Gated {
                    url: format!("{}/{}", self.config.endpoint, ctx.repo),
                    repo,
                };
            }
            Some("RepoNotFound") => return HubError::RepoNotFound { repo },
            Some("RevisionNotFound") => {
                return HubError::RevisionNotFound {
                    repo,
                    revision: ctx.revision.unwrap_or("main").to_string(),
                };
            }
            Some("EntryNotFound") => {
                return HubError::EntryNotFound {
                    repo,
                    path: ctx.path.unwrap_or("").to_string(),
                };
            }
            _ => {}
        }
        match code {
            401 if message
                .as_deref()
                .is_some_and(|m| m.contains("Invalid credentials")) =>
            {
                HubError::BadToken
            }
            401 => HubError::RepoNotFound { repo },
            403 => HubError::Forbidden { repo },
            404 => match ctx.path {
                Some(path) => HubError::EntryNotFound {
                    repo,
                    path: path.to_string(),
                },
                None => HubError::RepoNotFound { repo },
            },
            429 => HubError::RateLimited {
                retry_after_secs: retry_after,
            },
            _ => HubError::Http {
                status: code,
                url,
                message,
            },
        }
    }

    /// One page of search results.
    pub fn search(&self, q: &SearchQuery) -> Result<SearchPage> {
        self.offline_check("search the Hub")?;
        let mut url = format!(
            "{}/api/models?search={}&sort={}&direction=-1&limit={}",
            self.config.endpoint,
            url_encode(q.text.trim()),
            q.sort.api_name(),
            q.limit.clamp(1, 1000)
        );
        if let Some(tag) = q.task.pipeline_tag() {
            url.push_str(&format!("&pipeline_tag={tag}"));
        }
        for e in SEARCH_EXPAND {
            url.push_str(&format!("&expand={e}"));
        }
        self.search_page(&url)
    }

    /// The page at a `Link` URL from an earlier page ("load more").
    pub fn search_page(&self, url: &str) -> Result<SearchPage> {
        self.offline_check("search the Hub")?;
        let ctx = Ctx {
            repo: "the model list",
            revision: None,
            path: None,
        };
        let resp = retry(3, || self.send("GET", url, &[], &ctx))?;
        let next = resp.header("link").and_then(next_link);
        let models: Vec<ApiModel> = read_json(resp, url)?;
        Ok(SearchPage {
            models: models.iter().map(ApiModel::summary).collect(),
            next,
        })
    }

    fn info(&self, repo: &str, revision: &str) -> Result<ApiModel> {
        let url = format!(
            "{}/api/models/{repo}/revision/{}",
            self.config.endpoint,
            url_encode(revision)
        );
        let ctx = Ctx {
            repo,
            revision: Some(revision),
            path: None,
        };
        let resp = retry(3, || self.send("GET", &url, &[], &ctx))?;
        read_json(resp, &url)
    }

    /// Every file of the repo at `commit`, with sizes and LFS checksums,
    /// following the tree endpoint's `Link` paging.
    pub fn tree(&self, repo: &str, commit: &str) -> Result<Vec<RepoFile>> {
        self.tree_of("models", repo, commit)
    }

    /// Every file of dataset `id` at `revision` (`main`, a commit).
    pub fn dataset_tree(&self, id: &str, revision: &str) -> Result<Vec<RepoFile>> {
        self.tree_of("datasets", id, revision)
    }

    fn tree_of(&self, kind: &str, repo: &str, commit: &str) -> Result<Vec<RepoFile>> {
        let mut url = Some(format!(
            "{}/api/{kind}/{repo}/tree/{}?recursive=true",
            self.config.endpoint,
            url_encode(commit)
        ));
        let ctx = Ctx {
            repo,
            revision: Some(commit),
            path: None,
        };
        let mut files = Vec::new();
        while let Some(u) = url.take() {
            let resp = retry(3, || self.send("GET", &u, &[], &ctx))?;
            url = resp.header("link").and_then(next_link);
            let entries: Vec<ApiTreeEntry> = read_json(resp, &u)?;
            files.extend(entries.into_iter().filter(|e| e.kind == "file").map(|e| {
                RepoFile {
                    path: e.path,
                    size: e.size,
                    lfs_sha256: e
                        .lfs
                        .map(|l| l.oid.trim_start_matches("sha256:").to_string()),
                }
            }));
        }
        Ok(files)
    }

    /// A small text file of the repo (card, config), or `None` if absent.
    pub fn text_file(&self, repo: &str, revision: &str, path: &str) -> Result<Option<String>> {
        let url = format!(
            "{}/{repo}/resolve/{}/{}",
            self.config.endpoint,
            url_encode(revision),
            url_encode_path(path)
        );
        let ctx = Ctx {
            repo,
            revision: Some(revision),
            path: Some(path),
        };
        match retry(3, || self.send("GET", &url, &[], &ctx)) {
            Ok(resp) => {
                let mut s = String::new();
                resp.into_reader()
                    .take(4 * 1024 * 1024)
                    .read_to_string(&mut s)
                    .map_err(|e| HubError::Malformed {
                        what: format!("{path}: {e}"),
                    })?;
                Ok(Some(s))
            }
            Err(HubError::EntryNotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Details of a model at `revision`: from the Hub, or from the cache
    /// when offline.
    pub fn details(&self, repo: &str, revision: &str) -> Result<ModelDetails> {
        check_repo_id(repo)?;
        check_revision(revision)?;
        if self.config.offline {
            return cache::local_details(&self.config.cache_dir, repo, revision).ok_or_else(|| {
                HubError::Offline {
                    what: format!("show {repo}: it is not in the local cache"),
                }
            });
        }
        let info = self.info(repo, revision)?;
        let commit = info.sha.clone().ok_or_else(|| HubError::Malformed {
            what: format!("no commit for {repo}"),
        })?;
        super::paths::check_token_name("commit", &commit)?;
        let files = self.tree(repo, &commit)?;
        let config = match self.text_file(repo, &commit, "config.json") {
            Ok(Some(text)) => serde_json::from_str(&text).ok(),
            _ => info.config.clone(),
        };
        let card = self
            .text_file(repo, &commit, "README.md")
            .ok()
            .flatten()
            .map(|c| strip_front_matter(&c).to_string());
        let mut facts = info.facts();
        facts.files = files.iter().map(|f| f.path.clone()).collect();
        facts.config = config.clone().or(facts.config);
        let verdict = catalog::verdict(&facts);
        let needed = catalog::needed_files(&verdict, &facts.files);
        let download_bytes = files
            .iter()
            .filter(|f| needed.contains(&f.path))
            .map(|f| f.size)
            .sum();
        let mut summary = info.summary();
        summary.runs_here = verdict.runs_here();
        summary.verdict = verdict;
        if summary.size_bytes.is_none() {
            summary.size_bytes = Some(download_bytes);
        }
        let license = info
            .card_data
            .as_ref()
            .and_then(|c| c.get("license"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                info.tags
                    .iter()
                    .find_map(|t| t.strip_prefix("license:").map(str::to_string))
            });
        Ok(ModelDetails {
            summary,
            commit,
            files,
            needed,
            download_bytes,
            card,
            config,
            license,
            gated_mode: gated_mode(&info.gated),
            from_cache: false,
        })
    }
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    resp: ureq::Response,
    url: &str,
) -> Result<T> {
    let mut body = Vec::new();
    resp.into_reader()
        .take(256 * 1024 * 1024)
        .read_to_end(&mut body)
        .map_err(|e| HubError::Network {
            endpoint: origin(url).to_string(),
            reason: e.to_string(),
        })?;
    serde_json::from_slice(&body).map_err(|e| HubError::Malformed {
        what: format!("{url}: {e}"),
    })
}

/// Runs `f` up to `attempts` times while it fails with a transient error,
/// waiting 0.5 s, 1 s, 2 s… between tries (or what `Retry-After` asks, up
/// to 30 s).
pub(crate) fn retry<T>(attempts: u32, mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let mut delay = Duration::from_millis(500);
    let mut tries = 0;
    loop {
        tries += 1;
        match f() {
            Err(e) if e.is_transient() && tries < attempts => {
                let wait = match &e {
                    HubError::RateLimited {
                        retry_after_secs: Some(s),
                    } => Duration::from_secs((*s).min(30)),
                    _ => delay,
                };
                std::thread::sleep(wait);
                delay *= 2;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header() {
        let h = r#"<https://huggingface.co/api/models?cursor=abc&limit=2>; rel="next""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://huggingface.co/api/models?cursor=abc&limit=2")
        );
        assert_eq!(next_link(r#"<https://x/prev>; rel="prev""#), None);
    }

    #[test]
    fn front_matter() {
        let card = "---\nlicense: mit\ntags:\n- a\n---\n\n# Title\nBody";
        assert_eq!(strip_front_matter(card), "# Title\nBody");
        assert_eq!(strip_front_matter("# No front matter"), "# No front matter");
    }

    #[test]
    fn redirects() {
        assert_eq!(
            resolve_location("http://a:1/x/y", "/cdn/z"),
            "http://a:1/cdn/z"
        );
        assert_eq!(
            resolve_location("http://a:1/x/y", "https://cdn/z"),
            "https://cdn/z"
        );
        assert_eq!(origin("http://a:1/x/y"), "http://a:1");
    }

    #[test]
    fn task_names() {
        assert_eq!(
            TaskFilter::parse("translation"),
            Some(TaskFilter::Translation)
        );
        assert_eq!(
            TaskFilter::parse("asr"),
            Some(TaskFilter::SpeechRecognition)
        );
        assert_eq!(TaskFilter::parse("all"), Some(TaskFilter::All));
        assert_eq!(TaskFilter::parse("nope"), None);
    }
}
