//! `SqliteStore` on disk: persistence across reopen, migrations, damaged and foreign
//! files, newer schemas, and two connections on one file.

mod common;

use std::path::Path;

use common::fresh_db;
use rusqlite::Connection;
use twinsync_core::lock::Lock;
use twinsync_core::store::{HistoryEntry, ItemCommit, LockChange, UndoEntry};
use twinsync_core::{Content, Digest, Key, Side, Store, StoreError, Timestamp, Trigger};
use twinsync_sqlite::{SqliteStore, SCHEMA_VERSION};

const T0: i64 = 1_700_000_000_000;

fn sample_commit(i: usize) -> ItemCommit {
    let key = Key::new(format!("docs/{i}.md")).unwrap();
    let content = Content::Text(format!("# item {i}\n"));
    let digest = Digest::of_bytes(content.as_bytes());
    ItemCommit {
        scope: "docs".into(),
        key: key.clone(),
        base_after: Some(digest),
        blobs: vec![(digest, content)],
        undo: vec![UndoEntry {
            operation_id: "op1".into(),
            scope: "docs".into(),
            key: key.clone(),
            side: Side::Right,
            pre: None,
            post: Some(digest),
            base_before: None,
            created_at: Timestamp::from_millis(T0),
            expires_at: Timestamp::from_millis(T0 + 1000),
            undone_at: None,
        }],
        history: HistoryEntry {
            operation_id: "op1".into(),
            scope: "docs".into(),
            key,
            direction: "left_to_right".into(),
            trigger: Trigger::Periodic,
            success: true,
            error: None,
            left: Some(digest),
            right: Some(digest),
            at: Timestamp::from_millis(T0),
        },
        events: vec![],
    }
}

fn tables(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").unwrap();
    let names = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    names
}

