//! `twinsync mcp`: a Model Context Protocol server over stdio, so agents can drive the
//! project's sync, undo, locks and history.
//!
//! This module owns the protocol (MCP 2025-06-18: JSON-RPC 2.0, one message per line on
//! stdin/stdout, logs on stderr) and the tool catalogue. It is written by hand on std
//! alone: a synchronous request loop is all a stdio server needs, and it keeps tokio off
//! a small machine. Tool input and output schemas are generated from the Rust argument
//! types with `schemars`, so they cannot drift from what the server accepts.
//!
//! Every tool result is one envelope — `{success, audit_id, metrics, payload}` — sent as
//! `structuredContent` and, for clients that read text, as a text block with the same
//! JSON. Failures of a tool (a held lock, an unconfigured adapter) are results with
//! `isError: true` and a message a person can act on; malformed requests are JSON-RPC
//! errors. Each call on a project is recorded in its audit log (`mcp:<tool>`), and the
//! record's id is the envelope's `audit_id`. Lock tokens appear only in the answer to
//! the `lock.acquire` that created them.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use twinsync::core::audit::AuditRecord;
use twinsync::core::{Clock, Direction, DriftClass, ErrorCode, OperationReport, Policy, Store, SystemClock};
use twinsync::{Project, SyncRequest};

use crate::cmd_project::Common;

/// The protocol revisions this server speaks, newest first.
pub const PROTOCOL_VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const INTERNAL_ERROR: i64 = -32603;

/// Arguments of `twinsync mcp`.
#[derive(clap::Args, Debug)]
pub struct McpArgs {
    /// Act as NAME in history, audit and locks (default: $TWINSYNC_OWNER, else the OS user).
    #[arg(long, value_name = "NAME")]
    pub owner: Option<String>,
}

// ---- tool arguments (their JSON Schemas are the tools' inputSchema) ----

/// Arguments of `design.sync`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncArgs {
    /// Plan only: return the actions and diffs, change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Conflict policy for this run: manual, prefer-left, prefer-right, newest-wins, merge, merge:left, merge:right.
    pub policy: Option<String>,
    /// Direction for this run: both, left-to-right, right-to-left.
    pub direction: Option<String>,
    /// Allow a sync that deletes most of a replica.
    #[serde(default)]
    pub allow_mass_delete: bool,
}

/// Arguments of tools that take none.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Arguments of `design.undo`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UndoArgs {
    /// Operation id (or a unique prefix); the newest undoable operation when omitted.
    pub operation_id: Option<String>,
}

/// Arguments of `design.coverageReport`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageArgs {
    /// Components: our `components.json` or Storybook's `manifests/components.json` (relative to the project).
    pub components: String,
    /// Stories: Storybook's built `index.json` (relative to the project).
    pub stories: String,
}

/// Arguments of `openspec.sync`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenspecSyncArgs {
    /// One change id; every change when omitted.
    pub change: Option<String>,
    /// Plan only.
    #[serde(default)]
    pub dry_run: bool,
}

/// Arguments of `openspec.show`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenspecShowArgs {
    /// The change id.
    pub change: String,
}

/// Arguments of `lock.acquire`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockAcquireArgs {
    /// Who takes the lock (default: the server's identity).
    pub owner: Option<String>,
    /// Lifetime in seconds (default: guard.lock_ttl_minutes from the config).
    pub ttl_seconds: Option<u32>,
    /// Why, shown to anyone who finds it held.
    pub reason: Option<String>,
}

/// Arguments of `lock.release`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockReleaseArgs {
    /// The token `lock.acquire` returned.
    pub token: String,
}

/// Arguments of `history.list`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryArgs {
    /// Most operations to return, newest first (default 20).
    pub limit: Option<u32>,
}

/// Figures about a call: its wall time and item counts.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Metrics {
    /// Wall time of the call in milliseconds.
    pub duration_ms: u64,
    /// Item counts (applied, conflicts, restored, ...), by name.
    #[serde(flatten)]
    pub counts: BTreeMap<String, u64>,
}

/// What every tool returns (the tools' outputSchema).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Envelope {
    /// Whether the tool did what was asked.
    pub success: bool,
    /// The id of the audit record of this call (null when no project was opened).
    pub audit_id: Option<String>,
    /// Wall time and item counts.
    pub metrics: Metrics,
    /// The tool's answer; on failure `{"error": {"code", "message"}}`.
    pub payload: Value,
}

