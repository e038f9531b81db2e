//! Faults and secrets: errors name host and database but never the password (in
//! `Display`, `Debug` or any message), an unreachable server is a clear error, and a
//! connection killed by the server fails the call in flight, then the store reconnects.

mod common;

use twinsync_core::{HashRules, Key, Replica, Store, StoreError};
use twinsync_postgres::{redact_url, PgReplica, PgStore};

const SECRET: &str = "hunter2-Very-Secret";

fn assert_hidden(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the password: {text}");
    assert!(!text.contains("hunter2"), "{what} shows part of the password: {text}");
}

#[test]
fn passwords_never_show_in_errors_or_debug() {
    let good = common::url();
    // An unreachable port: the error names host, port and database.
    let unreachable = format!("postgres://ann:{SECRET}@127.0.0.1:1/teamdb");
    let e = PgStore::open(&unreachable, "p").unwrap_err();
    for shown in [e.to_string(), format!("{e:?}")] {
        assert_hidden("an unreachable server's error", &shown);
        assert!(shown.contains("127.0.0.1:1") && shown.contains("teamdb"), "names host and database: {shown}");
    }
    let e = PgReplica::open(&unreachable, "p", "db", HashRules::default()).unwrap_err();
    assert_hidden("the replica's error", &format!("{e} {e:?}"));

    // A reachable server and a database that does not exist: the server's own message.
    let missing = common::with_password(&common::with_database(&good, "no_such_db_here"), SECRET);
    let e = PgStore::open(&missing, "p").unwrap_err();
    let shown = format!("{e} {e:?}");
    assert_hidden("a missing database's error", &shown);
    assert!(shown.contains("no_such_db_here"), "{shown}");

    // A URL that does not parse, a password as a query parameter.
    for bad in [
        format!("postgres://ann:{SECRET}@host:notaport/db"),
        format!("postgres://ann@host/db?password={SECRET}&port=x"),
    ] {
        let e = PgStore::open(&bad, "p").unwrap_err();
        assert_hidden("a bad URL's error", &format!("{e} {e:?}"));
        assert_hidden("redact_url", &redact_url(&bad));
    }

    // An open store and replica (trust authentication accepts any password).
    let with_pw = common::with_password(&good, SECRET);
    let project = common::fresh_project("secrets");
    let mut store = PgStore::open(&with_pw, &project).unwrap();
    let replica = PgReplica::open(&with_pw, &project, "db", HashRules::default()).unwrap();
    assert_hidden("PgStore's Debug", &format!("{store:?} {}", store.location()));
    assert_hidden("PgReplica's Debug", &format!("{replica:?} {}", replica.location()));
    assert!(format!("{store:?}").contains(&project), "Debug names the project: {store:?}");
    // An error from a statement on an open connection.
    let e = store.append_audit(&twinsync_core::audit::AuditRecord {
        id: "dup".into(),
        correlation_id: "c".into(),
        actor: "ann".into(),
        action: "sync".into(),
        success: true,
        counts: serde_json::json!({}),
        duration_ms: 1,
        at: twinsync_core::Timestamp::from_millis(0),
        detail: None,
    });
    assert!(e.is_ok());
    let dup = store
        .append_audit(&twinsync_core::audit::AuditRecord {
            id: "dup".into(),
            correlation_id: "c".into(),
            actor: "ann".into(),
            action: "sync".into(),
            success: true,
            counts: serde_json::json!({}),
            duration_ms: 1,
            at: twinsync_core::Timestamp::from_millis(0),
            detail: None,
        })
        .unwrap_err();
    assert_hidden("a statement's error", &format!("{dup} {dup:?}"));
    assert!(dup.to_string().contains("already exists"), "{dup}");
}

#[test]
fn a_killed_connection_fails_the_call_in_flight_then_reconnects() {
    // A name of its own, so only this test's connections are killed.
    let project = common::fresh_project("reconnect");
    let app = format!("ts-{}", &project[project.len() - 12..]);
    let url = format!("{}?application_name={app}", common::url());
    let mut store = PgStore::open(&url, &project).unwrap();
    let mut replica = PgReplica::open(&url, &project, "db", HashRules::default()).unwrap();
    store.kv_put("ns", "k", b"before").unwrap();
    replica.put(&Key::new("a.md").unwrap(), &twinsync_core::Content::Text("a".into())).unwrap();
    let mut admin = common::client(&url);
    let killed: i64 = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
            &[&app],
        )
        .unwrap()
        .get(0);
    assert!(killed >= 2, "the store's and the replica's connections were killed ({killed})");
    std::thread::sleep(std::time::Duration::from_millis(100));
    // The call in flight may fail (the driver learns of the loss there) ...
    let first = store.kv_get("ns", "k");
    if let Err(e) = &first {
        assert!(matches!(e, StoreError::Backend(_)), "{e:?}");
    }
    // ... and the next one connects again and sees everything committed before.
    assert_eq!(store.kv_get("ns", "k").unwrap(), Some(b"before".to_vec()));
    let _ = replica.scan();
    assert_eq!(replica.scan().unwrap().len(), 1);
}
