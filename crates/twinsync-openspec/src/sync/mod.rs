//! Files <-> database sync of an `openspec/` folder: each change and main spec is one
//! row, each of its documents (`proposal.md`, `design.md`, `tasks.md`; `spec.md`) an
//! item decided by content against the last-synced base, with twinsync-core's drift
//! classification, conflict policy and three-way text merge.
//!
//! This module owns what callers use: [`Syncer`] and its passes (every row, named rows,
//! preview, create, edit), [`sync_folder`] for the CLI and the MCP tool, and the types
//! they take and return. The work behind them is split by concept:
//! - `policy`: the conflict policies and their names;
//! - `folder`: reading the folder into rows, and mapping a path to its row;
//! - `state`: what the database holds of each row, and its last-synced base;
//! - `decide`: the drift and plan of one row;
//! - `apply`: applying the plan to the database and the files, soft delete and moves;
//! - `record`: kept versions, conflicts, history and failed rows;
//! - `events`: sending events;
//! - `savepoint`: the transaction each row is written in.

mod apply;
mod decide;
mod events;
mod folder;
mod policy;
mod record;
mod savepoint;
mod state;

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use twinsync_core::event::{EventType, Transport};
use twinsync_core::replica::ReplicaError;
use twinsync_core::{ActionKind, Clock, Key, Trigger};
use twinsync_fs::{FsOptions, FsReplica};

use crate::db::{Db, DbError, Kind, SyncDirection};

pub use folder::row_of_path;
pub use policy::{SyncPolicy, UnknownPolicy};

use savepoint::Savepoint;
use state::DbState;

/// Where the database lives by default, relative to the folder holding `openspec/`.
pub const DEFAULT_DB: &str = ".twinsync/openspec.db";
/// Where overwritten and deleted files are backed up by default, relative to the same folder.
pub const DEFAULT_BACKUPS: &str = ".twinsync/openspec-backups";

/// Why a sync could not run, or why one row failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The database refused.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The `openspec/` folder cannot be used.
    #[error("{path}: {message}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file write or delete failed (the row is left as it was).
    #[error("{kind} {id}: {source}")]
    File {
        /// `change` or `spec`.
        kind: Kind,
        /// The row.
        id: String,
        /// What failed.
        source: ReplicaError,
    },
    /// The row's folder was removed from disk; it is kept (soft-deleted) but not written back.
    #[error("{kind} {id:?} was removed from disk (openspec/{path}); restore the folder to edit it")]
    Deleted {
        /// `change` or `spec`.
        kind: Kind,
        /// The id.
        id: String,
        /// Where it was.
        path: String,
    },
    /// No such change or spec on disk or in the database.
    #[error("no {kind} {id:?} on disk or in the openspec database")]
    NotFound {
        /// `change` or `spec`.
        kind: Kind,
        /// The id.
        id: String,
    },
}

/// How a [`Syncer`] is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncConfig {
    /// Project name stored on every row (default: the name of the folder holding `openspec/`).
    pub project: String,
    /// Conflict policy.
    pub policy: SyncPolicy,
    /// Where overwritten and deleted files are copied (`None`: no backups).
    pub backup_dir: Option<PathBuf>,
}

impl SyncConfig {
    /// Defaults for the folder `root` (the one holding `openspec/`): project named after
    /// it, fs-wins, backups in [`DEFAULT_BACKUPS`].
    pub fn for_root(root: &Path) -> SyncConfig {
        let canon = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let project = canon.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "openspec".into());
        SyncConfig { project, policy: SyncPolicy::FsWins, backup_dir: Some(root.join(DEFAULT_BACKUPS)) }
    }
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
    /// `created`, `updated`, `merged`, `moved`, `deleted`, `restored`, `conflict`, `failed`, joined by `+`.
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

/// Keeps one `openspec/` folder and the database in step.
pub struct Syncer<'a> {
    root: PathBuf,
    openspec: PathBuf,
    db: &'a Db,
    fs: FsReplica,
    clock: &'a dyn Clock,
    transport: Option<&'a dyn Transport>,
    config: SyncConfig,
    runs: u64,
}

impl fmt::Debug for Syncer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Syncer").field("root", &self.root).field("config", &self.config).finish_non_exhaustive()
    }
}

