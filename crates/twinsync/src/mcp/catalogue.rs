//! The tool catalogue: every tool's name, title, description and hints, and the Rust
//! types of its arguments and answer. Input and output schemas are generated from those
//! types with `schemars`, so they cannot drift from what [`super::McpServer`] accepts.

use std::collections::BTreeMap;
use std::sync::Arc;

use rmcp::model::{JsonObject, Tool as McpTool, ToolAnnotations};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

// ---- tool arguments (their JSON Schemas are the tools' inputSchema) ----

/// Arguments of `design.sync`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncArgs {
    /// The pair: the project's design pair when omitted, else its only pair.
    pub pair: Option<String>,
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
    /// Also make formatting-only items byte-equal: the side the direction or policy picks gives its bytes.
    #[serde(default)]
    pub formatting: bool,
}

/// Arguments of `design.driftReport`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftArgs {
    /// The pair: the project's design pair when omitted, else its only pair.
    pub pair: Option<String>,
}

/// Arguments of tools that take none.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Arguments of `design.undo`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UndoArgs {
    /// The pair whose newest undoable operation is undone: the project's design pair when omitted, else its only pair (an operation_id names its own pair).
    pub pair: Option<String>,
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

/// Arguments of `openspec.setStatus`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenspecStatusArgs {
    pub(crate) id: String,
    pub(crate) status: String,
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
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

/// Arguments of `design.browserTestSession.start`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestSessionStartArgs {
    /// The story under test (a Storybook story id such as `button--primary`).
    pub story_id: String,
    /// Ties the session to what started it (default: the session's id).
    pub correlation_id: Option<String>,
}

/// Arguments of `design.browserTestSession.status`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestSessionStatusArgs {
    /// The id `design.browserTestSession.start` returned.
    pub session_id: String,
}

/// Arguments of `design.browserTestSession.finish`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestSessionFinishArgs {
    /// The id `design.browserTestSession.start` returned.
    pub session_id: String,
    /// How it ended: passed, failed or aborted.
    pub status: String,
    /// The runner's performance summary (timings, Web Vitals), kept as given.
    pub performance: Option<Value>,
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
pub(super) struct Tool {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    input: fn() -> JsonObject,
    read_only: bool,
    destructive: bool,
}

fn schema<T: JsonSchema>() -> JsonObject {
    let v = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_else(|_| json!({"type": "object"}));
    let mut o = match v {
        Value::Object(o) => o,
        _ => JsonObject::from_iter([("type".to_string(), json!("object"))]),
    };
    // The client knows the dialect from MCP; the title repeats the Rust type name.
    o.remove("$schema");
    o.remove("title");
    o.entry("properties").or_insert_with(|| json!({}));
    o
}

/// Every tool the server offers, in the order `tools/list` gives them.
pub(super) const TOOLS: &[Tool] = &[
    Tool {
        name: "design.sync",
        title: "Sync the design pair",
        description: "Sync one pair through the engine: `pair`, else the project's design pair (code and design components files, one item per component), else its only pair (folders or database). Direction and policy default to the pair's. Conflicts are left as they are unless a policy resolves them. dry_run returns the plan and diffs without changing anything. Undo with design.undo.",
        input: schema::<SyncArgs>,
        read_only: false,
        destructive: true,
    },
    Tool {
        name: "design.driftReport",
        title: "Drift report",
        description: "What differs in `pair` (else the project's design pair, else its only pair), with counts. A design pair answers with component drift against its last sync (changed in code, in design, in both, renamed, only on one side; tokens; design variants without a story); a folders pair with its items and drift classes (left-modified, both-modified, ...). Changes nothing.",
        input: schema::<NoArgs>,
        read_only: true,
        destructive: false,
    },
    Tool {
        name: "design.undo",
        title: "Undo a sync",
        description: "Undo a sync operation item by item (by default the newest undoable one of `pair`, else of the project's design pair, else of its only pair), restoring both sides and never overwriting work done after it; refused items are listed with the reason.",
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
        name: "design.browserTestSession.start",
        title: "Start a browser test session",
        description: "Record the start of a browser test run of a story (status running) and return its session id. twinsync records and notifies; running the browser is the caller's job.",
        input: schema::<TestSessionStartArgs>,
        read_only: false,
        destructive: false,
    },
    Tool {
        name: "design.browserTestSession.status",
        title: "Browser test session status",
        description: "One browser test session: story, status (running, passed, failed, aborted), start and end, latency, performance summary, correlation id.",
        input: schema::<TestSessionStatusArgs>,
        read_only: true,
        destructive: false,
    },
    Tool {
        name: "design.browserTestSession.finish",
        title: "Finish a browser test session",
        description: "Record how a running browser test session ended (passed, failed or aborted) with its performance summary; a failure emits a browser_test_failure event to the project's webhooks.",
        input: schema::<TestSessionFinishArgs>,
        read_only: false,
        destructive: false,
    },
    Tool {
        name: "openspec.sync",
        title: "Sync OpenSpec changes",
        description: "Sync the project's openspec pair (its openspec/ folder and database, .twinsync/openspec.db) through the engine: the files win conflicts, the losing version is kept; archived changes move, removed ones are soft-deleted. The sync is in history.list and undone with design.undo. dry_run lists what would change.",
        input: schema::<OpenspecSyncArgs>,
        read_only: false,
        destructive: false,
    },
    Tool {
        name: "openspec.setStatus",
        title: "Set an OpenSpec lifecycle status",
        description: "Set the lifecycle status of a change (or a spec, with type \"spec\") in the OpenSpec database: proposing, approved, assigned, in_progress, review or archived. Task progress moves it on from there.",
        input: schema::<OpenspecStatusArgs>,
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

/// The `tools/list` entries as JSON: name, title, description, input and output schemas,
/// annotations.
pub fn tools() -> Vec<Value> {
    tool_list().iter().map(|t| serde_json::to_value(t).expect("a tool serialises")).collect()
}

/// The `tools/list` entries, in catalogue order.
pub(super) fn tool_list() -> Vec<McpTool> {
    let output = Arc::new(schema::<Envelope>());
    TOOLS.iter().map(|t| describe_tool(t, output.clone())).collect()
}

fn describe_tool(t: &Tool, output: Arc<JsonObject>) -> McpTool {
    let hints =
        ToolAnnotations::with_title(t.title).read_only(t.read_only).destructive(t.destructive).open_world(false);
    McpTool::new_with_raw(t.name, Some(t.description.into()), (t.input)())
        .with_title(t.title)
        .with_raw_output_schema(output)
        .with_annotations(hints)
}
