//! The engine's operation report and preview seen per row: which changes and specs a
//! sync created, moved, soft-deleted, updated or wrote out, in which directions,
//! through which files, and which documents it left in conflict.

use std::collections::BTreeMap;

use twinsync_core::{ActionKind, DriftClass, OperationReport, Outcome, Preview};

use super::{ItemOutcome, PlannedRow, SyncReport};
use crate::db::{Db, Kind, SyncDirection};
use crate::replica::item::{ItemKey, Part};

/// The folder of a row: where the database has it, else where a new one goes.
fn folder(db: &Db, project: &str, kind: Kind, id: &str) -> String {
    match db.item(project, kind, id) {
        Ok(Some(row)) => row.path,
        _ if kind == Kind::Spec => format!("specs/{id}"),
        _ => format!("changes/{id}"),
    }
}

/// The document's name within its row (`proposal.md`, `specs/auth/spec.md`).
fn doc_name(part: &Part) -> Option<String> {
    match part {
        Part::Doc(d) => Some((*d).to_string()),
        Part::Delta(rel) => Some(rel.clone()),
        Part::Location => None,
    }
}

/// Whether the item is the one that says a row exists: a change's `.location`, a spec's `spec.md`.
fn is_row_item(item: &ItemKey) -> bool {
    item.part == Part::Location || item.kind == Kind::Spec
}

/// What `op` did to each row, with `checked` rows looked at, under the policy named `policy`.
pub fn sync_report(op: &OperationReport, policy: &str, db: &Db, project: &str, checked: usize) -> SyncReport {
    let mut rows: BTreeMap<(Kind, String), Vec<(ItemKey, &twinsync_core::report::ItemResult)>> = BTreeMap::new();
    for r in &op.items {
        if let Some(item) = ItemKey::parse(r.key.as_str()) {
            rows.entry((item.kind, item.id.clone())).or_default().push((item, r));
        }
    }
    let mut failed_scan: BTreeMap<(Kind, String), String> = BTreeMap::new();
    for e in &op.item_errors {
        if let Some(item) = ItemKey::parse(&e.key) {
            failed_scan.entry((item.kind, item.id)).or_insert_with(|| e.error.clone());
        }
    }
    let mut items = Vec::new();
    for ((kind, id), results) in &rows {
        let path = folder(db, project, *kind, id);
        let mut words: Vec<&str> = Vec::new();
        let (mut to_db, mut to_fs) = (false, false);
        let mut files = Vec::new();
        let mut conflicts = Vec::new();
        let mut resolved = 0;
        let mut error = failed_scan.get(&(*kind, id.clone())).cloned();
        for (item, r) in results {
            if r.class.is_conflict() {
                resolved += 1;
            }
            if r.outcome == Outcome::Failed {
                error.get_or_insert_with(|| r.error.clone().unwrap_or_else(|| "failed".into()));
                continue;
            }
            let word = match (r.action, is_row_item(item), r.class) {
                (ActionKind::CopyToRight, true, DriftClass::AddedLeft) => "created",
                (ActionKind::CopyToRight, true, _) if item.part == Part::Location => "moved",
                (ActionKind::DeleteRight, true, _) => "deleted",
                (ActionKind::CopyToRight | ActionKind::DeleteRight, _, _) => "updated",
                (ActionKind::CopyToLeft | ActionKind::DeleteLeft, _, _) => "written",
                (ActionKind::Merge, _, _) => "merged",
                (ActionKind::Conflict, _, _) => {
                    conflicts.extend(doc_name(&item.part));
                    "conflict"
                }
                (ActionKind::Skip | ActionKind::UpdateBase, _, _) => continue,
            };
            words.push(word);
            to_db |= matches!(r.action, ActionKind::CopyToRight | ActionKind::DeleteRight | ActionKind::Merge);
            to_fs |= matches!(r.action, ActionKind::CopyToLeft | ActionKind::DeleteLeft | ActionKind::Merge);
            if let Some(doc) = doc_name(&item.part).filter(|_| r.action != ActionKind::Conflict) {
                files.push(if *kind == Kind::Spec { format!("specs/{id}/spec.md") } else { format!("{path}/{doc}") });
            }
        }
        if error.is_some() {
            words.push("failed");
        }
        // A created or merged row was not also "updated"; a merged one not also "written".
        let order = ["created", "deleted", "moved", "merged", "updated", "written", "conflict", "failed"];
        let has = |w: &str| words.contains(&w);
        let outcome: Vec<&str> = order
            .into_iter()
            .filter(|w| has(w))
            .filter(|w| !(*w == "updated" && (has("created") || has("merged") || has("deleted"))))
            .filter(|w| !(*w == "written" && has("merged")))
            .collect();
        if outcome.is_empty() {
            continue;
        }
        let mut directions = Vec::new();
        if to_db {
            directions.push(SyncDirection::FsToDb);
        }
        if to_fs {
            directions.push(SyncDirection::DbToFs);
        }
        files.sort();
        files.dedup();
        items.push(ItemOutcome {
            kind: *kind,
            id: id.clone(),
            directions,
            outcome: outcome.join("+"),
            files,
            conflicts,
            error,
            resolved,
        });
    }
    for ((kind, id), e) in failed_scan {
        if !rows.contains_key(&(kind, id.clone())) {
            items.push(ItemOutcome {
                kind,
                id,
                directions: vec![],
                outcome: "failed".into(),
                files: vec![],
                conflicts: vec![],
                error: Some(e),
                resolved: 0,
            });
        }
    }
    SyncReport {
        operation_id: op.operation_id.clone(),
        trigger: op.trigger.as_str().into(),
        policy: policy.into(),
        checked,
        failed: items.iter().filter(|i| i.error.is_some()).count(),
        conflicts: items.iter().map(|i| i.resolved).sum(),
        items,
        duration_ms: op.duration_ms,
    }
}

/// The rows a sync would change, from the engine's preview.
pub fn planned_rows(preview: &Preview, db: &Db, project: &str) -> Vec<PlannedRow> {
    let mut rows: BTreeMap<(Kind, String), PlannedRow> = BTreeMap::new();
    for a in preview.plan.actions.iter().filter(|a| !matches!(a.kind, ActionKind::Skip | ActionKind::UpdateBase)) {
        let Some(item) = ItemKey::parse(a.key.as_str()) else { continue };
        let row = rows.entry((item.kind, item.id.clone())).or_insert_with(|| PlannedRow {
            kind: item.kind,
            id: item.id.clone(),
            path: folder(db, project, item.kind, &item.id),
            row: "update".into(),
            docs: Vec::new(),
        });
        if is_row_item(&item) {
            let word = match (a.kind, a.class) {
                (_, DriftClass::AddedLeft | DriftClass::AddedRight) => Some("create"),
                (ActionKind::DeleteRight | ActionKind::DeleteLeft, _) => Some("soft-delete"),
                _ if item.part == Part::Location => Some("move"),
                _ => None,
            };
            if let Some(w) = word {
                row.row = w.into();
            }
        }
        if let Some(doc) = doc_name(&item.part) {
            row.docs.push((doc, format!("{:?}: {}", a.kind, a.reason)));
        }
    }
    rows.into_values().collect()
}
