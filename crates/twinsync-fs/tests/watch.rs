//! The watcher on a real folder: debounced batches, ignored paths, rescan ticks.

use std::fs;
use std::time::{Duration, Instant};

use twinsync_core::Key;
use twinsync_fs::{WatchEvent, WatchOptions, Watcher};

/// The next `Changed` batch, skipping periodic rescans, within `limit`.
fn next_batch(rx: &std::sync::mpsc::Receiver<WatchEvent>, limit: Duration) -> Option<Vec<Key>> {
    let end = Instant::now() + limit;
    while let Ok(ev) = rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
        if let WatchEvent::Changed(keys) = ev {
            return Some(keys);
        }
    }
    None
}

#[test]
fn rapid_edits_arrive_as_one_debounced_batch_without_ignored_paths() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join(".git")).unwrap();
    fs::create_dir_all(root.join("docs")).unwrap();
    fs::write(root.join(".gitignore"), "*.log\n").unwrap();
    let opts =
        WatchOptions { debounce: Duration::from_millis(500), ignore: vec!["scratch/".into()], ..Default::default() };
    let (watcher, rx) = Watcher::start(root, opts).unwrap();
    for i in 0..5 {
        fs::write(root.join(format!("docs/{i}.md")), format!("edit {i}")).unwrap();
        fs::write(root.join("docs/0.md"), format!("again {i}")).unwrap();
    }
    fs::write(root.join(".git/index"), "x").unwrap();
    fs::write(root.join("debug.log"), "x").unwrap();
    fs::create_dir_all(root.join("scratch")).unwrap();
    fs::write(root.join("scratch/tmp.md"), "x").unwrap();
    let batch = next_batch(&rx, Duration::from_secs(10)).expect("a batch");
    let keys: Vec<&str> = batch.iter().map(|k| k.as_str()).collect();
    assert_eq!(keys, ["docs/0.md", "docs/1.md", "docs/2.md", "docs/3.md", "docs/4.md"]);
    // Nothing further: the edits were one batch, and ignored paths never show up.
    assert_eq!(next_batch(&rx, Duration::from_millis(800)), None);

    fs::remove_file(root.join("docs/3.md")).unwrap();
    assert_eq!(next_batch(&rx, Duration::from_secs(10)).unwrap(), [Key::new("docs/3.md").unwrap()]);

    // Dropping the watcher ends its thread and closes the channel.
    drop(watcher);
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(e) => panic!("channel still open after drop: {e}"),
            Ok(_) => {}
        }
    }
}

#[test]
fn periodic_rescan_ticks() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WatchOptions { rescan_every: Some(Duration::from_millis(100)), ..Default::default() };
    let (_w, rx) = Watcher::start(dir.path(), opts).unwrap();
    let ev = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(ev, WatchEvent::Rescan { reason: "periodic".into() });
}

#[test]
fn watching_a_missing_root_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let e = Watcher::start(&dir.path().join("gone"), WatchOptions::default()).unwrap_err();
    assert!(e.to_string().contains("gone"), "{e}");
}
