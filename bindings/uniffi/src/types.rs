//! Records and enums the bindings exchange: plain data shaped like the CLI's `--json`
//! output (digests as `sha256:<hex>`, times as RFC 3339 text, JSON values as JSON text),
//! with the conversions from the core's types.

use std::collections::HashMap;

use twinsync_core as core;

/// How one key differs between the base and the two replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum DriftClass {
    /// Both sides equal the base.
    InSync,
    /// Only the left side changed.
    ChangedLeft,
    /// Only the right side changed.
    ChangedRight,
    /// Both sides changed to the same content.
    ChangedAlike,
    /// New on the left only.
    AddedLeft,
    /// New on the right only.
    AddedRight,
    /// New on both sides with the same content.
    AddedAlike,
    /// Deleted on the left; the right still equals the base.
    DeletedLeft,
    /// Deleted on the right; the left still equals the base.
    DeletedRight,
    /// Deleted on both sides.
    DeletedBoth,
    /// Both sides changed, differently.
    ConflictModifyModify,
    /// Left modified, right deleted.
    ConflictModifyDelete,
    /// Left deleted, right modified.
    ConflictDeleteModify,
    /// New on both sides with different content.
    ConflictAddAdd,
    /// In sync in content, but the two sides hold different bytes (line ends, a BOM, JSON key order).
    FormattingOnly,
}

impl From<core::DriftClass> for DriftClass {
    fn from(c: core::DriftClass) -> Self {
        use core::DriftClass as C;
        match c {
            C::InSync => DriftClass::InSync,
            C::ChangedLeft => DriftClass::ChangedLeft,
            C::ChangedRight => DriftClass::ChangedRight,
            C::ChangedAlike => DriftClass::ChangedAlike,
            C::AddedLeft => DriftClass::AddedLeft,
            C::AddedRight => DriftClass::AddedRight,
            C::AddedAlike => DriftClass::AddedAlike,
            C::DeletedLeft => DriftClass::DeletedLeft,
            C::DeletedRight => DriftClass::DeletedRight,
            C::DeletedBoth => DriftClass::DeletedBoth,
            C::ConflictModifyModify => DriftClass::ConflictModifyModify,
            C::ConflictModifyDelete => DriftClass::ConflictModifyDelete,
            C::ConflictDeleteModify => DriftClass::ConflictDeleteModify,
            C::ConflictAddAdd => DriftClass::ConflictAddAdd,
            C::FormattingOnly => DriftClass::FormattingOnly,
        }
    }
}

fn digest(d: Option<core::Digest>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn time(t: core::Timestamp) -> String {
    t.to_rfc3339()
}

/// One key's drift: its class and the digest each place holds.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DriftItem {
    /// The item.
    pub key: String,
    /// How it differs (`class` in the CLI's JSON; a keyword in Kotlin, Swift and Python).
    pub drift_class: DriftClass,
    /// Digest in the base, if any.
    pub base: Option<String>,
    /// Digest on the left, if present.
    pub left: Option<String>,
    /// Digest on the right, if present.
    pub right: Option<String>,
}

/// Drift as `twinsync status --json` prints it: the drifted items, and counts.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Drift {
    /// Every item not in sync, sorted by key.
    pub items: Vec<DriftItem>,
    /// Drifted items per class name (`changed_left`, ...), non-zero classes only.
    pub counts: HashMap<String, u64>,
    /// Items in sync.
    pub in_sync: u64,
}

fn counts(c: &core::drift::DriftCounts) -> HashMap<String, u64> {
    c.iter().map(|(class, n)| (class.as_str().to_string(), n as u64)).collect()
}

/// The API's drift JSON, read back with the core's own item type.
#[derive(serde::Deserialize)]
struct DriftJson {
    items: Vec<core::DriftItem>,
    counts: HashMap<String, u64>,
    in_sync: u64,
}

