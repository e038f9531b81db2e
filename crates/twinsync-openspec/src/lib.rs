//! OpenSpec folders for twinsync: a model of `openspec/` (config, main specs, active and
//! archived changes, delta specs, tasks), a parser that reads markdown exactly as the
//! OpenSpec CLI 1.13 does, the CLI's `list`/`show`/`validate` JSON, and a lossless writer.
//!
//! Parsing never panics and never stops at a malformed file: problems are collected in
//! [`Workspace::problems`] with file, line and message.
//!
//! The database side: [`db`] holds changes and specs (status, progress, full-text
//! search, replaced versions) in SQLite ([`sqlite_conn`]) or in PostgreSQL, through the
//! SQL seam of `twinsync_core::sql` that both implement. [`replica`] makes the folder and the database
//! the two sides of an `openspec` pair, which syncs through twinsync-core's engine like
//! every pair (drift against the last-synced base, policies, undo, history); [`sync`]
//! says what a sync did in OpenSpec's terms: rows created, moved, soft-deleted.

pub mod change;
pub mod db;
pub mod delta;
pub mod output;
pub mod replica;
pub mod spec;
pub mod sqlite_conn;
pub mod sync;
pub mod tasks;
pub mod text;
pub mod validate;
pub mod workspace;
pub mod writer;

pub use change::{change_deltas, change_title, ShowDelta};
pub use db::{Db, DbError, ItemRow, Kind, Query, QuerySort, Status, SyncDirection};
pub use delta::{parse_delta_spec, DeltaPlan, Operation, RequirementBlock};
pub use output::{list_json, list_specs_json, show_json, validate_json, Scope, Sort};
pub use replica::{OpenSpecDb, OpenSpecFiles};
pub use spec::{parse_spec, Requirement, Scenario, Spec, SpecError};
pub use sync::{SyncAnswer, SyncPolicy, SyncReport};
pub use tasks::{count_tasks, parse_tasks, Progress, Task};
pub use validate::{validate_change, validate_spec_text, Issue, Level, Report};
pub use workspace::{find_root, ArchiveName, Change, Parts, Problem, Workspace, WorkspaceError};
pub use writer::{EditError, MarkdownDoc};
