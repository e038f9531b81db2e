//! Opening a state database: the header check that refuses a file that is not a
//! database, the connection settings, and the versioned migrations.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use crate::checkpoint::Checkpointer;

/// Migrations in order; migration `i` takes the schema from version `i` to `i + 1`
/// (stored in `PRAGMA user_version`). Never edit a released entry: append a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: the store and the database replica.
    r#"
CREATE TABLE operations (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id     TEXT NOT NULL UNIQUE,
    scope            TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('running', 'completed', 'partial', 'failed')),
    trigger          TEXT NOT NULL CHECK (trigger IN ('file_watcher', 'periodic', 'user_edit', 'manual')),
    actor            TEXT NOT NULL,
    policy           TEXT NOT NULL,
    directions       TEXT NOT NULL,
    planned          INTEGER NOT NULL,
    applied          INTEGER NOT NULL,
    skipped          INTEGER NOT NULL,
    conflicts        INTEGER NOT NULL,
    failed           INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    reversible_until INTEGER,
    undone_at        INTEGER,
    report           TEXT NOT NULL
);
CREATE INDEX operations_scope ON operations (scope, seq);

CREATE TABLE base (
    scope  TEXT NOT NULL,
    key    TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX base_digest ON base (digest);

CREATE TABLE blobs (
    digest  TEXT PRIMARY KEY NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('json', 'text', 'bytes')),
    size    INTEGER NOT NULL,
    content BLOB NOT NULL
);

CREATE TABLE undo_entries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id TEXT NOT NULL,
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    side         TEXT NOT NULL CHECK (side IN ('left', 'right')),
    pre          TEXT,
    post         TEXT,
    base_before  TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    undone_at    INTEGER
);
CREATE INDEX undo_operation ON undo_entries (operation_id, key);
CREATE INDEX undo_pre ON undo_entries (pre) WHERE pre IS NOT NULL;
CREATE INDEX undo_post ON undo_entries (post) WHERE post IS NOT NULL;

CREATE TABLE history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id TEXT NOT NULL,
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    direction    TEXT NOT NULL,
    trigger      TEXT NOT NULL CHECK (trigger IN ('file_watcher', 'periodic', 'user_edit', 'manual')),
    success      INTEGER NOT NULL CHECK (success IN (0, 1)),
    error        TEXT,
    left_digest  TEXT,
    right_digest TEXT,
    at           INTEGER NOT NULL
);
CREATE INDEX history_scope ON history (scope, id);
CREATE INDEX history_operation ON history (operation_id);

