#![allow(dead_code)]
//! A stand-in Hugging Face Hub on loopback, for tests and benchmarks. It
//! speaks the Hub's HTTP API the way the real one does (as documented in
//! `huggingface_hub`'s `file_download.py` / `hf_api.py` and the hub docs):
//! `/api/models` search with `Link` paging, model info and tree endpoints,
//! `HEAD`/`GET` on `resolve` with `ETag`, `X-Repo-Commit`,
//! `X-Linked-Etag`/`X-Linked-Size`, a 302 to another host name for LFS
//! files (as the Hub sends them to its CDN), `Range`, and the Hub's error
//! answers (`X-Error-Code`). Faults can be injected per file: a connection
//! cut mid-file, a 500, a corrupted body, slow bytes. It counts the body
//! bytes it serves per file, so tests can prove a resume did not start over.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// One file of a stand-in repo.
#[derive(Clone)]
pub struct FileSpec {
    pub path: String,
    pub data: Arc<Vec<u8>>,
    /// Served as an LFS file (302 to the CDN host, sha256 etag).
    pub lfs: bool,
    sha256: String,
    /// An etag to send instead of the real one (hostile-server tests).
    pub etag_override: Option<String>,
}

impl FileSpec {
    pub fn new(path: &str, data: impl Into<Vec<u8>>, lfs: bool) -> Self {
        let data: Vec<u8> = data.into();
        Self {
            path: path.to_string(),
            sha256: format!("{:x}", Sha256::digest(&data)),
            data: Arc::new(data),
            lfs,
            etag_override: None,
        }
    }

    pub fn sha256(&self) -> String {
        self.sha256.clone()
    }

    /// The "git oid" of a regular file (any stable hex id will do here).
    fn oid(&self) -> String {
        self.sha256()[..40].to_string()
    }

    fn etag(&self) -> String {
        self.etag_override
            .clone()
            .unwrap_or_else(|| if self.lfs { self.sha256() } else { self.oid() })
    }
}

/// One stand-in repo.
#[derive(Clone)]
pub struct RepoSpec {
    pub id: String,
    pub commit: String,
    pub files: Vec<FileSpec>,
    pub pipeline_tag: Option<String>,
    pub tags: Vec<String>,
    pub downloads: u64,
    pub likes: u64,
    pub last_modified: String,
    pub gated: bool,
    pub private: bool,
    pub license: Option<String>,
    /// A dataset repo (served under `/datasets/` and `/api/datasets/`).
    pub dataset: bool,
    /// A dataset's parquet export, on `refs/convert/parquet`.
    pub export: Vec<FileSpec>,
    /// A dataset card's YAML, as the Hub's `cardData`.
    pub card_data: Option<Value>,
}

impl RepoSpec {
    pub fn new(id: &str, files: Vec<FileSpec>) -> Self {
        let commit = format!("{:x}", Sha256::digest(id.as_bytes()))[..40].to_string();
        Self {
            id: id.to_string(),
            commit,
            files,
            pipeline_tag: None,
            tags: vec!["transformers".into()],
            downloads: 0,
            likes: 0,
            last_modified: "2025-01-01T00:00:00.000Z".into(),
            gated: false,
            private: false,
            license: None,
            dataset: false,
            export: Vec::new(),
            card_data: None,
        }
    }

    /// A dataset repo: `files` on `main`, `export` on
    /// `refs/convert/parquet` (paths `{config}/{split}/NNNN.parquet`).
    pub fn dataset(id: &str, files: Vec<FileSpec>, export: Vec<FileSpec>) -> Self {
        Self {
            dataset: true,
            export,
            tags: Vec::new(),
            ..Self::new(id, files)
        }
    }

    /// The commit of the parquet export's branch.
    fn export_commit(&self) -> String {
        format!(
            "{:x}",
            Sha256::digest(format!("{}@parquet", self.id).as_bytes())
        )[..40]
            .to_string()
    }

    fn config(&self) -> Option<Value> {
        self.files
            .iter()
            .find(|f| f.path == "config.json")
            .and_then(|f| serde_json::from_slice(&f.data).ok())
    }
}

/// A fault to inject when a file's bytes are served.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Send the headers for the whole file but cut the connection after
    /// this many body bytes. Once.
    CutAfter(u64),
    /// Answer 500. Once.
    Status500,
    /// Answer 429 with `Retry-After: 1`. Once.
    RateLimited,
    /// Flip bytes in the body. Once.
    Corrupt,
    /// Send at most this many bytes per second. Always.
    Slow(u64),
}

