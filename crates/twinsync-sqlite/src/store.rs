//! `SqliteStore`: the [`Store`] trait over one SQLite file (or an in-memory database).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::de::DeserializeOwned;
use twinsync_core::api_key::ApiKeyRecord;
use twinsync_core::audit::AuditRecord;
use twinsync_core::coverage_history::CoverageRecord;
use twinsync_core::credential::CredentialRecord;
use twinsync_core::delivery::{Delivery, DeliveryStatus};
use twinsync_core::event::Event;
use twinsync_core::lock::{Lock, LockError};
use twinsync_core::packing;
use twinsync_core::store::{HistoryEntry, Intent, ItemCommit, LockChange, PruneStats, UndoCommit, UndoEntry};
use twinsync_core::test_session::TestSession;
use twinsync_core::{
    Content, ContentKind, Digest, Key, OperationReport, Side, Store, StoreError, Timestamp, Trigger, UndoLimits,
};

use crate::checkpoint::Checkpointer;
use crate::schema::{self, Durability, OpenError};

/// The embedded default store: every table of the engine's memory in one SQLite file,
/// opened in WAL mode so readers never block the writer.
///
/// Each mutating method is one `IMMEDIATE` transaction: either all of it is stored or
/// none, and two processes on the same file take turns (waiting up to 5 s).
pub struct SqliteStore {
    conn: Connection,
    /// Dropped after `conn`, so its thread closes the file last (`checkpoint`).
    _checkpoints: Option<Checkpointer>,
    label: String,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.label).finish()
    }
}

impl From<OpenError> for StoreError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::Corrupt(m) => StoreError::Corrupt(m),
            OpenError::Busy(m) | OpenError::Backend(m) => StoreError::Backend(m),
        }
    }
}

/// Clamps a caller's limit to what SQLite's `LIMIT` takes.
fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn opt_hex(d: &Option<Digest>) -> Option<String> {
    d.as_ref().map(Digest::to_hex)
}

fn api_key_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        hash: r.get(2)?,
        created_at: Timestamp(r.get(3)?),
        last_used_at: r.get::<_, Option<i64>>(4)?.map(Timestamp),
        revoked_at: r.get::<_, Option<i64>>(5)?.map(Timestamp),
    })
}

fn ms(t: Timestamp) -> i64 {
    t.millis()
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file if missing and migrating its schema.
    ///
    /// A file that is not a SQLite database, a truncated one, or one written by a newer
    /// schema is refused with [`StoreError::Corrupt`] naming the file, and left untouched.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_with(path, Durability::Full)
    }

    /// Opens the store at `path` with the given durability (see [`Durability`]).
    pub fn open_with(path: &Path, durability: Durability) -> Result<SqliteStore, StoreError> {
        let (conn, checkpoints) = schema::open_file(path, durability)?;
        Ok(SqliteStore { conn, _checkpoints: Some(checkpoints), label: path.display().to_string() })
    }

    /// The file (or `:memory:`) this store was opened on, as shown in its errors.
    pub fn location(&self) -> &str {
        &self.label
    }

    /// A store in memory, with the same schema; lost when dropped.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let conn = schema::open_memory()?;
        Ok(SqliteStore { conn, _checkpoints: None, label: ":memory:".into() })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| self.err(e))
    }

    /// Number of stored blobs (content is deduplicated by digest).
    pub fn blob_count(&self) -> Result<usize, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM blobs", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(|e| self.err(e))
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        schema::classify(&self.label, &e).into()
    }

    fn corrupt(&self, what: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(format!("{}: {what}", self.label))
    }

    fn digest(&self, table: &str, hex: &str) -> Result<Digest, StoreError> {
        Digest::from_hex(hex).map_err(|e| self.corrupt(format!("{table}: bad digest {hex:?}: {e}")))
    }

    fn opt_digest(&self, table: &str, hex: Option<String>) -> Result<Option<Digest>, StoreError> {
        hex.map(|h| self.digest(table, &h)).transpose()
    }

    fn key(&self, table: &str, s: &str) -> Result<Key, StoreError> {
        Key::new(s).map_err(|e| self.corrupt(format!("{table}: {e}")))
    }

    fn parse<T: DeserializeOwned>(&self, table: &str, what: &str, s: &str) -> Result<T, StoreError> {
        serde_json::from_str(s).map_err(|e| self.corrupt(format!("{table}: bad {what} {s:?}: {e}")))
    }

    fn parse_name<T: DeserializeOwned>(&self, table: &str, what: &str, s: &str) -> Result<T, StoreError> {
        serde_json::from_value(serde_json::Value::String(s.to_string()))
            .map_err(|_| self.corrupt(format!("{table}: unknown {what} {s:?}")))
    }

    fn coverage_from(&self, r: CoverageRow) -> Result<CoverageRecord, StoreError> {
        let (scope, component, at, hash, percentage, report) = r;
        Ok(CoverageRecord {
            variant_hash: self.digest("coverage_reports", &hash)?,
            coverage: self.parse("coverage_reports", "report", &report)?,
            scope,
            component,
            computed_at: Timestamp::from_millis(at),
            percentage,
        })
    }

    fn session_from(&self, r: SessionRow) -> Result<TestSession, StoreError> {
        let (id, story_id, status, started, ended, performance, correlation_id, actor) = r;
        Ok(TestSession {
            status: status.parse().map_err(|e| self.corrupt(format_args!("browser_test_sessions: {e}")))?,
            performance: performance.map(|p| self.parse("browser_test_sessions", "performance", &p)).transpose()?,
            id,
            story_id,
            started_at: Timestamp::from_millis(started),
            ended_at: ended.map(Timestamp::from_millis),
            correlation_id,
            actor,
        })
    }

    fn credential_from(&self, record: &str, sealed: Vec<u8>) -> Result<CredentialRecord, StoreError> {
        let mut c: CredentialRecord = self.parse("credentials", "record", record)?;
        c.sealed = sealed;
        Ok(c)
    }

    fn history_from_row(&self, row: HistoryRow) -> Result<HistoryEntry, StoreError> {
        let (operation_id, scope, key, direction, trigger, success, error, left, right, at) = row;
        Ok(HistoryEntry {
            operation_id,
            key: self.key("history", &key)?,
            scope,
            direction,
            trigger: self.parse_name::<Trigger>("history", "trigger", &trigger)?,
            success,
            error,
            left: self.opt_digest("history", left)?,
            right: self.opt_digest("history", right)?,
            at: Timestamp::from_millis(at),
        })
    }
}

