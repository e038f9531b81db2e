//! Who may call: on loopback, anyone on this machine (the platform's MVP has no login);
//! beyond loopback, only callers with the admin token, as `Authorization: Bearer`,
//! `?access_token=` or the `twinsync_token` cookie.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
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

    fn admits(&self, req: &Request) -> bool {
        let Some(want) = &self.required else { return true };
        let given = bearer(req).or_else(|| query_token(req)).or_else(|| cookie(req));
        // Hashes compared, so how long a comparison takes says nothing about the token.
        given.is_some_and(|g| &hash(&g) == want)
    }
}

fn bearer(req: &Request) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(|t| t.trim().to_string())
}

fn query_token(req: &Request) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| kv.strip_prefix("access_token=")).map(str::to_string)
}

fn cookie(req: &Request) -> Option<String> {
    let v = req.headers().get(header::COOKIE)?.to_str().ok()?;
    v.split(';').find_map(|c| c.trim().strip_prefix("twinsync_token=")).map(str::to_string)
}

/// Refuses a call the rule does not admit (401), before any handler runs.
pub(crate) async fn require(State(state): State<std::sync::Arc<AppState>>, req: Request, next: Next) -> Response {
    if req.uri().path() == "/healthz" || state.auth.admits(&req) {
        return next.run(req).await;
    }
    ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "this server needs its admin token").into_response()
}
