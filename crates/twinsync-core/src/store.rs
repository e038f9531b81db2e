//! The `Store` trait: everything the engine remembers between runs — base snapshots and
//! base content, operations, undo entries, history, locks, the event outbox, audit records
//! and small cached values, and the intents of writes in flight — and what the project
//! keeps beside it: webhook deliveries, credentials (sealed by the host), API keys (their
//! hashes only), browser test sessions and coverage history. One transaction per
//! batch of applied items (group commit), each batch's intents recorded first.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api_key::ApiKeyRecord;
use crate::audit::AuditRecord;
use crate::clock::Timestamp;
use crate::content::Content;
use crate::coverage_history::CoverageRecord;
use crate::credential::CredentialRecord;
use crate::delivery::{Delivery, DeliveryStatus};
use crate::digest::Digest;
use crate::event::Event;
use crate::key::Key;
use crate::lock::{Lock, LockError};
use crate::policy::Side;
use crate::report::{OperationReport, Trigger};
use crate::test_session::TestSession;

/// A store failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The backend failed (I/O, a busy database, a constraint).
    #[error("store: {0}")]
    Backend(String),
    /// The stored data is damaged or of an unknown version.
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// A record that was asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
}

/// One side's write recorded for undo: enough to put the pre-state back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoEntry {
    /// The operation that wrote.
    pub operation_id: String,
    /// The pair of replicas.
    pub scope: String,
    /// The item.
    pub key: Key,
    /// The side written.
    pub side: Side,
    /// Digest before the write (`None`: absent); its content is kept as a blob.
    pub pre: Option<Digest>,
    /// Digest after the write (`None`: deleted); its content is kept as a blob.
    pub post: Option<Digest>,
    /// The base digest before the operation, restored by undo.
    pub base_before: Option<Digest>,
    /// When written.
    pub created_at: Timestamp,
    /// After this, the entry cannot be undone.
    pub expires_at: Timestamp,
    /// When undone, if it was.
    pub undone_at: Option<Timestamp>,
}

/// One row of sync history: an item moved (or failed to) in an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The operation.
    pub operation_id: String,
    /// The pair of replicas.
    pub scope: String,
    /// The item.
    pub key: Key,
    /// `left_to_right`, `right_to_left`, `both`, `base` or `undo`.
    pub direction: String,
    /// What set the operation off.
    pub trigger: Trigger,
    /// Whether the item applied.
    pub success: bool,
    /// The error, when it did not.
    pub error: Option<String>,
    /// Digests on the left and right afterwards.
    pub left: Option<Digest>,
    /// See `left`.
    pub right: Option<Digest>,
    /// When.
    pub at: Timestamp,
}

/// Everything one applied item changes in the store, committed in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemCommit {
    /// The pair of replicas.
    pub scope: String,
    /// The item.
    pub key: Key,
    /// The new base digest (`None`: remove the item from the base).
    pub base_after: Option<Digest>,
    /// Contents to keep, by digest (the new base, the pre and post of undo entries).
    pub blobs: Vec<(Digest, Content)>,
    /// Undo entries, one per side written.
    pub undo: Vec<UndoEntry>,
    /// The history row.
    pub history: HistoryEntry,
    /// Events reporting the change (`doc:updated`), written in the same transaction.
    pub events: Vec<Event>,
}

/// A write (or delete) the engine is about to make on one side, recorded before it makes
/// it. The item's commit clears it; one left open means the writer stopped in between,
/// and the next writer of the pair finishes or drops it from what the side holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// The operation that writes.
    pub operation_id: String,
    /// The pair of replicas.
    pub scope: String,
    /// The item.
    pub key: Key,
    /// The side about to be written.
    pub side: Side,
    /// What the side holds before the write (`None`: absent); its content is stored as a
    /// blob with the intent, so undo works after a recovery.
    pub pre: Option<Digest>,
    /// What the side will hold after it (`None`: deleted).
    pub post: Option<Digest>,
    /// The base before the operation.
    pub base_before: Option<Digest>,
    /// The base the item's commit will set once every side of the item is written.
    pub base_after: Option<Digest>,
    /// The history direction of the item (`left_to_right`, `right_to_left`, `both`).
    pub direction: String,
    /// What set the operation off.
    pub trigger: Trigger,
    /// When recorded.
    pub created_at: Timestamp,
}

/// An undo applied to one item: the written side restored and the base put back.
#[derive(Debug, Clone, PartialEq)]
pub struct UndoCommit {
    /// The pair of replicas.
    pub scope: String,
    /// The item.
    pub key: Key,
    /// The operation being undone.
    pub operation_id: String,
    /// The base digest to restore (`None`: remove from the base).
    pub base: Option<Digest>,
    /// The history row.
    pub history: HistoryEntry,
    /// When.
    pub at: Timestamp,
    /// Events reporting the restore, written in the same transaction.
    pub events: Vec<Event>,
}

