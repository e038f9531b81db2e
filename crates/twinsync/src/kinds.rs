//! What differs between kinds of pair, until every kind syncs through the engine:
//! a `folders` pair's status comes from the engine; an `openspec` pair's status and
//! sync come from twinsync-openspec's syncer (its rows in `.twinsync/openspec.db`), its
//! syncs recorded as operations of the pair in the project's store so that history and
//! events cover it. (`design` pairs run on the engine: see `design_pair`.)

use std::path::{Path, PathBuf};

use twinsync_core::event::Event;
use twinsync_core::report::ReportCounts;
use twinsync_core::{Digest, Directions, Drift, DriftClass, OperationReport, OperationStatus, Policy, Side, Strategy};
use twinsync_openspec::sync::{SyncAnswer, SyncPolicy};

use crate::config::PairConfig;
use crate::error::{Error, Result};
use crate::project::{PairStatus, Project, StatusItem, SyncRequest};
use crate::PairKind;

/// A `folders` pair's status from its drift.
pub(crate) fn folders_status(name: &str, drift: &Drift) -> PairStatus {
    PairStatus {
        pair: name.to_string(),
        kind: PairKind::Folders,
        items: drift
            .drifted()
            .map(|i| StatusItem {
                key: i.key.to_string(),
                class: i.class.as_str().to_string(),
                conflict: i.class.is_conflict(),
            })
            .collect(),
        in_sync: drift.counts.get(DriftClass::InSync),
        conflicts: drift.counts.conflicts(),
        failed: drift.failed.clone(),
    }
}

fn openspec_root(dir: &Path, name: &str, pair: &PairConfig) -> Result<PathBuf> {
    twinsync_openspec::find_root(&dir.join(&pair.left)).map_err(|e| Error::Unsupported {
        pair: name.to_string(),
        kind: "openspec".into(),
        message: e.to_string(),
    })
}

/// The pair's policy as the OpenSpec syncer knows it: the files (left) win unless the
/// pair merges or leaves conflicts to a person.
fn openspec_policy(name: &str, policy: &Policy) -> Result<SyncPolicy> {
    match policy.strategy {
        Strategy::Manual => Ok(SyncPolicy::Manual),
        Strategy::Merge { .. } => Ok(SyncPolicy::Merge),
        Strategy::Prefer { side: Side::Left } => Ok(SyncPolicy::FsWins),
        _ => Err(Error::Unsupported {
            pair: name.to_string(),
            kind: "openspec".into(),
            message: format!(
                "policy {policy} is not one OpenSpec sync has; use prefer-left (files win), merge or manual"
            ),
        }),
    }
}

fn openspec_error(name: &str, e: impl std::fmt::Display) -> Error {
    Error::Unsupported { pair: name.to_string(), kind: "openspec".into(), message: e.to_string() }
}

/// An `openspec` pair's status: the rows a sync would create, update, move or delete.
pub(crate) fn openspec_status(dir: &Path, name: &str, pair: &PairConfig) -> Result<PairStatus> {
    let root = openspec_root(dir, name, pair)?;
    let req = twinsync_openspec::SyncRequest {
        dry_run: true,
        policy: openspec_policy(name, &pair.policy).unwrap_or_default(),
        ..Default::default()
    };
    let rows = match twinsync_openspec::sync_folder(&root, &req).map_err(|e| openspec_error(name, e))? {
        SyncAnswer::Preview { rows, .. } => rows,
        SyncAnswer::Synced { .. } => Vec::new(),
    };
    let items: Vec<StatusItem> = rows
        .iter()
        .map(|r| StatusItem { key: r.path.clone(), class: format!("row_{}", r.row.replace('-', "_")), conflict: false })
        .collect();
    Ok(PairStatus { pair: name.to_string(), kind: PairKind::Openspec, items, in_sync: 0, conflicts: 0, failed: vec![] })
}

/// Syncs an `openspec` pair and records it as an operation of the pair, with its events.
pub(crate) fn openspec_sync(
    p: &mut Project,
    name: &str,
    pair: &PairConfig,
    req: &SyncRequest,
) -> Result<OperationReport> {
    let root = openspec_root(p.dir(), name, pair)?;
    let policy = req.policy.unwrap_or(pair.policy);
    let sreq = twinsync_openspec::SyncRequest { policy: openspec_policy(name, &policy)?, ..Default::default() };
    let started = p.now();
    let report = match twinsync_openspec::sync_folder(&root, &sreq).map_err(|e| openspec_error(name, e))? {
        SyncAnswer::Synced { report, .. } => report,
        SyncAnswer::Preview { .. } => unreachable!("not a dry run"),
    };
    let finished = p.now();
    let id_source = format!("openspec\0{name}\0{}\0{}", started.millis(), p.actor());
    let failed = report.failed;
    let applied = report.items.len().saturating_sub(failed);
    let op = OperationReport {
        operation_id: Digest::of_bytes(id_source.as_bytes()).to_hex(),
        operation_hash: Digest::of_bytes(id_source.as_bytes()),
        scope: name.to_string(),
        status: match (failed, applied) {
            (0, _) => OperationStatus::Completed,
            (_, 0) => OperationStatus::Failed,
            _ => OperationStatus::Partial,
        },
        trigger: req.trigger,
        actor: p.actor().to_string(),
        policy,
        directions: Directions::all(pair.direction),
        started_at: started,
        finished_at: finished,
        duration_ms: report.duration_ms,
        counts: ReportCounts {
            planned: report.checked,
            applied,
            skipped: report.checked.saturating_sub(report.items.len()),
            conflicts: report.conflicts,
            failed,
        },
        items: vec![],
        recovered: vec![],
        conflicts: vec![],
        item_errors: report
            .items
            .iter()
            .filter_map(|i| {
                i.error.as_ref().map(|e| twinsync_core::ItemError {
                    key: i.id.clone(),
                    side: Side::Left,
                    error: e.clone(),
                })
            })
            .collect(),
        reversible_until: None,
        undone_at: None,
        replayed: false,
        audit_id: None,
    };
    let events = [
        Event::sync_started(started, name, &op.operation_id, req.trigger.as_str(), report.checked),
        Event::sync_finished(finished, &op),
    ];
    p.store().put_operation(&op, &events)?;
    Ok(op)
}
