//! `PgStore`: the [`Store`] trait over PostgreSQL, one project of a shared database.

use std::collections::{BTreeMap, BTreeSet};

use postgres::{Row, Transaction};
use serde::de::DeserializeOwned;
use twinsync_core::api_key::ApiKeyRecord;
use twinsync_core::audit::AuditRecord;
use twinsync_core::coverage_history::CoverageRecord;
use twinsync_core::credential::CredentialRecord;
use twinsync_core::delivery::{Delivery, DeliveryStatus};
use twinsync_core::event::Event;
use twinsync_core::lock::{Lock, LockError};
use twinsync_core::store::{HistoryEntry, Intent, ItemCommit, LockChange, PruneStats, UndoCommit, UndoEntry};
use twinsync_core::test_session::TestSession;
use twinsync_core::{
    Content, ContentKind, Digest, Key, OperationReport, Side, Store, StoreError, Timestamp, Trigger, UndoLimits,
};

use crate::schema::{self, prep, Db, OpenError, LOCK_BLOBS, LOCK_NAMED, LOCK_OUTBOX};

type Stmts = std::collections::HashMap<&'static str, postgres::Statement>;

/// The team store: the engine's memory for one project in a PostgreSQL database that
/// other projects, processes and machines share.
///
/// Every row carries the project id and every query filters on it. Each mutating method
/// is one transaction (all of it is stored or none); what must not interleave across
/// connections is serialized with transaction-scoped advisory locks (see the crate docs).
pub struct PgStore {
    db: Db,
    project: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("url", &self.db.label()).field("project", &self.project).finish()
    }
}

impl From<OpenError> for StoreError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::Corrupt(m) => StoreError::Corrupt(m),
            OpenError::Backend(m) => StoreError::Backend(m),
        }
    }
}

/// Clamps a caller's limit to what `LIMIT` takes.
fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A count as stored (counts never come near `i64::MAX`).
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn opt_hex(d: &Option<Digest>) -> Option<String> {
    d.as_ref().map(Digest::to_hex)
}

fn api_key_from_row(r: &Row) -> ApiKeyRecord {
    ApiKeyRecord {
        id: r.get(0),
        name: r.get(1),
        hash: r.get(2),
        created_at: Timestamp(r.get(3)),
        last_used_at: r.get::<_, Option<i64>>(4).map(Timestamp),
        revoked_at: r.get::<_, Option<i64>>(5).map(Timestamp),
    }
}

fn ms(t: Timestamp) -> i64 {
    t.millis()
}

/// Checks a project id: not empty, printable, at most 200 characters.
pub(crate) fn check_project(project: &str) -> Result<(), String> {
    if project.is_empty() || project.len() > 200 || project.chars().any(char::is_control) {
        return Err(format!(
            "invalid project id {project:?}: expected 1 to 200 printable characters (`[store] project` in the config)"
        ));
    }
    Ok(())
}

/// Takes the transaction-scoped advisory lock `(namespace, hashtext(key))`.
pub(crate) fn xact_lock(
    tx: &mut Transaction<'_>,
    stmts: &mut Stmts,
    namespace: i32,
    key: &str,
) -> Result<(), postgres::Error> {
    let s = prep(stmts, tx, "SELECT pg_advisory_xact_lock($1, hashtext($2))")?;
    tx.execute(&s, &[&namespace, &key]).map(drop)
}

fn insert_history(
    tx: &mut Transaction<'_>,
    st: &mut Stmts,
    project: &str,
    h: &HistoryEntry,
) -> Result<(), postgres::Error> {
    let s = prep(
        st,
        tx,
        "INSERT INTO history (project, operation_id, scope, key, direction, trigger, success, error, left_digest,
             right_digest, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )?;
    tx.execute(
        &s,
        &[
            &project,
            &h.operation_id,
            &h.scope,
            &h.key.as_str(),
            &h.direction,
            &h.trigger.as_str(),
            &h.success,
            &h.error,
            &opt_hex(&h.left),
            &opt_hex(&h.right),
            &ms(h.at),
        ],
    )?;
    Ok(())
}

/// Appends `events` to the project's outbox inside `tx`; returns the last id given.
///
/// Ids come from an identity column, which hands them out when a row is inserted, not
/// when it commits: without care, a transaction that took id 7 could commit after one
/// that took id 8, and a reader that had already seen 8 and asks for `id > 8` would
/// never see 7. So every outbox insert first takes the project's transaction-scoped
/// advisory lock, held until commit or rollback: the transactions that write a
/// project's events take turns, each one's ids are given and committed before the next
/// one's are given, and ids become visible in increasing order. Callers write their
/// events last in the transaction, so the lock is held only for the inserts and commit.
/// (This relies on the identity's sequence handing out values one at a time, its
/// default `CACHE 1`: a per-session cache would give out ids out of order again.)
fn insert_events(
    tx: &mut Transaction<'_>,
    st: &mut Stmts,
    project: &str,
    events: &[Event],
) -> Result<Option<i64>, postgres::Error> {
    if events.is_empty() {
        return Ok(None);
    }
    xact_lock(tx, st, LOCK_OUTBOX, project)?;
    let s = prep(
        st,
        tx,
        "INSERT INTO outbox (project, type, time, pair, correlation_id, payload)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )?;
    let mut last = None;
    for e in events {
        // Serializing a `serde_json::Value` cannot fail.
        let payload = serde_json::to_string(&e.payload).unwrap_or_else(|_| "null".into());
        let row =
            tx.query_one(&s, &[&project, &e.event_type.as_str(), &ms(e.time), &e.pair, &e.correlation_id, &payload])?;
        last = Some(row.get::<_, i64>(0));
    }
    Ok(last)
}

/// Content-addressed blobs: the first copy of a digest stays. Inserted in digest order,
/// so two transactions sharing blobs wait for each other instead of deadlocking; a
/// stable sort keeps the first content given for a digest.
fn put_blobs<'b>(
    tx: &mut Transaction<'_>,
    st: &mut Stmts,
    project: &str,
    blobs: impl Iterator<Item = &'b (Digest, Content)>,
) -> Result<(), postgres::Error> {
    let put = prep(
        st,
        tx,
        "INSERT INTO blobs (project, digest, kind, size, content) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (project, digest) DO NOTHING",
    )?;
    let mut blobs: Vec<&(Digest, Content)> = blobs.collect();
    blobs.sort_by_key(|(d, _)| d.to_hex());
    for (d, content) in blobs {
        tx.execute(
            &put,
            &[&project, &d.to_hex(), &content.kind().as_str(), &count(content.len()), &content.as_bytes()],
        )?;
    }
    Ok(())
}

