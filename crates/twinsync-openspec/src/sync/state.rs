//! What the database holds of each row for deciding it: the per-document digests of
//! the database side and of the last-synced base, the texts behind them, and recording
//! a new base once a document is in step.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};
use twinsync_core::Digest;

use super::{SyncError, Syncer};
use crate::db::{doc_column, text_digest, Kind, Status};

/// What the database holds of one row, for deciding.
#[derive(Debug, Clone)]
pub(super) struct DbState {
    pub(super) rowid: i64,
    pub(super) path: String,
    pub(super) status: Status,
    pub(super) deleted: bool,
    /// Per document: (database digest, base digest).
    pub(super) docs: HashMap<String, (Option<Digest>, Option<Digest>)>,
    /// Digest of the delta files when the row was last synced.
    pub(super) deltas_digest: Option<String>,
    /// When the row was last synced (`None`: created in the database, never on disk).
    pub(super) last_synced: Option<i64>,
}

impl Syncer<'_> {
    /// What the database holds of every row of the project, or of the `only` row.
    pub(super) fn load_states(
        &self,
        only: Option<(Kind, &str)>,
    ) -> Result<HashMap<(Kind, String), DbState>, SyncError> {
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

    /// The database's text of a document (`None`: absent).
    pub(super) fn db_text(&self, rowid: i64, doc: &str) -> Result<Option<String>, SyncError> {
        let col = doc_column(doc).expect("known document");
        Ok(self
            .db
            .conn
            .query_row(&format!("SELECT {col} FROM items WHERE rowid = ?1"), [rowid], |r| r.get(0))
            .map_err(|e| self.db.err(e))?)
    }

    /// The text of a document when it was last in step (`None`: no base).
    pub(super) fn base_text(&self, rowid: i64, doc: &str) -> Result<Option<String>, SyncError> {
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

    /// Records `text` as the last-synced base of a document and as the database's digest.
    pub(super) fn set_base(&self, rowid: i64, doc: &str, text: Option<&str>) -> Result<(), SyncError> {
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
}
