//! The `Store` conformance suite: the contract of every [`Store`] method as test cases,
//! written once and run against each implementation (this crate's `MemoryStore`, the
//! SQLite store, any host's own).
//!
//! Each case takes a fresh, empty store and panics with a message naming what broke.
//! Run them all with [`run_all`], or one `#[test]` per case with
//! [`store_conformance_tests!`](crate::store_conformance_tests).

use std::collections::BTreeMap;

use crate::api_key::ApiKeyRecord;
use crate::audit::AuditRecord;
use crate::clock::Timestamp;
use crate::content::Content;
use crate::coverage::{Component, ComponentCoverage, CoverageInput, CoverageOptions};
use crate::coverage_history::CoverageRecord;
use crate::credential::{CredentialRecord, CredentialStatus, ProviderType};
use crate::delivery::{Delivery, DeliveryStatus};
use crate::digest::Digest;
use crate::drift::DriftClass;
use crate::event::{Event, EventType};
use crate::key::Key;
use crate::lock::{Lock, LockError};
use crate::plan::ActionKind;
use crate::policy::{Direction, Directions, Policy, Side};
use crate::report::{ConflictReport, ItemResult, OperationReport, OperationStatus, Outcome, ReportCounts, Trigger};
use crate::store::{HistoryEntry, Intent, ItemCommit, LockChange, Store, UndoCommit, UndoEntry, UndoLimits};
use crate::test_session::{TestSession, TestSessionStatus};

/// A test case: a name and a function run on a fresh, empty store.
pub type Case = (&'static str, fn(&mut dyn Store));

/// Every case, in a stable order.
pub const CASES: &[Case] = &[
    ("base_round_trip_per_scope", base_round_trip_per_scope),
    ("blobs_round_trip_and_dedup", blobs_round_trip_and_dedup),
    ("operations_newest_first_and_replace", operations_newest_first_and_replace),
    ("commit_item_stores_everything", commit_item_stores_everything),
    ("undo_entries_and_commit_undo", undo_entries_and_commit_undo),
    ("prune_by_count", prune_by_count),
    ("prune_by_age", prune_by_age),
    ("blob_gc_keeps_referenced", blob_gc_keeps_referenced),
    ("history_newest_first_with_scope_filter", history_newest_first_with_scope_filter),
    ("update_lock_refusal_leaves_lock", update_lock_refusal_leaves_lock),
    ("audit_ids_and_order", audit_ids_and_order),
    ("outbox_ids_grow_and_read_from_an_id", outbox_ids_grow_and_read_from_an_id),
    ("outbox_events_commit_with_their_change", outbox_events_commit_with_their_change),
    ("outbox_prune_keeps_ids_growing", outbox_prune_keeps_ids_growing),
    ("deliveries_by_endpoint_and_status", deliveries_by_endpoint_and_status),
    ("kv_round_trip", kv_round_trip),
    ("intents_round_trip_and_clear_on_commit", intents_round_trip_and_clear_on_commit),
    ("commit_items_commits_a_batch", commit_items_commits_a_batch),
    ("prune_keeps_blobs_of_open_intents", prune_keeps_blobs_of_open_intents),
    ("credentials_round_trip_with_their_events", credentials_round_trip_with_their_events),
    ("prune_deliveries_drops_only_finished_old_ones", prune_deliveries_drops_only_finished_old_ones),
    ("test_sessions_round_trip_newest_first", test_sessions_round_trip_newest_first),
    ("coverage_history_newest_first_and_pruned", coverage_history_newest_first_and_pruned),
    ("api_keys_by_hash_revoked_and_touched", api_keys_by_hash_revoked_and_touched),
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
            panic!("store conformance case {name} failed: {msg}");
        }
    }
}

/// Generates one `#[test]` per conformance case; `$make` is an expression giving a
/// fresh `Box<dyn Store>` (evaluated once per test).
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr) => {
        $crate::store_conformance_tests!(@cases $make;
            base_round_trip_per_scope, blobs_round_trip_and_dedup, operations_newest_first_and_replace,
            commit_item_stores_everything, undo_entries_and_commit_undo, prune_by_count, prune_by_age,
            blob_gc_keeps_referenced, history_newest_first_with_scope_filter, update_lock_refusal_leaves_lock,
            audit_ids_and_order, outbox_ids_grow_and_read_from_an_id, outbox_events_commit_with_their_change,
            outbox_prune_keeps_ids_growing, deliveries_by_endpoint_and_status, kv_round_trip,
            intents_round_trip_and_clear_on_commit, commit_items_commits_a_batch, prune_keeps_blobs_of_open_intents,
            credentials_round_trip_with_their_events, prune_deliveries_drops_only_finished_old_ones,
            test_sessions_round_trip_newest_first, coverage_history_newest_first_and_pruned,
            api_keys_by_hash_revoked_and_touched);
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                let mut store: Box<dyn $crate::Store> = $make;
                $crate::store_conformance::$case(store.as_mut());
            }
        )*
    };
}

const T0: i64 = 1_700_000_000_000;
const HOUR: i64 = 3600 * 1000;

