//! Named pairs over one store, through the CLI on real folders and the real SQLite
//! store: pairs of every kind in one project, an unreadable file failing alone, two
//! syncs at once, the project lock binding `sync`, events leaving the process, and a
//! conflict settled by hand.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn cmd(dir: &Path, owner: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twinsync"));
    c.args(args).current_dir(dir).env("TWINSYNC_OWNER", owner).env_remove("TWINSYNC_STORE_URL");
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    cmd(dir, "alice", args).output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

fn folders(root: &Path, names: &[&str]) {
    for n in names {
        std::fs::create_dir_all(root.join(n)).unwrap();
    }
}

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

/// A minimal OpenSpec tree: one spec and one change.
fn openspec_tree(root: &Path) {
    write(
        root,
        "openspec/specs/auth/spec.md",
        "# auth Specification\n\n## Purpose\nSign users in.\n\n## Requirements\n### Requirement: Login\nThe system SHALL let a user sign in.\n\n#### Scenario: Valid credentials\n- **WHEN** a user signs in\n- **THEN** a session starts\n",
    );
    write(
        root,
        "openspec/changes/add-logout/proposal.md",
        "## Why\nUsers need to sign out.\n\n## What Changes\n- Add logout\n",
    );
    write(root, "openspec/changes/add-logout/tasks.md", "## 1. Build\n- [x] 1.1 Route\n- [ ] 1.2 Button\n");
}