CREATE TABLE locks (
    name        TEXT PRIMARY KEY NOT NULL,
    owner       TEXT NOT NULL,
    token       TEXT NOT NULL,
    reason      TEXT,
    acquired_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    category       TEXT NOT NULL,
    at             INTEGER NOT NULL,
    correlation_id TEXT NOT NULL,
    payload        TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('queued', 'retrying', 'sent', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT
);
CREATE INDEX events_status ON events (status, seq);

CREATE TABLE audit (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    correlation_id TEXT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    success        INTEGER NOT NULL CHECK (success IN (0, 1)),
    counts         TEXT NOT NULL,
    duration_ms    INTEGER NOT NULL,
    at             INTEGER NOT NULL,
    detail         TEXT
);
CREATE INDEX audit_correlation ON audit (correlation_id);

CREATE TABLE coverage_reports (
    scope       TEXT NOT NULL,
    component   TEXT NOT NULL,
    report      TEXT NOT NULL,
    computed_at INTEGER NOT NULL,
    PRIMARY KEY (scope, component)
) WITHOUT ROWID;

CREATE TABLE kv (
    namespace TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     BLOB NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;

CREATE TABLE documents (
    replica  TEXT NOT NULL,
    key      TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('json', 'text', 'bytes')),
    content  BLOB NOT NULL,
    digest   TEXT,
    rules    TEXT,
    size     INTEGER NOT NULL,
    modified INTEGER,
    PRIMARY KEY (replica, key)
);
-- An edit of `content` made straight in SQL that leaves the digest as it was clears the
-- digest (and the rules it was made with), so the next scan digests the new content
-- instead of trusting a stale value.
CREATE TRIGGER documents_content_edited AFTER UPDATE OF content ON documents
WHEN NEW.digest IS OLD.digest AND NEW.content IS NOT OLD.content
BEGIN
    UPDATE documents SET digest = NULL, rules = NULL WHERE replica = NEW.replica AND key = NEW.key;
END;
"#,
    // 2: a scan reads keys and digests from this index alone, never the documents' pages
    // (at 100k documents: ~20 MB instead of ~165 MB read per status).
    r#"
CREATE INDEX documents_scan ON documents (replica, key, kind, digest, rules, size, modified);
"#,
    // The outbox replaces the delivery queue: every event is a row with an increasing
    // id, written in the transaction of the change it reports. AUTOINCREMENT: an id is
    // never given twice, even after the newest rows are pruned.
    r#"
DROP TABLE IF EXISTS events;
CREATE TABLE outbox (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    type           TEXT NOT NULL,
    time           INTEGER NOT NULL,
    pair           TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    payload        TEXT NOT NULL
);
CREATE INDEX outbox_time ON outbox (time);
"#,
    // 4: one row per (endpoint, outbox event): where its delivery stands.
    r#"
CREATE TABLE deliveries (
    endpoint        TEXT NOT NULL,
    event_id        INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'retrying', 'sent', 'failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_status     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (endpoint, event_id)
) WITHOUT ROWID;
CREATE INDEX deliveries_status ON deliveries (status, event_id);
"#,
    // 5: intents, recorded before a write on a side and cleared by the item's commit; an
    // open one after a crash tells the next writer what the interrupted sync was doing.
    r#"
CREATE TABLE intents (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id TEXT NOT NULL,
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    side         TEXT NOT NULL CHECK (side IN ('left', 'right')),
    pre          TEXT,
    post         TEXT,
    base_before  TEXT,
    base_after   TEXT,
    direction    TEXT NOT NULL,
    trigger      TEXT NOT NULL CHECK (trigger IN ('file_watcher', 'periodic', 'user_edit', 'manual')),
    created_at   INTEGER NOT NULL
);
CREATE INDEX intents_item ON intents (scope, operation_id, key);
"#,
    // 6: credentials, browser test sessions and coverage history.
    // - `credentials.sealed` holds the value encrypted by the facade (AES-256-GCM, its key
    //   never in this file); `record` the metadata as JSON, without the sealed bytes.
    // - `coverage_reports` becomes a history (one row per component per computation); the
    //   one-row-per-component table of migration 1 was never written, so nothing is lost.
    r#"
CREATE TABLE credentials (
    name            TEXT PRIMARY KEY NOT NULL,
    provider        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'valid', 'revoked', 'expired')),
    rotation_due_at INTEGER,
    sealed          BLOB NOT NULL,
    record          TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE browser_test_sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    story_id       TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('running', 'passed', 'failed', 'aborted')),
    started_at     INTEGER NOT NULL,
    ended_at       INTEGER,
    performance    TEXT,
    correlation_id TEXT NOT NULL,
    actor          TEXT NOT NULL
);
CREATE INDEX browser_test_sessions_started ON browser_test_sessions (started_at);
CREATE INDEX browser_test_sessions_story ON browser_test_sessions (story_id, started_at);

DROP TABLE coverage_reports;
CREATE TABLE coverage_reports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    scope        TEXT NOT NULL,
    component    TEXT NOT NULL,
    computed_at  INTEGER NOT NULL,
    variant_hash TEXT NOT NULL,
    percentage   REAL NOT NULL,
    report       TEXT NOT NULL
);
CREATE INDEX coverage_reports_component ON coverage_reports (scope, component, computed_at);
CREATE INDEX coverage_reports_time ON coverage_reports (computed_at);
"#,
    // 7: API keys, by the SHA-256 of the key: the key itself is never stored.
    r#"
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) WITHOUT ROWID;
"#,
    // 8: `schedule`, the trigger of a scheduled sync (the server's nightly one), allowed in
    // the three tables that record triggers. SQLite cannot change a CHECK in place, so each
    // table is rebuilt as SQLite's ALTER TABLE docs prescribe, keeping its rows and its
    // AUTOINCREMENT counter (so no id is ever handed out twice).
    r#"
