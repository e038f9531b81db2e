//! What the key, hook and docs tests share: a real server on a loopback port, a real
//! HTTP client (ureq), and small projects on disk.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use twinsync_server::{ServeOptions, Server};

pub fn server(data: &Path) -> Server {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    Server::start(ServeOptions::new(addr, data.to_path_buf())).unwrap()
}

/// A server on every address, so it needs the admin token `token`.
pub fn guarded_server(data: &Path, token: &str) -> Server {
    let mut opts = ServeOptions::new("0.0.0.0:0".parse().unwrap(), data.to_path_buf());
    opts.admin_token = Some(token.into());
    Server::start(opts).unwrap()
}

pub fn url(s: &Server, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", s.addr().port())
}

/// Status and JSON body, whatever the status.
pub fn call(req: ureq::Request, body: Option<Value>) -> (u16, Value) {
    let r = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    answer(r)
}

pub fn answer(r: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport: {e}"),
    };
    let status = resp.status();
    let text = resp.into_string().unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
}

pub fn bearer(req: ureq::Request, key: &str) -> ureq::Request {
    req.set("Authorization", &format!("Bearer {key}"))
}

/// A project syncing `a/` and `b/` in `root/name`, with `a/one.md`.
pub fn project(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
    }
    std::fs::write(dir.join("a/one.md"), "# one\n").unwrap();
    twinsync::Project::init(&dir, "a", "b").unwrap();
    dir
}

/// Registers `dir` (with `auth`, the admin token, when the server needs it); its id.
pub fn register(s: &Server, dir: &Path, auth: Option<&str>) -> String {
    let mut req = ureq::post(&url(s, "/projects"));
    if let Some(t) = auth {
        req = bearer(req, t);
    }
    let (st, v) = call(req, Some(json!({"name": dir.file_name().unwrap().to_string_lossy(), "path": dir})));
    assert_eq!(st, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

/// Creates an API key of project `id` named `name`; (its id, the key).
pub fn new_key(s: &Server, id: &str, name: &str, auth: Option<&str>) -> (String, String) {
    let mut req = ureq::post(&url(s, &format!("/projects/{id}/api-keys")));
    if let Some(t) = auth {
        req = bearer(req, t);
    }
    let (st, v) = call(req, Some(json!({ "name": name })));
    assert_eq!(st, 201, "{v}");
    (v["id"].as_str().unwrap().to_string(), v["key"].as_str().unwrap().to_string())
}

/// Every byte of every file under `dir`.
pub fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(all_bytes(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.extend(bytes);
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}
