//! `Engine`: runs a plan over two replicas and a store — per item atomic, a failure
//! isolated to its item, idempotent by operation hash, audited and undoable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::audit::AuditRecord;
use crate::clock::Clock;
use crate::content::Content;
use crate::digest::Digest;
use crate::drift::{detect_owned, Drift, DriftClass, ItemError};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::key::Key;
use crate::merge::{json3, text3, JsonMergeOptions, TextMergeOptions};
use crate::moves::Move;
use crate::plan::{plan, Action, ActionKind, Plan, PlanContext, DEFAULT_BUCKET_MS};
use crate::policy::{Directions, Policy, Side, Strategy};
use crate::replica::{Flush, Replica, ReplicaError, Snapshot, WriteContext};
use crate::report::{
    ConflictReport, ItemResult, OperationReport, OperationStatus, Outcome, RefusedItem, ReportCounts, Trigger,
    UndoReport,
};
use crate::store::{HistoryEntry, Intent, ItemCommit, Store, StoreError, UndoCommit, UndoEntry, UndoLimits};
use crate::store_thread::{with_store_thread, StoreThread, Ticket};

/// How an engine is set up for one pair of replicas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineConfig {
    /// Name of the pair; keys the base in the store.
    pub scope: String,
    /// Who acts, for history and audit.
    pub actor: String,
    /// Undo window.
    pub undo: UndoLimits,
    /// Operation-hash time bucket in milliseconds.
    pub bucket_ms: i64,
    /// Labels and style for text merges.
    pub text_merge: TextMergeOptions,
    /// Options for JSON merges.
    pub json_merge: JsonMergeOptions,
    /// A sync that would delete at least this many items, and at least half the base,
    /// from one side's emptiness, stops with [`Error::MassDeletion`].
    pub mass_delete_threshold: usize,
    /// Most items applied as one batch: one store transaction for their intents, one
    /// flush per side, one store transaction for their commits (group commit).
    pub batch_items: usize,
    /// A batch is applied once it has waited this long (milliseconds), even if not full.
    pub batch_ms: i64,
    /// A batch is applied once the contents it holds reach this many bytes: a batch of
    /// mid-sized files would otherwise hold hundreds of megabytes until its flush.
    pub batch_bytes: u64,
    /// The store keeps an item's synced content, which a later three-way merge reads
    /// as its base, only for text and JSON up to this many bytes: nothing else is ever
    /// merged, so the state stays small beside the tree instead of a second copy of it.
    pub keep_base_below: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            scope: "default".into(),
            actor: "twinsync".into(),
            undo: UndoLimits::default(),
            bucket_ms: DEFAULT_BUCKET_MS,
            text_merge: TextMergeOptions::default(),
            json_merge: JsonMergeOptions::default(),
            mass_delete_threshold: 10,
            // Each batch ends in a flush of the files it wrote (a syncfs or an fsync each)
            // and two store commits: at 256 items or 50 ms a first sync of 20,000 small
            // files spent half its wall time waiting on about 80 flushes. The byte cap
            // below still bounds what a batch holds.
            batch_items: 2048,
            batch_ms: 500,
            batch_bytes: 32 << 20,
            keep_base_below: 1 << 20,
        }
    }
}

/// Options of one sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncOptions {
    /// Conflict policy.
    pub policy: Policy,
    /// Directions.
    pub directions: Directions,
    /// What set it off.
    pub trigger: Trigger,
    /// Let a sync delete most of a replica (see [`Error::MassDeletion`]).
    pub allow_mass_delete: bool,
    /// Only items whose key starts with one of these (every item when empty): a sync of
    /// one OpenSpec change, or of what a watcher saw. Other items, and their base, are
    /// left as they are.
    pub only: Vec<String>,
    /// Also make formatting-only items byte-equal, copying the bytes of the side the
    /// direction or policy picks (see [`DriftClass::FormattingOnly`]).
    pub formatting: bool,
}

impl SyncOptions {
    fn selects(&self, key: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| key.starts_with(p.as_str()))
    }
}

/// How a person settles one item with [`Engine::resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// That side's version wins (its absence, if it deleted the item).
    Take(Side),
    /// This content is written to both sides.
    Content(Content),
}

/// One item's change as a unified diff, for dry runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ItemDiff {
    /// The item.
    pub key: Key,
    /// The planned action.
    pub action: ActionKind,
    /// Unified diff from the target's current content to what it would become
    /// (empty for binary content or base-only actions).
    pub diff: String,
}

/// A dry run: the plan and what each change would look like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Preview {
    /// The plan.
    pub plan: Plan,
    /// Diffs of the changes.
    pub diffs: Vec<ItemDiff>,
}

/// What a scan of both replicas found.
#[derive(Debug, Clone)]
pub struct Scan {
    /// The base from the store.
    pub base: BTreeMap<Key, Digest>,
    /// The left scan.
    pub left: Snapshot,
    /// The right scan.
    pub right: Snapshot,
    /// Their drift.
    pub drift: Drift,
}

/// The history direction of an undo, and of the intents an undo records.
const UNDO_DIRECTION: &str = "undo";

/// Store namespace of the marker naming the operation a pair's run is applying.
const RUNNING_NAMESPACE: &str = "running_operation";

/// Most drifted items a `drift_detected` event lists (its counts cover them all).
const DRIFT_EVENT_ITEMS: usize = 50;

/// Runs syncs and undos of one pair over a store.
pub struct Engine<'a> {
    store: &'a mut dyn Store,
    clock: &'a dyn Clock,
    progress: Option<&'a dyn Fn(usize, usize)>,
    config: EngineConfig,
}

/// Outcome of one item, before it is written into the report.
struct Applied {
    result: ItemResult,
    conflict: Option<ConflictReport>,
    undoable: bool,
}

fn side<'r>(left: &'r mut dyn Replica, right: &'r mut dyn Replica, s: Side) -> &'r mut dyn Replica {
    match s {
        Side::Left => left,
        Side::Right => right,
    }
}

impl<'a> Engine<'a> {
    /// An engine over `store`, reading time from `clock`.
    pub fn new(store: &'a mut dyn Store, clock: &'a dyn Clock, config: EngineConfig) -> Self {
        Engine { store, clock, progress: None, config }
    }

    /// Calls `progress(done, total)` after each applied item, for progress bars.
    pub fn with_progress(mut self, progress: &'a dyn Fn(usize, usize)) -> Self {
        self.progress = Some(progress);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    fn applier(&self) -> Applier<'_> {
        Applier { clock: self.clock, config: &self.config }
    }

    /// Scans both replicas and classifies every item against the base.
    ///
    /// An item either side could not read is kept out of the drift on both sides (and
    /// out of the base view), so it is neither copied, deleted nor overwritten: it is
    /// listed in [`Drift::failed`] instead.
    pub fn scan(&mut self, left: &mut dyn Replica, right: &mut dyn Replica) -> Result<Scan> {
        // The two sides scan at once, on threads of their own, while this one loads the
        // base: a warm status is mostly stat calls, and they wait on the kernel apart.
        let scope = &self.config.scope;
        let store = &mut *self.store;
        let (base, l, r) = std::thread::scope(|s| {
            let right = s.spawn(|| right.scan());
            let left = s.spawn(|| left.scan());
            let base = store.load_base(scope);
            let join =
                |h: std::thread::ScopedJoinHandle<'_, _>| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            (base, join(left), join(right))
        });
        let (mut base, mut l, mut r) = (base?, l?, r?);
        // Writes an interrupted sync made count as made, as its recovery will record them.
        self.healed_base(&mut base, &l, &r)?;
        let mut failed = Vec::new();
        for (side, replica) in [(Side::Left, &*left), (Side::Right, &*right)] {
            failed.extend(replica.scan_failures().into_iter().map(|f| ItemError { key: f.key, side, error: f.error }));
        }
        let mut drift = if failed.is_empty() {
            detect_owned(&base, &l, &r)
        } else {
            let mut visible = base.clone();
            let out: std::collections::BTreeSet<&str> = failed.iter().map(|f| f.key.as_str()).collect();
            visible.retain(|k, _| !out.contains(k.as_str()));
            // One pass each: a tree of many unreadable files must not cost a shift per file.
            l.retain(|e| !out.contains(e.key.as_str()));
            r.retain(|e| !out.contains(e.key.as_str()));
            detect_owned(&visible, &l, &r)
        };
        drift.failed = failed;
        self.note_drift(&drift)?;
        Ok(Scan { base, left: l, right: r, drift })
    }

    /// Writes `drift_detected` when the set of drifted items (and failed ones) differs
    /// from the one last seen, so a status run every minute is not an event a minute.
    fn note_drift(&mut self, drift: &Drift) -> Result<()> {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        for i in drift.drifted() {
            h.update(i.key.as_str().as_bytes());
            h.update([0]);
            h.update(i.class.as_str().as_bytes());
            h.update([0]);
        }
        for f in &drift.failed {
            h.update(f.key.as_bytes());
            h.update([1]);
        }
        let fingerprint = h.finalize().to_vec();
        let namespace = "drift_set";
        let recorded = self.store.kv_get(namespace, &self.config.scope)?;
        if recorded.as_deref() == Some(fingerprint.as_slice()) {
            return Ok(());
        }
        let was_recorded = recorded.is_some();
        let drifted: Vec<serde_json::Value> = drift
            .drifted()
            .take(DRIFT_EVENT_ITEMS)
            .map(|i| serde_json::json!({ "key": i.key, "class": i.class }))
            .collect();
        if !drifted.is_empty() || !drift.failed.is_empty() || was_recorded {
            let payload = serde_json::json!({
                "drifted": drift.counts.drifted(),
                "failed": drift.failed.len(),
                "counts": drift.counts,
                "items": drifted,
            });
            self.store.append_events(&[Event::drift_detected(self.clock.now(), &self.config.scope, payload)])?;
        }
        self.store.kv_put(namespace, &self.config.scope, &fingerprint)?;
        Ok(())
    }

