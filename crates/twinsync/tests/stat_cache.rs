//! The folder sides' stat caches, on real projects: files of this host beside the store
//! (`.twinsync/stat-cache/PAIR.SIDE`), not rows of it; a damaged, swapped or missing file
//! costs a full rehash and never a wrong status; what earlier releases kept in the store
//! is removed once.

use std::path::Path;
use std::time::{Duration, SystemTime};

use twinsync::Project;

const SIDES: [&str; 2] = ["default.left", "default.right"];

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, body).unwrap();
    // Out of the racy window, so the caches are trusted as on any older tree.
    let f = std::fs::File::options().write(true).open(&p).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(3600)).unwrap();
}

fn synced(root: &Path) -> Project {
    for side in ["a", "b"] {
        std::fs::create_dir_all(root.join(side)).unwrap();
    }
    for i in 0..5 {
        write(root, &format!("a/d/f{i}.md"), &format!("# secret body {i}\n"));
    }
    let mut p = Project::init(root, "a", "b").unwrap();
    p.sync(&Default::default()).unwrap();
    p
}

/// The items out of sync, by key and class, and how many are in sync.
fn status(root: &Path) -> (Vec<(String, String)>, usize) {
    let mut p = Project::open(root).unwrap();
    let s = p.status_pairs(&[]).unwrap().remove(0);
    (s.items.into_iter().map(|i| (i.key, i.class)).collect(), s.in_sync)
}

fn cache_file(root: &Path, side: &str) -> std::path::PathBuf {
    root.join(".twinsync/stat-cache").join(side)
}

fn old_entries(root: &Path) -> i64 {
    let db = rusqlite::Connection::open(root.join(".twinsync/state.db")).unwrap();
    db.query_row("SELECT count(*) FROM kv WHERE namespace = 'stat_cache'", [], |r| r.get(0)).unwrap()
}

#[test]
fn stat_caches_are_files_beside_the_store_and_old_store_entries_go_once() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    drop(synced(root));
    for side in SIDES {
        let bytes = std::fs::read(cache_file(root, side)).unwrap();
        assert!(!bytes.windows(6).any(|w| w == b"secret"), "{side}: names and digests only, no contents");
    }
    assert_eq!(old_entries(root), 0);

    // A project an earlier release synced: its caches are rows of the store.
    std::fs::remove_dir_all(root.join(".twinsync/stat-cache")).unwrap();
    let db = rusqlite::Connection::open(root.join(".twinsync/state.db")).unwrap();
    for key in ["default/left", "default/right"] {
        db.execute("INSERT INTO kv (namespace, key, value) VALUES ('stat_cache', ?1, x'545753430201')", [key]).unwrap();
    }
    drop(db);
    assert_eq!(status(root), (vec![], 5));
    assert_eq!(old_entries(root), 0, "the store's old caches are removed");
    for side in SIDES {
        assert!(cache_file(root, side).is_file(), "{side}");
    }

    // A removed pair's caches go with it.
    Project::open(root).unwrap().pair_remove("default").unwrap();
    for side in SIDES {
        assert!(!cache_file(root, side).exists(), "{side}");
    }
}

#[test]
fn a_damaged_swapped_or_missing_cache_file_gives_the_same_status() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    drop(synced(root));
    write(root, "a/d/f1.md", "# changed on the left\n");
    write(root, "b/d/f2.md", "# changed on the right\n");
    std::fs::remove_file(root.join("a/d/f3.md")).unwrap();
    let expected = (
        vec![
            ("d/f1.md".to_string(), "changed_left".to_string()),
            ("d/f2.md".to_string(), "changed_right".to_string()),
            ("d/f3.md".to_string(), "deleted_left".to_string()),
        ],
        2,
    );
    let got = status(root);
    assert_eq!(got, expected);
    let (left, right) = (cache_file(root, SIDES[0]), cache_file(root, SIDES[1]));
    let good = std::fs::read(&left).unwrap();

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x5a;
    let damaged: [Vec<u8>; 4] = [flipped, good[..good.len() / 2].to_vec(), Vec::new(), b"not a cache".to_vec()];
    for bad in damaged {
        std::fs::write(&left, &bad).unwrap();
        assert_eq!(status(root), expected, "cache file of {} bytes", bad.len());
    }
    // Each side's cache in the other's place: a cache of another folder.
    std::fs::write(&left, std::fs::read(&right).unwrap()).unwrap();
    std::fs::write(&right, &good).unwrap();
    assert_eq!(status(root), expected, "swapped caches");
    std::fs::remove_file(&left).unwrap();
    assert_eq!(status(root), expected, "no cache file");
    assert_eq!(status(root), expected, "the caches written by the cold status");
}
