//! Files <-> database sync of an `openspec/` folder: each change and main spec is one
//! row, each of its documents (`proposal.md`, `design.md`, `tasks.md`; `spec.md`) an
//! item decided by content against the last-synced base, with twinsync-core's drift
//! classification, conflict policy and three-way text merge.
//!
//! What this module owns:
//! - reading the folder into rows (active changes, archived changes by their bare id,
//!   main specs) and deriving title, task progress, requirement count and status;
//! - applying the plan per row: database writes in one transaction per row, file writes
//!   through [`twinsync_fs::FsReplica`] (atomic compare-and-swap, backup of what it
//!   overwrites or deletes);
//! - keeping every losing or removed database version in `versions`, every conflict in
//!   `conflicts`, and one `sync_history` row per row and direction;
//! - soft delete of rows whose folder is gone, and archive recognised as a move (the id
//!   stays, the path and status change);
//! - `sync_started` / `sync_completed` / `sync_failed` / `conflict` events.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use twinsync_core::event::{EventCategory, EventEnvelope, Transport};
use twinsync_core::merge::{text3, TextMergeOptions};
use twinsync_core::plan::PlanContext;
use twinsync_core::replica::{ReplicaError, WriteContext};
use twinsync_core::{
    detect, plan, ActionKind, Clock, Content, Digest, Directions, DriftClass, Key, Policy, Replica, Side, Strategy,
    Timestamp, Trigger,
};
use twinsync_fs::{FsOptions, FsReplica};

use crate::change::change_title;
use crate::db::{doc_column, text_digest, Db, DbError, Kind, Status, SyncDirection};
use crate::delta::parse_delta_spec;
use crate::spec::parse_spec;
use crate::tasks::count_tasks;
use crate::workspace::{discover_spec_files, ArchiveName};

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

/// How a document edited on both sides since the last sync is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncPolicy {
    /// The files win; the database's version is kept in `versions`.
    #[default]
    FsWins,
    /// Three-way merge of the markdown; a conflicting merge falls back to the files and is recorded.
    Merge,
    /// Leave the conflict for a person: neither side changes, the row carries the error.
    Manual,
}

impl SyncPolicy {
    /// `fs-wins`, `merge` or `manual`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SyncPolicy::FsWins => "fs-wins",
            SyncPolicy::Merge => "merge",
            SyncPolicy::Manual => "manual",
        }
    }
    /// The core policy (files are the left side, the database the right).
    pub fn core(self) -> Policy {
        match self {
            SyncPolicy::FsWins => Policy::prefer(Side::Left),
            SyncPolicy::Merge => Policy::new(Strategy::Merge { fallback: Some(Side::Left) }),
            SyncPolicy::Manual => Policy::manual(),
        }
    }
}

impl fmt::Display for SyncPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy name that is not `fs-wins`, `merge` or `manual`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sync policy {0:?}; expected fs-wins, merge or manual")]
pub struct UnknownPolicy(pub String);

impl FromStr for SyncPolicy {
    type Err = UnknownPolicy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fs-wins" => Ok(SyncPolicy::FsWins),
            "merge" => Ok(SyncPolicy::Merge),
            "manual" => Ok(SyncPolicy::Manual),
            _ => Err(UnknownPolicy(s.to_string())),
        }
    }
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

/// One change or spec as the files hold it.
#[derive(Debug, Clone)]
struct FsItem {
    kind: Kind,
    id: String,
    /// Folder under `openspec/`.
    path: String,
    archived_on: Option<String>,
    docs: BTreeMap<&'static str, String>,
    modified: Option<Timestamp>,
    /// Delta spec files (path under the change folder, text); parsed only when they changed.
    deltas: Vec<(String, String)>,
    /// Digest over the delta files, compared with the row's to skip parsing them.
    deltas_digest: String,
}

/// What the database holds of one row, for deciding.
#[derive(Debug, Clone)]
struct DbState {
    rowid: i64,
    path: String,
    status: Status,
    deleted: bool,
    /// Per document: (database digest, base digest).
    docs: HashMap<String, (Option<Digest>, Option<Digest>)>,
    /// Digest of the delta files when the row was last synced.
    deltas_digest: Option<String>,
    /// When the row was last synced (`None`: created in the database, never on disk).
    last_synced: Option<i64>,
}