fn set_base(
    tx: &mut Transaction<'_>,
    st: &mut Stmts,
    project: &str,
    scope: &str,
    key: &Key,
    digest: &Option<Digest>,
) -> Result<(), postgres::Error> {
    match digest {
        Some(d) => {
            let s = prep(
                st,
                tx,
                "INSERT INTO base (project, scope, key, digest) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (project, scope, key) DO UPDATE SET digest = excluded.digest",
            )?;
            tx.execute(&s, &[&project, &scope, &key.as_str(), &d.to_hex()])?;
        }
        None => {
            let s = prep(st, tx, "DELETE FROM base WHERE project = $1 AND scope = $2 AND key = $3")?;
            tx.execute(&s, &[&project, &scope, &key.as_str()])?;
        }
    }
    Ok(())
}

impl PgStore {
    /// Opens project `project`'s store in the database at `url`
    /// (`postgres://user[:password]@host[:port]/database`), creating and migrating the
    /// `twinsync` schema when needed.
    ///
    /// Errors name the host and database, never the password. A schema written by a
    /// newer build is refused with [`StoreError::Corrupt`].
    pub fn open(url: &str, project: &str) -> Result<PgStore, StoreError> {
        check_project(project).map_err(StoreError::Backend)?;
        let db = Db::open(url)?;
        Ok(PgStore { db, project: project.to_string() })
    }

    /// The project this store keeps apart from the others in the database.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The server and database, as errors show them (`postgres://user@host:port/db`).
    pub fn location(&self) -> &str {
        self.db.label()
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i32, StoreError> {
        schema::schema_version(&self.db).map_err(StoreError::Backend)
    }

    /// Number of this project's stored blobs (content is deduplicated by digest).
    pub fn blob_count(&self) -> Result<usize, StoreError> {
        let p = &self.project;
        let n: i64 = self.read(|c, st| {
            let s = prep(st, c, "SELECT count(*) FROM blobs WHERE project = $1")?;
            c.query_one(&s, &[p]).map(|r| r.get(0))
        })?;
        Ok(n as usize)
    }

    /// Runs `f` on the connection (no transaction: one statement, or reads).
    fn read<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client, &mut Stmts) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        self.db
            .run(|s| {
                let (client, stmts) = s.parts();
                f(client, stmts)
            })
            .map_err(StoreError::Backend)
    }

    /// Runs `f` in one transaction, committed when `f` returns `Ok`, rolled back otherwise.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>, &mut Stmts) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        self.db
            .run(|s| {
                let (client, stmts) = s.parts();
                let mut tx = client.transaction()?;
                let out = f(&mut tx, stmts)?;
                tx.commit()?;
                Ok(out)
            })
            .map_err(StoreError::Backend)
    }

    fn corrupt(&self, what: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(format!("{} (project {}): {what}", self.db.label(), self.project))
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

    fn coverage_from(&self, r: &Row) -> Result<CoverageRecord, StoreError> {
        Ok(CoverageRecord {
            scope: r.get(0),
            component: r.get(1),
            computed_at: Timestamp::from_millis(r.get(2)),
            variant_hash: self.digest("coverage_reports", r.get(3))?,
            percentage: r.get(4),
            coverage: self.parse("coverage_reports", "report", r.get(5))?,
        })
    }

    fn session_from(&self, r: &Row) -> Result<TestSession, StoreError> {
        let status: &str = r.get(2);
        let performance: Option<String> = r.get(5);
        Ok(TestSession {
            id: r.get(0),
            story_id: r.get(1),
            status: status.parse().map_err(|e| self.corrupt(format_args!("browser_test_sessions: {e}")))?,
            started_at: Timestamp::from_millis(r.get(3)),
            ended_at: r.get::<_, Option<i64>>(4).map(Timestamp::from_millis),
            performance: performance.map(|p| self.parse("browser_test_sessions", "performance", &p)).transpose()?,
            correlation_id: r.get(6),
            actor: r.get(7),
        })
    }

    fn credential_from(&self, row: &Row) -> Result<CredentialRecord, StoreError> {
        let mut c: CredentialRecord = self.parse("credentials", "record", row.get(0))?;
        c.sealed = row.get(1);
        Ok(c)
    }

    fn parse<T: DeserializeOwned>(&self, table: &str, what: &str, s: &str) -> Result<T, StoreError> {
        serde_json::from_str(s).map_err(|e| self.corrupt(format!("{table}: bad {what} {s:?}: {e}")))
    }

    fn parse_name<T: DeserializeOwned>(&self, table: &str, what: &str, s: &str) -> Result<T, StoreError> {
        serde_json::from_value(serde_json::Value::String(s.to_string()))
            .map_err(|_| self.corrupt(format!("{table}: unknown {what} {s:?}")))
    }

    fn history_from_row(&self, r: &Row) -> Result<HistoryEntry, StoreError> {
        Ok(HistoryEntry {
            operation_id: r.get(0),
            scope: r.get(1),
            key: self.key("history", r.get(2))?,
            direction: r.get(3),
            trigger: self.parse_name::<Trigger>("history", "trigger", r.get(4))?,
            success: r.get(5),
            error: r.get(6),
            left: self.opt_digest("history", r.get(7))?,
            right: self.opt_digest("history", r.get(8))?,
            at: Timestamp::from_millis(r.get(9)),
        })
    }

    fn lock_from_row(r: &Row) -> Lock {
        Lock {
            name: r.get(0),
            owner: r.get(1),
            token: r.get(2),
            reason: r.get(3),
            acquired_at: Timestamp::from_millis(r.get(4)),
            expires_at: Timestamp::from_millis(r.get(5)),
        }
    }
}

