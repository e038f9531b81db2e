//! `twinsync openspec sync|query|edit|watch` as processes on a throwaway folder: the
//! database file appears where documented, edits reach the disk, the queue answers.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn twinsync(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twinsync"));
    c.current_dir(dir).args(args);
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    twinsync(dir, args).output().expect("twinsync runs")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join("openspec").join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "changes/add-login/proposal.md", "# Add login\n\n## Why\nAccounts for everyone.\n");
    write(r, "changes/add-login/tasks.md", "- [x] form\n- [ ] session\n");
    write(r, "changes/add-search/proposal.md", "# Add search\n\n## Why\nFind invoices quickly.\n");
    write(r, "changes/add-search/tasks.md", "- [ ] index\n");
    write(r, "specs/auth/spec.md", "# auth\n\n## Purpose\nx\n\n## Requirements\n");
    dir
}

#[test]
fn sync_creates_the_database_beside_openspec_and_is_idle_the_second_time() {
    let dir = fixture();
    let out = run(dir.path(), &["openspec", "sync", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["mode"], "synced");
    assert_eq!(v["report"]["checked"], 3);
    assert_eq!(v["report"]["items"].as_array().unwrap().len(), 3);
    assert!(dir.path().join(".twinsync/openspec.db").is_file());
    let again = json(&run(dir.path(), &["openspec", "sync", "--json"]));
    assert_eq!(again["report"]["items"].as_array().unwrap().len(), 0);
    // From a subfolder, the root is found as the OpenSpec CLI finds it; --root works too.
    let sub = dir.path().join("openspec/changes");
    assert!(run(&sub, &["openspec", "sync"]).status.success());
    let elsewhere = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let v = json(&run(elsewhere.path(), &["openspec", "sync", "--root", root, "--dry-run", "--json"]));
    assert_eq!(v["mode"], "preview");
    assert_eq!(v["rows"].as_array().unwrap().len(), 0);
}

#[test]
fn query_filters_searches_and_sorts() {
    let dir = fixture();
    assert!(run(dir.path(), &["openspec", "sync"]).status.success());
    let v = json(&run(dir.path(), &["openspec", "query", "--status", "in_progress", "--json"]));
    let ids: Vec<&str> = v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["add-login"]);
    assert_eq!(v["items"][0]["completedTasks"], 1);
    assert_eq!(v["items"][0]["progress"], 50.0);
    let v = json(&run(dir.path(), &["openspec", "query", "--search", "invoices", "--json"]));
    assert_eq!(v["count"], 1);
    assert_eq!(v["items"][0]["id"], "add-search");
    let v = json(&run(dir.path(), &["openspec", "query", "--type", "change", "--sort", "progress", "--json"]));
    let ids: Vec<&str> = v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["add-search", "add-login"]);
    let bad = run(dir.path(), &["openspec", "query", "--status", "done"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("in_progress"));
}

#[test]
fn query_before_any_sync_says_what_to_do() {
    let dir = fixture();
    let out = run(dir.path(), &["openspec", "query", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(json(&out).to_string().contains("openspec sync"));
}

#[test]
fn edit_writes_through_the_database_to_disk() {
    let dir = fixture();
    assert!(run(dir.path(), &["openspec", "sync"]).status.success());
    let mut child = twinsync(dir.path(), &["openspec", "edit", "add-login", "tasks.md", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"- [x] form\n- [x] session\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let v = json(&out);
    assert_eq!(v["trigger"], "user_edit");
    assert_eq!(v["items"][0]["directions"][0], "db->fs");
    let on_disk = fs::read_to_string(dir.path().join("openspec/changes/add-login/tasks.md")).unwrap();
    assert_eq!(on_disk, "- [x] form\n- [x] session\n");
    let v = json(&run(dir.path(), &["openspec", "query", "--status", "review", "--json"]));
    assert_eq!(v["items"][0]["id"], "add-login");
    // A document a change does not have, and an unknown change, are refused by name.
    let src = dir.path().join("new.md");
    fs::write(&src, "x").unwrap();
    let out = run(dir.path(), &["openspec", "edit", "add-login", "notes.md", "--from", src.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("notes.md"));
    let out = run(dir.path(), &["openspec", "edit", "nope", "tasks.md", "--from", src.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

#[test]
fn watch_logs_each_sync_until_stopped() {
    let dir = fixture();
    let mut child = twinsync(dir.path(), &["openspec", "watch", "--json", "--debounce", "100", "--period", "3600"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Lines arrive on a channel so a missing one fails the test instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(serde_json::from_str(&line).unwrap_or(Value::Null)).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(20)).expect("the start pass is logged");
    assert_eq!(first["checked"], 3, "the full pass on start");
    write(dir.path(), "changes/add-search/tasks.md", "- [x] index\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = None;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(v) if v["trigger"] == "file_watcher" => {
                seen = Some(v);
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let v = seen.expect("the watcher logged a sync");
    assert_eq!(v["items"][0]["id"], "add-search");
}
