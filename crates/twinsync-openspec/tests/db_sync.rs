//! End to end: an `openspec/` folder on disk and the SQLite database kept in step —
//! files into rows, database edits onto files, conflicts by policy with the losing
//! version recoverable, soft delete, archive as a move, and the work-queue queries.

use std::fs;
use std::path::Path;

use twinsync_core::event::{CollectingTransport, EventType};
use twinsync_core::{Clock, ManualClock, Timestamp, Trigger};
use twinsync_openspec::db::{Kind, Query, QuerySort, Status, SyncDirection};
use twinsync_openspec::sync::{SyncConfig, SyncPolicy, Syncer};
use twinsync_openspec::Db;

const PROPOSAL: &str = "# Add login\n\n## Why\nUsers need accounts.\n\n## What Changes\n- Add a login form\n";
const TASKS: &str = "## 1. Build\n- [x] 1.1 Form\n- [ ] 1.2 Session\n- [ ] 1.3 Logout\n";
const DELTA: &str = "## ADDED Requirements\n### Requirement: Login\nThe system SHALL log users in.\n\n#### Scenario: ok\n- **WHEN** valid\n- **THEN** in\n";
const SPEC: &str = "# auth Specification\n\n## Purpose\nAuthentication of users.\n\n## Requirements\n### Requirement: Passwords\nThe system SHALL hash passwords.\n\n#### Scenario: stored\n- **WHEN** saved\n- **THEN** hashed\n\n### Requirement: Lockout\nThe system SHALL lock accounts.\n\n#### Scenario: many\n- **WHEN** five failures\n- **THEN** locked\n";

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join("openspec").join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join("openspec").join(rel)).unwrap()
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "changes/add-login/proposal.md", PROPOSAL);
    write(root, "changes/add-login/tasks.md", TASKS);
    write(root, "changes/add-login/specs/auth/spec.md", DELTA);
    write(root, "changes/add-search/proposal.md", "# Add search\n\n## Why\nFind things.\n");
    write(root, "changes/add-search/tasks.md", "- [ ] index\n- [ ] query\n");
    write(root, "specs/auth/spec.md", SPEC);
    dir
}

fn config(root: &Path, policy: SyncPolicy) -> SyncConfig {
    SyncConfig { project: "demo".into(), policy, backup_dir: Some(root.join(".twinsync/openspec-backups")) }
}

const T0: Timestamp = Timestamp(1_750_000_000_000);

