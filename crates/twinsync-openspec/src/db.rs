//! The database side of OpenSpec: one row per change and main spec with its documents,
//! lifecycle status, task progress, requirement count and sync state, plus the sync
//! history, the versions a sync replaced (so nothing is lost), recorded conflicts, and
//! the work-queue queries.
//!
//! The database is an SQLite file (bundled SQLite, FTS5; `.twinsync/openspec.db` by
//! default) or a PostgreSQL server (the `openspec` schema), reached through the SQL seam
//! of [`twinsync_core::sql`]: every query here is written once, and only the table
//! layout and full-text search differ per database, so both give the same answers.
//! Documents are edited through [`Db::edit_document`]; every read hashes the text it
//! finds, so a row changed by other SQL is noticed at the next sync.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use twinsync_core::sql::{Dialect, SqlConn, SqlError, SqlRow, SqlValue};
use twinsync_core::{Content, Digest, HashRules, Timestamp};

use crate::change::change_title;
use crate::delta::parse_delta_spec;
use crate::spec::parse_spec;
use crate::sqlite_conn::SqliteConn;
use crate::tasks::count_tasks;

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database refused (`path` names the file, or the server without a password).
    #[error("openspec database {path}: {message}")]
    Sql {
        /// The database file (`:memory:` for an in-memory one) or `postgres://user@host:port/db`.
        path: String,
        /// The database's message.
        message: String,
    },
    /// The folder for the database file could not be created.
    #[error("cannot create {path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file was written by a newer twinsync with a table layout this one does not know.
    #[error("openspec database {path}: table layout version {found} is newer than this twinsync supports ({supported}); upgrade twinsync")]
    NewerSchema {
        /// The database file.
        path: String,
        /// Its version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// No row with this id.
    #[error("no {kind} {id:?} in project {project:?} in the openspec database")]
    NotFound {
        /// Project.
        project: String,
        /// `change` or `spec`.
        kind: Kind,
        /// The id.
        id: String,
    },
    /// A document name that the kind of row does not hold.
    #[error("{kind} {id:?} has no document {doc:?}; expected one of {expected}")]
    UnknownDocument {
        /// `change` or `spec`.
        kind: Kind,
        /// The id.
        id: String,
        /// The name given.
        doc: String,
        /// The names allowed.
        expected: String,
    },
}

/// Documents a change row holds.
pub const CHANGE_DOCS: [&str; 3] = ["proposal.md", "design.md", "tasks.md"];
/// Documents a spec row holds.
pub const SPEC_DOCS: [&str; 1] = ["spec.md"];

/// Whether a row is a change or a main spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A change (`changes/<id>/` or `changes/archive/<date>-<id>/`).
    Change,
    /// A main spec (`specs/<id>/spec.md`).
    Spec,
}