ALTER TABLE operations RENAME TO operations_v7;
DROP INDEX operations_scope;
CREATE TABLE operations (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id     TEXT NOT NULL UNIQUE,
    scope            TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('running', 'completed', 'partial', 'failed')),
    trigger          TEXT NOT NULL CHECK (trigger IN ('file_watcher', 'periodic', 'user_edit', 'manual', 'schedule')),
    actor            TEXT NOT NULL,
    policy           TEXT NOT NULL,
    directions       TEXT NOT NULL,
    planned          INTEGER NOT NULL,
    applied          INTEGER NOT NULL,
    skipped          INTEGER NOT NULL,
    conflicts        INTEGER NOT NULL,
    failed           INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER NOT NULL,
    duration_ms      INTEGER NOT NULL,
    reversible_until INTEGER,
    undone_at        INTEGER,
    report           TEXT NOT NULL
);
INSERT INTO operations SELECT * FROM operations_v7;
CREATE INDEX operations_scope ON operations (scope, seq);

ALTER TABLE history RENAME TO history_v7;
DROP INDEX history_scope;
DROP INDEX history_operation;
CREATE TABLE history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id TEXT NOT NULL,
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    direction    TEXT NOT NULL,
    trigger      TEXT NOT NULL CHECK (trigger IN ('file_watcher', 'periodic', 'user_edit', 'manual', 'schedule')),
    success      INTEGER NOT NULL CHECK (success IN (0, 1)),
    error        TEXT,
    left_digest  TEXT,
    right_digest TEXT,
    at           INTEGER NOT NULL
);
INSERT INTO history SELECT * FROM history_v7;
CREATE INDEX history_scope ON history (scope, id);
CREATE INDEX history_operation ON history (operation_id);

ALTER TABLE intents RENAME TO intents_v7;
DROP INDEX intents_item;
CREATE TABLE intents (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id TEXT NOT NULL,
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    side         TEXT NOT NULL CHECK (side IN ('left', 'right')),
    pre          TEXT,
    post         TEXT,
    base_before  TEXT,
    base_after   TEXT,
    direction    TEXT NOT NULL,
    trigger      TEXT NOT NULL CHECK (trigger IN ('file_watcher', 'periodic', 'user_edit', 'manual', 'schedule')),
    created_at   INTEGER NOT NULL
);
INSERT INTO intents SELECT * FROM intents_v7;
CREATE INDEX intents_item ON intents (scope, operation_id, key);

-- Each new table's counter continues from the old one's.
DELETE FROM sqlite_sequence WHERE name IN ('operations', 'history', 'intents');
UPDATE sqlite_sequence SET name = substr(name, 1, length(name) - 3)
    WHERE name IN ('operations_v7', 'history_v7', 'intents_v7');
DROP TABLE operations_v7;
DROP TABLE history_v7;
DROP TABLE intents_v7;
"#,
    // 9: how a blob's content is encoded (`twinsync_core::packing`): NULL as it is, `lz4`
    // compressed. Rows written before keep NULL.
    r#"
ALTER TABLE blobs ADD COLUMN encoding TEXT CHECK (encoding IN ('lz4'));
"#,
];

/// The schema version this build writes and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The first 16 bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// How hard a commit works to survive a crash.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Durability {
    /// `synchronous = FULL` (the default): a commit is on disk before it returns, so
    /// power loss never loses an acknowledged undo entry.
    #[default]
    Full,
    /// `synchronous = NORMAL`: faster; still consistent after a crash, but power loss may
    /// drop the last few commits. For scratch stores and benchmarks.
    Normal,
}

impl Durability {
    /// The `synchronous` setting it stands for.
    pub(crate) fn synchronous(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
}

/// The page size of a new database file. A first sync keeps each text of a few KiB as a
/// base; on 4 KiB pages every such row spills into an overflow page of its own, and each
/// page is two writes to the WAL and one more to the file. On 16 KiB pages the rows sit
/// in their leaves, three or so to a page. Measured with `benches/first_sync_ab.py
/// --varied` (20,000 texts of 4 KB): 1.56-1.71x of `rsync -a` on 4 KiB pages, 1.27-1.50x
/// on 16 KiB; in one run of five rounds, 1.64x on 8 KiB (a row no longer fits twice),
/// 1.40x on 16 KiB and 1.35x on 32 KiB. Larger pages cost every small sync more WAL:
/// 30 one-file syncs of a 2,000-file pair took 62, 65, 70 and 79 ms each on 4, 16, 32
/// and 64 KiB pages. A file made earlier keeps its size.
pub(crate) const PAGE_SIZE: u32 = 16 << 10;

/// The size a WAL file is cut back to once a checkpoint has emptied it (64 MiB).
pub(crate) const JOURNAL_SIZE_LIMIT: u64 = 64 << 20;

/// Why a state database could not be opened; converted to the store's or replica's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// The file is damaged, not a database, or of a newer schema.
    Corrupt(String),
    /// Another connection holds a lock the open needs (retried by [`open_file`]).
    Busy(String),
    /// Any other failure (permissions, I/O).
    Backend(String),
}

