//! Lock behaviour users rely on: one holder, TTL by the injected clock, holder-only
//! renew and release, audited force release, events without tokens.

use twinsync_core::event::EventType;
use twinsync_core::lock::{LockError, LockManager, LockRequest, DEFAULT_TTL_MS};
use twinsync_core::{Error, ManualClock, MemoryStore, Store, Timestamp};

const T0: i64 = 1_795_000_000_000;

fn setup() -> (MemoryStore, ManualClock) {
    (MemoryStore::new(), ManualClock::new(Timestamp::from_millis(T0)))
}

#[test]
fn one_holder_at_a_time_and_the_default_ttl_is_30_minutes() {
    let (mut store, clock) = setup();
    let mut locks = LockManager::new(&mut store, &clock);
    let lock = locks.acquire(&LockRequest::new("project", "ana").reason("release prep")).unwrap();
    assert_eq!(lock.owner, "ana");
    assert_eq!(lock.expires_at, Timestamp::from_millis(T0 + DEFAULT_TTL_MS));
    assert_eq!(DEFAULT_TTL_MS, 30 * 60 * 1000);
    assert_eq!(lock.token.len(), 32, "128-bit token as hex");

    let err = locks.acquire(&LockRequest::new("project", "bob")).unwrap_err();
    assert_eq!(
        err,
        Error::Lock(LockError::Held {
            name: "project".into(),
            owner: "ana".into(),
            expires_at: Timestamp::from_millis(T0 + DEFAULT_TTL_MS)
        })
    );
    assert!(err.to_string().contains("held by ana"), "{err}");
    // A different lock name is independent.
    locks.acquire(&LockRequest::new("docs/intro.md", "bob")).unwrap();
    assert_eq!(locks.list().unwrap().len(), 2);
}

#[test]
fn expired_locks_lapse_by_the_clock() {
    let (mut store, clock) = setup();
    let mut locks = LockManager::new(&mut store, &clock);
    locks.acquire(&LockRequest::new("project", "ana").ttl_ms(60_000)).unwrap();
    clock.advance(59_999);
    assert_eq!(locks.status("project").unwrap().unwrap().owner, "ana");
    assert!(locks.acquire(&LockRequest::new("project", "bob")).is_err());
    clock.advance(1);
    assert_eq!(locks.status("project").unwrap(), None, "lapses exactly at expires_at");
    assert_eq!(locks.renew("project", "ana", 60_000).unwrap_err(), Error::Lock(LockError::NotHeld("project".into())));
    let taken = locks.acquire(&LockRequest::new("project", "bob")).unwrap();
    assert_eq!(taken.owner, "bob");
    assert_eq!(taken.acquired_at, Timestamp::from_millis(T0 + 60_000));
}

#[test]
fn only_the_holder_renews_or_releases_by_name_or_token() {
    let (mut store, clock) = setup();
    let mut locks = LockManager::new(&mut store, &clock);
    let lock = locks.acquire(&LockRequest::new("project", "ana").ttl_ms(1000)).unwrap();

    for caller in ["bob", "0123456789abcdef0123456789abcdef"] {
        let err = locks.renew("project", caller, 5000).unwrap_err();
        assert!(matches!(err, Error::Lock(LockError::NotOwner { .. })), "{err:?}");
        let err = locks.release("project", caller).unwrap_err();
        assert!(matches!(err, Error::Lock(LockError::NotOwner { .. })), "{err:?}");
        assert!(!err.to_string().contains(&lock.token));
    }
    clock.advance(500);
    let renewed = locks.renew("project", &lock.token, 5000).unwrap();
    assert_eq!(renewed.expires_at, Timestamp::from_millis(T0 + 500 + 5000));
    assert!(renewed.token.is_empty(), "renew does not echo the token");
    let released = locks.release("project", &lock.token).unwrap();
    assert_eq!(released.owner, "ana");
    assert_eq!(locks.status("project").unwrap(), None);
    assert_eq!(locks.release("project", "ana").unwrap_err(), Error::Lock(LockError::NotHeld("project".into())));
}

#[test]
fn same_owner_reacquiring_refreshes_and_keeps_the_token() {
    let (mut store, clock) = setup();
    let mut locks = LockManager::new(&mut store, &clock);
    let first = locks.acquire(&LockRequest::new("project", "ana").ttl_ms(1000)).unwrap();
    clock.advance(900);
    let again = locks.acquire(&LockRequest::new("project", "ana").ttl_ms(1000).reason("still busy")).unwrap();
    assert_eq!(again.token, first.token);
    assert_eq!(again.acquired_at, first.acquired_at);
    assert_eq!(again.expires_at, Timestamp::from_millis(T0 + 1900));
    assert_eq!(again.reason.as_deref(), Some("still busy"));
}

