//! `PgReplica` on a real server: compare-and-swap writes (against another connection
//! too), edits straight in SQL, rows whose content is not valid for their kind, key
//! validation, replicas and projects kept apart, and an engine sync into it.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use twinsync_core::canonical::IgnoreRules;
use twinsync_core::replica::{ReplicaError, WriteContext};
use twinsync_core::{
    Content, Digest, Engine, EngineConfig, HashRules, Key, ManualClock, MemoryReplica, Replica, Store, SyncOptions,
    Timestamp,
};
use twinsync_postgres::{PgReplica, PgStore};

fn key(s: &str) -> Key {
    Key::new(s).unwrap()
}

fn text(s: &str) -> Content {
    Content::Text(s.into())
}

/// A replica named `name` in a fresh project; returns it with its project id.
fn fresh(name: &str) -> (PgReplica, String) {
    let project = common::fresh_project("replica");
    (PgReplica::open(&common::url(), &project, name, HashRules::default()).expect("open PgReplica"), project)
}

#[test]
fn writes_and_deletes_are_compare_and_swap() {
    let (mut r, _) = fresh("db");
    let ctx = WriteContext::default();
    let k = key("specs/auth.md");
    let d1 = r.write(&k, &text("one\n"), None, &ctx).unwrap();
    assert_eq!(d1, HashRules::default().digest(&text("one\n")).unwrap(), "write returns the digest");

    let e = r.write(&k, &text("two\n"), None, &ctx).unwrap_err();
    assert!(matches!(e, ReplicaError::Conflict { ref found, .. } if *found == d1.to_string()), "{e}");
    assert_eq!(r.read(&k).unwrap(), Some(text("one\n")), "creating over an item changes nothing");

    let stale = Digest::of_bytes(b"stale");
    let e = r.write(&k, &text("two\n"), Some(&stale), &ctx).unwrap_err();
    assert!(matches!(e, ReplicaError::Conflict { .. }), "{e}");
    assert!(e.to_string().contains("specs/auth.md"), "names the key: {e}");
    assert_eq!(r.read(&k).unwrap(), Some(text("one\n")), "unchanged after a conflict");

    let d2 = r.write(&k, &text("two\n"), Some(&d1), &ctx).unwrap();
    assert_eq!(r.digest(&k).unwrap(), Some(d2));
    let e = r.delete(&k, &d1, &ctx).unwrap_err();
    assert!(matches!(e, ReplicaError::Conflict { .. }), "{e}");
    assert_eq!(r.read(&k).unwrap(), Some(text("two\n")), "a stale delete changes nothing");
    r.delete(&k, &d2, &ctx).unwrap();
    assert_eq!(r.read(&k).unwrap(), None);
    let e = r.delete(&k, &d2, &ctx).unwrap_err();
    assert!(matches!(e, ReplicaError::Conflict { ref found, .. } if found == "absent"), "{e}");
    let e = r.write(&k, &text("three\n"), Some(&d2), &ctx).unwrap_err();
    assert!(matches!(e, ReplicaError::Conflict { ref found, .. } if found == "absent"), "{e}");
    assert_eq!(r.read(&k).unwrap(), None, "a write expecting a deleted row does not bring it back");
}

#[test]
fn a_concurrent_edit_through_the_database_is_never_overwritten() {
    let (mut engine_side, project) = fresh("db");
    let mut web_ui = PgReplica::open(&common::url(), &project, "db", HashRules::default()).unwrap();
    let k = key("a.md");
    let seen = web_ui.put(&k, &text("v1")).unwrap();
    assert_eq!(engine_side.scan().unwrap()[&k].digest, seen, "the other connection's edit is visible");
    web_ui.put(&k, &text("v2 from the web UI")).unwrap();
    let e = engine_side.write(&k, &text("v1 synced"), Some(&seen), &WriteContext::default()).unwrap_err();
    assert!(matches!(e, ReplicaError::Conflict { .. }), "{e}");
    assert_eq!(engine_side.read(&k).unwrap(), Some(text("v2 from the web UI")));
}

