//! `twinsync watch` as a user runs it, on real folders: edits propagate, a root that goes
//! away and comes back deletes nothing, a kill -9 mid-burst converges after a restart,
//! an edit under another owner's lock syncs once it is released, SIGTERM ends cleanly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn cmd(dir: &Path, owner: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twinsync"));
    c.args(args).current_dir(dir).env("TWINSYNC_OWNER", owner).env_remove("TWINSYNC_STORE_URL");
    c
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for side in ["left", "right"] {
        std::fs::create_dir(tmp.path().join(side)).unwrap();
    }
    ok(cmd(tmp.path(), "alice", &["init", "left", "right"]).output().unwrap());
    tmp
}

fn start_watch(dir: &Path, owner: &str) -> Child {
    cmd(dir, owner, &["watch", "--period", "3600", "--debounce", "50"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `path` holds `body`; returns how long it took.
fn wait_for(path: &Path, body: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if std::fs::read_to_string(path).ok().as_deref() == Some(body) {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{} never became {body:?}", path.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn sigterm(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

fn stop(mut child: Child) -> Output {
    sigterm(&child);
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(30), "watch did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn edits_propagate_and_sigterm_stops_with_a_summary() {
    let tmp = project();
    let root = tmp.path();
    std::fs::write(root.join("left/start.md"), "there before\n").unwrap();
    let watch = start_watch(root, "alice");
    wait_for(&root.join("right/start.md"), "there before\n", Duration::from_secs(30));
    let mut delays = Vec::new();
    for i in 0..20 {
        let (from, to) = if i % 2 == 0 { ("left", "right") } else { ("right", "left") };
        let body = format!("edit {i}\n");
        std::fs::write(root.join(from).join("note.md"), &body).unwrap();
        delays.push(wait_for(&root.join(to).join("note.md"), &body, Duration::from_secs(20)));
    }
    delays.sort();
    eprintln!("propagation over 20 edits: p50 {:?}, p95 {:?}", delays[10], delays[18]);
    let out = stop(watch);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("twinsync watch stopped:") && summary.contains("applied"), "{summary}");
    let lines = String::from_utf8_lossy(&out.stderr);
    assert!(lines.lines().filter(|l| l.starts_with("default: ")).count() >= 20, "one line per operation: {lines}");
}

#[test]
fn a_root_that_goes_away_and_comes_back_deletes_nothing() {
    let tmp = project();
    let root = tmp.path();
    for i in 0..5 {
        std::fs::write(root.join(format!("left/f{i}.md")), format!("{i}\n")).unwrap();
    }
    let watch = start_watch(root, "alice");
    wait_for(&root.join("right/f4.md"), "4\n", Duration::from_secs(30));
    let away: PathBuf = root.join("left.away");
    std::fs::rename(root.join("left"), &away).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    for i in 0..5 {
        assert!(root.join(format!("right/f{i}.md")).exists(), "f{i} was deleted while the root was away");
    }
    std::fs::rename(&away, root.join("left")).unwrap();
    std::fs::write(root.join("left/back.md"), "back\n").unwrap();
    wait_for(&root.join("right/back.md"), "back\n", Duration::from_secs(30));
    for i in 0..5 {
        assert!(root.join(format!("right/f{i}.md")).exists());
    }
    let out = stop(watch);
    assert_eq!(out.status.code(), Some(0));
    let lines = String::from_utf8_lossy(&out.stderr);
    assert!(lines.contains("retrying") || lines.contains("warning"), "the missing root was reported: {lines}");
}

#[test]
fn a_kill_mid_burst_converges_after_a_restart() {
    let tmp = project();
    let root = tmp.path();
    let watch = start_watch(root, "alice");
    std::thread::sleep(Duration::from_millis(500));
    for i in 0..200 {
        std::fs::write(root.join(format!("left/b{i:03}.md")), format!("burst {i}\n")).unwrap();
    }
    std::thread::sleep(Duration::from_millis(150));
    let mut watch = watch;
    watch.kill().unwrap(); // SIGKILL
    watch.wait().unwrap();
    for i in 200..220 {
        std::fs::write(root.join(format!("left/b{i:03}.md")), format!("burst {i}\n")).unwrap();
    }
    let watch = start_watch(root, "alice");
    for i in 0..220 {
        wait_for(&root.join(format!("right/b{i:03}.md")), &format!("burst {i}\n"), Duration::from_secs(60));
    }
    assert_eq!(stop(watch).status.code(), Some(0));
    let status = ok(cmd(root, "alice", &["status", "--json"]).output().unwrap());
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 0, "{v}");
}

#[test]
fn an_edit_under_another_owners_lock_syncs_once_it_is_released() {
    let tmp = project();
    let root = tmp.path();
    let watch = start_watch(root, "alice");
    std::thread::sleep(Duration::from_millis(500));
    ok(cmd(root, "bob", &["lock", "acquire"]).output().unwrap());
    std::fs::write(root.join("left/held.md"), "held\n").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!root.join("right/held.md").exists(), "nothing is written under bob's lock");
    ok(cmd(root, "bob", &["lock", "release"]).output().unwrap());
    wait_for(&root.join("right/held.md"), "held\n", Duration::from_secs(30));
    let out = stop(watch);
    let lines = String::from_utf8_lossy(&out.stderr);
    assert!(lines.contains("held by bob"), "the refusal was reported: {lines}");
}