fn user_version(path: &Path) -> i64 {
    Connection::open(path).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

#[test]
fn state_persists_across_reopen() {
    let path = fresh_db("persist");
    let commits: Vec<_> = (0..3).map(sample_commit).collect();
    {
        let mut store = SqliteStore::open(&path).unwrap();
        for c in &commits {
            store.commit_item(c).unwrap();
        }
        store.kv_put("stat", "docs/0.md", b"cached").unwrap();
        store
            .update_lock("project", &mut |_| {
                Ok(LockChange::quiet(Some(Lock {
                    name: "project".into(),
                    owner: "ann".into(),
                    token: "t".into(),
                    reason: None,
                    acquired_at: Timestamp::from_millis(T0),
                    expires_at: Timestamp::from_millis(T0 + 60_000),
                })))
            })
            .unwrap()
            .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let base = store.load_base("docs").unwrap();
    assert_eq!(base.len(), 3);
    for c in &commits {
        assert_eq!(base.get(&c.key), c.base_after.as_ref(), "{}", c.key);
        assert_eq!(store.blob(&c.blobs[0].0).unwrap().as_ref(), Some(&c.blobs[0].1));
    }
    assert_eq!(store.undo_entries("op1").unwrap().len(), 3);
    assert_eq!(store.history(Some("docs"), 10).unwrap()[0], commits[2].history);
    assert_eq!(store.kv_get("stat", "docs/0.md").unwrap(), Some(b"cached".to_vec()));
    assert_eq!(store.locks().unwrap()[0].owner, "ann");
}

#[test]
fn a_fresh_file_is_migrated_and_reopening_keeps_the_version() {
    let path = fresh_db("migrate");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    let names = tables(&path);
    for t in ["audit", "base", "blobs", "coverage_reports", "documents", "history", "kv", "locks", "outbox"] {
        assert!(names.iter().any(|n| n == t), "table {t} exists: {names:?}");
    }
    for t in ["operations", "undo_entries"] {
        assert!(names.iter().any(|n| n == t), "table {t} exists: {names:?}");
    }
    // Reopening runs no migration twice (a second CREATE TABLE would fail).
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let mode: String = Connection::open(&path).unwrap().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal", "the file is in WAL mode");
}

#[test]
fn an_older_schema_is_migrated_forward_on_open() {
    // A database another build left at version 0 with a table of its own: opening keeps
    // that table and adds the schema.
    let path = fresh_db("older");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('kept');")
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    let kept: String = Connection::open(&path).unwrap().query_row("SELECT x FROM notes", [], |r| r.get(0)).unwrap();
    assert_eq!(kept, "kept");
}

fn assert_corrupt(err: StoreError, path: &Path, needle: &str) {
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Corrupt(_)), "corrupt, got {err:?}");
    assert!(msg.contains(&path.display().to_string()), "names the file: {msg}");
    assert!(msg.contains(needle), "says {needle:?}: {msg}");
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_untouched() {
    let path = fresh_db("random");
    // Deterministic pseudo-random bytes (xorshift), 8 KiB.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(&path, &bytes).unwrap();
    assert_corrupt(SqliteStore::open(&path).unwrap_err(), &path, "file is not a database");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the file is untouched");

    std::fs::write(&path, b"{\"not\": \"sqlite\"}\n").unwrap();
    assert_corrupt(SqliteStore::open(&path).unwrap_err(), &path, "file is not a database");
    assert_eq!(std::fs::read(&path).unwrap(), b"{\"not\": \"sqlite\"}\n");
}

#[test]
fn a_truncated_database_is_refused_and_left_untouched() {
    let path = fresh_db("truncated");
    {
        let mut store = SqliteStore::open(&path).unwrap();
        for i in 0..200 {
            store.commit_item(&sample_commit(i)).unwrap();
        }
    }
    // Closing the last connection checkpointed the WAL into the main file.
    let full = std::fs::read(&path).unwrap();
    assert!(full.len() > 8192, "the database spans several pages ({} bytes)", full.len());
    let half = full[..full.len() / 2].to_vec();
    std::fs::write(&path, &half).unwrap();
    assert_corrupt(SqliteStore::open(&path).unwrap_err(), &path, "truncated");
    assert_eq!(std::fs::read(&path).unwrap(), half, "the file is untouched");

    // Cut inside the 100-byte header.
    std::fs::write(&path, &full[..50]).unwrap();
    assert_corrupt(SqliteStore::open(&path).unwrap_err(), &path, "file is not a database");
    assert_eq!(std::fs::read(&path).unwrap(), &full[..50]);
}

#[test]
fn a_newer_schema_version_is_refused_naming_both_versions() {
    let path = fresh_db("newer");
    drop(SqliteStore::open(&path).unwrap());
    let newer = SCHEMA_VERSION + 7;
    Connection::open(&path).unwrap().pragma_update(None, "user_version", newer).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert_corrupt(err.clone(), &path, &format!("schema version {newer}"));
    assert!(err.to_string().contains(&format!("version {SCHEMA_VERSION}")), "{err}");
    assert_eq!(user_version(&path), newer, "the version is left as it was");
}

#[test]
fn two_connections_see_each_others_commits_and_locks() {
    let path = fresh_db("two");
    let mut a = SqliteStore::open(&path).unwrap();
    let mut b = SqliteStore::open(&path).unwrap();
    a.commit_item(&sample_commit(1)).unwrap();
    assert_eq!(b.load_base("docs").unwrap().len(), 1, "b reads a's commit");
    let lock = |owner: &str| Lock {
        name: "project".into(),
        owner: owner.into(),
        token: format!("{owner}-token"),
        reason: None,
        acquired_at: Timestamp::from_millis(T0),
        expires_at: Timestamp::from_millis(T0 + 60_000),
    };
    a.update_lock("project", &mut |cur| {
        assert!(cur.is_none());
        Ok(LockChange::quiet(Some(lock("ann"))))
    })
    .unwrap()
    .unwrap();
    let seen = b.update_lock("project", &mut |cur| Ok(LockChange::quiet(cur))).unwrap().unwrap();
    assert_eq!(seen, Some(lock("ann")), "b's read-modify-write sees a's lock");
}

#[test]
fn a_directory_is_not_a_store() {
    let path = fresh_db("dir");
    std::fs::create_dir_all(&path).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    std::fs::remove_dir(&path).unwrap();
}

#[test]
fn damaged_pages_are_reported_as_corrupt_naming_the_file() {
    let path = fresh_db("damaged");
    {
        let mut store = SqliteStore::open(&path).unwrap();
        for i in 0..50 {
            store.commit_item(&sample_commit(i)).unwrap();
        }
    }
    let mut bytes = std::fs::read(&path).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    // Keep page 1 (header and schema); scramble every other page.
    for (i, b) in bytes.iter_mut().enumerate().skip(page) {
        *b = (i as u8).wrapping_mul(31) ^ 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();
    let result = SqliteStore::open(&path).and_then(|s| s.load_base("docs").map(|_| ()));
    assert_corrupt(result.unwrap_err(), &path, "malformed");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the file is untouched");
}

#[test]
fn a_commit_that_fails_midway_leaves_nothing_behind() {
    let path = fresh_db("atomic");
    let mut store = SqliteStore::open(&path).unwrap();
    store.commit_item(&sample_commit(1)).unwrap();
    // Make the last statement of the next commit (its history row) fail.
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse_history BEFORE INSERT ON history WHEN NEW.key = 'docs/2.md'
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();
    let mut failing = sample_commit(2);
    failing.base_after = Some(Digest::of_bytes(b"new base"));
    let err = store.commit_item(&failing).unwrap_err();
    assert!(err.to_string().contains("injected failure"), "{err}");
    assert_eq!(store.load_base("docs").unwrap().len(), 1, "no base row from the failed commit");
    assert_eq!(store.blob(&failing.blobs[0].0).unwrap(), None, "no blob from the failed commit");
    assert_eq!(store.undo_entries("op1").unwrap().len(), 1, "no undo entry from the failed commit");
    assert_eq!(store.history(None, 10).unwrap().len(), 1, "no history row");
    assert_eq!(store.blob_count().unwrap(), 1);
}

#[test]
fn openers_racing_on_a_fresh_file_all_succeed() {
    let path = fresh_db("race");
    // Enough openers that some switch the fresh file to WAL at the same moment.
    let handles: Vec<_> = (0..12)
        .map(|_| {
            let p = path.clone();
            std::thread::spawn(move || SqliteStore::open(&p).map(|s| s.schema_version()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap().unwrap(), SCHEMA_VERSION);
    }
    assert_eq!(user_version(&path), SCHEMA_VERSION, "migrated exactly once (a second run would fail)");
}

#[test]
fn damaged_rows_are_corrupt_errors_naming_table_and_value() {
    let path = fresh_db("bad-rows");
    let store = SqliteStore::open(&path).unwrap();
    let raw = Connection::open(&path).unwrap();
    raw.execute("INSERT INTO base (scope, key, digest) VALUES ('s', 'a.md', 'not-hex')", []).unwrap();
    let err = store.load_base("s").unwrap_err();
    assert_corrupt(err.clone(), &path, "base");
    assert!(err.to_string().contains("not-hex"), "{err}");
    raw.execute("DELETE FROM base", []).unwrap();
    raw.execute(
        "INSERT INTO base (scope, key, digest) VALUES ('s', '../escape', ?1)",
        [Digest::of_bytes(b"x").to_hex()],
    )
    .unwrap();
    let err = store.load_base("s").unwrap_err();
    assert_corrupt(err.clone(), &path, "../escape");
    raw.execute(
        "INSERT INTO blobs (digest, kind, size, content) VALUES (?1, 'text', 2, ?2)",
        rusqlite::params![Digest::of_bytes(b"y").to_hex(), vec![b'a', 0xff]],
    )
    .unwrap();
    let err = store.blob(&Digest::of_bytes(b"y")).unwrap_err();
    assert_corrupt(err, &path, "UTF-8");
}

#[test]
fn a_version_7_store_keeps_its_history_and_counters_and_takes_the_schedule_trigger() {
    // A store written before `schedule` existed: its rows and AUTOINCREMENT counters must
    // come through the tables' rebuild, and the new trigger must then be accepted.
    let path = fresh_db("v7");
    let conn = Connection::open(&path).unwrap();
    for sql in &twinsync_sqlite::MIGRATIONS[..7] {
        conn.execute_batch(sql).unwrap();
    }
    conn.execute_batch(
        "PRAGMA user_version = 7;
         INSERT INTO history (operation_id, scope, key, direction, trigger, success, at)
             VALUES ('op0', 'docs', 'a.md', 'both', 'manual', 1, 1), ('op0', 'docs', 'b.md', 'both', 'periodic', 1, 2);
         DELETE FROM history WHERE key = 'b.md';",
    )
    .unwrap();
    let refused = conn.execute(
        "INSERT INTO history (operation_id, scope, key, direction, trigger, success, at) \
         VALUES ('op', 'docs', 'c.md', 'both', 'schedule', 1, 3)",
        [],
    );
    assert!(refused.is_err(), "version 7 refuses the trigger it did not know");
    drop(conn);

    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let mut c = sample_commit(0);
    c.history.trigger = Trigger::Schedule;
    store.commit_item(&c).unwrap();
    let rows = store.history(Some("docs"), 10).unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].trigger, rows[1].key.as_str()), (Trigger::Schedule, "a.md"));
    drop(store);
    let conn = Connection::open(&path).unwrap();
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM history ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids, [1, 3], "the deleted row's id 2 is not handed out again");
    let names = tables(&path);
    assert!(!names.iter().any(|n| n.ends_with("_v7")), "the old tables are gone: {names:?}");
}

