//! Running one tool: open the project from the server's folder, parse the arguments,
//! call the `Project` method the tool stands for (refusing writes under another owner's
//! lock), and record the call in the project's audit log.

use std::path::Path;
use std::time::Instant;

use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use twinsync_core::audit::AuditRecord;
use twinsync_core::{Direction, DriftClass, ErrorCode, OperationReport, Policy};

use super::catalogue::{
    CoverageArgs, DriftArgs, HistoryArgs, LockAcquireArgs, LockReleaseArgs, NoArgs, OpenspecShowArgs,
    OpenspecStatusArgs, OpenspecSyncArgs, SyncArgs, TestSessionFinishArgs, TestSessionStartArgs, TestSessionStatusArgs,
    UndoArgs,
};
use crate::{Project, SyncRequest};
use rmcp::ErrorData;

/// A tool failure: becomes a result with `isError: true`.
pub(super) struct ToolError {
    pub(super) code: &'static str,
    pub(super) message: String,
}

impl From<crate::Error> for ToolError {
    fn from(e: crate::Error) -> Self {
        ToolError { code: e.code().as_str(), message: e.to_string() }
    }
}

/// What a tool produced on success.
pub(super) struct Done {
    pub(super) payload: Value,
    pub(super) counts: Vec<(&'static str, u64)>,
    pub(super) success: bool,
    pub(super) correlation: Option<String>,
}

impl Done {
    fn ok(payload: Value, counts: Vec<(&'static str, u64)>) -> Self {
        Done { payload, counts, success: true, correlation: None }
    }
}

/// What a call came to, with the id of its audit record (`None` when no project opened).
pub(super) type Outcome = Result<(Done, Option<String>), (ToolError, Option<String>)>;

/// A tool call with its arguments decoded into the tool's own type.
#[derive(Debug)]
pub(super) enum Call {
    Sync(SyncArgs),
    Drift(DriftArgs),
    Undo(UndoArgs),
    Coverage(CoverageArgs),
    TestSessionStart(TestSessionStartArgs),
    TestSessionStatus(TestSessionStatusArgs),
    TestSessionFinish(TestSessionFinishArgs),
    OpenspecSync(OpenspecSyncArgs),
    OpenspecList(NoArgs),
    OpenspecShow(OpenspecShowArgs),
    OpenspecSetStatus(OpenspecStatusArgs),
    LockAcquire(LockAcquireArgs),
    LockRelease(LockReleaseArgs),
    LockStatus(NoArgs),
    HistoryList(HistoryArgs),
}

impl Call {
    pub(super) fn tool(&self) -> &'static str {
        match self {
            Call::Sync(_) => "design.sync",
            Call::Drift(_) => "design.driftReport",
            Call::Undo(_) => "design.undo",
            Call::Coverage(_) => "design.coverageReport",
            Call::TestSessionStart(_) => "design.browserTestSession.start",
            Call::TestSessionStatus(_) => "design.browserTestSession.status",
            Call::TestSessionFinish(_) => "design.browserTestSession.finish",
            Call::OpenspecSync(_) => "openspec.sync",
            Call::OpenspecList(_) => "openspec.list",
            Call::OpenspecShow(_) => "openspec.show",
            Call::OpenspecSetStatus(_) => "openspec.setStatus",
            Call::LockAcquire(_) => "lock.acquire",
            Call::LockRelease(_) => "lock.release",
            Call::LockStatus(_) => "lock.status",
            Call::HistoryList(_) => "history.list",
        }
    }
}

/// Decodes tool `name`'s `args`. Unknown tools and arguments that do not fit the tool's
/// schema are protocol errors.
pub(super) fn decode(name: &str, args: Value) -> Result<Call, ErrorData> {
    Ok(match name {
        "design.sync" => Call::Sync(parse(name, args)?),
        "design.driftReport" => Call::Drift(parse(name, args)?),
        "design.undo" => Call::Undo(parse(name, args)?),
        "design.coverageReport" => Call::Coverage(parse(name, args)?),
        "design.browserTestSession.start" => Call::TestSessionStart(parse(name, args)?),
        "design.browserTestSession.status" => Call::TestSessionStatus(parse(name, args)?),
        "design.browserTestSession.finish" => Call::TestSessionFinish(parse(name, args)?),
        "openspec.sync" => Call::OpenspecSync(parse(name, args)?),
        "openspec.list" => Call::OpenspecList(parse(name, args)?),
        "openspec.show" => Call::OpenspecShow(parse(name, args)?),
        "openspec.setStatus" => Call::OpenspecSetStatus(parse(name, args)?),
        "lock.acquire" => Call::LockAcquire(parse(name, args)?),
        "lock.release" => Call::LockRelease(parse(name, args)?),
        "lock.status" => Call::LockStatus(parse(name, args)?),
        "history.list" => Call::HistoryList(parse(name, args)?),
        other => return Err(ErrorData::invalid_params(format!("unknown tool: {other}; tools/list names them"), None)),
    })
}

/// Runs tool `name` with `args` as `owner` in the project found from `start`.
pub(super) fn run(start: &Path, owner: &str, name: &str, args: Value) -> Result<Outcome, ErrorData> {
    let (s, o, n) = (start, owner, name);
    Ok(match decode(name, args)? {
        Call::Sync(a) => with_project(s, o, n, a, design_sync),
        Call::Drift(a) => with_project(s, o, n, a, drift_report),
        Call::Undo(a) => with_project(s, o, n, a, design_undo),
        Call::Coverage(a) => with_project(s, o, n, a, coverage_report),
        Call::TestSessionStart(a) => with_project(s, o, n, a, test_session_start),
        Call::TestSessionStatus(a) => with_project(s, o, n, a, test_session_status),
        Call::TestSessionFinish(a) => with_project(s, o, n, a, test_session_finish),
        Call::OpenspecSync(a) => with_project(s, o, n, a, openspec_sync),
        Call::OpenspecList(a) => with_project(s, o, n, a, openspec_list),
        Call::OpenspecShow(a) => with_project(s, o, n, a, openspec_show),
        Call::OpenspecSetStatus(a) => with_project(s, o, n, a, openspec_set_status),
        Call::LockAcquire(a) => with_project(s, o, n, a, lock_acquire),
        Call::LockRelease(a) => with_project(s, o, n, a, lock_release),
        Call::LockStatus(a) => with_project(s, o, n, a, lock_status),
        Call::HistoryList(a) => with_project(s, o, n, a, history_list),
    })
}

/// Opens the project, runs `f`, and records the call in the audit log.
fn with_project<A>(
    start: &Path,
    owner: &str,
    tool: &str,
    args: A,
    f: fn(&mut Project, A, &str) -> Result<Done, ToolError>,
) -> Outcome {
    let started = Instant::now();
    let mut project = Project::open(start).map_err(|e| (ToolError::from(e), None))?;
    project.set_actor(owner.to_string());
    let result = f(&mut project, args, owner);
    let (success, counts, correlation, detail) = match &result {
        Ok(d) => (
            d.success,
            d.counts.iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect::<Map<_, _>>(),
            d.correlation.clone(),
            None,
        ),
        Err(e) => (false, Map::new(), None, Some(e.message.clone())),
    };
    // Once the project is open every call is audited, failed ones included.
    let audit_id = {
        let record = AuditRecord {
            id: String::new(),
            correlation_id: correlation.unwrap_or_else(|| format!("mcp:{tool}")),
            actor: project.actor().to_string(),
            action: format!("mcp:{tool}"),
            success,
            counts: Value::Object(counts),
            duration_ms: started.elapsed().as_millis() as i64,
            at: project.now(),
            detail,
        };
        project.store().append_audit(&record).ok()
    };
    match result {
        Ok(d) => Ok((d, audit_id)),
        Err(e) => Err((e, audit_id)),
    }
}

/// The `openspec/` folder of the project, found from the project folder as the OpenSpec CLI finds it.
fn openspec_workspace(p: &Project, parts: twinsync_openspec::Parts) -> Result<twinsync_openspec::Workspace, ToolError> {
    let not_found = |e: twinsync_openspec::WorkspaceError| ToolError { code: "NOT_FOUND", message: e.to_string() };
    let root = twinsync_openspec::find_root(p.dir()).map_err(not_found)?;
    twinsync_openspec::Workspace::load_parts(&root, parts).map_err(not_found)
}

/// `design.coverageReport`: the coverage report of a components manifest and a story index.
fn coverage_report(p: &mut Project, a: CoverageArgs, _owner: &str) -> Result<Done, ToolError> {
    let (components, stories) = (p.dir().join(&a.components), p.dir().join(&a.stories));
    let design = |e| ToolError::from(crate::api::design_error(e));
    let (comps, tests) = twinsync_design::inputs::load_components(&components).map_err(design)?;
    let index = twinsync_design::inputs::load_index(&stories).map_err(design)?;
    // A run of the tool is a run of the history, as `twinsync design coverage` is.
    let (cov, stats) =
        p.coverage_run(&a.components, &comps, &index, &tests, &twinsync_core::coverage::CoverageOptions::default())?;
    let doc = serde_json::to_value(&cov).unwrap_or_default();
    let n = cov.report.components.len() as u64;
    Ok(Done::ok(doc, vec![("components", n), ("computed", stats.misses as u64), ("reused", stats.hits as u64)]))
}

/// `openspec.sync`: the project's `openspec` pair synced once (or previewed), answered
/// per row as `twinsync openspec sync --json` answers.
fn openspec_sync(p: &mut Project, a: OpenspecSyncArgs, _owner: &str) -> Result<Done, ToolError> {
    if !a.dry_run {
        p.ensure_unlocked("openspec.sync")?;
    }
    let root =
        twinsync_openspec::find_root(p.dir()).map_err(|e| ToolError { code: "NOT_FOUND", message: e.to_string() })?;
    let pair = p.openspec_pair_for(&root, None, None)?;
    let req = crate::OpenspecSync { change: a.change, dry_run: a.dry_run, ..Default::default() };
    let doc = serde_json::to_value(p.openspec_sync(&pair, &req)?).expect("an answer serialises");
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let report = &doc["report"];
    let counts = if doc["mode"] == "preview" {
        vec![("planned", doc["rows"].as_array().map_or(0, Vec::len) as u64)]
    } else {
        vec![
            ("checked", n(&report["checked"])),
            ("changed", report["items"].as_array().map_or(0, Vec::len) as u64),
            ("conflicts", n(&report["conflicts"])),
            ("failed", n(&report["failed"])),
        ]
    };
    let failed = n(&report["failed"]) > 0;
    let mut done = Done::ok(doc, counts);
    done.success = !failed;
    Ok(done)
}

/// `openspec.setStatus`: the lifecycle status a person (or agent) chose for a change or
/// spec, as `twinsync openspec status` sets it.
fn openspec_set_status(p: &mut Project, a: OpenspecStatusArgs, _owner: &str) -> Result<Done, ToolError> {
    p.ensure_unlocked("openspec.setStatus")?;
    let invalid = |message: String| ToolError { code: "INVALID_INPUT", message };
    let status: twinsync_openspec::Status = a
        .status
        .parse()
        .map_err(|e: twinsync_openspec::db::UnknownStatus| invalid(format!("openspec.setStatus: {e}")))?;
    let kind = match a.kind.as_deref() {
        None | Some("change") => twinsync_openspec::Kind::Change,
        Some("spec") => twinsync_openspec::Kind::Spec,
        Some(other) => return Err(invalid(format!("openspec.setStatus: type {other:?}: expected change or spec"))),
    };
    let root =
        twinsync_openspec::find_root(p.dir()).map_err(|e| ToolError { code: "NOT_FOUND", message: e.to_string() })?;
    let pair = p.openspec_pair_for(&root, None, None)?;
    let row = p.openspec_set_status(&pair, kind, &a.id, status)?;
    let doc = serde_json::json!({
        "type": row.kind, "id": row.id, "status": row.status, "title": row.title, "path": row.path,
    });
    Ok(Done::ok(doc, vec![("updated", 1)]))
}

/// `openspec.list`: active changes with task progress, as `openspec list --json` prints them.
fn openspec_list(p: &mut Project, _: NoArgs, _owner: &str) -> Result<Done, ToolError> {
    let ws = openspec_workspace(p, twinsync_openspec::Parts::LIST)?;
    let doc = twinsync_openspec::list_json(&ws, twinsync_openspec::Sort::Recent);
    let n = doc["changes"].as_array().map_or(0, Vec::len) as u64;
    Ok(Done::ok(doc, vec![("changes", n)]))
}

/// `openspec.show`: one change, as `openspec show ID --type change --json` prints it.
fn openspec_show(p: &mut Project, a: OpenspecShowArgs, _owner: &str) -> Result<Done, ToolError> {
    let ws = openspec_workspace(p, twinsync_openspec::Parts { archived: false, ..twinsync_openspec::Parts::ALL })?;
    match twinsync_openspec::show_json(&ws, &a.change, Some("change")) {
        Ok(doc) => Ok(Done::ok(doc, vec![("changes", 1)])),
        Err(status) => Err(ToolError {
            code: "NOT_FOUND",
            message: status["status"][0]["message"]
                .as_str()
                .or_else(|| status["error"].as_str())
                .map_or_else(|| format!("no change {:?}: {status}", a.change), str::to_string),
        }),
    }
}

fn parse<A: DeserializeOwned>(tool: &str, args: Value) -> Result<A, ErrorData> {
    serde_json::from_value(args).map_err(|e| ErrorData::invalid_params(format!("{tool}: invalid arguments: {e}"), None))
}

fn invalid(message: String) -> ToolError {
    ToolError { code: ErrorCode::InvalidInput.as_str(), message }
}

fn design_sync(p: &mut Project, a: SyncArgs, _owner: &str) -> Result<Done, ToolError> {
    let policy = a
        .policy
        .as_deref()
        .map(str::parse::<Policy>)
        .transpose()
        .map_err(|e| invalid(format!("design.sync: policy {:?}: {e}", a.policy.as_deref().unwrap_or(""))))?;
    let direction = a
        .direction
        .as_deref()
        .map(str::parse::<Direction>)
        .transpose()
        .map_err(|e| invalid(format!("design.sync: direction {:?}: {e}", a.direction.as_deref().unwrap_or(""))))?;
    let req = SyncRequest {
        policy,
        direction,
        allow_mass_delete: a.allow_mass_delete,
        formatting: a.formatting,
        ..Default::default()
    };
    let pair = design_tool_pair(p, a.pair)?;
    if a.dry_run {
        let preview = p.preview_of(&pair, &req)?;
        let conflicts = preview.plan.actions.iter().filter(|x| x.kind == twinsync_core::ActionKind::Conflict).count();
        let counts = vec![("planned", preview.plan.actions.len() as u64), ("conflicts", conflicts as u64)];
        return Ok(Done::ok(json!({"dry_run": true, "preview": preview}), counts));
    }
    // The facade refuses under another owner's project lock (LOCKED, naming the holder).
    let report = p.sync_pair(&pair, &req)?;
    let c = &report.counts;
    let counts = vec![
        ("planned", c.planned as u64),
        ("applied", c.applied as u64),
        ("skipped", c.skipped as u64),
        ("conflicts", c.conflicts as u64),
        ("failed", c.failed as u64),
    ];
    // Conflicts left for a person are a finished sync, not a failure; failed items are.
    let success = c.failed == 0;
    let correlation = Some(report.operation_id.clone());
    Ok(Done { payload: json!({"dry_run": false, "report": report}), counts, success, correlation })
}

/// The pair a `design.*` tool acts on: the one named, else the project's design pair,
/// else its only pair.
fn design_tool_pair(p: &Project, pair: Option<String>) -> Result<String, ToolError> {
    match pair {
        Some(name) => {
            p.pair_config(&name)?;
            Ok(name)
        }
        None => Ok(p.default_design_pair()?),
    }
}

fn drift_report(p: &mut Project, a: DriftArgs, _owner: &str) -> Result<Done, ToolError> {
    let pair = design_tool_pair(p, a.pair)?;
    if p.pair_config(&pair)?.kind == crate::PairKind::Design {
        let report = p.design_drift_of(&pair)?;
        let t = &report.totals;
        let counts = vec![
            ("items", t.components as u64),
            ("in_sync", t.components.saturating_sub(t.drifted) as u64),
            ("drifted", t.drifted as u64),
            ("conflicts", t.conflicts as u64),
        ];
        return Ok(Done::ok(json!({"pair": pair, "kind": "design", "report": report}), counts));
    }
    let drift = p.status_of(&pair)?;
    let items: Vec<_> = drift.drifted().map(|i| json!({"key": i.key, "class": i.class})).collect();
    let by_class: Map<String, Value> = drift
        .counts
        .iter()
        .filter(|(c, _)| *c != DriftClass::InSync)
        .map(|(c, n)| (c.as_str().into(), n.into()))
        .collect();
    let in_sync = drift.counts.get(DriftClass::InSync) as u64;
    let counts = vec![
        ("items", drift.items.len() as u64),
        ("in_sync", in_sync),
        ("drifted", drift.counts.drifted() as u64),
        ("conflicts", drift.counts.conflicts() as u64),
    ];
    Ok(Done::ok(json!({"pair": pair, "items": items, "counts": by_class, "in_sync": in_sync}), counts))
}

fn design_undo(p: &mut Project, a: UndoArgs, _owner: &str) -> Result<Done, ToolError> {
    // An operation id names its own pair; otherwise the tool's pair's newest operation.
    let pair = match &a.operation_id {
        Some(_) => None,
        None => Some(design_tool_pair(p, a.pair)?),
    };
    let u = p.undo_in(pair.as_deref(), a.operation_id.as_deref())?;
    let counts = vec![("restored", u.restored.len() as u64), ("refused", u.refused.len() as u64)];
    let correlation = Some(u.operation_id.clone());
    Ok(Done { payload: serde_json::to_value(&u).unwrap_or_default(), counts, success: true, correlation })
}

fn lock_acquire(p: &mut Project, a: LockAcquireArgs, _owner: &str) -> Result<Done, ToolError> {
    if let Some(o) = a.owner.filter(|o| !o.trim().is_empty()) {
        p.set_actor(o);
    }
    let ttl = a.ttl_seconds.map(|s| i64::from(s) * 1000);
    let lock = p.lock_acquire(ttl, a.reason.as_deref())?;
    Ok(Done::ok(json!({"lock": lock}), vec![("held", 1)]))
}

fn lock_release(p: &mut Project, a: LockReleaseArgs, _owner: &str) -> Result<Done, ToolError> {
    let lock = p.lock_release(&a.token)?;
    p.set_actor(lock.owner.clone());
    Ok(Done::ok(json!({"released": crate::api::public(&lock)}), vec![("held", 0)]))
}

fn lock_status(p: &mut Project, _: NoArgs, _owner: &str) -> Result<Done, ToolError> {
    let lock = p.lock_status()?;
    let held = u64::from(lock.is_some());
    Ok(Done::ok(json!({"held": lock.is_some(), "lock": lock.as_ref().map(crate::api::public)}), vec![("held", held)]))
}

fn history_list(p: &mut Project, a: HistoryArgs, _owner: &str) -> Result<Done, ToolError> {
    let ops = p.operations(a.limit.unwrap_or(20) as usize)?;
    let rows: Vec<_> = ops.iter().map(OperationReport::summary).collect();
    Ok(Done::ok(json!({"operations": rows}), vec![("operations", ops.len() as u64)]))
}

/// A session as the tools answer it: the record and its latency.
fn session_json(s: &twinsync_core::test_session::TestSession) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    v["latency_ms"] = json!(s.latency_ms());
    v
}

fn test_session_start(p: &mut Project, a: TestSessionStartArgs, _owner: &str) -> Result<Done, ToolError> {
    let s = p.test_session_start(&a.story_id, a.correlation_id.as_deref())?;
    Ok(Done { correlation: Some(s.correlation_id.clone()), ..Done::ok(session_json(&s), vec![]) })
}

fn test_session_status(p: &mut Project, a: TestSessionStatusArgs, _owner: &str) -> Result<Done, ToolError> {
    let s = p.test_session(&a.session_id)?;
    Ok(Done { correlation: Some(s.correlation_id.clone()), ..Done::ok(session_json(&s), vec![]) })
}

fn test_session_finish(p: &mut Project, a: TestSessionFinishArgs, _owner: &str) -> Result<Done, ToolError> {
    let status = a.status.parse().map_err(|e: String| ToolError { code: "INVALID_INPUT", message: e })?;
    let s = p.test_session_finish(&a.session_id, status, a.performance)?;
    let latency = s.latency_ms().unwrap_or(0).max(0) as u64;
    Ok(Done {
        correlation: Some(s.correlation_id.clone()),
        ..Done::ok(session_json(&s), vec![("latency_ms", latency)])
    })
}