fn key(s: &str) -> Key {
    Key::new(s).expect("valid test key")
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn text(s: &str) -> (Digest, Content) {
    (Digest::of_bytes(s.as_bytes()), Content::Text(s.to_string()))
}

fn history(op: &str, scope: &str, k: &str, at: i64) -> HistoryEntry {
    HistoryEntry {
        operation_id: op.to_string(),
        scope: scope.to_string(),
        key: key(k),
        direction: "left_to_right".into(),
        trigger: Trigger::Manual,
        success: true,
        error: None,
        left: None,
        right: None,
        at: ts(at),
    }
}

fn undo(op: &str, scope: &str, k: &str, side: Side, pre: Option<Digest>, post: Option<Digest>, at: i64) -> UndoEntry {
    UndoEntry {
        operation_id: op.to_string(),
        scope: scope.to_string(),
        key: key(k),
        side,
        pre,
        post,
        base_before: pre,
        created_at: ts(at),
        expires_at: ts(at + 24 * HOUR),
        undone_at: None,
    }
}

fn commit(scope: &str, k: &str, base_after: Option<Digest>, op: &str, at: i64) -> ItemCommit {
    ItemCommit {
        scope: scope.to_string(),
        key: key(k),
        base_after,
        blobs: vec![],
        undo: vec![],
        history: history(op, scope, k, at),
        events: vec![],
    }
}

/// A report with every field set, so a round trip that drops one is caught.
fn report(id: &str, scope: &str, at: i64) -> OperationReport {
    let k = key("docs/a.md");
    let (dl, cl) = text("left\n");
    let (dr, cr) = text("right\n");
    let mut overrides = BTreeMap::new();
    overrides.insert("docs/".to_string(), Direction::LeftToRight);
    OperationReport {
        operation_id: id.to_string(),
        operation_hash: Digest::of_bytes(id.as_bytes()),
        scope: scope.to_string(),
        status: OperationStatus::Running,
        trigger: Trigger::FileWatcher,
        actor: "tester".into(),
        policy: Policy::prefer(Side::Left),
        directions: Directions { default: Direction::Both, overrides },
        started_at: ts(at),
        finished_at: ts(at + 5),
        duration_ms: 5,
        counts: ReportCounts { planned: 2, applied: 1, skipped: 0, conflicts: 1, failed: 0 },
        items: vec![ItemResult {
            moved: None,
            key: k.clone(),
            class: DriftClass::ChangedLeft,
            action: ActionKind::CopyToRight,
            outcome: Outcome::Applied,
            left: Some(dl),
            right: Some(dl),
            error: None,
            note: Some("left changed".into()),
        }],
        conflicts: vec![ConflictReport {
            key: k,
            class: DriftClass::ConflictModifyModify,
            base: None,
            left_digest: Some(dl),
            right_digest: Some(dr),
            left: Some(cl),
            right: Some(cr),
            merged: Some("<<<<<<< left\n".into()),
            reason: "both changed".into(),
        }],
        item_errors: vec![crate::drift::ItemError {
            key: "docs/bad.json".into(),
            side: Side::Left,
            error: "docs/bad.json: invalid JSON: expected value at line 1 column 1".into(),
        }],
        reversible_until: Some(ts(at + 24 * HOUR)),
        recovered: vec![key("docs/recovered.md")],
        undone_at: None,
        replayed: false,
        audit_id: Some(format!("audit-of-{id}")),
    }
}

fn ids(ops: &[OperationReport]) -> Vec<&str> {
    ops.iter().map(|o| o.operation_id.as_str()).collect()
}

/// `load_base` returns what `commit_item` set, per scope; `None` removes the item.
pub fn base_round_trip_per_scope(s: &mut dyn Store) {
    let (d1, _) = text("one");
    let (d2, _) = text("two");
    assert!(s.load_base("a").unwrap().is_empty(), "a new store has an empty base");
    s.commit_item(&commit("a", "x.md", Some(d1), "op1", T0)).unwrap();
    s.commit_item(&commit("b", "x.md", Some(d2), "op1", T0)).unwrap();
    s.commit_item(&commit("a", "dir/y.md", Some(d2), "op1", T0)).unwrap();
    let a = s.load_base("a").unwrap();
    assert_eq!(a, BTreeMap::from([(key("dir/y.md"), d2), (key("x.md"), d1)]), "base of scope a");
    assert_eq!(s.load_base("b").unwrap(), BTreeMap::from([(key("x.md"), d2)]), "scopes are separate");
    assert!(s.load_base("c").unwrap().is_empty(), "an unknown scope has an empty base");
    s.commit_item(&commit("a", "x.md", Some(d2), "op2", T0)).unwrap();
    assert_eq!(s.load_base("a").unwrap().get(&key("x.md")), Some(&d2), "a new base digest replaces the old");
    s.commit_item(&commit("a", "x.md", None, "op3", T0)).unwrap();
    assert_eq!(s.load_base("a").unwrap(), BTreeMap::from([(key("dir/y.md"), d2)]), "None removes the item");
    assert_eq!(s.load_base("b").unwrap(), BTreeMap::from([(key("x.md"), d2)]), "other scopes are untouched");
}

/// Blobs keep their kind and exact bytes; a digest stored twice keeps its first content.
pub fn blobs_round_trip_and_dedup(s: &mut dyn Store) {
    let json = Content::Json("{ \"b\": 1,\n  \"a\": [1, 2] }\n".into());
    let txt = Content::Text("line\r\nnext\n".into());
    let bytes = Content::Bytes(vec![0, 159, 146, 150, 255]);
    let empty = Content::Bytes(vec![]);
    let all = [json, txt, bytes, empty];
    let mut c = commit("s", "k", None, "op", T0);
    c.blobs = all.iter().map(|x| (Digest::of_bytes(format!("{x:?}").as_bytes()), x.clone())).collect();
    s.commit_item(&c).unwrap();
    for (d, content) in &c.blobs {
        assert_eq!(s.blob(d).unwrap().as_ref(), Some(content), "blob {d} comes back with its kind and bytes");
    }
    assert_eq!(s.blob(&Digest::of_bytes(b"never stored")).unwrap(), None, "an unknown digest is None");
    // Content-addressed: a second store of the same digest neither fails nor replaces.
    let (d, first) = (c.blobs[0].0, c.blobs[0].1.clone());
    let mut again = commit("s", "k2", None, "op", T0);
    again.blobs = vec![(d, Content::Text("other".into())), (d, first.clone())];
    s.commit_item(&again).unwrap();
    assert_eq!(s.blob(&d).unwrap(), Some(first), "the first content of a digest stays");
}

/// `operations` is newest first with a scope filter and a limit; `put_operation` of an
/// existing id replaces it in place; `operation` round-trips every field.
pub fn operations_newest_first_and_replace(s: &mut dyn Store) {
    assert_eq!(s.operation("nope").unwrap(), None);
    assert!(s.operations(None, 10).unwrap().is_empty());
    for (i, (id, scope)) in [("op1", "a"), ("op2", "b"), ("op3", "a")].iter().enumerate() {
        s.put_operation(&report(id, scope, T0 + i as i64), &[]).unwrap();
    }
    assert_eq!(s.operation("op2").unwrap(), Some(report("op2", "b", T0 + 1)), "every field round-trips");
    assert_eq!(ids(&s.operations(None, 10).unwrap()), ["op3", "op2", "op1"], "newest first");
    assert_eq!(ids(&s.operations(Some("a"), 10).unwrap()), ["op3", "op1"], "scope filter");
    assert_eq!(ids(&s.operations(None, 2).unwrap()), ["op3", "op2"], "limit");
    assert!(s.operations(None, 0).unwrap().is_empty(), "limit 0");
    assert!(s.operations(Some("zzz"), 10).unwrap().is_empty(), "unknown scope");
    assert_eq!(s.operations(None, usize::MAX).unwrap().len(), 3, "usize::MAX means all");

    let mut done = report("op1", "a", T0);
    done.status = OperationStatus::Completed;
    done.undone_at = Some(ts(T0 + HOUR));
    done.counts.failed = 3;
    s.put_operation(&done, &[]).unwrap();
    assert_eq!(s.operation("op1").unwrap(), Some(done), "put_operation replaces");
    assert_eq!(ids(&s.operations(None, 10).unwrap()), ["op3", "op2", "op1"], "a replaced operation keeps its place");
}

/// One `commit_item` stores its base digest, blobs, undo entries and history row together.
pub fn commit_item_stores_everything(s: &mut dyn Store) {
    let (pre, pre_c) = text("before\n");
    let (post, post_c) = text("after\n");
    let c = ItemCommit {
        scope: "s".into(),
        key: key("docs/a.md"),
        base_after: Some(post),
        blobs: vec![(post, post_c.clone()), (pre, pre_c.clone())],
        undo: vec![undo("op1", "s", "docs/a.md", Side::Right, Some(pre), Some(post), T0)],
        history: HistoryEntry {
            left: Some(post),
            right: Some(post),
            trigger: Trigger::UserEdit,
            ..history("op1", "s", "docs/a.md", T0)
        },
        events: vec![],
    };
    s.put_operation(&report("op1", "s", T0), &[]).unwrap();
    s.commit_item(&c).unwrap();
    assert_eq!(s.load_base("s").unwrap().get(&key("docs/a.md")), Some(&post), "base");
    assert_eq!(s.blob(&post).unwrap(), Some(post_c), "post blob");
    assert_eq!(s.blob(&pre).unwrap(), Some(pre_c), "pre blob");
    assert_eq!(s.undo_entries("op1").unwrap(), c.undo, "undo entries");
    assert_eq!(s.history(None, 10).unwrap(), vec![c.history.clone()], "history row");

    // A failed item: history only, with its error, base left as it was.
    let mut failed = commit("s", "docs/a.md", Some(post), "op2", T0 + 1);
    failed.history.success = false;
    failed.history.error = Some("docs/a.md: permission denied".into());
    s.commit_item(&failed).unwrap();
    assert_eq!(s.history(None, 1).unwrap(), vec![failed.history], "a failure is recorded with its error");
    assert!(s.undo_entries("op2").unwrap().is_empty(), "no undo entries for a failure");
}

/// `undo_entries` returns an operation's entries; `commit_undo` restores the base, marks
/// that item's entries (all sides) undone and records history, leaving other items alone.
pub fn undo_entries_and_commit_undo(s: &mut dyn Store) {
    let (d0, c0) = text("zero");
    let (d1, c1) = text("one");
    let (d2, c2) = text("two");
    s.put_operation(&report("op1", "s", T0), &[]).unwrap();
    let a = ItemCommit {
        scope: "s".into(),
        key: key("a"),
        base_after: Some(d2),
        blobs: vec![(d0, c0), (d1, c1), (d2, c2)],
        // A merge wrote both sides.
        undo: vec![
            undo("op1", "s", "a", Side::Left, Some(d0), Some(d2), T0),
            undo("op1", "s", "a", Side::Right, Some(d1), Some(d2), T0),
        ],
        history: history("op1", "s", "a", T0),
        events: vec![],
    };
    let b = ItemCommit {
        scope: "s".into(),
        key: key("b"),
        base_after: Some(d1),
        blobs: vec![],
        undo: vec![undo("op1", "s", "b", Side::Right, None, Some(d1), T0)],
        history: history("op1", "s", "b", T0),
        events: vec![],
    };
    s.commit_item(&a).unwrap();
    s.commit_item(&b).unwrap();
    let mut entries = s.undo_entries("op1").unwrap();
    entries.sort_by_key(|x| (x.key.clone(), x.side));
    let mut expected: Vec<UndoEntry> = a.undo.iter().chain(&b.undo).cloned().collect();
    expected.sort_by_key(|x| (x.key.clone(), x.side));
    assert_eq!(entries, expected, "undo entries of op1");
    assert!(s.undo_entries("other").unwrap().is_empty(), "an unknown operation has no entries");

    let at = ts(T0 + HOUR);
    let h = HistoryEntry { direction: "undo".into(), at, ..history("op1", "s", "b", T0) };
    s.commit_undo(&UndoCommit {
        scope: "s".into(),
        key: key("b"),
        operation_id: "op1".into(),
        base: None,
        history: h.clone(),
        at,
        events: vec![],
    })
    .unwrap();
    assert_eq!(s.load_base("s").unwrap(), BTreeMap::from([(key("a"), d2)]), "base of b restored to absent");
    for e in s.undo_entries("op1").unwrap() {
        let want = (e.key == key("b")).then_some(at);
        assert_eq!(e.undone_at, want, "undone_at of {} {}", e.key, e.side);
    }
    s.commit_undo(&UndoCommit {
        scope: "s".into(),
        key: key("a"),
        operation_id: "op1".into(),
        base: Some(d0),
        history: HistoryEntry { key: key("a"), ..h.clone() },
        at,
        events: vec![],
    })
    .unwrap();
    assert_eq!(s.load_base("s").unwrap(), BTreeMap::from([(key("a"), d0)]), "base of a restored");
    assert!(s.undo_entries("op1").unwrap().iter().all(|e| e.undone_at == Some(at)), "both sides of a marked undone");
    let hist = s.history(Some("s"), 2).unwrap();
    assert_eq!(hist[0].key, key("a"), "undo history is newest first");
    assert_eq!(hist[1], h, "undo history row");
}

/// Records `n` operations, one undo entry each (with unique pre/post blobs), a minute apart.
fn record_ops(s: &mut dyn Store, n: usize, start: i64) -> Vec<(String, Digest, Digest)> {
    (0..n)
        .map(|i| {
            let id = format!("op{i:03}");
            let at = start + i as i64 * 60_000;
            let (pre, pre_c) = text(&format!("pre {i}"));
            let (post, post_c) = text(&format!("post {i}"));
            s.put_operation(&report(&id, "s", at), &[]).unwrap();
            let k = format!("k{i}");
            let mut c = commit("s", &k, None, &id, at);
            c.blobs = vec![(pre, pre_c), (post, post_c)];
            c.undo = vec![undo(&id, "s", &k, Side::Right, Some(pre), Some(post), at)];
            s.commit_item(&c).unwrap();
            (id, pre, post)
        })
        .collect()
}

/// Pruning keeps undo entries of the newest `max_operations` operations only.
pub fn prune_by_count(s: &mut dyn Store) {
    let ops = record_ops(s, 51, T0);
    let now = ts(T0 + 51 * 60_000);
    let stats = s.prune(now, &UndoLimits::default()).unwrap();
    assert_eq!((stats.operations, stats.undo_entries), (1, 1), "51 operations, limit 50: the oldest goes ({stats:?})");
    assert_eq!(stats.blobs, 2, "its pre and post blobs go too ({stats:?})");
    assert!(s.undo_entries(&ops[0].0).unwrap().is_empty(), "the oldest operation is no longer undoable");
    assert!(s.blob(&ops[0].1).unwrap().is_none() && s.blob(&ops[0].2).unwrap().is_none(), "its blobs are gone");
    assert_eq!(s.undo_entries(&ops[1].0).unwrap().len(), 1, "the second oldest stays");
    assert!(s.blob(&ops[1].1).unwrap().is_some(), "blobs of kept entries stay");
    assert_eq!(s.undo_entries(&ops[50].0).unwrap().len(), 1, "the newest stays");
    assert!(s.operation(&ops[0].0).unwrap().is_some(), "the operation's report itself is kept");
    let again = s.prune(now, &UndoLimits::default()).unwrap();
    assert_eq!((again.operations, again.undo_entries, again.blobs), (0, 0, 0), "a second prune finds nothing");
    let tight = s.prune(now, &UndoLimits { max_operations: 3, ..UndoLimits::default() }).unwrap();
    assert_eq!(tight.operations, 47, "limit 3 keeps the newest 3 of 50");
    assert_eq!(s.undo_entries(&ops[47].0).unwrap().len(), 0);
    assert_eq!(s.undo_entries(&ops[48].0).unwrap().len(), 1);
}

/// Pruning drops undo entries older than `max_age_ms` or past their own expiry.
pub fn prune_by_age(s: &mut dyn Store) {
    let (pre, pre_c) = text("old pre");
    let (post, post_c) = text("old post");
    s.put_operation(&report("old", "s", T0), &[]).unwrap();
    let mut c = commit("s", "a", None, "old", T0);
    c.blobs = vec![(pre, pre_c), (post, post_c)];
    c.undo = vec![undo("old", "s", "a", Side::Right, Some(pre), Some(post), T0)];
    s.commit_item(&c).unwrap();
    let recent = T0 + 23 * HOUR;
    s.put_operation(&report("recent", "s", recent), &[]).unwrap();
    let mut c = commit("s", "b", None, "recent", recent);
    c.undo = vec![undo("recent", "s", "b", Side::Right, None, None, recent)];
    s.commit_item(&c).unwrap();

    let stats = s.prune(ts(T0 + 24 * HOUR - 1), &UndoLimits::default()).unwrap();
    assert_eq!(stats.undo_entries, 0, "inside 24 h nothing goes ({stats:?})");
    let stats = s.prune(ts(T0 + 24 * HOUR + 1), &UndoLimits::default()).unwrap();
    assert_eq!((stats.operations, stats.undo_entries, stats.blobs), (1, 1, 2), "past 24 h the old goes ({stats:?})");
    assert!(s.undo_entries("old").unwrap().is_empty());
    assert_eq!(s.undo_entries("recent").unwrap().len(), 1, "the recent operation stays");

    // A shorter age limit applies even before an entry's own expiry.
    let stats = s.prune(ts(recent + 2 * HOUR), &UndoLimits { max_operations: 50, max_age_ms: HOUR }).unwrap();
    assert_eq!(stats.undo_entries, 1, "max_age_ms of 1 h drops a 2 h old entry ({stats:?})");
}

/// Blob collection keeps blobs the base or any undo entry (pre or post) refers to.
pub fn blob_gc_keeps_referenced(s: &mut dyn Store) {
    let (in_base, c1) = text("in base");
    let (as_pre, c2) = text("undo pre");
    let (as_post, c3) = text("undo post");
    let (loose, c4) = text("nobody refers to me");
    s.put_operation(&report("op", "s", T0), &[]).unwrap();
    let mut c = commit("s", "a", Some(in_base), "op", T0);
    c.blobs = vec![(in_base, c1.clone()), (as_pre, c2.clone()), (as_post, c3.clone()), (loose, c4)];
    c.undo = vec![undo("op", "s", "b", Side::Left, Some(as_pre), Some(as_post), T0)];
    s.commit_item(&c).unwrap();
    let stats = s.prune(ts(T0 + 1), &UndoLimits::default()).unwrap();
    assert_eq!((stats.undo_entries, stats.blobs), (0, 1), "only the loose blob goes ({stats:?})");
    assert_eq!(s.blob(&in_base).unwrap(), Some(c1), "referenced by the base");
    assert_eq!(s.blob(&as_pre).unwrap(), Some(c2), "referenced by an undo pre");
    assert_eq!(s.blob(&as_post).unwrap(), Some(c3), "referenced by an undo post");
    assert_eq!(s.blob(&loose).unwrap(), None, "unreferenced");

    // Once the base moves on and the undo window closes, the old content goes.
    s.commit_item(&commit("s", "a", None, "op2", T0 + 2)).unwrap();
    let stats = s.prune(ts(T0 + 25 * HOUR), &UndoLimits::default()).unwrap();
    assert_eq!(stats.blobs, 3, "nothing refers to the rest ({stats:?})");
}

/// `history` is newest first, filtered by scope, limited, and round-trips every field.
pub fn history_newest_first_with_scope_filter(s: &mut dyn Store) {
    assert!(s.history(None, 10).unwrap().is_empty());
    let triggers = [Trigger::FileWatcher, Trigger::Periodic, Trigger::UserEdit, Trigger::Manual];
    let mut rows = Vec::new();
    for (i, trigger) in triggers.iter().enumerate() {
        let scope = if i % 2 == 0 { "a" } else { "b" };
        let k = format!("k{i}");
        let mut c = commit(scope, &k, None, "op", T0 + i as i64);
        c.history = HistoryEntry {
            trigger: *trigger,
            success: i != 3,
            error: (i == 3).then(|| format!("{k}: disk full")),
            left: Some(Digest::of_bytes(k.as_bytes())),
            right: (i == 0).then(|| Digest::of_bytes(b"r")),
            direction: ["left_to_right", "right_to_left", "both", "undo"][i].into(),
            ..c.history
        };
        s.commit_item(&c).unwrap();
        rows.push(c.history);
    }
    let all = s.history(None, 10).unwrap();
    assert_eq!(all, rows.iter().rev().cloned().collect::<Vec<_>>(), "newest first, every field");
    let a = s.history(Some("a"), 10).unwrap();
    assert_eq!(a, vec![rows[2].clone(), rows[0].clone()], "scope filter");
    assert_eq!(s.history(None, 1).unwrap(), vec![rows[3].clone()], "limit");
    assert!(s.history(Some("zzz"), 10).unwrap().is_empty());
    // A scheduled sync's rows keep their trigger too.
    let mut c = commit("c", "k4", None, "op", T0 + 4);
    c.history = HistoryEntry { trigger: Trigger::Schedule, ..c.history };
    s.commit_item(&c).unwrap();
    assert_eq!(s.history(Some("c"), 10).unwrap(), vec![c.history], "trigger schedule");
}

fn lock(owner: &str, at: i64) -> Lock {
    Lock {
        name: "project".into(),
        owner: owner.into(),
        token: format!("token-of-{owner}"),
        reason: Some("release prep".into()),
        acquired_at: ts(at),
        expires_at: ts(at + 30 * 60_000),
    }
}

/// `update_lock` passes the current lock to `f` and stores what it returns; a refusal
/// leaves the lock as it was.
pub fn update_lock_refusal_leaves_lock(s: &mut dyn Store) {
    assert!(s.locks().unwrap().is_empty());
    let mut seen = Vec::new();
    let got = s
        .update_lock("project", &mut |cur| {
            seen.push(cur);
            Ok(LockChange::quiet(Some(lock("ann", T0))))
        })
        .unwrap();
    assert_eq!(got, Ok(Some(lock("ann", T0))), "acquired");
    assert_eq!(seen, vec![None], "f saw no lock");
    assert_eq!(s.locks().unwrap(), vec![lock("ann", T0)], "stored");

    let refused = s
        .update_lock("project", &mut |cur| {
            let cur = cur.expect("f sees the held lock");
            assert_eq!(cur, lock("ann", T0), "f sees the stored lock");
            Err(LockError::Held { name: cur.name, owner: cur.owner, expires_at: cur.expires_at })
        })
        .unwrap();
    assert!(matches!(refused, Err(LockError::Held { ref owner, .. }) if owner == "ann"), "{refused:?}");
    assert_eq!(s.locks().unwrap(), vec![lock("ann", T0)], "a refusal leaves the lock unchanged");

    let renewed = Lock { expires_at: ts(T0 + HOUR), ..lock("ann", T0) };
    assert_eq!(
        s.update_lock("project", &mut |_| Ok(LockChange::quiet(Some(renewed.clone())))).unwrap(),
        Ok(Some(renewed.clone()))
    );
    let mut other = lock("bob", T0);
    other.name = "docs/".into();
    other.reason = None;
    s.update_lock("docs/", &mut |_| Ok(LockChange::quiet(Some(other.clone())))).unwrap().unwrap();
    let mut all = s.locks().unwrap();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(all, vec![other.clone(), renewed], "two locks, renewed in place");

    assert_eq!(s.update_lock("project", &mut |_| Ok(LockChange::quiet(None))).unwrap(), Ok(None), "released");
    assert_eq!(s.locks().unwrap(), vec![other], "only the other lock is left");
}

fn audit_record(id: &str, n: i64) -> AuditRecord {
    AuditRecord {
        id: id.into(),
        correlation_id: format!("op{n}"),
        actor: "ann".into(),
        action: "sync".into(),
        success: n % 2 == 0,
        counts: serde_json::json!({"planned": n, "applied": n, "nested": {"x": [1, 2.5, null]}}),
        duration_ms: n * 10,
        at: ts(T0 + n),
        detail: (n % 2 == 1).then(|| format!("scope s{n}")),
    }
}

/// `append_audit` assigns unique ids to records without one and keeps given ids;
/// `audit_log` is newest first and round-trips every field.
pub fn audit_ids_and_order(s: &mut dyn Store) {
    assert!(s.audit_log(10).unwrap().is_empty());
    let id1 = s.append_audit(&audit_record("", 1)).unwrap();
    let id2 = s.append_audit(&audit_record("", 2)).unwrap();
    let id3 = s.append_audit(&audit_record("custom-id", 3)).unwrap();
    assert!(!id1.is_empty() && !id2.is_empty(), "ids are assigned");
    assert_ne!(id1, id2, "assigned ids are unique");
    assert_eq!(id3, "custom-id", "a given id is kept");
    let log = s.audit_log(10).unwrap();
    let want = vec![
        audit_record("custom-id", 3),
        AuditRecord { id: id2.clone(), ..audit_record("", 2) },
        AuditRecord { id: id1, ..audit_record("", 1) },
    ];
    assert_eq!(log, want, "newest first, every field");
    assert_eq!(s.audit_log(2).unwrap(), want[..2].to_vec(), "limit");
}

fn event(event_type: EventType, pair: &str, n: i64) -> Event {
    Event::new(
        event_type,
        ts(T0 + n),
        pair,
        "op1",
        serde_json::json!({"key": format!("k{n}"), "counts": {"applied": n}, "text": "é ✓ \"quoted\""}),
    )
}

/// Ids given without the store's id, for comparing what was read with what was written.
fn unnumbered(events: Vec<Event>) -> Vec<Event> {
    events.into_iter().map(|e| Event { id: 0, ..e }).collect()
}

/// `append_events` gives increasing ids in order; `events_since` reads everything after
/// an id, oldest first, up to a limit, with every field as written.
pub fn outbox_ids_grow_and_read_from_an_id(s: &mut dyn Store) {
    assert!(s.events_since(0, 10).unwrap().is_empty(), "a new store has no events");
    assert_eq!(s.append_events(&[]).unwrap(), 0, "nothing appended: the newest id is 0");
    let batch = [event(EventType::SyncStarted, "docs", 1), event(EventType::ConflictDetected, "docs", 2)];
    let last = s.append_events(&batch).unwrap();
    let third = event(EventType::LockAcquired, "", 3);
    let newest = s.append_events(std::slice::from_ref(&third)).unwrap();
    assert!(newest > last, "ids grow: {newest} after {last}");
    let all = s.events_since(0, 10).unwrap();
    assert_eq!(all.len(), 3);
    assert!(
        all.windows(2).all(|w| w[0].id < w[1].id),
        "oldest first by id: {:?}",
        all.iter().map(|e| e.id).collect::<Vec<_>>()
    );
    assert_eq!(all[1].id, last, "append returns the last id it gave");
    assert_eq!(all[2].id, newest);
    assert_eq!(unnumbered(all.clone()), vec![batch[0].clone(), batch[1].clone(), third.clone()], "fields round-trip");
    assert_eq!(s.events_since(all[0].id, 10).unwrap(), all[1..].to_vec(), "strictly after the id");
    assert_eq!(s.events_since(0, 2).unwrap(), all[..2].to_vec(), "limit");
    assert!(s.events_since(newest, 10).unwrap().is_empty(), "nothing after the newest");
    assert_eq!(s.append_events(&[]).unwrap(), newest, "an empty append returns the newest id");
}

/// Events passed with an item, an undo, an operation or a lock change are in the outbox
/// once the call returns; a refused lock change writes none.
pub fn outbox_events_commit_with_their_change(s: &mut dyn Store) {
    let (d, c) = text("body\n");
    s.put_operation(&report("op1", "s", T0), &[event(EventType::SyncStarted, "s", 1)]).unwrap();
    let mut item = commit("s", "a.md", Some(d), "op1", T0);
    item.blobs = vec![(d, c)];
    item.events = vec![event(EventType::DocUpdated, "s", 2)];
    s.commit_item(&item).unwrap();
    s.commit_undo(&UndoCommit {
        scope: "s".into(),
        key: key("a.md"),
        operation_id: "op1".into(),
        base: None,
        history: history("op1", "s", "a.md", T0 + 3),
        at: ts(T0 + 3),
        events: vec![event(EventType::DocUpdated, "s", 3)],
    })
    .unwrap();
    let refused = s.update_lock("project", &mut |_| Err(LockError::NotHeld("project".into()))).unwrap();
    assert!(refused.is_err());
    s.update_lock("project", &mut |_| {
        Ok(LockChange { lock: Some(lock("ann", T0)), events: vec![event(EventType::LockAcquired, "", 4)] })
    })
    .unwrap()
    .unwrap();
    let types: Vec<(EventType, String)> =
        s.events_since(0, 10).unwrap().into_iter().map(|e| (e.event_type, e.correlation_id)).collect();
    assert_eq!(
        types.iter().map(|t| t.0).collect::<Vec<_>>(),
        vec![EventType::SyncStarted, EventType::DocUpdated, EventType::DocUpdated, EventType::LockAcquired],
        "each change's events, in order; none for the refusal"
    );
}

/// `prune_events` drops events older than a time but keeps the newest, so ids given
/// after a prune still grow past every id given before.
pub fn outbox_prune_keeps_ids_growing(s: &mut dyn Store) {
    s.append_events(&[event(EventType::SyncStarted, "s", 1), event(EventType::SyncCompleted, "s", 2)]).unwrap();
    let before = s.events_since(0, 10).unwrap();
    assert_eq!(s.prune_events(ts(T0 + 100)).unwrap(), 1, "the older goes, the newest stays");
    assert_eq!(s.events_since(0, 10).unwrap(), before[1..].to_vec());
    s.append_events(&[event(EventType::SyncStarted, "s", 200)]).unwrap();
    let after = s.events_since(before[1].id, 10).unwrap();
    assert_eq!(after.len(), 1);
    assert!(after[0].id > before[1].id, "ids keep growing after a prune");
    assert_eq!(s.prune_events(ts(T0)).unwrap(), 0, "nothing older than T0");
}

fn delivery(endpoint: &str, event_id: u64, status: DeliveryStatus) -> Delivery {
    Delivery {
        endpoint: endpoint.into(),
        event_id,
        status,
        attempts: 0,
        next_attempt_at: ts(T0 + event_id as i64),
        last_status: None,
        last_error: None,
        created_at: ts(T0),
        updated_at: ts(T0),
    }
}

/// `put_delivery` creates or replaces one (endpoint, event) delivery; `deliveries`
/// filters by endpoint and status, in event order, up to a limit.
pub fn deliveries_by_endpoint_and_status(s: &mut dyn Store) {
    assert!(s.deliveries(None, None, 10).unwrap().is_empty());
    let a3 = delivery("team", 3, DeliveryStatus::Queued);
    let a1 = delivery("team", 1, DeliveryStatus::Queued);
    let b1 = delivery("ops", 1, DeliveryStatus::Queued);
    for d in [&a3, &a1, &b1] {
        s.put_delivery(d).unwrap();
    }
    let team = s.deliveries(Some("team"), None, 10).unwrap();
    assert_eq!(team, vec![a1.clone(), a3.clone()], "in event order, this endpoint only");
    assert_eq!(s.deliveries(None, None, 10).unwrap().len(), 3);
    assert_eq!(s.deliveries(None, None, 1).unwrap().len(), 1, "limit");
    let retrying = Delivery {
        status: DeliveryStatus::Retrying,
        attempts: 2,
        last_status: Some(500),
        last_error: Some("HTTP 500: boom".into()),
        updated_at: ts(T0 + 9),
        ..a1.clone()
    };
    s.put_delivery(&retrying).unwrap();
    assert_eq!(s.deliveries(Some("team"), Some(DeliveryStatus::Retrying), 10).unwrap(), vec![retrying], "replaced");
    assert_eq!(s.deliveries(Some("team"), Some(DeliveryStatus::Queued), 10).unwrap(), vec![a3]);
    assert_eq!(s.deliveries(Some("ops"), None, 10).unwrap(), vec![b1], "the other endpoint's is apart");
}

/// `kv_*` stores bytes by namespace and key; put replaces, delete removes (missing is fine).
pub fn kv_round_trip(s: &mut dyn Store) {
    assert_eq!(s.kv_get("stat", "a").unwrap(), None);
    s.kv_put("stat", "a", b"one").unwrap();
    s.kv_put("coverage", "a", &[0, 255, 1]).unwrap();
    s.kv_put("stat", "empty", b"").unwrap();
    assert_eq!(s.kv_get("stat", "a").unwrap(), Some(b"one".to_vec()));
    assert_eq!(s.kv_get("coverage", "a").unwrap(), Some(vec![0, 255, 1]), "namespaces are separate, bytes exact");
    assert_eq!(s.kv_get("stat", "empty").unwrap(), Some(vec![]), "an empty value is a value");
    s.kv_put("stat", "a", b"two").unwrap();
    assert_eq!(s.kv_get("stat", "a").unwrap(), Some(b"two".to_vec()), "put replaces");
    s.kv_delete("stat", "a").unwrap();
    assert_eq!(s.kv_get("stat", "a").unwrap(), None, "deleted");
    assert_eq!(s.kv_get("coverage", "a").unwrap(), Some(vec![0, 255, 1]), "other namespace untouched");
    s.kv_delete("stat", "never").unwrap();
}

fn intent(op: &str, scope: &str, k: &str, side: Side, pre: Option<Digest>, post: Option<Digest>, at: i64) -> Intent {
    Intent {
        operation_id: op.to_string(),
        scope: scope.to_string(),
        key: key(k),
        side,
        pre,
        post,
        base_before: pre,
        base_after: post,
        direction: "left_to_right".into(),
        trigger: Trigger::FileWatcher,
        created_at: ts(at),
    }
}

/// `record_intents` stores intents (every field) and their blobs; `open_intents` lists a
/// scope's, oldest first; an item's commit clears its intents in its operation (all
/// sides) and no others; `drop_intents` clears one item's without a commit.
pub fn intents_round_trip_and_clear_on_commit(s: &mut dyn Store) {
    let (pre, pre_c) = text("pre\n");
    let (post, post_c) = text("post\n");
    assert!(s.open_intents("s").unwrap().is_empty(), "a new store has no intents");
    let mut both = intent("op1", "s", "a.md", Side::Right, Some(pre), Some(post), T0);
    both.direction = "both".into();
    both.base_before = None;
    let a_left = Intent { side: Side::Left, pre: None, ..both.clone() };
    let b = intent("op1", "s", "b.md", Side::Right, None, Some(post), T0 + 1);
    let other_op = intent("op2", "s", "a.md", Side::Right, Some(post), None, T0 + 2);
    let other_scope = intent("op1", "t", "a.md", Side::Right, Some(pre), Some(post), T0 + 3);
    let batch = vec![both.clone(), a_left.clone(), b.clone(), other_op.clone(), other_scope.clone()];
    s.record_intents(&batch, &[(pre, pre_c.clone()), (post, post_c)]).unwrap();
    assert_eq!(s.open_intents("s").unwrap(), batch[..4].to_vec(), "scope s, oldest first, every field");
    assert_eq!(s.open_intents("t").unwrap(), vec![other_scope.clone()], "scopes are separate");
    assert_eq!(s.blob(&pre).unwrap(), Some(pre_c), "the pre content is stored with the intent");

    s.commit_item(&commit("s", "a.md", Some(post), "op1", T0 + 4)).unwrap();
    assert_eq!(
        s.open_intents("s").unwrap(),
        vec![b.clone(), other_op.clone()],
        "a's commit in op1 clears both sides of a in op1, not b, not a in op2"
    );
    assert_eq!(s.open_intents("t").unwrap(), vec![other_scope], "nor a in another scope");
    s.drop_intents("s", "op1", &key("b.md")).unwrap();
    assert_eq!(s.open_intents("s").unwrap(), vec![other_op], "dropped without a commit");
    assert_eq!(s.history(Some("s"), 10).unwrap().len(), 1, "a drop writes no history");
    s.drop_intents("s", "op9", &key("zzz")).unwrap();
}

/// `commit_items` stores every item of a batch as `commit_item` would, clearing their
/// intents, with the events in order; an empty batch changes nothing.
pub fn commit_items_commits_a_batch(s: &mut dyn Store) {
    let (d1, c1) = text("one");
    let (d2, c2) = text("two");
    s.commit_items(&[]).unwrap();
    s.put_operation(&report("op1", "s", T0), &[]).unwrap();
    s.record_intents(
        &[
            intent("op1", "s", "a", Side::Right, None, Some(d1), T0),
            intent("op1", "s", "b", Side::Right, None, Some(d2), T0),
        ],
        &[],
    )
    .unwrap();
    let mut a = commit("s", "a", Some(d1), "op1", T0);
    a.blobs = vec![(d1, c1.clone())];
    a.undo = vec![undo("op1", "s", "a", Side::Right, None, Some(d1), T0)];
    a.events = vec![event(EventType::DocUpdated, "s", 1)];
    let mut b = commit("s", "b", Some(d2), "op1", T0 + 1);
    b.blobs = vec![(d2, c2.clone())];
    b.undo = vec![undo("op1", "s", "b", Side::Right, None, Some(d2), T0 + 1)];
    b.events = vec![event(EventType::DocUpdated, "s", 2)];
    s.commit_items(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(s.load_base("s").unwrap(), BTreeMap::from([(key("a"), d1), (key("b"), d2)]), "both bases");
    assert_eq!((s.blob(&d1).unwrap(), s.blob(&d2).unwrap()), (Some(c1), Some(c2)), "both blobs");
    assert_eq!(s.undo_entries("op1").unwrap(), vec![a.undo[0].clone(), b.undo[0].clone()], "both undo entries");
    assert_eq!(s.history(Some("s"), 10).unwrap(), vec![b.history, a.history], "both history rows, newest first");
    assert!(s.open_intents("s").unwrap().is_empty(), "the batch's intents are cleared");
    let events: Vec<Event> = unnumbered(s.events_since(0, 10).unwrap());
    assert_eq!(events, vec![a.events[0].clone(), b.events[0].clone()], "events in order");
}

/// A prune (of any scope's sync) keeps the blobs an open intent refers to: the pre
/// content undo needs after a recovery.
pub fn prune_keeps_blobs_of_open_intents(s: &mut dyn Store) {
    let (pre, pre_c) = text("pre of an interrupted write");
    let (post, post_c) = text("post of an interrupted write");
    let (loose, loose_c) = text("loose");
    s.record_intents(
        &[intent("op1", "s", "a", Side::Right, Some(pre), Some(post), T0)],
        &[(pre, pre_c.clone()), (post, post_c.clone()), (loose, loose_c)],
    )
    .unwrap();
    let stats = s.prune(ts(T0 + 1), &UndoLimits::default()).unwrap();
    assert_eq!(stats.blobs, 1, "only the loose blob goes ({stats:?})");
    assert_eq!((s.blob(&pre).unwrap(), s.blob(&post).unwrap()), (Some(pre_c), Some(post_c)));
    s.drop_intents("s", "op1", &key("a")).unwrap();
    assert_eq!(s.prune(ts(T0 + 2), &UndoLimits::default()).unwrap().blobs, 2, "once dropped they go");
}

fn credential(name: &str) -> CredentialRecord {
    CredentialRecord {
        name: name.into(),
        provider: ProviderType::Design,
        status: CredentialStatus::Pending,
        // Every byte value, so a store that mangles binary (text columns, encodings) fails.
        sealed: (0..=255u8).collect(),
        key_id: "k1".into(),
        metadata: BTreeMap::from([("account".to_string(), "ann".to_string())]),
        created_at: ts(T0),
        updated_at: ts(T0),
        last_validated_at: None,
        rotated_at: None,
        rotate_every_ms: Some(90 * 24 * HOUR),
        rotation_due_at: Some(ts(T0 + 90 * 24 * HOUR)),
        reminded_for: None,
    }
}

/// `put_credential` creates or replaces a credential by name, sealed bytes exactly as
/// given, and appends its events in the same call; `credentials` lists them by name.
pub fn credentials_round_trip_with_their_events(s: &mut dyn Store) {
    assert_eq!(s.credential("figma").unwrap(), None);
    assert!(s.credentials().unwrap().is_empty());
    let figma = credential("figma");
    let slack = CredentialRecord {
        provider: ProviderType::Notification,
        rotate_every_ms: None,
        rotation_due_at: None,
        ..credential("slack")
    };
    s.put_credential(&figma, &[]).unwrap();
    s.put_credential(&slack, &[]).unwrap();
    assert_eq!(s.credential("figma").unwrap().as_ref(), Some(&figma), "every field, the sealed bytes exact");
    assert_eq!(s.credentials().unwrap(), vec![figma.clone(), slack.clone()], "by name");

    let before = s.append_events(&[]).unwrap();
    let valid = CredentialRecord {
        status: CredentialStatus::Valid,
        sealed: vec![7; 40],
        last_validated_at: Some(ts(T0 + 5)),
        rotated_at: Some(ts(T0 + 5)),
        reminded_for: Some(ts(T0 + 90 * 24 * HOUR)),
        updated_at: ts(T0 + 5),
        ..figma.clone()
    };
    let event = Event::new(EventType::CredentialStatus, ts(T0 + 5), "", "c1", serde_json::json!({"name": "figma"}));
    s.put_credential(&valid, std::slice::from_ref(&event)).unwrap();
    assert_eq!(s.credential("figma").unwrap(), Some(valid), "replaced");
    let events = s.events_since(before, 10).unwrap();
    assert_eq!(events.len(), 1, "the event is in the outbox");
    assert_eq!(events[0].event_type, EventType::CredentialStatus);
    assert_eq!(s.credentials().unwrap().len(), 2, "replacing does not add a row");
}

/// `prune_deliveries` drops sent and failed deliveries last changed before the cutoff,
/// and keeps queued and retrying ones whatever their age.
pub fn prune_deliveries_drops_only_finished_old_ones(s: &mut dyn Store) {
    let old = |id, status| Delivery { updated_at: ts(T0), ..delivery("team", id, status) };
    for d in [
        old(1, DeliveryStatus::Sent),
        old(2, DeliveryStatus::Failed),
        old(3, DeliveryStatus::Queued),
        old(4, DeliveryStatus::Retrying),
        Delivery { updated_at: ts(T0 + 2 * HOUR), ..delivery("team", 5, DeliveryStatus::Sent) },
    ] {
        s.put_delivery(&d).unwrap();
    }
    assert_eq!(s.prune_deliveries(ts(T0 + HOUR)).unwrap(), 2);
    let left: Vec<u64> = s.deliveries(None, None, 10).unwrap().iter().map(|d| d.event_id).collect();
    assert_eq!(left, [3, 4, 5], "unfinished and recent ones stay");
    assert_eq!(s.prune_deliveries(ts(T0 + HOUR)).unwrap(), 0);
}

fn session(id: &str, story: &str, started: i64) -> TestSession {
    TestSession {
        id: id.into(),
        story_id: story.into(),
        status: TestSessionStatus::Running,
        started_at: ts(started),
        ended_at: None,
        performance: None,
        correlation_id: format!("c-{id}"),
        actor: "ann".into(),
    }
}

/// `put_test_session` creates or replaces a session by id with its events in the same
/// call; `test_sessions` lists them newest start first, by story when asked, up to a limit.
pub fn test_sessions_round_trip_newest_first(s: &mut dyn Store) {
    assert_eq!(s.test_session("bts_1").unwrap(), None);
    let (a, b, c) = (
        session("bts_1", "button--primary", T0),
        session("bts_2", "card--default", T0 + 5),
        session("bts_3", "button--primary", T0 + 9),
    );
    for x in [&a, &b, &c] {
        s.put_test_session(x, &[]).unwrap();
    }
    assert_eq!(s.test_session("bts_2").unwrap().as_ref(), Some(&b));
    let ids = |v: Vec<TestSession>| v.into_iter().map(|x| x.id).collect::<Vec<_>>();
    assert_eq!(ids(s.test_sessions(None, 10).unwrap()), ["bts_3", "bts_2", "bts_1"], "newest start first");
    assert_eq!(ids(s.test_sessions(Some("button--primary"), 10).unwrap()), ["bts_3", "bts_1"], "by story");
    assert_eq!(ids(s.test_sessions(None, 1).unwrap()), ["bts_3"], "limit");

    let before = s.append_events(&[]).unwrap();
    let failed = TestSession {
        status: TestSessionStatus::Failed,
        ended_at: Some(ts(T0 + 1500)),
        performance: Some(serde_json::json!({"lcp_ms": 1234.5, "steps": [1, 2]})),
        ..a.clone()
    };
    let event = Event::new(
        EventType::BrowserTestFailure,
        ts(T0 + 1500),
        "",
        "c-bts_1",
        serde_json::json!({"session_id": "bts_1"}),
    );
    s.put_test_session(&failed, std::slice::from_ref(&event)).unwrap();
    assert_eq!(s.test_session("bts_1").unwrap(), Some(failed), "replaced, the summary as given");
    let events = s.events_since(before, 10).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, EventType::BrowserTestFailure);
    assert_eq!(s.test_sessions(None, 10).unwrap().len(), 3, "replacing adds no row");
}

/// A real coverage result of a component with one axis of `options` values, one covered.
fn component_coverage(name: &str, options: usize) -> ComponentCoverage {
    let component: Component = serde_json::from_value(serde_json::json!({
        "name": name,
        "axes": [{"name": "size", "options": (0..options).map(|i| format!("s{i}")).collect::<Vec<_>>()}],
    }))
    .expect("a component");
    let story = serde_json::from_value(serde_json::json!({
        "id": format!("{name}--s0"), "title": name, "name": "S0", "component": name, "args": {"size": "s0"},
    }))
    .expect("a story");
    let input = CoverageInput { components: vec![component], stories: vec![story], tests: Vec::new() };
    crate::coverage::compute(&input, &CoverageOptions::default()).expect("coverage").components.remove(0)
}

fn coverage_row(scope: &str, component: &str, at: i64, options: usize) -> CoverageRecord {
    let coverage = component_coverage(component, options);
    CoverageRecord {
        scope: scope.into(),
        component: component.into(),
        computed_at: ts(at),
        variant_hash: Digest::of_bytes(format!("{component}/{options}").as_bytes()),
        percentage: coverage.percent,
        coverage,
    }
}

/// `append_coverage` keeps every row; `coverage_history` reads them newest first by scope
/// and component; `latest_coverage` gives each component's newest; `prune_coverage` drops
/// old rows but never a component's newest.
pub fn coverage_history_newest_first_and_pruned(s: &mut dyn Store) {
    assert!(s.coverage_history(None, None, 10).unwrap().is_empty());
    let (b1, c1) = (coverage_row("ui", "Button", T0, 4), coverage_row("ui", "Card", T0, 2));
    let b2 = coverage_row("ui", "Button", T0 + HOUR, 2);
    let other = coverage_row("other", "Button", T0 + 2 * HOUR, 3);
    s.append_coverage(&[b1.clone(), c1.clone()]).unwrap();
    s.append_coverage(std::slice::from_ref(&b2)).unwrap();
    s.append_coverage(std::slice::from_ref(&other)).unwrap();
    assert_eq!(
        s.coverage_history(Some("ui"), Some("Button"), 10).unwrap(),
        vec![b2.clone(), b1.clone()],
        "newest first, the result whole"
    );
    assert_eq!(s.coverage_history(None, Some("Button"), 10).unwrap().len(), 3, "every scope");
    assert_eq!(s.coverage_history(Some("ui"), None, 2).unwrap().len(), 2, "limit");
    assert_eq!(s.latest_coverage("ui").unwrap(), vec![b2.clone(), c1.clone()], "newest per component, by name");
    assert_eq!(b1.percentage, 25.0);

    assert_eq!(s.prune_coverage(ts(T0 + 30 * 24 * HOUR)).unwrap(), 1, "only Button's older row goes");
    assert_eq!(s.coverage_history(Some("ui"), Some("Button"), 10).unwrap(), vec![b2]);
    assert_eq!(s.coverage_history(Some("ui"), Some("Card"), 10).unwrap(), vec![c1], "a component's newest stays");
    assert_eq!(s.coverage_history(Some("other"), None, 10).unwrap(), vec![other]);
}

fn api_key(id: &str, at: i64) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        name: format!("hook {id}"),
        hash: Digest::of_bytes(id.as_bytes()).to_hex(),
        created_at: ts(at),
        last_used_at: None,
        revoked_at: None,
    }
}

