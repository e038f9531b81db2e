//! The directory sync from the command line, as a user drives it.

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync")).args(args).current_dir(dir).output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for side in ["left", "right"] {
        std::fs::create_dir(tmp.path().join(side)).unwrap();
    }
    assert!(run(tmp.path(), &["init", "left", "right"]).status.success());
    tmp
}

#[test]
fn status_json_lists_drifted_items_with_snake_case_classes_and_counts() {
    let tmp = project();
    let root = tmp.path();
    std::fs::write(root.join("left/a.md"), "a\n").unwrap();
    std::fs::write(root.join("right/b.json"), "{\"x\": 1}").unwrap();
    let out = run(root, &["status", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(
        v["items"],
        serde_json::json!([
            {"pair": "default", "key": "a.md", "class": "added_left"},
            {"pair": "default", "key": "b.json", "class": "added_right"}
        ])
    );
    assert_eq!(v["counts"], serde_json::json!({"added_left": 1, "added_right": 1}));
}

#[test]
fn commands_find_the_project_from_a_subdirectory() {
    let tmp = project();
    let sub = tmp.path().join("left/deep/er");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("x.md"), "x\n").unwrap();
    let v = json(&run(&sub, &["status", "--json"]));
    assert_eq!(v["items"][0]["key"], "deep/er/x.md");
}

#[test]
fn conflicts_exit_1_and_are_left_alone_until_a_policy_resolves_them() {
    let tmp = project();
    let root = tmp.path();
    std::fs::write(root.join("left/a.md"), "base\n").unwrap();
    assert!(run(root, &["sync"]).status.success());
    std::fs::write(root.join("left/a.md"), "left\n").unwrap();
    std::fs::write(root.join("right/a.md"), "right\n").unwrap();
    assert_eq!(run(root, &["status"]).status.code(), Some(1));
    let out = run(root, &["sync", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out)["pairs"][0]["report"].clone();
    assert_eq!(report["scope"], "default");
    assert_eq!(report["conflicts"][0]["left"]["data"], "left\n");
    assert_eq!(report["conflicts"][0]["right"]["data"], "right\n");
    assert_eq!(std::fs::read_to_string(root.join("right/a.md")).unwrap(), "right\n");

    let dry = run(root, &["sync", "--dry-run", "--policy", "prefer-left"]);
    assert_eq!(dry.status.code(), Some(0));
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(text.contains("-right") && text.contains("+left"), "{text}");
    assert_eq!(std::fs::read_to_string(root.join("right/a.md")).unwrap(), "right\n", "a dry run changes nothing");

    let out = run(root, &["sync", "--policy", "prefer-left", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let op = json(&out)["pairs"][0]["report"]["operation_id"].as_str().unwrap().to_string();
    assert_eq!(std::fs::read_to_string(root.join("right/a.md")).unwrap(), "left\n");
    // The losing version is kept as a backup and comes back with undo.
    assert_eq!(std::fs::read_to_string(root.join(".twinsync/backups").join(&op).join("a.md")).unwrap(), "right\n");
    let out = run(root, &["undo", &op[..8], "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(root.join("right/a.md")).unwrap(), "right\n");
    let h = json(&run(root, &["history", "--json"]));
    assert!(h["operations"][0]["undone_at"].is_string(), "{h}");
    assert_eq!(h["operations"][0]["pair"], "default", "history names each operation's pair");
}

#[test]
fn outside_a_project_and_with_bad_arguments_errors_are_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("twinsync init"));
    let out = run(tmp.path(), &["init", "nope", "right"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"), "the missing folder is named");
    assert!(!tmp.path().join(".twinsync").exists(), "nothing half-made");
    let tmp = project();
    let out = run(tmp.path(), &["sync", "--policy", "yolo"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("prefer-left"));
}

#[test]
fn a_corrupt_state_db_is_a_clear_error_and_is_left_untouched() {
    let tmp = project();
    let db = tmp.path().join(".twinsync/state.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&db, &garbage).unwrap();
    std::fs::write(tmp.path().join("left/a.md"), "a\n").unwrap();
    let out = run(tmp.path(), &["sync", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = json(&out);
    assert_eq!(err["error"]["code"], "IO");
    assert!(err["error"]["message"].as_str().unwrap().contains("state.db"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), garbage);
    assert!(!tmp.path().join("right/a.md").exists());
}

#[test]
fn a_missing_root_halts_instead_of_deleting_everything() {
    let tmp = project();
    let root = tmp.path();
    for i in 0..30 {
        std::fs::write(root.join(format!("left/f{i}.md")), "x\n").unwrap();
    }
    assert!(run(root, &["sync"]).status.success());
    std::fs::rename(root.join("left"), root.join("left-moved")).unwrap();
    let out = run(root, &["sync"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("left"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_dir(root.join("right")).unwrap().count(), 30);
    // An emptied (but present) root is stopped too, unless the user insists.
    std::fs::create_dir(root.join("left")).unwrap();
    let out = run(root, &["sync"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-mass-delete"));
    assert_eq!(std::fs::read_dir(root.join("right")).unwrap().count(), 30);
    assert_eq!(run(root, &["sync", "--allow-mass-delete"]).status.code(), Some(0));
    assert_eq!(std::fs::read_dir(root.join("right")).unwrap().count(), 0);
}