/// One tool of the catalogue.
struct Tool {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    input: fn() -> Value,
    read_only: bool,
    destructive: bool,
}

fn schema<T: JsonSchema>() -> Value {
    let mut v = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_else(|_| json!({"type": "object"}));
    if let Some(o) = v.as_object_mut() {
        // The client knows the dialect from MCP; the title repeats the Rust type name.
        o.remove("$schema");
        o.remove("title");
        o.entry("properties").or_insert_with(|| json!({}));
    }
    v
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "design.sync",
        title: "Sync the design pair",
        description: "Sync the project's configured pair (folder or database replicas) by direction and policy. Conflicts are left as they are unless a policy resolves them. dry_run returns the plan and diffs without changing anything. Undo with design.undo.",
        input: schema::<SyncArgs>,
        read_only: false,
        destructive: true,
    },
    Tool {
        name: "design.driftReport",
        title: "Drift report",
        description: "List the items that differ between the two replicas and how (left-modified, both-modified, ...), with counts. Changes nothing.",
        input: schema::<NoArgs>,
        read_only: true,
        destructive: false,
    },
    Tool {
        name: "design.undo",
        title: "Undo a sync",
        description: "Undo a sync operation item by item (the newest undoable one by default), never overwriting work done after it; refused items are listed with the reason.",
        input: schema::<UndoArgs>,
        read_only: false,
        destructive: true,
    },
    Tool {
        name: "design.coverageReport",
        title: "Design coverage report",
        description: "Story coverage per component, worst first: variants with a story, missing variants, missing test kinds (interaction, visual, a11y), warnings. Reads a components manifest and Storybook's index.json, as `twinsync design coverage --json` does.",
        input: schema::<CoverageArgs>,
        read_only: true,
        destructive: false,
    },
    Tool {
        name: "openspec.sync",
        title: "Sync OpenSpec changes",
        description: "Sync the project's openspec/ folder with its database (.twinsync/openspec.db): the files win conflicts, the losing version is kept; archived changes move, removed ones are soft-deleted. dry_run lists what would change.",
        input: schema::<OpenspecSyncArgs>,
        read_only: false,
        destructive: false,
    },
    Tool {
        name: "openspec.list",
        title: "List OpenSpec changes",
        description: "Active OpenSpec changes with task progress, as `openspec list --json` prints them (from the project's openspec/ folder).",
        input: schema::<NoArgs>,
        read_only: true,
        destructive: false,
    },
    Tool {
        name: "openspec.show",
        title: "Show an OpenSpec change",
        description: "One OpenSpec change with its deltas, as `openspec show ID --type change --json` prints it.",
        input: schema::<OpenspecShowArgs>,
        read_only: true,
        destructive: false,
    },
    Tool {
        name: "lock.acquire",
        title: "Acquire the project lock",
        description: "Take the project lock so other agents and people (through `twinsync guard`) do not write meanwhile. Returns the token; keep it to release. Fails, saying who holds it and until when, if someone else does.",
        input: schema::<LockAcquireArgs>,
        read_only: false,
        destructive: false,
    },
    Tool {
        name: "lock.release",
        title: "Release the project lock",
        description: "Release the project lock with the token lock.acquire returned.",
        input: schema::<LockReleaseArgs>,
        read_only: false,
        destructive: false,
    },
    Tool {
        name: "lock.status",
        title: "Project lock status",
        description: "Who holds the project lock, why and until when (never the token).",
        input: schema::<NoArgs>,
        read_only: true,
        destructive: false,
    },
    Tool {
        name: "history.list",
        title: "Recent operations",
        description: "Recent sync and undo operations, newest first, with their counts and undo windows.",
        input: schema::<HistoryArgs>,
        read_only: true,
        destructive: false,
    },
];

/// A JSON-RPC error to send back.
#[derive(Debug)]
struct RpcError {
    code: i64,
    message: String,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError { code, message: message.into() }
    }
}

/// A tool failure: becomes a result with `isError: true`.
struct ToolError {
    code: &'static str,
    message: String,
}

