//! The daily digest, against the real receiver (Standard Webhooks reference verifier):
//! with a manual clock, a day of syncs — edits and a conflict — sends `sync_completed`
//! at once and everything opted into the digest as exactly one signed `digest` message
//! at 09:00 Europe/Paris, counts and conflicts first.

mod common;

use std::time::Duration;

use common::receiver::Receiver;
use twinsync::core::{Clock, ManualClock, Timestamp};
use twinsync::{Project, SyncRequest};

const HOUR: i64 = 3_600_000;
/// 2026-01-15T08:30:00Z: 09:30 in Paris (UTC+1 in winter), just after that day's digest time.
const START: i64 = 1_768_465_800_000;
/// 2026-01-16T08:00:00Z: 09:00 in Paris the next day.
const DIGEST_AT: i64 = 1_768_550_400_000;

fn project(url: &str, secret: &str) -> (tempfile::TempDir, Project, ManualClock) {
    let dir = tempfile::tempdir().unwrap();
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(side)).unwrap();
    }
    std::fs::write(dir.path().join("secret.txt"), secret).unwrap();
    let mut config = twinsync::Config::new("a", "b");
    config.store.project = Some("acme".into());
    config.notify.digest_at = Some("09:00".into());
    config.notify.timezone = Some("Europe/Paris".into());
    config.notify.webhooks.push(twinsync::config::WebhookConfig {
        name: "team".into(),
        url: url.into(),
        secret_env: None,
        secret_file: Some("secret.txt".into()),
        categories: vec!["sync_completed".into()],
        digest: vec!["doc:updated".into(), "conflict_detected".into()],
        format: Default::default(),
        timeout_secs: 5,
    });
    let mut p = Project::init_with(dir.path(), config).unwrap();
    let clock = ManualClock::new(Timestamp::from_millis(START));
    p.set_clock(Box::new(clock.clone()));
    (dir, p, clock)
}

fn of_type(rx: &Receiver, ty: &str) -> Vec<serde_json::Value> {
    rx.messages().into_iter().filter(|m| m["type"] == ty && m["answer"] == 200).collect()
}

#[test]
fn one_day_of_events_gives_exactly_one_digest_at_the_configured_hour() {
    let secret = twinsync::new_secret();
    let rx = Receiver::start(secret.expose(), 0, 0);
    let (dir, mut p, clock) = project(&rx.url(), secret.expose());
    let root = dir.path();

    // Every hour for a day: an edit synced, then a delivery round.
    let mut syncs = 0;
    for hour in 0..24 {
        std::fs::write(root.join(format!("a/note{hour:02}.md")), format!("# {hour}\n")).unwrap();
        if hour == 5 {
            // Both sides change one file since it was last in sync: a conflict.
            std::fs::write(root.join("a/note00.md"), "left\n").unwrap();
            std::fs::write(root.join("b/note00.md"), "right\n").unwrap();
        }
        p.sync(&SyncRequest::default()).unwrap();
        syncs += 1;
        p.notify_run_once().unwrap();
        rx.wait_for_accepted(syncs, Duration::from_secs(20));
        assert!(of_type(&rx, "digest").is_empty(), "no digest before 09:00 the next day (hour {hour})");
        clock.advance(HOUR - 60_000);
    }
    // 2026-01-16T08:29Z = 09:29 Paris: past the digest time.
    assert!(clock.now().millis() > DIGEST_AT && clock.now().millis() < DIGEST_AT + HOUR);
    for _ in 0..3 {
        p.notify_run_once().unwrap();
        clock.advance(60_000);
    }
    let all = rx.wait_for_accepted(syncs + 1, Duration::from_secs(20));
    assert!(rx.messages().iter().all(|m| m["bad"].is_null()), "every signature verified");
    assert_eq!(of_type(&rx, "sync_completed").len(), syncs, "sync_completed went at once");
    assert!(
        of_type(&rx, "doc:updated").is_empty() && of_type(&rx, "conflict_detected").is_empty(),
        "digest types never went at once"
    );
    let digests = of_type(&rx, "digest");
    assert_eq!(digests.len(), 1, "{all:?}");
    let d = &digests[0]["data"]["payload"];
    assert_eq!(d["endpoint"], "team");
    assert_eq!(d["timezone"], "Europe/Paris");
    assert_eq!(d["to"], "2026-01-16T08:00:00.000Z", "09:00 in Paris");
    // The counts are the outbox's, type by type, over the day before 09:00.
    let outbox = p.events(0, 10_000).unwrap();
    let count =
        |ty: &str| outbox.iter().filter(|e| e.event_type.as_str() == ty && e.time.millis() <= DIGEST_AT).count();
    assert!(count("doc:updated") >= 24 && count("conflict_detected") >= 1, "the day had edits and a conflict");
    assert_eq!(d["counts"]["doc:updated"], count("doc:updated"), "{d}");
    assert_eq!(d["counts"]["conflict_detected"], count("conflict_detected"), "{d}");
    assert_eq!(d["total"], count("doc:updated") + count("conflict_detected"));
    assert_eq!(d["top"][0]["type"], "conflict_detected", "conflicts first: {d}");
    assert_eq!(d["top"][0]["key"], "note00.md");
    assert_eq!(d["top"].as_array().unwrap().len(), twinsync::TOP_DIGEST_ITEMS);

    // The rest of that day: no second digest.
    for _ in 0..20 {
        clock.advance(HOUR);
        p.notify_run_once().unwrap();
    }
    assert_eq!(of_type(&rx, "digest").len(), 1, "one digest a day");

    // A month on, a sync prunes the outbox and the finished deliveries with it
    // (`[events] retention_days`, 30 by default).
    clock.advance(31 * 24 * HOUR);
    std::fs::write(root.join("a/late.md"), "late\n").unwrap();
    p.sync(&SyncRequest::default()).unwrap();
    assert!(p.notify_status(None, None, 1000).unwrap().is_empty(), "sent deliveries went with their events");
    let cutoff = clock.now().millis() - 30 * 24 * HOUR;
    assert!(p.events(0, 10_000).unwrap().iter().all(|e| e.time.millis() >= cutoff), "old events went");
}

#[test]
fn a_bad_digest_time_zone_or_an_overlap_is_a_config_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(side)).unwrap();
    }
    Project::init_with(dir.path(), twinsync::Config::new("a", "b")).unwrap();
    let config = dir.path().join(".twinsync/config.toml");
    let base = std::fs::read_to_string(&config).unwrap();
    let hook = "[[notify.webhooks]]\nname = \"team\"\nurl = \"http://127.0.0.1:9/h\"\nsecret_env = \"X\"\n";
    for (extra, expected) in [
        ("[notify]\ntimezone = \"Mars/Olympus\"\n", "timezone = \"Mars/Olympus\""),
        ("[notify]\ndigest_at = \"9am\"\n", "notify.digest_at = \"9am\": expected HH:MM"),
        (
            &format!("{hook}categories = [\"drift_detected\"]\ndigest = [\"drift_detected\"]\n") as &str,
            "webhook team: drift_detected is in both categories and digest",
        ),
        (&format!("{hook}categories = []\ndigest = [\"nonsense\"]\n") as &str, "webhook team: "),
    ] {
        std::fs::write(&config, format!("{base}\n{extra}")).unwrap();
        let e = Project::open(dir.path()).err().expect("refused").to_string();
        assert!(e.contains(expected) && e.contains("config.toml"), "{e}");
    }
}
