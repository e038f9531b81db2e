//! The Model Context Protocol server, so agents can drive a project's sync, undo, locks
//! and history: the tool catalogue and the answer to each JSON-RPC message, written once
//! for every transport. `twinsync mcp` serves it over stdio (one message per line); the
//! HTTP server will serve the same [`McpServer`] at `/mcp`.
//!
//! The protocol is MCP 2025-06-18 (JSON-RPC 2.0), written by hand on serde_json alone:
//! [`McpServer::handle`] takes one message and gives its answer, with no I/O of its own
//! beyond the project it opens, so a synchronous stdio loop needs no async runtime.
//! Tool input and output schemas are generated from the Rust argument types with
//! `schemars`, so they cannot drift from what the server accepts.
//!
//! Every tool result is one envelope — `{success, audit_id, metrics, payload}` — sent as
//! `structuredContent` and, for clients that read text, as a text block with the same
//! JSON. Failures of a tool (a held lock, an unconfigured adapter) are results with
//! `isError: true` and a message a person can act on; malformed requests are JSON-RPC
//! errors. Each call on a project is recorded in its audit log (`mcp:<tool>`), and the
//! record's id is the envelope's `audit_id`. Lock tokens appear only in the answer to
//! the `lock.acquire` that created them.
//!
//! ```no_run
//! let mut server = twinsync::mcp::McpServer::new(".", None);
//! let reply = server.handle(serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}));
//! println!("{}", reply.unwrap());
//! ```

mod calls;
mod catalogue;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Map, Value};

pub use catalogue::{
    tools, CoverageArgs, Envelope, HistoryArgs, LockAcquireArgs, LockReleaseArgs, Metrics, NoArgs, OpenspecShowArgs,
    OpenspecSyncArgs, SyncArgs, UndoArgs,
};

/// A `tools/call` whose arguments decoded into the tool's argument type; see
/// [`decode_tool_call`].
#[derive(Debug)]
pub struct ToolCall(calls::Call);

impl ToolCall {
    /// The tool's name, as `tools/list` gives it.
    pub fn tool(&self) -> &'static str {
        self.0.tool()
    }
}

/// Decodes a `tools/call`'s tool name and `arguments` (`None` when absent) as the server
/// does before it runs the tool, touching no project: the error is the message the
/// client would get.
pub fn decode_tool_call(name: &str, arguments: Option<&Value>) -> Result<ToolCall, String> {
    calls::decode(name, tool_arguments(name, arguments).map_err(|e| e.message)?).map(ToolCall).map_err(|e| e.message)
}

/// A call's arguments: an object, with absent or null meaning none.
fn tool_arguments(name: &str, arguments: Option<&Value>) -> Result<Value, RpcError> {
    match arguments {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        Some(_) => Err(RpcError::new(INVALID_PARAMS, format!("{name}: \"arguments\" must be an object"))),
    }
}

/// The protocol revisions this server speaks, newest first.
pub const PROTOCOL_VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const INTERNAL_ERROR: i64 = -32603;

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

fn error_reply(id: Value, e: RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": e.code, "message": e.message}})
}

/// An MCP server over the project found from one folder, acting as one owner. It keeps
/// no project open between messages: each tool call opens the project, so it sees what
/// other processes did meanwhile (a lock taken, a sync run).
#[derive(Debug, Clone)]
pub struct McpServer {
    start: PathBuf,
    owner: String,
}

impl McpServer {
    /// A server for the project found from `start` upwards, acting as `owner` in history,
    /// audit and locks (default, or when blank: [`crate::default_actor`]).
    pub fn new(start: impl Into<PathBuf>, owner: Option<String>) -> McpServer {
        let owner = owner.filter(|o| !o.trim().is_empty()).unwrap_or_else(crate::default_actor);
        McpServer { start: start.into(), owner }
    }

    /// The folder the project is found from.
    pub fn start(&self) -> &Path {
        &self.start
    }

    /// Who the server acts as.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Answers one message given as JSON text (a line of stdio, the body of an HTTP
    /// POST): text that is not JSON gets a parse error, anything else [`Self::handle`].
    pub fn handle_json(&mut self, text: &[u8]) -> Option<Value> {
        match serde_json::from_slice(text) {
            Ok(message) => self.handle(message),
            Err(e) => Some(error_reply(Value::Null, RpcError::new(PARSE_ERROR, format!("parse error: {e}")))),
        }
    }

    /// Answers one JSON-RPC message: `Some` reply to a request (a result or an error),
    /// `None` for notifications and responses, which get no reply.
    pub fn handle(&mut self, message: Value) -> Option<Value> {
        let Value::Object(msg) = message else {
            let what = if message.is_array() { "batches are not supported by MCP 2025-06-18" } else { "not an object" };
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

    fn dispatch(&mut self, method: &str, params: &Value) -> Result<Value, RpcError> {
        match method {
            "initialize" => {
                let asked = params.get("protocolVersion").and_then(Value::as_str);
                let version = asked.filter(|v| PROTOCOL_VERSIONS.contains(v)).unwrap_or(PROTOCOL_VERSIONS[0]);
                Ok(json!({
                    "protocolVersion": version,
                    "capabilities": {"tools": {"listChanged": false}},
                    "serverInfo": {"name": "twinsync", "title": "twinsync", "version": env!("CARGO_PKG_VERSION")},
                    "instructions": "Tools over the twinsync project in the server's folder: design.driftReport to see what differs, design.sync to apply it, design.undo to take a sync back, lock.* to keep others out while you work, history.list for what happened, design.coverageReport for story coverage, design.browserTestSession.start/finish/status to record browser test runs, openspec.list/show/sync for the openspec/ folder and its database.",
                }))
            }
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({"tools": tools()})),
            "tools/call" => self.call(params),
            other => Err(RpcError::new(METHOD_NOT_FOUND, format!("method not found: {other}"))),
        }
    }

    /// `tools/call`: runs the tool and wraps its outcome in the envelope.
    fn call(&mut self, params: &Value) -> Result<Value, RpcError> {
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::new(INVALID_PARAMS, "tools/call needs \"name\", a string"))?;
        let args = tool_arguments(name, params.get("arguments"))?;
        let started = Instant::now();
        let outcome = calls::run(&self.start, &self.owner, name, args)?;
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
}
