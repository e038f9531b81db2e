//! Kill points: a sync stopped at each step of an item's apply — after its intent is
//! recorded, after its side is written, after its side is flushed, after the store
//! commit — then the source is edited again and synced. No conflict comes of it, both
//! sides end equal, and the interrupted operation ends `partial` and can be undone.
//!
//! A kill is a panic from a store or replica wrapper right after the chosen call
//! returns, caught here; the wrapped store and replicas keep exactly what a killed
//! process would have left.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use twinsync_core::audit::AuditRecord;
use twinsync_core::delivery::{Delivery, DeliveryStatus};
use twinsync_core::lock::{Lock, LockError};
use twinsync_core::replica::{ReplicaError, ScanFailure, WriteContext};
use twinsync_core::store::{HistoryEntry, Intent, ItemCommit, PruneStats, UndoCommit, UndoEntry};
use twinsync_core::{
    Content, Digest, Engine, EngineConfig, Event, HashRules, Key, LockChange, ManualClock, MemoryReplica, MemoryStore,
    OperationReport, OperationStatus, Replica, Snapshot, Store, StoreError, SyncOptions, Timestamp, UndoLimits,
};

const T0: i64 = 1_700_000_000_000;
const FILES: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// The step a kill follows: the batch's intents, an item's side write, a side's flush,
/// the batch's store commit.
enum Point {
    Intent,
    Write,
    Flush,
    Commit,
}

const POINTS: [Point; 4] = [Point::Intent, Point::Write, Point::Flush, Point::Commit];

/// The armed kill, shared by the store and both sides: the store's calls run on a
/// thread of their own, so the fuse cannot be the calling thread's. Once it has gone
/// off, every later write, flush or store commit panics before it does anything, as in
/// a process that was killed.
#[derive(Clone, Default)]
struct Arm(Arc<Mutex<Fuse>>);

#[derive(Clone, Copy, Default)]
enum Fuse {
    #[default]
    Off,
    /// Calls at this point left before the kill.
    Armed(Point, usize),
    Killed,
}

impl Arm {
    /// Kills at `point`'s `nth` call from now on (0: the first).
    fn set(&self, point: Point, nth: usize) {
        *self.0.lock().unwrap() = Fuse::Armed(point, nth);
    }

    fn clear(&self) {
        *self.0.lock().unwrap() = Fuse::Off;
    }

    /// Before a call at `point`: panics if the kill went off.
    fn check(&self) {
        if matches!(*self.0.lock().unwrap(), Fuse::Killed) {
            panic!("killed");
        }
    }

    /// After a call at `point`: counts it, and panics when the fuse runs out.
    fn tick(&self, point: Point) {
        let mut fuse = self.0.lock().unwrap();
        match *fuse {
            Fuse::Armed(p, 0) if p == point => {
                *fuse = Fuse::Killed;
                drop(fuse);
                panic!("killed");
            }
            Fuse::Armed(p, n) if p == point => *fuse = Fuse::Armed(p, n - 1),
            _ => {}
        }
    }
}

struct KillStore {
    inner: MemoryStore,
    arm: Arm,
}

