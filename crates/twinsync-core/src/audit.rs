//! Audit records: who did what, when, to how many items, how long it took.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

/// One audited action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Id, assigned by the store when empty.
    pub id: String,
    /// Ties the record to an operation or request.
    pub correlation_id: String,
    /// Who acted.
    pub actor: String,
    /// What was done (`sync`, `undo`, `lock.acquire`, `lock.force_release`, ...).
    pub action: String,
    /// Whether it succeeded.
    pub success: bool,
    /// Item counts and other figures.
    pub counts: serde_json::Value,
    /// Wall time in milliseconds.
    pub duration_ms: i64,
    /// When.
    pub at: Timestamp,
    /// Free-form detail (never a secret).
    pub detail: Option<String>,
}
