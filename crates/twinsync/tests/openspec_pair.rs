//! The OpenSpec shortcuts over an `openspec` pair, through the engine: files into rows,
//! database edits onto files, the policies (files win with the database's version kept,
//! merge, manual marking the row), soft delete and archive as a move, the work queue,
//! the lifecycle status, undo and history of OpenSpec syncs like any pair's, and the
//! `--db`/`--project` databases kept apart.

use std::fs;
use std::path::Path;

use twinsync::openspec::db::{Kind, Query, QuerySort, Status, SyncDirection};
use twinsync::openspec::sync::{SyncAnswer, SyncPolicy, SyncReport};
use twinsync::{OpenspecSync, Project};

const PROPOSAL: &str = "# Add login\n\n## Why\nUsers need accounts.\n\n## What Changes\n- Add a login form\n";
const TASKS: &str = "## 1. Build\n- [x] 1.1 Form\n- [ ] 1.2 Session\n- [ ] 1.3 Logout\n";
const DELTA: &str = "## ADDED Requirements\n### Requirement: Login\nThe system SHALL log users in.\n\n#### Scenario: ok\n- **WHEN** valid\n- **THEN** in\n";
const SPEC: &str = "# auth Specification\n\n## Purpose\nAuthentication of users.\n\n## Requirements\n### Requirement: Passwords\nThe system SHALL hash passwords.\n\n#### Scenario: stored\n- **WHEN** saved\n- **THEN** hashed\n\n### Requirement: Lockout\nThe system SHALL lock accounts.\n\n#### Scenario: many\n- **WHEN** five failures\n- **THEN** locked\n";

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join("openspec").join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn read(root: &Path, rel: &str) -> Option<String> {
    fs::read_to_string(root.join("openspec").join(rel)).ok()
}

/// A folder named `demo` (the rows' project name) holding an `openspec/` tree.
fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    write(&root, "changes/add-login/proposal.md", PROPOSAL);
    write(&root, "changes/add-login/tasks.md", TASKS);
    write(&root, "changes/add-login/specs/auth/spec.md", DELTA);
    write(&root, "changes/add-search/proposal.md", "# Add search\n\n## Why\nFind things.\n");
    write(&root, "changes/add-search/tasks.md", "- [ ] index\n- [ ] query\n");
    write(&root, "specs/auth/spec.md", SPEC);
    (dir, root)
}

fn sync_with(p: &mut Project, pair: &str, policy: SyncPolicy) -> SyncReport {
    let req = OpenspecSync { policy: Some(policy), ..OpenspecSync::default() };
    match p.openspec_sync(pair, &req).unwrap() {
        SyncAnswer::Synced { report, .. } => report,
        SyncAnswer::Preview { .. } => unreachable!("not a dry run"),
    }
}

fn sync(p: &mut Project, pair: &str) -> SyncReport {
    sync_with(p, pair, SyncPolicy::FsWins)
}

fn row(p: &Project, pair: &str, kind: Kind, id: &str) -> twinsync::openspec::ItemRow {
    let (db, rows) = p.openspec_db(pair).unwrap();
    db.item(&rows, kind, id).unwrap().unwrap_or_else(|| panic!("no row {id}"))
}

