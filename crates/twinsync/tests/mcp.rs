//! `twinsync::mcp` without a transport: one JSON-RPC message in, its answer out, as the
//! stdio loop of `twinsync mcp` and the HTTP server's `/mcp` both use it. (The CLI's
//! tests/mcp.rs drives the same server over stdio with the official Python client.)

use serde_json::{json, Value};
use twinsync::mcp::{McpServer, PROTOCOL_VERSIONS};

fn request(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn call(s: &mut McpServer, name: &str, args: Value) -> Value {
    let r = s.handle(request(1, "tools/call", json!({"name": name, "arguments": args}))).unwrap();
    r["result"].clone()
}

/// A project syncing a/ and b/, with one note on the left.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    std::fs::create_dir_all(dir.path().join("b")).unwrap();
    std::fs::write(dir.path().join("a/one.md"), "# one\n").unwrap();
    twinsync::Project::init(dir.path(), "a", "b").unwrap();
    dir
}

#[test]
fn messages_in_answers_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = McpServer::new(dir.path(), Some("  ".into()));
    assert_eq!(s.owner(), twinsync::default_actor(), "a blank owner is the default actor");
    let r = s.handle(request(1, "initialize", json!({"protocolVersion": "2025-03-26"}))).unwrap();
    assert_eq!(r["result"]["protocolVersion"], "2025-03-26");
    assert_eq!(PROTOCOL_VERSIONS[0], "2025-06-18");
    assert_eq!(s.handle(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})), None);
    assert_eq!(s.handle(json!({"jsonrpc": "2.0", "id": 9, "result": {}})), None, "responses get no reply");
    assert_eq!(s.handle(request(2, "ping", json!({}))).unwrap(), json!({"jsonrpc": "2.0", "id": 2, "result": {}}));
    assert_eq!(s.handle_json(b"{oops").unwrap()["error"]["code"], -32700);
    assert_eq!(s.handle_json(br#"{"jsonrpc":"2.0","id":"x","method":"ping"}"#).unwrap()["id"], "x");
    assert_eq!(s.handle(request(3, "nope", json!({}))).unwrap()["error"]["code"], -32601);
    let r = s.handle(request(4, "tools/call", json!({"name": "no.such"}))).unwrap();
    assert_eq!(r["error"]["code"], -32602);
}

#[test]
fn the_catalogue_lists_every_tool_and_each_one_answers() {
    let names: Vec<String> = twinsync::mcp::tools().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        names,
        [
            "design.sync",
            "design.driftReport",
            "design.undo",
            "design.coverageReport",
            "design.browserTestSession.start",
            "design.browserTestSession.status",
            "design.browserTestSession.finish",
            "openspec.sync",
            "openspec.list",
            "openspec.show",
            "lock.acquire",
            "lock.release",
            "lock.status",
            "history.list"
        ]
    );
    // Outside a project every tool is known and fails as a tool, not as a protocol error.
    let dir = tempfile::tempdir().unwrap();
    let mut s = McpServer::new(dir.path(), Some("agent".into()));
    for name in &names {
        let args = match name.as_str() {
            "design.coverageReport" => json!({"components": "c.json", "stories": "s.json"}),
            "openspec.show" => json!({"change": "x"}),
            "lock.release" => json!({"token": "t"}),
            "design.browserTestSession.start" => json!({"story_id": "s"}),
            "design.browserTestSession.status" => json!({"session_id": "x"}),
            "design.browserTestSession.finish" => json!({"session_id": "x", "status": "passed"}),
            _ => json!({}),
        };
        let r = call(&mut s, name, args);
        assert_eq!(r["isError"], true, "{name}: {r}");
        assert_eq!(r["structuredContent"]["audit_id"], Value::Null, "{name}: no project, no audit");
    }
}

#[test]
fn tools_work_on_the_project_and_are_audited() {
    let dir = project();
    let mut s = McpServer::new(dir.path(), Some("agent".into()));
    let drift = call(&mut s, "design.driftReport", json!({}));
    assert_eq!(drift["isError"], false, "{drift}");
    assert_eq!(drift["structuredContent"]["payload"]["items"][0]["key"], "one.md");
    let sync = call(&mut s, "design.sync", json!({}));
    assert_eq!(sync["structuredContent"]["metrics"]["applied"], 1, "{sync}");
    assert_eq!(std::fs::read_to_string(dir.path().join("b/one.md")).unwrap(), "# one\n");

    let acquired = call(&mut s, "lock.acquire", json!({"reason": "review"}));
    let token = acquired["structuredContent"]["payload"]["lock"]["token"].as_str().unwrap().to_string();
    let status = call(&mut s, "lock.status", json!({}));
    assert_eq!(status["structuredContent"]["payload"]["lock"]["owner"], "agent");
    assert!(!status.to_string().contains(&token), "the token shows only in lock.acquire's answer");
    assert_eq!(call(&mut s, "lock.release", json!({"token": token}))["isError"], false);

    let history = call(&mut s, "history.list", json!({"limit": 5}));
    assert_eq!(history["structuredContent"]["metrics"]["operations"], 1, "{history}");
    let audit_id = sync["structuredContent"]["audit_id"].as_str().unwrap();
    let mut p = twinsync::Project::open(dir.path()).unwrap();
    let log = p.store().audit_log(50).unwrap();
    let record = log.iter().find(|r| r.id == audit_id).expect("the envelope's audit_id names a record");
    assert_eq!((record.action.as_str(), record.actor.as_str()), ("mcp:design.sync", "agent"));
}

#[test]
fn writing_tools_refuse_under_another_owners_lock() {
    let dir = project();
    let mut p = twinsync::Project::open(dir.path()).unwrap();
    p.set_actor("bob");
    p.lock_acquire(None, Some("release freeze")).unwrap();
    let mut s = McpServer::new(dir.path(), Some("agent".into()));
    for tool in ["design.sync", "openspec.sync"] {
        let r = call(&mut s, tool, json!({}));
        assert_eq!(r["isError"], true, "{tool}: {r}");
        let text = r.to_string();
        assert!(
            text.contains("LOCKED") && text.contains("held by bob") && text.contains("you are agent"),
            "{tool}: {text}"
        );
    }
    assert!(!dir.path().join("b/one.md").exists(), "nothing was written");
    let dry = call(&mut s, "design.sync", json!({"dry_run": true}));
    assert_eq!(dry["isError"], false, "a dry run only reads: {dry}");
}