    /// The drift of the pair.
    pub fn status(&mut self, left: &mut dyn Replica, right: &mut dyn Replica) -> Result<Drift> {
        Ok(self.scan(left, right)?.drift)
    }

    /// Scans and plans, refusing a mass deletion unless allowed.
    pub fn plan(
        &mut self,
        left: &mut dyn Replica,
        right: &mut dyn Replica,
        opts: &SyncOptions,
    ) -> Result<(Plan, Scan)> {
        let mut scan = self.scan(left, right)?;
        let ctx = PlanContext {
            now: self.clock.now(),
            bucket_ms: self.config.bucket_ms,
            left: Some(&scan.left),
            right: Some(&scan.right),
            formatting: opts.formatting,
        };
        let mut p = plan(&scan.drift, &opts.directions, &opts.policy, &ctx);
        if !opts.only.is_empty() {
            p.actions.retain(|a| opts.selects(a.key.as_str()));
            scan.drift.failed.retain(|f| opts.selects(&f.key));
            // A part of the pair is another operation than the whole, and than another part.
            let tagged = format!("{}\0only\0{}", p.operation_hash.to_hex(), opts.only.join("\0"));
            p.operation_hash = Digest::of_bytes(tagged.as_bytes());
        }
        if !opts.allow_mass_delete {
            self.check_mass_deletion(&p, &scan, left.name(), right.name())?;
        }
        Ok((p, scan))
    }

    fn check_mass_deletion(&self, p: &Plan, scan: &Scan, left_name: &str, right_name: &str) -> Result<()> {
        for (kind, name) in [(ActionKind::DeleteRight, left_name), (ActionKind::DeleteLeft, right_name)] {
            let deletions = p.actions.iter().filter(|a| a.kind == kind).count();
            if deletions >= self.config.mass_delete_threshold.max(1) && deletions * 2 >= scan.base.len() {
                return Err(Error::MassDeletion { replica: name.to_string(), deletions, base_items: scan.base.len() });
            }
        }
        Ok(())
    }

    /// A dry run: the plan with a unified diff per change. Changes nothing.
    pub fn preview(&mut self, left: &mut dyn Replica, right: &mut dyn Replica, opts: &SyncOptions) -> Result<Preview> {
        let (plan, _) = self.plan(left, right, opts)?;
        let mut diffs = Vec::new();
        for a in plan.changes() {
            // A large item is bytes: it shows as changed, without a diff or a read.
            if is_large(left, &a.key)? || is_large(right, &a.key)? {
                diffs.push(ItemDiff { key: a.key.clone(), action: a.kind, diff: String::new() });
                continue;
            }
            let (from, to) = match a.kind {
                ActionKind::CopyToRight => (right.read(&a.key)?, left.read(&a.key)?),
                ActionKind::CopyToLeft => (left.read(&a.key)?, right.read(&a.key)?),
                ActionKind::DeleteRight => (right.read(&a.key)?, None),
                ActionKind::DeleteLeft => (left.read(&a.key)?, None),
                ActionKind::Merge => {
                    let l = left.read(&a.key)?;
                    let merged = match (&l, right.read(&a.key)?) {
                        (Some(lc), Some(rc)) => {
                            let base = a.base.and_then(|d| self.store.blob(&d).ok().flatten());
                            self.applier().merge_contents(base, lc, &rc).map(|(c, _)| c)
                        }
                        _ => None,
                    };
                    (l, merged)
                }
                _ => (None, None),
            };
            let text =
                |c: &Option<Content>| c.as_ref().and_then(|c| c.as_text().map(str::to_owned)).unwrap_or_default();
            // Only text gets a line diff; bytes and links show as changed without one.
            let not_text = |c: &Option<Content>| c.as_ref().is_some_and(|c| c.as_text().is_none());
            let diff = if not_text(&from) || not_text(&to) {
                String::new()
            } else {
                similar::TextDiff::from_lines(&text(&from), &text(&to))
                    .unified_diff()
                    .header(&format!("a/{}", a.key), &format!("b/{}", a.key))
                    .to_string()
            };
            diffs.push(ItemDiff { key: a.key.clone(), action: a.kind, diff });
        }
        Ok(Preview { plan, diffs })
    }

    /// Recovers what an interrupted run left ([`Engine::recover`]), then plans and
    /// applies a sync; returns its report.
    ///
    /// Items are applied in batches (up to `batch_items`, or what `batch_ms` allows):
    /// intents first, then each item compare-and-swap on its side, one flush per side,
    /// one store transaction for the batch. A failing item is reported and the others
    /// go on. Repeating a completed operation (same operation hash) returns its report
    /// and changes nothing.
    pub fn sync(
        &mut self,
        left: &mut dyn Replica,
        right: &mut dyn Replica,
        opts: &SyncOptions,
    ) -> Result<OperationReport> {
        self.recover(left, right)?;
        let started = self.clock.now();
        let (plan, scan) = self.plan(left, right, opts)?;
        self.run(started, plan, &scan, left, right, opts.trigger, None)
    }

    /// Settles one drifted item by hand: `resolution` takes a side's version, or writes
    /// given content to both sides. It is an operation like a sync: compare-and-swap on
    /// what the scan saw, recorded in history and undoable.
    pub fn resolve(
        &mut self,
        left: &mut dyn Replica,
        right: &mut dyn Replica,
        key: &Key,
        resolution: &Resolution,
        trigger: Trigger,
    ) -> Result<OperationReport> {
        use sha2::Digest as _;
        self.recover(left, right)?;
        let started = self.clock.now();
        let mut scan = self.scan(left, right)?;
        if let Some(f) = scan.drift.failed.iter().find(|f| f.key == key.as_str()) {
            return Err(Error::InvalidInput(format!("cannot resolve {}: {}", key, f.error)));
        }
        let item = scan
            .drift
            .items
            .iter()
            .find(|i| &i.key == key)
            .ok_or_else(|| Error::NotFound(format!("{key} is on neither side of {}", self.config.scope)))?;
        if item.class == DriftClass::InSync {
            return Err(Error::InvalidInput(format!("{key} is in sync on both sides; nothing to resolve")));
        }
        let (kind, reason, policy, tag) = match resolution {
            Resolution::Take(side) => {
                let (present, copy, delete) = match side {
                    Side::Left => (item.left.is_some(), ActionKind::CopyToRight, ActionKind::DeleteRight),
                    Side::Right => (item.right.is_some(), ActionKind::CopyToLeft, ActionKind::DeleteLeft),
                };
                (
                    if present { copy } else { delete },
                    format!("resolved by hand: the {side} version taken"),
                    Policy::prefer(*side),
                    side.as_str().as_bytes().to_vec(),
                )
            }
            Resolution::Content(c) => {
                let d = left.rules().digest(c).map_err(|e| Error::InvalidInput(format!("{key}: {e}")))?;
                (
                    ActionKind::Merge,
                    "resolved by hand: the given version written to both sides".to_string(),
                    Policy::default(),
                    d.to_hex().into_bytes(),
                )
            }
        };
        let action = Action {
            key: key.clone(),
            class: item.class,
            kind,
            base: item.base,
            left: item.left,
            right: item.right,
            reason,
            moved: None,
        };
        // Its own hash: a resolve is never mistaken for (or replayed as) a sync.
        let mut h = sha2::Sha256::new();
        for part in [b"resolve".as_slice(), key.as_str().as_bytes(), &tag] {
            h.update(part);
            h.update([0]);
        }
        for d in [action.base, action.left, action.right] {
            h.update(d.map(|d| d.to_hex()).unwrap_or_default().as_bytes());
            h.update([0]);
        }
        h.update((started.millis().div_euclid(self.config.bucket_ms.max(1))).to_be_bytes());
        let plan = Plan {
            operation_hash: Digest::from_hasher(h),
            policy,
            directions: Directions::all(crate::policy::Direction::Both),
            actions: vec![action],
            counts: scan.drift.counts.clone(),
        };
        // Only this item is touched, so other items' read failures are not this operation's.
        scan.drift.failed.clear();
        let given = match resolution {
            Resolution::Content(c) => Some(c),
            Resolution::Take(_) => None,
        };
        self.run(started, plan, &scan, left, right, trigger, given)
    }