#[test]
fn files_to_database_then_edits_both_ways_conflicts_delete_and_archive() {
    let (_dir, root) = fixture();
    let (mut p, pair) = Project::for_openspec(&root, None, None).unwrap();
    assert_eq!(pair, "openspec", "outside a project, the shortcuts use an implicit pair");

    // A preview first, changing nothing.
    let req = OpenspecSync { dry_run: true, ..OpenspecSync::default() };
    let SyncAnswer::Preview { rows, .. } = p.openspec_sync(&pair, &req).unwrap() else { panic!("a preview") };
    let planned: Vec<(&str, &str)> = rows.iter().map(|r| (r.id.as_str(), r.row.as_str())).collect();
    assert_eq!(planned, [("add-login", "create"), ("add-search", "create"), ("auth", "create")]);

    // Files -> database.
    let r = sync(&mut p, &pair);
    assert_eq!((r.checked, r.items.len(), r.failed), (3, 3, 0), "{r:?}");
    assert!(r.items.iter().all(|i| i.outcome == "created" && i.directions == [SyncDirection::FsToDb]), "{r:?}");
    let login = row(&p, &pair, Kind::Change, "add-login");
    assert_eq!(login.title, "Add login");
    assert_eq!((login.tasks_done, login.tasks_total, login.requirements), (1, 3, 1));
    assert_eq!(login.status, Status::InProgress);
    assert_eq!(login.proposal.as_deref(), Some(PROPOSAL));
    assert_eq!((login.design.as_deref(), login.path.as_str()), (None, "changes/add-login"));
    assert!(login.last_synced.is_some());
    let auth = row(&p, &pair, Kind::Spec, "auth");
    assert_eq!((auth.requirements, auth.status), (2, Status::Approved));
    let files = &r.items.iter().find(|i| i.id == "add-login").unwrap().files;
    assert_eq!(
        files,
        &["changes/add-login/proposal.md", "changes/add-login/specs/auth/spec.md", "changes/add-login/tasks.md"]
    );
    assert!(sync(&mut p, &pair).items.is_empty(), "a second pass finds nothing to do");

    // A database edit reaches its file at once (user_edit); the old file is backed up.
    let tasks2 = TASKS.replace("- [ ] 1.2", "- [x] 1.2");
    let r = p.openspec_edit(&pair, Kind::Change, "add-login", "tasks.md", Some(&tasks2), None).unwrap();
    assert_eq!((r.items.len(), r.trigger.as_str()), (1, "user_edit"), "{r:?}");
    assert_eq!(r.items[0].directions, [SyncDirection::DbToFs]);
    assert_eq!(read(&root, "changes/add-login/tasks.md").as_deref(), Some(tasks2.as_str()));
    assert_eq!(row(&p, &pair, Kind::Change, "add-login").tasks_done, 2);
    assert!(walk(&root.join(".twinsync/openspec-backups")).iter().any(|f| f.ends_with("changes/add-login/tasks.md")));
    let e = p.openspec_edit(&pair, Kind::Change, "add-login", "notes.md", Some("x"), None).unwrap_err();
    assert!(e.to_string().contains("notes.md"), "{e}");
    let e = p.openspec_edit(&pair, Kind::Change, "nope", "tasks.md", Some("x"), None).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");

    // Both sides edit the same document: the files win, the database's version is kept.
    let db_version = "# Add login\n\nEdited in the web UI.\n";
    let fs_version = "# Add login\n\nEdited in an editor.\n";
    let (db, rows) = p.openspec_db(&pair).unwrap();
    db.edit_document(&rows, Kind::Change, "add-login", "proposal.md", Some(db_version), p.now()).unwrap();
    write(&root, "changes/add-login/proposal.md", fs_version);
    let r = sync(&mut p, &pair);
    assert_eq!(r.conflicts, 1, "{r:?}");
    assert_eq!(read(&root, "changes/add-login/proposal.md").as_deref(), Some(fs_version));
    assert_eq!(row(&p, &pair, Kind::Change, "add-login").proposal.as_deref(), Some(fs_version));
    let versions = db.versions(&rows, Kind::Change, "add-login").unwrap();
    let lost = versions.iter().rev().find(|v| v.doc == "proposal.md" && v.side == "db").unwrap();
    assert_eq!(lost.content.as_deref(), Some(db_version));
    assert!(lost.reason.contains(&r.operation_id), "{}", lost.reason);

    // Folder removed on disk: the row is soft-deleted, kept whole, out of the queue.
    fs::remove_dir_all(root.join("openspec/changes/add-search")).unwrap();
    let r = sync(&mut p, &pair);
    assert_eq!(r.items.len(), 1, "{r:?}");
    assert_eq!(r.items[0].outcome, "deleted");
    let search = row(&p, &pair, Kind::Change, "add-search");
    assert!(search.deleted);
    assert_eq!(search.tasks.as_deref(), Some("- [ ] index\n- [ ] query\n"));
    let e = p.openspec_edit(&pair, Kind::Change, "add-search", "tasks.md", Some("- [x] x\n"), None).unwrap_err();
    assert!(e.to_string().contains("removed from disk"), "{e}");
    let q = |include_deleted| Query { kind: Some(Kind::Change), include_deleted, ..Query::default() };
    assert_eq!(p.openspec_rows(&pair, &q(false)).unwrap().len(), 1);
    assert_eq!(p.openspec_rows(&pair, &q(true)).unwrap().len(), 2);

    // Archive: a move. Same id, new path, status archived, nothing deleted or added.
    fs::create_dir_all(root.join("openspec/changes/archive")).unwrap();
    fs::rename(root.join("openspec/changes/add-login"), root.join("openspec/changes/archive/2025-06-15-add-login"))
        .unwrap();
    let r = sync(&mut p, &pair);
    assert_eq!(r.items.len(), 1, "{r:?}");
    assert_eq!((r.items[0].id.as_str(), r.items[0].outcome.as_str()), ("add-login", "moved"));
    let login = row(&p, &pair, Kind::Change, "add-login");
    assert_eq!(login.path, "changes/archive/2025-06-15-add-login");
    assert_eq!(
        (login.status, login.archived_on.as_deref(), login.deleted),
        (Status::Archived, Some("2025-06-15"), false)
    );
    assert_eq!(login.proposal.as_deref(), Some(fs_version));

    // An edit of the archived change goes to the archive folder.
    p.openspec_edit(&pair, Kind::Change, "add-login", "design.md", Some("# Design\n"), None).unwrap();
    assert_eq!(read(&root, "changes/archive/2025-06-15-add-login/design.md").as_deref(), Some("# Design\n"));

    // The folder reappearing restores the row.
    write(&root, "changes/add-search/tasks.md", "- [x] index\n- [x] query\n");
    let r = sync(&mut p, &pair);
    assert_eq!(r.items.len(), 1, "{r:?}");
    let search = row(&p, &pair, Kind::Change, "add-search");
    assert!(!search.deleted);
    assert_eq!(search.status, Status::Review);
}