#[test]
fn racing_creators_of_one_key_have_exactly_one_winner() {
    let project = common::fresh_project("replica-race");
    const WRITERS: usize = 4;
    const KEYS: usize = 10;
    let barrier = Arc::new(Barrier::new(WRITERS));
    let handles: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (project, barrier) = (project.clone(), barrier.clone());
            thread::spawn(move || {
                let mut r = PgReplica::open(&common::url(), &project, "db", HashRules::default()).unwrap();
                (0..KEYS)
                    .map(|i| {
                        barrier.wait();
                        let content = text(&format!("writer {w}"));
                        r.write(&key(&format!("k{i}.md")), &content, None, &WriteContext::default()).map(|_| w)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<Vec<Result<usize, ReplicaError>>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let r = PgReplica::open(&common::url(), &project, "db", HashRules::default()).unwrap();
    for i in 0..KEYS {
        let winners: Vec<usize> = results.iter().filter_map(|r| r[i].as_ref().ok().copied()).collect();
        assert_eq!(winners.len(), 1, "key {i}: one creator wins: {winners:?}");
        for e in results.iter().filter_map(|r| r[i].as_ref().err()) {
            assert!(matches!(e, ReplicaError::Conflict { .. }), "the others get a conflict: {e}");
        }
        let stored = r.read(&key(&format!("k{i}.md"))).unwrap();
        assert_eq!(stored, Some(text(&format!("writer {}", winners[0]))), "the winner's content is stored");
    }
}

#[test]
fn scan_lists_items_with_digest_size_and_time() {
    let (mut r, _) = fresh("db");
    let at = Timestamp::from_millis(1_700_000_000_000);
    r.put_at(&key("b/x.json"), &Content::Json("{\"a\": 1}".into()), at).unwrap();
    r.put_at(&key("a.bin"), &Content::Bytes(vec![0, 255]), at).unwrap();
    r.put(&key("c.md"), &text("hello")).unwrap();
    r.put(&key("B.md"), &text("upper case sorts first, bytewise")).unwrap();
    let snap = r.scan().unwrap();
    assert_eq!(snap.keys().map(Key::as_str).collect::<Vec<_>>(), ["B.md", "a.bin", "b/x.json", "c.md"]);
    let e = &snap[&key("b/x.json")];
    assert_eq!(e.digest, HashRules::default().digest(&Content::Json("{\"a\":1}".into())).unwrap());
    assert_eq!((e.size, e.modified), (8, Some(at)));
    assert_eq!(r.read(&key("a.bin")).unwrap(), Some(Content::Bytes(vec![0, 255])), "kind and bytes kept");
    assert!(r.remove(&key("c.md")).unwrap());
    assert!(!r.remove(&key("c.md")).unwrap(), "removing a missing item says so");
    assert_eq!(r.scan().unwrap().len(), 3);
}

#[test]
fn replicas_and_projects_are_separate() {
    let (mut specs, project) = fresh("specs");
    let url = common::url();
    let mut docs = PgReplica::open(&url, &project, "docs", HashRules::default()).unwrap();
    let mut other = PgReplica::open(&url, &common::fresh_project("other"), "specs", HashRules::default()).unwrap();
    specs.put(&key("a.md"), &text("spec")).unwrap();
    assert!(docs.scan().unwrap().is_empty(), "another replica's rows are not mine");
    assert!(other.scan().unwrap().is_empty(), "another project's replica of the same name is not mine");
    assert_eq!(other.read(&key("a.md")).unwrap(), None);
    assert_eq!(specs.scan().unwrap().len(), 1);
}

#[test]
fn a_traversal_key_in_the_table_fails_the_scan_naming_it() {
    let (mut r, project) = fresh("db");
    r.put(&key("ok.md"), &text("fine")).unwrap();
    let mut raw = common::client(&common::url());
    for bad in ["../x", "/etc/passwd", "a/../../b", "C:/win.ini"] {
        raw.execute(
            "INSERT INTO documents (project, replica, key, kind, content, size) VALUES ($1, 'db', $2, 'text', $3, 4)",
            &[&project, &bad, &b"evil".to_vec()],
        )
        .unwrap();
        let e = r.scan().unwrap_err();
        assert!(matches!(e, ReplicaError::InvalidKey(ref k) if k.key == bad), "{bad}: {e:?}");
        assert!(e.to_string().contains(bad), "the error names the key: {e}");
        raw.execute("DELETE FROM documents WHERE project = $1 AND key = $2", &[&project, &bad]).unwrap();
    }
    assert_eq!(r.scan().unwrap().len(), 1, "clean again once the row is gone");
}

#[test]
fn rows_edited_in_sql_are_digested_afresh() {
    let (mut r, project) = fresh("db");
    let k = key("note.md");
    let old = r.put(&k, &text("old")).unwrap();
    let mut raw = common::client(&common::url());
    // An edit straight in SQL that does not maintain the digest column: the trigger
    // clears the stale digest.
    raw.execute("UPDATE documents SET content = 'new'::bytea WHERE project = $1 AND key = 'note.md'", &[&project])
        .unwrap();
    let new = HashRules::default().digest(&text("new")).unwrap();
    assert_eq!(r.scan().unwrap()[&k].digest, new, "scan sees the new content, not the stale digest");
    assert_eq!(r.digest(&k).unwrap(), Some(new));
    let e = r.write(&k, &text("mine"), Some(&old), &WriteContext::default()).unwrap_err();
    assert!(matches!(e, ReplicaError::Conflict { .. }), "the stale digest no longer matches: {e}");

    raw.execute(
        "INSERT INTO documents (project, replica, key, kind, content, size) VALUES ($1, 'db', 'raw.md', 'text', 'raw'::bytea, 3)",
        &[&project],
    )
    .unwrap();
    assert_eq!(r.scan().unwrap()[&key("raw.md")].digest, HashRules::default().digest(&text("raw")).unwrap());
}

#[test]
fn digests_follow_the_replicas_hash_rules() {
    let project = common::fresh_project("rules");
    let url = common::url();
    let mut rules = HashRules::default();
    rules.json.ignore = IgnoreRules::new(["/updatedAt"]).unwrap();
    let k = key("c.json");
    let d_plain = PgReplica::open(&url, &project, "db", HashRules::default())
        .unwrap()
        .put(&k, &Content::Json("{\"a\": 1, \"updatedAt\": \"monday\"}".into()))
        .unwrap();
    let mut r = PgReplica::open(&url, &project, "db", rules.clone()).unwrap();
    let d = r.scan().unwrap()[&k].digest;
    assert_ne!(d, d_plain, "a digest made with other rules is not trusted");
    assert_eq!(d, rules.digest(&Content::Json("{\"a\":1}".into())).unwrap(), "volatile field ignored");
    let d2 = r.put(&k, &Content::Json("{\"updatedAt\": \"tuesday\", \"a\": 1}".into())).unwrap();
    assert_eq!(d, d2, "a volatile change leaves the digest alone");
}

#[test]
fn a_bad_row_fails_alone_with_an_error_naming_it() {
    let (mut r, project) = fresh("db");
    r.put(&key("good.md"), &text("fine")).unwrap();
    let mut raw = common::client(&common::url());
    raw.execute(
        "INSERT INTO documents (project, replica, key, kind, content, size) VALUES ($1, 'db', 'bad.md', 'text', $2, 2)",
        &[&project, &vec![b'a', 0xff]],
    )
    .unwrap();
    raw.execute(
        "INSERT INTO documents (project, replica, key, kind, content, size) VALUES ($1, 'db', 'bad.json', 'json', $2, 5)",
        &[&project, &b"{nope".to_vec()],
    )
    .unwrap();
    let snap = r.scan().unwrap();
    assert_eq!(snap.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["good.md"], "the good row is scanned");
    let mut failures = r.scan_failures();
    failures.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(failures.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(), ["bad.json", "bad.md"], "{failures:?}");
    assert!(failures[1].error.contains("bad.md") && failures[1].error.contains("UTF-8"), "{failures:?}");
    assert!(failures[0].error.contains("bad.json"), "{failures:?}");
    let e = r.read(&key("bad.md")).unwrap_err();
    assert!(e.to_string().contains("bad.md") && e.to_string().contains("UTF-8"), "{e}");
    // A CAS write over a bad row is refused with the row's own error, not a silent overwrite.
    let e = r.write(&key("bad.md"), &text("fixed"), Some(&Digest::of_bytes(b"x")), &WriteContext::default());
    assert!(e.is_err(), "{e:?}");
    // Once the row is fixed the failure goes.
    r.put(&key("bad.md"), &text("fixed")).unwrap();
    r.scan().unwrap();
    assert_eq!(r.scan_failures().len(), 1, "only bad.json is left");
}

#[test]
fn an_engine_sync_fills_the_database_side_and_records_in_the_store() {
    let project = common::fresh_project("engine");
    let url = common::url();
    let mut store = PgStore::open(&url, &project).unwrap();
    let mut db = PgReplica::open(&url, &project, "docs", HashRules::default()).unwrap();
    let mut files = MemoryReplica::new("files");
    for i in 0..20 {
        files.put(&key(&format!("specs/s{i:02}.md")), text(&format!("# spec {i}\n")));
    }
    let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
    let report = Engine::new(&mut store, &clock, EngineConfig::default())
        .sync(&mut files, &mut db, &SyncOptions::default())
        .unwrap();
    assert_eq!(report.counts.applied, 20, "{:?}", report.counts);
    assert_eq!(db.read(&key("specs/s07.md")).unwrap(), Some(text("# spec 7\n")));
    assert_eq!(store.load_base(&report.scope).unwrap().len(), 20, "the base is stored");
    assert!(!store.events_since(0, 100).unwrap().is_empty(), "events are in the outbox");
    let again = Engine::new(&mut store, &clock, EngineConfig::default())
        .sync(&mut files, &mut db, &SyncOptions::default())
        .unwrap();
    assert_eq!(again.counts.applied, 0, "an idle pass applies nothing");
}
