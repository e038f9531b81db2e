//! The OpenSpec shortcuts over an `openspec` pair: `twinsync openspec
//! sync|edit|query|status|watch`, the MCP `openspec.*` tools and the bindings'
//! `openspec_sync` all come here, and every sync they start is the pair's sync through
//! the engine (one history, one undo stack, one state in the project's store).
//!
//! They act on the project's `openspec` pair for the folder holding `openspec/`. When
//! the folder is in no project, or no pair names it, or `--db`/`--project` name another
//! database, they act on an implicit pair: kept in memory only, with its state in the
//! store of the project (or, outside any project, of `.twinsync/state.db` beside
//! `openspec/`), named `openspec` (`openspec-<hash>` for another database).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use twinsync_core::report::{ItemResult, ReportCounts};
use twinsync_core::store::ItemCommit;
use twinsync_core::{
    ActionKind, Content, Digest, Directions, DriftClass, HashRules, Key, OperationReport, OperationStatus, Outcome,
    Policy, Side, Strategy, Timestamp, Trigger,
};
use twinsync_openspec::db::{ItemRow, Kind, Query, Status, SyncDirection};
use twinsync_openspec::replica::item::{ItemKey, Part};
use twinsync_openspec::sync::{
    default_project, planned_rows, sync_report, SyncAnswer, SyncPolicy, SyncReport, DEFAULT_DB,
};
use twinsync_openspec::{Db, DbError};

use crate::config::{Config, PairConfig, PairKind};
use crate::error::{Error, Result};
use crate::project::{derive_project_id, Project, SyncRequest};

/// Whether `dir` holds an `openspec/` folder the shortcuts synced into its default
/// database: a project even without a config (see `Project::find`).
pub(crate) fn has_openspec_state(dir: &Path) -> bool {
    dir.join(DEFAULT_DB).is_file() && dir.join("openspec").is_dir()
}

/// The OpenSpec database a shortcut named with `--db` or `--project`.
#[derive(Debug, Clone)]
pub(crate) struct OpenspecDb {
    path: PathBuf,
    project: String,
}

/// Where an `openspec` pair's database is: an SQLite file, or a PostgreSQL server
/// (the pair's right side `postgres://...`), whose `openspec` schema holds the tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OpenspecDbAt {
    /// An SQLite file.
    File(PathBuf),
    /// A PostgreSQL URL, as configured (its password is never shown).
    Postgres(String),
}

/// Where an `openspec` pair's sides are.
pub(crate) struct OpenspecSides {
    /// The folder holding `openspec/`.
    pub(crate) root: PathBuf,
    /// The database.
    pub(crate) db: OpenspecDbAt,
    /// The project name its rows are stored under.
    pub(crate) project: String,
}

impl OpenspecSides {
    /// Opens the database (creating its tables when new).
    pub(crate) fn open(&self) -> Result<Db> {
        match &self.db {
            OpenspecDbAt::File(path) => Db::open(path).map_err(db_error),
            OpenspecDbAt::Postgres(url) => {
                let conn = twinsync_postgres::PgSql::open(url, twinsync_openspec::db::PG_SCHEMA)
                    .map_err(|message| Error::Store { url: crate::stores::redact(url), message })?;
                Db::with_conn(Box::new(conn)).map_err(db_error)
            }
        }
    }

    /// Whether the database may hold rows already: a file that exists, or any server.
    pub(crate) fn exists(&self) -> bool {
        match &self.db {
            OpenspecDbAt::File(path) => path.is_file(),
            OpenspecDbAt::Postgres(_) => true,
        }
    }

    /// The database as answers name it: the file, or the server without its password.
    pub(crate) fn label(&self) -> String {
        match &self.db {
            OpenspecDbAt::File(path) => path.display().to_string(),
            OpenspecDbAt::Postgres(url) => crate::stores::redact(url),
        }
    }
}

/// What an OpenSpec sync shortcut asks for.
#[derive(Debug, Clone, Default)]
pub struct OpenspecSync {
    /// Only this change (every change and spec when `None`).
    pub change: Option<String>,
    /// Plan only: say which rows would change, change nothing.
    pub dry_run: bool,
    /// The conflict policy (the pair's own when `None`).
    pub policy: Option<SyncPolicy>,
    /// What set it off.
    pub trigger: Trigger,
}

