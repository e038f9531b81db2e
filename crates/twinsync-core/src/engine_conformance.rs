//! The engine conformance suite: what a user of a sync relies on, as test cases written
//! once and run with the state in every [`Store`] (this crate's `MemoryStore`, SQLite,
//! PostgreSQL), so the engine is proven on each store from one matrix, not copies.
//!
//! Each case takes a fresh, empty store and panics with a message naming what broke. The
//! sides are memory replicas (and a faulty one), so what differs between runs is the
//! store alone. Run one `#[test]` per case with
//! [`engine_conformance_tests!`](crate::engine_conformance_tests).

use crate::clock::{ManualClock, Timestamp};
use crate::content::{Content, HashRules};
use crate::digest::Digest;
use crate::drift::{Drift, DriftClass};
use crate::engine::{Engine, EngineConfig, SyncOptions};
use crate::error::{Error, ErrorCode, Result};
use crate::key::Key;
use crate::plan::ActionKind;
use crate::policy::{Direction, Directions, Side};
use crate::replica::{MemoryReplica, Replica, ReplicaError, ScanFailure, Snapshot, WriteContext};
use crate::report::{OperationReport, OperationStatus, UndoReport};
use crate::store::Store;

/// A test case: a name and a function run on a fresh, empty store.
pub type Case = (&'static str, fn(&mut dyn Store));

/// Every case, in a stable order.
pub const CASES: &[Case] = &[
    (
        "first_sync_copies_both_ways_and_then_everything_is_in_sync",
        first_sync_copies_both_ways_and_then_everything_is_in_sync,
    ),
    (
        "repeating_a_request_returns_the_first_report_and_changes_nothing",
        repeating_a_request_returns_the_first_report_and_changes_nothing,
    ),
    ("a_new_edit_is_a_new_operation_even_within_the_minute", a_new_edit_is_a_new_operation_even_within_the_minute),
    (
        "manual_conflicts_are_reported_with_both_versions_and_nothing_written",
        manual_conflicts_are_reported_with_both_versions_and_nothing_written,
    ),
    (
        "a_side_wins_and_the_losing_version_stays_recoverable_by_undo",
        a_side_wins_and_the_losing_version_stays_recoverable_by_undo,
    ),
    ("newest_wins_uses_modification_times", newest_wins_uses_modification_times),
    ("a_deletion_never_silently_destroys_an_edit", a_deletion_never_silently_destroys_an_edit),
    ("merge_policy_merges_json_and_falls_back_on_conflict", merge_policy_merges_json_and_falls_back_on_conflict),
    ("one_way_sync_leaves_the_other_sides_changes_alone", one_way_sync_leaves_the_other_sides_changes_alone),
    (
        "a_side_that_cannot_flush_fails_its_items_and_no_base_is_recorded",
        a_side_that_cannot_flush_fails_its_items_and_no_base_is_recorded,
    ),
    (
        "an_undo_whose_side_cannot_flush_fails_whole_and_stays_undoable",
        an_undo_whose_side_cannot_flush_fails_whole_and_stays_undoable,
    ),
    ("one_failing_item_never_stops_the_others", one_failing_item_never_stops_the_others),
    (
        "an_edit_between_scan_and_write_is_a_conflict_and_survives",
        an_edit_between_scan_and_write_is_a_conflict_and_survives,
    ),
    (
        "an_edit_of_the_source_between_scan_and_write_is_no_conflict_and_the_next_sync_takes_it",
        an_edit_of_the_source_between_scan_and_write_is_no_conflict_and_the_next_sync_takes_it,
    ),
    ("undo_refuses_items_changed_since_and_restores_the_rest", undo_refuses_items_changed_since_and_restores_the_rest),
    (
        "undo_accepts_a_unique_prefix_and_defaults_to_the_newest",
        undo_accepts_a_unique_prefix_and_defaults_to_the_newest,
    ),
    ("undo_window_is_24_hours", undo_window_is_24_hours),
    ("undo_stack_holds_50_operations", undo_stack_holds_50_operations),
    ("mass_deletion_from_an_empty_scan_halts_the_sync", mass_deletion_from_an_empty_scan_halts_the_sync),
    ("dry_run_changes_nothing_and_shows_diffs", dry_run_changes_nothing_and_shows_diffs),
    ("history_and_audit_record_every_applied_item", history_and_audit_record_every_applied_item),
    ("base_only_items_are_recorded_under_their_operation", base_only_items_are_recorded_under_their_operation),
    (
        "an_unreadable_item_is_neither_deleted_nor_overwritten_and_the_rest_syncs",
        an_unreadable_item_is_neither_deleted_nor_overwritten_and_the_rest_syncs,
    ),
    (
        "the_store_keeps_bases_a_merge_may_read_and_what_undo_needs_nothing_more",
        the_store_keeps_bases_a_merge_may_read_and_what_undo_needs_nothing_more,
    ),
    (
        "formatting_only_items_sync_only_when_asked_and_undo_restores_their_bytes",
        formatting_only_items_sync_only_when_asked_and_undo_restores_their_bytes,
    ),
];

/// Runs every case, each on a store from `make`; panics naming the first case that fails.
pub fn run_all(make: &mut dyn FnMut() -> Box<dyn Store>) {
    for (name, case) in CASES {
        let mut store = make();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(store.as_mut())));
        if let Err(panic) = result {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("engine conformance case {name} failed: {msg}");
        }
    }
}

