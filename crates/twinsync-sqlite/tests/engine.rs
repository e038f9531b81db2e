//! The engine over SQLite: a sync between a memory replica and a database replica with
//! the state in a `SqliteStore`, the database closed and reopened, then undo.

mod common;

use common::fresh_db;
use twinsync_core::{
    Content, Engine, EngineConfig, HashRules, Key, ManualClock, MemoryReplica, OperationStatus, Policy, Replica, Side,
    Store, SyncOptions, Timestamp,
};
use twinsync_sqlite::{SqliteReplica, SqliteStore};

fn key(s: &str) -> Key {
    Key::new(s).unwrap()
}

fn config() -> EngineConfig {
    EngineConfig { scope: "specs".into(), actor: "tester".into(), ..EngineConfig::default() }
}

#[test]
fn sync_persists_across_reopen_and_undo_restores_both_sides() {
    let path = fresh_db("engine");
    let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
    let mut left = MemoryReplica::new("files");
    let (a, b, c) = (key("auth/spec.md"), key("billing/spec.md"), key("shared.json"));
    left.put(&a, Content::Text("# Auth\n".into()));
    left.put(&c, Content::Json("{\"v\": 1}".into()));

    // First run: files -> database, through a store on disk.
    let first = {
        let mut store = SqliteStore::open(&path).unwrap();
        let mut right = SqliteReplica::open(&path, "db", HashRules::default()).unwrap();
        right.put(&b, &Content::Text("# Billing, written in the web UI\n".into())).unwrap();
        let mut engine = Engine::new(&mut store, &clock, config());
        let report = engine.sync(&mut left, &mut right, &SyncOptions::default()).unwrap();
        assert_eq!(report.status, OperationStatus::Completed, "{report:?}");
        assert_eq!(report.counts.applied, 3, "two items to the database, one to the files");
        report
    };
    assert_eq!(left.get(&b), Some(&Content::Text("# Billing, written in the web UI\n".into())));

    // Everything the engine remembered survived closing the database.
    clock.advance(60_000);
    {
        let mut store = SqliteStore::open(&path).unwrap();
        let mut right = SqliteReplica::open(&path, "db", HashRules::default()).unwrap();
        assert_eq!(right.read(&a).unwrap(), Some(Content::Text("# Auth\n".into())));
        assert_eq!(store.operation(&first.operation_id).unwrap().as_ref(), Some(&first), "the report persisted");
        assert_eq!(store.load_base("specs").unwrap().len(), 3, "the base persisted");
        assert_eq!(store.history(Some("specs"), 10).unwrap().len(), 3);
        assert_eq!(store.undo_entries(&first.operation_id).unwrap().len(), 3);
        assert_eq!(store.audit_log(1).unwrap()[0].id, first.audit_id.clone().unwrap());

        // Nothing changed since: the status is clean and a second sync has nothing to do.
        let mut engine = Engine::new(&mut store, &clock, config());
        let drift = engine.status(&mut left, &mut right).unwrap();
        assert!(drift.items.iter().all(|i| i.class == twinsync_core::DriftClass::InSync), "{drift:?}");

        // An edit through the database flows back to the files.
        right.put(&a, &Content::Text("# Auth\n\nEdited in the web UI.\n".into())).unwrap();
        let second = engine
            .sync(&mut left, &mut right, &SyncOptions { policy: Policy::prefer(Side::Right), ..SyncOptions::default() })
            .unwrap();
        assert_eq!(second.counts.applied, 1);
        assert_eq!(left.get(&a), Some(&Content::Text("# Auth\n\nEdited in the web UI.\n".into())));
    }

    // Undo, from yet another opening of the database: the newest operation first.
    clock.advance(60_000);
    let mut store = SqliteStore::open(&path).unwrap();
    let mut right = SqliteReplica::open(&path, "db", HashRules::default()).unwrap();
    let mut engine = Engine::new(&mut store, &clock, config());
    let undo2 = engine.undo(&mut left, &mut right, None).unwrap();
    assert_eq!(undo2.restored, vec![a.clone()], "{undo2:?}");
    assert_eq!(left.get(&a), Some(&Content::Text("# Auth\n".into())), "the files hold the old text again");
    let undo1 = engine.undo(&mut left, &mut right, Some(&first.operation_id)).unwrap();
    assert!(undo1.refused.iter().any(|r| r.key == a), "a changed since op 1 on the right: refused {undo1:?}");
    assert!(undo1.restored.contains(&b) && undo1.restored.contains(&c), "{undo1:?}");
    assert_eq!(left.get(&b), None, "b was new to the files: undo removes it");
    assert_eq!(right.read(&c).unwrap(), None, "c was new to the database: undo removes it");
    assert_eq!(
        right.read(&b).unwrap(),
        Some(Content::Text("# Billing, written in the web UI\n".into())),
        "the web UI's own item is untouched"
    );
    drop(engine);
    drop(store);

    let store = SqliteStore::open(&path).unwrap();
    let op = store.operation(&first.operation_id).unwrap().unwrap();
    assert!(op.undone_at.is_some(), "the undo is recorded on the operation");
    let entries = store.undo_entries(&first.operation_id).unwrap();
    assert!(entries.iter().filter(|e| e.key != a).all(|e| e.undone_at.is_some()), "{entries:?}");
    let base = store.load_base("specs").unwrap();
    assert!(!base.contains_key(&b) && !base.contains_key(&c), "the base is back to before op 1: {base:?}");
    assert_eq!(store.history(Some("specs"), 1).unwrap()[0].direction, "undo");
}