/// Checks, before SQLite touches it, that an existing file at `path` looks like a
/// complete SQLite database: right magic, and at least as long as its header says.
///
/// SQLite itself would report "file is not a database" only at the first query, and
/// would happily open a truncated file; checking first keeps the error naming the file
/// and guarantees nothing is ever written into a file that is not ours.
pub(crate) fn check_file(path: &Path) -> Result<(), OpenError> {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(OpenError::Backend(format!("{shown}: {e}"))),
    };
    if !meta.is_file() {
        return Err(OpenError::Backend(format!("{shown}: not a regular file")));
    }
    let len = meta.len();
    if len == 0 {
        // SQLite treats an empty file as a new database.
        return Ok(());
    }
    let mut header = [0u8; 100];
    let mut file = File::open(path).map_err(|e| OpenError::Backend(format!("{shown}: {e}")))?;
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(OpenError::Backend(format!("{shown}: {e}"))),
        }
    }
    if read < 16 || &header[..16] != SQLITE_MAGIC {
        return Err(OpenError::Corrupt(format!("{shown}: file is not a database (no SQLite header); left untouched")));
    }
    if read < header.len() {
        return Err(OpenError::Corrupt(format!(
            "{shown}: file is not a database: truncated to {len} bytes, inside its 100-byte header; left untouched"
        )));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536u64,
        n => u64::from(n),
    };
    let pages = u64::from(u32::from_be_bytes([header[28], header[29], header[30], header[31]]));
    // The in-header page count is only valid when the change counter matches the
    // "version valid for" number (older writers did not maintain it).
    let valid = header[24..28] == header[92..96];
    // With a write-ahead log present, recent pages may live in the log instead.
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_present = std::fs::metadata(&wal).map(|m| m.len() > 0).unwrap_or(false);
    if valid && !wal_present && pages > 0 && len < pages.saturating_mul(page_size) {
        return Err(OpenError::Corrupt(format!(
            "{shown}: file is not a database: truncated to {len} bytes, its header says {} ({pages} pages of {page_size}); left untouched",
            pages * page_size
        )));
    }
    Ok(())
}

/// Maps a SQLite error to an open error, naming the file; damage is `Corrupt`.
pub(crate) fn classify(label: &str, e: &rusqlite::Error) -> OpenError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => {
            OpenError::Corrupt(format!("{label}: {e}; left untouched"))
        }
        _ if is_busy(e) => OpenError::Busy(format!("{label}: {e}")),
        _ => OpenError::Backend(format!("{label}: {e}")),
    }
}

/// How long [`retry_while_busy`] keeps starting an open over.
const OPEN_RETRY_FOR: Duration = Duration::from_secs(5);

/// Whether SQLite refused because another connection holds a lock.
pub fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

/// Runs `open` again, with a growing pause, for up to 5 s while `busy` says its error is
/// a lock held by another connection. Openers racing on a fresh file can get
/// SQLITE_BUSY at once, without the busy handler being consulted, while they switch it
/// to WAL; `open` must be idempotent (each try opens its own connection).
pub fn retry_while_busy<T, E>(mut open: impl FnMut() -> Result<T, E>, busy: impl Fn(&E) -> bool) -> Result<T, E> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match open() {
            Err(e) if busy(&e) && started.elapsed() < OPEN_RETRY_FOR => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            result => return result,
        }
    }
}

/// Opens (creating if missing) the database at `path` with the settings every
/// connection uses, and brings its schema up to [`SCHEMA_VERSION`]. Its checkpoints run
/// on a thread of their own: drop the [`Checkpointer`] after the connection.
pub(crate) fn open_file(path: &Path, durability: Durability) -> Result<(Connection, Checkpointer), OpenError> {
    check_file(path)?;
    let label = path.display().to_string();
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    retry_while_busy(
        || {
            let mut conn = Connection::open_with_flags(path, flags).map_err(|e| classify(&label, &e))?;
            configure(&mut conn, &label, true, durability)?;
            let checkpoints =
                Checkpointer::attach(&mut conn, path, durability.synchronous()).map_err(|e| classify(&label, &e))?;
            Ok((conn, checkpoints))
        },
        |e| matches!(e, OpenError::Busy(_)),
    )
}

