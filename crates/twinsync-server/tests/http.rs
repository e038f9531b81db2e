//! The server as clients use it: a real server on a loopback port, a real HTTP client
//! (ureq) and a real WebSocket client (tungstenite).

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use twinsync_server::{ServeOptions, Server};

fn server(data: &Path) -> Server {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    Server::start(ServeOptions::new(addr, data.to_path_buf())).unwrap()
}

fn url(s: &Server, path: &str) -> String {
    format!("http://{}{path}", s.addr())
}

/// Status and JSON body, whatever the status.
fn call(req: ureq::Request, body: Option<Value>) -> (u16, Value) {
    let r = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport: {e}"),
    };
    let status = resp.status();
    let text = resp.into_string().unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
}

/// Sends `head` as is and reads the answer until the server closes or goes quiet.
fn raw(s: &Server, head: &str) -> String {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(s.addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(head.replace("HTTP/1.1\r\n", &format!("HTTP/1.1\r\nHost: {}\r\n", s.addr())).as_bytes()).unwrap();
    // `Connection: close` in the head makes the server end the answer by closing.
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = c.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A project syncing a/ and b/, with a/one.md.
fn project(root: &Path) -> std::path::PathBuf {
    let dir = root.join("docs");
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
    }
    std::fs::write(dir.join("a/one.md"), "# one\n").unwrap();
    twinsync::Project::init(&dir, "a", "b").unwrap();
    dir
}

#[test]
fn projects_sync_undo_history_and_the_lock_over_rest_with_one_error_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path());
    let s = server(&tmp.path().join("data"));

    let (st, v) = call(ureq::get(&url(&s, "/healthz")), None);
    assert_eq!((st, &v["ok"]), (200, &json!(true)));
    let (st, v) = call(ureq::post(&url(&s, "/projects")), Some(json!({"name": "Docs", "path": dir})));
    assert_eq!(st, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["initialized"], true);
    let (_, v) = call(ureq::get(&url(&s, "/projects")), None);
    assert_eq!(v["projects"][0]["id"], id.as_str());
    let (_, v) = call(ureq::get(&url(&s, &format!("/projects/{id}"))), None);
    assert_eq!(v["pairs"], json!([{"name": "default", "kind": "folders"}]));

    // Drift, a dry run, a sync, history and undo.
    let (_, v) = call(ureq::get(&url(&s, &format!("/projects/{id}/drift"))), None);
    assert_eq!(v["pairs"][0]["items"][0]["key"], "one.md", "{v}");
    let (st, v) = call(ureq::post(&url(&s, &format!("/projects/{id}/operations"))), Some(json!({"dryRun": true})));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["preview"]["diffs"][0]["key"], "one.md", "{v}");
    assert!(!dir.join("b/one.md").exists(), "a dry run writes nothing");
    let (st, v) = call(ureq::post(&url(&s, &format!("/projects/{id}/operations"))), Some(json!({"actor": "alice"})));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["pairs"][0]["report"]["counts"]["applied"], 1, "{v}");
    assert_eq!(std::fs::read_to_string(dir.join("b/one.md")).unwrap(), "# one\n");
    let (_, v) = call(ureq::get(&url(&s, &format!("/projects/{id}/history"))), None);
    assert_eq!(v["operations"][0]["actor"], "alice", "{v}");
    let (st, v) = call(ureq::post(&url(&s, &format!("/projects/{id}/undo"))), Some(json!({})));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["restored"], json!(["one.md"]));
    assert!(!dir.join("b/one.md").exists());

    // The lock: taken, seen without its token, refused to others, released by its owner only.
    let lock = format!("/projects/{id}/lock");
    let (st, v) =
        call(ureq::post(&url(&s, &lock)), Some(json!({"owner": "bob", "reason": "editing", "ttlSeconds": 60})));
    assert_eq!(st, 201, "{v}");
    assert!(v["lock"].get("token").is_none(), "the token is never sent: {v}");
    let (_, v) = call(ureq::get(&url(&s, &lock)), None);
    assert_eq!((v["locked"].clone(), v["lock"]["owner"].clone()), (json!(true), json!("bob")));
    let (st, v) = call(ureq::post(&url(&s, &lock)), Some(json!({"owner": "carol"})));
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("LOCKED")), "{v}");
    let (st, v) = call(ureq::post(&url(&s, &format!("/projects/{id}/operations"))), Some(json!({"actor": "carol"})));
    assert_eq!(st, 409, "a sync by someone else waits for the lock: {v}");
    let (st, _) = call(ureq::delete(&url(&s, &format!("{lock}?owner=carol"))), None);
    assert_eq!(st, 409, "only the owner releases");
    let (st, v) = call(ureq::delete(&url(&s, &format!("{lock}?owner=bob"))), None);
    assert_eq!((st, v["locked"].clone()), (200, json!(false)));

    // Errors: one shape, the right statuses.
    let (st, v) = call(ureq::get(&url(&s, "/projects/nope/history")), None);
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("NOT_FOUND")), "{v}");
    let (st, v) = call(ureq::post(&url(&s, "/projects")), Some(json!({"name": "x"})));
    assert_eq!((st, v["error"]["code"].as_str()), (400, Some("INVALID_INPUT")), "{v}");
    let (st, v) = call(ureq::post(&url(&s, &format!("/projects/{id}/operations"))), Some(json!({"policy": "yolo"})));
    assert_eq!((st, v["error"]["code"].as_str()), (400, Some("INVALID_INPUT")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("yolo"));
    // A 2 MiB body, announced as curl does (it waits before sending it): refused at once.
    let answer = raw(&s, "POST /projects HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"TOO_LARGE\""), "{answer}");
    let (st, v) = call(ureq::get(&url(&s, "/no/such/route")), None);
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("NOT_FOUND")));

    // Metrics as Prometheus text.
    let text = ureq::get(&url(&s, &format!("/projects/{id}/metrics"))).call().unwrap().into_string().unwrap();
    assert!(text.contains("design_sync_duration_ms") && text.trim_end().ends_with("# EOF"), "{text}");

    // Unregistering keeps the files.
    let (st, _) = call(ureq::delete(&url(&s, &format!("/projects/{id}"))), None);
    assert_eq!(st, 204);
    assert!(dir.join("a/one.md").exists() && dir.join(".twinsync/config.toml").exists());
    let (st, _) = call(ureq::get(&url(&s, &format!("/projects/{id}"))), None);
    assert_eq!(st, 404);
    s.stop().unwrap();
}

