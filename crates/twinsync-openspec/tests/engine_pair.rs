//! An `openspec/` folder and the OpenSpec database synced by twinsync-core's engine,
//! as an `openspec` pair is: files into rows with their derived fields, a database edit
//! onto the files, both sides edited (the files win, the database's version is kept),
//! archive as a move, soft delete and restore, and undo of each through the engine.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use twinsync_core::{
    Clock, Engine, EngineConfig, ManualClock, OperationReport, Policy, Side, Store, SyncOptions, Timestamp,
};
use twinsync_openspec::db::{Kind, Status};
use twinsync_openspec::{Db, OpenSpecDb, OpenSpecFiles};
use twinsync_sqlite::SqliteStore;

const PROPOSAL: &str = "# Add login\n\n## Why\nUsers need accounts.\n\n## What Changes\n- Add a login form\n";
const TASKS: &str = "## 1. Build\n- [x] 1.1 Form\n- [ ] 1.2 Session\n- [ ] 1.3 Logout\n";
const DELTA: &str = "## ADDED Requirements\n### Requirement: Login\nThe system SHALL log users in.\n\n#### Scenario: ok\n- **WHEN** valid\n- **THEN** in\n";
const SPEC: &str = "# auth Specification\n\n## Purpose\nAuthentication.\n\n## Requirements\n### Requirement: Passwords\nThe system SHALL hash passwords.\n\n#### Scenario: stored\n- **WHEN** saved\n- **THEN** hashed\n";

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join("openspec").join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn read(root: &Path, rel: &str) -> Option<String> {
    fs::read_to_string(root.join("openspec").join(rel)).ok()
}

struct Pair {
    dir: tempfile::TempDir,
    store: SqliteStore,
    files: OpenSpecFiles,
    db: OpenSpecDb,
    clock: Arc<ManualClock>,
}

impl Pair {
    fn new() -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "changes/add-login/proposal.md", PROPOSAL);
        write(root, "changes/add-login/tasks.md", TASKS);
        write(root, "changes/add-login/specs/auth/spec.md", DELTA);
        write(root, "changes/add-search/tasks.md", "- [ ] index\n- [ ] query\n");
        write(root, "specs/auth/spec.md", SPEC);
        write(root, "project.md", "# Project\n");
        let clock = Arc::new(ManualClock::new(Timestamp(1_750_000_000_000)));
        fs::create_dir_all(root.join(".twinsync")).unwrap();
        let store = SqliteStore::open(&root.join(".twinsync/state.db")).unwrap();
        let files = OpenSpecFiles::open(&root.join("openspec"), Some(root.join(".twinsync/openspec-backups"))).unwrap();
        let db = OpenSpecDb::new(Db::open(&root.join(".twinsync/openspec.db")).unwrap(), "demo", clock.clone());
        Pair { dir, store, files, db, clock }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn sync(&mut self) -> OperationReport {
        self.clock.advance(60_000);
        let config = EngineConfig { scope: "specs".into(), ..EngineConfig::default() };
        let opts = SyncOptions { policy: Policy::prefer(Side::Left), ..SyncOptions::default() };
        let clock = self.clock.clone();
        let mut engine = Engine::new(&mut self.store as &mut dyn Store, &*clock, config);
        engine.sync(&mut self.files, &mut self.db, &opts).unwrap()
    }

    fn undo(&mut self, op: &str) -> twinsync_core::UndoReport {
        self.clock.advance(1_000);
        let config = EngineConfig { scope: "specs".into(), ..EngineConfig::default() };
        let clock = self.clock.clone();
        let mut engine = Engine::new(&mut self.store as &mut dyn Store, &*clock, config);
        engine.undo(&mut self.files, &mut self.db, Some(op)).unwrap()
    }

    fn row(&self, kind: Kind, id: &str) -> twinsync_openspec::ItemRow {
        self.db.db().item("demo", kind, id).unwrap().unwrap_or_else(|| panic!("no row {id}"))
    }
}