/// The database an `openspec` pair's right side names other than `db`: a
/// `postgres://` (or `postgresql://`) URL, or the path of a `sqlite:` URL.
pub(crate) fn openspec_db_url(right: &str) -> Option<&str> {
    if right.starts_with("postgres://") || right.starts_with("postgresql://") {
        return Some(right);
    }
    right.strip_prefix("sqlite:").filter(|p| !p.is_empty())
}

/// A database failure in the facade's terms: a missing row is not found, an unknown
/// document bad input, anything else the database's.
pub(crate) fn db_error(e: DbError) -> Error {
    match e {
        DbError::NotFound { .. } => Error::Core(twinsync_core::Error::NotFound(e.to_string())),
        DbError::UnknownDocument { .. } => Error::Core(twinsync_core::Error::InvalidInput(e.to_string())),
        DbError::Io { path, source } => Error::Io { path, source },
        e => Error::Store { url: "openspec database".into(), message: e.to_string() },
    }
}

/// Store namespace of the markers of migrations that ran.
const MIGRATIONS: &str = "migrations";

/// One row of an old `sync_history` as an operation of the pair: recorded, not undoable.
fn legacy_operation(pair: &str, actor: &str, h: &twinsync_openspec::db::HistoryRow) -> OperationReport {
    let id = format!("openspec-legacy-{pair}-{}", h.seq);
    let trigger: Trigger = serde_json::from_value(serde_json::Value::String(h.trigger.clone())).unwrap_or_default();
    let action = match h.direction {
        SyncDirection::FsToDb => ActionKind::CopyToRight,
        SyncDirection::DbToFs => ActionKind::CopyToLeft,
    };
    let items: Vec<ItemResult> = h
        .files_changed
        .iter()
        .filter_map(|f| Key::new(f).ok())
        .map(|key| ItemResult {
            key,
            class: DriftClass::InSync,
            action,
            outcome: if h.success { Outcome::Applied } else { Outcome::Failed },
            left: None,
            right: None,
            error: h.error.clone(),
            note: Some(format!("{} {} {} (before the engine)", h.kind, h.item_id, h.outcome)),
            moved: None,
        })
        .collect();
    let n = items.len();
    OperationReport {
        operation_id: id.clone(),
        operation_hash: Digest::of_bytes(id.as_bytes()),
        scope: pair.to_string(),
        status: if h.success { OperationStatus::Completed } else { OperationStatus::Failed },
        trigger,
        actor: actor.to_string(),
        policy: SyncPolicy::FsWins.core(),
        directions: Directions::default(),
        started_at: h.at,
        finished_at: h.at,
        duration_ms: 0,
        counts: ReportCounts {
            planned: n,
            applied: if h.success { n } else { 0 },
            skipped: 0,
            conflicts: 0,
            failed: if h.success { 0 } else { n.max(1) },
        },
        items,
        recovered: vec![],
        conflicts: vec![],
        item_errors: vec![],
        reversible_until: None,
        undone_at: None,
        replayed: false,
        audit_id: None,
    }
}

/// The old last-synced texts as base commits of the pair's items: each document, and
/// the folder of each change that has one.
fn legacy_base(pair: &str, bases: &[twinsync_openspec::db::LegacyBase], at: Timestamp) -> Vec<ItemCommit> {
    let rules = HashRules::default();
    let mut texts: BTreeMap<Key, String> = BTreeMap::new();
    for (kind, id, folder, doc, text) in bases {
        let Some(part) = kind.docs().iter().find(|d| *d == doc).map(|d| Part::Doc(d)) else { continue };
        texts.insert(ItemKey::key(*kind, id, &part), text.clone());
        if *kind == Kind::Change {
            texts.insert(ItemKey::key(*kind, id, &Part::Location), folder.clone());
        }
    }
    texts
        .into_iter()
        .map(|(key, text)| {
            let content = Content::Text(text);
            let digest = rules.digest(&content).expect("text always digests");
            crate::legacy::base_commit(pair, &key, digest, vec![(digest, content)], "openspec-migration", at)
        })
        .collect()
}

/// The name a policy has in OpenSpec's terms.
fn policy_name(p: &Policy) -> String {
    match p.strategy {
        Strategy::Prefer { side: Side::Left } => SyncPolicy::FsWins.as_str().into(),
        Strategy::Merge { .. } => SyncPolicy::Merge.as_str().into(),
        Strategy::Manual => SyncPolicy::Manual.as_str().into(),
        _ => p.to_string(),
    }
}

/// The key prefix of a row's items.
fn row_prefix(kind: Kind, id: &str) -> String {
    match kind {
        Kind::Change => format!("changes/{id}/"),
        Kind::Spec => format!("specs/{id}/"),
    }
}

