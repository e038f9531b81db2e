//! MCP over Streamable HTTP at `/mcp` of `twinsync serve`, run as a process on a loopback
//! port: the official MCP Python SDK's Streamable HTTP client lists the tools (the same
//! catalogue as `twinsync mcp` on stdio), runs a sync and a lock round trip with a key of
//! the project; a real HTTP client (ureq) gets 401 without a key and 403 with a revoked
//! or unknown one.
//!
//! The client needs Python with the `mcp` package: `.ci/run` makes a venv and points
//! `TWINSYNC_TEST_PYTHON` at it. Without it the test fails, saying how to install it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_twinsync")
}

fn python() -> String {
    let py = std::env::var("TWINSYNC_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    match Command::new(&py).args(["-c", "import mcp.client.streamable_http"]).output() {
        Ok(o) if o.status.success() => py,
        other => panic!(
            "this test needs Python with the MCP SDK ({py} -c 'import mcp.client.streamable_http' failed: \
             {other:?}); run `python3 -m venv /tmp/mcp-venv && /tmp/mcp-venv/bin/pip install mcp==2.3.0` and set \
             TWINSYNC_TEST_PYTHON=/tmp/mcp-venv/bin/python (.ci/run does this)"
        ),
    }
}

/// `twinsync serve` on a free loopback port, stopped (SIGTERM) when dropped.
struct Serve {
    child: Child,
    base: String,
}

impl Serve {
    fn start(data: &Path) -> Serve {
        let mut child = Command::new(bin())
            .args(["serve", "--json", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env_remove("TWINSYNC_STORE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let listening: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        Serve { child, base: listening["listening"].as_str().unwrap().to_string() }
    }

    fn at(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

fn call(req: ureq::Request, body: Option<Value>) -> (u16, Value) {
    let r = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let resp = match r {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport: {e}"),
    };
    let status = resp.status();
    let text = resp.into_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A project syncing a/ -> b/ with a/one.md, registered on `s`; its id.
fn project(s: &Serve, root: &Path, name: &str) -> (String, std::path::PathBuf) {
    let dir = root.join(name);
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
    }
    std::fs::write(dir.join("a/one.md"), "# one\n").unwrap();
    let out = Command::new(bin()).args(["init", "a", "b"]).current_dir(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (st, v) = call(ureq::post(&s.at("/projects")), Some(json!({"name": name, "path": dir})));
    assert_eq!(st, 201, "{v}");
    (v["id"].as_str().unwrap().to_string(), dir)
}

/// A key of project `id` named `name`: (its id, the key).
fn new_key(s: &Serve, id: &str, name: &str) -> (String, String) {
    let (st, v) = call(ureq::post(&s.at(&format!("/projects/{id}/api-keys"))), Some(json!({ "name": name })));
    assert_eq!(st, 201, "{v}");
    (v["id"].as_str().unwrap().to_string(), v["key"].as_str().unwrap().to_string())
}

/// An MCP `initialize` POSTed to `/mcp` with `key` (if any), as a client opens a session.
fn initialize(s: &Serve, key: Option<&str>) -> (u16, Value) {
    let mut req = ureq::post(&s.at("/mcp")).set("Accept", "application/json, text/event-stream");
    if let Some(k) = key {
        req = req.set("Authorization", &format!("Bearer {k}"));
    }
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    call(req, Some(init))
}

#[test]
fn the_official_python_client_lists_the_tools_syncs_and_locks_over_http() {
    let py = python();
    let tmp = tempfile::tempdir().unwrap();
    let s = Serve::start(&tmp.path().join("data"));
    let (id, dir) = project(&s, tmp.path(), "docs");
    let (_, key) = new_key(&s, &id, "agent-key");

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_http_client.py");
    let mut child = Command::new(&py)
        .arg(&script)
        .args([&s.at("/mcp"), &key, "agent-key"])
        .arg(&dir)
        .arg(bin())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the MCP client did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("mcp http client checks passed"),
        "client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The calls are in the project's audit log, as the key's name.
    let mut p = twinsync::Project::open(&dir).unwrap();
    let log = p.store().audit_log(100).unwrap();
    let sync = log.iter().find(|r| r.action == "mcp:design.sync").expect("the sync is audited");
    assert_eq!(sync.actor, "agent-key");
    assert!(log.iter().any(|r| r.action == "mcp:lock.release" && r.success));
}

#[test]
fn without_a_key_401_and_with_a_revoked_or_unknown_key_403() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Serve::start(&tmp.path().join("data"));
    let (id, _) = project(&s, tmp.path(), "docs");
    let (kid, key) = new_key(&s, &id, "hook");

    let (st, v) = initialize(&s, None);
    assert_eq!((st, v["error"]["code"].as_str()), (401, Some("UNAUTHORIZED")), "{v}");
    let (st, v) = initialize(&s, Some("tsk_not-a-key-of-anything-here"));
    assert_eq!((st, v["error"]["code"].as_str()), (403, Some("FORBIDDEN")), "{v}");
    let (st, v) = initialize(&s, Some(&key));
    assert_eq!(st, 200, "a live key opens a session: {v}");

    let (st, _) = call(ureq::delete(&s.at(&format!("/projects/{id}/api-keys/{kid}"))), None);
    assert_eq!(st, 200);
    let (st, v) = initialize(&s, Some(&key));
    assert_eq!((st, v["error"]["code"].as_str()), (403, Some("FORBIDDEN")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("revoked"), "{v}");
    assert!(!v.to_string().contains(&key), "the key is never echoed: {v}");
}
