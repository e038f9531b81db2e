//! The engine over memory replicas and the memory store: what a user of a sync relies on.

use twinsync_core::replica::{ReplicaError, WriteContext};
use twinsync_core::ScanFailure;
use twinsync_core::*;

const T0: i64 = 1_790_000_000_000;

fn k(s: &str) -> Key {
    Key::new(s).unwrap()
}
fn text(s: &str) -> Content {
    Content::Text(s.into())
}

struct World {
    store: MemoryStore,
    clock: ManualClock,
    left: MemoryReplica,
    right: MemoryReplica,
    config: EngineConfig,
}

impl World {
    fn new() -> Self {
        World {
            store: MemoryStore::new(),
            clock: ManualClock::new(Timestamp(T0)),
            left: MemoryReplica::new("left"),
            right: MemoryReplica::new("right"),
            config: EngineConfig::default(),
        }
    }
    fn sync(&mut self, opts: &SyncOptions) -> OperationReport {
        let mut e = Engine::new(&mut self.store, &self.clock, self.config.clone());
        e.sync(&mut self.left, &mut self.right, opts).unwrap()
    }
    fn sync_with(&mut self, policy: &str) -> OperationReport {
        self.sync(&SyncOptions { policy: policy.parse().unwrap(), ..Default::default() })
    }
    fn undo(&mut self, op: Option<&str>) -> Result<UndoReport> {
        let mut e = Engine::new(&mut self.store, &self.clock, self.config.clone());
        e.undo(&mut self.left, &mut self.right, op)
    }
    fn status(&mut self) -> Drift {
        let mut e = Engine::new(&mut self.store, &self.clock, self.config.clone());
        e.status(&mut self.left, &mut self.right).unwrap()
    }
    /// Moves time past the operation-hash bucket so the next sync is a new request.
    fn tick(&mut self) {
        self.clock.advance(61_000);
    }
}

#[test]
fn first_sync_copies_both_ways_and_then_everything_is_in_sync() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("A\n"));
    w.right.put(&k("b.md"), text("B\n"));
    let r = w.sync(&SyncOptions::default());
    assert_eq!(r.status, OperationStatus::Completed);
    assert_eq!(r.counts.applied, 2);
    assert_eq!(w.right.get(&k("a.md")), Some(&text("A\n")));
    assert_eq!(w.left.get(&k("b.md")), Some(&text("B\n")));
    assert!(w.status().is_clean());
}

#[test]
fn repeating_a_request_returns_the_first_report_and_changes_nothing() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("base\n"));
    w.left.put(&k("c.md"), text("c\n"));
    w.sync(&SyncOptions::default());
    w.tick();
    w.left.put(&k("a.md"), text("left\n"));
    w.right.put(&k("a.md"), text("right\n"));
    w.left.put(&k("b.md"), text("new\n"));
    let first = w.sync_with("manual");
    assert!(!first.replayed);
    assert_eq!((first.counts.applied, first.counts.conflicts), (1, 1));
    // A retry within the same minute sees the same state for the conflict, but b.md is now
    // synced: a different state is a different operation.
    let second = w.sync_with("manual");
    assert_ne!(second.operation_id, first.operation_id);
    // Retrying that one, unchanged, is the same operation: the stored report comes back.
    let ops_before = w.store.operations(None, 100).unwrap().len();
    let third = w.sync_with("manual");
    assert_eq!(third.operation_id, second.operation_id);
    assert!(third.replayed, "the stored report is returned");
    assert_eq!(w.store.operations(None, 100).unwrap().len(), ops_before, "no new operation recorded");
    assert_eq!(w.store.history(None, 100).unwrap().len(), 3, "nothing applied again");
}

#[test]
fn a_new_edit_is_a_new_operation_even_within_the_minute() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("1\n"));
    let r1 = w.sync(&SyncOptions::default());
    w.left.put(&k("a.md"), text("2\n"));
    let r2 = w.sync(&SyncOptions::default());
    assert_ne!(r1.operation_id, r2.operation_id);
    assert_eq!(w.right.get(&k("a.md")), Some(&text("2\n")));
}

