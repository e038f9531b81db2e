//! OpenSpec folders: `list`, `show` and `validate` as the OpenSpec CLI's JSON documents
//! (JSON text, camelCase keys as that CLI writes them), and the folder's sync with its
//! database (`.twinsync/openspec.db`) as records.

use serde::Deserialize;
use twinsync::api;

use crate::error::Result;
use crate::functions::decode;

/// What an OpenSpec id names: a change or a main spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, uniffi::Enum)]
#[serde(rename_all = "lowercase")]
pub enum OpenspecKind {
    /// A change (`changes/<id>/`, or archived under `changes/archive/`).
    Change,
    /// A main spec (`specs/<id>/spec.md`).
    Spec,
}

impl OpenspecKind {
    /// The name the OpenSpec CLI's `--type` takes.
    fn as_str(self) -> &'static str {
        match self {
            OpenspecKind::Change => "change",
            OpenspecKind::Spec => "spec",
        }
    }
}

/// `openspec list --json` (with `specs`, `list --specs --json`) of the `openspec/` folder
/// found from `dir` upwards, as JSON text.
#[uniffi::export(default(specs = false))]
pub fn openspec_list(dir: String, specs: bool) -> Result<String> {
    Ok(api::openspec_list(&dir, specs)?.to_string())
}

/// `openspec show <id> --json` as JSON text; `kind` picks a change or a spec when both
/// share the id (default: whichever `id` names).
#[uniffi::export(default(kind = None))]
pub fn openspec_show(dir: String, id: String, kind: Option<OpenspecKind>) -> Result<String> {
    Ok(api::openspec_show(&dir, &id, kind.map(OpenspecKind::as_str))?.to_string())
}

/// `twinsync openspec status ID STATUS`: sets the lifecycle status (`proposing`,
/// `approved`, `assigned`, `in_progress`, `review`, `archived`) of a change (or, with
/// `kind`, a spec) in the database of the `openspec/` folder found from `dir` upwards;
/// returns the row without its documents, as JSON text.
#[uniffi::export(default(kind = None))]
pub fn openspec_set_status(dir: String, id: String, status: String, kind: Option<OpenspecKind>) -> Result<String> {
    Ok(api::openspec_set_status(&dir, &id, &status, kind.map(OpenspecKind::as_str))?.to_string())
}

/// `openspec validate --all --json` as JSON text, plus `"valid"`: whether every item
/// passed (with `strict`, warnings fail too).
#[uniffi::export(default(strict = false))]
pub fn openspec_validate(dir: String, strict: bool) -> Result<String> {
    Ok(api::openspec_validate(&dir, strict)?.to_string())
}

/// What an OpenSpec sync or preview should do; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct OpenspecSyncOptions {
    /// Only this change (default: every change and spec).
    #[uniffi(default = None)]
    pub change: Option<String>,
    /// `fs-wins` (default), `merge` or `manual`, as the CLI's `--policy` takes it.
    #[uniffi(default = None)]
    pub policy: Option<String>,
}

impl OpenspecSyncOptions {
    fn api(options: Option<OpenspecSyncOptions>, dry_run: bool) -> api::OpenspecSyncOptions {
        let o = options.unwrap_or_default();
        api::OpenspecSyncOptions { change: o.change, dry_run, policy: o.policy }
    }
}

/// What a sync did to one change or spec.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, uniffi::Record)]
pub struct OpenspecSyncItem {
    /// Change or spec.
    pub kind: OpenspecKind,
    /// Its id.
    pub id: String,
    /// Directions it was copied in: `fs->db` (files into the database), `db->fs`.
    pub directions: Vec<String>,
    /// `created`, `updated`, `merged`, `moved`, `deleted`, `restored`, `conflict` or
    /// `failed`, joined by `+` when several happened.
    pub outcome: String,
    /// Files (relative to `openspec/`) read into or written from the database.
    pub files: Vec<String>,
    /// Documents left in conflict (manual policy).
    pub conflicts: Vec<String>,
    /// The error, when it failed.
    pub error: Option<String>,
    /// Conflicts found on its documents, resolved by policy or left open.
    pub resolved: u64,
}

/// What a sync did over the whole folder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, uniffi::Record)]
pub struct OpenspecSyncReport {
    /// What set it off (`manual`).
    pub trigger: String,
    /// The conflict policy (`fs-wins`, `merge`, `manual`).
    pub policy: String,
    /// Changes and specs looked at.
    pub checked: u64,
    /// Those that changed (or failed), in order; empty when everything was in step.
    pub items: Vec<OpenspecSyncItem>,
    /// Conflicts found, resolved by policy or left open.
    pub conflicts: u64,
    /// Items that failed.
    pub failed: u64,
    /// Wall time in milliseconds.
    pub duration_ms: i64,
}

