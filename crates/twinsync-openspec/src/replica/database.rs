//! The OpenSpec database as the database side of an `openspec` pair: each live row's
//! documents, delta specs and (for a change) folder are items under the keys of
//! [`super::item`]. What the platform expects of the database lives here:
//! - a document a sync replaces or removes is kept in `versions` first, so the
//!   database's losing version stays recoverable (files win by default);
//! - a change whose `.location` is deleted (its folder is gone) and a row whose last
//!   document goes are soft-deleted: marked, kept whole, out of the scan;
//! - a write to a soft-deleted row brings it back, its old documents kept as versions;
//! - every write refreshes the derived fields: title, task progress, requirement count
//!   and lifecycle status (a status a person chose is kept where it still applies).

use std::sync::Arc;

use twinsync_core::replica::{ReplicaError, ScanFailure, Snapshot, WriteContext};
use twinsync_core::sql::{SqlError, SqlValue};
use twinsync_core::{Clock, Content, Digest, Entry, HashRules, Key, Replica};

use super::item::{ItemKey, Part};
use crate::db::{doc_column, Db, Kind};
use crate::workspace::ArchiveName;

/// The rows of one project in an OpenSpec database.
pub struct OpenSpecDb {
    db: Db,
    project: String,
    name: String,
    rules: HashRules,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for OpenSpecDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSpecDb").field("db", &self.db.path()).field("project", &self.project).finish()
    }
}

/// A live or soft-deleted row, as a write needs it.
struct RowState {
    rowid: i64,
    path: String,
    deleted: bool,
}

