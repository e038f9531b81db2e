//! Webhooks as users rely on them, against a real receiver on 127.0.0.1 that verifies
//! every signature with the Standard Webhooks reference library.

mod common;

use std::time::Duration;

use common::receiver::Receiver;
use twinsync::core::delivery::DeliveryStatus;
use twinsync::core::{ManualClock, Timestamp};
use twinsync::{Project, SyncRequest};

const SECRET_ENV: &str = "TWINSYNC_TEST_WEBHOOK_SECRET";

/// A project syncing a/ and b/, with a webhook to `url` for `categories`.
fn project(url: &str, categories: &[&str], secret: &str) -> (tempfile::TempDir, Project) {
    let dir = tempfile::tempdir().unwrap();
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(side)).unwrap();
    }
    std::fs::write(dir.path().join("a/one.md"), "# one\n").unwrap();
    std::fs::write(dir.path().join("secret.txt"), secret).unwrap();
    let mut config = twinsync::Config::new("a", "b");
    config.store.project = Some("acme".into());
    config.notify.webhooks.push(twinsync::config::WebhookConfig {
        name: "team".into(),
        url: url.into(),
        secret_env: None,
        secret_file: Some("secret.txt".into()),
        categories: categories.iter().map(|c| c.to_string()).collect(),
        digest: Vec::new(),
        format: Default::default(),
        timeout_secs: 5,
    });
    let p = Project::init_with(dir.path(), config).unwrap();
    (dir, p)
}

#[test]
fn a_sync_completed_arrives_signed_and_opted_out_types_never_do() {
    let secret = twinsync::new_secret();
    let rx = Receiver::start(secret.expose(), 0, 0);
    let (dir, mut p) = project(&rx.url(), &["sync_completed", "conflict_detected"], secret.expose());
    let report = p.sync(&SyncRequest::default()).unwrap();
    let run = p.notify_run_once().unwrap();
    assert_eq!((run.queued, run.sent), (1, 1), "{run:?}");
    let got = rx.wait_for_accepted(1, Duration::from_secs(20));
    assert_eq!(got[0]["type"], "sync_completed");
    assert_eq!(got[0]["data"]["payload"]["operation_id"], report.operation_id.as_str());
    assert_eq!(got[0]["data"]["project"], "acme");
    let id = got[0]["id"].as_str().unwrap();
    let event_id = p.events(0, 100).unwrap().iter().find(|e| e.event_type.as_str() == "sync_completed").unwrap().id;
    assert_eq!(id, format!("evt_acme_{event_id}"), "the webhook-id is the event's");
    assert!(rx.messages().iter().all(|m| m["bad"].is_null()), "every signature verified: {:?}", rx.messages());
    let status = p.notify_status(None, None, 10).unwrap();
    assert_eq!(status.len(), 1, "sync_started, doc:updated and drift_detected were not opted in");
    assert_eq!((status[0].status, status[0].attempts, status[0].last_status), (DeliveryStatus::Sent, 1, Some(200)));
    // Another run sends nothing again.
    assert_eq!(p.notify_run_once().unwrap().sent, 0);
    // The secret is in no event, no delivery record, and not in the store's bytes.
    let store_bytes: Vec<u8> = std::fs::read_dir(dir.path().join(".twinsync"))
        .unwrap()
        .filter_map(|e| std::fs::read(e.unwrap().path()).ok())
        .flatten()
        .collect();
    let needle = &secret.expose().as_bytes()[6..];
    assert!(!store_bytes.windows(needle.len()).any(|w| w == needle), "the secret is not in the store");
    assert!(!format!("{:?}", p.notify_endpoints().unwrap()).contains(&secret.expose()[6..]));
}

