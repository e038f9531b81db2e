//! The OpenSpec database side for the bindings: the work queue (`twinsync openspec query
//! --json`), editing a document (`openspec edit --json`) and the history of the folder's
//! `openspec` pair (its syncs, as `twinsync history --pair` lists them). Like the other
//! `openspec_*` calls, each takes a folder and finds `openspec/` from it upwards.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use twinsync_openspec::db::{Kind, Query, QuerySort, Status};
use twinsync_openspec::ItemRow;

use super::{invalid, to_json, workspace_error};
use crate::error::Result;
use crate::project::Project;

/// The folder's project and its `openspec` pair (an implicit one when none is configured).
fn openspec_pair(dir: &str) -> Result<(Project, String)> {
    let root = twinsync_openspec::find_root(Path::new(dir)).map_err(workspace_error)?;
    Project::for_openspec(&root, None, None)
}

pub(crate) fn kind(k: Option<&str>) -> Result<Option<Kind>> {
    match k {
        None => Ok(None),
        Some("change") => Ok(Some(Kind::Change)),
        Some("spec") => Ok(Some(Kind::Spec)),
        Some(other) => Err(invalid(format!("type {other:?}: expected change or spec"))),
    }
}

/// A row of the work queue as `openspec query --json` prints it (camelCase, as the
/// OpenSpec CLI writes its documents).
pub fn openspec_row_json(r: &ItemRow) -> Value {
    json!({
        "type": r.kind, "id": r.id, "project": r.project, "title": r.title, "status": r.status,
        "path": r.path, "archivedOn": r.archived_on, "completedTasks": r.tasks_done,
        "totalTasks": r.tasks_total, "progress": r.progress(), "requirements": r.requirements,
        "lastSynced": r.last_synced.map(|t| t.to_rfc3339()),
        "fsModified": r.fs_modified.map(|t| t.to_rfc3339()),
        "dbModified": r.db_modified.map(|t| t.to_rfc3339()),
        "syncError": r.sync_error, "deleted": r.deleted,
    })
}

/// What [`openspec_query`] selects; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpenspecQueryOptions {
    /// Only this lifecycle status (`proposing`, `approved`, `assigned`, `in_progress`, `review`, `archived`).
    pub status: Option<String>,
    /// Full-text search of titles and documents (every word must occur).
    pub search: Option<String>,
    /// `id` (default), `progress` or `age`.
    pub sort: Option<String>,
    /// `change` or `spec` only.
    pub kind: Option<String>,
    /// Also rows whose folder was removed from disk.
    pub deleted: bool,
    /// At most this many rows.
    pub limit: Option<usize>,
}

/// The work queue in the folder's OpenSpec database, as `twinsync openspec query --json`:
/// `{"items": [row], "count"}`. It reads what the last sync stored: sync first to see
/// what is on disk now.
pub fn openspec_query(dir: &str, opts: &OpenspecQueryOptions) -> Result<Value> {
    let status = opts
        .status
        .as_deref()
        .map(|s| s.parse::<Status>().map_err(|e: twinsync_openspec::db::UnknownStatus| invalid(e.to_string())))
        .transpose()?;
    let sort = match opts.sort.as_deref() {
        None | Some("id") => QuerySort::Id,
        Some("progress") => QuerySort::Progress,
        Some("age") => QuerySort::Age,
        Some(other) => return Err(invalid(format!("sort {other:?}: expected id, progress or age"))),
    };
    let q = Query {
        project: None,
        kind: kind(opts.kind.as_deref())?,
        status,
        search: opts.search.clone(),
        sort,
        include_deleted: opts.deleted,
        limit: opts.limit,
    };
    let (project, pair) = openspec_pair(dir)?;
    let items: Vec<Value> = project.openspec_rows(&pair, &q)?.iter().map(openspec_row_json).collect();
    Ok(json!({ "count": items.len(), "items": items }))
}

/// Sets document `doc` (`proposal.md`, `design.md`, `tasks.md`; `spec.md` for specs) of
/// change `id` (or spec, with `kind` `"spec"`) in the database to `text` (`None` removes
/// it) and syncs that row at once, so the edit reaches its file now: the sync report of
/// `twinsync openspec edit --json`. `policy` (`fs-wins` default, `merge`, `manual`) says
/// who wins when the file also changed since the last sync.
pub fn openspec_edit(
    dir: &str,
    id: &str,
    doc: &str,
    text: Option<&str>,
    kind_name: Option<&str>,
    policy: Option<&str>,
) -> Result<Value> {
    let kind = kind(kind_name)?.unwrap_or(Kind::Change);
    let policy = policy
        .map(|p| p.parse().map_err(|e: twinsync_openspec::sync::UnknownPolicy| invalid(format!("policy: {e}"))))
        .transpose()?;
    let (mut project, pair) = openspec_pair(dir)?;
    to_json(&project.openspec_edit(&pair, kind, id, doc, text, policy)?)
}

/// The syncs of the folder's `openspec` pair (every `openspecSync` and `openspecEdit`),
/// newest first: `{"operations": [summary]}` as `twinsync history --pair openspec --json`.
pub fn openspec_history(dir: &str, limit: usize) -> Result<Value> {
    let (project, pair) = openspec_pair(dir)?;
    super::pairs::history_of_any(&project, &pair, limit)
}
