//! `twinsync guard` as Claude Code runs it: hook JSON on stdin, exit 0 to allow, exit 2
//! with the reason on stderr to block. Covers each tool kind, protected and free paths,
//! the project lock held by someone else or by the caller, bad input, and an unreachable
//! store under both `guard.offline` settings.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_twinsync")
}

/// A project syncing a/ and b/ that protects `docs/**` and `*.lock`.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in ["a", "b", "docs", "src"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    let out = Command::new(bin()).args(["init", "a", "b"]).current_dir(dir.path()).output().unwrap();
    assert!(out.status.success());
    edit_config(dir.path(), |c| c.guard.protect = vec!["docs/**".into(), "*.lock".into()]);
    dir
}

fn edit_config(dir: &Path, f: impl FnOnce(&mut twinsync::Config)) {
    let path = dir.join(".twinsync/config.toml");
    let mut c = twinsync::Config::load(&path).unwrap();
    f(&mut c);
    c.save(&path).unwrap();
}

fn run(dir: &Path, owner: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(bin())
        .arg("guard")
        .args(args)
        .current_dir(dir)
        .env("TWINSYNC_OWNER", owner)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs the hook for `tool` with `input` from the project's folder as Claude Code does.
fn hook(dir: &Path, owner: &str, tool: &str, input: serde_json::Value) -> Output {
    let event = json!({
        "session_id": "s1", "transcript_path": "/tmp/t.jsonl", "cwd": dir, "hook_event_name": "PreToolUse",
        "tool_name": tool, "tool_input": input,
    });
    run(dir, owner, &[], &event.to_string())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn allowed(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "expected allow, got: {}", stderr(o));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "an allowed call is silent: {}", stderr(o));
}

#[track_caller]
fn blocked(o: &Output, needles: &[&str]) -> String {
    assert_eq!(o.status.code(), Some(2), "expected block, got {:?}: {}", o.status.code(), stderr(o));
    let e = stderr(o);
    for n in needles {
        assert!(e.contains(n), "{n:?} missing from {e:?}");
    }
    e
}

#[test]
fn each_writing_tool_is_blocked_on_protected_paths_only() {
    let dir = project();
    let d = dir.path();
    let abs = |p: &str| d.join(p).to_string_lossy().into_owned();

    blocked(
        &hook(d, "me", "Write", json!({"file_path": "docs/a.md", "content": "x"})),
        &["Write", "docs/a.md", "docs/**"],
    );
    allowed(&hook(d, "me", "Write", json!({"file_path": "src/a.md", "content": "x"})));
    blocked(
        &hook(d, "me", "Edit", json!({"file_path": abs("docs/deep/b.md"), "old_string": "a", "new_string": "b"})),
        &["Edit"],
    );
    allowed(&hook(d, "me", "Edit", json!({"file_path": abs("src/b.md"), "old_string": "a", "new_string": "b"})));
    blocked(&hook(d, "me", "MultiEdit", json!({"file_path": abs("Cargo.lock"), "edits": []})), &["*.lock"]);
    allowed(&hook(d, "me", "MultiEdit", json!({"file_path": abs("src/Cargo.lock"), "edits": []})));
    blocked(
        &hook(d, "me", "NotebookEdit", json!({"notebook_path": abs("docs/n.ipynb"), "new_source": ""})),
        &["NotebookEdit"],
    );
    allowed(&hook(d, "me", "NotebookEdit", json!({"notebook_path": abs("src/n.ipynb"), "new_source": ""})));
    // `..` cannot sneak around a glob, and paths outside the project are not ours to guard.
    blocked(&hook(d, "me", "Write", json!({"file_path": "src/../docs/c.md"})), &["docs/c.md"]);
    allowed(&hook(d, "me", "Write", json!({"file_path": "/tmp/elsewhere/docs/a.md"})));

    for cmd in [
        "echo hi > docs/a.md",
        "echo hi >> docs/a.md",
        "printf x | tee -a docs/a.md",
        "sed -i 's/a/b/' docs/a.md",
        "cp src/x.md docs/",
        "mv src/x.md docs/y.md",
        "ls && rm docs/old.md",
        "cd docs && echo x > new.md",
    ] {
        blocked(&hook(d, "me", "Bash", json!({"command": cmd})), &["Bash"]);
    }
    for cmd in [
        "cat docs/a.md",
        "grep -r x docs 2>/dev/null",
        "echo hi > src/a.md",
        "sed 's/a/b/' docs/a.md",
        "cp docs/a.md src/",
    ] {
        allowed(&hook(d, "me", "Bash", json!({"command": cmd})));
    }
    // Reads pass whatever they touch.
    allowed(&hook(d, "me", "Read", json!({"file_path": "docs/a.md"})));
    allowed(&hook(d, "me", "Grep", json!({"pattern": "x", "path": "docs"})));
}

#[test]
fn protect_flags_work_without_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let event = json!({"tool_name": "Write", "tool_input": {"file_path": "spec/x.md"}, "cwd": dir.path()}).to_string();
    blocked(&run(dir.path(), "me", &["--protect", "spec/**"], &event), &["spec/**"]);
    allowed(&run(dir.path(), "me", &[], &event));
    // A guard that cannot tell what to protect refuses rather than guesses.
    blocked(&run(dir.path(), "me", &["--protect", "spec/[x"], &event), &["spec/[x", "fix it"]);
}

