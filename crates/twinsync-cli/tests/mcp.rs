//! `twinsync mcp`: the official MCP Python SDK client drives the real server over stdio
//! (tools, drift, sync, undo, locks, history, checked against the files on disk), and raw
//! JSON-RPC lines check the protocol errors and version negotiation (the protocol layer is
//! rmcp's, the official Rust SDK).
//!
//! The client test needs Python with the `mcp` package: `.ci/run` makes a venv and points
//! `TWINSYNC_TEST_PYTHON` at it. Without it the test fails, saying how to install it.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_twinsync")
}

/// A project syncing folders a/ and b/, with two files on the left, and an OpenSpec change.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/notes")).unwrap();
    std::fs::create_dir_all(dir.path().join("b")).unwrap();
    std::fs::write(dir.path().join("a/notes/one.md"), "# one\n\nfirst\n").unwrap();
    std::fs::write(dir.path().join("a/comp.json"), "{\"name\": \"Comp\"}\n").unwrap();
    // An OpenSpec change beside the synced folders, for openspec.list and openspec.show.
    let change = dir.path().join("openspec/changes/add-login");
    std::fs::create_dir_all(&change).unwrap();
    std::fs::write(
        change.join("proposal.md"),
        "# Change: Add login\n\n## Why\nUsers need to sign in to sync their own projects.\n\n## What Changes\n- Add a login form.\n",
    )
    .unwrap();
    std::fs::write(change.join("tasks.md"), "## 1. Implementation\n- [x] 1.1 Form\n- [ ] 1.2 Session\n").unwrap();
    let out = Command::new(bin()).args(["init", "a", "b"]).current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir
}