impl Store for KillStore {
    fn load_base(&self, scope: &str) -> Result<BTreeMap<Key, Digest>, StoreError> {
        self.inner.load_base(scope)
    }
    fn blob(&self, digest: &Digest) -> Result<Option<Content>, StoreError> {
        self.inner.blob(digest)
    }
    fn operation(&self, id: &str) -> Result<Option<OperationReport>, StoreError> {
        self.inner.operation(id)
    }
    fn operations(&self, scope: Option<&str>, limit: usize) -> Result<Vec<OperationReport>, StoreError> {
        self.inner.operations(scope, limit)
    }
    fn put_operation(&mut self, report: &OperationReport, events: &[Event]) -> Result<(), StoreError> {
        self.inner.put_operation(report, events)
    }
    fn commit_item(&mut self, commit: &ItemCommit) -> Result<(), StoreError> {
        self.arm.check();
        self.inner.commit_item(commit)
    }
    fn commit_items(&mut self, commits: &[ItemCommit]) -> Result<(), StoreError> {
        self.arm.check();
        self.inner.commit_items(commits)?;
        self.arm.tick(Point::Commit);
        Ok(())
    }
    fn record_intents(&mut self, intents: &[Intent], blobs: &[(Digest, Content)]) -> Result<(), StoreError> {
        self.arm.check();
        self.inner.record_intents(intents, blobs)?;
        self.arm.tick(Point::Intent);
        Ok(())
    }
    fn open_intents(&self, scope: &str) -> Result<Vec<Intent>, StoreError> {
        self.inner.open_intents(scope)
    }
    fn drop_intents(&mut self, scope: &str, operation_id: &str, key: &Key) -> Result<(), StoreError> {
        self.arm.check();
        self.inner.drop_intents(scope, operation_id, key)
    }
    fn undo_entries(&self, operation_id: &str) -> Result<Vec<UndoEntry>, StoreError> {
        self.inner.undo_entries(operation_id)
    }
    fn commit_undo(&mut self, commit: &UndoCommit) -> Result<(), StoreError> {
        self.arm.check();
        self.inner.commit_undo(commit)?;
        self.arm.tick(Point::Commit);
        Ok(())
    }
    fn prune(&mut self, now: Timestamp, limits: &UndoLimits) -> Result<PruneStats, StoreError> {
        self.inner.prune(now, limits)
    }
    fn history(&self, scope: Option<&str>, limit: usize) -> Result<Vec<HistoryEntry>, StoreError> {
        self.inner.history(scope, limit)
    }
    fn update_lock(
        &mut self,
        name: &str,
        f: &mut dyn FnMut(Option<Lock>) -> Result<LockChange, LockError>,
    ) -> Result<Result<Option<Lock>, LockError>, StoreError> {
        self.inner.update_lock(name, f)
    }
    fn locks(&self) -> Result<Vec<Lock>, StoreError> {
        self.inner.locks()
    }
    fn append_audit(&mut self, record: &AuditRecord) -> Result<String, StoreError> {
        self.inner.append_audit(record)
    }
    fn audit_log(&self, limit: usize) -> Result<Vec<AuditRecord>, StoreError> {
        self.inner.audit_log(limit)
    }
    fn append_events(&mut self, events: &[Event]) -> Result<u64, StoreError> {
        self.inner.append_events(events)
    }
    fn events_since(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.inner.events_since(after, limit)
    }
    fn prune_events(&mut self, before: Timestamp) -> Result<usize, StoreError> {
        self.inner.prune_events(before)
    }
    fn put_delivery(&mut self, d: &Delivery) -> Result<(), StoreError> {
        self.inner.put_delivery(d)
    }
    fn deliveries(&self, e: Option<&str>, s: Option<DeliveryStatus>, n: usize) -> Result<Vec<Delivery>, StoreError> {
        self.inner.deliveries(e, s, n)
    }
    fn prune_deliveries(&mut self, before: twinsync_core::Timestamp) -> Result<usize, StoreError> {
        self.inner.prune_deliveries(before)
    }
    fn append_coverage(
        &mut self,
        records: &[twinsync_core::coverage_history::CoverageRecord],
    ) -> Result<(), StoreError> {
        self.inner.append_coverage(records)
    }
    fn coverage_history(
        &self,
        scope: Option<&str>,
        component: Option<&str>,
        limit: usize,
    ) -> Result<Vec<twinsync_core::coverage_history::CoverageRecord>, StoreError> {
        self.inner.coverage_history(scope, component, limit)
    }
    fn latest_coverage(&self, scope: &str) -> Result<Vec<twinsync_core::coverage_history::CoverageRecord>, StoreError> {
        self.inner.latest_coverage(scope)
    }
    fn prune_coverage(&mut self, before: twinsync_core::Timestamp) -> Result<usize, StoreError> {
        self.inner.prune_coverage(before)
    }
    fn put_test_session(
        &mut self,
        session: &twinsync_core::test_session::TestSession,
        events: &[Event],
    ) -> Result<(), StoreError> {
        self.inner.put_test_session(session, events)
    }
    fn test_session(&self, id: &str) -> Result<Option<twinsync_core::test_session::TestSession>, StoreError> {
        self.inner.test_session(id)
    }
    fn test_sessions(
        &self,
        story: Option<&str>,
        limit: usize,
    ) -> Result<Vec<twinsync_core::test_session::TestSession>, StoreError> {
        self.inner.test_sessions(story, limit)
    }
    fn put_credential(
        &mut self,
        record: &twinsync_core::credential::CredentialRecord,
        events: &[Event],
    ) -> Result<(), StoreError> {
        self.inner.put_credential(record, events)
    }
    fn credential(&self, name: &str) -> Result<Option<twinsync_core::credential::CredentialRecord>, StoreError> {
        self.inner.credential(name)
    }
    fn credentials(&self) -> Result<Vec<twinsync_core::credential::CredentialRecord>, StoreError> {
        self.inner.credentials()
    }
    fn kv_get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.kv_get(namespace, key)
    }
    fn kv_put(&mut self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.kv_put(namespace, key, value)
    }
    fn kv_delete(&mut self, namespace: &str, key: &str) -> Result<(), StoreError> {
        self.inner.kv_delete(namespace, key)
    }
    fn put_api_key(&mut self, key: &twinsync_core::api_key::ApiKeyRecord) -> Result<(), StoreError> {
        self.inner.put_api_key(key)
    }
    fn api_keys(&self) -> Result<Vec<twinsync_core::api_key::ApiKeyRecord>, StoreError> {
        self.inner.api_keys()
    }
    fn api_key_by_hash(&self, hash: &str) -> Result<Option<twinsync_core::api_key::ApiKeyRecord>, StoreError> {
        self.inner.api_key_by_hash(hash)
    }
    fn revoke_api_key(
        &mut self,
        id: &str,
        at: Timestamp,
    ) -> Result<Option<twinsync_core::api_key::ApiKeyRecord>, StoreError> {
        self.inner.revoke_api_key(id, at)
    }
    fn touch_api_key(&mut self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        self.inner.touch_api_key(id, at)
    }
}

