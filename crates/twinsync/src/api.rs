//! The binding-facing API: plain functions over plain data (JSON values, strings and
//! maps), with outputs shaped like the CLI's `--json` output, so that the Node, Python
//! and uniffi bindings only convert values and map errors. `bindings/API.md` documents
//! this surface in each language's casing.
//!
//! This module adapts shapes only: hashing, drift, planning, merging and coverage are
//! the core's, and project operations are [`Project`]'s. Every error is a facade
//! [`Error`] whose [`Error::code`] is the binding-level code.

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use twinsync_core::canonical::{self, BigIntPolicy, CanonicalOptions, IgnoreRules, TextOptions};
use twinsync_core::coverage::{self, CoverageInput, CoverageOptions};
use twinsync_core::lock::Lock;
use twinsync_core::merge::{self, ConflictStyle, Favor, JsonMergeOptions, TextMergeOptions};
use twinsync_core::plan::PlanContext;
use twinsync_core::{Digest, Direction, Directions, DriftClass, DriftSource, Key, Policy, Timestamp};

pub use twinsync_core::ErrorCode;

use crate::error::{Error, Result};
use crate::project::{Project, SyncRequest};

mod credentials;
mod design_pairs;
mod openspec_db;
mod pairs;
mod test_sessions;

pub use credentials::{
    credential, credential_add, credential_revoke, credential_rotate, credential_validate, credentials,
    CredentialOptions,
};
pub use design_pairs::{design_drift, design_sync, DesignSyncOptions};
pub use openspec_db::{openspec_edit, openspec_history, openspec_query, openspec_row_json, OpenspecQueryOptions};
pub use pairs::{
    events, history_in, pairs, status_in, sync_in, undo_in, undo_stack_in, watch, watch_note_json, watch_summary_json,
    WatchOptions,
};
pub use test_sessions::{test_session, test_session_finish, test_session_start, test_sessions};

fn invalid(message: String) -> Error {
    Error::Core(twinsync_core::Error::InvalidInput(message))
}

/// Reads `value` as `T`, naming `what` when it does not fit.
fn from_value<T: DeserializeOwned>(what: &str, value: &Value) -> Result<T> {
    T::deserialize(value).map_err(|e| invalid(format!("{what}: {e}")))
}

/// Reads a snake_case or kebab-case name (`diff3`, `keep-as-string`) as the enum `T`.
fn parse_name<T: DeserializeOwned>(what: &str, name: &str) -> Result<T> {
    from_value(what, &Value::String(name.replace('-', "_")))
}

/// How JSON and text are hashed: the CLI's `--ignore`, `--big-integers`, `--max-depth`
/// and `--trim-trailing-whitespace`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HashOptions {
    /// JSON Pointer patterns of volatile members to drop (`/updatedAt`, `/**/id`).
    pub ignore: Vec<String>,
    /// Integers beyond 2^53: `error` (default) or `string` (`keep_as_string`).
    pub big_integers: Option<String>,
    /// Deepest nesting accepted (default 256).
    pub max_depth: Option<usize>,
    /// Text: also strip spaces and tabs at line ends.
    pub trim_trailing_whitespace: bool,
}

impl HashOptions {
    /// Options with these ignore patterns and defaults otherwise.
    pub fn ignoring<S: Into<String>>(patterns: impl IntoIterator<Item = S>) -> Self {
        HashOptions { ignore: patterns.into_iter().map(Into::into).collect(), ..Default::default() }
    }

    fn canonical(&self) -> Result<CanonicalOptions> {
        let big_integers = match self.big_integers.as_deref() {
            None | Some("error") => BigIntPolicy::Error,
            Some("string" | "keep_as_string" | "keep-as-string") => BigIntPolicy::KeepAsString,
            Some(other) => return Err(invalid(format!("big_integers: {other:?} is not one of `error`, `string`"))),
        };
        let ignore = IgnoreRules::new(&self.ignore).map_err(twinsync_core::Error::from)?;
        let max_depth = self.max_depth.unwrap_or(CanonicalOptions::default().max_depth);
        Ok(CanonicalOptions { big_integers, ignore, max_depth })
    }

    fn text(&self) -> TextOptions {
        TextOptions { trim_trailing_whitespace: self.trim_trailing_whitespace }
    }
}