impl Store for PgStore {
    fn load_base(&self, scope: &str) -> Result<BTreeMap<Key, Digest>, StoreError> {
        let p = &self.project;
        let rows = self.read(|c, st| {
            let s = prep(st, c, "SELECT key, digest FROM base WHERE project = $1 AND scope = $2")?;
            c.query(&s, &[p, &scope])
        })?;
        let mut base = BTreeMap::new();
        for r in rows {
            base.insert(self.key("base", r.get(0))?, self.digest("base", r.get(1))?);
        }
        Ok(base)
    }

    fn blob(&self, digest: &Digest) -> Result<Option<Content>, StoreError> {
        let p = &self.project;
        let row = self.read(|c, st| {
            let s = prep(st, c, "SELECT kind, content FROM blobs WHERE project = $1 AND digest = $2")?;
            c.query_opt(&s, &[p, &digest.to_hex()])
        })?;
        let Some(row) = row else { return Ok(None) };
        let kind: &str = row.get(0);
        let kind =
            ContentKind::parse(kind).ok_or_else(|| self.corrupt(format!("blob {digest}: unknown kind {kind:?}")))?;
        Content::from_bytes(kind, row.get::<_, Vec<u8>>(1))
            .map(Some)
            .map_err(|e| self.corrupt(format!("blob {digest}: {e}")))
    }

    fn operation(&self, operation_id: &str) -> Result<Option<OperationReport>, StoreError> {
        let p = &self.project;
        let row = self.read(|c, st| {
            let s = prep(st, c, "SELECT report FROM operations WHERE project = $1 AND operation_id = $2")?;
            c.query_opt(&s, &[p, &operation_id])
        })?;
        row.map(|r| self.parse("operations", &format!("report of {operation_id}"), r.get(0))).transpose()
    }

    fn operations(&self, scope: Option<&str>, n: usize) -> Result<Vec<OperationReport>, StoreError> {
        let p = &self.project;
        let rows = self.read(|c, st| match scope {
            Some(scope) => {
                let s = prep(
                    st,
                    c,
                    "SELECT operation_id, report FROM operations WHERE project = $1 AND scope = $2
                     ORDER BY seq DESC LIMIT $3",
                )?;
                c.query(&s, &[p, &scope, &limit(n)])
            }
            None => {
                let s = prep(
                    st,
                    c,
                    "SELECT operation_id, report FROM operations WHERE project = $1 ORDER BY seq DESC LIMIT $2",
                )?;
                c.query(&s, &[p, &limit(n)])
            }
        })?;
        rows.iter().map(|r| self.parse("operations", &format!("report of {}", r.get::<_, &str>(0)), r.get(1))).collect()
    }