struct KillReplica {
    inner: MemoryReplica,
    arm: Arm,
}

impl Replica for KillReplica {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn rules(&self) -> &HashRules {
        self.inner.rules()
    }
    fn scan(&mut self) -> Result<Snapshot, ReplicaError> {
        self.inner.scan()
    }
    fn scan_failures(&self) -> Vec<ScanFailure> {
        self.inner.scan_failures()
    }
    fn read(&self, key: &Key) -> Result<Option<Content>, ReplicaError> {
        self.inner.read(key)
    }
    fn write(
        &mut self,
        key: &Key,
        content: &Content,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        self.arm.check();
        let d = self.inner.write(key, content, expected, ctx)?;
        self.arm.tick(Point::Write);
        Ok(d)
    }
    fn delete(&mut self, key: &Key, expected: &Digest, ctx: &WriteContext) -> Result<(), ReplicaError> {
        self.arm.check();
        self.inner.delete(key, expected, ctx)?;
        self.arm.tick(Point::Write);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), ReplicaError> {
        self.arm.check();
        self.inner.flush()?;
        self.arm.tick(Point::Flush);
        Ok(())
    }
}

/// Keeps the planned kills out of the output; any other panic still prints.
fn quiet_kills() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"killed") {
            default(info);
        }
    }));
}

fn k(i: usize) -> Key {
    Key::new(format!("docs/f{i:02}.md")).unwrap()
}

fn body(i: usize, v: usize) -> Content {
    Content::Text(format!("file {i}, version {v}\n"))
}

struct World {
    store: KillStore,
    clock: ManualClock,
    left: KillReplica,
    right: KillReplica,
    arm: Arm,
}