impl OpenSpecDb {
    /// The rows of `project` in `db`; `clock` stamps `last_synced` and kept versions.
    pub fn new(db: Db, project: impl Into<String>, clock: Arc<dyn Clock>) -> OpenSpecDb {
        let project = project.into();
        OpenSpecDb { name: format!("openspec-db:{project}"), db, project, rules: HashRules::default(), clock }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    fn err(&self, key: &Key, e: SqlError) -> ReplicaError {
        ReplicaError::Io { key: key.to_string(), message: format!("{}: {e}", self.db.path()) }
    }

    fn digest_text(&self, text: &str) -> Digest {
        self.rules.digest(&Content::Text(text.to_string())).expect("text always digests")
    }

    fn row(&self, kind: Kind, id: &str) -> Result<Option<RowState>, SqlError> {
        let rows = self.db.select(
            "SELECT rowid, path, deleted FROM items WHERE project = ?1 AND kind = ?2 AND id = ?3",
            &[(&self.project).into(), kind.as_str().into(), id.into()],
        )?;
        Ok(rows.into_iter().next().map(|mut r| {
            let deleted = r.get(2).and_then(SqlValue::as_int).unwrap_or(0) != 0;
            let path = r
                .get_mut(1)
                .map(|v| std::mem::replace(v, SqlValue::Null))
                .and_then(SqlValue::into_text)
                .unwrap_or_default();
            RowState { rowid: r.first().and_then(SqlValue::as_int).unwrap_or(0), path, deleted }
        }))
    }

    /// The text of one part of a row (`None`: absent).
    fn text(&self, row: &RowState, part: &Part) -> Result<Option<String>, SqlError> {
        let rows = match part {
            Part::Location => return Ok(Some(row.path.clone())),
            Part::Doc(d) => {
                let col = doc_column(d).expect("a known document");
                self.db.select(&format!("SELECT {col} FROM items WHERE rowid = ?1"), &[row.rowid.into()])?
            }
            Part::Delta(rel) => self
                .db
                .select("SELECT text FROM delta_specs WHERE item = ?1 AND rel = ?2", &[row.rowid.into(), rel.into()])?,
        };
        Ok(rows.into_iter().next().and_then(|r| r.into_iter().next()).and_then(SqlValue::into_text))
    }

    fn keep_version(&self, kind: Kind, id: &str, doc: &str, text: &str, reason: &str) -> Result<(), SqlError> {
        self.db.exec(
            "INSERT INTO versions(project, kind, item_id, doc, side, content, reason, at) VALUES (?1, ?2, ?3, ?4, 'db', ?5, ?6, ?7)",
            &[
                (&self.project).into(),
                kind.as_str().into(),
                id.into(),
                doc.into(),
                text.into(),
                reason.into(),
                self.clock.now().0.into(),
            ],
        )?;
        Ok(())
    }

    /// Brings a soft-deleted row back empty: what it held is kept as versions, since the
    /// side that brings it back says what it holds now.
    fn undelete(&self, kind: Kind, id: &str, row: &mut RowState, op: &str) -> Result<(), SqlError> {
        for (name, text) in self.db.contents(row.rowid)? {
            self.keep_version(kind, id, &name, &text, &format!("replaced when operation {op} brought the row back"))?;
        }
        self.db.exec(
            "UPDATE items SET deleted = 0, proposal = NULL, design = NULL, tasks = NULL, spec = NULL WHERE rowid = ?1",
            &[row.rowid.into()],
        )?;
        self.db.exec("DELETE FROM delta_specs WHERE item = ?1", &[row.rowid.into()])?;
        row.deleted = false;
        Ok(())
    }

    fn write_part(
        &self,
        item: &ItemKey,
        text: &str,
        expected: Option<&Digest>,
        op: &str,
        key: &Key,
    ) -> Result<(), ReplicaError> {
        let sql = |e| self.err(key, e);
        let mut row = self.row(item.kind, &item.id).map_err(sql)?;
        let current = match &row {
            Some(r) if !r.deleted => self.text(r, &item.part).map_err(sql)?,
            _ => None,
        };
        let found = current.as_deref().map(|t| self.digest_text(t));
        if found.as_ref() != expected {
            return Err(ReplicaError::conflict(key, expected, found.as_ref()));
        }
        if item.part == Part::Location && !valid_location(&item.id, text) {
            return Err(ReplicaError::Io {
                key: key.to_string(),
                message: format!("{text:?} is not a folder change {:?} can live in", item.id),
            });
        }
        let mut row = match row.take() {
            Some(mut r) => {
                if r.deleted {
                    self.undelete(item.kind, &item.id, &mut r, op).map_err(sql)?;
                }
                r
            }
            None => {
                let path = match (&item.kind, &item.part) {
                    (Kind::Change, Part::Location) => text.to_string(),
                    (Kind::Change, _) => format!("changes/{}", item.id),
                    (Kind::Spec, _) => format!("specs/{}", item.id),
                };
                let rowid = self.db.insert_item(item.kind, &item.id, &self.project, &path, None).map_err(sql)?;
                RowState { rowid, path, deleted: false }
            }
        };
        match &item.part {
            Part::Location => {
                self.db
                    .exec("UPDATE items SET path = ?1 WHERE rowid = ?2", &[text.into(), row.rowid.into()])
                    .map_err(sql)?;
                row.path = text.to_string();
            }
            Part::Doc(d) => {
                if let Some(old) = current.as_deref().filter(|old| *old != text) {
                    self.keep_version(item.kind, &item.id, d, old, &format!("replaced by operation {op}"))
                        .map_err(sql)?;
                }
                let col = doc_column(d).expect("a known document");
                self.db
                    .exec(&format!("UPDATE items SET {col} = ?1 WHERE rowid = ?2"), &[text.into(), row.rowid.into()])
                    .map_err(sql)?;
            }
            Part::Delta(rel) => {
                if let Some(old) = current.as_deref().filter(|old| *old != text) {
                    self.keep_version(item.kind, &item.id, rel, old, &format!("replaced by operation {op}"))
                        .map_err(sql)?;
                }
                self.db
                    .exec(
                        "INSERT INTO delta_specs(item, rel, text) VALUES (?1, ?2, ?3) \
                         ON CONFLICT(item, rel) DO UPDATE SET text = excluded.text",
                        &[row.rowid.into(), rel.into(), text.into()],
                    )
                    .map_err(sql)?;
            }
        }
        self.db.refresh(row.rowid, Some(self.clock.now())).map_err(sql)
    }

    fn delete_part(&self, item: &ItemKey, expected: &Digest, op: &str, key: &Key) -> Result<(), ReplicaError> {
        let sql = |e| self.err(key, e);
        // Already gone (a soft-deleted row, or a part a move took away): nothing to do.
        let Some(row) = self.row(item.kind, &item.id).map_err(sql)?.filter(|r| !r.deleted) else { return Ok(()) };
        let Some(current) = self.text(&row, &item.part).map_err(sql)? else { return Ok(()) };
        let found = self.digest_text(&current);
        if found != *expected {
            return Err(ReplicaError::conflict(key, Some(expected), Some(&found)));
        }
        let last = match &item.part {
            Part::Location => true,
            _ => self.db.contents(row.rowid).map_err(sql)?.len() <= 1,
        };
        if last {
            // Soft delete: the row keeps everything it held, out of the queue and the scan.
            self.db
                .exec(
                    "UPDATE items SET deleted = 1, last_synced = ?1 WHERE rowid = ?2",
                    &[self.clock.now().0.into(), row.rowid.into()],
                )
                .map_err(sql)?;
            return Ok(());
        }
        match &item.part {
            Part::Doc(d) => {
                self.keep_version(item.kind, &item.id, d, &current, &format!("deleted by operation {op}"))
                    .map_err(sql)?;
                let col = doc_column(d).expect("a known document");
                self.db
                    .exec(&format!("UPDATE items SET {col} = NULL WHERE rowid = ?1"), &[row.rowid.into()])
                    .map_err(sql)?;
            }
            Part::Delta(rel) => {
                self.keep_version(item.kind, &item.id, rel, &current, &format!("deleted by operation {op}"))
                    .map_err(sql)?;
                self.db
                    .exec("DELETE FROM delta_specs WHERE item = ?1 AND rel = ?2", &[row.rowid.into(), rel.into()])
                    .map_err(sql)?;
            }
            Part::Location => unreachable!("a location delete is the row's last"),
        }
        self.db.refresh(row.rowid, Some(self.clock.now())).map_err(sql)
    }

    /// Runs `f` in one transaction, so a row never shows half a write.
    fn in_tx<T>(&self, key: &Key, f: impl FnOnce() -> Result<T, ReplicaError>) -> Result<T, ReplicaError> {
        let tx = self.db.begin().map_err(|e| self.err(key, e))?;
        let out = f()?;
        tx.commit().map_err(|e| self.err(key, e))?;
        Ok(out)
    }
}

/// Whether `text` is a folder change `id` can live in.
pub(super) fn valid_location(id: &str, text: &str) -> bool {
    text == format!("changes/{id}")
        || text
            .strip_prefix("changes/archive/")
            .is_some_and(|dir| !dir.contains('/') && (dir == id || ArchiveName::parse(dir).is_some_and(|a| a.id == id)))
}

fn item_of(key: &Key) -> Result<ItemKey, ReplicaError> {
    ItemKey::parse(key.as_str()).ok_or_else(|| ReplicaError::Io {
        key: key.to_string(),
        message: "not an OpenSpec document, delta spec or change location".into(),
    })
}

impl Replica for OpenSpecDb {
    fn name(&self) -> &str {
        &self.name
    }