#[test]
fn kept_texts_are_stored_compressed_and_read_back_whole() {
    let path = fresh_db("packed");
    let mut store = SqliteStore::open(&path).unwrap();
    let text = "# A heading\n\nA paragraph that a merge may need again later.\n".repeat(300);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let noise: String = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'!' + (x % 64) as u8)
        })
        .collect();
    let kept: Vec<(Digest, Content)> =
        [text.clone(), noise.clone()].into_iter().map(|t| (Digest::of_bytes(t.as_bytes()), Content::Text(t))).collect();
    store.record_intents(&[], &kept).unwrap();
    let raw = Connection::open(&path).unwrap();
    let (encoding, stored, size): (Option<String>, i64, i64) = raw
        .query_row("SELECT encoding, length(content), size FROM blobs WHERE digest = ?1", [kept[0].0.to_hex()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(encoding.as_deref(), Some("lz4"));
    assert!(stored * 4 < size, "a repetitive text takes a fraction of its size: {stored} of {size}");
    let encoding: Option<String> =
        raw.query_row("SELECT encoding FROM blobs WHERE digest = ?1", [kept[1].0.to_hex()], |r| r.get(0)).unwrap();
    assert_eq!(encoding, None, "what does not shrink is kept as it is");
    for (d, c) in &kept {
        assert_eq!(store.blob(d).unwrap().as_ref(), Some(c));
    }

    // Damage inside the compressed bytes is an error naming the blob, never another text.
    raw.execute("UPDATE blobs SET content = substr(content, 1, 20) WHERE digest = ?1", [kept[0].0.to_hex()]).unwrap();
    let err = store.blob(&kept[0].0).unwrap_err();
    assert_corrupt(err.clone(), &path, &kept[0].0.to_string());
    assert!(err.to_string().contains("LZ4"), "{err}");
}

#[test]
fn a_version_8_store_reads_its_uncompressed_blobs() {
    let path = fresh_db("v8");
    let conn = Connection::open(&path).unwrap();
    for sql in &twinsync_sqlite::MIGRATIONS[..8] {
        conn.execute_batch(sql).unwrap();
    }
    let text = "an old text, kept as it was written\n".repeat(20);
    let digest = Digest::of_bytes(text.as_bytes());
    conn.execute_batch("PRAGMA user_version = 8;").unwrap();
    conn.execute(
        "INSERT INTO blobs (digest, kind, size, content) VALUES (?1, 'text', ?2, ?3)",
        rusqlite::params![digest.to_hex(), text.len() as i64, text.as_bytes()],
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.blob(&digest).unwrap(), Some(Content::Text(text)));
}

fn page_size(path: &Path) -> i64 {
    Connection::open(path).unwrap().query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_new_store_has_16_kib_pages_and_an_older_file_keeps_its_own() {
    let path = fresh_db("pages-new");
    let mut store = SqliteStore::open(&path).unwrap();
    store.commit_items(&[sample_commit(1)]).unwrap();
    drop(store);
    assert_eq!(page_size(&path), 16 << 10, "texts of a few KiB fit in their leaves");

    // A file made with SQLite's default pages (as every store before this one) keeps
    // them: the size of a file in WAL mode cannot change, and its data must stay.
    let path = fresh_db("pages-old");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;").unwrap();
    for sql in &twinsync_sqlite::MIGRATIONS[..] {
        conn.execute_batch(sql).unwrap();
    }
    conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};")).unwrap();
    drop(conn);
    let mut store = SqliteStore::open(&path).unwrap();
    let commits: Vec<ItemCommit> = (0..50).map(sample_commit).collect();
    store.commit_items(&commits).unwrap();
    drop(store);
    assert_eq!(page_size(&path), 4096);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.load_base("docs").unwrap().len(), 50);
    let content = Content::Text("# item 7\n".into());
    assert_eq!(store.blob(&Digest::of_bytes(content.as_bytes())).unwrap(), Some(content));
}