/// The answer of [`openspec_sync`]: `openspec sync --json` without its `mode`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, uniffi::Record)]
pub struct OpenspecSync {
    /// The database file used.
    pub db: String,
    /// What the sync did.
    pub report: OpenspecSyncReport,
}

/// One document a sync would change, and how.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpenspecPlannedDoc {
    /// The document (`proposal.md`, `tasks.md`, `spec.md`, ...).
    pub doc: String,
    /// The planned action and why (`CopyToRight: left changed`).
    pub action: String,
}

/// One change or spec a sync would change.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpenspecPlannedRow {
    /// Change or spec.
    pub kind: OpenspecKind,
    /// Its id.
    pub id: String,
    /// Its folder under `openspec/`.
    pub path: String,
    /// What happens to its database row: `create`, `update`, `move`, `restore` or `soft-delete`.
    pub row: String,
    /// The documents that differ.
    pub docs: Vec<OpenspecPlannedDoc>,
}

/// The answer of [`openspec_preview`]: what a sync would do. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OpenspecPreview {
    /// The database file a sync would use.
    pub db: String,
    /// The rows a sync would change, in folder order.
    pub rows: Vec<OpenspecPlannedRow>,
}

/// `{"mode": "preview", "db", "rows"}` as the API returns it; documents are `[doc, action]` pairs.
#[derive(Deserialize)]
struct PreviewJson {
    db: String,
    rows: Vec<PlannedRowJson>,
}

#[derive(Deserialize)]
struct PlannedRowJson {
    kind: OpenspecKind,
    id: String,
    path: String,
    row: String,
    docs: Vec<(String, String)>,
}

/// Syncs the `openspec/` folder found from `dir` upwards with its database
/// (`.twinsync/openspec.db` beside `openspec/`, created on first use), as
/// `twinsync openspec sync --json`.
#[uniffi::export(default(options = None))]
pub fn openspec_sync(dir: String, options: Option<OpenspecSyncOptions>) -> Result<OpenspecSync> {
    decode("openspec sync", api::openspec_sync(&dir, &OpenspecSyncOptions::api(options, false))?)
}