/// Generates one `#[test]` per engine case; `$make` is an expression giving a fresh
/// `Box<dyn Store>` (evaluated once per test).
#[macro_export]
macro_rules! engine_conformance_tests {
    ($make:expr) => {
        $crate::engine_conformance_tests!(@cases $make;
first_sync_copies_both_ways_and_then_everything_is_in_sync, repeating_a_request_returns_the_first_report_and_changes_nothing, a_new_edit_is_a_new_operation_even_within_the_minute, manual_conflicts_are_reported_with_both_versions_and_nothing_written, a_side_wins_and_the_losing_version_stays_recoverable_by_undo, newest_wins_uses_modification_times, a_deletion_never_silently_destroys_an_edit, merge_policy_merges_json_and_falls_back_on_conflict, one_way_sync_leaves_the_other_sides_changes_alone, a_side_that_cannot_flush_fails_its_items_and_no_base_is_recorded, an_undo_whose_side_cannot_flush_fails_whole_and_stays_undoable, one_failing_item_never_stops_the_others, an_edit_between_scan_and_write_is_a_conflict_and_survives, an_edit_of_the_source_between_scan_and_write_is_no_conflict_and_the_next_sync_takes_it, undo_refuses_items_changed_since_and_restores_the_rest, undo_accepts_a_unique_prefix_and_defaults_to_the_newest, undo_window_is_24_hours, undo_stack_holds_50_operations, mass_deletion_from_an_empty_scan_halts_the_sync, dry_run_changes_nothing_and_shows_diffs, history_and_audit_record_every_applied_item, base_only_items_are_recorded_under_their_operation, an_unreadable_item_is_neither_deleted_nor_overwritten_and_the_rest_syncs, the_store_keeps_bases_a_merge_may_read_and_what_undo_needs_nothing_more, formatting_only_items_sync_only_when_asked_and_undo_restores_their_bytes);
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                let mut store: Box<dyn $crate::Store> = $make;
                $crate::engine_conformance::$case(store.as_mut());
            }
        )*
    };
}

const T0: i64 = 1_790_000_000_000;

fn k(s: &str) -> Key {
    Key::new(s).unwrap()
}
fn text(s: &str) -> Content {
    Content::Text(s.into())
}

struct World<'s> {
    store: &'s mut dyn Store,
    clock: ManualClock,
    left: MemoryReplica,
    right: MemoryReplica,
    config: EngineConfig,
}

