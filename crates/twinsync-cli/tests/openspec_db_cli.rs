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

/// Issue 16's walk through the CLI: an openspec pair on a copy of the corpus and a design
/// pair in one project; both sides of one OpenSpec document edited; the file wins, the
/// database's version is kept and comes back with `undo --pair`; `history` lists every pair.
#[test]
fn an_openspec_pair_and_a_design_pair_share_one_history_and_one_undo() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/openspec-corpus/openspec");
    copy_tree(&corpus, &root.join("openspec"));
    let components =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../twinsync/tests/fixtures/old_design_layout/components.json");
    fs::create_dir_all(root.join("ui")).unwrap();
    fs::copy(&components, root.join("ui/code.json")).unwrap();
    fs::copy(&components, root.join("ui/design.json")).unwrap();
    fs::create_dir_all(root.join("docs-a")).unwrap();
    fs::create_dir_all(root.join("docs-b")).unwrap();
    assert!(run(root, &["init", "docs-a", "docs-b"]).status.success());
    assert!(run(root, &["pair", "add", "specs", ".", "db", "--kind", "openspec", "--policy", "prefer-left"])
        .status
        .success());
    assert!(run(root, &["pair", "add", "ui", "ui/code.json", "ui/design.json", "--kind", "design"]).status.success());
    let out = run(root, &["sync", "--json"]);
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    // The shortcut acts on the project's pair.
    let synced = json(&run(root, &["openspec", "sync", "--json"]));
    assert_eq!(synced["report"]["items"], serde_json::json!([]), "{synced}");

    // One document edited in an editor and in the web UI (straight into the database).
    let change = "add-update-workflow";
    let file = root.join(format!("openspec/changes/{change}/proposal.md"));
    let editor = format!("{}\nEdited in an editor.\n", fs::read_to_string(&file).unwrap());
    fs::write(&file, &editor).unwrap();
    let web = "# From the web UI\n";
    let db = rusqlite::Connection::open(root.join(".twinsync/openspec.db")).unwrap();
    assert_eq!(db.execute("UPDATE items SET proposal = ?1 WHERE id = ?2", [web, change]).unwrap(), 1);
    let out = run(root, &["sync", "--pair", "specs", "--json"]);
    let report = json(&out)["pairs"][0]["report"].clone();
    assert_eq!(report["counts"]["applied"], 1, "{report}");
    assert_eq!(report["items"][0]["class"], "conflict_modify_modify", "{report}");
    assert_eq!(fs::read_to_string(&file).unwrap(), editor, "the file wins");
    let proposal = |db: &rusqlite::Connection| -> String {
        db.query_row("SELECT proposal FROM items WHERE id = ?1", [change], |r| r.get(0)).unwrap()
    };
    assert_eq!(proposal(&db), editor);
    let kept: String = db
        .query_row(
            "SELECT content FROM versions WHERE item_id = ?1 AND doc = 'proposal.md' ORDER BY seq DESC",
            [change],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, web, "the database's version is recoverable");

    // Undo of that operation puts the database's version back; the editor's file stays.
    let op = report["operation_id"].as_str().unwrap().to_string();
    let undo = json(&run(root, &["undo", "--pair", "specs", "--json"]));
    assert_eq!(undo["operation_id"], op.as_str(), "{undo}");
    assert_eq!(undo["refused"], serde_json::json!([]), "{undo}");
    assert_eq!(proposal(&db), web);
    assert_eq!(fs::read_to_string(&file).unwrap(), editor);

    // History lists every pair's operations.
    let history = json(&run(root, &["history", "--json"]));
    let mut pairs: Vec<&str> =
        history["operations"].as_array().unwrap().iter().map(|o| o["pair"].as_str().unwrap()).collect();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs, ["specs", "ui"], "{history}");
}

/// With no project at all, the shortcuts' pair is still a pair: `history` and `undo` see it.
#[test]
fn outside_a_project_history_and_undo_see_the_shortcuts_pair() {
    let dir = fixture();
    let root = dir.path();
    assert!(run(root, &["openspec", "sync"]).status.success());
    fs::write(root.join("openspec/changes/add-login/tasks.md"), "- [x] form\n- [x] session\n").unwrap();
    let synced = json(&run(root, &["openspec", "sync", "--json"]));
    assert_eq!(synced["report"]["items"][0]["outcome"], "updated", "{synced}");
    assert!(!root.join(".twinsync/config.toml").exists(), "no config is written");
    let history = json(&run(root, &["history", "--json"]));
    assert_eq!(history["operations"].as_array().unwrap().len(), 2, "{history}");
    assert_eq!(history["operations"][0]["pair"], "openspec");
    let undo = run(root, &["undo", "--pair", "openspec", "--json"]);
    assert!(undo.status.success(), "{}", String::from_utf8_lossy(&undo.stderr));
    let q = json(&run(root, &["openspec", "query", "--json"]));
    let login = q["items"].as_array().unwrap().iter().find(|i| i["id"] == "add-login").unwrap().clone();
    assert_eq!(login["completedTasks"], 1, "the row is back as before: {login}");
}