/// RFC 8785 canonical JSON text of `value`.
pub fn canonicalize(value: &Value, opts: &HashOptions) -> Result<String> {
    canonicalize_json(&serde_json::to_vec(value).map_err(|e| invalid(e.to_string()))?, opts)
}

/// RFC 8785 canonical JSON text of the JSON document `json` (what `twinsync canonicalize` prints).
pub fn canonicalize_json(json: &[u8], opts: &HashOptions) -> Result<String> {
    let bytes = canonical::canonicalize(json, &opts.canonical()?).map_err(twinsync_core::Error::from)?;
    // Canonical output is built from validated UTF-8 input and ASCII punctuation.
    String::from_utf8(bytes).map_err(|e| invalid(format!("canonical output is not UTF-8: {e}")))
}

/// `sha256:<hex>` of the canonical form of `value`.
pub fn canonical_hash(value: &Value, opts: &HashOptions) -> Result<String> {
    canonical_hash_json(&serde_json::to_vec(value).map_err(|e| invalid(e.to_string()))?, opts)
}

/// `sha256:<hex>` of the canonical form of the JSON document `json` (`twinsync hash --as json`).
pub fn canonical_hash_json(json: &[u8], opts: &HashOptions) -> Result<String> {
    Ok(canonical::hash_json(json, &opts.canonical()?).map_err(twinsync_core::Error::from)?.to_string())
}

/// The digest behind [`canonical_hash_json`] of a document held in a `str`, whose
/// UTF-8 is then not checked again (a binding's text, transcoded from its host's
/// strings), with the default options when `opts` is None. For a binding that
/// hashes many small documents, where building the options and a `String` per call
/// shows, and that writes `sha256:<hex>` into its host's string itself.
pub fn canonical_digest_json_str(json: &str, opts: Option<&HashOptions>) -> Result<Digest> {
    let r = match opts {
        None => canonical::hash_json_str(json, &CanonicalOptions::default()),
        Some(o) => canonical::hash_json_str(json, &o.canonical()?),
    };
    Ok(r.map_err(twinsync_core::Error::from)?)
}

/// [`canonical_digest_json_str`] of bytes, whose UTF-8 is checked.
pub fn canonical_digest_json(json: &[u8], opts: Option<&HashOptions>) -> Result<Digest> {
    let r = match opts {
        None => canonical::hash_json(json, &CanonicalOptions::default()),
        Some(o) => canonical::hash_json(json, &o.canonical()?),
    };
    Ok(r.map_err(twinsync_core::Error::from)?)
}

/// `sha256:<hex>` of normalised text: no BOM, LF line ends (`twinsync hash --as text`).
pub fn hash_text(text: &str, opts: &HashOptions) -> String {
    canonical::hash_text(text, &opts.text()).to_string()
}

/// `sha256:<hex>` of bytes taken as they are (`twinsync hash --as bytes`).
pub fn hash_bytes(bytes: &[u8]) -> String {
    Digest::of_bytes(bytes).to_string()
}

/// Reads a map `{key: digest-or-content}`: a string starting `sha256:` is a digest, any
/// other string is text content, and any other JSON value is JSON content.
fn digests(what: &str, map: &Value, opts: &HashOptions) -> Result<BTreeMap<Key, Digest>> {
    let obj = match map {
        Value::Object(o) => o,
        Value::Null => return Ok(BTreeMap::new()),
        other => return Err(invalid(format!("{what}: expected an object of key -> digest or content, got {other}"))),
    };
    let canonical_opts = opts.canonical()?;
    let text_opts = opts.text();
    obj.iter()
        .map(|(k, v)| {
            let key = Key::new(k).map_err(|e| invalid(format!("{what}[{k:?}]: {e}")))?;
            let digest = match v {
                Value::String(s) if s.starts_with("sha256:") => {
                    s.parse::<Digest>().map_err(|e| invalid(format!("{what}[{k:?}]: {e}")))?
                }
                Value::String(s) => canonical::hash_text(s, &text_opts),
                v => canonical::hash_value(v, &canonical_opts).map_err(|e| invalid(format!("{what}[{k:?}]: {e}")))?,
            };
            Ok((key, digest))
        })
        .collect()
}

/// The tree digest of a replica given as `{key: digest-or-content}`.
pub fn tree_digest(entries: &Value, opts: &HashOptions) -> Result<String> {
    Ok(twinsync_core::tree_digest(&digests("entries", entries, opts)?).to_string())
}

