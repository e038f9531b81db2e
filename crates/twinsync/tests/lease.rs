//! The sync lease users rely on: a sync killed mid-run never blocks the next one on the
//! same machine, and a live holder makes the next sync wait, then give up naming it.

use std::time::Duration;

use twinsync::core::lock::Lock;
use twinsync::core::{LockChange, Timestamp};
use twinsync::{Error, Project, SyncRequest};

fn project() -> (tempfile::TempDir, Project) {
    let dir = tempfile::tempdir().unwrap();
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(side)).unwrap();
    }
    std::fs::write(dir.path().join("a/one.md"), "# one\n").unwrap();
    let p = Project::init(dir.path(), "a", "b").unwrap();
    (dir, p)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string()
}

/// Leaves a lease on pair `default` as a process `pid` of this machine would have.
fn plant_lease(p: &mut Project, pid: u32) {
    let now = p.now();
    let lease = Lock {
        name: "sync:default".into(),
        owner: "ghost".into(),
        token: "t".repeat(16),
        reason: Some(format!("pid {pid} on {}", hostname())),
        acquired_at: now,
        expires_at: Timestamp::from_millis(now.millis() + 600_000),
    };
    p.store().update_lock("sync:default", &mut |_| Ok(LockChange::quiet(Some(lease.clone())))).unwrap().unwrap();
}

#[test]
fn a_lease_left_by_a_dead_process_is_taken_over_at_once() {
    let (dir, mut p) = project();
    // A pid far above pid_max is never a live process.
    plant_lease(&mut p, 4_000_000_000);
    p.set_lease_wait(Duration::ZERO, None);
    let report = p.sync(&SyncRequest::default()).unwrap();
    assert_eq!(report.counts.applied, 1);
    assert!(dir.path().join("b/one.md").exists());
    let leases: Vec<_> = p.store().locks().unwrap().into_iter().filter(|l| l.name.starts_with("sync:")).collect();
    assert!(leases.is_empty(), "the lease is given back after the sync: {leases:?}");
}

#[test]
fn a_live_holder_makes_the_sync_wait_then_give_up_naming_it() {
    let (dir, mut p) = project();
    plant_lease(&mut p, 1); // pid 1 always runs
    let waited_for = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = waited_for.clone();
    p.set_lease_wait(
        Duration::from_millis(300),
        Some(Box::new(move |pair: &str, holder: &str| seen.lock().unwrap().push(format!("{pair}: {holder}")))),
    );
    let started = std::time::Instant::now();
    let e = p.sync(&SyncRequest::default()).unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(300), "it waited");
    assert!(matches!(e, Error::Busy { .. }), "{e}");
    assert_eq!(e.code().as_str(), "LOCKED");
    assert!(e.to_string().contains("ghost (pid 1 on"), "{e}");
    assert_eq!(waited_for.lock().unwrap().len(), 1, "told once that it waits");
    assert!(waited_for.lock().unwrap()[0].starts_with("default: ghost"));
    assert!(!dir.path().join("b/one.md").exists(), "nothing written");
    // Syncs of another pair do not wait for this one.
    std::fs::create_dir_all(dir.path().join("c")).unwrap();
    std::fs::create_dir_all(dir.path().join("d")).unwrap();
    std::fs::write(dir.path().join("c/x.md"), "x\n").unwrap();
    p.pair_add("other", twinsync::PairConfig::new(twinsync::PairKind::Folders, "c", "d")).unwrap();
    assert_eq!(p.sync_pair("other", &SyncRequest::default()).unwrap().counts.applied, 1);
}
