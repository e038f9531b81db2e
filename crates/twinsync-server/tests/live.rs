//! Live events under load, with real clients: many WebSocket and Server-Sent Events
//! clients on one project each get every event once and in order while docs and the lock
//! change over REST, and clients that join late with an old `since` (or `Last-Event-ID`)
//! replay from the store into the live feed with no gap and no duplicate.

mod support;

use std::io::BufRead;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;
use twinsync_server::Server;

type Ws = tungstenite::WebSocket<TcpStream>;

fn ws_connect(s: &Server, path: &str) -> Ws {
    let stream = TcpStream::connect(s.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let (ws, _) = tungstenite::client(format!("ws://{}{path}", s.addr()), stream).unwrap();
    ws
}

/// The ids of the events `ws` receives, up to and with the lock taken by `owner`.
fn ids_until_locked_by(mut ws: Ws, owner: &str) -> Vec<u64> {
    let started = Instant::now();
    let mut ids = Vec::new();
    loop {
        assert!(started.elapsed() < Duration::from_secs(60), "no lock by {owner} after {ids:?}");
        let tungstenite::Message::Text(t) = ws.read().unwrap() else { continue };
        let e: Value = serde_json::from_str(t.as_str()).unwrap();
        ids.push(e["id"].as_u64().unwrap());
        if e["type"] == "lock:acquired" && e["payload"]["owner"] == owner {
            return ids;
        }
    }
}

/// An SSE stream of `path`, once the server answered (so it follows from now on).
fn sse_connect(s: &Server, path: &str, last_event_id: Option<u64>) -> ureq::Response {
    let agent = ureq::AgentBuilder::new().timeout_read(Duration::from_secs(30)).build();
    let mut req = agent.get(&url(s, path)).set("Accept", "text/event-stream");
    if let Some(n) = last_event_id {
        req = req.set("Last-Event-ID", &n.to_string());
    }
    req.call().unwrap()
}

/// The ids of the events an SSE stream carries, up to and with the lock taken by `owner`.
fn sse_ids_until_locked_by(stream: ureq::Response, owner: &str) -> Vec<u64> {
    let (mut ids, mut id, mut data) = (Vec::new(), None, String::new());
    for line in std::io::BufReader::new(stream.into_reader()).lines() {
        let line = line.unwrap();
        if let Some(v) = line.strip_prefix("id:") {
            id = Some(v.trim().parse::<u64>().unwrap());
        } else if let Some(v) = line.strip_prefix("data:") {
            data = v.trim().to_string();
        } else if line.is_empty() {
            let Some(n) = id.take() else { continue };
            ids.push(n);
            let e: Value = serde_json::from_str(&data).unwrap();
            assert_eq!(e["id"].as_u64(), Some(n), "the SSE id is the outbox id");
            if e["type"] == "lock:acquired" && e["payload"]["owner"] == owner {
                return ids;
            }
        }
    }
    panic!("the stream ended before the lock by {owner}: {ids:?}");
}

/// Every event id of project `id` after `since`, from the store.
fn ids_after(s: &Server, id: &str, since: u64) -> Vec<u64> {
    let (_, v) = call(ureq::get(&url(s, &format!("/projects/{id}/events?since={since}&limit=5000"))), None);
    v["events"].as_array().unwrap().iter().map(|e| e["id"].as_u64().unwrap()).collect()
}

fn lock_cycle(s: &Server, id: &str, owner: &str) {
    let (st, v) = call(ureq::post(&url(s, &format!("/projects/{id}/lock"))), Some(json!({ "owner": owner })));
    assert_eq!(st, 201, "{v}");
    let (st, v) = call(ureq::delete(&url(s, &format!("/projects/{id}/lock?owner={owner}"))), None);
    assert_eq!(st, 200, "{v}");
}

#[test]
fn fifty_websocket_and_five_sse_clients_and_late_ones_with_an_old_since_get_every_event_once_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "docs");
    let s = server(&tmp.path().join("data"));
    let id = register(&s, &dir, None);
    // History from before anyone follows: what the late client must replay.
    call(ureq::post(&url(&s, &format!("/projects/{id}/docs/sync"))), None);
    lock_cycle(&s, &id, "early");
    let history = ids_after(&s, &id, 0);
    let (first, before) = (history[0], *history.last().unwrap());

    // Each client is subscribed once its handshake is answered.
    let readers: Vec<_> = (0..50)
        .map(|_| {
            let ws = ws_connect(&s, &format!("/projects/{id}/ws"));
            std::thread::spawn(move || ids_until_locked_by(ws, "last"))
        })
        .collect();
    let sse_readers: Vec<_> = (0..5)
        .map(|_| {
            let stream = sse_connect(&s, &format!("/projects/{id}/events/stream"), None);
            std::thread::spawn(move || sse_ids_until_locked_by(stream, "last"))
        })
        .collect();

    let doc = format!("/projects/{id}/docs/one.md");
    let (_, v) = call(ureq::get(&url(&s, &doc)), None);
    let mut digest = v["digest"].as_str().unwrap().to_string();
    let (mut late, mut late_sse) = (None, None);
    for i in 0..20 {
        let r = ureq::put(&url(&s, &doc)).set("If-Match", &digest).send_json(json!({ "content": format!("# v{i}\n") }));
        let (st, v) = answer(r);
        assert_eq!(st, 200, "{v}");
        digest = v["digest"].as_str().unwrap().to_string();
        lock_cycle(&s, &id, &format!("writer-{i}"));
        if i == 10 {
            // Joins while events are being written, from the first event of all.
            let ws = ws_connect(&s, &format!("/projects/{id}/ws?since={first}"));
            late = Some(std::thread::spawn(move || ids_until_locked_by(ws, "last")));
        }
        if i == 15 {
            let stream = sse_connect(&s, &format!("/projects/{id}/events/stream"), Some(first));
            late_sse = Some(std::thread::spawn(move || sse_ids_until_locked_by(stream, "last")));
        }
    }
    let (st, _) = call(ureq::post(&url(&s, &format!("/projects/{id}/lock"))), Some(json!({ "owner": "last" })));
    assert_eq!(st, 201);

    let live = ids_after(&s, &id, before);
    assert!(live.len() > 60, "the writes made events: {live:?}");
    for (n, reader) in readers.into_iter().enumerate() {
        assert_eq!(reader.join().unwrap(), live, "client {n}: every new event, once, in order");
    }
    for (n, reader) in sse_readers.into_iter().enumerate() {
        assert_eq!(reader.join().unwrap(), live, "SSE client {n}: every new event, once, in order");
    }
    let replayed = ids_after(&s, &id, first);
    assert_eq!(late.unwrap().join().unwrap(), replayed, "the late client: replay, then live");
    assert_eq!(late_sse.unwrap().join().unwrap(), replayed, "the late SSE client, after Last-Event-ID");
    s.stop().unwrap();
}