/// Drift as `twinsync status --json` prints it, with each item's digests:
/// `{"items": [{key, class, base, left, right}], "counts": {class: n}, "in_sync": n}`.
pub fn drift_json(drift: &impl DriftSource) -> Value {
    let items: Vec<twinsync_core::DriftRef<'_>> = drift.drifted_items().collect();
    let counts: serde_json::Map<String, Value> = drift
        .counts()
        .iter()
        .filter(|(c, _)| *c != DriftClass::InSync)
        .map(|(c, n)| (c.as_str().into(), n.into()))
        .collect();
    json!({"items": items, "counts": counts, "in_sync": drift.counts().get(DriftClass::InSync)})
}

/// Three-way drift of maps `{key: digest-or-content}` (base, left, right), shaped as [`drift_json`].
pub fn detect_drift(base: &Value, left: &Value, right: &Value, opts: &HashOptions) -> Result<Value> {
    let (b, l, r) = (digests("base", base, opts)?, digests("left", left, opts)?, digests("right", right, opts)?);
    Ok(drift_json(&twinsync_core::detect(&b, &l, &r)))
}

/// Inputs of [`plan`] beyond the three maps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanOptions {
    /// Conflict policy as the CLI's `--policy` takes it (default `manual`).
    pub policy: Option<String>,
    /// `left-to-right`, `right-to-left` or `both` (default).
    pub direction: Option<String>,
    /// Now in milliseconds since the epoch, for the operation hash (default: the system clock).
    pub now_ms: Option<i64>,
    /// How contents in the maps are hashed.
    pub hash: HashOptions,
}

fn policy(p: Option<&str>) -> Result<Option<Policy>> {
    p.map(|p| p.parse::<Policy>().map_err(|e| Error::Core(e.into()))).transpose()
}

fn direction(d: Option<&str>) -> Result<Option<Direction>> {
    d.map(|d| d.parse::<Direction>().map_err(|e| Error::Core(e.into()))).transpose()
}

/// The plan a sync of these three maps would run, as `sync --dry-run --json` prints its `plan`.
pub fn plan(base: &Value, left: &Value, right: &Value, opts: &PlanOptions) -> Result<Value> {
    let (b, l, r) =
        (digests("base", base, &opts.hash)?, digests("left", left, &opts.hash)?, digests("right", right, &opts.hash)?);
    let drift = twinsync_core::detect(&b, &l, &r);
    let policy = policy(opts.policy.as_deref())?.unwrap_or_default();
    let directions = Directions::all(direction(opts.direction.as_deref())?.unwrap_or_default());
    let now = opts.now_ms.map(Timestamp).unwrap_or_else(|| twinsync_core::Clock::now(&twinsync_core::SystemClock));
    to_json(&twinsync_core::plan(&drift, &directions, &policy, &PlanContext::at(now)))
}

/// Options of [`merge_text`], as `twinsync merge-file` takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MergeTextOptions {
    /// Labels after the markers: left, base, right (default `left`, `base`, `right`).
    pub labels: Option<[String; 3]>,
    /// `merge` (default), `diff3` or `zdiff3`.
    pub style: Option<String>,
    /// `none` (default: markers), `ours`, `theirs` or `union`.
    pub favor: Option<String>,
    /// Marker length (default 7).
    pub marker_size: Option<usize>,
}

/// diff3 merge of texts: `{"text": merged, "conflicts": hunks}`, markers as `git merge-file`.
pub fn merge_text(base: &str, left: &str, right: &str, opts: &MergeTextOptions) -> Result<Value> {
    let mut o = TextMergeOptions::default();
    if let Some(l) = &opts.labels {
        o.labels = l.clone();
    }
    if let Some(s) = &opts.style {
        o.style = parse_name::<ConflictStyle>("style", s)?;
    }
    if let Some(f) = &opts.favor {
        o.favor = parse_name::<Favor>("favor", f)?;
    }
    if let Some(n) = opts.marker_size {
        o.marker_size = n;
    }
    to_json(&merge::text3(base, left, right, &o))
}

/// Structural JSON merge: `{"value": merged, "conflicts": [{pointer, base, left, right}]}`.
pub fn merge_json(base: &Value, left: &Value, right: &Value, array_id_field: Option<&str>) -> Result<Value> {
    let opts = JsonMergeOptions { array_id_field: array_id_field.map(str::to_string) };
    to_json(&merge::json3(base, left, right, &opts))
}

