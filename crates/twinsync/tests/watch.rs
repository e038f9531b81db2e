//! The watch's retry schedule lives in the store: a retry scheduled before a stop (or a
//! kill) is still there for the next watch, which clears it once the pair syncs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use twinsync::{Project, WatchNote, WatchOptions};

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(started.elapsed() < limit, "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_refused_sync_is_retried_from_the_store_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(side)).unwrap();
    }
    std::fs::write(dir.path().join("a/one.md"), "# one\n").unwrap();
    let mut bob = Project::init(dir.path(), "a", "b").unwrap();
    bob.set_actor("bob");
    bob.lock_acquire(None, None).unwrap();

    let notes = Arc::new(Mutex::new(Vec::new()));
    let seen = notes.clone();
    let mut alice = Project::open(dir.path()).unwrap();
    alice.set_actor("alice");
    let opts = WatchOptions { period: Duration::from_secs(3600), ..Default::default() };
    let watch = alice.watch(opts.clone(), Box::new(move |n: &WatchNote| seen.lock().unwrap().push(n.clone()))).unwrap();
    wait_until(Duration::from_secs(20), || {
        notes
            .lock()
            .unwrap()
            .iter()
            .any(|n| matches!(n, WatchNote::Failed { error, .. } if error.contains("held by bob")))
    });
    watch.stop().unwrap();
    let retry = Project::open(dir.path()).unwrap().watch_retry("default").unwrap().expect("a retry is scheduled");
    assert!(retry.attempts >= 1);
    assert!(!dir.path().join("b/one.md").exists());

    bob.lock_release("bob").unwrap();
    let mut alice = Project::open(dir.path()).unwrap();
    alice.set_actor("alice");
    let watch = alice.watch(opts, Box::new(|_| {})).unwrap();
    wait_until(Duration::from_secs(20), || dir.path().join("b/one.md").exists());
    let summary = watch.stop().unwrap();
    assert_eq!(summary.applied, 1);
    assert_eq!(Project::open(dir.path()).unwrap().watch_retry("default").unwrap(), None, "cleared once synced");
}

#[test]
fn a_design_pair_is_watched_and_a_code_edit_reaches_the_design_file() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/old_design_layout");
    std::fs::create_dir_all(dir.path().join("code")).unwrap();
    std::fs::create_dir_all(dir.path().join("design")).unwrap();
    let code = std::fs::read_to_string(fixture.join("components.json")).unwrap();
    std::fs::write(dir.path().join("code/components.json"), &code).unwrap();
    std::fs::write(dir.path().join("design/components.json"), &code).unwrap();
    let mut config = twinsync::Config::empty();
    config.pairs.insert(
        "ui".into(),
        twinsync::PairConfig::new(twinsync::PairKind::Design, "code/components.json", "design/components.json"),
    );
    let p = Project::init_with(dir.path(), config).unwrap();
    let opts =
        WatchOptions { debounce: Duration::from_millis(50), period: Duration::from_secs(3600), ..Default::default() };
    let watch = p.watch(opts, Box::new(|_| {})).unwrap();
    wait_until(Duration::from_secs(20), || Project::open(dir.path()).unwrap().operations(10).unwrap().len() == 1);
    // The watcher sees the code file change and the pair syncs it to the design side.
    std::fs::write(dir.path().join("code/components.json"), code.replace("Components/Button", "Components/Buttons"))
        .unwrap();
    wait_until(Duration::from_secs(20), || {
        std::fs::read_to_string(dir.path().join("design/components.json")).unwrap().contains("Components/Buttons")
    });
    let summary = watch.stop().unwrap();
    assert_eq!((summary.failed, summary.conflicts), (0, 0), "{summary:?}");
}