impl World {
    /// Both sides hold version 1 of every file, in sync.
    fn new() -> World {
        let arm = Arm::default();
        let mut w = World {
            store: KillStore { inner: MemoryStore::new(), arm: arm.clone() },
            clock: ManualClock::new(Timestamp::from_millis(T0)),
            left: KillReplica { inner: MemoryReplica::new("left"), arm: arm.clone() },
            right: KillReplica { inner: MemoryReplica::new("right"), arm: arm.clone() },
            arm,
        };
        w.edit_left(1);
        let r = w.sync();
        assert_eq!(r.counts.applied, FILES);
        w
    }

    fn edit_left(&mut self, v: usize) {
        for i in 0..FILES {
            self.left.inner.put(&k(i), body(i, v));
        }
    }

    fn config() -> EngineConfig {
        // Batches of 3: a kill lands with one batch committed and one in flight.
        EngineConfig { batch_items: 3, ..EngineConfig::default() }
    }

    /// An engine a minute later than the last, and the two sides.
    fn parts(&mut self) -> (Engine<'_>, &mut KillReplica, &mut KillReplica) {
        self.clock.advance(61_000);
        (Engine::new(&mut self.store, &self.clock, Self::config()), &mut self.left, &mut self.right)
    }

    fn sync(&mut self) -> OperationReport {
        let (mut engine, left, right) = self.parts();
        engine.sync(left, right, &SyncOptions::default()).unwrap()
    }

    /// Syncs with a kill armed at `point`, on its `nth` call (0: the first).
    fn killed_sync(&mut self, point: Point, nth: usize) {
        self.arm.set(point, nth);
        let outcome = catch_unwind(AssertUnwindSafe(|| self.sync()));
        self.arm.clear();
        assert!(outcome.is_err(), "{point:?} #{nth}: the sync was not killed");
    }

    fn interrupted(&self) -> OperationReport {
        let running: Vec<OperationReport> = self
            .store
            .inner
            .operations(None, 100)
            .unwrap()
            .into_iter()
            .filter(|o| o.status == OperationStatus::Running)
            .collect();
        assert_eq!(running.len(), 1, "one operation is left running by the kill");
        running.into_iter().next().unwrap()
    }

    fn assert_equal(&self, v: usize, what: &str) {
        for i in 0..FILES {
            assert_eq!(self.left.inner.get(&k(i)), Some(&body(i, v)), "{what}: left {i}");
            assert_eq!(self.right.inner.get(&k(i)), Some(&body(i, v)), "{what}: right {i}");
        }
    }
}

/// Which call of a point kills: the first, or one in the second batch (after a batch
/// has committed).
fn nths(point: Point) -> Vec<usize> {
    match point {
        // Writes are counted per item: the first, and the fifth (second batch).
        Point::Write => vec![0, 4],
        // One call per batch.
        _ => vec![0, 1],
    }
}

/// A kill after the very first intent lands before any side is written.
fn wrote_nothing(point: Point, nth: usize) -> bool {
    point == Point::Intent && nth == 0
}

/// A kill after the second batch's intents lands while the first batch is written
/// (the store records the next batch while this one writes), so it may find none, some
/// or all of that batch written.
fn wrote_maybe(point: Point, nth: usize) -> bool {
    point == Point::Intent && nth == 1
}

