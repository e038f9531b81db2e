//! What a sync keeps for later: every losing or removed database version in `versions`,
//! every conflict in `conflicts` (once per pair of versions), one `sync_history` row per
//! row and direction, the error and attempt count of a failed row, and `last_synced` of
//! rows that needed nothing.

use rusqlite::params;
use twinsync_core::event::EventType;
use twinsync_core::Trigger;

use super::folder::FsItem;
use super::{ItemOutcome, Savepoint, SyncError, Syncer};
use crate::db::{Kind, SyncDirection};

impl Syncer<'_> {
    /// Marks rows that needed nothing as synced now, in one transaction.
    pub(super) fn touch(&self, rowids: impl Iterator<Item = i64>) -> Result<(), SyncError> {
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

    /// Adds one `sync_history` row for this row and direction.
    #[allow(clippy::too_many_arguments)] // one per column of the history row
    pub(super) fn history(
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

    /// Keeps a version a sync replaced or removed (`side`: `db` or `fs`) in `versions`.
    pub(super) fn keep_version(
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
    pub(super) fn fail_item(
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
            EventType::SyncFailed,
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

    /// Whether every conflict in `actions` is already recorded as open with these same versions.
    pub(super) fn conflicts_known(
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

    /// Records a conflict (once per distinct pair of versions) and sends a `conflict` event.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_conflict(
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
            EventType::ConflictDetected,
            corr,
            serde_json::json!({"scope": "openspec", "project": self.config.project, "kind": kind, "change_id": id,
                "key": doc, "direction": if resolution == "open" { "none" } else { "fs->db" },
                "outcome": resolution, "reason": format!("{doc} edited on disk and in the database")}),
        );
        Ok(())
    }
}
