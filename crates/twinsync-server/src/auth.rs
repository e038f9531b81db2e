//! Who may call.
//!
//! - On loopback, anyone on this machine (the platform's MVP has no login), unless an
//!   admin token was given anyway.
//! - Beyond loopback, callers with the admin token, as `Authorization: Bearer`,
//!   `?access_token=` or the `twinsync_token` cookie; and, for one project's routes
//!   (`/projects/:id` and below), an API key of that project sent the same ways. Keys
//!   never open the routes that manage keys, credentials or the registry
//!   (`/projects/:id/api-keys`, `/projects/:id/credentials`, `PUT`/`DELETE /projects/:id`,
//!   `/projects`): those stay with the admin token.
//! - The hook routes (`/hook/...`) and `/mcp` always need an API key of their project, on
//!   loopback too, checked by their handlers (see `hooks.rs`, `mcp.rs`).
//!
//! No credentials: 401. A key that is revoked or not the project's: 403. Anything else
//! that is not the admin token: 401.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest as _, Sha256};

use crate::error::{ApiError, ServeError};
use crate::AppState;

/// The server's rule.
pub(crate) struct Auth {
    /// The admin token's hash, when one is required; the token itself is not kept.
    required: Option<[u8; 32]>,
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Auth {
    /// The rule for listening on `listen`: loopback needs nothing, anything else the token.
    pub(crate) fn for_listen(listen: SocketAddr, token: Option<String>) -> Result<Auth, ServeError> {
        let token = token.filter(|t| !t.is_empty());
        if listen.ip().is_loopback() {
            return Ok(Auth { required: token.as_deref().map(hash) });
        }
        match token {
            Some(t) if t.len() >= 16 => Ok(Auth { required: Some(hash(&t)) }),
            Some(_) => Err(ServeError::Config("the admin token must be at least 16 characters".into())),
            None => Err(ServeError::Config(format!(
                "listening on {listen} (beyond loopback) needs --admin-token or TWINSYNC_ADMIN_TOKEN; \
                 and put a TLS-terminating reverse proxy in front of it"
            ))),
        }
    }

    /// Whether `given` is the admin token (always, when none is required).
    fn is_admin(&self, given: Option<&str>) -> bool {
        let Some(want) = &self.required else { return true };
        // Hashes compared, so how long a comparison takes says nothing about the token.
        given.is_some_and(|g| &hash(g) == want)
    }
}

fn bearer(req: &Request) -> Option<String> {
    crate::keys::bearer_token(req.headers())
}

fn query_token(req: &Request) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| kv.strip_prefix("access_token=")).map(str::to_string)
}

fn cookie(req: &Request) -> Option<String> {
    let v = req.headers().get(header::COOKIE)?.to_str().ok()?;
    v.split(';').find_map(|c| c.trim().strip_prefix("twinsync_token=")).map(str::to_string)
}

/// The project whose routes a key of it may call, when `path` is one of them.
fn key_scope<'a>(method: &Method, path: &'a str) -> Option<&'a str> {
    let rest = path.strip_prefix("/projects/")?;
    let (id, below) = match rest.split_once('/') {
        Some((id, below)) => (id, below),
        None => (rest, ""),
    };
    let registry_change = below.is_empty() && method != Method::GET;
    // Credentials too: a leaked key must not be able to plant or list them.
    let key_management = below == "api-keys" || below.starts_with("api-keys/") || below == "credentials";
    (!id.is_empty() && !registry_change && !key_management).then_some(id)
}

/// Refuses a call the rule does not admit, before any handler runs.
pub(crate) async fn require(State(state): State<std::sync::Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/healthz" || path.starts_with("/hook/") || path == "/mcp" {
        return next.run(req).await;
    }
    let given = bearer(&req).or_else(|| query_token(&req)).or_else(|| cookie(&req));
    if state.auth.is_admin(given.as_deref()) {
        return next.run(req).await;
    }
    let Some(given) = given else {
        return ApiError::unauthorized("this server needs its admin token, or for a project's routes an API key of it")
            .into_response();
    };
    if twinsync::looks_like_api_key(&given) {
        if let Some(id) = key_scope(req.method(), path) {
            let id = id.to_string();
            return match crate::keys::key_of_project(&state, &id, Some(given)).await {
                Ok(_) => next.run(req).await,
                Err(e) => e.into_response(),
            };
        }
        return ApiError::forbidden("an API key opens only its project's routes; this one needs the admin token")
            .into_response();
    }
    ApiError::unauthorized("this server needs its admin token, or for a project's routes an API key of it")
        .into_response()
}