#[test]
fn a_kill_at_any_step_then_a_new_edit_syncs_without_conflict() {
    quiet_kills();
    for point in POINTS {
        for nth in nths(point) {
            let what = format!("{point:?} #{nth}");
            let mut w = World::new();
            w.edit_left(2);
            w.killed_sync(point, nth);
            let op = w.interrupted();
            // The left is edited again before anything else runs.
            w.edit_left(3);
            // Status, which recovers nothing, already sees no conflict.
            let (mut engine, l, r) = w.parts();
            let drift = engine.status(l, r).unwrap();
            assert_eq!(drift.counts.conflicts(), 0, "{what}: status shows a conflict: {:?}", drift.counts);
            let report = w.sync();
            assert_eq!(report.counts.conflicts, 0, "{what}: {:?}", report.items);
            assert_eq!((report.counts.failed, report.status), (0, OperationStatus::Completed), "{what}");
            w.assert_equal(3, &what);
            assert!(w.store.inner.open_intents("default").unwrap().is_empty(), "{what}: intents left open");
            let ended = w.store.inner.operation(&op.operation_id).unwrap().unwrap();
            // Never left running: partial when it applied anything, else failed.
            let none = wrote_nothing(point, nth) || (wrote_maybe(point, nth) && ended.recovered.is_empty());
            let want = if none { OperationStatus::Failed } else { OperationStatus::Partial };
            assert_eq!(ended.status, want, "{what}: how the interrupted operation ends");
            match point {
                Point::Intent if wrote_nothing(point, nth) => assert!(ended.recovered.is_empty(), "{what}"),
                Point::Write | Point::Flush => {
                    assert!(!ended.recovered.is_empty(), "{what}: the written items are recovered")
                }
                // After a commit the next batch may be partly written, as in a process
                // killed while its store commits one batch and its files take the next.
                Point::Intent | Point::Commit => {}
            }
            // A later sync finds nothing to do.
            let again = w.sync();
            assert_eq!(again.counts.planned, 0, "{what}: {:?}", again.items);
        }
    }
}

#[test]
fn a_kill_at_any_step_then_undo_of_the_interrupted_operation_restores_what_it_wrote() {
    quiet_kills();
    for point in POINTS {
        for nth in nths(point) {
            let what = format!("{point:?} #{nth}");
            let mut w = World::new();
            w.edit_left(2);
            w.killed_sync(point, nth);
            let op = w.interrupted();
            let (mut engine, l, r) = w.parts();
            let undo = engine.undo(l, r, Some(&op.operation_id));
            if wrote_nothing(point, nth) || (wrote_maybe(point, nth) && undo.is_err()) {
                assert!(undo.is_err(), "{what}: nothing was written, so nothing to undo");
                assert_eq!(w.store.inner.operation(&op.operation_id).unwrap().unwrap().status, OperationStatus::Failed);
                for i in 0..FILES {
                    assert_eq!(w.right.inner.get(&k(i)), Some(&body(i, 1)), "{what}: right {i} was not written");
                }
                continue;
            }
            // Undo recovers first: whatever the interrupted sync wrote on the right goes back.
            let undo = undo.unwrap_or_else(|e| panic!("{what}: undo failed: {e}"));
            assert!(undo.refused.is_empty(), "{what}: {:?}", undo.refused);
            let ended = w.store.inner.operation(&op.operation_id).unwrap().unwrap();
            assert_eq!(ended.status, OperationStatus::Partial, "{what}");
            let restored: Vec<&Key> = undo.restored.iter().collect();
            for key in &ended.recovered {
                assert!(restored.contains(&key), "{what}: recovered {key} is covered by the undo");
            }
            for i in 0..FILES {
                assert_eq!(w.right.inner.get(&k(i)), Some(&body(i, 1)), "{what}: right {i} is back to version 1");
            }
            // The next sync brings version 2 across again, with no conflict.
            let report = w.sync();
            assert_eq!(report.counts.conflicts, 0, "{what}: {:?}", report.items);
            w.assert_equal(2, &what);
        }
    }
}

