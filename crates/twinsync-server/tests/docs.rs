//! Docs, projects and the lock over REST with a real client: list, read with an ETag,
//! write with If-Match (412 stale, 428 missing), create with If-None-Match, 413 too
//! large, 409 under another's lock; `doc:updated {docId, hash}` once per write.

mod support;

use std::net::SocketAddr;

use serde_json::{json, Value};
use support::*;
use twinsync_server::{ServeOptions, Server};

fn put(s: &Server, path: &str, headers: &[(&str, &str)], body: Value) -> (u16, Value, Option<String>) {
    let mut req = ureq::put(&url(s, path));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let r = req.send_json(body);
    let etag = match &r {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r.header("etag").map(str::to_string),
        _ => None,
    };
    let (st, v) = answer(r);
    (st, v, etag)
}

fn doc_events(s: &Server, id: &str, since: u64) -> Vec<Value> {
    let (_, v) = call(ureq::get(&url(s, &format!("/projects/{id}/events?since={since}"))), None);
    v["events"].as_array().unwrap().iter().filter(|e| e["type"] == "doc:updated").cloned().collect()
}

fn newest(s: &Server, id: &str) -> u64 {
    let (_, v) = call(ureq::get(&url(s, &format!("/projects/{id}/events?limit=5000"))), None);
    v["events"].as_array().unwrap().last().map(|e| e["id"].as_u64().unwrap()).unwrap_or(0)
}