    /// Finishes what an interrupted operation of this pair left: every open intent is
    /// settled from what its side holds now, and every operation left `running` ends.
    ///
    /// - The side holds exactly the intended post-digest: the write happened; its base,
    ///   undo entry, history row and `doc:updated` event are committed as the operation
    ///   would have (the base only once every side of the item was written).
    /// - The side holds anything else (the pre-digest: the write never happened; other
    ///   content: a real change, which the plan then treats by policy): the intent goes.
    ///
    /// An interrupted operation's report ends `partial`, listing the recovered items in
    /// `recovered`, undoable if anything it wrote is. [`Engine::sync`], [`Engine::resolve`]
    /// and [`Engine::undo`] call this first. It writes to the store, so run it only where
    /// no other writer of the pair runs: the facade holds the pair's sync lease. A scan
    /// without it (status, preview) sees the same outcome without writing anything.
    /// Returns the ids of the operations it ended.
    pub fn recover(&mut self, left: &mut dyn Replica, right: &mut dyn Replica) -> Result<Vec<String>> {
        let scope = self.config.scope.clone();
        let intents = self.store.open_intents(&scope)?;
        // The run that was applying when it stopped, if one was: a marker read by key, so
        // an idle sync does not parse reports (one can be megabytes) to find none running.
        let marker = self.store.kv_get(RUNNING_NAMESPACE, &scope)?;
        let running: Vec<OperationReport> = match &marker {
            Some(id) => self
                .store
                .operation(&String::from_utf8_lossy(id))?
                .filter(|o| o.status == OperationStatus::Running)
                .into_iter()
                .collect(),
            None => vec![],
        };
        if intents.is_empty() && running.is_empty() {
            if marker.is_some() {
                self.store.kv_delete(RUNNING_NAMESPACE, &scope)?;
            }
            return Ok(vec![]);
        }
        let now = self.clock.now();
        let mut recovered: BTreeMap<String, Vec<Key>> = BTreeMap::new();
        for group in intents_by_item(intents) {
            let first = &group[0];
            let (key, op) = (first.key.clone(), first.operation_id.clone());
            let mut digests = [None, None];
            let mut unreadable = false;
            for (s, replica) in [(Side::Left, &*left), (Side::Right, &*right)] {
                match replica.digest(&key) {
                    Ok(d) => digests[idx(s)] = d,
                    Err(_) => unreadable = true,
                }
            }
            if unreadable {
                // Settled by a later run, once the item can be read again.
                continue;
            }
            if first.direction == UNDO_DIRECTION {
                // An undo stopped between writing and recording: the item's restore is
                // recorded when every side holds it, else left to the next sync like any
                // change. The operation stays undoable for the items it did not reach.
                if group.iter().all(|i| digests[idx(i.side)] == i.post) {
                    let events = group
                        .iter()
                        .map(|i| self.applier().doc_updated(&format!("undo-{op}"), &key, i.side, i.post.as_ref()))
                        .collect();
                    self.store.commit_undo(&self.undo_record(&key, &op, first.base_after, now, events))?;
                }
                self.store.drop_intents(&scope, &op, &key)?;
                continue;
            }
            let (written, base) = settle(&group, digests);
            if written.is_empty() {
                self.store.drop_intents(&scope, &op, &key)?;
                continue;
            }
            let undo = written
                .iter()
                .map(|i| UndoEntry {
                    operation_id: op.clone(),
                    scope: scope.clone(),
                    key: key.clone(),
                    side: i.side,
                    pre: i.pre,
                    post: i.post,
                    base_before: i.base_before,
                    created_at: i.created_at,
                    expires_at: i.created_at.plus_millis(self.config.undo.max_age_ms),
                    undone_at: None,
                })
                .collect();
            let events =
                written.iter().map(|i| self.applier().doc_updated(&op, &key, i.side, i.post.as_ref())).collect();
            self.store.commit_item(&ItemCommit {
                scope: scope.clone(),
                key: key.clone(),
                base_after: base,
                blobs: vec![],
                undo,
                history: HistoryEntry {
                    operation_id: op.clone(),
                    scope: scope.clone(),
                    key: key.clone(),
                    direction: first.direction.clone(),
                    trigger: first.trigger,
                    success: true,
                    error: None,
                    left: digests[0],
                    right: digests[1],
                    at: now,
                },
                events,
            })?;
            recovered.entry(op).or_default().push(key);
        }
        let mut ended = Vec::new();
        let mut reports = running;
        for op in recovered.keys() {
            if !reports.iter().any(|r| &r.operation_id == op) {
                if let Some(r) = self.store.operation(op)? {
                    reports.push(r);
                }
            }
        }
        for mut report in reports {
            let keys = recovered.remove(&report.operation_id).unwrap_or_default();
            let undo = self.store.undo_entries(&report.operation_id)?;
            let applied: std::collections::BTreeSet<&Key> = undo.iter().map(|u| &u.key).collect();
            report.counts.applied = report.counts.applied.max(applied.len());
            report.counts.failed = report.counts.planned.saturating_sub(report.counts.applied);
            report.status = if report.counts.applied > 0 { OperationStatus::Partial } else { OperationStatus::Failed };
            report.recovered.extend(keys);
            if !undo.is_empty() && report.reversible_until.is_none() {
                report.reversible_until = Some(report.started_at.plus_millis(self.config.undo.max_age_ms));
            }
            report.finished_at = now;
            report.duration_ms = now.millis() - report.started_at.millis();
            report.audit_id =
                Some(self.audit("recover", &report.operation_id, true, &report.counts, report.duration_ms)?);
            let event = Event::sync_finished(now, &report);
            self.store.put_operation(&report, &[event])?;
            ended.push(report.operation_id);
        }
        if marker.is_some() {
            self.store.kv_delete(RUNNING_NAMESPACE, &scope)?;
        }
        Ok(ended)
    }