#[test]
fn failures_retry_on_the_schedule_until_the_receiver_takes_it() {
    let secret = twinsync::new_secret();
    let rx = Receiver::start(secret.expose(), 2, 0);
    let (_dir, mut p) = project(&rx.url(), &["sync_completed"], secret.expose());
    let clock = ManualClock::new(Timestamp::from_millis(1_800_000_000_000));
    p.set_clock(Box::new(clock.clone()));
    p.sync(&SyncRequest::default()).unwrap();
    let first = p.notify_run_once().unwrap();
    assert_eq!((first.sent, first.retrying), (0, 1));
    assert_eq!(p.notify_run_once().unwrap().retrying, 0, "not due yet: nothing is sent again");
    clock.advance(6_001); // past 5 s (+ up to 20 % jitter)
    assert_eq!(p.notify_run_once().unwrap().retrying, 1, "second attempt: 500 again");
    clock.advance(60_000);
    assert_eq!(p.notify_run_once().unwrap().sent, 0, "the next wait is 5 minutes");
    clock.advance(300_000);
    assert_eq!(p.notify_run_once().unwrap().sent, 1);
    let d = &p.notify_status(Some("team"), None, 10).unwrap()[0];
    assert_eq!((d.status, d.attempts, d.last_status), (DeliveryStatus::Sent, 3, Some(200)));
    // The receiver prints each message before it answers, but the line reaches this
    // process through a pipe and a reader thread, which may lag the answer.
    rx.wait_for_accepted(1, Duration::from_secs(20));
    let msgs = rx.messages();
    assert_eq!(msgs.len(), 3, "three attempts: {msgs:?}");
    assert!(msgs.iter().all(|m| m["id"] == msgs[0]["id"]), "one webhook-id for every attempt");
    assert_eq!(msgs.iter().filter(|m| m["first"] == true).count(), 1, "processed once");
}

#[test]
fn an_unreachable_endpoint_fails_after_eight_attempts_and_retry_requeues_it() {
    let secret = twinsync::new_secret();
    // Nothing listens on this port: every attempt fails to connect.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/hook?token=very-secret-path", dead.local_addr().unwrap().port());
    drop(dead);
    let (_dir, mut p) = project(&url, &["sync_completed"], secret.expose());
    let clock = ManualClock::new(Timestamp::from_millis(1_800_000_000_000));
    p.set_clock(Box::new(clock.clone()));
    p.sync(&SyncRequest::default()).unwrap();
    for _ in 0..8 {
        p.notify_run_once().unwrap();
        clock.advance(13 * 3_600_000);
    }
    let d = p.notify_status(Some("team"), None, 10).unwrap().remove(0);
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 8));
    let error = d.last_error.clone().unwrap();
    assert!(!error.contains("very-secret-path"), "errors never show the URL: {error}");
    let again = p.notify_retry("team", d.event_id).unwrap();
    assert_eq!((again.status, again.attempts), (DeliveryStatus::Queued, 0));
}

#[test]
fn a_missing_secret_is_an_error_naming_the_webhook() {
    let (dir, p) = project("http://127.0.0.1:9/hook", &["sync_completed"], "whsec_YWJj");
    let e = p.notify_endpoints().unwrap_err().to_string();
    assert!(e.contains("webhook team") && e.contains("24 bytes") && !e.contains("YWJj"), "{e}");
    std::fs::remove_file(dir.path().join("secret.txt")).unwrap();
    let e = p.notify_endpoints().unwrap_err().to_string();
    assert!(e.contains("webhook team") && e.contains("secret.txt"), "{e}");
    let _ = SECRET_ENV;
}

#[test]
fn watch_delivers_webhooks_while_it_syncs() {
    let secret = twinsync::new_secret();
    let rx = Receiver::start(secret.expose(), 0, 0);
    let (dir, p) = project(&rx.url(), &["sync_completed"], secret.expose());
    let opts = twinsync::WatchOptions {
        debounce: Duration::from_millis(50),
        period: Duration::from_secs(3600),
        ..Default::default()
    };
    let watch = p.watch(opts, Box::new(|_| {})).unwrap();
    // The start pass syncs one.md: its sync_completed reaches the receiver with no `notify run`.
    let got = rx.wait_for_accepted(1, Duration::from_secs(20));
    assert_eq!(got[0]["type"], "sync_completed");
    // A later edit's sync arrives too.
    std::fs::write(dir.path().join("a/two.md"), "# two\n").unwrap();
    let got = rx.wait_for_accepted(2, Duration::from_secs(20));
    assert_eq!(got[1]["type"], "sync_completed");
    assert!(rx.messages().iter().all(|m| m["bad"].is_null()), "every signature verified");
    watch.stop().unwrap();
}
