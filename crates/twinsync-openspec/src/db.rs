//! The database side of OpenSpec: a SQLite file (bundled SQLite, FTS5) holding one row
//! per change and main spec with its documents, lifecycle status, task progress,
//! requirement count and sync state, plus the sync history, the versions a sync
//! replaced (so nothing is lost), recorded conflicts, and the work-queue queries.
//!
//! Documents are edited through [`Db::edit_document`]; a row changed by other SQL is
//! still noticed, because a trigger clears the stored digest of any document whose
//! text changes and the next sync hashes it again.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use twinsync_core::{Content, Digest, HashRules, Timestamp};

use crate::change::change_title;
use crate::delta::parse_delta_spec;
use crate::spec::parse_spec;
use crate::tasks::count_tasks;

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite refused (the path names the database file).
    #[error("openspec database {path}: {source}")]
    Sqlite {
        /// The database file (`:memory:` for an in-memory one).
        path: String,
        /// The cause.
        source: rusqlite::Error,
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

/// The openspec database.
#[derive(Debug)]
pub struct Db {
    pub(crate) conn: Connection,
    path: String,
}

/// Version of the table layout, kept in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 1;

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

fn item_from_row(r: &Row<'_>) -> rusqlite::Result<ItemRow> {
    let ts = |i: usize| -> rusqlite::Result<Option<Timestamp>> { Ok(r.get::<_, Option<i64>>(i)?.map(Timestamp)) };
    Ok(ItemRow {
        kind: Kind::parse(&r.get::<_, String>(0)?),
        id: r.get(1)?,
        project: r.get(2)?,
        title: r.get(3)?,
        status: r.get::<_, String>(4)?.parse().unwrap_or(Status::Proposing),
        path: r.get(5)?,
        archived_on: r.get(6)?,
        proposal: r.get(7)?,
        design: r.get(8)?,
        tasks: r.get(9)?,
        spec: r.get(10)?,
        tasks_done: r.get(11)?,
        tasks_total: r.get(12)?,
        requirements: r.get(13)?,
        last_synced: ts(14)?,
        fs_modified: ts(15)?,
        db_modified: ts(16)?,
        sync_error: r.get(17)?,
        deleted: r.get::<_, i64>(18)? != 0,
    })
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

impl Db {
    /// Opens (creating if needed, with its folder) the database at `path`.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::Io { path: dir.to_path_buf(), source })?;
        }
        let name = path.display().to_string();
        // A watcher and a CLI call may open a fresh file at once; every step of `init` is
        // idempotent, so an open that finds it busy starts over.
        twinsync_sqlite::retry_while_busy(
            || {
                let conn = Connection::open(path).map_err(|source| DbError::Sqlite { path: name.clone(), source })?;
                Db::init(conn, name.clone())
            },
            |e| matches!(e, DbError::Sqlite { source, .. } if twinsync_sqlite::is_busy(source)),
        )
    }

    /// A database in memory (tests, benchmarks).
    pub fn open_in_memory() -> Result<Db, DbError> {
        let conn =
            Connection::open_in_memory().map_err(|source| DbError::Sqlite { path: ":memory:".into(), source })?;
        Db::init(conn, ":memory:".into())
    }

    fn init(conn: Connection, path: String) -> Result<Db, DbError> {
        let mut db = Db { conn, path };
        // WAL: a web UI can read while a sync writes; NORMAL is durable at each commit in WAL.
        // The busy timeout first, so the switch to WAL already waits for other openers.
        db.conn
            .execute_batch(
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| db.err(e))?;
        let version: i64 = db.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| db.err(e))?;
        if version > SCHEMA_VERSION {
            return Err(DbError::NewerSchema { path: db.path.clone(), found: version, supported: SCHEMA_VERSION });
        }
        // One opener at a time creates and upgrades the tables (two would both add the column).
        let tx = db
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|source| DbError::Sqlite { path: db.path.clone(), source })?;
        tx.execute_batch(SCHEMA).map_err(|source| DbError::Sqlite { path: db.path.clone(), source })?;
        // Files from before the delta digest column: add it (NULL makes the next pass recount).
        let has_deltas: bool = tx
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM pragma_table_info('items') WHERE name = 'deltas_digest')",
                [],
                |r| r.get(0),
            )
            .map_err(|source| DbError::Sqlite { path: db.path.clone(), source })?;
        if !has_deltas {
            tx.execute_batch("ALTER TABLE items ADD COLUMN deltas_digest TEXT")
                .map_err(|source| DbError::Sqlite { path: db.path.clone(), source })?;
        }
        tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .map_err(|source| DbError::Sqlite { path: db.path.clone(), source })?;
        tx.commit().map_err(|source| DbError::Sqlite { path: db.path.clone(), source })?;
        Ok(db)
    }

    /// The database file (`:memory:` for an in-memory one).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> DbError {
        DbError::Sqlite { path: self.path.clone(), source }
    }

    /// Every row `sql` selects, each made by `map`, with errors naming the database.
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, DbError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(params, map).and_then(|it| it.collect()).map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// One row, deleted or not.
    pub fn item(&self, project: &str, kind: Kind, id: &str) -> Result<Option<ItemRow>, DbError> {
        self.conn
            .prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE project = ?1 AND kind = ?2 AND id = ?3"))
            .and_then(|mut s| s.query_row(params![project, kind.as_str(), id], item_from_row).optional())
            .map_err(|e| self.err(e))
    }

    /// The work queue: rows matching `q`, in its order.
    pub fn query(&self, q: &Query) -> Result<Vec<ItemRow>, DbError> {
        let mut sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE 1 = 1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let mut arg = |sql: &mut String, clause: &str, v: rusqlite::types::Value| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(p) = &q.project {
            arg(&mut sql, " AND project = ?", p.clone().into());
        }
        if let Some(k) = q.kind {
            arg(&mut sql, " AND kind = ?", k.as_str().to_string().into());
        }
        if let Some(s) = q.status {
            arg(&mut sql, " AND status = ?", s.as_str().to_string().into());
        }
        if !q.include_deleted {
            sql.push_str(" AND deleted = 0");
        }
        if let Some(m) = q.search.as_deref().and_then(fts_query) {
            arg(&mut sql, " AND rowid IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)", m.into());
        }
        sql.push_str(match q.sort {
            QuerySort::Id => " ORDER BY kind, id",
            QuerySort::Progress => " ORDER BY progress, id",
            QuerySort::Age => " ORDER BY fs_modified IS NULL, fs_modified, id",
        });
        if let Some(n) = q.limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        self.rows(&sql, rusqlite::params_from_iter(args), item_from_row)
    }

    /// Sync history of one row (or of the whole project when `id` is `None`), oldest first.
    pub fn history(&self, project: &str, id: Option<&str>) -> Result<Vec<HistoryRow>, DbError> {
        self.rows(
            "SELECT seq, project, kind, item_id, direction, trigger, success, outcome, error, files_changed, at \
                 FROM sync_history WHERE project = ?1 AND (?2 IS NULL OR item_id = ?2) ORDER BY seq",
            params![project, id],
            |r| {
                let files: String = r.get(9)?;
                Ok(HistoryRow {
                    seq: r.get(0)?,
                    project: r.get(1)?,
                    kind: Kind::parse(&r.get::<_, String>(2)?),
                    item_id: r.get(3)?,
                    direction: if r.get::<_, String>(4)? == "db->fs" {
                        SyncDirection::DbToFs
                    } else {
                        SyncDirection::FsToDb
                    },
                    trigger: r.get(5)?,
                    success: r.get::<_, i64>(6)? != 0,
                    outcome: r.get(7)?,
                    error: r.get(8)?,
                    files_changed: serde_json::from_str(&files).unwrap_or_default(),
                    at: Timestamp(r.get(10)?),
                })
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
            params![project],
            |r| Ok((Kind::parse(&r.get::<_, String>(0)?), r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
    }

    /// Versions a sync replaced for one row, oldest first.
    pub fn versions(&self, project: &str, kind: Kind, id: &str) -> Result<Vec<VersionRow>, DbError> {
        self.rows(
            "SELECT seq, item_id, doc, side, content, reason, at FROM versions \
                 WHERE project = ?1 AND kind = ?2 AND item_id = ?3 ORDER BY seq",
            params![project, kind.as_str(), id],
            |r| {
                Ok(VersionRow {
                    seq: r.get(0)?,
                    item_id: r.get(1)?,
                    doc: r.get(2)?,
                    side: r.get(3)?,
                    content: r.get(4)?,
                    reason: r.get(5)?,
                    at: Timestamp(r.get(6)?),
                })
            },
        )
    }

    /// Conflicts found on one row, oldest first.
    pub fn conflicts(&self, project: &str, kind: Kind, id: &str) -> Result<Vec<ConflictRow>, DbError> {
        self.rows(
            "SELECT seq, item_id, doc, fs_content, db_content, resolution, at FROM conflicts \
                 WHERE project = ?1 AND kind = ?2 AND item_id = ?3 ORDER BY seq",
            params![project, kind.as_str(), id],
            |r| {
                Ok(ConflictRow {
                    seq: r.get(0)?,
                    item_id: r.get(1)?,
                    doc: r.get(2)?,
                    fs_content: r.get(3)?,
                    db_content: r.get(4)?,
                    resolution: r.get(5)?,
                    at: Timestamp(r.get(6)?),
                })
            },
        )
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
        let rowid: Option<i64> = self
            .conn
            .query_row(
                "SELECT rowid FROM items WHERE project = ?1 AND kind = ?2 AND id = ?3",
                params![project, kind.as_str(), id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(rowid) = rowid else {
            return Err(DbError::NotFound { project: project.into(), kind, id: id.into() });
        };
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            &format!("UPDATE items SET {column} = ?1, db_modified = ?2 WHERE rowid = ?3"),
            params![text, now.0, rowid],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO doc_state(item, doc, db_digest) VALUES (?1, ?2, ?3) \
             ON CONFLICT(item, doc) DO UPDATE SET db_digest = excluded.db_digest",
            params![rowid, doc, text.map_or_else(String::new, |t| text_digest(t).to_string())],
        )
        .map_err(|e| self.err(e))?;
        // Title, progress and status follow an edit at once, as the files side's do.
        self.refresh(rowid, None).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    /// Inserts an empty row (no documents, never synced) at `path` under `openspec/`;
    /// the next sync writes its folder. See [`crate::sync::Syncer::create`].
    pub fn create_row(&self, project: &str, kind: Kind, id: &str, path: &str, now: Timestamp) -> Result<(), DbError> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO items(kind, id, project, title, status, path, db_modified) VALUES (?1, ?2, ?3, ?2, ?4, ?5, ?6)",
            params![kind.as_str(), id, project, Status::derive(kind, None, false, 0, 0).as_str(), path, now.0],
        )
        .map_err(|e| self.err(e))?;
        let rowid = tx.last_insert_rowid();
        for doc in kind.docs() {
            tx.execute("INSERT INTO doc_state(item, doc, db_digest) VALUES (?1, ?2, '')", params![rowid, doc])
                .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Documents and delta specs a row holds, as (name, text).
    pub(crate) fn contents(&self, rowid: i64) -> rusqlite::Result<Vec<(String, String)>> {
        let (p, d, t, s): (Option<String>, Option<String>, Option<String>, Option<String>) =
            self.conn.query_row("SELECT proposal, design, tasks, spec FROM items WHERE rowid = ?1", [rowid], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
        let mut out: Vec<(String, String)> = [("proposal.md", p), ("design.md", d), ("tasks.md", t), ("spec.md", s)]
            .into_iter()
            .filter_map(|(n, t)| t.map(|t| (n.to_string(), t)))
            .collect();
        let mut stmt = self.conn.prepare_cached("SELECT rel, text FROM delta_specs WHERE item = ?1 ORDER BY rel")?;
        let deltas = stmt.query_map([rowid], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for d in deltas {
            out.push(d?);
        }
        Ok(out)
    }

    /// Title, task progress, requirement count and status from what the row now holds.
    pub(crate) fn refresh(&self, rowid: i64, synced: Option<Timestamp>) -> rusqlite::Result<()> {
        let (kind, id, path, status): (String, String, String, String) =
            self.conn.query_row("SELECT kind, id, path, status FROM items WHERE rowid = ?1", [rowid], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
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
        self.conn
            .prepare_cached(
                "UPDATE items SET title = ?1, tasks_done = ?2, tasks_total = ?3, progress = ?4, requirements = ?5, \
                 status = ?6, archived_on = ?7 WHERE rowid = ?8",
            )?
            .execute(params![
                title,
                done,
                total,
                if total == 0 { 0.0 } else { done as f64 * 100.0 / total as f64 },
                requirements,
                status.as_str(),
                archived_on,
                rowid
            ])?;
        if let Some(at) = synced {
            self.conn
                .prepare_cached(
                    // A sync writes the database from the files: they changed about now.
                    "UPDATE items SET last_synced = ?1, fs_modified = ?1, sync_error = NULL, sync_attempts = 0 WHERE rowid = ?2",
                )?
                .execute(params![at.0, rowid])?;
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
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        for (kind, id, docs) in open {
            let msg = format!(
                "conflict in {}: edited on disk and in the database (policy manual); edit either side to resolve",
                docs.join(", ")
            );
            tx.execute(
                "UPDATE items SET sync_error = ?1 WHERE project = ?2 AND kind = ?3 AND id = ?4",
                params![msg, project, kind.as_str(), id],
            )
            .map_err(|e| self.err(e))?;
        }
        for (kind, id) in settled {
            tx.execute(
                "UPDATE items SET sync_error = NULL WHERE project = ?1 AND kind = ?2 AND id = ?3 AND sync_error IS NOT NULL",
                params![project, kind.as_str(), id],
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
            .conn
            .execute(
                "UPDATE items SET status = ?1, db_modified = ?2 WHERE project = ?3 AND kind = ?4 AND id = ?5",
                params![status.as_str(), now.0, project, kind.as_str(), id],
            )
            .map_err(|e| self.err(e))?;
        if n == 0 {
            return Err(DbError::NotFound { project: project.into(), kind, id: id.into() });
        }
        Ok(())
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
        db.conn.execute_batch("UPDATE items SET deltas_digest = 'x'").unwrap();
        drop(db);
        Connection::open(&path).unwrap().execute_batch("PRAGMA user_version = 99").unwrap();
        let e = Db::open(&path).unwrap_err().to_string();
        assert!(e.contains("version 99") && e.contains("os.db"), "{e}");
    }

    #[test]
    fn the_bundled_sqlite_has_fts5() {
        let db = Db::open_in_memory().unwrap();
        let n: i64 = db.conn.query_row("SELECT count(*) FROM items_fts", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0);
    }
}