impl Drift {
    /// Reads the drift JSON of `twinsync::api::detect_drift` and `twinsync::api::status`.
    pub(crate) fn from_api(v: serde_json::Value) -> crate::Result<Self> {
        let d: DriftJson = crate::functions::decode("drift", v)?;
        Ok(Drift {
            items: d
                .items
                .into_iter()
                .map(|i| DriftItem {
                    key: i.key.as_str().to_string(),
                    drift_class: i.class.into(),
                    base: digest(i.base),
                    left: digest(i.left),
                    right: digest(i.right),
                })
                .collect(),
            counts: d.counts,
            in_sync: d.in_sync,
        })
    }
}

/// What a plan does with one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ActionKind {
    /// Write the left content to the right.
    CopyToRight,
    /// Write the right content to the left.
    CopyToLeft,
    /// Delete on the right.
    DeleteRight,
    /// Delete on the left.
    DeleteLeft,
    /// Three-way merge, written to both sides when clean.
    Merge,
    /// Both sides already agree: only the base moves.
    UpdateBase,
    /// Left for a person.
    Conflict,
    /// Not propagated (a one-way direction, or a kept modification).
    Skip,
}

impl From<core::ActionKind> for ActionKind {
    fn from(k: core::ActionKind) -> Self {
        use core::ActionKind as K;
        match k {
            K::CopyToRight => ActionKind::CopyToRight,
            K::CopyToLeft => ActionKind::CopyToLeft,
            K::DeleteRight => ActionKind::DeleteRight,
            K::DeleteLeft => ActionKind::DeleteLeft,
            K::Merge => ActionKind::Merge,
            K::UpdateBase => ActionKind::UpdateBase,
            K::Conflict => ActionKind::Conflict,
            K::Skip => ActionKind::Skip,
        }
    }
}

/// One planned action.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Action {
    /// The item.
    pub key: String,
    /// Its drift class.
    pub drift_class: DriftClass,
    /// What to do.
    pub kind: ActionKind,
    /// Digest in the base.
    pub base: Option<String>,
    /// Digest on the left now.
    pub left: Option<String>,
    /// Digest on the right now.
    pub right: Option<String>,
    /// Why this action (which side won, why skipped).
    pub reason: String,
}

/// A plan: one action per drifted item, and the operation id that makes a retried
/// request the same operation.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Plan {
    /// The operation id (hex of the operation hash).
    pub operation_id: String,
    /// The conflict policy, as written on the command line (`prefer-left`, `merge:right`).
    pub policy: String,
    /// The default direction (`left_to_right`, `right_to_left`, `both`).
    pub direction: String,
    /// One action per drifted item, in key order.
    pub actions: Vec<Action>,
    /// Items per drift class name.
    pub counts: HashMap<String, u64>,
}

impl From<core::Plan> for Plan {
    fn from(p: core::Plan) -> Self {
        Plan {
            operation_id: p.operation_id(),
            policy: p.policy.to_string(),
            direction: p.directions.default.as_str().to_string(),
            counts: counts(&p.counts),
            actions: p
                .actions
                .into_iter()
                .map(|a| Action {
                    key: a.key.as_str().to_string(),
                    drift_class: a.class.into(),
                    kind: a.kind.into(),
                    base: digest(a.base),
                    left: digest(a.left),
                    right: digest(a.right),
                    reason: a.reason,
                })
                .collect(),
        }
    }
}

/// The diff a dry run shows for one change.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ItemDiff {
    /// The item.
    pub key: String,
    /// The planned action.
    pub action: ActionKind,
    /// Unified diff from the target's content to what it would become (empty for binary).
    pub diff: String,
}

/// A dry run: the plan and what each change would look like. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Preview {
    /// The plan.
    pub plan: Plan,
    /// Diffs of the changes.
    pub diffs: Vec<ItemDiff>,
}

impl From<core::Preview> for Preview {
    fn from(p: core::Preview) -> Self {
        Preview {
            plan: p.plan.into(),
            diffs: p
                .diffs
                .into_iter()
                .map(|d| ItemDiff { key: d.key.as_str().to_string(), action: d.action.into(), diff: d.diff })
                .collect(),
        }
    }
}

