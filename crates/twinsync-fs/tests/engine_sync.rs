//! The core engine syncing two real folders, then undoing it.

use std::fs;
use std::path::Path;

use twinsync_core::{Engine, EngineConfig, ManualClock, MemoryStore, Replica, SyncOptions, Timestamp};
use twinsync_fs::{FsOptions, FsReplica};

fn put(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, body).unwrap();
}

#[test]
fn engine_syncs_two_folders_and_undo_restores_them() {
    let dir = tempfile::tempdir().unwrap();
    let (l, r, backups) = (dir.path().join("left"), dir.path().join("right"), dir.path().join("backups"));
    put(&l, "docs/intro.md", "# Intro\n");
    put(&l, "data/tokens.json", "{\"color\": \"red\"}\n");
    put(&r, "docs/other.md", "other\n");
    fs::create_dir_all(&r).unwrap();
    let opts = |name: &str| FsOptions { name: name.into(), backup_dir: Some(backups.clone()), ..Default::default() };
    let mut left = FsReplica::open(&l, opts("left")).unwrap();
    let mut right = FsReplica::open(&r, opts("right")).unwrap();
    let mut store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
    let mut engine = Engine::new(&mut store, &clock, EngineConfig::default());

    let report = engine.sync(&mut left, &mut right, &SyncOptions::default()).unwrap();
    assert_eq!(report.counts.applied, 3, "{report:?}");
    assert_eq!(fs::read_to_string(r.join("docs/intro.md")).unwrap(), "# Intro\n");
    assert_eq!(fs::read_to_string(r.join("data/tokens.json")).unwrap(), "{\"color\": \"red\"}\n");
    assert_eq!(fs::read_to_string(l.join("docs/other.md")).unwrap(), "other\n");
    assert_eq!(
        left.scan().unwrap().values().map(|e| e.digest).collect::<Vec<_>>(),
        right.scan().unwrap().values().map(|e| e.digest).collect::<Vec<_>>()
    );

    // An edit on the left flows right, overwriting (and backing up) the old file.
    clock.advance(60_000);
    put(&l, "docs/intro.md", "# Intro, edited\n");
    let second = engine.sync(&mut left, &mut right, &SyncOptions::default()).unwrap();
    assert_eq!(second.counts.applied, 1, "{second:?}");
    assert_eq!(fs::read_to_string(r.join("docs/intro.md")).unwrap(), "# Intro, edited\n");
    let backup = backups.join(&second.operation_id).join("docs/intro.md");
    assert_eq!(fs::read_to_string(backup).unwrap(), "# Intro\n");

    // Undo puts the right side back as it was before the second sync.
    let undo = engine.undo(&mut left, &mut right, None).unwrap();
    assert_eq!(undo.operation_id, second.operation_id);
    assert!(undo.refused.is_empty(), "{undo:?}");
    assert_eq!(fs::read_to_string(r.join("docs/intro.md")).unwrap(), "# Intro\n");
}
