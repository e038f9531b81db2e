//! The scheduler on a real folder: watcher batches sync active changes once after the
//! debounce, and the periodic pass picks up what the watcher did not see.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use twinsync_core::SystemClock;
use twinsync_openspec::db::Kind;
use twinsync_openspec::schedule::{ScheduleOptions, Scheduler};
use twinsync_openspec::sync::{SyncConfig, SyncPolicy, SyncReport, Syncer};
use twinsync_openspec::Db;

/// A project holding `openspec/` with one active change, `add-login` (a proposal and two
/// open tasks), and the database and clock a syncer borrows, owned together so each test
/// builds its scheduler from them and states only its own options.
struct Project {
    dir: tempfile::TempDir,
    db: Db,
    clock: SystemClock,
}

impl Project {
    fn new() -> Project {
        let p = Project { dir: tempfile::tempdir().unwrap(), db: Db::open_in_memory().unwrap(), clock: SystemClock };
        p.write("changes/add-login/proposal.md", "# Add login\n\n## Why\nAccounts.\n");
        p.write("changes/add-login/tasks.md", "- [ ] a\n- [ ] b\n");
        p
    }

    /// The folder holding `openspec/`.
    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The path of `rel` under `openspec/`.
    fn openspec(&self, rel: &str) -> PathBuf {
        self.root().join("openspec").join(rel)
    }

    /// Writes `text` at `rel` under `openspec/`, creating folders as needed.
    fn write(&self, rel: &str, text: &str) {
        let p = self.openspec(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    /// A syncer for project `demo`: the files win, backups under `.twinsync/b`.
    fn syncer(&self) -> Syncer<'_> {
        let config = SyncConfig {
            project: "demo".into(),
            policy: SyncPolicy::FsWins,
            backup_dir: Some(self.root().join(".twinsync/b")),
        };
        Syncer::new(self.root(), &self.db, &self.clock, config).unwrap()
    }
}

/// Steps the scheduler until `done` holds or `limit` passes; returns every report seen.
fn pump(s: &mut Scheduler<'_>, limit: Duration, mut done: impl FnMut(&[SyncReport]) -> bool) -> Vec<SyncReport> {
    let until = Instant::now() + limit;
    let mut seen = Vec::new();
    while Instant::now() < until && !done(&seen) {
        seen.extend(s.step(Duration::from_millis(50)).unwrap());
    }
    seen
}

#[test]
fn rapid_edits_sync_once_after_the_debounce() {
    let p = Project::new();
    let opts = ScheduleOptions {
        debounce: Duration::from_millis(300),
        period: Duration::from_secs(3600),
        ..Default::default()
    };
    let (mut s, first) = Scheduler::start(p.syncer(), opts).unwrap();
    assert_eq!(first.items.len(), 1, "the full pass on start");
    for i in 0..5 {
        p.write("changes/add-login/tasks.md", &format!("- [x] a\n- [ ] b{i}\n"));
        std::thread::sleep(Duration::from_millis(10));
    }
    let reports = pump(&mut s, Duration::from_secs(10), |r| !r.is_empty());
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].trigger, "file_watcher");
    // Nothing more arrives: the edits were one batch.
    let later = pump(&mut s, Duration::from_millis(800), |_| false);
    assert!(later.is_empty(), "{later:?}");
    let row = p.db.item("demo", Kind::Change, "add-login").unwrap().unwrap();
    assert_eq!(row.tasks.as_deref(), Some("- [x] a\n- [ ] b4\n"));
    assert_eq!(row.tasks_done, 1);
    let watcher_rows: Vec<_> =
        p.db.history("demo", Some("add-login")).unwrap().into_iter().filter(|h| h.trigger == "file_watcher").collect();
    assert_eq!(watcher_rows.len(), 1, "{watcher_rows:?}");
}