#[test]
fn docs_are_listed_read_and_written_with_no_lost_update() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "docs");
    let s = server(&tmp.path().join("data"));
    let id = register(&s, &dir, None);
    call(ureq::post(&url(&s, &format!("/projects/{id}/docs/sync"))), None);

    let (st, v) = call(ureq::get(&url(&s, &format!("/projects/{id}/docs"))), None);
    assert_eq!(st, 200, "{v}");
    assert_eq!((v["pair"].as_str(), v["side"].as_str()), (Some("default"), Some("left")));
    assert_eq!(v["docs"][0]["path"], "one.md");
    assert_eq!(v["docs"][0]["version"], 1, "synced once: {v}");
    let digest = v["docs"][0]["digest"].as_str().unwrap().to_string();
    assert!(digest.starts_with("sha256:"));

    let doc_url = format!("/projects/{id}/docs/one.md");
    let resp = ureq::get(&url(&s, &doc_url)).call().unwrap();
    assert_eq!(resp.header("etag"), Some(format!("\"{digest}\"").as_str()));
    let v: Value = resp.into_json().unwrap();
    assert_eq!(
        (v["content"].as_str(), v["encoding"].as_str(), v["kind"].as_str()),
        (Some("# one\n"), Some("utf-8"), Some("text"))
    );
    assert_eq!((v["digest"].as_str(), v["version"].as_u64()), (Some(digest.as_str()), Some(1)));

    // A write with the digest it edits (quoted, as an ETag): synced, announced once.
    let since = newest(&s, &id);
    let (st, v, etag) = put(&s, &doc_url, &[("If-Match", &format!("\"{digest}\""))], json!({"content": "# one, v2\n"}));
    assert_eq!(st, 200, "{v}");
    let v2 = v["digest"].as_str().unwrap().to_string();
    assert_eq!(
        (v["version"].as_u64(), v["created"].as_bool(), v["changed"].as_bool()),
        (Some(2), Some(false), Some(true))
    );
    assert_eq!(v["sync"]["counts"]["applied"], 1, "{v}");
    assert_eq!(etag, Some(format!("\"{v2}\"")));
    assert_eq!(std::fs::read_to_string(dir.join("a/one.md")).unwrap(), "# one, v2\n");
    assert_eq!(std::fs::read_to_string(dir.join("b/one.md")).unwrap(), "# one, v2\n");
    let events = doc_events(&s, &id, since);
    assert_eq!(events.len(), 1, "once: {events:?}");
    assert_eq!(
        (events[0]["payload"]["docId"].as_str(), events[0]["payload"]["hash"].as_str()),
        (Some("one.md"), Some(v2.as_str()))
    );

    // Stale (the first digest again, unquoted): 412 naming the current one, nothing written.
    let (st, v, _) = put(&s, &doc_url, &[("If-Match", &digest)], json!({"content": "lost\n"}));
    assert_eq!((st, v["error"]["code"].as_str()), (412, Some("PRECONDITION_FAILED")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains(&v2), "{v}");
    assert_eq!(std::fs::read_to_string(dir.join("a/one.md")).unwrap(), "# one, v2\n");
    // No precondition, or a blind one: 428.
    for headers in [vec![], vec![("If-Match", "*")]] {
        let (st, v, _) = put(&s, &doc_url, &headers, json!({"content": "blind\n"}));
        assert_eq!((st, v["error"]["code"].as_str()), (428, Some("PRECONDITION_REQUIRED")), "{v}");
    }
    let (st, v, _) = put(&s, &doc_url, &[("If-Match", "abc")], json!({"content": "x\n"}));
    assert_eq!(st, 400, "{v}");
    // Create: If-None-Match: *; over an existing doc, 412.
    let (st, v, _) = put(&s, &doc_url, &[("If-None-Match", "*")], json!({"content": "x\n"}));
    assert_eq!(st, 412, "{v}");
    let (st, v, _) = put(
        &s,
        &format!("/projects/{id}/docs/guides/new.md"),
        &[("If-None-Match", "*")],
        json!({"content": "# new\n"}),
    );
    assert_eq!((st, v["created"].as_bool(), v["version"].as_u64()), (201, Some(true), Some(1)), "{v}");
    assert!(dir.join("b/guides/new.md").is_file());
    // Bytes travel as base64.
    let (st, v, _) = put(
        &s,
        &format!("/projects/{id}/docs/logo.bin"),
        &[("If-None-Match", "*")],
        json!({"content": "AAEC/w==", "encoding": "base64"}),
    );
    assert_eq!(st, 201, "{v}");
    assert_eq!(std::fs::read(dir.join("b/logo.bin")).unwrap(), [0, 1, 2, 255]);
    let (_, v) = call(ureq::get(&url(&s, &format!("/projects/{id}/docs/logo.bin"))), None);
    assert_eq!((v["content"].as_str(), v["encoding"].as_str()), (Some("AAEC/w=="), Some("base64")));

    // Errors: 404 doc, pair or project; 400 bad path, bad JSON doc.
    let (st, v) = call(ureq::get(&url(&s, &format!("/projects/{id}/docs/nope.md"))), None);
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("NOT_FOUND")), "{v}");
    let (st, _) = call(ureq::get(&url(&s, &format!("/projects/{id}/docs?pair=nope"))), None);
    assert_eq!(st, 404);
    let (st, _) = call(ureq::get(&url(&s, "/projects/nope/docs")), None);
    assert_eq!(st, 404);
    let (st, v, _) =
        put(&s, &format!("/projects/{id}/docs/bad.json"), &[("If-None-Match", "*")], json!({"content": "{nope"}));
    assert_eq!(st, 400, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("bad.json"), "{v}");

    // The project lock binds writes: someone else's is 409, the holder's goes through.
    let (st, v) = call(
        ureq::post(&url(&s, &format!("/projects/{id}/lock"))),
        Some(json!({"owner": "bob", "reason": "editing", "ttlSeconds": 120})),
    );
    assert_eq!(st, 201, "{v}");
    let (_, current) = call(ureq::get(&url(&s, &doc_url)), None);
    let cur = current["digest"].as_str().unwrap().to_string();
    let (st, v, _) = put(&s, &doc_url, &[("If-Match", &cur)], json!({"content": "carol\n", "actor": "carol"}));
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("LOCKED")), "{v}");
    let (st, v, _) = put(&s, &doc_url, &[("If-Match", &cur)], json!({"content": "bob\n", "actor": "bob"}));
    assert_eq!(st, 200, "{v}");
    s.stop().unwrap();
}

