//! `PgReplica`: a [`Replica`] over the `documents` table of a PostgreSQL database, the
//! database side of a `folders` pair for a team (rows a web UI or a service edits).

use std::time::{SystemTime, UNIX_EPOCH};

use postgres::{Row, Transaction};
use twinsync_core::replica::{Entry, ReplicaError, ScanFailure, Snapshot, WriteContext};
use twinsync_core::{Content, ContentKind, Digest, HashRules, Key, Replica, Timestamp};

use crate::schema::{prep, Db, OpenError};
use crate::store::check_project;

type Stmts = std::collections::HashMap<&'static str, postgres::Statement>;

/// A replica stored as rows of `twinsync.documents`, one replica per project and name.
///
/// Writes and deletes are compare-and-swap inside one transaction: the row is locked
/// (`FOR UPDATE`) and its digest checked before the change, and a write that expects
/// no row inserts with `ON CONFLICT DO NOTHING`, so a concurrent edit through the
/// database, or by another process, is never overwritten.
pub struct PgReplica {
    db: Db,
    project: String,
    name: String,
    rules: HashRules,
    /// The rules as JSON: a stored digest is trusted only if made with the same rules.
    fingerprint: String,
    /// Rows the last scan could not digest.
    failures: Vec<ScanFailure>,
}

impl std::fmt::Debug for PgReplica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgReplica")
            .field("url", &self.db.label())
            .field("project", &self.project)
            .field("name", &self.name)
            .finish()
    }
}

/// One `documents` row as read (content empty when only the index was read).
struct DocRow {
    kind: String,
    content: Vec<u8>,
    digest: Option<String>,
    rules: Option<String>,
    size: i64,
    modified: Option<i64>,
}

const SELECT_ROW: &str = "SELECT kind, content, digest, rules, size, modified FROM documents
     WHERE project = $1 AND replica = $2 AND key = $3";
const SELECT_ROW_FOR_UPDATE: &str = "SELECT kind, content, digest, rules, size, modified FROM documents
     WHERE project = $1 AND replica = $2 AND key = $3 FOR UPDATE";

fn doc_row(r: &Row) -> DocRow {
    DocRow { kind: r.get(0), content: r.get(1), digest: r.get(2), rules: r.get(3), size: r.get(4), modified: r.get(5) }
}

fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl PgReplica {
    /// Opens replica `name` of project `project` in the database at `url` (the schema is
    /// created and migrated when needed), digesting content with `rules`.
    ///
    /// An unreachable server, a bad URL or a newer schema is
    /// [`ReplicaError::Unavailable`], naming host and database but never the password.
    pub fn open(url: &str, project: &str, name: &str, rules: HashRules) -> Result<PgReplica, ReplicaError> {
        let unavailable = |reason: String| ReplicaError::Unavailable { name: name.to_string(), reason };
        if name.is_empty() {
            return Err(unavailable("a database replica needs a non-empty name".into()));
        }
        check_project(project).map_err(unavailable)?;
        let fingerprint =
            serde_json::to_string(&rules).map_err(|e| unavailable(format!("hash rules cannot be recorded: {e}")))?;
        let db = Db::open(url).map_err(|e| match e {
            OpenError::Corrupt(m) | OpenError::Backend(m) => unavailable(m),
        })?;
        Ok(PgReplica {
            db,
            project: project.to_string(),
            name: name.to_string(),
            rules,
            fingerprint,
            failures: Vec::new(),
        })
    }

    /// The project the replica belongs to.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The server and database, as errors show them.
    pub fn location(&self) -> &str {
        self.db.label()
    }

    /// Puts `content` at `key` unconditionally, as an edit through the database (a web
    /// UI) would; returns its digest.
    pub fn put(&mut self, key: &Key, content: &Content) -> Result<Digest, ReplicaError> {
        self.put_at(key, content, Timestamp::from_millis(now_millis()))
    }

    /// Like [`PgReplica::put`], with an explicit modification time.
    pub fn put_at(&mut self, key: &Key, content: &Content, modified: Timestamp) -> Result<Digest, ReplicaError> {
        let digest = self.digest_of(key, content)?;
        self.tx(key, |this, tx, st| this.upsert(tx, st, key, content, &digest, modified.millis()))?;
        Ok(digest)
    }

    /// Removes `key` unconditionally, as an edit through the database would; returns
    /// whether it existed.
    pub fn remove(&mut self, key: &Key) -> Result<bool, ReplicaError> {
        let (p, name) = (&self.project, &self.name);
        let n = self
            .db
            .run(|s| {
                let (c, st) = s.parts();
                let stmt = prep(st, c, "DELETE FROM documents WHERE project = $1 AND replica = $2 AND key = $3")?;
                c.execute(&stmt, &[p, name, &key.as_str()])
            })
            .map_err(|e| self.io(key, e))?;
        Ok(n > 0)
    }

    fn io(&self, key: impl std::fmt::Display, e: impl std::fmt::Display) -> ReplicaError {
        ReplicaError::Io {
            key: key.to_string(),
            message: format!("{e} (replica {} of project {} in {})", self.name, self.project, self.db.label()),
        }
    }

    fn digest_of(&self, key: &Key, content: &Content) -> Result<Digest, ReplicaError> {
        self.rules.digest(content).map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })
    }

    fn kind_of(&self, key: &Key, kind: &str) -> Result<ContentKind, ReplicaError> {
        ContentKind::parse(kind).ok_or_else(|| self.io(key, format!("documents row has unknown kind {kind:?}")))
    }

    /// The stored digest of a row, when it was made with these rules.
    fn stored_digest(&self, key: &Key, row: &DocRow) -> Result<Option<Digest>, ReplicaError> {
        match (&row.digest, &row.rules) {
            (Some(d), Some(rules)) if *rules == self.fingerprint => {
                Digest::from_hex(d).map(Some).map_err(|e| self.io(key, format!("documents row has a bad digest: {e}")))
            }
            _ => Ok(None),
        }
    }

    /// The digest of a row: the stored one when made with these rules, else computed.
    fn row_digest(&self, key: &Key, row: &DocRow) -> Result<Digest, ReplicaError> {
        if let Some(d) = self.stored_digest(key, row)? {
            return Ok(d);
        }
        let kind = self.kind_of(key, &row.kind)?;
        self.rules
            .digest_bytes(kind, &row.content)
            .map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })
    }

    fn row(&self, key: &Key) -> Result<Option<DocRow>, ReplicaError> {
        let (p, name) = (&self.project, &self.name);
        self.db
            .run(|s| {
                let (c, st) = s.parts();
                let stmt = prep(st, c, SELECT_ROW)?;
                Ok(c.query_opt(&stmt, &[p, name, &key.as_str()])?.map(|r| doc_row(&r)))
            })
            .map_err(|e| self.io(key, e))
    }

    /// Runs `f` in one transaction on `key`, committed when `f` returns `Ok`; any error
    /// (a conflict included) rolls it back.
    fn tx<T>(
        &self,
        key: &Key,
        f: impl FnOnce(&Self, &mut Transaction<'_>, &mut Stmts) -> Result<T, TxError>,
    ) -> Result<T, ReplicaError> {
        let mut session = self.db.session().map_err(|e| self.io(key, e))?;
        let (client, st) = session.parts();
        let describe = |e: postgres::Error| self.io(key, self.db.describe(&e));
        let mut tx = client.transaction().map_err(describe)?;
        let out = match f(self, &mut tx, st) {
            Ok(out) => out,
            // Dropping the transaction rolls it back.
            Err(TxError::Db(e)) => return Err(describe(e)),
            Err(TxError::Replica(e)) => return Err(e),
        };
        tx.commit().map_err(describe)?;
        Ok(out)
    }

    /// The current digest of `key` inside `tx`, locking its row until commit.
    fn locked_digest(&self, tx: &mut Transaction<'_>, st: &mut Stmts, key: &Key) -> Result<Option<Digest>, TxError> {
        let stmt = prep(st, tx, SELECT_ROW_FOR_UPDATE)?;
        match tx.query_opt(&stmt, &[&self.project, &self.name, &key.as_str()])? {
            None => Ok(None),
            Some(r) => Ok(Some(self.row_digest(key, &doc_row(&r))?)),
        }
    }

    fn upsert(
        &self,
        tx: &mut Transaction<'_>,
        st: &mut Stmts,
        key: &Key,
        content: &Content,
        digest: &Digest,
        modified: i64,
    ) -> Result<(), TxError> {
        let stmt = prep(
            st,
            tx,
            "INSERT INTO documents (project, replica, key, kind, content, digest, rules, size, modified)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (project, replica, key) DO UPDATE SET kind = excluded.kind, content = excluded.content,
                 digest = excluded.digest, rules = excluded.rules, size = excluded.size, modified = excluded.modified",
        )?;
        tx.execute(
            &stmt,
            &[
                &self.project,
                &self.name,
                &key.as_str(),
                &content.kind().as_str(),
                &content.as_bytes(),
                &digest.to_hex(),
                &self.fingerprint,
                &(content.len() as i64),
                &modified,
            ],
        )?;
        Ok(())
    }
}

/// A failure inside a replica transaction: the driver's, or the replica's own (a conflict).
enum TxError {
    Db(postgres::Error),
    Replica(ReplicaError),
}

impl From<postgres::Error> for TxError {
    fn from(e: postgres::Error) -> Self {
        TxError::Db(e)
    }
}