#[test]
fn the_periodic_pass_picks_up_what_the_watcher_missed() {
    let p = Project::new();
    let opts = ScheduleOptions {
        debounce: Duration::from_millis(100),
        period: Duration::from_millis(700),
        // The watcher never reports design.md: its edits are "missed".
        watch_ignore: vec!["design.md".into()],
        ..Default::default()
    };
    let (mut s, _) = Scheduler::start(p.syncer(), opts).unwrap();
    p.write("changes/add-login/design.md", "# Design\n");
    // An archived change appearing waits for the periodic batch too.
    p.write("changes/archive/2025-01-02-old/tasks.md", "- [x] done\n");
    // A web UI writing the database directly: no file event at all.
    let web = "# Add login\n\n## Why\nAccounts, edited on the web.\n";
    p.db.edit_document("demo", Kind::Change, "add-login", "proposal.md", Some(web), twinsync_core::Timestamp(0))
        .unwrap();
    let reports = pump(&mut s, Duration::from_secs(10), |r| r.iter().any(|r| r.trigger == "periodic"));
    let periodic = reports.iter().find(|r| r.trigger == "periodic").expect("a periodic pass ran");
    let ids: Vec<&str> = periodic.items.iter().map(|i| i.id.as_str()).collect();
    assert!(ids.contains(&"add-login") && ids.contains(&"old"), "{periodic:?}");
    assert!(reports.iter().filter(|r| r.trigger == "file_watcher").all(|r| r.items.iter().all(|i| i.id != "old")));
    let row = p.db.item("demo", Kind::Change, "add-login").unwrap().unwrap();
    assert_eq!(row.design.as_deref(), Some("# Design\n"));
    assert!(p.db.item("demo", Kind::Change, "old").unwrap().is_some());
    assert_eq!(fs::read_to_string(p.openspec("changes/add-login/proposal.md")).unwrap(), web);
}

#[test]
fn a_failing_row_keeps_its_error_and_is_retried_with_backoff_until_it_syncs() {
    let p = Project::new();
    let events = twinsync_core::event::CollectingTransport::new();
    let opts = ScheduleOptions {
        debounce: Duration::from_millis(50),
        period: Duration::from_secs(3600),
        retry_base: Duration::from_millis(100),
        retry_max: Duration::from_secs(1),
        ..Default::default()
    };
    let (mut s, _) = Scheduler::start(p.syncer().with_transport(&events), opts).unwrap();
    // A directory where a document should be: the row cannot be read.
    fs::create_dir_all(p.openspec("changes/add-login/design.md")).unwrap();
    let failing = |s: &Scheduler<'_>| s.pending_retries().iter().any(|(_, id, n)| id == "add-login" && *n >= 3);
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until && !failing(&s) {
        s.step(Duration::from_millis(50)).unwrap();
    }
    assert!(failing(&s), "retried at least twice after the first failure: {:?}", s.pending_retries());
    let row = p.db.item("demo", Kind::Change, "add-login").unwrap().unwrap();
    let error = row.sync_error.expect("the last error is kept on the row");
    assert!(error.contains("design.md"), "{error}");
    let failed = p.db.history("demo", Some("add-login")).unwrap().into_iter().filter(|h| !h.success).count();
    assert!(failed >= 3, "{failed}");
    let sync_failed =
        events.events().iter().filter(|e| e.event_type == twinsync_core::event::EventType::SyncFailed).count();
    assert!(sync_failed >= 3);
    // Fixed on disk: the next attempt succeeds and clears the error.
    fs::remove_dir(p.openspec("changes/add-login/design.md")).unwrap();
    p.write("changes/add-login/design.md", "# Design\n");
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until && !s.pending_retries().is_empty() {
        s.step(Duration::from_millis(50)).unwrap();
    }
    assert!(s.pending_retries().is_empty());
    let row = p.db.item("demo", Kind::Change, "add-login").unwrap().unwrap();
    assert_eq!(row.sync_error, None);
    assert_eq!(row.design.as_deref(), Some("# Design\n"));
}

#[test]
fn archiving_an_active_change_is_synced_by_the_watcher_as_a_move() {
    let p = Project::new();
    let opts = ScheduleOptions {
        debounce: Duration::from_millis(100),
        period: Duration::from_secs(3600),
        ..Default::default()
    };
    let (mut s, _) = Scheduler::start(p.syncer(), opts).unwrap();
    fs::create_dir_all(p.openspec("changes/archive")).unwrap();
    fs::rename(p.openspec("changes/add-login"), p.openspec("changes/archive/2025-03-04-add-login")).unwrap();
    let reports = pump(&mut s, Duration::from_secs(10), |r| !r.is_empty());
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].trigger, "file_watcher");
    assert_eq!(reports[0].items[0].outcome, "moved");
    let row = p.db.item("demo", Kind::Change, "add-login").unwrap().unwrap();
    assert_eq!(row.path, "changes/archive/2025-03-04-add-login");
    assert!(!row.deleted);
    let h = p.db.history("demo", Some("add-login")).unwrap();
    assert!(h.iter().all(|h| h.outcome != "deleted"), "{h:?}");
}