#[test]
fn merge_policy_merges_separate_edits_and_falls_back_to_the_files_on_overlap() {
    let (_dir, root) = fixture();
    let (mut p, pair) = Project::for_openspec(&root, None, None).unwrap();
    sync_with(&mut p, &pair, SyncPolicy::Merge);
    let (db, rows) = p.openspec_db(&pair).unwrap();

    // Separate lines: both edits survive, on both sides.
    let db_side = TASKS.replace("- [ ] 1.3 Logout", "- [x] 1.3 Logout");
    let fs_side = TASKS.replace("- [x] 1.1 Form", "- [x] 1.1 Login form");
    db.edit_document(&rows, Kind::Change, "add-login", "tasks.md", Some(&db_side), p.now()).unwrap();
    write(&root, "changes/add-login/tasks.md", &fs_side);
    let r = sync_with(&mut p, &pair, SyncPolicy::Merge);
    assert_eq!((r.items[0].outcome.as_str(), r.policy.as_str()), ("merged", "merge"), "{r:?}");
    let merged = "## 1. Build\n- [x] 1.1 Login form\n- [ ] 1.2 Session\n- [x] 1.3 Logout\n";
    assert_eq!(read(&root, "changes/add-login/tasks.md").as_deref(), Some(merged));
    let login = row(&p, &pair, Kind::Change, "add-login");
    assert_eq!((login.tasks.as_deref(), login.tasks_done), (Some(merged), 2));

    // Same line: the merge conflicts, the files win, the database's version is kept.
    let db_side = merged.replace("1.2 Session", "1.2 Sessions (db)");
    let fs_side = merged.replace("1.2 Session", "1.2 Sessions (fs)");
    db.edit_document(&rows, Kind::Change, "add-login", "tasks.md", Some(&db_side), p.now()).unwrap();
    write(&root, "changes/add-login/tasks.md", &fs_side);
    let r = sync_with(&mut p, &pair, SyncPolicy::Merge);
    assert_eq!(r.conflicts, 1, "{r:?}");
    assert_eq!(read(&root, "changes/add-login/tasks.md").as_deref(), Some(fs_side.as_str()));
    assert_eq!(row(&p, &pair, Kind::Change, "add-login").tasks.as_deref(), Some(fs_side.as_str()));
    let v = db.versions(&rows, Kind::Change, "add-login").unwrap();
    assert_eq!(v.last().unwrap().content.as_deref(), Some(db_side.as_str()));
}

