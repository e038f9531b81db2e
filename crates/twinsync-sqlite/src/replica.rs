//! `SqliteReplica`: a [`Replica`] over the `documents` table, for artifacts whose home
//! is a database (rows a web UI edits) rather than files.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use twinsync_core::replica::{Entry, ReplicaError, ScanFailure, Snapshot, WriteContext};
use twinsync_core::{Content, ContentKind, Digest, HashRules, Key, Replica, Timestamp};

use crate::checkpoint::Checkpointer;
use crate::schema::{self, Durability, OpenError};

/// A replica stored as rows of the `documents` table, one replica per `name`, in the
/// same database file as the store (on its own connection).
///
/// Writes and deletes are compare-and-swap inside an `IMMEDIATE` transaction: the
/// digest check and the change are one step, so a concurrent edit through the database
/// is never overwritten.
pub struct SqliteReplica {
    conn: Connection,
    /// Dropped after `conn`, so its thread closes the file last (`checkpoint`).
    _checkpoints: Option<Checkpointer>,
    meta: Meta,
    /// Rows the last scan could not digest.
    failures: Vec<ScanFailure>,
}

/// Everything but the connection, so a transaction can borrow the connection while
/// these are read.
struct Meta {
    name: String,
    rules: HashRules,
    /// The rules as JSON: a stored digest is trusted only if made with the same rules.
    fingerprint: String,
    label: String,
}

impl std::fmt::Debug for SqliteReplica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReplica").field("path", &self.meta.label).field("name", &self.meta.name).finish()
    }
}

/// One `documents` row as read.
struct Row {
    kind: String,
    content: Vec<u8>,
    digest: Option<String>,
    rules: Option<String>,
    size: i64,
    modified: Option<i64>,
}

fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn row_from(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Row> {
    Ok(Row {
        kind: r.get(first)?,
        content: r.get(first + 1)?,
        digest: r.get(first + 2)?,
        rules: r.get(first + 3)?,
        size: r.get(first + 4)?,
        modified: r.get(first + 5)?,
    })
}

impl Meta {
    fn io(&self, key: impl std::fmt::Display, e: impl std::fmt::Display) -> ReplicaError {
        ReplicaError::Io { key: key.to_string(), message: format!("{e} (replica {} in {})", self.name, self.label) }
    }

    fn digest_of(&self, key: &Key, content: &Content) -> Result<Digest, ReplicaError> {
        self.rules.digest(content).map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })
    }

    fn kind_of(&self, key: &Key, kind: &str) -> Result<ContentKind, ReplicaError> {
        ContentKind::parse(kind).ok_or_else(|| self.io(key, format!("documents row has unknown kind {kind:?}")))
    }

    /// The stored digest of a row, when it was made with these rules.
    fn stored_digest(&self, key: &Key, row: &Row) -> Result<Option<Digest>, ReplicaError> {
        match (&row.digest, &row.rules) {
            (Some(d), Some(rules)) if *rules == self.fingerprint => {
                Digest::from_hex(d).map(Some).map_err(|e| self.io(key, format!("documents row has a bad digest: {e}")))
            }
            _ => Ok(None),
        }
    }

    /// The digest of a row: the stored one when made with these rules, else computed.
    fn row_digest(&self, key: &Key, row: &Row) -> Result<Digest, ReplicaError> {
        if let Some(d) = self.stored_digest(key, row)? {
            return Ok(d);
        }
        let kind = self.kind_of(key, &row.kind)?;
        self.rules
            .digest_bytes(kind, &row.content)
            .map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })
    }

    fn row(&self, conn: &Connection, key: &Key) -> Result<Option<Row>, ReplicaError> {
        conn.prepare_cached(
            "SELECT kind, content, digest, rules, size, modified FROM documents WHERE replica = ?1 AND key = ?2",
        )
        .and_then(|mut s| s.query_row(params![self.name, key.as_str()], |r| row_from(r, 0)).optional())
        .map_err(|e| self.io(key, e))
    }

    /// Checks, inside `tx`, that `key` still has digest `expected`.
    fn check(&self, tx: &Transaction<'_>, key: &Key, expected: Option<&Digest>) -> Result<(), ReplicaError> {
        let current = match self.row(tx, key)? {
            None => None,
            Some(row) => Some(self.row_digest(key, &row)?),
        };
        if current.as_ref() != expected {
            return Err(ReplicaError::conflict(key, expected, current.as_ref()));
        }
        Ok(())
    }

    fn upsert(
        &self,
        tx: &Transaction<'_>,
        key: &Key,
        content: &Content,
        digest: &Digest,
        modified: i64,
    ) -> Result<(), ReplicaError> {
        tx.prepare_cached(
            "INSERT INTO documents (replica, key, kind, content, digest, rules, size, modified)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (replica, key) DO UPDATE SET kind = excluded.kind, content = excluded.content,
                 digest = excluded.digest, rules = excluded.rules, size = excluded.size, modified = excluded.modified",
        )
        .and_then(|mut s| {
            s.execute(params![
                self.name,
                key.as_str(),
                content.kind().as_str(),
                content.as_bytes(),
                digest.to_hex(),
                self.fingerprint,
                content.len() as i64,
                modified
            ])
        })
        .map_err(|e| self.io(key, e))?;
        Ok(())
    }
}