    /// The base as a recovery would leave it, without writing: an item whose open
    /// intents all find their side holding the intended digest has its intended base.
    fn healed_base(&self, base: &mut BTreeMap<Key, Digest>, l: &Snapshot, r: &Snapshot) -> Result<()> {
        let intents = self.store.open_intents(&self.config.scope)?;
        for group in intents_by_item(intents) {
            let key = &group[0].key;
            let digests = [l.get(key).map(|e| e.digest), r.get(key).map(|e| e.digest)];
            let (written, settled) = settle(&group, digests);
            if written.len() == group.len() {
                match settled {
                    Some(d) => base.insert(key.clone(), d),
                    None => base.remove(key),
                };
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        started: crate::clock::Timestamp,
        plan: Plan,
        scan: &Scan,
        left: &mut dyn Replica,
        right: &mut dyn Replica,
        trigger: Trigger,
        given: Option<&Content>,
    ) -> Result<OperationReport> {
        let op_id = plan.operation_id();
        if let Some(mut done) = self.store.operation(&op_id)? {
            if done.status == OperationStatus::Completed {
                done.replayed = true;
                return Ok(done);
            }
        }
        let mut report = OperationReport {
            operation_id: op_id.clone(),
            operation_hash: plan.operation_hash,
            scope: self.config.scope.clone(),
            status: OperationStatus::Running,
            trigger,
            actor: self.config.actor.clone(),
            policy: plan.policy,
            directions: plan.directions.clone(),
            started_at: started,
            finished_at: started,
            duration_ms: 0,
            counts: ReportCounts { planned: plan.actions.len(), ..Default::default() },
            items: Vec::with_capacity(plan.actions.len()),
            conflicts: Vec::new(),
            item_errors: Vec::new(),
            reversible_until: None,
            recovered: Vec::new(),
            undone_at: None,
            replayed: false,
            audit_id: None,
        };
        if plan.actions.is_empty() && scan.drift.failed.is_empty() {
            report.status = OperationStatus::Completed;
            return Ok(report);
        }
        let started_event =
            Event::sync_started(started, &self.config.scope, &op_id, trigger.as_str(), plan.actions.len());
        // Marked before the report says running, cleared after it says how it ended: a
        // run killed in between is found by the next writer's recovery.
        self.store.kv_put(RUNNING_NAMESPACE, &self.config.scope, op_id.as_bytes())?;
        self.store.put_operation(&report, &[started_event])?;
        let ctx = WriteContext { operation_id: op_id.clone() };
        let applier = Applier { clock: self.clock, config: &self.config };
        let progress = self.progress;
        let outcomes = with_store_thread(&mut *self.store, |store| {
            applier.apply_all(&plan, left, right, &ctx, trigger, given, progress, store)
        });
        let mut finish_events = Vec::new();
        let mut undoable = false;
        for applied in outcomes.into_iter().flatten() {
            match applied.result.outcome {
                Outcome::Applied => report.counts.applied += 1,
                Outcome::Skipped => report.counts.skipped += 1,
                Outcome::Conflict => report.counts.conflicts += 1,
                Outcome::Failed => report.counts.failed += 1,
            }
            undoable |= applied.undoable;
            if let Some(c) = applied.conflict {
                finish_events.push(Event::conflict_detected(
                    self.clock.now(),
                    &self.config.scope,
                    &op_id,
                    c.key.as_str(),
                    &c.class,
                    &c.reason,
                ));
                report.conflicts.push(c);
            }
            report.items.push(applied.result);
        }
        for failure in &scan.drift.failed {
            self.record_unreadable(&op_id, failure, &scan.base, trigger);
            report.counts.failed += 1;
            report.item_errors.push(failure.clone());
        }
        let finished = self.clock.now();
        report.finished_at = finished;
        report.duration_ms = finished.millis() - started.millis();
        report.status = match (report.counts.failed, report.counts.applied) {
            (0, _) => OperationStatus::Completed,
            (_, 0) => OperationStatus::Failed,
            _ => OperationStatus::Partial,
        };
        if undoable {
            report.reversible_until = Some(started.plus_millis(self.config.undo.max_age_ms));
        }
        report.audit_id = Some(self.audit(
            "sync",
            &op_id,
            report.status != OperationStatus::Failed,
            &report.counts,
            report.duration_ms,
        )?);
        finish_events.push(Event::sync_finished(finished, &report));
        self.store.put_operation(&report, &finish_events)?;
        self.store.kv_delete(RUNNING_NAMESPACE, &self.config.scope)?;
        self.store.prune(finished, &self.config.undo)?;
        Ok(report)
    }

    /// Records in history that an item could not be read; its base stays as it was.
    fn record_unreadable(&mut self, op: &str, failure: &ItemError, base: &BTreeMap<Key, Digest>, trigger: Trigger) {
        let Ok(key) = Key::new(&failure.key) else { return };
        let base_after = base.get(&key).copied();
        let _ = self.store.commit_item(&ItemCommit {
            scope: self.config.scope.clone(),
            key: key.clone(),
            base_after,
            blobs: vec![],
            undo: vec![],
            history: HistoryEntry {
                operation_id: op.to_string(),
                scope: self.config.scope.clone(),
                key,
                direction: "base".into(),
                trigger,
                success: false,
                error: Some(failure.error.clone()),
                left: None,
                right: None,
                at: self.clock.now(),
            },
            events: vec![],
        });
    }

    fn audit(
        &mut self,
        action: &str,
        correlation: &str,
        success: bool,
        counts: &ReportCounts,
        duration_ms: i64,
    ) -> Result<String> {
        Ok(self.store.append_audit(&AuditRecord {
            id: String::new(),
            correlation_id: correlation.to_string(),
            actor: self.config.actor.clone(),
            action: action.to_string(),
            success,
            counts: serde_json::to_value(counts).expect("counts serialise"),
            duration_ms,
            at: self.clock.now(),
            detail: Some(format!("scope {}", self.config.scope)),
        })?)
    }

    /// Undoes an operation (the newest undoable one of this pair for `None`).
    ///
    /// Every item whose current digest still equals what the operation wrote is put
    /// back, base included; an item changed since is refused and reported, never
    /// overwritten. An operation is undone once, and only inside its undo window.
    pub fn undo(
        &mut self,
        left: &mut dyn Replica,
        right: &mut dyn Replica,
        operation_id: Option<&str>,
    ) -> Result<UndoReport> {
        self.recover(left, right)?;
        let now = self.clock.now();
        let mut op = match operation_id {
            Some(id) => self.find_operation(id)?,
            None => self
                .store
                .operations(Some(&self.config.scope), self.config.undo.max_operations)?
                .into_iter()
                .find(|o| o.undone_at.is_none() && o.reversible_until.is_some_and(|u| u > now))
                .ok_or_else(|| Error::NotFound(format!("no operation of {} can be undone", self.config.scope)))?,
        };
        if op.undone_at.is_some() {
            return Err(Error::AlreadyUndone(op.operation_id));
        }
        let entries = self.store.undo_entries(&op.operation_id)?;
        let until = op.reversible_until.map(|u| u.to_rfc3339()).unwrap_or_else(|| "never".into());
        if entries.is_empty()
            || op.reversible_until.is_none_or(|u| u <= now)
            || entries.iter().all(|e| e.expires_at <= now)
        {
            return Err(Error::Expired { operation_id: op.operation_id, until });
        }
        let mut by_key: BTreeMap<Key, Vec<UndoEntry>> = BTreeMap::new();
        for e in entries.into_iter().filter(|e| e.undone_at.is_none()) {
            by_key.entry(e.key.clone()).or_default().push(e);
        }
        let mut report = UndoReport {
            operation_id: op.operation_id.clone(),
            restored: vec![],
            refused: vec![],
            moves: vec![],
            at: now,
            audit_id: None,
        };
        let ctx = WriteContext { operation_id: format!("undo-{}", op.operation_id) };
        // As a sync does: check every item, record what will be written (so a kill in
        // between is finished by `recover`), write, flush each side once, and only then
        // commit the restored items to the store.
        let mut ready: Vec<(Key, Vec<UndoEntry>)> = Vec::new();
        for (key, sides) in by_key {
            match self.undo_check(&key, &sides, left, right) {
                Ok(()) => ready.push((key, sides)),
                Err(reason) => report.refused.push(RefusedItem { key, reason }),
            }
        }
        let scope = self.config.scope.clone();
        let intents: Vec<Intent> = ready
            .iter()
            .flat_map(|(key, sides)| {
                sides.iter().map(|e| Intent {
                    operation_id: op.operation_id.clone(),
                    scope: scope.clone(),
                    key: key.clone(),
                    side: e.side,
                    pre: e.post,
                    post: e.pre,
                    base_before: None,
                    base_after: e.base_before,
                    direction: UNDO_DIRECTION.into(),
                    trigger: Trigger::Manual,
                    created_at: now,
                })
            })
            .collect();
        if !intents.is_empty() {
            self.store.record_intents(&intents, &[])?;
        }
        let mut written = Vec::with_capacity(ready.len());
        let mut touched = [false, false];
        // An item the operation created with the content of one it deleted, on the same
        // side (a move), goes back by one rename: no copy, and nothing needs a backup.
        let mut singles = Vec::with_capacity(ready.len());
        let mut moves = Vec::new();
        for pair in undo_moves(ready) {
            let (restore, created) = match pair {
                UndoItem::Single(item) => {
                    singles.push(item);
                    continue;
                }
                UndoItem::Move { restore, created } => (restore, created),
            };
            let e = &created.1[0];
            let (at, digest) = (e.side, e.post.expect("a created item has its digest"));
            match side(left, right, at).rename(&created.0, &restore.0, &digest, &ctx) {
                Ok(_) => {
                    touched[idx(at)] = true;
                    moves.push(Move { side: at, from: created.0.clone(), to: restore.0.clone(), digest });
                    written.extend([restore, created]);
                }
                Err(_) => singles.extend([restore, created]),
            }
        }
        for (key, sides) in singles {
            match self.undo_write(&key, &sides, left, right, &ctx) {
                Ok(()) => {
                    sides.iter().for_each(|e| touched[idx(e.side)] = true);
                    written.push((key, sides));
                }
                Err(reason) => {
                    self.store.drop_intents(&scope, &op.operation_id, &key)?;
                    report.refused.push(RefusedItem { key, reason });
                }
            }
        }
        for s in [Side::Left, Side::Right] {
            if touched[idx(s)] {
                // Nothing is recorded as undone: the intents stay, and the next writer's
                // recovery settles each item from what the sides hold.
                side(left, right, s).flush()?;
            }
        }
        for (key, sides) in written {
            match self.undo_commit(&key, &sides, &ctx) {
                Ok(()) => report.restored.push(key),
                Err(reason) => report.refused.push(RefusedItem { key, reason }),
            }
        }
        report.moves = moves.into_iter().filter(|m| report.restored.contains(&m.to)).collect();
        op.undone_at = Some(now);
        let counts = ReportCounts {
            planned: report.restored.len() + report.refused.len(),
            applied: report.restored.len(),
            conflicts: report.refused.len(),
            ..Default::default()
        };
        report.audit_id = Some(self.audit(
            "undo",
            &op.operation_id,
            report.refused.is_empty(),
            &counts,
            self.clock.now().millis() - now.millis(),
        )?);
        self.store.put_operation(&op, &[])?;
        Ok(report)
    }

    fn find_operation(&self, id: &str) -> Result<OperationReport> {
        if let Some(op) = self.store.operation(id)? {
            return Ok(op);
        }
        // Accept a unique prefix of the id, as git accepts abbreviated hashes.
        let matches: Vec<OperationReport> = self
            .store
            .operations(Some(&self.config.scope), usize::MAX)?
            .into_iter()
            .filter(|o| o.operation_id.starts_with(id))
            .collect();
        match matches.len() {
            1 => Ok(matches.into_iter().next().expect("one match")),
            0 => Err(Error::NotFound(format!("no operation {id}"))),
            n => Err(Error::InvalidInput(format!("operation id {id} is ambiguous ({n} matches)"))),
        }
    }

    /// Whether every side of an item still holds what the operation wrote.
    fn undo_check(
        &self,
        key: &Key,
        sides: &[UndoEntry],
        left: &mut dyn Replica,
        right: &mut dyn Replica,
    ) -> std::result::Result<(), String> {
        for e in sides {
            let now = side(left, right, e.side).digest(key).map_err(|err| err.to_string())?;
            if now != e.post {
                return Err(format!("changed on the {} since the operation; not overwritten", e.side));
            }
        }
        Ok(())
    }

    /// Puts each side of an item back as it was before the operation.
    fn undo_write(
        &mut self,
        key: &Key,
        sides: &[UndoEntry],
        left: &mut dyn Replica,
        right: &mut dyn Replica,
        ctx: &WriteContext,
    ) -> std::result::Result<(), String> {
        for e in sides {
            let target = side(left, right, e.side);
            match (e.pre, e.post) {
                (Some(pre), post) => match self.store.blob(&pre).map_err(|err| err.to_string())? {
                    Some(content) => {
                        target.write(key, &content, post.as_ref(), ctx).map_err(|err| err.to_string())?;
                    }
                    // A large item's earlier version is the side's own backup.
                    None => {
                        let mut before = target
                            .open_backup(key, &e.operation_id)
                            .map_err(|err| err.to_string())?
                            .ok_or_else(|| format!("the content before the operation ({pre}) is no longer kept"))?;
                        target
                            .write_from(key, &mut before.reader, &pre, post.as_ref(), ctx)
                            .map_err(|err| err.to_string())?;
                    }
                },
                (None, Some(post)) => target.delete(key, &post, ctx).map_err(|err| err.to_string())?,
                (None, None) => {}
            }
        }
        Ok(())
    }

    /// Records a restored item: its base put back, its undo entries marked, a history
    /// row and events; then its intents go.
    fn undo_commit(&mut self, key: &Key, sides: &[UndoEntry], ctx: &WriteContext) -> std::result::Result<(), String> {
        let now = self.clock.now();
        let e = &sides[0];
        let events =
            sides.iter().map(|u| self.applier().doc_updated(&ctx.operation_id, key, u.side, u.pre.as_ref())).collect();
        self.store
            .commit_undo(&self.undo_record(key, &e.operation_id, e.base_before, now, events))
            .map_err(|err| format!("restored but not recorded: {err}"))?;
        self.store
            .drop_intents(&self.config.scope, &e.operation_id, key)
            .map_err(|err| format!("restored and recorded, but its intent stays: {err}"))
    }

    fn undo_record(
        &self,
        key: &Key,
        operation_id: &str,
        base: Option<Digest>,
        at: crate::clock::Timestamp,
        events: Vec<Event>,
    ) -> UndoCommit {
        UndoCommit {
            scope: self.config.scope.clone(),
            key: key.clone(),
            operation_id: operation_id.to_string(),
            base,
            history: HistoryEntry {
                operation_id: operation_id.to_string(),
                scope: self.config.scope.clone(),
                key: key.clone(),
                direction: UNDO_DIRECTION.into(),
                trigger: Trigger::Manual,
                success: true,
                error: None,
                left: None,
                right: None,
                at,
            },
            at,
            events,
        }
    }
}

/// What applying items reads besides the store, apart from the engine so that the store
/// can move to a thread of its own while items are read and written on this one.
struct Applier<'e> {
    clock: &'e dyn Clock,
    config: &'e EngineConfig,
}

impl Applier<'_> {
    /// Applies the plan's actions in batches, each in three steps: its intents
    /// recorded, its items written with one flush per side, then one commit. The store's
    /// steps run on its thread: a batch's intents are recorded while the batch before it
    /// is written, and that one commits while the next is read.
    #[allow(clippy::too_many_arguments)]
    fn apply_all(
        &self,
        plan: &Plan,
        left: &mut dyn Replica,
        right: &mut dyn Replica,
        ctx: &WriteContext,
        trigger: Trigger,
        given: Option<&Content>,
        progress: Option<&dyn Fn(usize, usize)>,
        store: &StoreThread,
    ) -> Vec<Option<Applied>> {
        let total = plan.actions.len();
        let mut outcomes: Vec<Option<Applied>> = (0..total).map(|_| None).collect();
        let batch_items = self.config.batch_items.max(1);
        // Two batches are held at once (one written while the next is recorded), so
        // each holds half of what a sync may hold.
        let batch_bytes = (self.config.batch_bytes / 2).max(1);
        let mut batch: Vec<Pending> = Vec::new();
        let mut batch_started = self.clock.now();
        let mut held = 0u64;
        let mut recorded: Option<Recorded> = None;
        // A written batch is committed once the next one is written: its flush has run
        // meanwhile, so the store never waits on the disk with the next batch's intents
        // queued behind it.
        let mut written: Option<Written> = None;
        let mut commits: Vec<Committing> = Vec::new();
        for (index, action) in plan.actions.iter().enumerate() {
            if let Some(p) = progress {
                p(index, total);
            }
            if batch.is_empty() {
                batch_started = self.clock.now();
                held = 0;
            }
            match self.prepare(index, action, &plan.policy, left, right, ctx, trigger, given, store) {
                Prepared::Done(applied) => outcomes[index] = Some(*applied),
                Prepared::Pending(p) => {
                    held += p.step.held_bytes();
                    batch.push(*p);
                }
            }
            let waited = self.clock.now().millis() - batch_started.millis();
            let full = batch.len() >= batch_items || held >= batch_bytes;
            // A move's old key waits for its new one, which follows it: one batch, one rename.
            let pair_open = action.moved.as_ref().is_some_and(|m| m.from == action.key);
            if !pair_open && (full || (!batch.is_empty() && waited >= self.config.batch_ms)) {
                let next = self.record(std::mem::take(&mut batch), ctx, trigger, store);
                if let Some(ready) = recorded.replace(next) {
                    let now = self.write_batch(ready, left, right, ctx, trigger, store, &mut outcomes);
                    commits.extend(std::mem::replace(&mut written, now).map(|w| w.commit(store)));
                }
            }
        }
        // The last batch is recorded before the one before it is written, as above.
        let last = (!batch.is_empty()).then(|| self.record(batch, ctx, trigger, store));
        for ready in [recorded, last].into_iter().flatten() {
            let now = self.write_batch(ready, left, right, ctx, trigger, store, &mut outcomes);
            commits.extend(std::mem::replace(&mut written, now).map(|w| w.commit(store)));
        }
        commits.extend(written.map(|w| w.commit(store)));
        for c in commits {
            c.settle(&mut outcomes);
        }
        outcomes
    }

