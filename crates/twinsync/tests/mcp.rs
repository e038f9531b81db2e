//! `twinsync::mcp` in-process: rmcp's own client drives the server over an in-memory
//! pipe, and raw JSON-RPC lines show what the protocol layer answers. (The CLI's
//! tests/mcp.rs drives the same server over stdio with the official Python client, and
//! twinsync-server's tests/mcp_http.rs over Streamable HTTP.)

use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use rmcp::ServiceExt;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf};
use twinsync::mcp::{McpServer, PROTOCOL_VERSIONS};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// `server` on one end of a pipe, served until the other end closes.
fn serve(rt: &tokio::runtime::Runtime, server: McpServer) -> DuplexStream {
    let (ours, theirs) = tokio::io::duplex(1 << 20);
    rt.spawn(async move {
        if let Ok(running) = server.serve(theirs).await {
            let _ = running.waiting().await;
        }
    });
    ours
}

/// rmcp's client, initialised, talking to a server.
struct Session {
    rt: tokio::runtime::Runtime,
    client: RunningService<RoleClient, ()>,
}

impl Session {
    fn new(server: McpServer) -> Session {
        let rt = runtime();
        let pipe = serve(&rt, server);
        let client = rt.block_on(().serve(pipe)).expect("the handshake succeeds");
        Session { rt, client }
    }
}

/// `tools/call`, answered with a result (the result as JSON, as on the wire).
fn call(s: &mut Session, name: &str, args: Value) -> Value {
    let params = CallToolRequestParams::new(name.to_string()).with_arguments(args.as_object().unwrap().clone());
    let result = s.rt.block_on(s.client.call_tool(params)).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::to_value(result).unwrap()
}

/// Raw JSON-RPC lines to a server and its replies, one line each.
struct Lines {
    rt: tokio::runtime::Runtime,
    reader: BufReader<ReadHalf<DuplexStream>>,
    writer: WriteHalf<DuplexStream>,
}

impl Lines {
    fn new(server: McpServer) -> Lines {
        let rt = runtime();
        let (reader, writer) = tokio::io::split(serve(&rt, server));
        Lines { rt, reader: BufReader::new(reader), writer }
    }

    fn send(&mut self, line: &str) {
        self.rt.block_on(self.writer.write_all(format!("{line}\n").as_bytes())).unwrap();
    }

    fn ask(&mut self, message: Value) -> Value {
        self.send(&message.to_string());
        let mut reply = String::new();
        self.rt.block_on(self.reader.read_line(&mut reply)).unwrap();
        serde_json::from_str(&reply).unwrap_or_else(|e| panic!("reply {reply:?} is not JSON: {e}"))
    }
}