#[test]
fn a_project_holds_pairs_of_every_kind_and_status_and_history_show_them_all() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    folders(root, &["docs-a", "docs-b", "ui-a", "ui-b"]);
    openspec_tree(root);
    ok(run(root, &["init", "docs-a", "docs-b"]));
    ok(run(root, &["pair", "add", "ui", "ui-a", "ui-b", "--policy", "prefer-left"]));
    ok(run(root, &["pair", "add", "specs", ".", "db", "--kind", "openspec"]));
    let e = run(root, &["pair", "add", "bad", ".", "docs-a", "--kind", "openspec"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("`db`"), "{}", String::from_utf8_lossy(&e.stderr));

    let list = json(&ok(run(root, &["pair", "list", "--json"])));
    let names: Vec<(&str, &str)> = list["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("default", "folders"), ("specs", "openspec"), ("ui", "folders")]);

    write(root, "docs-a/guide.md", "# Guide\n");
    write(root, "ui-b/button.json", "{\"name\": \"Button\"}");
    let status = json(&run(root, &["status", "--json"]));
    let pairs: Vec<&str> = status["pairs"].as_array().unwrap().iter().map(|p| p["pair"].as_str().unwrap()).collect();
    assert_eq!(pairs, ["default", "specs", "ui"]);
    let items: Vec<(&str, &str)> = status["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["pair"].as_str().unwrap(), i["key"].as_str().unwrap()))
        .collect();
    assert!(items.contains(&("default", "guide.md")) && items.contains(&("ui", "button.json")), "{status}");
    assert!(
        items.iter().any(|(p, k)| *p == "specs" && k.contains("add-logout")),
        "the openspec rows to create: {status}"
    );

    let synced = json(&ok(run(root, &["sync", "--json"])));
    let reports: Vec<(&str, u64)> = synced["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["pair"].as_str().unwrap(), p["report"]["counts"]["applied"].as_u64().unwrap()))
        .collect();
    assert_eq!(reports.iter().map(|r| r.0).collect::<Vec<_>>(), ["default", "specs", "ui"]);
    assert!(reports.iter().all(|r| r.1 >= 1), "{synced}");
    assert_eq!(std::fs::read_to_string(root.join("docs-b/guide.md")).unwrap(), "# Guide\n");
    assert!(root.join("ui-a/button.json").exists());

    let history = json(&ok(run(root, &["history", "--json"])));
    let mut pairs: Vec<&str> =
        history["operations"].as_array().unwrap().iter().map(|o| o["pair"].as_str().unwrap()).collect();
    pairs.sort();
    assert_eq!(pairs, ["default", "specs", "ui"]);
    let only = json(&ok(run(root, &["history", "--json", "--pair", "ui"])));
    assert_eq!(only["operations"].as_array().unwrap().len(), 1);

    // Removing a pair leaves both sides' files alone.
    ok(run(root, &["pair", "remove", "ui"]));
    assert!(root.join("ui-a/button.json").exists() && root.join("ui-b/button.json").exists());
    let e = run(root, &["status", "--pair", "ui"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("no pair \"ui\""));
}

#[test]
fn a_project_with_the_old_single_pair_table_keeps_working() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    folders(root, &["a", "b", ".twinsync"]);
    write(root, ".twinsync/config.toml", "[pair]\nname = \"docs\"\nleft = \"a\"\nright = \"b\"\n");
    write(root, "a/x.md", "x\n");
    let out = json(&ok(run(root, &["sync", "--json"])));
    assert_eq!(out["pairs"][0]["pair"], "docs");
    assert_eq!(std::fs::read_to_string(root.join("b/x.md")).unwrap(), "x\n");
    let config = std::fs::read_to_string(root.join(".twinsync/config.toml")).unwrap();
    assert!(config.starts_with("[pair]"), "the file is not rewritten by a sync: {config}");
}

#[test]
fn an_unreadable_file_fails_alone_and_everything_else_syncs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    folders(root, &["left", "right"]);
    ok(run(root, &["init", "left", "right"]));
    for i in 0..99 {
        write(root, &format!("left/doc{i:02}.md"), &format!("# doc {i}\n"));
    }
    let bad = b"{\"name\": \"Button\",, }";
    std::fs::write(root.join("left/bad.json"), bad).unwrap();
    let out = run(root, &["sync", "--json"]);
    assert_eq!(out.status.code(), Some(1), "an item that failed makes the exit status 1");
    let report = json(&out)["pairs"][0]["report"].clone();
    assert_eq!(report["counts"]["applied"], 99);
    assert_eq!(report["counts"]["failed"], 1);
    assert_eq!(report["status"], "partial");
    assert_eq!(report["item_errors"][0]["key"], "bad.json");
    let why = report["item_errors"][0]["error"].as_str().unwrap();
    assert!(why.starts_with("bad.json: ") && why.contains("JSON"), "{why}");
    assert_eq!(std::fs::read(root.join("left/bad.json")).unwrap(), bad, "the bad file is untouched");
    assert!(!root.join("right/bad.json").exists(), "and not copied");
    assert_eq!(std::fs::read_dir(root.join("right")).unwrap().count(), 99);

    let text = String::from_utf8_lossy(&run(root, &["status"]).stdout).to_string();
    assert!(text.contains("bad.json") && text.contains("1 unreadable"), "{text}");
    std::fs::write(root.join("left/bad.json"), b"{\"name\": \"Button\"}").unwrap();
    let fixed = json(&ok(run(root, &["sync", "--json"])));
    assert_eq!(fixed["pairs"][0]["report"]["counts"]["applied"], 1, "fixed, it syncs");
}

#[test]
fn two_syncs_started_together_report_no_false_conflict() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    folders(root, &["left", "right"]);
    ok(run(root, &["init", "left", "right"]));
    for i in 0..500 {
        write(root, &format!("left/f{i:03}.md"), &format!("file {i}\n"));
    }
    let spawn =
        || cmd(root, "alice", &["sync", "--json"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let mut applied = Vec::new();
    for out in &outs {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let r = json(out)["pairs"][0]["report"].clone();
        assert_eq!(r["counts"]["conflicts"], 0, "{r}");
        assert_eq!(r["counts"]["failed"], 0, "{r}");
        applied.push(r["counts"]["applied"].as_u64().unwrap());
    }
    applied.sort();
    assert_eq!(applied, [0, 500], "one sync copied everything, the other found nothing left to do");
    for i in 0..500 {
        assert_eq!(std::fs::read_to_string(root.join(format!("right/f{i:03}.md"))).unwrap(), format!("file {i}\n"));
    }
    let history = json(&ok(run(root, &["history", "--json"])));
    let ops = history["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "one operation with its own report: {history}");
    assert_eq!(ops[0]["counts"]["applied"], 500);
}

#[test]
fn a_second_sync_of_a_pair_waits_then_gives_up_with_locked() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    folders(root, &["left", "right"]);
    ok(run(root, &["init", "left", "right"]));
    for i in 0..3000 {
        write(root, &format!("left/d{}/f{i}.md", i % 30), &format!("file {i}\n"));
    }
    let mut first = cmd(root, "alice", &["sync"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Wait until the first sync holds the lease: its operation is recorded as running.
    let started = Instant::now();
    loop {
        let h = json(&run(root, &["history", "--json"]));
        if h["operations"].as_array().is_some_and(|o| !o.is_empty()) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the first sync never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = cmd(root, "bob", &["sync", "--wait", "0", "--json"]).output().unwrap();
    let done = first.wait().unwrap();
    assert!(done.success());
    if second.status.code() == Some(2) {
        let e = json(&second);
        assert_eq!(e["error"]["code"], "LOCKED", "{e}");
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(msg.contains("another sync is running") && msg.contains("alice"), "{msg}");
    } else {
        // The first sync finished before the second looked: nothing was left to do.
        assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
        assert_eq!(json(&second)["pairs"][0]["report"]["counts"]["applied"], 0);
    }
}

#[test]
fn another_owners_lock_stops_sync_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    folders(root, &["left", "right"]);
    ok(run(root, &["init", "left", "right"]));
    write(root, "left/a.md", "a\n");
    ok(cmd(root, "alice", &["lock", "acquire", "--reason", "release freeze"]).output().unwrap());
    let out = cmd(root, "bob", &["sync", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = json(&out);
    assert_eq!(e["error"]["code"], "LOCKED");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.contains("held by alice") && msg.contains("release freeze") && msg.contains("you are bob"), "{msg}");
    assert!(!root.join("right/a.md").exists(), "nothing was written");
    // Read-only commands keep working, and the holder may sync.
    assert_eq!(cmd(root, "bob", &["status"]).output().unwrap().status.code(), Some(0));
    assert_eq!(cmd(root, "bob", &["sync", "--dry-run"]).output().unwrap().status.code(), Some(0));
    ok(cmd(root, "alice", &["sync"]).output().unwrap());
    assert!(root.join("right/a.md").exists());
}

#[test]
fn events_leave_the_process_and_follow_sees_another_processes_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    folders(root, &["left", "right"]);
    ok(run(root, &["init", "left", "right"]));
    write(root, "left/a.md", "a\n");
    let report = json(&ok(run(root, &["sync", "--json"])))["pairs"][0]["report"].clone();
    let op = report["operation_id"].as_str().unwrap();
    let out = ok(run(root, &["events", "--json"]));
    let events: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["drift_detected", "sync_started", "doc:updated", "sync_completed"], "{events:?}");
    for e in &events {
        for field in ["id", "type", "time", "pair", "correlation_id", "payload"] {
            assert!(e.get(field).is_some(), "{field} in {e}");
        }
        assert_eq!(e["pair"], "default");
    }
    assert_eq!(events[1]["payload"]["operation_id"], op);
    assert_eq!(events[3]["payload"]["operation_id"], op);
    assert_eq!(events[2]["payload"]["key"], "a.md");
    assert!(events[2]["payload"]["digest"].as_str().unwrap().starts_with("sha256:"));
    let last = events.last().unwrap()["id"].as_u64().unwrap();

    // A follower started before another process syncs sees that sync's events.
    let since = last.to_string();
    let mut follower = cmd(root, "carol", &["events", "--follow", "--json", "--since", &since])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(follower.stdout.take().unwrap()).lines();
    write(root, "left/b.md", "b\n");
    ok(cmd(root, "dave", &["lock", "acquire"]).output().unwrap());
    ok(cmd(root, "dave", &["sync"]).output().unwrap());
    let mut seen = Vec::new();
    for line in lines {
        let e: Value = serde_json::from_str(&line.unwrap()).unwrap();
        assert!(e["id"].as_u64().unwrap() > last, "only new events: {e}");
        seen.push(e["type"].as_str().unwrap().to_string());
        if seen.last().map(String::as_str) == Some("sync_completed") {
            break;
        }
    }
    follower.kill().unwrap();
    let _ = follower.wait();
    assert_eq!(seen, ["lock:acquired", "drift_detected", "sync_started", "doc:updated", "sync_completed"]);
}

#[test]
fn resolve_takes_a_side_and_undo_puts_the_conflict_back() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    folders(root, &["left", "right"]);
    ok(run(root, &["init", "left", "right"]));
    write(root, "left/a.md", "base\n");
    ok(run(root, &["sync"]));
    write(root, "left/a.md", "left edit\n");
    write(root, "right/a.md", "right edit\n");
    assert_eq!(run(root, &["sync"]).status.code(), Some(1), "a modify/modify conflict is left for a person");

    let out = json(&ok(run(root, &["resolve", "a.md", "--take", "right", "--json"])));
    assert_eq!(out["counts"]["applied"], 1);
    assert_eq!(std::fs::read_to_string(root.join("left/a.md")).unwrap(), "right edit\n");
    assert_eq!(run(root, &["status"]).status.code(), Some(0), "settled");

    let op = out["operation_id"].as_str().unwrap();
    ok(run(root, &["undo", op]));
    assert_eq!(std::fs::read_to_string(root.join("left/a.md")).unwrap(), "left edit\n");
    assert_eq!(std::fs::read_to_string(root.join("right/a.md")).unwrap(), "right edit\n");
    assert_eq!(run(root, &["status"]).status.code(), Some(1), "the conflict is back");

    // A file's content settles it too, on both sides.
    write(root, "merged.md", "both edits\n");
    ok(run(root, &["resolve", "a.md", "--take", "merged.md"]));
    assert_eq!(std::fs::read_to_string(root.join("left/a.md")).unwrap(), "both edits\n");
    assert_eq!(std::fs::read_to_string(root.join("right/a.md")).unwrap(), "both edits\n");
    let e = run(root, &["resolve", "a.md", "--take", "left"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("in sync"), "{}", String::from_utf8_lossy(&e.stderr));
}

#[test]
fn a_design_pair_reports_drift_and_coverage_is_an_event() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../twinsync-design/tests/fixtures");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    folders(root, &["a", "b"]);
    for (from, to) in [
        ("code/components.json", "code/components.json"),
        ("research/crayfisher-zari_digital-agency-design-system__index.v4.json", "storybook/index.json"),
        ("research/figma-code-connect__wizard__GET_file_response.json", "design/figma.json"),
    ] {
        std::fs::create_dir_all(root.join(to).parent().unwrap()).unwrap();
        std::fs::copy(fixtures.join(from), root.join(to)).unwrap();
    }
    ok(run(root, &["init", "a", "b"]));
    ok(run(root, &["pair", "add", "ui", "code/components.json", "design/figma.json", "--kind", "design"]));
    let status = json(&run(root, &["status", "--json", "--pair", "ui"]));
    assert_eq!(status["pairs"][0]["kind"], "design");
    assert!(!status["pairs"][0]["items"].as_array().unwrap().is_empty(), "code and this Figma file differ: {status}");
    ok(run(root, &["design", "coverage", "--components", "code/components.json", "--stories", "storybook/index.json"]));
    let out = ok(run(root, &["events", "--json"]));
    let coverage: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["type"] == "coverage_summary")
        .collect();
    assert_eq!(coverage.len(), 1, "{coverage:?}");
    assert_eq!(coverage[0]["payload"]["components"], 3);
    assert!(coverage[0]["payload"]["percent"].is_number());

    let synced = json(&run(root, &["sync", "--json"]));
    let ui = synced["pairs"].as_array().unwrap().iter().find(|p| p["pair"] == "ui").unwrap().clone();
    // A design pair syncs through the engine like the others: the Figma-only components
    // come to code; code's components cannot go to a Figma file (read only), and each
    // of those fails alone, naming the file.
    assert!(ui["skipped"].is_null(), "{ui}");
    assert_eq!(ui["report"]["scope"], "ui", "{ui}");
    assert!(ui["report"]["counts"]["applied"].as_u64().unwrap() > 0, "{ui}");
    let failed: Vec<&Value> =
        ui["report"]["items"].as_array().unwrap().iter().filter(|i| i["outcome"] == "failed").collect();
    assert_eq!(failed.len(), 3, "{ui}");
    assert!(failed.iter().all(|i| i["error"].as_str().unwrap().contains("figma.json is read-only")), "{ui}");
}

/// `compare`: canonical by default, so formatting never drifts; `bytes` (in the config,
/// or `--compare bytes` for one run) makes any byte a change, so a user can always make
/// both sides byte-equal.
#[test]
fn compare_bytes_carries_formatting_that_canonical_ignores() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    folders(root, &["left", "right"]);
    write(root, "left/a.md", "line\n");
    write(root, "left/b.json", "{\"a\": 1, \"b\": 2}\n");
    ok(run(root, &["init", "left", "right"]));
    ok(run(root, &["sync"]));
    // CRLF and reordered keys: the same content, canonically.
    write(root, "left/a.md", "line\r\n");
    write(root, "left/b.json", "{\"b\": 2, \"a\": 1}\n");
    let status = json(&ok(run(root, &["status", "--json"])));
    let classes: Vec<&str> = status["items"].as_array().unwrap().iter().map(|i| i["class"].as_str().unwrap()).collect();
    assert_eq!(classes, ["formatting_only"; 2], "canonical: formatting is no drift, and shows as such: {status}");
    ok(run(root, &["sync"]));
    assert_eq!(std::fs::read(root.join("right/a.md")).unwrap(), b"line\n", "nothing carried");

    // One run comparing bytes sees both items differ (the JSON's base was a canonical
    // digest, so it differs on both sides: a conflict, exit 1) and, by the policy,
    // carries them.
    let status = json(&run(root, &["status", "--json", "--compare", "bytes"]));
    assert_eq!(status["items"].as_array().unwrap().len(), 2, "{status}");
    ok(run(root, &["sync", "--compare", "bytes", "--policy", "prefer-left"]));
    assert_eq!(std::fs::read(root.join("right/a.md")).unwrap(), b"line\r\n");
    assert_eq!(std::fs::read(root.join("right/b.json")).unwrap(), b"{\"b\": 2, \"a\": 1}\n");
    let status = json(&ok(run(root, &["status", "--json", "--compare", "bytes"])));
    assert_eq!(status["items"], serde_json::json!([]), "byte-equal now: {status}");

    // A pair that compares bytes for good: a CRLF-only edit is a change a plain sync carries.
    let other = tempfile::tempdir().unwrap();
    let root = other.path();
    folders(root, &["left", "right"]);
    write(root, "left/a.md", "line\n");
    ok(run(root, &["init", "left", "right", "--compare", "bytes"]));
    let config = std::fs::read_to_string(root.join(".twinsync/config.toml")).unwrap();
    assert!(config.contains("compare = \"bytes\""), "{config}");
    ok(run(root, &["sync"]));
    write(root, "left/a.md", "line\r\n");
    let status = json(&ok(run(root, &["status", "--json"])));
    assert_eq!(status["items"][0]["key"], "a.md", "{status}");
    ok(run(root, &["sync"]));
    assert_eq!(std::fs::read(root.join("right/a.md")).unwrap(), b"line\r\n");
    let bad = run(root, &["status", "--compare", "exact"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("canonical"), "the error says what is accepted");
}