#[derive(Default)]
struct State {
    repos: Vec<RepoSpec>,
    faults: HashMap<String, Vec<Fault>>,
    served: HashMap<String, u64>,
    requests: Vec<String>,
    /// Known tokens, and whether each has access to gated/private repos.
    tokens: Vec<(String, bool)>,
    page_size_cap: Option<usize>,
}

/// A running stand-in Hub. Dropping it stops accepting connections.
pub struct StandinHub {
    /// The API endpoint (`http://127.0.0.1:PORT`), for `HF_ENDPOINT`.
    pub url: String,
    /// The "CDN" for LFS files: the same server under another host name.
    pub cdn_url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl StandinHub {
    pub fn start(repos: Vec<RepoSpec>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let url = format!("http://127.0.0.1:{port}");
        let cdn_url = format!("http://localhost:{port}");
        let state = Arc::new(Mutex::new(State {
            repos,
            ..Default::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, stop2, base, cdn) = (state.clone(), stop.clone(), url.clone(), cdn_url.clone());
        std::thread::Builder::new()
            .name("standin-hub".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if stop2.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (st, base, cdn) = (st.clone(), base.clone(), cdn.clone());
                    let _ = std::thread::Builder::new()
                        .name("standin-conn".into())
                        .spawn(move || serve_connection(conn, &st, &base, &cdn));
                }
            })
            .expect("spawn stand-in hub");
        Self {
            url,
            cdn_url,
            state,
            stop,
        }
    }

    /// Adds a fault for a repo file (`repo/path`).
    pub fn inject(&self, repo: &str, path: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .entry(format!("{repo}/{path}"))
            .or_default()
            .push(fault);
    }

    pub fn clear_faults(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    /// Body bytes served for a repo file so far.
    pub fn served(&self, repo: &str, path: &str) -> u64 {
        *self
            .state
            .lock()
            .unwrap()
            .served
            .get(&format!("{repo}/{path}"))
            .unwrap_or(&0)
    }

    /// Every request so far, as `METHOD target [auth]`.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Accept this token as one with access to gated and private repos.
    pub fn allow_token(&self, token: &str) {
        self.state
            .lock()
            .unwrap()
            .tokens
            .push((token.to_string(), true));
    }

    /// Accept this token as valid, but without access to gated or private
    /// repos (the Hub answers 403 for those).
    pub fn allow_token_without_access(&self, token: &str) {
        self.state
            .lock()
            .unwrap()
            .tokens
            .push((token.to_string(), false));
    }

    /// Caps the search page size (to exercise paging with few repos).
    pub fn cap_page_size(&self, n: usize) {
        self.state.lock().unwrap().page_size_cap = Some(n);
    }

    pub fn set_repos(&self, repos: Vec<RepoSpec>) {
        self.state.lock().unwrap().repos = repos;
    }
}

impl Drop for StandinHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

struct Request {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: HashMap<String, String>,
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
}

enum Body {
    Bytes(Vec<u8>),
    /// A slice of a file, with the faults to apply while sending it.
    File {
        data: Arc<Vec<u8>>,
        start: usize,
        /// One past the last byte sent.
        end: usize,
        key: String,
        fault: Option<Fault>,
        slow: Option<u64>,
    },
}

impl Response {
    fn json(status: u16, v: &Value) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Body::Bytes(v.to_string().into_bytes()),
        }
    }

    fn error(status: u16, code: &str, message: &str) -> Self {
        let mut r = Self::json(status, &json!({ "error": message }));
        if !code.is_empty() {
            r.headers.push(("X-Error-Code".into(), code.into()));
        }
        r.headers.push(("X-Error-Message".into(), message.into()));
        r
    }

    fn header(mut self, k: &str, v: impl Into<String>) -> Self {
        self.headers.push((k.to_string(), v.into()));
        self
    }
}

fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    if let Some(len) = headers
        .get("content-length")
        .and_then(|l| l.parse::<usize>().ok())
    {
        let mut body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
    }
    let (path, q) = target.split_once('?').unwrap_or((&target, ""));
    let query = q
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (url_decode(k), url_decode(v))
        })
        .collect();
    Some(Request {
        method,
        path: path.to_string(),
        query,
        headers,
    })
}