impl<'a> Syncer<'a> {
    /// A syncer for the folder `root` (the one holding `openspec/`).
    pub fn new(root: &Path, db: &'a Db, clock: &'a dyn Clock, config: SyncConfig) -> Result<Syncer<'a>, SyncError> {
        let openspec = root.join("openspec");
        if !openspec.is_dir() {
            return Err(SyncError::Folder {
                path: openspec,
                message: "not a directory (no openspec/ folder here)".into(),
            });
        }
        let opts = FsOptions { name: "openspec".into(), backup_dir: config.backup_dir.clone(), ..FsOptions::default() };
        let fs = FsReplica::open(&openspec, opts)
            .map_err(|e| SyncError::Folder { path: openspec.clone(), message: e.to_string() })?;
        Ok(Syncer { root: root.to_path_buf(), openspec, db, fs, clock, transport: None, config, runs: 0 })
    }

    /// Sends events through `transport`.
    pub fn with_transport(mut self, transport: &'a dyn Transport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// The folder holding `openspec/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The configuration.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Changes the conflict policy.
    pub fn set_policy(&mut self, policy: SyncPolicy) {
        self.config.policy = policy;
    }

    /// The database.
    pub fn db(&self) -> &Db {
        self.db
    }

    /// Syncs every change and spec: the full pass run on start and periodically.
    pub fn sync_all(&mut self, trigger: Trigger) -> Result<SyncReport, SyncError> {
        let started = std::time::Instant::now();
        let corr = self.next_correlation();
        self.emit(
            EventType::SyncStarted,
            &corr,
            serde_json::json!({"scope": "openspec", "project": self.config.project, "trigger": trigger.as_str()}),
        );
        let (fs_items, read_errors) = self.scan_folder();
        // One transaction for the pass, a savepoint per row: each row stays atomic, and
        // the full-text index is flushed once instead of once per row.
        let pass = Savepoint::new(&self.db.conn).map_err(|e| self.db.err(e))?;
        let mut states = self.load_states(None)?;
        let mut report = SyncReport {
            trigger: trigger.as_str().into(),
            policy: self.config.policy.as_str().into(),
            ..SyncReport::default()
        };
        for (kind, id, e) in read_errors {
            states.remove(&(kind, id.clone()));
            let out = self.fail_item(kind, &id, &e, trigger, &corr)?;
            report.items.push(out);
        }
        let mut touched = Vec::with_capacity(fs_items.len());
        for item in &fs_items {
            let state = states.remove(&(item.kind, item.id.clone()));
            report.checked += 1;
            match self.sync_item(Some(item), state.as_ref(), trigger, &corr) {
                Ok(Some(out)) => report.items.push(out),
                Ok(None) => touched.push(state.map(|s| s.rowid)),
                Err(e) => report.items.push(self.fail_item(item.kind, &item.id, &e, trigger, &corr)?),
            }
        }
        let mut gone: Vec<((Kind, String), DbState)> = states.into_iter().collect();
        gone.sort_by(|a, b| a.0.cmp(&b.0));
        for ((kind, id), state) in gone {
            if state.deleted {
                continue;
            }
            report.checked += 1;
            match self.gone_from_disk(kind, &id, &state, trigger, &corr) {
                Ok(Some(out)) => report.items.push(out),
                Ok(None) => {}
                Err(e) => report.items.push(self.fail_item(kind, &id, &e, trigger, &corr)?),
            }
        }
        self.touch(touched.into_iter().flatten())?;
        pass.commit().map_err(|e| self.db.err(e))?;
        self.finish(&mut report, started);
        let payload = serde_json::json!({
            "scope": "openspec", "project": self.config.project, "trigger": trigger.as_str(),
            "checked": report.checked, "changed": report.items.len() - report.failed,
            "failed": report.failed, "conflicts": report.conflicts, "duration_ms": report.duration_ms,
        });
        self.emit(EventType::SyncCompleted, &corr, payload);
        Ok(report)
    }

    /// Syncs the named rows only (the watcher's immediate path, and edits).
    pub fn sync_items(&mut self, items: &[(Kind, String)], trigger: Trigger) -> Result<SyncReport, SyncError> {
        let started = std::time::Instant::now();
        let corr = self.next_correlation();
        let mut report = SyncReport {
            trigger: trigger.as_str().into(),
            policy: self.config.policy.as_str().into(),
            ..SyncReport::default()
        };
        for (kind, id) in items {
            report.checked += 1;
            let result = (|| -> Result<Option<ItemOutcome>, SyncError> {
                let on_disk = self.find_on_disk(*kind, id)?;
                let mut states = self.load_states(Some((*kind, id)))?;
                let state = states.remove(&(*kind, id.clone()));
                match (&on_disk, &state) {
                    (None, None) => Err(SyncError::NotFound { kind: *kind, id: id.clone() }),
                    (None, Some(s)) if s.deleted => Ok(None),
                    (None, Some(s)) => self.gone_from_disk(*kind, id, s, trigger, &corr),
                    (Some(f), s) => {
                        let out = self.sync_item(Some(f), s.as_ref(), trigger, &corr)?;
                        if out.is_none() {
                            self.touch(s.iter().map(|s| s.rowid))?;
                        }
                        Ok(out)
                    }
                }
            })();
            match result {
                Ok(Some(out)) => report.items.push(out),
                Ok(None) => {}
                // Gone from disk and never in the database (a stray watcher path): nothing to do.
                Err(SyncError::NotFound { .. }) => report.checked -= 1,
                Err(e) => report.items.push(self.fail_item(*kind, id, &e, trigger, &corr)?),
            }
        }
        self.finish(&mut report, started);
        Ok(report)
    }

    /// What a full sync would do, changing nothing: per row, the planned action of every
    /// document that differs, and whether the row would be created, moved, restored or
    /// soft-deleted.
    pub fn preview(&self, only: Option<(Kind, &str)>) -> Result<Vec<PlannedRow>, SyncError> {
        let (mut fs_items, _) = self.scan_folder();
        if let Some((k, id)) = only {
            fs_items.retain(|i| i.kind == k && i.id == id);
        }
        let mut states = self.load_states(only)?;
        let mut out = Vec::new();
        for item in &fs_items {
            let state = states.remove(&(item.kind, item.id.clone()));
            let plan = self.plan_row(item, state.as_ref());
            let docs: Vec<(String, String)> = plan
                .actions
                .iter()
                .filter(|a| a.kind != ActionKind::Skip)
                .map(|a| (a.key.to_string(), format!("{:?}: {}", a.kind, a.reason)))
                .collect();
            let row = match &state {
                None => "create",
                Some(s) if s.deleted => "restore",
                Some(s) if s.path != item.path => "move",
                Some(_) if !docs.is_empty() => "update",
                Some(_) => continue,
            };
            out.push(PlannedRow {
                kind: item.kind,
                id: item.id.clone(),
                path: item.path.clone(),
                row: row.into(),
                docs,
            });
        }
        let mut gone: Vec<_> = states.into_iter().filter(|(_, s)| !s.deleted).collect();
        gone.sort_by(|a, b| a.0.cmp(&b.0));
        for ((kind, id), s) in gone {
            out.push(PlannedRow { kind, id, path: s.path, row: "soft-delete".into(), docs: Vec::new() });
        }
        Ok(out)
    }

    /// Creates a change (or spec) in the database, as a web UI would, and writes its
    /// folder (`changes/<id>/`, `specs/<id>/`) at once (`user_edit`). Refuses an id the
    /// database or the disk already has.
    pub fn create(&mut self, kind: Kind, id: &str, docs: &[(&str, &str)]) -> Result<SyncReport, SyncError> {
        let path = match kind {
            Kind::Change => format!("changes/{id}"),
            Kind::Spec => format!("specs/{id}"),
        };
        let key_ok = Key::new(format!("{path}/x")).is_ok() && !id.is_empty() && !id.starts_with('.');
        if !key_ok || (kind == Kind::Change && (id.contains('/') || id == "archive")) {
            return Err(SyncError::Folder {
                path: self.openspec.join(&path),
                message: format!("{id:?} is not a valid {kind} id"),
            });
        }
        if self.db.item(&self.config.project, kind, id)?.is_some() || self.openspec.join(&path).exists() {
            return Err(SyncError::Folder {
                path: self.openspec.join(&path),
                message: format!("{kind} {id:?} already exists"),
            });
        }
        self.db.create_row(&self.config.project, kind, id, &path, self.clock.now())?;
        for (doc, text) in docs {
            self.db.edit_document(&self.config.project, kind, id, doc, Some(text), self.clock.now())?;
        }
        self.sync_items(&[(kind, id.to_string())], Trigger::UserEdit)
    }

    /// Sets a document in the database and writes it through to disk at once (the
    /// `user_edit` path). `text: None` removes the document.
    pub fn edit(&mut self, kind: Kind, id: &str, doc: &str, text: Option<&str>) -> Result<SyncReport, SyncError> {
        if self.db.item(&self.config.project, kind, id)?.is_none() {
            // Not in the database yet: bring it in from disk first.
            self.sync_items(&[(kind, id.to_string())], Trigger::UserEdit)?;
        }
        match self.db.item(&self.config.project, kind, id)? {
            None => return Err(SyncError::NotFound { kind, id: id.to_string() }),
            Some(row) if row.deleted => {
                return Err(SyncError::Deleted { kind, id: id.to_string(), path: row.path });
            }
            Some(_) => {}
        }
        self.db.edit_document(&self.config.project, kind, id, doc, text, self.clock.now())?;
        self.sync_items(&[(kind, id.to_string())], Trigger::UserEdit)
    }

    fn next_correlation(&mut self) -> String {
        self.runs += 1;
        format!("openspec-{}-{}", self.clock.now().millis(), self.runs)
    }

    fn finish(&self, report: &mut SyncReport, started: std::time::Instant) {
        report.failed = report.items.iter().filter(|i| i.error.is_some()).count();
        report.conflicts = report.items.iter().map(|i| i.resolved).sum();
        report.duration_ms = started.elapsed().as_millis() as i64;
    }
}

