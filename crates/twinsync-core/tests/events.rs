//! Event delivery users rely on: per-category opt-in, channel delivery, failed
//! deliveries queued and retried with backoff until a maximum, payloads without secrets.

use serde::Serialize;
use twinsync_core::event::{
    ChannelTransport, CollectingTransport, CredentialState, Delivery, EventCategory, EventEnvelope, NotificationStatus,
    Notifier, RetryPolicy, RetryReport, Subscriptions,
};
use twinsync_core::secret::Secret;
use twinsync_core::{MemoryStore, Store, Timestamp};

const T0: i64 = 1_795_000_000_000;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(T0 + ms)
}

fn status_of(store: &MemoryStore, id: &str) -> Option<NotificationStatus> {
    use NotificationStatus::*;
    [Queued, Retrying, Sent, Failed].into_iter().find(|s| store.events(*s, 100).unwrap().iter().any(|e| e.id == id))
}

#[test]
fn only_subscribed_categories_are_delivered() {
    let mut store = MemoryStore::new();
    let transport = CollectingTransport::new();
    let notifier = Notifier::new(&transport, Subscriptions::none().with(EventCategory::Conflict));
    let conflict = EventEnvelope::conflict(at(0), "op-1", "docs", "intro.md", "modified on both sides");
    let started = EventEnvelope::sync_started(at(0), "op-1", "docs", "manual");
    assert_eq!(notifier.notify(&mut store, &started).unwrap(), Delivery::NotSubscribed);
    assert_eq!(notifier.notify(&mut store, &conflict).unwrap(), Delivery::Sent);
    assert_eq!(transport.events(), vec![conflict]);
    assert!(store.events(NotificationStatus::Queued, 10).unwrap().is_empty(), "opt-out is not queued either");

    let all_but = Subscriptions::all().without(EventCategory::Digest);
    let notifier = Notifier::new(&transport, all_but);
    let digest = EventEnvelope::digest(at(1), "daily", &serde_json::json!({"syncs": 3})).unwrap();
    assert_eq!(notifier.notify(&mut store, &digest).unwrap(), Delivery::NotSubscribed);
    assert_eq!(notifier.notify(&mut store, &started).unwrap(), Delivery::Sent);
}