/// Coverage of `{components, stories, tests}` under `options` (`{missing_limit, required_kinds}`),
/// as `twinsync design coverage --json` prints it.
pub fn coverage(input: &Value, options: &Value) -> Result<Value> {
    let input: CoverageInput = from_value("coverage input", input)?;
    let opts: CoverageOptions =
        if options.is_null() { CoverageOptions::default() } else { from_value("coverage options", options)? };
    let report = coverage::compute(&input, &opts).map_err(twinsync_core::Error::from)?;
    to_json(&report)
}

fn to_json<T: Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| invalid(format!("cannot represent the result as JSON: {e}")))
}

/// Opens the project containing `dir`, acting as `actor` (default: `TWINSYNC_OWNER`, else the OS user).
pub fn open(dir: &str, actor: Option<&str>) -> Result<Project> {
    let mut p = Project::open(Path::new(dir))?;
    if let Some(a) = actor {
        p.set_actor(a);
    }
    Ok(p)
}

/// Makes `dir` a project syncing `left` and `right` (folders relative to `dir`, or `db` for
/// the embedded database) with the default config, as `twinsync init LEFT RIGHT`.
pub fn init(dir: &str, left: &str, right: &str, actor: Option<&str>) -> Result<Project> {
    let mut p = Project::init(Path::new(dir), left, right)?;
    if let Some(a) = actor {
        p.set_actor(a);
    }
    Ok(p)
}

/// What [`sync`] should do beyond the project's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncOptions {
    /// Plan and diff only; change nothing.
    pub dry_run: bool,
    /// Overrides the configured policy (`prefer-left`, `merge:right`, ...).
    pub policy: Option<String>,
    /// Overrides the configured direction.
    pub direction: Option<String>,
    /// Lets a sync delete most of a replica.
    pub allow_mass_delete: bool,
    /// Also makes formatting-only items byte-equal, taking the bytes of the side the
    /// direction or policy picks.
    pub formatting: bool,
}

/// The project's drift, shaped as [`drift_json`].
pub fn status(p: &mut Project) -> Result<Value> {
    Ok(drift_json(&p.status()?))
}

/// Syncs (or, with `dry_run`, previews) the project: the operation report, or `{plan, diffs}`.
pub fn sync(p: &mut Project, opts: &SyncOptions) -> Result<Value> {
    let req = SyncRequest {
        policy: policy(opts.policy.as_deref())?,
        direction: direction(opts.direction.as_deref())?,
        allow_mass_delete: opts.allow_mass_delete,
        formatting: opts.formatting,
        ..Default::default()
    };
    if opts.dry_run {
        to_json(&p.preview(&req)?)
    } else {
        to_json(&p.sync(&req)?)
    }
}

/// Undoes `operation_id` (the newest undoable operation for `None`): `{operation_id, restored, refused, at}`.
pub fn undo(p: &mut Project, operation_id: Option<&str>) -> Result<Value> {
    to_json(&p.undo(operation_id)?)
}

/// Recent operations, newest first: `{"operations": [summary]}` as `twinsync history --json`.
pub fn history(p: &Project, limit: usize) -> Result<Value> {
    history_in(p, None, limit)
}

/// The undo stack: operations that can still be undone, newest (the next `undo()`) first,
/// as `{"operations": [summary]}`.
pub fn undo_stack(p: &Project, limit: usize) -> Result<Value> {
    undo_stack_in(p, None, limit)
}

/// A lock as shown to anyone but its acquirer: no token.
pub(crate) fn public(l: &Lock) -> Value {
    let mut v = serde_json::to_value(l).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("token");
    }
    v
}

/// Acquires the project lock: `{"acquired": true, "lock": {.., token}}` (the token is shown only here).
pub fn lock_acquire(p: &mut Project, ttl_ms: Option<i64>, reason: Option<&str>) -> Result<Value> {
    let l = p.lock_acquire(ttl_ms, reason)?;
    Ok(json!({"acquired": true, "lock": l}))
}

/// Renews the project lock for `caller` (owner name or token): `{"renewed": true, "lock"}`.
pub fn lock_renew(p: &mut Project, caller: &str, ttl_ms: Option<i64>) -> Result<Value> {
    let l = p.lock_renew(caller, ttl_ms)?;
    Ok(json!({"renewed": true, "lock": public(&l)}))
}