#[test]
fn manual_policy_leaves_both_sides_and_marks_the_row_until_they_agree() {
    let (_dir, root) = fixture();
    let (mut p, pair) = Project::for_openspec(&root, None, None).unwrap();
    sync_with(&mut p, &pair, SyncPolicy::Manual);
    let (db, rows) = p.openspec_db(&pair).unwrap();
    db.edit_document(&rows, Kind::Spec, "auth", "spec.md", Some("# db\n"), p.now()).unwrap();
    write(&root, "specs/auth/spec.md", "# fs\n");
    let r = sync_with(&mut p, &pair, SyncPolicy::Manual);
    assert_eq!(r.items[0].conflicts, ["spec.md"], "{r:?}");
    assert_eq!(read(&root, "specs/auth/spec.md").as_deref(), Some("# fs\n"));
    let auth = row(&p, &pair, Kind::Spec, "auth");
    assert_eq!(auth.spec.as_deref(), Some("# db\n"));
    assert!(auth.sync_error.as_deref().unwrap().contains("conflict in spec.md"), "{auth:?}");
    let status = p.status_pairs(std::slice::from_ref(&pair)).unwrap();
    assert_eq!(status[0].conflicts, 1, "status shows the open conflict");
    // Still open at the next pass.
    sync_with(&mut p, &pair, SyncPolicy::Manual);
    assert!(row(&p, &pair, Kind::Spec, "auth").sync_error.is_some());
    // Making the two sides equal settles it.
    write(&root, "specs/auth/spec.md", "# db\n");
    sync_with(&mut p, &pair, SyncPolicy::Manual);
    assert_eq!(row(&p, &pair, Kind::Spec, "auth").sync_error, None);
}

#[test]
fn work_queue_filters_sorts_searches_and_keeps_the_status_a_person_set() {
    let (_dir, root) = fixture();
    write(&root, "changes/add-export/proposal.md", "# Export\n\nCSV download of reports.\n");
    write(&root, "changes/add-export/tasks.md", "- [x] a\n- [x] b\n- [x] c\n- [ ] d\n");
    let (mut p, pair) = Project::for_openspec(&root, None, None).unwrap();
    sync(&mut p, &pair);
    let ids = |p: &Project, q: Query| p.openspec_rows(&pair, &q).unwrap().into_iter().map(|r| r.id).collect::<Vec<_>>();
    let changes = |sort| Query { kind: Some(Kind::Change), sort, ..Query::default() };
    assert_eq!(ids(&p, changes(QuerySort::Progress)), ["add-search", "add-login", "add-export"]);
    assert_eq!(ids(&p, Query { status: Some(Status::InProgress), ..Query::default() }), ["add-export", "add-login"]);
    assert_eq!(ids(&p, Query { search: Some("csv REPORTS".into()), ..Query::default() }), ["add-export"]);
    assert_eq!(ids(&p, Query { search: Some("hash passwords".into()), ..Query::default() }), ["auth"]);
    // FTS syntax in user text is searched for, not interpreted (no error).
    assert!(ids(&p, Query { search: Some("\"unbalanced AND (".into()), ..Query::default() }).is_empty());

    // A status a person set survives syncs while no task is done.
    let set = p.openspec_set_status(&pair, Kind::Change, "add-search", Status::Assigned).unwrap();
    assert_eq!(set.status, Status::Assigned);
    write(&root, "changes/add-search/proposal.md", "# Add search\n\nMore.\n");
    sync(&mut p, &pair);
    assert_eq!(row(&p, &pair, Kind::Change, "add-search").status, Status::Assigned);
    let e = p.openspec_set_status(&pair, Kind::Change, "nope", Status::Approved).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
}