#[test]
fn manual_conflicts_are_reported_with_both_versions_and_nothing_written() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("base\n"));
    w.sync(&SyncOptions::default());
    w.tick();
    w.left.put(&k("a.md"), text("left edit\n"));
    w.right.put(&k("a.md"), text("right edit\n"));
    let r = w.sync_with("manual");
    assert_eq!(r.counts.conflicts, 1);
    assert_eq!(r.status, OperationStatus::Completed, "a conflict left for a person is not a failure");
    let c = &r.conflicts[0];
    assert_eq!(c.class, DriftClass::ConflictModifyModify);
    assert_eq!(c.left, Some(text("left edit\n")));
    assert_eq!(c.right, Some(text("right edit\n")));
    assert_eq!(w.left.get(&k("a.md")), Some(&text("left edit\n")));
    assert_eq!(w.right.get(&k("a.md")), Some(&text("right edit\n")));
    assert_eq!(w.status().counts.conflicts(), 1, "still a conflict afterwards");
}

#[test]
fn a_side_wins_and_the_losing_version_stays_recoverable_by_undo() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("base\n"));
    w.sync(&SyncOptions::default());
    w.tick();
    w.left.put(&k("a.md"), text("left edit\n"));
    w.right.put(&k("a.md"), text("right edit\n"));
    let r = w.sync_with("prefer-left");
    assert_eq!(r.counts.applied, 1);
    assert_eq!(w.right.get(&k("a.md")), Some(&text("left edit\n")));
    let u = w.undo(Some(&r.operation_id)).unwrap();
    assert_eq!(u.restored, vec![k("a.md")]);
    assert_eq!(w.right.get(&k("a.md")), Some(&text("right edit\n")), "the losing version is back");
    assert_eq!(w.status().counts.get(DriftClass::ConflictModifyModify), 1, "and the pair is back in conflict");
}

#[test]
fn newest_wins_uses_modification_times() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("base\n"));
    w.sync(&SyncOptions::default());
    w.tick();
    w.left.put_at(&k("a.md"), text("old\n"), Timestamp(T0 + 1));
    w.right.put_at(&k("a.md"), text("new\n"), Timestamp(T0 + 2));
    w.sync_with("newest-wins");
    assert_eq!(w.left.get(&k("a.md")), Some(&text("new\n")));
}

#[test]
fn a_deletion_never_silently_destroys_an_edit() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("base\n"));
    w.sync(&SyncOptions::default());
    w.tick();
    w.left.put(&k("a.md"), text("edited\n"));
    w.right.remove(&k("a.md"));
    let r = w.sync_with("prefer-right");
    assert_eq!(r.items[0].class, DriftClass::ConflictModifyDelete);
    assert_eq!(w.right.get(&k("a.md")), Some(&text("edited\n")), "the edit is restored where it was deleted");
}