    /// Reads what one action needs and decides its writes, writing nothing yet: a skip,
    /// a conflict or a failure is final here; writes join the batch.
    #[allow(clippy::too_many_arguments)]
    fn prepare(
        &self,
        index: usize,
        a: &Action,
        policy: &Policy,
        left: &mut dyn Replica,
        right: &mut dyn Replica,
        ctx: &WriteContext,
        trigger: Trigger,
        given: Option<&Content>,
        store: &StoreThread,
    ) -> Prepared {
        let mut result = ItemResult {
            key: a.key.clone(),
            class: a.class,
            action: a.kind,
            outcome: Outcome::Applied,
            left: a.left,
            right: a.right,
            error: None,
            note: Some(a.reason.clone()),
            moved: a.moved.clone(),
        };
        let outcome = match a.kind {
            ActionKind::Skip => {
                result.outcome = Outcome::Skipped;
                return Prepared::Done(Box::new(Applied { result, conflict: None, undoable: false }));
            }
            ActionKind::Conflict => {
                let conflict = self.conflict_report(a, left, right, None, a.reason.clone());
                result.outcome = Outcome::Conflict;
                return Prepared::Done(Box::new(Applied { result, conflict: Some(conflict), undoable: false }));
            }
            ActionKind::UpdateBase => self.update_base(a, left),
            ActionKind::CopyToRight | ActionKind::CopyToLeft | ActionKind::DeleteRight | ActionKind::DeleteLeft => {
                let winner = a.kind.target().expect("copies and deletes have a target").other();
                self.copy(a, winner, left, right, &a.reason)
            }
            ActionKind::Merge => match given {
                Some(content) => self.write_both(a, content, left, right),
                None => {
                    let fallback = match policy.strategy {
                        Strategy::Merge { fallback } => fallback,
                        _ => None,
                    };
                    self.merge(a, fallback, left, right, store)
                }
            },
        };
        match outcome {
            Ok(step) => {
                result.left = step.left;
                result.right = step.right;
                result.note = Some(step.note.clone());
                if step.conflict.is_some() {
                    result.outcome = Outcome::Conflict;
                }
                if !step.commits {
                    return Prepared::Done(Box::new(Applied {
                        result,
                        conflict: step.conflict,
                        undoable: step.undoable,
                    }));
                }
                Prepared::Pending(Box::new(Pending { index, action: a.clone(), result, step }))
            }
            Err(failure) => Prepared::Done(Box::new(self.failed(a, result, failure, left, right, ctx, trigger, store))),
        }
    }

    /// The outcome of an item that did not apply; an error is recorded in history.
    #[allow(clippy::too_many_arguments)]
    fn failed(
        &self,
        a: &Action,
        mut result: ItemResult,
        failure: ItemFailure,
        left: &dyn Replica,
        right: &dyn Replica,
        ctx: &WriteContext,
        trigger: Trigger,
        store: &StoreThread,
    ) -> Applied {
        match failure {
            ItemFailure::Conflict(reason) => {
                // A side changed while this sync ran. That is a conflict only when both
                // sides now differ from the base: an editor still saving the source, or
                // an edit equal on both, is no one's conflict, and the next sync sees it
                // whole. Either way nothing was overwritten.
                let now = match (left.digest(&a.key), right.digest(&a.key)) {
                    (Ok(l), Ok(r)) => Some((DriftClass::classify(a.base.as_ref(), l.as_ref(), r.as_ref()), l, r)),
                    _ => None,
                };
                match now {
                    Some((class, l, r)) if !class.is_conflict() => {
                        result.outcome = Outcome::Skipped;
                        (result.left, result.right) = (l, r);
                        result.note = Some(format!("{reason}; the next sync takes it"));
                        Applied { result, conflict: None, undoable: false }
                    }
                    now => {
                        let seen = now.map_or_else(
                            || a.clone(),
                            |(class, left, right)| Action { class, left, right, ..a.clone() },
                        );
                        let conflict = self.conflict_report(&seen, left, right, None, reason.clone());
                        result.outcome = Outcome::Conflict;
                        result.note = Some(reason);
                        Applied { result, conflict: Some(conflict), undoable: false }
                    }
                }
            }
            ItemFailure::Error(e) => {
                // If even the history row cannot be written, the report still carries the error.
                let commit = self.failure_commit(a, trigger, &e, ctx);
                let _ = store.call(move |s| s.commit_item(&commit));
                result.outcome = Outcome::Failed;
                result.error = Some(e);
                Applied { result, conflict: None, undoable: false }
            }
        }
    }

    /// Sends a batch's intents, with the contents it keeps, to the store: written
    /// items first need them on record. A batch of base-only commits records none.
    fn record(&self, mut batch: Vec<Pending>, ctx: &WriteContext, trigger: Trigger, store: &StoreThread) -> Recorded {
        let now = self.clock.now();
        let mut intents = Vec::new();
        let mut blobs = Vec::new();
        for p in batch.iter_mut().filter(|p| !p.step.writes.is_empty()) {
            let a = &p.action;
            for w in &p.step.writes {
                intents.push(Intent {
                    operation_id: ctx.operation_id.clone(),
                    scope: self.config.scope.clone(),
                    key: a.key.clone(),
                    side: w.side,
                    pre: w.recorded_pre(),
                    post: w.post,
                    base_before: a.base,
                    base_after: p.step.base_after,
                    direction: direction_of(a.kind).into(),
                    trigger,
                    created_at: now,
                });
            }
            // The contents go to the store with the intents; the item needs them no more.
            blobs.append(&mut p.step.blobs);
        }
        let intents = (!intents.is_empty()).then(|| store.call(move |s| s.record_intents(&intents, &blobs)));
        Recorded { batch, intents }
    }