#[test]
fn a_broken_config_blocks_with_the_file_named() {
    let dir = project();
    let config = dir.path().join(".twinsync/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("offline = \"allow\"", "offline = \"maybe\"")).unwrap();
    blocked(&hook(dir.path(), "me", "Write", json!({"file_path": "src/a.md"})), &["config.toml", "maybe"]);
    blocked(&run(dir.path(), "me", &["--check"], ""), &["config.toml"]);
}

#[test]
fn another_owners_lock_blocks_writes_but_not_reads_or_the_holder() {
    let dir = project();
    let d = dir.path();
    let out = Command::new(bin())
        .args(["lock", "acquire", "--owner", "alice", "--reason", "release prep"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(out.status.success());
    blocked(
        &hook(d, "claude", "Write", json!({"file_path": "src/a.md"})),
        &["held by alice", "release prep", "claude"],
    );
    blocked(&hook(d, "claude", "Bash", json!({"command": "echo x > src/a.md"})), &["held by alice"]);
    allowed(&hook(d, "claude", "Read", json!({"file_path": "src/a.md"})));
    allowed(&hook(d, "claude", "Bash", json!({"command": "cargo test"})));
    allowed(&hook(d, "alice", "Write", json!({"file_path": "src/a.md"})));
    // Protection still applies to the holder.
    blocked(&hook(d, "alice", "Write", json!({"file_path": "docs/a.md"})), &["protected"]);

    // --check, for shells and git hooks.
    blocked(&run(d, "claude", &["--check"], ""), &["held by alice"]);
    allowed(&run(d, "alice", &["--check"], ""));
    let out = Command::new(bin()).args(["lock", "release", "--owner", "alice"]).current_dir(d).output().unwrap();
    assert!(out.status.success());
    allowed(&run(d, "claude", &["--check"], ""));
    allowed(&hook(d, "claude", "Write", json!({"file_path": "src/a.md"})));
}

#[test]
fn bad_input_is_refused_with_a_clear_message_and_never_hangs() {
    let dir = project();
    let d = dir.path();
    blocked(&run(d, "me", &[], "{not json"), &["not valid JSON", "PreToolUse"]);
    blocked(&run(d, "me", &[], ""), &["not valid JSON"]);
    blocked(&run(d, "me", &[], "[1, 2]"), &["not an object"]);
    blocked(&run(d, "me", &[], r#"{"tool_input": {}}"#), &["tool_name"]);

    // A writer that never closes stdin: the hook gives up on its own.
    let start = Instant::now();
    let mut child =
        Command::new(bin()).arg("guard").current_dir(d).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let _held_open = child.stdin.take();
    while child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < Duration::from_secs(30), "guard hung on an open stdin");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    blocked(&out, &["no hook input"]);
}

#[test]
fn an_unreachable_store_follows_guard_offline() {
    let dir = project();
    let d = dir.path();
    let db = d.join(".twinsync/state.db");
    for ext in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(d.join(format!(".twinsync/state.db{ext}")));
    }
    std::fs::write(&db, b"this is not a database, it is a corrupted file ......................").unwrap();
    let write = json!({"file_path": "src/a.md"});

    let out = hook(d, "me", "Write", write.clone());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning") && stderr(&out).contains("guard.offline = \"allow\""), "{}", stderr(&out));
    // Protection needs no store, so it still holds offline.
    blocked(&hook(d, "me", "Write", json!({"file_path": "docs/a.md"})), &["protected"]);
    allowed(&hook(d, "me", "Read", json!({"file_path": "src/a.md"})));

    edit_config(d, |c| c.guard.offline = "block".into());
    blocked(&hook(d, "me", "Write", write), &["guard.offline = \"block\""]);
    blocked(&run(d, "me", &["--check"], ""), &["guard.offline = \"block\""]);
}

#[test]
fn a_store_locked_by_another_process_counts_as_offline_after_a_short_wait() {
    let dir = project();
    let d = dir.path();
    edit_config(d, |c| c.guard.offline = "block".into());
    let db = d.join(".twinsync/state.db");
    // Exclusive locking mode keeps every other connection out until this one closes.
    let script = "import sqlite3, sys, time\n\
                  c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
                  c.execute('PRAGMA locking_mode=EXCLUSIVE')\n\
                  c.execute('BEGIN EXCLUSIVE')\n\
                  c.execute('CREATE TABLE IF NOT EXISTS guard_test_hold (x)')\n\
                  print('locked', flush=True)\n\
                  time.sleep(30)\n";
    let mut holder = Command::new("python3")
        .args(["-c", script])
        .arg(&db)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the lock holder");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()), &mut line).unwrap();
    assert_eq!(line.trim(), "locked");

    let start = Instant::now();
    let out = hook(d, "me", "Write", json!({"file_path": "src/a.md"}));
    let waited = start.elapsed();
    let _ = holder.kill();
    let _ = holder.wait();
    blocked(&out, &["did not answer", "guard.offline = \"block\""]);
    assert!(waited < Duration::from_millis(4500), "the guard waited {waited:?} on a locked store");
}