impl<'s> World<'s> {
    fn new(store: &'s mut dyn Store) -> Self {
        World {
            store,
            clock: ManualClock::new(Timestamp(T0)),
            left: MemoryReplica::new("left"),
            right: MemoryReplica::new("right"),
            config: EngineConfig::default(),
        }
    }
    fn sync(&mut self, opts: &SyncOptions) -> OperationReport {
        let mut e = Engine::new(self.store, &self.clock, self.config.clone());
        e.sync(&mut self.left, &mut self.right, opts).unwrap()
    }
    fn sync_with(&mut self, policy: &str) -> OperationReport {
        self.sync(&SyncOptions { policy: policy.parse().unwrap(), ..Default::default() })
    }
    fn undo(&mut self, op: Option<&str>) -> Result<UndoReport> {
        let mut e = Engine::new(self.store, &self.clock, self.config.clone());
        e.undo(&mut self.left, &mut self.right, op)
    }
    fn status(&mut self) -> Drift {
        let mut e = Engine::new(self.store, &self.clock, self.config.clone());
        e.status(&mut self.left, &mut self.right).unwrap()
    }
    /// Moves time past the operation-hash bucket so the next sync is a new request.
    fn tick(&mut self) {
        self.clock.advance(61_000);
    }
}

/// Case: First sync copies both ways and then everything is in sync.
pub fn first_sync_copies_both_ways_and_then_everything_is_in_sync(store: &mut dyn Store) {
    let mut w = World::new(store);
    w.left.put(&k("a.md"), text("A\n"));
    w.right.put(&k("b.md"), text("B\n"));
    let r = w.sync(&SyncOptions::default());
    assert_eq!(r.status, OperationStatus::Completed);
    assert_eq!(r.counts.applied, 2);
    assert_eq!(w.right.get(&k("a.md")), Some(&text("A\n")));
    assert_eq!(w.left.get(&k("b.md")), Some(&text("B\n")));
    assert!(w.status().is_clean());
}