    /// Writes a recorded batch: each item compare-and-swap on its side, one flush per
    /// side written, then one commit of every item that applied (group commit), sent to
    /// the store and settled at the end. An item that fails, fails alone; a crash
    /// anywhere leaves intents the next writer heals by.
    #[allow(clippy::too_many_arguments)]
    fn write_batch(
        &self,
        Recorded { batch, intents }: Recorded,
        left: &mut dyn Replica,
        right: &mut dyn Replica,
        ctx: &WriteContext,
        trigger: Trigger,
        store: &StoreThread,
        outcomes: &mut [Option<Applied>],
    ) -> Option<Written> {
        if let Some(Err(e)) = intents.map(Ticket::wait) {
            for mut p in batch {
                p.result.outcome = Outcome::Failed;
                p.result.error =
                    Some(format!("{}: nothing written, the intent could not be recorded: {e}", p.action.key));
                outcomes[p.index] = Some(Applied { result: p.result, conflict: None, undoable: false });
            }
            return None;
        }
        // Write each item; what applied waits for the flush and the commit. The two
        // halves of a move (the plan puts them side by side) are one rename when the
        // side can; else, or when it refuses, they are written as a delete and a copy.
        let mut written: Vec<(Pending, Vec<Option<Digest>>)> = Vec::with_capacity(batch.len());
        let mut commits = Vec::new();
        let mut touched = [false; 2];
        let mut singles = Vec::with_capacity(batch.len());
        let mut items = batch.into_iter().peekable();
        while let Some(p) = items.next() {
            let Some((to_side, digest)) = items.peek().and_then(|q| move_pair(&p, q)) else {
                singles.push(p);
                continue;
            };
            let q = items.next().expect("peeked");
            match side(left, right, to_side).rename(&p.action.key, &q.action.key, &digest, ctx) {
                Ok(post) => {
                    touched[idx(to_side)] = true;
                    written.push((p, vec![None]));
                    written.push((q, vec![Some(post)]));
                }
                Err(_) => singles.extend([p, q]),
            }
        }
        // Under one set of rules each write's `post` is its side's digest of the content
        // (merges digest under the left's), so the side need not hash it again.
        let same_rules = left.rules() == right.rules();
        for p in singles {
            let mut posts = Vec::with_capacity(p.step.writes.len());
            let mut failure = None;
            for w in &p.step.writes {
                touched[idx(w.side)] = true;
                let key = &p.action.key;
                let done = match (&w.payload, w.pre) {
                    (Payload::Put(c), pre) => {
                        let to = side(left, right, w.side);
                        match w.post.filter(|_| same_rules) {
                            Some(post) => to.write_digested(key, c, &post, pre.as_ref(), ctx),
                            None => to.write(key, c, pre.as_ref(), ctx),
                        }
                        .map(Some)
                    }
                    (Payload::Stream, pre) => {
                        let post = w.post.expect("a streamed write has the source's digest");
                        stream_copy(left, right, w.side, key, &post, pre.as_ref(), ctx).map(Some)
                    }
                    (Payload::Delete, Some(pre)) => side(left, right, w.side).delete(key, &pre, ctx).map(|()| None),
                    (Payload::Delete, None) => Ok(None),
                };
                match done {
                    Ok(post) => posts.push(post),
                    Err(e) => {
                        failure = Some(ItemFailure::from(e));
                        break;
                    }
                }
            }
            match failure {
                None => written.push((p, posts)),
                Some(ItemFailure::Conflict(reason)) => {
                    // Nothing (or not all) was written: the intents go, the conflict stays.
                    let (scope, op, key) = (self.config.scope.clone(), ctx.operation_id.clone(), p.action.key.clone());
                    let _ = store.call(move |s| s.drop_intents(&scope, &op, &key));
                    let applied = self.failed(
                        &p.action,
                        p.result,
                        ItemFailure::Conflict(reason),
                        left,
                        right,
                        ctx,
                        trigger,
                        store,
                    );
                    outcomes[p.index] = Some(applied);
                }
                Some(ItemFailure::Error(e)) => {
                    commits.push(self.failure_commit(&p.action, trigger, &e, ctx));
                    let mut result = p.result;
                    result.outcome = Outcome::Failed;
                    result.error = Some(e);
                    outcomes[p.index] = Some(Applied { result, conflict: None, undoable: false });
                }
            }
        }
        // One flush per side written; a side that cannot flush fails its items, whose
        // intents stay open for the next writer to settle from what the side holds. A
        // side may hand its flush over: it then runs while this thread writes the next
        // batch, and the commit waits for it (a folder's flush waits on the disk, 60-110
        // ms a batch of 2,048 files here).
        let mut unflushed: [Option<String>; 2] = [None, None];
        let mut later: Vec<Flush> = Vec::new();
        for s in [Side::Left, Side::Right] {
            if touched[idx(s)] {
                match side(left, right, s).flush_later() {
                    Ok(Some(f)) => later.push(f),
                    Ok(None) => {}
                    Err(e) => unflushed[idx(s)] = Some(e.to_string()),
                }
            }
        }
        let mut applied = Vec::with_capacity(written.len());
        for (mut p, posts) in written {
            if let Some(e) = p.step.writes.iter().find_map(|w| unflushed[idx(w.side)].as_ref()) {
                let mut result = p.result;
                result.outcome = Outcome::Failed;
                result.error = Some(format!("{}: written but not flushed: {e}", p.action.key));
                outcomes[p.index] = Some(Applied { result, conflict: None, undoable: false });
                continue;
            }
            commits.push(self.item_commit(&mut p, &posts, ctx, trigger));
            // The contents go here: what waits for the commit is the outcome alone.
            let wrote = !p.step.writes.is_empty();
            let undoable = p.step.undoable;
            applied.push((p.index, wrote, Applied { result: p.result, conflict: p.step.conflict, undoable }));
        }
        if commits.is_empty() {
            return None;
        }
        // The flush starts now on a thread of its own, so its wait on the disk overlaps
        // the writing of the next batch; the commit waits for it.
        let flushing = (!later.is_empty()).then(|| Flushing::start(later));
        Some(Written { applied, commits, flushing })
    }

    /// What an applied item commits: its new base, undo entries (one per side written),
    /// history row and `doc:updated` events. Its contents went in with the intents.
    fn item_commit(
        &self,
        p: &mut Pending,
        posts: &[Option<Digest>],
        ctx: &WriteContext,
        trigger: Trigger,
    ) -> ItemCommit {
        let a = &p.action;
        let (mut l, mut r) = (a.left, a.right);
        let mut undo = Vec::with_capacity(posts.len());
        let mut events = Vec::with_capacity(posts.len());
        let mut base_after = p.step.base_after;
        for (w, post) in p.step.writes.iter().zip(posts) {
            match w.side {
                Side::Left => l = *post,
                Side::Right => r = *post,
            }
            base_after = *post;
            undo.push(self.undo_entry(&ctx.operation_id, a, w.side, w.recorded_pre(), *post));
            events.push(self.doc_updated(&ctx.operation_id, &a.key, w.side, post.as_ref()));
        }
        ItemCommit {
            scope: self.config.scope.clone(),
            key: a.key.clone(),
            base_after,
            // A written item's contents went in with its intents (`record` took them); a
            // base-only one has no intent and keeps its own here.
            blobs: std::mem::take(&mut p.step.blobs),
            undo,
            history: self.history_row(&ctx.operation_id, a, trigger, true, None, l, r),
            events,
        }
    }

