//! Events users rely on: the engine writes every sync, conflict, document change, drift
//! and undo to the store's outbox with growing ids; subscriptions parse as the config
//! spells them; payloads never carry a secret; in-process channels deliver in order.

use serde::Serialize;
use twinsync_core::event::{ChannelTransport, CredentialState, Event, EventType, Subscriptions, Transport};
use twinsync_core::secret::Secret;
use twinsync_core::{
    Content, Engine, EngineConfig, Key, ManualClock, MemoryReplica, MemoryStore, Policy, Store, SyncOptions, Timestamp,
};

const T0: i64 = 1_795_000_000_000;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(T0 + ms)
}

fn key(s: &str) -> Key {
    Key::new(s).unwrap()
}

fn types(events: &[Event]) -> Vec<EventType> {
    events.iter().map(|e| e.event_type).collect()
}

#[test]
fn a_sync_writes_started_doc_updates_conflicts_and_completed_to_the_outbox() {
    let mut store = MemoryStore::new();
    let clock = ManualClock::new(at(0));
    let (mut left, mut right) = (MemoryReplica::new("left"), MemoryReplica::new("right"));
    left.put(&key("a.md"), Content::Text("a\n".into()));
    left.put(&key("both.md"), Content::Text("left\n".into()));
    right.put(&key("both.md"), Content::Text("right\n".into()));
    let config = EngineConfig { scope: "docs".into(), ..EngineConfig::default() };
    let report = Engine::new(&mut store, &clock, config.clone())
        .sync(&mut left, &mut right, &SyncOptions { policy: Policy::default(), ..Default::default() })
        .unwrap();
    assert_eq!((report.counts.applied, report.counts.conflicts), (1, 1));

    let events = store.events_since(0, 100).unwrap();
    assert_eq!(
        types(&events),
        [
            EventType::DriftDetected,
            EventType::SyncStarted,
            EventType::DocUpdated,
            EventType::ConflictDetected,
            EventType::SyncCompleted
        ]
    );
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "ids grow");
    assert!(events.iter().all(|e| e.pair == "docs"), "every event names its pair");
    let op = &report.operation_id;
    for e in &events[1..] {
        assert_eq!(&e.correlation_id, op, "{:?} carries the operation id", e.event_type);
        assert_eq!(e.payload["operation_id"], op.as_str());
    }
    assert_eq!(events[2].payload["key"], "a.md");
    assert_eq!(events[2].payload["side"], "right");
    assert_eq!(
        events[2].payload["digest"],
        report.items.iter().find(|i| i.key == key("a.md")).unwrap().right.unwrap().to_string()
    );
    assert_eq!(events[3].payload["key"], "both.md");
    assert_eq!(events[4].payload["counts"]["applied"], 1);

    // The drifted set shrank to the conflict: one drift event, and none for the same set
    // seen again. Undo reports the document it restores.
    let last = events.last().unwrap().id;
    clock.advance(1000);
    let mut engine = Engine::new(&mut store, &clock, config);
    engine.status(&mut left, &mut right).unwrap();
    engine.status(&mut left, &mut right).unwrap();
    engine.undo(&mut left, &mut right, None).unwrap();
    let after = store.events_since(last, 100).unwrap();
    assert_eq!(types(&after), [EventType::DriftDetected, EventType::DocUpdated], "{after:?}");
    assert_eq!(after[0].payload["drifted"], 1);
    assert_eq!(after[0].payload["items"][0]["key"], "both.md");
    assert_eq!(after[1].payload["key"], "a.md");
    assert_eq!(after[1].payload["digest"], serde_json::Value::Null, "restored to absent");
}

#[test]
fn subscriptions_are_a_list_of_type_names() {
    let s: Subscriptions = "sync_completed, conflict_detected,lock:acquired".parse().unwrap();
    assert!(s.contains(EventType::LockAcquired) && s.contains(EventType::ConflictDetected));
    assert!(!s.contains(EventType::SyncStarted));
    assert_eq!(
        serde_json::to_value(&s).unwrap(),
        serde_json::json!(["sync_completed", "conflict_detected", "lock:acquired"])
    );
    assert_eq!("all".parse::<Subscriptions>().unwrap(), Subscriptions::all());
    assert_eq!("none".parse::<Subscriptions>().unwrap(), Subscriptions::none());
    let err = "sync_completed,conflict".parse::<Subscriptions>().unwrap_err().to_string();
    assert!(err.contains("\"conflict\"") && err.contains("conflict_detected"), "{err}");
}

#[test]
fn channel_transport_delivers_in_order_and_refuses_when_full() {
    let (transport, rx) = ChannelTransport::unbounded();
    let consumer = std::thread::spawn(move || rx.iter().map(|e| e.correlation_id).collect::<Vec<_>>());
    for i in 0..3 {
        transport.send(&Event::sync_started(at(i), "docs", &format!("op-{i}"), "watch", 1)).unwrap();
    }
    drop(transport);
    assert_eq!(consumer.join().unwrap(), ["op-0", "op-1", "op-2"]);

    let (bounded, rx) = ChannelTransport::bounded(1);
    bounded.send(&Event::sync_started(at(0), "docs", "op-a", "watch", 1)).unwrap();
    let full = bounded.send(&Event::sync_started(at(1), "docs", "op-b", "watch", 1)).unwrap_err();
    assert!(full.to_string().contains("full"), "{full}");
    assert_eq!(rx.recv().unwrap().correlation_id, "op-a");
}

#[test]
fn payloads_never_carry_a_secret_value() {
    const VALUE: &str = "xoxb-very-secret-slack-token";
    #[derive(Serialize)]
    struct Summary {
        service: &'static str,
        token: Secret,
    }
    let digest = Event::digest(at(0), "daily", &Summary { service: "slack", token: Secret::new(VALUE) }).unwrap();
    let cred = Event::credential_status(at(0), "SLACK_TOKEN", CredentialState::Expiring, Some("7 days"));
    for e in [&digest, &cred] {
        let json = serde_json::to_string(e).unwrap();
        assert!(!json.contains(VALUE), "{json}");
    }
    assert_eq!(digest.payload["token"], "[redacted]");
    assert_eq!(cred.payload, serde_json::json!({"name": "SLACK_TOKEN", "state": "expiring", "detail": "7 days"}));
}

#[test]
fn events_serialise_with_type_time_pair_and_payload() {
    let e = Event { id: 7, ..Event::sync_started(at(0), "docs", "op-1", "manual", 3) };
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["id"], 7);
    assert_eq!(json["type"], "sync_started");
    assert_eq!(json["pair"], "docs");
    assert_eq!(json["correlation_id"], "op-1");
    assert!(json["time"].as_str().unwrap().ends_with('Z'), "RFC 3339 UTC: {json}");
    assert_eq!(serde_json::from_value::<Event>(json).unwrap(), e);
}