type HistoryRow = (String, String, String, String, String, bool, Option<String>, Option<String>, Option<String>, i64);

const HISTORY_COLUMNS: &str =
    "operation_id, scope, key, direction, trigger, success, error, left_digest, right_digest, at";

fn history_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?))
}

fn insert_history(tx: &rusqlite::Transaction<'_>, h: &HistoryEntry) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO history (operation_id, scope, key, direction, trigger, success, error, left_digest, right_digest, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        h.operation_id,
        h.scope,
        h.key.as_str(),
        h.direction,
        h.trigger.as_str(),
        h.success,
        h.error,
        opt_hex(&h.left),
        opt_hex(&h.right),
        ms(h.at),
    ])?;
    Ok(())
}

const COVERAGE_COLUMNS: &str = "scope, component, computed_at, variant_hash, percentage, report";
type CoverageRow = (String, String, i64, String, f64, String);

fn coverage_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CoverageRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

const SESSION_COLUMNS: &str = "id, story_id, status, started_at, ended_at, performance, correlation_id, actor";
type SessionRow = (String, String, String, i64, Option<i64>, Option<String>, String, String);

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
}

fn insert_events(tx: &rusqlite::Transaction<'_>, events: &[Event]) -> rusqlite::Result<()> {
    let mut put = tx
        .prepare_cached("INSERT INTO outbox (type, time, pair, correlation_id, payload) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for e in events {
        let payload =
            serde_json::to_string(&e.payload).map_err(|x| rusqlite::Error::ToSqlConversionFailure(Box::new(x)))?;
        put.execute(params![e.event_type.as_str(), ms(e.time), e.pair, e.correlation_id, payload])?;
    }
    Ok(())
}

fn set_base(tx: &rusqlite::Transaction<'_>, scope: &str, key: &Key, digest: &Option<Digest>) -> rusqlite::Result<()> {
    match digest {
        Some(d) => tx
            .prepare_cached(
                "INSERT INTO base (scope, key, digest) VALUES (?1, ?2, ?3)
                 ON CONFLICT (scope, key) DO UPDATE SET digest = excluded.digest",
            )?
            .execute(params![scope, key.as_str(), d.to_hex()])?,
        None => tx
            .prepare_cached("DELETE FROM base WHERE scope = ?1 AND key = ?2")?
            .execute(params![scope, key.as_str()])?,
    };
    Ok(())
}

type IntentRow =
    (String, String, String, Option<String>, Option<String>, Option<String>, Option<String>, String, String, i64);

fn intent_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IntentRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?))
}

/// Stores blobs; content-addressed: the first copy of a digest stays.
fn put_blobs(tx: &rusqlite::Transaction<'_>, blobs: &[(Digest, Content)]) -> rusqlite::Result<()> {
    let mut put_blob = tx.prepare_cached(
        "INSERT INTO blobs (digest, kind, size, content, encoding) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (digest) DO NOTHING",
    )?;
    for (d, content) in blobs {
        let packed = packing::pack(content.as_bytes());
        put_blob.execute(params![
            d.to_hex(),
            content.kind().as_str(),
            content.len() as i64,
            packed.bytes,
            packed.encoding
        ])?;
    }
    Ok(())
}