#[test]
fn the_registry_survives_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path());
    let data = tmp.path().join("data");
    let s = server(&data);
    let (_, v) = call(ureq::post(&url(&s, "/projects")), Some(json!({"name": "Docs", "path": dir})));
    let id = v["id"].as_str().unwrap().to_string();
    s.stop().unwrap();
    let s = server(&data);
    let (st, v) = call(ureq::get(&url(&s, &format!("/projects/{id}"))), None);
    assert_eq!((st, v["name"].as_str()), (200, Some("Docs")));
}

fn ws_connect(s: &Server, path: &str) -> tungstenite::WebSocket<std::net::TcpStream> {
    let stream = std::net::TcpStream::connect(s.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (ws, _) = tungstenite::client(format!("ws://{}{path}", s.addr()), stream).unwrap();
    ws
}

/// Reads messages until `n` have arrived.
fn read_n(ws: &mut tungstenite::WebSocket<std::net::TcpStream>, n: usize) -> Vec<Value> {
    let started = Instant::now();
    let mut out = Vec::new();
    while out.len() < n {
        assert!(started.elapsed() < Duration::from_secs(20), "only {} of {n}: {out:?}", out.len());
        if let tungstenite::Message::Text(t) = ws.read().unwrap() {
            out.push(serde_json::from_str(t.as_str()).unwrap());
        }
    }
    out
}

#[test]
fn two_websocket_clients_see_a_lock_and_a_sync_live_and_a_reconnect_gets_what_it_missed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path());
    let s = server(&tmp.path().join("data"));
    let (_, v) = call(ureq::post(&url(&s, "/projects")), Some(json!({"name": "Docs", "path": dir})));
    let id = v["id"].as_str().unwrap().to_string();
    let mut first = ws_connect(&s, &format!("/projects/{id}/ws"));
    let mut second = ws_connect(&s, &format!("/projects/{id}/ws"));

    call(ureq::post(&url(&s, &format!("/projects/{id}/lock"))), Some(json!({"owner": "bob"})));
    for ws in [&mut first, &mut second] {
        let got = read_n(ws, 1);
        assert_eq!((got[0]["type"].as_str(), got[0]["projectId"].as_str()), (Some("lock:acquired"), Some(id.as_str())));
        assert_eq!(got[0]["payload"]["owner"], "bob", "{got:?}");
    }
    call(ureq::delete(&url(&s, &format!("/projects/{id}/lock?owner=bob"))), None);
    call(ureq::post(&url(&s, &format!("/projects/{id}/operations"))), Some(json!({})));
    // Both see the release and the sync's events, in order, with the new document's hash.
    let seen = read_n(&mut first, 2);
    assert_eq!(seen[0]["type"], "lock:released");
    let mut all = seen.clone();
    while !all.iter().any(|e| e["type"] == "sync_completed") {
        all.extend(read_n(&mut first, 1));
    }
    let doc = all.iter().find(|e| e["type"] == "doc:updated").expect("a doc:updated event");
    assert_eq!(doc["payload"]["key"], "one.md");
    assert!(doc["payload"]["digest"].as_str().unwrap().starts_with("sha256:"));
    let ids: Vec<u64> = all.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order: {ids:?}");
    let second_ids: Vec<u64> = read_n(&mut second, all.len()).iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(second_ids, ids, "the second client sees the same events");

    // The first client leaves after the lock events; reconnecting with the last id it
    // saw, it gets the rest once, with nothing skipped.
    drop(first);
    let seen_before = ids[0];
    let mut again = ws_connect(&s, &format!("/projects/{id}/ws?since={seen_before}"));
    let replay = read_n(&mut again, ids.len() - 1);
    let replayed: Vec<u64> = replay.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(replayed, ids[1..].to_vec(), "what it missed, each once");
    s.stop().unwrap();
}