#[test]
fn edits_by_other_sql_are_noticed_by_content() {
    let (_dir, root) = fixture();
    let (mut p, pair) = Project::for_openspec(&root, None, None).unwrap();
    sync(&mut p, &pair);
    // A web UI writing the row directly, not through twinsync.
    let conn = rusqlite::Connection::open(root.join(".twinsync/openspec.db")).unwrap();
    let n = conn.execute("UPDATE items SET design = '# Design from SQL\n' WHERE id = 'add-login'", []).unwrap();
    assert_eq!(n, 1);
    let r = sync(&mut p, &pair);
    assert_eq!(r.items[0].outcome, "written", "{r:?}");
    assert_eq!(read(&root, "changes/add-login/design.md").as_deref(), Some("# Design from SQL\n"));
}

#[test]
fn an_openspec_sync_is_in_history_and_undone_like_any_pair() {
    let (_dir, root) = fixture();
    let (mut p, pair) = Project::for_openspec(&root, None, None).unwrap();
    sync(&mut p, &pair);
    let (db, rows) = p.openspec_db(&pair).unwrap();
    let web = "# Add login\n\nFrom the web.\n";
    db.edit_document(&rows, Kind::Change, "add-login", "proposal.md", Some(web), p.now()).unwrap();
    write(&root, "changes/add-search/tasks.md", "- [x] index\n- [ ] query\n");
    let r = sync(&mut p, &pair);
    assert_eq!(r.items.len(), 2, "{r:?}");
    let ops = p.operations_of(std::slice::from_ref(&pair), 10).unwrap();
    assert_eq!(ops.len(), 2, "both syncs are the pair's operations");
    assert_eq!(ops[0].operation_id, r.operation_id);

    let u = p.undo_in(Some(&pair), Some(&r.operation_id)).unwrap();
    assert!(u.refused.is_empty(), "{u:?}");
    assert_eq!(read(&root, "changes/add-login/proposal.md").as_deref(), Some(PROPOSAL), "the file is as before");
    assert_eq!(
        row(&p, &pair, Kind::Change, "add-search").tasks.as_deref(),
        Some("- [ ] index\n- [ ] query\n"),
        "the row is as before"
    );
}

#[test]
fn another_database_or_row_project_is_another_pair_with_its_own_state() {
    let (_dir, root) = fixture();
    let other_db = root.join("other.db");
    let (mut p, pair) = Project::for_openspec(&root, Some(&other_db), Some("team")).unwrap();
    assert!(pair.starts_with("openspec-"), "{pair}");
    let r = sync(&mut p, &pair);
    assert_eq!(r.items.len(), 3, "{r:?}");
    let db = twinsync::openspec::Db::open(&other_db).unwrap();
    assert!(db.item("team", Kind::Change, "add-login").unwrap().is_some());
    assert!(!root.join(".twinsync/openspec.db").exists(), "the default database is untouched");
    // The default database's pair has its own base: its first sync creates every row.
    let (mut p, pair) = Project::for_openspec(&root, None, None).unwrap();
    assert_eq!(sync(&mut p, &pair).items.len(), 3);
}

