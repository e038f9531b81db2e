//! Browser test sessions over HTTP: the facade's test sessions (`Project::test_session_*`,
//! what `twinsync test-session` and the MCP `design.browserTestSession.*` tools record),
//! mapped one to one:
//!
//! | route | facade |
//! | --- | --- |
//! | `POST /projects/:id/browser-sessions {"storyId", "correlationId"?}` (201) | `test_session_start` |
//! | `POST /projects/:id/browser-sessions/:sid/finish {"status", "performance"?}` | `test_session_finish` |
//! | `GET /projects/:id/browser-sessions[?story=ID&limit=N]` | `test_sessions` (newest first) |
//! | `GET /projects/:id/browser-sessions/:sid` | `test_session` |
//!
//! A session is `running` until whoever drives the browser finishes it as `passed`,
//! `failed` or `aborted`, with the runner's performance summary (at most 64 KiB of JSON);
//! a failure reaches the outbox as `browser_test_failure` in the same transaction, and so
//! the live streams and webhooks. The caller who starts or finishes it is its actor
//! (`"actor"` in the body, else the server).
//!
//! 404 for no such project or session; 409 when finishing a session that already ended
//! (the answer says how); 400 for a bad story id, status or an oversized summary.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use twinsync::core::test_session::{TestSession, TestSessionStatus};

use crate::error::ApiError;
use crate::routes::{json_body, on_project, Body};
use crate::AppState;

type Answer = Result<Response, ApiError>;
type Shared = State<Arc<AppState>>;

/// A session to start.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct StartBody {
    /// The Storybook story the browser runs (1 to 500 printable characters).
    story_id: String,
    /// Ties the session to what started it (a CI run); the session's own id when left out.
    correlation_id: Option<String>,
    /// Who starts it, for history; the server when left out.
    actor: Option<String>,
}

/// How a session ended.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FinishBody {
    /// `passed`, `failed` or `aborted`.
    status: String,
    /// The runner's performance summary (any JSON, at most 64 KiB).
    performance: Option<serde_json::Value>,
    /// Who finishes it; the server when left out.
    actor: Option<String>,
}

#[derive(Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Only this story's sessions.
    story: Option<String>,
    /// At most this many (default 50, at most 1000).
    limit: Option<usize>,
}

/// Sessions, newest first.
#[derive(Serialize, JsonSchema)]
pub(crate) struct SessionList {
    /// Each as `GET /projects/:id/browser-sessions/:sid` answers it.
    sessions: Vec<TestSession>,
}

pub(crate) async fn start(State(state): Shared, Path(id): Path<String>, body: Body<StartBody>) -> Answer {
    let b = json_body(body)?;
    let session =
        on_project(&state, &id, b.actor, move |p| Ok(p.test_session_start(&b.story_id, b.correlation_id.as_deref())?))
            .await?;
    Ok((StatusCode::CREATED, Json(session)).into_response())
}

pub(crate) async fn finish(
    State(state): Shared,
    Path((id, sid)): Path<(String, String)>,
    body: Body<FinishBody>,
) -> Answer {
    let b = json_body(body)?;
    let status: TestSessionStatus =
        b.status.parse().map_err(|e| ApiError::invalid(format!("test session {sid}: status: {e}")))?;
    let session = on_project(&state, &id, b.actor, move |p| {
        let now = p.test_session(&sid)?;
        if now.status.is_final() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "CONFLICT",
                format!("test session {sid} already finished: {}", now.status),
            ));
        }
        Ok(p.test_session_finish(&sid, status, b.performance)?)
    })
    .await?;
    Ok(Json(session).into_response())
}

pub(crate) async fn list(State(state): Shared, Path(id): Path<String>, Query(q): Query<ListQuery>) -> Answer {
    let limit = q.limit.unwrap_or(50).clamp(1, 1000);
    let sessions = on_project(&state, &id, None, move |p| Ok(p.test_sessions(q.story.as_deref(), limit)?)).await?;
    Ok(Json(SessionList { sessions }).into_response())
}

pub(crate) async fn get(State(state): Shared, Path((id, sid)): Path<(String, String)>) -> Answer {
    let session = on_project(&state, &id, None, move |p| Ok(p.test_session(&sid)?)).await?;
    Ok(Json(session).into_response())
}
