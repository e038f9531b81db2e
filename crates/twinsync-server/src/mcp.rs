//! `/mcp`: the facade's MCP server (the same tool catalogue as `twinsync mcp` on stdio)
//! over Streamable HTTP, rmcp's transport, for agents that reach the team server.
//!
//! Every request needs an API key (`Authorization: Bearer tsk_...`), on loopback too: 401
//! without one, 403 for a revoked key or one of no project here ([`crate::project_for_key`]; the
//! server asks the project the key used last first, on its open projects).
//! The key decides the project, and each key has an endpoint of its own, so a session
//! (`Mcp-Session-Id`) opened with one key serves that key's project only: the same
//! session id sent with another key is unknown there (404). Tools act as the key's name
//! in history, audit and locks. Revoking a key ends its sessions at its next request;
//! unregistering a project ends its sessions at once, open event streams included, as
//! shutting the server down ends them all, so open event streams do not hold it up.
//!
//! Only a digest of each key is held in memory, to find its endpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sha2::{Digest as _, Sha256};
use twinsync::core::secret::Secret;
use twinsync::mcp::{HttpEndpoint, HttpOptions, McpServer};
use twinsync::{KeyCheck, Project};

use crate::error::ApiError;
use crate::keys::{bearer_token, project_of_key};
use crate::registry::Registered;
use crate::AppState;

/// The endpoints of the keys that called, by the project and the key's digest.
pub(crate) struct McpHosts {
    options: HttpOptions,
    endpoints: Mutex<HashMap<(String, [u8; 32]), HttpEndpoint>>,
}

impl McpHosts {
    pub(crate) fn new(options: HttpOptions) -> McpHosts {
        McpHosts { options, endpoints: Mutex::new(HashMap::new()) }
    }

    /// Ends every session; later requests are refused.
    pub(crate) fn close(&self) {
        for endpoint in self.endpoints.lock().expect("mcp endpoints").values() {
            endpoint.close();
        }
    }

    /// Drops the endpoints of the key with digest `digest`, ending their sessions.
    fn forget(&self, digest: &[u8; 32]) {
        self.endpoints.lock().expect("mcp endpoints").retain(|(_, d), endpoint| {
            let keep = d != digest;
            if !keep {
                endpoint.close();
            }
            keep
        });
    }

    /// Drops the endpoints of project `id` (unregistered), ending their sessions: a key
    /// of it is refused from now on, and one of the folder registered again opens anew.
    pub(crate) fn forget_project(&self, id: &str) {
        self.endpoints.lock().expect("mcp endpoints").retain(|(project, _), endpoint| {
            let keep = project != id;
            if !keep {
                endpoint.close();
            }
            keep
        });
    }

    /// The project of the endpoint the key with digest `digest` used last, if any.
    fn project_of(&self, digest: &[u8; 32]) -> Option<String> {
        self.endpoints.lock().expect("mcp endpoints").keys().find(|(_, d)| d == digest).map(|(id, _)| id.clone())
    }

    fn get(&self, at: &(String, [u8; 32])) -> Option<HttpEndpoint> {
        self.endpoints.lock().expect("mcp endpoints").get(at).cloned()
    }

    /// The endpoint at `at`, made with `server` unless another request made it first.
    fn insert(&self, at: (String, [u8; 32]), server: McpServer) -> HttpEndpoint {
        let mut endpoints = self.endpoints.lock().expect("mcp endpoints");
        endpoints.entry(at).or_insert_with(|| HttpEndpoint::new(server, &self.options)).clone()
    }
}

/// Any method on `/mcp`: the key is checked, then rmcp answers.
pub(crate) async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let token = bearer_token(req.headers());
    let hint = token.as_deref().and_then(|t| state.mcp.project_of(&digest(t)));
    let reg = match project_of_key(&state, token.as_deref(), hint.as_deref()).await {
        Ok(reg) => reg,
        Err(e) => {
            if let (Some(t), StatusCode::FORBIDDEN) = (&token, e.status()) {
                state.mcp.forget(&digest(t));
            }
            return e.into_response();
        }
    };
    let Some(token) = token else { return ApiError::unauthorized("this route needs an API key").into_response() };
    let at = (reg.id.clone(), digest(&token));
    let endpoint = match state.mcp.get(&at) {
        Some(endpoint) => endpoint,
        None => match server_for_key(reg, Secret::new(token)).await {
            Ok(server) => state.mcp.insert(at, server),
            Err(e) => return e.into_response(),
        },
    };
    endpoint.handle(req).await.map(Body::new)
}

/// The MCP server for a live key of project `reg`, acting as the key's name.
async fn server_for_key(reg: Registered, token: Secret) -> Result<McpServer, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut project = Project::open(&reg.path)?;
        match project.api_key_verify(token.expose())? {
            KeyCheck::Accepted(key) => Ok(McpServer::new(&reg.path, Some(key.name))),
            // Revoked between the two looks: as project_for_key answers such a key.
            _ => Err(ApiError::forbidden("the API key sent was revoked")),
        }
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "IO", format!("the key check did not finish: {e}")))?
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}