/// One item's commit inside a transaction: base, blobs, undo entries, history, events,
/// and its intents cleared.
fn commit_in(tx: &rusqlite::Transaction<'_>, c: &ItemCommit) -> rusqlite::Result<()> {
    set_base(tx, &c.scope, &c.key, &c.base_after)?;
    put_blobs(tx, &c.blobs)?;
    let mut put_undo = tx.prepare_cached(
        "INSERT INTO undo_entries (operation_id, scope, key, side, pre, post, base_before, created_at,
             expires_at, undone_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for u in &c.undo {
        put_undo.execute(params![
            u.operation_id,
            u.scope,
            u.key.as_str(),
            u.side.as_str(),
            opt_hex(&u.pre),
            opt_hex(&u.post),
            opt_hex(&u.base_before),
            ms(u.created_at),
            ms(u.expires_at),
            u.undone_at.map(ms),
        ])?;
    }
    tx.prepare_cached("DELETE FROM intents WHERE scope = ?1 AND operation_id = ?2 AND key = ?3")?.execute(params![
        c.scope,
        c.history.operation_id,
        c.key.as_str()
    ])?;
    insert_history(tx, &c.history)?;
    insert_events(tx, &c.events)
}

type UndoRow = (String, String, String, String, Option<String>, Option<String>, Option<String>, i64, i64, Option<i64>);

impl Store for SqliteStore {
    fn load_base(&self, scope: &str) -> Result<BTreeMap<Key, Digest>, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT key, digest FROM base WHERE scope = ?1").map_err(|e| self.err(e))?;
        let mut rows = stmt.query([scope]).map_err(|e| self.err(e))?;
        // Borrowed text, no String per column, and one bulk build of the map from rows
        // that come in key order (the primary key's): a warm status loads every row.
        let mut base = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let text = |i| row.get_ref(i).and_then(|v| Ok(v.as_str()?)).map_err(|e| self.err(e));
            base.push((self.key("base", text(0)?)?, self.digest("base", text(1)?)?));
        }
        Ok(base.into_iter().collect())
    }

    fn blob(&self, digest: &Digest) -> Result<Option<Content>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT kind, content, encoding, size FROM blobs WHERE digest = ?1")
            .map_err(|e| self.err(e))?;
        let row = stmt
            .query_row([digest.to_hex()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((kind, bytes, encoding, size)) = row else { return Ok(None) };
        let kind =
            ContentKind::parse(&kind).ok_or_else(|| self.corrupt(format!("blob {digest}: unknown kind {kind:?}")))?;
        let bytes = u64::try_from(size)
            .map_err(|_| format!("negative size {size}"))
            .and_then(|size| packing::unpack(encoding.as_deref(), bytes, size))
            .map_err(|e| self.corrupt(format!("blob {digest}: {e}")))?;
        Content::from_bytes(kind, bytes).map(Some).map_err(|e| self.corrupt(format!("blob {digest}: {e}")))
    }

    fn operation(&self, operation_id: &str) -> Result<Option<OperationReport>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT report FROM operations WHERE operation_id = ?1")
            .map_err(|e| self.err(e))?;
        let json: Option<String> = stmt.query_row([operation_id], |r| r.get(0)).optional().map_err(|e| self.err(e))?;
        json.map(|j| self.parse("operations", &format!("report of {operation_id}"), &j)).transpose()
    }

    fn operations(&self, scope: Option<&str>, n: usize) -> Result<Vec<OperationReport>, StoreError> {
        // Two statements rather than `?1 IS NULL OR scope = ?1`, so the scoped one can
        // walk the (scope, seq) index instead of the whole table.
        let sql = match scope {
            Some(_) => "SELECT operation_id, report FROM operations WHERE scope = ?1 ORDER BY seq DESC LIMIT ?2",
            None => "SELECT operation_id, report FROM operations WHERE ?1 IS NULL ORDER BY seq DESC LIMIT ?2",
        };
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![scope, limit(n)], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        rows.map(|row| {
            let (id, json) = row.map_err(|e| self.err(e))?;
            self.parse("operations", &format!("report of {id}"), &json)
        })
        .collect()
    }

    fn put_operation(&mut self, r: &OperationReport, events: &[Event]) -> Result<(), StoreError> {
        let report =
            serde_json::to_string(r).map_err(|e| StoreError::Backend(format!("report of {}: {e}", r.operation_id)))?;
        let directions = serde_json::to_string(&r.directions)
            .map_err(|e| StoreError::Backend(format!("directions of {}: {e}", r.operation_id)))?;
        let c = &r.counts;
        let label = self.label.clone();
        let err = |e: rusqlite::Error| StoreError::from(schema::classify(&label, &e));
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        // Upsert keeps `seq`, so a replaced operation keeps its place in the order.
        tx.prepare_cached(
                "INSERT INTO operations (operation_id, scope, status, trigger, actor, policy, directions, planned, applied,
                     skipped, conflicts, failed, started_at, finished_at, duration_ms, reversible_until, undone_at, report)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                 ON CONFLICT (operation_id) DO UPDATE SET scope = excluded.scope, status = excluded.status,
                     trigger = excluded.trigger, actor = excluded.actor, policy = excluded.policy,
                     directions = excluded.directions, planned = excluded.planned, applied = excluded.applied,
                     skipped = excluded.skipped, conflicts = excluded.conflicts, failed = excluded.failed,
                     started_at = excluded.started_at, finished_at = excluded.finished_at,
                     duration_ms = excluded.duration_ms, reversible_until = excluded.reversible_until,
                     undone_at = excluded.undone_at, report = excluded.report",
            )
            .and_then(|mut s| {
                s.execute(params![
                    r.operation_id,
                    r.scope,
                    r.status.as_str(),
                    r.trigger.as_str(),
                    r.actor,
                    r.policy.to_string(),
                    directions,
                    limit(c.planned),
                    limit(c.applied),
                    limit(c.skipped),
                    limit(c.conflicts),
                    limit(c.failed),
                    ms(r.started_at),
                    ms(r.finished_at),
                    r.duration_ms,
                    r.reversible_until.map(ms),
                    r.undone_at.map(ms),
                    report,
                ])
            })
            .map_err(err)?;
        insert_events(&tx, events).map_err(err)?;
        tx.commit().map_err(err)
    }

    fn commit_item(&mut self, c: &ItemCommit) -> Result<(), StoreError> {
        self.commit_items(std::slice::from_ref(c))
    }

    fn commit_items(&mut self, commits: &[ItemCommit]) -> Result<(), StoreError> {
        let label = self.label.clone();
        let err = |e: rusqlite::Error| StoreError::from(schema::classify(&label, &e));
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        for c in commits {
            commit_in(&tx, c).map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    fn record_intents(&mut self, intents: &[Intent], blobs: &[(Digest, Content)]) -> Result<(), StoreError> {
        let label = self.label.clone();
        let err = |e: rusqlite::Error| StoreError::from(schema::classify(&label, &e));
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        put_blobs(&tx, blobs).map_err(err)?;
        {
            let mut put = tx
                .prepare_cached(
                    "INSERT INTO intents (operation_id, scope, key, side, pre, post, base_before, base_after,
                         direction, trigger, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .map_err(err)?;
            for i in intents {
                put.execute(params![
                    i.operation_id,
                    i.scope,
                    i.key.as_str(),
                    i.side.as_str(),
                    opt_hex(&i.pre),
                    opt_hex(&i.post),
                    opt_hex(&i.base_before),
                    opt_hex(&i.base_after),
                    i.direction,
                    i.trigger.as_str(),
                    ms(i.created_at),
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn open_intents(&self, scope: &str) -> Result<Vec<Intent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT operation_id, key, side, pre, post, base_before, base_after, direction, trigger, created_at
                 FROM intents WHERE scope = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([scope], intent_row).map_err(|e| self.err(e))?;
        rows.map(|row| {
            let (operation_id, key, side, pre, post, base_before, base_after, direction, trigger, created) =
                row.map_err(|e| self.err(e))?;
            Ok(Intent {
                operation_id,
                scope: scope.to_string(),
                key: self.key("intents", &key)?,
                side: side.parse::<Side>().map_err(|e| self.corrupt(format!("intents: {e}")))?,
                pre: self.opt_digest("intents", pre)?,
                post: self.opt_digest("intents", post)?,
                base_before: self.opt_digest("intents", base_before)?,
                base_after: self.opt_digest("intents", base_after)?,
                direction,
                trigger: self.parse_name::<Trigger>("intents", "trigger", &trigger)?,
                created_at: Timestamp::from_millis(created),
            })
        })
        .collect()
    }

    fn drop_intents(&mut self, scope: &str, operation_id: &str, key: &Key) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM intents WHERE scope = ?1 AND operation_id = ?2 AND key = ?3")
            .and_then(|mut s| s.execute(params![scope, operation_id, key.as_str()]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn undo_entries(&self, operation_id: &str) -> Result<Vec<UndoEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT operation_id, scope, key, side, pre, post, base_before, created_at, expires_at, undone_at
                 FROM undo_entries WHERE operation_id = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([operation_id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.map(|row| {
            let (operation_id, scope, key, side, pre, post, base_before, created, expires, undone): UndoRow =
                row.map_err(|e| self.err(e))?;
            Ok(UndoEntry {
                operation_id,
                scope,
                key: self.key("undo_entries", &key)?,
                side: side.parse::<Side>().map_err(|e| self.corrupt(format!("undo_entries: {e}")))?,
                pre: self.opt_digest("undo_entries", pre)?,
                post: self.opt_digest("undo_entries", post)?,
                base_before: self.opt_digest("undo_entries", base_before)?,
                created_at: Timestamp::from_millis(created),
                expires_at: Timestamp::from_millis(expires),
                undone_at: undone.map(Timestamp::from_millis),
            })
        })
        .collect()
    }

    fn commit_undo(&mut self, c: &UndoCommit) -> Result<(), StoreError> {
        let label = self.label.clone();
        let err = |e: rusqlite::Error| StoreError::from(schema::classify(&label, &e));
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        set_base(&tx, &c.scope, &c.key, &c.base).map_err(err)?;
        tx.prepare_cached("UPDATE undo_entries SET undone_at = ?1 WHERE operation_id = ?2 AND key = ?3")
            .and_then(|mut s| s.execute(params![ms(c.at), c.operation_id, c.key.as_str()]))
            .map_err(err)?;
        insert_history(&tx, &c.history).map_err(err)?;
        insert_events(&tx, &c.events).map_err(err)?;
        tx.commit().map_err(err)
    }

    fn prune(&mut self, now: Timestamp, limits: &UndoLimits) -> Result<PruneStats, StoreError> {
        let label = self.label.clone();
        let err = |e: rusqlite::Error| StoreError::from(schema::classify(&label, &e));
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        // Undo entries survive only for the newest `max_operations` operations that have
        // any, and only while inside both their own expiry and the age limit.
        let dropped: Vec<String> = {
            let mut stmt = tx
                .prepare_cached(
                    "DELETE FROM undo_entries
                     WHERE operation_id NOT IN (
                             SELECT o.operation_id FROM operations o
                             WHERE EXISTS (SELECT 1 FROM undo_entries u WHERE u.operation_id = o.operation_id)
                             ORDER BY o.seq DESC LIMIT ?1)
                        OR expires_at <= ?2
                        OR ?2 - created_at > ?3
                     RETURNING operation_id",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map(params![limit(limits.max_operations), ms(now), limits.max_age_ms], |r| r.get(0))
                .map_err(err)?;
            rows.collect::<Result<_, _>>().map_err(err)?
        };
        let blobs = tx
            .prepare_cached(
                // The subquery reads only digests (the covering primary-key index), not the
                // content pages, so collection costs little per sync.
                "DELETE FROM blobs WHERE digest IN (
                     SELECT b.digest FROM blobs b
                     WHERE NOT EXISTS (SELECT 1 FROM base WHERE base.digest = b.digest)
                       AND NOT EXISTS (SELECT 1 FROM undo_entries u WHERE u.pre = b.digest)
                       AND NOT EXISTS (SELECT 1 FROM undo_entries u WHERE u.post = b.digest)
                       AND NOT EXISTS (SELECT 1 FROM intents i WHERE i.pre = b.digest OR i.post = b.digest))",
            )
            .and_then(|mut s| s.execute([]))
            .map_err(err)?;
        tx.commit().map_err(err)?;
        let operations = dropped.iter().collect::<BTreeSet<_>>().len();
        Ok(PruneStats { operations, undo_entries: dropped.len(), blobs })
    }

    fn history(&self, scope: Option<&str>, n: usize) -> Result<Vec<HistoryEntry>, StoreError> {
        let filter = if scope.is_some() { "scope = ?1" } else { "?1 IS NULL" };
        let sql = format!("SELECT {HISTORY_COLUMNS} FROM history WHERE {filter} ORDER BY id DESC LIMIT ?2");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(params![scope, limit(n)], history_row).map_err(|e| self.err(e))?;
        rows.map(|row| self.history_from_row(row.map_err(|e| self.err(e))?)).collect()
    }

    fn update_lock(
        &mut self,
        name: &str,
        f: &mut dyn FnMut(Option<Lock>) -> Result<LockChange, LockError>,
    ) -> Result<Result<Option<Lock>, LockError>, StoreError> {
        let label = self.label.clone();
        let err = |e: rusqlite::Error| StoreError::from(schema::classify(&label, &e));
        // IMMEDIATE takes the write lock before the read, so two processes cannot both
        // see the lock free and both take it.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let current = tx
            .prepare_cached("SELECT owner, token, reason, acquired_at, expires_at FROM locks WHERE name = ?1")
            .and_then(|mut s| {
                s.query_row([name], |r| {
                    Ok(Lock {
                        name: name.to_string(),
                        owner: r.get(0)?,
                        token: r.get(1)?,
                        reason: r.get(2)?,
                        acquired_at: Timestamp::from_millis(r.get(3)?),
                        expires_at: Timestamp::from_millis(r.get(4)?),
                    })
                })
                .optional()
            })
            .map_err(err)?;
        let LockChange { lock: next, events } = match f(current) {
            Ok(change) => change,
            // Dropping the transaction rolls it back: a refusal changes nothing.
            Err(refusal) => return Ok(Err(refusal)),
        };
        match &next {
            Some(l) => tx
                .prepare_cached(
                    "INSERT INTO locks (name, owner, token, reason, acquired_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = excluded.token,
                         reason = excluded.reason, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at",
                )
                .and_then(|mut s| {
                    s.execute(params![name, l.owner, l.token, l.reason, ms(l.acquired_at), ms(l.expires_at)])
                })
                .map_err(err)?,
            None => tx.prepare_cached("DELETE FROM locks WHERE name = ?1").and_then(|mut s| s.execute([name])).map_err(err)?,
        };
        insert_events(&tx, &events).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Ok(next.map(|l| Lock { name: name.to_string(), ..l })))
    }

    fn locks(&self) -> Result<Vec<Lock>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name, owner, token, reason, acquired_at, expires_at FROM locks ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Lock {
                    name: r.get(0)?,
                    owner: r.get(1)?,
                    token: r.get(2)?,
                    reason: r.get(3)?,
                    acquired_at: Timestamp::from_millis(r.get(4)?),
                    expires_at: Timestamp::from_millis(r.get(5)?),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    fn append_audit(&mut self, a: &AuditRecord) -> Result<String, StoreError> {
        let label = self.label.clone();
        let err = |e: rusqlite::Error| StoreError::from(schema::classify(&label, &e));
        let counts = serde_json::to_string(&a.counts).map_err(|e| StoreError::Backend(format!("audit counts: {e}")))?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let seq: i64 = tx
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM audit")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(err)?;
        let id = if a.id.is_empty() { format!("audit-{seq}") } else { a.id.clone() };
        tx.prepare_cached(
            "INSERT INTO audit (seq, id, correlation_id, actor, action, success, counts, duration_ms, at, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .and_then(|mut s| {
            s.execute(params![
                seq,
                id,
                a.correlation_id,
                a.actor,
                a.action,
                a.success,
                counts,
                a.duration_ms,
                ms(a.at),
                a.detail
            ])
        })
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => {
                StoreError::Backend(format!("{label}: audit record {id} already exists"))
            }
            _ => err(e),
        })?;
        tx.commit().map_err(err)?;
        Ok(id)
    }

    fn audit_log(&self, n: usize) -> Result<Vec<AuditRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, correlation_id, actor, action, success, counts, duration_ms, at, detail
                 FROM audit ORDER BY seq DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit(n)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, Option<String>>(8)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.map(|row| {
            let (id, correlation_id, actor, action, success, counts, duration_ms, at, detail) =
                row.map_err(|e| self.err(e))?;
            Ok(AuditRecord {
                counts: self.parse("audit", &format!("counts of {id}"), &counts)?,
                id,
                correlation_id,
                actor,
                action,
                success,
                duration_ms,
                at: Timestamp::from_millis(at),
                detail,
            })
        })
        .collect()
    }

    fn append_events(&mut self, events: &[Event]) -> Result<u64, StoreError> {
        let label = self.label.clone();
        let err = |e: rusqlite::Error| StoreError::from(schema::classify(&label, &e));
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        insert_events(&tx, events).map_err(err)?;
        // The newest id given, pruned rows included (AUTOINCREMENT remembers it).
        let last: i64 = tx
            .query_row("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0)", [], |r| r.get(0))
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(last as u64)
    }

    fn events_since(&self, after: u64, n: usize) -> Result<Vec<Event>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, type, time, pair, correlation_id, payload FROM outbox WHERE id > ?1 ORDER BY id LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![after as i64, limit(n)], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.map(|row| {
            let (id, event_type, time, pair, correlation_id, payload) = row.map_err(|e| self.err(e))?;
            Ok(Event {
                id: id as u64,
                event_type: event_type
                    .parse()
                    .map_err(|e| self.corrupt(format_args!("outbox: type of event {id}: {e}")))?,
                time: Timestamp::from_millis(time),
                pair,
                correlation_id,
                payload: self.parse("outbox", &format!("payload of event {id}"), &payload)?,
            })
        })
        .collect()
    }

    fn prune_events(&mut self, before: Timestamp) -> Result<usize, StoreError> {
        self.conn
            .prepare_cached("DELETE FROM outbox WHERE time < ?1 AND id < (SELECT MAX(id) FROM outbox)")
            .and_then(|mut s| s.execute([ms(before)]))
            .map_err(|e| self.err(e))
    }

    fn put_delivery(&mut self, d: &Delivery) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO deliveries (endpoint, event_id, status, attempts, next_attempt_at, last_status,
                     last_error, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (endpoint, event_id) DO UPDATE SET status = excluded.status,
                     attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
                     last_status = excluded.last_status, last_error = excluded.last_error,
                     updated_at = excluded.updated_at",
            )
            .and_then(|mut st| {
                st.execute(params![
                    d.endpoint,
                    d.event_id as i64,
                    d.status.as_str(),
                    d.attempts,
                    ms(d.next_attempt_at),
                    d.last_status,
                    d.last_error,
                    ms(d.created_at),
                    ms(d.updated_at),
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn deliveries(
        &self,
        endpoint: Option<&str>,
        status: Option<DeliveryStatus>,
        n: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT endpoint, event_id, status, attempts, next_attempt_at, last_status, last_error, created_at,
                     updated_at
                 FROM deliveries WHERE (?1 IS NULL OR endpoint = ?1) AND (?2 IS NULL OR status = ?2)
                 ORDER BY event_id, endpoint LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![endpoint, status.map(DeliveryStatus::as_str), limit(n)], |r| {
                Ok((
                    Delivery {
                        endpoint: r.get(0)?,
                        event_id: r.get::<_, i64>(1)? as u64,
                        status: DeliveryStatus::Queued,
                        attempts: r.get(3)?,
                        next_attempt_at: Timestamp::from_millis(r.get(4)?),
                        last_status: r.get(5)?,
                        last_error: r.get(6)?,
                        created_at: Timestamp::from_millis(r.get(7)?),
                        updated_at: Timestamp::from_millis(r.get(8)?),
                    },
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.map(|row| {
            let (mut d, status) = row.map_err(|e| self.err(e))?;
            d.status = status.parse().map_err(|e| self.corrupt(format_args!("deliveries: {e}")))?;
            Ok(d)
        })
        .collect()
    }

    fn append_coverage(&mut self, records: &[CoverageRecord]) -> Result<(), StoreError> {
        let reports = records
            .iter()
            .map(|r| serde_json::to_string(&r.coverage))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Backend(format!("coverage report: {e}")))?;
        let label = self.label.clone();
        let err = |e: rusqlite::Error| StoreError::from(schema::classify(&label, &e));
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO coverage_reports (scope, component, computed_at, variant_hash, percentage, report)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(err)?;
            for (r, report) in records.iter().zip(&reports) {
                st.execute(params![
                    r.scope,
                    r.component,
                    ms(r.computed_at),
                    r.variant_hash.to_hex(),
                    r.percentage,
                    report
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn coverage_history(
        &self,
        scope: Option<&str>,
        component: Option<&str>,
        n: usize,
    ) -> Result<Vec<CoverageRecord>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COVERAGE_COLUMNS} FROM coverage_reports
                 WHERE (?1 IS NULL OR scope = ?1) AND (?2 IS NULL OR component = ?2)
                 ORDER BY computed_at DESC, id DESC LIMIT ?3"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st.query_map(params![scope, component, limit(n)], coverage_row).map_err(|e| self.err(e))?;
        rows.map(|r| self.coverage_from(r.map_err(|e| self.err(e))?)).collect()
    }

    fn latest_coverage(&self, scope: &str) -> Result<Vec<CoverageRecord>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COVERAGE_COLUMNS} FROM coverage_reports
                 WHERE id IN (SELECT max(id) FROM coverage_reports WHERE scope = ?1 GROUP BY component)
                 ORDER BY component"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([scope], coverage_row).map_err(|e| self.err(e))?;
        rows.map(|r| self.coverage_from(r.map_err(|e| self.err(e))?)).collect()
    }

    fn prune_coverage(&mut self, before: Timestamp) -> Result<usize, StoreError> {
        self.conn
            .prepare_cached(
                "DELETE FROM coverage_reports WHERE computed_at < ?1
                 AND id NOT IN (SELECT max(id) FROM coverage_reports GROUP BY scope, component)",
            )
            .and_then(|mut s| s.execute([ms(before)]))
            .map_err(|e| self.err(e))
    }

    fn put_test_session(&mut self, t: &TestSession, events: &[Event]) -> Result<(), StoreError> {
        let performance = t.performance.as_ref().map(|v| v.to_string());
        let label = self.label.clone();
        let err = |e: rusqlite::Error| StoreError::from(schema::classify(&label, &e));
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        tx.prepare_cached(
            "INSERT INTO browser_test_sessions (id, story_id, status, started_at, ended_at, performance,
                 correlation_id, actor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (id) DO UPDATE SET story_id = excluded.story_id, status = excluded.status,
                 started_at = excluded.started_at, ended_at = excluded.ended_at,
                 performance = excluded.performance, correlation_id = excluded.correlation_id,
                 actor = excluded.actor",
        )
        .and_then(|mut st| {
            st.execute(params![
                t.id,
                t.story_id,
                t.status.as_str(),
                ms(t.started_at),
                t.ended_at.map(ms),
                performance,
                t.correlation_id,
                t.actor
            ])
        })
        .map_err(err)?;
        insert_events(&tx, events).map_err(err)?;
        tx.commit().map_err(err)
    }

    fn test_session(&self, id: &str) -> Result<Option<TestSession>, StoreError> {
        let row = self
            .conn
            .prepare_cached(&format!("SELECT {SESSION_COLUMNS} FROM browser_test_sessions WHERE id = ?1"))
            .and_then(|mut st| st.query_row([id], session_row).optional())
            .map_err(|e| self.err(e))?;
        row.map(|r| self.session_from(r)).transpose()
    }

    fn test_sessions(&self, story: Option<&str>, n: usize) -> Result<Vec<TestSession>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM browser_test_sessions WHERE (?1 IS NULL OR story_id = ?1)
                 ORDER BY started_at DESC, id DESC LIMIT ?2"
            ))
            .map_err(|e| self.err(e))?;
        let rows = st.query_map(params![story, limit(n)], session_row).map_err(|e| self.err(e))?;
        rows.map(|r| self.session_from(r.map_err(|e| self.err(e))?)).collect()
    }

    fn prune_deliveries(&mut self, before: Timestamp) -> Result<usize, StoreError> {
        self.conn
            .prepare_cached("DELETE FROM deliveries WHERE status IN ('sent', 'failed') AND updated_at < ?1")
            .and_then(|mut s| s.execute([ms(before)]))
            .map_err(|e| self.err(e))
    }

    fn put_credential(&mut self, c: &CredentialRecord, events: &[Event]) -> Result<(), StoreError> {
        let record =
            serde_json::to_string(c).map_err(|e| StoreError::Backend(format!("credential {}: {e}", c.name)))?;
        let label = self.label.clone();
        let err = |e: rusqlite::Error| StoreError::from(schema::classify(&label, &e));
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        tx.prepare_cached(
            "INSERT INTO credentials (name, provider, status, rotation_due_at, sealed, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (name) DO UPDATE SET provider = excluded.provider, status = excluded.status,
                     rotation_due_at = excluded.rotation_due_at, sealed = excluded.sealed, record = excluded.record",
        )
        .and_then(|mut st| {
            st.execute(params![
                c.name,
                c.provider.as_str(),
                c.status.as_str(),
                c.rotation_due_at.map(ms),
                c.sealed,
                record
            ])
        })
        .map_err(err)?;
        insert_events(&tx, events).map_err(err)?;
        tx.commit().map_err(err)
    }

    fn credential(&self, name: &str) -> Result<Option<CredentialRecord>, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT record, sealed FROM credentials WHERE name = ?1")
            .and_then(|mut st| {
                st.query_row([name], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))).optional()
            })
            .map_err(|e| self.err(e))?;
        row.map(|(record, sealed)| self.credential_from(&record, sealed)).transpose()
    }

    fn credentials(&self) -> Result<Vec<CredentialRecord>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT record, sealed FROM credentials ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows =
            st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))).map_err(|e| self.err(e))?;
        rows.map(|row| {
            let (record, sealed) = row.map_err(|e| self.err(e))?;
            self.credential_from(&record, sealed)
        })
        .collect()
    }

    fn kv_get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn
            .prepare_cached("SELECT value FROM kv WHERE namespace = ?1 AND key = ?2")
            .and_then(|mut s| s.query_row([namespace, key], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))
    }

    fn put_api_key(&mut self, k: &ApiKeyRecord) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO api_keys (id, name, hash, created_at, last_used_at, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    k.id,
                    k.name,
                    k.hash,
                    ms(k.created_at),
                    k.last_used_at.map(ms),
                    k.revoked_at.map(ms)
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT id, name, hash, created_at, last_used_at, revoked_at FROM api_keys ORDER BY created_at, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([], api_key_from_row).map_err(|e| self.err(e))?;
        rows.map(|r| r.map_err(|e| self.err(e))).collect()
    }

    fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.conn
            .prepare_cached("SELECT id, name, hash, created_at, last_used_at, revoked_at FROM api_keys WHERE hash = ?1")
            .and_then(|mut st| st.query_row([hash], api_key_from_row).optional())
            .map_err(|e| self.err(e))
    }

    fn revoke_api_key(&mut self, id: &str, at: Timestamp) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1
                 RETURNING id, name, hash, created_at, last_used_at, revoked_at",
            )
            .and_then(|mut st| st.query_row(params![id, ms(at)], api_key_from_row).optional())
            .map_err(|e| self.err(e))
    }

    fn touch_api_key(&mut self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
            )
            .and_then(|mut st| st.execute(params![id, ms(at)]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn kv_put(&mut self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO kv (namespace, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut s| s.execute(params![namespace, key, value]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn kv_delete(&mut self, namespace: &str, key: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM kv WHERE namespace = ?1 AND key = ?2")
            .and_then(|mut s| s.execute([namespace, key]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}