#[test]
fn files_to_database_then_edits_both_ways_conflicts_delete_and_archive() {
    let dir = fixture();
    let root = dir.path();
    let db = Db::open(&root.join(".twinsync/openspec.db")).unwrap();
    let clock = ManualClock::new(T0);
    let events = CollectingTransport::new();
    let mut s = Syncer::new(root, &db, &clock, config(root, SyncPolicy::FsWins)).unwrap().with_transport(&events);

    // Files -> database.
    let r = s.sync_all(Trigger::Manual).unwrap();
    assert_eq!(r.checked, 3, "{r:?}");
    assert_eq!(r.items.len(), 3);
    assert_eq!(r.failed, 0);
    let login = db.item("demo", Kind::Change, "add-login").unwrap().unwrap();
    assert_eq!(login.title, "Add login");
    assert_eq!((login.tasks_done, login.tasks_total), (1, 3));
    assert_eq!(login.requirements, 1);
    assert_eq!(login.status, Status::InProgress);
    assert_eq!(login.proposal.as_deref(), Some(PROPOSAL));
    assert_eq!(login.design, None);
    assert_eq!(login.path, "changes/add-login");
    assert_eq!(login.last_synced, Some(T0));
    let auth = db.item("demo", Kind::Spec, "auth").unwrap().unwrap();
    assert_eq!((auth.requirements, auth.status), (2, Status::Approved));
    let h = db.history("demo", Some("add-login")).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].direction, h[0].trigger.as_str(), h[0].success), (SyncDirection::FsToDb, "manual", true));
    assert_eq!(h[0].files_changed, vec!["changes/add-login/proposal.md", "changes/add-login/tasks.md"]);
    let kinds: Vec<EventType> = events.take().iter().map(|e| e.event_type).collect();
    assert_eq!(kinds.first(), Some(&EventType::SyncStarted));
    assert_eq!(kinds.last(), Some(&EventType::SyncCompleted));
    assert_eq!(kinds.iter().filter(|k| **k == EventType::SyncCompleted).count(), 4, "3 rows + the run");

    // A second pass finds nothing to do.
    clock.advance(1_000);
    let r = s.sync_all(Trigger::Periodic).unwrap();
    assert!(r.items.is_empty(), "{r:?}");
    assert_eq!(db.item("demo", Kind::Change, "add-login").unwrap().unwrap().last_synced, Some(Timestamp(T0.0 + 1_000)));

    // A delta spec edited on disk refreshes the requirement count.
    let two = format!("{DELTA}\n### Requirement: Logout\nThe system SHALL log users out.\n\n#### Scenario: out\n- **WHEN** asked\n- **THEN** out\n");
    write(root, "changes/add-login/specs/auth/spec.md", &two);
    let r = s.sync_all(Trigger::Periodic).unwrap();
    assert_eq!(r.items.len(), 1, "{r:?}");
    assert_eq!(db.item("demo", Kind::Change, "add-login").unwrap().unwrap().requirements, 2);
    assert!(s.sync_all(Trigger::Periodic).unwrap().items.is_empty());

    // Database edit -> file, at once (user_edit), with the old file backed up.
    let tasks2 = TASKS.replace("- [ ] 1.2", "- [x] 1.2");
    let r = s.edit(Kind::Change, "add-login", "tasks.md", Some(&tasks2)).unwrap();
    assert_eq!(r.items.len(), 1);
    assert_eq!(read(root, "changes/add-login/tasks.md"), tasks2);
    let login = db.item("demo", Kind::Change, "add-login").unwrap().unwrap();
    assert_eq!((login.tasks_done, login.tasks_total), (2, 3));
    let last = db.history("demo", Some("add-login")).unwrap().pop().unwrap();
    assert_eq!((last.direction, last.trigger.as_str()), (SyncDirection::DbToFs, "user_edit"));
    let backups: Vec<_> = walk(&root.join(".twinsync/openspec-backups"));
    assert!(backups.iter().any(|p| p.ends_with("changes/add-login/tasks.md")), "{backups:?}");
    assert!(s.edit(Kind::Change, "add-login", "notes.md", Some("x")).unwrap_err().to_string().contains("notes.md"));
    assert!(s.edit(Kind::Change, "nope", "tasks.md", Some("x")).unwrap_err().to_string().contains("nope"));

    // Both sides edit the same document: fs wins, the database's version is recoverable.
    let db_version = "# Add login\n\nEdited in the web UI.\n";
    let fs_version = "# Add login\n\nEdited in an editor.\n";
    db.edit_document("demo", Kind::Change, "add-login", "proposal.md", Some(db_version), clock.now()).unwrap();
    write(root, "changes/add-login/proposal.md", fs_version);
    let r = s.sync_all(Trigger::Periodic).unwrap();
    assert_eq!(r.conflicts, 1, "{r:?}");
    assert_eq!(read(root, "changes/add-login/proposal.md"), fs_version);
    let login = db.item("demo", Kind::Change, "add-login").unwrap().unwrap();
    assert_eq!(login.proposal.as_deref(), Some(fs_version));
    let versions = db.versions("demo", Kind::Change, "add-login").unwrap();
    let lost = versions.iter().find(|v| v.doc == "proposal.md" && v.side == "db").unwrap();
    assert_eq!(lost.content.as_deref(), Some(db_version));
    assert!(lost.reason.contains("files win"));
    let conflicts = db.conflicts("demo", Kind::Change, "add-login").unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!((conflicts[0].fs_content.as_deref(), conflicts[0].resolution.as_str()), (Some(fs_version), "fs-wins"));
    let conflict_events: Vec<_> =
        events.take().into_iter().filter(|e| e.event_type == EventType::ConflictDetected).collect();
    assert_eq!(conflict_events.len(), 1);
    assert_eq!(conflict_events[0].payload["change_id"], "add-login");
    assert_eq!(conflict_events[0].payload["direction"], "fs->db");

    // Delete on disk -> soft delete: kept, marked, out of the queue.
    fs::remove_dir_all(root.join("openspec/changes/add-search")).unwrap();
    let r = s.sync_all(Trigger::Periodic).unwrap();
    assert_eq!(r.items.len(), 1);
    assert_eq!(r.items[0].outcome, "deleted");
    let search = db.item("demo", Kind::Change, "add-search").unwrap().unwrap();
    assert!(search.deleted);
    assert_eq!(search.tasks.as_deref(), Some("- [ ] index\n- [ ] query\n"));
    let e = s.edit(Kind::Change, "add-search", "tasks.md", Some("- [x] x\n")).unwrap_err();
    assert!(e.to_string().contains("removed from disk"), "{e}");
    let q = |include_deleted| Query { kind: Some(Kind::Change), include_deleted, ..Query::default() };
    assert_eq!(db.query(&q(false)).unwrap().len(), 1);
    assert_eq!(db.query(&q(true)).unwrap().len(), 2);

    // Archive -> a move: same id, new path, status archived, no delete and add.
    fs::create_dir_all(root.join("openspec/changes/archive")).unwrap();
    fs::rename(root.join("openspec/changes/add-login"), root.join("openspec/changes/archive/2025-06-15-add-login"))
        .unwrap();
    let before = db.history("demo", Some("add-login")).unwrap().len();
    let r = s.sync_all(Trigger::Periodic).unwrap();
    assert_eq!(r.items.len(), 1, "{r:?}");
    assert_eq!(r.items[0].outcome, "moved");
    let login = db.item("demo", Kind::Change, "add-login").unwrap().unwrap();
    assert_eq!(login.path, "changes/archive/2025-06-15-add-login");
    assert_eq!(
        (login.status, login.archived_on.as_deref(), login.deleted),
        (Status::Archived, Some("2025-06-15"), false)
    );
    assert_eq!(login.proposal.as_deref(), Some(fs_version));
    let h = db.history("demo", Some("add-login")).unwrap();
    assert_eq!(h.len(), before + 1);
    assert_eq!(h.last().unwrap().outcome, "moved");

    // An edit to the archived change flushes to the archive folder.
    s.edit(Kind::Change, "add-login", "design.md", Some("# Design\n")).unwrap();
    assert_eq!(read(root, "changes/archive/2025-06-15-add-login/design.md"), "# Design\n");

    // The folder reappearing restores the row.
    write(root, "changes/add-search/tasks.md", "- [x] index\n- [x] query\n");
    let r = s.sync_all(Trigger::Periodic).unwrap();
    assert_eq!(r.items.len(), 1);
    let search = db.item("demo", Kind::Change, "add-search").unwrap().unwrap();
    assert!(!search.deleted);
    assert_eq!(search.status, Status::Review);
}