#[test]
fn unregistering_a_project_closes_its_websocket_and_sse_clients_and_stops_its_poller() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "docs");
    let s = server(&tmp.path().join("data"));
    let id = register(&s, &dir, None);
    let mut ws = ws_connect(&s, &format!("/projects/{id}/ws"));
    let sse = sse_connect(&s, &format!("/projects/{id}/events/stream"), None);
    // Both follow: the lock taken now reaches them.
    lock_cycle(&s, &id, "before");
    let sse = std::thread::spawn(move || {
        let mut lines = std::io::BufReader::new(sse.into_reader()).lines();
        let seen = lines.by_ref().map_while(Result::ok).any(|l| l.starts_with("data:") && l.contains("\"before\""));
        // What is left after the lock: the stream must end, not go quiet.
        let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
        (seen, rest)
    });
    loop {
        let tungstenite::Message::Text(t) = ws.read().unwrap() else { continue };
        let e: Value = serde_json::from_str(t.as_str()).unwrap();
        if e["type"] == "lock:acquired" {
            assert_eq!(e["payload"]["owner"], "before");
            break;
        }
    }

    let (st, v) = call(ureq::delete(&url(&s, &format!("/projects/{id}"))), None);
    assert_eq!(st, 204, "{v}");
    let close = loop {
        match ws.read().expect("a close frame, not a cut connection") {
            tungstenite::Message::Close(frame) => break frame.expect("a close frame says why"),
            tungstenite::Message::Text(_) => {} // the release, sent before the delete
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(u16::from(close.code), 4404);
    assert_eq!(close.reason.as_str(), format!("project {id} was unregistered"));
    let (seen, rest) = sse.join().unwrap();
    assert!(seen, "the SSE client followed before the delete");
    assert!(rest.iter().all(|l| !l.starts_with("data:") || l.contains("lock:released")), "only the release: {rest:?}");

    // Gone for new clients, and the folder registered again is followed by a new poller.
    let refused = TcpStream::connect(s.addr()).unwrap();
    let err = tungstenite::client(format!("ws://{}/projects/{id}/ws", s.addr()), refused).unwrap_err();
    assert!(matches!(err, tungstenite::HandshakeError::Failure(tungstenite::Error::Http(ref r)) if r.status() == 404));
    assert_eq!(register(&s, &dir, None), id, "the id follows the folder");
    let mut ws = ws_connect(&s, &format!("/projects/{id}/ws"));
    let (st, _) = call(ureq::post(&url(&s, &format!("/projects/{id}/lock"))), Some(json!({ "owner": "after" })));
    assert_eq!(st, 201);
    let e = loop {
        if let tungstenite::Message::Text(t) = ws.read().unwrap() {
            break serde_json::from_str::<Value>(t.as_str()).unwrap();
        }
    };
    assert_eq!((e["type"].as_str(), e["payload"]["owner"].as_str()), (Some("lock:acquired"), Some("after")));
    s.stop().unwrap();
}
