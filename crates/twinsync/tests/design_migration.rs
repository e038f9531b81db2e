//! A project made by the release before design pairs ran on the engine opens and
//! migrates: its `.twinsync/design/sync.db` (operations, history, undo stack, base) and
//! `base.json` move into the project's store as the implicit design pair, once.
//!
//! The fixture `tests/fixtures/old_design_layout` was written by that release's own
//! `twinsync design sync|undo` (before this change): three syncs of `components.json`
//! and `design.json` — all three components to design; Badge's new `info` option from
//! design to code; Button's new `ghost` option to design — then an undo of the third.

use std::path::Path;

use twinsync::core::{ManualClock, Timestamp};
use twinsync::design::drift::ComponentStatus;
use twinsync::{Project, IMPLICIT_DESIGN_PAIR};

const FIRST: &str = "34d598e31a18f6c16280ea2a0bc8ce70ef5daee257b1d2ece9b6bf4c0a04e13b";
const BADGE: &str = "bf968713ad96057b07a56e9cc551b3ed8f6c97cadbb53080cb5b394a91e7ee64";
const UNDONE: &str = "f73257f8f692592073495f781a8187f3e0cd13f83485b1b185e7d3214849eaf5";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn old_project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/old_design_layout"), tmp.path());
    tmp
}

fn counts(p: &Project) -> (usize, usize) {
    (p.operations(1000).unwrap().len(), p.history(1000).unwrap().len())
}

#[test]
fn old_design_state_moves_into_the_store_once_and_keeps_its_history() {
    let tmp = old_project();
    let dir = tmp.path();
    let mut p = Project::open(dir).expect("a folder with only old design state opens as a project");

    let ops = p.operations_of(&[IMPLICIT_DESIGN_PAIR.to_string()], 100).unwrap();
    let ids: Vec<&str> = ops.iter().map(|o| o.operation_id.as_str()).collect();
    assert_eq!(ids, [UNDONE, BADGE, FIRST], "every old operation, newest first");
    assert!(ops[0].undone_at.is_some(), "the undone sync stays undone");
    assert!(ops[1].undone_at.is_none());
    // History: 3 + 1 + 1 item rows, and the undo's row.
    let history = p.history(100).unwrap();
    assert_eq!(history.len(), 6, "{history:#?}");
    assert!(history.iter().all(|h| h.scope == IMPLICIT_DESIGN_PAIR));
    // The undo stack came along: Badge's entry still open, the undone one marked.
    let badge = p.store().undo_entries(BADGE).unwrap();
    assert_eq!(badge.len(), 1);
    assert!(badge[0].undone_at.is_none() && badge[0].key.as_str() == "components/badge");
    assert!(p.store().undo_entries(UNDONE).unwrap().iter().all(|u| u.undone_at.is_some()));

    // The base is the old one: Button gained `ghost` in code after it, and the undo of
    // the sync that carried it to design put the old base back.
    let code = [dir.join("components.json")];
    let design = [dir.join("design.json")];
    let report = p.design_drift_against(IMPLICIT_DESIGN_PAIR, &code, &design).unwrap();
    let status = |name: &str| report.components.iter().find(|c| c.component == name).unwrap().status;
    assert_eq!(status("Button"), ComponentStatus::ChangedInCode);
    assert_eq!(status("Badge"), ComponentStatus::InSync);
    assert_eq!(status("Divider"), ComponentStatus::InSync);

    // Old files are kept, renamed; the store remembers the migration.
    let old = dir.join(".twinsync/design");
    for f in ["sync.db", "base.json", &format!("base.before-{BADGE}.json")] {
        assert!(!old.join(f).exists(), "{f} moved");
        assert!(old.join(format!("{f}.migrated")).exists(), "{f}.migrated kept");
    }
    assert!(p.store().kv_get("migrations", "design_state_v1").unwrap().is_some());

    // Opening again migrates nothing twice.
    let before = counts(&p);
    drop(p);
    let p = Project::open(dir).unwrap();
    assert_eq!(counts(&p), before);
}

#[test]
fn a_migration_run_again_over_the_same_files_adds_nothing() {
    let tmp = old_project();
    let dir = tmp.path();
    let p = Project::open(dir).unwrap();
    let before = counts(&p);
    drop(p);
    // As if the first run stopped after copying, before it recorded itself done: the
    // old files are back and the marker is gone. The rerun must find everything there.
    let old = dir.join(".twinsync/design");
    for e in std::fs::read_dir(&old).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if let Some(orig) = name.strip_suffix(".migrated") {
            std::fs::rename(&path, old.join(orig)).unwrap();
        }
    }
    {
        // The marker is still set here, so this open leaves the files alone.
        let mut p = Project::open(dir).unwrap();
        assert!(old.join("sync.db").exists());
        p.store().kv_delete("migrations", "design_state_v1").unwrap();
    }
    let p = Project::open(dir).unwrap();
    assert_eq!(counts(&p), before, "no operation or history row twice");
    assert!(p.store_url().sqlite_path().is_some());
    assert!(old.join("sync.db.migrated").exists());
}

#[test]
fn the_old_undo_stack_still_undoes_through_the_engine() {
    let tmp = old_project();
    let dir = tmp.path();
    let mut p = Project::open(dir).unwrap();
    // Undo windows are measured from when the fixture was made: look from just after.
    let badge = p.operations_of(&[IMPLICIT_DESIGN_PAIR.to_string()], 100).unwrap()[1].clone();
    p.set_clock(Box::new(ManualClock::new(Timestamp(badge.finished_at.0 + 60_000))));
    // The shortcut names the files; they become the implicit pair's files.
    let pair = p.design_pair_for(&[dir.join("components.json")], &[dir.join("design.json")]).unwrap();
    assert_eq!(pair, IMPLICIT_DESIGN_PAIR);
    assert!(std::fs::read_to_string(dir.join("components.json")).unwrap().contains("\"info\""));
    let undo = p.undo_in(Some(&pair), None).unwrap();
    assert_eq!(undo.operation_id, BADGE);
    assert_eq!(undo.restored.len(), 1, "{undo:?}");
    assert!(
        !std::fs::read_to_string(dir.join("components.json")).unwrap().contains("\"info\""),
        "Badge put back in code"
    );
}