    /// A failed item leaves the base as it was; only history records the attempt.
    fn failure_commit(&self, a: &Action, trigger: Trigger, error: &str, ctx: &WriteContext) -> ItemCommit {
        ItemCommit {
            scope: self.config.scope.clone(),
            key: a.key.clone(),
            base_after: a.base,
            blobs: vec![],
            undo: vec![],
            history: self.history_row(&ctx.operation_id, a, trigger, false, Some(error.to_string()), a.left, a.right),
            events: vec![],
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn history_row(
        &self,
        op: &str,
        a: &Action,
        trigger: Trigger,
        success: bool,
        error: Option<String>,
        left: Option<Digest>,
        right: Option<Digest>,
    ) -> HistoryEntry {
        HistoryEntry {
            operation_id: op.to_string(),
            scope: self.config.scope.clone(),
            key: a.key.clone(),
            direction: direction_of(a.kind).into(),
            trigger,
            success,
            error,
            left,
            right,
            at: self.clock.now(),
        }
    }

    /// Reads `key` from `replica` and checks it still has the digest the plan saw.
    fn read_expected(
        replica: &dyn Replica,
        key: &Key,
        expected: Option<Digest>,
    ) -> Result<Option<Content>, ItemFailure> {
        replica.read_expected(key, expected.as_ref()).map_err(|e| match e {
            ReplicaError::Conflict { .. } => ItemFailure::Conflict(format!(
                "{key} changed on {} since it was scanned; nothing was overwritten",
                replica.name()
            )),
            other => ItemFailure::from(other),
        })
    }

    /// Records the base of an item both sides already agree on: nothing to write, a
    /// commit with the batch.
    fn update_base(&self, a: &Action, left: &mut dyn Replica) -> Result<Step, ItemFailure> {
        // Only a base a merge may read is kept, so a large item is not even read.
        let content = match is_large(left, &a.key)? {
            true => None,
            false => Self::read_expected(left, &a.key, a.left)?,
        };
        let blobs = match (a.left, content) {
            (Some(d), Some(c)) if self.keeps_base(&c) => vec![(d, c)],
            _ => vec![],
        };
        Ok(Step { blobs, base_after: a.left, commits: true, ..Step::done(a.left, a.right, a.reason.clone()) })
    }

    /// Makes the other side equal to `winner` (write or delete), recording undo.
    fn copy(
        &self,
        a: &Action,
        winner: Side,
        left: &mut dyn Replica,
        right: &mut dyn Replica,
        note: &str,
    ) -> Result<Step, ItemFailure> {
        let (win_digest, lose_digest) = match winner {
            Side::Left => (a.left, a.right),
            Side::Right => (a.right, a.left),
        };
        let target = winner.other();
        let same_rules = left.rules() == right.rules();
        // A large source is streamed when the batch writes it: nothing is read now, and
        // the write checks the bytes still digest to what the scan saw.
        let streamed = win_digest.is_some() && is_large(side(left, right, winner), &a.key)?;
        let src = match streamed {
            true => None,
            false => Self::read_expected(side(left, right, winner), &a.key, win_digest)?,
        };
        let dst = side(left, right, target);
        // What the target loses is kept for undo: by the target itself when it keeps
        // backups (a folder's are hard links: no copy, and no read now; the write checks
        // it still holds what the scan saw), else by the store.
        // A target that should be absent is not read first: its write is created only
        // where nothing is, so an item that appeared since the scan is still refused.
        // A formatting-only write leaves the canonical digest as it was, so that digest
        // cannot name what it overwrote: the store keeps the old bytes under their own
        // digest, which the intent and the undo entry record, and undo restores them.
        let formatting = a.class == DriftClass::FormattingOnly;
        let pre = match lose_digest {
            None => None,
            Some(_) if dst.keeps_backups() && !formatting => None,
            _ => Self::read_expected(dst, &a.key, lose_digest)?,
        };
        let kept = pre.as_ref().filter(|_| formatting).map(|c| Digest::of_bytes(c.as_bytes()));
        let dst_rules = dst.rules();
        // Under the same rules the target will hold the digest just checked; hashing the
        // content again was a third of a first sync's CPU.
        let post = match (&src, streamed) {
            (_, true) => win_digest,
            (Some(_), false) if same_rules => win_digest,
            (Some(c), false) => Some(
                dst_rules.digest(c).map_err(|e| ItemFailure::Error(format!("{}: cannot be written: {e}", a.key)))?,
            ),
            (None, false) => None,
        };
        let mut blobs = Vec::new();
        if let (Some(d), Some(c)) = (post, &src) {
            if self.keeps_base(c) {
                blobs.push((d, c.clone()));
            }
        }
        if let (Some(d), Some(c)) = (kept.or(lose_digest), pre) {
            blobs.push((d, c));
        }
        let (l, r) = match target {
            Side::Left => (post, a.right),
            Side::Right => (a.left, post),
        };
        let payload = match (src, streamed) {
            (_, true) => Payload::Stream,
            (Some(c), false) => Payload::Put(c),
            (None, false) => Payload::Delete,
        };
        let writes = match (&payload, lose_digest) {
            (Payload::Delete, None) => vec![],
            _ => vec![SideWrite { side: target, pre: lose_digest, payload, post, kept }],
        };
        Ok(Step {
            left: l,
            right: r,
            note: note.to_string(),
            conflict: None,
            undoable: !writes.is_empty(),
            writes,
            blobs,
            base_after: post,
            commits: true,
        })
    }

    /// Whether the store keeps `content` as a base a later merge may read.
    fn keeps_base(&self, content: &Content) -> bool {
        content.as_text().is_some() && content.len() as u64 <= self.config.keep_base_below
    }

    fn undo_entry(&self, op: &str, a: &Action, side: Side, pre: Option<Digest>, post: Option<Digest>) -> UndoEntry {
        let now = self.clock.now();
        UndoEntry {
            operation_id: op.to_string(),
            scope: self.config.scope.clone(),
            key: a.key.clone(),
            side,
            pre,
            post,
            base_before: a.base,
            created_at: now,
            expires_at: now.plus_millis(self.config.undo.max_age_ms),
            undone_at: None,
        }
    }

    /// Merges `l` and `r` against `base` (absent for an item added on both sides);
    /// `None` when the kinds cannot be merged. The flag says whether it merged cleanly.
    fn merge_contents(&self, base: Option<Content>, l: &Content, r: &Content) -> Option<(Content, bool)> {
        match (l, r) {
            (Content::Text(lt), Content::Text(rt)) => {
                let bt = match &base {
                    Some(Content::Text(t)) | Some(Content::Json(t)) => t.as_str(),
                    _ => "",
                };
                let m = text3(bt, lt, rt, &self.config.text_merge);
                Some((Content::Text(m.text), m.conflicts == 0))
            }
            (Content::Json(lt), Content::Json(rt)) => {
                let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
                let (lv, rv) = (parse(lt)?, parse(rt)?);
                let bv = match &base {
                    Some(Content::Json(t)) => parse(t)?,
                    _ => serde_json::Value::Object(Default::default()),
                };
                let m = json3(&bv, &lv, &rv, &self.config.json_merge);
                let mut text = serde_json::to_string_pretty(&m.value).ok()?;
                text.push('\n');
                Some((Content::Json(text), m.conflicts.is_empty()))
            }
            _ => None,
        }
    }

    fn merge(
        &self,
        a: &Action,
        fallback: Option<Side>,
        left: &mut dyn Replica,
        right: &mut dyn Replica,
        store: &StoreThread,
    ) -> Result<Step, ItemFailure> {
        let lc = Self::read_expected(left, &a.key, a.left)?
            .ok_or_else(|| ItemFailure::Error(format!("{}: vanished from the left", a.key)))?;
        let rc = Self::read_expected(right, &a.key, a.right)?
            .ok_or_else(|| ItemFailure::Error(format!("{}: vanished from the right", a.key)))?;
        let base = a.base.and_then(|d| store.call(move |s| s.blob(&d)).wait().ok().flatten());
        let merged = self.merge_contents(base, &lc, &rc);
        let (content, clean) = merged.unwrap_or((Content::Bytes(vec![]), false));
        if !clean {
            // Markers only make sense for text; JSON conflicts show both versions instead.
            let markers = match &content {
                Content::Text(t) => Some(t.clone()),
                _ => None,
            };
            return match fallback {
                Some(winner) => self.copy(
                    a,
                    winner,
                    left,
                    right,
                    &format!("merge conflicted: the {winner} wins; the other version is kept for undo"),
                ),
                None => Ok(Step {
                    conflict: Some(self.conflict_report(a, left, right, markers, "merge conflicted".into())),
                    undoable: false,
                    ..Step::done(a.left, a.right, "merge conflicted: left for a person".into())
                }),
            };
        }
        self.write_sides(a, &content, [Some(lc), Some(rc)], left, "merged cleanly")
    }

    /// Writes `content` to both sides (a hand resolution), checking each still holds
    /// what the scan saw.
    fn write_both(
        &self,
        a: &Action,
        content: &Content,
        left: &mut dyn Replica,
        right: &mut dyn Replica,
    ) -> Result<Step, ItemFailure> {
        let lc = Self::read_expected(left, &a.key, a.left)?;
        let rc = Self::read_expected(right, &a.key, a.right)?;
        self.write_sides(a, content, [lc, rc], left, "resolved by hand")
    }

    /// Plans making both sides hold `content` (each side's current content in `pre`,
    /// kept for undo); the commit of the new base, undo entries, history and events
    /// follows the writes.
    fn write_sides(
        &self,
        a: &Action,
        content: &Content,
        pre: [Option<Content>; 2],
        left: &dyn Replica,
        note: &str,
    ) -> Result<Step, ItemFailure> {
        let digest = left
            .rules()
            .digest(content)
            .map_err(|e| ItemFailure::Error(format!("{}: the result is invalid: {e}", a.key)))?;
        let mut writes = Vec::new();
        let mut blobs = Vec::new();
        if self.keeps_base(content) {
            blobs.push((digest, content.clone()));
        }
        let [lc, rc] = pre;
        for (s, pre, pre_content) in [(Side::Left, a.left, lc), (Side::Right, a.right, rc)] {
            if pre == Some(digest) {
                continue;
            }
            writes.push(SideWrite {
                side: s,
                pre,
                payload: Payload::Put(content.clone()),
                post: Some(digest),
                kept: None,
            });
            if let (Some(p), Some(c)) = (pre, pre_content) {
                blobs.push((p, c));
            }
        }
        Ok(Step {
            left: Some(digest),
            right: Some(digest),
            note: note.into(),
            conflict: None,
            undoable: !writes.is_empty(),
            writes,
            blobs,
            base_after: Some(digest),
            commits: true,
        })
    }
    fn conflict_report(
        &self,
        a: &Action,
        left: &dyn Replica,
        right: &dyn Replica,
        merged: Option<String>,
        reason: String,
    ) -> ConflictReport {
        ConflictReport {
            key: a.key.clone(),
            class: a.class,
            base: a.base,
            left_digest: a.left,
            right_digest: a.right,
            left: read_held(left, &a.key),
            right: read_held(right, &a.key),
            merged,
            reason,
        }
    }

    fn doc_updated(&self, op: &str, key: &Key, side: Side, digest: Option<&Digest>) -> Event {
        Event::doc_updated(self.clock.now(), &self.config.scope, op, key.as_str(), side, digest)
    }
}

/// The result of one prepared step: its digests afterwards, and the writes it needs.
struct Step {
    left: Option<Digest>,
    right: Option<Digest>,
    note: String,
    conflict: Option<ConflictReport>,
    undoable: bool,
    /// Writes to make on the sides, in order; empty for a step that writes nothing.
    writes: Vec<SideWrite>,
    /// Contents to keep (the pre content of each write for undo, the new base for
    /// merges), stored with the intents (with the commit for an item that writes nothing).
    blobs: Vec<(Digest, Content)>,
    /// The base once every write is made.
    base_after: Option<Digest>,
    /// The step commits a new base, history and undo after its writes (if any).
    commits: bool,
}

impl Step {
    /// The bytes of content this step holds until its batch is applied.
    fn held_bytes(&self) -> u64 {
        let writes = self.writes.iter().map(|w| match &w.payload {
            Payload::Put(c) => c.len() as u64,
            Payload::Stream | Payload::Delete => 0,
        });
        writes.chain(self.blobs.iter().map(|(_, c)| c.len() as u64)).sum()
    }

    /// A step with nothing left to write or commit.
    fn done(left: Option<Digest>, right: Option<Digest>, note: String) -> Step {
        Step {
            left,
            right,
            note,
            conflict: None,
            undoable: false,
            writes: vec![],
            blobs: vec![],
            base_after: None,
            commits: false,
        }
    }
}

/// One write (or delete) an item makes on one side.
struct SideWrite {
    side: Side,
    /// What the side holds now (compare-and-swap).
    pre: Option<Digest>,
    /// What to write.
    payload: Payload,
    /// The digest the side will hold.
    post: Option<Digest>,
    /// The digest the store keeps the overwritten content under, when not `pre`: the
    /// digest of its bytes, for a formatting-only write.
    kept: Option<Digest>,
}

impl SideWrite {
    /// The pre-state intents and undo entries record: what undo restores.
    fn recorded_pre(&self) -> Option<Digest> {
        self.kept.or(self.pre)
    }
}

/// An item to undo, alone or as one half of a move.
enum UndoItem {
    Single((Key, Vec<UndoEntry>)),
    Move { restore: (Key, Vec<UndoEntry>), created: (Key, Vec<UndoEntry>) },
}

/// Pairs, among items to undo, one the operation deleted on a side with one it created
/// there with the same digest, each written on that side only.
fn undo_moves(ready: Vec<(Key, Vec<UndoEntry>)>) -> Vec<UndoItem> {
    let single = |sides: &[UndoEntry]| match sides {
        [e] => Some((e.side, e.pre, e.post)),
        _ => None,
    };
    let mut deleted: BTreeMap<(Side, Digest), Vec<usize>> = BTreeMap::new();
    for (i, (_, sides)) in ready.iter().enumerate() {
        if let Some((s, Some(pre), None)) = single(sides) {
            deleted.entry((s, pre)).or_default().push(i);
        }
    }
    let mut partner: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, (_, sides)) in ready.iter().enumerate() {
        if let Some((s, None, Some(post))) = single(sides) {
            if let Some(j) = deleted.get_mut(&(s, post)).and_then(|v| (!v.is_empty()).then(|| v.remove(0))) {
                partner.insert(j, i);
            }
        }
    }
    crate::moves::with_partners(ready, &partner)
        .into_iter()
        .map(|(item, created)| match created {
            Some(created) => UndoItem::Move { restore: item, created },
            None => UndoItem::Single(item),
        })
        .collect()
}

/// When `p` and `q` are the delete and the copy of one move, each a single write on the
/// same side: that side and the digest moved.
fn move_pair(p: &Pending, q: &Pending) -> Option<(Side, Digest)> {
    let m = p.action.moved.as_ref()?;
    if m.from != p.action.key || m.to != q.action.key || q.action.moved.as_ref() != Some(m) {
        return None;
    }
    let ([gone], [new]) = (p.step.writes.as_slice(), q.step.writes.as_slice()) else { return None };
    let same = gone.side == new.side && gone.pre == Some(m.digest) && new.pre.is_none() && new.post == Some(m.digest);
    (same && matches!(gone.payload, Payload::Delete)).then_some((gone.side, m.digest))
}

/// What a write puts on its side.
enum Payload {
    /// This content.
    Put(Content),
    /// The other side's item, a large one, copied as a stream.
    Stream,
    /// Nothing: the item is deleted.
    Delete,
}

/// True when `replica` holds `key` as a large item, one that is streamed, never read whole.
fn is_large(replica: &dyn Replica, key: &Key) -> std::result::Result<bool, ReplicaError> {
    Ok(replica.open(key)?.is_some())
}

/// The item's content when it is small enough to hold, for a conflict report; `None`
/// when absent, large or unreadable (the report then shows digests only).
fn read_held(replica: &dyn Replica, key: &Key) -> Option<Content> {
    match is_large(replica, key) {
        Ok(false) => replica.read(key).ok().flatten(),
        _ => None,
    }
}

/// Copies the large item `key` from the side opposite `to` onto `to` as a stream; it
/// must still digest to `post` (what the scan saw), and `to` must still hold `pre`.
fn stream_copy(
    left: &mut dyn Replica,
    right: &mut dyn Replica,
    to: Side,
    key: &Key,
    post: &Digest,
    pre: Option<&Digest>,
    ctx: &WriteContext,
) -> std::result::Result<Digest, ReplicaError> {
    let (src, dst): (&dyn Replica, &mut dyn Replica) = match to {
        Side::Right => (left, right),
        Side::Left => (right, left),
    };
    let mut item = src.open(key)?.ok_or_else(|| ReplicaError::Conflict {
        key: key.clone(),
        expected: post.to_string(),
        found: format!("no longer a large item on {}", src.name()),
    })?;
    dst.write_from(key, &mut item.reader, post, pre, ctx)
}

/// A batch whose intents were sent to the store: its items wait for them to be on
/// record before they are written.
struct Recorded {
    batch: Vec<Pending>,
    intents: Option<Ticket<std::result::Result<(), StoreError>>>,
}

/// A written batch, its flush under way, its commit not sent yet.
struct Written {
    /// Each item's place in the plan, whether it wrote anything, and its outcome.
    applied: Vec<(usize, bool, Applied)>,
    commits: Vec<ItemCommit>,
    flushing: Option<Flushing>,
}

impl Written {
    /// Sends the commit, which the store makes once the flush is done: nothing is on
    /// record before it is durable.
    fn commit(self, store: &StoreThread) -> Committing {
        let Written { applied, commits, flushing } = self;
        let ticket = store.call(move |s| {
            if let Some(f) = flushing {
                f.wait().map_err(Unsettled::NotFlushed)?;
            }
            s.commit_items(&commits).map_err(Unsettled::NotRecorded)
        });
        Committing { applied, ticket }
    }
}

/// A written batch whose commit was sent to the store: its items applied once it is in.
struct Committing {
    /// Each item's place in the plan, whether it wrote anything, and its outcome.
    applied: Vec<(usize, bool, Applied)>,
    ticket: Ticket<std::result::Result<(), Unsettled>>,
}

/// A batch's handed-over flushes, running on a thread of their own.
enum Flushing {
    Running(std::thread::JoinHandle<std::result::Result<(), String>>),
    /// No thread could be started: nothing was flushed, so the batch fails and its
    /// intents stay open for the next writer.
    NotStarted(String),
}

impl Flushing {
    fn start(later: Vec<Flush>) -> Flushing {
        let run = move || later.into_iter().try_for_each(|f| f()).map_err(|e| e.to_string());
        match std::thread::Builder::new().name("twinsync-flush".into()).spawn(run) {
            Ok(h) => Flushing::Running(h),
            Err(e) => Flushing::NotStarted(format!("no thread to flush on: {e}")),
        }
    }

