//! `/mcp` sessions with a real HTTP client (ureq) on a loopback port: a session serves
//! the project of the key that opened it and no other key; revoking the key ends it;
//! unregistering the project ends it and its event stream; and stopping the server ends
//! open event streams instead of waiting on them. (The official
//! Python client drives `/mcp` of `twinsync serve` in twinsync-cli's tests/mcp_http.rs.)

mod support;

use std::io::Read;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;

const ACCEPT: &str = "application/json, text/event-stream";

/// A JSON-RPC message POSTed to `/mcp` with `key` (and session `sid`): status, the
/// session id the answer names, and the body.
fn post(s: &twinsync_server::Server, key: &str, sid: Option<&str>, msg: Value) -> (u16, Option<String>, String) {
    let mut req = bearer(ureq::post(&url(s, "/mcp")), key).set("Accept", ACCEPT);
    if let Some(sid) = sid {
        req = req.set("Mcp-Session-Id", sid).set("MCP-Protocol-Version", "2025-06-18");
    }
    let resp = match req.send_json(msg) {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport: {e}"),
    };
    let sid = resp.header("mcp-session-id").map(str::to_string);
    (resp.status(), sid, resp.into_string().unwrap())
}

/// Opens a session with `key`: its id.
fn open(s: &twinsync_server::Server, key: &str) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}});
    let (st, sid, body) = post(s, key, None, init);
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("\"protocolVersion\":\"2025-06-18\""), "{body}");
    let sid = sid.expect("initialize names the session");
    let (st, _, body) = post(s, key, Some(&sid), json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    assert_eq!(st, 202, "{body}");
    sid
}

fn list_tools(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"})
}

#[test]
fn a_session_serves_its_keys_project_only_and_ends_with_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(&tmp.path().join("data"));
    let (docs, other) =
        (register(&s, &project(tmp.path(), "docs"), None), register(&s, &project(tmp.path(), "o"), None));
    let (kid, key) = new_key(&s, &docs, "agent", None);
    let (_, other_key) = new_key(&s, &other, "agent", None);

    let sid = open(&s, &key);
    let (st, _, body) = post(&s, &key, Some(&sid), list_tools(2));
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("\"design.sync\"") && body.contains("\"lock.acquire\""), "{body}");

    // Another project's key with this session: no such session for that key.
    let (st, _, body) = post(&s, &other_key, Some(&sid), list_tools(3));
    assert_eq!(st, 404, "{body}");
    // The other key's own session works beside it.
    let other_sid = open(&s, &other_key);
    assert_ne!(other_sid, sid);

    // Revoked: refused, and the session is gone even if the key came back.
    let (st, _) = call(ureq::delete(&url(&s, &format!("/projects/{docs}/api-keys/{kid}"))), None);
    assert_eq!(st, 200);
    let (st, _, body) = post(&s, &key, Some(&sid), list_tools(4));
    assert_eq!(st, 403, "{body}");
    assert!(!body.contains(&key), "the key is never echoed: {body}");
    let (st, _, body) = post(&s, &other_key, Some(&other_sid), list_tools(5));
    assert_eq!(st, 200, "another key's session lives on: {body}");
    s.stop().unwrap();
}

#[test]
fn stopping_the_server_ends_open_event_streams() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(&tmp.path().join("data"));
    let id = register(&s, &project(tmp.path(), "docs"), None);
    let (_, key) = new_key(&s, &id, "agent", None);
    let sid = open(&s, &key);
    // The server's event stream for the session: open until the session ends.
    let stream = bearer(ureq::get(&url(&s, "/mcp")), &key)
        .set("Accept", "text/event-stream")
        .set("Mcp-Session-Id", &sid)
        .set("MCP-Protocol-Version", "2025-06-18")
        .call()
        .unwrap();
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    let mut body = stream.into_reader();

    let stopping = std::thread::spawn(move || s.stop());
    // Not a speed check: a server that waited on the stream would never stop.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !stopping.is_finished() {
        assert!(Instant::now() < deadline, "the server is still waiting on the open MCP stream");
        std::thread::sleep(Duration::from_millis(20));
    }
    stopping.join().unwrap().unwrap();
    let mut rest = Vec::new();
    let _ = body.read_to_end(&mut rest); // ends: closed by the server
}

#[test]
fn unregistering_a_project_ends_its_sessions_and_their_event_streams() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(&tmp.path().join("data"));
    let dir = project(tmp.path(), "docs");
    let id = register(&s, &dir, None);
    let (_, key) = new_key(&s, &id, "agent", None);
    let sid = open(&s, &key);
    let stream = bearer(ureq::get(&url(&s, "/mcp")), &key)
        .set("Accept", "text/event-stream")
        .set("Mcp-Session-Id", &sid)
        .set("MCP-Protocol-Version", "2025-06-18")
        .call()
        .unwrap();
    let reading = std::thread::spawn(move || stream.into_reader().read_to_end(&mut Vec::new()));

    let (st, v) = call(ureq::delete(&url(&s, &format!("/projects/{id}"))), None);
    assert_eq!(st, 204, "{v}");
    // Not a speed check: left open, rmcp's keep-alive holds the stream for minutes.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !reading.is_finished() {
        assert!(Instant::now() < deadline, "the MCP event stream of the unregistered project is still open");
        std::thread::sleep(Duration::from_millis(20));
    }
    reading.join().unwrap().expect("the event stream ends cleanly");
    let (st, _, body) = post(&s, &key, Some(&sid), list_tools(2));
    assert_eq!(st, 403, "a key of no project here: {body}");

    // The folder registered again: its keys work again, in a new session only.
    assert_eq!(register(&s, &dir, None), id);
    let (st, _, body) = post(&s, &key, Some(&sid), list_tools(3));
    assert_eq!(st, 404, "the old session is gone: {body}");
    let sid = open(&s, &key);
    let (st, _, body) = post(&s, &key, Some(&sid), list_tools(4));
    assert_eq!(st, 200, "{body}");
    s.stop().unwrap();
}