/// Releases the project lock for `caller`; with `force`, whoever holds it (audited):
/// `{"released", "forced", "lock"}`.
pub fn lock_release(p: &mut Project, caller: &str, force: bool, reason: Option<&str>) -> Result<Value> {
    if force {
        let prev = p.lock_force_release(reason)?;
        return Ok(json!({"released": prev.is_some(), "forced": true, "lock": prev.as_ref().map(public)}));
    }
    let l = p.lock_release(caller)?;
    Ok(json!({"released": true, "forced": false, "lock": public(&l)}))
}

/// The project lock: `{"held": bool, "lock": {..} | null}`.
pub fn lock_status(p: &mut Project) -> Result<Value> {
    let l = p.lock_status()?;
    Ok(json!({"held": l.is_some(), "lock": l.as_ref().map(public)}))
}

fn workspace_error(e: twinsync_openspec::WorkspaceError) -> Error {
    match e {
        twinsync_openspec::WorkspaceError::NotFound(_) => Error::Core(twinsync_core::Error::NotFound(e.to_string())),
        twinsync_openspec::WorkspaceError::Io { path, source } => Error::Io { path, source },
    }
}

fn openspec_workspace(dir: &str) -> Result<twinsync_openspec::Workspace> {
    twinsync_openspec::Workspace::discover(Path::new(dir)).map_err(workspace_error)
}

/// OpenSpec `list --json` (or `list --specs --json`) of the `openspec/` folder found from `dir` upwards.
pub fn openspec_list(dir: &str, specs: bool) -> Result<Value> {
    let ws = openspec_workspace(dir)?;
    Ok(if specs {
        twinsync_openspec::list_specs_json(&ws)
    } else {
        twinsync_openspec::list_json(&ws, twinsync_openspec::Sort::Recent)
    })
}

/// OpenSpec `show <id> --json` (`kind`: `change` or `spec`, else whichever `id` names).
pub fn openspec_show(dir: &str, id: &str, kind: Option<&str>) -> Result<Value> {
    let ws = openspec_workspace(dir)?;
    twinsync_openspec::show_json(&ws, id, kind).map_err(|doc| {
        let messages: Vec<&str> =
            doc["status"].as_array().into_iter().flatten().filter_map(|s| s["message"].as_str()).collect();
        Error::Core(twinsync_core::Error::NotFound(format!("openspec show {id}: {}", messages.join("; "))))
    })
}

/// OpenSpec `validate --all --json` (`strict`: warnings fail too); `valid` says whether all passed.
pub fn openspec_validate(dir: &str, strict: bool) -> Result<Value> {
    let ws = openspec_workspace(dir)?;
    let (mut doc, valid) =
        twinsync_openspec::validate_json(&ws, twinsync_openspec::Scope { changes: true, specs: true }, strict);
    doc["valid"] = valid.into();
    Ok(doc)
}

/// What [`openspec_sync`] should do: the options of `twinsync openspec sync`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpenspecSyncOptions {
    /// Only this change (every change and spec when `None`).
    pub change: Option<String>,
    /// Plan only: report what would change, change nothing.
    pub dry_run: bool,
    /// `fs-wins` (default), `merge` or `manual`.
    pub policy: Option<String>,
}

/// OpenSpec `sync --json`: syncs the `openspec/` folder found from `dir` upwards with its
/// database (`.twinsync/openspec.db`) as an `openspec` pair, through the engine:
/// `{"mode": "synced", db, report}` or, with `dry_run`, `{"mode": "preview", db, rows}`.
pub fn openspec_sync(dir: &str, opts: &OpenspecSyncOptions) -> Result<Value> {
    let policy = match opts.policy.as_deref() {
        None => twinsync_openspec::SyncPolicy::default(),
        Some(p) => p.parse().map_err(|e: twinsync_openspec::sync::UnknownPolicy| invalid(format!("policy: {e}")))?,
    };
    let root = twinsync_openspec::find_root(Path::new(dir)).map_err(workspace_error)?;
    let (mut project, pair) = Project::for_openspec(&root, None, None)?;
    let req = crate::OpenspecSync {
        change: opts.change.clone(),
        dry_run: opts.dry_run,
        policy: Some(policy),
        trigger: twinsync_core::Trigger::Manual,
    };
    to_json(&project.openspec_sync(&pair, &req)?)
}