impl From<twinsync::Error> for ToolError {
    fn from(e: twinsync::Error) -> Self {
        ToolError { code: e.code().as_str(), message: e.to_string() }
    }
}

/// What a tool produced on success.
struct Done {
    payload: Value,
    counts: Vec<(&'static str, u64)>,
    success: bool,
    correlation: Option<String>,
}

impl Done {
    fn ok(payload: Value, counts: Vec<(&'static str, u64)>) -> Self {
        Done { payload, counts, success: true, correlation: None }
    }
}

/// The server's state between messages.
struct Server {
    start: PathBuf,
    owner: String,
}

/// `twinsync mcp`: serves until stdin closes.
pub fn mcp(a: McpArgs, common: &Common) -> ExitCode {
    let owner = a.owner.filter(|o| !o.trim().is_empty()).unwrap_or_else(twinsync::default_actor);
    let server = Server { start: common.dir.clone().unwrap_or_else(|| PathBuf::from(".")), owner };
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => return ExitCode::SUCCESS,
            Ok(_) => {}
            Err(e) => {
                eprintln!("twinsync mcp: cannot read stdin: {e}");
                return ExitCode::from(2);
            }
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some(reply) = server.handle_line(&line) {
            let text = serde_json::to_string(&reply).unwrap_or_else(|e| {
                serde_json::to_string(&error_reply(Value::Null, RpcError::new(INTERNAL_ERROR, e.to_string())))
                    .unwrap_or_default()
            });
            if writeln!(out, "{text}").and_then(|_| out.flush()).is_err() {
                // The client went away; nothing left to serve.
                return ExitCode::SUCCESS;
            }
        }
    }
}

fn error_reply(id: Value, e: RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": e.code, "message": e.message}})
}

impl Server {
    /// Answers one line; `None` for notifications and responses, which get no reply.
    fn handle_line(&self, line: &[u8]) -> Option<Value> {
        let msg: Value = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => return Some(error_reply(Value::Null, RpcError::new(PARSE_ERROR, format!("parse error: {e}")))),
        };
        let Value::Object(msg) = msg else {
            let what = if msg.is_array() { "batches are not supported by MCP 2025-06-18" } else { "not an object" };
            return Some(error_reply(Value::Null, RpcError::new(INVALID_REQUEST, format!("invalid request: {what}"))));
        };
        let id = msg.get("id").cloned();
        let valid_id = match &id {
            None => true,
            Some(Value::String(_)) => true,
            Some(Value::Number(n)) => n.is_i64() || n.is_u64(),
            _ => false,
        };
        let reply_id = id.clone().filter(|_| valid_id).unwrap_or(Value::Null);
        if msg.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Some(error_reply(
                reply_id,
                RpcError::new(INVALID_REQUEST, "invalid request: \"jsonrpc\" must be \"2.0\""),
            ));
        }
        if !valid_id {
            return Some(error_reply(
                Value::Null,
                RpcError::new(INVALID_REQUEST, "invalid request: \"id\" must be a string or an integer"),
            ));
        }
        let Some(method) = msg.get("method").and_then(Value::as_str) else {
            if id.is_some() && (msg.contains_key("result") || msg.contains_key("error")) {
                return None; // A response to a request we never send; nothing to do.
            }
            return Some(error_reply(reply_id, RpcError::new(INVALID_REQUEST, "invalid request: no \"method\"")));
        };
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        if !matches!(params, Value::Null | Value::Object(_)) {
            return id.map(|id| error_reply(id, RpcError::new(INVALID_PARAMS, "\"params\" must be an object")));
        }
        let Some(id) = id else {
            // Notifications (initialized, cancelled, ...) need no answer.
            return None;
        };
        Some(match self.dispatch(method, &params) {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err(e) => error_reply(id, e),
        })
    }

    fn dispatch(&self, method: &str, params: &Value) -> Result<Value, RpcError> {
        match method {
            "initialize" => {
                let asked = params.get("protocolVersion").and_then(Value::as_str);
                let version = asked.filter(|v| PROTOCOL_VERSIONS.contains(v)).unwrap_or(PROTOCOL_VERSIONS[0]);
                Ok(json!({
                    "protocolVersion": version,
                    "capabilities": {"tools": {"listChanged": false}},
                    "serverInfo": {"name": "twinsync", "title": "twinsync", "version": env!("CARGO_PKG_VERSION")},
                    "instructions": "Tools over the twinsync project in the server's folder: design.driftReport to see what differs, design.sync to apply it, design.undo to take a sync back, lock.* to keep others out while you work, history.list for what happened, design.coverageReport for story coverage, openspec.list/show/sync for the openspec/ folder and its database.",
                }))
            }
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({"tools": TOOLS.iter().map(describe_tool).collect::<Vec<_>>()})),
            "tools/call" => self.call(params),
            other => Err(RpcError::new(METHOD_NOT_FOUND, format!("method not found: {other}"))),
        }
    }

    fn call(&self, params: &Value) -> Result<Value, RpcError> {
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::new(INVALID_PARAMS, "tools/call needs \"name\", a string"))?;
        let args = match params.get("arguments") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => return Err(RpcError::new(INVALID_PARAMS, format!("{name}: \"arguments\" must be an object"))),
        };
        let started = Instant::now();
        let outcome = match name {
            "design.sync" => self.with_project(name, parse::<SyncArgs>(name, args)?, design_sync),
            "design.driftReport" => self.with_project(name, parse::<NoArgs>(name, args)?, drift_report),
            "design.undo" => self.with_project(name, parse::<UndoArgs>(name, args)?, design_undo),
            "design.coverageReport" => self.with_project(name, parse::<CoverageArgs>(name, args)?, coverage_report),
            "openspec.sync" => self.with_project(name, parse::<OpenspecSyncArgs>(name, args)?, openspec_sync),
            "openspec.list" => self.with_project(name, parse::<NoArgs>(name, args)?, openspec_list),
            "openspec.show" => self.with_project(name, parse::<OpenspecShowArgs>(name, args)?, openspec_show),
            "lock.acquire" => self.with_project(name, parse::<LockAcquireArgs>(name, args)?, lock_acquire),
            "lock.release" => self.with_project(name, parse::<LockReleaseArgs>(name, args)?, lock_release),
            "lock.status" => self.with_project(name, parse::<NoArgs>(name, args)?, lock_status),
            "history.list" => self.with_project(name, parse::<HistoryArgs>(name, args)?, history_list),
            other => {
                return Err(RpcError::new(INVALID_PARAMS, format!("unknown tool: {other}; tools/list names them")))
            }
        };
        let duration_ms = started.elapsed().as_millis() as u64;
        let (envelope, is_error) = match outcome {
            Ok((done, audit_id)) => (
                Envelope {
                    success: done.success,
                    audit_id,
                    metrics: Metrics {
                        duration_ms,
                        counts: done.counts.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                    },
                    payload: done.payload,
                },
                !done.success,
            ),
            Err((e, audit_id)) => (
                Envelope {
                    success: false,
                    audit_id,
                    metrics: Metrics { duration_ms, counts: BTreeMap::new() },
                    payload: json!({"error": {"code": e.code, "message": e.message}}),
                },
                true,
            ),
        };
        let structured = serde_json::to_value(&envelope).map_err(|e| RpcError::new(INTERNAL_ERROR, e.to_string()))?;
        let text = serde_json::to_string(&structured).map_err(|e| RpcError::new(INTERNAL_ERROR, e.to_string()))?;
        Ok(json!({
            "content": [{"type": "text", "text": text}],
            "structuredContent": structured,
            "isError": is_error,
        }))
    }

    /// Opens the project, runs `f`, and records the call in the audit log.
    fn with_project<A>(
        &self,
        tool: &str,
        args: A,
        f: fn(&mut Project, A, &str) -> Result<Done, ToolError>,
    ) -> Result<(Done, Option<String>), (ToolError, Option<String>)> {
        let started = Instant::now();
        let mut project = Project::open(&self.start).map_err(|e| (ToolError::from(e), None))?;
        project.set_actor(self.owner.clone());
        let result = f(&mut project, args, &self.owner);
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
                at: SystemClock.now(),
                detail,
            };
            project.store().append_audit(&record).ok()
        };
        match result {
            Ok(d) => Ok((d, audit_id)),
            Err(e) => Err((e, audit_id)),
        }
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
    let doc = twinsync::api::design_coverage(&components.to_string_lossy(), &stories.to_string_lossy())?;
    let n = doc["components"].as_array().map_or(0, Vec::len) as u64;
    Ok(Done::ok(doc, vec![("components", n)]))
}