#[test]
fn merge_policy_merges_json_and_falls_back_on_conflict() {
    let mut w = World::new();
    w.left.put(&k("a.json"), Content::Json(r#"{"a": 1, "b": 1}"#.into()));
    w.sync(&SyncOptions::default());
    w.tick();
    w.left.put(&k("a.json"), Content::Json(r#"{"a": 2, "b": 1}"#.into()));
    w.right.put(&k("a.json"), Content::Json(r#"{"a": 1, "b": 2}"#.into()));
    // Whether this merges cleanly depends on the JSON merge; either way nothing is lost:
    let r = w.sync_with("merge:right");
    assert_eq!(r.counts.failed, 0);
    let rules = HashRules::default();
    let l = rules.digest(w.left.get(&k("a.json")).unwrap()).unwrap();
    let rt = rules.digest(w.right.get(&k("a.json")).unwrap()).unwrap();
    assert_eq!(l, rt, "both sides agree after a merge or its fallback");
}

#[test]
fn one_way_sync_leaves_the_other_sides_changes_alone() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("A\n"));
    w.right.put(&k("b.md"), text("B\n"));
    let r = w.sync(&SyncOptions { directions: Directions::all(Direction::LeftToRight), ..Default::default() });
    assert_eq!(r.counts.applied, 1);
    assert_eq!(r.counts.skipped, 1);
    assert!(w.left.get(&k("b.md")).is_none());
    assert_eq!(w.status().counts.get(DriftClass::AddedRight), 1);
}

/// A memory replica with two faults a real one can have: writes to one key fail (a full
/// disk), and one edit lands right after the scan (an editor saving mid-sync).
struct Faulty {
    inner: MemoryReplica,
    broken: Option<Key>,
    edit_after_scan: Option<(Key, Content)>,
    /// An item the scan reports as unreadable (and leaves out of the snapshot).
    unreadable: Option<Key>,
    /// Flushes fail and lose what was written since the last good one, as a git side
    /// whose push is refused drops its unpushed commit.
    flush_fails: bool,
    /// What survives a failed flush.
    durable: MemoryReplica,
    flushes: usize,
}

impl Faulty {
    fn new(name: &str) -> Self {
        Faulty {
            inner: MemoryReplica::new(name),
            broken: None,
            edit_after_scan: None,
            unreadable: None,
            flush_fails: false,
            durable: MemoryReplica::new(name),
            flushes: 0,
        }
    }
}

impl Replica for Faulty {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn rules(&self) -> &HashRules {
        self.inner.rules()
    }
    fn scan(&mut self) -> std::result::Result<Snapshot, ReplicaError> {
        self.durable = self.inner.clone();
        let mut snap = self.inner.scan();
        if let Some((key, c)) = self.edit_after_scan.take() {
            self.inner.put(&key, c);
        }
        if let (Ok(s), Some(k)) = (&mut snap, &self.unreadable) {
            s.remove(k);
        }
        snap
    }
    fn scan_failures(&self) -> Vec<ScanFailure> {
        self.unreadable
            .iter()
            .map(|k| ScanFailure { key: k.to_string(), error: format!("{k}: invalid JSON: trailing comma") })
            .collect()
    }
    fn read(&self, key: &Key) -> std::result::Result<Option<Content>, ReplicaError> {
        self.inner.read(key)
    }
    fn write(
        &mut self,
        key: &Key,
        c: &Content,
        e: Option<&Digest>,
        ctx: &WriteContext,
    ) -> std::result::Result<Digest, ReplicaError> {
        if self.broken.as_ref() == Some(key) {
            return Err(ReplicaError::Io { key: key.to_string(), message: "disk full".into() });
        }
        self.inner.write(key, c, e, ctx)
    }
    fn delete(&mut self, key: &Key, e: &Digest, ctx: &WriteContext) -> std::result::Result<(), ReplicaError> {
        self.inner.delete(key, e, ctx)
    }
    fn flush(&mut self) -> std::result::Result<(), ReplicaError> {
        self.flushes += 1;
        if self.flush_fails {
            self.inner = self.durable.clone();
            return Err(ReplicaError::Io { key: "right".into(), message: "push refused: the branch moved".into() });
        }
        self.inner.flush()?;
        self.durable = self.inner.clone();
        Ok(())
    }
}

#[test]
fn a_side_that_cannot_flush_fails_its_items_and_no_base_is_recorded() {
    let mut store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp(T0));
    let mut left = MemoryReplica::new("left");
    left.put(&k("a.md"), text("a\n"));
    left.put(&k("b.md"), text("b\n"));
    let mut right = Faulty::new("right");
    right.flush_fails = true;
    let r = Engine::new(&mut store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!((r.status, r.counts.failed), (OperationStatus::Failed, 2), "{r:#?}");
    assert_eq!(right.flushes, 1, "one flush per side per batch");
    assert!(r.failures().all(|i| i.error.as_deref().unwrap().contains("not flushed")), "{r:#?}");
    assert!(store.load_base("default").unwrap().is_empty(), "no base before the side made the writes durable");
    assert!(right.inner.is_empty());
    // The next sync settles the open intents from what the side holds (nothing) and retries.
    right.flush_fails = false;
    clock.advance(61_000);
    let r = Engine::new(&mut store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!((r.status, r.counts.applied), (OperationStatus::Completed, 2), "{r:#?}");
    assert_eq!(store.load_base("default").unwrap().len(), 2);
}

#[test]
fn an_undo_whose_side_cannot_flush_fails_whole_and_stays_undoable() {
    let mut store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp(T0));
    let mut left = MemoryReplica::new("left");
    left.put(&k("a.md"), text("a\n"));
    left.put(&k("b.md"), text("b\n"));
    let mut right = Faulty::new("right");
    let r = Engine::new(&mut store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!(r.counts.applied, 2);
    right.flush_fails = true;
    let before = right.flushes;
    let e = Engine::new(&mut store, &clock, EngineConfig::default())
        .undo(&mut left, &mut right, Some(&r.operation_id))
        .unwrap_err();
    assert!(e.to_string().contains("push refused"), "{e}");
    assert_eq!(right.flushes, before + 1, "one flush for the whole undo");
    assert_eq!(right.inner.len(), 2, "nothing was undone on the side");
    // Once the side flushes again, the same operation undoes (recovery drops the
    // intents the failed undo left, as its side never took them).
    right.flush_fails = false;
    let u = Engine::new(&mut store, &clock, EngineConfig::default())
        .undo(&mut left, &mut right, Some(&r.operation_id))
        .unwrap();
    assert_eq!(u.restored, vec![k("a.md"), k("b.md")], "{u:?}");
    assert!(right.inner.is_empty());
}

#[test]
fn one_failing_item_never_stops_the_others() {
    let mut store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp(T0));
    let mut left = MemoryReplica::new("left");
    for name in ["a.md", "b.md", "c.md"] {
        left.put(&k(name), text(name));
    }
    let mut right = Faulty::new("right");
    right.broken = Some(k("b.md"));
    let r = Engine::new(&mut store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!(r.status, OperationStatus::Partial);
    assert_eq!((r.counts.applied, r.counts.failed), (2, 1));
    let failed: Vec<_> = r.failures().collect();
    assert_eq!(failed[0].key, k("b.md"));
    assert!(failed[0].error.as_deref().unwrap().contains("disk full"));
    assert!(right.inner.get(&k("a.md")).is_some() && right.inner.get(&k("c.md")).is_some());
    // The failed item is retried by the next sync, and succeeds once the disk is fixed.
    right.broken = None;
    clock.advance(61_000);
    let r2 = Engine::new(&mut store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!((r2.counts.applied, r2.status), (1, OperationStatus::Completed));
}

#[test]
fn an_edit_between_scan_and_write_is_a_conflict_and_survives() {
    let mut store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp(T0));
    let mut left = MemoryReplica::new("left");
    left.put(&k("a.md"), text("from left\n"));
    let mut right = Faulty::new("right");
    right.edit_after_scan = Some((k("a.md"), text("typed meanwhile\n")));
    let r = Engine::new(&mut store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!(r.counts.conflicts, 1, "{r:#?}");
    assert_eq!(right.inner.get(&k("a.md")), Some(&text("typed meanwhile\n")));
}

#[test]
fn undo_refuses_items_changed_since_and_restores_the_rest() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("a1\n"));
    w.left.put(&k("b.md"), text("b1\n"));
    let r = w.sync(&SyncOptions::default());
    w.right.put(&k("b.md"), text("edited after the sync\n"));
    let u = w.undo(Some(&r.operation_id)).unwrap();
    assert_eq!(u.restored, vec![k("a.md")]);
    assert_eq!(u.refused.len(), 1);
    assert_eq!(u.refused[0].key, k("b.md"));
    assert!(w.right.get(&k("a.md")).is_none());
    assert_eq!(w.right.get(&k("b.md")), Some(&text("edited after the sync\n")), "later work is never overwritten");
    assert!(matches!(w.undo(Some(&r.operation_id)), Err(Error::AlreadyUndone(_))), "an operation is undone once");
}

#[test]
fn undo_accepts_a_unique_prefix_and_defaults_to_the_newest() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("1\n"));
    let r1 = w.sync(&SyncOptions::default());
    w.left.put(&k("b.md"), text("2\n"));
    let r2 = w.sync(&SyncOptions::default());
    let u = w.undo(None).unwrap();
    assert_eq!(u.operation_id, r2.operation_id);
    let u = w.undo(Some(&r1.operation_id[..10])).unwrap();
    assert_eq!(u.operation_id, r1.operation_id);
    assert!(matches!(w.undo(Some("ffffffffffff")), Err(Error::NotFound(_))));
}

#[test]
fn undo_window_is_24_hours_and_50_operations() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("1\n"));
    let r = w.sync(&SyncOptions::default());
    w.clock.advance(24 * 3600 * 1000 + 1);
    let e = w.undo(Some(&r.operation_id)).unwrap_err();
    assert!(matches!(e, Error::Expired { .. }), "{e}");
    assert_eq!(e.code(), ErrorCode::Expired);

    let mut w = World::new();
    let mut ids = vec![];
    for i in 0..51 {
        w.left.put(&k("a.md"), text(&format!("{i}\n")));
        ids.push(w.sync(&SyncOptions::default()).operation_id);
    }
    assert!(matches!(w.undo(Some(&ids[0])), Err(Error::Expired { .. })), "the 51st-newest fell off the stack");
    assert!(w.undo(Some(&ids[50])).is_ok());
}