#[test]
fn merge_policy_merges_separate_edits_and_falls_back_to_the_files_on_overlap() {
    let dir = fixture();
    let root = dir.path();
    let db = Db::open_in_memory().unwrap();
    let clock = ManualClock::new(T0);
    let events = CollectingTransport::new();
    let mut s = Syncer::new(root, &db, &clock, config(root, SyncPolicy::Merge)).unwrap().with_transport(&events);
    s.sync_all(Trigger::Manual).unwrap();

    // Separate lines: both edits survive, on both sides.
    let base = TASKS;
    let db_side = base.replace("- [ ] 1.3 Logout", "- [x] 1.3 Logout");
    let fs_side = base.replace("- [x] 1.1 Form", "- [x] 1.1 Login form");
    db.edit_document("demo", Kind::Change, "add-login", "tasks.md", Some(&db_side), clock.now()).unwrap();
    write(root, "changes/add-login/tasks.md", &fs_side);
    let r = s.sync_all(Trigger::Manual).unwrap();
    assert_eq!(r.items[0].outcome, "merged", "{r:?}");
    let merged = "## 1. Build\n- [x] 1.1 Login form\n- [ ] 1.2 Session\n- [x] 1.3 Logout\n";
    assert_eq!(read(root, "changes/add-login/tasks.md"), merged);
    let row = db.item("demo", Kind::Change, "add-login").unwrap().unwrap();
    assert_eq!(row.tasks.as_deref(), Some(merged));
    assert_eq!(row.tasks_done, 2);

    // Same line: the merge conflicts, the files win, the conflict is recorded.
    let db_side = merged.replace("1.2 Session", "1.2 Sessions (db)");
    let fs_side = merged.replace("1.2 Session", "1.2 Sessions (fs)");
    db.edit_document("demo", Kind::Change, "add-login", "tasks.md", Some(&db_side), clock.now()).unwrap();
    write(root, "changes/add-login/tasks.md", &fs_side);
    s.sync_all(Trigger::Manual).unwrap();
    assert_eq!(read(root, "changes/add-login/tasks.md"), fs_side);
    assert_eq!(db.item("demo", Kind::Change, "add-login").unwrap().unwrap().tasks.as_deref(), Some(fs_side.as_str()));
    let c = db.conflicts("demo", Kind::Change, "add-login").unwrap();
    assert_eq!(c.last().unwrap().resolution, "merge fell back to fs");
    assert_eq!(c.last().unwrap().db_content.as_deref(), Some(db_side.as_str()));
    let v = db.versions("demo", Kind::Change, "add-login").unwrap();
    assert_eq!(v.last().unwrap().content.as_deref(), Some(db_side.as_str()));
    assert!(events
        .events()
        .iter()
        .any(|e| e.event_type == EventType::ConflictDetected && e.payload["outcome"] == "merge fell back to fs"));
}