/// What happened to one planned item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Outcome {
    /// Written (or the base updated) as planned.
    Applied,
    /// Not applied on purpose.
    Skipped,
    /// Left for a person.
    Conflict,
    /// An error stopped this item; others went on.
    Failed,
}

impl From<core::Outcome> for Outcome {
    fn from(o: core::Outcome) -> Self {
        match o {
            core::Outcome::Applied => Outcome::Applied,
            core::Outcome::Skipped => Outcome::Skipped,
            core::Outcome::Conflict => Outcome::Conflict,
            core::Outcome::Failed => Outcome::Failed,
        }
    }
}

/// One item of an operation.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ItemResult {
    /// The item.
    pub key: String,
    /// Its drift class when planned.
    pub drift_class: DriftClass,
    /// What the plan said to do.
    pub action: ActionKind,
    /// What happened.
    pub outcome: Outcome,
    /// Digest on the left afterwards.
    pub left: Option<String>,
    /// Digest on the right afterwards.
    pub right: Option<String>,
    /// The error, for a failed item.
    pub error: Option<String>,
    /// A human note (why skipped, which side won, merged cleanly).
    pub note: Option<String>,
}

/// A conflict left for a person, with both versions.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConflictReport {
    /// The item.
    pub key: String,
    /// The kind of conflict.
    pub drift_class: DriftClass,
    /// Digest of the base.
    pub base: Option<String>,
    /// Digest on the left.
    pub left_digest: Option<String>,
    /// Digest on the right.
    pub right_digest: Option<String>,
    /// The left version (absent when deleted there).
    pub left: Option<Vec<u8>>,
    /// The right version (absent when deleted there).
    pub right: Option<Vec<u8>>,
    /// A merge attempt with conflict markers, when one was made.
    pub merged: Option<String>,
    /// Why it was left.
    pub reason: String,
}

/// Counts of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ReportCounts {
    /// Items the plan touched.
    pub planned: u64,
    /// Items applied.
    pub applied: u64,
    /// Items skipped on purpose.
    pub skipped: u64,
    /// Items left as conflicts.
    pub conflicts: u64,
    /// Items that failed.
    pub failed: u64,
}

impl From<core::report::ReportCounts> for ReportCounts {
    fn from(c: core::report::ReportCounts) -> Self {
        ReportCounts {
            planned: c.planned as u64,
            applied: c.applied as u64,
            skipped: c.skipped as u64,
            conflicts: c.conflicts as u64,
            failed: c.failed as u64,
        }
    }
}

/// The report of one sync operation.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OperationReport {
    /// The operation's id.
    pub operation_id: String,
    /// Which pair of replicas.
    pub scope: String,
    /// How it ended (`completed`, `partial`, ...).
    pub status: String,
    /// What set it off (`manual`, ...).
    pub trigger: String,
    /// Who ran it.
    pub actor: String,
    /// The conflict policy.
    pub policy: String,
    /// The default direction.
    pub direction: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it finished (RFC 3339).
    pub finished_at: String,
    /// Wall time in milliseconds.
    pub duration_ms: i64,
    /// Counts.
    pub counts: ReportCounts,
    /// Every planned item and its outcome.
    pub items: Vec<ItemResult>,
    /// Conflicts left for a person, with both versions.
    pub conflicts: Vec<ConflictReport>,
    /// Until when it can be undone (RFC 3339; absent: nothing to undo).
    pub reversible_until: Option<String>,
    /// When it was undone (RFC 3339).
    pub undone_at: Option<String>,
    /// True when returned for a repeated request, without applying anything.
    pub replayed: bool,
}