#[test]
fn mass_deletion_from_an_empty_scan_halts_the_sync() {
    let mut w = World::new();
    for i in 0..20 {
        w.left.put(&k(&format!("f{i}.md")), text("x"));
    }
    w.sync(&SyncOptions::default());
    w.tick();
    w.left = MemoryReplica::new("left"); // a wrong root or an unmounted disk
    let mut e = Engine::new(&mut w.store, &w.clock, w.config.clone());
    let err = e.sync(&mut w.left, &mut w.right, &SyncOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unsafe);
    assert!(err.to_string().contains("--allow-mass-delete"), "{err}");
    assert_eq!(w.right.len(), 20, "nothing was deleted");
    let r = e.sync(&mut w.left, &mut w.right, &SyncOptions { allow_mass_delete: true, ..Default::default() }).unwrap();
    assert_eq!(r.counts.applied, 20);
    assert!(w.right.is_empty());
}

#[test]
fn dry_run_changes_nothing_and_shows_diffs() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("one\n"));
    w.sync(&SyncOptions::default());
    w.tick();
    w.left.put(&k("a.md"), text("two\n"));
    let mut e = Engine::new(&mut w.store, &w.clock, w.config.clone());
    let p = e.preview(&mut w.left, &mut w.right, &SyncOptions::default()).unwrap();
    assert_eq!(p.plan.actions.len(), 1);
    assert!(p.diffs[0].diff.contains("-one") && p.diffs[0].diff.contains("+two"), "{}", p.diffs[0].diff);
    assert_eq!(w.right.get(&k("a.md")), Some(&text("one\n")));
    assert!(w.store.operations(None, 10).unwrap().len() == 1, "a dry run records no operation");
}

