//! `twinsync demo` runs end to end and tells each step's outcome.

use std::process::Command;

#[test]
fn the_demo_walks_through_sync_conflict_merge_and_undo() {
    let out = Command::new(env!("CARGO_BIN_EXE_twinsync")).arg("demo").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for line in [
        "2. First sync: 4 items were only on the left; 4 copied to the database",
        "status: docs/guide.md is conflict_modify_modify",
        "leaves it for a person: 1 conflict, 0 applied; both sides unchanged: yes",
        "Resolved by policy merge",
        "1 applied, 0 conflicts. Both edits kept, both sides equal: yes",
        "| Cards group related content and media.",
        "| Keep one primary action per card.",
        "6. Undid the merge: 1 restored, 0 refused. The folder has its own edit again (\"and media\"), the database its own (\"primary\").",
        "status: 1 conflict again",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    // The throwaway project is gone unless --keep.
    let dir = text.lines().next().and_then(|l| l.strip_prefix("1. Created a project in ")).unwrap();
    assert!(!std::path::Path::new(dir).exists(), "{dir} was left behind");
}