#[test]
fn the_corpus_syncs_with_the_parsers_task_counts_and_is_then_idle() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/openspec-corpus/openspec");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    copy_tree(&corpus, &root.join("openspec"));
    let (mut p, pair) = Project::for_openspec(&root, None, None).unwrap();
    let r = sync(&mut p, &pair);
    assert_eq!(r.failed, 0, "{r:?}");
    let ws = twinsync::openspec::Workspace::load(&root).unwrap();
    let active: Vec<_> = ws.changes.iter().filter(|c| !c.id.starts_with('.') && c.nested.is_empty()).collect();
    let (db, rows) = p.openspec_db(&pair).unwrap();
    for c in &active {
        let row = db.item(&rows, Kind::Change, &c.id).unwrap().unwrap_or_else(|| panic!("{} missing", c.id));
        let pr = c.progress();
        assert_eq!((row.tasks_done, row.tasks_total), (pr.completed as i64, pr.total as i64), "{}", c.id);
    }
    for sp in &ws.specs {
        let row = db.item(&rows, Kind::Spec, &sp.id).unwrap().unwrap();
        let n = sp.parsed.as_ref().map(|p| p.requirements.len() as i64).unwrap_or(0);
        assert_eq!(row.requirements, n, "{}", sp.id);
    }
    let archived = db.query(&Query { status: Some(Status::Archived), ..Query::default() }).unwrap();
    assert_eq!(archived.len(), ws.archived.len());
    assert!(!archived.is_empty());

    // An idle periodic pass touches no row and records no operation.
    let all = |db: &twinsync::openspec::Db| db.query(&Query { include_deleted: true, ..Query::default() }).unwrap();
    let before = all(&db);
    let ops = p.operations_of(std::slice::from_ref(&pair), 100).unwrap().len();
    let req = OpenspecSync { trigger: twinsync::core::Trigger::Periodic, ..OpenspecSync::default() };
    let SyncAnswer::Synced { report, .. } = p.openspec_sync(&pair, &req).unwrap() else { panic!("a sync") };
    assert!(report.items.is_empty(), "{report:?}");
    assert_eq!(all(&db), before, "no row was touched");
    assert_eq!(p.operations_of(std::slice::from_ref(&pair), 100).unwrap().len(), ops, "no operation was recorded");
}