#[test]
fn manual_policy_leaves_both_sides_and_marks_the_row() {
    let dir = fixture();
    let root = dir.path();
    let db = Db::open_in_memory().unwrap();
    let clock = ManualClock::new(T0);
    let mut s = Syncer::new(root, &db, &clock, config(root, SyncPolicy::Manual)).unwrap();
    s.sync_all(Trigger::Manual).unwrap();
    db.edit_document("demo", Kind::Spec, "auth", "spec.md", Some("# db\n"), clock.now()).unwrap();
    write(root, "specs/auth/spec.md", "# fs\n");
    let r = s.sync_all(Trigger::Manual).unwrap();
    assert_eq!(r.items[0].conflicts, vec!["spec.md"]);
    assert_eq!(read(root, "specs/auth/spec.md"), "# fs\n");
    let row = db.item("demo", Kind::Spec, "auth").unwrap().unwrap();
    assert_eq!(row.spec.as_deref(), Some("# db\n"));
    assert!(row.sync_error.as_deref().unwrap().contains("conflict in spec.md"), "{row:?}");
    // Still open at the next pass, recorded and logged once.
    let history = db.history("demo", Some("auth")).unwrap().len();
    assert!(s.sync_all(Trigger::Manual).unwrap().items.is_empty());
    assert_eq!(db.history("demo", Some("auth")).unwrap().len(), history);
    assert_eq!(db.conflicts("demo", Kind::Spec, "auth").unwrap().len(), 1);
    assert!(db.item("demo", Kind::Spec, "auth").unwrap().unwrap().sync_error.is_some());
    // Resolving on disk (making it equal) clears it.
    write(root, "specs/auth/spec.md", "# db\n");
    s.sync_all(Trigger::Manual).unwrap();
    assert_eq!(db.item("demo", Kind::Spec, "auth").unwrap().unwrap().sync_error, None);
}

