//! `SqliteReplica`: compare-and-swap writes, edits through the database, key validation
//! of rows written straight into the table, and digests by the replica's hash rules.

mod common;

use common::fresh_db;
use rusqlite::{params, Connection};
use twinsync_core::canonical::IgnoreRules;
use twinsync_core::replica::{ReplicaError, WriteContext};
use twinsync_core::{Content, Digest, HashRules, Key, Replica, Timestamp};
use twinsync_sqlite::{SqliteReplica, SqliteStore};

fn key(s: &str) -> Key {
    Key::new(s).unwrap()
}

fn text(s: &str) -> Content {
    Content::Text(s.into())
}

#[test]
fn writes_and_deletes_are_compare_and_swap() {
    let path = fresh_db("cas");
    let mut r = SqliteReplica::open(&path, "db", HashRules::default()).unwrap();
    let ctx = WriteContext::default();
    let k = key("specs/auth.md");
    let d1 = r.write(&k, &text("one\n"), None, &ctx).unwrap();
    assert_eq!(d1, HashRules::default().digest(&text("one\n")).unwrap(), "write returns the digest");

    // Creating over an existing item is a conflict and changes nothing.
    let e = r.write(&k, &text("two\n"), None, &ctx).unwrap_err();
    assert!(matches!(e, ReplicaError::Conflict { ref found, .. } if *found == d1.to_string()), "{e}");
    assert_eq!(r.read(&k).unwrap(), Some(text("one\n")));

    // A stale expected digest is a conflict too.
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
}

#[test]
fn a_concurrent_edit_through_the_database_is_never_overwritten() {
    let path = fresh_db("concurrent");
    let mut engine_side = SqliteReplica::open(&path, "db", HashRules::default()).unwrap();
    let mut web_ui = SqliteReplica::open(&path, "db", HashRules::default()).unwrap();
    let k = key("a.md");
    let seen = web_ui.put(&k, &text("v1")).unwrap();
    let snapshot = engine_side.scan().unwrap();
    assert_eq!(snapshot[&k].digest, seen, "the other connection's edit is visible");
    web_ui.put(&k, &text("v2 from the web UI")).unwrap();
    let e = engine_side.write(&k, &text("v1 synced"), Some(&seen), &WriteContext::default()).unwrap_err();
    assert!(matches!(e, ReplicaError::Conflict { .. }), "{e}");
    assert_eq!(engine_side.read(&k).unwrap(), Some(text("v2 from the web UI")));
}

#[test]
fn scan_lists_items_with_digest_size_and_time() {
    let mut r = SqliteReplica::open_in_memory("db", HashRules::default()).unwrap();
    let at = Timestamp::from_millis(1_700_000_000_000);
    r.put_at(&key("b/x.json"), &Content::Json("{\"a\": 1}".into()), at).unwrap();
    r.put_at(&key("a.bin"), &Content::Bytes(vec![0, 255]), at).unwrap();
    r.put(&key("c.md"), &text("hello")).unwrap();
    let snap = r.scan().unwrap();
    assert_eq!(snap.keys().map(Key::as_str).collect::<Vec<_>>(), ["a.bin", "b/x.json", "c.md"]);
    let e = &snap[&key("b/x.json")];
    assert_eq!(e.digest, HashRules::default().digest(&Content::Json("{\"a\":1}".into())).unwrap());
    assert_eq!((e.size, e.modified), (8, Some(at)));
    assert_eq!(r.read(&key("a.bin")).unwrap(), Some(Content::Bytes(vec![0, 255])), "kind and bytes kept");
    assert!(r.remove(&key("c.md")).unwrap());
    assert!(!r.remove(&key("c.md")).unwrap(), "removing a missing item says so");
    assert_eq!(r.scan().unwrap().len(), 2);
}

#[test]
fn replicas_in_one_file_are_separate_and_share_it_with_the_store() {
    let path = fresh_db("shared");
    let _store = SqliteStore::open(&path).unwrap();
    let mut specs = SqliteReplica::open(&path, "specs", HashRules::default()).unwrap();
    let mut docs = SqliteReplica::open(&path, "docs", HashRules::default()).unwrap();
    specs.put(&key("a.md"), &text("spec")).unwrap();
    assert!(docs.scan().unwrap().is_empty(), "another replica's rows are not mine");
    assert_eq!(docs.read(&key("a.md")).unwrap(), None);
    assert_eq!(specs.scan().unwrap().len(), 1);
}

#[test]
fn a_traversal_key_in_the_table_fails_the_scan_naming_it() {
    let path = fresh_db("traversal");
    let mut r = SqliteReplica::open(&path, "db", HashRules::default()).unwrap();
    r.put(&key("ok.md"), &text("fine")).unwrap();
    let raw = Connection::open(&path).unwrap();
    for bad in ["../x", "/etc/passwd", "a/../../b", "C:/win.ini"] {
        raw.execute(
            "INSERT INTO documents (replica, key, kind, content, size) VALUES ('db', ?1, 'text', ?2, 4)",
            params![bad, b"evil".to_vec()],
        )
        .unwrap();
        let e = r.scan().unwrap_err();
        assert!(matches!(e, ReplicaError::InvalidKey(ref k) if k.key == bad), "{bad}: {e:?}");
        assert!(e.to_string().contains(bad), "the error names the key: {e}");
        raw.execute("DELETE FROM documents WHERE key = ?1", [bad]).unwrap();
    }
    assert_eq!(r.scan().unwrap().len(), 1, "clean again once the row is gone");
}

