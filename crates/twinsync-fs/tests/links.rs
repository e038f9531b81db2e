//! `symlinks: links`: a link is an item of its own, synced as a link and never followed.

#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::Path;

use twinsync_core::{Content, Engine, EngineConfig, Key, ManualClock, MemoryStore, Replica, SyncOptions, Timestamp};
use twinsync_fs::{FsOptions, FsReplica, SymlinkMode};

fn open(dir: &Path) -> FsReplica {
    FsReplica::open(dir, FsOptions { symlinks: SymlinkMode::Links, ..FsOptions::default() }).unwrap()
}

#[test]
fn links_sync_as_links_and_are_never_followed() {
    let (l, r) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "not for syncing\n").unwrap();
    std::fs::create_dir(l.path().join("docs")).unwrap();
    std::fs::write(l.path().join("docs/a.md"), "a\n").unwrap();
    symlink("a.md", l.path().join("docs/latest.md")).unwrap();
    symlink(outside.path().join("secret.txt"), l.path().join("escape.txt")).unwrap();
    symlink("../../etc/passwd", l.path().join("docs/up.txt")).unwrap();

    let (mut left, mut right) = (open(l.path()), open(r.path()));
    let snap = left.scan().unwrap();
    assert_eq!(snap.len(), 4, "links are items: {:?}", snap.keys().collect::<Vec<_>>());
    let latest = Key::new("docs/latest.md").unwrap();
    assert_eq!(left.read(&latest).unwrap(), Some(Content::Link("a.md".into())));
    assert_ne!(snap[&latest].digest, snap[&Key::new("docs/a.md").unwrap()].digest, "a link is not its target");

    let mut store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp::from_millis(1_790_000_000_000));
    let report = Engine::new(&mut store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!(report.counts.applied, 2, "{report:#?}");
    assert_eq!(std::fs::read_link(r.path().join("docs/latest.md")).unwrap(), Path::new("a.md"));
    assert_eq!(std::fs::read_to_string(r.path().join("docs/latest.md")).unwrap(), "a\n");
    // Links that would reach out of the root are refused by name, and nothing is written.
    let failed: Vec<_> = report.failures().map(|i| (i.key.to_string(), i.error.clone().unwrap())).collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.iter().any(|(k, e)| k == "escape.txt" && e.contains("absolute")), "{failed:?}");
    assert!(failed.iter().any(|(k, e)| k == "docs/up.txt" && e.contains("outside the root")), "{failed:?}");
    assert!(std::fs::symlink_metadata(r.path().join("escape.txt")).is_err());

    // Retargeting a link is a change like any other, applied with compare-and-swap.
    std::fs::remove_file(l.path().join("docs/latest.md")).unwrap();
    std::fs::write(l.path().join("docs/b.md"), "b\n").unwrap();
    symlink("b.md", l.path().join("docs/latest.md")).unwrap();
    clock.advance(61_000);
    Engine::new(&mut store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!(std::fs::read_link(r.path().join("docs/latest.md")).unwrap(), Path::new("b.md"));
}

#[test]
fn skip_mode_refuses_to_write_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let mut fs = FsReplica::open(dir.path(), FsOptions::default()).unwrap();
    let e = fs
        .write(&Key::new("l").unwrap(), &Content::Link("x".into()), None, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("symlinks = \"links\""), "{e}");
}