#[test]
fn history_and_audit_record_every_applied_item() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("A\n"));
    w.right.put(&k("b.md"), text("B\n"));
    let r = w.sync(&SyncOptions::default());
    let h = w.store.history(None, 10).unwrap();
    assert_eq!(h.len(), 2);
    assert!(h.iter().all(|e| e.success && e.operation_id == r.operation_id));
    let audit = w.store.audit_log(10).unwrap();
    assert_eq!(audit[0].correlation_id, r.operation_id);
    assert_eq!(Some(audit[0].id.clone()), r.audit_id);
}

#[test]
fn base_only_items_are_recorded_under_their_operation() {
    let mut w = World::new();
    w.left.put(&k("a.md"), text("same\n"));
    w.right.put(&k("a.md"), text("same\n"));
    let r = w.sync(&SyncOptions::default());
    assert_eq!(r.items[0].action, ActionKind::UpdateBase);
    let h = w.store.history(None, 10).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].operation_id, r.operation_id);
    assert_eq!(h[0].direction, "base");
}

#[test]
fn an_unreadable_item_is_neither_deleted_nor_overwritten_and_the_rest_syncs() {
    let mut store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
    let (mut left, mut right) = (Faulty::new("left"), Faulty::new("right"));
    let (cfg, other) = (k("cfg.json"), k("b.md"));
    left.inner.put(&cfg, Content::Json("{\"a\":1}".into()));
    let mut engine = Engine::new(&mut store, &clock, EngineConfig::default());
    engine.sync(&mut left, &mut right, &SyncOptions::default()).unwrap();
    assert!(right.inner.get(&cfg).is_some());

    // The left copy turns unreadable: to a plain scan it would look deleted.
    left.unreadable = Some(cfg.clone());
    left.inner.put(&other, Content::Text("b\n".into()));
    right.inner.put(&cfg, Content::Json("{\"a\":2}".into()));
    clock.advance(120_000);
    let mut engine = Engine::new(&mut store, &clock, EngineConfig::default());
    let drift = engine.status(&mut left, &mut right).unwrap();
    assert_eq!(drift.failed.len(), 1);
    assert!(drift.items.iter().all(|i| i.key != cfg), "kept out of the drift on both sides");
    let report = engine.sync(&mut left, &mut right, &SyncOptions::default()).unwrap();
    assert_eq!((report.counts.applied, report.counts.failed), (1, 1));
    assert_eq!(report.status, twinsync_core::OperationStatus::Partial);
    assert_eq!(report.item_errors[0].key, "cfg.json");
    assert_eq!(report.item_errors[0].side, twinsync_core::Side::Left);
    assert_eq!(right.inner.get(&cfg), Some(&Content::Json("{\"a\":2}".into())), "not deleted, not overwritten");
    assert_eq!(left.inner.get(&cfg), Some(&Content::Json("{\"a\":1}".into())), "the left is not touched either");
    assert!(right.inner.get(&other).is_some(), "the readable item synced");
    let failed_row = store.history(None, 10).unwrap().into_iter().find(|h| h.key == cfg && !h.success).unwrap();
    assert!(failed_row.error.unwrap().contains("invalid JSON"));
}