impl From<core::OperationReport> for OperationReport {
    fn from(r: core::OperationReport) -> Self {
        OperationReport {
            operation_id: r.operation_id,
            scope: r.scope,
            status: r.status.as_str().to_string(),
            trigger: r.trigger.as_str().to_string(),
            actor: r.actor,
            policy: r.policy.to_string(),
            direction: r.directions.default.as_str().to_string(),
            started_at: time(r.started_at),
            finished_at: time(r.finished_at),
            duration_ms: r.duration_ms,
            counts: r.counts.into(),
            items: r
                .items
                .into_iter()
                .map(|i| ItemResult {
                    key: i.key.as_str().to_string(),
                    drift_class: i.class.into(),
                    action: i.action.into(),
                    outcome: i.outcome.into(),
                    left: digest(i.left),
                    right: digest(i.right),
                    error: i.error,
                    note: i.note,
                })
                .collect(),
            conflicts: r
                .conflicts
                .into_iter()
                .map(|c| ConflictReport {
                    key: c.key.as_str().to_string(),
                    drift_class: c.class.into(),
                    base: digest(c.base),
                    left_digest: digest(c.left_digest),
                    right_digest: digest(c.right_digest),
                    left: c.left.map(|c| c.as_bytes().to_vec()),
                    right: c.right.map(|c| c.as_bytes().to_vec()),
                    merged: c.merged,
                    reason: c.reason,
                })
                .collect(),
            reversible_until: r.reversible_until.map(time),
            undone_at: r.undone_at.map(time),
            replayed: r.replayed,
        }
    }
}

/// The headline of an operation without its items: what a history lists.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OperationSummary {
    /// The operation's id.
    pub operation_id: String,
    /// How it ended.
    pub status: String,
    /// What set it off.
    pub trigger: String,
    /// Who ran it.
    pub actor: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Wall time in milliseconds.
    pub duration_ms: i64,
    /// Counts.
    pub counts: ReportCounts,
    /// Until when it can be undone (RFC 3339).
    pub reversible_until: Option<String>,
    /// When it was undone (RFC 3339).
    pub undone_at: Option<String>,
}

impl From<core::OperationSummary> for OperationSummary {
    fn from(s: core::OperationSummary) -> Self {
        OperationSummary {
            operation_id: s.operation_id,
            status: s.status.as_str().to_string(),
            trigger: s.trigger.as_str().to_string(),
            actor: s.actor,
            started_at: time(s.started_at),
            duration_ms: s.duration_ms,
            counts: s.counts.into(),
            reversible_until: s.reversible_until.map(time),
            undone_at: s.undone_at.map(time),
        }
    }
}

/// An item undo would not touch, and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RefusedItem {
    /// The item.
    pub key: String,
    /// Why (changed since the operation, unreadable, ...).
    pub reason: String,
}

/// What an undo did, item by item.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UndoReport {
    /// The operation undone.
    pub operation_id: String,
    /// Items restored to their state before the operation.
    pub restored: Vec<String>,
    /// Items refused because they changed since.
    pub refused: Vec<RefusedItem>,
    /// When (RFC 3339).
    pub at: String,
}

impl From<core::UndoReport> for UndoReport {
    fn from(u: core::UndoReport) -> Self {
        UndoReport {
            operation_id: u.operation_id,
            restored: u.restored.iter().map(|k| k.as_str().to_string()).collect(),
            refused: u
                .refused
                .into_iter()
                .map(|r| RefusedItem { key: r.key.as_str().to_string(), reason: r.reason })
                .collect(),
            at: time(u.at),
        }
    }
}

/// A lock on the project.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, uniffi::Record)]
pub struct Lock {
    /// What is locked (`project`).
    pub name: String,
    /// Who holds it.
    pub owner: String,
    /// The holder's token, given only by `lock_acquire` (empty elsewhere); proves ownership.
    #[serde(default)]
    pub token: String,
    /// Why it was taken.
    pub reason: Option<String>,
    /// When acquired (RFC 3339).
    pub acquired_at: String,
    /// When it lapses unless renewed (RFC 3339).
    pub expires_at: String,
}

/// What `lock_release` did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, uniffi::Record)]
pub struct LockRelease {
    /// Whether a lock was released (a forced release of a free lock releases nothing).
    pub released: bool,
    /// Whether it was a forced release (audited).
    pub forced: bool,
    /// The lock that was released.
    pub lock: Option<Lock>,
}

/// Whether the project lock is held, and by whom.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, uniffi::Record)]
pub struct LockStatus {
    /// Whether a live lock is held.
    pub held: bool,
    /// The live lock, without its token.
    pub lock: Option<Lock>,
}
