//! The Model Context Protocol server, so agents can drive a project's sync, undo, locks
//! and history: the tool catalogue and what each tool does, written once for every
//! transport. `twinsync mcp` serves it over stdio ([`McpServer::serve_stdio`]); with the
//! `mcp-http` feature, `twinsync serve` serves the same [`McpServer`] over Streamable HTTP
//! at `/mcp` ([`HttpEndpoint`]).
//!
//! The protocol (JSON-RPC framing, the handshake, version negotiation, sessions) is the
//! official Rust SDK's, `rmcp`; this module implements its [`ServerHandler`] over the
//! catalogue. It speaks MCP up to 2025-06-18 ([`PROTOCOL_VERSIONS`]). `tools/list` and
//! `tools/call` are answered from the one table in `catalogue.rs` rather than with rmcp's
//! `#[tool]` macros, which would spread the catalogue over fifteen annotated methods and
//! generate the schemas their own way. Tool input and output schemas are generated from
//! the Rust argument types with `schemars`, so they cannot drift from what the server
//! accepts.
//!
//! Every tool result is one envelope — `{success, audit_id, metrics, payload}` — sent as
//! `structuredContent` and, for clients that read text, as a text block with the same
//! JSON. Failures of a tool (a held lock, an unconfigured adapter) are results with
//! `isError: true` and a message a person can act on; unknown tools and arguments that
//! do not fit the tool's schema are JSON-RPC errors (invalid params). Each call on a
//! project is recorded in its audit log (`mcp:<tool>`), and the record's id is the
//! envelope's `audit_id`. Lock tokens appear only in the answer to the `lock.acquire`
//! that created them.
//!
//! ```no_run
//! let server = twinsync::mcp::McpServer::new(".", None);
//! server.serve_stdio().unwrap(); // until stdin closes
//! ```

mod calls;
mod catalogue;
#[cfg(feature = "mcp-http")]
mod http;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CustomRequest, CustomResult, ErrorCode, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ProtocolVersion, ServerCapabilities, ServerConfig, Tool,
    ToolsCapability,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Value};

pub use catalogue::{
    tools, CoverageArgs, Envelope, HistoryArgs, LockAcquireArgs, LockReleaseArgs, Metrics, NoArgs, OpenspecShowArgs,
    OpenspecSyncArgs, SyncArgs, UndoArgs,
};
#[cfg(feature = "mcp-http")]
pub use http::{HttpEndpoint, HttpOptions};

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
    let args = tool_arguments(name, arguments).map_err(|e| e.message.to_string())?;
    calls::decode(name, args).map(ToolCall).map_err(|e| e.message.to_string())
}

/// A call's arguments: an object, with absent or null meaning none.
fn tool_arguments(name: &str, arguments: Option<&Value>) -> Result<Value, ErrorData> {
    match arguments {
        None | Some(Value::Null) => Ok(Value::Object(serde_json::Map::new())),
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        Some(_) => Err(ErrorData::invalid_params(format!("{name}: \"arguments\" must be an object"), None)),
    }
}

/// The protocol revisions this server speaks, newest first.
pub const PROTOCOL_VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];

/// The newest revision we speak; rmcp answers a client asking for anything we do not
/// speak with it. Later revisions change the lifecycle (no `initialize`), which this
/// server has not been tried against.
const NEWEST: ProtocolVersion = ProtocolVersion::V_2025_06_18;

const INSTRUCTIONS: &str = "Tools over the twinsync project in the server's folder: design.driftReport to see what differs, design.sync to apply it, design.undo to take a sync back, lock.* to keep others out while you work, history.list for what happened, design.coverageReport for story coverage, design.browserTestSession.start/finish/status to record browser test runs, openspec.list/show/sync for the openspec/ folder and its database.";

/// An MCP server over the project found from one folder, acting as one owner. It keeps
/// no project open between calls: each tool call opens the project, so it sees what
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

    /// Serves one client on stdin and stdout (one JSON-RPC message per line) until stdin
    /// closes. Logs go wherever the process's tracing subscriber sends them, never to
    /// stdout. Builds its own small runtime, so the caller needs none.
    pub fn serve_stdio(self) -> std::io::Result<()> {
        // Tool calls run on the blocking pool; the one event thread only moves messages.
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(async move {
            let running = match self.serve(rmcp::transport::stdio()).await {
                Ok(running) => running,
                // A client that closes stdin before (or instead of) the handshake has
                // nothing more to ask; that ends the server, as EOF does later.
                Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
                Err(e) => return Err(std::io::Error::other(e)),
            };
            running.waiting().await.map(|_| ()).map_err(std::io::Error::other)
        })
    }

    /// Runs tool `name` and wraps its outcome in the envelope; blocks on the project.
    fn call_blocking(&self, name: &str, arguments: Option<JsonObject>) -> Result<CallToolResult, ErrorData> {
        let args = Value::Object(arguments.unwrap_or_default());
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
        let structured = serde_json::to_value(&envelope).map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        // Both put the same JSON in a text block and in structuredContent.
        Ok(if is_error { CallToolResult::structured_error(structured) } else { CallToolResult::structured(structured) })
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let mut tools = ToolsCapability::default();
        tools.list_changed = Some(false);
        let mut capabilities = ServerCapabilities::default();
        capabilities.tools = Some(tools);
        ServerConfig::new(capabilities)
            .with_protocol_version(NEWEST)
            .with_server_info(Implementation::new("twinsync", env!("CARGO_PKG_VERSION")).with_title("twinsync"))
            .with_instructions(INSTRUCTIONS)
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::known_up_to(&NEWEST))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(catalogue::tool_list()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        catalogue::tool_list().into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let server = self.clone();
        // A sync or an undo does file and database I/O for as long as it takes; off the
        // event thread, pings and other sessions keep being answered meanwhile.
        tokio::task::spawn_blocking(move || server.call_blocking(&request.name, request.arguments))
            .await
            .map_err(|e| ErrorData::internal_error(format!("the tool call did not finish: {e}"), None))?
            .map(CallToolResponse::from)
    }

    /// rmcp hands over, as a custom request, any request it could not read as one it
    /// knows — among them a `tools/call` whose params do not fit; that one gets
    /// "invalid params" saying what is wrong, as a misspelt argument does.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        if request.method != "tools/call" {
            return Err(ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("method not found: {}", request.method),
                None,
            ));
        }
        let params = request.params.unwrap_or(Value::Null);
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return Err(ErrorData::invalid_params("tools/call needs \"name\", a string", None));
        };
        match params.get("arguments") {
            None | Some(Value::Null | Value::Object(_)) => {
                Err(ErrorData::invalid_params(format!("tools/call {name}: params do not fit the protocol"), None))
            }
            Some(_) => Err(ErrorData::invalid_params(format!("{name}: \"arguments\" must be an object"), None)),
        }
    }
}
