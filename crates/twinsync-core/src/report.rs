//! What an operation reports: its status, counts, per-item outcomes, conflicts with both
//! versions, and failures naming the item.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::content::Content;
use crate::digest::Digest;
use crate::drift::DriftClass;
use crate::key::Key;
use crate::plan::ActionKind;
use crate::policy::{Directions, Policy};

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    /// Started and not finished (a crash leaves this behind).
    Running,
    /// Every planned action applied (conflicts left for a person are not failures).
    Completed,
    /// Some actions applied, some failed.
    Partial,
    /// Nothing applied and something failed.
    Failed,
}

impl OperationStatus {
    /// `running`, `completed`, `partial` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::Running => "running",
            OperationStatus::Completed => "completed",
            OperationStatus::Partial => "partial",
            OperationStatus::Failed => "failed",
        }
    }
}

/// What set a sync off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A file watcher saw a change.
    FileWatcher,
    /// The periodic rescan.
    Periodic,
    /// An edit made through twinsync (a web UI, `openspec edit`).
    UserEdit,
    /// A person or script asked for it.
    #[default]
    Manual,
    /// A schedule came due (the server's nightly sync).
    Schedule,
}

impl Trigger {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::FileWatcher => "file_watcher",
            Trigger::Periodic => "periodic",
            Trigger::UserEdit => "user_edit",
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
        }
    }
}

/// What happened to one planned item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Written (or the base updated) as planned.
    Applied,
    /// Not applied on purpose (a one-way direction, nothing to do).
    Skipped,
    /// Left for a person.
    Conflict,
    /// An error stopped this item; others went on.
    Failed,
}

/// One item of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ItemResult {
    /// The item.
    pub key: Key,
    /// Its drift class when planned.
    pub class: DriftClass,
    /// What the plan said to do.
    pub action: ActionKind,
    /// What happened.
    pub outcome: Outcome,
    /// Digest on the left afterwards.
    pub left: Option<Digest>,
    /// Digest on the right afterwards.
    pub right: Option<Digest>,
    /// The error, for a failed item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A human note (why skipped, which side won, merged cleanly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The rename this item is half of (its old or its new key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved: Option<crate::Move>,
}

/// A conflict left for a person, with both versions so nothing has to be fetched again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConflictReport {
    /// The item.
    pub key: Key,
    /// The kind of conflict.
    pub class: DriftClass,
    /// Digest of the base.
    pub base: Option<Digest>,
    /// Digest on the left.
    pub left_digest: Option<Digest>,
    /// Digest on the right.
    pub right_digest: Option<Digest>,
    /// The left version (absent when deleted there).
    pub left: Option<Content>,
    /// The right version (absent when deleted there).
    pub right: Option<Content>,
    /// A merge attempt with conflict markers, when one was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<String>,
    /// Why it was left.
    pub reason: String,
}

/// Counts of an operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReportCounts {
    /// Items the plan touched.
    pub planned: usize,
    /// Items applied.
    pub applied: usize,
    /// Items skipped on purpose.
    pub skipped: usize,
    /// Items left as conflicts.
    pub conflicts: usize,
    /// Items that failed.
    pub failed: usize,
}

/// The report of one sync operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OperationReport {
    /// The operation's id (hex of its operation hash).
    pub operation_id: String,
    /// The operation hash: same state, directions, policy and time bucket, same hash.
    pub operation_hash: Digest,
    /// Which pair of replicas.
    pub scope: String,
    /// How it ended.
    pub status: OperationStatus,
    /// What set it off.
    pub trigger: Trigger,
    /// Who ran it.
    pub actor: String,
    /// The conflict policy.
    pub policy: Policy,
    /// The directions.
    pub directions: Directions,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished.
    pub finished_at: Timestamp,
    /// Wall time in milliseconds.
    pub duration_ms: i64,
    /// Counts.
    pub counts: ReportCounts,
    /// Every planned item and its outcome.
    pub items: Vec<ItemResult>,
    /// Conflicts left for a person, with both versions.
    pub conflicts: Vec<ConflictReport>,
    /// Items a side could not read or digest: failed alone, nothing about them changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub item_errors: Vec<crate::drift::ItemError>,
    /// Until when it can be undone (`None`: nothing to undo).
    pub reversible_until: Option<Timestamp>,
    /// Items this operation wrote before it was interrupted, committed for it afterwards
    /// by the next writer's recovery (see `Engine::recover`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovered: Vec<Key>,
    /// When it was undone.
    #[serde(default)]
    pub undone_at: Option<Timestamp>,
    /// True when this report was returned for a repeated request, without applying anything.
    #[serde(default)]
    pub replayed: bool,
    /// The audit record of this operation.
    #[serde(default)]
    pub audit_id: Option<String>,
}

/// The headline of an operation without its items: what a history lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationSummary {
    /// The operation's id.
    pub operation_id: String,
    /// How it ended.
    pub status: OperationStatus,
    /// What set it off.
    pub trigger: Trigger,
    /// Who ran it.
    pub actor: String,
    /// When it started.
    pub started_at: Timestamp,
    /// Wall time in milliseconds.
    pub duration_ms: i64,
    /// Counts.
    pub counts: ReportCounts,
    /// Until when it can be undone.
    pub reversible_until: Option<Timestamp>,
    /// When it was undone.
    pub undone_at: Option<Timestamp>,
}

impl OperationReport {
    /// The renames this operation applied, each once.
    pub fn moves(&self) -> Vec<crate::Move> {
        self.items
            .iter()
            .filter(|i| i.outcome == Outcome::Applied)
            .filter_map(|i| i.moved.as_ref().filter(|m| m.to == i.key).cloned())
            .collect()
    }

    /// The headline, without items and conflicts.
    pub fn summary(&self) -> OperationSummary {
        OperationSummary {
            operation_id: self.operation_id.clone(),
            status: self.status,
            trigger: self.trigger,
            actor: self.actor.clone(),
            started_at: self.started_at,
            duration_ms: self.duration_ms,
            counts: self.counts,
            reversible_until: self.reversible_until,
            undone_at: self.undone_at,
        }
    }

    /// The failed items with their errors.
    pub fn failures(&self) -> impl Iterator<Item = &ItemResult> {
        self.items.iter().filter(|i| i.outcome == Outcome::Failed)
    }
}

/// What an undo did, item by item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UndoReport {
    /// The operation undone.
    pub operation_id: String,
    /// Items restored to their state before the operation.
    pub restored: Vec<Key>,
    /// Items refused because they changed since, with the reason.
    pub refused: Vec<RefusedItem>,
    /// Renames undone as renames (each item is also in `restored`): `from` is the key
    /// the operation created, `to` the one it had moved away from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<crate::Move>,
    /// When.
    pub at: Timestamp,
    /// The audit record of this undo.
    #[serde(default)]
    pub audit_id: Option<String>,
}

/// An item undo would not touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RefusedItem {
    /// The item.
    pub key: Key,
    /// Why (changed since the operation, unreadable, ...).
    pub reason: String,
}