fn request(id: i64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
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
    let server = McpServer::new(dir.path(), Some("  ".into()));
    assert_eq!(server.owner(), twinsync::default_actor(), "a blank owner is the default actor");
    let mut s = Lines::new(server);
    let init =
        json!({"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}});
    let r = s.ask(request(1, "initialize", init));
    assert_eq!(r["result"]["protocolVersion"], "2025-03-26");
    assert_eq!(PROTOCOL_VERSIONS[0], "2025-06-18");
    // Notifications and responses get no reply: the next line answered is the ping's.
    s.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    s.send(r#"{"jsonrpc":"2.0","id":9,"result":{}}"#);
    assert_eq!(s.ask(request(2, "ping", json!({}))), json!({"jsonrpc": "2.0", "id": 2, "result": {}}));
    // rmcp drops a line that is not JSON (a reply could start an error storm with a
    // confused peer) and keeps serving.
    s.send("{oops");
    assert_eq!(s.ask(json!({"jsonrpc": "2.0", "id": "x", "method": "ping"}))["id"], "x");
    assert_eq!(s.ask(request(3, "nope", json!({})))["error"]["code"], -32601);
    let r = s.ask(request(4, "tools/call", json!({"name": "no.such"})));
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
            "openspec.setStatus",
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
    let mut s = Session::new(McpServer::new(dir.path(), Some("agent".into())));
    for name in &names {
        let args = match name.as_str() {
            "design.coverageReport" => json!({"components": "c.json", "stories": "s.json"}),
            "openspec.show" => json!({"change": "x"}),
            "openspec.setStatus" => json!({"id": "x", "status": "approved"}),
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
    let mut s = Session::new(McpServer::new(dir.path(), Some("agent".into())));
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
    let mut s = Session::new(McpServer::new(dir.path(), Some("agent".into())));
    for (tool, args) in [
        ("design.sync", json!({})),
        ("openspec.sync", json!({})),
        ("openspec.setStatus", json!({"id": "x", "status": "approved"})),
    ] {
        let r = call(&mut s, tool, args);
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

/// The design.* tools reach design pairs: without `pair` the project's design pair,
/// with `pair` the one named, and a clear error when the choice is not plain.
#[test]
fn design_tools_default_to_the_design_pair_and_take_a_pair() {
    let dir = project();
    let root = dir.path();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../twinsync-design/tests/fixtures/code/components.json"),
        root.join("components.json"),
    )
    .unwrap();
    let mut p = twinsync::Project::open(root).unwrap();
    let ui = twinsync::PairConfig::new(twinsync::PairKind::Design, "components.json", "design.json");
    p.pair_add("ui", ui).unwrap();
    drop(p);
    let mut s = Session::new(McpServer::new(root, Some("agent".into())));

    // No `pair`: the project's design pair, not the folders pair `default`.
    let sync = call(&mut s, "design.sync", json!({}));
    assert_eq!(sync["isError"], false, "{sync}");
    assert_eq!(sync["structuredContent"]["payload"]["report"]["scope"], "ui", "{sync}");
    assert_eq!(sync["structuredContent"]["metrics"]["applied"], 3, "{sync}");
    assert!(root.join("design.json").exists(), "the design manifest was written");
    assert!(!root.join("b/one.md").exists(), "the folders pair was not synced");

    // Component drift against the base the sync committed: all in sync, then one edit.
    let drift = call(&mut s, "design.driftReport", json!({}));
    assert_eq!(drift["structuredContent"]["payload"]["kind"], "design", "{drift}");
    assert_eq!(drift["structuredContent"]["metrics"]["drifted"], 0, "{drift}");
    let design = std::fs::read_to_string(root.join("design.json")).unwrap();
    std::fs::write(root.join("design.json"), design.replacen("\"danger\"", "\"danger\", \"info\"", 1)).unwrap();
    let drift = call(&mut s, "design.driftReport", json!({"pair": "ui"}));
    let badge = drift["structuredContent"]["payload"]["report"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == "Badge")
        .unwrap()
        .clone();
    assert_eq!(badge["status"], "changed_in_design", "{drift}");
    // `pair` reaches the folders pair too.
    let folders = call(&mut s, "design.driftReport", json!({"pair": "default"}));
    assert_eq!(folders["structuredContent"]["payload"]["items"][0]["key"], "one.md", "{folders}");

    // Undo without `pair` takes back the design pair's sync, except Badge, edited since.
    let undo = call(&mut s, "design.undo", json!({}));
    assert_eq!(undo["isError"], false, "{undo}");
    assert_eq!(undo["structuredContent"]["metrics"]["restored"], 2, "{undo}");
    assert_eq!(undo["structuredContent"]["payload"]["refused"][0]["key"], "components/badge", "{undo}");

    // A second design pair: the tools ask which one.
    let mut p = twinsync::Project::open(root).unwrap();
    p.pair_add("ui2", twinsync::PairConfig::new(twinsync::PairKind::Design, "components.json", "other.json")).unwrap();
    drop(p);
    let r = call(&mut s, "design.sync", json!({"dry_run": true}));
    assert_eq!(r["isError"], true, "{r}");
    let msg = r["structuredContent"]["payload"]["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("name one with `pair`") && msg.contains("ui2"), "{msg}");
    let r = call(&mut s, "design.sync", json!({"pair": "nope"}));
    assert!(r["structuredContent"]["payload"]["error"]["message"].as_str().unwrap().contains("nope"), "{r}");
}