#[test]
fn work_queue_filters_sorts_and_searches() {
    let dir = fixture();
    let root = dir.path();
    write(root, "changes/add-export/proposal.md", "# Export\n\nCSV download of reports.\n");
    write(root, "changes/add-export/tasks.md", "- [x] a\n- [x] b\n- [x] c\n- [ ] d\n");
    let db = Db::open_in_memory().unwrap();
    let clock = ManualClock::new(T0);
    let mut s = Syncer::new(root, &db, &clock, config(root, SyncPolicy::FsWins)).unwrap();
    s.sync_all(Trigger::Manual).unwrap();
    let ids = |q: Query| db.query(&q).unwrap().into_iter().map(|r| r.id).collect::<Vec<_>>();
    let changes = |sort| Query { kind: Some(Kind::Change), sort, ..Query::default() };
    assert_eq!(ids(changes(QuerySort::Progress)), ["add-search", "add-login", "add-export"]);
    assert_eq!(ids(Query { status: Some(Status::InProgress), ..Query::default() }), ["add-export", "add-login"]);
    assert_eq!(ids(Query { search: Some("csv REPORTS".into()), ..Query::default() }), ["add-export"]);
    assert_eq!(ids(Query { search: Some("hash passwords".into()), ..Query::default() }), ["auth"]);
    // FTS syntax in user text is searched for, not interpreted (no error).
    assert!(ids(Query { search: Some("\"unbalanced AND (".into()), ..Query::default() }).is_empty());
    // Ages follow the files' modification times.
    let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    for f in ["proposal.md", "tasks.md"] {
        fs::File::options()
            .write(true)
            .open(root.join("openspec/changes/add-search").join(f))
            .unwrap()
            .set_modified(t)
            .unwrap();
    }
    s.sync_all(Trigger::Manual).unwrap();
    // No content changed, so the stored times are those of the first pass; a fresh database sees the new one.
    let db2 = Db::open_in_memory().unwrap();
    Syncer::new(root, &db2, &clock, config(root, SyncPolicy::FsWins)).unwrap().sync_all(Trigger::Manual).unwrap();
    let aged: Vec<String> = db2.query(&changes(QuerySort::Age)).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(aged[0], "add-search");
    // A status a person set survives syncs while no task is done.
    db.set_status("demo", Kind::Change, "add-search", Status::Assigned, clock.now()).unwrap();
    write(root, "changes/add-search/proposal.md", "# Add search\n\nMore.\n");
    s.sync_all(Trigger::Manual).unwrap();
    assert_eq!(db.item("demo", Kind::Change, "add-search").unwrap().unwrap().status, Status::Assigned);
}

#[test]
fn edits_by_other_sql_are_noticed_by_content() {
    let dir = fixture();
    let root = dir.path();
    let path = root.join(".twinsync/openspec.db");
    let db = Db::open(&path).unwrap();
    let clock = ManualClock::new(T0);
    let mut s = Syncer::new(root, &db, &clock, config(root, SyncPolicy::FsWins)).unwrap();
    s.sync_all(Trigger::Manual).unwrap();
    // A web UI writing the row directly, not through this crate.
    let other = rusqlite_update(&path, "UPDATE items SET design = '# Design from SQL\n' WHERE id = 'add-login'");
    assert_eq!(other, 1);
    s.sync_all(Trigger::Manual).unwrap();
    assert_eq!(read(root, "changes/add-login/design.md"), "# Design from SQL\n");
}

