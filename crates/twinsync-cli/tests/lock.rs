//! `twinsync lock`: identity, holder-only renew and release, TTLs, and the audited --force.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn twinsync(dir: &Path, owner: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync"))
        .args(args)
        .current_dir(dir)
        .env("TWINSYNC_OWNER", owner)
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    std::fs::create_dir_all(dir.path().join("b")).unwrap();
    assert!(twinsync(dir.path(), "x", &["init", "a", "b"]).status.success());
    dir
}

#[test]
fn only_the_holder_renews_or_releases_by_name_or_token() {
    let dir = project();
    let d = dir.path();
    let out = twinsync(d, "alice", &["lock", "acquire", "--ttl", "30m", "--reason", "editing docs", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let lock = json(&out)["lock"].clone();
    let token = lock["token"].as_str().unwrap().to_string();
    assert_eq!(lock["owner"], "alice");
    assert!(token.len() >= 16);

    // Status shows holder and reason, never the token.
    let out = twinsync(d, "bob", &["lock", "status", "--json"]);
    let status = json(&out);
    assert_eq!((status["held"].as_bool(), status["lock"]["owner"].as_str()), (Some(true), Some("alice")));
    assert_eq!(status["lock"]["reason"], "editing docs");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&token));
    assert!(status["lock"].get("token").is_none(), "{status}");
    let human = String::from_utf8_lossy(&twinsync(d, "bob", &["lock", "status"]).stdout).to_string();
    assert!(human.contains("held by alice") && human.contains("editing docs"), "{human}");

    // Someone else can neither take, renew nor release it (exit 1, saying who holds it).
    let out = twinsync(d, "bob", &["lock", "acquire"]);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("held by alice"));
    assert_eq!(code(&twinsync(d, "bob", &["lock", "renew"])), 1);
    assert_eq!(code(&twinsync(d, "bob", &["lock", "release"])), 1);
    assert_eq!(code(&twinsync(d, "bob", &["lock", "release", "--token", "0123456789abcdef0123"])), 1);
    // --owner overrides the environment's identity.
    assert_eq!(code(&twinsync(d, "bob", &["lock", "renew", "--owner", "alice", "--ttl", "2h"])), 0);

    // The token proves ownership whoever runs the command.
    let out = twinsync(d, "bob", &["lock", "renew", "--token", &token, "--ttl", "1h", "--json"]);
    assert_eq!(code(&out), 0);
    assert_eq!(json(&out)["lock"]["owner"], "alice");
    let out = twinsync(d, "bob", &["lock", "release", "--token", &token, "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json(&twinsync(d, "bob", &["lock", "status", "--json"]))["held"], false);
    // Releasing a free lock says so.
    let out = twinsync(d, "alice", &["lock", "release"]);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not held"));
}

#[test]
fn an_expired_lock_can_be_taken_by_someone_else() {
    let dir = project();
    let d = dir.path();
    assert_eq!(code(&twinsync(d, "alice", &["lock", "acquire", "--ttl", "300ms"])), 0);
    assert_eq!(code(&twinsync(d, "bob", &["lock", "acquire"])), 1);
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_eq!(json(&twinsync(d, "bob", &["lock", "status", "--json"]))["held"], false);
    let out = twinsync(d, "bob", &["lock", "acquire", "--json"]);
    assert_eq!(code(&out), 0);
    assert_eq!(json(&out)["lock"]["owner"], "bob");
    assert_eq!(code(&twinsync(d, "alice", &["lock", "renew"])), 1, "alice's lapsed lock cannot be renewed");
}

#[test]
fn force_release_clears_anyones_lock_and_is_audited() {
    let dir = project();
    let d = dir.path();
    assert_eq!(code(&twinsync(d, "alice", &["lock", "acquire", "--reason", "long job"])), 0);
    let out = twinsync(d, "bob", &["lock", "release", "--force", "--reason", "alice is on holiday"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("recorded in the audit log"));
    assert_eq!(json(&twinsync(d, "bob", &["lock", "status", "--json"]))["held"], false);

    let mut p = twinsync::Project::open(d).unwrap();
    let log = p.store().audit_log(20).unwrap();
    let forced = log.iter().find(|r| r.action == "lock.force_release").expect("force release audited");
    assert_eq!(forced.actor, "bob");
    let detail = forced.detail.as_deref().unwrap();
    assert!(detail.contains("alice") && detail.contains("alice is on holiday"), "{detail}");
}

#[test]
fn bad_durations_and_missing_projects_are_clear_errors() {
    let dir = project();
    let out = twinsync(dir.path(), "alice", &["lock", "acquire", "--ttl", "soon"]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("90s, 30m, 2h"), "{}", String::from_utf8_lossy(&out.stderr));
    let empty = tempfile::tempdir().unwrap();
    let out = twinsync(empty.path(), "alice", &["lock", "status"]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("twinsync init"));
}
