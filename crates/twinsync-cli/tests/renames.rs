//! Renames between two real folders: a file moved on one side is renamed on the other
//! (the same inode: nothing copied), `status`, `sync`, `history` and `undo` say
//! `moved a -> b`, and undo renames it back.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

fn twinsync(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_twinsync")).args(args).current_dir(dir).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.code() == Some(0) || args[0] == "status", "twinsync {args:?}: {text}");
    (out.status.code().unwrap_or(-1), text)
}

fn inode(p: &Path) -> u64 {
    fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).ino()
}

#[test]
fn a_moved_file_is_renamed_on_the_other_side_and_undo_renames_it_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, left, right) = (tmp.path(), tmp.path().join("left"), tmp.path().join("right"));
    fs::create_dir_all(left.join("docs")).unwrap();
    fs::create_dir_all(&right).unwrap();
    fs::write(left.join("docs/guide.md"), "# Guide\n").unwrap();
    // Binary, and big enough to be streamed as a large item (the rename never reads it).
    fs::write(left.join("logo.bin"), vec![7u8; 9 << 20]).unwrap();
    twinsync(dir, &["init", "left", "right"]);
    twinsync(dir, &["sync"]);
    let (guide, logo) = (inode(&right.join("docs/guide.md")), inode(&right.join("logo.bin")));

    fs::create_dir_all(left.join("manual")).unwrap();
    fs::rename(left.join("docs/guide.md"), left.join("manual/intro.md")).unwrap();
    fs::rename(left.join("logo.bin"), left.join("brand.bin")).unwrap();
    let (_, status) = twinsync(dir, &["status"]);
    assert!(status.contains("moved_left               docs/guide.md -> manual/intro.md"), "{status}");
    assert!(status.contains("logo.bin -> brand.bin"), "{status}");
    assert!(!status.contains("deleted_left"), "a move shows once, not as a delete and an add: {status}");
    let (_, json) = twinsync(dir, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["pairs"][0]["moves"][0]["from"], "docs/guide.md", "{v}");
    assert_eq!(v["pairs"][0]["moves"][0]["to"], "manual/intro.md");
    assert_eq!(v["pairs"][0]["moves"][0]["side"], "left");

    let (_, sync) = twinsync(dir, &["sync"]);
    assert!(sync.contains("(moved docs/guide.md -> manual/intro.md on the left)"), "{sync}");
    assert_eq!(inode(&right.join("manual/intro.md")), guide, "renamed, not copied");
    assert_eq!(inode(&right.join("brand.bin")), logo);
    assert!(!right.join("docs").exists(), "the emptied folder goes, as on the left");
    assert!(!right.join("logo.bin").exists());
    let (_, history) = twinsync(dir, &["history"]);
    assert!(history.contains("    moved docs/guide.md -> manual/intro.md on the left"), "{history}");
    let (_, json) = twinsync(dir, &["history", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["operations"][0]["moves"].as_array().map(Vec::len), Some(2), "{v}");

    let (_, undo) = twinsync(dir, &["undo"]);
    assert!(undo.contains("moved back  manual/intro.md -> docs/guide.md on the right"), "{undo}");
    assert!(undo.contains("4 restored, 0 refused"), "{undo}");
    assert_eq!(inode(&right.join("docs/guide.md")), guide, "renamed back");
    assert_eq!(inode(&right.join("logo.bin")), logo);
    assert!(!right.join("manual").exists() && !right.join("brand.bin").exists());
    assert_eq!(fs::read(right.join("logo.bin")).unwrap().len(), 9 << 20);
}