/// `put_api_key` stores a new key and refuses an id or hash stored already;
/// `api_key_by_hash` finds it; `revoke_api_key` keeps the first revocation time;
/// `touch_api_key` only moves the last use forward and never clears a revocation.
pub fn api_keys_by_hash_revoked_and_touched(s: &mut dyn Store) {
    assert!(s.api_keys().unwrap().is_empty());
    let (a, b) = (api_key("key_b", T0), api_key("key_a", T0 + 5));
    s.put_api_key(&a).unwrap();
    s.put_api_key(&b).unwrap();
    assert_eq!(s.api_keys().unwrap(), vec![a.clone(), b.clone()], "oldest first, not by id");
    assert_eq!(s.api_key_by_hash(&b.hash).unwrap().as_ref(), Some(&b), "every field");
    assert_eq!(s.api_key_by_hash(&Digest::of_bytes(b"other").to_hex()).unwrap(), None);
    assert!(s.put_api_key(&ApiKeyRecord { hash: Digest::of_bytes(b"x").to_hex(), ..a.clone() }).is_err(), "same id");
    assert!(s.put_api_key(&ApiKeyRecord { id: "key_c".into(), ..a.clone() }).is_err(), "same hash");
    assert_eq!(s.api_keys().unwrap().len(), 2, "a refused put adds nothing");

    s.touch_api_key("key_b", ts(T0 + 60_000)).unwrap();
    s.touch_api_key("key_b", ts(T0 + 30_000)).unwrap();
    s.touch_api_key("no_such_key", ts(T0)).unwrap();
    assert_eq!(s.api_key_by_hash(&a.hash).unwrap().unwrap().last_used_at, Some(ts(T0 + 60_000)), "only forward");

    assert_eq!(s.revoke_api_key("no_such_key", ts(T0)).unwrap(), None);
    let revoked = s.revoke_api_key("key_b", ts(T0 + 70_000)).unwrap().expect("found");
    assert_eq!(revoked.revoked_at, Some(ts(T0 + 70_000)));
    let again = s.revoke_api_key("key_b", ts(T0 + 80_000)).unwrap().expect("found");
    assert_eq!(again.revoked_at, Some(ts(T0 + 70_000)), "the first revocation stands");
    s.touch_api_key("key_b", ts(T0 + 90_000)).unwrap();
    let after = s.api_key_by_hash(&a.hash).unwrap().unwrap();
    assert_eq!((after.revoked_at, after.last_used_at), (Some(ts(T0 + 70_000)), Some(ts(T0 + 90_000))));
    assert_eq!(s.api_key_by_hash(&b.hash).unwrap().unwrap().revoked_at, None, "the other key untouched");
}