    fn wait(self) -> std::result::Result<(), String> {
        match self {
            Flushing::Running(h) => h.join().unwrap_or_else(|_| Err("the flush panicked".into())),
            Flushing::NotStarted(e) => Err(e),
        }
    }
}

/// Why a batch's commit did not happen. Either way nothing of it is recorded, and the
/// intents of what it wrote stay open for the next writer to settle.
enum Unsettled {
    /// A side's handed-over flush failed, so the commit was not made.
    NotFlushed(String),
    NotRecorded(StoreError),
}

impl Committing {
    fn settle(self, outcomes: &mut [Option<Applied>]) {
        let failed = self.ticket.wait().err();
        for (index, wrote, mut applied) in self.applied {
            if let Some(e) = &failed {
                let key = &applied.result.key;
                applied.result.outcome = Outcome::Failed;
                applied.result.error = Some(match (e, wrote) {
                    (Unsettled::NotFlushed(e), true) => format!("{key}: written but not flushed: {e}"),
                    (Unsettled::NotFlushed(e), false) => format!("{key}: not recorded, a side could not flush: {e}"),
                    (Unsettled::NotRecorded(e), true) => {
                        format!("{key}: written but not recorded (the next sync recovers it): {e}")
                    }
                    (Unsettled::NotRecorded(e), false) => format!("{key}: not recorded: {e}"),
                });
                applied.conflict = None;
                applied.undoable = false;
            }
            outcomes[index] = Some(applied);
        }
    }
}

/// An item prepared for the current batch.
struct Pending {
    /// Its place in the plan (and the report).
    index: usize,
    action: Action,
    result: ItemResult,
    step: Step,
}

/// What preparing one item came to.
enum Prepared {
    /// Nothing to write: the outcome is final.
    Done(Box<Applied>),
    /// Writes (or a commit) to make with the batch.
    Pending(Box<Pending>),
}

/// The history direction of an action.
fn direction_of(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::CopyToRight | ActionKind::DeleteRight => "left_to_right",
        ActionKind::CopyToLeft | ActionKind::DeleteLeft => "right_to_left",
        ActionKind::Merge => "both",
        _ => "base",
    }
}

/// Index of a side in per-side arrays.
fn idx(s: Side) -> usize {
    match s {
        Side::Left => 0,
        Side::Right => 1,
    }
}

/// Open intents grouped by item (operation and key), in the order first recorded.
fn intents_by_item(intents: Vec<Intent>) -> Vec<Vec<Intent>> {
    let mut groups: Vec<Vec<Intent>> = Vec::new();
    let mut at: BTreeMap<(String, Key), usize> = BTreeMap::new();
    for i in intents {
        match at.get(&(i.operation_id.clone(), i.key.clone())) {
            Some(&g) => groups[g].push(i),
            None => {
                at.insert((i.operation_id.clone(), i.key.clone()), groups.len());
                groups.push(vec![i]);
            }
        }
    }
    groups
}

/// What recovery makes of one item's open intents, from the digests its sides hold:
/// the intents whose side holds the intended post-digest (written), and the base the
/// item has: the intended one when every side was written, else the one before.
fn settle(group: &[Intent], now: [Option<Digest>; 2]) -> (Vec<&Intent>, Option<Digest>) {
    let written: Vec<&Intent> = group.iter().filter(|i| now[idx(i.side)] == i.post).collect();
    let base = if written.len() == group.len() { group[0].base_after } else { group[0].base_before };
    (written, base)
}

/// Why one item did not apply.
enum ItemFailure {
    /// Someone changed it: nothing was overwritten.
    Conflict(String),
    /// Any other failure.
    Error(String),
}

impl From<ReplicaError> for ItemFailure {
    fn from(e: ReplicaError) -> Self {
        match e {
            ReplicaError::Conflict { .. } => ItemFailure::Conflict(e.to_string()),
            other => ItemFailure::Error(other.to_string()),
        }
    }
}