#[test]
fn subscriptions_are_a_list_of_snake_case_names() {
    let subs = Subscriptions::none().with(EventCategory::SyncFailed).with(EventCategory::LockAcquired);
    assert_eq!(serde_json::to_string(&subs).unwrap(), r#"["sync_failed","lock_acquired"]"#);
    let back: Subscriptions = serde_json::from_str(r#"["lock_acquired","sync_failed"]"#).unwrap();
    assert_eq!(back, subs);
    assert_eq!(serde_json::to_value(Subscriptions::all()).unwrap().as_array().unwrap().len(), 12);
    assert_eq!(serde_json::to_string(&Subscriptions::none()).unwrap(), "[]");
    let err = serde_json::from_str::<Subscriptions>(r#"["sync_failed","lock_stolen"]"#).unwrap_err();
    assert!(err.to_string().contains("lock_stolen"), "{err}");

    assert_eq!("all".parse::<Subscriptions>().unwrap(), Subscriptions::all());
    assert_eq!("none".parse::<Subscriptions>().unwrap(), Subscriptions::none());
    assert_eq!("sync_failed, lock_acquired".parse::<Subscriptions>().unwrap(), subs);
    let err = "drift,drfit".parse::<Subscriptions>().unwrap_err();
    assert!(err.to_string().contains("\"drfit\"") && err.to_string().contains("expected one of"), "{err}");
}

#[test]
fn channel_transport_delivers_to_another_thread() {
    let mut store = MemoryStore::new();
    let (transport, rx) = ChannelTransport::unbounded();
    let consumer = std::thread::spawn(move || rx.iter().map(|e| e.category).collect::<Vec<_>>());
    {
        let notifier = Notifier::new(&transport, Subscriptions::all());
        for i in 0..3 {
            let e = EventEnvelope::sync_started(at(i), &format!("op-{i}"), "docs", "watch");
            assert_eq!(notifier.notify(&mut store, &e).unwrap(), Delivery::Sent);
        }
    }
    drop(transport);
    assert_eq!(consumer.join().unwrap(), vec![EventCategory::SyncStarted; 3]);
}

#[test]
fn retries_back_off_exponentially_and_stop_at_the_maximum() {
    let mut store = MemoryStore::new();
    let (transport, rx) = ChannelTransport::bounded(4);
    drop(rx); // The consumer is gone: every send fails for real.
    let policy = RetryPolicy { max_attempts: 4, base_delay_ms: 1000, max_delay_ms: 3000 };
    let notifier = Notifier::new(&transport, Subscriptions::all()).with_retry(policy);
    let event = EventEnvelope::sync_failed(at(0), "op-9", "docs", "replica offline");
    match notifier.notify(&mut store, &event).unwrap() {
        Delivery::Queued { error } => assert!(error.contains("receiver is gone"), "{error}"),
        other => panic!("expected queued, got {other:?}"),
    }
    assert_eq!(status_of(&store, &event.id), Some(NotificationStatus::Retrying));

    let waiting = RetryReport { waiting: 1, ..Default::default() };
    let retried = RetryReport { retrying: 1, ..Default::default() };
    // Attempt 1 failed at 0: next due at +1 s; attempt 2 fails at 1 s: next due at +2 s;
    // attempt 3 fails at 3 s: next due at +4 s capped to 3 s; attempt 4 is the last.
    assert_eq!(notifier.retry_pending(&mut store, at(999)).unwrap(), waiting);
    assert_eq!(notifier.retry_pending(&mut store, at(1000)).unwrap(), retried);
    assert_eq!(notifier.retry_pending(&mut store, at(2999)).unwrap(), waiting);
    assert_eq!(notifier.retry_pending(&mut store, at(3000)).unwrap(), retried);
    assert_eq!(notifier.retry_pending(&mut store, at(5999)).unwrap(), waiting);
    assert_eq!(notifier.retry_pending(&mut store, at(6000)).unwrap(), RetryReport { failed: 1, ..Default::default() });
    assert_eq!(status_of(&store, &event.id), Some(NotificationStatus::Failed));
    // Failed is final: later passes leave it alone.
    assert_eq!(notifier.retry_pending(&mut store, at(1_000_000)).unwrap(), RetryReport::default());
}

#[test]
fn a_full_channel_is_retried_once_the_consumer_catches_up() {
    let mut store = MemoryStore::new();
    let (transport, rx) = ChannelTransport::bounded(1);
    let notifier = Notifier::new(&transport, Subscriptions::all());
    let first = EventEnvelope::doc_updated(at(0), "op-1", "docs/a.md", None);
    let second = EventEnvelope::doc_updated(at(1), "op-1", "docs/b.md", None);
    assert_eq!(notifier.notify(&mut store, &first).unwrap(), Delivery::Sent);
    assert!(
        matches!(notifier.notify(&mut store, &second).unwrap(), Delivery::Queued { ref error } if error.contains("full"))
    );
    assert_eq!(rx.try_recv().unwrap(), first);
    assert_eq!(
        notifier.retry_pending(&mut store, at(1 + 1000)).unwrap(),
        RetryReport { sent: 1, ..Default::default() }
    );
    assert_eq!(rx.try_recv().unwrap(), second);
    assert_eq!(status_of(&store, &second.id), Some(NotificationStatus::Sent));
}

#[test]
fn events_queued_by_others_are_picked_up_and_unsubscribed_ones_left_alone() {
    let mut store = MemoryStore::new();
    let queued = EventEnvelope::sync_started(at(0), "op-1", "docs", "cron");
    let retrying = EventEnvelope::conflict(at(0), "op-1", "docs", "a.md", "both changed");
    let other = EventEnvelope::test_failure(at(0), "ci", "Button", "renders", "boom");
    for e in [&queued, &retrying, &other] {
        store.enqueue_event(e).unwrap();
    }
    // As the engine does after a failed send.
    store.set_event_status(&retrying.id, NotificationStatus::Retrying, 1, Some("timeout")).unwrap();
    let transport = CollectingTransport::new();
    let notifier = Notifier::new(&transport, Subscriptions::all().without(EventCategory::TestFailure));
    // Queued ones are due at once; the retrying one after the first backoff (1 s).
    assert_eq!(
        notifier.retry_pending(&mut store, at(10)).unwrap(),
        RetryReport { sent: 1, waiting: 1, skipped: 1, ..Default::default() }
    );
    assert_eq!(
        notifier.retry_pending(&mut store, at(1000)).unwrap(),
        RetryReport { sent: 1, skipped: 1, ..Default::default() }
    );
    assert_eq!(transport.events(), vec![queued.clone(), retrying.clone()]);
    assert_eq!(status_of(&store, &other.id), Some(NotificationStatus::Queued));
}

#[test]
fn payloads_never_carry_a_secret_value() {
    const VALUE: &str = "xoxb-very-secret-slack-token";
    #[derive(Serialize)]
    struct Summary {
        service: &'static str,
        token: Secret,
    }
    let digest =
        EventEnvelope::digest(at(0), "daily", &Summary { service: "slack", token: Secret::new(VALUE) }).unwrap();
    let drift = EventEnvelope::drift(at(0), "op", "docs", &vec![Secret::new(VALUE)]).unwrap();
    let cred = EventEnvelope::credential_status(at(0), "op", "SLACK_TOKEN", CredentialState::Expiring, Some("7 days"));
    for e in [&digest, &drift, &cred] {
        let json = serde_json::to_string(e).unwrap();
        assert!(!json.contains(VALUE), "{json}");
    }
    assert_eq!(digest.payload["token"], "[redacted]");
    assert_eq!(cred.payload, serde_json::json!({"name": "SLACK_TOKEN", "state": "expiring", "detail": "7 days"}));
}

#[test]
fn envelopes_get_distinct_ids_and_snake_case_json() {
    let a = EventEnvelope::sync_started(at(0), "op-1", "docs", "manual");
    let b = EventEnvelope::sync_started(at(0), "op-1", "docs", "manual");
    assert_ne!(a.id, b.id);
    assert!(a.id.starts_with("evt-"));
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["category"], "sync_started");
    assert_eq!(json["correlation_id"], "op-1");
    assert_eq!(json["payload"], serde_json::json!({"scope": "docs", "trigger": "manual"}));
}