impl SqliteReplica {
    /// Opens replica `name` in the database at `path` (created and migrated if needed),
    /// digesting content with `rules`.
    ///
    /// A file that is not a database (or a newer schema) is refused with
    /// [`ReplicaError::Unavailable`] naming the file, and left untouched.
    pub fn open(path: &Path, name: &str, rules: HashRules) -> Result<SqliteReplica, ReplicaError> {
        if name.is_empty() {
            return Err(ReplicaError::Unavailable {
                name: path.display().to_string(),
                reason: "a database replica needs a non-empty name".into(),
            });
        }
        let (conn, checkpoints) = schema::open_file(path, Durability::Full).map_err(|e| match e {
            OpenError::Corrupt(m) | OpenError::Busy(m) | OpenError::Backend(m) => {
                ReplicaError::Unavailable { name: name.to_string(), reason: m }
            }
        })?;
        Self::with_connection(conn, Some(checkpoints), path.display().to_string(), name, rules)
    }

    /// A replica in an in-memory database of its own (for tests and scratch work).
    pub fn open_in_memory(name: &str, rules: HashRules) -> Result<SqliteReplica, ReplicaError> {
        let conn = schema::open_memory().map_err(|e| match e {
            OpenError::Corrupt(m) | OpenError::Busy(m) | OpenError::Backend(m) => {
                ReplicaError::Unavailable { name: name.to_string(), reason: m }
            }
        })?;
        Self::with_connection(conn, None, ":memory:".into(), name, rules)
    }

    fn with_connection(
        conn: Connection,
        checkpoints: Option<Checkpointer>,
        label: String,
        name: &str,
        rules: HashRules,
    ) -> Result<SqliteReplica, ReplicaError> {
        let fingerprint = serde_json::to_string(&rules).map_err(|e| ReplicaError::Unavailable {
            name: name.to_string(),
            reason: format!("hash rules cannot be recorded: {e}"),
        })?;
        Ok(SqliteReplica {
            conn,
            _checkpoints: checkpoints,
            meta: Meta { name: name.to_string(), rules, fingerprint, label },
            failures: Vec::new(),
        })
    }

    /// Puts `content` at `key` unconditionally, as an edit through the database (a web
    /// UI) would; returns its digest.
    pub fn put(&mut self, key: &Key, content: &Content) -> Result<Digest, ReplicaError> {
        self.put_at(key, content, Timestamp::from_millis(now_millis()))
    }

    /// Like [`SqliteReplica::put`], with an explicit modification time.
    pub fn put_at(&mut self, key: &Key, content: &Content, modified: Timestamp) -> Result<Digest, ReplicaError> {
        let m = &self.meta;
        let digest = m.digest_of(key, content)?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| m.io(key, e))?;
        m.upsert(&tx, key, content, &digest, modified.millis())?;
        tx.commit().map_err(|e| m.io(key, e))?;
        Ok(digest)
    }

    /// Removes `key` unconditionally, as an edit through the database would; returns
    /// whether it existed.
    pub fn remove(&mut self, key: &Key) -> Result<bool, ReplicaError> {
        let m = &self.meta;
        let n = self
            .conn
            .prepare_cached("DELETE FROM documents WHERE replica = ?1 AND key = ?2")
            .and_then(|mut s| s.execute(params![m.name, key.as_str()]))
            .map_err(|e| m.io(key, e))?;
        Ok(n > 0)
    }
}