#[test]
fn files_into_rows_with_derived_fields_and_database_edits_back() {
    let mut p = Pair::new();
    let r = p.sync();
    assert_eq!((r.counts.failed, r.counts.conflicts), (0, 0), "{r:?}");
    let login = p.row(Kind::Change, "add-login");
    assert_eq!(login.title, "Add login");
    assert_eq!((login.tasks_done, login.tasks_total, login.requirements), (1, 3, 1));
    assert_eq!(login.status, Status::InProgress);
    assert_eq!(login.path, "changes/add-login");
    assert_eq!(login.proposal.as_deref(), Some(PROPOSAL));
    let auth = p.row(Kind::Spec, "auth");
    assert_eq!((auth.requirements, auth.status), (1, Status::Approved));
    // Nothing but documents became items: project.md has no row.
    assert!(r.items.iter().all(|i| !i.key.as_str().contains("project.md")), "{:?}", r.items);
    assert_eq!(p.sync().counts.applied, 0, "a second sync finds nothing to do");

    // A database edit reaches the file; the replaced database text is a version.
    let done = TASKS.replace("- [ ] 1.2", "- [x] 1.2");
    p.db.db().edit_document("demo", Kind::Change, "add-login", "tasks.md", Some(&done), p.clock.now()).unwrap();
    let r = p.sync();
    assert_eq!(r.counts.applied, 1, "{r:?}");
    assert_eq!(read(p.root(), "changes/add-login/tasks.md").as_deref(), Some(done.as_str()));
    assert_eq!(p.row(Kind::Change, "add-login").tasks_done, 2);

    // A delta spec edited on disk refreshes the requirement count.
    let two = format!("{DELTA}\n### Requirement: Logout\nThe system SHALL log users out.\n\n#### Scenario: out\n- **WHEN** asked\n- **THEN** out\n");
    write(p.root(), "changes/add-login/specs/auth/spec.md", &two);
    p.sync();
    assert_eq!(p.row(Kind::Change, "add-login").requirements, 2);
}

#[test]
fn both_sides_edited_the_files_win_the_database_version_is_kept_and_undo_restores_both() {
    let mut p = Pair::new();
    p.sync();
    let db_version = "# Add login\n\nEdited in the web UI.\n";
    let fs_version = "# Add login\n\nEdited in an editor.\n";
    p.db.db().edit_document("demo", Kind::Change, "add-login", "proposal.md", Some(db_version), p.clock.now()).unwrap();
    write(p.root(), "changes/add-login/proposal.md", fs_version);
    let r = p.sync();
    assert_eq!(r.items.len(), 1, "{r:?}");
    assert!(r.items[0].class.is_conflict(), "{r:?}");
    assert_eq!(read(p.root(), "changes/add-login/proposal.md").as_deref(), Some(fs_version));
    assert_eq!(p.row(Kind::Change, "add-login").proposal.as_deref(), Some(fs_version));
    let versions = p.db.db().versions("demo", Kind::Change, "add-login").unwrap();
    let kept = versions.iter().find(|v| v.doc == "proposal.md").expect("the database's version is kept");
    assert_eq!(kept.content.as_deref(), Some(db_version));
    assert!(kept.reason.contains(&r.operation_id), "{}", kept.reason);

    // Undo puts the database's version back where the sync replaced it.
    let u = p.undo(&r.operation_id);
    assert!(u.refused.is_empty(), "{u:?}");
    assert_eq!(p.row(Kind::Change, "add-login").proposal.as_deref(), Some(db_version));
    assert_eq!(read(p.root(), "changes/add-login/proposal.md").as_deref(), Some(fs_version));
}