/// An undo stopped at each step — after its intents, after an item's write, after a
/// side's flush, after an item's record — loses nothing: recovery records what it
/// restored, a second undo restores the rest, and the next sync brings the edit across
/// again with no conflict.
#[test]
fn a_kill_at_any_step_of_an_undo_is_finished_by_recovery_and_a_second_undo() {
    quiet_kills();
    // An undo records its intents once and flushes each written side once; it writes
    // and records item by item.
    let undo_nths = |p: Point| if matches!(p, Point::Write | Point::Commit) { vec![0, 4] } else { vec![0] };
    for point in POINTS {
        for nth in undo_nths(point) {
            let what = format!("undo killed at {point:?} #{nth}");
            let mut w = World::new();
            w.edit_left(2);
            let op = w.sync();
            assert_eq!(op.counts.applied, FILES, "{what}");
            w.arm.set(point, nth);
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let (mut engine, l, r) = w.parts();
                engine.undo(l, r, Some(&op.operation_id))
            }));
            w.arm.clear();
            assert!(outcome.is_err(), "{what}: the undo was not killed");

            // The next writer recovers; a second undo restores whatever is left.
            let (mut engine, l, r) = w.parts();
            engine.recover(l, r).unwrap();
            assert!(w.store.inner.open_intents("default").unwrap().is_empty(), "{what}: intents left open");
            let (mut engine, l, r) = w.parts();
            match engine.undo(l, r, Some(&op.operation_id)) {
                Ok(again) => assert!(again.refused.is_empty(), "{what}: {:?}", again.refused),
                // Killed after the last item's record: the first undo had done everything.
                Err(e) => assert!(point == Point::Commit, "{what}: {e}"),
            }
            for i in 0..FILES {
                assert_eq!(w.right.inner.get(&k(i)), Some(&body(i, 1)), "{what}: right {i} is back to version 1");
            }
            let report = w.sync();
            assert_eq!(report.counts.conflicts, 0, "{what}: {:?}", report.items);
            w.assert_equal(2, &what);
            assert_eq!(w.sync().counts.planned, 0, "{what}");
        }
    }
}

/// A merge writes both sides. Killed after the first side is written and before the
/// second: recovery records the written side (undoable) but keeps the old base, since
/// the item never reached the merged state on both sides; the next sync merges again,
/// cleanly, and both sides end with both edits. (Taking the merged base instead would
/// make the unwritten side look like the only change and copy it over the merge.)
#[test]
fn a_kill_between_the_two_sides_of_a_merge_heals_by_merging_again() {
    quiet_kills();
    let merge = SyncOptions { policy: "merge".parse().unwrap(), ..SyncOptions::default() };
    let mut w = World::new();
    let key = k(0);
    let base = "one\ntwo\nthree\nfour\nfive\n";
    w.left.inner.put(&key, Content::Text(base.into()));
    w.right.inner.put(&key, Content::Text(base.into()));
    // Both sides hold the same text: the sync records it as the base.
    let (mut engine, l, r) = w.parts();
    engine.sync(l, r, &merge).unwrap();
    w.left.inner.put(&key, Content::Text("ONE\ntwo\nthree\nfour\nfive\n".into()));
    w.right.inner.put(&key, Content::Text("one\ntwo\nthree\nfour\nFIVE\n".into()));
    let merged = Content::Text("ONE\ntwo\nthree\nfour\nFIVE\n".into());

    w.arm.set(Point::Write, 0);
    let (mut engine, l, r) = w.parts();
    let killed = catch_unwind(AssertUnwindSafe(|| engine.sync(l, r, &merge)));
    assert!(killed.is_err(), "the merge was not killed");
    w.arm.clear();
    assert_eq!(w.left.inner.get(&key), Some(&merged), "the left was written before the kill");
    assert_ne!(w.right.inner.get(&key), Some(&merged), "the right was not");
    let op = w.interrupted();

    let (mut engine, l, r) = w.parts();
    let report = engine.sync(l, r, &merge).unwrap();
    assert_eq!((report.counts.conflicts, report.counts.failed), (0, 0), "{:?}", report.items);
    assert_eq!(w.left.inner.get(&key), Some(&merged));
    assert_eq!(w.right.inner.get(&key), Some(&merged));
    let ended = w.store.inner.operation(&op.operation_id).unwrap().unwrap();
    assert_eq!((ended.status, ended.recovered.clone()), (OperationStatus::Partial, vec![key.clone()]));
    let undo = w.store.inner.undo_entries(&op.operation_id).unwrap();
    assert_eq!(undo.len(), 1, "the written side's undo entry: {undo:?}");
    assert!(w.store.inner.open_intents("default").unwrap().is_empty());
}
