//! Several writers on one PostgreSQL database: lock races between connections, projects
//! kept apart, migrations run by several openers at once, and outbox ids that a reader
//! following `events_since` never skips.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use twinsync_core::event::{Event, EventType};
use twinsync_core::lock::{Lock, LockError};
use twinsync_core::store::{HistoryEntry, ItemCommit};
use twinsync_core::{Digest, Key, LockChange, Store, Timestamp, Trigger};
use twinsync_postgres::{PgStore, SCHEMA_VERSION};

const T0: i64 = 1_700_000_000_000;

fn open(url: &str, project: &str) -> PgStore {
    PgStore::open(url, project).expect("open the PostgreSQL store")
}

fn lock(name: &str, owner: &str) -> Lock {
    Lock {
        name: name.into(),
        owner: owner.into(),
        token: format!("token-of-{owner}"),
        reason: None,
        acquired_at: Timestamp::from_millis(T0),
        expires_at: Timestamp::from_millis(T0 + 30 * 60_000),
    }
}

/// Acquires `name` for `owner` unless someone holds it; `pause` widens the window
/// between the read and the write, where a store without a real read-modify-write
/// would let two callers both see the lock free.
fn try_acquire(s: &mut PgStore, name: &str, owner: &str, pause: Duration) -> Result<Option<Lock>, LockError> {
    s.update_lock(name, &mut |cur| {
        thread::sleep(pause);
        match cur {
            Some(held) => Err(LockError::Held { name: held.name, owner: held.owner, expires_at: held.expires_at }),
            None => Ok(LockChange {
                lock: Some(lock(name, owner)),
                events: vec![Event::new(
                    EventType::LockAcquired,
                    Timestamp::from_millis(T0),
                    "",
                    owner,
                    serde_json::json!({}),
                )],
            }),
        }
    })
    .expect("update_lock reaches the store")
}