/// `openspec.sync`: the files <-> database sync of the project's `openspec/` folder, once,
/// through the same call the bindings make.
fn openspec_sync(p: &mut Project, a: OpenspecSyncArgs, _owner: &str) -> Result<Done, ToolError> {
    let opts = twinsync::api::OpenspecSyncOptions { change: a.change, dry_run: a.dry_run, policy: None };
    let doc = twinsync::api::openspec_sync(&p.dir().to_string_lossy(), &opts)?;
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

fn parse<A: DeserializeOwned>(tool: &str, args: Value) -> Result<A, RpcError> {
    serde_json::from_value(args).map_err(|e| RpcError::new(INVALID_PARAMS, format!("{tool}: invalid arguments: {e}")))
}

fn describe_tool(t: &Tool) -> Value {
    json!({
        "name": t.name,
        "title": t.title,
        "description": t.description,
        "inputSchema": (t.input)(),
        "outputSchema": schema::<Envelope>(),
        "annotations": {
            "title": t.title,
            "readOnlyHint": t.read_only,
            "destructiveHint": t.destructive,
            "openWorldHint": false,
        },
    })
}

fn invalid(message: String) -> ToolError {
    ToolError { code: ErrorCode::InvalidInput.as_str(), message }
}

/// Writes wait for another owner's project lock, as `twinsync guard` makes agents' edits wait.
fn refuse_if_locked(p: &mut Project, owner: &str, tool: &str) -> Result<(), ToolError> {
    match p.lock_status()? {
        Some(l) if l.owner != owner => {
            let why = l.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            Err(ToolError {
                code: ErrorCode::Locked.as_str(),
                message: format!(
                    "{tool} would write while the project lock is held by {} until {}{why}; you are {owner}. Wait for it, or ask {} to release it",
                    l.owner, l.expires_at, l.owner
                ),
            })
        }
        _ => Ok(()),
    }
}

fn design_sync(p: &mut Project, a: SyncArgs, owner: &str) -> Result<Done, ToolError> {
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
    let req = SyncRequest { policy, direction, allow_mass_delete: a.allow_mass_delete, ..Default::default() };
    if a.dry_run {
        let preview = p.preview(&req)?;
        let conflicts = preview.plan.actions.iter().filter(|x| x.kind == twinsync::core::ActionKind::Conflict).count();
        let counts = vec![("planned", preview.plan.actions.len() as u64), ("conflicts", conflicts as u64)];
        return Ok(Done::ok(json!({"dry_run": true, "preview": preview}), counts));
    }
    refuse_if_locked(p, owner, "design.sync")?;
    let report = p.sync(&req)?;
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

fn drift_report(p: &mut Project, _: NoArgs, _owner: &str) -> Result<Done, ToolError> {
    let drift = p.status()?;
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
    Ok(Done::ok(json!({"items": items, "counts": by_class, "in_sync": in_sync}), counts))
}

fn design_undo(p: &mut Project, a: UndoArgs, owner: &str) -> Result<Done, ToolError> {
    refuse_if_locked(p, owner, "design.undo")?;
    let u = p.undo(a.operation_id.as_deref())?;
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
    Ok(Done::ok(json!({"released": crate::cmd_lock::public(&lock)}), vec![("held", 0)]))
}

fn lock_status(p: &mut Project, _: NoArgs, _owner: &str) -> Result<Done, ToolError> {
    let lock = p.lock_status()?;
    let held = u64::from(lock.is_some());
    Ok(Done::ok(
        json!({"held": lock.is_some(), "lock": lock.as_ref().map(crate::cmd_lock::public)}),
        vec![("held", held)],
    ))
}

fn history_list(p: &mut Project, a: HistoryArgs, _owner: &str) -> Result<Done, ToolError> {
    let ops = p.operations(a.limit.unwrap_or(20) as usize)?;
    let rows: Vec<_> = ops.iter().map(OperationReport::summary).collect();
    Ok(Done::ok(json!({"operations": rows}), vec![("operations", ops.len() as u64)]))
}