    fn rules(&self) -> &HashRules {
        &self.rules
    }

    fn scan(&mut self) -> Result<Snapshot, ReplicaError> {
        let unavailable = |e: SqlError| ReplicaError::Unavailable { name: self.name.clone(), reason: e.to_string() };
        let rows = self.db.live_rows(&self.project).map_err(unavailable)?;
        let mut entries = Vec::new();
        let mut put = |k: Key, text: &str, d: Digest| {
            entries.push(Entry { key: k, digest: d, size: text.len() as u64, modified: None, bytes: None });
        };
        for (kind, id, path, contents) in &rows {
            if contents.is_empty() {
                continue;
            }
            for (name, text) in contents {
                let part = if name.starts_with("specs/") {
                    Part::Delta(name.clone())
                } else {
                    Part::Doc(
                        crate::db::CHANGE_DOCS.iter().chain(&["spec.md"]).find(|d| **d == name).expect("a column"),
                    )
                };
                put(ItemKey::key(*kind, id, &part), text, self.digest_text(text));
            }
            if *kind == Kind::Change {
                put(ItemKey::key(*kind, id, &Part::Location), path, self.digest_text(path));
            }
        }
        Ok(Snapshot::from_entries(entries))
    }

    fn scan_failures(&self) -> Vec<ScanFailure> {
        // Rows hold text by construction: nothing in them can fail to digest.
        Vec::new()
    }

    fn read(&self, key: &Key) -> Result<Option<Content>, ReplicaError> {
        let item = item_of(key)?;
        let row = self.row(item.kind, &item.id).map_err(|e| self.err(key, e))?;
        match row.filter(|r| !r.deleted) {
            None => Ok(None),
            Some(r) => Ok(self.text(&r, &item.part).map_err(|e| self.err(key, e))?.map(Content::Text)),
        }
    }

    fn write(
        &mut self,
        key: &Key,
        content: &Content,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        let item = item_of(key)?;
        let text = std::str::from_utf8(content.as_bytes())
            .map_err(|e| ReplicaError::Io { key: key.to_string(), message: format!("not UTF-8 text: {e}") })?;
        let text = if item.part == Part::Location { text.trim() } else { text };
        self.in_tx(key, || self.write_part(&item, text, expected, &ctx.operation_id, key))?;
        Ok(self.digest_text(text))
    }

    fn delete(&mut self, key: &Key, expected: &Digest, ctx: &WriteContext) -> Result<(), ReplicaError> {
        let item = item_of(key)?;
        self.in_tx(key, || self.delete_part(&item, expected, &ctx.operation_id, key))
    }

    fn flush(&mut self) -> Result<(), ReplicaError> {
        // Each write commits its own transaction (SQLite in WAL with synchronous NORMAL,
        // PostgreSQL): durable at commit.
        Ok(())
    }
}
