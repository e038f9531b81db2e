//! What an OpenSpec sync answers, in OpenSpec's terms. The sync itself is an `openspec`
//! pair's run through twinsync-core's engine (the facade's `Project::openspec_sync`),
//! over the replicas of [`crate::replica`]; this module turns the engine's operation
//! report and preview into the rows a person of the platform thinks in:
//! - `policy`: the conflict policies and their names;
//! - `report`: per-row outcomes ([`SyncReport`]) and planned rows ([`PlannedRow`]).

mod policy;
mod report;

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::db::{Kind, SyncDirection};

pub use policy::{SyncPolicy, UnknownPolicy};
pub use report::{planned_rows, sync_report};

/// Where the database lives by default, relative to the folder holding `openspec/`.
pub const DEFAULT_DB: &str = ".twinsync/openspec.db";
/// Where overwritten and deleted files are backed up by default, relative to the same folder.
pub const DEFAULT_BACKUPS: &str = ".twinsync/openspec-backups";

/// The project name rows are stored under by default: the name of the folder holding
/// `openspec/`.
pub fn default_project(root: &Path) -> String {
    let canon = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    canon.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "openspec".into())
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemOutcome {
    /// `change` or `spec`.
    pub kind: Kind,
    /// The row.
    pub id: String,
    /// Directions it was copied in.
    pub directions: Vec<SyncDirection>,
    /// `created`, `updated`, `merged`, `moved`, `deleted`, `written`, `conflict`, `failed`, joined by `+`.
    pub outcome: String,
    /// Files (relative to `openspec/`) that were read into or written from the database.
    pub files: Vec<String>,
    /// Documents left in conflict (manual policy).
    pub conflicts: Vec<String>,
    /// The error when it failed.
    pub error: Option<String>,
    /// Conflicts found on its documents (resolved by policy or left open).
    pub resolved: usize,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// The operation (undo it with `twinsync undo --pair PAIR OPERATION`).
    #[serde(default)]
    pub operation_id: String,
    /// What set it off.
    pub trigger: String,
    /// The conflict policy.
    pub policy: String,
    /// Rows looked at.
    pub checked: usize,
    /// Rows that changed (or failed), in order.
    pub items: Vec<ItemOutcome>,
    /// Conflicts found (resolved by policy or left open).
    pub conflicts: usize,
    /// Rows that failed.
    pub failed: usize,
    /// Wall time in milliseconds.
    pub duration_ms: i64,
}

/// One row a sync would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRow {
    /// `change` or `spec`.
    pub kind: Kind,
    /// The row.
    pub id: String,
    /// Folder under `openspec/`.
    pub path: String,
    /// `create`, `update`, `move` or `soft-delete`.
    pub row: String,
    /// Documents that differ, with the planned action and why.
    pub docs: Vec<(String, String)>,
}

/// The answer to a sync request, as `twinsync openspec sync --json`, the MCP tool
/// `openspec.sync` and the bindings give it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum SyncAnswer {
    /// The sync ran.
    Synced {
        /// The database file used.
        db: String,
        /// What it did.
        report: SyncReport,
    },
    /// A dry run.
    Preview {
        /// The database file used.
        db: String,
        /// What a sync would do.
        rows: Vec<PlannedRow>,
    },
}