/// Case: Repeating a request returns the first report and changes nothing.
pub fn repeating_a_request_returns_the_first_report_and_changes_nothing(store: &mut dyn Store) {
    let mut w = World::new(store);
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

/// Case: A new edit is a new operation even within the minute.
pub fn a_new_edit_is_a_new_operation_even_within_the_minute(store: &mut dyn Store) {
    let mut w = World::new(store);
    w.left.put(&k("a.md"), text("1\n"));
    let r1 = w.sync(&SyncOptions::default());
    w.left.put(&k("a.md"), text("2\n"));
    let r2 = w.sync(&SyncOptions::default());
    assert_ne!(r1.operation_id, r2.operation_id);
    assert_eq!(w.right.get(&k("a.md")), Some(&text("2\n")));
}

/// Case: Manual conflicts are reported with both versions and nothing written.
pub fn manual_conflicts_are_reported_with_both_versions_and_nothing_written(store: &mut dyn Store) {
    let mut w = World::new(store);
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

/// Case: A side wins and the losing version stays recoverable by undo.
pub fn a_side_wins_and_the_losing_version_stays_recoverable_by_undo(store: &mut dyn Store) {
    let mut w = World::new(store);
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

/// Case: Newest wins uses modification times.
pub fn newest_wins_uses_modification_times(store: &mut dyn Store) {
    let mut w = World::new(store);
    w.left.put(&k("a.md"), text("base\n"));
    w.sync(&SyncOptions::default());
    w.tick();
    w.left.put_at(&k("a.md"), text("old\n"), Timestamp(T0 + 1));
    w.right.put_at(&k("a.md"), text("new\n"), Timestamp(T0 + 2));
    w.sync_with("newest-wins");
    assert_eq!(w.left.get(&k("a.md")), Some(&text("new\n")));
}

/// Case: A deletion never silently destroys an edit.
pub fn a_deletion_never_silently_destroys_an_edit(store: &mut dyn Store) {
    let mut w = World::new(store);
    w.left.put(&k("a.md"), text("base\n"));
    w.sync(&SyncOptions::default());
    w.tick();
    w.left.put(&k("a.md"), text("edited\n"));
    w.right.remove(&k("a.md"));
    let r = w.sync_with("prefer-right");
    assert_eq!(r.items[0].class, DriftClass::ConflictModifyDelete);
    assert_eq!(w.right.get(&k("a.md")), Some(&text("edited\n")), "the edit is restored where it was deleted");
}

/// Case: Merge policy merges json and falls back on conflict.
pub fn merge_policy_merges_json_and_falls_back_on_conflict(store: &mut dyn Store) {
    let mut w = World::new(store);
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

/// Case: One way sync leaves the other sides changes alone.
pub fn one_way_sync_leaves_the_other_sides_changes_alone(store: &mut dyn Store) {
    let mut w = World::new(store);
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

/// Case: A side that cannot flush fails its items and no base is recorded.
pub fn a_side_that_cannot_flush_fails_its_items_and_no_base_is_recorded(store: &mut dyn Store) {
    let clock = ManualClock::new(Timestamp(T0));
    let mut left = MemoryReplica::new("left");
    left.put(&k("a.md"), text("a\n"));
    left.put(&k("b.md"), text("b\n"));
    let mut right = Faulty::new("right");
    right.flush_fails = true;
    let r = Engine::new(store, &clock, EngineConfig::default())
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
    let r = Engine::new(store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!((r.status, r.counts.applied), (OperationStatus::Completed, 2), "{r:#?}");
    assert_eq!(store.load_base("default").unwrap().len(), 2);
}

/// Case: An undo whose side cannot flush fails whole and stays undoable.
pub fn an_undo_whose_side_cannot_flush_fails_whole_and_stays_undoable(store: &mut dyn Store) {
    let clock = ManualClock::new(Timestamp(T0));
    let mut left = MemoryReplica::new("left");
    left.put(&k("a.md"), text("a\n"));
    left.put(&k("b.md"), text("b\n"));
    let mut right = Faulty::new("right");
    let r = Engine::new(store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!(r.counts.applied, 2);
    right.flush_fails = true;
    let before = right.flushes;
    let e = Engine::new(store, &clock, EngineConfig::default())
        .undo(&mut left, &mut right, Some(&r.operation_id))
        .unwrap_err();
    assert!(e.to_string().contains("push refused"), "{e}");
    assert_eq!(right.flushes, before + 1, "one flush for the whole undo");
    assert_eq!(right.inner.len(), 2, "nothing was undone on the side");
    // Once the side flushes again, the same operation undoes (recovery drops the
    // intents the failed undo left, as its side never took them).
    right.flush_fails = false;
    let u =
        Engine::new(store, &clock, EngineConfig::default()).undo(&mut left, &mut right, Some(&r.operation_id)).unwrap();
    assert_eq!(u.restored, vec![k("a.md"), k("b.md")], "{u:?}");
    assert!(right.inner.is_empty());
}

/// Case: One failing item never stops the others.
pub fn one_failing_item_never_stops_the_others(store: &mut dyn Store) {
    let clock = ManualClock::new(Timestamp(T0));
    let mut left = MemoryReplica::new("left");
    for name in ["a.md", "b.md", "c.md"] {
        left.put(&k(name), text(name));
    }
    let mut right = Faulty::new("right");
    right.broken = Some(k("b.md"));
    let r = Engine::new(store, &clock, EngineConfig::default())
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
    let r2 = Engine::new(store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!((r2.counts.applied, r2.status), (1, OperationStatus::Completed));
}

/// Case: An edit between scan and write is a conflict and survives.
pub fn an_edit_between_scan_and_write_is_a_conflict_and_survives(store: &mut dyn Store) {
    let clock = ManualClock::new(Timestamp(T0));
    let mut left = MemoryReplica::new("left");
    left.put(&k("a.md"), text("from left\n"));
    let mut right = Faulty::new("right");
    right.edit_after_scan = Some((k("a.md"), text("typed meanwhile\n")));
    let r = Engine::new(store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!(r.counts.conflicts, 1, "{r:#?}");
    assert_eq!(right.inner.get(&k("a.md")), Some(&text("typed meanwhile\n")));
}

/// Case: An edit of the source between scan and write is no conflict and the next sync takes it.
pub fn an_edit_of_the_source_between_scan_and_write_is_no_conflict_and_the_next_sync_takes_it(store: &mut dyn Store) {
    let clock = ManualClock::new(Timestamp(T0));
    // An editor that creates the file, then fills it: the scan sees it empty.
    let mut left = Faulty::new("left");
    left.inner.put(&k("a.md"), text(""));
    left.edit_after_scan = Some((k("a.md"), text("saved in full\n")));
    let mut right = MemoryReplica::new("right");
    let r = Engine::new(store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!((r.counts.conflicts, r.counts.skipped, r.counts.failed), (0, 1, 0), "{r:#?}");
    assert!(r.conflicts.is_empty(), "{r:#?}");
    let note = r.items[0].note.as_deref().unwrap();
    assert!(note.contains("a.md") && note.contains("left") && note.contains("next sync"), "{note}");
    assert_eq!(right.get(&k("a.md")), None, "nothing written from a source that moved on");
    clock.advance(61_000);
    let r = Engine::new(store, &clock, EngineConfig::default())
        .sync(&mut left, &mut right, &SyncOptions::default())
        .unwrap();
    assert_eq!((r.status, r.counts.applied, r.counts.conflicts), (OperationStatus::Completed, 1, 0), "{r:#?}");
    assert_eq!(right.get(&k("a.md")), Some(&text("saved in full\n")));
}

/// Case: Undo refuses items changed since and restores the rest.
pub fn undo_refuses_items_changed_since_and_restores_the_rest(store: &mut dyn Store) {
    let mut w = World::new(store);
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

/// Case: Undo accepts a unique prefix and defaults to the newest.
pub fn undo_accepts_a_unique_prefix_and_defaults_to_the_newest(store: &mut dyn Store) {
    let mut w = World::new(store);
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

/// Case: Undo window is 24 hours.
pub fn undo_window_is_24_hours(store: &mut dyn Store) {
    let mut w = World::new(store);
    w.left.put(&k("a.md"), text("1\n"));
    let r = w.sync(&SyncOptions::default());
    w.clock.advance(24 * 3600 * 1000 + 1);
    let e = w.undo(Some(&r.operation_id)).unwrap_err();
    assert!(matches!(e, Error::Expired { .. }), "{e}");
    assert_eq!(e.code(), ErrorCode::Expired);
}

/// Case: Undo stack holds 50 operations.
pub fn undo_stack_holds_50_operations(store: &mut dyn Store) {
    let mut w = World::new(store);
    let mut ids = vec![];
    for i in 0..51 {
        w.left.put(&k("a.md"), text(&format!("{i}\n")));
        ids.push(w.sync(&SyncOptions::default()).operation_id);
    }
    assert!(matches!(w.undo(Some(&ids[0])), Err(Error::Expired { .. })), "the 51st-newest fell off the stack");
    assert!(w.undo(Some(&ids[50])).is_ok());
}

/// Case: Mass deletion from an empty scan halts the sync.
pub fn mass_deletion_from_an_empty_scan_halts_the_sync(store: &mut dyn Store) {
    let mut w = World::new(store);
    for i in 0..20 {
        w.left.put(&k(&format!("f{i}.md")), text("x"));
    }
    w.sync(&SyncOptions::default());
    w.tick();
    w.left = MemoryReplica::new("left"); // a wrong root or an unmounted disk
    let mut e = Engine::new(w.store, &w.clock, w.config.clone());
    let err = e.sync(&mut w.left, &mut w.right, &SyncOptions::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unsafe);
    assert!(err.to_string().contains("--allow-mass-delete"), "{err}");
    assert_eq!(w.right.len(), 20, "nothing was deleted");
    let r = e.sync(&mut w.left, &mut w.right, &SyncOptions { allow_mass_delete: true, ..Default::default() }).unwrap();
    assert_eq!(r.counts.applied, 20);
    assert!(w.right.is_empty());
}

/// Case: Dry run changes nothing and shows diffs.
pub fn dry_run_changes_nothing_and_shows_diffs(store: &mut dyn Store) {
    let mut w = World::new(store);
    w.left.put(&k("a.md"), text("one\n"));
    w.sync(&SyncOptions::default());
    w.tick();
    w.left.put(&k("a.md"), text("two\n"));
    let mut e = Engine::new(w.store, &w.clock, w.config.clone());
    let p = e.preview(&mut w.left, &mut w.right, &SyncOptions::default()).unwrap();
    assert_eq!(p.plan.actions.len(), 1);
    assert!(p.diffs[0].diff.contains("-one") && p.diffs[0].diff.contains("+two"), "{}", p.diffs[0].diff);
    assert_eq!(w.right.get(&k("a.md")), Some(&text("one\n")));
    assert!(w.store.operations(None, 10).unwrap().len() == 1, "a dry run records no operation");
}

/// Case: History and audit record every applied item.
pub fn history_and_audit_record_every_applied_item(store: &mut dyn Store) {
    let mut w = World::new(store);
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

/// Case: Base only items are recorded under their operation.
pub fn base_only_items_are_recorded_under_their_operation(store: &mut dyn Store) {
    let mut w = World::new(store);
    w.left.put(&k("a.md"), text("same\n"));
    w.right.put(&k("a.md"), text("same\n"));
    let r = w.sync(&SyncOptions::default());
    assert_eq!(r.items[0].action, ActionKind::UpdateBase);
    let h = w.store.history(None, 10).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].operation_id, r.operation_id);
    assert_eq!(h[0].direction, "base");
}

/// Case: An unreadable item is neither deleted nor overwritten and the rest syncs.
pub fn an_unreadable_item_is_neither_deleted_nor_overwritten_and_the_rest_syncs(store: &mut dyn Store) {
    let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
    let (mut left, mut right) = (Faulty::new("left"), Faulty::new("right"));
    let (cfg, other) = (k("cfg.json"), k("b.md"));
    left.inner.put(&cfg, Content::Json("{\"a\":1}".into()));
    let mut engine = Engine::new(store, &clock, EngineConfig::default());
    engine.sync(&mut left, &mut right, &SyncOptions::default()).unwrap();
    assert!(right.inner.get(&cfg).is_some());

    // The left copy turns unreadable: to a plain scan it would look deleted.
    left.unreadable = Some(cfg.clone());
    left.inner.put(&other, Content::Text("b\n".into()));
    right.inner.put(&cfg, Content::Json("{\"a\":2}".into()));
    clock.advance(120_000);
    let mut engine = Engine::new(store, &clock, EngineConfig::default());
    let drift = engine.status(&mut left, &mut right).unwrap();
    assert_eq!(drift.failed.len(), 1);
    assert!(drift.items.iter().all(|i| i.key != cfg), "kept out of the drift on both sides");
    let report = engine.sync(&mut left, &mut right, &SyncOptions::default()).unwrap();
    assert_eq!((report.counts.applied, report.counts.failed), (1, 1));
    assert_eq!(report.status, OperationStatus::Partial);
    assert_eq!(report.item_errors[0].key, "cfg.json");
    assert_eq!(report.item_errors[0].side, Side::Left);
    assert_eq!(right.inner.get(&cfg), Some(&Content::Json("{\"a\":2}".into())), "not deleted, not overwritten");
    assert_eq!(left.inner.get(&cfg), Some(&Content::Json("{\"a\":1}".into())), "the left is not touched either");
    assert!(right.inner.get(&other).is_some(), "the readable item synced");
    let failed_row = store.history(None, 10).unwrap().into_iter().find(|h| h.key == cfg && !h.success).unwrap();
    assert!(failed_row.error.unwrap().contains("invalid JSON"));
}

/// Case: The store keeps bases a merge may read and what undo needs nothing more.
pub fn the_store_keeps_bases_a_merge_may_read_and_what_undo_needs_nothing_more(store: &mut dyn Store) {
    let mut w = World::new(store);
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

/// Case: Formatting-only items sync only when asked, and undo restores their bytes.
pub fn formatting_only_items_sync_only_when_asked_and_undo_restores_their_bytes(store: &mut dyn Store) {
    let mut w = World::new(store);
    let json = |s: &str| Content::Json(s.into());
    let (lf, crlf, mixed) = (text("one\ntwo\n"), text("one\r\ntwo\r\n"), text("one\ntwo\r\n"));
    let (spaced, reordered) = (json("{\"a\": 1, \"b\": 2}\n"), json("{\"b\":2,\"a\":1}"));
    w.left.put(&k("a.md"), lf.clone());
    w.left.put(&k("t.json"), spaced.clone());
    w.sync(&SyncOptions::default());
    w.tick();
    w.right.put(&k("a.md"), crlf.clone());
    w.right.put(&k("t.json"), reordered.clone());
    let drift = w.status();
    assert_eq!(drift.counts.get(DriftClass::FormattingOnly), 2, "{:?}", drift.items);
    assert!(drift.is_clean(), "formatting is no drift");

    let plain = w.sync_with("prefer-right");
    assert_eq!(plain.counts.planned, 0, "a plain sync leaves formatting alone: {:?}", plain.items);
    assert_eq!(w.left.get(&k("a.md")), Some(&lf));

    let manual = w.sync(&SyncOptions { formatting: true, ..Default::default() });
    assert_eq!(manual.counts.conflicts, 2, "manual does not know whose bytes win");
    assert!(manual.conflicts[0].reason.contains("prefer-left"), "{}", manual.conflicts[0].reason);
    assert_eq!(w.left.get(&k("a.md")), Some(&lf));

    let formatting = SyncOptions { formatting: true, policy: "prefer-right".parse().unwrap(), ..Default::default() };
    let first = w.sync(&formatting);
    assert_eq!(first.counts.applied, 2, "{:?}", first.items);
    assert_eq!((w.left.get(&k("a.md")), w.left.get(&k("t.json"))), (Some(&crlf), Some(&reordered)));
    assert_eq!(w.status().counts.get(DriftClass::InSync), 2, "byte-equal now");

    // Reformatted again within the minute: the same digests, but other bytes, so a new
    // operation rather than a replay of the first.
    w.right.put(&k("a.md"), mixed.clone());
    let second = w.sync(&formatting);
    assert!(!second.replayed);
    assert_ne!(second.operation_id, first.operation_id);
    assert_eq!(w.left.get(&k("a.md")), Some(&mixed));

    w.undo(Some(&second.operation_id)).unwrap();
    assert_eq!(w.left.get(&k("a.md")), Some(&crlf), "undo puts the bytes back, not just the content");
    let u = w.undo(Some(&first.operation_id)).unwrap();
    assert_eq!(u.restored.len(), 2, "{:?}", u.refused);
    assert_eq!((w.left.get(&k("a.md")), w.left.get(&k("t.json"))), (Some(&lf), Some(&spaced)));
    assert_eq!(w.right.get(&k("a.md")), Some(&mixed), "the side that was copied from is untouched");
}