#[test]
fn rows_edited_in_sql_are_digested_afresh() {
    let path = fresh_db("sql-edit");
    let mut r = SqliteReplica::open(&path, "db", HashRules::default()).unwrap();
    let k = key("note.md");
    let old = r.put(&k, &text("old")).unwrap();
    // An edit straight in SQL that does not maintain the digest column.
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE documents SET content = CAST('new' AS BLOB) WHERE key = 'note.md'", [])
        .unwrap();
    let new = HashRules::default().digest(&text("new")).unwrap();
    assert_eq!(r.scan().unwrap()[&k].digest, new, "scan sees the new content, not the stale digest");
    assert_eq!(r.digest(&k).unwrap(), Some(new));
    let e = r.write(&k, &text("mine"), Some(&old), &WriteContext::default()).unwrap_err();
    assert!(matches!(e, ReplicaError::Conflict { .. }), "the stale digest no longer matches: {e}");

    // A row inserted without a digest at all.
    Connection::open(&path)
        .unwrap()
        .execute("INSERT INTO documents (replica, key, kind, content, size) VALUES ('db', 'raw.md', 'text', CAST('raw' AS BLOB), 3)", [])
        .unwrap();
    assert_eq!(r.scan().unwrap()[&key("raw.md")].digest, HashRules::default().digest(&text("raw")).unwrap());
}

#[test]
fn digests_follow_the_replicas_hash_rules() {
    let path = fresh_db("rules");
    let mut rules = HashRules::default();
    rules.json.ignore = IgnoreRules::new(["/updatedAt"]).unwrap();
    let k = key("c.json");
    let d_plain = {
        let mut plain = SqliteReplica::open(&path, "db", HashRules::default()).unwrap();
        plain.put(&k, &Content::Json("{\"a\": 1, \"updatedAt\": \"monday\"}".into())).unwrap()
    };
    let mut r = SqliteReplica::open(&path, "db", rules.clone()).unwrap();
    let d = r.scan().unwrap()[&k].digest;
    assert_ne!(d, d_plain, "a digest made with other rules is not trusted");
    assert_eq!(d, rules.digest(&Content::Json("{\"a\":1}".into())).unwrap(), "volatile field ignored");
    let d2 = r.put(&k, &Content::Json("{\"updatedAt\": \"tuesday\", \"a\": 1}".into())).unwrap();
    assert_eq!(d, d2, "a volatile change leaves the digest alone");
}

#[test]
fn a_bad_row_fails_alone_with_an_error_naming_it() {
    let path = fresh_db("bad-rows");
    let mut r = SqliteReplica::open(&path, "db", HashRules::default()).unwrap();
    r.put(&key("good.md"), &text("fine")).unwrap();
    let raw = Connection::open(&path).unwrap();
    raw.execute(
        "INSERT INTO documents (replica, key, kind, content, size) VALUES ('db', 'bad.md', 'text', ?1, 2)",
        [vec![b'a', 0xff]],
    )
    .unwrap();
    let snap = r.scan().unwrap();
    assert_eq!(snap.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["good.md"], "the good row is scanned");
    let failures = r.scan_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].key, "bad.md");
    assert!(failures[0].error.contains("bad.md") && failures[0].error.contains("UTF-8"), "{failures:?}");
    let e = r.read(&key("bad.md")).unwrap_err();
    assert!(e.to_string().contains("bad.md") && e.to_string().contains("UTF-8"), "{e}");
}

#[test]
fn opening_a_foreign_file_as_a_replica_is_refused() {
    let path = fresh_db("foreign-replica");
    std::fs::write(&path, b"hello, I am a text file\n").unwrap();
    let e = SqliteReplica::open(&path, "db", HashRules::default()).unwrap_err();
    assert!(e.to_string().contains("file is not a database"), "{e}");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), b"hello, I am a text file\n");
}

#[test]
fn a_version_1_file_gains_the_scan_index_and_keeps_its_documents() {
    let path = fresh_db("v1-documents");
    {
        let mut r = SqliteReplica::open(&path, "db", HashRules::default()).unwrap();
        r.put(&key("a.md"), &text("hello")).unwrap();
    }
    // What a build with only migration 1 left behind.
    let raw = Connection::open(&path).unwrap();
    raw.execute_batch(
        "DROP INDEX documents_scan; DROP TABLE outbox; DROP TABLE deliveries; DROP TABLE intents; CREATE TABLE events (seq INTEGER);
         DROP TABLE credentials; DROP TABLE browser_test_sessions; DROP TABLE coverage_reports; DROP TABLE api_keys;
         ALTER TABLE blobs DROP COLUMN encoding;
         CREATE TABLE coverage_reports (scope TEXT NOT NULL, component TEXT NOT NULL, report TEXT NOT NULL,
             computed_at INTEGER NOT NULL, PRIMARY KEY (scope, component)) WITHOUT ROWID;
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(raw);
    let mut r = SqliteReplica::open(&path, "db", HashRules::default()).unwrap();
    let snap = r.scan().unwrap();
    assert_eq!(snap[&key("a.md")].digest, HashRules::default().digest(&text("hello")).unwrap());
    let raw = Connection::open(&path).unwrap();
    let plan: String = raw
        .query_row(
            "EXPLAIN QUERY PLAN SELECT key, kind, digest, rules, size, modified FROM documents WHERE replica = 'db' ORDER BY key",
            [],
            |row| row.get(3),
        )
        .unwrap();
    assert!(plan.contains("COVERING INDEX documents_scan"), "{plan}");
}