impl FsItem {
    /// Requirements across the change's delta files (ADDED, MODIFIED, REMOVED, RENAMED).
    fn delta_requirements(&self) -> i64 {
        self.deltas
            .iter()
            .map(|(_, text)| {
                let plan = parse_delta_spec(text);
                (plan.added.len() + plan.modified.len() + plan.removed.len() + plan.renamed.len()) as i64
            })
            .sum()
    }
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

const CHANGE_MARKERS: [&str; 4] = [".openspec.yaml", "proposal.md", "tasks.md", "design.md"];

fn ts_of(t: std::time::SystemTime) -> Option<Timestamp> {
    t.duration_since(std::time::UNIX_EPOCH).ok().map(|d| Timestamp::from_millis(d.as_millis() as i64))
}

/// Reads a text file; `Ok(None)` when absent. Invalid UTF-8 is read lossily (the
/// database holds text), and the compare-and-swap on write then refuses to overwrite it.
fn read_doc(path: &Path) -> Result<Option<(String, Option<Timestamp>)>, std::io::Error> {
    match fs::read(path) {
        Ok(bytes) => {
            let modified = fs::metadata(path).and_then(|m| m.modified()).ok().and_then(ts_of);
            let text = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            Ok(Some((text, modified)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn dir_names(dir: &Path) -> Vec<String> {
    let Ok(rd) = fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<String> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
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

    // ---- reading the folder -------------------------------------------------------

    /// Archived change folders with the id each gets: the bare id unless an active change
    /// or an earlier archive folder already has it, then the whole folder name.
    fn archived_ids(&self, active: &BTreeSet<String>) -> Vec<(String, String)> {
        let mut taken: BTreeSet<String> = active.clone();
        let mut out = Vec::new();
        for dir in dir_names(&self.openspec.join("changes/archive")) {
            let id = match ArchiveName::parse(&dir) {
                Some(a) if !taken.contains(&a.id) => a.id,
                _ => dir.clone(),
            };
            taken.insert(id.clone());
            out.push((dir, id));
        }
        out
    }

    fn active_ids(&self) -> BTreeSet<String> {
        let changes = self.openspec.join("changes");
        dir_names(&changes)
            .into_iter()
            .filter(|n| n != "archive" && CHANGE_MARKERS.iter().any(|m| changes.join(n).join(m).is_file()))
            .collect()
    }

    fn read_change(&self, id: &str, path: String, archived_on: Option<String>) -> Result<FsItem, SyncError> {
        let dir = self.openspec.join(&path);
        let mut docs = BTreeMap::new();
        let mut modified: Option<Timestamp> = None;
        for doc in Kind::Change.docs() {
            let p = dir.join(doc);
            let read = read_doc(&p).map_err(|e| SyncError::Folder { path: p.clone(), message: e.to_string() })?;
            if let Some((text, m)) = read {
                modified = modified.max(m);
                docs.insert(*doc, text);
            }
        }
        let mut deltas = Vec::new();
        let mut all = Vec::new();
        for (sid, p) in discover_spec_files(&dir.join("specs")) {
            if let Ok(Some((text, _))) = read_doc(&p) {
                let rel = format!("specs/{sid}/spec.md");
                all.extend_from_slice(rel.as_bytes());
                all.push(0);
                all.extend_from_slice(text.as_bytes());
                all.push(0);
                deltas.push((rel, text));
            }
        }
        let deltas_digest = Digest::of_bytes(&all).to_hex();
        Ok(FsItem { kind: Kind::Change, id: id.to_string(), path, archived_on, docs, modified, deltas, deltas_digest })
    }

    fn read_spec(&self, id: &str) -> Result<Option<FsItem>, SyncError> {
        let path = format!("specs/{id}");
        let p = self.openspec.join(&path).join("spec.md");
        let Some((text, modified)) =
            read_doc(&p).map_err(|e| SyncError::Folder { path: p.clone(), message: e.to_string() })?
        else {
            return Ok(None);
        };
        let docs = BTreeMap::from([("spec.md", text)]);
        Ok(Some(FsItem {
            kind: Kind::Spec,
            id: id.to_string(),
            path,
            archived_on: None,
            docs,
            modified,
            deltas: Vec::new(),
            deltas_digest: String::new(),
        }))
    }

    /// Every change and spec on disk, plus per-folder read errors.
    fn scan_folder(&self) -> (Vec<FsItem>, Vec<(Kind, String, SyncError)>) {
        let mut items = Vec::new();
        let mut errors = Vec::new();
        let active = self.active_ids();
        for id in &active {
            match self.read_change(id, format!("changes/{id}"), None) {
                Ok(i) => items.push(i),
                Err(e) => errors.push((Kind::Change, id.clone(), e)),
            }
        }
        for (dir, id) in self.archived_ids(&active) {
            let date = ArchiveName::parse(&dir).map(|a| a.date);
            match self.read_change(&id, format!("changes/archive/{dir}"), date) {
                Ok(i) => items.push(i),
                Err(e) => errors.push((Kind::Change, id, e)),
            }
        }
        for (id, _) in discover_spec_files(&self.openspec.join("specs")) {
            match self.read_spec(&id) {
                Ok(Some(i)) => items.push(i),
                Ok(None) => {}
                Err(e) => errors.push((Kind::Spec, id, e)),
            }
        }
        (items, errors)
    }

    /// One row as the files hold it now (`None`: gone from disk).
    fn find_on_disk(&self, kind: Kind, id: &str) -> Result<Option<FsItem>, SyncError> {
        if kind == Kind::Spec {
            return self.read_spec(id);
        }
        // One row only: look at its own folder, then the archive listing; never at every
        // active change, so the watcher's path does not grow with the folder.
        let changes = self.openspec.join("changes");
        let is_change = |dir: &Path| CHANGE_MARKERS.iter().any(|m| dir.join(m).is_file());
        if id != "archive" && is_change(&changes.join(id)) {
            return self.read_change(id, format!("changes/{id}"), None).map(Some);
        }
        let dirs = dir_names(&changes.join("archive"));
        // The first archive folder of this id gets the bare id (as in the full pass, where
        // no active change holds it); a folder named exactly `id` is one whose id collided.
        let found = dirs
            .iter()
            .find(|d| ArchiveName::parse(d).is_some_and(|a| a.id == id))
            .or_else(|| dirs.iter().find(|d| d.as_str() == id));
        match found {
            Some(dir) => {
                let date = ArchiveName::parse(dir).map(|a| a.date);
                self.read_change(id, format!("changes/archive/{dir}"), date).map(Some)
            }
            None => Ok(None),
        }
    }

    // ---- reading the database ----------------------------------------------------

    fn load_states(&self, only: Option<(Kind, &str)>) -> Result<HashMap<(Kind, String), DbState>, SyncError> {
        let db = self.db;
        let project = &self.config.project;
        let mut states: HashMap<(Kind, String), DbState> = HashMap::new();
        let mut by_rowid: HashMap<i64, (Kind, String)> = HashMap::new();
        {
            let sql = if only.is_some() {
                "SELECT rowid, kind, id, path, status, deleted, deltas_digest, last_synced FROM items \
                     WHERE project = ?1 AND kind = ?2 AND id = ?3"
            } else {
                "SELECT rowid, kind, id, path, status, deleted, deltas_digest, last_synced FROM items \
                     WHERE project = ?1 AND ?2 IS NULL AND ?3 IS NULL"
            };
            let (k, i) = only.map(|(k, i)| (Some(k.as_str()), Some(i))).unwrap_or((None, None));
            let rows = db.rows(sql, params![project, k, i], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<i64>>(7)?,
                ))
            })?;
            for (rowid, kind, id, path, status, deleted, deltas_digest, last_synced) in rows {
                let kind = if kind == "spec" { Kind::Spec } else { Kind::Change };
                by_rowid.insert(rowid, (kind, id.clone()));
                states.insert(
                    (kind, id),
                    DbState {
                        rowid,
                        path,
                        status: status.parse().unwrap_or(Status::Proposing),
                        deleted: deleted != 0,
                        docs: HashMap::new(),
                        deltas_digest,
                        last_synced,
                    },
                );
            }
        }
        let sql = if only.is_some() {
            "SELECT d.item, d.doc, d.db_digest, d.base_digest FROM doc_state d \
                 WHERE d.item = ?2 AND ?1 IS NOT NULL"
        } else {
            "SELECT d.item, d.doc, d.db_digest, d.base_digest FROM doc_state d JOIN items i ON i.rowid = d.item \
                 WHERE i.project = ?1 AND ?2 IS NULL"
        };
        let one = if only.is_some() { states.values().next().map(|s| s.rowid) } else { None };
        if only.is_some() && one.is_none() {
            return Ok(states);
        }
        let rows = db.rows(sql, params![project, one], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut stale: Vec<(i64, String)> = Vec::new();
        for (item, doc, dbd, based) in rows {
            let Some(key) = by_rowid.get(&item) else { continue };
            // An empty digest means the document is absent; NULL means "hash the text again".
            let parse = |s: Option<String>| s.and_then(|s| s.parse::<Digest>().ok());
            if dbd.is_none() {
                stale.push((item, doc.clone()));
            }
            if let Some(st) = states.get_mut(key) {
                st.docs.insert(doc, (parse(dbd), parse(based)));
            }
        }
        // Documents changed by SQL outside this crate lost their digest (a trigger cleared
        // it): hash them again from the text.
        for (item, doc) in stale {
            let Some(col) = doc_column(&doc) else { continue };
            let text: Option<String> = db
                .conn
                .query_row(&format!("SELECT {col} FROM items WHERE rowid = ?1"), [item], |r| r.get(0))
                .map_err(|e| db.err(e))?;
            let d = text.as_deref().map(text_digest);
            db.conn
                .execute(
                    "UPDATE doc_state SET db_digest = ?1 WHERE item = ?2 AND doc = ?3",
                    params![d.map_or_else(String::new, |d| d.to_string()), item, doc],
                )
                .map_err(|e| db.err(e))?;
            if let Some(st) = by_rowid.get(&item).and_then(|k| states.get_mut(k)) {
                if let Some(e) = st.docs.get_mut(&doc) {
                    e.0 = d;
                }
            }
        }
        Ok(states)
    }

    fn db_text(&self, rowid: i64, doc: &str) -> Result<Option<String>, SyncError> {
        let col = doc_column(doc).expect("known document");
        Ok(self
            .db
            .conn
            .query_row(&format!("SELECT {col} FROM items WHERE rowid = ?1"), [rowid], |r| r.get(0))
            .map_err(|e| self.db.err(e))?)
    }

    fn base_text(&self, rowid: i64, doc: &str) -> Result<Option<String>, SyncError> {
        Ok(self
            .db
            .conn
            .query_row("SELECT base_content FROM doc_state WHERE item = ?1 AND doc = ?2", params![rowid, doc], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()
            .map_err(|e| self.db.err(e))?
            .flatten())
    }

    // ---- events ----------------------------------------------------------------------

    fn emit(&self, category: EventCategory, corr: &str, payload: serde_json::Value) {
        if let Some(t) = self.transport {
            // Delivery is best effort here: a failing transport must not fail the sync.
            let _ = t.send(&EventEnvelope::new(category, self.clock.now(), corr, payload));
        }
    }

    // ---- syncing -----------------------------------------------------------------------

    /// Syncs every change and spec: the full pass run on start and periodically.
    pub fn sync_all(&mut self, trigger: Trigger) -> Result<SyncReport, SyncError> {
        let started = std::time::Instant::now();
        let corr = self.next_correlation();
        self.emit(
            EventCategory::SyncStarted,
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
        self.emit(EventCategory::SyncCompleted, &corr, payload);
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
            let (base, left, right) = digests(item, state.as_ref());
            let drift = detect(&base, &left, &right);
            let plan =
                plan(&drift, &Directions::default(), &self.config.policy.core(), &PlanContext::at(self.clock.now()));
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

    /// Marks rows that needed nothing as synced now, in one transaction.
    fn touch(&self, rowids: impl Iterator<Item = i64>) -> Result<(), SyncError> {
        let db = self.db;
        let now = self.clock.now().0;
        let tx = Savepoint::new(&db.conn).map_err(|e| db.err(e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE items SET last_synced = ?1, sync_error = NULL, sync_attempts = 0 WHERE rowid = ?2 \
                     AND NOT (sync_error IS NOT NULL AND sync_error LIKE 'conflict%')",
                )
                .map_err(|e| db.err(e))?;
            for r in rowids {
                stmt.execute(params![now, r]).map_err(|e| db.err(e))?;
            }
        }
        Ok(tx.commit().map_err(|e| db.err(e))?)
    }

    #[allow(clippy::too_many_arguments)] // one per column of the history row
    fn history(
        &self,
        kind: Kind,
        id: &str,
        direction: SyncDirection,
        trigger: Trigger,
        outcome: &str,
        error: Option<&str>,
        files: &[String],
    ) -> Result<(), SyncError> {
        let db = self.db;
        db.conn
            .prepare_cached(
                "INSERT INTO sync_history(project, kind, item_id, direction, trigger, success, outcome, error, files_changed, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    self.config.project,
                    kind.as_str(),
                    id,
                    direction.as_str(),
                    trigger.as_str(),
                    error.is_none() as i64,
                    outcome,
                    error,
                    serde_json::to_string(files).expect("strings serialise"),
                    self.clock.now().0
                ])
            })
            .map_err(|e| db.err(e))?;
        Ok(())
    }

    fn keep_version(
        &self,
        kind: Kind,
        id: &str,
        doc: &str,
        side: &str,
        content: Option<&str>,
        reason: &str,
    ) -> Result<(), SyncError> {
        self.db
            .conn
            .prepare_cached(
                "INSERT INTO versions(project, kind, item_id, doc, side, content, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut s| {
                s.execute(params![self.config.project, kind.as_str(), id, doc, side, content, reason, self.clock.now().0])
            })
            .map_err(|e| self.db.err(e))?;
        Ok(())
    }

    /// Records a failed row: error on the row (attempts counted), a failed history row, an event.
    fn fail_item(
        &self,
        kind: Kind,
        id: &str,
        e: &SyncError,
        trigger: Trigger,
        corr: &str,
    ) -> Result<ItemOutcome, SyncError> {
        let msg = e.to_string();
        let db = self.db;
        db.conn
            .execute(
                "UPDATE items SET sync_error = ?1, sync_attempts = sync_attempts + 1 WHERE project = ?2 AND kind = ?3 AND id = ?4",
                params![msg, self.config.project, kind.as_str(), id],
            )
            .map_err(|e| db.err(e))?;
        let direction = match e {
            SyncError::File { .. } => SyncDirection::DbToFs,
            _ => SyncDirection::FsToDb,
        };
        self.history(kind, id, direction, trigger, "failed", Some(&msg), &[])?;
        self.emit(
            EventCategory::SyncFailed,
            corr,
            serde_json::json!({"scope": "openspec", "project": self.config.project, "kind": kind, "change_id": id,
                "direction": direction, "outcome": "failed", "error": msg}),
        );
        Ok(ItemOutcome {
            kind,
            id: id.to_string(),
            directions: vec![direction],
            outcome: "failed".into(),
            files: Vec::new(),
            conflicts: Vec::new(),
            error: Some(msg),
            resolved: 0,
        })
    }

    /// A row with no folder: written out when it was created in the database and never
    /// synced; otherwise its folder was removed, so it is soft-deleted.
    fn gone_from_disk(
        &mut self,
        kind: Kind,
        id: &str,
        state: &DbState,
        trigger: Trigger,
        corr: &str,
    ) -> Result<Option<ItemOutcome>, SyncError> {
        if state.last_synced.is_some() {
            return self.soft_delete(kind, id, state, trigger, corr).map(Some);
        }
        let empty = FsItem {
            kind,
            id: id.to_string(),
            path: state.path.clone(),
            archived_on: None,
            docs: BTreeMap::new(),
            modified: None,
            deltas: Vec::new(),
            deltas_digest: Digest::of_bytes(b"").to_hex(),
        };
        self.sync_item(Some(&empty), Some(state), trigger, corr)
    }

    fn soft_delete(
        &self,
        kind: Kind,
        id: &str,
        state: &DbState,
        trigger: Trigger,
        corr: &str,
    ) -> Result<ItemOutcome, SyncError> {
        let db = self.db;
        self.emit(
            EventCategory::SyncStarted,
            corr,
            serde_json::json!({"scope": "openspec", "kind": kind, "change_id": id, "direction": "fs->db", "trigger": trigger.as_str()}),
        );
        let files: Vec<String> = kind.docs().iter().map(|d| format!("{}/{d}", state.path)).collect();
        let tx = Savepoint::new(&db.conn).map_err(|e| db.err(e))?;
        tx.execute(
            "UPDATE items SET deleted = 1, last_synced = ?1, sync_error = NULL, sync_attempts = 0 WHERE rowid = ?2",
            params![self.clock.now().0, state.rowid],
        )
        .map_err(|e| db.err(e))?;
        self.history(kind, id, SyncDirection::FsToDb, trigger, "deleted", None, &files)?;
        tx.commit().map_err(|e| db.err(e))?;
        self.completed(corr, kind, id, &[SyncDirection::FsToDb], "deleted", &files);
        Ok(ItemOutcome {
            kind,
            id: id.to_string(),
            directions: vec![SyncDirection::FsToDb],
            outcome: "deleted".into(),
            files,
            conflicts: Vec::new(),
            error: None,
            resolved: 0,
        })
    }

    fn completed(&self, corr: &str, kind: Kind, id: &str, dirs: &[SyncDirection], outcome: &str, files: &[String]) {
        self.emit(
            EventCategory::SyncCompleted,
            corr,
            serde_json::json!({"scope": "openspec", "project": self.config.project, "kind": kind, "change_id": id,
                "direction": dirs.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(","), "outcome": outcome, "files": files}),
        );
    }

    /// Decides and applies one row; `Ok(None)` when nothing needed doing.
    fn sync_item(
        &mut self,
        fs_item: Option<&FsItem>,
        state: Option<&DbState>,
        trigger: Trigger,
        corr: &str,
    ) -> Result<Option<ItemOutcome>, SyncError> {
        let Some(item) = fs_item else { return Ok(None) };
        let kind = item.kind;
        let key_of = |doc: &str| format!("{}/{doc}", item.path);
        let (base, left, right) = digests(item, state);
        let drift = detect(&base, &left, &right);
        let plan = plan(&drift, &Directions::default(), &self.config.policy.core(), &PlanContext::at(self.clock.now()));
        let moved = state.is_some_and(|s| s.path != item.path);
        let restored = state.is_some_and(|s| s.deleted);
        let created = state.is_none();
        let deltas_changed = kind == Kind::Change
            && state.is_some_and(|s| s.deltas_digest.as_deref() != Some(item.deltas_digest.as_str()));
        let changes: Vec<_> = plan.actions.iter().filter(|a| a.kind != ActionKind::Skip).collect();
        if changes.is_empty() && !moved && !restored && !created && !deltas_changed {
            return Ok(None);
        }
        // Conflicts left open earlier, with the same two versions: already recorded and
        // reported; repeating them every pass would only fill the history.
        if let Some(s) = state.filter(|_| !moved && !restored && !deltas_changed) {
            if changes.iter().all(|a| a.kind == ActionKind::Conflict)
                && self.conflicts_known(item, s.rowid, &changes)?
            {
                return Ok(None);
            }
        }
        self.emit(
            EventCategory::SyncStarted,
            corr,
            serde_json::json!({"scope": "openspec", "project": self.config.project, "kind": kind, "change_id": item.id,
                "trigger": trigger.as_str()}),
        );
        let db = self.db;
        let now = self.clock.now();
        let tx = Savepoint::new(&db.conn).map_err(|e| db.err(e))?;
        let rowid = match state {
            Some(s) => s.rowid,
            None => {
                tx.execute(
                    "INSERT INTO items(kind, id, project, title, status, path) VALUES (?1, ?2, ?3, ?2, ?4, ?5)",
                    params![
                        kind.as_str(),
                        item.id,
                        self.config.project,
                        Status::derive(kind, None, false, 0, 0).as_str(),
                        item.path
                    ],
                )
                .map_err(|e| db.err(e))?;
                let rowid = tx.last_insert_rowid();
                for doc in kind.docs() {
                    tx.execute("INSERT INTO doc_state(item, doc, db_digest) VALUES (?1, ?2, '')", params![rowid, doc])
                        .map_err(|e| db.err(e))?;
                }
                rowid
            }
        };
        // The documents as they end up on disk (for title, progress, status).
        let mut final_docs: BTreeMap<&str, Option<String>> =
            kind.docs().iter().map(|d| (*d, item.docs.get(d).cloned())).collect();
        let mut to_db: Vec<String> = Vec::new();
        let mut to_fs: Vec<String> = Vec::new();
        let mut outcomes: Vec<&str> = Vec::new();
        let mut open_conflicts: Vec<String> = Vec::new();
        let mut conflicts = 0usize;
        // Database documents to set, written in one UPDATE so the row is indexed for
        // full-text search once, not once per document.
        let mut pending: Vec<(&str, Option<String>)> = Vec::new();
        let ctx = WriteContext { operation_id: format!("{}-{}", now.to_rfc3339().replace(':', ""), self.runs) };
        if created {
            outcomes.push("created");
        }
        if restored {
            outcomes.push("restored");
        }
        if moved {
            outcomes.push("moved");
        }
        for action in &changes {
            let doc = action.key.as_str();
            let fs_text = item.docs.get(doc).cloned();
            let file = key_of(doc);
            let fs_key = Key::new(file.clone())
                .map_err(|e| SyncError::Folder { path: self.openspec.join(&file), message: e.to_string() })?;
            let conflict_class = matches!(
                action.class,
                DriftClass::ConflictModifyModify
                    | DriftClass::ConflictAddAdd
                    | DriftClass::ConflictModifyDelete
                    | DriftClass::ConflictDeleteModify
            );
            match action.kind {
                ActionKind::CopyToRight | ActionKind::DeleteRight => {
                    if conflict_class || action.kind == ActionKind::DeleteRight {
                        let db_text = self.db_text(rowid, doc)?;
                        let reason = if conflict_class {
                            conflicts += 1;
                            "conflict: the files win"
                        } else {
                            "deleted on disk"
                        };
                        self.keep_version(kind, &item.id, doc, "db", db_text.as_deref(), reason)?;
                        if conflict_class {
                            self.record_conflict(
                                kind,
                                &item.id,
                                doc,
                                fs_text.as_deref(),
                                db_text.as_deref(),
                                "fs-wins",
                                corr,
                            )?;
                        }
                    }
                    pending.push((doc, fs_text.clone()));
                    to_db.push(file);
                }
                ActionKind::CopyToLeft | ActionKind::DeleteLeft => {
                    let db_text = self.db_text(rowid, doc)?;
                    if conflict_class {
                        conflicts += 1;
                        self.keep_version(
                            kind,
                            &item.id,
                            doc,
                            "fs",
                            fs_text.as_deref(),
                            "conflict: the database wins",
                        )?;
                    }
                    self.write_file(kind, &item.id, &fs_key, db_text.as_deref(), action.left.as_ref(), &ctx)?;
                    self.set_base(rowid, doc, db_text.as_deref())?;
                    final_docs.insert(doc, db_text);
                    to_fs.push(file);
                }
                ActionKind::Merge => {
                    let db_text = self.db_text(rowid, doc)?.unwrap_or_default();
                    let fs_t = fs_text.clone().unwrap_or_default();
                    let base_text = self.base_text(rowid, doc)?.unwrap_or_default();
                    let merged = text3(&base_text, &fs_t, &db_text, &TextMergeOptions::default());
                    conflicts += 1;
                    if merged.is_clean() {
                        self.write_file(kind, &item.id, &fs_key, Some(&merged.text), action.left.as_ref(), &ctx)?;
                        self.keep_version(kind, &item.id, doc, "db", Some(&db_text), "merged with the files")?;
                        pending.push((doc, Some(merged.text.clone())));
                        self.record_conflict(kind, &item.id, doc, Some(&fs_t), Some(&db_text), "merged", corr)?;
                        final_docs.insert(doc, Some(merged.text));
                        outcomes.push("merged");
                        to_fs.push(file.clone());
                        to_db.push(file);
                    } else {
                        self.keep_version(kind, &item.id, doc, "db", Some(&db_text), "merge conflict: the files win")?;
                        self.record_conflict(
                            kind,
                            &item.id,
                            doc,
                            Some(&fs_t),
                            Some(&db_text),
                            "merge fell back to fs",
                            corr,
                        )?;
                        pending.push((doc, Some(fs_t.clone())));
                        to_db.push(file);
                    }
                }
                ActionKind::UpdateBase => {
                    self.set_base(rowid, doc, fs_text.as_deref())?;
                }
                ActionKind::Conflict => {
                    conflicts += 1;
                    let db_text = self.db_text(rowid, doc)?;
                    self.record_conflict(kind, &item.id, doc, fs_text.as_deref(), db_text.as_deref(), "open", corr)?;
                    open_conflicts.push(doc.to_string());
                }
                ActionKind::Skip => {}
            }
        }
        // Derived fields from the documents as they now stand on disk.
        let (done, total) = match final_docs.get("tasks.md").cloned().flatten() {
            Some(t) => {
                let p = count_tasks(&t);
                (p.completed as i64, p.total as i64)
            }
            None => (0, 0),
        };
        let (title, requirements) = match kind {
            Kind::Change => (
                final_docs
                    .get("proposal.md")
                    .cloned()
                    .flatten()
                    .map(|p| change_title(&p, &item.id))
                    .unwrap_or_else(|| item.id.clone()),
                item.delta_requirements(),
            ),
            Kind::Spec => (
                item.id.clone(),
                final_docs
                    .get("spec.md")
                    .cloned()
                    .flatten()
                    .and_then(|s| parse_spec(&s).ok())
                    .map(|s| s.requirements.len() as i64)
                    .unwrap_or(0),
            ),
        };
        let status = Status::derive(kind, state.map(|s| s.status), item.archived_on.is_some(), done, total);
        let sync_error = if open_conflicts.is_empty() {
            None
        } else {
            Some(format!(
                "conflict in {}: edited on disk and in the database (policy manual); edit either side to resolve",
                open_conflicts.join(", ")
            ))
        };
        let fs_modified = if to_fs.is_empty() { item.modified } else { Some(now) };
        if pending.is_empty() {
            tx.execute("UPDATE items SET title = ?1 WHERE rowid = ?2 AND title IS NOT ?1", params![title, rowid])
                .map_err(|e| db.err(e))?;
        } else {
            let mut sql = String::from("UPDATE items SET title = ?1");
            let mut values: Vec<rusqlite::types::Value> = vec![title.clone().into()];
            for (doc, text) in &pending {
                values.push(text.clone().map_or(rusqlite::types::Value::Null, Into::into));
                sql.push_str(&format!(", {} = ?{}", doc_column(doc).expect("known document"), values.len()));
            }
            values.push(rowid.into());
            sql.push_str(&format!(" WHERE rowid = ?{}", values.len()));
            tx.execute(&sql, rusqlite::params_from_iter(values)).map_err(|e| db.err(e))?;
            // After the UPDATE: its trigger clears the digests of changed documents.
            for (doc, text) in &pending {
                self.set_base(rowid, doc, text.as_deref())?;
            }
        }
        tx.execute(
            "UPDATE items SET status = ?1, path = ?2, archived_on = ?3, tasks_done = ?4, tasks_total = ?5, \
             progress = ?6, requirements = ?7, last_synced = ?8, fs_modified = ?9, sync_error = ?10, sync_attempts = 0, \
             deleted = 0, deltas_digest = ?12 WHERE rowid = ?11",
            params![
                status.as_str(),
                item.path,
                item.archived_on,
                done,
                total,
                if total == 0 { 0.0 } else { done as f64 * 100.0 / total as f64 },
                requirements,
                now.0,
                fs_modified.map(|t| t.0),
                sync_error,
                rowid,
                if kind == Kind::Change { Some(item.deltas_digest.as_str()) } else { None }
            ],
        )
        .map_err(|e| db.err(e))?;
        if deltas_changed && to_db.is_empty() && !moved && !restored {
            // Only delta specs changed: the requirement count was refreshed.
            to_db.extend(item.deltas.iter().map(|(rel, _)| format!("{}/{rel}", item.path)));
        }
        if !to_db.is_empty() && !created && !outcomes.contains(&"merged") {
            outcomes.push("updated");
        }
        if !to_fs.is_empty() && !outcomes.contains(&"merged") {
            outcomes.push("written");
        }
        if !open_conflicts.is_empty() {
            outcomes.push("conflict");
        }
        if outcomes.is_empty() {
            outcomes.push("base");
        }
        let outcome = outcomes.join("+");
        let mut directions = Vec::new();
        if !to_db.is_empty() || moved || restored || created {
            directions.push(SyncDirection::FsToDb);
            let mut files = to_db.clone();
            if files.is_empty() && (moved || created || restored) {
                files = item.docs.keys().map(|d| key_of(d)).collect();
            }
            self.history(kind, &item.id, SyncDirection::FsToDb, trigger, &outcome, None, &files)?;
        }
        if !to_fs.is_empty() {
            directions.push(SyncDirection::DbToFs);
            self.history(kind, &item.id, SyncDirection::DbToFs, trigger, &outcome, None, &to_fs)?;
        }
        tx.commit().map_err(|e| db.err(e))?;
        let mut files = to_db;
        files.extend(to_fs);
        files.sort();
        files.dedup();
        self.completed(corr, kind, &item.id, &directions, &outcome, &files);
        Ok(Some(ItemOutcome {
            kind,
            id: item.id.clone(),
            directions,
            outcome,
            files,
            conflicts: open_conflicts,
            error: None,
            resolved: conflicts,
        }))
    }

    /// Whether every conflict in `actions` is already recorded as open with these same versions.
    fn conflicts_known(
        &self,
        item: &FsItem,
        rowid: i64,
        actions: &[&twinsync_core::Action],
    ) -> Result<bool, SyncError> {
        for a in actions {
            let doc = a.key.as_str();
            let db_text = self.db_text(rowid, doc)?;
            let known: bool = self
                .db
                .conn
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM conflicts WHERE project = ?1 AND kind = ?2 AND item_id = ?3 AND doc = ?4 \
                     AND fs_content IS ?5 AND db_content IS ?6 AND resolution = 'open')",
                    params![self.config.project, item.kind.as_str(), item.id, doc, item.docs.get(doc), db_text],
                    |r| r.get(0),
                )
                .map_err(|e| self.db.err(e))?;
            if !known {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Writes (or with `None` deletes) a file through the filesystem replica, compare-and-swap
    /// on what the scan saw.
    fn write_file(
        &mut self,
        kind: Kind,
        id: &str,
        key: &Key,
        text: Option<&str>,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<(), SyncError> {
        let r = match (text, expected) {
            (Some(t), _) => self.fs.write(key, &Content::Text(t.to_string()), expected, ctx).map(|_| ()),
            (None, Some(d)) => self.fs.delete(key, d, ctx),
            (None, None) => Ok(()),
        };
        r.map_err(|source| SyncError::File { kind, id: id.to_string(), source })
    }

    /// Records `text` as the last-synced base of a document and as the database's digest.
    fn set_base(&self, rowid: i64, doc: &str, text: Option<&str>) -> Result<(), SyncError> {
        let db = self.db;
        let d = text.map_or_else(String::new, |t| text_digest(t).to_string());
        let base = text.map(|t| text_digest(t).to_string());
        db.conn
            .prepare_cached(
                "INSERT INTO doc_state(item, doc, db_digest, base_digest, base_content) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT(item, doc) DO UPDATE SET db_digest = excluded.db_digest, base_digest = excluded.base_digest, \
                 base_content = excluded.base_content",
            )
            .and_then(|mut s| s.execute(params![rowid, doc, d, base, text]))
            .map_err(|e| db.err(e))?;
        Ok(())
    }

    /// Records a conflict (once per distinct pair of versions) and sends a `conflict` event.
    #[allow(clippy::too_many_arguments)]
    fn record_conflict(
        &self,
        kind: Kind,
        id: &str,
        doc: &str,
        fs_text: Option<&str>,
        db_text: Option<&str>,
        resolution: &str,
        corr: &str,
    ) -> Result<(), SyncError> {
        let db = self.db;
        let same: bool = db
            .conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM conflicts WHERE project = ?1 AND kind = ?2 AND item_id = ?3 AND doc = ?4 \
                 AND fs_content IS ?5 AND db_content IS ?6 AND resolution = ?7)",
                params![self.config.project, kind.as_str(), id, doc, fs_text, db_text, resolution],
                |r| r.get(0),
            )
            .map_err(|e| db.err(e))?;
        if same {
            return Ok(());
        }
        db.conn
            .execute(
                "INSERT INTO conflicts(project, kind, item_id, doc, fs_content, db_content, resolution, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![self.config.project, kind.as_str(), id, doc, fs_text, db_text, resolution, self.clock.now().0],
            )
            .map_err(|e| db.err(e))?;
        self.emit(
            EventCategory::Conflict,
            corr,
            serde_json::json!({"scope": "openspec", "project": self.config.project, "kind": kind, "change_id": id,
                "key": doc, "direction": if resolution == "open" { "none" } else { "fs->db" },
                "outcome": resolution, "reason": format!("{doc} edited on disk and in the database")}),
        );
        Ok(())
    }
}

/// Maps a path relative to `openspec/` to the row it belongs to: `changes/<id>/…`,
/// `changes/archive/<dir>/…` (the archived folder name; see [`Syncer`] for its id) or
/// `specs/<id>/spec.md`. `None` for anything else (config, project.md).
pub fn row_of_path(rel: &str) -> Option<(Kind, String, bool)> {
    let parts: Vec<&str> = rel.split('/').collect();
    match parts.as_slice() {
        ["changes", "archive", dir, ..] => Some((Kind::Change, (*dir).to_string(), true)),
        ["changes", "archive"] => None,
        ["changes", id, ..] if !id.starts_with('.') => Some((Kind::Change, (*id).to_string(), false)),
        ["specs", rest @ .., "spec.md"] if !rest.is_empty() => Some((Kind::Spec, rest.join("/"), false)),
        ["specs", rest @ ..] if !rest.is_empty() => Some((Kind::Spec, rest.join("/"), false)),
        _ => None,
    }
}

type DigestMap = BTreeMap<Key, Digest>;

/// The base, files and database digests of a row's documents, keyed by document name.
fn digests(item: &FsItem, state: Option<&DbState>) -> (DigestMap, DigestMap, DigestMap) {
    let (mut base, mut left, mut right) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for doc in item.kind.docs() {
        let k = Key::new(*doc).expect("document names are keys");
        if let Some(t) = item.docs.get(doc) {
            left.insert(k.clone(), text_digest(t));
        }
        if let Some((dbd, based)) = state.and_then(|s| s.docs.get(*doc)) {
            if let Some(d) = dbd {
                right.insert(k.clone(), *d);
            }
            if let Some(d) = based {
                base.insert(k, *d);
            }
        }
    }
    (base, left, right)
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

/// A savepoint on the connection: released by [`Savepoint::commit`], rolled back when
/// dropped uncommitted (an error left the row half done). Outside a transaction it is one.
struct Savepoint<'c> {
    conn: &'c rusqlite::Connection,
    done: bool,
}

impl<'c> Savepoint<'c> {
    fn new(conn: &'c rusqlite::Connection) -> rusqlite::Result<Savepoint<'c>> {
        conn.execute_batch("SAVEPOINT openspec_sync")?;
        Ok(Savepoint { conn, done: false })
    }

    fn commit(mut self) -> rusqlite::Result<()> {
        self.done = true;
        self.conn.execute_batch("RELEASE openspec_sync")
    }
}

impl std::ops::Deref for Savepoint<'_> {
    type Target = rusqlite::Connection;
    fn deref(&self) -> &rusqlite::Connection {
        self.conn
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK TO openspec_sync; RELEASE openspec_sync");
        }
    }
}