/// What a lock transition writes: the new lock (`None`: cleared) and the events that
/// report it, in one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LockChange {
    /// The lock after the transition.
    pub lock: Option<Lock>,
    /// Events reporting it (`lock:acquired`, `lock:released`, `lock:expired`).
    pub events: Vec<Event>,
}

impl LockChange {
    /// A transition to `lock` that reports nothing.
    pub fn quiet(lock: Option<Lock>) -> Self {
        LockChange { lock, events: Vec::new() }
    }
}

/// How long and how many operations stay undoable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoLimits {
    /// Most operations kept undoable (default 50).
    pub max_operations: usize,
    /// Longest age of an undoable operation in milliseconds (default 24 hours).
    pub max_age_ms: i64,
}

impl Default for UndoLimits {
    fn default() -> Self {
        UndoLimits { max_operations: 50, max_age_ms: 24 * 3600 * 1000 }
    }
}

/// What a prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneStats {
    /// Operations whose undo entries were dropped.
    pub operations: usize,
    /// Undo entries dropped.
    pub undo_entries: usize,
    /// Blobs no longer referenced and dropped.
    pub blobs: usize,
}

/// Everything the engine remembers. Implementations: [`crate::MemoryStore`], and the
/// SQLite store in `twinsync-sqlite`; both pass the same conformance suite.
pub trait Store: Send {
    /// The base of `scope`: the digest each item had when last in sync.
    fn load_base(&self, scope: &str) -> Result<BTreeMap<Key, Digest>, StoreError>;

    /// Content by digest (base content for merges, pre/post content for undo).
    fn blob(&self, digest: &Digest) -> Result<Option<Content>, StoreError>;

    /// A recorded operation by its id.
    fn operation(&self, operation_id: &str) -> Result<Option<OperationReport>, StoreError>;

    /// Recorded operations of `scope` (all scopes for `None`), newest first.
    fn operations(&self, scope: Option<&str>, limit: usize) -> Result<Vec<OperationReport>, StoreError>;

    /// Records (or replaces) an operation's report: at start with status `running`, and
    /// again when it finishes; `events` (`sync_started`, `sync_completed`, conflicts)
    /// are appended to the outbox in the same transaction.
    fn put_operation(&mut self, report: &OperationReport, events: &[Event]) -> Result<(), StoreError>;

    /// Applies one item's changes atomically: base, blobs, undo entries, history, events;
    /// and clears the open intents of the item in its operation (scope, `history.operation_id`,
    /// key) in the same transaction.
    fn commit_item(&mut self, commit: &ItemCommit) -> Result<(), StoreError>;

    /// Applies a batch of items as [`Store::commit_item`] does each, all in one
    /// transaction (group commit): either every item is stored, or none is.
    fn commit_items(&mut self, commits: &[ItemCommit]) -> Result<(), StoreError>;

    /// Records intents, with the contents their undo needs (`blobs`, content-addressed as
    /// in [`ItemCommit::blobs`]), in one transaction, before the writes they announce.
    fn record_intents(&mut self, intents: &[Intent], blobs: &[(Digest, Content)]) -> Result<(), StoreError>;

    /// The open intents of `scope`, oldest first.
    fn open_intents(&self, scope: &str) -> Result<Vec<Intent>, StoreError>;

    /// Drops the open intents of `key` in operation `operation_id` of `scope` without
    /// committing anything (the write they announced never happened).
    fn drop_intents(&mut self, scope: &str, operation_id: &str, key: &Key) -> Result<(), StoreError>;

    /// Undo entries of an operation.
    fn undo_entries(&self, operation_id: &str) -> Result<Vec<UndoEntry>, StoreError>;

    /// Applies one item's undo atomically: base restored, its undo entries marked undone,
    /// history recorded.
    fn commit_undo(&mut self, commit: &UndoCommit) -> Result<(), StoreError>;

    /// Drops undo entries of operations beyond the limits (counted over the whole store,
    /// every scope together: one undo stack per project), then blobs nothing refers to
    /// (neither a base, an undo entry, nor an open intent's pre or post).
    fn prune(&mut self, now: Timestamp, limits: &UndoLimits) -> Result<PruneStats, StoreError>;

    /// History rows of `scope` (all for `None`), newest first.
    fn history(&self, scope: Option<&str>, limit: usize) -> Result<Vec<HistoryEntry>, StoreError>;

    /// Reads and replaces lock `name` in one transaction: `f` gets the current lock and
    /// returns the new one (`None` to clear) with the events that report it, or a
    /// refusal that leaves everything unchanged. Returns the new lock.
    #[allow(clippy::type_complexity)]
    fn update_lock(
        &mut self,
        name: &str,
        f: &mut dyn FnMut(Option<Lock>) -> Result<LockChange, LockError>,
    ) -> Result<Result<Option<Lock>, LockError>, StoreError>;