/// A dry run of [`openspec_sync`] (`openspecSync` with `dryRun` in Node and Python): the
/// rows a sync would change and why. Changes no file; the database is created if missing.
#[uniffi::export(default(options = None))]
pub fn openspec_preview(dir: String, options: Option<OpenspecSyncOptions>) -> Result<OpenspecPreview> {
    let p: PreviewJson =
        decode("openspec preview", api::openspec_sync(&dir, &OpenspecSyncOptions::api(options, true))?)?;
    Ok(OpenspecPreview {
        db: p.db,
        rows: p
            .rows
            .into_iter()
            .map(|r| OpenspecPlannedRow {
                kind: r.kind,
                id: r.id,
                path: r.path,
                row: r.row,
                docs: r.docs.into_iter().map(|(doc, action)| OpenspecPlannedDoc { doc, action }).collect(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TwinsyncError;

    /// A folder with one change and one spec, as `openspec init` and a proposal leave it.
    fn workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let change = dir.path().join("openspec/changes/add-login");
        std::fs::create_dir_all(&change).unwrap();
        std::fs::create_dir_all(dir.path().join("openspec/specs/auth")).unwrap();
        std::fs::write(
            change.join("proposal.md"),
            "# Add login\n\n## Why\nAccounts.\n\n## What Changes\n- **auth:** login\n",
        )
        .unwrap();
        std::fs::write(change.join("tasks.md"), "## 1. Build\n- [x] 1.1 Form\n- [ ] 1.2 Session\n").unwrap();
        std::fs::write(
            dir.path().join("openspec/specs/auth/spec.md"),
            "# auth\n\n## Purpose\nSign in.\n\n## Requirements\n### Requirement: Login\nThe system SHALL sign users in.\n\n\
             #### Scenario: Good password\n- **WHEN** it matches\n- **THEN** signed in\n",
        )
        .unwrap();
        dir
    }

    #[test]
    fn preview_and_sync_answers_read_into_records() {
        let ws = workspace();
        let dir = ws.path().display().to_string();
        let p = openspec_preview(dir.clone(), None).unwrap();
        let rows: Vec<_> = p.rows.iter().map(|r| (r.kind, r.id.as_str(), r.row.as_str())).collect();
        assert_eq!(rows, [(OpenspecKind::Change, "add-login", "create"), (OpenspecKind::Spec, "auth", "create")]);
        let docs: Vec<&str> = p.rows[0].docs.iter().map(|d| d.doc.as_str()).collect();
        assert_eq!(docs, ["proposal.md", "tasks.md"]);

        let s = openspec_sync(dir.clone(), Some(OpenspecSyncOptions { change: None, policy: Some("merge".into()) }))
            .unwrap();
        assert_eq!((s.report.policy.as_str(), s.report.checked, s.report.items.len()), ("merge", 2, 2));
        assert_eq!(s.report.items[0].directions, ["fs->db"]);
        assert!(openspec_sync(dir, None).unwrap().report.items.is_empty());
    }

    #[test]
    fn errors_keep_their_case_and_name_the_item() {
        let ws = workspace();
        let dir = ws.path().display().to_string();
        let e = openspec_show(dir.clone(), "add-login".into(), Some(OpenspecKind::Spec)).unwrap_err();
        assert!(matches!(&e, TwinsyncError::NotFound { reason } if reason.contains("add-login")), "{e:?}");
        let bad = OpenspecSyncOptions { change: None, policy: Some("yolo".into()) };
        let e = openspec_sync(dir, Some(bad)).unwrap_err();
        assert!(matches!(&e, TwinsyncError::InvalidInput { reason } if reason.contains("yolo")), "{e:?}");
        let empty = tempfile::tempdir().unwrap();
        let e = openspec_list(empty.path().display().to_string(), false).unwrap_err();
        assert!(matches!(&e, TwinsyncError::NotFound { reason } if reason.contains("no openspec/ folder")), "{e:?}");
    }
}

/// What [`openspec_query`] selects; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct OpenspecQueryOptions {
    /// Only this lifecycle status (`proposing`, `approved`, `assigned`, `in_progress`, `review`, `archived`).
    #[uniffi(default = None)]
    pub status: Option<String>,
    /// Full-text search of titles and documents (every word must occur).
    #[uniffi(default = None)]
    pub search: Option<String>,
    /// `id` (default), `progress` or `age`.
    #[uniffi(default = None)]
    pub sort: Option<String>,
    /// Only changes or only specs.
    #[uniffi(default = None)]
    pub kind: Option<OpenspecKind>,
    /// Also rows whose folder was removed from disk.
    #[uniffi(default = false)]
    pub deleted: bool,
    /// At most this many rows.
    #[uniffi(default = None)]
    pub limit: Option<u32>,
}

/// The work queue in the OpenSpec database of the folder found from `dir` upwards, as
/// `twinsync openspec query --json` (JSON text, camelCase as the OpenSpec CLI writes):
/// `{"items": [row], "count"}`. It reads what the last sync stored.
#[uniffi::export(default(options = None))]
pub fn openspec_query(dir: String, options: Option<OpenspecQueryOptions>) -> Result<String> {
    let o = options.unwrap_or_default();
    let opts = api::OpenspecQueryOptions {
        status: o.status,
        search: o.search,
        sort: o.sort,
        kind: o.kind.map(|k| k.as_str().to_string()),
        deleted: o.deleted,
        limit: o.limit.map(|l| l as usize),
    };
    Ok(api::openspec_query(&dir, &opts)?.to_string())
}

/// Sets document `doc` (`proposal.md`, `design.md`, `tasks.md`; `spec.md` for specs) of
/// change `id` (or spec, with `kind`) in the database to `text` (`null` removes it) and
/// syncs that row to disk at once: what that sync did. `policy` (`fs-wins` default,
/// `merge`, `manual`) says who wins when the file also changed since the last sync.
#[uniffi::export(default(kind = None, policy = None))]
pub fn openspec_edit(
    dir: String,
    id: String,
    doc: String,
    text: Option<String>,
    kind: Option<OpenspecKind>,
    policy: Option<String>,
) -> Result<OpenspecSyncReport> {
    let v = api::openspec_edit(&dir, &id, &doc, text.as_deref(), kind.map(OpenspecKind::as_str), policy.as_deref())?;
    decode("openspec edit", v)
}

/// The syncs of the folder's `openspec` pair (every `openspecSync` and `openspecEdit`), newest first.
#[uniffi::export(default(limit = 20))]
pub fn openspec_history(dir: String, limit: u32) -> Result<Vec<crate::types::OperationSummary>> {
    crate::project::operations(api::openspec_history(&dir, limit as usize)?)
}