#[test]
fn a_doc_over_the_body_limit_gets_413() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "docs");
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut opts = ServeOptions::new(addr, tmp.path().join("data"));
    opts.max_body = 4096;
    let s = Server::start(opts).unwrap();
    let id = register(&s, &dir, None);
    // Announced as curl announces a large body (it waits for the answer before sending
    // it): the server refuses from the length alone. A client that sends the body at once
    // may meet a closed connection before it reads the 413, which would test the timing.
    let answer = {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(s.addr()).unwrap();
        c.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let head = format!(
            "PUT /projects/{id}/docs/big.md HTTP/1.1\r\nHost: {}\r\nIf-None-Match: *\r\n\
             Content-Type: application/json\r\nContent-Length: 8192\r\nExpect: 100-continue\r\n\
             Connection: close\r\n\r\n",
            s.addr()
        );
        c.write_all(head.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = c.read_to_string(&mut out);
        out
    };
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"TOO_LARGE\""), "{answer}");
    assert!(!dir.join("a/big.md").exists());
    s.stop().unwrap();
}

#[test]
fn projects_are_renamed_the_docs_pair_synced_and_the_lock_has_its_ttl() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "docs");
    let s = server(&tmp.path().join("data"));
    let id = register(&s, &dir, None);

    let (st, v) = call(ureq::put(&url(&s, &format!("/projects/{id}"))), Some(json!({"name": "Handbook"})));
    assert_eq!((st, v["name"].as_str(), v["id"].as_str()), (200, Some("Handbook"), Some(id.as_str())), "{v}");
    let (_, v) = call(ureq::get(&url(&s, "/projects")), None);
    assert_eq!(v["projects"][0]["name"], "Handbook");
    let (st, _) = call(ureq::put(&url(&s, &format!("/projects/{id}"))), Some(json!({"name": ""})));
    assert_eq!(st, 400);
    let (st, _) = call(ureq::put(&url(&s, "/projects/nope")), Some(json!({"name": "x"})));
    assert_eq!(st, 404);

    let (st, v) = call(ureq::post(&url(&s, &format!("/projects/{id}/docs/sync"))), Some(json!({"actor": "ann"})));
    assert_eq!((st, v["docs"]["counts"]["applied"].as_u64()), (200, Some(1)), "{v}");
    assert!(dir.join("b/one.md").is_file());
    let (st, _) = call(ureq::post(&url(&s, &format!("/projects/{id}/docs/sync"))), Some(json!({"pair": "nope"})));
    assert_eq!(st, 404);

    // The lock: its TTL as asked, 30 minutes by default, 409 to anyone else.
    let lock = url(&s, &format!("/projects/{id}/lock"));
    let (_, v) = call(ureq::post(&lock), Some(json!({"owner": "bob", "reason": "editing", "ttlSeconds": 90})));
    let span = |v: &Value| {
        let at = |k: &str| twinsync::core::Timestamp::parse_rfc3339(v["lock"][k].as_str().unwrap()).unwrap().millis();
        at("expiresAt") - at("acquiredAt")
    };
    assert_eq!((span(&v), v["lock"]["reason"].as_str()), (90_000, Some("editing")));
    let (st, v) = call(ureq::post(&lock), Some(json!({"owner": "carol", "ttlSeconds": 60})));
    assert_eq!((st, v["error"]["code"].as_str()), (409, Some("LOCKED")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("bob"), "{v}");
    call(ureq::delete(&format!("{lock}?owner=bob")), None);
    let (_, v) = call(ureq::post(&lock), Some(json!({"owner": "carol"})));
    assert_eq!(span(&v), 30 * 60_000);
    s.stop().unwrap();
}