#[test]
fn the_store_keeps_bases_a_merge_may_read_and_what_undo_needs_nothing_more() {
    let mut w = World::new();
    let (doc, pic, big) = (k("doc.md"), k("pic.png"), k("big.md"));
    w.left.put(&doc, text("hello\n"));
    w.left.put(&pic, Content::Bytes(vec![0x89, b'P', b'N', b'G', 0, 1, 2]));
    let long = "x".repeat(2 << 20);
    w.left.put(&big, text(&long));
    assert_eq!(w.sync(&SyncOptions::default()).counts.applied, 3);
    let digest = |c: &Content| HashRules::default().digest(c).unwrap();
    // Text under the cap is a merge's base; bytes and text over the cap never are.
    assert!(w.store.blob(&digest(&text("hello\n"))).unwrap().is_some());
    assert_eq!(w.store.blob(&digest(w.right.get(&pic).unwrap())).unwrap(), None, "no copy of a binary item");
    assert_eq!(w.store.blob(&digest(&text(&long))).unwrap(), None, "no copy of text over the cap");

    // What a sync overwrites is kept for undo, binary or not, and undo restores it.
    w.tick();
    let old_pic = w.right.get(&pic).unwrap().clone();
    w.left.put(&pic, Content::Bytes(vec![0x89, b'P', b'N', b'G', 9, 9]));
    let op = w.sync(&SyncOptions::default());
    assert_eq!(op.counts.applied, 1);
    assert!(w.store.blob(&digest(&old_pic)).unwrap().is_some(), "the overwritten version is kept for undo");
    let undone = w.undo(Some(&op.operation_id)).unwrap();
    assert_eq!(undone.restored, vec![pic.clone()]);
    assert_eq!(w.right.get(&pic), Some(&old_pic));
}
