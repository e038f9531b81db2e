//! The nightly sync with a real client and a real server whose clock the test holds: a
//! due schedule runs a real sync (history shows it, trigger and actor `schedule`), the schedule
//! survives a restart, and bad settings are refused.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::*;
use twinsync::core::{ManualClock, Timestamp};
use twinsync_server::{ServeOptions, Server};

fn at(rfc3339: &str) -> Timestamp {
    Timestamp::parse_rfc3339(rfc3339).unwrap()
}

fn clocked(data: &Path, clock: &ManualClock) -> Server {
    let mut opts = ServeOptions::new("127.0.0.1:0".parse().unwrap(), data.to_path_buf());
    opts.clock = Some(clock.clone());
    // Looks at the test's clock often, so moving it counts at once.
    opts.schedule_tick = Duration::from_millis(20);
    Server::start(opts).unwrap()
}

/// The finished operations in history by the scheduler, polled until there are `want`
/// (or the deadline).
fn scheduled_ops(s: &Server, id: &str, want: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, h) = call(ureq::get(&url(s, &format!("/projects/{id}/history"))), None);
        let ops: Vec<Value> = h["operations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["actor"] == "schedule" && o["status"] != "running")
            .cloned()
            .collect();
        if ops.len() >= want {
            return ops;
        }
        assert!(Instant::now() < deadline, "no scheduled sync ran: {h}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_due_nightly_schedule_runs_a_real_sync_and_survives_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "docs");
    let data = tmp.path().join("data");
    let clock = ManualClock::new(at("2026-03-10T00:30:00Z"));
    let s = clocked(&data, &clock);
    let id = register(&s, &dir, None);
    let sched = url(&s, &format!("/projects/{id}/schedule"));

    let (st, v) = call(ureq::get(&sched), None);
    assert_eq!((st, v["nightly"].clone(), v["at"].clone()), (200, json!(false), json!("02:00")), "off at first: {v}");
    // 03:00 in Paris is 02:00 UTC in March (before the DST change).
    let (st, v) = call(ureq::post(&sched), Some(json!({"nightly": true, "at": "03:00", "timezone": "Europe/Paris"})));
    assert_eq!(st, 200, "{v}");
    assert_eq!((v["nightly"].as_bool(), v["timezone"].as_str()), (Some(true), Some("Europe/Paris")));
    assert_eq!(v["nextRunAt"], "2026-03-10T02:00:00.000Z", "{v}");
    assert!(!dir.join("b/one.md").exists(), "nothing runs before its time");

    // The night comes: the scheduler wakes and syncs through the facade.
    clock.set(at("2026-03-10T02:00:05Z"));
    let ops = scheduled_ops(&s, &id, 1);
    assert_eq!(ops[0]["counts"]["applied"], 1, "{ops:?}");
    assert_eq!(ops[0]["trigger"], "schedule", "{ops:?}");
    assert_eq!(std::fs::read_to_string(dir.join("b/one.md")).unwrap(), "# one\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    let v = loop {
        let (_, v) = call(ureq::get(&sched), None);
        if v["lastRun"].is_object() {
            break v;
        }
        assert!(Instant::now() < deadline, "the run was not recorded: {v}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(v["lastRun"]["operations"], json!([ops[0]["operation_id"]]), "{v}");
    assert_eq!(v["lastRun"]["slot"], "2026-03-10T02:00:00.000Z");
    assert_eq!(v["nextRunAt"], "2026-03-11T02:00:00.000Z", "{v}");
    s.stop().unwrap();

    // Restarted: the schedule is still on, and the night that already ran does not run again.
    std::fs::write(dir.join("a/two.md"), "# two\n").unwrap();
    let s = clocked(&data, &clock);
    let (_, again) = call(ureq::get(&url(&s, &format!("/projects/{id}/schedule"))), None);
    assert_eq!(again, v, "kept across the restart");
    // The next night runs the new file over, after a restart.
    clock.set(at("2026-03-11T02:00:01Z"));
    let ops = scheduled_ops(&s, &id, 2);
    assert_eq!(ops.len(), 2, "one run per night: {ops:?}");
    assert!(dir.join("b/two.md").exists());

    // Off: no next run.
    let (st, v) = call(ureq::post(&url(&s, &format!("/projects/{id}/schedule"))), Some(json!({"nightly": false})));
    assert_eq!((st, v["nightly"].as_bool(), v.get("nextRunAt")), (200, Some(false), None), "{v}");
    assert_eq!(v["timezone"], "Europe/Paris", "settings left out are kept");
    s.stop().unwrap();
}

#[test]
fn bad_schedules_are_refused_with_the_setting_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project(tmp.path(), "docs");
    let bare = tmp.path().join("bare");
    std::fs::create_dir(&bare).unwrap();
    let s = server(&tmp.path().join("data"));
    let id = register(&s, &dir, None);
    let bare_id = register(&s, &bare, None);
    let post = |id: &str, body: Value| call(ureq::post(&url(&s, &format!("/projects/{id}/schedule"))), Some(body));

    for (body, names) in [
        (json!({"nightly": true, "at": "25:00"}), "HH:MM"),
        (json!({"nightly": true, "at": "2am"}), "2am"),
        (json!({"nightly": true, "timezone": "Mars/Olympus"}), "Mars/Olympus"),
        (json!({"nightly": "yes"}), "nightly"),
        (json!({"at": "02:00"}), "nightly"),
        (json!({"nightly": true, "when": "02:00"}), "when"),
    ] {
        let (st, v) = post(&id, body.clone());
        assert_eq!((st, v["error"]["code"].as_str()), (400, Some("INVALID_INPUT")), "{body}: {v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(names), "{body}: {v}");
    }
    let (st, v) = post("nope", json!({"nightly": true}));
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("NOT_FOUND")), "{v}");
    let (st, _) = call(ureq::get(&url(&s, "/projects/nope/schedule")), None);
    assert_eq!(st, 404);
    let (st, v) = post(&bare_id, json!({"nightly": true}));
    assert_eq!(st, 404, "a folder that is not a project cannot sync at night: {v}");
    let (_, v) = call(ureq::get(&url(&s, &format!("/projects/{id}/schedule"))), None);
    assert_eq!(v["nightly"], false, "nothing refused was kept: {v}");
    s.stop().unwrap();
}