    /// Every lock row (expired ones included; callers judge expiry by their clock).
    fn locks(&self) -> Result<Vec<Lock>, StoreError>;

    /// Appends an audit record; returns its id.
    fn append_audit(&mut self, record: &AuditRecord) -> Result<String, StoreError>;

    /// Audit records, newest first.
    fn audit_log(&self, limit: usize) -> Result<Vec<AuditRecord>, StoreError>;

    /// Appends events to the outbox in one transaction, giving each the next id; returns
    /// the last id given (the newest id so far when `events` is empty).
    fn append_events(&mut self, events: &[Event]) -> Result<u64, StoreError>;

    /// Outbox events with an id above `after`, oldest first, at most `limit`. Ids only
    /// grow, so a reader that remembers the last id it saw misses nothing.
    fn events_since(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError>;

    /// Drops outbox events older than `before`; returns how many went. The newest event
    /// is always kept, so ids never go back after a prune.
    fn prune_events(&mut self, before: Timestamp) -> Result<usize, StoreError>;

    /// Creates or replaces the delivery of (`endpoint`, `event_id`).
    fn put_delivery(&mut self, delivery: &Delivery) -> Result<(), StoreError>;

    /// Drops deliveries that are over (sent or failed) and last changed before `before`,
    /// with the outbox's retention; returns how many went. Queued and retrying ones stay.
    fn prune_deliveries(&mut self, before: Timestamp) -> Result<usize, StoreError>;

    /// Deliveries of `endpoint` (every endpoint for `None`) in `status` (any for
    /// `None`), by event id, at most `limit`.
    fn deliveries(
        &self,
        endpoint: Option<&str>,
        status: Option<DeliveryStatus>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Creates or replaces credential `record.name`, appending `events` (`credential_status`)
    /// to the outbox in the same transaction. The record's value is sealed by the caller;
    /// the store keeps those bytes as they are.
    fn put_credential(&mut self, record: &CredentialRecord, events: &[Event]) -> Result<(), StoreError>;

    /// The credential named `name`.
    fn credential(&self, name: &str) -> Result<Option<CredentialRecord>, StoreError>;

    /// Every credential, by name.
    fn credentials(&self) -> Result<Vec<CredentialRecord>, StoreError>;

    /// Creates or replaces browser test session `session.id`, appending `events`
    /// (`browser_test_failure`) to the outbox in the same transaction.
    fn put_test_session(&mut self, session: &TestSession, events: &[Event]) -> Result<(), StoreError>;

    /// The browser test session `id`.
    fn test_session(&self, id: &str) -> Result<Option<TestSession>, StoreError>;

    /// Browser test sessions (of story `story` only, when given), newest start first, at
    /// most `limit`.
    fn test_sessions(&self, story: Option<&str>, limit: usize) -> Result<Vec<TestSession>, StoreError>;

    /// Appends coverage history rows, all in one transaction.
    fn append_coverage(&mut self, records: &[CoverageRecord]) -> Result<(), StoreError>;

    /// Coverage history rows (of `scope` and `component` when given), newest first, at
    /// most `limit`.
    fn coverage_history(
        &self,
        scope: Option<&str>,
        component: Option<&str>,
        limit: usize,
    ) -> Result<Vec<CoverageRecord>, StoreError>;

    /// The newest row of each component of `scope`, by component.
    fn latest_coverage(&self, scope: &str) -> Result<Vec<CoverageRecord>, StoreError>;

    /// Drops coverage rows computed before `before`, except each component's newest (so
    /// its trend and its reusable result survive a quiet month); returns how many went.
    fn prune_coverage(&mut self, before: Timestamp) -> Result<usize, StoreError>;

    /// Stores a new API key; an id or a hash already stored is an error and changes nothing.
    fn put_api_key(&mut self, key: &ApiKeyRecord) -> Result<(), StoreError>;

    /// Every API key, revoked ones included, oldest first (by creation, then id).
    fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// The API key whose hash is `hash` (lowercase hex).
    fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// Marks API key `id` revoked at `at` (a key revoked already keeps its first time);
    /// answers the key as stored afterwards, `None` when there is no such key.
    fn revoke_api_key(&mut self, id: &str, at: Timestamp) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// Records that API key `id` was used at `at`; the last use only moves forward (an
    /// older `at` changes nothing) and only that field changes, so a touch racing a
    /// revocation never undoes it. An unknown id changes nothing.
    fn touch_api_key(&mut self, id: &str, at: Timestamp) -> Result<(), StoreError>;

    /// A small cached value (stat cache, coverage cache) by namespace and key.
    fn kv_get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Stores a small cached value.
    fn kv_put(&mut self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StoreError>;

    /// Deletes a cached value.
    fn kv_delete(&mut self, namespace: &str, key: &str) -> Result<(), StoreError>;
}