    fn put_operation(&mut self, r: &OperationReport, events: &[Event]) -> Result<(), StoreError> {
        let report =
            serde_json::to_string(r).map_err(|e| StoreError::Backend(format!("report of {}: {e}", r.operation_id)))?;
        let directions = serde_json::to_string(&r.directions)
            .map_err(|e| StoreError::Backend(format!("directions of {}: {e}", r.operation_id)))?;
        let c = &r.counts;
        let p = &self.project;
        self.write(|tx, st| {
            // Upsert keeps `seq`, so a replaced operation keeps its place in the order; a
            // repeat from another instance meets the unique (project, operation_id).
            let s = prep(
                st,
                tx,
                "INSERT INTO operations (project, operation_id, scope, status, trigger, actor, policy, directions,
                     planned, applied, skipped, conflicts, failed, started_at, finished_at, duration_ms,
                     reversible_until, undone_at, report)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
                 ON CONFLICT (project, operation_id) DO UPDATE SET scope = excluded.scope, status = excluded.status,
                     trigger = excluded.trigger, actor = excluded.actor, policy = excluded.policy,
                     directions = excluded.directions, planned = excluded.planned, applied = excluded.applied,
                     skipped = excluded.skipped, conflicts = excluded.conflicts, failed = excluded.failed,
                     started_at = excluded.started_at, finished_at = excluded.finished_at,
                     duration_ms = excluded.duration_ms, reversible_until = excluded.reversible_until,
                     undone_at = excluded.undone_at, report = excluded.report",
            )?;
            tx.execute(
                &s,
                &[
                    p,
                    &r.operation_id,
                    &r.scope,
                    &r.status.as_str(),
                    &r.trigger.as_str(),
                    &r.actor,
                    &r.policy.to_string(),
                    &directions,
                    &count(c.planned),
                    &count(c.applied),
                    &count(c.skipped),
                    &count(c.conflicts),
                    &count(c.failed),
                    &ms(r.started_at),
                    &ms(r.finished_at),
                    &r.duration_ms,
                    &r.reversible_until.map(ms),
                    &r.undone_at.map(ms),
                    &report,
                ],
            )?;
            insert_events(tx, st, p, events).map(drop)
        })
    }

    fn commit_item(&mut self, c: &ItemCommit) -> Result<(), StoreError> {
        self.commit_items(std::slice::from_ref(c))
    }

    fn commit_items(&mut self, commits: &[ItemCommit]) -> Result<(), StoreError> {
        let p = &self.project;
        self.write(|tx, st| {
            // Shared: item commits run side by side; blob collection (exclusive) waits,
            // so it never drops a blob that a commit in flight has just relied on.
            let s = prep(st, tx, "SELECT pg_advisory_xact_lock_shared($1, hashtext($2))")?;
            tx.execute(&s, &[&LOCK_BLOBS, p])?;
            put_blobs(tx, st, p, commits.iter().flat_map(|c| &c.blobs))?;
            let put_undo = prep(
                st,
                tx,
                "INSERT INTO undo_entries (project, operation_id, scope, key, side, pre, post, base_before,
                     created_at, expires_at, undone_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )?;
            let clear = prep(
                st,
                tx,
                "DELETE FROM intents WHERE project = $1 AND scope = $2 AND operation_id = $3 AND key = $4",
            )?;
            for c in commits {
                set_base(tx, st, p, &c.scope, &c.key, &c.base_after)?;
                for u in &c.undo {
                    tx.execute(
                        &put_undo,
                        &[
                            p,
                            &u.operation_id,
                            &u.scope,
                            &u.key.as_str(),
                            &u.side.as_str(),
                            &opt_hex(&u.pre),
                            &opt_hex(&u.post),
                            &opt_hex(&u.base_before),
                            &ms(u.created_at),
                            &ms(u.expires_at),
                            &u.undone_at.map(ms),
                        ],
                    )?;
                }
                insert_history(tx, st, p, &c.history)?;
                // The item is committed: what its intents announced is done.
                tx.execute(&clear, &[p, &c.scope, &c.history.operation_id, &c.key.as_str()])?;
            }
            // Last, so the outbox lock is held only for the inserts.
            let events: Vec<Event> = commits.iter().flat_map(|c| c.events.iter().cloned()).collect();
            insert_events(tx, st, p, &events).map(drop)
        })
    }

    fn record_intents(&mut self, intents: &[Intent], blobs: &[(Digest, Content)]) -> Result<(), StoreError> {
        let p = &self.project;
        self.write(|tx, st| {
            let s = prep(st, tx, "SELECT pg_advisory_xact_lock_shared($1, hashtext($2))")?;
            tx.execute(&s, &[&LOCK_BLOBS, p])?;
            put_blobs(tx, st, p, blobs.iter())?;
            let put = prep(
                st,
                tx,
                "INSERT INTO intents (project, operation_id, scope, key, side, pre, post, base_before, base_after,
                     direction, trigger, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )?;
            for i in intents {
                tx.execute(
                    &put,
                    &[
                        p,
                        &i.operation_id,
                        &i.scope,
                        &i.key.as_str(),
                        &i.side.as_str(),
                        &opt_hex(&i.pre),
                        &opt_hex(&i.post),
                        &opt_hex(&i.base_before),
                        &opt_hex(&i.base_after),
                        &i.direction,
                        &i.trigger.as_str(),
                        &ms(i.created_at),
                    ],
                )?;
            }
            Ok(())
        })
    }

    fn open_intents(&self, scope: &str) -> Result<Vec<Intent>, StoreError> {
        let p = &self.project;
        let rows = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "SELECT operation_id, key, side, pre, post, base_before, base_after, direction, trigger, created_at
                 FROM intents WHERE project = $1 AND scope = $2 ORDER BY id",
            )?;
            c.query(&s, &[p, &scope])
        })?;
        rows.iter()
            .map(|r| {
                let side: &str = r.get(2);
                let trigger: &str = r.get(8);
                Ok(Intent {
                    operation_id: r.get(0),
                    scope: scope.to_string(),
                    key: self.key("intents", r.get(1))?,
                    side: side.parse::<Side>().map_err(|e| self.corrupt(format_args!("intents: {e}")))?,
                    pre: self.opt_digest("intents", r.get(3))?,
                    post: self.opt_digest("intents", r.get(4))?,
                    base_before: self.opt_digest("intents", r.get(5))?,
                    base_after: self.opt_digest("intents", r.get(6))?,
                    direction: r.get(7),
                    trigger: self.parse_name::<Trigger>("intents", "trigger", trigger)?,
                    created_at: Timestamp::from_millis(r.get(9)),
                })
            })
            .collect()
    }

    fn drop_intents(&mut self, scope: &str, operation_id: &str, key: &Key) -> Result<(), StoreError> {
        let p = &self.project;
        self.read(|c, st| {
            let s = prep(
                st,
                c,
                "DELETE FROM intents WHERE project = $1 AND scope = $2 AND operation_id = $3 AND key = $4",
            )?;
            c.execute(&s, &[p, &scope, &operation_id, &key.as_str()]).map(drop)
        })
    }

    fn undo_entries(&self, operation_id: &str) -> Result<Vec<UndoEntry>, StoreError> {
        let p = &self.project;
        let rows = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "SELECT operation_id, scope, key, side, pre, post, base_before, created_at, expires_at, undone_at
                 FROM undo_entries WHERE project = $1 AND operation_id = $2 ORDER BY id",
            )?;
            c.query(&s, &[p, &operation_id])
        })?;
        rows.iter()
            .map(|r| {
                let side: &str = r.get(3);
                Ok(UndoEntry {
                    operation_id: r.get(0),
                    scope: r.get(1),
                    key: self.key("undo_entries", r.get(2))?,
                    side: side.parse::<Side>().map_err(|e| self.corrupt(format!("undo_entries: {e}")))?,
                    pre: self.opt_digest("undo_entries", r.get(4))?,
                    post: self.opt_digest("undo_entries", r.get(5))?,
                    base_before: self.opt_digest("undo_entries", r.get(6))?,
                    created_at: Timestamp::from_millis(r.get(7)),
                    expires_at: Timestamp::from_millis(r.get(8)),
                    undone_at: r.get::<_, Option<i64>>(9).map(Timestamp::from_millis),
                })
            })
            .collect()
    }

    fn commit_undo(&mut self, c: &UndoCommit) -> Result<(), StoreError> {
        let p = &self.project;
        self.write(|tx, st| {
            // The restored base refers to blobs kept for undo: no collection meanwhile.
            let s = prep(st, tx, "SELECT pg_advisory_xact_lock_shared($1, hashtext($2))")?;
            tx.execute(&s, &[&LOCK_BLOBS, p])?;
            set_base(tx, st, p, &c.scope, &c.key, &c.base)?;
            let s = prep(
                st,
                tx,
                "UPDATE undo_entries SET undone_at = $1 WHERE project = $2 AND operation_id = $3 AND key = $4",
            )?;
            tx.execute(&s, &[&ms(c.at), p, &c.operation_id, &c.key.as_str()])?;
            insert_history(tx, st, p, &c.history)?;
            insert_events(tx, st, p, &c.events).map(drop)
        })
    }

    fn prune(&mut self, now: Timestamp, limits: &UndoLimits) -> Result<PruneStats, StoreError> {
        let p = &self.project;
        let (dropped, blobs) = self.write(|tx, st| {
            let s = prep(st, tx, "SELECT pg_advisory_xact_lock($1, hashtext($2))")?;
            tx.execute(&s, &[&LOCK_BLOBS, p])?;
            // Undo entries survive only for the newest `max_operations` operations that
            // have any, and only while inside both their own expiry and the age limit.
            let s = prep(
                st,
                tx,
                "DELETE FROM undo_entries
                 WHERE project = $1
                   AND (operation_id NOT IN (
                            SELECT o.operation_id FROM operations o
                            WHERE o.project = $1
                              AND EXISTS (SELECT 1 FROM undo_entries u
                                          WHERE u.project = $1 AND u.operation_id = o.operation_id)
                            ORDER BY o.seq DESC LIMIT $2)
                        OR expires_at <= $3
                        OR $3 - created_at > $4)
                 RETURNING operation_id",
            )?;
            let dropped: Vec<String> = tx
                .query(&s, &[p, &limit(limits.max_operations), &ms(now), &limits.max_age_ms])?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let s = prep(
                st,
                tx,
                "DELETE FROM blobs b
                 WHERE b.project = $1
                   AND NOT EXISTS (SELECT 1 FROM base WHERE base.project = $1 AND base.digest = b.digest)
                   AND NOT EXISTS (SELECT 1 FROM undo_entries u WHERE u.project = $1 AND u.pre = b.digest)
                   AND NOT EXISTS (SELECT 1 FROM undo_entries u WHERE u.project = $1 AND u.post = b.digest)
                   AND NOT EXISTS (SELECT 1 FROM intents i WHERE i.project = $1 AND (i.pre = b.digest OR i.post = b.digest))",
            )?;
            let blobs = tx.execute(&s, &[p])?;
            Ok((dropped, blobs))
        })?;
        let operations = dropped.iter().collect::<BTreeSet<_>>().len();
        Ok(PruneStats { operations, undo_entries: dropped.len(), blobs: blobs as usize })
    }

    fn history(&self, scope: Option<&str>, n: usize) -> Result<Vec<HistoryEntry>, StoreError> {
        let p = &self.project;
        let rows = self.read(|c, st| match scope {
            Some(scope) => {
                let s = prep(
                    st,
                    c,
                    "SELECT operation_id, scope, key, direction, trigger, success, error, left_digest, right_digest, at
                     FROM history WHERE project = $1 AND scope = $2 ORDER BY id DESC LIMIT $3",
                )?;
                c.query(&s, &[p, &scope, &limit(n)])
            }
            None => {
                let s = prep(
                    st,
                    c,
                    "SELECT operation_id, scope, key, direction, trigger, success, error, left_digest, right_digest, at
                     FROM history WHERE project = $1 ORDER BY id DESC LIMIT $2",
                )?;
                c.query(&s, &[p, &limit(n)])
            }
        })?;
        rows.iter().map(|r| self.history_from_row(r)).collect()
    }

    fn update_lock(
        &mut self,
        name: &str,
        f: &mut dyn FnMut(Option<Lock>) -> Result<LockChange, LockError>,
    ) -> Result<Result<Option<Lock>, LockError>, StoreError> {
        let p = &self.project;
        let named = format!("{p}/{name}");
        self.write(|tx, st| {
            // A real read-modify-write across connections: the advisory lock on
            // (project, name) is taken before the read and held until commit, so two
            // writers of one lock take turns, and each reads what the last one wrote
            // (READ COMMITTED gives each statement a fresh snapshot). It covers a lock
            // with no row yet too, which `FOR UPDATE` alone could not: two writers would
            // both see it free.
            xact_lock(tx, st, LOCK_NAMED, &named)?;
            let s = prep(
                st,
                tx,
                "SELECT name, owner, token, reason, acquired_at, expires_at FROM locks
                 WHERE project = $1 AND name = $2 FOR UPDATE",
            )?;
            let current = tx.query_opt(&s, &[p, &name])?.map(|r| PgStore::lock_from_row(&r));
            let LockChange { lock: next, events } = match f(current) {
                Ok(change) => change,
                // Nothing was written yet, so the commit `write` makes changes nothing.
                Err(refusal) => return Ok(Err(refusal)),
            };
            match &next {
                Some(l) => {
                    let s = prep(
                        st,
                        tx,
                        "INSERT INTO locks (project, name, owner, token, reason, acquired_at, expires_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (project, name) DO UPDATE SET owner = excluded.owner, token = excluded.token,
                             reason = excluded.reason, acquired_at = excluded.acquired_at,
                             expires_at = excluded.expires_at",
                    )?;
                    tx.execute(&s, &[p, &name, &l.owner, &l.token, &l.reason, &ms(l.acquired_at), &ms(l.expires_at)])?;
                }
                None => {
                    let s = prep(st, tx, "DELETE FROM locks WHERE project = $1 AND name = $2")?;
                    tx.execute(&s, &[p, &name])?;
                }
            }
            insert_events(tx, st, p, &events)?;
            Ok(Ok(next.map(|l| Lock { name: name.to_string(), ..l })))
        })
    }

    fn locks(&self) -> Result<Vec<Lock>, StoreError> {
        let p = &self.project;
        let rows = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "SELECT name, owner, token, reason, acquired_at, expires_at FROM locks WHERE project = $1 ORDER BY name",
            )?;
            c.query(&s, &[p])
        })?;
        Ok(rows.iter().map(PgStore::lock_from_row).collect())
    }

    fn append_audit(&mut self, a: &AuditRecord) -> Result<String, StoreError> {
        let counts = serde_json::to_string(&a.counts).map_err(|e| StoreError::Backend(format!("audit counts: {e}")))?;
        let p = &self.project;
        let result = self.write(|tx, st| {
            let s = prep(st, tx, "SELECT nextval(pg_get_serial_sequence('twinsync.audit', 'seq'))")?;
            let seq: i64 = tx.query_one(&s, &[])?.get(0);
            let id = if a.id.is_empty() { format!("audit-{seq}") } else { a.id.clone() };
            let s = prep(
                st,
                tx,
                "INSERT INTO audit (seq, project, id, correlation_id, actor, action, success, counts, duration_ms, at,
                     detail)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (project, id) DO NOTHING",
            )?;
            let n = tx.execute(
                &s,
                &[
                    &seq,
                    p,
                    &id,
                    &a.correlation_id,
                    &a.actor,
                    &a.action,
                    &a.success,
                    &counts,
                    &a.duration_ms,
                    &ms(a.at),
                    &a.detail,
                ],
            )?;
            Ok((n, id))
        })?;
        match result {
            (0, id) => Err(StoreError::Backend(format!("{}: audit record {id} already exists", self.db.label()))),
            (_, id) => Ok(id),
        }
    }

    fn audit_log(&self, n: usize) -> Result<Vec<AuditRecord>, StoreError> {
        let p = &self.project;
        let rows = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "SELECT id, correlation_id, actor, action, success, counts, duration_ms, at, detail
                 FROM audit WHERE project = $1 ORDER BY seq DESC LIMIT $2",
            )?;
            c.query(&s, &[p, &limit(n)])
        })?;
        rows.iter()
            .map(|r| {
                let id: String = r.get(0);
                Ok(AuditRecord {
                    counts: self.parse("audit", &format!("counts of {id}"), r.get(5))?,
                    id,
                    correlation_id: r.get(1),
                    actor: r.get(2),
                    action: r.get(3),
                    success: r.get(4),
                    duration_ms: r.get(6),
                    at: Timestamp::from_millis(r.get(7)),
                    detail: r.get(8),
                })
            })
            .collect()
    }

    fn append_events(&mut self, events: &[Event]) -> Result<u64, StoreError> {
        let p = &self.project;
        let last = self.write(|tx, st| match insert_events(tx, st, p, events)? {
            Some(id) => Ok(id),
            // The newest id so far (pruning always keeps the newest row).
            None => {
                let s = prep(st, tx, "SELECT COALESCE(max(id), 0) FROM outbox WHERE project = $1")?;
                tx.query_one(&s, &[p]).map(|r| r.get(0))
            }
        })?;
        Ok(last as u64)
    }

    fn events_since(&self, after: u64, n: usize) -> Result<Vec<Event>, StoreError> {
        let p = &self.project;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let rows = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "SELECT id, type, time, pair, correlation_id, payload FROM outbox
                 WHERE project = $1 AND id > $2 ORDER BY id LIMIT $3",
            )?;
            c.query(&s, &[p, &after, &limit(n)])
        })?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.get(0);
                let event_type: &str = r.get(1);
                Ok(Event {
                    id: id as u64,
                    event_type: event_type
                        .parse()
                        .map_err(|e| self.corrupt(format_args!("outbox: type of event {id}: {e}")))?,
                    time: Timestamp::from_millis(r.get(2)),
                    pair: r.get(3),
                    correlation_id: r.get(4),
                    payload: self.parse("outbox", &format!("payload of event {id}"), r.get(5))?,
                })
            })
            .collect()
    }

    fn prune_events(&mut self, before: Timestamp) -> Result<usize, StoreError> {
        let p = &self.project;
        let n = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "DELETE FROM outbox WHERE project = $1 AND time < $2
                   AND id < (SELECT max(id) FROM outbox WHERE project = $1)",
            )?;
            c.execute(&s, &[p, &ms(before)])
        })?;
        Ok(n as usize)
    }

    fn kv_get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let p = &self.project;
        self.read(|c, st| {
            let s = prep(st, c, "SELECT value FROM kv WHERE project = $1 AND namespace = $2 AND key = $3")?;
            Ok(c.query_opt(&s, &[p, &namespace, &key])?.map(|r| r.get(0)))
        })
    }

    fn put_api_key(&mut self, k: &ApiKeyRecord) -> Result<(), StoreError> {
        let p = &self.project;
        self.read(|c, st| {
            let s = prep(
                st,
                c,
                "INSERT INTO api_keys (project, id, name, hash, created_at, last_used_at, revoked_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )?;
            c.execute(
                &s,
                &[p, &k.id, &k.name, &k.hash, &ms(k.created_at), &k.last_used_at.map(ms), &k.revoked_at.map(ms)],
            )
            .map(drop)
        })
    }

    fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let p = &self.project;
        let rows = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "SELECT id, name, hash, created_at, last_used_at, revoked_at FROM api_keys
                 WHERE project = $1 ORDER BY created_at, id COLLATE \"C\"",
            )?;
            c.query(&s, &[p])
        })?;
        Ok(rows.iter().map(api_key_from_row).collect())
    }

    fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let p = &self.project;
        let row = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "SELECT id, name, hash, created_at, last_used_at, revoked_at FROM api_keys
                 WHERE project = $1 AND hash = $2",
            )?;
            c.query_opt(&s, &[p, &hash])
        })?;
        Ok(row.as_ref().map(api_key_from_row))
    }

    fn revoke_api_key(&mut self, id: &str, at: Timestamp) -> Result<Option<ApiKeyRecord>, StoreError> {
        let p = &self.project;
        let row = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE project = $1 AND id = $2
                 RETURNING id, name, hash, created_at, last_used_at, revoked_at",
            )?;
            c.query_opt(&s, &[p, &id, &ms(at)])
        })?;
        Ok(row.as_ref().map(api_key_from_row))
    }

    fn touch_api_key(&mut self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        let p = &self.project;
        self.read(|c, st| {
            let s = prep(
                st,
                c,
                "UPDATE api_keys SET last_used_at = $3
                 WHERE project = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
            )?;
            c.execute(&s, &[p, &id, &ms(at)]).map(drop)
        })
    }

    fn kv_put(&mut self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let p = &self.project;
        self.read(|c, st| {
            let s = prep(
                st,
                c,
                "INSERT INTO kv (project, namespace, key, value) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (project, namespace, key) DO UPDATE SET value = excluded.value",
            )?;
            c.execute(&s, &[p, &namespace, &key, &value]).map(drop)
        })
    }

    fn put_delivery(&mut self, d: &Delivery) -> Result<(), StoreError> {
        let p = &self.project;
        let event_id = d.event_id as i64;
        let attempts = d.attempts as i32;
        let last_status = d.last_status.map(i32::from);
        self.read(|c, st| {
            let s = prep(
                st,
                c,
                "INSERT INTO deliveries (project, endpoint, event_id, status, attempts, next_attempt_at, last_status,
                     last_error, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (project, endpoint, event_id) DO UPDATE SET status = excluded.status,
                     attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at,
                     last_status = excluded.last_status, last_error = excluded.last_error,
                     updated_at = excluded.updated_at",
            )?;
            c.execute(
                &s,
                &[
                    p,
                    &d.endpoint,
                    &event_id,
                    &d.status.as_str(),
                    &attempts,
                    &ms(d.next_attempt_at),
                    &last_status,
                    &d.last_error,
                    &ms(d.created_at),
                    &ms(d.updated_at),
                ],
            )
            .map(drop)
        })
    }

    fn deliveries(
        &self,
        endpoint: Option<&str>,
        status: Option<DeliveryStatus>,
        n: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let p = &self.project;
        let status = status.map(DeliveryStatus::as_str);
        let rows = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "SELECT endpoint, event_id, status, attempts, next_attempt_at, last_status, last_error, created_at,
                     updated_at
                 FROM deliveries
                 WHERE project = $1 AND ($2::TEXT IS NULL OR endpoint = $2) AND ($3::TEXT IS NULL OR status = $3)
                 ORDER BY event_id, endpoint LIMIT $4",
            )?;
            c.query(&s, &[p, &endpoint, &status, &limit(n)])
        })?;
        rows.iter()
            .map(|r| {
                let status: &str = r.get(2);
                Ok(Delivery {
                    endpoint: r.get(0),
                    event_id: r.get::<_, i64>(1) as u64,
                    status: status.parse().map_err(|e| self.corrupt(format_args!("deliveries: {e}")))?,
                    attempts: r.get::<_, i32>(3) as u32,
                    next_attempt_at: Timestamp::from_millis(r.get(4)),
                    last_status: r.get::<_, Option<i32>>(5).map(|c| c as u16),
                    last_error: r.get(6),
                    created_at: Timestamp::from_millis(r.get(7)),
                    updated_at: Timestamp::from_millis(r.get(8)),
                })
            })
            .collect()
    }

    fn append_coverage(&mut self, records: &[CoverageRecord]) -> Result<(), StoreError> {
        let reports = records
            .iter()
            .map(|r| serde_json::to_string(&r.coverage))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Backend(format!("coverage report: {e}")))?;
        let p = &self.project;
        self.write(|tx, st| {
            let s = prep(
                st,
                tx,
                "INSERT INTO coverage_reports (project, scope, component, computed_at, variant_hash, percentage, report)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )?;
            for (r, report) in records.iter().zip(&reports) {
                tx.execute(
                    &s,
                    &[p, &r.scope, &r.component, &ms(r.computed_at), &r.variant_hash.to_hex(), &r.percentage, report],
                )?;
            }
            Ok(())
        })
    }

    fn coverage_history(
        &self,
        scope: Option<&str>,
        component: Option<&str>,
        n: usize,
    ) -> Result<Vec<CoverageRecord>, StoreError> {
        let p = &self.project;
        let rows = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "SELECT scope, component, computed_at, variant_hash, percentage, report FROM coverage_reports
                 WHERE project = $1 AND ($2::TEXT IS NULL OR scope = $2) AND ($3::TEXT IS NULL OR component = $3)
                 ORDER BY computed_at DESC, id DESC LIMIT $4",
            )?;
            c.query(&s, &[p, &scope, &component, &limit(n)])
        })?;
        rows.iter().map(|r| self.coverage_from(r)).collect()
    }

    fn latest_coverage(&self, scope: &str) -> Result<Vec<CoverageRecord>, StoreError> {
        let p = &self.project;
        let rows = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "SELECT DISTINCT ON (component) scope, component, computed_at, variant_hash, percentage, report
                 FROM coverage_reports WHERE project = $1 AND scope = $2
                 ORDER BY component, id DESC",
            )?;
            c.query(&s, &[p, &scope])
        })?;
        // By name byte order, as every store gives it (the column's collation may differ).
        let mut latest = rows.iter().map(|r| self.coverage_from(r)).collect::<Result<Vec<_>, _>>()?;
        latest.sort_by(|a, b| a.component.cmp(&b.component));
        Ok(latest)
    }

    fn prune_coverage(&mut self, before: Timestamp) -> Result<usize, StoreError> {
        let p = &self.project;
        let n = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "DELETE FROM coverage_reports WHERE project = $1 AND computed_at < $2
                 AND id NOT IN (SELECT max(id) FROM coverage_reports WHERE project = $1 GROUP BY scope, component)",
            )?;
            c.execute(&s, &[p, &ms(before)])
        })?;
        Ok(n as usize)
    }

    fn put_test_session(&mut self, t: &TestSession, events: &[Event]) -> Result<(), StoreError> {
        let performance = t.performance.as_ref().map(|v| v.to_string());
        let p = &self.project;
        self.write(|tx, st| {
            let s = prep(
                st,
                tx,
                "INSERT INTO browser_test_sessions (project, id, story_id, status, started_at, ended_at, performance,
                     correlation_id, actor)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (project, id) DO UPDATE SET story_id = excluded.story_id, status = excluded.status,
                     started_at = excluded.started_at, ended_at = excluded.ended_at,
                     performance = excluded.performance, correlation_id = excluded.correlation_id,
                     actor = excluded.actor",
            )?;
            tx.execute(
                &s,
                &[
                    p,
                    &t.id,
                    &t.story_id,
                    &t.status.as_str(),
                    &ms(t.started_at),
                    &t.ended_at.map(ms),
                    &performance,
                    &t.correlation_id,
                    &t.actor,
                ],
            )?;
            insert_events(tx, st, p, events).map(drop)
        })
    }

    fn test_session(&self, id: &str) -> Result<Option<TestSession>, StoreError> {
        let p = &self.project;
        let row = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "SELECT id, story_id, status, started_at, ended_at, performance, correlation_id, actor
                 FROM browser_test_sessions WHERE project = $1 AND id = $2",
            )?;
            c.query_opt(&s, &[p, &id])
        })?;
        row.map(|r| self.session_from(&r)).transpose()
    }

    fn test_sessions(&self, story: Option<&str>, n: usize) -> Result<Vec<TestSession>, StoreError> {
        let p = &self.project;
        let rows = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "SELECT id, story_id, status, started_at, ended_at, performance, correlation_id, actor
                 FROM browser_test_sessions WHERE project = $1 AND ($2::TEXT IS NULL OR story_id = $2)
                 ORDER BY started_at DESC, id COLLATE \"C\" DESC LIMIT $3",
            )?;
            c.query(&s, &[p, &story, &limit(n)])
        })?;
        rows.iter().map(|r| self.session_from(r)).collect()
    }

    fn prune_deliveries(&mut self, before: Timestamp) -> Result<usize, StoreError> {
        let p = &self.project;
        let n = self.read(|c, st| {
            let s = prep(
                st,
                c,
                "DELETE FROM deliveries WHERE project = $1 AND status IN ('sent', 'failed') AND updated_at < $2",
            )?;
            c.execute(&s, &[p, &ms(before)])
        })?;
        Ok(n as usize)
    }

    fn put_credential(&mut self, c: &CredentialRecord, events: &[Event]) -> Result<(), StoreError> {
        let record =
            serde_json::to_string(c).map_err(|e| StoreError::Backend(format!("credential {}: {e}", c.name)))?;
        let p = &self.project;
        self.write(|tx, st| {
            let s = prep(
                st,
                tx,
                "INSERT INTO credentials (project, name, provider, status, rotation_due_at, sealed, record)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (project, name) DO UPDATE SET provider = excluded.provider, status = excluded.status,
                     rotation_due_at = excluded.rotation_due_at, sealed = excluded.sealed, record = excluded.record",
            )?;
            tx.execute(
                &s,
                &[p, &c.name, &c.provider.as_str(), &c.status.as_str(), &c.rotation_due_at.map(ms), &c.sealed, &record],
            )?;
            insert_events(tx, st, p, events).map(drop)
        })
    }

    fn credential(&self, name: &str) -> Result<Option<CredentialRecord>, StoreError> {
        let p = &self.project;
        let row = self.read(|c, st| {
            let s = prep(st, c, "SELECT record, sealed FROM credentials WHERE project = $1 AND name = $2")?;
            c.query_opt(&s, &[p, &name])
        })?;
        row.map(|r| self.credential_from(&r)).transpose()
    }

    fn credentials(&self) -> Result<Vec<CredentialRecord>, StoreError> {
        let p = &self.project;
        let rows = self.read(|c, st| {
            let s =
                prep(st, c, "SELECT record, sealed FROM credentials WHERE project = $1 ORDER BY name COLLATE \"C\"")?;
            c.query(&s, &[p])
        })?;
        rows.iter().map(|r| self.credential_from(r)).collect()
    }

    fn kv_delete(&mut self, namespace: &str, key: &str) -> Result<(), StoreError> {
        let p = &self.project;
        self.read(|c, st| {
            let s = prep(st, c, "DELETE FROM kv WHERE project = $1 AND namespace = $2 AND key = $3")?;
            c.execute(&s, &[p, &namespace, &key]).map(drop)
        })
    }
}