/// One row a sync would change (see [`Syncer::preview`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRow {
    /// `change` or `spec`.
    pub kind: Kind,
    /// The row.
    pub id: String,
    /// Folder under `openspec/`.
    pub path: String,
    /// `create`, `update`, `move`, `restore` or `soft-delete`.
    pub row: String,
    /// Documents that differ, with the planned action and why.
    pub docs: Vec<(String, String)>,
}

/// A request to sync a folder, as the MCP tool `openspec.sync` and `twinsync openspec sync` make it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRequest {
    /// The database file (default: [`DEFAULT_DB`] under the root).
    pub db: Option<PathBuf>,
    /// Conflict policy.
    pub policy: SyncPolicy,
    /// Only this change (every change and spec when `None`).
    pub change: Option<String>,
    /// Plan only: report what would change, change nothing.
    pub dry_run: bool,
    /// Project name (default: the root folder's name).
    pub project: Option<String>,
}

/// The answer to a [`SyncRequest`].
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

/// Syncs the `openspec/` folder under `root` with its database, once (trigger `manual`):
/// the one call the CLI's `openspec sync` and the MCP tool `openspec.sync` make.
pub fn sync_folder(root: &Path, req: &SyncRequest) -> Result<SyncAnswer, SyncError> {
    let db_path = req.db.clone().unwrap_or_else(|| root.join(DEFAULT_DB));
    let db = Db::open(&db_path)?;
    let clock = twinsync_core::SystemClock;
    let mut config = SyncConfig::for_root(root);
    config.policy = req.policy;
    if let Some(p) = &req.project {
        config.project = p.clone();
    }
    let mut syncer = Syncer::new(root, &db, &clock, config)?;
    let db_name = db_path.display().to_string();
    if req.dry_run {
        let only = req.change.as_deref().map(|c| (Kind::Change, c));
        return Ok(SyncAnswer::Preview { db: db_name, rows: syncer.preview(only)? });
    }
    let report = match &req.change {
        Some(c) => {
            let r = syncer.sync_items(&[(Kind::Change, c.clone())], Trigger::Manual)?;
            if r.checked == 0 {
                return Err(SyncError::NotFound { kind: Kind::Change, id: c.clone() });
            }
            r
        }
        None => syncer.sync_all(Trigger::Manual)?,
    };
    Ok(SyncAnswer::Synced { db: db_name, report })
}