#[test]
fn beyond_loopback_only_the_admin_token_gets_in_and_it_is_never_echoed() {
    let tmp = tempfile::tempdir().unwrap();
    let any: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let e = Server::start(ServeOptions::new(any, tmp.path().join("data"))).err().expect("refused without a token");
    assert!(e.to_string().contains("--admin-token") && e.to_string().contains("reverse proxy"), "{e}");

    let token = "s3cret-admin-token-0123456789";
    let mut opts = ServeOptions::new(any, tmp.path().join("data"));
    opts.admin_token = Some(token.into());
    let s = Server::start(opts).unwrap();
    let at = |path: &str| format!("http://127.0.0.1:{}{path}", s.addr().port());
    let (st, _) = call(ureq::get(&at("/healthz")), None);
    assert_eq!(st, 200, "health needs no token");
    let (st, v) = call(ureq::get(&at("/projects")), None);
    assert_eq!((st, v["error"]["code"].as_str()), (401, Some("UNAUTHORIZED")));
    assert!(!v.to_string().contains(token));
    let (st, _) = call(ureq::get(&at("/projects")).set("Authorization", "Bearer not-the-token"), None);
    assert_eq!(st, 401);
    let (st, _) = call(ureq::get(&at("/projects")).set("Authorization", &format!("Bearer {token}")), None);
    assert_eq!(st, 200);
    let (st, _) = call(ureq::get(&at(&format!("/projects?access_token={token}"))), None);
    assert_eq!(st, 200);
    let (st, _) = call(ureq::get(&at("/projects")).set("Cookie", &format!("twinsync_token={token}")), None);
    assert_eq!(st, 200);
    s.stop().unwrap();
}

/// An SSE connection: the raw socket, and what it has read so far.
struct SseClient {
    socket: std::net::TcpStream,
    seen: String,
}