fn python() -> String {
    std::env::var("TWINSYNC_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[test]
fn the_official_python_client_drives_sync_undo_and_locks() {
    let py = python();
    let probe = Command::new(&py).args(["-c", "import mcp"]).output();
    match probe {
        Ok(o) if o.status.success() => {}
        other => panic!(
            "this test needs Python with the MCP SDK ({py} -c 'import mcp' failed: {other:?}); run \
             `python3 -m venv /tmp/mcp-venv && /tmp/mcp-venv/bin/pip install mcp` and set \
             TWINSYNC_TEST_PYTHON=/tmp/mcp-venv/bin/python (.ci/run does this)"
        ),
    }
    let dir = project();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py");
    let mut child = Command::new(&py)
        .arg(&script)
        .arg(bin())
        .arg(dir.path())
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
        out.status.success() && stdout.contains("mcp client checks passed"),
        "client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Every call on the project is in its audit log, under the server's identity, and
    // no lock token was written there.
    let mut p = twinsync::Project::open(dir.path()).unwrap();
    let log = p.store().audit_log(200).unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
    for want in ["mcp:design.driftReport", "mcp:design.sync", "mcp:design.undo", "mcp:lock.acquire", "mcp:lock.release"]
    {
        assert!(actions.contains(&want), "{want} missing from the audit log: {actions:?}");
    }
    let sync = log.iter().find(|r| r.action == "mcp:design.sync").unwrap();
    assert_eq!(sync.actor, "agent-1");
    let failed_undo = log.iter().find(|r| r.action == "mcp:design.undo" && !r.success).unwrap();
    assert!(failed_undo.detail.as_deref().unwrap_or("").contains("no-such-operation"), "{failed_undo:?}");
}

/// A server on a pipe, answering one line at a time.
struct Server {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let mut child = Command::new(bin())
            .arg("mcp")
            .env("TWINSYNC_OWNER", "agent")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Server { child, stdin, stdout }
    }

    /// A server past the handshake, as every client leaves it before calling a tool.
    fn initialized(dir: &Path) -> Server {
        let mut s = Server::start(dir);
        let r = s.ask(&initialize("2025-06-18"));
        assert_eq!(r["result"]["protocolVersion"], "2025-06-18", "{r}");
        s.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        s
    }

    fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn ask(&mut self, line: &str) -> Value {
        self.send(line);
        let mut reply = String::new();
        self.stdout.read_line(&mut reply).unwrap();
        serde_json::from_str(&reply).unwrap_or_else(|e| panic!("reply {reply:?} is not JSON: {e}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn initialize(version: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
           "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})
    .to_string()
}

fn error_code(v: &Value) -> i64 {
    v["error"]["code"].as_i64().unwrap_or_else(|| panic!("expected an error, got {v}"))
}

#[test]
fn protocol_errors_and_version_negotiation() {
    let dir = project();
    let mut s = Server::start(dir.path());
    let r = s.ask(&initialize("2024-11-05"));
    assert_eq!(r["result"]["protocolVersion"], "2024-11-05", "{r}");
    assert_eq!(r["result"]["serverInfo"]["name"], "twinsync");
    assert_eq!(r["result"]["capabilities"]["tools"], json!({"listChanged": false}));
    let mut s = Server::start(dir.path());
    let r = s.ask(&initialize("1999-01-01"));
    assert_eq!(r["result"]["protocolVersion"], "2025-06-18", "an unknown version gets our latest: {r}");

    // Notifications get no answer: the next line answered is the ping's.
    s.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    let r = s.ask(r#"{"jsonrpc":"2.0","id":"p1","method":"ping"}"#);
    assert_eq!(r, json!({"jsonrpc": "2.0", "id": "p1", "result": {}}));

    // rmcp drops a line that is not JSON at all (answering garbage can start an error
    // storm with a confused peer) and goes on: the next line answered is the ping's.
    s.send("{not json");
    assert_eq!(s.ask(r#"{"jsonrpc":"2.0","id":"p2","method":"ping"}"#)["id"], "p2");
    assert_eq!(error_code(&s.ask(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#)), -32600);
    assert_eq!(error_code(&s.ask(r#"{"jsonrpc":"1.0","id":2,"method":"ping"}"#)), -32600);
    assert_eq!(error_code(&s.ask(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#)), -32600);
    assert_eq!(error_code(&s.ask(r#"{"jsonrpc":"2.0","id":3}"#)), -32600);
    let r = s.ask(r#"{"jsonrpc":"2.0","id":4,"method":"resources/list"}"#);
    assert_eq!((error_code(&r), r["id"].clone()), (-32601, json!(4)));
    assert_eq!(error_code(&s.ask(r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{}}"#)), -32602);
    let r = s.ask(r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"lock.release","arguments":{}}}"#);
    assert_eq!(error_code(&r), -32602);
    assert!(r["error"]["message"].as_str().unwrap().contains("token"), "{r}");
    let r = s.ask(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"design.sync","arguments":[1]}}"#);
    assert_eq!(error_code(&r), -32602);

    // Every tool's schemas are objects generated from the argument types.
    let r = s.ask(r#"{"jsonrpc":"2.0","id":8,"method":"tools/list"}"#);
    let tools = r["result"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 15);
    for t in tools {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert_eq!(t["outputSchema"]["type"], "object", "{t}");
        assert!(t["outputSchema"]["required"].as_array().unwrap().contains(&json!("payload")), "{t}");
    }

    // A tool failure is a result, not a protocol error.
    let r = s.ask(
        r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"design.coverageReport","arguments":{"components":"missing.json","stories":"index.json"}}}"#,
    );
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert_eq!(r["result"]["structuredContent"]["success"], false);
}

#[test]
fn outside_a_project_tools_say_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::initialized(dir.path());
    let r = s.ask(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"design.driftReport"}}"#);
    assert_eq!(r["result"]["isError"], true, "{r}");
    let msg = r["result"]["structuredContent"]["payload"]["error"]["message"].as_str().unwrap();
    assert!(msg.contains("twinsync init"), "{msg}");
}

#[test]
fn another_owners_lock_stops_sync_and_undo_but_not_reads() {
    let dir = project();
    let lock = |args: &[&str]| Command::new(bin()).arg("lock").args(args).current_dir(dir.path()).output().unwrap();
    let mut s = Server::initialized(dir.path());
    let call = |name: &str| {
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": {}}})
            .to_string()
    };
    assert_eq!(s.ask(&call("design.sync"))["result"]["isError"], false);
    assert!(lock(&["acquire", "--owner", "alice", "--reason", "release prep"]).status.success());
    std::fs::write(dir.path().join("a/notes/one.md"), "changed\n").unwrap();
    for tool in ["design.sync", "design.undo"] {
        let r = s.ask(&call(tool));
        assert_eq!(r["result"]["isError"], true, "{r}");
        let msg = r["result"]["structuredContent"]["payload"]["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("held by alice") && msg.contains("release prep") && msg.contains("you are agent"),
            "{msg}"
        );
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("b/notes/one.md")).unwrap(), "# one\n\nfirst\n");
    assert_eq!(s.ask(&call("design.driftReport"))["result"]["isError"], false);
    assert!(lock(&["release", "--owner", "alice"]).status.success());
    assert_eq!(s.ask(&call("design.sync"))["result"]["isError"], false);
    assert_eq!(std::fs::read_to_string(dir.path().join("b/notes/one.md")).unwrap(), "changed\n");
}