fn serve_connection(conn: TcpStream, state: &Arc<Mutex<State>>, base: &str, cdn: &str) {
    let _ = conn.set_nodelay(true);
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut conn = conn;
    while let Some(req) = read_request(&mut reader) {
        let auth = req.headers.get("authorization").cloned();
        state.lock().unwrap().requests.push(format!(
            "{} {} {} {}",
            req.method,
            req.path,
            req.headers
                .get("range")
                .map(|r| format!("range={r}"))
                .unwrap_or_default(),
            if auth.is_some() { "[auth]" } else { "" }
        ));
        let resp = route(&req, state, base, cdn);
        let close = req
            .headers
            .get("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        if !write_response(&mut conn, &req, resp, state) || close {
            let _ = conn.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Writes a response; false when the connection must be dropped.
fn write_response(
    conn: &mut TcpStream,
    req: &Request,
    resp: Response,
    state: &Arc<Mutex<State>>,
) -> bool {
    let reason = match resp.status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        416 => "Range Not Satisfiable",
        _ => "Error",
    };
    let len = match &resp.body {
        Body::Bytes(b) => b.len(),
        Body::File { start, end, .. } => end - start,
    };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", resp.status);
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {len}\r\n\r\n"));
    if conn.write_all(head.as_bytes()).is_err() {
        return false;
    }
    if req.method == "HEAD" {
        return true;
    }
    match resp.body {
        Body::Bytes(b) => conn.write_all(&b).is_ok(),
        Body::File {
            data,
            start,
            end,
            key,
            fault,
            slow,
        } => {
            let mut body = data[start..end].to_vec();
            if matches!(fault, Some(Fault::Corrupt)) && !body.is_empty() {
                let mid = body.len() / 2;
                body[mid] ^= 0xff;
                body[0] ^= 0x55;
            }
            let limit = match fault {
                Some(Fault::CutAfter(n)) => (n as usize).saturating_sub(start).min(body.len()),
                _ => body.len(),
            };
            let chunk = if slow.is_some() {
                16 * 1024
            } else {
                256 * 1024
            };
            let mut sent = 0;
            while sent < limit {
                let n = chunk.min(limit - sent);
                // Counted before the write: the client may have the bytes
                // (and a test may ask) before this thread runs again.
                *state.lock().unwrap().served.entry(key.clone()).or_default() += n as u64;
                if conn.write_all(&body[sent..sent + n]).is_err() {
                    *state.lock().unwrap().served.entry(key.clone()).or_default() -= n as u64;
                    break;
                }
                sent += n;
                if let Some(bps) = slow {
                    std::thread::sleep(Duration::from_secs_f64(n as f64 / bps as f64));
                }
            }
            if sent < body.len() {
                let _ = conn.flush();
                return false;
            }
            true
        }
    }
}

fn q<'a>(req: &'a Request, key: &str) -> Option<&'a str> {
    req.query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// What the caller's token allows: `Ok(has_access)` or a 401 for a bad token.
fn check_token(req: &Request, st: &State) -> Result<bool, Response> {
    match req.headers.get("authorization") {
        None => Ok(false),
        Some(h) => {
            let t = h.trim_start_matches("Bearer ").trim();
            if let Some((_, access)) = st.tokens.iter().find(|(x, _)| x == t) {
                Ok(*access)
            } else {
                Err(Response::error(
                    401,
                    "",
                    "Invalid credentials in Authorization header",
                ))
            }
        }
    }
}

fn model_json(r: &RepoSpec) -> Value {
    let mut v = json!({
        "_id": format!("id-{}", r.id),
        "id": r.id,
        "modelId": r.id,
        "author": r.id.split('/').next(),
        "sha": r.commit,
        "pipeline_tag": r.pipeline_tag,
        "library_name": "transformers",
        "tags": r.tags,
        "downloads": r.downloads,
        "likes": r.likes,
        "lastModified": r.last_modified,
        "createdAt": r.last_modified,
        "private": r.private,
        "gated": if r.gated { json!("manual") } else { json!(false) },
        "disabled": false,
        "siblings": r.files.iter().map(|f| json!({"rfilename": f.path})).collect::<Vec<_>>(),
        "cardData": r.license.as_ref().map(|l| json!({"license": l})),
    });
    if let Some(c) = r.config() {
        let digest: serde_json::Map<String, Value> = c
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(k, _)| matches!(k.as_str(), "architectures" | "model_type"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        v["config"] = Value::Object(digest);
    }
    let st_bytes: u64 = r
        .files
        .iter()
        .filter(|f| f.path.ends_with(".safetensors"))
        .map(|f| f.data.len() as u64)
        .sum();
    if st_bytes > 0 {
        v["safetensors"] = json!({"parameters": {"F32": st_bytes / 4}, "total": st_bytes / 4});
    }
    v
}

fn route(req: &Request, state: &Arc<Mutex<State>>, base: &str, cdn: &str) -> Response {
    let st = state.lock().unwrap();
    let token_ok = match check_token(req, &st) {
        Ok(ok) => ok,
        Err(resp) => return resp,
    };
    let path = req.path.as_str();
    if path == "/api/models" {
        return search(req, &st, base, token_ok);
    }
    if let Some(rest) = path.strip_prefix("/api/models/") {
        return api_model(rest, req, &st, token_ok);
    }
    if path == "/api/datasets" {
        return search_datasets(req, &st, base, token_ok);
    }
    if let Some(rest) = path.strip_prefix("/api/datasets/") {
        return api_dataset(rest, &st, base, token_ok);
    }
    if let Some(rest) = path.strip_prefix("/datasets/") {
        return resolve_dataset(rest, req, state, st, cdn, token_ok);
    }
    if let Some(sha) = path.strip_prefix("/cdn/") {
        let found = st.repos.iter().find_map(|r| {
            r.files
                .iter()
                .chain(&r.export)
                .find(|f| f.lfs && f.sha256() == sha)
                .map(|f| (format!("{}/{}", r.id, f.path), f.clone()))
        });
        drop(st);
        return match found {
            Some((key, f)) => serve_bytes(
                req,
                state,
                &f,
                &key,
                vec![("ETag".into(), format!("\"{sha}\""))],
            ),
            None => Response::error(404, "", "no such object"),
        };
    }
    // /{org}/{name}/resolve/{rev}/{path...}
    let segs: Vec<&str> = path.trim_start_matches('/').splitn(5, '/').collect();
    if segs.len() == 5 && segs[2] == "resolve" {
        let id = format!("{}/{}", segs[0], segs[1]);
        let rev = url_decode(segs[3]);
        let file_path = url_decode(segs[4]);
        let Some(r) = st.repos.iter().find(|r| !r.dataset && r.id == id).cloned() else {
            return Response::error(404, "RepoNotFound", "Repository not found");
        };
        if r.private && !token_ok {
            return Response::error(401, "RepoNotFound", "Repository not found");
        }
        if r.gated && !token_ok {
            let status = if req.headers.contains_key("authorization") {
                403
            } else {
                401
            };
            return Response::error(
                status,
                "GatedRepo",
                &format!(
                    "Access to model {id} is restricted. You must have access to it and be authenticated to access it."
                ),
            );
        }
        if rev != "main" && rev != r.commit {
            return Response::error(404, "RevisionNotFound", "Invalid rev id");
        }
        let Some(f) = r.files.iter().find(|f| f.path == file_path).cloned() else {
            return Response::error(404, "EntryNotFound", &format!("{file_path} does not exist"));
        };
        let common = vec![
            ("X-Repo-Commit".to_string(), r.commit.clone()),
            ("ETag".to_string(), format!("\"{}\"", f.etag())),
        ];
        if f.lfs {
            let mut resp = Response {
                status: 302,
                headers: common,
                body: Body::Bytes(Vec::new()),
            };
            resp = resp
                .header("X-Linked-Etag", format!("\"{}\"", f.etag()))
                .header("X-Linked-Size", f.data.len().to_string())
                .header("Location", format!("{cdn}/cdn/{}", f.sha256()));
            return resp;
        }
        let key = format!("{}/{}", r.id, f.path);
        drop(st);
        return serve_bytes(req, state, &f, &key, common);
    }
    Response::error(404, "", "Not found")
}

fn search(req: &Request, st: &State, base: &str, token_ok: bool) -> Response {
    let text = q(req, "search").unwrap_or("").to_ascii_lowercase();
    let tag = q(req, "pipeline_tag");
    let mut hits: Vec<&RepoSpec> = st
        .repos
        .iter()
        .filter(|r| !r.dataset && (!r.private || token_ok))
        .filter(|r| r.id.to_ascii_lowercase().contains(&text))
        .filter(|r| tag.is_none_or(|t| r.pipeline_tag.as_deref() == Some(t)))
        .collect();
    match q(req, "sort").unwrap_or("downloads") {
        "likes" => hits.sort_by_key(|r| std::cmp::Reverse(r.likes)),
        "lastModified" => hits.sort_by_key(|r| std::cmp::Reverse(r.last_modified.clone())),
        _ => hits.sort_by_key(|r| std::cmp::Reverse(r.downloads)),
    }
    let mut limit: usize = q(req, "limit").and_then(|l| l.parse().ok()).unwrap_or(1000);
    if let Some(cap) = st.page_size_cap {
        limit = limit.min(cap);
    }
    let start: usize = q(req, "cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = hits
        .iter()
        .skip(start)
        .take(limit)
        .map(|r| model_json(r))
        .collect();
    let resp = Response::json(200, &Value::Array(page));
    with_next_link(
        resp,
        req,
        &format!("{base}/api/models"),
        start + limit,
        hits.len(),
    )
}

fn api_model(rest: &str, req: &Request, st: &State, token_ok: bool) -> Response {
    // {org}/{name}[/revision/{rev} | /tree/{rev}[/path]]
    let segs: Vec<&str> = rest.splitn(4, '/').collect();
    if segs.len() < 2 {
        return Response::error(404, "RepoNotFound", "Repository not found");
    }
    let id = format!("{}/{}", segs[0], segs[1]);
    let Some(r) = st.repos.iter().find(|r| !r.dataset && r.id == id) else {
        return Response::error(404, "RepoNotFound", "Repository not found");
    };
    if r.private && !token_ok {
        return Response::error(401, "RepoNotFound", "Repository not found");
    }
    let (kind, rev) = match (segs.get(2), segs.get(3)) {
        (None, _) => ("info", "main".to_string()),
        (Some(&"revision"), Some(rev)) => ("info", url_decode(rev)),
        (Some(&"tree"), Some(rev)) => ("tree", url_decode(rev.split('/').next().unwrap_or("main"))),
        _ => return Response::error(404, "", "Not found"),
    };
    if rev != "main" && rev != r.commit {
        return Response::error(404, "RevisionNotFound", "Invalid rev id");
    }
    if kind == "info" {
        return Response::json(200, &model_json(r));
    }
    let _ = req;
    tree_json(&r.files)
}

/// A tree listing of `files`, directories first as the Hub lists them.
fn tree_json(files: &[FileSpec]) -> Response {
    let mut entries = Vec::new();
    let mut dirs: Vec<String> = Vec::new();
    for f in files {
        if let Some((d, _)) = f.path.rsplit_once('/')
            && !dirs.contains(&d.to_string())
        {
            dirs.push(d.to_string());
            entries.push(json!({"type": "directory", "oid": "0".repeat(40), "size": 0, "path": d}));
        }
        let mut e = json!({"type": "file", "oid": f.oid(), "size": f.data.len(), "path": f.path});
        if f.lfs {
            e["lfs"] = json!({"oid": f.sha256(), "size": f.data.len(), "pointerSize": 134});
        }
        entries.push(e);
    }
    Response::json(200, &Value::Array(entries))
}

/// Serves a file's bytes with `Range` support and the file's faults.
fn serve_bytes(
    req: &Request,
    state: &Arc<Mutex<State>>,
    f: &FileSpec,
    key: &str,
    headers: Vec<(String, String)>,
) -> Response {
    let mut st = state.lock().unwrap();
    let mut fault = None;
    let mut slow = None;
    if req.method == "GET"
        && let Some(list) = st.faults.get_mut(key)
    {
        slow = list.iter().find_map(|f| {
            if let Fault::Slow(b) = f {
                Some(*b)
            } else {
                None
            }
        });
        if let Some(i) = list.iter().position(|f| !matches!(f, Fault::Slow(_))) {
            fault = Some(list.remove(i));
        }
    }
    drop(st);
    if matches!(fault, Some(Fault::Status500)) {
        return Response::error(500, "", "Internal Error");
    }
    if matches!(fault, Some(Fault::RateLimited)) {
        return Response::error(429, "", "Too many requests").header("Retry-After", "1");
    }
    let total = f.data.len();
    let mut start = 0;
    let mut end = total;
    let mut status = 200;
    let mut headers = headers;
    headers.push(("Accept-Ranges".into(), "bytes".into()));
    if let Some(range) = req
        .headers
        .get("range")
        .and_then(|r| r.strip_prefix("bytes="))
    {
        // `bytes=FROM-` or `bytes=FROM-TO` (inclusive), as the CDN takes.
        let mut parts = range.splitn(2, '-');
        let from: usize = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let to: Option<usize> = parts.next().and_then(|s| s.parse().ok());
        if from >= total && total > 0 {
            return Response::error(416, "", "Range not satisfiable")
                .header("Content-Range", format!("bytes */{total}"));
        }
        start = from;
        end = to.map(|t| (t + 1).min(total)).unwrap_or(total).max(from);
        status = 206;
        headers.push((
            "Content-Range".into(),
            format!("bytes {from}-{}/{total}", end.saturating_sub(1)),
        ));
    }
    Response {
        status,
        headers,
        body: Body::File {
            data: f.data.clone(),
            start,
            end,
            key: key.to_string(),
            fault,
            slow,
        },
    }
}

/// `/api/datasets/{id}/tree/{rev}` (the files on main),
/// `/api/datasets/{id}/parquet` (the export's files by config and split)
/// and `/api/datasets/{id}/parquet/{config}/{split}/{n}.parquet` (a
/// redirect to the file), as the Hub answers them.
fn api_dataset(rest: &str, st: &State, base: &str, token_ok: bool) -> Response {
    let segs: Vec<&str> = rest.split('/').collect();
    if segs.len() >= 4 && segs[2] == "tree" {
        // The files on main (or its commit).
        let id = format!("{}/{}", segs[0], segs[1]);
        let Some(r) = st.repos.iter().find(|r| r.dataset && r.id == id) else {
            return Response::error(404, "RepoNotFound", "Repository not found");
        };
        if (r.gated || r.private) && !token_ok {
            return Response::error(
                401,
                "GatedRepo",
                &format!("Access to dataset {id} is restricted."),
            );
        }
        let rev = url_decode(segs[3].split('?').next().unwrap_or("main"));
        if rev != "main" && rev != r.commit {
            return Response::error(404, "RevisionNotFound", "Invalid rev id");
        }
        return tree_json(&r.files);
    }
    if segs.len() < 3 || segs[2] != "parquet" {
        return Response::error(404, "", "Not found");
    }
    let id = format!("{}/{}", segs[0], segs[1]);
    let Some(r) = st.repos.iter().find(|r| r.dataset && r.id == id) else {
        return Response::error(404, "RepoNotFound", "Repository not found");
    };
    if (r.gated || r.private) && !token_ok {
        return Response::error(
            401,
            "GatedRepo",
            &format!("Access to dataset {id} is restricted."),
        );
    }
    if r.export.is_empty() {
        return Response::error(404, "", "No parquet export for this dataset");
    }
    if segs.len() == 6 {
        let n: usize = segs[5]
            .trim_end_matches(".parquet")
            .parse()
            .unwrap_or(usize::MAX);
        let prefix = format!("{}/{}/", segs[3], segs[4]);
        let files: Vec<&FileSpec> = r
            .export
            .iter()
            .filter(|f| f.path.starts_with(&prefix))
            .collect();
        return match files.get(n) {
            Some(f) => Response {
                status: 302,
                headers: Vec::new(),
                body: Body::Bytes(Vec::new()),
            }
            .header(
                "Location",
                format!(
                    "{base}/datasets/{id}/resolve/refs%2Fconvert%2Fparquet/{}",
                    f.path
                ),
            ),
            None => Response::error(404, "", "Not found"),
        };
    }
    let mut listing = serde_json::Map::new();
    for f in &r.export {
        let parts: Vec<&str> = f.path.split('/').collect();
        if parts.len() != 3 {
            continue;
        }
        let config = listing
            .entry(parts[0].to_string())
            .or_insert_with(|| json!({}));
        let split = config
            .as_object_mut()
            .unwrap()
            .entry(parts[1].to_string())
            .or_insert_with(|| json!([]));
        let n = split.as_array().unwrap().len();
        split.as_array_mut().unwrap().push(json!(format!(
            "{base}/api/datasets/{id}/parquet/{}/{}/{n}.parquet",
            parts[0], parts[1]
        )));
    }
    Response::json(200, &Value::Object(listing))
}

/// `/datasets/{org}/{name}/resolve/{rev}/{path}`: `main`'s files, or the
/// export's on `refs/convert/parquet`.
fn resolve_dataset(
    rest: &str,
    req: &Request,
    state: &Arc<Mutex<State>>,
    st: std::sync::MutexGuard<'_, State>,
    cdn: &str,
    token_ok: bool,
) -> Response {
    let segs: Vec<&str> = rest.splitn(5, '/').collect();
    if segs.len() != 5 || segs[2] != "resolve" {
        return Response::error(404, "", "Not found");
    }
    let id = format!("{}/{}", segs[0], segs[1]);
    let rev = url_decode(segs[3]);
    let file_path = url_decode(segs[4]);
    let Some(r) = st.repos.iter().find(|r| r.dataset && r.id == id).cloned() else {
        return Response::error(404, "RepoNotFound", "Repository not found");
    };
    if (r.gated || r.private) && !token_ok {
        return Response::error(
            401,
            "GatedRepo",
            &format!("Access to dataset {id} is restricted."),
        );
    }
    let (files, commit) = if rev == "refs/convert/parquet" || rev == r.export_commit() {
        (&r.export, r.export_commit())
    } else if rev == "main" || rev == r.commit {
        (&r.files, r.commit.clone())
    } else {
        return Response::error(404, "RevisionNotFound", "Invalid rev id");
    };
    let Some(f) = files.iter().find(|f| f.path == file_path).cloned() else {
        return Response::error(404, "EntryNotFound", &format!("{file_path} does not exist"));
    };
    let common = vec![
        ("X-Repo-Commit".to_string(), commit),
        ("ETag".to_string(), format!("\"{}\"", f.etag())),
    ];
    if f.lfs {
        return Response {
            status: 302,
            headers: common,
            body: Body::Bytes(Vec::new()),
        }
        .header("X-Linked-Etag", format!("\"{}\"", f.etag()))
        .header("X-Linked-Size", f.data.len().to_string())
        .header("Location", format!("{cdn}/cdn/{}", f.sha256()));
    }
    let key = format!("{}/{}", r.id, f.path);
    drop(st);
    serve_bytes(req, state, &f, &key, common)
}

/// `/api/datasets?search=&filter=…&sort=&limit=` with `Link` paging: the
/// dataset repos whose id holds the text and whose tags hold every filter.
fn search_datasets(req: &Request, st: &State, base: &str, token_ok: bool) -> Response {
    let text = q(req, "search").unwrap_or("").to_ascii_lowercase();
    let filters: Vec<&str> = req
        .query
        .iter()
        .filter(|(k, _)| k == "filter")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut hits: Vec<&RepoSpec> = st
        .repos
        .iter()
        .filter(|r| r.dataset && (!r.private || token_ok))
        .filter(|r| r.id.to_ascii_lowercase().contains(&text))
        .filter(|r| filters.iter().all(|f| r.tags.iter().any(|t| t == f)))
        .collect();
    match q(req, "sort").unwrap_or("downloads") {
        "likes" => hits.sort_by_key(|r| std::cmp::Reverse(r.likes)),
        "lastModified" => hits.sort_by_key(|r| std::cmp::Reverse(r.last_modified.clone())),
        _ => hits.sort_by_key(|r| std::cmp::Reverse(r.downloads)),
    }
    let limit: usize = q(req, "limit").and_then(|l| l.parse().ok()).unwrap_or(1000);
    let start: usize = q(req, "cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = hits
        .iter()
        .skip(start)
        .take(limit)
        .map(|r| {
            json!({
                "id": r.id,
                "downloads": r.downloads,
                "likes": r.likes,
                "gated": if r.gated { json!("auto") } else { json!(false) },
                "private": r.private,
                "lastModified": r.last_modified,
                "usedStorage": r.files.iter().chain(&r.export).map(|f| f.data.len() as u64).sum::<u64>(),
                "tags": r.tags,
                "cardData": r.card_data,
                "siblings": r.files.iter().map(|f| json!({"rfilename": f.path})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let resp = Response::json(200, &Value::Array(page));
    with_next_link(
        resp,
        req,
        &format!("{base}/api/datasets"),
        start + limit,
        hits.len(),
    )
}

/// Adds the `Link: <…&cursor=N>; rel="next"` header of a search page when
/// results remain after `next` (the request's other parameters kept).
fn with_next_link(resp: Response, req: &Request, url: &str, next: usize, total: usize) -> Response {
    if next >= total {
        return resp;
    }
    let kept: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| k != "cursor")
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "%20")))
        .collect();
    resp.header(
        "Link",
        format!("<{url}?{}&cursor={next}>; rel=\"next\"", kept.join("&")),
    )
}