/// An in-memory database with the same schema (gone when the connection closes).
pub(crate) fn open_memory() -> Result<Connection, OpenError> {
    let mut conn = Connection::open_in_memory().map_err(|e| classify(":memory:", &e))?;
    configure(&mut conn, ":memory:", false, Durability::Full)?;
    Ok(conn)
}

fn configure(conn: &mut Connection, label: &str, file: bool, durability: Durability) -> Result<(), OpenError> {
    let err = |e: rusqlite::Error| classify(label, &e);
    conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
    conn.set_prepared_statement_cache_capacity(64);
    // Refuse a newer schema before changing anything (the journal mode is persistent).
    refuse_newer(conn, label)?;
    if file {
        // Takes effect only on a file with no table yet (see `PAGE_SIZE`).
        conn.execute_batch(&format!("PRAGMA page_size = {PAGE_SIZE}")).map_err(err)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(OpenError::Backend(format!("{label}: could not switch to WAL journal mode (got {mode})")));
        }
    }
    // FULL by default, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss. The
    // engine writes a replica first and records the undo entry (the overwritten version)
    // right after; losing that record would lose the only copy of the old version, so
    // every commit is made durable before the engine moves on.
    let sync = durability.synchronous();
    // A batch of a first sync dirties a few thousand pages (its contents as bases); with
    // SQLite's 2 MiB default they spill and are read back before the commit. The cache
    // only grows to 16 MiB on such a batch.
    // A file's checkpoints are not made by its commits but on a thread of their own
    // (`checkpoint`); the WAL file is cut back to 64 MiB once emptied.
    // Reads of the database file go through a mapping of up to 1 GiB: a warm status
    // reads every base row, and a mapped page is the kernel's own cached page, where a
    // read copies it into a fresh buffer of SQLite's cache (1.5% of a status of 100,000
    // files). Writes still go through the WAL; a memory database ignores this.
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384;
         PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}; PRAGMA mmap_size = 1073741824;"
    ))
    .map_err(err)?;
    migrate(conn, label)
}

/// Reads the schema version, refusing one this build does not know.
fn refuse_newer(conn: &Connection, label: &str) -> Result<i64, OpenError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| classify(label, &e))?;
    if current > SCHEMA_VERSION {
        return Err(OpenError::Corrupt(format!(
            "{label}: schema version {current} is newer than this build understands (version {SCHEMA_VERSION}); \
             upgrade twinsync to open it"
        )));
    }
    if current < 0 {
        return Err(OpenError::Corrupt(format!("{label}: invalid schema version {current}")));
    }
    Ok(current)
}

/// Applies the migrations the database has not seen yet, each in one transaction.
///
/// A database written by a newer build (a higher `user_version`) is refused rather than
/// guessed at: its meaning is unknown to this build.
pub(crate) fn migrate(conn: &mut Connection, label: &str) -> Result<(), OpenError> {
    let err = |e: rusqlite::Error| classify(label, &e);
    let current = refuse_newer(conn, label)?;
    if current == SCHEMA_VERSION {
        // Force a read of the schema page, so a damaged file is reported at open.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).map_err(err)?;
        return Ok(());
    }
    // IMMEDIATE: two processes opening a fresh file at once must not both migrate.
    // Re-read the version under the write lock, since another opener may have won.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
    let mut version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
    while version < SCHEMA_VERSION {
        let sql = MIGRATIONS[version as usize];
        tx.execute_batch(sql).map_err(|e| {
            let inner = classify(label, &e);
            match inner {
                OpenError::Corrupt(m) => OpenError::Corrupt(m),
                OpenError::Busy(m) => OpenError::Busy(format!("migration {} failed: {m}", version + 1)),
                OpenError::Backend(m) => OpenError::Backend(format!("migration {} failed: {m}", version + 1)),
            }
        })?;
        version += 1;
        tx.pragma_update(None, "user_version", version).map_err(err)?;
    }
    tx.commit().map_err(err)
}
