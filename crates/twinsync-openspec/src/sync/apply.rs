//! Applying the plan of one row: database writes in one transaction per row, file
//! writes through [`twinsync_fs::FsReplica`] (atomic compare-and-swap, backup of what it
//! overwrites or deletes), three-way merges, the title, task progress, requirement count
//! and status derived from the documents as they end up; soft delete of rows whose
//! folder is gone, and archive recognised as a move (the id stays, the path and status
//! change).

use std::collections::BTreeMap;

use rusqlite::params;
use twinsync_core::event::EventType;
use twinsync_core::merge::{text3, TextMergeOptions};
use twinsync_core::replica::WriteContext;
use twinsync_core::{ActionKind, Content, Digest, DriftClass, Key, Replica, Trigger};

use super::folder::FsItem;
use super::{DbState, ItemOutcome, Savepoint, SyncError, Syncer};
use crate::change::change_title;
use crate::db::{doc_column, Kind, Status, SyncDirection};
use crate::spec::parse_spec;
use crate::tasks::count_tasks;

impl Syncer<'_> {
    /// A row with no folder: written out when it was created in the database and never
    /// synced; otherwise its folder was removed, so it is soft-deleted.
    pub(super) fn gone_from_disk(
        &mut self,
        kind: Kind,
        id: &str,
        state: &DbState,
        trigger: Trigger,
        corr: &str,
    ) -> Result<Option<ItemOutcome>, SyncError> {
        if state.last_synced.is_some() {
            return self.soft_delete(kind, id, state, trigger, corr).map(Some);
        }
        let empty = FsItem {
            kind,
            id: id.to_string(),
            path: state.path.clone(),
            archived_on: None,
            docs: BTreeMap::new(),
            modified: None,
            deltas: Vec::new(),
            deltas_digest: Digest::of_bytes(b"").to_hex(),
        };
        self.sync_item(Some(&empty), Some(state), trigger, corr)
    }

    /// Marks a row whose folder is gone as deleted; its content and history stay.
    fn soft_delete(
        &self,
        kind: Kind,
        id: &str,
        state: &DbState,
        trigger: Trigger,
        corr: &str,
    ) -> Result<ItemOutcome, SyncError> {
        let db = self.db;
        self.emit(
            EventType::SyncStarted,
            corr,
            serde_json::json!({"scope": "openspec", "kind": kind, "change_id": id, "direction": "fs->db", "trigger": trigger.as_str()}),
        );
        let files: Vec<String> = kind.docs().iter().map(|d| format!("{}/{d}", state.path)).collect();
        let tx = Savepoint::new(&db.conn).map_err(|e| db.err(e))?;
        tx.execute(
            "UPDATE items SET deleted = 1, last_synced = ?1, sync_error = NULL, sync_attempts = 0 WHERE rowid = ?2",
            params![self.clock.now().0, state.rowid],
        )
        .map_err(|e| db.err(e))?;
        self.history(kind, id, SyncDirection::FsToDb, trigger, "deleted", None, &files)?;
        tx.commit().map_err(|e| db.err(e))?;
        self.completed(corr, kind, id, &[SyncDirection::FsToDb], "deleted", &files);
        Ok(ItemOutcome {
            kind,
            id: id.to_string(),
            directions: vec![SyncDirection::FsToDb],
            outcome: "deleted".into(),
            files,
            conflicts: Vec::new(),
            error: None,
            resolved: 0,
        })
    }

    /// Decides and applies one row; `Ok(None)` when nothing needed doing.
    pub(super) fn sync_item(
        &mut self,
        fs_item: Option<&FsItem>,
        state: Option<&DbState>,
        trigger: Trigger,
        corr: &str,
    ) -> Result<Option<ItemOutcome>, SyncError> {
        let Some(item) = fs_item else { return Ok(None) };
        let kind = item.kind;
        let key_of = |doc: &str| format!("{}/{doc}", item.path);
        let plan = self.plan_row(item, state);
        let moved = state.is_some_and(|s| s.path != item.path);
        let restored = state.is_some_and(|s| s.deleted);
        let created = state.is_none();
        let deltas_changed = kind == Kind::Change
            && state.is_some_and(|s| s.deltas_digest.as_deref() != Some(item.deltas_digest.as_str()));
        let changes: Vec<_> = plan.actions.iter().filter(|a| a.kind != ActionKind::Skip).collect();
        if changes.is_empty() && !moved && !restored && !created && !deltas_changed {
            return Ok(None);
        }
        // Conflicts left open earlier, with the same two versions: already recorded and
        // reported; repeating them every pass would only fill the history.
        if let Some(s) = state.filter(|_| !moved && !restored && !deltas_changed) {
            if changes.iter().all(|a| a.kind == ActionKind::Conflict)
                && self.conflicts_known(item, s.rowid, &changes)?
            {
                return Ok(None);
            }
        }
        self.emit(
            EventType::SyncStarted,
            corr,
            serde_json::json!({"scope": "openspec", "project": self.config.project, "kind": kind, "change_id": item.id,
                "trigger": trigger.as_str()}),
        );
        let db = self.db;
        let now = self.clock.now();
        let tx = Savepoint::new(&db.conn).map_err(|e| db.err(e))?;
        let rowid = match state {
            Some(s) => s.rowid,
            None => self.insert_row(&tx, item)?,
        };
        // The documents as they end up on disk (for title, progress, status).
        let mut final_docs: BTreeMap<&str, Option<String>> =
            kind.docs().iter().map(|d| (*d, item.docs.get(d).cloned())).collect();
        let mut to_db: Vec<String> = Vec::new();
        let mut to_fs: Vec<String> = Vec::new();
        let mut outcomes: Vec<&str> = Vec::new();
        let mut open_conflicts: Vec<String> = Vec::new();
        let mut conflicts = 0usize;
        // Database documents to set, written in one UPDATE so the row is indexed for
        // full-text search once, not once per document.
        let mut pending: Vec<(&str, Option<String>)> = Vec::new();
        let ctx = WriteContext { operation_id: format!("{}-{}", now.to_rfc3339().replace(':', ""), self.runs) };
        if created {
            outcomes.push("created");
        }
        if restored {
            outcomes.push("restored");
        }
        if moved {
            outcomes.push("moved");
        }
        for action in &changes {
            let doc = action.key.as_str();
            let fs_text = item.docs.get(doc).cloned();
            let file = key_of(doc);
            let fs_key = Key::new(file.clone())
                .map_err(|e| SyncError::Folder { path: self.openspec.join(&file), message: e.to_string() })?;
            let conflict_class = matches!(
                action.class,
                DriftClass::ConflictModifyModify
                    | DriftClass::ConflictAddAdd
                    | DriftClass::ConflictModifyDelete
                    | DriftClass::ConflictDeleteModify
            );
            match action.kind {
                ActionKind::CopyToRight | ActionKind::DeleteRight => {
                    if conflict_class || action.kind == ActionKind::DeleteRight {
                        let db_text = self.db_text(rowid, doc)?;
                        let reason = if conflict_class {
                            conflicts += 1;
                            "conflict: the files win"
                        } else {
                            "deleted on disk"
                        };
                        self.keep_version(kind, &item.id, doc, "db", db_text.as_deref(), reason)?;
                        if conflict_class {
                            self.record_conflict(
                                kind,
                                &item.id,
                                doc,
                                fs_text.as_deref(),
                                db_text.as_deref(),
                                "fs-wins",
                                corr,
                            )?;
                        }
                    }
                    pending.push((doc, fs_text.clone()));
                    to_db.push(file);
                }
                ActionKind::CopyToLeft | ActionKind::DeleteLeft => {
                    let db_text = self.db_text(rowid, doc)?;
                    if conflict_class {
                        conflicts += 1;
                        self.keep_version(
                            kind,
                            &item.id,
                            doc,
                            "fs",
                            fs_text.as_deref(),
                            "conflict: the database wins",
                        )?;
                    }
                    self.write_file(kind, &item.id, &fs_key, db_text.as_deref(), action.left.as_ref(), &ctx)?;
                    self.set_base(rowid, doc, db_text.as_deref())?;
                    final_docs.insert(doc, db_text);
                    to_fs.push(file);
                }
                ActionKind::Merge => {
                    let db_text = self.db_text(rowid, doc)?.unwrap_or_default();
                    let fs_t = fs_text.clone().unwrap_or_default();
                    let base_text = self.base_text(rowid, doc)?.unwrap_or_default();
                    let merged = text3(&base_text, &fs_t, &db_text, &TextMergeOptions::default());
                    conflicts += 1;
                    if merged.is_clean() {
                        self.write_file(kind, &item.id, &fs_key, Some(&merged.text), action.left.as_ref(), &ctx)?;
                        self.keep_version(kind, &item.id, doc, "db", Some(&db_text), "merged with the files")?;
                        pending.push((doc, Some(merged.text.clone())));
                        self.record_conflict(kind, &item.id, doc, Some(&fs_t), Some(&db_text), "merged", corr)?;
                        final_docs.insert(doc, Some(merged.text));
                        outcomes.push("merged");
                        to_fs.push(file.clone());
                        to_db.push(file);
                    } else {
                        self.keep_version(kind, &item.id, doc, "db", Some(&db_text), "merge conflict: the files win")?;
                        self.record_conflict(
                            kind,
                            &item.id,
                            doc,
                            Some(&fs_t),
                            Some(&db_text),
                            "merge fell back to fs",
                            corr,
                        )?;
                        pending.push((doc, Some(fs_t.clone())));
                        to_db.push(file);
                    }
                }
                ActionKind::UpdateBase => {
                    self.set_base(rowid, doc, fs_text.as_deref())?;
                }
                ActionKind::Conflict => {
                    conflicts += 1;
                    let db_text = self.db_text(rowid, doc)?;
                    self.record_conflict(kind, &item.id, doc, fs_text.as_deref(), db_text.as_deref(), "open", corr)?;
                    open_conflicts.push(doc.to_string());
                }
                ActionKind::Skip => {}
            }
        }
        // Derived fields from the documents as they now stand on disk.
        let (done, total) = task_progress(&final_docs);
        let (title, requirements) = title_and_requirements(item, &final_docs);
        let status = Status::derive(kind, state.map(|s| s.status), item.archived_on.is_some(), done, total);
        let sync_error = if open_conflicts.is_empty() {
            None
        } else {
            Some(format!(
                "conflict in {}: edited on disk and in the database (policy manual); edit either side to resolve",
                open_conflicts.join(", ")
            ))
        };
        let fs_modified = if to_fs.is_empty() { item.modified } else { Some(now) };
        if pending.is_empty() {
            tx.execute("UPDATE items SET title = ?1 WHERE rowid = ?2 AND title IS NOT ?1", params![title, rowid])
                .map_err(|e| db.err(e))?;
        } else {
            let mut sql = String::from("UPDATE items SET title = ?1");
            let mut values: Vec<rusqlite::types::Value> = vec![title.clone().into()];
            for (doc, text) in &pending {
                values.push(text.clone().map_or(rusqlite::types::Value::Null, Into::into));
                sql.push_str(&format!(", {} = ?{}", doc_column(doc).expect("known document"), values.len()));
            }
            values.push(rowid.into());
            sql.push_str(&format!(" WHERE rowid = ?{}", values.len()));
            tx.execute(&sql, rusqlite::params_from_iter(values)).map_err(|e| db.err(e))?;
            // After the UPDATE: its trigger clears the digests of changed documents.
            for (doc, text) in &pending {
                self.set_base(rowid, doc, text.as_deref())?;
            }
        }
        tx.execute(
            "UPDATE items SET status = ?1, path = ?2, archived_on = ?3, tasks_done = ?4, tasks_total = ?5, \
             progress = ?6, requirements = ?7, last_synced = ?8, fs_modified = ?9, sync_error = ?10, sync_attempts = 0, \
             deleted = 0, deltas_digest = ?12 WHERE rowid = ?11",
            params![
                status.as_str(),
                item.path,
                item.archived_on,
                done,
                total,
                if total == 0 { 0.0 } else { done as f64 * 100.0 / total as f64 },
                requirements,
                now.0,
                fs_modified.map(|t| t.0),
                sync_error,
                rowid,
                if kind == Kind::Change { Some(item.deltas_digest.as_str()) } else { None }
            ],
        )
        .map_err(|e| db.err(e))?;
        if deltas_changed && to_db.is_empty() && !moved && !restored {
            // Only delta specs changed: the requirement count was refreshed.
            to_db.extend(item.deltas.iter().map(|(rel, _)| format!("{}/{rel}", item.path)));
        }
        if !to_db.is_empty() && !created && !outcomes.contains(&"merged") {
            outcomes.push("updated");
        }
        if !to_fs.is_empty() && !outcomes.contains(&"merged") {
            outcomes.push("written");
        }
        if !open_conflicts.is_empty() {
            outcomes.push("conflict");
        }
        if outcomes.is_empty() {
            outcomes.push("base");
        }
        let outcome = outcomes.join("+");
        let mut directions = Vec::new();
        if !to_db.is_empty() || moved || restored || created {
            directions.push(SyncDirection::FsToDb);
            let mut files = to_db.clone();
            if files.is_empty() && (moved || created || restored) {
                files = item.docs.keys().map(|d| key_of(d)).collect();
            }
            self.history(kind, &item.id, SyncDirection::FsToDb, trigger, &outcome, None, &files)?;
        }
        if !to_fs.is_empty() {
            directions.push(SyncDirection::DbToFs);
            self.history(kind, &item.id, SyncDirection::DbToFs, trigger, &outcome, None, &to_fs)?;
        }
        tx.commit().map_err(|e| db.err(e))?;
        let mut files = to_db;
        files.extend(to_fs);
        files.sort();
        files.dedup();
        self.completed(corr, kind, &item.id, &directions, &outcome, &files);
        Ok(Some(ItemOutcome {
            kind,
            id: item.id.clone(),
            directions,
            outcome,
            files,
            conflicts: open_conflicts,
            error: None,
            resolved: conflicts,
        }))
    }

    /// Adds the row of an item seen on disk for the first time, with an empty `doc_state`
    /// per document (absent on the database side, no base yet).
    fn insert_row(&self, tx: &Savepoint<'_>, item: &FsItem) -> Result<i64, SyncError> {
        let db = self.db;
        let kind = item.kind;
        tx.execute(
            "INSERT INTO items(kind, id, project, title, status, path) VALUES (?1, ?2, ?3, ?2, ?4, ?5)",
            params![
                kind.as_str(),
                item.id,
                self.config.project,
                Status::derive(kind, None, false, 0, 0).as_str(),
                item.path
            ],
        )
        .map_err(|e| db.err(e))?;
        let rowid = tx.last_insert_rowid();
        for doc in kind.docs() {
            tx.execute("INSERT INTO doc_state(item, doc, db_digest) VALUES (?1, ?2, '')", params![rowid, doc])
                .map_err(|e| db.err(e))?;
        }
        Ok(rowid)
    }

    /// Writes (or with `None` deletes) a file through the filesystem replica, compare-and-swap
    /// on what the scan saw.
    fn write_file(
        &mut self,
        kind: Kind,
        id: &str,
        key: &Key,
        text: Option<&str>,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<(), SyncError> {
        let r = match (text, expected) {
            (Some(t), _) => self.fs.write(key, &Content::Text(t.to_string()), expected, ctx).map(|_| ()),
            (None, Some(d)) => self.fs.delete(key, d, ctx),
            (None, None) => Ok(()),
        };
        r.map_err(|source| SyncError::File { kind, id: id.to_string(), source })
    }
}

/// Tasks done and tasks in all, from `tasks.md` as it ends up.
fn task_progress(final_docs: &BTreeMap<&str, Option<String>>) -> (i64, i64) {
    match final_docs.get("tasks.md").cloned().flatten() {
        Some(t) => {
            let p = count_tasks(&t);
            (p.completed as i64, p.total as i64)
        }
        None => (0, 0),
    }
}

/// The row's title and requirement count: a change's from its proposal and delta specs,
/// a spec's from its `spec.md` as it ends up.
fn title_and_requirements(item: &FsItem, final_docs: &BTreeMap<&str, Option<String>>) -> (String, i64) {
    match item.kind {
        Kind::Change => (
            final_docs
                .get("proposal.md")
                .cloned()
                .flatten()
                .map(|p| change_title(&p, &item.id))
                .unwrap_or_else(|| item.id.clone()),
            item.delta_requirements(),
        ),
        Kind::Spec => (
            item.id.clone(),
            final_docs
                .get("spec.md")
                .cloned()
                .flatten()
                .and_then(|s| parse_spec(&s).ok())
                .map(|s| s.requirements.len() as i64)
                .unwrap_or(0),
        ),
    }
}