#[test]
fn update_lock_races_have_exactly_one_winner() {
    let url = common::url();
    let project = common::fresh_project("lock-race");
    const THREADS: usize = 4;
    const ROUNDS: usize = 8;
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (url, project, barrier) = (url.clone(), project.clone(), barrier.clone());
            thread::spawn(move || {
                let mut s = open(&url, &project);
                let owner = format!("owner-{t}");
                (0..ROUNDS)
                    .map(|round| {
                        // Each round a lock with no row yet: the hardest case.
                        let name = format!("lock-{round}");
                        barrier.wait();
                        try_acquire(&mut s, &name, &owner, Duration::from_millis(20)).map(|_| owner.clone())
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<Vec<Result<String, LockError>>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let store = open(&url, &project);
    let locks = store.locks().unwrap();
    assert_eq!(locks.len(), ROUNDS, "one lock row per round: {locks:?}");
    for round in 0..ROUNDS {
        let winners: Vec<&String> = results.iter().filter_map(|r| r[round].as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one of {THREADS} acquirers wins, got {winners:?}");
        for r in results.iter().filter_map(|r| r[round].as_ref().err()) {
            assert!(matches!(r, LockError::Held { owner, .. } if owner == winners[0]), "losers see the winner: {r:?}");
        }
        let stored = locks.iter().find(|l| l.name == format!("lock-{round}")).unwrap();
        assert_eq!(&stored.owner, winners[0], "the stored owner is the winner");
    }
    let events = store.events_since(0, 1000).unwrap();
    assert_eq!(events.len(), ROUNDS, "one lock:acquired event per round, none for refusals");
}

#[test]
fn projects_sharing_a_database_do_not_see_each_other() {
    let url = common::url();
    let (pa, pb) = (common::fresh_project("apart-a"), common::fresh_project("apart-b"));
    let mut a = open(&url, &pa);
    let mut b = open(&url, &pb);
    let key = Key::new("docs/a.md").unwrap();
    let d = Digest::of_bytes(b"a");
    let history = HistoryEntry {
        operation_id: "op1".into(),
        scope: "docs".into(),
        key: key.clone(),
        direction: "left_to_right".into(),
        trigger: Trigger::Manual,
        success: true,
        error: None,
        left: Some(d),
        right: Some(d),
        at: Timestamp::from_millis(T0),
    };
    let ev = Event::new(EventType::DocUpdated, Timestamp::from_millis(T0), "docs", "op1", serde_json::json!({}));
    a.commit_item(&ItemCommit {
        scope: "docs".into(),
        key: key.clone(),
        base_after: Some(d),
        blobs: vec![(d, twinsync_core::Content::Text("a".into()))],
        undo: vec![],
        history,
        events: vec![ev.clone()],
    })
    .unwrap();
    a.kv_put("stat", "k", b"a").unwrap();
    try_acquire(&mut a, "project", "ann", Duration::ZERO).unwrap();

    assert!(b.load_base("docs").unwrap().is_empty(), "base");
    assert_eq!(b.blob(&d).unwrap(), None, "blobs");
    assert!(b.history(None, 10).unwrap().is_empty(), "history");
    assert!(b.events_since(0, 10).unwrap().is_empty(), "events");
    assert_eq!(b.kv_get("stat", "k").unwrap(), None, "kv");
    assert!(b.locks().unwrap().is_empty(), "locks");
    // B takes the same lock name: it is another project's lock.
    assert!(try_acquire(&mut b, "project", "bob", Duration::ZERO).is_ok(), "B's project lock is its own");
    b.append_events(&[ev.clone(), ev]).unwrap();
    assert_eq!(a.events_since(0, 10).unwrap().len(), 2, "A keeps its own events (its item and its lock)");
    assert_eq!(b.events_since(0, 10).unwrap().len(), 3, "B sees its lock event and its two appends only");
    b.prune_events(Timestamp::from_millis(T0 + 1)).unwrap();
    assert_eq!(a.events_since(0, 10).unwrap().len(), 2, "B's prune leaves A's outbox alone");

    // The same project id opened again is the same state.
    let a2 = open(&url, &pa);
    assert_eq!(a2.load_base("docs").unwrap().get(&key), Some(&d));
    assert_eq!(a2.locks().unwrap()[0].owner, "ann");
}

#[test]
fn migrations_run_once_when_several_processes_open_a_fresh_database() {
    let url = common::fresh_database("migrate");
    const OPENERS: usize = 6;
    let barrier = Arc::new(Barrier::new(OPENERS));
    let handles: Vec<_> = (0..OPENERS)
        .map(|i| {
            let (url, barrier) = (url.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                let mut s = PgStore::open(&url, &format!("p{i}")).map_err(|e| e.to_string())?;
                s.kv_put("ns", "k", b"v").map_err(|e| e.to_string())?;
                s.schema_version().map_err(|e| e.to_string())
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), Ok(SCHEMA_VERSION), "every opener gets a current schema");
    }
    let mut c = common::client(&url);
    let versions: Vec<i32> = c
        .query("SELECT version FROM schema_migrations ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>(), "each migration recorded once");
    let projects: i64 = c.query_one("SELECT count(DISTINCT project) FROM kv", &[]).unwrap().get(0);
    assert_eq!(projects, OPENERS as i64);
    drop(c);
    common::drop_database(&url);
}

#[test]
fn newer_schema_is_refused() {
    let url = common::fresh_database("newer");
    open(&url, "p");
    let mut c = common::client(&url);
    c.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&(SCHEMA_VERSION + 1)]).unwrap();
    drop(c);
    let e = PgStore::open(&url, "p").unwrap_err();
    assert!(matches!(e, twinsync_core::StoreError::Corrupt(_)), "{e:?}");
    assert!(e.to_string().contains("newer than this build"), "{e}");
    common::drop_database(&url);
}

#[test]
fn outbox_ids_grow_across_concurrent_writers_and_a_follower_misses_none() {
    let url = common::url();
    let project = common::fresh_project("outbox");
    const WRITERS: usize = 4;
    const BATCHES: usize = 40;
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let follower = {
        let (url, project, done) = (url.clone(), project.clone(), done.clone());
        thread::spawn(move || {
            let s = open(&url, &project);
            let mut seen: Vec<u64> = Vec::new();
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst) == WRITERS;
                let after = seen.last().copied().unwrap_or(0);
                let got = s.events_since(after, 1000).unwrap();
                seen.extend(got.iter().map(|e| e.id));
                if finished && got.is_empty() {
                    return seen;
                }
            }
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (url, project, done) = (url.clone(), project.clone(), done.clone());
            thread::spawn(move || {
                let mut s = open(&url, &project);
                let mut mine = Vec::new();
                for b in 0..BATCHES {
                    let ev = |i: usize| {
                        Event::new(
                            EventType::DocUpdated,
                            Timestamp::from_millis(T0),
                            "docs",
                            &format!("w{w}"),
                            serde_json::json!({"batch": b, "i": i}),
                        )
                    };
                    // Batches of 1 to 3 events in one transaction.
                    let batch: Vec<Event> = (0..1 + b % 3).map(ev).collect();
                    mine.push(s.append_events(&batch).unwrap());
                }
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                mine
            })
        })
        .collect();
    for w in writers {
        let mine = w.join().unwrap();
        assert!(mine.windows(2).all(|p| p[0] < p[1]), "one writer's ids grow: {mine:?}");
    }
    let seen = follower.join().unwrap();
    let all: Vec<u64> = open(&url, &project).events_since(0, usize::MAX).unwrap().iter().map(|e| e.id).collect();
    let expected: usize = WRITERS * (0..BATCHES).map(|b| 1 + b % 3).sum::<usize>();
    assert_eq!(all.len(), expected, "no event lost or duplicated");
    assert!(all.windows(2).all(|p| p[0] < p[1]), "ids strictly increase");
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), all.len());
    assert_eq!(seen, all, "a follower reading from its last id saw every event, in id order");
}
