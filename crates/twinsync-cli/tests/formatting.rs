//! Formatting-only items between two real folders, in canonical mode: a CRLF markdown
//! file and reordered JSON keys show as `formatting_only` in status, a plain sync leaves
//! them alone, `sync --formatting` makes both sides byte-equal (and says whose bytes it
//! took), and undo puts the overwritten bytes back.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync"))
        .args(args)
        .current_dir(dir)
        .env_remove("TWINSYNC_STORE_URL")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn ok(args: &[&str], dir: &Path) -> String {
    let out = run(dir, args);
    assert!(out.status.success(), "twinsync {args:?}: {}", text(&out));
    text(&out)
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let out = run(dir, args);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
}

fn bytes(root: &Path, rel: &str) -> Vec<u8> {
    fs::read(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const LF: &[u8] = b"# Guide\n\nOne line.\n";
const CRLF: &[u8] = b"# Guide\r\n\r\nOne line.\r\n";
const SPACED: &[u8] = b"{\n  \"name\": \"button\",\n  \"size\": 2\n}\n";
const REORDERED: &[u8] = b"{\"size\":2,\"name\":\"button\"}";

/// Two folders in sync, then the right reformatted: CRLF line ends, reordered JSON keys.
fn reformatted() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join("left")).unwrap();
    fs::create_dir_all(root.join("right")).unwrap();
    fs::write(root.join("left/guide.md"), LF).unwrap();
    fs::write(root.join("left/button.json"), SPACED).unwrap();
    fs::write(root.join("left/same.md"), "same\n").unwrap();
    ok(&["init", "left", "right"], root);
    ok(&["sync"], root);
    fs::write(root.join("right/guide.md"), CRLF).unwrap();
    fs::write(root.join("right/button.json"), REORDERED).unwrap();
    tmp
}

#[test]
fn formatting_only_shows_in_status_and_sync_formatting_makes_the_sides_byte_equal() {
    let tmp = reformatted();
    let root = tmp.path();
    let status = ok(&["status"], root);
    assert!(status.contains("formatting_only          button.json\n"), "{status}");
    assert!(status.contains("formatting_only          guide.md\n"), "{status}");
    assert!(status.contains("1 in sync, 0 drifted, 0 in conflict, 2 formatting only"), "{status}");
    let v = json(root, &["status", "--json"]);
    assert_eq!(v["counts"]["formatting_only"], 2, "{v}");
    let classes: Vec<(&str, &str)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["key"].as_str().unwrap(), i["class"].as_str().unwrap()))
        .collect();
    assert_eq!(classes, [("button.json", "formatting_only"), ("guide.md", "formatting_only")], "{v}");
    assert_eq!(v["conflicts"], 0, "formatting is no conflict: {v}");

    // A plain sync leaves formatting alone, whatever the policy.
    ok(&["sync", "--policy", "prefer-right"], root);
    assert_eq!((bytes(root, "left/guide.md"), bytes(root, "right/guide.md")), (LF.to_vec(), CRLF.to_vec()));
    assert_eq!(bytes(root, "left/button.json"), SPACED);

    // Under the manual policy nobody said whose bytes win: nothing is written, and the
    // answer says how to choose.
    let manual = run(root, &["sync", "--formatting"]);
    assert_eq!(manual.status.code(), Some(1), "{}", text(&manual));
    assert!(text(&manual).contains("--policy prefer-left or prefer-right"), "{}", text(&manual));
    assert_eq!(bytes(root, "left/guide.md"), LF);

    ok(&["sync", "--formatting", "--policy", "prefer-right"], root);
    for rel in ["guide.md", "button.json", "same.md"] {
        assert_eq!(bytes(root, &format!("left/{rel}")), bytes(root, &format!("right/{rel}")), "{rel} byte-equal");
    }
    assert_eq!(bytes(root, "left/guide.md"), CRLF, "the right's bytes were taken");
    let status = ok(&["status"], root);
    assert!(status.contains("3 in sync, 0 drifted, 0 in conflict\n"), "{status}");
    let history = json(root, &["history", "--json"]);
    let newest = &history["operations"][0];
    assert_eq!((newest["counts"]["applied"].as_u64(), newest["undone_at"].is_null()), (Some(2), true), "{history}");

    // Undo puts the left's own bytes back, not merely the same content.
    ok(&["undo"], root);
    assert_eq!(bytes(root, "left/guide.md"), LF);
    assert_eq!(bytes(root, "left/button.json"), SPACED);
    assert_eq!(bytes(root, "right/guide.md"), CRLF, "the side copied from is untouched");
    assert!(ok(&["status"], root).contains("2 formatting only"));

    // A one-way direction's source gives its bytes, whatever the policy.
    ok(&["sync", "--formatting", "--direction", "left-to-right"], root);
    assert_eq!(bytes(root, "right/guide.md"), LF);
    assert_eq!(bytes(root, "right/button.json"), SPACED);
}

#[test]
fn a_pair_comparing_bytes_carries_a_crlf_only_change_with_a_plain_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join("left")).unwrap();
    fs::create_dir_all(root.join("right")).unwrap();
    fs::write(root.join("left/guide.md"), LF).unwrap();
    ok(&["init", "left", "right", "--compare", "bytes"], root);
    ok(&["sync"], root);
    fs::write(root.join("right/guide.md"), CRLF).unwrap();
    let status = ok(&["status"], root);
    assert!(status.contains("changed_right"), "bytes mode: a change, not formatting: {status}");
    assert!(!status.contains("formatting"), "{status}");
    ok(&["sync"], root);
    assert_eq!(bytes(root, "left/guide.md"), CRLF);
}