#[test]
fn status_hides_the_token_and_host_tokens_are_accepted() {
    let (mut store, clock) = setup();
    let mut locks = LockManager::new(&mut store, &clock);
    let host_token = "host-issued-token-000000000042";
    let lock = locks.acquire(&LockRequest::new("project", "ci").token(host_token)).unwrap();
    assert_eq!(lock.token, host_token);
    let shown = locks.status("project").unwrap().unwrap();
    assert_eq!(shown.token, "");
    assert_eq!(shown.owner, "ci");
    let err = locks.acquire(&LockRequest::new("other", "ci").token("short")).unwrap_err();
    assert!(err.to_string().contains("at least 16"), "{err}");
}

#[test]
fn bad_requests_are_errors_naming_the_problem() {
    let (mut store, clock) = setup();
    let mut locks = LockManager::new(&mut store, &clock);
    let e = locks.acquire(&LockRequest::new("", "ana")).unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)) && e.to_string().contains("lock name"), "{e}");
    let e = locks.acquire(&LockRequest::new("project", " ")).unwrap_err();
    assert!(e.to_string().contains("owner must not be empty"), "{e}");
    let e = locks.acquire(&LockRequest::new("project", "ana").ttl_ms(0)).unwrap_err();
    assert!(e.to_string().contains("ttl must be positive"), "{e}");
}

#[test]
fn force_release_is_audited() {
    let (mut store, clock) = setup();
    {
        let mut locks = LockManager::new(&mut store, &clock);
        locks.acquire(&LockRequest::new("project", "ana")).unwrap();
        clock.advance(10_000);
        let prev = locks.force_release("project", "admin", Some("ana is on leave")).unwrap().unwrap();
        assert_eq!(prev.owner, "ana");
        assert_eq!(locks.status("project").unwrap(), None);
        locks.acquire(&LockRequest::new("project", "bob")).unwrap();
    }
    let log = store.audit_log(10).unwrap();
    let forced = log.iter().find(|r| r.action == "lock.force_release").expect("audited");
    assert_eq!(forced.actor, "admin");
    assert!(forced.success);
    assert_eq!(forced.at, Timestamp::from_millis(T0 + 10_000));
    let detail = forced.detail.as_deref().unwrap();
    assert!(detail.contains("held by ana") && detail.contains("on leave"), "{detail}");
    assert!(log.iter().any(|r| r.action == "lock.acquire" && r.actor == "bob"));
}

#[test]
fn lock_changes_are_in_the_outbox_without_the_token() {
    let (mut store, clock) = setup();
    let token;
    {
        let mut locks = LockManager::new(&mut store, &clock);
        token = locks.acquire(&LockRequest::new("project", "ana")).unwrap().token;
        locks.acquire(&LockRequest::new("project", "ana").reason("again")).unwrap();
        locks.release("project", "ana").unwrap();
        locks.acquire(&LockRequest::new("project", "bob").ttl_ms(60_000)).unwrap();
        locks.force_release("project", "admin", None).unwrap();
        locks.acquire(&LockRequest::new("project", "cy").ttl_ms(60_000)).unwrap();
    }
    clock.advance(61_000);
    LockManager::new(&mut store, &clock).acquire(&LockRequest::new("project", "dee")).unwrap();
    let events = store.events_since(0, 100).unwrap();
    let types: Vec<_> = events.iter().map(|e| e.event_type).collect();
    use EventType::*;
    assert_eq!(
        types,
        [LockAcquired, LockReleased, LockAcquired, LockReleased, LockAcquired, LockExpired, LockAcquired],
        "a refresh by the holder is not a new acquire; a lapsed lock taken over is reported expired"
    );
    assert_eq!(events[3].payload["forced"], true);
    assert_eq!(events[3].payload["released_by"], "admin");
    assert_eq!(events[5].payload["owner"], "cy");
    assert_eq!(events[6].payload["owner"], "dee");
    for e in &events {
        assert!(!serde_json::to_string(e).unwrap().contains(&token), "no token in {e:?}");
        assert_eq!(e.pair, "", "locks are the project's");
    }
}