impl From<ReplicaError> for TxError {
    fn from(e: ReplicaError) -> Self {
        TxError::Replica(e)
    }
}

impl Replica for PgReplica {
    fn name(&self) -> &str {
        &self.name
    }

    fn rules(&self) -> &HashRules {
        &self.rules
    }

    fn scan(&mut self) -> Result<Snapshot, ReplicaError> {
        let (p, name) = (&self.project, &self.name);
        // Served by the covering index `documents_scan`: no document is read here. Rows
        // whose stored digest cannot be used (edited in SQL, other rules) are read after.
        let rows = self
            .db
            .run(|s| {
                let (c, st) = s.parts();
                let stmt = prep(
                    st,
                    c,
                    "SELECT key, kind, digest, rules, size, modified FROM documents
                     WHERE project = $1 AND replica = $2 ORDER BY key",
                )?;
                c.query(&stmt, &[p, name])
            })
            .map_err(|e| self.io("(scan)", e))?;
        let mut entries = Vec::with_capacity(rows.len());
        let mut failures = Vec::new();
        for r in rows {
            let raw: String = r.get(0);
            let row = DocRow {
                kind: r.get(1),
                content: Vec::new(),
                digest: r.get(2),
                rules: r.get(3),
                size: r.get(4),
                modified: r.get(5),
            };
            // A row written straight into the table can hold any string: a traversal
            // such as `../x` must stop the scan rather than reach a file replica.
            let key = Key::new(&raw)?;
            let digest = match self.stored_digest(&key, &row)? {
                Some(d) => d,
                None => match self.row(&key)? {
                    Some(full) => match self.row_digest(&key, &full) {
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
        self.failures = failures;
        Ok(Snapshot::from_entries(entries))
    }

    fn flush(&mut self) -> Result<(), ReplicaError> {
        // Each write is its own committed transaction: durable when it returns.
        Ok(())
    }

    fn scan_failures(&self) -> Vec<ScanFailure> {
        self.failures.clone()
    }

    fn read(&self, key: &Key) -> Result<Option<Content>, ReplicaError> {
        let Some(row) = self.row(key)? else {
            return Ok(None);
        };
        let kind = self.kind_of(key, &row.kind)?;
        Content::from_bytes(kind, row.content)
            .map(Some)
            .map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })
    }

    fn digest(&self, key: &Key) -> Result<Option<Digest>, ReplicaError> {
        match self.row(key)? {
            None => Ok(None),
            Some(row) => self.row_digest(key, &row).map(Some),
        }
    }

    fn write(
        &mut self,
        key: &Key,
        content: &Content,
        expected: Option<&Digest>,
        _ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        let digest = self.digest_of(key, content)?;
        let now = now_millis();
        self.tx(key, |this, tx, st| {
            match expected {
                // No row expected: insert only if there is none. A concurrent insert of
                // the same key makes this wait for it, then do nothing.
                None => {
                    let stmt = prep(
                        st,
                        tx,
                        "INSERT INTO documents (project, replica, key, kind, content, digest, rules, size, modified)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                         ON CONFLICT (project, replica, key) DO NOTHING",
                    )?;
                    let n = tx.execute(
                        &stmt,
                        &[
                            &this.project,
                            &this.name,
                            &key.as_str(),
                            &content.kind().as_str(),
                            &content.as_bytes(),
                            &digest.to_hex(),
                            &this.fingerprint,
                            &(content.len() as i64),
                            &now,
                        ],
                    )?;
                    if n == 0 {
                        let found = this.locked_digest(tx, st, key)?;
                        return Err(ReplicaError::conflict(key, None, found.as_ref()).into());
                    }
                }
                // A row expected: lock it, check its digest, then replace it.
                Some(want) => {
                    let found = this.locked_digest(tx, st, key)?;
                    if found.as_ref() != Some(want) {
                        return Err(ReplicaError::conflict(key, Some(want), found.as_ref()).into());
                    }
                    this.upsert(tx, st, key, content, &digest, now)?;
                }
            }
            Ok(())
        })?;
        Ok(digest)
    }

    fn delete(&mut self, key: &Key, expected: &Digest, _ctx: &WriteContext) -> Result<(), ReplicaError> {
        self.tx(key, |this, tx, st| {
            let found = this.locked_digest(tx, st, key)?;
            if found.as_ref() != Some(expected) {
                return Err(ReplicaError::conflict(key, Some(expected), found.as_ref()).into());
            }
            let stmt = prep(st, tx, "DELETE FROM documents WHERE project = $1 AND replica = $2 AND key = $3")?;
            tx.execute(&stmt, &[&this.project, &this.name, &key.as_str()])?;
            Ok(())
        })
    }
}