impl Replica for SqliteReplica {
    fn name(&self) -> &str {
        &self.meta.name
    }

    fn rules(&self) -> &HashRules {
        &self.meta.rules
    }

    fn scan(&mut self) -> Result<Snapshot, ReplicaError> {
        let m = &self.meta;
        // Served by the covering index `documents_scan`: no document is read here. Rows
        // whose stored digest cannot be used (edited in SQL, other rules) are read after.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT key, kind, digest, rules, size, modified FROM documents WHERE replica = ?1 ORDER BY key",
            )
            .map_err(|e| m.io("(scan)", e))?;
        let rows = stmt
            .query_map([&m.name], |r| {
                let row = Row {
                    kind: r.get(1)?,
                    content: Vec::new(),
                    digest: r.get(2)?,
                    rules: r.get(3)?,
                    size: r.get(4)?,
                    modified: r.get(5)?,
                };
                Ok((r.get::<_, String>(0)?, row))
            })
            .map_err(|e| m.io("(scan)", e))?;
        let mut entries = Vec::new();
        let mut failures = Vec::new();
        for row in rows {
            let (raw, row) = row.map_err(|e| m.io("(scan)", e))?;
            // A row written straight into the table can hold any string: a traversal
            // such as `../x` must stop the scan rather than reach a file replica.
            let key = Key::new(&raw)?;
            let digest = match m.stored_digest(&key, &row)? {
                Some(d) => d,
                None => match m.row(&self.conn, &key)? {
                    Some(full) => match m.row_digest(&key, &full) {
                        Ok(d) => d,
                        // Content that does not parse as its kind fails that row alone.
                        Err(e @ ReplicaError::InvalidContent { .. }) => {
                            failures.push(ScanFailure { key: raw, error: e.to_string() });
                            continue;
                        }
                        Err(e) => return Err(e),
                    },
                    None => continue, // deleted since the first read
                },
            };
            let size = u64::try_from(row.size).unwrap_or(0);
            let modified = row.modified.map(Timestamp::from_millis);
            entries.push(Entry { key, digest, size, modified, bytes: None });
        }
        drop(stmt);
        self.failures = failures;
        Ok(Snapshot::from_entries(entries))
    }

    fn scan_failures(&self) -> Vec<ScanFailure> {
        self.failures.clone()
    }

    fn read(&self, key: &Key) -> Result<Option<Content>, ReplicaError> {
        let m = &self.meta;
        let Some(row) = m.row(&self.conn, key)? else {
            return Ok(None);
        };
        let kind = m.kind_of(key, &row.kind)?;
        Content::from_bytes(kind, row.content)
            .map(Some)
            .map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })
    }

    fn digest(&self, key: &Key) -> Result<Option<Digest>, ReplicaError> {
        let m = &self.meta;
        match m.row(&self.conn, key)? {
            None => Ok(None),
            Some(row) => m.row_digest(key, &row).map(Some),
        }
    }

    fn write(
        &mut self,
        key: &Key,
        content: &Content,
        expected: Option<&Digest>,
        _ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        let m = &self.meta;
        let digest = m.digest_of(key, content)?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| m.io(key, e))?;
        // An early return drops the transaction, rolling it back: a conflict changes nothing.
        m.check(&tx, key, expected)?;
        m.upsert(&tx, key, content, &digest, now_millis())?;
        tx.commit().map_err(|e| m.io(key, e))?;
        Ok(digest)
    }

    fn delete(&mut self, key: &Key, expected: &Digest, _ctx: &WriteContext) -> Result<(), ReplicaError> {
        let m = &self.meta;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| m.io(key, e))?;
        m.check(&tx, key, Some(expected))?;
        tx.prepare_cached("DELETE FROM documents WHERE replica = ?1 AND key = ?2")
            .and_then(|mut s| s.execute(params![m.name, key.as_str()]))
            .map_err(|e| m.io(key, e))?;
        tx.commit().map_err(|e| m.io(key, e))
    }

    fn flush(&mut self) -> Result<(), ReplicaError> {
        // Each write is its own committed transaction, durable when it returns.
        Ok(())
    }
}
