//! `twinsync test-session` end to end: sessions started and finished from separate
//! processes, read back, listed by story; a failure is a `browser_test_failure` event in
//! the outbox with the session's summary, a pass is not; a session finishes once.

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

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let out = ok(run(dir, args));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn sessions_start_finish_and_a_failure_is_an_event() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for side in ["a", "b"] {
        std::fs::create_dir(root.join(side)).unwrap();
    }
    ok(run(root, &["init", "a", "b"]));

    let id = String::from_utf8(ok(run(root, &["test-session", "start", "button--primary"])).stdout).unwrap();
    let id = id.trim().to_string();
    assert!(id.starts_with("bts_"), "{id}");
    let started = json(root, &["--json", "test-session", "show", &id]);
    assert_eq!((started["status"].as_str(), started["story_id"].as_str()), (Some("running"), Some("button--primary")));
    assert_eq!(started["correlation_id"], id.as_str(), "its own id by default");
    assert!(started["ended_at"].is_null() && started["latency_ms"].is_null());

    std::fs::write(root.join("perf.json"), r#"{"lcp_ms": 812.5, "steps": 14}"#).unwrap();
    let failed =
        json(root, &["--json", "test-session", "finish", &id, "--status", "failed", "--performance", "@perf.json"]);
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["performance"]["lcp_ms"], 812.5);
    assert!(failed["latency_ms"].as_i64().unwrap() >= 0);

    let again = run(root, &["test-session", "finish", &id, "--status", "passed"]);
    assert!(!again.status.success());
    let e = String::from_utf8_lossy(&again.stderr);
    assert!(e.contains(&format!("test session {id} already finished: failed")), "{e}");

    let other = json(root, &["--json", "test-session", "start", "card--default", "--correlation-id", "run-42"]);
    let other_id = other["id"].as_str().unwrap();
    assert_eq!(other["correlation_id"], "run-42");
    ok(run(root, &["test-session", "finish", other_id, "--status", "passed", "--performance", r#"{"lcp_ms": 300}"#]));
    let bad = run(root, &["test-session", "finish", other_id, "--status", "done"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown test session status \"done\""));
    let missing = run(root, &["test-session", "show", "bts_nope"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no test session bts_nope"));

    let all = json(root, &["--json", "test-session", "list"]);
    let ids: Vec<&str> = all["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    let buttons = json(root, &["--json", "test-session", "list", "--story", "button--primary"]);
    assert_eq!(buttons["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(buttons["sessions"][0]["id"], id.as_str());

    let events = String::from_utf8(ok(run(root, &["events", "--json"])).stdout).unwrap();
    let failures: Vec<Value> = events
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["type"] == "browser_test_failure")
        .collect();
    assert_eq!(failures.len(), 1, "the failure only, not the pass: {events}");
    let f = &failures[0];
    assert_eq!(f["payload"]["session_id"], id.as_str());
    assert_eq!(f["payload"]["story_id"], "button--primary");
    assert_eq!(f["payload"]["performance"]["steps"], 14);
    assert_eq!(f["correlation_id"], id.as_str());
}