impl Kind {
    /// `change` or `spec`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Change => "change",
            Kind::Spec => "spec",
        }
    }
    /// The documents a row of this kind holds.
    pub fn docs(self) -> &'static [&'static str] {
        match self {
            Kind::Change => &CHANGE_DOCS,
            Kind::Spec => &SPEC_DOCS,
        }
    }
    pub(crate) fn parse(s: &str) -> Kind {
        if s == "spec" {
            Kind::Spec
        } else {
            Kind::Change
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lifecycle status of a row. Files hold no status: it is kept in the database and
/// moved forward by what the files show (see [`Status::derive`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being written.
    Proposing,
    /// Accepted, not yet picked up.
    Approved,
    /// Someone owns it.
    Assigned,
    /// Some tasks are done.
    InProgress,
    /// Every task is done.
    Review,
    /// Moved under `changes/archive/`.
    Archived,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 6] =
        [Status::Proposing, Status::Approved, Status::Assigned, Status::InProgress, Status::Review, Status::Archived];

    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Proposing => "proposing",
            Status::Approved => "approved",
            Status::Assigned => "assigned",
            Status::InProgress => "in_progress",
            Status::Review => "review",
            Status::Archived => "archived",
        }
    }

    /// The status after a sync saw the files: archived when under `archive/`; review when
    /// every task is done; in progress when some are; otherwise the earlier status a
    /// person set (proposing, approved, assigned) stays, and anything later falls back
    /// to proposing. Specs are approved.
    pub fn derive(kind: Kind, previous: Option<Status>, archived: bool, done: i64, total: i64) -> Status {
        if kind == Kind::Spec {
            return Status::Approved;
        }
        if archived {
            return Status::Archived;
        }
        if total > 0 && done == total {
            return Status::Review;
        }
        if done > 0 {
            return Status::InProgress;
        }
        match previous {
            Some(s @ (Status::Proposing | Status::Approved | Status::Assigned)) => s,
            _ => Status::Proposing,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of [`Status::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}; expected one of proposing, approved, assigned, in_progress, review, archived")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL.into_iter().find(|x| x.as_str() == s).ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// Which way a sync copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SyncDirection {
    /// Files into the database.
    #[serde(rename = "fs->db")]
    FsToDb,
    /// The database onto files.
    #[serde(rename = "db->fs")]
    DbToFs,
}

impl SyncDirection {
    /// `fs->db` or `db->fs`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SyncDirection::FsToDb => "fs->db",
            SyncDirection::DbToFs => "db->fs",
        }
    }
}

impl fmt::Display for SyncDirection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change or spec as the database holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRow {
    /// `change` or `spec`.
    pub kind: Kind,
    /// Change id (without the archive date) or capability id (`area/cap`).
    pub id: String,
    /// Project the row belongs to.
    pub project: String,
    /// Title (the proposal's heading for changes, the id for specs).
    pub title: String,
    /// Lifecycle status.
    pub status: Status,
    /// Folder under `openspec/` (`changes/x`, `changes/archive/2025-01-02-x`, `specs/a/b`).
    pub path: String,
    /// Archive date (`YYYY-MM-DD`) when archived.
    pub archived_on: Option<String>,
    /// `proposal.md` as the database holds it.
    pub proposal: Option<String>,
    /// `design.md`.
    pub design: Option<String>,
    /// `tasks.md`.
    pub tasks: Option<String>,
    /// `spec.md` (specs only).
    pub spec: Option<String>,
    /// Tasks checked.
    pub tasks_done: i64,
    /// Tasks in all.
    pub tasks_total: i64,
    /// Requirements (in the spec, or across the change's delta specs).
    pub requirements: i64,
    /// When a sync last looked at the row (RFC 3339 in JSON).
    #[serde(with = "opt_rfc3339")]
    pub last_synced: Option<Timestamp>,
    /// Newest modification time of its files.
    #[serde(with = "opt_rfc3339")]
    pub fs_modified: Option<Timestamp>,
    /// Last edit made in the database.
    #[serde(with = "opt_rfc3339")]
    pub db_modified: Option<Timestamp>,
    /// The last sync error, cleared by the next successful sync.
    pub sync_error: Option<String>,
    /// Removed from disk (kept, marked deleted).
    pub deleted: bool,
}

impl ItemRow {
    /// Task progress in percent (0 when there are no tasks).
    pub fn progress(&self) -> f64 {
        if self.tasks_total == 0 {
            0.0
        } else {
            self.tasks_done as f64 * 100.0 / self.tasks_total as f64
        }
    }
    /// A document's text by name.
    pub fn document(&self, doc: &str) -> Option<&str> {
        match doc {
            "proposal.md" => self.proposal.as_deref(),
            "design.md" => self.design.as_deref(),
            "tasks.md" => self.tasks.as_deref(),
            "spec.md" => self.spec.as_deref(),
            _ => None,
        }
    }
}

/// One row of the sync history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    /// Row id.
    pub seq: i64,
    /// Project.
    pub project: String,
    /// `change` or `spec`.
    pub kind: Kind,
    /// The change or spec.
    pub item_id: String,
    /// Which way.
    pub direction: SyncDirection,
    /// What set it off (`file_watcher`, `periodic`, `user_edit`, `manual`).
    pub trigger: String,
    /// Whether it succeeded.
    pub success: bool,
    /// What happened (`applied`, `merged`, `conflict`, `moved`, `deleted`, `restored`, `failed`).
    pub outcome: String,
    /// The error when it failed.
    pub error: Option<String>,
    /// Files (relative to `openspec/`) written or read.
    pub files_changed: Vec<String>,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: Timestamp,
}

/// A document version a sync replaced or removed, kept so it can be recovered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRow {
    /// Row id.
    pub seq: i64,
    /// The change or spec.
    pub item_id: String,
    /// The document.
    pub doc: String,
    /// Which side held it (`db` or `fs`).
    pub side: String,
    /// Its text (`None`: the document was absent).
    pub content: Option<String>,
    /// Why it was replaced (`conflict: fs wins`, `deleted on disk`, ...).
    pub reason: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: Timestamp,
}

/// A conflict a sync found on one document, and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictRow {
    /// Row id.
    pub seq: i64,
    /// The change or spec.
    pub item_id: String,
    /// The document.
    pub doc: String,
    /// The files' version.
    pub fs_content: Option<String>,
    /// The database's version.
    pub db_content: Option<String>,
    /// How it was resolved (`fs-wins`, `merge fell back to fs`, `open` for manual).
    pub resolution: String,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: Timestamp,
}

/// Work-queue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuerySort {
    /// By id.
    #[default]
    Id,
    /// Least progress first (ties by id).
    Progress,
    /// Oldest first, by the files' modification time (ties by id).
    Age,
}

/// A work-queue query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Only this project.
    pub project: Option<String>,
    /// Only changes or only specs.
    pub kind: Option<Kind>,
    /// Only this status.
    pub status: Option<Status>,
    /// Full-text search of title and documents (every word must occur).
    pub search: Option<String>,
    /// Order.
    pub sort: QuerySort,
    /// Also rows removed from disk.
    pub include_deleted: bool,
    /// At most this many rows.
    pub limit: Option<usize>,
}

/// The openspec database: an SQLite file, or the `openspec` schema of a PostgreSQL
/// database, behind the SQL seam ([`twinsync_core::sql`]). Every query is written once;
/// only the table layout and full-text search differ per database.
pub struct Db {
    conn: Box<dyn SqlConn>,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db").field("db", &self.conn.label()).finish()
    }
}

/// Version of the table layout, kept in `PRAGMA user_version` (SQLite) or
/// `openspec.layout` (PostgreSQL).
pub const SCHEMA_VERSION: i64 = 1;

/// The PostgreSQL schema (namespace) the OpenSpec tables live in, apart from the store's.
pub const PG_SCHEMA: &str = "openspec";

/// The layout on PostgreSQL: the SQLite layout's tables and columns, with identity
/// columns for rowids, and byte-order collation on the columns answers are sorted by,
/// so both databases list rows in the same order. The triggers that clear `doc_state`
/// digests on SQLite are left out: nothing reads those digests since syncs went
/// through the engine, and a new PostgreSQL database holds no state from before.
const PG_LAYOUT: &str = r#"
CREATE SCHEMA IF NOT EXISTS openspec;
CREATE TABLE IF NOT EXISTS openspec.layout(version BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS openspec.items(
    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('change', 'spec')),
    id TEXT COLLATE "C" NOT NULL,
    project TEXT COLLATE "C" NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposing', 'approved', 'assigned', 'in_progress', 'review', 'archived')),
    path TEXT COLLATE "C" NOT NULL,
    archived_on TEXT,
    proposal TEXT,
    design TEXT,
    tasks TEXT,
    spec TEXT,
    tasks_done BIGINT NOT NULL DEFAULT 0,
    tasks_total BIGINT NOT NULL DEFAULT 0,
    progress DOUBLE PRECISION NOT NULL DEFAULT 0,
    requirements BIGINT NOT NULL DEFAULT 0,
    last_synced BIGINT,
    fs_modified BIGINT,
    db_modified BIGINT,
    sync_error TEXT,
    sync_attempts BIGINT NOT NULL DEFAULT 0,
    deleted BIGINT NOT NULL DEFAULT 0,
    deltas_digest TEXT,
    UNIQUE (project, kind, id)
);
CREATE INDEX IF NOT EXISTS items_by_status ON openspec.items(project, status, deleted);
CREATE INDEX IF NOT EXISTS items_by_synced ON openspec.items(last_synced);
CREATE INDEX IF NOT EXISTS items_by_path ON openspec.items(project, path);
CREATE TABLE IF NOT EXISTS openspec.doc_state(
    item BIGINT NOT NULL REFERENCES openspec.items(rowid) ON DELETE CASCADE,
    doc TEXT COLLATE "C" NOT NULL,
    db_digest TEXT,
    base_digest TEXT,
    base_content TEXT,
    PRIMARY KEY (item, doc)
);
CREATE TABLE IF NOT EXISTS openspec.delta_specs(
    item BIGINT NOT NULL REFERENCES openspec.items(rowid) ON DELETE CASCADE,
    rel TEXT COLLATE "C" NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (item, rel)
);
CREATE TABLE IF NOT EXISTS openspec.sync_history(
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('fs->db', 'db->fs')),
    trigger TEXT NOT NULL CHECK (trigger IN ('file_watcher', 'periodic', 'user_edit', 'manual')),
    success BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT,
    files_changed TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_item ON openspec.sync_history(project, item_id, seq);
CREATE TABLE IF NOT EXISTS openspec.versions(
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    side TEXT NOT NULL,
    content TEXT,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS versions_by_item ON openspec.versions(project, item_id, seq);
CREATE TABLE IF NOT EXISTS openspec.conflicts(
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    fs_content TEXT,
    db_content TEXT,
    resolution TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS conflicts_by_item ON openspec.conflicts(project, item_id, seq);
"#;

/// The layout on SQLite.
const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS items(
    rowid INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('change', 'spec')),
    id TEXT NOT NULL,
    project TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposing', 'approved', 'assigned', 'in_progress', 'review', 'archived')),
    path TEXT NOT NULL,
    archived_on TEXT,
    proposal TEXT,
    design TEXT,
    tasks TEXT,
    spec TEXT,
    tasks_done INTEGER NOT NULL DEFAULT 0,
    tasks_total INTEGER NOT NULL DEFAULT 0,
    progress REAL NOT NULL DEFAULT 0,
    requirements INTEGER NOT NULL DEFAULT 0,
    last_synced INTEGER,
    fs_modified INTEGER,
    db_modified INTEGER,
    sync_error TEXT,
    sync_attempts INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    deltas_digest TEXT,
    UNIQUE (project, kind, id)
);
CREATE INDEX IF NOT EXISTS items_by_status ON items(project, status, deleted);
CREATE INDEX IF NOT EXISTS items_by_synced ON items(last_synced);
CREATE INDEX IF NOT EXISTS items_by_path ON items(project, path);

-- Per document: the database version's digest ('' when absent, NULL: hash the text again)
-- and the last-synced base.
CREATE TABLE IF NOT EXISTS doc_state(
    item INTEGER NOT NULL REFERENCES items(rowid) ON DELETE CASCADE,
    doc TEXT NOT NULL,
    db_digest TEXT,
    base_digest TEXT,
    base_content TEXT,
    PRIMARY KEY (item, doc)
) WITHOUT ROWID;

-- A change's delta specs (`specs/<capability>/spec.md` under its folder), as the files
-- side of an `openspec` pair syncs them.
CREATE TABLE IF NOT EXISTS delta_specs(
    item INTEGER NOT NULL REFERENCES items(rowid) ON DELETE CASCADE,
    rel TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (item, rel)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS sync_history(
    seq INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('fs->db', 'db->fs')),
    trigger TEXT NOT NULL CHECK (trigger IN ('file_watcher', 'periodic', 'user_edit', 'manual')),
    success INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT,
    files_changed TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_item ON sync_history(project, item_id, seq);

CREATE TABLE IF NOT EXISTS versions(
    seq INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    side TEXT NOT NULL,
    content TEXT,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS versions_by_item ON versions(project, item_id, seq);

CREATE TABLE IF NOT EXISTS conflicts(
    seq INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    fs_content TEXT,
    db_content TEXT,
    resolution TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS conflicts_by_item ON conflicts(project, item_id, seq);

CREATE VIRTUAL TABLE IF NOT EXISTS items_fts USING fts5(
    title, proposal, design, tasks, spec, content='items', content_rowid='rowid'
);
CREATE TRIGGER IF NOT EXISTS items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts(rowid, title, proposal, design, tasks, spec)
    VALUES (new.rowid, new.title, new.proposal, new.design, new.tasks, new.spec);
END;
CREATE TRIGGER IF NOT EXISTS items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts(items_fts, rowid, title, proposal, design, tasks, spec)
    VALUES ('delete', old.rowid, old.title, old.proposal, old.design, old.tasks, old.spec);
END;
CREATE TRIGGER IF NOT EXISTS items_fts_update AFTER UPDATE OF title, proposal, design, tasks, spec ON items BEGIN
    INSERT INTO items_fts(items_fts, rowid, title, proposal, design, tasks, spec)
    VALUES ('delete', old.rowid, old.title, old.proposal, old.design, old.tasks, old.spec);
    INSERT INTO items_fts(rowid, title, proposal, design, tasks, spec)
    VALUES (new.rowid, new.title, new.proposal, new.design, new.tasks, new.spec);
END;
CREATE TRIGGER IF NOT EXISTS items_stale_proposal AFTER UPDATE OF proposal ON items
WHEN old.proposal IS NOT new.proposal BEGIN
    UPDATE doc_state SET db_digest = NULL WHERE item = new.rowid AND doc = 'proposal.md';
END;
CREATE TRIGGER IF NOT EXISTS items_stale_design AFTER UPDATE OF design ON items
WHEN old.design IS NOT new.design BEGIN
    UPDATE doc_state SET db_digest = NULL WHERE item = new.rowid AND doc = 'design.md';
END;
CREATE TRIGGER IF NOT EXISTS items_stale_tasks AFTER UPDATE OF tasks ON items
WHEN old.tasks IS NOT new.tasks BEGIN
    UPDATE doc_state SET db_digest = NULL WHERE item = new.rowid AND doc = 'tasks.md';
END;
CREATE TRIGGER IF NOT EXISTS items_stale_spec AFTER UPDATE OF spec ON items
WHEN old.spec IS NOT new.spec BEGIN
    UPDATE doc_state SET db_digest = NULL WHERE item = new.rowid AND doc = 'spec.md';
END;
"#;

/// Column holding a document.
pub(crate) fn doc_column(doc: &str) -> Option<&'static str> {
    match doc {
        "proposal.md" => Some("proposal"),
        "design.md" => Some("design"),
        "tasks.md" => Some("tasks"),
        "spec.md" => Some("spec"),
        _ => None,
    }
}

/// Digest of a document's text under the default rules (BOM and line endings normalised).
pub fn text_digest(text: &str) -> Digest {
    HashRules::default().digest(&Content::Text(text.to_string())).expect("text always digests")
}

const ITEM_COLUMNS: &str = "kind, id, project, title, status, path, archived_on, proposal, design, tasks, spec, \
     tasks_done, tasks_total, requirements, last_synced, fs_modified, db_modified, sync_error, deleted";

/// Column `i` of a row as the seam gave it: text, integer, or either optional.
fn text_at(r: &SqlRow, i: usize) -> String {
    r.get(i).and_then(SqlValue::as_text).unwrap_or_default().to_string()
}
fn opt_text_at(r: &SqlRow, i: usize) -> Option<String> {
    r.get(i).and_then(SqlValue::as_text).map(str::to_string)
}
fn int_at(r: &SqlRow, i: usize) -> i64 {
    r.get(i).and_then(SqlValue::as_int).unwrap_or(0)
}
fn opt_int_at(r: &SqlRow, i: usize) -> Option<i64> {
    r.get(i).and_then(SqlValue::as_int)
}

fn item_from_row(r: &SqlRow) -> ItemRow {
    let ts = |i: usize| opt_int_at(r, i).map(Timestamp);
    ItemRow {
        kind: Kind::parse(&text_at(r, 0)),
        id: text_at(r, 1),
        project: text_at(r, 2),
        title: text_at(r, 3),
        status: text_at(r, 4).parse().unwrap_or(Status::Proposing),
        path: text_at(r, 5),
        archived_on: opt_text_at(r, 6),
        proposal: opt_text_at(r, 7),
        design: opt_text_at(r, 8),
        tasks: opt_text_at(r, 9),
        spec: opt_text_at(r, 10),
        tasks_done: int_at(r, 11),
        tasks_total: int_at(r, 12),
        requirements: int_at(r, 13),
        last_synced: ts(14),
        fs_modified: ts(15),
        db_modified: ts(16),
        sync_error: opt_text_at(r, 17),
        deleted: int_at(r, 18) != 0,
    }
}

/// Turns user text into an FTS5 query where every word must occur: each word quoted, so
/// punctuation and FTS operators in the text are searched for, never interpreted.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text.split_whitespace().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect();
    if words.is_empty() {
        None
    } else {
        Some(words.join(" "))
    }
}

/// An open transaction on the seam: rolled back when dropped uncommitted, so an error
/// part way leaves no half write.
pub(crate) struct Tx<'a> {
    conn: &'a dyn SqlConn,
    done: bool,
}

impl Tx<'_> {
    /// Commits.
    pub(crate) fn commit(mut self) -> Result<(), SqlError> {
        self.done = true;
        self.conn.batch("COMMIT")
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            // The statement that failed already says why; a failed rollback adds nothing.
            let _ = self.conn.batch("ROLLBACK");
        }
    }
}

/// Why the SQLite file could not be opened.
enum SqliteOpen {
    Sqlite(rusqlite::Error),
    Newer(i64),
}

impl Db {
    /// Opens (creating if needed, with its folder) the SQLite database at `path`.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::Io { path: dir.to_path_buf(), source })?;
        }
        let name = path.display().to_string();
        // A watcher and a CLI call may open a fresh file at once; every step of `init` is
        // idempotent, so an open that finds it busy starts over.
        let conn = twinsync_sqlite::retry_while_busy(
            || {
                let conn = Connection::open(path).map_err(SqliteOpen::Sqlite)?;
                init_sqlite(&conn)?;
                Ok(conn)
            },
            |e| matches!(e, SqliteOpen::Sqlite(source) if twinsync_sqlite::is_busy(source)),
        )
        .map_err(|e| sqlite_open_error(&name, e))?;
        Ok(Db { conn: Box::new(SqliteConn::new(conn, name)) })
    }

    /// A database in memory (tests, benchmarks).
    pub fn open_in_memory() -> Result<Db, DbError> {
        let name = ":memory:";
        let conn = Connection::open_in_memory().map_err(|e| sqlite_open_error(name, SqliteOpen::Sqlite(e)))?;
        init_sqlite(&conn).map_err(|e| sqlite_open_error(name, e))?;
        Ok(Db { conn: Box::new(SqliteConn::new(conn, name)) })
    }

    /// The database behind `conn`, its tables created or checked first: how a
    /// PostgreSQL server (twinsync-postgres's connection) becomes the OpenSpec database.
    /// Openers racing on a fresh database take turns under an advisory lock.
    pub fn with_conn(conn: Box<dyn SqlConn>) -> Result<Db, DbError> {
        let db = Db { conn };
        if db.conn.dialect() == Dialect::Sqlite {
            // An SQLite connection from elsewhere: the same layout as `open` makes.
            db.conn.batch(SCHEMA).map_err(|e| db.err(e))?;
            return Ok(db);
        }
        // The common case, with no lock: the layout is there and current (creating
        // indexes again would wait for every write in flight).
        let laid_out = db
            .conn
            .query("SELECT to_regclass('openspec.layout') IS NOT NULL", &[])
            .map_err(|e| db.err(e))?
            .first()
            .and_then(|r| opt_int_at(r, 0))
            == Some(1);
        if laid_out {
            let rows = db.conn.query("SELECT max(version) FROM openspec.layout", &[]).map_err(|e| db.err(e))?;
            match rows.first().and_then(|r| opt_int_at(r, 0)) {
                Some(SCHEMA_VERSION) => return Ok(db),
                Some(v) if v > SCHEMA_VERSION => {
                    return Err(DbError::NewerSchema {
                        path: db.conn.label().to_string(),
                        found: v,
                        supported: SCHEMA_VERSION,
                    })
                }
                _ => {}
            }
        }
        let tx = db.begin().map_err(|e| db.err(e))?;
        db.conn.batch("SELECT pg_advisory_xact_lock(hashtext('twinsync-openspec-layout'))").map_err(|e| db.err(e))?;
        db.conn.batch(PG_LAYOUT).map_err(|e| db.err(e))?;
        let found = db
            .conn
            .query("SELECT max(version) FROM openspec.layout", &[])
            .map_err(|e| db.err(e))?
            .first()
            .and_then(|r| opt_int_at(r, 0));
        match found {
            Some(v) if v > SCHEMA_VERSION => {
                return Err(DbError::NewerSchema {
                    path: db.conn.label().to_string(),
                    found: v,
                    supported: SCHEMA_VERSION,
                })
            }
            Some(_) => {}
            None => {
                db.conn
                    .execute("INSERT INTO openspec.layout(version) VALUES (?1)", &[SCHEMA_VERSION.into()])
                    .map_err(|e| db.err(e))?;
            }
        }
        tx.commit().map_err(|e| db.err(e))?;
        Ok(db)
    }

    /// The database: its file (`:memory:` for an in-memory one) or
    /// `postgres://user@host:port/db`, never with a password.
    pub fn path(&self) -> &str {
        self.conn.label()
    }

    /// Which database this is.
    pub fn dialect(&self) -> Dialect {
        self.conn.dialect()
    }

    pub(crate) fn err(&self, e: SqlError) -> DbError {
        DbError::Sql { path: self.conn.label().to_string(), message: e.message }
    }

    /// Starts a transaction.
    pub(crate) fn begin(&self) -> Result<Tx<'_>, SqlError> {
        self.conn.batch("BEGIN")?;
        Ok(Tx { conn: self.conn.as_ref(), done: false })
    }

    /// Runs one statement.
    pub(crate) fn exec(&self, sql: &str, params: &[SqlValue]) -> Result<u64, SqlError> {
        self.conn.execute(sql, params)
    }

    /// Runs one query.
    pub(crate) fn select(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>, SqlError> {
        self.conn.query(sql, params)
    }

    /// Every row `sql` selects, each made by `map`, with errors naming the database.
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        params: &[SqlValue],
        map: impl FnMut(&SqlRow) -> T,
    ) -> Result<Vec<T>, DbError> {
        Ok(self.select(sql, params).map_err(|e| self.err(e))?.iter().map(map).collect())
    }

    /// One row, deleted or not.
    pub fn item(&self, project: &str, kind: Kind, id: &str) -> Result<Option<ItemRow>, DbError> {
        Ok(self
            .rows(
                &format!("SELECT {ITEM_COLUMNS} FROM items WHERE project = ?1 AND kind = ?2 AND id = ?3"),
                &[project.into(), kind.as_str().into(), id.into()],
                item_from_row,
            )?
            .pop())
    }

    /// The work queue: rows matching `q`, in its order.
    pub fn query(&self, q: &Query) -> Result<Vec<ItemRow>, DbError> {
        let mut sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE 1 = 1");
        let mut args: Vec<SqlValue> = Vec::new();
        let mut arg = |sql: &mut String, clause: &str, v: SqlValue| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(p) = &q.project {
            arg(&mut sql, " AND project = ?", p.into());
        }
        if let Some(k) = q.kind {
            arg(&mut sql, " AND kind = ?", k.as_str().into());
        }
        if let Some(s) = q.status {
            arg(&mut sql, " AND status = ?", s.as_str().into());
        }
        if !q.include_deleted {
            sql.push_str(" AND deleted = 0");
        }
        match self.dialect() {
            Dialect::Sqlite => {
                if let Some(m) = q.search.as_deref().and_then(fts_query) {
                    arg(&mut sql, " AND rowid IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)", m.into());
                }
            }
            Dialect::Postgres => {
                // As the FTS5 query above: every word a phrase of its own tokens, all required.
                let words: Vec<&str> = q.search.as_deref().unwrap_or("").split_whitespace().collect();
                if !words.is_empty() {
                    sql.push_str(
                        " AND to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(proposal, '') || ' ' || \
                         coalesce(design, '') || ' ' || coalesce(tasks, '') || ' ' || coalesce(spec, '')) @@ (",
                    );
                    for (i, w) in words.into_iter().enumerate() {
                        let clause =
                            if i == 0 { "phraseto_tsquery('simple', ?)" } else { " && phraseto_tsquery('simple', ?)" };
                        arg(&mut sql, clause, w.into());
                    }
                    sql.push(')');
                }
            }
        }
        sql.push_str(match q.sort {
            QuerySort::Id => " ORDER BY kind, id",
            QuerySort::Progress => " ORDER BY progress, id",
            QuerySort::Age => " ORDER BY fs_modified IS NULL, fs_modified, id",
        });
        if let Some(n) = q.limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        self.rows(&sql, &args, item_from_row)
    }

    /// Sync history of one row (or of the whole project when `id` is `None`), oldest first.
    pub fn history(&self, project: &str, id: Option<&str>) -> Result<Vec<HistoryRow>, DbError> {
        let (sql, params): (&str, Vec<SqlValue>) = match id {
            Some(id) => (" AND item_id = ?2", vec![project.into(), id.into()]),
            None => ("", vec![project.into()]),
        };
        self.rows(
            &format!(
                "SELECT seq, project, kind, item_id, direction, trigger, success, outcome, error, files_changed, at \
                 FROM sync_history WHERE project = ?1{sql} ORDER BY seq"
            ),
            &params,
            |r| HistoryRow {
                seq: int_at(r, 0),
                project: text_at(r, 1),
                kind: Kind::parse(&text_at(r, 2)),
                item_id: text_at(r, 3),
                direction: if text_at(r, 4) == "db->fs" { SyncDirection::DbToFs } else { SyncDirection::FsToDb },
                trigger: text_at(r, 5),
                success: int_at(r, 6) != 0,
                outcome: text_at(r, 7),
                error: opt_text_at(r, 8),
                files_changed: serde_json::from_str(&text_at(r, 9)).unwrap_or_default(),
                at: Timestamp(int_at(r, 10)),
            },
        )
    }

    /// The last-synced text of each document of `project`'s live rows, as syncs before
    /// the engine kept it (in `doc_state`): (kind, id, folder, document, text). The
    /// facade moves it into the project's store once.
    pub fn legacy_bases(&self, project: &str) -> Result<Vec<LegacyBase>, DbError> {
        self.rows(
            "SELECT i.kind, i.id, i.path, d.doc, d.base_content FROM doc_state d JOIN items i ON i.rowid = d.item \
             WHERE i.project = ?1 AND i.deleted = 0 AND d.base_content IS NOT NULL ORDER BY i.kind, i.id, d.doc",
            &[project.into()],
            |r| (Kind::parse(&text_at(r, 0)), text_at(r, 1), text_at(r, 2), text_at(r, 3), text_at(r, 4)),
        )
    }

    /// Versions a sync replaced for one row, oldest first.
    pub fn versions(&self, project: &str, kind: Kind, id: &str) -> Result<Vec<VersionRow>, DbError> {
        self.rows(
            "SELECT seq, item_id, doc, side, content, reason, at FROM versions \
                 WHERE project = ?1 AND kind = ?2 AND item_id = ?3 ORDER BY seq",
            &[project.into(), kind.as_str().into(), id.into()],
            |r| VersionRow {
                seq: int_at(r, 0),
                item_id: text_at(r, 1),
                doc: text_at(r, 2),
                side: text_at(r, 3),
                content: opt_text_at(r, 4),
                reason: text_at(r, 5),
                at: Timestamp(int_at(r, 6)),
            },
        )
    }

    /// Conflicts found on one row, oldest first.
    pub fn conflicts(&self, project: &str, kind: Kind, id: &str) -> Result<Vec<ConflictRow>, DbError> {
        self.rows(
            "SELECT seq, item_id, doc, fs_content, db_content, resolution, at FROM conflicts \
                 WHERE project = ?1 AND kind = ?2 AND item_id = ?3 ORDER BY seq",
            &[project.into(), kind.as_str().into(), id.into()],
            |r| ConflictRow {
                seq: int_at(r, 0),
                item_id: text_at(r, 1),
                doc: text_at(r, 2),
                fs_content: opt_text_at(r, 3),
                db_content: opt_text_at(r, 4),
                resolution: text_at(r, 5),
                at: Timestamp(int_at(r, 6)),
            },
        )
    }

    /// The rowid of a row, deleted or not.
    pub(crate) fn rowid(&self, project: &str, kind: Kind, id: &str) -> Result<Option<i64>, SqlError> {
        Ok(self
            .select(
                "SELECT rowid FROM items WHERE project = ?1 AND kind = ?2 AND id = ?3",
                &[project.into(), kind.as_str().into(), id.into()],
            )?
            .first()
            .and_then(|r| opt_int_at(r, 0)))
    }

    /// Sets a document's text in the database only (`None` removes it), as a web UI
    /// would; the files follow at the next sync. Use [`crate::sync::Syncer::edit`] to
    /// write through to disk at once.
    pub fn edit_document(
        &self,
        project: &str,
        kind: Kind,
        id: &str,
        doc: &str,
        text: Option<&str>,
        now: Timestamp,
    ) -> Result<(), DbError> {
        let column =
            doc_column(doc).filter(|_| kind.docs().contains(&doc)).ok_or_else(|| DbError::UnknownDocument {
                kind,
                id: id.to_string(),
                doc: doc.to_string(),
                expected: kind.docs().join(", "),
            })?;
        let Some(rowid) = self.rowid(project, kind, id).map_err(|e| self.err(e))? else {
            return Err(DbError::NotFound { project: project.into(), kind, id: id.into() });
        };
        let tx = self.begin().map_err(|e| self.err(e))?;
        self.exec(
            &format!("UPDATE items SET {column} = ?1, db_modified = ?2 WHERE rowid = ?3"),
            &[text.into(), now.0.into(), rowid.into()],
        )
        .map_err(|e| self.err(e))?;
        self.exec(
            "INSERT INTO doc_state(item, doc, db_digest) VALUES (?1, ?2, ?3) \
             ON CONFLICT(item, doc) DO UPDATE SET db_digest = excluded.db_digest",
            &[rowid.into(), doc.into(), text.map_or_else(String::new, |t| text_digest(t).to_string()).into()],
        )
        .map_err(|e| self.err(e))?;
        // Title, progress and status follow an edit at once, as the files side's do.
        self.refresh(rowid, None).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Inserts an empty row (no documents, never synced) at `path` under `openspec/`;
    /// the next sync writes its folder. See [`crate::sync::Syncer::create`].
    pub fn create_row(&self, project: &str, kind: Kind, id: &str, path: &str, now: Timestamp) -> Result<(), DbError> {
        let tx = self.begin().map_err(|e| self.err(e))?;
        let rowid = self.insert_item(kind, id, project, path, Some(now)).map_err(|e| self.err(e))?;
        for doc in kind.docs() {
            self.exec(
                "INSERT INTO doc_state(item, doc, db_digest) VALUES (?1, ?2, '')",
                &[rowid.into(), (*doc).into()],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Inserts a row with no documents, titled by its id; its rowid.
    pub(crate) fn insert_item(
        &self,
        kind: Kind,
        id: &str,
        project: &str,
        path: &str,
        db_modified: Option<Timestamp>,
    ) -> Result<i64, SqlError> {
        let status = Status::derive(kind, None, false, 0, 0);
        let rows = self.select(
            "INSERT INTO items(kind, id, project, title, status, path, db_modified) \
             VALUES (?1, ?2, ?3, ?2, ?4, ?5, ?6) RETURNING rowid",
            &[
                kind.as_str().into(),
                id.into(),
                project.into(),
                status.as_str().into(),
                path.into(),
                db_modified.map(|t| t.0).into(),
            ],
        )?;
        rows.first()
            .and_then(|r| opt_int_at(r, 0))
            .ok_or_else(|| SqlError { message: "an insert returned no rowid".into(), unavailable: false })
    }

    /// Documents and delta specs a row holds, as (name, text).
    pub(crate) fn contents(&self, rowid: i64) -> Result<Vec<(String, String)>, SqlError> {
        let docs = self.select("SELECT proposal, design, tasks, spec FROM items WHERE rowid = ?1", &[rowid.into()])?;
        let row = docs.first().cloned().unwrap_or_default();
        let mut out: Vec<(String, String)> = ["proposal.md", "design.md", "tasks.md", "spec.md"]
            .into_iter()
            .enumerate()
            .filter_map(|(i, n)| opt_text_at(&row, i).map(|t| (n.to_string(), t)))
            .collect();
        for d in self.select("SELECT rel, text FROM delta_specs WHERE item = ?1 ORDER BY rel", &[rowid.into()])? {
            out.push((text_at(&d, 0), text_at(&d, 1)));
        }
        Ok(out)
    }

    /// Every live row of `project` with what it holds, in two queries whatever the
    /// number of rows: (kind, id, folder, [(document or delta path, text)]).
    pub(crate) fn live_rows(&self, project: &str) -> Result<Vec<LiveRow>, SqlError> {
        let mut by_rowid: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        let mut rows: Vec<LiveRow> = Vec::new();
        for r in self.select(
            "SELECT rowid, kind, id, path, proposal, design, tasks, spec FROM items WHERE project = ?1 AND deleted = 0",
            &[project.into()],
        )? {
            let docs: Vec<(String, String)> = ["proposal.md", "design.md", "tasks.md", "spec.md"]
                .iter()
                .enumerate()
                .filter_map(|(i, name)| opt_text_at(&r, 4 + i).map(|t| (name.to_string(), t)))
                .collect();
            by_rowid.insert(int_at(&r, 0), rows.len());
            rows.push((Kind::parse(&text_at(&r, 1)), text_at(&r, 2), text_at(&r, 3), docs));
        }
        for r in self.select(
            "SELECT d.item, d.rel, d.text FROM delta_specs d JOIN items i ON i.rowid = d.item \
             WHERE i.project = ?1 AND i.deleted = 0 ORDER BY d.item, d.rel",
            &[project.into()],
        )? {
            if let Some(&at) = by_rowid.get(&int_at(&r, 0)) {
                rows[at].3.push((text_at(&r, 1), text_at(&r, 2)));
            }
        }
        Ok(rows)
    }

    /// Title, task progress, requirement count and status from what the row now holds.
    pub(crate) fn refresh(&self, rowid: i64, synced: Option<Timestamp>) -> Result<(), SqlError> {
        let row = self
            .select("SELECT kind, id, path, status FROM items WHERE rowid = ?1", &[rowid.into()])?
            .pop()
            .ok_or_else(|| SqlError { message: format!("no row {rowid} to refresh"), unavailable: false })?;
        let (kind, id, path, status) = (text_at(&row, 0), text_at(&row, 1), text_at(&row, 2), text_at(&row, 3));
        let (kind, id) = (Kind::parse(&kind), id.as_str());
        let previous = status.parse().unwrap_or(Status::Proposing);
        let contents = self.contents(rowid)?;
        let get = |n: &str| contents.iter().find(|(k, _)| k == n).map(|(_, t)| t.as_str());
        let (done, total) = get("tasks.md").map_or((0, 0), |t| {
            let p = count_tasks(t);
            (p.completed as i64, p.total as i64)
        });
        let (title, requirements) = match kind {
            Kind::Change => (
                get("proposal.md").map_or_else(|| id.to_string(), |p| change_title(p, id)),
                contents
                    .iter()
                    .filter(|(k, _)| k.starts_with("specs/"))
                    .map(|(_, t)| {
                        let plan = parse_delta_spec(t);
                        (plan.added.len() + plan.modified.len() + plan.removed.len() + plan.renamed.len()) as i64
                    })
                    .sum(),
            ),
            Kind::Spec => (
                id.to_string(),
                get("spec.md").and_then(|s| parse_spec(s).ok()).map_or(0, |s| s.requirements.len() as i64),
            ),
        };
        let archived_on = archived_on(&path);
        let status = Status::derive(kind, Some(previous), archived_on.is_some(), done, total);
        self.exec(
            "UPDATE items SET title = ?1, tasks_done = ?2, tasks_total = ?3, progress = ?4, requirements = ?5, \
             status = ?6, archived_on = ?7 WHERE rowid = ?8",
            &[
                title.into(),
                done.into(),
                total.into(),
                (if total == 0 { 0.0 } else { done as f64 * 100.0 / total as f64 }).into(),
                requirements.into(),
                status.as_str().into(),
                archived_on.into(),
                rowid.into(),
            ],
        )?;
        if let Some(at) = synced {
            self.exec(
                // A sync writes the database from the files: they changed about now.
                "UPDATE items SET last_synced = ?1, fs_modified = ?1, sync_error = NULL, sync_attempts = 0 WHERE rowid = ?2",
                &[at.0.into(), rowid.into()],
            )?;
        }
        Ok(())
    }

    /// Marks the rows a sync left documents of in conflict (`sync_error` names them), and
    /// clears the mark of rows it found in step.
    pub fn mark_conflicts(
        &self,
        project: &str,
        open: &[(Kind, String, Vec<String>)],
        settled: &[(Kind, String)],
    ) -> Result<(), DbError> {
        let tx = self.begin().map_err(|e| self.err(e))?;
        for (kind, id, docs) in open {
            let msg = format!(
                "conflict in {}: edited on disk and in the database (policy manual); edit either side to resolve",
                docs.join(", ")
            );
            self.exec(
                "UPDATE items SET sync_error = ?1 WHERE project = ?2 AND kind = ?3 AND id = ?4",
                &[msg.into(), project.into(), kind.as_str().into(), id.into()],
            )
            .map_err(|e| self.err(e))?;
        }
        for (kind, id) in settled {
            self.exec(
                "UPDATE items SET sync_error = NULL WHERE project = ?1 AND kind = ?2 AND id = ?3 AND sync_error IS NOT NULL",
                &[project.into(), kind.as_str().into(), id.into()],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Sets the lifecycle status a person chose (approved, assigned, ...).
    pub fn set_status(
        &self,
        project: &str,
        kind: Kind,
        id: &str,
        status: Status,
        now: Timestamp,
    ) -> Result<(), DbError> {
        let n = self
            .exec(
                "UPDATE items SET status = ?1, db_modified = ?2 WHERE project = ?3 AND kind = ?4 AND id = ?5",
                &[status.as_str().into(), now.0.into(), project.into(), kind.as_str().into(), id.into()],
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(DbError::NotFound { project: project.into(), kind, id: id.into() });
        }
        Ok(())
    }
}

/// Creates and upgrades the tables of an SQLite file, one opener at a time.
fn init_sqlite(conn: &Connection) -> Result<(), SqliteOpen> {
    // WAL: a web UI can read while a sync writes; NORMAL is durable at each commit in WAL.
    // The busy timeout first, so the switch to WAL already waits for other openers.
    conn.execute_batch(
        "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )
    .map_err(SqliteOpen::Sqlite)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(SqliteOpen::Sqlite)?;
    if version > SCHEMA_VERSION {
        return Err(SqliteOpen::Newer(version));
    }
    // One opener at a time creates and upgrades the tables (two would both add the column).
    conn.execute_batch("BEGIN IMMEDIATE").map_err(SqliteOpen::Sqlite)?;
    let step = || -> rusqlite::Result<()> {
        conn.execute_batch(SCHEMA)?;
        // Files from before the delta digest column: add it (NULL makes the next pass recount).
        let has_deltas: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM pragma_table_info('items') WHERE name = 'deltas_digest')",
            [],
            |r| r.get(0),
        )?;
        if !has_deltas {
            conn.execute_batch("ALTER TABLE items ADD COLUMN deltas_digest TEXT")?;
        }
        conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}; COMMIT"))
    };
    step().map_err(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        SqliteOpen::Sqlite(e)
    })
}

fn sqlite_open_error(path: &str, e: SqliteOpen) -> DbError {
    match e {
        SqliteOpen::Sqlite(e) => DbError::Sql { path: path.to_string(), message: e.to_string() },
        SqliteOpen::Newer(found) => DbError::NewerSchema { path: path.to_string(), found, supported: SCHEMA_VERSION },
    }
}

mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};
    use twinsync_core::Timestamp;

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

mod opt_rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};
    use twinsync_core::Timestamp;

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&t.to_rfc3339()),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => Timestamp::parse_rfc3339(&s).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

/// A live row as a scan reads it: kind, id, folder, and its documents and delta specs.
pub(crate) type LiveRow = (Kind, String, String, Vec<(String, String)>);

/// A document's last-synced text as syncs before the engine kept it: kind, id, folder,
/// document, text (see [`Db::legacy_bases`]).
pub type LegacyBase = (Kind, String, String, String, String);

/// The date of an archived change's folder (`changes/archive/<date>-<id>`).
fn archived_on(path: &str) -> Option<String> {
    path.strip_prefix("changes/archive/")
        .map(|dir| crate::workspace::ArchiveName::parse(dir).map_or_else(String::new, |a| a.date))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_tasks_but_keeps_what_a_person_chose() {
        use Status::*;
        assert_eq!(Status::derive(Kind::Change, Some(Assigned), false, 0, 5), Assigned);
        assert_eq!(Status::derive(Kind::Change, Some(Assigned), false, 2, 5), InProgress);
        assert_eq!(Status::derive(Kind::Change, Some(InProgress), false, 5, 5), Review);
        assert_eq!(Status::derive(Kind::Change, Some(Review), false, 0, 5), Proposing);
        assert_eq!(Status::derive(Kind::Change, Some(Review), true, 0, 5), Archived);
        assert_eq!(Status::derive(Kind::Spec, None, false, 0, 0), Approved);
        assert_eq!("in_progress".parse::<Status>().unwrap(), InProgress);
        assert!("done".parse::<Status>().unwrap_err().to_string().contains("in_progress"));
    }

    #[test]
    fn search_text_is_quoted_for_fts() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("a \"b\" OR"), Some("\"a\" \"\"\"b\"\"\" \"OR\"".into()));
    }

    #[test]
    fn older_files_gain_new_columns_and_newer_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("os.db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(&SCHEMA.replace("    deltas_digest TEXT,\n", "")).unwrap();
        drop(old);
        let db = Db::open(&path).unwrap();
        db.conn.batch("UPDATE items SET deltas_digest = 'x'").unwrap();
        drop(db);
        Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 99").unwrap();
        let e = Db::open(&path).unwrap_err().to_string();
        assert!(e.contains("version 99") && e.contains("os.db"), "{e}");
    }

    #[test]
    fn the_bundled_sqlite_has_fts5() {
        let db = Db::open_in_memory().unwrap();
        let n = db.conn.query("SELECT count(*) FROM items_fts", &[]).unwrap();
        assert_eq!(n, vec![vec![SqlValue::Int(0)]]);
    }
}
