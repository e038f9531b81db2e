//! `twinsync metrics` end to end: the output parses with the Prometheus client's strict
//! OpenMetrics parser (Python `prometheus_client`, from the venv `.ci/run` makes:
//! TWINSYNC_TEST_PYTHON; this test fails, never skips, without it), and the counters move
//! as syncs, an undo and a browser test session run in other processes. `--log-format
//! json` writes one JSON line per action with the seed's fields.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn python() -> String {
    std::env::var("TWINSYNC_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync"))
        .args(args)
        .current_dir(dir)
        .env_remove("TWINSYNC_STORE_URL")
        .env_remove("TWINSYNC_LOG")
        .env_remove("TWINSYNC_LOG_FORMAT")
        .output()
        .unwrap()
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

/// The samples of `twinsync metrics`, as the Prometheus parser read them.
fn scrape(dir: &Path) -> Value {
    let text = ok(run(dir, &["metrics"])).stdout;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/metrics_parse.py");
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the output (or is missing: `python3 -m venv V && V/bin/pip install \
         prometheus-client`, TWINSYNC_TEST_PYTHON=V/bin/python; .ci/run does this):\n{}\n---\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&text)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sample(m: &Value, key: &str) -> f64 {
    m["samples"][key].as_f64().unwrap_or(0.0)
}

#[test]
fn the_exposition_parses_and_counters_move_across_processes() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for side in ["a", "b"] {
        std::fs::create_dir(root.join(side)).unwrap();
    }
    ok(run(root, &["init", "a", "b"]));

    let m0 = scrape(root);
    for (family, ty) in [
        ("twinsync_operations", "counter"),
        ("design_sync_duration_ms", "histogram"),
        ("design_sync_components_count", "gauge"),
        ("design_drift_false_positive_ratio", "gauge"),
        ("design_undo_success", "counter"),
        ("design_notifications_failed", "counter"),
        ("browser_test_session_latency_ms", "histogram"),
        ("twinsync_outbox_last_event_id", "gauge"),
    ] {
        assert_eq!(m0["types"][family], ty, "{family}: {m0}");
    }
    assert_eq!(sample(&m0, "twinsync_operations_total{pair=default,status=completed}"), 0.0);

    std::fs::write(root.join("a/one.md"), "1\n").unwrap();
    std::fs::write(root.join("a/two.md"), "2\n").unwrap();
    let sync = ok(run(root, &["--json", "--log-format", "json", "sync"]));
    let m1 = scrape(root);
    assert_eq!(sample(&m1, "twinsync_operations_total{pair=default,status=completed}"), 1.0);
    assert_eq!(sample(&m1, "twinsync_sync_items_total{outcome=applied,pair=default}"), 2.0);
    assert_eq!(sample(&m1, "design_sync_duration_ms_count{}"), 1.0);
    assert_eq!(sample(&m1, "design_sync_components_count{pair=default}"), 2.0);
    assert!(sample(&m1, "twinsync_outbox_last_event_id{}") > sample(&m0, "twinsync_outbox_last_event_id{}"));

    // The sync's log line: JSON with the seed's fields.
    let stderr = String::from_utf8(sync.stderr).unwrap();
    let line: Value = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["action"] == "sync")
        .unwrap_or_else(|| panic!("a JSON log line for the sync: {stderr}"));
    let report: Value = serde_json::from_slice(&sync.stdout).unwrap();
    assert_eq!(
        line["correlation_id"], report["pairs"][0]["report"]["operation_id"],
        "the operation is the correlation id: {line}"
    );
    assert_eq!((line["applied"].as_u64(), line["pair"].as_str()), (Some(2), Some("default")), "{line}");
    assert!(line["actor"].is_string() && line["duration_ms"].is_u64() && line["level"] == "INFO", "{line}");

    // Another process syncs an edit, another undoes it, another records a failed session.
    std::fs::write(root.join("a/one.md"), "1 again\n").unwrap();
    ok(run(root, &["sync"]));
    ok(run(root, &["undo"]));
    let id = String::from_utf8(ok(run(root, &["test-session", "start", "button--primary"])).stdout).unwrap();
    ok(run(root, &["test-session", "finish", id.trim(), "--status", "failed"]));
    let m2 = scrape(root);
    assert_eq!(sample(&m2, "twinsync_operations_total{pair=default,status=completed}"), 2.0, "{m2}");
    assert_eq!(sample(&m2, "twinsync_sync_items_total{outcome=applied,pair=default}"), 3.0);
    assert_eq!(sample(&m2, "design_sync_duration_ms_count{}"), 2.0);
    assert_eq!(sample(&m2, "design_undo_success_total{}"), 1.0);
    assert_eq!(sample(&m2, "browser_test_session_latency_ms_count{}"), 1.0);
    assert_eq!(sample(&m2, "twinsync_browser_test_sessions_total{status=failed}"), 1.0);
    assert_eq!(sample(&m2, "design_notifications_failed_total{}"), 0.0);
    assert!(sample(&m2, "twinsync_outbox_last_event_id{}") > sample(&m1, "twinsync_outbox_last_event_id{}"));
}

#[test]
fn a_bad_log_filter_or_format_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &["--log-format", "yaml", "hash", "x"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("log format \"yaml\": expected text or json"));
}