fn rusqlite_update(path: &Path, sql: &str) -> usize {
    // A second connection, the way another process would write.
    rusqlite::Connection::open(path).unwrap().execute(sql, []).unwrap()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(dir) else { return out };
    for e in rd.flatten() {
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[test]
fn the_corpus_syncs_with_the_parsers_task_counts_and_is_then_idle() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/openspec-corpus/openspec");
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&corpus, &dir.path().join("openspec"));
    let db = Db::open_in_memory().unwrap();
    let clock = ManualClock::new(T0);
    let mut s = Syncer::new(dir.path(), &db, &clock, config(dir.path(), SyncPolicy::FsWins)).unwrap();
    let r = s.sync_all(Trigger::Manual).unwrap();
    assert_eq!(r.failed, 0, "{r:?}");
    let ws = twinsync_openspec::Workspace::load(dir.path()).unwrap();
    let active: Vec<_> = ws.changes.iter().filter(|c| !c.id.starts_with('.') && c.nested.is_empty()).collect();
    assert_eq!(r.checked, active.len() + ws.archived.len() + ws.specs.len());
    for c in active {
        let row = db.item("demo", Kind::Change, &c.id).unwrap().unwrap_or_else(|| panic!("{} missing", c.id));
        let p = c.progress();
        assert_eq!((row.tasks_done, row.tasks_total), (p.completed as i64, p.total as i64), "{}", c.id);
    }
    for sp in &ws.specs {
        let row = db.item("demo", Kind::Spec, &sp.id).unwrap().unwrap();
        let n = sp.parsed.as_ref().map(|p| p.requirements.len() as i64).unwrap_or(0);
        assert_eq!(row.requirements, n, "{}", sp.id);
    }
    let archived = db.query(&Query { status: Some(Status::Archived), ..Query::default() }).unwrap();
    assert_eq!(archived.len(), ws.archived.len());
    assert!(s.sync_all(Trigger::Periodic).unwrap().items.is_empty());
}

#[test]
fn a_change_created_in_the_database_gets_its_folder() {
    let dir = fixture();
    let root = dir.path();
    let db = Db::open_in_memory().unwrap();
    let clock = ManualClock::new(T0);
    let mut s = Syncer::new(root, &db, &clock, config(root, SyncPolicy::FsWins)).unwrap();
    s.sync_all(Trigger::Manual).unwrap();
    let r =
        s.create(Kind::Change, "add-export", &[("proposal.md", "# Export\n"), ("tasks.md", "- [ ] csv\n")]).unwrap();
    assert_eq!(r.items.len(), 1, "{r:?}");
    assert_eq!(r.items[0].directions, vec![SyncDirection::DbToFs]);
    assert_eq!(read(root, "changes/add-export/proposal.md"), "# Export\n");
    assert_eq!(read(root, "changes/add-export/tasks.md"), "- [ ] csv\n");
    let row = db.item("demo", Kind::Change, "add-export").unwrap().unwrap();
    assert_eq!((row.title.as_str(), row.tasks_total, row.deleted), ("Export", 1, false));
    assert!(s.sync_all(Trigger::Periodic).unwrap().items.is_empty());
    // Ids that exist, or cannot be folders, are refused by name.
    assert!(s.create(Kind::Change, "add-login", &[]).unwrap_err().to_string().contains("already exists"));
    assert!(s.create(Kind::Change, "../x", &[]).unwrap_err().to_string().contains("not a valid"));
    assert!(s.create(Kind::Change, "archive", &[]).is_err());
}

#[test]
fn openers_racing_on_a_fresh_database_all_succeed() {
    // A watcher and CLI calls may open the same new file at once; none may fail.
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!(".twinsync/openspec-{round}.db"));
        let openers: Vec<_> = (0..12)
            .map(|_| {
                let p = path.clone();
                std::thread::spawn(move || Db::open(&p).map(|_| ()))
            })
            .collect();
        for o in openers {
            o.join().unwrap().unwrap();
        }
        let rows = rusqlite_update(&path, "UPDATE items SET deltas_digest = NULL");
        assert_eq!(rows, 0, "the table exists, with its upgraded column, and holds no rows");
    }
}