#[test]
fn watch_syncs_file_edits_and_archives_at_once_and_database_edits_in_the_periodic_pass() {
    use std::time::{Duration, Instant};
    let wait_until = |what: &str, mut f: Box<dyn FnMut() -> bool + '_>| {
        let started = Instant::now();
        while !f() {
            assert!(started.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let (_dir, root) = fixture();
    let (p, pair) = Project::for_openspec(&root, None, None).unwrap();
    let (db, rows) = p.openspec_db(&pair).unwrap();
    let opts = twinsync::WatchOptions {
        pairs: vec![pair.clone()],
        debounce: Duration::from_millis(50),
        period: Duration::from_secs(1),
        ..Default::default()
    };
    let watch = p.watch(opts, Box::new(|_| {})).unwrap();
    let item = |id: &str| db.item(&rows, Kind::Change, id).unwrap();
    wait_until("the first pass", Box::new(|| item("add-login").is_some()));

    write(&root, "changes/add-login/tasks.md", &TASKS.replace("- [ ]", "- [x]"));
    wait_until("the file edit", Box::new(|| item("add-login").unwrap().tasks_done == 3));

    fs::create_dir_all(root.join("openspec/changes/archive")).unwrap();
    fs::rename(root.join("openspec/changes/add-search"), root.join("openspec/changes/archive/2025-06-15-add-search"))
        .unwrap();
    wait_until("the archive", Box::new(|| item("add-search").unwrap().path == "changes/archive/2025-06-15-add-search"));
    assert!(!item("add-search").unwrap().deleted, "a move, not a delete");

    db.edit_document(&rows, Kind::Change, "add-login", "design.md", Some("# Design\n"), twinsync::core::Timestamp(0))
        .unwrap();
    wait_until("the database edit", Box::new(|| read(&root, "changes/add-login/design.md").is_some()));
    let summary = watch.stop().unwrap();
    assert!(summary.applied >= 3, "{summary:?}");
    assert_eq!(summary.failed, 0, "{summary:?}");
}

#[test]
fn a_database_made_by_the_release_before_the_engine_migrates_once_and_keeps_its_history() {
    // Written by the previous release's `twinsync openspec sync` and `openspec edit`.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/old_openspec_layout");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("old_openspec_layout");
    copy_tree(&fixture, &root);
    // A web UI edit the old release never synced: the migrated base says the file did not
    // change since, so it must reach the file, with no conflict.
    let web = "# Add search\n\n## Why\nFind things fast.\n";
    let conn = rusqlite::Connection::open(root.join(".twinsync/openspec.db")).unwrap();
    conn.execute("UPDATE items SET proposal = ?1 WHERE id = 'add-search'", [web]).unwrap();
    drop(conn);

    let (mut p, pair) = Project::for_openspec(&root, None, None).unwrap();
    let old: Vec<String> =
        p.operations_of(std::slice::from_ref(&pair), 50).unwrap().into_iter().map(|o| o.operation_id).collect();
    assert_eq!(old.len(), 4, "the four old history rows are operations now: {old:?}");
    assert!(old.iter().all(|id| id.starts_with("openspec-legacy-")), "{old:?}");
    let edit = p
        .operations_of(std::slice::from_ref(&pair), 50)
        .unwrap()
        .into_iter()
        .find(|o| o.trigger.as_str() == "user_edit");
    let edit = edit.expect("the old edit keeps its trigger");
    assert_eq!(edit.items[0].key.as_str(), "changes/add-login/tasks.md");
    assert_eq!(edit.reversible_until, None, "an old operation cannot be undone");

    let r = sync(&mut p, &pair);
    assert_eq!((r.conflicts, r.failed), (0, 0), "{r:?}");
    assert_eq!(read(&root, "changes/add-search/proposal.md").as_deref(), Some(web));
    let ids: Vec<(&str, &str)> = r.items.iter().map(|i| (i.id.as_str(), i.outcome.as_str())).collect();
    // The delta spec was never in the old database: it comes in now.
    assert_eq!(ids, [("add-login", "updated"), ("add-search", "written")], "{r:?}");
    assert!(sync(&mut p, &pair).items.is_empty());
    let before = p.operations_of(std::slice::from_ref(&pair), 50).unwrap().len();
    assert_eq!(before, 5, "the old four and the first sync");

    // Opened again, nothing is migrated twice.
    let (p, pair) = Project::for_openspec(&root, None, None).unwrap();
    assert_eq!(p.operations_of(&[pair], 50).unwrap().len(), before);
}

#[test]
fn inside_a_project_the_shortcuts_pair_lives_in_the_projects_store() {
    let (dir, sub) = fixture();
    let root = dir.path();
    for side in ["a", "b"] {
        fs::create_dir_all(root.join(side)).unwrap();
    }
    Project::init(root, "a", "b").unwrap();
    let (mut p, pair) = Project::for_openspec(&sub, None, None).unwrap();
    assert_eq!(p.dir(), root.canonicalize().unwrap(), "the project above the openspec folder");
    assert_eq!(p.pair(&pair).unwrap().left, "demo");
    sync(&mut p, &pair);
    assert!(sub.join(".twinsync/openspec.db").is_file());
    // The subfolder, now with its own `.twinsync/`, still belongs to the project above.
    assert_eq!(Project::find(&sub).unwrap(), root.canonicalize().unwrap());
    let reopened = Project::open(&sub).unwrap();
    assert!(reopened.operations(10).unwrap().iter().any(|o| o.scope == pair), "its history is the project's");
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