impl SseClient {
    fn connect(s: &Server, path: &str, last_event_id: Option<u64>) -> SseClient {
        use std::io::Write;
        let mut socket = std::net::TcpStream::connect(s.addr()).unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let resume = last_event_id.map(|n| format!("Last-Event-ID: {n}\r\n")).unwrap_or_default();
        let head = format!("GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n{resume}\r\n", s.addr());
        socket.write_all(head.as_bytes()).unwrap();
        let mut client = SseClient { socket, seen: String::new() };
        // The server fixes where a new stream starts when it answers; wait for the answer's
        // head, so an event the test causes next is surely after that start.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !client.seen.contains("\n\n") {
            assert!(Instant::now() < deadline, "no response head in 10 s: {}", client.seen);
            client.read_some();
        }
        client
    }

    fn read_some(&mut self) {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        if let Ok(k) = self.socket.read(&mut buf) {
            // Chunked framing lines interleave with the events; the parser skips them.
            self.seen.push_str(&String::from_utf8_lossy(&buf[..k]).replace("\r\n", "\n"));
        }
    }

    /// Reads until `n` events have arrived (each ends with a blank line), or fails after 10 s.
    /// Answers each event's (id, event) fields.
    fn events(&mut self, n: usize) -> Vec<(u64, String)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let parsed: Vec<(u64, String)> = self
                .seen
                .split("\n\n")
                .filter_map(|block| {
                    let field =
                        |name: &str| block.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()));
                    Some((field("id:")?.parse().ok()?, field("event:")?))
                })
                .collect();
            if parsed.len() >= n {
                return parsed;
            }
            assert!(Instant::now() < deadline, "only {} of {n} events in 10 s: {}", parsed.len(), self.seen);
            self.read_some();
        }
    }
}

#[test]
fn server_sent_events_carry_the_outbox_and_resume_after_last_event_id() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path());
    let s = server(&tmp.path().join("data"));
    let (_, v) = call(ureq::post(&url(&s, "/projects")), Some(json!({"name": "Docs", "path": dir})));
    let id = v["id"].as_str().unwrap().to_string();
    let stream = format!("/projects/{id}/events/stream");
    let mut live = SseClient::connect(&s, &stream, None);
    assert!(live.events(0).is_empty());

    call(ureq::post(&url(&s, &format!("/projects/{id}/lock"))), Some(json!({"owner": "bob"})));
    let got = live.events(1);
    assert_eq!(got[0].1, "lock:acquired", "{}", live.seen);
    assert!(live.seen.contains("text/event-stream"), "{}", live.seen);
    assert!(live.seen.contains("\"owner\":\"bob\""), "the data is the event's JSON: {}", live.seen);
    let acquired = got[0].0;

    // A client that comes back with Last-Event-ID gets what followed it, and not it again.
    drop(live);
    call(ureq::delete(&url(&s, &format!("/projects/{id}/lock?owner=bob"))), None);
    let mut again = SseClient::connect(&s, &format!("{stream}?since=0"), Some(acquired));
    let got = again.events(1);
    assert_eq!(got[0].1, "lock:released", "{}", again.seen);
    assert!(got[0].0 > acquired);
    assert!(!again.seen.contains("lock:acquired"), "Last-Event-ID wins over since=0: {}", again.seen);
    let (status, body) = call(ureq::get(&url(&s, "/projects/nope/events/stream")), None);
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("NOT_FOUND")));
    s.stop().unwrap();
}

#[test]
fn a_request_not_answered_in_time_is_a_503_and_its_sync_still_lands() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path());
    let data = tmp.path().join("data");
    let s = server(&data);
    let (_, v) = call(ureq::post(&url(&s, "/projects")), Some(json!({"name": "Docs", "path": dir})));
    let id = v["id"].as_str().unwrap().to_string();
    s.stop().unwrap();

    // A server whose deadline no sync can meet.
    let mut opts = ServeOptions::new("127.0.0.1:0".parse().unwrap(), data.clone());
    opts.timeout = Duration::from_micros(1);
    let hasty = Server::start(opts).unwrap();
    // No body: with one, the deadline can pass while the body is still on its way, before
    // any sync starts. Without one the handler hands the sync to the blocking pool on its
    // first poll, which comes before the deadline is looked at.
    let (status, body) = call(ureq::post(&url(&hasty, &format!("/projects/{id}/operations"))), None);
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("TIMEOUT")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("history"), "{body}");

    // The sync it started finished anyway: b/ has the file, and history shows it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dir.join("b/one.md").exists() {
        assert!(Instant::now() < deadline, "the sync never landed");
        std::thread::sleep(Duration::from_millis(50));
    }
    hasty.stop().unwrap();
    let s = server(&data);
    let (status, h) = call(ureq::get(&url(&s, &format!("/projects/{id}/history"))), None);
    assert_eq!(status, 200);
    assert_eq!(h["operations"].as_array().map(Vec::len), Some(1), "{h}");
    s.stop().unwrap();
}