/// OpenSpec `status ID STATUS`: sets the lifecycle status (`proposing`, `approved`,
/// `assigned`, `in_progress`, `review`, `archived`) of change `id` (or spec, with `kind`
/// `"spec"`) in the database of the `openspec/` folder found from `dir` upwards; returns
/// the row without its documents: `{type, id, title, status, path, ...}`.
pub fn openspec_set_status(dir: &str, id: &str, status: &str, kind: Option<&str>) -> Result<Value> {
    let status: twinsync_openspec::Status =
        status.parse().map_err(|e: twinsync_openspec::db::UnknownStatus| invalid(e.to_string()))?;
    let kind = match kind {
        None | Some("change") => twinsync_openspec::Kind::Change,
        Some("spec") => twinsync_openspec::Kind::Spec,
        Some(other) => return Err(invalid(format!("type {other:?}: expected change or spec"))),
    };
    let root = twinsync_openspec::find_root(Path::new(dir)).map_err(workspace_error)?;
    let (mut project, pair) = Project::for_openspec(&root, None, None)?;
    let row = project.openspec_set_status(&pair, kind, id, status)?;
    Ok(json!({
        "type": row.kind, "id": row.id, "title": row.title, "status": row.status, "path": row.path,
        "archivedOn": row.archived_on, "completedTasks": row.tasks_done, "totalTasks": row.tasks_total,
        "requirements": row.requirements, "deleted": row.deleted,
    }))
}

/// A design error as a binding error: a missing file is `NOT_FOUND`, a file that is not
/// what it should be `INVALID_INPUT`, any other failure `IO`.
pub(crate) fn design_error(e: twinsync_design::DesignError) -> Error {
    use twinsync_design::DesignError;
    match e {
        DesignError::Io { path, source } if source.kind() == std::io::ErrorKind::NotFound => {
            Error::Core(twinsync_core::Error::NotFound(format!("{}: {source}", path.display())))
        }
        DesignError::Io { path, source } => Error::Io { path, source },
        DesignError::Sync(_) => Error::Io { path: Default::default(), source: std::io::Error::other(e.to_string()) },
        e => invalid(e.to_string()),
    }
}

/// Story coverage of a components file (twinsync components.json, Storybook manifest or
/// Figma file) by a Storybook `index.json`, as `twinsync design coverage --json`.
pub fn design_coverage(components_path: &str, stories_path: &str) -> Result<Value> {
    twinsync_design::coverage_report_files(Path::new(components_path), Path::new(stories_path)).map_err(design_error)
}

/// What [`design_scaffold`] should do beyond the CLI's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DesignScaffoldOptions {
    /// Pairwise covering set for components with three or more axes.
    pub pairwise: bool,
    /// Report what would be written; write nothing.
    pub dry_run: bool,
    /// Project root: component `source` paths and relative paths are taken from it, and the
    /// last generation is kept under its `.twinsync/design/generated` (default: the current folder).
    pub root: Option<String>,
}

/// CSF3 story files for a components file into `out_dir`, merging with hand edits, as
/// `twinsync design scaffold --json` run in `root`: `{"dry_run", "files": [..]}`.
pub fn design_scaffold(components_path: &str, out_dir: &str, opts: &DesignScaffoldOptions) -> Result<Value> {
    use twinsync_design::scaffold::{scaffold_files, scaffold_json, ScaffoldOptions};
    let mut so = ScaffoldOptions { pairwise: opts.pairwise, ..Default::default() };
    if let Some(root) = &opts.root {
        so.root = root.into();
    }
    let results = scaffold_files(Path::new(components_path), Path::new(out_dir), None, &so, opts.dry_run)
        .map_err(design_error)?;
    Ok(scaffold_json(&results, opts.dry_run))
}

/// The binding-level code of `e`: `INVALID_INPUT`, `NOT_FOUND`, `CONFLICT`, `LOCKED`,
/// `EXPIRED`, `UNSAFE` or `IO`.
pub fn error_code(e: &Error) -> &'static str {
    e.code().as_str()
}

#[allow(dead_code)]
fn assert_send() {
    // Bindings move a project onto worker threads (napi async tasks, a released GIL).
    fn is_send<T: Send>() {}
    is_send::<Project>();
}