impl Project {
    /// The project and the `openspec` pair the OpenSpec shortcuts act on for `root`, the
    /// folder holding `openspec/`; `db` and `rows_project` name another database file and
    /// project name for its rows than the defaults (`.twinsync/openspec.db`, the folder's name).
    pub fn for_openspec(root: &Path, db: Option<&Path>, rows_project: Option<&str>) -> Result<(Project, String)> {
        let root = root.canonicalize().map_err(|e| Error::io(root, e))?;
        let mut project = match Project::find(&root) {
            Ok(dir) => Project::open(&dir)?,
            Err(Error::NotAProject { .. }) => {
                let mut config = Config::empty();
                config.store.project = Some(derive_project_id(&root));
                Project::with_config(&root, config)?
            }
            Err(e) => return Err(e),
        };
        let name = project.openspec_pair_for(&root, db, rows_project)?;
        Ok((project, name))
    }

    /// The `openspec` pair of this project for `root`, the folder holding `openspec/`
    /// (at or under the project folder): the configured one, else an implicit one added
    /// for this process (see the module docs), with `db` and `rows_project` as in
    /// [`Project::for_openspec`].
    pub fn openspec_pair_for(&mut self, root: &Path, db: Option<&Path>, rows_project: Option<&str>) -> Result<String> {
        let root = root.canonicalize().map_err(|e| Error::io(root, e))?;
        if !root.join("openspec").is_dir() {
            return Err(Error::Core(twinsync_core::Error::NotFound(format!(
                "{} holds no openspec/ folder",
                root.display()
            ))));
        }
        let custom = db.is_some() || rows_project.is_some();
        let dir = self.dir().to_path_buf();
        if !custom {
            let same = |p: &PairConfig| {
                p.kind == PairKind::Openspec
                    && twinsync_openspec::find_root(&dir.join(&p.left))
                        .ok()
                        .and_then(|r| r.canonicalize().ok())
                        .is_some_and(|r| r == root)
            };
            if let Some(name) = self.config().pairs.iter().find(|(_, p)| same(p)).map(|(n, _)| n.clone()) {
                self.openspec_migrate(&name)?;
                return Ok(name);
            }
        }
        let left = match root.strip_prefix(dir.canonicalize().unwrap_or(dir)) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
            Ok(rel) => rel.to_string_lossy().into_owned(),
            Err(_) => root.to_string_lossy().into_owned(),
        };
        let db =
            db.map(
                |p| if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(p) },
            );
        let rows_project = rows_project.map(str::to_string);
        let base = if custom {
            let tag = format!(
                "{}\0{}\0{}",
                left,
                db.as_deref().unwrap_or(Path::new("")).display(),
                rows_project.as_deref().unwrap_or("")
            );
            format!("openspec-{}", &Digest::of_bytes(tag.as_bytes()).to_hex()[..8])
        } else {
            "openspec".to_string()
        };
        let mut name = base.clone();
        let mut n = 1;
        while self.config().pairs.contains_key(&name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        let mut pair = PairConfig::new(PairKind::Openspec, &left, "db");
        pair.policy = SyncPolicy::FsWins.core();
        self.insert_pair_in_memory(&name, pair);
        if custom {
            let path = db.unwrap_or_else(|| root.join(DEFAULT_DB));
            let rows_project = rows_project.unwrap_or_else(|| default_project(&root));
            self.openspec_dbs.insert(name.clone(), OpenspecDb { path, project: rows_project });
        }
        self.openspec_migrate(&name)?;
        Ok(name)
    }

    /// Where `openspec` pair `name`'s sides are.
    pub(crate) fn openspec_db_side(&self, name: &str) -> Result<OpenspecSides> {
        let pair = self.pair(name)?;
        let root = twinsync_openspec::find_root(&self.dir().join(&pair.left)).map_err(|e| Error::Unsupported {
            pair: name.to_string(),
            kind: "openspec".into(),
            message: e.to_string(),
        })?;
        if let Some(o) = self.openspec_dbs.get(name) {
            return Ok(OpenspecSides { root, db: OpenspecDbAt::File(o.path.clone()), project: o.project.clone() });
        }
        Ok(match openspec_db_url(&pair.right) {
            // A shared server holds many repositories' rows: they go under the project's
            // id (unique per project, set by init), not the folder's name.
            Some(url) if url.starts_with("postgres") => OpenspecSides {
                db: OpenspecDbAt::Postgres(url.to_string()),
                project: self.config().store.project.clone().unwrap_or_else(|| default_project(&root)),
                root,
            },
            Some(path) => {
                let path = Path::new(path.strip_prefix("//").unwrap_or(path));
                let path = if path.is_absolute() { path.to_path_buf() } else { self.dir().join(path) };
                OpenspecSides { db: OpenspecDbAt::File(path), project: default_project(&root), root }
            }
            None => {
                OpenspecSides { db: OpenspecDbAt::File(root.join(DEFAULT_DB)), project: default_project(&root), root }
            }
        })
    }

    /// The OpenSpec database of `openspec` pair `name`, and the project its rows are under.
    pub fn openspec_db(&self, name: &str) -> Result<(Db, String)> {
        let side = self.openspec_db_side(name)?;
        Ok((side.open()?, side.project))
    }

    /// Syncs `openspec` pair `name` (or previews it), answering per row.
    pub fn openspec_sync(&mut self, name: &str, req: &OpenspecSync) -> Result<SyncAnswer> {
        let side = self.openspec_db_side(name)?;
        let db = side.open()?;
        let rows = side.project.clone();
        let only: Vec<String> = req.change.iter().map(|c| row_prefix(Kind::Change, c)).collect();
        if let Some(c) = &req.change {
            let changes = side.root.join("openspec/changes");
            let archived = std::fs::read_dir(changes.join("archive"))
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .any(|d| d == *c || twinsync_openspec::ArchiveName::parse(&d).is_some_and(|a| a.id == *c));
            let on_disk = changes.join(c).is_dir() || archived;
            if !on_disk && db.item(&rows, Kind::Change, c).map_err(db_error)?.is_none() {
                return Err(Error::Core(twinsync_core::Error::NotFound(format!(
                    "no change {c:?} on disk or in the openspec database"
                ))));
            }
        }
        let policy = req.policy.map(SyncPolicy::core);
        let shown = policy_name(&policy.unwrap_or(self.pair(name)?.policy));
        let sreq = SyncRequest { policy, trigger: req.trigger, only, ..SyncRequest::default() };
        let db_name = side.label();
        if req.dry_run {
            let preview = self.preview_of(name, &sreq)?;
            return Ok(SyncAnswer::Preview { db: db_name, rows: planned_rows(&preview, &db, &rows) });
        }
        let op = self.sync_pair(name, &sreq)?;
        let checked = if req.change.is_some() {
            1
        } else {
            db.query(&Query { project: Some(rows.clone()), ..Query::default() }).map_err(db_error)?.len()
        };
        let report = sync_report(&op, &shown, &db, &rows, checked);
        Ok(SyncAnswer::Synced { db: db_name, report })
    }

    /// Sets document `doc` of a change or spec in the database (`None` removes it) and
    /// syncs that row at once (`user_edit`): the edit reaches its file now.
    pub fn openspec_edit(
        &mut self,
        name: &str,
        kind: Kind,
        id: &str,
        doc: &str,
        text: Option<&str>,
        policy: Option<SyncPolicy>,
    ) -> Result<SyncReport> {
        if !kind.docs().contains(&doc) {
            return Err(db_error(DbError::UnknownDocument {
                kind,
                id: id.to_string(),
                doc: doc.to_string(),
                expected: kind.docs().join(", "),
            }));
        }
        self.ensure_unlocked(&format!("edit of {kind} {id}"))?;
        let (db, rows) = self.openspec_db(name)?;
        let sreq = SyncRequest {
            policy: policy.map(SyncPolicy::core),
            trigger: Trigger::UserEdit,
            only: vec![row_prefix(kind, id)],
            ..SyncRequest::default()
        };
        if db.item(&rows, kind, id).map_err(db_error)?.is_none() {
            // Not in the database yet: bring it in from disk first.
            self.sync_pair(name, &sreq)?;
        }
        match db.item(&rows, kind, id).map_err(db_error)? {
            None => {
                return Err(Error::Core(twinsync_core::Error::NotFound(format!(
                    "no {kind} {id:?} on disk or in the openspec database"
                ))))
            }
            Some(row) if row.deleted => {
                return Err(Error::Core(twinsync_core::Error::InvalidInput(format!(
                    "{kind} {id:?} was removed from disk (openspec/{}); restore the folder to edit it",
                    row.path
                ))))
            }
            Some(_) => {}
        }
        db.edit_document(&rows, kind, id, doc, text, self.now()).map_err(db_error)?;
        let op = self.sync_pair(name, &sreq)?;
        let shown = policy_name(&sreq.policy.unwrap_or(self.pair(name)?.policy));
        Ok(sync_report(&op, &shown, &db, &rows, 1))
    }

    /// Sets the lifecycle status a person chose for a change or spec (approved,
    /// assigned, ...); progress moves it on from there as the documents change.
    pub fn openspec_set_status(&mut self, name: &str, kind: Kind, id: &str, status: Status) -> Result<ItemRow> {
        self.ensure_unlocked(&format!("status of {kind} {id}"))?;
        let (db, rows) = self.openspec_db(name)?;
        db.set_status(&rows, kind, id, status, self.now()).map_err(db_error)?;
        db.item(&rows, kind, id).map_err(db_error)?.ok_or_else(|| {
            Error::Core(twinsync_core::Error::NotFound(format!("no {kind} {id:?} in the openspec database")))
        })
    }

    /// Marks the rows `op` left in conflict, and clears rows it settled, so the work
    /// queue shows which rows need a person.
    pub(crate) fn openspec_mark_conflicts(&self, name: &str, op: &OperationReport) -> Result<()> {
        let mut open: BTreeMap<(Kind, String), Vec<String>> = BTreeMap::new();
        let mut settled: BTreeSet<(Kind, String)> = BTreeSet::new();
        for r in &op.items {
            let Some(item) = ItemKey::parse(r.key.as_str()) else { continue };
            let row = (item.kind, item.id.clone());
            match r.outcome {
                Outcome::Conflict => {
                    let doc = match &item.part {
                        Part::Doc(d) => (*d).to_string(),
                        Part::Delta(rel) => rel.clone(),
                        Part::Location => ".location".to_string(),
                    };
                    open.entry(row).or_default().push(doc);
                }
                Outcome::Applied => {
                    settled.insert(row);
                }
                _ => {}
            }
        }
        if open.is_empty() && settled.is_empty() {
            return Ok(());
        }
        settled.retain(|r| !open.contains_key(r));
        let open: Vec<(Kind, String, Vec<String>)> = open.into_iter().map(|((k, id), docs)| (k, id, docs)).collect();
        let settled: Vec<(Kind, String)> = settled.into_iter().collect();
        let (db, rows) = self.openspec_db(name)?;
        db.mark_conflicts(&rows, &open, &settled).map_err(db_error)
    }

    /// Moves what syncs before the engine kept in pair `name`'s OpenSpec database into
    /// the project's store, once: the last-synced base of each document (so the first
    /// sync through the engine sees no false conflict) and the sync history (so `twinsync
    /// history` shows it, as operations that cannot be undone). Rows, kept versions and
    /// conflict records stay in the database, which owns them. A marker in the store
    /// makes it run once; a run cut short is redone whole (operations by fixed ids,
    /// the base only while the pair has none).
    pub(crate) fn openspec_migrate(&mut self, name: &str) -> Result<()> {
        let marker = format!("openspec-db:{name}");
        if self.store_ref().kv_get(MIGRATIONS, &marker)?.is_some() {
            return Ok(());
        }
        let side = self.openspec_db_side(name)?;
        if side.exists() {
            let db = side.open()?;
            let history = db.history(&side.project, None).map_err(db_error)?;
            let now = self.now();
            let actor = self.actor().to_string();
            let mut ops = Vec::new();
            for h in &history {
                ops.push(legacy_operation(name, &actor, h));
            }
            for op in &ops {
                self.store().put_operation(op, &[])?;
            }
            if self.store_ref().load_base(name)?.is_empty() {
                let commits = legacy_base(name, &db.legacy_bases(&side.project).map_err(db_error)?, now);
                self.store().commit_items(&commits)?;
            }
        }
        self.store().kv_put(MIGRATIONS, &marker, b"done")?;
        Ok(())
    }

    /// The rows `q` selects (its project defaults to the pair's).
    pub fn openspec_rows(&self, name: &str, q: &Query) -> Result<Vec<ItemRow>> {
        let side = self.openspec_db_side(name)?;
        if !side.exists() {
            return Err(Error::Core(twinsync_core::Error::NotFound(format!(
                "{} does not exist yet; run `twinsync openspec sync` first",
                side.label()
            ))));
        }
        let (db, rows) = self.openspec_db(name)?;
        let mut q = q.clone();
        q.project.get_or_insert(rows);
        db.query(&q).map_err(db_error)
    }
}