#[test]
fn archive_is_a_move_and_a_gone_folder_is_a_soft_delete_that_comes_back() {
    let mut p = Pair::new();
    p.sync();
    let root = p.root().to_path_buf();
    fs::create_dir_all(root.join("openspec/changes/archive")).unwrap();
    fs::rename(root.join("openspec/changes/add-login"), root.join("openspec/changes/archive/2025-06-15-add-login"))
        .unwrap();
    let r = p.sync();
    let keys: Vec<&str> =
        r.items.iter().filter(|i| i.action != twinsync_core::ActionKind::Skip).map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["changes/add-login/.location"], "one item moves, nothing is deleted or added");
    let login = p.row(Kind::Change, "add-login");
    assert_eq!(login.path, "changes/archive/2025-06-15-add-login");
    assert_eq!(
        (login.status, login.archived_on.as_deref(), login.deleted),
        (Status::Archived, Some("2025-06-15"), false)
    );
    assert_eq!(login.proposal.as_deref(), Some(PROPOSAL));

    // A database edit of the archived change goes to its archive folder.
    p.db.db().edit_document("demo", Kind::Change, "add-login", "design.md", Some("# Design\n"), p.clock.now()).unwrap();
    p.sync();
    assert_eq!(read(&root, "changes/archive/2025-06-15-add-login/design.md").as_deref(), Some("# Design\n"));

    // The folder removed: the row is soft-deleted, whole.
    fs::remove_dir_all(root.join("openspec/changes/add-search")).unwrap();
    let r = p.sync();
    assert_eq!(r.counts.failed, 0, "{r:?}");
    let search = p.row(Kind::Change, "add-search");
    assert!(search.deleted, "{search:?} {r:?}");
    assert_eq!(search.tasks.as_deref(), Some("- [ ] index\n- [ ] query\n"), "{r:?}");
    assert_eq!(p.sync().counts.applied, 0, "a soft-deleted row stays out of the sync");

    // Undo of that sync brings the row back in the database, whole.
    let u = p.undo(&r.operation_id);
    assert!(u.refused.is_empty(), "{u:?}");
    let search = p.row(Kind::Change, "add-search");
    assert!(!search.deleted);
    assert_eq!(search.tasks.as_deref(), Some("- [ ] index\n- [ ] query\n"));

    // The folder is still gone, so the next sync soft-deletes the row again; then the
    // folder reappears with new content, and the row comes back with it.
    p.sync();
    assert!(p.row(Kind::Change, "add-search").deleted);
    write(&root, "changes/add-search/tasks.md", "- [x] index\n- [x] query\n");
    let r = p.sync();
    assert_eq!(r.counts.failed, 0, "{r:?}");
    let search = p.row(Kind::Change, "add-search");
    assert!(!search.deleted);
    assert_eq!(search.status, Status::Review);
    assert_eq!(search.tasks.as_deref(), Some("- [x] index\n- [x] query\n"));
}

#[test]
fn a_change_created_in_the_database_gets_its_folder_and_a_bad_location_fails_alone() {
    let mut p = Pair::new();
    p.sync();
    let db = p.db.db();
    db.create_row("demo", Kind::Change, "add-export", "changes/add-export", p.clock.now()).unwrap();
    db.edit_document("demo", Kind::Change, "add-export", "proposal.md", Some("# Add export\n"), p.clock.now()).unwrap();
    let r = p.sync();
    assert_eq!(r.counts.failed, 0, "{r:?}");
    assert_eq!(read(p.root(), "changes/add-export/proposal.md").as_deref(), Some("# Add export\n"));
    assert_eq!(p.row(Kind::Change, "add-export").title, "Add export");

    // A row moved by SQL to a folder that is not its own: that item fails, naming
    // itself; the rest syncs.
    let conn = rusqlite_update(&p.root().join(".twinsync/openspec.db"));
    conn.execute("UPDATE items SET path = 'changes/elsewhere' WHERE id = 'add-export'", []).unwrap();
    write(p.root(), "specs/auth/spec.md", &SPEC.replace("hash passwords", "salt and hash passwords"));
    let r = p.sync();
    assert_eq!(r.counts.failed, 1, "{r:?}");
    let failed: Vec<_> = r.items.iter().filter(|i| i.error.is_some()).collect();
    assert_eq!(failed.len(), 1, "{r:?}");
    assert_eq!(failed[0].key.as_str(), "changes/add-export/.location");
    let error = failed[0].error.as_deref().unwrap();
    assert!(error.contains("changes/elsewhere"), "{error}");
    assert!(p.row(Kind::Spec, "auth").spec.unwrap().contains("salt and hash"));
    assert!(p.root().join("openspec/changes/add-export/proposal.md").is_file(), "the folder stays");
}

fn rusqlite_update(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}
